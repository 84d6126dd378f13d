use packet_core::Packet;

// Without a repr the tag is a `u8`: a literal discriminant it cannot hold
// (too big, negative, or reached by counting up) is the derive's error,
// naming the repr to add, not rustc's "literal out of range for `u8`".
#[derive(Packet)]
enum Kind {
    A = 1,
    B = 300,
}

#[derive(Packet)]
enum Delta {
    Down = -1,
    Up = 1,
}

#[derive(Packet)]
#[packet(tag = u16)]
enum Wide {
    A = 65_534,
    B,
    C,
}

// With a repr, rustc checks the discriminants itself; fine here.
#[derive(Packet)]
#[repr(i8)]
enum Signed {
    Down = -1,
    Up = 1,
}

#[derive(Packet)]
enum Fits {
    A = 254,
    B,
}

fn main() {}
