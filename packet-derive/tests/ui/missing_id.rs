use packet_core::{Packet, PacketSet};

#[derive(Packet)]
#[packet(id = 1)]
struct Ping;

/// A body type: no id.
#[derive(Packet)]
struct Body {
    x: u8,
}

#[derive(PacketSet)]
enum Msg {
    Ping(Ping),
    Body(Body),
}

fn main() {}
