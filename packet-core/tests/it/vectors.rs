//! The wire-format test vectors in `docs/vectors/`, checked both ways.
//!
//! The `.hex` files are written by `docs/vectors/gen.py`, an independent
//! Python implementation of `docs/wire-format.md` (struct + zlib.crc32). For
//! every valid vector this test checks that
//! - encoding the described packet (a Rust value built here) and the raw
//!   `type_id`/`sequence`/`body` gives exactly the file's bytes,
//! - decoding the bytes (as a datagram, and through the stream decoder one
//!   byte at a time) gives that header, body and value,
//! - the check field equals a bitwise CRC-32 written here from the spec,
//!   independently of `crc32fast`;
//!
//! and for every invalid vector that decoding yields exactly the stated
//! error, every field compared. Values and errors are compared in the
//! vectors' language-neutral notation (`docs/vectors/README.md`), written
//! by `docs/vectors/harness.rs`, which `examples/schema-demo/tests/it/vectors.rs`
//! shares to check the types generated from `docs/vectors/vectors.packet`
//! against the same files. The replay vectors (`docs/vectors/replay/`) are
//! run against `packet_core::replay` (feature `crypto`).

use std::collections::BTreeSet;

use packet_core::codec::{self, DefaultLen};
use packet_core::error::{DecodeError, EncodeError};
use packet_core::frame::{self, FrameConfig};
use packet_core::{Decode, Encode, Error, Frame, Packet, Reader, StreamDecoder, View, Writer};
use zerocopy::byteorder::little_endian::{F32, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

#[allow(dead_code)]
mod harness {
    include!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/vectors/harness.rs"
    ));
}
use harness::{Hex, Object, Show, Variant, Vector};

fn vectors_dir() -> std::path::PathBuf {
    harness::vectors_dir(env!("CARGO_MANIFEST_DIR"), 1)
}

fn vectors(kind: &str) -> Vec<Vector> {
    harness::read_vectors(&vectors_dir(), kind)
}

// ------------------------------------------------ an independent CRC-32

/// CRC-32/IEEE (ISO-HDLC) bit by bit, straight from its parameters:
/// reflected polynomial 0xEDB88320, init 0xFFFFFFFF, xorout 0xFFFFFFFF.
fn crc32_bitwise(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    crc ^ 0xFFFF_FFFF
}

#[test]
fn independent_crc_matches_the_spec_and_crc32fast() {
    assert_eq!(crc32_bitwise(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32_bitwise(b""), 0);
    // The 20-byte header of the empty-body vector, computed by hand.
    let header = [
        0x1c, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    assert_eq!(crc32_bitwise(&header), crc32fast::hash(&header));
    for len in [1usize, 3, 4, 63, 64, 65, 1000] {
        let data: Vec<u8> = (0..len).map(|i| (i * 131 + 17) as u8).collect();
        assert_eq!(crc32_bitwise(&data), crc32fast::hash(&data), "len {len}");
    }
}

// ----------------------------------------------------- the packet types

/// Implements `Encode` / `Decode` for a struct whose fields all use their
/// default wire form, in declaration order (what `#[derive(Packet)]` does).
macro_rules! record {
    ($name:ident { $($f:ident : $t:ty),* $(,)? } $(id = $id:expr)?) => {
        #[derive(Debug, PartialEq)]
        struct $name { $($f: $t),* }
        impl Encode for $name {
            const MAX_SIZE: Option<usize> = None;
            fn encoded_len(&self) -> usize { 0 $(+ self.$f.encoded_len())* }
            fn encode(&self, _w: &mut Writer<'_>) -> Result<(), EncodeError> {
                $(self.$f.encode(_w)?;)*
                Ok(())
            }
        }
        impl<'de> Decode<'de> for $name {
            fn decode(_r: &mut Reader<'de>) -> Result<Self, DecodeError> {
                Ok($name { $($f: Decode::decode(_r)?),* })
            }
        }
        impl Show for $name {
            fn show(&self, _out: &mut String) {
                Object(&[$((stringify!($f), &self.$f)),*]).show(_out)
            }
        }
        $(impl Packet for $name { const ID: u16 = $id; })?
    };
}

/// A one-field tuple struct packet.
macro_rules! newtype {
    ($name:ident($t:ty) as $field:literal id = $id:expr) => {
        #[derive(Debug, PartialEq)]
        struct $name($t);
        impl Encode for $name {
            const MAX_SIZE: Option<usize> = <$t as Encode>::MAX_SIZE;
            fn encoded_len(&self) -> usize {
                self.0.encoded_len()
            }
            fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
                self.0.encode(w)
            }
        }
        impl<'de> Decode<'de> for $name {
            fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
                Ok($name(Decode::decode(r)?))
            }
        }
        impl Packet for $name {
            const ID: u16 = $id;
        }
        impl Show for $name {
            fn show(&self, out: &mut String) {
                Object(&[($field, &self.0)]).show(out)
            }
        }
    };
}

record!(Empty {} id = 0x0001);
newtype!(OneByte(u8) as "value" id = 0x0002);
newtype!(Extremes(u16) as "value" id = 0xFFFE);

