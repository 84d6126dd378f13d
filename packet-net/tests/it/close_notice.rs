//! The close notice (wire format §12): a client learns why the server
//! ended its session, from the blocking and tokio TCP servers and the UDP
//! servers: server full, shutdown, idle timeout, a protocol error (the
//! replies to what came before it arriving first), a kick with the
//! application's code; sealed, the notice arrives sealed and is believed,
//! while a forged plain one is dropped once the server has answered and,
//! in the handshake window, reported without changing anything.

use std::io::Write as _;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use packet_net::fuzzing::{CLOSE_NOTICE_LEN, close_notice};
use packet_net::server::{Router, ServerConfig, Sessions};
use packet_net::transport::blocking::{TcpPacketStream, UdpPacketSocket};
use packet_net::transport::{CloseNotice, CloseReason, TransportConfig, TransportError};

use crate::common::{KINDS, Kind, Tcp, wait_until, wire};

/// Echoed back as is.
const ECHO: u16 = 1;
/// Echoed back, then the handler kicks the session with [`KICK_CODE`].
const KICK: u16 = 3;
const KICK_CODE: u16 = 7;
/// No handler: ends the session (a protocol error).
const UNKNOWN: u16 = 9;

const LIMIT: Duration = Duration::from_secs(5);

fn router() -> Router<()> {
    Router::new()
        .on_frame(ECHO, |ctx, f| ctx.reply_raw(ECHO, f.body()))
        .on_frame(KICK, |ctx, f| {
            ctx.reply_raw(KICK, f.body())?;
            ctx.close_with(KICK_CODE);
            Ok(())
        })
}

/// A grace far past [`LIMIT`]: a lingering session that ends within
/// `LIMIT` ended because its client closed.
fn config() -> ServerConfig {
    ServerConfig::default()
        .with_workers(1)
        .with_shutdown_grace(Duration::from_secs(30))
}

fn transport() -> TransportConfig {
    TransportConfig::default()
        .with_read_timeout(Some(LIMIT))
        .with_write_timeout(Some(LIMIT))
}

/// `e` is the notice for `reason` with `detail`, a disconnect, and says so.
fn assert_notice(e: TransportError, reason: CloseReason, detail: u16) {
    assert!(e.is_disconnect(), "{e:?}");
    match e {
        TransportError::ClosedByServer(n) => {
            assert_eq!((n.reason, n.detail), (reason, detail), "{n}");
        }
        other => panic!("expected the close notice {reason:?}, got {other:?}"),
    }
}

fn connect(addr: SocketAddr) -> TcpPacketStream {
    TcpPacketStream::connect_with(addr, transport()).unwrap()
}

fn echo(c: &mut TcpPacketStream, body: &[u8]) {
    c.send_raw(ECHO, body).unwrap();
    let f = c.recv().unwrap();
    assert_eq!((f.type_id(), f.body()), (ECHO, body));
}

fn ids(sessions: &Sessions<()>) -> Vec<packet_net::server::SessionId> {
    let mut ids = Vec::new();
    sessions.for_each(|s| ids.push(s.id()));
    ids
}

#[test]
fn tcp_server_full_says_so_before_closing() {
    for &kind in KINDS {
        let server = Tcp::start(kind, config().with_max_sessions(1), router());
        let mut first = connect(server.addr());
        echo(&mut first, b"in");
        let mut second = connect(server.addr());
        let e = second.recv().map(|_| ()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the server closed the session: server full",
            "{kind:?}"
        );
        assert_notice(e, CloseReason::ServerFull, 0);
        // The first session is untouched.
        echo(&mut first, b"still in");
        drop((first, second));
        server.shutdown();
    }
}

#[test]
fn tcp_shutdown_says_so() {
    for &kind in KINDS {
        let server = Tcp::start(kind, config(), router());
        let mut c = connect(server.addr());
        echo(&mut c, b"hi");
        let stop = std::thread::spawn(move || server.shutdown());
        assert_notice(
            c.recv().map(|_| ()).unwrap_err(),
            CloseReason::ShuttingDown,
            0,
        );
        drop(c);
        stop.join().unwrap();
    }
}

