//! The wire-format test vectors (`docs/vectors/`) against the packet types
//! generated from their schema, `docs/vectors/vectors.packet`: every valid
//! vector decodes to exactly the stated value and encodes back to exactly
//! its bytes, and every invalid vector fails with exactly the stated error.
//! `packet-core/tests/it/vectors.rs` checks the same files with types written
//! by hand, through the same reader and notation (`docs/vectors/harness.rs`),
//! so the schema, the hand-written types and gen.py all agree.

use std::collections::BTreeSet;

use packet_core::frame;
use packet_core::{Decode, Encode, Error, Frame, Packet};
use packet_schema_example::vectors as v;

#[allow(dead_code)]
mod harness {
    include!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/vectors/harness.rs"
    ));
}
use harness::{Hex, Object, Show, Variant, Vector};

macro_rules! show_struct {
    ($ty:ty, |$v:ident| [$(($name:literal, $value:expr)),* $(,)?]) => {
        impl Show for Shown<'_, $ty> {
            fn show(&self, _out: &mut String) {
                let $v = self.0;
                Object(&[$(($name, &$value)),*]).show(_out)
            }
        }
    };
}

/// The generated types are foreign: shown through this wrapper.
struct Shown<'a, T: ?Sized>(&'a T);

show_struct!(v::Empty, |_p| []);
show_struct!(v::OneByte, |p| [("value", p.value)]);
show_struct!(v::Blob36, |p| [("data", Hex(&p.data))]);
show_struct!(v::Ints, |p| [
    ("a", p.a),
    ("b", p.b),
    ("c", p.c),
    ("d", p.d),
    ("e", p.e),
    ("f", p.f),
    ("g", p.g),
    ("h", p.h),
    ("i", p.i),
    ("j", p.j),
]);
show_struct!(v::Floats, |p| [
    ("a", p.a),
    ("b", p.b),
    ("c", p.c),
    ("d", p.d),
    ("e", p.e),
    ("f", p.f),
]);
show_struct!(v::BoolChar, |p| [
    ("t", p.t),
    ("f", p.f),
    ("c1", p.c1),
    ("c2", p.c2),
    ("c3", p.c3),
]);
show_struct!(v::Strings<'_>, |p| [
    ("s8", p.s8),
    ("s16", p.s16),
    ("s32", p.s32),
    ("b8", Hex(p.b8)),
    ("b16", Hex(p.b16)),
    ("b32", Hex(p.b32)),
]);
show_struct!(v::Trio, |p| [("a", p.a), ("b", p.b), ("c", p.c)]);
show_struct!(v::Composite, |p| [
    ("none", p.none),
    ("some", p.some),
    ("arr", p.arr),
    ("tup", Shown(&p.tup)),
    ("quad", Hex(&p.quad)),
    ("nested", p.nested),
]);
show_struct!(v::Vec3, |p| [("x", p.x), ("y", p.y), ("z", p.z)]);
show_struct!(v::Item, |p| [("kind", p.kind), ("count", p.count)]);
show_struct!(v::Tail<'_>, |p| [("n", p.n), ("text", p.text)]);
show_struct!(v::Nested<'_>, |p| [
    ("id", p.id),
    ("pos", Shown(&p.pos)),
    ("kind", Shown(&p.kind)),
    ("hit", Shown(&p.hit)),
    ("say", Shown(&p.say)),
    ("mode", Shown(&p.mode)),
    ("items", p.items.iter().map(Shown).collect::<Vec<_>>()),
    ("tail", p.tail.as_ref().map(Shown)),
]);
show_struct!(v::Position, |p| [
    ("entity", p.entity),
    ("x", p.x),
    ("y", p.y),
    ("z", p.z),
]);
show_struct!(v::Extremes, |p| [("value", p.value)]);
show_struct!(v::Bounded<'_>, |p| [("name", p.name), ("tags", &p.tags)]);

impl Show for Shown<'_, v::Kind> {
    fn show(&self, out: &mut String) {
        Variant::Unit(match self.0 {
            v::Kind::A => "A",
            v::Kind::B => "B",
        })
        .show(out)
    }
}

