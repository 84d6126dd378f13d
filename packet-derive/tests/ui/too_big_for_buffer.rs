// A 2,000-byte packet is a fine packet (TCP carries it), but it can never
// fit the default 1200-byte `PacketBuf`: encoding it into one is the error.
use packet_core::{Packet, PacketBuf};

#[derive(Packet)]
#[packet(id = 9)]
struct Map {
    tiles: [[u8; 50]; 40],
}

fn main() {
    let mut buf: PacketBuf = PacketBuf::new();
    let _ = buf.encode(&Map { tiles: [[0; 50]; 40] }, 1);
}