/// A client that keeps sending while the server shuts down still reads
/// every reply queued for it, then the notice. About 1 MB of replies wait
/// unread: what its receive buffer does not hold waits in the server's
/// send buffer. The server stops reading at the shutdown, so the client's
/// later frames stay unread; had the session closed once its queue was
/// flushed (into the kernel), closing with bytes unread (or the bytes
/// arriving after the close) would reset the connection, and the kernel
/// would drop the replies still in its send buffer, and the notice. The
/// session instead lingers after the notice, reading and dropping, until
/// the client closes (within the grace).
#[test]
fn tcp_shutdown_does_not_reset_a_client_that_keeps_sending() {
    const FRAMES: usize = 1000;
    let body = [7u8; 1000];
    for (&kind, notices) in KINDS.iter().flat_map(|k| [(k, true), (k, false)]) {
        let server = Tcp::start(kind, config().with_close_notices(notices), router());
        let mut c = connect(server.addr());
        for _ in 0..FRAMES {
            c.send_raw(ECHO, &body).unwrap();
        }
        let all_in = || server.stats().frames_in == FRAMES as u64;
        assert!(wait_until(LIMIT, all_in), "{kind:?}");
        let sessions = server.sessions().clone();
        let stop = std::thread::spawn(move || server.shutdown());
        // It keeps sending, without reading: until its session ended, or
        // for a while (a lingering session does not end), then once more.
        for i in 0.. {
            let last = sessions.is_empty() || i == 200;
            let sent = c.send_raw(ECHO, b"more");
            assert!(
                sent.is_ok(),
                "{kind:?}: a send during the shutdown: {sent:?}"
            );
            if last {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        for n in 0..FRAMES {
            match c.recv() {
                Ok(f) => assert_eq!(f.body(), &body[..], "{kind:?}"),
                Err(e) => panic!("{kind:?}: reply {n} of {FRAMES} lost: {e:?}"),
            }
        }
        // Frames read before the server stopped reading were answered.
        let e = loop {
            match c.recv() {
                Ok(f) => assert_eq!(f.body(), b"more", "{kind:?}"),
                Err(e) => break e,
            }
        };
        if notices {
            assert_notice(e, CloseReason::ShuttingDown, 0);
        } else {
            // No notice: the end of the stream, not a reset.
            assert!(matches!(e, TransportError::Closed), "{kind:?}: {e:?}");
        }
        drop(c);
        stop.join().unwrap();
    }
}

#[test]
fn tcp_idle_timeout_says_so_and_the_session_ends_when_the_client_closes() {
    for &kind in KINDS {
        let idle = Some(Duration::from_millis(300));
        let server = Tcp::start(kind, config().with_idle_timeout(idle), router());
        let mut c = connect(server.addr());
        echo(&mut c, b"hi");
        assert_notice(
            c.recv().map(|_| ()).unwrap_err(),
            CloseReason::IdleTimeout,
            0,
        );
        // The stream stays failed with the same reason, sends included
        // (not the socket's broken pipe).
        assert_notice(
            c.recv().map(|_| ()).unwrap_err(),
            CloseReason::IdleTimeout,
            0,
        );
        assert_notice(
            c.send_raw(ECHO, b"x").unwrap_err(),
            CloseReason::IdleTimeout,
            0,
        );
        // The session lingers until its client closes (not the grace).
        drop(c);
        assert!(
            wait_until(LIMIT, || server.sessions().is_empty()),
            "{kind:?}"
        );
        server.shutdown();
    }
}

#[test]
fn tcp_a_bad_frame_gets_the_earlier_replies_then_the_notice() {
    for &kind in KINDS {
        let server = Tcp::start(kind, config(), router());
        // Three valid frames and a bad one (its check broken), in one write.
        let mut bytes = Vec::new();
        for seq in 0..3u64 {
            bytes.extend(wire(ECHO, seq, &[seq as u8; 5]));
        }
        let mut bad = wire(ECHO, 3, b"bad");
        let check = bad.len() - 8;
        bad[check] ^= 0xFF;
        bytes.extend(bad);
        let mut raw = std::net::TcpStream::connect(server.addr()).unwrap();
        raw.write_all(&bytes).unwrap();
        let mut c = TcpPacketStream::from_stream(raw, transport()).unwrap();
        for seq in 0..3u8 {
            let f = c.recv().unwrap();
            assert_eq!((f.type_id(), f.body()), (ECHO, &[seq; 5][..]), "{kind:?}");
        }
        assert_notice(
            c.recv().map(|_| ()).unwrap_err(),
            CloseReason::ProtocolError,
            0,
        );
        server.shutdown();
    }
}

/// A client that knows nothing of notices reads to the end of the stream:
/// the server shuts its write side once the notice has left, so the end
/// comes right behind the notice, not when the session's grace (30 s,
/// past the read timeout) runs out; the session itself still waits for
/// the client's close, reading and dropping, so that closing does not
/// reset the connection under the notice.
#[test]
fn tcp_the_notice_is_followed_by_the_end_of_the_stream() {
    use std::io::Read as _;
    for &kind in KINDS {
        let server = Tcp::start(kind, config(), router());
        let mut raw = std::net::TcpStream::connect(server.addr()).unwrap();
        raw.set_read_timeout(Some(LIMIT)).unwrap();
        raw.write_all(&wire(UNKNOWN, 0, b"?")).unwrap();
        let mut got = Vec::new();
        let end = raw.read_to_end(&mut got);
        assert!(
            end.is_ok(),
            "{kind:?}: no end of stream after the notice: {end:?}"
        );
        assert_eq!(
            got,
            close_notice(CloseNotice::new(CloseReason::ProtocolError)),
            "{kind:?}"
        );
        // The session lingers until the client closes.
        assert_eq!(ids(server.sessions()).len(), 1, "{kind:?}");
        drop(raw);
        assert!(
            wait_until(LIMIT, || ids(server.sessions()).is_empty()),
            "{kind:?}"
        );
        server.shutdown();
    }
}

#[test]
fn tcp_an_unknown_packet_is_a_protocol_error_after_the_replies() {
    for &kind in KINDS {
        let server = Tcp::start(kind, config(), router());
        let mut c = connect(server.addr());
        c.queue_raw(ECHO, b"first").unwrap();
        c.queue_raw(UNKNOWN, b"?").unwrap();
        c.flush().unwrap();
        let f = c.recv().unwrap();
        assert_eq!((f.type_id(), f.body()), (ECHO, &b"first"[..]));
        assert_notice(
            c.recv().map(|_| ()).unwrap_err(),
            CloseReason::ProtocolError,
            0,
        );
        server.shutdown();
    }
}

#[test]
fn tcp_a_kick_carries_the_applications_code() {
    for &kind in KINDS {
        let server = Tcp::start(kind, config(), router());
        // From a handler: its reply first, then the notice.
        let mut c = connect(server.addr());
        c.send_raw(KICK, b"bye").unwrap();
        let f = c.recv().unwrap();
        assert_eq!((f.type_id(), f.body()), (KICK, &b"bye"[..]));
        let e = c.recv().map(|_| ()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the server closed the session: closed by the application (code 7)"
        );
        assert_notice(e, CloseReason::Application, KICK_CODE);
        drop(c);
        assert!(wait_until(LIMIT, || server.sessions().is_empty()));

        // From outside handlers, with `Sessions::close_with`; `close`
        // says code 0.
        let mut c = connect(server.addr());
        echo(&mut c, b"hi");
        let mut d = connect(server.addr());
        echo(&mut d, b"hi");
        let all = ids(server.sessions());
        assert_eq!(all.len(), 2);
        let [a, b] = [all[0], all[1]];
        assert!(server.sessions().close_with(a, 1234));
        assert!(server.sessions().close(b));
        let mut got = [
            c.recv().map(|_| ()).unwrap_err(),
            d.recv().map(|_| ()).unwrap_err(),
        ]
        .map(|e| match e {
            TransportError::ClosedByServer(n) => n,
            other => panic!("{other:?}"),
        });
        got.sort_by_key(|n| n.detail);
        assert_eq!(
            got,
            [CloseNotice::application(0), CloseNotice::application(1234)]
        );
        server.shutdown();
    }
}

#[test]
fn tcp_notices_can_be_turned_off() {
    for &kind in KINDS {
        let server = Tcp::start(kind, config().with_close_notices(false), router());
        let mut c = connect(server.addr());
        c.send_raw(KICK, b"bye").unwrap();
        c.recv().unwrap();
        let e = c.recv().map(|_| ()).unwrap_err();
        assert!(matches!(e, TransportError::Closed), "{kind:?}: {e:?}");
        // Without a notice the session still lingers until its client
        // closes (or the grace passes): no reset under the last replies.
        assert_eq!(server.sessions().len(), 1, "{kind:?}");
        drop(c);
        assert!(
            wait_until(LIMIT, || server.sessions().is_empty()),
            "{kind:?}"
        );
        server.shutdown();
    }
}

#[cfg(feature = "tokio")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tokio_stream_and_codec_read_the_notice() {
    use futures_util::StreamExt;
    use packet_net::server::tokio::Server;
    use packet_net::transport::tokio::{PacketCodec, TcpPacketStream};
    let server = Server::bind("127.0.0.1:0", config(), router(), ())
        .await
        .unwrap();
    let addr = server.local_addr();

    let mut c = TcpPacketStream::connect_with(addr, transport())
        .await
        .unwrap();
    c.send_raw(KICK, b"x").await.unwrap();
    assert_eq!(c.recv().await.unwrap().type_id(), KICK);
    let e = c.recv().await.map(|_| ()).unwrap_err();
    assert_notice(e, CloseReason::Application, KICK_CODE);

    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stream, &wire(KICK, 0, b"y"))
        .await
        .unwrap();
    let mut framed =
        tokio_util::codec::Framed::new(stream, PacketCodec::client(TransportConfig::default()));
    let reply = framed.next().await.unwrap().unwrap();
    assert_eq!(reply.header.type_id, KICK);
    let e = framed.next().await.unwrap().unwrap_err();
    assert_notice(e, CloseReason::Application, KICK_CODE);
    drop((c, framed));
    server.shutdown().await;
}