/// `[u8; 36]`, shown as hex (a `u8` array).
#[derive(Debug, PartialEq)]
struct Blob36([u8; 36]);
impl Encode for Blob36 {
    const MAX_SIZE: Option<usize> = Some(36);
    fn encoded_len(&self) -> usize {
        36
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.0.encode(w)
    }
}
impl<'de> Decode<'de> for Blob36 {
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        Ok(Blob36(Decode::decode(r)?))
    }
}
impl Packet for Blob36 {
    const ID: u16 = 0x0003;
}
impl Show for Blob36 {
    fn show(&self, out: &mut String) {
        Object(&[("data", &Hex(&self.0))]).show(out)
    }
}

record!(Ints {
    a: u8, b: i8, c: u16, d: i16, e: u32, f: i32, g: u64, h: i64, i: u128, j: i128,
} id = 0x0010);

/// Floats, shown by their bits (the notation's rule), so NaN payloads count.
#[derive(Debug)]
struct Floats {
    a: f32,
    b: f32,
    c: f64,
    d: f64,
    e: f32,
    f: f64,
}
impl Show for Floats {
    fn show(&self, out: &mut String) {
        Object(&[
            ("a", &self.a),
            ("b", &self.b),
            ("c", &self.c),
            ("d", &self.d),
            ("e", &self.e),
            ("f", &self.f),
        ])
        .show(out)
    }
}
impl Encode for Floats {
    const MAX_SIZE: Option<usize> = Some(36);
    fn encoded_len(&self) -> usize {
        36
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        (self.a, self.b, self.c, self.d, self.e, self.f).encode(w)
    }
}
impl<'de> Decode<'de> for Floats {
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        let (a, b, c, d, e, f) = Decode::decode(r)?;
        Ok(Floats { a, b, c, d, e, f })
    }
}
impl Packet for Floats {
    const ID: u16 = 0x0011;
}

record!(BoolChar { t: bool, f: bool, c1: char, c2: char, c3: char } id = 0x0012);

/// Strings and bytes with each prefix width (`#[packet(len = ...)]`).
#[derive(Debug, PartialEq)]
struct Strings<'a> {
    s8: &'a str,
    s16: &'a str,
    s32: &'a str,
    b8: &'a [u8],
    b16: &'a [u8],
    b32: &'a [u8],
}
impl Encode for Strings<'_> {
    const MAX_SIZE: Option<usize> = None;
    fn encoded_len(&self) -> usize {
        1 + self.s8.len()
            + 2
            + self.s16.len()
            + 4
            + self.s32.len()
            + 1
            + self.b8.len()
            + 2
            + self.b16.len()
            + 4
            + self.b32.len()
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        codec::encode_str::<u8>(self.s8, usize::MAX, w)?;
        codec::encode_str::<u16>(self.s16, usize::MAX, w)?;
        codec::encode_str::<u32>(self.s32, usize::MAX, w)?;
        codec::encode_bytes::<u8>(self.b8, usize::MAX, w)?;
        codec::encode_bytes::<u16>(self.b16, usize::MAX, w)?;
        codec::encode_bytes::<u32>(self.b32, usize::MAX, w)
    }
}
impl<'a> Decode<'a> for Strings<'a> {
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        Ok(Strings {
            s8: codec::decode_str::<u8>(usize::MAX, r)?,
            s16: codec::decode_str::<u16>(usize::MAX, r)?,
            s32: codec::decode_str::<u32>(usize::MAX, r)?,
            b8: codec::decode_bytes::<u8>(usize::MAX, r)?,
            b16: codec::decode_bytes::<u16>(usize::MAX, r)?,
            b32: codec::decode_bytes::<u32>(usize::MAX, r)?,
        })
    }
}
impl Packet for Strings<'_> {
    const ID: u16 = 0x0013;
}
impl Show for Strings<'_> {
    fn show(&self, out: &mut String) {
        Object(&[
            ("s8", &self.s8),
            ("s16", &self.s16),
            ("s32", &self.s32),
            ("b8", &Hex(self.b8)),
            ("b16", &Hex(self.b16)),
            ("b32", &Hex(self.b32)),
        ])
        .show(out)
    }
}

/// Composite's fields; `tup` is the schema's `struct Trio` and `quad` a
/// `u8` array (hex), so it is shown by hand.
#[derive(Debug, PartialEq)]
struct Composite {
    none: Option<u32>,
    some: Option<u16>,
    arr: [u16; 3],
    tup: (u8, i16, bool),
    quad: [u8; 4],
    nested: Option<Option<u8>>,
}
impl Encode for Composite {
    const MAX_SIZE: Option<usize> = None;
    fn encoded_len(&self) -> usize {
        (
            &self.none,
            &self.some,
            &self.arr,
            &self.tup,
            &self.quad,
            &self.nested,
        )
            .encoded_len()
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        (
            &self.none,
            &self.some,
            &self.arr,
            &self.tup,
            &self.quad,
            &self.nested,
        )
            .encode(w)
    }
}
impl<'de> Decode<'de> for Composite {
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        let (none, some, arr, tup, quad, nested) = Decode::decode(r)?;
        Ok(Composite {
            none,
            some,
            arr,
            tup,
            quad,
            nested,
        })
    }
}
impl Packet for Composite {
    const ID: u16 = 0x0014;
}
/// The tuple `(u8, i16, bool)` as the schema's `struct Trio { a, b, c }`.
struct Trio<'a>(&'a (u8, i16, bool));
impl Show for Trio<'_> {
    fn show(&self, out: &mut String) {
        let (a, b, c) = self.0;
        Object(&[("a", a), ("b", b), ("c", c)]).show(out)
    }
}
impl Show for Composite {
    fn show(&self, out: &mut String) {
        Object(&[
            ("none", &self.none),
            ("some", &self.some),
            ("arr", &self.arr),
            ("tup", &Trio(&self.tup)),
            ("quad", &Hex(&self.quad)),
            ("nested", &self.nested),
        ])
        .show(out)
    }
}

