//! The packets generated from `schema/game.packet` against the same packets
//! written by hand with `#[derive(Packet)]`: every frame is byte-identical,
//! each side decodes the other's frames, the generated packets travel over
//! a packet-core stream and dispatch by id, and the schema checker's sizes
//! equal the derive's `MIN_SIZE` / `MAX_SIZE`. Recursive types (`ui.Menu`,
//! the `ui.Folder` / `ui.Entry` cycle) too, and hostile nesting in them is
//! `DecodeError::TooDeep`.

use packet_core::frame::{self, FrameConfig};
use packet_core::{Decode, Encode, Packet, PacketSet, StreamDecoder};
use packet_schema_example::game as schema;
use proptest::prelude::*;

/// The same packets as a person would write them with the derive.
mod hand {
    use packet_core::Packet;

    #[derive(Packet, Debug, Clone, PartialEq)]
    pub struct Vec3 {
        pub x: f32,
        pub y: f32,
        pub z: f32,
    }

    #[derive(Packet, Debug, Clone, PartialEq)]
    pub struct Color {
        pub r: u8,
        pub g: u8,
        pub b: u8,
    }

    #[derive(Packet, Debug, Clone, Copy, PartialEq)]
    #[repr(u8)]
    pub enum Team {
        Red = 1,
        Blue = 2,
        Spectator = 10,
    }

    #[derive(Packet, Debug, Clone, PartialEq)]
    #[packet(id = 0x0102)]
    pub struct Say<'a> {
        pub room: u16,
        #[packet(len = u8, max_len = 32)]
        pub name: &'a str,
        #[packet(max_len = 200)]
        pub text: &'a str,
        pub color: Option<Color>,
        #[packet(len = u8, max_len = 8)]
        pub mentions: Vec<u32>,
    }

    #[derive(Packet, Debug, Clone, Copy, PartialEq)]
    #[repr(u16)]
    pub enum Reason {
        TooLong = 1,
        Muted,
        Flood = 100,
    }

    #[derive(Packet, Debug, Clone, PartialEq)]
    #[packet(id = 0x0103)]
    pub struct Refused {
        pub reason: Reason,
        pub retry_after_ms: Option<u32>,
    }

    #[derive(Packet, Debug, Clone, PartialEq)]
    #[packet(id = 0x0200)]
    pub struct Move {
        pub entity: u32,
        pub position: Vec3,
        pub velocity: [f32; 3],
        pub on_ground: bool,
        pub team: Team,
    }

    #[derive(Packet, Debug, Clone, PartialEq)]
    pub struct Title<'a> {
        #[packet(len = u8, max_len = 32)]
        pub name: &'a str,
        pub level: u8,
    }

    #[derive(Packet, Debug, Clone, PartialEq)]
    #[packet(id = 0x0201)]
    pub struct Spawn<'a> {
        pub entity: u64,
        #[packet(len = u32, max_len = 4096)]
        pub skin: &'a [u8],
        pub checksum: [u8; 16],
        #[packet(max_len = 32)]
        pub trail: Vec<Vec3>,
        #[packet(len = u8, max_len = 24)]
        pub nick: &'a str,
        pub title: Option<Title<'a>>,
        pub initial: char,
        pub score: i64,
        pub big: u128,
        pub delta: i16,
        pub mass: f64,
    }

    #[derive(Packet, Debug, Clone, PartialEq)]
    #[repr(u16)]
    pub enum Event<'a> {
        Hit { amount: u32, critical: bool } = 1,
        Say(#[packet(max_len = 100)] &'a str, u8) = 2,
        Moved(Vec3),
        Died,
    }

    #[derive(Packet, Debug, Clone, PartialEq)]
    #[packet(id = 0x0300)]
    pub struct Events<'a> {
        pub tick: u32,
        #[packet(len = u8, max_len = 16)]
        pub events: Vec<Event<'a>>,
    }

    #[derive(Packet, Debug, Clone, PartialEq)]
    #[packet(id = 0x0001)]
    pub struct Ping {}

    /// Recursive through `Vec<Self>`: the derive sees it by name.
    #[derive(Packet, Debug, Clone, PartialEq)]
    pub struct Menu<'a> {
        #[packet(len = u8, max_len = 24)]
        pub label: &'a str,
        #[packet(len = u8, max_len = 8)]
        pub children: Vec<Menu<'a>>,
    }

    #[derive(Packet, Debug, Clone, PartialEq)]
    pub struct Folder<'a> {
        #[packet(len = u8, max_len = 16)]
        pub name: &'a str,
        #[packet(len = u8, max_len = 8)]
        pub entries: Vec<Entry<'a>>,
    }

    /// `Folder` and `Entry` form a cycle the derive cannot see from one
    /// type: one of them says so (the schema marks both).
    #[derive(Packet, Debug, Clone, PartialEq)]
    #[packet(recursive)]
    pub struct Entry<'a> {
        pub id: u32,
        pub folder: Option<Box<Folder<'a>>>,
    }

    #[derive(Packet, Debug, Clone, PartialEq)]
    #[packet(id = 0x0400)]
    pub struct Show<'a> {
        pub menu: Menu<'a>,
        pub root: Folder<'a>,
    }
}

