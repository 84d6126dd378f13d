//! The golden outputs compile against the real `#[derive(Packet)]` and
//! round-trip through frames: generated source is only useful if rustc and
//! the derive accept it.
#![allow(dead_code)]

use packet_core::frame::{self, FrameConfig};
use packet_core::{Packet, PacketBuf, PacketSet};

mod game {
    include!("../golden/game.rs");
}

mod game_owned {
    include!("../golden/game_owned.rs");
}

mod paths {
    include!("../golden/paths.rs");
}

mod recursive {
    include!("../golden/recursive.rs");
}

// The schema's unconventional names warn nowhere.
#[deny(non_camel_case_types, non_snake_case, non_upper_case_globals)]
mod names {
    include!("../golden/names.rs");
}

#[test]
fn unconventional_names_round_trip() {
    let p = names::Chat::say {
        Room: 7,
        f: names::r#fn { a: 1 },
        mode: names::r#async::r#await,
        shape: names::Shape::Circle { Radius: 3 },
    };
    round_trip(&p);
    round_trip(&names::Ping { r#type: 2 });
    // Schema types named like the standard library's: the generated code
    // names those by full path.
    let std_names = names::Std {
        o: names::Option { a: 1 },
        v: names::Vec { b: 2 },
        b: names::Box { c: vec![3, 4] },
        s: names::String { d: "abcd" },
        r: names::Result { e: 5 },
        l: vec![names::Vec { b: 6 }, names::Vec { b: 7 }],
        opt: Some(names::Option { a: 8 }),
        bx: Box::new(names::Box { c: vec![] }),
    };
    let mut buf: PacketBuf = PacketBuf::new();
    let bytes = buf.encode(&std_names, 1).unwrap();
    let back: names::Std<'_> = frame::decode_frame(bytes, &FrameConfig::default())
        .unwrap()
        .decode_packet()
        .unwrap();
    assert_eq!(back, std_names);
}

fn round_trip<P>(p: &P)
where
    P: Packet + for<'de> packet_core::Decode<'de> + PartialEq + std::fmt::Debug,
{
    let mut buf: PacketBuf<8192> = PacketBuf::new();
    let bytes = buf.encode(p, 1).unwrap();
    let back: P = frame::decode_frame(bytes, &FrameConfig::default())
        .unwrap()
        .decode_packet()
        .unwrap();
    assert_eq!(&back, p);
}

#[test]
fn borrowed_and_owned_outputs_agree_on_the_wire() {
    let borrowed = game::chat::Say {
        room: 1,
        name: "ada",
        text: "hi",
        color: Some(game::Color { r: 1, g: 2, b: 3 }),
        mentions: vec![4],
    };
    let owned = game_owned::chat::Say {
        room: 1,
        name: "ada".into(),
        text: "hi".into(),
        color: Some(game_owned::Color { r: 1, g: 2, b: 3 }),
        mentions: vec![4],
    };
    let mut a: PacketBuf = PacketBuf::new();
    let mut b: PacketBuf = PacketBuf::new();
    assert_eq!(
        a.encode(&borrowed, 3).unwrap(),
        b.encode(&owned, 3).unwrap()
    );
    round_trip(&owned);
    round_trip(&game_owned::Events {
        tick: 9,
        events: vec![
            game_owned::Event::Say("x".into(), 1),
            game_owned::Event::Hit {
                amount: 2,
                critical: false,
            },
        ],
    });
    assert_eq!(<game::chat::Say<'_> as Packet>::ID, 0x0102);
}

#[test]
fn nested_module_paths_resolve_in_rust() {
    let enter = paths::net::Enter {
        region: paths::world::Region {
            corner: paths::world::geo::Point { x: -1, y: 2 },
        },
        spawn: paths::world::geo::Point { x: 3, y: 4 },
        heading: paths::world::Heading::East,
        r#type: 7,
        r#match: true,
    };
    round_trip(&enter);
    let mut buf: PacketBuf = PacketBuf::new();
    let bytes = buf.encode(&enter, 1).unwrap();
    // Body: 8 + 8 + u16 tag 0x0102 + 1 + 1.
    assert_eq!(
        &bytes[20..40],
        &[
            255, 255, 255, 255, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0x02, 0x01, 7, 1
        ]
    );
}

#[test]
fn generated_packet_sets_dispatch_by_id() {
    let mut buf: PacketBuf = PacketBuf::new();
    let bytes = buf.encode(&paths::lobby::Enter { code: 42 }, 5).unwrap();
    let frame = frame::decode_frame(bytes, &FrameConfig::default()).unwrap();
    assert_eq!(
        paths::Message::decode_frame(&frame).unwrap(),
        paths::Message::LobbyEnter(paths::lobby::Enter { code: 42 })
    );
    assert_eq!(paths::Message::IDS, &[0x0010, 0x0011]);

    let bytes = buf
        .encode(
            &game::Move {
                entity: 1,
                position: game::Vec3 {
                    x: 0.0,
                    y: 1.0,
                    z: 2.0,
                },
                velocity: [0.0; 3],
                on_ground: false,
                team: game::Team::Blue,
            },
            6,
        )
        .unwrap();
    let frame = frame::decode_frame(bytes, &FrameConfig::default()).unwrap();
    assert!(
        matches!(game::Msg::decode_frame(&frame).unwrap(), game::Msg::Move(m) if m.entity == 1)
    );
    assert_eq!(
        game::Msg::IDS,
        &[0x0102, 0x0103, 0x0200, 0x0201, 0x0300, 0x0001]
    );
}

#[test]
fn recursive_types_compile_and_round_trip() {
    use packet_core::Encode;
    use recursive::{Expr, Group, Item, Menu, ShowMenu};

    assert_eq!(ShowMenu::MAX_SIZE, None);
    assert_eq!(Menu::MIN_SIZE, 2);
    assert_eq!(Item::MIN_SIZE, 3);
    let p = ShowMenu {
        menu: Menu {
            label: "file".into(),
            children: vec![Menu {
                label: "open".into(),
                children: vec![],
            }],
        },
        calc: Expr::Add(
            Box::new(Expr::Lit(1)),
            Box::new(Expr::Neg(Box::new(Expr::Lit(2)))),
        ),
        root: Group {
            name: "g".into(),
            items: vec![
                Item { id: 1, group: None },
                Item {
                    id: 2,
                    group: Some(Box::new(Group {
                        name: "h".into(),
                        items: vec![],
                    })),
                },
            ],
        },
        cross: recursive::a::Node {
            next: Some(Box::new(recursive::b::Node {
                value: 7,
                back: vec![recursive::a::Node { next: None }],
            })),
        },
    };
    round_trip(&p);
    assert_eq!(<recursive::b::Node as Encode>::MAX_SIZE, None);
}
