use packet_core::Packet;

#[derive(Packet)]
#[packet(idd = 1)]
struct A {
    #[packet(lenn = u8)]
    x: u8,
    #[packet(id = 2)]
    y: u8,
}

#[derive(Packet)]
#[packet(skip)]
enum B {
    #[packet(len = u8)]
    X,
}

fn main() {}