const BUF: usize = 16 * 1024;

fn frame_of<P: Packet>(p: &P, seq: u64) -> Vec<u8> {
    let mut out = vec![0u8; BUF];
    let n = frame::encode_packet(p, seq, &mut out).expect("encodes");
    out.truncate(n);
    out
}

/// `a` and `b` encode to the same frame, and each decodes from the other's
/// frame to a value that re-encodes to that frame.
fn assert_identical<A, B>(a: &A, b: &B)
where
    A: Packet + for<'de> Decode<'de> + std::fmt::Debug,
    B: Packet + for<'de> Decode<'de> + std::fmt::Debug,
{
    let fa = frame_of(a, 9);
    let fb = frame_of(b, 9);
    assert_eq!(A::ID, B::ID);
    assert_eq!(fa, fb, "frames differ for {a:?}");
    assert_eq!(a.encoded_len(), b.encoded_len());
    let cfg = FrameConfig::default();
    let b_from_a: B = frame::decode_frame(&fa, &cfg)
        .unwrap()
        .decode_packet()
        .unwrap();
    let a_from_b: A = frame::decode_frame(&fb, &cfg)
        .unwrap()
        .decode_packet()
        .unwrap();
    assert_eq!(frame_of(&b_from_a, 9), fa);
    assert_eq!(frame_of(&a_from_b, 9), fb);
    // Same names, same field order: the Debug forms agree too.
    assert_eq!(format!("{a_from_b:?}"), format!("{a:?}"));
}

/// Like `assert_identical` for packets that borrow from the frame.
macro_rules! assert_identical_borrowed {
    ($a:expr, $b:expr, $A:ty, $B:ty) => {{
        let (a, b) = (&$a, &$b);
        let fa = frame_of(a, 9);
        let fb = frame_of(b, 9);
        assert_eq!(<$A as Packet>::ID, <$B as Packet>::ID);
        assert_eq!(fa, fb, "frames differ for {a:?}");
        let cfg = FrameConfig::default();
        let fr = frame::decode_frame(&fa, &cfg).unwrap();
        let b_from_a: $B = fr.decode_packet().unwrap();
        let fr = frame::decode_frame(&fb, &cfg).unwrap();
        let a_from_b: $A = fr.decode_packet().unwrap();
        assert_eq!(&a_from_b, a);
        assert_eq!(&b_from_a, b);
    }};
}

fn gen_vec3(v: (f32, f32, f32)) -> (schema::Vec3, hand::Vec3) {
    (
        schema::Vec3 {
            x: v.0,
            y: v.1,
            z: v.2,
        },
        hand::Vec3 {
            x: v.0,
            y: v.1,
            z: v.2,
        },
    )
}