impl Show for Shown<'_, v::Mode> {
    fn show(&self, out: &mut String) {
        Variant::Unit(match self.0 {
            v::Mode::A => "A",
            v::Mode::B => "B",
        })
        .show(out)
    }
}

impl Show for Shown<'_, v::Event<'_>> {
    fn show(&self, out: &mut String) {
        match self.0 {
            v::Event::Hit { dmg } => Variant::Named("Hit", &[("dmg", dmg)]).show(out),
            v::Event::Say(s) => Variant::Positional("Say", &[s]).show(out),
        }
    }
}

/// Decodes the frame as the schema type `P`, shows it, and encodes it
/// back (same sequence) into a frame.
fn roundtrip<'a, P>(frame: &Frame<'a>) -> Result<(String, Vec<u8>), Error>
where
    P: Packet + Decode<'a> + Encode,
    for<'x> Shown<'x, P>: Show,
{
    let packet: P = frame.decode_packet()?;
    let shown = harness::notation(&Shown(&packet));
    let mut out = vec![0u8; frame.header().length as usize];
    let n = frame::encode_packet(&packet, frame.sequence(), &mut out)?;
    out.truncate(n);
    Ok((shown, out))
}

/// The schema type a vector's `packet` key names.
fn by_name(name: &str, frame: &Frame<'_>) -> Result<(String, Vec<u8>), Error> {
    match name {
        "Empty" => roundtrip::<v::Empty>(frame),
        "OneByte" => roundtrip::<v::OneByte>(frame),
        "Blob36" => roundtrip::<v::Blob36>(frame),
        "Ints" => roundtrip::<v::Ints>(frame),
        "Floats" => roundtrip::<v::Floats>(frame),
        "BoolChar" => roundtrip::<v::BoolChar>(frame),
        "Strings" => roundtrip::<v::Strings<'_>>(frame),
        "Composite" => roundtrip::<v::Composite>(frame),
        "Nested" => roundtrip::<v::Nested<'_>>(frame),
        "Position" => roundtrip::<v::Position>(frame),
        "Extremes" => roundtrip::<v::Extremes>(frame),
        "Bounded" => roundtrip::<v::Bounded<'_>>(frame),
        other => panic!("vector packet {other:?} is not in vectors.packet"),
    }
}

fn vectors(kind: &str) -> Vec<Vector> {
    let dir = harness::vectors_dir(env!("CARGO_MANIFEST_DIR"), 2);
    harness::read_vectors(&dir, kind)
}

#[test]
fn generated_types_decode_and_encode_every_valid_vector_exactly() {
    let mut used = BTreeSet::new();
    for vector in vectors("valid") {
        let name = vector.name();
        let Some(packet) = &vector.packet else {
            continue;
        };
        let frame = frame::decode_frame(&vector.bytes, &vector.config()).unwrap();
        let (shown, bytes) = by_name(packet, &frame).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(Some(&shown), vector.value.as_ref(), "{name}: value");
        assert_eq!(bytes, vector.bytes, "{name}: encoded again");
        used.insert(packet.clone());
    }
    // Every packet of vectors.packet has a valid vector.
    assert_eq!(used.len(), 12, "{used:?}");
}

#[test]
fn generated_types_fail_every_invalid_vector_exactly() {
    let mut checked = 0;
    for vector in vectors("invalid") {
        let name = vector.name();
        if vector.mode.as_deref() == Some("stream") {
            continue; // the stream decoder's errors are no type's
        }
        let expect = vector.expect.as_deref().unwrap();
        let result = frame::decode_frame(&vector.bytes, &vector.config())
            .map_err(Error::from)
            .and_then(|frame| match &vector.packet {
                Some(packet) => by_name(packet, &frame).map(|_| ()),
                None => Ok(()),
            });
        let err = result.expect_err(&name);
        assert_eq!(harness::any_error(&err), expect, "{name}");
        checked += usize::from(vector.packet.is_some());
    }
    assert!(checked >= 10, "only {checked} body vectors");
}
