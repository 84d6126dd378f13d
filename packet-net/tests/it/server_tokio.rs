//! Loopback integration tests of the tokio server, stream, UDP socket and
//! tokio-util codec.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::common::{ECHO, Msg, echo_router, payload};
use futures_util::{SinkExt, StreamExt};
use packet_core::frame;
use packet_net::server::tokio::{Server, ServerHandle};
use packet_net::server::{Router, ServerConfig};
use packet_net::transport::tokio::{PacketCodec, RawFrame, TcpPacketStream, UdpPacketSocket};
use packet_net::transport::{TransportConfig, TransportError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_util::codec::Framed;

const LIMIT: Duration = Duration::from_secs(10);

async fn start(config: ServerConfig) -> ServerHandle<()> {
    Server::bind("127.0.0.1:0", config, echo_router(), ())
        .await
        .unwrap()
}

async fn wait_until(mut cond: impl FnMut() -> bool) -> bool {
    timeout(LIMIT, async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .is_ok()
}

async fn echo_round(s: &mut TcpPacketStream, c: u32, n: u32) {
    let mut buf = Vec::new();
    for seq in 0..n {
        payload(c, seq, &mut buf);
        s.queue(&Msg {
            client: c,
            seq,
            data: &buf,
        })
        .await
        .unwrap();
    }
    s.flush().await.unwrap();
    for seq in 0..n {
        payload(c, seq, &mut buf);
        let frame = timeout(LIMIT, s.recv()).await.unwrap().unwrap();
        let m: Msg<'_> = frame.decode_packet().unwrap();
        assert_eq!((m.client, m.seq, m.data), (c, seq, &buf[..]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_async_clients_echo_every_byte() {
    let server = start(ServerConfig::default()).await;
    let addr = server.local_addr();
    const CLIENTS: u32 = 300;
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..CLIENTS {
        tasks.spawn(async move {
            let mut s = TcpPacketStream::connect(addr).await.unwrap();
            for _ in 0..3 {
                echo_round(&mut s, c, 8).await;
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let stats = server.stats();
    assert_eq!(stats.accepted, u64::from(CLIENTS));
    assert_eq!(stats.frames_in, u64::from(CLIENTS * 24));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_hostile_clients_are_dropped_alone() {
    let config = ServerConfig::default().with_frame_timeout(Duration::from_millis(200));
    let server = start(config).await;
    let addr = server.local_addr();
    let mut good = tokio::task::JoinSet::new();
    for c in 0..8 {
        good.spawn(async move {
            let mut s = TcpPacketStream::connect(addr).await.unwrap();
            for _ in 0..20 {
                echo_round(&mut s, c, 10).await;
            }
        });
    }
    // Garbage.
    let mut garbage = TcpStream::connect(addr).await.unwrap();
    garbage
        .write_all(b"\xff\xff\xff\xffnot a frame")
        .await
        .unwrap();
    // Mid-frame disconnect.
    let mut wire = [0u8; 128];
    let n = frame::encode_raw(ECHO, 0, &[5; 50], &mut wire).unwrap();
    {
        let mut half = TcpStream::connect(addr).await.unwrap();
        half.write_all(&wire[..n - 9]).await.unwrap();
    }
    // Slow loris: a header, then nothing.
    let mut loris = TcpStream::connect(addr).await.unwrap();
    loris.write_all(&wire[..12]).await.unwrap();
    // Each is told why (wire format §12), then closed once it closes.
    use packet_net::transport::{CloseNotice, CloseReason};
    let reasons = [CloseReason::ProtocolError, CloseReason::IdleTimeout];
    for (s, reason) in [&mut garbage, &mut loris].into_iter().zip(reasons) {
        let mut b = [0u8; packet_net::fuzzing::CLOSE_NOTICE_LEN];
        timeout(LIMIT, s.read_exact(&mut b)).await.unwrap().unwrap();
        let f = frame::Frame::parse(&b).unwrap();
        assert_eq!(
            CloseNotice::parse(f.type_id(), f.body()),
            Some(CloseNotice::new(reason))
        );
        s.shutdown().await.unwrap();
        let r = timeout(LIMIT, s.read(&mut b)).await.unwrap();
        assert!(matches!(r, Ok(0) | Err(_)));
    }
    while let Some(r) = good.join_next().await {
        r.unwrap();
    }
    // The server shut its write side after each notice (the client read
    // the end at once) and counts each session when it ends: when it has
    // read this client's end too.
    assert!(
        wait_until(|| {
            let stats = server.stats();
            stats.peer_closed >= 1 && stats.bad_frames >= 1 && stats.timeouts >= 1
        })
        .await
    );
    let stats = server.stats();
    assert_eq!(stats.bad_frames, 1);
    assert_eq!(stats.timeouts, 1);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_graceful_shutdown_flushes_queued_packets() {
    const N: u64 = 60;
    let handled = Arc::new(AtomicU64::new(0));
    let h = handled.clone();
    let router = Router::new().on_frame(ECHO, move |ctx, f| {
        let m: Msg<'_> = f.decode_packet()?;
        let big = vec![m.seq as u8; 2000];
        ctx.reply(&Msg {
            client: m.client,
            seq: m.seq,
            data: &big,
        })?;
        h.fetch_add(1, Ordering::SeqCst);
        Ok(())
    });
    let server = Server::bind("127.0.0.1:0", ServerConfig::default(), router, ())
        .await
        .unwrap();
    let mut s = TcpPacketStream::connect(server.local_addr()).await.unwrap();
    for seq in 0..N as u32 {
        s.queue(&Msg {
            client: 0,
            seq,
            data: b"",
        })
        .await
        .unwrap();
    }
    s.flush().await.unwrap();
    assert!(wait_until(|| handled.load(Ordering::SeqCst) == N).await);
    let stopper = tokio::spawn(server.shutdown());
    for seq in 0..N as u32 {
        let frame = timeout(LIMIT, s.recv()).await.unwrap().unwrap();
        let m: Msg<'_> = frame.decode_packet().unwrap();
        assert_eq!((m.seq, m.data.len()), (seq, 2000));
        assert!(m.data.iter().all(|&b| b == seq as u8));
    }
    assert!(s.recv().await.unwrap_err().is_disconnect());
    stopper.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_reaches_every_other_session() {
    let router = Router::<()>::new().on_frame(ECHO, |ctx, f| {
        ctx.broadcast_others(&Msg {
            client: ctx.id().0 as u32,
            seq: 0,
            data: f.body(),
        });
        Ok(())
    });
    let server = Server::bind("127.0.0.1:0", ServerConfig::default(), router, ())
        .await
        .unwrap();
    let addr = server.local_addr();
    let mut clients = Vec::new();
    for _ in 0..5 {
        clients.push(TcpPacketStream::connect(addr).await.unwrap());
    }
    assert!(wait_until(|| server.stats().active == 5).await);
    clients[0].send_raw(ECHO, b"hello all").await.unwrap();
    for c in &mut clients[1..] {
        let frame = timeout(LIMIT, c.recv()).await.unwrap().unwrap();
        let m: Msg<'_> = frame.decode_packet().unwrap();
        assert_eq!(m.data, b"hello all");
    }
    drop(clients);
    server.shutdown().await;
}

#[tokio::test]
async fn framed_codec_talks_to_the_server() {
    let server = start(ServerConfig::default()).await;
    let stream = TcpStream::connect(server.local_addr()).await.unwrap();
    let mut framed = Framed::new(stream, PacketCodec::default());
    let mut buf = Vec::new();
    for seq in 0..50 {
        payload(9, seq, &mut buf);
        framed
            .feed(&Msg {
                client: 9,
                seq,
                data: &buf,
            })
            .await
            .unwrap();
    }
    SinkExt::<RawFrame<'_>>::flush(&mut framed).await.unwrap();
    for seq in 0..50 {
        payload(9, seq, &mut buf);
        let owned = timeout(LIMIT, framed.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let m: Msg<'_> = owned.as_frame().decode_packet().unwrap();
        assert_eq!((m.seq, m.data), (seq, &buf[..]));
    }
    // Raw frames too; a truncated stream is an error at the end.
    SinkExt::<RawFrame<'_>>::send(
        &mut framed,
        RawFrame {
            type_id: 0x7777,
            body: b"unknown id: the server drops us",
        },
    )
    .await
    .unwrap();
    let end = timeout(LIMIT, framed.next()).await.unwrap();
    assert!(
        matches!(end, Some(Err(TransportError::ClosedByServer(_)))),
        "the close notice, never a frame: {end:?}"
    );
    drop(framed);
    server.shutdown().await;
}

#[tokio::test]
async fn udp_bad_datagrams_are_dropped_and_counted() {
    let mut server = UdpPacketSocket::bind("127.0.0.1:0").await.unwrap();
    let server_addr = server.local_addr().unwrap();
    let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client.connect(server_addr).await.unwrap();
    let mut wire = [0u8; 128];
    let n = frame::encode_raw(ECHO, 1, b"datagram", &mut wire).unwrap();
    let mut bad_crc = wire;
    bad_crc[n - 5] ^= 1;
    let mut trailing = wire[..n].to_vec();
    trailing.extend_from_slice(b"extra");
    let datagrams: [&[u8]; 6] = [
        &wire[..n],
        &wire[..n - 4], // truncated
        &bad_crc[..n],  // bad check
        &trailing,      // bytes after the frame
        b"\x01\x02",    // too short for a length
        &wire[..n],
    ];
    for d in datagrams {
        client.send(d).await.unwrap();
    }
    for _ in 0..2 {
        let (frame, from) = timeout(LIMIT, server.recv_from()).await.unwrap().unwrap();
        assert_eq!(frame.body(), b"datagram");
        let body = frame.body().to_vec();
        server.send_raw_to(ECHO, &body, from).await.unwrap();
    }
    let stats = server.stats();
    assert_eq!((stats.received, stats.dropped), (2, 4));
    let mut got = [0u8; 128];
    for _ in 0..2 {
        let len = timeout(LIMIT, client.recv(&mut got))
            .await
            .unwrap()
            .unwrap();
        let f = frame::decode_frame(&got[..len], &Default::default()).unwrap();
        assert_eq!(f.body(), b"datagram");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_max_sessions_is_enforced() {
    let server = start(ServerConfig::default().with_max_sessions(2)).await;
    let addr = server.local_addr();
    let mut a = TcpPacketStream::connect(addr).await.unwrap();
    let mut b = TcpPacketStream::connect(addr).await.unwrap();
    assert!(wait_until(|| server.stats().active == 2).await);
    // The third is refused.
    let mut c = TcpPacketStream::connect(addr).await.unwrap();
    let refused = timeout(LIMIT, c.recv()).await.unwrap();
    assert!(refused.unwrap_err().is_disconnect());
    assert_eq!(server.stats().rejected, 1);
    echo_round(&mut a, 1, 3).await;
    echo_round(&mut b, 2, 3).await;
    drop((a, b, c));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_idle_session_is_timed_out() {
    let config = ServerConfig::default().with_idle_timeout(Some(Duration::from_millis(100)));
    let server = start(config).await;
    let mut silent = TcpPacketStream::connect(server.local_addr()).await.unwrap();
    let closed = timeout(LIMIT, silent.recv()).await.unwrap();
    assert!(closed.unwrap_err().is_disconnect());
    // Counted when the session ends: once the client, told why, closed.
    assert!(wait_until(|| server.stats().timeouts == 1).await);
    server.shutdown().await;
}

/// The session task keeps one timer and moves it only when the deadline
/// comes earlier: inputs move the idle deadline later, the timer fires
/// early, is set again, and the session, once silent, is still timed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_idle_timeout_follows_a_deadline_moved_by_inputs() {
    let config = ServerConfig::default().with_idle_timeout(Some(Duration::from_millis(150)));
    let server = start(config).await;
    let mut c = TcpPacketStream::connect(server.local_addr()).await.unwrap();
    for seq in 0..6 {
        let data = [seq as u8; 8];
        let msg = Msg {
            client: 1,
            seq,
            data: &data,
        };
        // (On a starved machine the session may time out here already:
        // only the end matters.)
        if c.send(&msg).await.is_err() || c.recv().await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let closed = timeout(LIMIT, async {
        loop {
            if let Err(e) = c.recv().await {
                return e;
            }
        }
    })
    .await
    .unwrap();
    assert!(closed.is_disconnect(), "{closed:?}");
    assert!(wait_until(|| server.stats().timeouts == 1).await);
    server.shutdown().await;
}

/// A config whose read and write timeouts are short (the outer `LIMIT`
/// only guards against a hang; nothing here measures time).
fn timeout_config() -> TransportConfig {
    TransportConfig::default()
        .with_read_timeout(Some(Duration::from_millis(50)))
        .with_write_timeout(Some(Duration::from_millis(50)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_recv_times_out_keeping_a_partial_frame() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut client = TcpPacketStream::connect_with(addr, timeout_config())
        .await
        .unwrap();
    let (mut peer, _) = listener.accept().await.unwrap();
    // A peer that never sends: the receive fails with a timeout.
    let e = timeout(LIMIT, client.recv()).await.unwrap().unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert!(!e.is_disconnect(), "{e:?}");
    // Half a frame, then silence: still a timeout, and the half stays.
    let mut wire = [0u8; 128];
    let n = frame::encode_raw(ECHO, 0, b"late but whole", &mut wire).unwrap();
    peer.write_all(&wire[..n / 2]).await.unwrap();
    let e = timeout(LIMIT, client.recv()).await.unwrap().unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert_eq!(client.buffered(), n / 2);
    // The rest arrives: the frame is whole.
    peer.write_all(&wire[n / 2..n]).await.unwrap();
    let f = timeout(LIMIT, client.recv()).await.unwrap().unwrap();
    assert_eq!((f.type_id(), f.body()), (ECHO, &b"late but whole"[..]));
    // recv_with honours the timeout too; without one it waits.
    let e = timeout(LIMIT, client.recv_with(|_, _| ()))
        .await
        .unwrap()
        .unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    client.set_read_timeout(None);
    assert!(
        timeout(Duration::from_millis(200), client.recv())
            .await
            .is_err(),
        "no read timeout: still waiting when the outer timer fires"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_flush_times_out_when_the_peer_never_reads() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // A queue far larger than the loopback socket buffers can hold.
    let config = timeout_config().with_write_queue_limit(64 << 20);
    let mut client = TcpPacketStream::connect_with(addr, config).await.unwrap();
    let (_peer, _) = listener.accept().await.unwrap();
    let body = vec![7u8; 16 * 1024];
    for _ in 0..(48 << 20) / body.len() {
        client
            .try_queue_with(ECHO, body.len(), |w| w.put_bytes(&body))
            .unwrap();
    }
    let queued = client.queued();
    let e = timeout(LIMIT, client.flush()).await.unwrap().unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    let left = client.queued();
    assert!(
        left > 0 && left <= queued,
        "{left} of {queued} still queued"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_recv_times_out_when_nothing_arrives() {
    let silent = UdpPacketSocket::bind("127.0.0.1:0").await.unwrap();
    let mut sock = UdpPacketSocket::bind_with("127.0.0.1:0", timeout_config())
        .await
        .unwrap();
    sock.connect(silent.local_addr().unwrap()).await.unwrap();
    let e = timeout(LIMIT, sock.recv()).await.unwrap().unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    // An unconnected socket (a connected one hears only its peer).
    let mut sock = UdpPacketSocket::bind_with("127.0.0.1:0", timeout_config())
        .await
        .unwrap();
    let e = timeout(LIMIT, sock.recv_from()).await.unwrap().unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    let mut buf = sock.new_recv_buf();
    let e = timeout(LIMIT, sock.recv_from_in(&mut buf))
        .await
        .unwrap()
        .unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    // Invalid datagrams do not reset the clock into a hang: they are
    // dropped and counted, and the receive still times out.
    let raw = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    raw.send_to(b"not a frame", sock.local_addr().unwrap())
        .await
        .unwrap();
    let e = timeout(LIMIT, sock.recv_from()).await.unwrap().unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    // A valid frame still gets through after the timeouts.
    let mut sender = UdpPacketSocket::bind("127.0.0.1:0").await.unwrap();
    sender
        .send_raw_to(ECHO, b"after", sock.local_addr().unwrap())
        .await
        .unwrap();
    let (f, _) = timeout(LIMIT, sock.recv_from()).await.unwrap().unwrap();
    assert_eq!(f.body(), b"after");
    // Loopback delivers in send order: the garbage came (and went) first.
    assert_eq!((sock.stats().dropped, sock.stats().received), (1, 1));
}