#[test]
fn fixed_values_are_byte_identical() {
    assert_identical(&schema::Ping {}, &hand::Ping {});
    assert_identical(
        &schema::chat::Refused {
            reason: schema::chat::Reason::Muted,
            retry_after_ms: Some(1500),
        },
        &hand::Refused {
            reason: hand::Reason::Muted,
            retry_after_ms: Some(1500),
        },
    );
    assert_identical(
        &schema::chat::Refused {
            reason: schema::chat::Reason::Flood,
            retry_after_ms: None,
        },
        &hand::Refused {
            reason: hand::Reason::Flood,
            retry_after_ms: None,
        },
    );
    let (p, hp) = gen_vec3((1.0, -2.5, 3.25));
    assert_identical(
        &schema::Move {
            entity: 7,
            position: p,
            velocity: [0.5, 0.0, -9.81],
            on_ground: true,
            team: schema::Team::Spectator,
        },
        &hand::Move {
            entity: 7,
            position: hp,
            velocity: [0.5, 0.0, -9.81],
            on_ground: true,
            team: hand::Team::Spectator,
        },
    );
    assert_identical_borrowed!(
        schema::chat::Say {
            room: 3,
            name: "ada",
            text: "héllo",
            color: Some(schema::Color { r: 1, g: 2, b: 3 }),
            mentions: vec![1, 2, 3],
        },
        hand::Say {
            room: 3,
            name: "ada",
            text: "héllo",
            color: Some(hand::Color { r: 1, g: 2, b: 3 }),
            mentions: vec![1, 2, 3]
        },
        schema::chat::Say<'_>,
        hand::Say<'_>
    );
    let skin = [0xABu8; 300];
    let (t, ht) = gen_vec3((0.0, 1.0, 2.0));
    assert_identical_borrowed!(
        schema::Spawn {
            entity: u64::MAX,
            skin: &skin,
            checksum: [9; 16],
            trail: vec![t],
            nick: "zed",
            title: Some(schema::Title {
                name: "champion",
                level: 3
            }),
            initial: 'ζ',
            score: -42,
            big: u128::MAX - 1,
            delta: -7,
            mass: 81.5,
        },
        hand::Spawn {
            entity: u64::MAX,
            skin: &skin,
            checksum: [9; 16],
            trail: vec![ht],
            nick: "zed",
            title: Some(hand::Title {
                name: "champion",
                level: 3
            }),
            initial: 'ζ',
            score: -42,
            big: u128::MAX - 1,
            delta: -7,
            mass: 81.5,
        },
        schema::Spawn<'_>,
        hand::Spawn<'_>
    );
    let (m, hm) = gen_vec3((4.0, 5.0, 6.0));
    assert_identical_borrowed!(
        schema::Events {
            tick: 1000,
            events: vec![
                schema::Event::Hit {
                    amount: 12,
                    critical: true
                },
                schema::Event::Say("ouch", 2),
                schema::Event::Moved(m),
                schema::Event::Died,
            ],
        },
        hand::Events {
            tick: 1000,
            events: vec![
                hand::Event::Hit {
                    amount: 12,
                    critical: true
                },
                hand::Event::Say("ouch", 2),
                hand::Event::Moved(hm),
                hand::Event::Died,
            ],
        },
        schema::Events<'_>,
        hand::Events<'_>
    );
}

#[test]
fn limits_from_the_schema_are_enforced_like_the_derive() {
    let long = "x".repeat(33);
    let g = schema::chat::Say {
        room: 0,
        name: &long,
        text: "",
        color: None,
        mentions: vec![],
    };
    let h = hand::Say {
        room: 0,
        name: &long,
        text: "",
        color: None,
        mentions: vec![],
    };
    let mut out = vec![0u8; BUF];
    let eg = frame::encode_packet(&g, 0, &mut out).unwrap_err();
    let eh = frame::encode_packet(&h, 0, &mut out).unwrap_err();
    assert_eq!(format!("{eg:?}"), format!("{eh:?}"));
}

/// The generated packet set (`Builder::packet_set("Msg")` in build.rs).
use schema::Msg;

#[test]
fn generated_packets_travel_over_a_stream_and_dispatch_by_id() {
    // The sender writes hand-derived packets; the receiver reads them as
    // the generated ones.
    let mut wire = Vec::new();
    wire.extend(frame_of(&hand::Ping {}, 1));
    wire.extend(frame_of(
        &hand::Say {
            room: 1,
            name: "bo",
            text: "hi",
            color: None,
            mentions: vec![5],
        },
        2,
    ));
    wire.extend(frame_of(
        &hand::Refused {
            reason: hand::Reason::TooLong,
            retry_after_ms: None,
        },
        3,
    ));
    wire.extend(frame_of(
        &hand::Events {
            tick: 2,
            events: vec![hand::Event::Died],
        },
        4,
    ));

    let mut dec = StreamDecoder::new(FrameConfig::default());
    let mut got = Vec::new();
    // Feed in awkward chunks, as a socket would.
    for chunk in wire.chunks(7) {
        let mut rest = chunk;
        while !rest.is_empty() {
            let n = dec.feed(rest);
            rest = &rest[n..];
            while let Some(frame) = dec.next_frame().unwrap() {
                let seq = frame.sequence();
                let msg = Msg::decode_frame(&frame).unwrap();
                got.push((seq, format!("{msg:?}")));
            }
        }
    }
    dec.finish().unwrap();
    let expected = vec![
        (1, format!("{:?}", Msg::Ping(schema::Ping {}))),
        (
            2,
            format!(
                "{:?}",
                Msg::Say(schema::chat::Say {
                    room: 1,
                    name: "bo",
                    text: "hi",
                    color: None,
                    mentions: vec![5]
                })
            ),
        ),
        (
            3,
            format!(
                "{:?}",
                Msg::Refused(schema::chat::Refused {
                    reason: schema::chat::Reason::TooLong,
                    retry_after_ms: None
                })
            ),
        ),
        (
            4,
            format!(
                "{:?}",
                Msg::Events(schema::Events {
                    tick: 2,
                    events: vec![schema::Event::Died]
                })
            ),
        ),
    ];
    assert_eq!(got, expected);
    assert_eq!(
        Msg::IDS,
        &[0x0102, 0x0103, 0x0200, 0x0201, 0x0300, 0x0001, 0x0400]
    );
}

