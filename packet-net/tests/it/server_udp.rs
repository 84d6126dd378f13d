//! Loopback integration tests of the UDP session server: a session per
//! peer, dispatch through the router, bad datagrams dropped and counted,
//! idle peers expired, the session limit, and (sealed) a peer failing
//! authentication dropped alone.

use std::time::Duration;

use crate::common::{ECHO, Msg, echo_router, payload};
use packet_core::frame;
use packet_net::server::tokio::{UdpServer, UdpServerHandle};
use packet_net::server::{Router, ServerConfig};
use packet_net::transport::tokio::UdpPacketSocket;
use packet_net::transport::{CloseReason, TransportConfig, TransportError};
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(10);

async fn start(config: ServerConfig) -> UdpServerHandle<()> {
    UdpServer::bind("127.0.0.1:0", config, echo_router(), ())
        .await
        .unwrap()
}

async fn wait_until(mut cond: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + LIMIT;
    while std::time::Instant::now() < end {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cond()
}

async fn client(server: std::net::SocketAddr, read_timeout: Duration) -> UdpPacketSocket {
    let config = TransportConfig::default().with_read_timeout(Some(read_timeout));
    let s = UdpPacketSocket::bind_with("127.0.0.1:0", config)
        .await
        .unwrap();
    s.connect(server).await.unwrap();
    s
}

/// Sends message `s` of client `c` and checks the echo byte for byte
/// (a lost datagram on loopback fails the test: it should not happen).
async fn echo_once(sock: &mut UdpPacketSocket, c: u32, s: u32, buf: &mut Vec<u8>) {
    payload(c, s, buf);
    let msg = Msg {
        client: c,
        seq: s,
        data: buf,
    };
    sock.send(&msg).await.unwrap();
    let f = sock.recv().await.unwrap();
    let got: Msg<'_> = f.decode_packet().unwrap();
    assert_eq!(got, msg);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_peers_get_one_session_each_and_every_byte_back() {
    let server = start(ServerConfig::default()).await;
    let addr = server.local_addr();
    let mut tasks = Vec::new();
    for c in 0..32u32 {
        tasks.push(tokio::spawn(async move {
            let mut sock = client(addr, LIMIT).await;
            let mut buf = Vec::new();
            for s in 0..40 {
                echo_once(&mut sock, c, s, &mut buf).await;
            }
        }));
    }
    for t in tasks {
        timeout(LIMIT, t).await.unwrap().unwrap();
    }
    let stats = server.stats();
    assert_eq!((stats.accepted, stats.active), (32, 32));
    assert_eq!((stats.frames_in, stats.frames_out), (32 * 40, 32 * 40));
    assert_eq!(server.dropped(), 0);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_bad_datagrams_are_dropped_counted_and_make_no_session() {
    let server = start(ServerConfig::default()).await;
    let addr = server.local_addr();
    let mut good = client(addr, LIMIT).await;
    let mut buf = Vec::new();
    echo_once(&mut good, 1, 0, &mut buf).await;
    let raw = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut wire = [0u8; 128];
    let n = frame::encode_raw(ECHO, 0, b"datagram", &mut wire).unwrap();
    raw.send_to(&wire[..n - 1], addr).await.unwrap(); // truncated
    let mut bad = wire;
    bad[20] ^= 0xFF; // bad check
    raw.send_to(&bad[..n], addr).await.unwrap();
    raw.send_to(b"garbage", addr).await.unwrap();
    // From a known peer too: dropped, the session stays.
    good.get_ref().send(&bad[..n]).await.unwrap();
    assert!(
        wait_until(|| server.dropped() == 4).await,
        "{}",
        server.dropped()
    );
    assert_eq!(server.stats().accepted, 1, "garbage made no session");
    echo_once(&mut good, 1, 1, &mut buf).await;
    assert_eq!(server.stats().active, 1);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_idle_peers_expire_and_the_limit_holds() {
    let config = ServerConfig::default()
        .with_idle_timeout(Some(Duration::from_secs(1)))
        .with_max_sessions(2);
    let server = start(config).await;
    let addr = server.local_addr();
    let mut a = client(addr, LIMIT).await;
    let mut b = client(addr, LIMIT).await;
    let mut buf = Vec::new();
    echo_once(&mut a, 1, 0, &mut buf).await;
    echo_once(&mut b, 2, 0, &mut buf).await;
    // A third peer is over the limit: its datagram is dropped, answered
    // by one close notice (wire format §12), "server full".
    let mut c = client(addr, Duration::from_millis(100)).await;
    c.send_raw(ECHO, b"let me in").await.unwrap();
    let e = timeout(LIMIT, c.recv()).await.unwrap().unwrap_err();
    assert!(
        matches!(&e, TransportError::ClosedByServer(n) if n.reason == CloseReason::ServerFull),
        "{e:?}"
    );
    let e = timeout(LIMIT, c.recv()).await.unwrap().unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert_eq!(server.stats().rejected, 1);
    // Silent peers are dropped after the idle timeout...
    assert!(wait_until(|| server.sessions().is_empty()).await);
    assert!(server.stats().timeouts >= 2);
    // ...and room is made: the third peer gets in.
    let mut c = client(addr, LIMIT).await;
    echo_once(&mut c, 3, 0, &mut buf).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_handler_close_and_broadcast_reach_the_right_peers() {
    let router = Router::<()>::new()
        .on_frame(1, |ctx, f| {
            ctx.broadcast_others_raw(2, f.body());
            Ok(())
        })
        .on_frame(3, |ctx, _| {
            ctx.close();
            Ok(())
        });
    let server = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), router, ())
        .await
        .unwrap();
    let addr = server.local_addr();
    let mut a = client(addr, LIMIT).await;
    let mut b = client(addr, LIMIT).await;
    // b joins (type 1 with no other session: nothing is broadcast).
    b.send_raw(1, b"b is here").await.unwrap();
    assert!(wait_until(|| server.sessions().len() == 1).await);
    a.send_raw(1, b"hello from a").await.unwrap();
    let f = timeout(LIMIT, b.recv()).await.unwrap().unwrap();
    assert_eq!((f.type_id(), f.body()), (2, &b"hello from a"[..]));
    // Type 3: the handler closes b's session alone.
    assert_eq!(server.sessions().len(), 2);
    b.send_raw(3, b"").await.unwrap();
    assert!(wait_until(|| server.sessions().len() == 1).await);
    // b came first (session #1) and is gone; a (#2) stays.
    use packet_net::server::SessionId;
    assert!(server.sessions().get(SessionId(1)).is_none());
    let left = server.sessions().get(SessionId(2)).unwrap();
    assert_eq!(left.peer_addr(), a.local_addr().unwrap());
    assert_eq!(server.stats().accepted, 2);
    server.shutdown().await;
}

#[cfg(feature = "crypto")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_sealed_forgeries_are_dropped_and_counted_and_end_nothing() {
    use crate::common::login::Login;
    use packet_net::fuzzing;

    let login = Login::new();
    let config = ServerConfig::default().sealed(login.provider());
    let server = start(config).await;
    let addr = server.local_addr();
    let mut good = client(addr, LIMIT).await.sealed(login.issue().1);
    let (victim_token, sec) = login.issue();
    let mut victim = client(addr, LIMIT).await.sealed(sec);
    let mut buf = Vec::new();
    echo_once(&mut good, 1, 0, &mut buf).await;
    echo_once(&mut victim, 2, 0, &mut buf).await;
    // Forged frames from the victim's address: sealed under the right key,
    // one ciphertext bit flipped.
    // Sequence 10: ahead of the victim's, so the replay check passes and
    // authentication is what fails.
    let (mut sealer, _, _) = fuzzing::halves(Login::stolen(victim_token), Default::default(), true);
    let mut wire = [0u8; 128];
    for _ in 0..10 {
        sealer.seal_with(ECHO, &mut wire, |_| Ok(())).unwrap();
    }
    let n = sealer
        .seal_with(ECHO, &mut wire, |w| w.put_bytes(b"forged body!"))
        .unwrap();
    wire[22] ^= 1;
    for _ in 0..3 {
        victim.get_ref().send(&wire[..n]).await.unwrap();
    }
    assert!(wait_until(|| server.dropped() == 3).await);
    assert_eq!(server.stats().bad_frames, 0);
    assert_eq!(server.sessions().len(), 2);
    // Both peers are undisturbed.
    echo_once(&mut good, 1, 1, &mut buf).await;
    echo_once(&mut victim, 2, 1, &mut buf).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_graceful_shutdown_sends_what_was_queued() {
    let server = start(ServerConfig::default()).await;
    let mut sock = client(server.local_addr(), LIMIT).await;
    let mut buf = Vec::new();
    echo_once(&mut sock, 1, 0, &mut buf).await;
    let id = {
        let mut ids = Vec::new();
        server.sessions().ids(&mut ids);
        ids[0]
    };
    // Queued from outside, then shutdown at once: every frame still leaves.
    for i in 0..100u32 {
        server
            .sessions()
            .send_raw_to(id, 7, &i.to_le_bytes())
            .unwrap();
    }
    server.shutdown().await;
    for i in 0..100u32 {
        let f = timeout(LIMIT, sock.recv()).await.unwrap().unwrap();
        assert_eq!((f.type_id(), f.body()), (7, &i.to_le_bytes()[..]));
    }
}

/// The sealed close notice of a session the application closed (wire
/// format §12): its sequence comes from the session's own send side.
async fn closed_by_app(c: &mut UdpPacketSocket) {
    let e = timeout(LIMIT, c.recv()).await.unwrap().unwrap_err();
    assert!(
        matches!(&e, TransportError::ClosedByServer(n) if n.reason == CloseReason::Application),
        "{e:?}"
    );
}

#[cfg(feature = "crypto")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_sealed_peer_coming_back_continues_its_channel() {
    use packet_net::fuzzing::{self, Opened};

    let login = crate::common::login::Login::new();
    let (_, sec) = login.issue();
    let router = Router::<()>::new()
        .on_frame(ECHO, |ctx, f| {
            let m: Msg<'_> = f.decode_packet()?;
            ctx.reply(&m)
        })
        .on_frame(3, |ctx, _| {
            ctx.close();
            Ok(())
        });
    // Idle for a second: long enough that five echoes never idle out.
    let config = ServerConfig::default()
        .with_idle_timeout(Some(Duration::from_secs(1)))
        .sealed(login.provider());
    let server = UdpServer::bind("127.0.0.1:0", config, router, ())
        .await
        .unwrap();
    let mut c = client(server.local_addr(), LIMIT).await.sealed(sec);
    let mut buf = Vec::new();
    for i in 0..5 {
        echo_once(&mut c, 1, i, &mut buf).await;
    }
    // The session idles out; the peer comes back. Its new session goes
    // on numbering from where the old one stopped (a restart at 0 would
    // reuse nonces, and the client would reject the replies as replays),
    // and the client's old datagrams stay replays.
    let e = timeout(LIMIT, c.recv()).await.unwrap().unwrap_err();
    assert!(
        matches!(&e, TransportError::ClosedByServer(n) if n.reason == CloseReason::IdleTimeout),
        "{e:?}"
    );
    assert!(wait_until(|| server.sessions().is_empty()).await);
    for i in 5..10 {
        echo_once(&mut c, 1, i, &mut buf).await;
    }
    assert_eq!(server.stats().accepted, 2);
    assert_eq!(server.dropped(), 0);
    // Kicked, it does not come back: its channel is forgotten, and its
    // datagrams are dropped as unauthenticated ones.
    c.send_raw(3, b"").await.unwrap();
    closed_by_app(&mut c).await;
    assert!(wait_until(|| server.sessions().is_empty()).await);
    c.send_raw(ECHO, b"").await.unwrap();
    assert!(wait_until(|| server.dropped() == 1).await);
    assert!(server.sessions().is_empty());
    // The same address starts a new session with a new token: its hello
    // makes a new channel, and the reply is sealed under the new keys.
    let (new_token, new_sec) = login.issue();
    let (mut sealer, mut opener, _) = fuzzing::halves(
        crate::common::login::Login::stolen(new_token),
        Default::default(),
        true,
    );
    drop(new_sec);
    let hello = fuzzing::session_hello(&new_token);
    let mut wire = [0u8; 256];
    payload(1, 77, &mut buf);
    let m = Msg {
        client: 1,
        seq: 77,
        data: &buf,
    };
    let n = sealer
        .seal_with(ECHO, &mut wire, |w| packet_core::Packet::write_data(&m, w))
        .unwrap();
    c.get_ref().send(&hello).await.unwrap();
    c.get_ref().send(&wire[..n]).await.unwrap();
    let mut reply = [0u8; 256];
    let got = timeout(LIMIT, c.get_ref().recv(&mut reply))
        .await
        .unwrap()
        .unwrap();
    let Ok(Opened::Frame(header)) = opener.open_datagram(&mut reply[..got], &Default::default())
    else {
        panic!("the reply did not open under the new keys");
    };
    let frame = fuzzing::frame_in(header, &reply[..got]);
    let back: Msg<'_> = frame.decode_packet().unwrap();
    assert_eq!((back.seq, back.data), (77, &buf[..]));
    assert_eq!(server.stats().accepted, 3);
    server.shutdown().await;
}

#[cfg(feature = "crypto")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_sealed_sessions_need_a_valid_hello() {
    use crate::common::login::Login;
    use packet_net::fuzzing::{self, session_hello};
    use packet_net::transport::SessionToken;

    let login = crate::common::login::Login::new();
    let server = start(ServerConfig::default().sealed(login.provider())).await;
    let addr = server.local_addr();
    let mut a = client(addr, LIMIT).await.sealed(login.issue().1);
    let mut b = client(addr, LIMIT).await.sealed(login.issue().1);
    let mut buf = Vec::new();
    echo_once(&mut a, 1, 0, &mut buf).await;
    echo_once(&mut b, 2, 0, &mut buf).await;
    // A sealed frame without a hello, an unknown token, and a replay of a
    // used hello with its session's first frame: no session comes of them.
    let (token, _) = login.issue();
    let (mut sealer, _, _) = fuzzing::halves(Login::stolen(token), Default::default(), true);
    let mut wire = [0u8; 128];
    let n = sealer.seal_with(ECHO, &mut wire, |_| Ok(())).unwrap();
    let rogue = client(addr, LIMIT).await;
    rogue.get_ref().send(&wire[..n]).await.unwrap();
    rogue
        .get_ref()
        .send(&session_hello(&SessionToken([0xEE; 16])))
        .await
        .unwrap();
    // The rightful owner uses the token once ...
    let owner = client(addr, LIMIT).await;
    owner.get_ref().send(&session_hello(&token)).await.unwrap();
    assert!(wait_until(|| server.sessions().len() == 3).await);
    // ... and a replay of its hello from elsewhere is refused.
    let replayer = client(addr, LIMIT).await;
    replayer
        .get_ref()
        .send(&session_hello(&token))
        .await
        .unwrap();
    replayer.get_ref().send(&wire[..n]).await.unwrap();
    assert!(wait_until(|| server.dropped() == 4).await);
    assert_eq!(server.sessions().len(), 3);
    assert_eq!(server.stats().accepted, 3);
    echo_once(&mut a, 1, 1, &mut buf).await;
    echo_once(&mut b, 2, 1, &mut buf).await;
    server.shutdown().await;
}

#[cfg(feature = "crypto")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_sealed_client_resends_a_lost_hello_until_the_server_answers() {
    use packet_net::fuzzing::session_hello;

    let login = crate::common::login::Login::new();
    let router = Router::<()>::new().on_frame(ECHO, |ctx, f| ctx.reply_raw(ECHO, f.body()));
    let config = ServerConfig::default().sealed(login.provider());
    let server = UdpServer::bind("127.0.0.1:0", config, router, ())
        .await
        .unwrap();
    let to = server.local_addr();
    // Stands in for the network losing datagrams: what goes here never
    // reaches the server.
    let hole = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let lost = hole.local_addr().unwrap();
    let (token, sec) = login.issue();
    let config = TransportConfig::default().with_read_timeout(Some(LIMIT));
    let mut c = UdpPacketSocket::bind_with("127.0.0.1:0", config)
        .await
        .unwrap()
        .sealed(sec);
    let mut got = [0u8; 256];
    c.send_raw_to(ECHO, b"lost", lost).await.unwrap();
    let n = timeout(LIMIT, hole.recv(&mut got)).await.unwrap().unwrap();
    assert_eq!(
        got[..n],
        session_hello(&token),
        "the hello went first, and was lost"
    );
    timeout(LIMIT, hole.recv(&mut got)).await.unwrap().unwrap();
    // Not answered yet: every datagram still carries the hello before it;
    // the server takes the first, ignores the duplicate.
    c.send_raw_to(ECHO, b"a", to).await.unwrap();
    c.send_raw_to(ECHO, b"b", to).await.unwrap();
    for want in [b"a", b"b"] {
        let (f, from) = timeout(LIMIT, c.recv_from()).await.unwrap().unwrap();
        assert_eq!((f.type_id(), f.body(), from), (ECHO, &want[..], to));
    }
    assert_eq!(server.dropped(), 0);
    assert_eq!(server.stats().accepted, 1);
    assert_eq!(server.sessions().len(), 1);
    // Answered: no more hellos.
    c.send_raw_to(ECHO, b"x", lost).await.unwrap();
    let n = timeout(LIMIT, hole.recv(&mut got)).await.unwrap().unwrap();
    assert_ne!(got[..n], session_hello(&token));
    assert_eq!(c.stats().dropped, 0);
    server.shutdown().await;
}

