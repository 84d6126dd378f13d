//! No frame longer than one datagram carries (65,504 bytes, wire format
//! §2.6) is sent over UDP, whatever the configured maximum frame (64 KiB
//! by default, which still bounds what is received): a client's send is
//! refused at encode time with the limit named, not by the socket with an
//! OS error, and a UDP server's broadcast counts it `too_big` instead of
//! "delivered" and then dropping it. And a connected client whose
//! server's port has closed sees a disconnect, not a bare OS error.

use std::time::Duration;

use packet_core::error::EncodeError;
use packet_core::frame::{MAX_DATAGRAM_FRAME_LEN, frame_len_for};
use packet_net::server::blocking::UdpServer;
use packet_net::server::{Router, ServerConfig};
use packet_net::transport::TransportError;
use packet_net::transport::blocking::UdpPacketSocket;

const LIMIT: Duration = Duration::from_secs(10);
const BLOB: u16 = 0x0B21;
/// The largest body whose frame one datagram carries.
const MAX_BODY: usize = MAX_DATAGRAM_FRAME_LEN - 28;

#[test]
fn a_client_refuses_a_frame_no_datagram_carries_and_sends_the_largest_that_fits() {
    assert_eq!(frame_len_for(MAX_BODY), MAX_DATAGRAM_FRAME_LEN);
    let router = Router::<()>::new().on_frame(BLOB, |ctx, f| ctx.reply_raw(BLOB, &f.body()[..4]));
    let server = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), router, ()).unwrap();
    let mut c = UdpPacketSocket::bind("127.0.0.1:0").unwrap();
    c.connect(server.local_addr()).unwrap();
    c.set_read_timeout(Some(LIMIT)).unwrap();

    match c.send_raw(BLOB, &vec![1; MAX_BODY + 1]) {
        Err(TransportError::Encode(EncodeError::FrameTooLarge { max, .. })) => {
            assert_eq!(max, MAX_DATAGRAM_FRAME_LEN)
        }
        other => panic!("expected FrameTooLarge, got {other:?}"),
    }
    // The largest frame that fits goes through (loopback carries it).
    c.send_raw(BLOB, &vec![2; MAX_BODY]).unwrap();
    assert_eq!(c.recv().unwrap().body(), &[2; 4]);
    server.shutdown();
}

#[test]
fn a_udp_broadcast_no_datagram_carries_is_too_big_not_delivered() {
    let router = Router::<()>::new().on_frame(BLOB, |ctx, f| ctx.reply_raw(BLOB, f.body()));
    let server = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), router, ()).unwrap();
    let mut c = UdpPacketSocket::bind("127.0.0.1:0").unwrap();
    c.connect(server.local_addr()).unwrap();
    c.set_read_timeout(Some(LIMIT)).unwrap();
    c.send_raw(BLOB, b"hi").unwrap();
    assert_eq!(c.recv().unwrap().body(), b"hi");

    let report = server
        .sessions()
        .broadcast_raw(BLOB, &vec![3; MAX_BODY + 4], None);
    assert_eq!((report.delivered, report.too_big), (0, 1), "{report}");
    assert!(
        matches!(
            report.encode_error,
            Some(EncodeError::FrameTooLarge {
                max: MAX_DATAGRAM_FRAME_LEN,
                ..
            })
        ),
        "{report}"
    );
    assert_eq!(server.stats().frames_unsent, 1);
    // The session goes on; the largest broadcast that fits arrives.
    let report = server
        .sessions()
        .broadcast_raw(BLOB, &vec![4; MAX_BODY], None);
    assert_eq!(report.delivered, 1, "{report}");
    let frame = c.recv().unwrap();
    assert_eq!(frame.body().len(), MAX_BODY);
    server.shutdown();
}

/// A connected UDP client whose server has gone learns it from the ICMP
/// answer to its datagram (`ConnectionRefused` on the next call), and
/// that counts as the peer leaving.
#[cfg(target_os = "linux")]
#[test]
fn a_udp_client_whose_server_is_gone_sees_a_disconnect() {
    let gone = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = gone.local_addr().unwrap();
    drop(gone);
    let mut c = UdpPacketSocket::bind("127.0.0.1:0").unwrap();
    c.connect(addr).unwrap();
    c.set_read_timeout(Some(LIMIT)).unwrap();
    c.send_raw(BLOB, b"anyone?").unwrap();
    let e = match c.recv() {
        Err(e) => e,
        Ok(f) => panic!("no server, yet a frame: {f:?}"),
    };
    assert!(e.is_disconnect(), "{e:?}");
}
