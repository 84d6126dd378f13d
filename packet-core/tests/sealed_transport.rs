//! Sealed (encrypted) transport over loopback: the blocking server and
//! streams, the tokio server, and UDP, with `Security::Sealed`. Forged,
//! replayed or plaintext frames get the peer (or datagram) dropped alone.
#![cfg(all(feature = "crypto", feature = "tokio"))]

mod common;

use std::io::Write;
use std::time::Duration;

use common::{ECHO, Msg, echo_router, payload, wait_until};
use packet_core::crypto::{ChannelKeys, SecretKey};
use packet_core::server::ServerConfig;
use packet_core::transport::blocking::{TcpPacketStream, UdpPacketSocket};
use packet_core::transport::{Security, Side, TransportConfig};

const LIMIT: Duration = Duration::from_secs(10);

fn security() -> Security {
    Security::sealed(ChannelKeys::new(
        SecretKey::from_bytes([0x11; 32]),
        SecretKey::from_bytes([0x22; 32]),
    ))
}

fn config() -> TransportConfig {
    TransportConfig::default().with_read_timeout(Some(LIMIT))
}

#[test]
fn sealed_blocking_server_echoes_and_drops_impostors() {
    let sec = security();
    let server = packet_core::server::blocking::Server::bind(
        "127.0.0.1:0",
        ServerConfig::default()
            .with_workers(2)
            .with_security(sec.clone()),
        echo_router(),
        (),
    )
    .unwrap();
    let addr = server.local_addr();
    let mut clients: Vec<_> = (0..20)
        .map(|_| {
            TcpPacketStream::connect_with(addr, config())
                .unwrap()
                .with_security(&sec, Side::Client)
        })
        .collect();
    let mut buf = Vec::new();
    for (c, s) in clients.iter_mut().enumerate() {
        for seq in 0..10 {
            payload(c as u32, seq, &mut buf);
            s.queue(&Msg {
                client: c as u32,
                seq,
                data: &buf,
            })
            .unwrap();
        }
        s.flush().unwrap();
    }
    for (c, s) in clients.iter_mut().enumerate() {
        for seq in 0..10 {
            payload(c as u32, seq, &mut buf);
            let frame = s.recv().unwrap();
            assert!(frame.header().is_sealed());
            let m: Msg<'_> = frame.decode_packet().unwrap();
            assert_eq!((m.client, m.seq, m.data), (c as u32, seq, &buf[..]));
        }
    }
    // A plaintext client is dropped.
    let mut plain = TcpPacketStream::connect_with(addr, config()).unwrap();
    plain.send_raw(ECHO, b"in the clear").unwrap();
    assert!(plain.recv().is_err());
    // A forged frame: sealed under the right key, one ciphertext bit flipped.
    let mut sealer = packet_core::transport::Sealer::new(&sec, Side::Client, &Default::default());
    let mut wire = [0u8; 128];
    let n = sealer
        .seal_with(ECHO, &mut wire, |w| w.put_bytes(b"forged body!"))
        .unwrap();
    wire[22] ^= 1;
    let mut forger = std::net::TcpStream::connect(addr).unwrap();
    forger.write_all(&wire[..n]).unwrap();
    // A client sealing as the server (reflection) is refused too.
    let mut reflect = TcpPacketStream::connect_with(addr, config())
        .unwrap()
        .with_security(&sec, Side::Server);
    reflect.send_raw(ECHO, b"reflected").unwrap();
    assert!(reflect.recv().is_err());
    assert!(wait_until(LIMIT, || server.stats().bad_frames == 3));
    // The others are undisturbed.
    for (c, s) in clients.iter_mut().enumerate() {
        payload(c as u32, 99, &mut buf);
        s.send(&Msg {
            client: c as u32,
            seq: 99,
            data: &buf,
        })
        .unwrap();
        let m: Msg<'_> = s.recv().unwrap().decode_packet().unwrap();
        assert_eq!(m.data, &buf[..]);
    }
    server.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_tokio_server_echoes() {
    use packet_core::transport::tokio::TcpPacketStream;
    let sec = security();
    let server = packet_core::server::tokio::Server::bind(
        "127.0.0.1:0",
        ServerConfig::default().with_security(sec.clone()),
        echo_router(),
        (),
    )
    .await
    .unwrap();
    let mut s = TcpPacketStream::connect(server.local_addr())
        .await
        .unwrap()
        .with_security(&sec, Side::Client);
    let mut buf = Vec::new();
    for seq in 0..50 {
        payload(5, seq, &mut buf);
        s.queue(&Msg {
            client: 5,
            seq,
            data: &buf,
        })
        .await
        .unwrap();
    }
    s.flush().await.unwrap();
    for seq in 0..50 {
        payload(5, seq, &mut buf);
        let m: Msg<'_> = s.recv().await.unwrap().decode_packet().unwrap();
        assert_eq!((m.seq, m.data), (seq, &buf[..]));
    }
    server.shutdown().await;
}

#[test]
fn sealed_udp_drops_replays_and_forgeries() {
    let sec = security();
    let mut server = UdpPacketSocket::bind_with("127.0.0.1:0", config())
        .unwrap()
        .with_security(&sec, Side::Server);
    let server_addr = server.local_addr().unwrap();
    let raw = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    raw.connect(server_addr).unwrap();
    let mut sealer = packet_core::transport::Sealer::new(&sec, Side::Client, &Default::default());
    let mut first = [0u8; 128];
    let n1 = sealer
        .seal_with(ECHO, &mut first, |w| w.put_bytes(b"one"))
        .unwrap();
    let mut second = [0u8; 128];
    let n2 = sealer
        .seal_with(ECHO, &mut second, |w| w.put_bytes(b"two"))
        .unwrap();
    let mut forged = second;
    forged[n2 - 10] ^= 0x80; // in the tag
    raw.send(&first[..n1]).unwrap();
    raw.send(&first[..n1]).unwrap(); // replay
    raw.send(&forged[..n2]).unwrap(); // forgery
    raw.send(&second[..n2]).unwrap();
    let mut got = Vec::new();
    for _ in 0..2 {
        let (frame, _) = server.recv_from().unwrap();
        got.push(frame.body().to_vec());
    }
    assert_eq!(got, [b"one".to_vec(), b"two".to_vec()]);
    assert_eq!(server.stats().dropped, 2);

    // And a sealed echo with a packet socket client in connected mode (a
    // fresh server: one socket is one sealed channel, whose replay window
    // has seen sequences 0 and 1 already).
    let mut server = UdpPacketSocket::bind_with("127.0.0.1:0", config())
        .unwrap()
        .with_security(&sec, Side::Server);
    let server_addr = server.local_addr().unwrap();
    let mut client = UdpPacketSocket::bind_with("127.0.0.1:0", config())
        .unwrap()
        .with_security(&sec, Side::Client);
    client.connect(server_addr).unwrap();
    client.send_raw(ECHO, b"hello").unwrap();
    let mut buf = server.new_recv_buf();
    let (frame, from) = server.recv_from_in(&mut buf).unwrap();
    server.send_raw_to(ECHO, frame.body(), from).unwrap();
    assert_eq!(client.recv().unwrap().body(), b"hello");
}
