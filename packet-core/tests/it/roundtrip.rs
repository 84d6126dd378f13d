//! Every supported field type round-trips for arbitrary values: the bytes
//! written are exactly `encoded_len()` long (and within `MAX_SIZE`), reading
//! them back gives the value and consumes every byte, and a frame carrying
//! the value decodes to it.

use std::fmt::Debug;

use packet_core::codec::{self, LenPrefix};
use packet_core::error::{DecodeError, EncodeError};
use packet_core::frame::{self, FrameConfig};
use packet_core::{Decode, Encode, Packet, PacketBuf, Reader, View, Writer};
use proptest::prelude::*;
use zerocopy::byteorder::little_endian::{F32, I16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// Encodes `value`, checking `encoded_len` and `MAX_SIZE` against the bytes.
fn encode<T: Encode + ?Sized>(value: &T) -> Vec<u8> {
    let mut buf = vec![0u8; value.encoded_len() + 8];
    let mut w = Writer::new(&mut buf);
    value.encode(&mut w).expect("encodes");
    let n = w.position();
    assert_eq!(n, value.encoded_len(), "encoded_len");
    if let Some(max) = T::MAX_SIZE {
        assert!(n <= max, "{n} > MAX_SIZE {max}");
    }
    // One byte less than needed is a BufferFull error, never a panic.
    if n > 0 {
        let mut short = vec![0u8; n - 1];
        let err = value.encode(&mut Writer::new(&mut short)).unwrap_err();
        assert!(matches!(err, EncodeError::BufferFull { .. }), "{err:?}");
    }
    buf.truncate(n);
    buf
}

/// Decodes all of `bytes` as `T`.
fn decode<'de, T: Decode<'de>>(bytes: &'de [u8]) -> Result<T, DecodeError> {
    let mut r = Reader::new(bytes);
    let value = T::decode(&mut r)?;
    r.finish()?;
    Ok(value)
}

/// A packet wrapping any field, to send it through a real frame.
struct Wrap<T>(T);
impl<T: Encode> Encode for Wrap<T> {
    const MAX_SIZE: Option<usize> = T::MAX_SIZE;
    fn encoded_len(&self) -> usize {
        self.0.encoded_len()
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.0.encode(w)
    }
}
impl<'de, T: Decode<'de>> Decode<'de> for Wrap<T> {
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        T::decode(r).map(Wrap)
    }
}
impl<T: Encode> Packet for Wrap<T> {
    const ID: u16 = 0x7777;
}

/// Field round trip plus a frame round trip, for owned types.
fn round_trip<T>(value: T)
where
    T: Encode + for<'de> Decode<'de> + PartialEq + Debug,
{
    let bytes = encode(&value);
    assert_eq!(decode::<T>(&bytes).as_ref(), Ok(&value));
    // Every strict prefix fails cleanly.
    for cut in [0, bytes.len() / 2, bytes.len().saturating_sub(1)] {
        if cut < bytes.len() {
            assert!(decode::<T>(&bytes[..cut]).is_err());
        }
    }
    // Through a frame (sized for the value, any sequence number).
    let mut out = vec![0u8; frame::frame_len_for(bytes.len())];
    let n = frame::encode_packet(&Wrap(value), 42, &mut out).expect("frame fits exactly");
    assert_eq!(n, out.len());
    let f = frame::decode_frame(&out, &FrameConfig::default().with_max_frame_len(u32::MAX))
        .expect("valid frame");
    assert_eq!(f.body(), &bytes[..]);
    let back: Wrap<T> = f.decode_packet().expect("decodes");
    assert_eq!(decode::<T>(&bytes).ok(), Some(back.0));
}

macro_rules! scalar_props {
    ($($name:ident: $t:ty),* $(,)?) => {
        proptest! {
            $(
                #[test]
                fn $name(v in any::<$t>()) {
                    round_trip(v);
                    let bytes = encode(&v);
                    prop_assert_eq!(bytes, v.to_le_bytes().to_vec());
                }
            )*
        }
    };
}

scalar_props! {
    u8_round_trips: u8, u16_round_trips: u16, u32_round_trips: u32,
    u64_round_trips: u64, u128_round_trips: u128,
    i8_round_trips: i8, i16_round_trips: i16, i32_round_trips: i32,
    i64_round_trips: i64, i128_round_trips: i128,
}

