//! Round trips of derived types with arbitrary field values (proptest), and
//! the behaviour of every attribute on good and bad input.

use packet_core::error::{DecodeError, EncodeError};
use packet_core::frame::{self, FrameConfig};
use packet_core::{Decode, Encode, Packet, PacketBuf, PacketSet, Reader, Writer};
use proptest::prelude::*;

#[derive(Packet, Debug, PartialEq, Clone)]
#[packet(id = 0x0102)]
struct Chat<'a> {
    room: u16,
    #[packet(len = u8)]
    name: &'a str,
    #[packet(max_len = 200)]
    text: &'a str,
}

#[derive(Packet, Debug, PartialEq, Clone, Copy)]
#[repr(u8)]
enum Kind {
    Walk = 1,
    Run = 2,
    Fly = 9,
}

#[derive(Packet, Debug, PartialEq, Clone, Copy)]
#[repr(u16)]
enum Wide {
    A = 0x100,
    B,
    C = 7,
}

#[derive(Packet, Debug, PartialEq, Clone)]
#[repr(u16)]
enum Event<'a> {
    Hit { target: u32, dmg: u16 } = 1,
    Say(&'a str) = 2,
    Nop,
}

#[derive(Packet, Debug, PartialEq, Clone)]
#[packet(tag = u32)]
enum Tagged {
    A(u8),
    B,
    C { v: Vec<u16>, flag: bool },
}

#[derive(Packet, Debug, PartialEq, Clone)]
enum Plain {
    X,
    Y(i64, i8),
}

#[derive(Packet, Debug, PartialEq, Clone, Copy)]
struct Vec3 {
    x: f32,
    y: f32,
    z: f32,
}

#[derive(Packet, Debug, PartialEq, Clone)]
#[packet(id = 0x0010)]
struct Move {
    entity: u32,
    pos: Vec3,
    vel: Vec3,
    kind: Kind,
    grounded: bool,
    facing: char,
    keys: [u8; 4],
    wide: Wide,
}

#[derive(Packet, Debug, PartialEq, Clone)]
#[packet(id = 0x0020)]
struct Tuple<'a>(u8, #[packet(len = u32)] &'a [u8], i128);

#[derive(Packet, Debug, PartialEq, Clone)]
#[packet(id = 0x0021)]
struct Unit;

#[derive(Packet, Debug, PartialEq, Clone)]
struct Generic<T, const N: usize> {
    head: T,
    items: [T; N],
    #[packet(len = u8, max_len = 10)]
    tail: Vec<T>,
}

/// Found by the third review: generic over its length only (no type
/// parameter), the zero-size array check named `N` in a `const` item
/// outside the type ("can't use generic parameters from outer item"),
/// and this packet no longer compiled.
#[derive(Packet, Debug, PartialEq, Clone)]
#[packet(id = 0x0022)]
struct ByLength<const N: usize> {
    bytes: [u8; N],
    pairs: [[u8; 2]; N],
}

/// Found by the third review: an enum generic over a length only.
#[derive(Packet, Debug, PartialEq, Clone)]
#[packet(id = 0x0023)]
enum ByLengthEnum<const N: usize> {
    Short([u8; N]),
    Long { bytes: [u16; N] },
}

#[test]
fn a_packet_generic_over_an_array_length_only_round_trips() {
    let p = ByLength::<3> {
        bytes: [1, 2, 3],
        pairs: [[4, 5], [6, 7], [8, 9]],
    };
    let mut buf = [0u8; 64];
    let mut w = Writer::new(&mut buf);
    p.encode(&mut w).unwrap();
    let n = w.position();
    assert_eq!(n, 9);
    assert_eq!(ByLength::<3>::decode(&mut Reader::new(&buf[..n])), Ok(p));
    let e = ByLengthEnum::<2>::Long { bytes: [1, 2] };
    let mut w = Writer::new(&mut buf);
    e.encode(&mut w).unwrap();
    let n = w.position();
    assert_eq!(
        ByLengthEnum::<2>::decode(&mut Reader::new(&buf[..n])),
        Ok(e)
    );
}

