//! A field longer than its `max_len` (or its prefix) allows: every send
//! path reports the field and the attribute to change, as
//! `PacketBuf::encode` does, not a frame of `usize::MAX` bytes; nothing is
//! queued or sent, and the connection goes on. A broadcast of such a
//! packet is a per-session failure in its report, never a panic.

use std::time::Duration;

use bytes::BytesMut;
use packet_core::error::EncodeError;
use packet_core::{Packet, PacketBuf};
use packet_net::server::blocking::Server;
use packet_net::server::{Router, ServerConfig};
use packet_net::transport::TransportError;
use packet_net::transport::blocking::{TcpPacketStream, UdpPacketSocket};
use packet_net::transport::tokio::PacketCodec;
use tokio_util::codec::Encoder;

const LIMIT: Duration = Duration::from_secs(10);

#[derive(Packet, Debug, PartialEq)]
#[packet(id = 0x0B11)]
struct Shout {
    n: u32,
    #[packet(max_len = 4)]
    text: String,
}

fn too_long() -> Shout {
    Shout {
        n: 1,
        text: "far too long".into(),
    }
}

fn fits() -> Shout {
    Shout {
        n: 2,
        text: "ok".into(),
    }
}

/// The error `PacketBuf::encode` gives, which every path must match.
fn expected() -> EncodeError {
    let err = PacketBuf::<64>::new().encode(&too_long(), 0).unwrap_err();
    assert!(
        matches!(
            err,
            EncodeError::FieldTooLong {
                field: "Shout.text",
                len: 12,
                max: 4,
                ..
            }
        ),
        "{err:?}"
    );
    err
}

fn assert_field_error(result: Result<(), TransportError>) {
    match result {
        Err(TransportError::Encode(e)) => assert_eq!(e, expected()),
        other => panic!("expected the field's error, got {other:?}"),
    }
}

#[test]
fn a_stream_send_names_the_field_and_the_stream_goes_on() {
    let router =
        Router::<()>::new().on_frame(Shout::ID, |ctx, f| ctx.reply_raw(Shout::ID, f.body()));
    let server = Server::bind("127.0.0.1:0", ServerConfig::default(), router, ()).unwrap();
    let mut c = TcpPacketStream::connect(server.local_addr()).unwrap();
    c.set_read_timeout(Some(LIMIT)).unwrap();
    assert_field_error(c.send(&too_long()));
    assert_field_error(c.queue(&too_long()));
    // Nothing of the refused packet went out: the next reply is `fits`.
    c.send(&fits()).unwrap();
    let frame = c.recv().unwrap();
    assert_eq!(frame.decode_packet::<Shout>().unwrap(), fits());
    drop(c);
    server.shutdown();
}

#[test]
fn a_datagram_send_names_the_field() {
    let peer = UdpPacketSocket::bind("127.0.0.1:0").unwrap();
    let mut s = UdpPacketSocket::bind("127.0.0.1:0").unwrap();
    s.connect(peer.local_addr().unwrap()).unwrap();
    assert_field_error(s.send(&too_long()));
    assert_field_error(s.send_to(&too_long(), peer.local_addr().unwrap()));
}

#[test]
fn the_codec_names_the_field_and_writes_nothing() {
    let mut codec = PacketCodec::default();
    let mut out = BytesMut::new();
    assert_field_error(codec.encode(&too_long(), &mut out));
    assert!(out.is_empty());
    codec.encode(&fits(), &mut out).unwrap();
    assert!(!out.is_empty());
}

#[test]
fn a_broadcast_reports_the_field_as_too_big_and_does_not_panic() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::default(), Router::new(), ()).unwrap();
    let mut c = TcpPacketStream::connect(server.local_addr()).unwrap();
    c.set_read_timeout(Some(LIMIT)).unwrap();
    let end = std::time::Instant::now() + LIMIT;
    while server.stats().active < 1 && std::time::Instant::now() < end {
        std::thread::sleep(Duration::from_millis(5));
    }
    let report = server.sessions().broadcast(&too_long(), None);
    assert_eq!((report.delivered, report.too_big), (0, 1), "{report}");
    assert_eq!(report.encode_error, Some(expected()));
    assert!(report.to_string().contains("Shout.text"), "{report}");
    let report = server.sessions().broadcast(&fits(), None);
    assert_eq!(report.delivered, 1, "{report}");
    let frame = c.recv().unwrap();
    assert_eq!(frame.decode_packet::<Shout>().unwrap(), fits());
    drop(c);
    server.shutdown();
}
