//! Issue #12: whether a packet fits is decided where its frames go, not by
//! the derive. A 2,000-byte packet (over the default 1200-byte
//! `PacketBuf`) derives, travels over loopback TCP, and fits a larger
//! `PacketBuf`; the compile errors for a buffer or datagram that can never
//! hold it are the `too_big_for_*` cases in `tests/ui`.

use std::time::Duration;

use packet_core::frame::{MAX_DATAGRAM_FRAME_LEN, frame_len_for};
use packet_core::{DEFAULT_PACKET_SIZE, Packet, PacketBuf};
use packet_net::transport::blocking::{TcpPacketListener, TcpPacketStream};

#[derive(Packet, Debug, Clone, PartialEq)]
#[packet(id = 0x0040)]
struct Map {
    level: u16,
    tiles: [[u8; 50]; 40],
}

fn map() -> Map {
    let mut tiles = [[0u8; 50]; 40];
    for (i, row) in tiles.iter_mut().enumerate() {
        for (j, t) in row.iter_mut().enumerate() {
            *t = (i * 50 + j) as u8;
        }
    }
    Map { level: 3, tiles }
}

#[test]
fn smallest_frame_is_known_at_compile_time() {
    const { assert!(Map::MIN_FRAME_LEN > DEFAULT_PACKET_SIZE) };
    const { assert!(Map::MIN_FRAME_LEN <= MAX_DATAGRAM_FRAME_LEN) };
    assert_eq!(Map::MIN_FRAME_LEN, frame_len_for(2 + 2000));
    assert_eq!(Map::MAX_FRAME_LEN, Some(Map::MIN_FRAME_LEN));
}

#[test]
fn a_packet_over_the_default_buffer_fits_a_larger_one() {
    let mut buf: PacketBuf<2048> = PacketBuf::new();
    let wire = buf.encode(&map(), 5).expect("fits 2048 bytes");
    assert_eq!(wire.len(), Map::MIN_FRAME_LEN);
    let frame = buf.frame(&Default::default()).expect("valid");
    assert_eq!(frame.decode_packet::<Map>().expect("decodes"), map());
}

#[test]
fn a_packet_over_the_default_buffer_travels_over_tcp() {
    let listener = TcpPacketListener::bind("127.0.0.1:0").expect("binds");
    let addr = listener.local_addr().expect("address");
    let server = std::thread::spawn(move || {
        let (mut peer, _) = listener.accept().expect("accepts");
        peer.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let got = peer
            .recv()
            .expect("a frame")
            .decode_packet::<Map>()
            .expect("decodes");
        peer.send(&got).expect("echoes");
        peer.close().expect("closes");
    });
    let mut client = TcpPacketStream::connect(addr).expect("connects");
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    client.send(&map()).expect("sends 2,000 bytes over TCP");
    let echoed = client
        .recv()
        .expect("echo")
        .decode_packet::<Map>()
        .expect("decodes");
    assert_eq!(echoed, map());
    server.join().expect("server thread");
}