#[derive(Packet, Debug, PartialEq, Clone)]
#[packet(id = 0x0030)]
struct Nested<'a> {
    chat: Chat<'a>,
    events: Vec<Event<'a>>,
    names: Vec<&'a str>,
    maybe: Option<&'a str>,
    generic: Generic<u16, 3>,
    owned: String,
    #[packet(len = u8)]
    boxed: Box<[u32]>,
    #[packet(len = u8)]
    boxed_str: Box<str>,
    tagged: Tagged,
    plain: Plain,
}

#[derive(Packet, Debug, PartialEq, Clone, Default)]
#[packet(id = 0x0040)]
struct Skips {
    a: u8,
    #[packet(skip)]
    cache: u64,
    b: u8,
}

/// A custom codec: a `u32` written as 3 bytes.
mod u24 {
    use packet_core::error::{DecodeError, EncodeError};
    use packet_core::{Reader, Writer};

    pub const MAX_SIZE: Option<usize> = Some(3);

    pub fn encoded_len(_: &u32) -> usize {
        3
    }

    pub fn encode(v: &u32, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        if *v > 0x00FF_FFFF {
            return Err(EncodeError::Invalid("u24 out of range"));
        }
        let [a, b, c, _] = v.to_le_bytes();
        w.put_array([a, b, c])
    }

    pub fn decode(r: &mut Reader<'_>) -> Result<u32, DecodeError> {
        let [a, b, c] = r.take_array()?;
        Ok(u32::from_le_bytes([a, b, c, 0]))
    }
}

#[derive(Packet, Debug, PartialEq, Clone)]
#[packet(id = 0x0050)]
struct WithCodec {
    #[packet(with = u24)]
    hp: u32,
    tail: u8,
}

/// Two lifetimes: top-level borrowed fields decode from one input.
#[derive(Packet, Debug, PartialEq, Clone)]
struct TwoLifetimes<'a, 'b> {
    a: &'a str,
    #[packet(len = u8)]
    b: &'b [u8],
}

fn roundtrip<'de, T>(value: &T, buf: &'de mut [u8]) -> T
where
    T: Encode + Decode<'de> + PartialEq + std::fmt::Debug,
{
    let mut w = Writer::new(buf);
    value.encode(&mut w).expect("encodes");
    let n = w.position();
    assert_eq!(n, value.encoded_len(), "encoded_len agrees with encode");
    if let Some(max) = T::MAX_SIZE {
        assert!(n <= max, "{n} > MAX_SIZE {max}");
    }
    assert!(n >= T::MIN_SIZE, "{n} < MIN_SIZE {}", T::MIN_SIZE);
    let mut r = Reader::new(&buf[..n]);
    let back = T::decode(&mut r).expect("decodes");
    r.finish().expect("consumes everything");
    back
}

fn frame_roundtrip<'de, P>(p: &P, out: &'de mut [u8]) -> P
where
    P: Packet + Decode<'de> + PartialEq + std::fmt::Debug,
{
    let n = frame::encode_packet(p, 42, out).expect("encodes");
    if let Some(max) = P::MAX_FRAME_LEN {
        assert!(n <= max);
    }
    let frame = frame::decode_frame(&out[..n], &FrameConfig::default()).expect("valid frame");
    assert_eq!(frame.type_id(), P::ID);
    frame.decode_packet::<P>().expect("decodes")
}

fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 0..max).prop_map(|c| c.into_iter().collect())
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![Just(Kind::Walk), Just(Kind::Run), Just(Kind::Fly)]
}

fn wide() -> impl Strategy<Value = Wide> {
    prop_oneof![Just(Wide::A), Just(Wide::B), Just(Wide::C)]
}

fn vec3() -> impl Strategy<Value = Vec3> {
    (any::<f32>(), any::<f32>(), any::<f32>()).prop_map(|(x, y, z)| Vec3 { x, y, z })
}

