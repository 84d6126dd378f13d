use packet_core::Packet;

/// Reserved for later: no fields yet.
#[derive(Packet)]
struct Slot {}

// Decoding four billion items that take no bytes loops over no input and
// builds them on the stack: refused at the field (schema: E0120).
#[derive(Packet)]
#[packet(id = 0x40)]
struct Inventory {
    owner: u32,
    slots: [Slot; 4294967295],
    grid: [[u8; 0]; 16],
    empty: [Slot; 0],
}

// In a type generic over a length too, when the array does not name it
// (one that does is refused by the codec where it is decoded).
#[derive(Packet)]
#[packet(id = 0x41)]
struct ByLength<const N: usize> {
    bytes: [u8; N],
    slots: [Slot; 2],
}

fn main() {}