#[test]
fn schema_sizes_equal_the_derive_constants() {
    use packet_schema::Options;
    let dir = env!("CARGO_MANIFEST_DIR");
    let compiled = packet_schema::compile_files(
        &[format!("{dir}/schema/game.packet")],
        &[format!("{dir}/schema").into()],
        &Options {
            max_frame_len: 16 * 1024,
            ..Options::default()
        },
    );
    assert!(!compiled.has_errors(), "{}", compiled.render());
    let sizes: std::collections::HashMap<String, (usize, Option<usize>)> = compiled
        .schema
        .types
        .iter()
        .map(|t| {
            let min = t.min_size.unwrap() as usize;
            (t.full_name(), (min, t.max_size.map(|m| m as usize)))
        })
        .collect();
    macro_rules! check {
        ($($name:literal => $t:ty),* $(,)?) => {$(
            assert_eq!(
                sizes[$name],
                (<$t as Encode>::MIN_SIZE, <$t as Encode>::MAX_SIZE),
                "sizes of {}", $name
            );
        )*};
    }
    check! {
        "Vec3" => schema::Vec3,
        "Color" => schema::Color,
        "Team" => schema::Team,
        "chat.Say" => schema::chat::Say<'static>,
        "chat.Reason" => schema::chat::Reason,
        "chat.Refused" => schema::chat::Refused,
        "Move" => schema::Move,
        "Spawn" => schema::Spawn<'static>,
        "Title" => schema::Title<'static>,
        "Event" => schema::Event<'static>,
        "Events" => schema::Events<'static>,
        "Ping" => schema::Ping,
        "ui.Menu" => schema::ui::Menu<'static>,
        "ui.Folder" => schema::ui::Folder<'static>,
        "ui.Entry" => schema::ui::Entry<'static>,
        "ui.Show" => schema::ui::Show<'static>,
    }
    assert_eq!(sizes.len(), 16, "every type is checked");
}

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..=max / 4).prop_map(|c| c.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_says_are_byte_identical(
        room in any::<u16>(),
        name in text(32),
        text_ in text(200),
        color in prop::option::of(any::<(u8, u8, u8)>()),
        mentions in prop::collection::vec(any::<u32>(), 0..=8),
    ) {
        let g = schema::chat::Say {
            room, name: &name, text: &text_,
            color: color.map(|(r, g, b)| schema::Color { r, g, b }),
            mentions: mentions.clone(),
        };
        let h = hand::Say {
            room, name: &name, text: &text_,
            color: color.map(|(r, g, b)| hand::Color { r, g, b }),
            mentions,
        };
        prop_assert_eq!(frame_of(&g, 5), frame_of(&h, 5));
    }

    #[test]
    fn random_moves_and_events_are_byte_identical(
        entity in any::<u32>(),
        pos in any::<(f32, f32, f32)>(),
        vel in any::<[f32; 3]>(),
        on_ground in any::<bool>(),
        team in prop::sample::select(vec![1u8, 2, 10]),
        events in prop::collection::vec((0u8..4, any::<u32>(), any::<bool>(), text(100), any::<u8>()), 0..=16),
    ) {
        let (p, hp) = gen_vec3(pos);
        let (gt, ht) = match team {
            1 => (schema::Team::Red, hand::Team::Red),
            2 => (schema::Team::Blue, hand::Team::Blue),
            _ => (schema::Team::Spectator, hand::Team::Spectator),
        };
        let g = schema::Move { entity, position: p, velocity: vel, on_ground, team: gt };
        let h = hand::Move { entity, position: hp, velocity: vel, on_ground, team: ht };
        prop_assert_eq!(frame_of(&g, 1), frame_of(&h, 1));

        let ge: Vec<schema::Event<'_>> = events.iter().map(|(k, n, c, s, b)| match k {
            0 => schema::Event::Hit { amount: *n, critical: *c },
            1 => schema::Event::Say(s, *b),
            2 => schema::Event::Moved(gen_vec3(pos).0),
            _ => schema::Event::Died,
        }).collect();
        let he: Vec<hand::Event<'_>> = events.iter().map(|(k, n, c, s, b)| match k {
            0 => hand::Event::Hit { amount: *n, critical: *c },
            1 => hand::Event::Say(s, *b),
            2 => hand::Event::Moved(gen_vec3(pos).1),
            _ => hand::Event::Died,
        }).collect();
        let g = schema::Events { tick: entity, events: ge };
        let h = hand::Events { tick: entity, events: he };
        prop_assert_eq!(frame_of(&g, 2), frame_of(&h, 2));
    }
}

