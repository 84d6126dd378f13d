use packet_core::Packet;

// 0xFFFF carries the session control frames: no packet may use it.
#[derive(Packet)]
#[packet(id = 0xFFFF)]
struct Hello {
    token: [u8; 16],
}

fn main() {}
