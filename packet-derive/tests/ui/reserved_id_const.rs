use packet_core::Packet;

const HELLO: u16 = 0xFFFF;

// An id the derive cannot read is checked in `const` evaluation, and the
// error still points at the attribute.
#[derive(Packet)]
#[packet(id = HELLO)]
struct Hello {
    token: [u8; 16],
}

fn main() {}
