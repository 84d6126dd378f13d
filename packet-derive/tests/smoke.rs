use packet_core::frame::{self, FrameConfig};
use packet_core::{Decode, Encode, Packet, PacketBuf, PacketSet, Reader, Writer};

#[derive(Packet, Debug, PartialEq)]
#[packet(id = 0x0102)]
struct Chat<'a> {
    room: u16,
    #[packet(len = u8)]
    name: &'a str,
    text: &'a str,
}

#[derive(Packet, Debug, PartialEq, Clone, Copy)]
#[repr(u8)]
enum Kind {
    A = 1,
    B = 2,
}

#[derive(Packet, Debug, PartialEq)]
#[repr(u16)]
enum Event<'a> {
    Hit { dmg: u32 } = 1,
    Say(&'a str) = 2,
    Nop,
}

#[derive(Packet, Debug, PartialEq)]
#[packet(tag = u16)]
enum E {
    A(u8),
    B,
}

#[derive(Packet, Debug, PartialEq)]
#[packet(id = 3)]
struct Move {
    x: f32,
    y: f32,
    on: bool,
    k: Kind,
    arr: [u8; 4],
    c: char,
}

#[derive(PacketSet, Debug, PartialEq)]
enum Msg<'a> {
    Chat(Chat<'a>),
    Move(Move),
}

#[test]
fn smoke() {
    let mut buf: PacketBuf = PacketBuf::new();
    let c = Chat {
        room: 7,
        name: "bob",
        text: "hi",
    };
    let bytes = buf.encode(&c, 1).unwrap();
    let f = frame::decode_frame(bytes, &FrameConfig::default()).unwrap();
    assert_eq!(f.decode_packet::<Chat>().unwrap(), c);
    assert_eq!(Msg::decode_frame(&f).unwrap(), Msg::Chat(c));
    let m = Move {
        x: 1.0,
        y: 2.0,
        on: true,
        k: Kind::B,
        arr: [1, 2, 3, 4],
        c: 'x',
    };
    let mut out = [0u8; 64];
    let mut w = Writer::new(&mut out);
    m.encode(&mut w).unwrap();
    assert_eq!(w.position(), m.encoded_len());
    let n = w.position();
    let mut r = Reader::new(&out[..n]);
    assert_eq!(Move::decode(&mut r).unwrap(), m);
    assert_eq!(Move::MAX_SIZE, Some(18));
    let _ = (
        E::A(1),
        E::B,
        Event::Hit { dmg: 1 },
        Event::Say("x"),
        Event::Nop,
        Kind::A,
    );
    assert_eq!(<Msg as PacketSet>::IDS, &[0x0102, 3]);
    assert_eq!(Chat::ID, 0x0102);
}