// ---------------------------------------------------------------- UDP

fn udp_client(server: SocketAddr) -> UdpPacketSocket {
    let c = UdpPacketSocket::bind_with("127.0.0.1:0", transport()).unwrap();
    c.connect(server).unwrap();
    c
}

fn udp_echo(c: &mut UdpPacketSocket, body: &[u8]) {
    c.send_raw(ECHO, body).unwrap();
    let f = c.recv().unwrap();
    assert_eq!((f.type_id(), f.body()), (ECHO, body));
}

fn udp_server(config: ServerConfig) -> packet_net::server::blocking::UdpServerHandle<()> {
    packet_net::server::blocking::UdpServer::bind("127.0.0.1:0", config, router(), ()).unwrap()
}

#[test]
fn udp_server_full_answers_each_datagram_once_and_keeps_nothing() {
    let server = udp_server(config().with_max_sessions(1));
    let mut first = udp_client(server.local_addr());
    udp_echo(&mut first, b"in");
    let mut second = udp_client(server.local_addr());
    second.send_raw(ECHO, b"let me in").unwrap();
    assert_notice(
        second.recv().map(|_| ()).unwrap_err(),
        CloseReason::ServerFull,
        0,
    );
    // One notice per datagram, never resent.
    let quiet = TransportConfig::default().with_read_timeout(Some(Duration::from_millis(200)));
    let mut probe = UdpPacketSocket::bind_with("127.0.0.1:0", quiet).unwrap();
    probe.connect(server.local_addr()).unwrap();
    probe.send_raw(ECHO, b"let me in").unwrap();
    assert!(matches!(
        probe.recv().map(|_| ()),
        Err(TransportError::ClosedByServer(_))
    ));
    assert!(probe.recv().unwrap_err().is_timeout());
    // A datagram shorter than the notice gets no answer (no amplification).
    probe.send_raw(ECHO, b"").unwrap();
    assert!(probe.recv().unwrap_err().is_timeout());
    assert_eq!(server.sessions().len(), 1);
    udp_echo(&mut first, b"still in");
    server.shutdown();
}