record!(Vec3 {
    x: f32,
    y: f32,
    z: f32
});
record!(Item {
    kind: u8,
    count: u16
});

/// `#[repr(u8)] enum Kind { A = 1, B = 2 }`: written as the repr integer.
#[derive(Debug, PartialEq, Clone, Copy)]
#[repr(u8)]
enum Kind {
    A = 1,
    B = 2,
}
impl Encode for Kind {
    const MAX_SIZE: Option<usize> = Some(1);
    fn encoded_len(&self) -> usize {
        1
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        (*self as u8).encode(w)
    }
}
impl Show for Kind {
    fn show(&self, out: &mut String) {
        Variant::Unit(match self {
            Kind::A => "A",
            Kind::B => "B",
        })
        .show(out)
    }
}
impl<'de> Decode<'de> for Kind {
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        match u8::decode(r)? {
            1 => Ok(Kind::A),
            2 => Ok(Kind::B),
            value => Err(DecodeError::UnknownDiscriminant {
                value: value.into(),
                type_name: "Kind",
            }),
        }
    }
}

/// `#[repr(u16)] enum Event<'a> { Hit { dmg: u32 } = 1, Say(&'a str) = 2 }`:
/// a u16 tag, then the variant's fields.
#[derive(Debug, PartialEq)]
enum Event<'a> {
    Hit { dmg: u32 },
    Say(&'a str),
}
impl Encode for Event<'_> {
    const MAX_SIZE: Option<usize> = None;
    fn encoded_len(&self) -> usize {
        2 + match self {
            Event::Hit { dmg } => dmg.encoded_len(),
            Event::Say(s) => s.encoded_len(),
        }
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        match self {
            Event::Hit { dmg } => (1u16, dmg).encode(w),
            Event::Say(s) => (2u16, s).encode(w),
        }
    }
}
impl Show for Event<'_> {
    fn show(&self, out: &mut String) {
        match self {
            Event::Hit { dmg } => Variant::Named("Hit", &[("dmg", dmg)]).show(out),
            Event::Say(s) => Variant::Positional("Say", &[s]).show(out),
        }
    }
}
impl<'a> Decode<'a> for Event<'a> {
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        match u16::decode(r)? {
            1 => Ok(Event::Hit {
                dmg: Decode::decode(r)?,
            }),
            2 => Ok(Event::Say(Decode::decode(r)?)),
            value => Err(DecodeError::UnknownDiscriminant {
                value: value.into(),
                type_name: "Event",
            }),
        }
    }
}

/// `enum Mode { A, B }` without repr: a u8 tag counting from 0.
#[derive(Debug, PartialEq)]
enum Mode {
    A,
    B,
}
impl Encode for Mode {
    const MAX_SIZE: Option<usize> = Some(1);
    fn encoded_len(&self) -> usize {
        1
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.put_u8(match self {
            Mode::A => 0,
            Mode::B => 1,
        })
    }
}
impl Show for Mode {
    fn show(&self, out: &mut String) {
        Variant::Unit(match self {
            Mode::A => "A",
            Mode::B => "B",
        })
        .show(out)
    }
}
impl<'de> Decode<'de> for Mode {
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        match r.take_u8()? {
            0 => Ok(Mode::A),
            1 => Ok(Mode::B),
            value => Err(DecodeError::UnknownDiscriminant {
                value: value.into(),
                type_name: "Mode",
            }),
        }
    }
}

#[derive(Debug, PartialEq)]
struct Nested<'a> {
    id: u32,
    pos: Vec3,
    kind: Kind,
    hit: Event<'a>,
    say: Event<'a>,
    mode: Mode,
    /// `#[packet(len = u8)]`
    items: Vec<Item>,
    tail: Option<(u8, &'a str)>,
}
impl Encode for Nested<'_> {
    const MAX_SIZE: Option<usize> = None;
    fn encoded_len(&self) -> usize {
        self.id.encoded_len()
            + self.pos.encoded_len()
            + self.kind.encoded_len()
            + self.hit.encoded_len()
            + self.say.encoded_len()
            + self.mode.encoded_len()
            + codec::seq_encoded_len::<u8, _>(&self.items)
            + self.tail.encoded_len()
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        (
            &self.id, &self.pos, &self.kind, &self.hit, &self.say, &self.mode,
        )
            .encode(w)?;
        codec::encode_seq::<u8, _>(&self.items, usize::MAX, w)?;
        self.tail.encode(w)
    }
}
impl<'a> Decode<'a> for Nested<'a> {
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        Ok(Nested {
            id: Decode::decode(r)?,
            pos: Decode::decode(r)?,
            kind: Decode::decode(r)?,
            hit: Decode::decode(r)?,
            say: Decode::decode(r)?,
            mode: Decode::decode(r)?,
            items: codec::decode_vec::<u8, _>(usize::MAX, r)?,
            tail: Decode::decode(r)?,
        })
    }
}
impl Packet for Nested<'_> {
    const ID: u16 = 0x0015;
}
/// The tuple `(u8, &str)` as the schema's `struct Tail { n, text }`.
struct Tail<'a>(&'a (u8, &'a str));
impl Show for Tail<'_> {
    fn show(&self, out: &mut String) {
        let (n, text) = self.0;
        Object(&[("n", n), ("text", text)]).show(out)
    }
}
impl Show for Nested<'_> {
    fn show(&self, out: &mut String) {
        Object(&[
            ("id", &self.id),
            ("pos", &self.pos),
            ("kind", &self.kind),
            ("hit", &self.hit),
            ("say", &self.say),
            ("mode", &self.mode),
            ("items", &self.items),
            ("tail", &self.tail.as_ref().map(Tail)),
        ])
        .show(out)
    }
}