// ------------------------------------------------------------ recursion

/// The same nested menu and folder tree on both sides: `depth` levels.
fn gen_show<'a>(labels: &'a [String], depth: usize) -> (schema::ui::Show<'a>, hand::Show<'a>) {
    fn menus<'a>(labels: &'a [String], depth: usize) -> (schema::ui::Menu<'a>, hand::Menu<'a>) {
        let label = labels[depth % labels.len()].as_str();
        let (gc, hc) = if depth == 0 {
            (vec![], vec![])
        } else {
            let (g, h) = menus(labels, depth - 1);
            (vec![g.clone(), g], vec![h.clone(), h])
        };
        (
            schema::ui::Menu {
                label,
                children: gc,
            },
            hand::Menu {
                label,
                children: hc,
            },
        )
    }
    fn folders<'a>(
        labels: &'a [String],
        depth: usize,
    ) -> (schema::ui::Folder<'a>, hand::Folder<'a>) {
        let name = &labels[depth % labels.len()][..labels[depth % labels.len()].len().min(16)];
        let (ge, he) = if depth == 0 {
            (
                vec![schema::ui::Entry {
                    id: 1,
                    folder: None,
                }],
                vec![hand::Entry {
                    id: 1,
                    folder: None,
                }],
            )
        } else {
            let (g, h) = folders(labels, depth - 1);
            (
                vec![
                    schema::ui::Entry {
                        id: depth as u32,
                        folder: Some(Box::new(g)),
                    },
                    schema::ui::Entry {
                        id: 0,
                        folder: None,
                    },
                ],
                vec![
                    hand::Entry {
                        id: depth as u32,
                        folder: Some(Box::new(h)),
                    },
                    hand::Entry {
                        id: 0,
                        folder: None,
                    },
                ],
            )
        };
        (
            schema::ui::Folder { name, entries: ge },
            hand::Folder { name, entries: he },
        )
    }
    let (gm, hm) = menus(labels, depth);
    let (gf, hf) = folders(labels, depth);
    (
        schema::ui::Show { menu: gm, root: gf },
        hand::Show { menu: hm, root: hf },
    )
}