fn tagged() -> impl Strategy<Value = Tagged> {
    prop_oneof![
        any::<u8>().prop_map(Tagged::A),
        Just(Tagged::B),
        (proptest::collection::vec(any::<u16>(), 0..8), any::<bool>())
            .prop_map(|(v, flag)| Tagged::C { v, flag }),
    ]
}

fn bits_eq(a: &Move, b: &Move) -> bool {
    let v = |v: &Vec3| [v.x.to_bits(), v.y.to_bits(), v.z.to_bits()];
    a.entity == b.entity
        && v(&a.pos) == v(&b.pos)
        && v(&a.vel) == v(&b.vel)
        && a.kind == b.kind
        && a.grounded == b.grounded
        && a.facing == b.facing
        && a.keys == b.keys
        && a.wide == b.wide
}

proptest! {
    #[test]
    fn chat_roundtrip(room: u16, name in text(40), body in text(50)) {
        prop_assume!(name.len() <= 255 && body.len() <= 200);
        let chat = Chat { room, name: &name, text: &body };
        let mut buf = [0u8; 1200];
        prop_assert_eq!(&frame_roundtrip(&chat, &mut buf), &chat);
    }

    #[test]
    fn move_roundtrip(entity: u32, pos in vec3(), vel in vec3(), kind in kind(), grounded: bool,
                      facing: char, keys: [u8; 4], wide in wide()) {
        let m = Move { entity, pos, vel, kind, grounded, facing, keys, wide };
        let mut buf = [0u8; 128];
        let back = frame_roundtrip(&m, &mut buf);
        prop_assert!(bits_eq(&back, &m));
    }

    #[test]
    fn tuple_and_unit_roundtrip(a: u8, bytes in proptest::collection::vec(any::<u8>(), 0..300), c: i128) {
        let t = Tuple(a, &bytes, c);
        let mut buf = [0u8; 1200];
        prop_assert_eq!(&frame_roundtrip(&t, &mut buf), &t);
        prop_assert_eq!(frame_roundtrip(&Unit, &mut buf), Unit);
    }

    #[test]
    fn event_roundtrip(target: u32, dmg: u16, s in text(20), which in 0..3u8) {
        let e = match which {
            0 => Event::Hit { target, dmg },
            1 => Event::Say(&s),
            _ => Event::Nop,
        };
        let mut buf = [0u8; 256];
        prop_assert_eq!(&roundtrip(&e, &mut buf), &e);
    }

    #[test]
    fn nested_roundtrip(
        room: u16, name in text(10), body in text(10),
        dmg: u16, said in text(8), names in proptest::collection::vec(text(5), 0..4),
        maybe in proptest::option::of(text(5)), head: u16, items: [u16; 3],
        tail in proptest::collection::vec(any::<u16>(), 0..=10), owned in text(10),
        boxed in proptest::collection::vec(any::<u32>(), 0..20), boxed_str in text(10),
        tagged in tagged(), y: i64, z: i8,
    ) {
        let n = Nested {
            chat: Chat { room, name: &name, text: &body },
            events: vec![Event::Hit { target: 1, dmg }, Event::Say(&said), Event::Nop],
            names: names.iter().map(String::as_str).collect(),
            maybe: maybe.as_deref(),
            generic: Generic { head, items, tail },
            owned,
            boxed: boxed.into_boxed_slice(),
            boxed_str: boxed_str.into_boxed_str(),
            tagged,
            plain: if y % 2 == 0 { Plain::X } else { Plain::Y(y, z) },
        };
        let mut buf = [0u8; 1200];
        prop_assert_eq!(&frame_roundtrip(&n, &mut buf), &n);
    }

    #[test]
    fn skip_and_with_roundtrip(a: u8, cache: u64, b: u8, hp in 0..=0x00FF_FFFFu32, tail: u8) {
        let s = Skips { a, cache, b };
        let mut buf = [0u8; 64];
        prop_assert_eq!(frame_roundtrip(&s, &mut buf), Skips { a, cache: 0, b });
        let w = WithCodec { hp, tail };
        prop_assert_eq!(frame_roundtrip(&w, &mut buf), w);
    }

    #[test]
    fn two_lifetimes_roundtrip(a in text(10), b in proptest::collection::vec(any::<u8>(), 0..20)) {
        let t = TwoLifetimes { a: &a, b: &b };
        let mut buf = [0u8; 128];
        prop_assert_eq!(&roundtrip(&t, &mut buf), &t);
    }

    /// Every truncation of a valid body is an error, never a panic.
    #[test]
    fn truncated_bodies_fail(room: u16, name in text(10), dmg: u16) {
        let n = Nested {
            chat: Chat { room, name: &name, text: "t" },
            events: vec![Event::Hit { target: 1, dmg }],
            names: vec!["a"],
            maybe: Some("m"),
            generic: Generic { head: 1, items: [1, 2, 3], tail: vec![4] },
            owned: "o".into(),
            boxed: vec![1].into_boxed_slice(),
            boxed_str: "b".into(),
            tagged: Tagged::C { v: vec![1], flag: true },
            plain: Plain::Y(1, 2),
        };
        let mut buf = [0u8; 512];
        let mut w = Writer::new(&mut buf);
        n.encode(&mut w).unwrap();
        let len = w.position();
        for cut in 0..len {
            let mut r = Reader::new(&buf[..cut]);
            prop_assert!(Nested::decode(&mut r).is_err());
        }
    }
}

