use packet_core::Packet;

#[derive(Packet)]
union U {
    a: u32,
    b: f32,
}

fn main() {}
