use packet_core::Packet;

// 0xFFFF is the session hello of sealed sessions: no packet may use it.
#[derive(Packet)]
#[packet(id = 0xFFFF)]
struct Hello {
    token: [u8; 16],
}

fn main() {}
