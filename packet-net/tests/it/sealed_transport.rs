//! Sealed (encrypted) transport over loopback: the blocking server and
//! streams, the tokio server, and UDP. Every session has its own keys,
//! handed out with a session token by a login server (`crate::common::login`);
//! a session's first frame is the plaintext hello carrying the token.
//! Forged, replayed or plaintext frames, unknown or reused tokens get the
//! peer (or datagram) dropped alone.

use std::io::{Read, Write};
use std::time::Duration;

use crate::common::login::Login;
use crate::common::{ECHO, Msg, echo_router, payload, wait_until};
use packet_core::Packet;
use packet_core::crypto::sealed_frame_len_for;
use packet_net::fuzzing::{self, SESSION_HELLO_LEN, session_hello};
use packet_net::server::ServerConfig;
use packet_net::transport::blocking::{TcpPacketStream, UdpPacketSocket};
use packet_net::transport::{ClientSecurity, SessionToken, TransportConfig};

const LIMIT: Duration = Duration::from_secs(10);

fn config() -> TransportConfig {
    TransportConfig::default().with_read_timeout(Some(LIMIT))
}

fn blocking_server(
    login: &std::sync::Arc<Login>,
) -> packet_net::server::blocking::ServerHandle<()> {
    packet_net::server::blocking::Server::bind(
        "127.0.0.1:0",
        ServerConfig::default()
            .with_workers(2)
            .sealed(login.provider()),
        packet_net::server::Router::new().on_frame(ECHO, |ctx, f| ctx.reply_raw(ECHO, f.body())),
        (),
    )
    .unwrap()
}

fn raw_client(addr: std::net::SocketAddr) -> std::net::TcpStream {
    let s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    s
}

/// Whether the server closed `s` (read returns end of stream or a reset).
/// The server ended the session for a protocol error (the plain close
/// notice: no keys were in use), then closed.
fn closed(s: &mut std::net::TcpStream) -> bool {
    crate::common::closed_for_protocol_error(s)
}

