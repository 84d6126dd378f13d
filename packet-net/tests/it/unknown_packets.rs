//! The router's unknown-packet policy over real sockets: by default a
//! frame of an unknown type id ends its session; under
//! `UnknownPackets::Ignore` it is counted and the session goes on (TCP,
//! blocking and tokio, and UDP).

use std::time::Duration;

use packet_net::server::{Router, ServerConfig, UnknownPackets};
use packet_net::transport::TransportConfig;

const ECHO: u16 = 0x0E01;
const UNKNOWN: u16 = 0x7777;
const LIMIT: Duration = Duration::from_secs(10);

fn router(policy: UnknownPackets) -> Router<()> {
    Router::<()>::new()
        .on_frame(ECHO, |ctx, f| ctx.reply_raw(ECHO, f.body()))
        .on_unknown(policy)
}

fn transport() -> TransportConfig {
    TransportConfig::default().with_read_timeout(Some(LIMIT))
}

#[test]
fn blocking_tcp_ignores_unknown_packets_when_told_and_counts_them() {
    use packet_net::server::blocking::Server;
    use packet_net::transport::blocking::TcpPacketStream;
    let server = Server::bind(
        "127.0.0.1:0",
        ServerConfig::default(),
        router(UnknownPackets::Ignore),
        (),
    )
    .unwrap();
    let mut c = TcpPacketStream::connect_with(server.local_addr(), transport()).unwrap();
    for i in 0..3u8 {
        c.send_raw(UNKNOWN, &[i]).unwrap();
        c.send_raw(ECHO, &[i]).unwrap();
        // The session survives: the echo after each unknown frame arrives.
        assert_eq!(c.recv().unwrap().body(), &[i]);
    }
    let stats = server.stats();
    assert_eq!((stats.unknown_ignored, stats.active), (3, 1));
    assert_eq!(stats.handler_errors, 0);
    drop(c);
    server.shutdown();
}

#[test]
fn blocking_tcp_closes_on_an_unknown_packet_by_default() {
    use packet_net::server::blocking::Server;
    use packet_net::transport::blocking::TcpPacketStream;
    assert_eq!(Router::<()>::new().unknown_packets(), UnknownPackets::Close);
    let server = Server::bind(
        "127.0.0.1:0",
        ServerConfig::default(),
        router(UnknownPackets::default()),
        (),
    )
    .unwrap();
    let mut c = TcpPacketStream::connect_with(server.local_addr(), transport()).unwrap();
    c.send_raw(ECHO, b"first").unwrap();
    c.send_raw(UNKNOWN, b"?").unwrap();
    // The reply to the valid frame leaves before the close.
    assert_eq!(c.recv().unwrap().body(), b"first");
    assert!(c.recv().is_err());
    assert!(crate::common::wait_until(LIMIT, || server
        .stats()
        .unknown_closed
        == 1));
    let stats = server.stats();
    assert_eq!((stats.unknown_ignored, stats.handler_errors), (0, 0));
    server.shutdown();
}

#[cfg(feature = "tokio")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_tcp_ignores_unknown_packets_when_told() {
    use packet_net::server::tokio::Server;
    use packet_net::transport::tokio::TcpPacketStream;
    let server = Server::bind(
        "127.0.0.1:0",
        ServerConfig::default(),
        router(UnknownPackets::Ignore),
        (),
    )
    .await
    .unwrap();
    let mut c = TcpPacketStream::connect_with(server.local_addr(), transport())
        .await
        .unwrap();
    for i in 0..3u8 {
        c.send_raw(UNKNOWN, &[i]).await.unwrap();
        c.send_raw(ECHO, &[i]).await.unwrap();
        assert_eq!(c.recv().await.unwrap().body(), &[i]);
    }
    let stats = server.stats();
    assert_eq!((stats.unknown_ignored, stats.active), (3, 1));
    drop(c);
    server.shutdown().await;
}

#[cfg(feature = "tokio")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_ignores_unknown_packets_when_told_and_closes_by_default() {
    use packet_net::server::tokio::UdpServer;
    use packet_net::transport::tokio::UdpPacketSocket;
    for policy in [UnknownPackets::Ignore, UnknownPackets::Close] {
        let server = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), router(policy), ())
            .await
            .unwrap();
        let mut c = UdpPacketSocket::bind_with("127.0.0.1:0", transport())
            .await
            .unwrap();
        c.connect(server.local_addr()).await.unwrap();
        c.send_raw(ECHO, b"a").await.unwrap();
        assert_eq!(c.recv().await.unwrap().body(), b"a");
        c.send_raw(UNKNOWN, b"?").await.unwrap();
        c.send_raw(ECHO, b"b").await.unwrap();
        let stats = if policy == UnknownPackets::Ignore {
            // The session goes on: the next echo comes back.
            assert_eq!(c.recv().await.unwrap().body(), b"b");
            server.stats()
        } else {
            // The session ended: wait until the server says so.
            let end = std::time::Instant::now() + LIMIT;
            while server.stats().unknown_closed == 0 && std::time::Instant::now() < end {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            server.stats()
        };
        match policy {
            UnknownPackets::Ignore => {
                assert_eq!((stats.unknown_ignored, stats.handler_errors), (1, 0));
                assert_eq!(stats.active, 1);
            }
            _ => assert_eq!((stats.unknown_ignored, stats.unknown_closed), (0, 1)),
        }
        server.shutdown().await;
    }
}
