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

/// Primitives then one string, nothing after it: a `Vec` of it validates
/// all its strings at once (`codec::decode_fixed_str_vec`).
#[derive(packet_core::Packet, Debug, PartialEq, Clone)]
struct Slot {
    count: i8,
    slot: u8,
    id: String,
}

/// `Vec<T>` decoded element by element, with `decode_vec`'s count check.
fn one_by_one<'de, T: Decode<'de>>(r: &mut Reader<'de>) -> Result<Vec<T>, DecodeError> {
    let n = usize::from(u16::decode(r)?);
    if n > r.remaining() {
        return Err(DecodeError::UnexpectedEnd {
            needed: n,
            remaining: r.remaining(),
        });
    }
    (0..n).map(|_| T::decode(r)).collect()
}

/// Both ways on `bytes`: same value or error, same bytes consumed.
fn agree<'de, T: Decode<'de> + PartialEq + core::fmt::Debug>(bytes: &'de [u8]) {
    let (mut a, mut b) = (Reader::new(bytes), Reader::new(bytes));
    let (got, want) = (Vec::<T>::decode(&mut a), one_by_one::<T>(&mut b));
    assert_eq!(got, want, "{bytes:?}");
    if got.is_ok() {
        assert_eq!(a.position(), b.position());
    }
}

#[test]
fn item_lists_agree_with_element_by_element() {
    let long = "y".repeat(130);
    // Valid UTF-8 all through (the fast path), then with a length prefix
    // that is not (130 = 0x82: element by element).
    for ids in [&["minecraft:stone", "", "é€x"][..], &["ab", &long, "c"]] {
        let items: Vec<Slot> = (0..12)
            .map(|i| Slot {
                count: i as i8 * 5,
                slot: i as u8,
                id: ids[i % ids.len()].into(),
            })
            .collect();
        let mut buf = vec![0u8; items.encoded_len()];
        items.encode(&mut Writer::new(&mut buf)).unwrap();
        assert_eq!(Vec::<Slot>::decode(&mut Reader::new(&buf)).unwrap(), items);
        for cut in 0..=buf.len() {
            agree::<Slot>(&buf[..cut]);
        }
    }
    let items: Vec<Slot> = (0..12)
        .map(|i| Slot {
            count: i as i8 * 5,
            slot: i as u8,
            id: ["minecraft:stone", "", "é€x"][i % 3].into(),
        })
        .collect();
    let mut buf = vec![0u8; items.encoded_len()];
    items.encode(&mut Writer::new(&mut buf)).unwrap();
    // A count that is not ASCII (the span is then not UTF-8), an invalid
    // string, a string byte that makes the next element's bytes a
    // continuation: each position, a few values.
    for at in 2..buf.len() {
        for v in [0x80u8, 0xC3, 0xFF, 0xA9] {
            let mut bad = buf.clone();
            bad[at] = v;
            agree::<Slot>(&bad);
        }
    }
    // A string over its `max_len`, and a borrowed one.
    let narrow = [
        2, 0, 1, 0, 3, b'a', b'b', b'c', 2, 0, 5, b'a', b'b', b'c', b'd', b'e',
    ];
    agree::<NarrowTail<'_>>(&narrow);
    agree::<NarrowTail<'_>>(&narrow[..8]);
    let mut ok = narrow;
    ok[10] = 2;
    agree::<NarrowTail<'_>>(&ok[..13]);
    assert_eq!(
        Vec::<NarrowTail<'_>>::decode(&mut Reader::new(&ok[..13])).unwrap()[1].s,
        "ab"
    );
}

