//! Helpers shared by the fuzz targets: CRC repair so mutated frames get
//! past the check, and the body round-trip property for every example
//! packet type.
#![forbid(unsafe_code)]

pub mod mock;

use std::fmt::Debug;

use packet_benches::pod::{EntityPod, PlayerMovePod};
use packet_benches::{Chat, Entity, PlayerMove, WorldSnapshot, shapes};
use packet_core::codec::{self, seq_max_size, size};
use packet_core::error::{DecodeError, EncodeError};
use packet_core::frame::{self, CRC_LEN, ENDING, ENDING_LEN, FrameConfig, MIN_FRAME_LEN};
use packet_core::{Decode, Encode, Frame, Packet, Reader, View, Writer};

/// Walks `buf` as a stream of frames by their length prefixes and rewrites
/// each complete frame's CRC (and, if `ending` is set, its ending marker) so
/// that the mutated bytes behind them reach the later checks and the body
/// decoders. Stops at the first prefix that is not a plausible frame length.
pub fn fix_frames(buf: &mut [u8], ending: bool) {
    let mut pos = 0;
    while let Some(prefix) = buf.get(pos..pos + 4) {
        let len = u32::from_le_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize;
        if len < MIN_FRAME_LEN as usize || !len.is_multiple_of(4) || buf.len() - pos < len {
            return;
        }
        let frame = &mut buf[pos..pos + len];
        if ending {
            frame[len - ENDING_LEN..].copy_from_slice(&ENDING);
        }
        let check_at = len - ENDING_LEN - CRC_LEN;
        let crc = crc32fast::hash(&frame[..check_at]);
        frame[check_at..check_at + CRC_LEN].copy_from_slice(&crc.to_le_bytes());
        pos += len;
    }
}

/// Decodes `body` as `T`; if it decodes, checks the round-trip property:
/// the value re-encodes to exactly the bytes it was read from (the codec is
/// canonical), `encoded_len` and `MAX_SIZE` agree with that, and decoding
/// those bytes again gives the same value. Returns whether the whole body
/// was consumed by a successful decode.
pub fn body_round_trip<'a, T>(body: &'a [u8]) -> bool
where
    T: Decode<'a> + Encode + Debug,
{
    let mut r = Reader::new(body);
    let Ok(value) = T::decode(&mut r) else {
        return false;
    };
    let consumed = r.position();
    let read = &body[..consumed];

    assert_eq!(value.encoded_len(), consumed, "encoded_len of {value:?}");
    if let Some(max) = T::MAX_SIZE {
        assert!(consumed <= max, "{consumed} > MAX_SIZE {max} for {value:?}");
    }
    let mut out = vec![0u8; consumed];
    let mut w = Writer::new(&mut out);
    value
        .encode(&mut w)
        .unwrap_or_else(|e| panic!("decoded {value:?} does not re-encode: {e}"));
    assert_eq!(w.position(), consumed);
    assert_eq!(&out[..], read, "re-encoding {value:?} changed the bytes");

    // The re-encoded bytes are `read`; decode them again.
    let mut r2 = Reader::new(read);
    let again = T::decode(&mut r2).expect("re-encoded bytes decode");
    r2.finish().expect("re-encoded bytes are consumed exactly");
    assert_eq!(format!("{value:?}"), format!("{again:?}"));

    // Too small a buffer is an error, never a panic or a partial success.
    if consumed > 0 {
        let mut short = vec![0u8; consumed - 1];
        let mut w = Writer::new(&mut short);
        assert!(value.encode(&mut w).is_err());
    }
    r.finish().is_ok()
}

/// A body exercising the per-field prefix and `max_len` helpers (what
/// `#[packet(len = u8, max_len = ..)]` generates).
#[derive(Debug)]
pub struct Prefixed<'a> {
    /// `u8` prefix, at most 10 bytes.
    pub name: &'a str,
    /// `u32` prefix, at most 300 items.
    pub ids: Vec<u16>,
    /// `u32` prefix, unbounded.
    pub blob: &'a [u8],
    /// `u8` prefix, at most 3 strings.
    pub tags: Vec<String>,
}

