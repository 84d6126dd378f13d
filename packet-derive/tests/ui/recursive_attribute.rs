use packet_core::{Packet, PacketSet};

#[derive(Packet)]
#[packet(recursive = true)]
struct A {
    #[packet(recursive)]
    x: Option<Box<A>>,
}

#[derive(Packet)]
#[packet(recursive, recursive)]
struct B {
    x: Vec<B>,
}

#[derive(Packet)]
#[packet(id = 1)]
struct P {
    x: u8,
}

#[derive(PacketSet)]
#[packet(recursive)]
enum Set {
    P(P),
}

fn main() {}
