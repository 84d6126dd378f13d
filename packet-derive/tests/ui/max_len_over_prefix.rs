use packet_core::Packet;

// A literal `max_len` the prefix cannot count is refused at the attribute,
// as packet-schema refuses it.
#[derive(Packet)]
struct Chat<'a> {
    #[packet(len = u8, max_len = 300)]
    name: &'a str,
    #[packet(max_len = 70000)]
    text: &'a str,
}

const LIMIT: usize = 1000;

// A `const` expression is checked by a `const` assertion naming the field.
#[derive(Packet)]
struct Roster {
    #[packet(len = u8, max_len = LIMIT)]
    names: Vec<u32>,
}

fn main() {}
