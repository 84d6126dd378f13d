use packet_core::Packet;

struct NotAField;

#[derive(Packet)]
struct A {
    ok: u8,
    bad: NotAField,
}

fn main() {}