/// `string(len = u8, max = 8)` and `list<u16>(max = 4)`: declared maximums.
#[derive(Debug, PartialEq)]
struct Bounded<'a> {
    /// `#[packet(len = u8, max_len = 8)]`
    name: &'a str,
    /// `#[packet(max_len = 4)]`
    tags: Vec<u16>,
}
impl Encode for Bounded<'_> {
    const MAX_SIZE: Option<usize> = Some(1 + 8 + 2 + 4 * 2);
    fn encoded_len(&self) -> usize {
        1 + self.name.len() + codec::seq_encoded_len::<u16, _>(&self.tags)
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        codec::encode_str::<u8>(self.name, 8, w)?;
        codec::encode_seq::<u16, _>(&self.tags, 4, w)
    }
}
impl<'a> Decode<'a> for Bounded<'a> {
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        Ok(Bounded {
            name: codec::decode_str::<u8>(8, r)?,
            tags: codec::decode_vec::<u16, _>(4, r)?,
        })
    }
}
impl Packet for Bounded<'_> {
    const ID: u16 = 0x0017;
}
impl Show for Bounded<'_> {
    fn show(&self, out: &mut String) {
        Object(&[("name", &self.name), ("tags", &self.tags)]).show(out)
    }
}

/// A plain-old-data body, viewed in place.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct Position {
    entity: U32,
    x: F32,
    y: F32,
    z: F32,
}
impl Show for Position {
    fn show(&self, out: &mut String) {
        Object(&[
            ("entity", &self.entity.get()),
            ("x", &self.x.get()),
            ("y", &self.y.get()),
            ("z", &self.z.get()),
        ])
        .show(out)
    }
}
/// The same body as a packet with one [`View`] field.
struct PositionPacket<'a>(View<'a, Position>);
impl Encode for PositionPacket<'_> {
    const MAX_SIZE: Option<usize> = Some(16);
    fn encoded_len(&self) -> usize {
        self.0.encoded_len()
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.0.encode(w)
    }
}
impl<'a> Decode<'a> for PositionPacket<'a> {
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        Ok(PositionPacket(Decode::decode(r)?))
    }
}
impl Packet for PositionPacket<'_> {
    const ID: u16 = 0x0016;
}

// ------------------------------------------------- name -> packet glue

