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

#[derive(PacketSet)]
struct NotAnEnum(Ping);

fn main() {}
