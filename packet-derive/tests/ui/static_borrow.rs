use packet_core::Packet;

// A decoded field borrows the receive buffer, never `'static` data.
#[derive(Packet)]
#[packet(id = 1)]
struct Motd {
    text: &'static str,
}

#[derive(Packet)]
struct Tags {
    tags: Vec<&'static str>,
    blob: Option<&'static [u8]>,
}

// A skipped field is not decoded: `'static` is fine there.
#[derive(Packet)]
struct Skipped<'a> {
    name: &'a str,
    #[packet(skip)]
    label: &'static str,
}

fn main() {}