proptest! {
    #[test]
    fn item_lists_round_trip_and_agree(
        items in proptest::collection::vec(
            // Counts and slots below 128 (as in game data) keep the whole
            // list valid UTF-8, the fast path; the flipped byte below
            // takes it off that path.
            (0i8..=127, 0u8..128, "[a-z:é]{0,20}")
                .prop_map(|(count, slot, id)| Slot { count, slot, id }),
            0..30,
        ),
        flip in any::<(usize, u8)>(),
    ) {
        let mut buf = vec![0u8; items.encoded_len()];
        items.encode(&mut Writer::new(&mut buf)).unwrap();
        let mut r = Reader::new(&buf);
        prop_assert_eq!(&Vec::<Slot>::decode(&mut r).unwrap(), &items);
        prop_assert_eq!(r.finish(), Ok(()));
        let mut bad = buf.clone();
        let at = flip.0 % bad.len();
        bad[at] ^= flip.1;
        agree::<Slot>(&bad);
        agree::<Slot>(&buf[..flip.0 % (buf.len() + 1)]);
    }
}

/// A nested fixed-size struct, a run of owned strings, then fixed-size
/// fields: a `Vec` of it validates the runs of consecutive elements
/// together (`codec::decode_str_run_vec`).
#[derive(packet_core::Packet, Debug, PartialEq, Clone, Copy)]
struct Addr {
    a: u8,
    b: u8,
}

#[derive(packet_core::Packet, Debug, PartialEq, Clone)]
struct Record {
    addr: Addr,
    user: String,
    date: String,
    #[packet(len = u8)]
    request: Box<str>,
    ok: bool,
    code: u16,
}

fn record(i: usize, long: &str) -> Record {
    let words = ["-", "", "é€", "GET /index.html HTTP/1.0", long];
    Record {
        addr: Addr {
            a: i as u8,
            b: (i * 7) as u8 ^ 0x80,
        },
        user: words[i % words.len()].into(),
        date: words[(i + 1) % 4].into(),
        request: words[(i + 2) % 4].into(),
        ok: i.is_multiple_of(3),
        code: (i * 1000) as u16,
    }
}

#[test]
fn record_lists_agree_with_element_by_element() {
    let long = "z".repeat(120);
    for (n, long) in [(100, "x"), (9, long.as_str())] {
        let records: Vec<Record> = (0..n).map(|i| record(i, long)).collect();
        let mut buf = vec![0u8; records.encoded_len()];
        records.encode(&mut Writer::new(&mut buf)).unwrap();
        let mut r = Reader::new(&buf);
        assert_eq!(Vec::<Record>::decode(&mut r).unwrap(), records);
        assert_eq!(r.finish(), Ok(()));
        for cut in 0..=buf.len() {
            agree::<Record>(&buf[..cut]);
        }
        // Invalid UTF-8, a length that is not ASCII, an invalid `bool`,
        // a continuation byte after a string: each position.
        for at in 2..buf.len() {
            for v in [0x80u8, 0xC3, 0xFF, 0x02] {
                let mut bad = buf.clone();
                bad[at] = v;
                agree::<Record>(&bad);
            }
        }
    }
}

proptest! {
    #[test]
    fn record_lists_round_trip_and_agree(
        records in proptest::collection::vec(
            (any::<(u8, u8, bool, u16)>(), "[a-z/ é]{0,40}", "[0-9:]{0,30}", "[A-Z]{0,50}")
                .prop_map(|((a, b, ok, code), user, date, request)| Record {
                    addr: Addr { a, b },
                    user,
                    date,
                    request: request.into(),
                    ok,
                    code,
                }),
            0..40,
        ),
        flip in any::<(usize, u8)>(),
    ) {
        let mut buf = vec![0u8; records.encoded_len()];
        records.encode(&mut Writer::new(&mut buf)).unwrap();
        let mut r = Reader::new(&buf);
        prop_assert_eq!(&Vec::<Record>::decode(&mut r).unwrap(), &records);
        prop_assert_eq!(r.finish(), Ok(()));
        let mut bad = buf.clone();
        let at = flip.0 % bad.len();
        bad[at] ^= flip.1;
        agree::<Record>(&bad);
        agree::<Record>(&buf[..flip.0 % (buf.len() + 1)]);
    }
}

