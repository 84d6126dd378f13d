//! A blocking socket's read timeout reaches the user as `TimedOut`, not as
//! the `WouldBlock` (os error 11, "Resource temporarily unavailable") the
//! OS reports for it: the message a user prints says what happened.

use std::io::ErrorKind;
use std::time::Duration;

use packet_net::transport::TransportError;
use packet_net::transport::blocking::{TcpPacketListener, TcpPacketStream, UdpPacketSocket};

const LIMIT: Duration = Duration::from_millis(50);

fn assert_timed_out(e: &TransportError) {
    assert!(e.is_timeout(), "{e:?}");
    match e {
        TransportError::Io(io) => assert_eq!(io.kind(), ErrorKind::TimedOut, "{io:?}"),
        other => panic!("not an I/O error: {other:?}"),
    }
    let shown = e.to_string();
    assert!(shown.contains("timeout"), "{shown}");
    assert!(!shown.contains("os error"), "{shown}");
}

#[test]
fn a_blocking_stream_read_timeout_is_timed_out() {
    let listener = TcpPacketListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpPacketStream::connect(listener.local_addr().unwrap()).unwrap();
    let (_silent, _) = listener.accept().unwrap();
    client.set_read_timeout(Some(LIMIT)).unwrap();
    let e = client.recv().map(|_| ()).unwrap_err();
    assert_timed_out(&e);
}

#[test]
fn a_blocking_udp_read_timeout_is_timed_out() {
    let mut socket = UdpPacketSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(LIMIT)).unwrap();
    let e = socket.recv_from().map(|_| ()).unwrap_err();
    assert_timed_out(&e);
}
