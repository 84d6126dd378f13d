use packet_core::Packet;

mod codec {}

#[derive(Packet)]
#[packet(tag = u8)]
#[repr(u8)]
struct A {
    #[packet(skip, len = u8)]
    a: String,
    #[packet(with = codec, max_len = 4)]
    b: u32,
    #[packet(len = u8, len = u16)]
    c: String,
}

#[derive(Packet)]
#[repr(u16)]
#[packet(tag = u32)]
enum B {
    X(u8),
}

#[derive(Packet)]
#[repr(i64)]
enum C {
    X = -1,
}

fn main() {}
