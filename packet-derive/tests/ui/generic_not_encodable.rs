use packet_core::{Packet, PacketBuf};

#[derive(Packet)]
#[packet(id = 1)]
struct Wrapper<T> {
    inner: T,
}

struct NotAField;

fn main() {
    let mut buf: PacketBuf = PacketBuf::new();
    let _ = buf.encode(&Wrapper { inner: NotAField }, 1);
}
