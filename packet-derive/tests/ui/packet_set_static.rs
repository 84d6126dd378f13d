use packet_core::{Packet, PacketSet};

#[derive(Packet)]
#[packet(id = 1)]
struct Ping {
    nonce: u32,
}

#[derive(Packet)]
#[packet(id = 2)]
struct Say<'a> {
    text: &'a str,
}

// Naming `'static` to avoid a lifetime on the set: decoding borrows the
// frame, which does not live that long.
#[derive(PacketSet)]
enum Msg {
    Ping(Ping),
    Say(Say<'static>),
}

fn main() {}