#[test]
fn sizes_are_computed_in_const_context() {
    const MOVE: Option<usize> = Move::MAX_SIZE;
    // entity 4 + 2 * Vec3 12 + kind 1 + grounded 1 + facing 4 + keys 4 + wide 2
    assert_eq!(MOVE, Some(4 + 24 + 1 + 1 + 4 + 4 + 2));
    assert_eq!(Move::MIN_SIZE, 40);
    assert_eq!(Move::MAX_FRAME_LEN, Some(20 + 40 + 8));
    // room 2 + u8 prefix + 255 + u16 prefix + 200
    assert_eq!(Chat::MAX_SIZE, Some(2 + 1 + 255 + 2 + 200));
    assert_eq!(Chat::MIN_SIZE, 2 + 1 + 2);
    assert_eq!(Chat::MAX_FRAME_LEN, Some(20 + 460 + 8));
    // Say's `&str` has a u16 prefix: at most 65 535 bytes.
    assert_eq!(Event::MAX_SIZE, Some(2 + 2 + 65_535));
    assert_eq!(Event::MIN_SIZE, 2);
    assert_eq!(Kind::MAX_SIZE, Some(1));
    assert_eq!(Wide::MAX_SIZE, Some(2));
    assert_eq!(Tagged::MAX_SIZE, Some(4 + 2 + 65_535 * 2 + 1));
    assert_eq!(<Generic<u32, 2>>::MAX_SIZE, Some(4 + 8 + 1 + 40));
    assert_eq!(Skips::MAX_SIZE, Some(2));
    assert_eq!(WithCodec::MAX_SIZE, Some(4));
    assert_eq!(Unit::MAX_SIZE, Some(0));
    assert_eq!(Unit::MAX_FRAME_LEN, Some(28));
    // Bounded (every prefix is), but far beyond one buffer.
    assert!(Nested::MAX_SIZE.is_some_and(|n| n > u32::MAX as usize));
    // chat 5, events 2, names 2, maybe 1, generic 2 + 6 + 1, owned 2,
    // boxed 1, boxed_str 1, tagged 4 + 0 (B), plain 1 + 0 (X).
    assert_eq!(Nested::MIN_SIZE, 5 + 2 + 2 + 1 + 9 + 2 + 1 + 1 + 4 + 1);
}

