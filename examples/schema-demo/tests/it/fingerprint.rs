//! The protocol fingerprint (wire-format §11) computed three ways agrees:
//! the derive's compile-time `FINGERPRINT` of a `#[derive(PacketSet)]`, the
//! schema compiler's `Schema::fingerprint` from the schema alone, and the
//! independent Python generator's vectors (`docs/vectors/fingerprint/`,
//! written by `docs/vectors/fingerprint.py`), for the demo schema, the
//! vectors' schema and small schemas with bounds and recursion.

use packet_core::layout::{Fingerprint, packet_fingerprint};
use packet_core::{Packet, PacketSet};
use packet_schema::{Options, Schema};
use packet_schema_example::{game, vectors as v};

const DIR: &str = env!("CARGO_MANIFEST_DIR");

/// One vector file: the schema (inline text or a file), each packet's
/// `(id, layout hex)`, and the fingerprint.
struct Vector {
    schema: Schema,
    packets: Vec<(u16, String)>,
    fingerprint: u64,
}

fn vector(name: &str) -> Vector {
    let path = format!("{DIR}/../../docs/vectors/fingerprint/{name}.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    let (mut schema, mut packets, mut fingerprint) = (None, Vec::new(), None);
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (key, rest) = line.split_once(' ').unwrap();
        match key {
            "schema" => {
                let c = packet_schema::compile_str("inline.packet", rest, &Options::default());
                assert!(!c.has_errors(), "{}", c.render());
                schema = Some(c.schema);
            }
            "file" => {
                let file = format!("{DIR}/../../docs/vectors/{rest}");
                let c = packet_schema::compile_files(&[file], &[], &Options::default());
                assert!(!c.has_errors(), "{}", c.render());
                schema = Some(c.schema);
            }
            "packet" => {
                let parts: Vec<&str> = rest.split(' ').collect();
                let id = u16::from_str_radix(parts[0].trim_start_matches("0x"), 16).unwrap();
                packets.push((id, parts[2].to_string()));
            }
            "fingerprint" => {
                fingerprint = Some(u64::from_str_radix(rest.trim_start_matches("0x"), 16).unwrap())
            }
            other => panic!("{path}: unknown line {other}"),
        }
    }
    Vector {
        schema: schema.unwrap(),
        packets,
        fingerprint: fingerprint.unwrap(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The schema compiler reproduces the vector's bytes and number.
fn schema_side(name: &str) -> u64 {
    let v = vector(name);
    let layouts: Vec<(u16, String)> = v
        .schema
        .packet_layouts()
        .unwrap()
        .into_iter()
        .map(|(id, b)| (id, hex(&b)))
        .collect();
    assert_eq!(layouts, v.packets, "{name}: canonical bytes");
    assert_eq!(
        v.schema.fingerprint().unwrap(),
        v.fingerprint,
        "{name}: fingerprint"
    );
    v.fingerprint
}

#[test]
fn demo_schema_derive_equals_schema() {
    let c = packet_schema::compile_files(
        &[format!("{DIR}/schema/game.packet")],
        &[format!("{DIR}/schema").into()],
        &Options {
            max_frame_len: 16 * 1024,
            ..Options::default()
        },
    );
    assert!(!c.has_errors(), "{}", c.render());
    const FP: u64 = <game::Msg<'static> as Fingerprint>::FINGERPRINT;
    assert_eq!(FP, c.schema.fingerprint().unwrap());
    // One packet alone, too (the recursive one).
    let show = c.schema.packet_layouts().unwrap();
    let show = show
        .iter()
        .find(|(id, _)| *id == game::ui::Show::ID)
        .unwrap();
    assert_eq!(
        packet_fingerprint::<game::ui::Show>(),
        packet_schema::fingerprint::fingerprint_of(std::slice::from_ref(show))
    );
}

#[derive(PacketSet)]
enum Vectors<'a> {
    Empty(v::Empty),
    OneByte(v::OneByte),
    Blob36(v::Blob36),
    Ints(v::Ints),
    Floats(v::Floats),
    BoolChar(v::BoolChar),
    Strings(v::Strings<'a>),
    Composite(v::Composite),
    Nested(v::Nested<'a>),
    Position(v::Position),
    Extremes(v::Extremes),
    Bounded(v::Bounded<'a>),
}

#[test]
fn vectors_schema_derive_schema_and_python_agree() {
    let expected = schema_side("05-vectors-packet");
    assert_eq!(<Vectors<'_> as Fingerprint>::FINGERPRINT, expected);
    assert_eq!(<Vectors<'_> as PacketSet<'_>>::IDS.len(), 12);
}

mod inline {
    use packet_core::{Packet, PacketSet};

    #[derive(Packet)]
    #[packet(id = 0x0001)]
    pub struct Ping {
        pub at: u64,
    }

    /// Another name, other field names: the same wire layout.
    #[derive(Packet)]
    #[packet(id = 0x0001)]
    pub struct Pong {
        pub time: u64,
    }

    #[derive(Packet)]
    #[packet(id = 0x0102)]
    pub struct Chat<'a> {
        pub room: u16,
        #[packet(len = u8)]
        pub name: &'a str,
        #[packet(max_len = 200)]
        pub text: String,
        #[packet(len = u8, max_len = 4)]
        pub tags: Vec<u16>,
        #[packet(len = u32)]
        pub blob: &'a [u8],
    }

    #[derive(Packet)]
    pub struct Tree {
        pub value: u8,
        #[packet(len = u8, max_len = 8)]
        pub kids: Vec<Tree>,
    }

    #[derive(Packet)]
    #[packet(recursive)]
    pub struct Folder {
        #[packet(len = u8)]
        pub name: String,
        #[packet(len = u8)]
        pub entries: Vec<Entry>,
    }

    #[derive(Packet)]
    #[packet(recursive)]
    pub struct Entry {
        pub id: u32,
        pub folder: Option<Box<Folder>>,
    }

    #[derive(Packet)]
    #[repr(u16)]
    pub enum Shape {
        Dot = 7,
        Pair(Box<Shape>, Box<Shape>) = 2,
        Empty = 0,
    }

    #[derive(Packet)]
    #[packet(id = 0x0400)]
    pub struct Show {
        pub tree: Tree,
        pub root: Folder,
        pub shape: Shape,
    }

    #[derive(PacketSet)]
    pub enum One {
        Ping(Ping),
    }
    #[derive(PacketSet)]
    pub enum Renamed {
        Pong(Pong),
    }
    #[derive(PacketSet)]
    pub enum Chats<'a> {
        Chat(Chat<'a>),
    }
    /// Members in any order: the fingerprint sorts by id.
    #[derive(PacketSet)]
    pub enum Recursive {
        Show(Show),
        Ping(Ping),
    }
}

#[test]
fn inline_schemas_derive_schema_and_python_agree() {
    use inline::*;
    assert_eq!(
        <One as Fingerprint>::FINGERPRINT,
        schema_side("01-one-packet")
    );
    assert_eq!(
        <Renamed as Fingerprint>::FINGERPRINT,
        schema_side("02-names-do-not-count")
    );
    assert_eq!(
        <Chats<'_> as Fingerprint>::FINGERPRINT,
        schema_side("03-bounds-and-widths")
    );
    assert_eq!(
        <Recursive as Fingerprint>::FINGERPRINT,
        schema_side("04-recursion")
    );
}

/// The nesting limit (wire format §11.6) at its edge: 16 structs and
/// enums, the packet counted, with fields, and a 17th without (a C-like
/// enum), so every field lies inside at most 16. The derive describes it
/// and equals the schema compiler; one more level with a field is refused
/// by both (E0116 here, a compile error in `packet-derive/tests/ui`).
mod deepest {
    use packet_core::{Packet, PacketSet};

    macro_rules! chain {
        ($($s:ident => $next:ident),*) => {$(
            #[derive(Packet)]
            pub struct $s {
                pub a: $next,
                pub b: u8,
            }
        )*};
    }

    #[derive(Packet)]
    #[packet(id = 7)]
    pub struct P {
        pub a: S1,
    }
    chain!(S1 => S2, S2 => S3, S3 => S4, S4 => S5, S5 => S6, S6 => S7, S7 => S8,
           S8 => S9, S9 => S10, S10 => S11, S11 => S12, S12 => S13, S13 => S14,
           S14 => S15, S15 => Mood);

    #[derive(Packet)]
    #[repr(u8)]
    pub enum Mood {
        Calm = 1,
        Angry = 0,
    }

    #[derive(PacketSet)]
    pub enum Set {
        P(P),
    }
}

/// The schema of [`deepest`]: `last` is the 17th type.
fn deepest_schema(last: &str) -> String {
    let mut text = String::from("packet P = 7 { a: S1 }\n");
    for i in 1..15 {
        text.push_str(&format!("struct S{i} {{ a: S{}, b: u8 }}\n", i + 1));
    }
    text.push_str("struct S15 { a: Mood, b: u8 }\n");
    text.push_str(last);
    text
}

#[test]
fn the_nesting_limit_is_the_same_on_both_sides() {
    let c = packet_schema::compile_str(
        "deepest.packet",
        &deepest_schema("enum Mood { Calm = 1, Angry = 0 }\n"),
        &Options::default(),
    );
    assert!(!c.has_errors(), "{}", c.render());
    assert_eq!(
        <deepest::Set as Fingerprint>::FINGERPRINT,
        c.schema.fingerprint().unwrap()
    );
    // A field in the 17th type: the derive's walk reaches a cut, the
    // schema compiler says so.
    let c = packet_schema::compile_str(
        "deeper.packet",
        &deepest_schema("enum Mood { Calm = 1, Angry(u8) = 0 }\n"),
        &Options::default(),
    );
    let codes: Vec<&str> = c.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0116"], "{}", c.render());
}

#[test]
fn a_changed_layout_changes_the_fingerprint() {
    assert_ne!(
        vector("01-one-packet").fingerprint,
        vector("03-bounds-and-widths").fingerprint
    );
    assert_eq!(
        vector("01-one-packet").fingerprint,
        vector("02-names-do-not-count").fingerprint
    );
}

/// A field type with a hand-written `Encode` and no `WireLayout`: the
/// derives still compile (their layout impls are bounded on the fields,
/// not required), only this set's `FINGERPRINT` would not.
mod custom {
    use packet_core::{Decode, DecodeError, Encode, EncodeError, Reader, Writer};

    pub struct Opaque(pub u8);

    impl Encode for Opaque {
        const MAX_SIZE: Option<usize> = Some(1);
        fn encoded_len(&self) -> usize {
            1
        }
        fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
            self.0.encode(w)
        }
    }

    impl<'de> Decode<'de> for Opaque {
        fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
            u8::decode(r).map(Opaque)
        }
    }

    #[derive(packet_core::Packet)]
    #[packet(id = 9)]
    pub struct Holder {
        pub value: Opaque,
    }

    #[derive(packet_core::PacketSet)]
    pub enum Set {
        Holder(Holder),
    }
}

#[test]
fn a_field_without_a_layout_does_not_stop_the_derives() {
    assert_eq!(<custom::Set as PacketSet<'_>>::IDS, &[9]);
}
