use packet_core::Packet;

#[derive(Packet)]
#[packet(id = 9)]
struct Map {
    tiles: [[u8; 40]; 40],
}

fn main() {}