#[test]
fn udp_shutdown_idle_and_protocol_errors_say_so() {
    // Idle.
    let idle = Some(Duration::from_millis(300));
    let server = udp_server(config().with_idle_timeout(idle));
    let mut c = udp_client(server.local_addr());
    udp_echo(&mut c, b"hi");
    assert_notice(
        c.recv().map(|_| ()).unwrap_err(),
        CloseReason::IdleTimeout,
        0,
    );
    assert!(wait_until(LIMIT, || server.sessions().is_empty()));

    // A packet the server has no handler for: the reply first.
    let mut c = udp_client(server.local_addr());
    c.send_raw(ECHO, b"first").unwrap();
    c.send_raw(UNKNOWN, b"?").unwrap();
    let f = c.recv().unwrap();
    assert_eq!((f.type_id(), f.body()), (ECHO, &b"first"[..]));
    assert_notice(
        c.recv().map(|_| ()).unwrap_err(),
        CloseReason::ProtocolError,
        0,
    );

    // Shutdown.
    let mut c = udp_client(server.local_addr());
    udp_echo(&mut c, b"hi");
    let stop = std::thread::spawn(move || server.shutdown());
    assert_notice(
        c.recv().map(|_| ()).unwrap_err(),
        CloseReason::ShuttingDown,
        0,
    );
    stop.join().unwrap();
}

