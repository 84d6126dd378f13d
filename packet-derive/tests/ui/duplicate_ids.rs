use packet_core::{Packet, PacketSet};

#[derive(Packet)]
#[packet(id = 1)]
struct Ping;

#[derive(Packet)]
#[packet(id = 2)]
struct Pong;

#[derive(Packet)]
#[packet(id = 1)]
struct Hello;

#[derive(PacketSet)]
enum Msg {
    Ping(Ping),
    Pong(Pong),
    Hello(Hello),
}

fn main() {}
