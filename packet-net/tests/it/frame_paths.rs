//! The paths a frame takes through the session core that no other topic
//! pins: a client's first frame through the pre-encoded path (the hello
//! written before it), the hello kept across a failed encode, a stream
//! that fails at a bad frame after good ones (the good ones handed out
//! first), a bad first frame at a server that requires a fingerprint, and
//! a socket error's disconnect reason. Written for a refactor that had to
//! keep them (2026-12-08): each passes on the code before it and after.

use std::time::Instant;

use packet_core::frame::FrameConfig;
use packet_net::DisconnectReason;
use packet_net::fuzzing::{self, Connection, Event, Incoming};
use packet_net::transport::{SessionToken, TransportConfig, TransportError};

use crate::common::wire;
use crate::core::limits;

/// `wire(..)` with its CRC broken (the frame still passes rules 1 to 4).
fn bad_crc(type_id: u16, seq: u64, body: &[u8]) -> Vec<u8> {
    let mut w = wire(type_id, seq, body);
    let at = w.len() - 8;
    w[at] ^= 0x55;
    w
}

/// Two outboxes made alike, one fed through `queue_raw` (the pre-encoded
/// path, `queue_encoded`), the other through `queue_with`: a client's
/// first frame carries its hello the same way, byte for byte, once.
fn same_bytes_both_paths(mk: impl Fn() -> packet_net::transport::Outbox, hello: &[u8]) {
    let (mut raw, mut with) = (mk(), mk());
    for (t, body) in [(5u16, &b"hello world"[..]), (6, b""), (7, b"abc")] {
        raw.queue_raw(t, body).unwrap();
        with.queue_with(t, body.len(), |w| w.put_bytes(body))
            .unwrap();
    }
    let a = fuzzing::queue(&mut raw).pending().to_vec();
    let b = fuzzing::queue(&mut with).pending().to_vec();
    assert_eq!(a, b);
    assert!(a.starts_with(hello), "the hello goes first");
    assert!(
        !a[hello.len()..].windows(hello.len()).any(|w| w == hello),
        "the hello goes once"
    );
}

#[test]
fn plain_client_first_frame_queue_raw_matches_queue_with() {
    let frame = FrameConfig::default();
    let config = TransportConfig::new();
    let mk = || {
        let (sealer, _) = fuzzing::plain(&frame);
        fuzzing::outbox(&config, sealer, Some(SessionToken::PLAINTEXT))
    };
    same_bytes_both_paths(mk, &fuzzing::session_hello(&SessionToken::PLAINTEXT));
}

#[cfg(feature = "crypto")]
#[test]
fn sealed_client_first_frame_queue_raw_matches_queue_with() {
    use packet_net::crypto::{ChannelKeys, SecretKey};
    use packet_net::transport::ClientSecurity;
    let frame = FrameConfig::default();
    let config = TransportConfig::new();
    let token = SessionToken([7; 16]);
    let mk = || {
        let keys = ChannelKeys::new(
            SecretKey::from_bytes([1; 32]),
            SecretKey::from_bytes([2; 32]),
        );
        let (sealer, _, hello) = fuzzing::halves(ClientSecurity::new(token, keys), frame, false);
        fuzzing::outbox(&config, sealer, hello)
    };
    same_bytes_both_paths(mk, &fuzzing::session_hello(&token));
}

/// A first frame that fails to encode queues nothing and keeps the hello
/// for the next one, on both queueing paths.
#[test]
fn failed_first_frame_keeps_the_hello() {
    let frame = FrameConfig::default();
    let config = TransportConfig::new();
    let (sealer, _) = fuzzing::plain(&frame);
    let mut out = fuzzing::outbox(&config, sealer, Some(SessionToken::PLAINTEXT));
    // The body writes more than the frame was sized for.
    let e = out.queue_with(5, 1, |w| w.put_bytes(b"too long for one byte"));
    assert!(e.is_err());
    assert!(matches!(
        out.queue_raw(0xFFFF, b"x"),
        Err(TransportError::ReservedTypeId)
    ));
    assert!(out.is_empty());
    out.queue_raw(5, b"ok").unwrap();
    let hello = fuzzing::session_hello(&SessionToken::PLAINTEXT);
    let pending = fuzzing::queue(&mut out).pending().to_vec();
    assert_eq!(&pending[..hello.len()], &hello[..]);
    // The frame after the hello is sequence 0: nothing was used up.
    assert_eq!(&pending[hello.len()..], &wire(5, 0, b"ok")[..]);
}