/// Decodes `frame` as the packet called `name`; returns it in the vectors'
/// notation.
fn decode_as(name: &str, frame: &Frame<'_>) -> Result<String, DecodeError> {
    fn show<T: Show>(value: T) -> String {
        harness::notation(&value)
    }
    Ok(match name {
        "Empty" => show(frame.decode_packet::<Empty>()?),
        "OneByte" => show(frame.decode_packet::<OneByte>()?),
        "Blob36" => show(frame.decode_packet::<Blob36>()?),
        "Extremes" => show(frame.decode_packet::<Extremes>()?),
        "Ints" => show(frame.decode_packet::<Ints>()?),
        "Floats" => show(frame.decode_packet::<Floats>()?),
        "BoolChar" => show(frame.decode_packet::<BoolChar>()?),
        "Strings" => show(frame.decode_packet::<Strings<'_>>()?),
        "Composite" => show(frame.decode_packet::<Composite>()?),
        "Nested" => show(frame.decode_packet::<Nested<'_>>()?),
        "Bounded" => show(frame.decode_packet::<Bounded<'_>>()?),
        "Position" => {
            // Both ways of reading a POD body must agree.
            let viewed: &Position = frame.view()?;
            let field = frame.decode_packet::<PositionPacket<'_>>()?;
            assert_eq!(show(viewed), show(field.0.get()));
            show(viewed)
        }
        other => panic!("unknown packet {other:?} in a vector"),
    })
}

/// Encodes the value the vector called `name` describes; returns the frame
/// length and the value in the vectors' notation.
fn encode_as(name: &str, sequence: u64, out: &mut [u8]) -> Result<(usize, String), EncodeError> {
    fn go<P: Packet + Show>(
        p: P,
        seq: u64,
        out: &mut [u8],
    ) -> Result<(usize, String), EncodeError> {
        assert_eq!(p.encoded_len(), {
            let mut scratch = [0u8; 256];
            let mut w = Writer::new(&mut scratch);
            p.encode(&mut w)?;
            w.position()
        });
        Ok((frame::encode_packet(&p, seq, out)?, harness::notation(&p)))
    }
    match name {
        "Empty" => go(Empty {}, sequence, out),
        "OneByte" => go(OneByte(0xAB), sequence, out),
        "Blob36" => go(
            Blob36(core::array::from_fn(|i| (i * 7 + 1) as u8)),
            sequence,
            out,
        ),
        "Extremes" => go(Extremes(0xFFFF), sequence, out),
        "Ints" => go(
            Ints {
                a: 0xFE,
                b: -2,
                c: 0xBEEF,
                d: -300,
                e: 0xDEAD_BEEF,
                f: -70000,
                g: 0x0123_4567_89AB_CDEF,
                h: i64::MIN,
                i: u128::MAX - 1,
                j: -1,
            },
            sequence,
            out,
        ),
        "Floats" => go(
            Floats {
                a: 1.5,
                b: -0.0,
                c: std::f64::consts::PI,
                d: f64::INFINITY,
                e: f32::from_bits(0x7FC0_0001),
                f: f64::from_bits(0xFFF8_0000_0000_0123),
            },
            sequence,
            out,
        ),
        "BoolChar" => go(
            BoolChar {
                t: true,
                f: false,
                c1: 'A',
                c2: 'é',
                c3: '🦀',
            },
            sequence,
            out,
        ),
        "Strings" => go(
            Strings {
                s8: "hi",
                s16: "héllo",
                s32: "game",
                b8: &[1, 2, 3],
                b16: &[],
                b32: &[0xFF],
            },
            sequence,
            out,
        ),
        "Composite" => go(
            Composite {
                none: None,
                some: Some(0x1234),
                arr: [1, 2, 3],
                tup: (7, -1, true),
                quad: [9, 8, 7, 6],
                nested: Some(None),
            },
            sequence,
            out,
        ),
        "Nested" => go(
            Nested {
                id: 42,
                pos: Vec3 {
                    x: 1.0,
                    y: -2.5,
                    z: 0.25,
                },
                kind: Kind::B,
                hit: Event::Hit { dmg: 500 },
                say: Event::Say("gg"),
                mode: Mode::B,
                items: vec![
                    Item { kind: 1, count: 10 },
                    Item {
                        kind: 2,
                        count: 300,
                    },
                ],
                tail: Some((9, "ok")),
            },
            sequence,
            out,
        ),
        "Position" => {
            let pos = Position {
                entity: 7.into(),
                x: F32::new(1.5),
                y: F32::new(0.0),
                z: F32::new(-2.0),
            };
            let text = harness::notation(&pos);
            let n = frame::encode_packet(&PositionPacket(View(&pos)), sequence, out)?;
            Ok((n, text))
        }
        "Bounded" => go(
            Bounded {
                name: "ada",
                tags: vec![1, 2],
            },
            sequence,
            out,
        ),
        other => panic!("unknown packet {other:?} in a vector"),
    }
}

// ------------------------------------------------------- vector files

/// Feeds `bytes` to a stream decoder one byte at a time; returns the
/// frames' `(type_id, sequence, body)` and the first error (from
/// `next_frame` or, at the end, from `finish`).
type RawFrame = (u16, u64, Vec<u8>);
fn stream_decode(bytes: &[u8], config: FrameConfig) -> (Vec<RawFrame>, Option<Error>) {
    let mut decoder = StreamDecoder::new(config);
    let mut frames = Vec::new();
    for byte in bytes {
        assert_eq!(decoder.feed(std::slice::from_ref(byte)), 1);
        loop {
            match decoder.next_frame() {
                Ok(Some(f)) => frames.push((f.type_id(), f.sequence(), f.body().to_vec())),
                Ok(None) => break,
                Err(e) => return (frames, Some(e.into())),
            }
        }
    }
    (frames, decoder.finish().err().map(Error::from))
}

#[test]
fn valid_vectors_encode_and_decode_exactly() {
    let all = vectors("valid");
    assert!(all.len() >= 8, "only {} valid vectors", all.len());
    for v in &all {
        let name = v.name();
        assert_eq!(v.expect.as_deref(), Some("ok"), "{name}");
        let type_id = v.type_id.expect("type_id");
        let sequence = v.sequence.expect("sequence");
        let body = v.body.as_deref().expect("body");
        let config = v.config();
        let bytes = &v.bytes[..];

        // The layout, by hand, from the spec.
        let padded = body.len().div_ceil(4) * 4;
        assert_eq!(bytes.len(), 28 + padded, "{name}: length");
        assert_eq!(&bytes[0..4], &(bytes.len() as u32).to_le_bytes(), "{name}");
        assert_eq!(bytes[4], 1, "{name}: version");
        assert_eq!(bytes[5], 0, "{name}: flags");
        assert_eq!(&bytes[6..8], &type_id.to_le_bytes(), "{name}");
        assert_eq!(&bytes[8..12], &(body.len() as u32).to_le_bytes(), "{name}");
        assert_eq!(&bytes[12..20], &sequence.to_le_bytes(), "{name}");
        assert_eq!(&bytes[20..20 + body.len()], body, "{name}");
        assert!(bytes[20 + body.len()..20 + padded].iter().all(|&b| b == 0));
        let check_at = 20 + padded;
        assert_eq!(
            &bytes[check_at..check_at + 4],
            &crc32_bitwise(&bytes[..check_at]).to_le_bytes(),
            "{name}: CRC (independent implementation)"
        );
        assert_eq!(&bytes[check_at + 4..], b"PK\r\n", "{name}");

        // Encode: raw, then the described packet.
        let mut out = vec![0u8; bytes.len()];
        let n = frame::encode_raw(type_id, sequence, body, &mut out).unwrap();
        assert_eq!(&out[..n], bytes, "{name}: encode_raw");
        if let Some(packet) = &v.packet {
            let mut out = vec![0xEEu8; bytes.len()];
            let (n, shown) = encode_as(packet, sequence, &mut out).unwrap();
            assert_eq!(&out[..n], bytes, "{name}: encode_packet");
            assert_eq!(Some(&shown), v.value.as_ref(), "{name}: described value");
            // Exactly the frame fits: one byte less is BufferFull, not a panic.
            let short = encode_as(packet, sequence, &mut out[..n - 1]);
            assert!(
                matches!(short, Err(EncodeError::BufferFull { .. })),
                "{name}: {short:?}"
            );
        }

        // Decode as a datagram.
        let frame = frame::decode_frame(bytes, &config).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(frame.type_id(), type_id, "{name}");
        assert_eq!(frame.sequence(), sequence, "{name}");
        assert_eq!(frame.body(), body, "{name}");
        assert_eq!(frame.header().length as usize, bytes.len());
        assert_eq!(Frame::parse(bytes), Ok(frame), "{name}: Frame::parse");
        if let Some(packet) = &v.packet {
            let shown = decode_as(packet, &frame).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(Some(&shown), v.value.as_ref(), "{name}: decoded value");
        }

        // Decode from a stream, one byte at a time, twice in a row.
        let twice = [bytes, bytes].concat();
        let (frames, err) = stream_decode(&twice, config);
        assert_eq!(err, None, "{name}");
        let expected = (type_id, sequence, body.to_vec());
        assert_eq!(frames, [expected.clone(), expected], "{name}: stream");
    }
}

#[test]
fn invalid_vectors_fail_with_exactly_the_stated_error() {
    let all = vectors("invalid");
    assert!(all.len() >= 10, "only {} invalid vectors", all.len());
    let mut seen = BTreeSet::new();
    for v in &all {
        let name = v.name();
        let expect = v.expect.as_deref().expect("expect");
        let config = v.config();
        let got: Error = match v.mode.as_deref() {
            None | Some("datagram") => {
                let result = frame::decode_frame(&v.bytes, &config)
                    .map_err(Error::from)
                    .and_then(|frame| match &v.packet {
                        Some(packet) => decode_as(packet, &frame).map_err(Error::from),
                        None => Ok(String::new()),
                    });
                match result {
                    Ok(shown) => panic!("{name}: decoded to {shown:?}, expected {expect}"),
                    Err(e) => e,
                }
            }
            Some("stream") => {
                let (frames, err) = stream_decode(&v.bytes, config);
                // Stream vectors start with valid frames; every one of them
                // must be delivered before the error.
                let mut rest = &v.bytes[..];
                for (i, f) in frames.iter().enumerate() {
                    let len = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
                    let one = frame::decode_frame(&rest[..len], &config).unwrap();
                    assert_eq!(f.2, one.body(), "{name}: frame {i}");
                    rest = &rest[len..];
                }
                assert!(!frames.is_empty(), "{name}: no frame before the error");
                err.unwrap_or_else(|| panic!("{name}: no error"))
            }
            Some(other) => panic!("{name}: unknown mode {other}"),
        };
        assert_eq!(harness::any_error(&got), expect, "{name}");
        let (family_variant, _fields) = expect.split_once(' ').expect("`family.Variant {..}`");
        seen.insert(family_variant.to_owned());
    }
    // One vector at least per frame rule.
    for rule in [
        "Truncated",
        "LengthTooSmall",
        "LengthTooLarge",
        "Misaligned",
        "TrailingBytes",
        "BadVersion",
        "ReservedFlags",
        "UnexpectedEncryption",
        "BodyLengthMismatch",
        "BadEnding",
        "CrcMismatch",
        "NonZeroPadding",
        "UnexpectedEof",
    ] {
        let rule = format!("frame.{rule}");
        assert!(seen.contains(&rule), "no vector for {rule}: {seen:?}");
    }
}

/// The decoder's value for a corrupted vector is not an accident of one
/// byte: the CRC vector's `computed` field is what the independent CRC
/// gives for the corrupted bytes.
#[test]
fn crc_mismatch_vector_values_are_independent() {
    let v = vectors("invalid")
        .into_iter()
        .find(|v| v.name().contains("crc-mismatch"))
        .expect("a CRC vector");
    let b = &v.bytes;
    let check_at = b.len() - 8;
    let expected = u32::from_le_bytes(b[check_at..check_at + 4].try_into().unwrap());
    let computed = crc32_bitwise(&b[..check_at]);
    assert_eq!(
        v.expect.as_deref(),
        Some(
            format!(r#"frame.CrcMismatch {{"expected": {expected}, "computed": {computed}}}"#)
                .as_str()
        )
    );
}

#[test]
fn default_prefix_is_u16() {
    // `&str` through the trait uses DefaultLen = u16, as the doc says.
    let mut buf = [0u8; 8];
    let mut w = Writer::new(&mut buf);
    "ab".encode(&mut w).unwrap();
    assert_eq!(w.written(), [2, 0, b'a', b'b']);
    let mut w = Writer::new(&mut buf);
    codec::encode_str::<DefaultLen>("ab", usize::MAX, &mut w).unwrap();
    assert_eq!(w.written(), [2, 0, b'a', b'b']);
}

/// Encode errors (wire-format §3, "Encode errors"): a field's `max` is
/// the smaller of its `max_len` and its prefix's limit; a frame that does
/// not fit the output is `BufferFull`, never a truncated frame.
#[test]
fn encode_errors_name_the_limit_that_applies() {
    let mut out = [0u8; 64];
    // max_len 8 below the u8 prefix's 255: max is 8.
    let long = Bounded {
        name: "123456789",
        tags: vec![],
    };
    assert_eq!(
        frame::encode_packet(&long, 0, &mut out),
        Err(EncodeError::LengthOverMax { len: 9, max: 8 })
    );
    let many = Bounded {
        name: "",
        tags: vec![0; 5],
    };
    assert_eq!(
        frame::encode_packet(&many, 0, &mut out),
        Err(EncodeError::LengthOverMax { len: 5, max: 4 })
    );
    // No max_len (usize::MAX): the u8 prefix's 255 applies.
    let mut big = [0u8; 512];
    let mut w = Writer::new(&mut big);
    assert_eq!(
        codec::encode_bytes::<u8>(&[0; 256], usize::MAX, &mut w),
        Err(EncodeError::LengthOverMax { len: 256, max: 255 })
    );
    // max_len above the prefix's limit: still 255.
    assert_eq!(
        codec::encode_bytes::<u8>(&[0; 256], 1000, &mut w),
        Err(EncodeError::LengthOverMax { len: 256, max: 255 })
    );
    // A frame that does not fit: BufferFull, nothing claims to be a frame.
    let ok = Bounded {
        name: "ada",
        tags: vec![1, 2],
    };
    let n = frame::encode_packet(&ok, 0, &mut out).unwrap();
    assert!(matches!(
        frame::encode_packet(&ok, 0, &mut out[..n - 1]),
        Err(EncodeError::BufferFull { .. })
    ));
}

/// The event files of `docs/vectors/replay/` and `docs/vectors/channel/`
/// (`docs/vectors/README.md`): metadata, then `EVENT SEQUENCE RESULT` lines.
#[cfg(feature = "crypto")]
mod events {
    use super::{Show, harness};
    use packet_core::error::{CryptoError, ReplayError};
    use std::collections::BTreeMap;

    pub struct File {
        pub name: String,
        pub meta: BTreeMap<String, String>,
        /// (event, sequence, expected result); the sequence is `None` for `seal`.
        pub events: Vec<(String, Option<u64>, String)>,
    }

    pub fn read(kind: &str) -> Vec<File> {
        let files = harness::files(&super::vectors_dir().join(kind), "txt");
        assert!(files.len() >= 4, "only {} {kind} vectors", files.len());
        files
            .iter()
            .map(|path| {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                let mut meta = BTreeMap::new();
                let mut events = Vec::new();
                for line in std::fs::read_to_string(path).unwrap().lines() {
                    if let Some(m) = line.strip_prefix("# ") {
                        let (key, value) = m.split_once(": ").expect("# key: value");
                        if key != "note" {
                            meta.insert(key.to_owned(), value.to_owned());
                        }
                        continue;
                    }
                    let mut parts = line.splitn(3, ' ');
                    let event = parts.next().unwrap().to_owned();
                    let sequence = parts.next().unwrap();
                    let sequence = (sequence != "-").then(|| sequence.parse().unwrap());
                    let result = parts.next().expect("a result").to_owned();
                    events.push((event, sequence, result));
                }
                assert!(!events.is_empty(), "{name}: no events");
                File { name, meta, events }
            })
            .collect()
    }

    pub fn replay_error(e: &ReplayError) -> String {
        let f = |v, fields: &[(&str, &dyn Show)]| harness::error_notation("replay", v, fields);
        match e {
            ReplayError::NotIncreasing { sequence, last } => {
                f("NotIncreasing", &[("sequence", sequence), ("last", last)])
            }
            ReplayError::Duplicate { sequence } => f("Duplicate", &[("sequence", sequence)]),
            ReplayError::TooOld {
                sequence,
                highest,
                window,
            } => f(
                "TooOld",
                &[
                    ("sequence", sequence),
                    ("highest", highest),
                    ("window", window),
                ],
            ),
            other => panic!("no notation for {other:?}"),
        }
    }

    pub fn crypto_error(e: &CryptoError) -> String {
        let f = |v, fields: &[(&str, &dyn Show)]| harness::error_notation("crypto", v, fields);
        match e {
            CryptoError::Replay(e) => replay_error(e),
            CryptoError::AuthenticationFailed {
                sequence,
                length,
                failures,
            } => f(
                "AuthenticationFailed",
                &[
                    ("sequence", sequence),
                    ("length", length),
                    ("failures", failures),
                ],
            ),
            CryptoError::TooManyAuthFailures { failures, limit } => f(
                "TooManyAuthFailures",
                &[("failures", failures), ("limit", limit)],
            ),
            CryptoError::Closed { failures } => f("Closed", &[("failures", failures)]),
            other => panic!("no notation for {other:?}"),
        }
    }

    pub fn mode(file: &File) -> packet_core::replay::ReplayMode {
        match file.meta.get("mode").map(String::as_str) {
            Some("ordered") => packet_core::replay::ReplayMode::Ordered,
            Some("windowed") => packet_core::replay::ReplayMode::Windowed,
            other => panic!("{}: mode {other:?}", file.name),
        }
    }
}

/// The replay vectors (`docs/vectors/replay/*.txt`, wire-format §7.4): each
/// line is a frame that authenticated (`frame`: checked, then recorded if
/// accepted) or one whose tag failed (`forged`: checked, never recorded),
/// with the replay check's result in the vectors' notation.
#[cfg(feature = "crypto")]
#[test]
fn replay_vectors_accept_and_reject_exactly() {
    use packet_core::replay::{ReplayState, WINDOW};

    let mut modes = BTreeSet::new();
    for file in events::read("replay") {
        let name = &file.name;
        let mut state = ReplayState::new(events::mode(&file));
        if let Some(w) = file.meta.get("window") {
            assert_eq!(w.parse::<u64>().unwrap(), WINDOW, "{name}");
        }
        modes.insert(format!("{:?}", state.mode()));
        for (event, sequence, expect) in &file.events {
            let sequence = sequence.expect("a sequence");
            let got = state.check(sequence);
            let shown = got
                .as_ref()
                .map_or_else(events::replay_error, |()| "ok".into());
            assert_eq!(&shown, expect, "{name}: {event} {sequence}");
            match event.as_str() {
                // Committed even when refused: a refused sequence must
                // change nothing (gen.py records only accepted ones).
                "frame" => state.commit(sequence),
                "forged" => {}
                other => panic!("{name}: unknown event {other}"),
            }
        }
    }
    assert_eq!(modes.len(), 2, "both modes covered: {modes:?}");
}

/// The channel vectors (`docs/vectors/channel/*.txt`, wire-format §7.3
/// "Forgery limit" and §7.5): real sealed frames (empty bodies, 40 bytes)
/// opened by a `SealedChannel`; `forged` frames have a flipped tag bit;
/// `seal` seals one frame from the receiving channel.
#[cfg(feature = "crypto")]
#[test]
fn channel_vectors_count_authentication_failures_exactly() {
    use packet_core::crypto::{
        ChannelConfig, ChannelKeys, Direction, Role, SealedChannel, SealingKey, SecretKey,
    };

    let keys = ChannelKeys::new(
        SecretKey::from_bytes([1; 32]),
        SecretKey::from_bytes([2; 32]),
    );
    let sender = SealingKey::new(
        keys.key(Direction::ClientToServer),
        Direction::ClientToServer,
    );
    for file in events::read("channel") {
        let name = &file.name;
        let limit: u64 = file.meta["max_auth_failures"].parse().unwrap();
        let config = ChannelConfig::new(events::mode(&file)).with_max_auth_failures(limit);
        let mut receiver = SealedChannel::new(Role::Server, &keys, config);
        for (event, sequence, expect) in &file.events {
            let mut frame = [0u8; 40];
            let shown = match (event.as_str(), sequence) {
                ("seal", None) => receiver
                    .seal_raw(1, b"", &mut frame)
                    .map_or_else(|e| events::crypto_error(&e), |_| "ok".into()),
                (kind @ ("frame" | "forged"), Some(sequence)) => {
                    let n = sender.seal_raw(1, *sequence, b"", &mut frame).unwrap();
                    assert_eq!(n, 40);
                    if kind == "forged" {
                        frame[20] ^= 1; // the first tag byte
                    }
                    receiver
                        .open(&mut frame)
                        .map_or_else(|e| events::crypto_error(&e), |_| "ok".into())
                }
                other => panic!("{name}: unknown event {other:?}"),
            };
            assert_eq!(&shown, expect, "{name}: {event} {sequence:?}");
        }
    }
}

#[test]
fn session_hello_and_refusal_vectors_have_the_layout_of_the_spec() {
    // wire-format 7.3 and 11.5: type 0xffff, sequence 0; the body by its
    // length: 16 the version-1 hello, 24 the hello with a fingerprint, 8
    // the refusal, 4 the close notice of §12 (both smaller than every
    // hello: no amplification).
    let all: Vec<Vector> = vectors("valid")
        .into_iter()
        .filter(|v| v.session.is_some())
        .collect();
    assert!(all.len() >= 6, "only {} session vectors", all.len());
    assert!(
        all.iter().any(|v| v.session.as_deref() == Some("notice")),
        "no close notice vector"
    );
    for v in &all {
        let name = v.name();
        let f = Frame::parse(&v.bytes).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!((f.type_id(), f.sequence()), (0xFFFF, 0), "{name}");
        let body = f.body();
        match v.session.as_deref() {
            Some("hello") => {
                assert!(matches!(body.len(), 16 | 24), "{name}");
                assert_eq!(Some(&body[..16]), v.token.as_deref(), "{name}: token");
                let fp = body
                    .get(16..)
                    .filter(|b| b.len() == 8)
                    .map(|b| u64::from_le_bytes(b.try_into().unwrap()));
                assert_eq!(fp, v.fingerprint, "{name}: fingerprint");
            }
            Some("notice") => {
                // wire-format 12: reason then detail, u16 LE each; only
                // reason 6 (closed by the application) carries a detail.
                assert_eq!(body.len(), 4, "{name}");
                let reason = u16::from_le_bytes([body[0], body[1]]);
                let detail = u16::from_le_bytes([body[2], body[3]]);
                assert_eq!(Some(reason), v.reason, "{name}: reason");
                assert_eq!(Some(detail), v.detail, "{name}: detail");
                assert!(
                    reason == 6 || detail == 0,
                    "{name}: detail without reason 6"
                );
                assert!(v.bytes.len() < 44, "{name}: smaller than every hello");
            }
            Some("refusal") => {
                assert_eq!(body.len(), 8, "{name}");
                let fp = u64::from_le_bytes(body.try_into().unwrap());
                assert_eq!(Some(fp), v.fingerprint, "{name}: fingerprint");
                assert!(v.bytes.len() < 44, "{name}: smaller than every hello");
            }
            other => panic!("{name}: session {other:?}"),
        }
    }
}
