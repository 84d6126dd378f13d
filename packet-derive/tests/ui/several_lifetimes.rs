use packet_core::Packet;

#[derive(Packet)]
struct Inner<'a> {
    s: &'a str,
}

// With several lifetimes only top-level `&str` / `&[u8]` can borrow.
#[derive(Packet)]
#[packet(id = 1)]
struct Both<'a, 'b> {
    name: &'a str,
    blob: &'b [u8],
    maybe: Option<&'b str>,
    names: Vec<&'a str>,
    inner: Inner<'b>,
}

#[derive(Packet)]
enum Event<'a, 'b> {
    Say(&'a str),
    Tag(Option<&'b [u8]>),
}

// Top-level borrows only: fine.
#[derive(Packet)]
#[packet(id = 2)]
struct Fine<'a, 'b> {
    name: &'a str,
    blob: &'b [u8],
    n: u32,
}

fn main() {}
