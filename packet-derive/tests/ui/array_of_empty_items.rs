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

fn main() {}
