//! `#[derive(Packet)]` against hand-written `Encode` / `Decode` impls of the
//! same structs, in the same run: a fixed-size packet (where the derive
//! writes one capacity check and direct stores) and one with borrowed
//! strings. Bodies only (no frame, no CRC), so the field code is all that is
//! measured.
//!
//! Run with `cargo bench -p packet-benches --bench derive`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use packet_core::error::{DecodeError, EncodeError};
use packet_core::{Decode, Encode, Packet, Reader, Writer};

/// A movement update: 31 bytes, every field fixed-size.
#[derive(Packet, Debug, PartialEq, Clone)]
#[packet(id = 0x0010)]
struct MoveDerived {
    entity: u32,
    x: f32,
    y: f32,
    z: f32,
    yaw: u16,
    pitch: u16,
    hp: u16,
    tick: u64,
    grounded: bool,
}

/// The same fields, written the way the codec docs show by hand.
#[derive(Debug, PartialEq, Clone)]
struct MoveHand {
    entity: u32,
    x: f32,
    y: f32,
    z: f32,
    yaw: u16,
    pitch: u16,
    hp: u16,
    tick: u64,
    grounded: bool,
}

impl Encode for MoveHand {
    const MAX_SIZE: Option<usize> = Some(31);
    const MIN_SIZE: usize = 31;
    #[inline]
    fn encoded_len(&self) -> usize {
        31
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.entity.encode(w)?;
        self.x.encode(w)?;
        self.y.encode(w)?;
        self.z.encode(w)?;
        self.yaw.encode(w)?;
        self.pitch.encode(w)?;
        self.hp.encode(w)?;
        self.tick.encode(w)?;
        self.grounded.encode(w)
    }
}

impl<'de> Decode<'de> for MoveHand {
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        Ok(MoveHand {
            entity: u32::decode(r)?,
            x: f32::decode(r)?,
            y: f32::decode(r)?,
            z: f32::decode(r)?,
            yaw: u16::decode(r)?,
            pitch: u16::decode(r)?,
            hp: u16::decode(r)?,
            tick: u64::decode(r)?,
            grounded: bool::decode(r)?,
        })
    }
}

/// A chat line: fixed fields around two borrowed strings.
#[derive(Packet, Debug, PartialEq, Clone)]
#[packet(id = 0x0102)]
struct ChatDerived<'a> {
    room: u16,
    #[packet(len = u8)]
    name: &'a str,
    #[packet(max_len = 200)]
    text: &'a str,
    tick: u64,
}

#[derive(Debug, PartialEq, Clone)]
struct ChatHand<'a> {
    room: u16,
    name: &'a str,
    text: &'a str,
    tick: u64,
}

impl Encode for ChatHand<'_> {
    const MAX_SIZE: Option<usize> = Some(2 + 1 + 255 + 2 + 200 + 8);
    #[inline]
    fn encoded_len(&self) -> usize {
        2 + 1 + self.name.len() + 2 + self.text.len() + 8
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.room.encode(w)?;
        packet_core::codec::encode_str::<u8>(self.name, usize::MAX, w)?;
        packet_core::codec::encode_str::<u16>(self.text, 200, w)?;
        self.tick.encode(w)
    }
}

impl<'de> Decode<'de> for ChatHand<'de> {
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        Ok(ChatHand {
            room: u16::decode(r)?,
            name: packet_core::codec::decode_str::<u8>(usize::MAX, r)?,
            text: packet_core::codec::decode_str::<u16>(200, r)?,
            tick: u64::decode(r)?,
        })
    }
}

fn encode_body<T: Encode>(value: &T, out: &mut [u8]) -> usize {
    let mut w = Writer::new(out);
    value.encode(&mut w).expect("fits");
    w.position()
}

fn bench_pair<'a, D, H>(c: &mut Criterion, name: &str, derived: &D, hand: &H, wire: &'a [u8])
where
    D: Encode + Decode<'a>,
    H: Encode + Decode<'a>,
{
    let mut out = [0u8; 1024];
    let mut group = c.benchmark_group(format!("derive/{name}"));
    group.bench_function("encode_derived", |b| {
        b.iter(|| black_box(encode_body(black_box(derived), &mut out)))
    });
    group.bench_function("encode_hand", |b| {
        b.iter(|| black_box(encode_body(black_box(hand), &mut out)))
    });
    group.bench_function("decode_derived", |b| {
        b.iter(|| {
            let mut r = Reader::new(black_box(wire));
            black_box(D::decode(&mut r).expect("valid"))
        })
    });
    group.bench_function("decode_hand", |b| {
        b.iter(|| {
            let mut r = Reader::new(black_box(wire));
            black_box(H::decode(&mut r).expect("valid"))
        })
    });
    group.finish();
}

fn derive_vs_hand(c: &mut Criterion) {
    let mv = MoveDerived {
        entity: 7,
        x: 1.5,
        y: -2.0,
        z: 0.25,
        yaw: 90,
        pitch: 10,
        hp: 100,
        tick: 123_456,
        grounded: true,
    };
    let mv_hand = MoveHand {
        entity: 7,
        x: 1.5,
        y: -2.0,
        z: 0.25,
        yaw: 90,
        pitch: 10,
        hp: 100,
        tick: 123_456,
        grounded: true,
    };
    let mut wire = [0u8; 64];
    let n = encode_body(&mv, &mut wire);
    let mut hand_wire = [0u8; 64];
    assert_eq!(encode_body(&mv_hand, &mut hand_wire), n);
    assert_eq!(wire[..n], hand_wire[..n], "same bytes");
    bench_pair(c, "move_31B", &mv, &mv_hand, &wire[..n]);

    let chat = ChatDerived {
        room: 3,
        name: "player-one",
        text: "see you at the north gate in five minutes",
        tick: 99,
    };
    let chat_hand = ChatHand {
        room: 3,
        name: "player-one",
        text: "see you at the north gate in five minutes",
        tick: 99,
    };
    let mut wire = [0u8; 256];
    let n = encode_body(&chat, &mut wire);
    let mut hand_wire = [0u8; 256];
    assert_eq!(encode_body(&chat_hand, &mut hand_wire), n);
    assert_eq!(wire[..n], hand_wire[..n], "same bytes");
    bench_pair(c, "chat_64B", &chat, &chat_hand, &wire[..n]);
}

criterion_group!(benches, derive_vs_hand);
criterion_main!(benches);