#[test]
fn udp_a_kick_carries_the_applications_code() {
    let server = udp_server(config());
    let mut c = udp_client(server.local_addr());
    c.send_raw(KICK, b"bye").unwrap();
    assert_eq!(c.recv().unwrap().type_id(), KICK);
    assert_notice(
        c.recv().map(|_| ()).unwrap_err(),
        CloseReason::Application,
        KICK_CODE,
    );
    assert!(wait_until(LIMIT, || server.sessions().is_empty()));

    let mut c = udp_client(server.local_addr());
    udp_echo(&mut c, b"hi");
    let id = ids(server.sessions())[0];
    assert!(server.sessions().close_with(id, 42));
    assert_notice(
        c.recv().map(|_| ()).unwrap_err(),
        CloseReason::Application,
        42,
    );
    server.shutdown();
}

#[cfg(feature = "tokio")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tokio_udp_server_says_full_and_kicks() {
    use packet_net::server::tokio::UdpServer;
    let server = UdpServer::bind("127.0.0.1:0", config().with_max_sessions(1), router(), ())
        .await
        .unwrap();
    let addr = server.local_addr();
    let mut first =
        packet_net::transport::tokio::UdpPacketSocket::bind_with("127.0.0.1:0", transport())
            .await
            .unwrap();
    first.connect(addr).await.unwrap();
    first.send_raw(ECHO, b"in").await.unwrap();
    assert_eq!(first.recv().await.unwrap().body(), b"in");
    let mut second =
        packet_net::transport::tokio::UdpPacketSocket::bind_with("127.0.0.1:0", transport())
            .await
            .unwrap();
    second.connect(addr).await.unwrap();
    second.send_raw(ECHO, b"let me in").await.unwrap();
    assert_notice(
        second.recv().await.map(|_| ()).unwrap_err(),
        CloseReason::ServerFull,
        0,
    );
    first.send_raw(KICK, b"bye").await.unwrap();
    assert_eq!(first.recv().await.unwrap().type_id(), KICK);
    assert_notice(
        first.recv().await.map(|_| ()).unwrap_err(),
        CloseReason::Application,
        KICK_CODE,
    );
    server.shutdown().await;
}

// ------------------------------------------------------------- sealed

#[cfg(feature = "crypto")]
mod sealed {
    use super::*;
    use crate::common::login::Login;

    #[test]
    fn sealed_tcp_notices_arrive_sealed_and_are_believed() {
        for &kind in KINDS {
            let login = Login::new();
            let server = Tcp::start(kind, config().sealed(login.provider()), router());
            let (_, sec) = login.issue();
            let mut c = connect(server.addr()).sealed(sec);
            // The reply authenticates: from here a plain notice would be
            // an invalid frame, so the notice believed below was sealed.
            c.send_raw(KICK, b"bye").unwrap();
            assert_eq!(c.recv().unwrap().type_id(), KICK);
            assert_notice(
                c.recv().map(|_| ()).unwrap_err(),
                CloseReason::Application,
                KICK_CODE,
            );
            server.shutdown();
        }
    }

    /// As the docs say: a session that never opened (an unknown token)
    /// is told "protocol error", plain (the server has no keys), and is
    /// counted in `bad_hellos`, not `bad_frames`.
    #[test]
    fn an_unknown_token_is_told_protocol_error_and_counted_a_bad_hello() {
        for &kind in KINDS {
            let login = Login::new();
            let server = Tcp::start(kind, config().sealed(login.provider()), router());
            let (_, sec) = Login::new().issue(); // another login's token
            let mut c = connect(server.addr()).sealed(sec);
            let _ = c.send_raw(ECHO, b"let me in");
            assert_notice(
                c.recv().map(|_| ()).unwrap_err(),
                CloseReason::ProtocolError,
                0,
            );
            drop(c);
            let stats = server.sessions().stats();
            assert!(
                wait_until(LIMIT, || server.sessions().stats().bad_hellos == 1),
                "{kind:?}: {stats:?}"
            );
            assert_eq!(server.sessions().stats().bad_frames, 0, "{kind:?}");
            server.shutdown();
        }
    }