/// The tokio UDP loop with no deadline at all (no idle timeout: its sleep
/// branch disabled since the refactor) still wakes for frames another
/// thread queued (a broadcast from outside the server's task), each
/// time, and stops at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_without_deadlines_wakes_for_outside_broadcasts_and_stops() {
    let config = ServerConfig::default().with_idle_timeout(None);
    let router = Router::<()>::new().on_frame(1, |_, _| Ok(()));
    let server = UdpServer::bind("127.0.0.1:0", config, router, ())
        .await
        .unwrap();
    let mut c = client(server.local_addr(), LIMIT).await;
    c.send_raw(1, b"here").await.unwrap();
    assert!(wait_until(|| server.sessions().len() == 1).await);
    for i in 0..3u8 {
        // Quiet first: the server's task waits with nothing due.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let sessions = server.sessions().clone();
        let report = std::thread::spawn(move || sessions.broadcast_raw(2, &[i; 3], None))
            .join()
            .unwrap();
        assert_eq!(report.delivered, 1, "{report:?}");
        let f = timeout(LIMIT, c.recv()).await.unwrap().unwrap();
        assert_eq!((f.type_id(), f.body()), (2, &[i; 3][..]));
    }
    timeout(LIMIT, server.shutdown()).await.unwrap();
}
