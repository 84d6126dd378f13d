//! A field inside more than 16 structs and enums (the packet counted) has
//! no fingerprint (wire format §11.6): here the 17th type's bounded string,
//! which the walk used to describe although every picked field there was
//! already a cut.
use packet_core::layout::Fingerprint;
use packet_core::{Packet, PacketSet};

#[derive(Packet)]
#[packet(id = 1)]
struct P {
    a: S1,
}

#[derive(Packet)]
struct S1 {
    a: S2,
}

#[derive(Packet)]
struct S2 {
    a: S3,
}

#[derive(Packet)]
struct S3 {
    a: S4,
}

#[derive(Packet)]
struct S4 {
    a: S5,
}

#[derive(Packet)]
struct S5 {
    a: S6,
}

#[derive(Packet)]
struct S6 {
    a: S7,
}

#[derive(Packet)]
struct S7 {
    a: S8,
}

#[derive(Packet)]
struct S8 {
    a: S9,
}

#[derive(Packet)]
struct S9 {
    a: S10,
}

#[derive(Packet)]
struct S10 {
    a: S11,
}

#[derive(Packet)]
struct S11 {
    a: S12,
}

#[derive(Packet)]
struct S12 {
    a: S13,
}

#[derive(Packet)]
struct S13 {
    a: S14,
}

#[derive(Packet)]
struct S14 {
    a: S15,
}

#[derive(Packet)]
struct S15 {
    a: S16,
}

#[derive(Packet)]
struct S16 {
    #[packet(max_len = 8)]
    name: String,
}

#[derive(PacketSet)]
enum Msg {
    P(P),
}

fn main() {
    let _ = <Msg as Fingerprint>::FINGERPRINT;
}
