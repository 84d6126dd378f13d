//! Fixed-size runs: nested fixed-size structs, `Vec`s and arrays of them,
//! and `#[packet(pod)]` types write the same bytes as field-by-field code,
//! round-trip, and fail on short input exactly as field-by-field decoding
//! does (the error names the element that ran out).

use packet_core::error::{DecodeError, EncodeError};
use packet_core::{Decode, Encode, Reader, Writer};
use proptest::prelude::*;
use zerocopy::{FromBytes, Immutable, IntoBytes};

#[derive(packet_core::Packet, Debug, Clone, Copy, PartialEq)]
struct V3 {
    x: f32,
    y: f32,
    z: f32,
}

#[derive(packet_core::Packet, Debug, Clone, Copy, PartialEq)]
struct Tri {
    a: V3,
    b: V3,
    flag: bool,
    tag: u16,
}

#[derive(packet_core::Packet, FromBytes, IntoBytes, Immutable, Debug, Clone, Copy, PartialEq)]
#[repr(C)]
#[packet(pod)]
struct PodV3 {
    x: f32,
    y: f32,
    z: f32,
}

#[derive(packet_core::Packet, FromBytes, IntoBytes, Immutable, Debug, Clone, Copy, PartialEq)]
#[repr(C)]
#[packet(pod)]
struct PodTri {
    a: PodV3,
    b: PodV3,
    id: [u32; 2],
}

#[derive(packet_core::Packet, Debug, PartialEq)]
struct Runs {
    head: u8,
    tris: Vec<Tri>,
    pods: Vec<PodTri>,
    fixed: [V3; 3],
    tail: u64,
}

fn v3(x: f32) -> V3 {
    V3 {
        x,
        y: -x,
        z: x * 2.0,
    }
}

fn pod(x: f32) -> PodV3 {
    PodV3 {
        x,
        y: -x,
        z: x * 2.0,
    }
}

/// The wire bytes written by hand, field by field.
fn by_hand(r: &Runs) -> Vec<u8> {
    let mut out = vec![r.head];
    let f = |out: &mut Vec<u8>, v: f32| out.extend(v.to_le_bytes());
    out.extend((r.tris.len() as u16).to_le_bytes());
    for t in &r.tris {
        for v in [t.a, t.b] {
            f(&mut out, v.x);
            f(&mut out, v.y);
            f(&mut out, v.z);
        }
        out.push(u8::from(t.flag));
        out.extend(t.tag.to_le_bytes());
    }
    out.extend((r.pods.len() as u16).to_le_bytes());
    for p in &r.pods {
        for v in [p.a, p.b] {
            f(&mut out, v.x);
            f(&mut out, v.y);
            f(&mut out, v.z);
        }
        out.extend(p.id[0].to_le_bytes());
        out.extend(p.id[1].to_le_bytes());
    }
    for v in r.fixed {
        f(&mut out, v.x);
        f(&mut out, v.y);
        f(&mut out, v.z);
    }
    out.extend(r.tail.to_le_bytes());
    out
}

fn runs(n: usize, seed: f32) -> Runs {
    Runs {
        head: 7,
        tris: (0..n)
            .map(|i| Tri {
                a: v3(seed + i as f32),
                b: v3(seed - i as f32),
                flag: i % 2 == 0,
                tag: i as u16,
            })
            .collect(),
        pods: (0..n)
            .map(|i| PodTri {
                a: pod(seed * i as f32),
                b: pod(seed),
                id: [i as u32, !(i as u32)],
            })
            .collect(),
        fixed: [v3(1.0), v3(seed), v3(-seed)],
        tail: 0xDEAD_BEEF,
    }
}

#[test]
fn constants_describe_fixed_runs() {
    assert_eq!(<Tri as Encode>::FIXED_SIZE, Some(27));
    assert_eq!(<Tri as Decode>::FIXED_WIRE_SIZE, Some(27));
    assert_eq!(<PodTri as Encode>::FIXED_SIZE, Some(32));
    assert_eq!(
        <PodTri as Encode>::MEMORY_IS_WIRE,
        cfg!(target_endian = "little")
    );
    const { assert!(!<Tri as Encode>::MEMORY_IS_WIRE) };
    assert_eq!(<Runs as Encode>::FIXED_SIZE, None);
    assert_eq!(<Runs as Decode>::MIN_WIRE_SIZE, 1 + 2 + 2 + 36 + 8);
}

