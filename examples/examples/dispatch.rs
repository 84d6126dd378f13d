//! A handful of game packets defined with `#[derive(Packet)]`, grouped with
//! `#[derive(PacketSet)]`, sent through one fixed buffer and dispatched by
//! type id on the receiving side, the way a game server's receive loop
//! would (the seed's `parsePacket`).
//!
//! Run with `cargo run -p packet-examples --example dispatch`.

use packet_net::error::DecodeError;
use packet_net::frame::{self, FrameConfig};
use packet_net::{Packet, PacketBuf, PacketSet};

/// A client joins with its name; borrowed from the receive buffer on decode.
#[derive(Packet, Debug, PartialEq)]
#[packet(id = 0x0001)]
struct Hello<'a> {
    protocol: u16,
    #[packet(len = u8, max_len = 32)]
    name: &'a str,
}

/// How an entity moves.
#[derive(Packet, Debug, PartialEq, Clone, Copy)]
#[repr(u8)]
enum Gait {
    Walk = 1,
    Run = 2,
    Crouch = 3,
}

/// A plain body type (no id): nested in packets.
#[derive(Packet, Debug, PartialEq, Clone, Copy)]
struct Vec3 {
    x: f32,
    y: f32,
    z: f32,
}

/// Fixed-size: encoded with one capacity check and straight stores.
#[derive(Packet, Debug, PartialEq)]
#[packet(id = 0x0010)]
struct Move {
    entity: u32,
    pos: Vec3,
    yaw: u16,
    gait: Gait,
}

/// What happened to an entity: a data enum, tagged by its `u16` repr.
#[derive(Packet, Debug, PartialEq)]
#[repr(u16)]
enum Event<'a> {
    Damage { amount: u16, from: u32 } = 1,
    Emote(&'a str) = 2,
    Died = 3,
}

#[derive(Packet, Debug, PartialEq)]
#[packet(id = 0x0020)]
struct Events<'a> {
    entity: u32,
    #[packet(len = u8, max_len = 16)]
    events: Vec<Event<'a>>,
}

#[derive(Packet, Debug, PartialEq)]
#[packet(id = 0x0102)]
struct Chat<'a> {
    room: u16,
    #[packet(len = u8)]
    from: &'a str,
    #[packet(max_len = 200)]
    text: &'a str,
    /// Client-side only: not on the wire, `Default` on receipt.
    #[packet(skip)]
    shown: bool,
}

/// Everything the server understands.
#[derive(PacketSet, Debug, PartialEq)]
enum ClientMsg<'a> {
    Hello(Hello<'a>),
    Move(Move),
    Events(Events<'a>),
    Chat(Chat<'a>),
}

/// What a server does with one datagram: validate, dispatch, act.
fn handle(datagram: &[u8]) -> Result<String, packet_net::Error> {
    let frame = frame::decode_frame(datagram, &FrameConfig::default())?;
    let seq = frame.sequence();
    Ok(match ClientMsg::decode_frame(&frame)? {
        ClientMsg::Hello(h) => format!("#{seq} hello from {:?} (protocol {})", h.name, h.protocol),
        ClientMsg::Move(m) => format!(
            "#{seq} entity {} {:?} to ({}, {}, {}) facing {}",
            m.entity, m.gait, m.pos.x, m.pos.y, m.pos.z, m.yaw
        ),
        ClientMsg::Events(e) => format!("#{seq} entity {}: {:?}", e.entity, e.events),
        ClientMsg::Chat(c) => format!("#{seq} [{}] {}: {}", c.room, c.from, c.text),
    })
}

fn main() -> Result<(), packet_net::Error> {
    // Sizes known at compile time: the largest frame each packet can make.
    println!("Move frames are at most {:?} bytes", Move::MAX_FRAME_LEN);
    println!("Hello frames are at most {:?} bytes", Hello::MAX_FRAME_LEN);
    println!("the server dispatches ids {:04x?}", ClientMsg::IDS);

    let mut buf: PacketBuf = PacketBuf::new();
    let outgoing = [
        ClientMsg::Hello(Hello {
            protocol: 1,
            name: "ferris",
        }),
        ClientMsg::Move(Move {
            entity: 7,
            pos: Vec3 {
                x: 1.5,
                y: 0.0,
                z: -3.25,
            },
            yaw: 270,
            gait: Gait::Run,
        }),
        ClientMsg::Events(Events {
            entity: 7,
            events: vec![
                Event::Damage {
                    amount: 12,
                    from: 9,
                },
                Event::Emote("waves"),
                Event::Died,
            ],
        }),
        ClientMsg::Chat(Chat {
            room: 1,
            from: "ferris",
            text: "gg",
            shown: true,
        }),
    ];
    for (seq, msg) in outgoing.iter().enumerate() {
        // Encode in place into the one stack buffer, then "send" it.
        let n = msg.encode_frame(seq as u64, buf.storage_mut())?;
        buf.set_len(n);
        println!(
            "{}  ({n} bytes, id {:#06x})",
            handle(buf.as_bytes())?,
            msg.id()
        );
    }

    // An id the server does not know is a typed error, not a panic.
    let stray = buf.encode_raw(0x0999, 99, &[1, 2, 3])?;
    match handle(stray) {
        Err(packet_net::Error::Decode(DecodeError::UnknownPacketId { id })) => {
            println!("dropped a datagram with unknown packet id {id:#06x}")
        }
        other => println!("unexpected: {other:?}"),
    }
    Ok(())
}