#[test]
fn recursive_packets_are_byte_identical() {
    use packet_core::Encode;
    assert_eq!(<schema::ui::Show<'_> as Encode>::MAX_SIZE, None);
    assert_eq!(<hand::Show<'_> as Encode>::MAX_SIZE, None);

    let labels = vec!["file".to_string(), "edit".to_string()];
    let (g, h) = gen_show(&labels, 1);
    assert_identical_borrowed!(g, h, schema::ui::Show<'_>, hand::Show<'_>);
    #[rustfmt::skip]
    let body: &[u8] = &[
        4, b'e', b'd', b'i', b't', 2,      // menu "edit", 2 children
        4, b'f', b'i', b'l', b'e', 0,      //   "file", none
        4, b'f', b'i', b'l', b'e', 0,      //   "file", none
        4, b'e', b'd', b'i', b't', 2,      // folder "edit", 2 entries
        1, 0, 0, 0, 1,                     //   id 1, a subfolder:
        4, b'f', b'i', b'l', b'e', 1,      //     "file", 1 entry
        1, 0, 0, 0, 0,                     //       id 1, no folder
        0, 0, 0, 0, 0,                     //   id 0, no folder
    ];
    let frame = frame_of(&h, 9);
    let f = frame::decode_frame(&frame, &FrameConfig::default()).unwrap();
    assert_eq!(f.body(), body);
    assert_eq!(Msg::decode_frame(&f).unwrap(), Msg::Show(g));
}

#[test]
fn hostile_nesting_in_a_generated_packet_is_too_deep() {
    // An empty menu, then a folder whose first entry holds a folder whose
    // first entry holds a folder ... far past the decoder's depth limit.
    let mut body = vec![0u8, 0];
    for _ in 0..2000 {
        body.extend_from_slice(&[0, 1, 1, 0, 0, 0, 1]); // "", 1 entry, id 1, Some
    }
    let mut out = vec![0u8; BUF];
    let n = frame::encode_raw(0x0400, 1, &body, &mut out).unwrap();
    let f = frame::decode_frame(&out[..n], &FrameConfig::default()).unwrap();
    assert_eq!(
        f.decode_packet::<schema::ui::Show<'_>>(),
        Err(packet_core::DecodeError::TooDeep {
            max: packet_core::Reader::MAX_DEPTH
        })
    );
}

/// The encoder's side of the limit: a generated packet nested one level
/// deeper than the decoder takes is `EncodeError::TooDeep`, one at the
/// limit encodes and decodes back, and both sides count alike (the
/// `Folder` / `Entry` cycle is two levels per folder: its `entries` list
/// and the entry's `box`).
#[test]
fn a_generated_packet_too_deep_to_decode_does_not_encode() {
    use packet_core::frame::PacketBuf;
    fn show(folders: usize) -> schema::ui::Show<'static> {
        let mut root = schema::ui::Folder {
            name: "",
            entries: vec![],
        };
        for _ in 0..folders {
            root = schema::ui::Folder {
                name: "",
                entries: vec![schema::ui::Entry {
                    id: 1,
                    folder: Some(Box::new(root)),
                }],
            };
        }
        schema::ui::Show {
            menu: schema::ui::Menu {
                label: "",
                children: vec![],
            },
            root,
        }
    }
    /// The body by hand: an empty menu, then `folders` levels of a folder
    /// with one entry holding the next, then an empty folder.
    fn body(folders: usize) -> Vec<u8> {
        let mut body = vec![0u8, 0];
        for _ in 0..folders {
            body.extend_from_slice(&[0, 1, 1, 0, 0, 0, 1]);
        }
        body.extend_from_slice(&[0, 0]);
        body
    }
    // 63 folders: 2 * 63 levels, and the last (empty) list is the 127th
    // from the root folder's list (1) on; 64 folders reach 129.
    let ok = show(63);
    let mut buf = PacketBuf::<{ BUF }>::new();
    let frame = buf.encode(&ok, 1).expect("at the limit").to_vec();
    let f = frame::decode_frame(&frame, &FrameConfig::default()).unwrap();
    assert_eq!(f.body(), &body(63)[..]);
    assert_eq!(f.decode_packet::<schema::ui::Show<'_>>(), Ok(ok));

    let deep = show(64);
    let too_deep = packet_core::EncodeError::TooDeep {
        max: packet_core::Reader::MAX_DEPTH as usize,
    };
    assert_eq!(buf.encode(&deep, 1).map(|_| ()), Err(too_deep));
    assert_eq!(deep.encoded_len(), usize::MAX);
    let mut out = vec![0u8; BUF];
    let n = frame::encode_raw(0x0400, 1, &body(64), &mut out).unwrap();
    let f = frame::decode_frame(&out[..n], &FrameConfig::default()).unwrap();
    assert_eq!(
        f.decode_packet::<schema::ui::Show<'_>>(),
        Err(packet_core::DecodeError::TooDeep {
            max: packet_core::Reader::MAX_DEPTH
        })
    );
}

proptest! {
    #[test]
    fn random_recursive_packets_are_byte_identical(
        labels in prop::collection::vec("[a-z]{0,24}", 1..4),
        depth in 0usize..5,
    ) {
        let (g, h) = gen_show(&labels, depth);
        assert_identical_borrowed!(g, h, schema::ui::Show<'_>, hand::Show<'_>);
    }
}