#[test]
fn unknown_discriminants_are_typed_errors() {
    let mut r = Reader::new(&[3]);
    assert_eq!(
        Kind::decode(&mut r),
        Err(DecodeError::UnknownDiscriminant {
            value: 3,
            type_name: "Kind"
        })
    );
    let mut r = Reader::new(&[0x05, 0x01]);
    assert_eq!(
        Wide::decode(&mut r),
        Err(DecodeError::UnknownDiscriminant {
            value: 0x105,
            type_name: "Wide"
        })
    );
    let mut r = Reader::new(&[4, 0, 0, 0]);
    assert_eq!(
        Tagged::decode(&mut r),
        Err(DecodeError::UnknownDiscriminant {
            value: 4,
            type_name: "Tagged"
        })
    );
    let mut r = Reader::new(&[0, 0]);
    assert_eq!(
        Event::decode(&mut r),
        Err(DecodeError::UnknownDiscriminant {
            value: 0,
            type_name: "Event"
        })
    );
    // Implicit discriminants follow Rust's rule.
    assert_eq!(Wide::B as u16, 0x101);
    let mut r = Reader::new(&[0x01, 0x01]);
    assert_eq!(Wide::decode(&mut r), Ok(Wide::B));
    let mut r = Reader::new(&[3, 0]);
    assert_eq!(Event::decode(&mut r), Ok(Event::Nop));
}

#[test]
fn invalid_primitives_in_a_run_are_typed_errors() {
    let m = Move {
        entity: 1,
        pos: Vec3 {
            x: 0.0,
            y: 0.0,
            z: 0.0,
        },
        vel: Vec3 {
            x: 0.0,
            y: 0.0,
            z: 0.0,
        },
        kind: Kind::Run,
        grounded: true,
        facing: 'a',
        keys: [0; 4],
        wide: Wide::A,
    };
    let mut buf = [0u8; 64];
    let mut w = Writer::new(&mut buf);
    m.encode(&mut w).unwrap();
    let n = w.position();
    let mut bad = buf;
    bad[4 + 24 + 1] = 2; // grounded
    assert_eq!(
        Move::decode(&mut Reader::new(&bad[..n])),
        Err(DecodeError::InvalidBool(2))
    );
    let mut bad = buf;
    bad[4 + 24 + 2..4 + 24 + 6].copy_from_slice(&0xD800u32.to_le_bytes()); // facing
    assert_eq!(
        Move::decode(&mut Reader::new(&bad[..n])),
        Err(DecodeError::InvalidChar(0xD800))
    );
    let mut bad = buf;
    bad[4 + 24] = 0; // kind
    assert_eq!(
        Move::decode(&mut Reader::new(&bad[..n])),
        Err(DecodeError::UnknownDiscriminant {
            value: 0,
            type_name: "Kind"
        })
    );
}

#[test]
fn max_len_is_checked_on_write_and_read() {
    let long = "x".repeat(201);
    let chat = Chat {
        room: 1,
        name: "n",
        text: &long,
    };
    let mut buf: PacketBuf = PacketBuf::new();
    assert_eq!(
        buf.encode(&chat, 1),
        Err(EncodeError::FieldTooLong {
            field: "Chat.text",
            len: 201,
            max: 200,
            fix: "raise its `#[packet(max_len = ..)]`, a schema's `max = ..` (its `u16` prefix counts at most 65535)"
        })
    );
    let long_name = "x".repeat(256);
    let chat = Chat {
        room: 1,
        name: &long_name,
        text: "",
    };
    assert_eq!(
        buf.encode(&chat, 1),
        Err(EncodeError::FieldTooLong {
            field: "Chat.name",
            len: 256,
            max: 255,
            fix: "widen its prefix: `#[packet(len = u16)]` or `len = u32`"
        })
    );

    // A hand-made body claiming 201 bytes of text.
    let mut body = vec![1, 0, 1, b'n'];
    body.extend_from_slice(&201u16.to_le_bytes());
    body.extend(std::iter::repeat_n(b'x', 201));
    assert_eq!(
        Chat::decode(&mut Reader::new(&body)),
        Err(DecodeError::LengthOverMax { len: 201, max: 200 })
    );

    let g = Generic {
        head: 0u8,
        items: [0u8; 1],
        tail: vec![0; 11],
    };
    let mut out = [0u8; 64];
    assert_eq!(
        g.encode(&mut Writer::new(&mut out)),
        Err(EncodeError::FieldTooLong {
            field: "Generic.tail",
            len: 11,
            max: 10,
            fix: "raise its `#[packet(max_len = ..)]`, a schema's `max = ..` (its `u8` prefix counts at most 255)"
        })
    );
}

