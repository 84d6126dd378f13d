use packet_core::Packet;

// `-1` for "no limit" (or an id) is not a count: one error naming the
// attribute, not rustc's four about negating a `usize`.
#[derive(Packet)]
#[packet(id = -1)]
struct A {
    #[packet(max_len = -1)]
    names: Vec<u32>,
}

fn main() {}