proptest! {
    #[test]
    fn f32_round_trips_every_bit_pattern(bits in any::<u32>()) {
        let v = f32::from_bits(bits);
        let bytes = encode(&v);
        prop_assert_eq!(&bytes, &bits.to_le_bytes());
        prop_assert_eq!(decode::<f32>(&bytes).unwrap().to_bits(), bits);
    }

    #[test]
    fn f64_round_trips_every_bit_pattern(bits in any::<u64>()) {
        let v = f64::from_bits(bits);
        let bytes = encode(&v);
        prop_assert_eq!(&bytes, &bits.to_le_bytes());
        prop_assert_eq!(decode::<f64>(&bytes).unwrap().to_bits(), bits);
    }

    #[test]
    fn nan_payloads_survive_a_frame(payload in 1u64..(1 << 51), sign in any::<bool>()) {
        let bits = (u64::from(sign) << 63) | 0x7FF8_0000_0000_0000 | payload;
        let mut out = [0u8; 64];
        let n = frame::encode_packet(&Wrap(f64::from_bits(bits)), 0, &mut out).unwrap();
        let f = frame::decode_frame(&out[..n], &FrameConfig::default()).unwrap();
        prop_assert_eq!(f.decode_packet::<Wrap<f64>>().unwrap().0.to_bits(), bits);
    }

    #[test]
    fn bool_round_trips_and_rejects_other_bytes(v in any::<bool>(), other in 2u8..) {
        round_trip(v);
        prop_assert_eq!(decode::<bool>(&[other]), Err(DecodeError::InvalidBool(other)));
    }

    #[test]
    fn char_round_trips(v in any::<char>()) {
        round_trip(v);
        prop_assert_eq!(encode(&v), u32::from(v).to_le_bytes().to_vec());
    }

    #[test]
    fn non_scalar_chars_are_rejected(v in prop_oneof![0xD800u32..0xE000, 0x11_0000u32..]) {
        prop_assert_eq!(decode::<char>(&v.to_le_bytes()), Err(DecodeError::InvalidChar(v)));
    }

    #[test]
    fn arrays_round_trip(a in any::<[u16; 3]>(), b in any::<[u8; 16]>(), c in any::<[[i32; 2]; 3]>()) {
        round_trip(a);
        round_trip(b);
        round_trip(c);
        prop_assert_eq!(encode(&b), b.to_vec());
        round_trip([0u8; 0]);
    }

    #[test]
    fn options_round_trip(a in any::<Option<u32>>(), b in any::<Option<Option<i8>>>(), c in any::<Option<[bool; 2]>>()) {
        round_trip(a);
        round_trip(b);
        round_trip(c);
    }

    #[test]
    fn option_tags_other_than_0_and_1_are_rejected(tag in 2u8..) {
        prop_assert_eq!(decode::<Option<u8>>(&[tag, 0]), Err(DecodeError::InvalidOptionTag(tag)));
    }

    #[test]
    fn tuples_round_trip(
        a in any::<(u8,)>(),
        b in any::<(u8, i64, bool)>(),
        c in any::<(u8, u16, u32, u64, i8, i16, i32, bool)>(),
        d in any::<(Option<u8>, [u8; 3], char)>(),
    ) {
        round_trip(a);
        round_trip(b);
        round_trip(c);
        round_trip(d);
    }

    #[test]
    fn owned_strings_and_sequences_round_trip(
        s in ".{0,40}",
        v in proptest::collection::vec(any::<u16>(), 0..40),
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
        nested in proptest::collection::vec(proptest::collection::vec(any::<i8>(), 0..5), 0..5),
        boxed in any::<u32>(),
    ) {
        round_trip(s.clone());
        round_trip(v.clone());
        round_trip(bytes.clone());
        round_trip(nested);
        round_trip(Box::new(boxed));
        round_trip(Box::<str>::from(s.as_str()));
        round_trip(v.clone().into_boxed_slice());
        round_trip(Some(Box::new((s.clone(), v.clone()))));
        // Owned and borrowed forms share a wire form (default u16 prefix).
        prop_assert_eq!(encode(&s), encode(s.as_str()));
        prop_assert_eq!(encode(&bytes), encode(bytes.as_slice()));
        let mut expected = (s.len() as u16).to_le_bytes().to_vec();
        expected.extend_from_slice(s.as_bytes());
        prop_assert_eq!(encode(&s), expected);
    }

    #[test]
    fn borrowed_str_and_bytes_round_trip_with_default_prefix(s in ".{0,40}", b in proptest::collection::vec(any::<u8>(), 0..100)) {
        let bytes = encode(s.as_str());
        let back: &str = decode(&bytes).unwrap();
        prop_assert_eq!(back, s.as_str());
        // Zero-copy: the &str points into the input.
        prop_assert_eq!(back.as_ptr(), bytes[2..].as_ptr());
        let bytes = encode(b.as_slice());
        let back: &[u8] = decode(&bytes).unwrap();
        prop_assert_eq!(back, b.as_slice());
        prop_assert_eq!(back.as_ptr(), bytes[2..].as_ptr());
    }

    #[test]
    fn str_and_bytes_round_trip_with_every_prefix(s in ".{0,60}", b in proptest::collection::vec(any::<u8>(), 0..300)) {
        prefixed::<u8>(&s, &b)?;
        prefixed::<u16>(&s, &b)?;
        prefixed::<u32>(&s, &b)?;
    }

    #[test]
    fn sequences_round_trip_with_every_prefix(v in proptest::collection::vec(any::<(u8, i32)>(), 0..300)) {
        seq_prefixed::<u8>(&v)?;
        seq_prefixed::<u16>(&v)?;
        seq_prefixed::<u32>(&v)?;
    }

    #[test]
    fn max_len_is_enforced_both_ways(s in "[a-z]{0,20}", max in 0usize..20) {
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        let written = codec::encode_str::<u8>(&s, max, &mut w);
        if s.len() > max {
            prop_assert_eq!(written, Err(EncodeError::LengthOverMax { len: s.len(), max }));
        } else {
            prop_assert_eq!(written, Ok(()));
        }
        // A reader with a smaller max refuses the prefix before reading.
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        codec::encode_str::<u8>(&s, usize::MAX, &mut w).unwrap();
        let n = w.position();
        let mut r = Reader::new(&buf[..n]);
        let read = codec::decode_str::<u8>(max, &mut r);
        if s.len() > max {
            prop_assert_eq!(read, Err(DecodeError::LengthOverMax { len: s.len(), max }));
        } else {
            prop_assert_eq!(read, Ok(s.as_str()));
        }
    }

    #[test]
    fn views_round_trip(entity in any::<u32>(), x in any::<u32>(), hp in any::<i16>(), tick in any::<u64>()) {
        let value = Pod { entity: U32::new(entity), x: F32::new(f32::from_bits(x)), hp: I16::new(hp), tick: U64::new(tick) };
        let bytes = encode(&View(&value));
        prop_assert_eq!(bytes.len(), 18);
        prop_assert_eq!(&bytes, value.as_bytes());
        let back: View<'_, Pod> = decode(&bytes).unwrap();
        prop_assert_eq!(back.entity.get(), entity);
        prop_assert_eq!(back.x.get().to_bits(), x);
        prop_assert_eq!(back.hp.get(), hp);
        prop_assert_eq!(back.tick.get(), tick);
        // In place: no copy.
        prop_assert!(std::ptr::eq(back.get().as_bytes().as_ptr(), bytes.as_ptr()));
        // And a whole POD body through a frame.
        let mut buf: PacketBuf<64> = PacketBuf::new();
        let wire = buf.encode_raw(3, tick, value.as_bytes()).unwrap();
        let f = frame::decode_frame(wire, &FrameConfig::default()).unwrap();
        let seen: &Pod = f.view().unwrap();
        prop_assert_eq!(seen.as_bytes(), value.as_bytes());
    }
}