#[test]
fn with_codec_errors_propagate() {
    let mut buf: PacketBuf = PacketBuf::new();
    assert_eq!(
        buf.encode(
            &WithCodec {
                hp: 0x0100_0000,
                tail: 0
            },
            1
        ),
        Err(EncodeError::Invalid("u24 out of range"))
    );
}

#[test]
fn fixed_run_fails_with_one_capacity_check() {
    let m = Move {
        entity: 1,
        pos: Vec3 {
            x: 0.0,
            y: 0.0,
            z: 0.0,
        },
        vel: Vec3 {
            x: 0.0,
            y: 0.0,
            z: 0.0,
        },
        kind: Kind::Run,
        grounded: true,
        facing: 'a',
        keys: [0; 4],
        wide: Wide::A,
    };
    let mut small = [0u8; 10];
    let mut w = Writer::new(&mut small);
    assert!(matches!(
        m.encode(&mut w),
        Err(EncodeError::BufferFull { .. })
    ));
}

#[derive(PacketSet, Debug, PartialEq)]
enum Msg<'a> {
    Chat(Chat<'a>),
    Move(Move),
    Unit(Unit),
}

#[derive(PacketSet, Debug, PartialEq)]
enum Owned {
    Move(Move),
    Skips(Skips),
}

#[test]
fn packet_set_dispatches_by_id() {
    assert_eq!(Msg::IDS, &[0x0102, 0x0010, 0x0021]);
    assert_eq!(Owned::IDS, &[0x0010, 0x0040]);
    assert!(Msg::contains_id(0x0021));
    assert!(!Msg::contains_id(0x0022));

    let config = FrameConfig::default();
    let mut out = [0u8; 1200];
    let msg = Msg::Chat(Chat {
        room: 1,
        name: "a",
        text: "b",
    });
    assert_eq!(msg.id(), 0x0102);
    let n = msg.encode_frame(9, &mut out).unwrap();
    let frame = frame::decode_frame(&out[..n], &config).unwrap();
    assert_eq!(frame.sequence(), 9);
    assert_eq!(Msg::decode_frame(&frame).unwrap(), msg);

    let n = Msg::Unit(Unit).encode_frame(1, &mut out).unwrap();
    let frame = frame::decode_frame(&out[..n], &config).unwrap();
    assert_eq!(Msg::decode_frame(&frame), Ok(Msg::Unit(Unit)));
    // A member of another set is unknown here.
    let n = Owned::Skips(Skips::default())
        .encode_frame(1, &mut out)
        .unwrap();
    let frame = frame::decode_frame(&out[..n], &config).unwrap();
    assert_eq!(
        Msg::decode_frame(&frame),
        Err(DecodeError::UnknownPacketId { id: 0x0040 })
    );
    // One call for a datagram: frame errors and decode errors both surface.
    let n = msg.encode_frame(3, &mut out).unwrap();
    assert_eq!(Msg::decode_datagram(&out[..n], &config), Ok(msg));
    assert!(matches!(
        Msg::decode_datagram(&out[..n - 1], &config),
        Err(packet_core::Error::Frame(_))
    ));
    // Trailing body bytes are refused.
    let n = frame::encode_raw(0x0021, 1, &[0], &mut out).unwrap();
    let frame = frame::decode_frame(&out[..n], &config).unwrap();
    assert_eq!(
        Msg::decode_frame(&frame),
        Err(DecodeError::TrailingBytes { extra: 1 })
    );
}

mod reexport {
    //! `#[packet(crate = ...)]` reaches packet-core through another path.
    pub mod my_runtime {
        pub use packet_core as core_again;
    }
}

#[derive(packet_core::Packet, Debug, PartialEq)]
#[packet(crate = reexport::my_runtime::core_again, id = 0x7777)]
struct ViaReexport {
    v: u8,
}

#[derive(packet_core::PacketSet, Debug, PartialEq)]
#[packet(crate = "reexport::my_runtime::core_again")]
enum ViaReexportSet {
    V(ViaReexport),
}