    #[test]
    fn a_sealed_tcp_client_takes_a_plain_notice_only_before_the_server_answers() {
        use std::net::TcpListener;
        // Before: "server full" at accept, a plain notice, believed.
        let login = Login::new();
        let server = Tcp::start(
            Kind::Blocking,
            config().sealed(login.provider()).with_max_sessions(1),
            router(),
        );
        let (_, sec) = login.issue();
        let mut first = connect(server.addr()).sealed(sec);
        first.send_raw(ECHO, b"in").unwrap();
        first.recv().unwrap();
        let (_, sec) = login.issue();
        let mut second = connect(server.addr()).sealed(sec);
        let _ = second.send_raw(ECHO, b"let me in");
        assert_notice(
            second.recv().map(|_| ()).unwrap_err(),
            CloseReason::ServerFull,
            0,
        );
        drop((first, second));
        server.shutdown();

        // After: a fake server answers a sealed frame, then sends a plain
        // notice: an invalid frame, not a reason.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let login = Login::new();
        let (token, sec) = login.issue();
        let fake = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut answer = vec![0u8; 128];
            let (mut sealer, _, _) = server_halves(token);
            let n = sealer
                .seal_with(ECHO, &mut answer, |w| w.put_bytes(b"ok"))
                .unwrap();
            s.write_all(&answer[..n]).unwrap();
            s.write_all(&close_notice(CloseNotice::new(CloseReason::ShuttingDown)))
                .unwrap();
            std::thread::sleep(Duration::from_millis(500));
        });
        let mut c = connect(addr).sealed(sec);
        c.send_raw(ECHO, b"x").unwrap();
        assert_eq!(c.recv().unwrap().body(), b"ok");
        let e = c.recv().map(|_| ()).unwrap_err();
        assert!(
            matches!(e, TransportError::Crypto(_)),
            "a plain notice after the window is invalid: {e:?}"
        );
        fake.join().unwrap();
    }

    /// A server end's sealer for the keys `Login` issued with `token`.
    fn server_halves(
        token: packet_net::transport::SessionToken,
    ) -> (
        packet_net::fuzzing::Sealer,
        packet_net::fuzzing::Opener,
        Option<packet_net::transport::SessionToken>,
    ) {
        use packet_core::crypto::{ChannelKeys, SecretKey};
        let n = token.0[0];
        let keys = ChannelKeys::new(
            SecretKey::from_bytes([n; 32]),
            SecretKey::from_bytes([n ^ 0x80; 32]),
        );
        let provider = packet_net::transport::ServerSecurity::new(move |_| Some(keys.clone()));
        let (_, mut opener, _) = packet_net::fuzzing::halves(provider, Default::default(), false);
        // Key the server end with the client's hello.
        let hello = packet_net::fuzzing::session_hello(&token);
        let mut decoder = packet_core::StreamDecoder::new(Default::default());
        decoder.feed(&hello);
        match opener.next_frame(&mut decoder).unwrap() {
            Some(packet_net::fuzzing::Incoming::Keyed(h)) => (h.sealer.unwrap(), opener, None),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sealed_udp_notices_arrive_sealed_and_are_believed() {
        let login = Login::new();
        let server = udp_server(config().sealed(login.provider()));
        let (_, sec) = login.issue();
        let mut c = udp_client(server.local_addr()).sealed(sec);
        udp_echo(&mut c, b"hi");
        let id = ids(server.sessions())[0];
        assert!(server.sessions().close_with(id, 5));
        assert_notice(
            c.recv().map(|_| ()).unwrap_err(),
            CloseReason::Application,
            5,
        );
        server.shutdown();
    }

    #[test]
    fn a_forged_plain_notice_to_an_established_sealed_udp_client_is_dropped() {
        let login = Login::new();
        let server = udp_server(config().sealed(login.provider()));
        let (_, sec) = login.issue();
        // Not connected: it hears from any address, the forger's too.
        let quiet = TransportConfig::default().with_read_timeout(Some(Duration::from_millis(300)));
        let mut c = UdpPacketSocket::bind_with("127.0.0.1:0", quiet)
            .unwrap()
            .sealed(sec);
        let to = server.local_addr();
        c.send_raw_to(ECHO, b"hi", to).unwrap();
        assert_eq!(c.recv_from().unwrap().0.body(), b"hi");
        let forger = UdpSocket::bind("127.0.0.1:0").unwrap();
        let forged = close_notice(CloseNotice::new(CloseReason::ShuttingDown));
        assert_eq!(forged.len(), CLOSE_NOTICE_LEN);
        forger.send_to(&forged, c.local_addr().unwrap()).unwrap();
        let dropped = c.stats().dropped;
        assert!(
            c.recv_from().unwrap_err().is_timeout(),
            "dropped, not reported"
        );
        assert_eq!(c.stats().dropped, dropped + 1);
        // Nothing changed: the session goes on.
        c.send_raw_to(ECHO, b"still", to).unwrap();
        assert_eq!(c.recv_from().unwrap().0.body(), b"still");
        assert_eq!(server.sessions().len(), 1);
        server.shutdown();
    }

    #[test]
    fn a_plain_notice_in_the_handshake_window_is_reported_and_changes_nothing() {
        let login = Login::new();
        let (token, sec) = login.issue();
        let fake = UdpSocket::bind("127.0.0.1:0").unwrap();
        fake.set_read_timeout(Some(LIMIT)).unwrap();
        let mut c = udp_client(fake.local_addr().unwrap()).sealed(sec);
        let hello = packet_net::fuzzing::session_hello(&token);
        let mut buf = [0u8; 256];
        c.send_raw(ECHO, b"x").unwrap();
        let (n, from) = fake.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], &hello[..], "the hello first");
        fake.recv_from(&mut buf).unwrap(); // the sealed frame
        let notice = close_notice(CloseNotice::new(CloseReason::ShuttingDown));
        fake.send_to(&notice, from).unwrap();
        assert_notice(
            c.recv().map(|_| ()).unwrap_err(),
            CloseReason::ShuttingDown,
            0,
        );
        // Unchanged: the hello is still pending, so it goes again.
        c.send_raw(ECHO, b"y").unwrap();
        let (n, _) = fake.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], &hello[..], "the hello again");
    }
}

