use packet_core::Packet;

#[derive(Packet)]
struct A<'a> {
    #[packet(len = u8)]
    count: u32,
    #[packet(max_len = 3)]
    maybe: Option<u8>,
    #[packet(len = u16)]
    items: &'a [u16],
}

fn main() {}
