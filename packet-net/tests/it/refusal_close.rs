//! A refused client reads its refusal even when it sent more than the
//! server read: the refusing end (a listener's stream or a server session,
//! blocking and tokio) shuts down losslessly, reading and dropping what
//! the client still sends until it closes, so the kernel never resets the
//! connection under the refusal (wire format §11.5).

use std::net::SocketAddr;
use std::time::Duration;

use packet_net::server::{Router, ServerConfig};
use packet_net::transport::blocking::TcpPacketStream;
use packet_net::transport::{TransportConfig, TransportError};

use crate::common::wait_until;

const FP: u64 = 0x1111_2222_3333_4444;
const OTHER: u64 = 0x5555_6666_7777_8888;
const LIMIT: Duration = Duration::from_secs(5);

fn transport(fingerprint: u64) -> TransportConfig {
    TransportConfig::default()
        .with_read_timeout(Some(LIMIT))
        .with_write_timeout(Some(LIMIT))
        .with_fingerprint(fingerprint)
}

/// A grace far past [`LIMIT`]: a refused session that ends within
/// `LIMIT` ended because its client closed.
fn server_config() -> ServerConfig {
    ServerConfig::default()
        .with_workers(1)
        .with_fingerprint(FP)
        .with_shutdown_grace(Duration::from_secs(60))
}

fn assert_refused(e: TransportError) {
    match e {
        TransportError::ProtocolMismatch(m) => assert_eq!((m.client, m.server), (OTHER, FP)),
        other => panic!("expected the refusal, got {other:?}"),
    }
}

/// A client of another protocol sends its hello and 64 KiB of frames
/// (more than a server's first read, 16 KiB: the rest sits unread in the
/// server's receive buffer when it refuses), gives the server time to
/// refuse, sends once more and receives: the send goes through and the
/// receive is the refusal, not a reset.
fn refused_client(addr: SocketAddr) {
    let mut client = TcpPacketStream::connect_with(addr, transport(OTHER)).unwrap();
    let body = [0; 1000];
    for _ in 0..64 {
        client.queue_raw(7, &body).unwrap();
    }
    client.flush().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let sent = client.send_raw(7, &body);
    assert!(sent.is_ok(), "a send after the refusal: {sent:?}");
    assert_refused(client.recv().map(|_| ()).unwrap_err());
}

#[test]
fn a_blocking_listener_refuses_without_a_reset() {
    use packet_net::transport::blocking::TcpPacketListener;
    let listener = TcpPacketListener::bind_with("127.0.0.1:0", transport(FP)).unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut peer, _) = listener.accept().unwrap();
        peer.recv().map(|_| ()).unwrap_err()
    });
    refused_client(addr);
    assert_refused(server.join().unwrap());
}

#[test]
fn a_blocking_server_refuses_without_a_reset() {
    use packet_net::server::blocking::Server;
    let server = Server::bind("127.0.0.1:0", server_config(), Router::<()>::new(), ()).unwrap();
    refused_client(server.local_addr());
    assert!(wait_until(LIMIT, || server.stats().protocol_mismatches == 1));
    server.shutdown();
}

#[cfg(feature = "tokio")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tokio_listener_refuses_without_a_reset() {
    use packet_net::transport::tokio::TcpPacketListener;
    let listener = TcpPacketListener::bind_with("127.0.0.1:0", transport(FP))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut peer, _) = listener.accept().await.unwrap();
        peer.recv().await.map(|_| ()).unwrap_err()
    });
    tokio::task::spawn_blocking(move || refused_client(addr))
        .await
        .unwrap();
    assert_refused(server.await.unwrap());
}

#[cfg(feature = "tokio")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tokio_server_refuses_without_a_reset() {
    use packet_net::server::tokio::Server;
    let server = Server::bind("127.0.0.1:0", server_config(), Router::<()>::new(), ())
        .await
        .unwrap();
    let addr = server.local_addr();
    tokio::task::spawn_blocking(move || refused_client(addr))
        .await
        .unwrap();
    let ended = || server.stats().protocol_mismatches == 1;
    assert!(tokio::task::block_in_place(|| wait_until(LIMIT, ended)));
    server.shutdown().await;
}