#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Debug)]
#[repr(C)]
struct Pod {
    entity: U32,
    x: F32,
    hp: I16,
    tick: U64,
}

fn prefixed<L: LenPrefix>(s: &str, b: &[u8]) -> Result<(), TestCaseError> {
    let mut buf = vec![0u8; 4 + s.len() + 4 + b.len()];
    let mut w = Writer::new(&mut buf);
    let s_ok = codec::encode_str::<L>(s, usize::MAX, &mut w);
    if s.len() > L::MAX {
        prop_assert_eq!(
            s_ok,
            Err(EncodeError::LengthOverMax {
                len: s.len(),
                max: L::MAX
            })
        );
        return Ok(());
    }
    s_ok.unwrap();
    prop_assert_eq!(w.position(), L::SIZE + s.len());
    let b_ok = codec::encode_bytes::<L>(b, usize::MAX, &mut w);
    if b.len() > L::MAX {
        prop_assert_eq!(
            b_ok,
            Err(EncodeError::LengthOverMax {
                len: b.len(),
                max: L::MAX
            })
        );
        return Ok(());
    }
    b_ok.unwrap();
    let n = w.position();
    prop_assert_eq!(n, 2 * L::SIZE + s.len() + b.len());
    // The prefix is the little-endian length in L::SIZE bytes.
    let mut len = [0u8; 8];
    len[..L::SIZE].copy_from_slice(&buf[..L::SIZE]);
    prop_assert_eq!(u64::from_le_bytes(len), s.len() as u64);
    let mut r = Reader::new(&buf[..n]);
    prop_assert_eq!(codec::decode_str::<L>(usize::MAX, &mut r), Ok(s));
    prop_assert_eq!(codec::decode_bytes::<L>(usize::MAX, &mut r), Ok(b));
    prop_assert_eq!(r.finish(), Ok(()));
    Ok(())
}