/// The codec's failed encode leaves `dst` as it was and keeps the hello.
#[cfg(feature = "tokio")]
#[test]
fn codec_failed_encode_leaves_dst_and_keeps_the_hello() {
    use bytes::BytesMut;
    use packet_net::transport::tokio::{PacketCodec, RawFrame};
    use tokio_util::codec::Encoder;
    let frame = FrameConfig::new().with_max_frame_len(128);
    let config = TransportConfig::new().with_frame(frame).with_fingerprint(9);
    let mut codec = PacketCodec::client(config);
    let mut dst = BytesMut::from(&b"abcd"[..]);
    let reserved = RawFrame {
        type_id: 0xFFFF,
        body: b"x",
    };
    assert!(codec.encode(reserved, &mut dst).is_err());
    let big = [0u8; 200];
    let too_big = RawFrame {
        type_id: 5,
        body: &big,
    };
    assert!(codec.encode(too_big, &mut dst).is_err());
    assert_eq!(&dst[..], b"abcd");
    let ok = RawFrame {
        type_id: 5,
        body: b"ok",
    };
    codec.encode(ok, &mut dst).unwrap();
    codec.encode(ok, &mut dst).unwrap();
    let hello = fuzzing::fingerprint_hello(&SessionToken::PLAINTEXT, 9);
    let mut want = b"abcd".to_vec();
    want.extend_from_slice(&hello);
    want.extend_from_slice(&wire(5, 0, b"ok"));
    want.extend_from_slice(&wire(5, 1, b"ok"));
    assert_eq!(&dst[..], &want[..]);
}

/// A stream that took good frames and then a bad one hands out the good
/// ones, then fails with the bad frame's error, for good (plaintext end
/// recognising notices, the path a client stream takes).
#[test]
fn stream_fails_at_a_bad_frame_after_good_ones() {
    let frame = FrameConfig::default();
    let (_, opener) = fuzzing::plain(&frame);
    let mut inbox = fuzzing::inbox(&frame, opener);
    let mut bytes = wire(1, 0, b"a");
    bytes.extend(bad_crc(2, 1, b"b"));
    bytes.extend(wire(3, 2, b"c"));
    inbox.feed(&bytes);
    match inbox.next_frame() {
        Ok(Some(Incoming::Frame(f))) => assert_eq!(f.type_id(), 1),
        other => panic!("{other:?}"),
    }
    for _ in 0..3 {
        let e = inbox.next_frame().map(|_| ()).unwrap_err();
        assert!(
            matches!(
                e,
                TransportError::Frame(packet_core::error::FrameError::CrcMismatch { .. })
            ),
            "{e:?}"
        );
        assert!(inbox.has_frame(), "the failure stays ready");
    }
}

/// A plaintext server end requiring a fingerprint whose first frame fails
/// validation ends for that frame's error (not a missing hello), once its
/// replies are out; later bytes change nothing.
#[test]
fn bad_first_frame_at_a_fingerprinted_server() {
    let frame = FrameConfig::default();
    let t0 = Instant::now();
    let opener = fuzzing::plain_server_opener(&frame, Some(1));
    let mut c = Connection::new(&frame, opener, limits(), 1000, t0);
    c.on_read(&bad_crc(1, 0, b"x"), t0);
    assert!(c.poll_event(t0).is_none());
    c.on_read(&wire(2, 1, b"y"), t0);
    assert!(c.poll_event(t0).is_none());
    match c.poll_end(0, false, false, t0) {
        Some(DisconnectReason::BadFrame(TransportError::Frame(
            packet_core::error::FrameError::CrcMismatch { .. },
        ))) => {}
        other => panic!("{other:?}"),
    }
}

/// A socket error: the peer's leaving is `PeerClosed`, anything else `Io`
/// with the error itself.
#[test]
fn socket_error_reason() {
    let frame = FrameConfig::default();
    let t0 = Instant::now();
    for (kind, peer) in [
        (std::io::ErrorKind::ConnectionReset, true),
        (std::io::ErrorKind::BrokenPipe, true),
        (std::io::ErrorKind::UnexpectedEof, true),
        (std::io::ErrorKind::PermissionDenied, false),
    ] {
        let (_, opener) = fuzzing::plain(&frame);
        let mut c = Connection::new(&frame, opener, limits(), 1000, t0);
        assert!(matches!(c.poll_event(t0), Some(Event::Connected(None))));
        c.life().on_io_error(std::io::Error::new(kind, "boom"));
        match c.poll_end(0, false, false, t0) {
            Some(DisconnectReason::PeerClosed) => assert!(peer, "{kind:?}"),
            Some(DisconnectReason::Io(e)) => {
                assert!(!peer, "{kind:?}");
                assert_eq!(e.kind(), kind);
                assert_eq!(e.to_string(), "boom");
            }
            other => panic!("{kind:?}: {other:?}"),
        }
    }
}