#[test]
fn short_input_fails_at_the_element_that_ran_out() {
    let r = runs(3, 1.5);
    let bytes = by_hand(&r);
    // Cut inside the second triangle's `b.y` (1 + 2 + 27 + 16 = 46).
    assert_eq!(
        Runs::decode(&mut Reader::new(&bytes[..46])),
        Err(DecodeError::UnexpectedEnd {
            needed: 4,
            remaining: 0
        })
    );
    // Cut inside the pods: the pod run falls back to element by element.
    let at = 1 + 2 + 3 * 27 + 2 + 32 + 5;
    assert_eq!(
        Runs::decode(&mut Reader::new(&bytes[..at])),
        Err(DecodeError::UnexpectedEnd {
            needed: 4,
            remaining: 1
        })
    );
    // An invalid bool inside a run is reported as such.
    let mut bad = bytes.clone();
    bad[1 + 2 + 24] = 9;
    assert_eq!(
        Runs::decode(&mut Reader::new(&bad)),
        Err(DecodeError::InvalidBool(9))
    );
    // Encoding into a buffer one byte short is an error, never a panic.
    let mut out = vec![0u8; bytes.len() - 1];
    assert!(matches!(
        r.encode(&mut Writer::new(&mut out)),
        Err(EncodeError::BufferFull { .. })
    ));
}

proptest! {
    #[test]
    fn runs_match_hand_written_bytes_and_round_trip(n in 0usize..40, seed in -1e6f32..1e6) {
        let r = runs(n, seed);
        let expected = by_hand(&r);
        prop_assert_eq!(r.encoded_len(), expected.len());
        let mut out = vec![0u8; expected.len()];
        let mut w = Writer::new(&mut out);
        r.encode(&mut w).unwrap();
        prop_assert_eq!(w.position(), expected.len());
        prop_assert_eq!(&out, &expected);
        let mut rd = Reader::new(&out);
        prop_assert_eq!(Runs::decode(&mut rd).unwrap(), r);
        prop_assert_eq!(rd.finish(), Ok(()));
    }
}

/// Primitives and then one string: the string's length prefix joins the
/// primitives' bounds check.
#[derive(packet_core::Packet, Debug, PartialEq, Clone)]
struct ItemLike {
    count: i8,
    slot: u8,
    id: String,
    n: u32,
}

#[derive(packet_core::Packet, Debug, PartialEq, Clone)]
struct NarrowTail<'a> {
    x: u16,
    #[packet(len = u8, max_len = 4)]
    s: &'a str,
}

#[test]
fn a_string_after_primitives_fails_as_field_by_field() {
    let value = ItemLike {
        count: -3,
        slot: 7,
        id: "minecraft:stone".into(),
        n: 0xDEAD_BEEF,
    };
    let mut buf = vec![0u8; value.encoded_len()];
    value.encode(&mut Writer::new(&mut buf)).unwrap();
    let by_field = |bytes: &[u8]| -> Result<ItemLike, DecodeError> {
        let mut r = Reader::new(bytes);
        Ok(ItemLike {
            count: i8::decode(&mut r)?,
            slot: u8::decode(&mut r)?,
            id: String::decode(&mut r)?,
            n: u32::decode(&mut r)?,
        })
    };
    for cut in 0..=buf.len() {
        let mut r = Reader::new(&buf[..cut]);
        assert_eq!(
            ItemLike::decode(&mut r),
            by_field(&buf[..cut]),
            "cut at {cut}"
        );
    }
    let mut bad = buf.clone();
    bad[4] = 0xFF;
    assert_eq!(ItemLike::decode(&mut Reader::new(&bad)), by_field(&bad));

    fn narrow(bytes: &[u8]) -> Result<NarrowTail<'_>, DecodeError> {
        NarrowTail::decode(&mut Reader::new(bytes))
    }
    assert_eq!(
        narrow(&[1, 0, 3, b'a', b'b', b'c']),
        Ok(NarrowTail { x: 1, s: "abc" })
    );
    assert_eq!(
        narrow(&[1, 0, 6, b'a', b'b', b'c', b'd', b'e', b'f']),
        Err(DecodeError::LengthOverMax { len: 6, max: 4 })
    );
    assert_eq!(
        narrow(&[1, 0, 3, b'a', b'b']),
        Err(DecodeError::UnexpectedEnd {
            needed: 3,
            remaining: 2
        })
    );
}