#[test]
fn crate_path_override() {
    let mut buf = [0u8; 64];
    assert_eq!(
        frame_roundtrip(&ViaReexport { v: 3 }, &mut buf),
        ViaReexport { v: 3 }
    );
    assert_eq!(ViaReexportSet::IDS, &[0x7777]);
}

#[derive(Packet, Debug, PartialEq, Clone)]
enum Either<A, B> {
    Left(A),
    Right { value: B },
}

/// A C-like enum without a repr: tag width from `tag`, values from 0.
#[derive(Packet, Debug, PartialEq, Clone, Copy)]
#[packet(tag = u16)]
enum Team {
    Red,
    Blue,
}

const BASE_ID: u16 = 0x0400;

/// Generic packet with an id from a `const` expression.
#[derive(Packet, Debug, PartialEq, Clone)]
#[packet(id = BASE_ID + 1)]
struct Tagged2<'a, T> {
    team: Team,
    value: Either<T, &'a str>,
}

#[derive(PacketSet, Debug, PartialEq)]
enum GenericSet<'a, T> {
    Tagged(Tagged2<'a, T>),
    Unit(Unit),
}

proptest! {
    #[test]
    fn generic_enums_roundtrip(n: u64, s in text(10), left: bool, blue: bool) {
        let value = if left { Either::Left(n) } else { Either::Right { value: s.as_str() } };
        let team = if blue { Team::Blue } else { Team::Red };
        let p = Tagged2 { team, value };
        let mut buf = [0u8; 128];
        prop_assert_eq!(&frame_roundtrip(&p, &mut buf), &p);
        let n = GenericSet::Tagged(p.clone()).encode_frame(5, &mut buf).unwrap();
        let frame = frame::decode_frame(&buf[..n], &FrameConfig::default()).unwrap();
        prop_assert_eq!(GenericSet::<u64>::decode_frame(&frame).unwrap(), GenericSet::Tagged(p));
    }
}

#[test]
fn generic_sizes_and_ids() {
    assert_eq!(<Tagged2<u64>>::ID, 0x0401);
    assert_eq!(<GenericSet<u64>>::IDS, &[0x0401, 0x0021]);
    assert_eq!(Team::MAX_SIZE, Some(2));
    assert_eq!(<Either<u8, u32>>::MAX_SIZE, Some(1 + 4));
    assert_eq!(<Either<u8, u32>>::MIN_SIZE, 1 + 1);
    let mut r = Reader::new(&[2, 0]);
    assert_eq!(
        Team::decode(&mut r),
        Err(DecodeError::UnknownDiscriminant {
            value: 2,
            type_name: "Team"
        })
    );
}

/// A short body reports the field that ran out, as for hand-written code
/// (`needed` is that field's width), even inside a direct-load run.
#[test]
fn short_input_names_the_field_that_ran_out() {
    let m = Move {
        entity: 1,
        pos: Vec3 {
            x: 0.0,
            y: 0.0,
            z: 0.0,
        },
        vel: Vec3 {
            x: 0.0,
            y: 0.0,
            z: 0.0,
        },
        kind: Kind::Run,
        grounded: true,
        facing: 'a',
        keys: [0; 4],
        wide: Wide::A,
    };
    let mut buf = [0u8; 64];
    let mut w = Writer::new(&mut buf);
    m.encode(&mut w).unwrap();
    // entity 4 | pos 12 | vel 12 | kind 1 | grounded 1 | facing 4 | keys 4 | wide 2
    // Cut inside `facing` (offset 30..34): the run grounded..facing..keys fails at facing.
    assert_eq!(
        Move::decode(&mut Reader::new(&buf[..32])),
        Err(DecodeError::UnexpectedEnd {
            needed: 4,
            remaining: 2
        })
    );
    // An invalid bool before the cut is reported first, in field order.
    let mut bad = buf;
    bad[29] = 7;
    assert_eq!(
        Move::decode(&mut Reader::new(&bad[..32])),
        Err(DecodeError::InvalidBool(7))
    );
    // Cut inside `entity`.
    assert_eq!(
        Move::decode(&mut Reader::new(&buf[..3])),
        Err(DecodeError::UnexpectedEnd {
            needed: 4,
            remaining: 3
        })
    );
}

