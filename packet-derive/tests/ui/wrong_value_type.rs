use packet_core::Packet;

#[derive(Packet)]
#[packet(id = "chat", crate = 5)]
struct A<'a> {
    #[packet(len = u64)]
    x: &'a str,
    #[packet(max_len = 1.5)]
    y: &'a str,
    #[packet(skip = true)]
    z: u8,
}

#[derive(Packet)]
#[packet(tag = i16)]
enum B {
    X(u8),
}

fn main() {}
