//! A canonical description longer than 131072 bytes has no fingerprint
//! (wire format §11.6): each of these structs holds the next one twice, so
//! the packet is described with 2^15 copies of the last.
use packet_core::layout::Fingerprint;
use packet_core::{Packet, PacketSet};

#[derive(Packet)]
#[packet(id = 1)]
struct P {
    a: D1,
    b: D1,
}

#[derive(Packet)]
struct D1 {
    a: D2,
    b: D2,
}

#[derive(Packet)]
struct D2 {
    a: D3,
    b: D3,
}

#[derive(Packet)]
struct D3 {
    a: D4,
    b: D4,
}

#[derive(Packet)]
struct D4 {
    a: D5,
    b: D5,
}

#[derive(Packet)]
struct D5 {
    a: D6,
    b: D6,
}

#[derive(Packet)]
struct D6 {
    a: D7,
    b: D7,
}

#[derive(Packet)]
struct D7 {
    a: D8,
    b: D8,
}

#[derive(Packet)]
struct D8 {
    a: D9,
    b: D9,
}

#[derive(Packet)]
struct D9 {
    a: D10,
    b: D10,
}

#[derive(Packet)]
struct D10 {
    a: D11,
    b: D11,
}

#[derive(Packet)]
struct D11 {
    a: D12,
    b: D12,
}

#[derive(Packet)]
struct D12 {
    a: D13,
    b: D13,
}

#[derive(Packet)]
struct D13 {
    a: D14,
    b: D14,
}

#[derive(Packet)]
struct D14 {
    a: D15,
    b: D15,
}

#[derive(Packet)]
struct D15 {
    x: u8,
}

#[derive(PacketSet)]
enum Msg {
    P(P),
}

fn main() {
    let _ = <Msg as Fingerprint>::FINGERPRINT;
}