/// The dissector's `CLOSE_REASONS` table (packet-schema's Wireshark
/// runtime): `[code] = "name"` pairs.
fn dissector_close_reasons() -> Vec<(u16, String)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../packet-schema/src/dissector/runtime.lua"
    );
    let lua = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let start = lua
        .find("local CLOSE_REASONS = {")
        .expect("runtime.lua declares CLOSE_REASONS");
    let table = &lua[start..];
    let table = &table[table.find('{').unwrap() + 1..table.find('}').unwrap()];
    table
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (code, name) = entry.split_once('=').unwrap();
            let code = code.trim().trim_start_matches('[').trim_end_matches(']');
            let name = name.trim().trim_matches('"');
            (code.parse().unwrap(), name.to_owned())
        })
        .collect()
}

/// The reasons' names live in three places that share no code: this
/// crate's `CloseReason` `Display`, packet-schema's `inspect` and its
/// Wireshark dissector. This compares the first with the dissector's
/// table; packet-schema's `inspect` test compares the other two.
#[test]
fn close_reasons_display_as_the_dissector_names_them() {
    let lua = dissector_close_reasons();
    assert_eq!(lua.len(), 6, "wire format §12's six reasons: {lua:?}");
    for (code, name) in &lua {
        let reason = CloseReason::from_code(*code);
        assert!(!matches!(reason, CloseReason::Other(_)), "reason {code}");
        assert_eq!(&reason.to_string(), name, "reason {code}");
    }
    assert_eq!(CloseReason::Other(7).to_string(), "other(7)");
}

/// Every end is counted once, by its cause: a kick in `closed`, an
/// unknown type id in `unknown_closed` (not `handler_errors`), the
/// shutdown in `shutdowns`; the ends add up to the sessions accepted.
#[test]
fn tcp_stats_count_kicks_unknown_ids_and_shutdowns() {
    for &kind in KINDS {
        let server = Tcp::start(kind, config(), router());
        let (mut kicked, mut stranger, mut stays) = (
            connect(server.addr()),
            connect(server.addr()),
            connect(server.addr()),
        );
        kicked.send_raw(KICK, b"bye").unwrap();
        kicked.recv().unwrap();
        assert_notice(
            kicked.recv().map(|_| ()).unwrap_err(),
            CloseReason::Application,
            KICK_CODE,
        );
        drop(kicked);
        stranger.send_raw(UNKNOWN, b"?").unwrap();
        assert_notice(
            stranger.recv().map(|_| ()).unwrap_err(),
            CloseReason::ProtocolError,
            0,
        );
        drop(stranger);
        echo(&mut stays, b"hi");
        let sessions = server.sessions().clone();
        assert!(wait_until(LIMIT, || sessions.len() == 1), "{kind:?}");
        let stop = std::thread::spawn(move || server.shutdown());
        assert_notice(
            stays.recv().map(|_| ()).unwrap_err(),
            CloseReason::ShuttingDown,
            0,
        );
        drop(stays);
        stop.join().unwrap();
        let s = sessions.stats();
        let counted = (s.closed, s.unknown_closed, s.shutdowns, s.handler_errors);
        assert_eq!(counted, (1, 1, 1, 0), "{kind:?}: {s:?}");
        let ends = s.closed
            + s.unknown_closed
            + s.shutdowns
            + s.handler_errors
            + s.bad_frames
            + s.peer_closed
            + s.timeouts
            + s.slow_consumers
            + s.io_errors;
        assert_eq!((s.accepted, s.active), (ends, 0), "{kind:?}: {s:?}");
    }
}

