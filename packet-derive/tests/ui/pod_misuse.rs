use packet_core::Packet;

// `pod` needs a declaration-order layout and plain data only.
#[derive(Packet)]
#[packet(pod)]
struct NoRepr {
    x: f32,
}

#[derive(Packet)]
#[packet(pod)]
#[repr(C)]
struct WithBool {
    x: f32,
    on: bool,
}

fn main() {}
