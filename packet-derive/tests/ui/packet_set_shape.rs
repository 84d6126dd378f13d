use packet_core::{Packet, PacketSet};

#[derive(Packet)]
#[packet(id = 1)]
struct Ping;

#[derive(PacketSet)]
#[packet(id = 3)]
enum Msg {
    Ping(Ping),
    Two(Ping, Ping),
    Named { p: Ping },
    Empty,
}

// The packet itself, not a pointer to it.
#[derive(PacketSet)]
enum Boxed<'a> {
    Ping(Box<Ping>),
    Ref(&'a Ping),
}

#[derive(PacketSet)]
struct NotAnEnum(Ping);

fn main() {}