/// Signed reprs: the discriminant in two's complement at that width.
#[derive(Packet, Debug, PartialEq, Clone, Copy)]
#[repr(i8)]
enum Dir {
    Back = -1,
    Stay,
    Fwd,
}

#[derive(Packet, Debug, PartialEq, Clone)]
#[repr(i16)]
enum Signal<'a> {
    Neg(u8) = -300,
    Pos(&'a str) = 300,
}

#[test]
fn signed_reprs() {
    let mut buf = [0u8; 16];
    for (d, byte) in [(Dir::Back, 0xFF), (Dir::Stay, 0), (Dir::Fwd, 1)] {
        let mut w = Writer::new(&mut buf);
        d.encode(&mut w).unwrap();
        assert_eq!(w.written(), &[byte]);
        assert_eq!(roundtrip(&d, &mut buf), d);
    }
    let mut w = Writer::new(&mut buf);
    Signal::Neg(7).encode(&mut w).unwrap();
    assert_eq!(w.written(), &[0xD4, 0xFE, 7]); // -300 as i16 LE
    assert_eq!(roundtrip(&Signal::Pos("p"), &mut buf), Signal::Pos("p"));
    assert_eq!(
        Dir::decode(&mut Reader::new(&[0xFE])),
        Err(DecodeError::UnknownDiscriminant {
            value: -2i32 as u32,
            type_name: "Dir"
        })
    );
}

/// An enum can be a top-level packet too.
#[derive(Packet, Debug, PartialEq, Clone)]
#[packet(id = 0x0500)]
#[repr(u8)]
enum Command<'a> {
    Quit = 1,
    Say { text: &'a str } = 2,
}

/// Existing where clauses are kept and extended.
#[derive(Packet, Debug, PartialEq, Clone)]
struct Bounded<T>
where
    T: Copy,
{
    #[packet(len = u8, max_len = 4)]
    items: Vec<T>,
}

#[test]
fn enum_packets_and_where_clauses() {
    let mut buf = [0u8; 64];
    let say = Command::Say { text: "hi" };
    assert_eq!(frame_roundtrip(&say, &mut buf), say);
    assert_eq!(frame_roundtrip(&Command::Quit, &mut buf), Command::Quit);
    assert_eq!(Command::MIN_SIZE, 1);
    let b = Bounded {
        items: vec![1u32, 2],
    };
    assert_eq!(roundtrip(&b, &mut buf), b);
    assert_eq!(<Bounded<u32>>::MAX_SIZE, Some(1 + 16));
}

/// A fieldless enum inside `Option`, a `Vec` and an array is stored into
/// the slot its container reserved (`encode_fixed`): the same bytes as
/// field by field, and a slot too short is `BufferFull`.
#[test]
fn fieldless_enums_in_containers() {
    let mut buf = [0u8; 32];
    let mut w = Writer::new(&mut buf);
    Some(Wide::B).encode(&mut w).unwrap();
    None::<Wide>.encode(&mut w).unwrap();
    vec![Dir::Back, Dir::Fwd, Dir::Stay].encode(&mut w).unwrap();
    [Kind::Fly, Kind::Walk].encode(&mut w).unwrap();
    assert_eq!(w.written(), &[1, 0x01, 0x01, 0, 3, 0, 0xFF, 1, 0, 9, 1]);
    assert_eq!(roundtrip(&Some(Wide::C), &mut buf), Some(Wide::C));
    assert_eq!(
        Wide::C.encode_fixed(&mut [0u8; 1]),
        Err(EncodeError::BufferFull {
            needed: 2,
            remaining: 1
        })
    );
    let mut short = [0u8; 2];
    assert!(matches!(
        Some(Wide::A).encode(&mut Writer::new(&mut short)),
        Err(EncodeError::BufferFull { .. })
    ));
}