fn seq_prefixed<L: LenPrefix>(v: &[(u8, i32)]) -> Result<(), TestCaseError> {
    let mut buf = vec![0u8; 4 + v.len() * 5];
    let mut w = Writer::new(&mut buf);
    let written = codec::encode_seq::<L, _>(v, usize::MAX, &mut w);
    if v.len() > L::MAX {
        prop_assert_eq!(
            written,
            Err(EncodeError::LengthOverMax {
                len: v.len(),
                max: L::MAX
            })
        );
        return Ok(());
    }
    written.unwrap();
    let n = w.position();
    prop_assert_eq!(n, codec::seq_encoded_len::<L, _>(v));
    let mut r = Reader::new(&buf[..n]);
    let back: Vec<(u8, i32)> = codec::decode_vec::<L, _>(usize::MAX, &mut r).unwrap();
    prop_assert_eq!(back.as_slice(), v);
    prop_assert_eq!(r.finish(), Ok(()));
    Ok(())
}

#[test]
fn prefix_limits_are_exact() {
    // 255 bytes fit a u8 prefix, 256 do not.
    let s = "x".repeat(256);
    let mut buf = vec![0u8; 300];
    let mut w = Writer::new(&mut buf);
    assert_eq!(
        codec::encode_str::<u8>(&s[..255], usize::MAX, &mut w),
        Ok(())
    );
    let mut w = Writer::new(&mut buf);
    assert_eq!(
        codec::encode_str::<u8>(&s, usize::MAX, &mut w),
        Err(EncodeError::LengthOverMax { len: 256, max: 255 })
    );
    // The default u16 prefix: 65 535 bytes fit, 65 536 do not.
    let big = vec![7u8; 65_536];
    let mut buf = vec![0u8; 70_000];
    let mut w = Writer::new(&mut buf);
    assert_eq!(big[..65_535].encode(&mut w), Ok(()));
    let mut w = Writer::new(&mut buf);
    assert_eq!(
        big.as_slice().encode(&mut w),
        Err(EncodeError::LengthOverMax {
            len: 65_536,
            max: 65_535
        })
    );
    // A u32 prefix claiming 4 GiB with 3 bytes behind it: an error, no allocation.
    let mut r = Reader::new(&[0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3]);
    assert_eq!(
        codec::decode_vec::<u32, u64>(usize::MAX, &mut r),
        Err(DecodeError::UnexpectedEnd {
            needed: u32::MAX as usize,
            remaining: 3
        })
    );
    // A count that fits the bytes left but not the elements fails at the
    // first element that runs out.
    let mut r = Reader::new(&[2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(
        codec::decode_vec::<u16, u64>(usize::MAX, &mut r),
        Err(DecodeError::UnexpectedEnd {
            needed: 8,
            remaining: 1
        })
    );
    let mut r = Reader::new(&[0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3]);
    assert_eq!(
        codec::decode_bytes::<u32>(usize::MAX, &mut r),
        Err(DecodeError::UnexpectedEnd {
            needed: u32::MAX as usize,
            remaining: 3
        })
    );
}

/// A hand-written recursive type whose `MIN_SIZE` is built from the
/// constants of its own indirections. It compiles only because the
/// `MIN_SIZE` of `Option<T>`, `Vec<T>`, `Box<[T]>`, `[T]` and `String` does
/// not read `T::MIN_SIZE` (otherwise rustc reports a cycle, E0391), which
/// is what lets `#[derive(Packet)]` size recursive types.
struct Node {
    next: Option<Box<Node>>,
    children: Vec<Node>,
}

impl Encode for Node {
    const MAX_SIZE: Option<usize> = None;
    const MIN_SIZE: usize = <Option<Box<Node>>>::MIN_SIZE
        + <Vec<Node>>::MIN_SIZE
        + <Box<[Node]>>::MIN_SIZE
        + <[Node]>::MIN_SIZE
        + <Option<Node>>::MIN_SIZE
        + String::MIN_SIZE
        + <str>::MIN_SIZE;
    fn encoded_len(&self) -> usize {
        self.next.encoded_len() + self.children.encoded_len()
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.next.encode(w)?;
        self.children.encode(w)
    }
}

#[test]
fn indirections_have_a_minimum_independent_of_their_item() {
    const { assert!(Node::MIN_SIZE == 1 + 2 + 2 + 2 + 1 + 2 + 2) };
    let node = Node {
        next: None,
        children: vec![Node {
            next: None,
            children: Vec::new(),
        }],
    };
    assert_eq!(encode(&node), [0, 1, 0, 0, 0, 0]);
}