/// A disconnect hook sees a kick's code beside `DisconnectReason::Closed`.
#[test]
fn a_disconnect_hook_reads_the_kicks_code() {
    use packet_net::server::blocking::Server;
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let hook = seen.clone();
    let router = router().on_disconnect(move |ctx, why| {
        let closed = matches!(why, packet_net::DisconnectReason::Closed);
        hook.lock()
            .unwrap()
            .push((closed, ctx.session().close_code()));
    });
    let server = Server::bind("127.0.0.1:0", config(), router, ()).unwrap();
    let mut c = connect(server.local_addr());
    c.send_raw(KICK, b"bye").unwrap();
    c.recv().unwrap();
    assert_notice(
        c.recv().map(|_| ()).unwrap_err(),
        CloseReason::Application,
        KICK_CODE,
    );
    drop(c);
    assert!(wait_until(LIMIT, || !seen.lock().unwrap().is_empty()));
    assert_eq!(*seen.lock().unwrap(), [(true, KICK_CODE)]);
    server.shutdown();
}

/// The sixth new-user trial: a UDP client that sends before it reads
/// (a ping every tick) after the server shut down got
/// `Io(ConnectionRefused)`: the ICMP answer to its send is reported
/// ahead of the notice already queued. The notice is read first; the
/// refusal comes after it, once nothing is queued. Both clients.
#[test]
fn udp_a_send_after_the_shutdown_does_not_hide_its_notice() {
    let server = udp_server(config());
    let addr = server.local_addr();
    let mut c = udp_client(addr);
    udp_echo(&mut c, b"hi");
    server.shutdown(); // the notice is in c's socket, the port closed
    c.send_raw(ECHO, b"anyone?").unwrap();
    // Let the ICMP answer arrive (loopback: at once).
    std::thread::sleep(Duration::from_millis(50));
    assert_notice(
        c.recv().map(|_| ()).unwrap_err(),
        CloseReason::ShuttingDown,
        0,
    );
    c.send_raw(ECHO, b"anyone?").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let e = c.recv().map(|_| ()).unwrap_err();
    assert!(e.is_disconnect(), "{e:?}");

    #[cfg(feature = "tokio")]
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let server = udp_server(config());
            let addr = server.local_addr();
            let c = packet_net::transport::tokio::UdpPacketSocket::bind_with(
                "127.0.0.1:0",
                transport(),
            )
            .await
            .unwrap();
            let mut c = c;
            c.connect(addr).await.unwrap();
            c.send_raw(ECHO, b"hi").await.unwrap();
            assert_eq!(c.recv().await.unwrap().type_id(), ECHO);
            server.shutdown();
            c.send_raw(ECHO, b"anyone?").await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert_notice(
                c.recv().await.map(|_| ()).unwrap_err(),
                CloseReason::ShuttingDown,
                0,
            );
        });
    }
}

/// Found by a review: reading behind a `ConnectionRefused` switched the
/// socket to non-blocking and back to blocking, so a socket the
/// application had made non-blocking (a polling game loop) came back
/// blocking. Its mode now stays as the application set it.
#[test]
fn udp_reading_behind_a_refusal_keeps_the_sockets_mode() {
    use std::time::Instant;
    let closed = UdpSocket::bind("127.0.0.1:0").unwrap();
    let gone = closed.local_addr().unwrap();
    drop(closed);
    let config = TransportConfig::default().with_read_timeout(Some(Duration::from_secs(2)));
    let mut c = UdpPacketSocket::bind_with("127.0.0.1:0", config).unwrap();
    c.connect(gone).unwrap();
    c.get_ref().set_nonblocking(true).unwrap();
    c.send_raw(1, b"x").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let e = c.recv().map(|_| ()).unwrap_err();
    assert!(e.is_disconnect(), "{e:?}");
    let t = Instant::now();
    let e = c.recv().map(|_| ()).unwrap_err();
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "the socket became blocking: {e:?} after {:?}",
        t.elapsed()
    );
}