/// A `pod` run decodes the same wherever its bytes start: aligned for the
/// element (the bytes cast to a slice and copied at once) or not (copied
/// into a zeroed vector).
#[test]
fn pod_runs_decode_alike_at_every_alignment() {
    let value = runs(5, 1.5);
    let mut bytes = vec![0u8; value.pods.encoded_len()];
    value.pods.encode(&mut Writer::new(&mut bytes)).unwrap();
    for offset in 0..8 {
        let mut shifted = vec![0xAAu8; offset];
        shifted.extend_from_slice(&bytes);
        let mut r = Reader::new(&shifted[offset..]);
        let pods = <Vec<PodTri> as Decode>::decode(&mut r).unwrap();
        assert_eq!(pods, value.pods, "offset {offset}");
        assert_eq!(r.remaining(), 0);
    }
}

/// Strings that floats follow (validated alone, with no UTF-8 window
/// ahead: `codec::decode_str_alone`), one of them inside the window of the
/// string before it, one with its own prefix width and limit.
#[derive(packet_core::Packet, Debug, PartialEq, Clone)]
struct FloatsAfter<'a> {
    head: String,
    n: u8,
    id: String,
    pos: (f64, f64),
    #[packet(len = u8, max_len = 8)]
    name: &'a str,
    #[packet(skip)]
    skipped: u8,
    yaw: f32,
    label: Box<str>,
    z: [f64; 1],
    tags: Vec<String>,
}

#[test]
fn strings_before_floats_fail_as_field_by_field() {
    fn by_field(bytes: &[u8]) -> (Result<FloatsAfter<'_>, DecodeError>, usize) {
        let mut r = Reader::new(bytes);
        let mut all = || {
            Ok(FloatsAfter {
                head: String::decode(&mut r)?,
                n: u8::decode(&mut r)?,
                id: String::decode(&mut r)?,
                pos: <(f64, f64)>::decode(&mut r)?,
                name: {
                    let len = usize::from(u8::decode(&mut r)?);
                    if len > 8 {
                        return Err(DecodeError::LengthOverMax { len, max: 8 });
                    }
                    r.take_str(len)?
                },
                skipped: 0,
                yaw: f32::decode(&mut r)?,
                label: Box::<str>::decode(&mut r)?,
                z: <[f64; 1]>::decode(&mut r)?,
                tags: Vec::<String>::decode(&mut r)?,
            })
        };
        let got = all();
        (got, r.position())
    }
    fn derived(bytes: &[u8]) -> (Result<FloatsAfter<'_>, DecodeError>, usize) {
        let mut r = Reader::new(bytes);
        let got = FloatsAfter::decode(&mut r);
        (got, r.position())
    }
    for (head, id, name, label) in [
        ("minecraft:world", "minecraft:pig", "Polly", "ok"),
        ("", "é€x", "", "ünï"),
        ("ab", "", "€€", ""),
    ] {
        let value = FloatsAfter {
            head: head.into(),
            n: 7,
            id: id.into(),
            pos: (1.5, -2.25e7),
            name,
            skipped: 0,
            yaw: 0.1,
            label: label.into(),
            z: [3.0],
            tags: vec!["a".into(), "bc".into()],
        };
        let mut buf = vec![0u8; value.encoded_len()];
        value.encode(&mut Writer::new(&mut buf)).unwrap();
        assert_eq!(
            FloatsAfter::decode(&mut Reader::new(&buf)),
            Ok(value.clone())
        );
        for cut in 0..=buf.len() {
            assert_eq!(derived(&buf[..cut]), by_field(&buf[..cut]), "cut at {cut}");
        }
        for at in 0..buf.len() {
            for v in [0x80u8, 0xA9, 0xC3, 0xE2, 0xFF, 9, b'a'] {
                let mut bad = buf.clone();
                bad[at] = v;
                // Debug text: a float byte changed may make a NaN.
                assert_eq!(
                    format!("{:?}", derived(&bad)),
                    format!("{:?}", by_field(&bad)),
                    "{v:#x} at {at}"
                );
            }
        }
    }
}