impl Encode for Prefixed<'_> {
    const MAX_SIZE: Option<usize> = size::add(
        seq_max_size::<u8>(Some(1), 10),
        size::add(
            seq_max_size::<u32>(Some(2), 300),
            size::add(
                seq_max_size::<u32>(Some(1), usize::MAX),
                seq_max_size::<u8>(String::MAX_SIZE, 3),
            ),
        ),
    );
    fn encoded_len(&self) -> usize {
        1 + self.name.len()
            + codec::seq_encoded_len::<u32, u16>(&self.ids)
            + 4
            + self.blob.len()
            + codec::seq_encoded_len::<u8, String>(&self.tags)
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        codec::encode_str::<u8>(self.name, 10, w)?;
        codec::encode_seq::<u32, u16>(&self.ids, 300, w)?;
        codec::encode_bytes::<u32>(self.blob, usize::MAX, w)?;
        codec::encode_seq::<u8, String>(&self.tags, 3, w)
    }
}

impl<'de> Decode<'de> for Prefixed<'de> {
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        Ok(Prefixed {
            name: codec::decode_str::<u8>(10, r)?,
            ids: codec::decode_vec::<u32, u16>(300, r)?,
            blob: codec::decode_bytes::<u32>(usize::MAX, r)?,
            tags: codec::decode_vec::<u8, String>(3, r)?,
        })
    }
}

/// The number of body types [`round_trip_by_index`] knows.
pub const BODY_TYPES: u8 = 17;

/// Runs [`body_round_trip`] for body type number `index % BODY_TYPES`.
pub fn round_trip_by_index(index: u8, body: &[u8]) -> bool {
    match index % BODY_TYPES {
        0 => body_round_trip::<PlayerMove>(body),
        1 => body_round_trip::<Chat<'_>>(body),
        2 => body_round_trip::<WorldSnapshot>(body),
        3 => body_round_trip::<Entity>(body),
        4 => body_round_trip::<Option<(bool, char, i64)>>(body),
        5 => body_round_trip::<Vec<String>>(body),
        6 => body_round_trip::<Box<[u16]>>(body),
        7 => body_round_trip::<([u8; 5], &[u8], Option<Option<u8>>)>(body),
        8 => body_round_trip::<(f64, u128, i8, Box<str>)>(body),
        9 => body_round_trip::<(View<'_, PlayerMovePod>, u8)>(body),
        10 => body_round_trip::<Vec<View<'_, EntityPod>>>(body),
        11 => body_round_trip::<Prefixed<'_>>(body),
        // The benchmark's data shapes: `pod` runs (one copy), nested
        // fixed-size groups, strings, options, enums, nested lists.
        12 => body_round_trip::<shapes::Mesh>(body),
        13 => body_round_trip::<shapes::plain::Mesh>(body),
        14 => body_round_trip::<shapes::Player>(body),
        15 => body_round_trip::<shapes::Logs>(body),
        _ => body_round_trip::<shapes::Update>(body),
    }
}

/// Decodes a validated frame's body as the example packet its type id names
/// (any other id: as every body type in turn) with the round-trip property.
pub fn round_trip_frame_body(frame: &Frame<'_>) {
    const MOVE: u16 = <PlayerMove as Packet>::ID;
    const CHAT: u16 = <Chat<'_> as Packet>::ID;
    const SNAPSHOT: u16 = <WorldSnapshot as Packet>::ID;
    let body = frame.body();
    match frame.type_id() {
        MOVE => {
            check_packet::<PlayerMove>(frame);
        }
        CHAT => {
            check_packet::<Chat<'_>>(frame);
        }
        SNAPSHOT => {
            check_packet::<WorldSnapshot>(frame);
        }
        id => {
            round_trip_by_index(id as u8, body);
        }
    }
}

fn check_packet<'a, P>(frame: &Frame<'a>)
where
    P: Packet + Decode<'a> + Debug,
{
    let decoded = frame.decode_packet::<P>();
    let whole = body_round_trip::<P>(frame.body());
    assert_eq!(decoded.is_ok(), whole, "decode_packet vs Reader+finish");
    // A plaintext frame re-encodes byte for byte (sealed_open checks
    // re-sealing itself).
    if let (Ok(p), false) = (decoded, frame.header().is_sealed()) {
        let mut out = vec![0u8; frame.header().length as usize];
        let n = frame::encode_packet(&p, frame.sequence(), &mut out).expect("fits");
        let again = frame::decode_frame(&out[..n], &FrameConfig::default()).expect("valid");
        assert_eq!(again.header(), frame.header());
        assert_eq!(again.body(), frame.body());
    }
}
