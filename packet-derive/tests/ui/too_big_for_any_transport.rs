// Larger than any frame can be (0xFFFF_FFFC bytes): refused by the derive.
use packet_core::Packet;

#[derive(Packet)]
#[packet(id = 9)]
struct Universe {
    cells: [[u8; 65536]; 65536],
}

fn main() {}