#[test]
fn sealed_blocking_server_echoes_and_drops_impostors() {
    let login = Login::new();
    let server = blocking_server(&login);
    let addr = server.local_addr();
    let mut clients: Vec<_> = (0..20)
        .map(|_| {
            TcpPacketStream::connect_with(addr, config())
                .unwrap()
                .sealed(login.issue().1)
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
    // A plaintext client (no hello) is dropped.
    let mut plain = TcpPacketStream::connect_with(addr, config()).unwrap();
    plain.send_raw(ECHO, b"in the clear").unwrap();
    assert!(plain.recv().is_err());
    // A forged frame after a valid hello: sealed under the session's key,
    // one ciphertext bit flipped.
    let (token, _) = login.issue();
    let (mut sealer, _, _) = fuzzing::halves(Login::stolen(token), Default::default(), false);
    let mut wire = [0u8; 128];
    wire[..SESSION_HELLO_LEN].copy_from_slice(&session_hello(&token));
    let n = SESSION_HELLO_LEN
        + sealer
            .seal_with(ECHO, &mut wire[SESSION_HELLO_LEN..], |w| {
                w.put_bytes(b"forged body!")
            })
            .unwrap();
    wire[SESSION_HELLO_LEN + 22] ^= 1;
    let mut forger = raw_client(addr);
    forger.write_all(&wire[..n]).unwrap();
    // (A client sealing as the server no longer compiles: a connecting
    // stream takes a `ClientSecurity` only.)
    // The plaintext client at its hello, the forger for its frame.
    assert!(wait_until(LIMIT, || {
        let s = server.stats();
        (s.bad_hellos, s.bad_frames) == (1, 1)
    }));
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
    drop((clients, plain, forger));
    server.shutdown();
}

/// The nonce-reuse bug: two sessions sending the same packet with the same
/// sequence number must put different bytes on the wire, both ways.
#[test]
fn two_sealed_sessions_use_different_keys_on_the_wire() {
    let login = Login::new();
    let server = blocking_server(&login);
    let addr = server.local_addr();
    let body = b"identical packet, identical sequence";
    let frame_len = sealed_frame_len_for(body.len());
    let mut sent = Vec::new();
    let mut replies = Vec::new();
    for _ in 0..2 {
        let (_, sec) = login.issue();
        let mut wire = [0u8; 256];
        let n = Login::first_bytes(sec, body, &mut wire);
        assert_eq!(n, SESSION_HELLO_LEN + frame_len);
        let mut s = raw_client(addr);
        s.write_all(&wire[..n]).unwrap();
        let mut reply = vec![0u8; frame_len];
        s.read_exact(&mut reply).unwrap();
        // Sequence 0, sealed flag set.
        assert_eq!(&reply[12..20], &0u64.to_le_bytes());
        assert_eq!(reply[5] & 1, 1);
        sent.push(wire[SESSION_HELLO_LEN..n].to_vec());
        replies.push(reply);
    }
    // Same header (type, length, sequence), different ciphertext and tag.
    assert_eq!(sent[0][..20], sent[1][..20]);
    assert_ne!(sent[0][20..], sent[1][20..], "client-to-server ciphertexts");
    assert_eq!(replies[0][..20], replies[1][..20]);
    assert_ne!(
        replies[0][20..],
        replies[1][20..],
        "server-to-client ciphertexts"
    );
    server.shutdown();
}

#[test]
fn unknown_token_non_hello_and_reused_hello_are_dropped_alone() {
    let login = Login::new();
    let server = blocking_server(&login);
    let addr = server.local_addr();
    let mut good = TcpPacketStream::connect_with(addr, config())
        .unwrap()
        .sealed(login.issue().1);
    good.send_raw(ECHO, b"first").unwrap();
    assert_eq!(good.recv().unwrap().body(), b"first");

    // A token the login server never issued.
    let mut unknown = raw_client(addr);
    unknown
        .write_all(&session_hello(&SessionToken([0xEE; 16])))
        .unwrap();
    assert!(closed(&mut unknown));

    // A plaintext frame of another type first.
    let mut wrong = raw_client(addr);
    let mut f = [0u8; 64];
    let n = packet_core::frame::encode_raw(ECHO, 0, &[0; 16], &mut f).unwrap();
    wrong.write_all(&f[..n]).unwrap();
    assert!(closed(&mut wrong));

    // A whole session recorded and replayed: its token was used up.
    let (_, sec) = login.issue();
    let mut wire = [0u8; 128];
    let n = Login::first_bytes(sec, b"once", &mut wire);
    let mut original = raw_client(addr);
    original.write_all(&wire[..n]).unwrap();
    let mut reply = vec![0u8; sealed_frame_len_for(4)];
    original.read_exact(&mut reply).unwrap();
    let mut replay = raw_client(addr);
    replay.write_all(&wire[..n]).unwrap();
    assert!(closed(&mut replay));

    assert!(wait_until(LIMIT, || server.stats().bad_hellos == 3));
    assert_eq!(server.stats().bad_frames, 0);
    // The good session goes on.
    good.send_raw(ECHO, b"second").unwrap();
    assert_eq!(good.recv().unwrap().body(), b"second");
    drop((good, unknown, wrong, original, replay));
    server.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_tokio_server_echoes() {
    use packet_net::transport::tokio::TcpPacketStream;
    let login = Login::new();
    let server = packet_net::server::tokio::Server::bind(
        "127.0.0.1:0",
        ServerConfig::default().sealed(login.provider()),
        echo_router(),
        (),
    )
    .await
    .unwrap();
    let mut streams = Vec::new();
    for _ in 0..2 {
        streams.push(
            TcpPacketStream::connect(server.local_addr())
                .await
                .unwrap()
                .sealed(login.issue().1),
        );
    }
    // An unknown token is dropped alone.
    let mut stranger = TcpPacketStream::connect(server.local_addr())
        .await
        .unwrap()
        .sealed(stranger_security());
    stranger.send_raw(ECHO, b"let me in").await.unwrap();
    assert!(stranger.recv().await.is_err());
    let mut buf = Vec::new();
    for s in &mut streams {
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
    }
    // Counted when the stranger's session ends (it closes once told why).
    let counted = || server.stats().bad_hellos == 1;
    assert!(tokio::task::block_in_place(|| wait_until(LIMIT, counted)));
    drop((streams, stranger));
    server.shutdown().await;
}

#[test]
fn sealed_udp_drops_replays_and_forgeries() {
    let login = Login::new();
    let (token, _) = login.issue();
    let server = packet_net::server::blocking::UdpServer::bind(
        "127.0.0.1:0",
        ServerConfig::default().sealed(login.provider()),
        echo_router(),
        (),
    )
    .unwrap();
    let raw = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    raw.connect(server.local_addr()).unwrap();
    let (mut sealer, _, _) = fuzzing::halves(Login::stolen(token), Default::default(), true);
    let msg = |seq| Msg {
        client: 1,
        seq,
        data: b"x",
    };
    let mut first = [0u8; 128];
    let n1 = sealer
        .seal_with(ECHO, &mut first, |w| msg(1).write_data(w))
        .unwrap();
    let mut second = [0u8; 128];
    let n2 = sealer
        .seal_with(ECHO, &mut second, |w| msg(2).write_data(w))
        .unwrap();
    let mut forged = second;
    forged[n2 - 10] ^= 0x80; // in the tag
    raw.send(&first[..n1]).unwrap(); // before the hello: dropped
    raw.send(&session_hello(&SessionToken([0xEE; 16]))).unwrap(); // wrong token
    raw.send(&session_hello(&token)).unwrap();
    raw.send(&first[..n1]).unwrap();
    raw.send(&first[..n1]).unwrap(); // replay
    raw.send(&forged[..n2]).unwrap(); // forgery
    raw.send(&second[..n2]).unwrap();
    assert!(wait_until(LIMIT, || server.stats().frames_in == 2
        && server.dropped() == 4));
    assert_eq!(server.sessions().len(), 1, "forgeries never end a session");
}

/// Sans-I/O: a server session seals nothing before the hello brings its
/// keys, and a bad first frame or token is a typed error.
#[test]
fn server_session_is_keyed_by_the_hello_alone() {
    use packet_core::error::CryptoError;
    use packet_net::fuzzing::Incoming;
    use packet_net::transport::TransportError;

    let login = Login::new();
    let server_sec = login.provider();
    let (token, client_sec) = login.issue();
    let typed = |r: Result<_, TransportError>| match r {
        Err(TransportError::Crypto(e)) => e,
        other => panic!("expected a crypto error, got {other:?}"),
    };
    let frame = config().frame;

    let (sealer, opener, _) = fuzzing::halves(&server_sec, frame, false);
    let mut out = fuzzing::outbox(&config(), sealer, None);
    let mut inbox = fuzzing::inbox(&frame, opener);
    assert!(inbox.opener().awaiting_hello());
    assert_eq!(
        typed(out.queue_raw(ECHO, b"too early")),
        CryptoError::KeysPending
    );
    assert!(out.is_empty());

    // The client's first bytes: hello, then its first sealed frame.
    let (s, _, hello) = fuzzing::halves(client_sec, frame, false);
    let mut client = fuzzing::outbox(&config(), s, hello);
    client.queue_raw(ECHO, b"hi").unwrap();
    let wire = fuzzing::queue(&mut client).pending().to_vec();
    assert_eq!(&wire[..SESSION_HELLO_LEN], &session_hello(&token));
    inbox.feed(&wire);
    match inbox.next_frame().unwrap() {
        Some(Incoming::Keyed(h)) => {
            assert_eq!((h.hello.token, h.hello.fingerprint), (token, None));
            fuzzing::key_outbox(&mut out, h.sealer.unwrap());
        }
        other => panic!("expected the hello, got {other:?}"),
    }
    match inbox.next_frame().unwrap() {
        Some(Incoming::Frame(f)) => assert_eq!(f.body(), b"hi"),
        other => panic!("expected a frame, got {other:?}"),
    }
    assert!(!inbox.opener().awaiting_hello());
    out.queue_raw(ECHO, b"now").unwrap();

    // Another session presenting the same (used) token, or a wrong frame.
    let (_, opener, _) = fuzzing::halves(&server_sec, frame, false);
    let mut inbox = fuzzing::inbox(&frame, opener);
    inbox.feed(&session_hello(&token));
    assert_eq!(
        typed(inbox.next_frame().map(|_| ())),
        CryptoError::UnknownSessionToken
    );
    let (_, opener, _) = fuzzing::halves(&server_sec, frame, false);
    let mut inbox = fuzzing::inbox(&frame, opener);
    let mut f = [0u8; 64];
    let n = packet_core::frame::encode_raw(ECHO, 0, b"not a hello", &mut f).unwrap();
    inbox.feed(&f[..n]);
    assert_eq!(
        typed(inbox.next_frame().map(|_| ())),
        CryptoError::HelloExpected {
            type_id: ECHO,
            body_len: 11
        }
    );
}

/// Counts of the hooks, and whether every `on_connect` reply was queued.
#[derive(Default)]
struct Hooks {
    connects: std::sync::atomic::AtomicUsize,
    disconnects: std::sync::atomic::AtomicUsize,
    reply_failed: std::sync::atomic::AtomicBool,
}

const WELCOME: u16 = 9;

/// Echoes `ECHO`; `on_connect` replies `WELCOME` (sealed: it needs keys).
fn greeting_router(hooks: &std::sync::Arc<Hooks>) -> packet_net::server::Router<()> {
    use std::sync::atomic::Ordering::Relaxed;
    let (h1, h2) = (hooks.clone(), hooks.clone());
    packet_net::server::Router::new()
        .on_connect(move |ctx| {
            h1.connects.fetch_add(1, Relaxed);
            if ctx.reply_raw(WELCOME, b"welcome").is_err() {
                h1.reply_failed.store(true, Relaxed);
            }
        })
        .on_disconnect(move |_, _| {
            h2.disconnects.fetch_add(1, Relaxed);
        })
        .on_frame(ECHO, |ctx, f| ctx.reply_raw(ECHO, f.body()))
}

fn stranger_security() -> ClientSecurity {
    ClientSecurity::new(
        SessionToken([0xEE; 16]),
        packet_core::crypto::ChannelKeys::shared(packet_core::crypto::SecretKey::from_bytes(
            [1; 32],
        )),
    )
}

fn check_hooks(hooks: &Hooks, connects: usize, disconnects: usize) {
    use std::sync::atomic::Ordering::Relaxed;
    assert!(wait_until(LIMIT, || hooks.disconnects.load(Relaxed) == disconnects));
    assert_eq!(hooks.connects.load(Relaxed), connects);
    assert!(!hooks.reply_failed.load(Relaxed));
}

#[test]
fn sealed_blocking_on_connect_runs_after_the_hello_and_can_reply() {
    let login = Login::new();
    let hooks = std::sync::Arc::new(Hooks::default());
    let server = packet_net::server::blocking::Server::bind(
        "127.0.0.1:0",
        ServerConfig::default().sealed(login.provider()),
        greeting_router(&hooks),
        (),
    )
    .unwrap();
    let mut c = TcpPacketStream::connect_with(server.local_addr(), config())
        .unwrap()
        .sealed(login.issue().1);
    c.send_raw(ECHO, b"hi").unwrap();
    let f = c.recv().unwrap();
    assert_eq!((f.type_id(), f.body()), (WELCOME, &b"welcome"[..]));
    let f = c.recv().unwrap();
    assert_eq!((f.type_id(), f.body()), (ECHO, &b"hi"[..]));
    // An unknown token: no session for the hooks.
    let mut stranger = TcpPacketStream::connect_with(server.local_addr(), config())
        .unwrap()
        .sealed(stranger_security());
    stranger.send_raw(ECHO, b"let me in").unwrap();
    assert!(stranger.recv().is_err());
    drop(c);
    check_hooks(&hooks, 1, 1);
    server.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_tokio_on_connect_runs_after_the_hello_and_can_reply() {
    use packet_net::transport::tokio::TcpPacketStream;
    let login = Login::new();
    let hooks = std::sync::Arc::new(Hooks::default());
    let server = packet_net::server::tokio::Server::bind(
        "127.0.0.1:0",
        ServerConfig::default().sealed(login.provider()),
        greeting_router(&hooks),
        (),
    )
    .await
    .unwrap();
    let mut c = TcpPacketStream::connect(server.local_addr())
        .await
        .unwrap()
        .sealed(login.issue().1);
    c.send_raw(ECHO, b"hi").await.unwrap();
    let f = c.recv().await.unwrap();
    assert_eq!((f.type_id(), f.body()), (WELCOME, &b"welcome"[..]));
    let f = c.recv().await.unwrap();
    assert_eq!((f.type_id(), f.body()), (ECHO, &b"hi"[..]));
    let mut stranger = TcpPacketStream::connect(server.local_addr())
        .await
        .unwrap()
        .sealed(stranger_security());
    stranger.send_raw(ECHO, b"let me in").await.unwrap();
    assert!(stranger.recv().await.is_err());
    drop(c);
    let h = hooks.clone();
    tokio::task::spawn_blocking(move || check_hooks(&h, 1, 1))
        .await
        .unwrap();
    server.shutdown().await;
}

#[test]
fn sealed_udp_on_connect_runs_after_the_hello_and_can_reply() {
    let login = Login::new();
    let hooks = std::sync::Arc::new(Hooks::default());
    let server = packet_net::server::blocking::UdpServer::bind(
        "127.0.0.1:0",
        ServerConfig::default().sealed(login.provider()),
        greeting_router(&hooks),
        (),
    )
    .unwrap();
    let mut c = UdpPacketSocket::bind_with("127.0.0.1:0", config())
        .unwrap()
        .sealed(login.issue().1);
    c.connect(server.local_addr()).unwrap();
    c.send_raw(ECHO, b"hi").unwrap();
    let f = c.recv().unwrap();
    assert_eq!((f.type_id(), f.body()), (WELCOME, &b"welcome"[..]));
    let f = c.recv().unwrap();
    assert_eq!((f.type_id(), f.body()), (ECHO, &b"hi"[..]));
    server.shutdown();
    check_hooks(&hooks, 1, 1);
}
