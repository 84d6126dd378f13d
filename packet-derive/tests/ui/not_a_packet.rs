use packet_core::{Packet, PacketSet};

#[derive(Packet)]
#[packet(id = 1)]
struct Ping;

/// Derived without an `id`: a field type, not a packet.
#[derive(Packet)]
struct Body {
    x: u8,
}

#[derive(PacketSet)]
enum Msg {
    Ping(Ping),
}

/// What a client's `send` asks of its argument.
fn send<P: Packet + ?Sized>(_packet: &P) {}

fn main() {
    send(&Ping);
    send(&Body { x: 1 });
    send(&Msg::Ping(Ping));
}
