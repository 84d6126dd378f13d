use packet_core::Packet;

// A key written without its value: say what to write, not syn's
// "expected `=`".
#[derive(Packet)]
#[packet(id, tag)]
enum A {
    X(#[packet(with, len)] Vec<u8>),
}

#[derive(Packet)]
#[packet(crate, id = 2)]
struct B {
    #[packet(max_len, len = u8)]
    x: Vec<u8>,
}

fn main() {}
