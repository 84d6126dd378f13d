// The same 2,000-byte packet compiles and runs through a buffer that holds
// it, and through the stream (TCP) decoder.
use packet_core::frame::FrameConfig;
use packet_core::{Packet, PacketBuf, StreamDecoder};

#[derive(Packet, Debug, PartialEq)]
#[packet(id = 9)]
struct Map {
    tiles: [[u8; 50]; 40],
}

fn main() {
    let map = Map { tiles: [[3; 50]; 40] };
    let mut buf: PacketBuf<4096> = PacketBuf::new();
    let wire = buf.encode(&map, 1).expect("fits 4096 bytes");
    assert_eq!(wire.len(), Map::MIN_FRAME_LEN);
    let mut tcp = StreamDecoder::new(FrameConfig::default());
    assert_eq!(tcp.feed(wire), wire.len());
    let frame = tcp.next_frame().expect("valid").expect("whole");
    assert_eq!(frame.decode_packet::<Map>().expect("decodes"), map);
}
