//! Findings of the fuzz targets (`fuzz/`), each a test that failed
//! before its fix.

#[cfg(feature = "tokio")]
use bytes::BytesMut;
use packet_core::crypto::{ChannelKeys, SecretKey};
#[cfg(feature = "tokio")]
use packet_net::transport::tokio::{PacketCodec, RawFrame};
use packet_net::transport::{ClientSecurity, ServerSecurity, SessionToken};
#[cfg(feature = "tokio")]
use tokio_util::codec::{Decoder, Encoder};

const TOKEN: SessionToken = SessionToken([1; 16]);

fn keys() -> ChannelKeys {
    ChannelKeys::new(
        SecretKey::from_bytes([1; 32]),
        SecretKey::from_bytes([2; 32]),
    )
}

fn securities() -> (ClientSecurity, ServerSecurity) {
    let server = ServerSecurity::new(|t: &SessionToken| (*t == TOKEN).then(keys));
    (ClientSecurity::new(TOKEN, keys()), server)
}

/// `packet_codec`: a sealed client codec whose first frame was too big
/// wrote its session hello anyway and forgot it, so the frames after it
/// went without one and the server could never key the session.
#[cfg(feature = "tokio")]
#[test]
fn a_codec_frame_too_big_to_encode_writes_nothing_and_keeps_the_hello() {
    let (client, server) = securities();
    let mut tx = PacketCodec::default().sealed(client);
    let mut rx = PacketCodec::default().sealed(server);
    let mut wire = BytesMut::new();
    let too_big = vec![0u8; 70_000];
    let frame = RawFrame {
        type_id: 1,
        body: &too_big,
    };
    assert!(tx.encode(frame, &mut wire).is_err());
    assert!(
        wire.is_empty(),
        "a failed encode wrote {} bytes",
        wire.len()
    );
    tx.encode(
        RawFrame {
            type_id: 1,
            body: b"hi",
        },
        &mut wire,
    )
    .unwrap();
    let got = rx.decode(&mut wire).unwrap().expect("a frame");
    assert_eq!((got.header.type_id, &got.body[..]), (1, &b"hi"[..]));
}

/// `UdpBatch::recv` split each receive slot with `chunks_mut(stride)`,
/// which yields nothing for an empty slot: a zero-length datagram was
/// never handed to the server (the unbatched path hands it over, to be
/// counted and dropped like any invalid datagram). An empty datagram is
/// one datagram.
#[test]
fn a_batched_receive_hands_over_an_empty_datagram() {
    use std::net::UdpSocket;
    use std::time::{Duration, Instant};

    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = rx.local_addr().unwrap();
    tx.send_to(&[], to).unwrap();
    tx.send_to(b"abc", to).unwrap();
    let mut got: Vec<(std::net::SocketAddr, Vec<u8>)> = Vec::new();
    let give_up = Instant::now() + Duration::from_secs(5);
    // The servers' sockets are non-blocking: nothing waiting is `WouldBlock`.
    while got.len() < 2 && Instant::now() < give_up {
        match packet_net::fuzzing::recv_batch(&rx, |from, d| got.push((from, d.to_vec()))) {
            Ok(n) => assert!(n <= 2, "{n} datagrams from 2 sends"),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => panic!("receive failed: {e}"),
        }
    }
    let from = tx.local_addr().unwrap();
    assert_eq!(got, vec![(from, vec![]), (from, b"abc".to_vec())]);
}
