//! Derived code does not allocate: encoding, decoding and dispatching
//! derived packets with no heap-owning fields (borrowed strings and bytes,
//! fixed-size runs, both kinds of enum, nested types), including their error
//! paths, make zero heap allocations. Counted with `stats_alloc` (no
//! `unsafe` here) in a `harness = false` binary, so one thread runs and the
//! counter sees only the code under test.

use std::alloc::System;

use packet_core::error::{DecodeError, EncodeError};
use packet_core::frame::{self, FrameConfig};
use packet_core::{Packet, PacketBuf, PacketSet};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[derive(Packet, Debug, PartialEq)]
#[packet(id = 0x0102)]
struct Chat<'a> {
    room: u16,
    #[packet(len = u8, max_len = 32)]
    name: &'a str,
    text: &'a str,
    #[packet(len = u8)]
    blob: &'a [u8],
}

#[derive(Packet, Debug, PartialEq, Clone, Copy)]
#[repr(u8)]
enum Gait {
    Walk = 1,
    Run = 2,
}

#[derive(Packet, Debug, PartialEq, Clone, Copy)]
struct Vec3 {
    x: f32,
    y: f32,
    z: f32,
}

#[derive(Packet, Debug, PartialEq)]
#[packet(id = 0x0010)]
struct Move {
    entity: u32,
    pos: Vec3,
    gait: Gait,
    grounded: bool,
    keys: [u8; 8],
}

#[derive(Packet, Debug, PartialEq)]
#[repr(u16)]
enum Event<'a> {
    Hit { dmg: u32 } = 1,
    Say(&'a str) = 2,
}

#[derive(Packet, Debug, PartialEq)]
#[packet(id = 0x0020)]
struct Happened<'a> {
    first: Event<'a>,
    second: Option<Event<'a>>,
}

#[derive(PacketSet, Debug, PartialEq)]
enum Msg<'a> {
    Chat(Chat<'a>),
    Move(Move),
    Happened(Happened<'a>),
}

fn assert_no_allocations(what: &str, f: impl FnOnce()) {
    let region = Region::new(GLOBAL);
    f();
    let stats = region.change();
    assert_eq!(
        (stats.allocations, stats.reallocations, stats.deallocations),
        (0, 0, 0),
        "{what} touched the heap: {stats:?}"
    );
    println!("{what}: 0 allocations");
}

fn main() {
    let region = Region::new(GLOBAL);
    drop(std::hint::black_box(Box::new(1u64)));
    assert_eq!(
        region.change().allocations,
        1,
        "counting allocator not installed"
    );

    let config = FrameConfig::default();
    let mut buf: PacketBuf = PacketBuf::new();
    let mut out = [0u8; 1200];

    assert_no_allocations("derived encode + decode x1000", || {
        for i in 0..1000u32 {
            let chat = Chat {
                room: i as u16,
                name: "ferris",
                text: "hello there",
                blob: &[1, 2, 3],
            };
            let bytes = buf.encode(&chat, u64::from(i)).expect("encode");
            let frame = frame::decode_frame(bytes, &config).expect("frame");
            assert_eq!(frame.decode_packet::<Chat>().expect("decode"), chat);

            let mv = Move {
                entity: i,
                pos: Vec3 {
                    x: 1.0,
                    y: 2.0,
                    z: 3.0,
                },
                gait: Gait::Run,
                grounded: i % 2 == 0,
                keys: [7; 8],
            };
            let bytes = buf.encode(&mv, 1).expect("encode");
            let frame = frame::decode_frame(bytes, &config).expect("frame");
            assert_eq!(frame.decode_packet::<Move>().expect("decode"), mv);
        }
    });

    assert_no_allocations("PacketSet encode_frame + decode_frame x1000", || {
        for i in 0..1000u32 {
            let msg = match i % 3 {
                0 => Msg::Chat(Chat {
                    room: 1,
                    name: "a",
                    text: "b",
                    blob: &[],
                }),
                1 => Msg::Move(Move {
                    entity: i,
                    pos: Vec3 {
                        x: 0.0,
                        y: 0.0,
                        z: 0.0,
                    },
                    gait: Gait::Walk,
                    grounded: true,
                    keys: [0; 8],
                }),
                _ => Msg::Happened(Happened {
                    first: Event::Hit { dmg: i },
                    second: Some(Event::Say("ow")),
                }),
            };
            let n = msg.encode_frame(u64::from(i), &mut out).expect("encode");
            let frame = frame::decode_frame(&out[..n], &config).expect("frame");
            assert_eq!(Msg::decode_frame(&frame).expect("dispatch"), msg);
        }
    });

    assert_no_allocations("error paths", || {
        let long = [b'x'; 40];
        let name = std::str::from_utf8(&long).expect("ascii");
        let too_long = Chat {
            room: 1,
            name,
            text: "",
            blob: &[],
        };
        assert_eq!(
            buf.encode(&too_long, 1),
            Err(EncodeError::FieldTooLong {
                field: "Chat.name",
                len: 40,
                max: 32,
                fix: "raise its `#[packet(max_len = ..)]`, a schema's `max = ..` (its `u8` prefix counts at most 255)"
            })
        );

        let n = frame::encode_raw(0x0999, 1, &[0], &mut out).expect("encode");
        let frame = frame::decode_frame(&out[..n], &config).expect("frame");
        assert_eq!(
            Msg::decode_frame(&frame),
            Err(DecodeError::UnknownPacketId { id: 0x0999 })
        );

        let n = frame::encode_raw(0x0020, 1, &[9, 0], &mut out).expect("encode");
        let frame = frame::decode_frame(&out[..n], &config).expect("frame");
        assert_eq!(
            Msg::decode_frame(&frame),
            Err(DecodeError::UnknownDiscriminant {
                value: 9,
                type_name: "Event"
            })
        );

        let n = frame::encode_raw(0x0010, 1, &[0; 5], &mut out).expect("encode");
        let frame = frame::decode_frame(&out[..n], &config).expect("frame");
        assert!(matches!(
            Msg::decode_frame(&frame),
            Err(DecodeError::UnexpectedEnd { .. })
        ));
    });
}
