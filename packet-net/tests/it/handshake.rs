//! The session hello's protocol fingerprint (`docs/wire-format.md` §11.5)
//! over loopback, TCP and UDP, plaintext and sealed, blocking and tokio:
//! a matching client is accepted, a mismatched one refused with the same
//! message on both sides without using up its token, and the refusal
//! never amplifies. And the identity a key provider attaches to a sealed
//! session (`ServerSecurity::with_identity`).

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use packet_core::crypto::{ChannelKeys, SecretKey};
use packet_core::layout::ProtocolMismatch;
use packet_net::fuzzing::{REFUSAL_LEN, fingerprint_hello, refusal, session_hello};
use packet_net::server::blocking::{Server, UdpServer, UdpServerHandle};
use packet_net::server::{Router, ServerConfig, SessionId};
use packet_net::transport::blocking::{TcpPacketListener, TcpPacketStream, UdpPacketSocket};
use packet_net::transport::{
    ClientSecurity, ServerSecurity, SessionToken, TransportConfig, TransportError,
};

use crate::common::login::Login;
use crate::common::{ECHO, echo_router, wait_until};

/// The server's protocol, and a client built from another version.
const FP: u64 = 0x1111_2222_3333_4444;
const OTHER: u64 = 0x5555_6666_7777_8888;
const MESSAGE: &str = "protocol mismatch: client 0x5555666677778888, server 0x1111222233334444";
const LIMIT: Duration = Duration::from_secs(5);

fn transport(fingerprint: Option<u64>) -> TransportConfig {
    let t = TransportConfig::default()
        .with_read_timeout(Some(LIMIT))
        .with_write_timeout(Some(LIMIT));
    match fingerprint {
        Some(fp) => t.with_fingerprint(fp),
        None => t,
    }
}

fn server_config() -> ServerConfig {
    ServerConfig::default().with_workers(1).with_fingerprint(FP)
}

/// The message every echo test sends.
const HI: crate::common::Msg<'static> = crate::common::Msg {
    client: 1,
    seq: 2,
    data: b"hi",
};

/// One echo round trip on a blocking client (a TCP stream or a connected
/// UDP socket).
macro_rules! echo {
    ($c:expr) => {{
        let c = &mut $c;
        c.send(&HI)
            .and_then(|()| c.recv().map(|f| assert_eq!(f.type_id(), ECHO)))
    }};
}

/// The refused client's error: the typed mismatch with its message.
fn assert_refused(e: TransportError) {
    assert_eq!(e.to_string(), MESSAGE);
    match e {
        TransportError::ProtocolMismatch(m) => assert_eq!(
            m,
            ProtocolMismatch {
                client: OTHER,
                server: FP
            }
        ),
        other => panic!("expected a protocol mismatch, got {other:?}"),
    }
}

#[test]
fn plaintext_tcp_accepts_the_same_protocol_and_refuses_another() {
    let server = Server::bind("127.0.0.1:0", server_config(), echo_router(), ()).unwrap();
    let addr = server.local_addr();

    let mut good = TcpPacketStream::connect_with(addr, transport(Some(FP))).unwrap();
    echo!(good).unwrap();
    echo!(good).unwrap();

    let mut stale = TcpPacketStream::connect_with(addr, transport(Some(OTHER))).unwrap();
    assert_refused(echo!(stale).unwrap_err());
    // The stream stays failed with the same reason.
    assert_refused(stale.recv().unwrap_err());
    // The refused session lingers (reading and dropping) until its
    // client closes, so that the close does not reset the connection.
    drop(stale);

    // A client sending no hello at all (version 1) is not served either.
    let mut old = TcpPacketStream::connect_with(addr, transport(None)).unwrap();
    assert!(echo!(old).is_err());

    assert!(wait_until(LIMIT, || {
        let s = server.stats();
        s.protocol_mismatches == 1 && s.bad_hellos == 1
    }));
    echo!(good).unwrap();
    drop((good, old));
    server.shutdown();
}

#[test]
fn a_listener_reports_the_mismatch_on_the_server_side_too() {
    let listener = TcpPacketListener::bind_with("127.0.0.1:0", transport(Some(FP))).unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut peer, _) = listener.accept().unwrap();
        peer.recv().map(|_| ()).unwrap_err()
    });
    let mut stale = TcpPacketStream::connect_with(addr, transport(Some(OTHER))).unwrap();
    assert_refused(echo!(stale).unwrap_err());
    assert_refused(server.join().unwrap());
}

#[test]
fn sealed_tcp_refuses_another_protocol_before_using_the_token() {
    let login = Login::new();
    let config = server_config().sealed(login.provider());
    let server = Server::bind("127.0.0.1:0", config, echo_router(), ()).unwrap();
    let addr = server.local_addr();

    let (token, security) = login.issue();
    let mut stale = TcpPacketStream::connect_with(addr, transport(Some(OTHER)))
        .unwrap()
        .sealed(security);
    assert_refused(echo!(stale).unwrap_err());
    drop(stale);
    assert!(wait_until(LIMIT, || server.stats().protocol_mismatches == 1));

    // The token was not looked up: the client, updated, still gets in.
    let mut updated = TcpPacketStream::connect_with(addr, transport(Some(FP)))
        .unwrap()
        .sealed(Login::stolen(token));
    echo!(updated).unwrap();
    drop(updated);
    server.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_servers_refuse_another_protocol_over_tcp_and_udp() {
    use packet_net::server::tokio::{Server, UdpServer};
    use packet_net::transport::tokio::{TcpPacketStream, UdpPacketSocket};

    let login = Login::new();
    let config = || server_config().sealed(login.provider());
    let tcp = Server::bind("127.0.0.1:0", config(), echo_router(), ())
        .await
        .unwrap();
    let udp = UdpServer::bind("127.0.0.1:0", config(), echo_router(), ())
        .await
        .unwrap();

    let (token, security) = login.issue();
    let mut stale = TcpPacketStream::connect_with(tcp.local_addr(), transport(Some(OTHER)))
        .await
        .unwrap()
        .sealed(security);
    stale.send_raw(ECHO, b"x").await.unwrap();
    assert_refused(stale.recv().await.map(|_| ()).unwrap_err());
    drop(stale);
    let mut updated = TcpPacketStream::connect_with(tcp.local_addr(), transport(Some(FP)))
        .await
        .unwrap()
        .sealed(Login::stolen(token));
    let msg = HI;
    updated.send(&msg).await.unwrap();
    assert_eq!(updated.recv().await.unwrap().type_id(), ECHO);
    drop(updated);

    let (token, security) = login.issue();
    let mut stale = UdpPacketSocket::bind_with("127.0.0.1:0", transport(Some(OTHER)))
        .await
        .unwrap()
        .sealed(security);
    stale.connect(udp.local_addr()).await.unwrap();
    stale.send(&msg).await.unwrap();
    assert_refused(stale.recv().await.map(|_| ()).unwrap_err());
    let mut updated = UdpPacketSocket::bind_with("127.0.0.1:0", transport(Some(FP)))
        .await
        .unwrap()
        .sealed(Login::stolen(token));
    updated.connect(udp.local_addr()).await.unwrap();
    updated.send(&msg).await.unwrap();
    assert_eq!(updated.recv().await.unwrap().type_id(), ECHO);

    let refused = || tcp.stats().protocol_mismatches == 1;
    assert!(tokio::task::block_in_place(|| wait_until(LIMIT, refused)));
    assert_eq!(udp.stats().protocol_mismatches, 1);
    udp.shutdown().await;
    tcp.shutdown().await;
}

#[test]
fn udp_accepts_the_same_protocol_and_refuses_another_plaintext_and_sealed() {
    // Plaintext.
    let server = UdpServer::bind("127.0.0.1:0", server_config(), echo_router(), ()).unwrap();
    let udp_client = |fp| {
        let c = UdpPacketSocket::bind_with("127.0.0.1:0", transport(Some(fp))).unwrap();
        c.connect(server.local_addr()).unwrap();
        c
    };
    let mut good = udp_client(FP);
    echo!(good).unwrap();
    echo!(good).unwrap();
    let mut stale = udp_client(OTHER);
    assert_refused(echo!(stale).unwrap_err());
    assert_eq!(
        server.sessions().len(),
        1,
        "no session for the refused client"
    );
    assert_eq!(server.stats().protocol_mismatches, 1);
    server.shutdown();

    // Sealed: the refused client's token stays usable.
    let login = Login::new();
    let config = server_config().sealed(login.provider());
    let server = UdpServer::bind("127.0.0.1:0", config, echo_router(), ()).unwrap();
    let (token, security) = login.issue();
    let sealed_client = |fp, security: ClientSecurity| {
        let c = UdpPacketSocket::bind_with("127.0.0.1:0", transport(Some(fp)))
            .unwrap()
            .sealed(security);
        c.connect(server.local_addr()).unwrap();
        c
    };
    let mut stale = sealed_client(OTHER, security);
    assert_refused(echo!(stale).unwrap_err());
    let mut updated = sealed_client(FP, Login::stolen(token));
    echo!(updated).unwrap();
    assert_eq!(server.stats().protocol_mismatches, 1);
    server.shutdown();
}

#[test]
fn a_refusal_is_smaller_than_the_hello_and_sent_once_per_hello() {
    let login = Login::new();
    let config = server_config().sealed(login.provider());
    let server = UdpServer::bind("127.0.0.1:0", config, echo_router(), ()).unwrap();
    let (token, _) = login.issue();

    let raw = UdpSocket::bind("127.0.0.1:0").unwrap();
    raw.connect(server.local_addr()).unwrap();
    raw.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let hello = fingerprint_hello(&token, OTHER);
    const HELLOS: usize = 20;
    for _ in 0..HELLOS {
        raw.send(&hello).unwrap();
    }
    let mut buf = [0u8; 2048];
    let (mut got, mut bytes_out) = (0, 0);
    while let Ok(n) = raw.recv(&mut buf) {
        assert_eq!(&buf[..n], &refusal(FP)[..], "only refusals come back");
        got += 1;
        bytes_out += n;
    }
    assert!(
        (1..=HELLOS).contains(&got),
        "{got} refusals for {HELLOS} hellos"
    );
    assert!(bytes_out <= got * REFUSAL_LEN && REFUSAL_LEN < hello.len());
    assert!(bytes_out < HELLOS * hello.len());
    assert_eq!(server.sessions().len(), 0);

    // No token was used: the right hello still gets a session.
    raw.send(&fingerprint_hello(&token, FP)).unwrap();
    assert!(wait_until(LIMIT, || server.sessions().len() == 1));
    server.shutdown();
}

#[test]
fn servers_without_a_fingerprint_take_either_hello_unchecked() {
    let plain = ServerConfig::default().with_workers(1);
    // Plaintext TCP and UDP: the client's plaintext hello is taken, not
    // dispatched (the echo router would end a session on type 0xFFFF).
    let tcp = Server::bind("127.0.0.1:0", plain.clone(), echo_router(), ()).unwrap();
    let mut c = TcpPacketStream::connect_with(tcp.local_addr(), transport(Some(OTHER))).unwrap();
    echo!(c).unwrap();
    echo!(c).unwrap();
    drop(c);
    tcp.shutdown();
    let udp = UdpServer::bind("127.0.0.1:0", plain.clone(), echo_router(), ()).unwrap();
    let mut c = UdpPacketSocket::bind_with("127.0.0.1:0", transport(Some(OTHER))).unwrap();
    c.connect(udp.local_addr()).unwrap();
    echo!(c).unwrap();
    echo!(c).unwrap();
    assert_eq!(udp.sessions().len(), 1);
    udp.shutdown();

    // Sealed: the version-1 hello and the hello with a fingerprint.
    let login = Login::new();
    let tcp = Server::bind(
        "127.0.0.1:0",
        plain.sealed(login.provider()),
        echo_router(),
        (),
    )
    .unwrap();
    for fp in [None, Some(OTHER)] {
        let (_, security) = login.issue();
        let mut c = TcpPacketStream::connect_with(tcp.local_addr(), transport(fp))
            .unwrap()
            .sealed(security);
        echo!(c).unwrap();
    }
    tcp.shutdown();
}

#[test]
fn a_server_with_a_fingerprint_refuses_the_version_1_hello() {
    let login = Login::new();
    let config = server_config().sealed(login.provider());
    let server = Server::bind("127.0.0.1:0", config, echo_router(), ()).unwrap();
    let (token, _) = login.issue();
    let mut raw = std::net::TcpStream::connect(server.local_addr()).unwrap();
    raw.set_read_timeout(Some(LIMIT)).unwrap();
    std::io::Write::write_all(&mut raw, &session_hello(&token)).unwrap();
    // Closed without a refusal (a version-1 client would not read one):
    // only the close notice of a protocol error (wire format §12).
    assert!(crate::common::closed_for_protocol_error(&mut raw));
    assert!(wait_until(LIMIT, || server.stats().bad_hellos == 1));
    assert_eq!(server.stats().protocol_mismatches, 0);
    server.shutdown();
}

/// A login server that records whom each token belongs to.
#[derive(Default)]
struct Accounts {
    table: Mutex<HashMap<SessionToken, (ChannelKeys, u64)>>,
}

impl Accounts {
    fn keys(n: u8) -> ChannelKeys {
        ChannelKeys::new(
            SecretKey::from_bytes([n; 32]),
            SecretKey::from_bytes([!n; 32]),
        )
    }

    /// A session for `player`: token `n`.
    fn issue(&self, n: u8, player: u64) -> ClientSecurity {
        let token = SessionToken([n; 16]);
        self.table
            .lock()
            .unwrap()
            .insert(token, (Self::keys(n), player));
        ClientSecurity::new(token, Self::keys(n))
    }

    fn provider(self: &Arc<Self>) -> ServerSecurity {
        let me = self.clone();
        ServerSecurity::with_identity(move |t| me.table.lock().unwrap().remove(t))
    }
}

const WHO: u16 = 0x0C02;

#[test]
fn the_key_provider_ties_a_players_tcp_and_udp_sessions_to_it() {
    let accounts = Arc::new(Accounts::default());
    let seen: Arc<Mutex<Vec<Option<u64>>>> = Arc::default();
    let router = || {
        let seen = seen.clone();
        Router::<()>::new()
            .on_connect(move |ctx| seen.lock().unwrap().push(ctx.identity()))
            .on_frame(WHO, |ctx, _| {
                ctx.reply_raw(WHO, &ctx.identity().unwrap_or(0).to_le_bytes())
            })
    };
    let config = ServerConfig::default()
        .with_workers(1)
        .sealed(accounts.provider());
    let tcp = Server::bind("127.0.0.1:0", config.clone(), router(), ()).unwrap();
    let udp = UdpServer::bind("127.0.0.1:0", config, router(), ()).unwrap();

    let who_tcp = |security| {
        let mut c = TcpPacketStream::connect_with(tcp.local_addr(), transport(None))
            .unwrap()
            .sealed(security);
        c.send_raw(WHO, &[]).unwrap();
        let id = u64::from_le_bytes(c.recv().unwrap().body().try_into().unwrap());
        (c, id)
    };
    let (_chat, id) = who_tcp(accounts.issue(1, 42));
    assert_eq!(id, 42, "the handler sees the provider's identity");
    let (_other, id) = who_tcp(accounts.issue(2, 7));
    assert_eq!(id, 7);
    let mut moves = UdpPacketSocket::bind_with("127.0.0.1:0", transport(None))
        .unwrap()
        .sealed(accounts.issue(3, 42));
    moves.connect(udp.local_addr()).unwrap();
    moves.send_raw(WHO, &[]).unwrap();
    assert_eq!(moves.recv().unwrap().body(), 42u64.to_le_bytes());

    // The game finds player 42's sessions on both servers.
    let (mut on_tcp, mut on_udp) = (Vec::<SessionId>::new(), Vec::<SessionId>::new());
    tcp.sessions().sessions_of(42, &mut on_tcp);
    udp.sessions().sessions_of(42, &mut on_udp);
    assert_eq!((on_tcp.len(), on_udp.len()), (1, 1));
    let peer: SocketAddr = udp.sessions().get(on_udp[0]).unwrap().peer_addr();
    assert_eq!(peer, moves.local_addr().unwrap());
    assert_eq!(tcp.sessions().get(on_tcp[0]).unwrap().identity(), Some(42));

    // The connect hooks saw it already.
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    assert_eq!(seen, [Some(7), Some(42), Some(42)]);
    drop((_chat, _other, moves));
    udp.shutdown();
    tcp.shutdown();
}

mod vectors {
    include!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/vectors/harness.rs"
    ));
}

#[test]
fn the_hello_refusal_and_close_notice_match_the_wire_format_vectors() {
    use packet_net::fuzzing::{Hello, fingerprint_hello, refusal, session_hello};
    let dir = vectors::vectors_dir(env!("CARGO_MANIFEST_DIR"), 1);
    let mut seen = 0;
    for v in vectors::read_vectors(&dir, "valid") {
        let name = v.name();
        let frame = packet_core::frame::Frame::parse(&v.bytes).unwrap();
        match v.session.as_deref() {
            Some("hello") => {
                let token = SessionToken(v.token.as_deref().unwrap().try_into().unwrap());
                let bytes: Vec<u8> = match v.fingerprint {
                    Some(fp) => fingerprint_hello(&token, fp).to_vec(),
                    None => session_hello(&token).to_vec(),
                };
                assert_eq!(bytes, v.bytes, "{name}");
                let hello = Hello {
                    token,
                    fingerprint: v.fingerprint,
                };
                assert_eq!(*hello.bytes(), v.bytes[..], "{name}");
                assert_eq!(
                    Hello::parse(frame.type_id(), frame.body()),
                    Some(hello),
                    "{name}"
                );
            }
            Some("refusal") => {
                assert_eq!(refusal(v.fingerprint.unwrap())[..], v.bytes[..], "{name}");
                assert_eq!(Hello::parse(frame.type_id(), frame.body()), None, "{name}");
            }
            Some("notice") => {
                // wire format §12: packet-net's plain close notice, and
                // its reading of the vector.
                use packet_net::transport::{CloseNotice, CloseReason};
                let notice = CloseNotice {
                    reason: CloseReason::from_code(v.reason.unwrap()),
                    detail: v.detail.unwrap(),
                };
                let bytes = packet_net::fuzzing::close_notice(notice);
                assert_eq!(bytes[..], v.bytes[..], "{name}");
                assert_eq!(
                    CloseNotice::parse(frame.type_id(), frame.body()),
                    Some(notice),
                    "{name}"
                );
                assert_eq!(Hello::parse(frame.type_id(), frame.body()), None, "{name}");
            }
            _ => continue,
        }
        seen += 1;
    }
    assert!(seen >= 6, "{seen} session vectors");
}

#[test]
fn a_refusal_counts_only_before_the_server_answers_and_changes_nothing() {
    // Plaintext.
    let server = UdpServer::bind("127.0.0.1:0", server_config(), echo_router(), ()).unwrap();
    let client = UdpPacketSocket::bind_with("127.0.0.1:0", transport(Some(FP))).unwrap();
    refusal_window(client, server);

    // Sealed.
    let login = Login::new();
    let config = server_config().sealed(login.provider());
    let server = UdpServer::bind("127.0.0.1:0", config, echo_router(), ()).unwrap();
    let (_, security) = login.issue();
    let client = UdpPacketSocket::bind_with("127.0.0.1:0", transport(Some(FP)))
        .unwrap()
        .sealed(security);
    refusal_window(client, server);
}

/// A refusal forged to an unconnected `client` (datagrams from any address
/// reach it) counts during the handshake with `server` and changes
/// nothing; after the server's first answer it is an invalid datagram.
fn refusal_window(mut client: UdpPacketSocket, server: UdpServerHandle<()>) {
    let me = client.local_addr().unwrap();
    let forger = UdpSocket::bind("127.0.0.1:0").unwrap();
    let msg = HI;

    // During the handshake a refusal (forged here) is reported, and the
    // client is left as it was: its hello still goes out, and the real
    // server's answer still gets through.
    forger.send_to(&refusal(OTHER), me).unwrap();
    let e = client.recv_from().map(|_| ()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "protocol mismatch: client 0x1111222233334444, server 0x5555666677778888"
    );
    client.send_to(&msg, server.local_addr()).unwrap();
    let (f, from) = client.recv_from().unwrap();
    assert_eq!((f.type_id(), from), (ECHO, server.local_addr()));

    // Once the server has answered, a refusal is just an invalid datagram:
    // dropped, never handed out as a frame.
    let dropped = client.stats().dropped;
    forger.send_to(&refusal(OTHER), me).unwrap();
    client.send_to(&msg, server.local_addr()).unwrap();
    let (f, _) = client.recv_from().unwrap();
    assert_eq!(f.type_id(), ECHO);
    assert_eq!(client.stats().dropped, dropped + 1);
    server.shutdown();
}

#[test]
fn a_plaintext_stream_takes_a_late_refusal_as_an_invalid_frame() {
    use std::io::Write;
    // A server that answers the first frame, then sends a refusal.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        for _ in 0..2 {
            let (mut s, _) = listener.accept().unwrap();
            let mut reply = [0; 64];
            let n = packet_core::frame::encode_raw(ECHO, 0, b"hi", &mut reply).unwrap();
            s.write_all(&reply[..n]).unwrap();
            s.write_all(&refusal(OTHER)).unwrap();
            // Read until the client closes, so the close resets nothing.
            std::io::copy(&mut s, &mut std::io::sink()).ok();
        }
    });
    // With a fingerprint (past the refusal's window), and without one.
    for fingerprint in [Some(FP), None] {
        let mut client = TcpPacketStream::connect_with(addr, transport(fingerprint)).unwrap();
        echo!(client).unwrap();
        let e = client.recv().map(|_| ()).unwrap_err();
        assert!(
            matches!(e, TransportError::StrayRefusal { server: OTHER }),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "refusal-shaped frame (server fingerprint 0x5555666677778888) outside the handshake: invalid"
        );
        // The stream stays failed.
        assert!(matches!(
            client.recv().map(|_| ()),
            Err(TransportError::StrayRefusal { .. })
        ));
        drop(client);
    }
    server.join().unwrap();
}

mod props {
    use packet_net::fuzzing::{Hello, Opened, fingerprint_hello, plain_server_opener, refusal};
    use packet_net::transport::{SessionToken, TransportError};
    use proptest::prelude::*;

    proptest! {
        /// Every hello reads back as itself; any other body is not a hello
        /// (and reading one never panics).
        #[test]
        fn hellos_read_back_and_nothing_else_is_one(
            token in any::<[u8; 16]>(),
            fp in proptest::option::of(any::<u64>()),
            type_id in any::<u16>(),
            body in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let hello = Hello { token: SessionToken(token), fingerprint: fp };
            let bytes = hello.bytes();
            let f = packet_core::frame::Frame::parse(&bytes).unwrap();
            prop_assert_eq!(Hello::parse(f.type_id(), f.body()), Some(hello));
            prop_assert_eq!(bytes.len(), hello.frame_len());
            let parsed = Hello::parse(type_id, &body);
            prop_assert_eq!(
                parsed.is_some(),
                type_id == 0xFFFF && matches!(body.len(), 16 | 24)
            );
        }

        /// A plaintext server end requiring fingerprint `server` accepts
        /// exactly the plaintext hello carrying it, owes a refusal exactly
        /// for the plaintext hello carrying another, and takes any other
        /// datagram as no hello, without panicking.
        #[test]
        fn a_plaintext_server_end_takes_exactly_its_hello(
            server in any::<u64>(),
            client in any::<u64>(),
            mut junk in proptest::collection::vec(any::<u8>(), 0..80),
        ) {
            let config = Default::default();
            let mut opener = plain_server_opener(&config, Some(server));
            let mut hello = fingerprint_hello(&SessionToken::PLAINTEXT, client);
            match opener.open_datagram(&mut hello, &config) {
                Ok(Opened::Keyed(h)) => {
                    prop_assert_eq!(client, server);
                    prop_assert!(h.sealer.is_none() && h.identity.is_none());
                }
                Err(TransportError::ProtocolMismatch(m)) => {
                    prop_assert_ne!(client, server);
                    prop_assert_eq!((m.client, m.server), (client, server));
                    prop_assert_eq!(opener.take_refusal(), Some(refusal(server)));
                    prop_assert_eq!(opener.take_refusal(), None);
                }
                other => prop_assert!(false, "{other:?}"),
            }
            let mut opener = plain_server_opener(&config, Some(server));
            prop_assert!(opener.open_datagram(&mut junk, &config).is_err());
            prop_assert_eq!(opener.take_refusal(), None);
        }
    }
}

#[test]
fn a_listener_without_a_fingerprint_takes_a_hello_that_arrives_alone() {
    use std::io::Write;
    let listener = TcpPacketListener::bind_with("127.0.0.1:0", transport(None)).unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut peer, _) = listener.accept().unwrap();
        let f = peer.recv().unwrap();
        (f.type_id(), f.body().to_vec())
    });
    let mut raw = std::net::TcpStream::connect(addr).unwrap();
    raw.write_all(&fingerprint_hello(&SessionToken::PLAINTEXT, OTHER))
        .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let mut frame = [0u8; 32];
    let n = packet_core::frame::encode_raw(ECHO, 0, b"late", &mut frame).unwrap();
    raw.write_all(&frame[..n]).unwrap();
    assert_eq!(server.join().unwrap(), (ECHO, b"late".to_vec()));
}

/// The tokio-util `PacketCodec` under `Framed`, over loopback TCP: the
/// same fingerprint behaviour as the streams, from the same
/// `TransportConfig`.
mod codec {
    use super::*;
    use bytes::BytesMut;
    use futures_util::{SinkExt, StreamExt};
    use packet_net::transport::tokio::{PacketCodec, RawFrame};
    use tokio::io::AsyncWriteExt;
    use tokio::net::{TcpListener, TcpStream};
    use tokio_util::codec::{Decoder, Encoder, Framed};

    const PING: RawFrame<'static> = RawFrame {
        type_id: 7,
        body: b"hi",
    };

    /// One echo through a `server` codec from a `client` codec: each
    /// side's result. The server writes the refusal it owes, if any,
    /// before it fails.
    async fn round_trip(
        server: PacketCodec,
        client: PacketCodec,
    ) -> (Result<(), TransportError>, Result<(), TransportError>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let served = tokio::spawn(async move {
            let (stream, _) = listener.accept().await?;
            let mut framed = Framed::new(stream, server);
            match framed.next().await {
                Some(Ok(f)) => {
                    let echo = RawFrame {
                        type_id: f.header.type_id,
                        body: &f.body,
                    };
                    framed.send(echo).await
                }
                Some(Err(e)) => {
                    if let Some(refusal) = framed.codec_mut().take_refusal() {
                        framed.get_mut().write_all(&refusal).await?;
                    }
                    Err(e)
                }
                None => Err(TransportError::Closed),
            }
        });
        let mut framed = Framed::new(TcpStream::connect(addr).await.unwrap(), client);
        let client = async {
            framed.send(PING).await?;
            match framed.next().await {
                Some(Ok(f)) => {
                    assert_eq!((f.header.type_id, &f.body[..]), (7, &b"hi"[..]));
                    Ok(())
                }
                Some(Err(e)) => Err(e),
                None => Err(TransportError::Closed),
            }
        };
        let client = tokio::time::timeout(LIMIT, client).await.unwrap();
        let server = tokio::time::timeout(LIMIT, served).await.unwrap().unwrap();
        (client, server)
    }

    fn plain_client(fingerprint: Option<u64>) -> PacketCodec {
        PacketCodec::client(transport(fingerprint))
    }

    /// A refusal-shaped frame: a codec of neither end hands it out as a
    /// frame; a client codec past its refusal's window takes it as an
    /// invalid frame, and stays failed.
    #[test]
    fn only_a_client_codec_takes_a_late_refusal_as_invalid() {
        let mut neither = PacketCodec::new(Default::default());
        let mut src = BytesMut::from(&refusal(OTHER)[..]);
        let f = neither.decode(&mut src).unwrap().unwrap();
        assert_eq!((f.header.type_id, f.body.len()), (0xFFFF, 8));

        let mut client = plain_client(Some(FP));
        let mut reply = [0; 64];
        let n = packet_core::frame::encode_raw(7, 0, b"hi", &mut reply).unwrap();
        let mut src = BytesMut::from(&reply[..n]);
        src.extend_from_slice(&refusal(OTHER));
        let f = client.decode(&mut src).unwrap().unwrap();
        assert_eq!(f.header.type_id, 7);
        for _ in 0..2 {
            let e = client.decode(&mut src).map(|_| ()).unwrap_err();
            // A valid frame after it gets the same error.
            src.extend_from_slice(&reply[..n]);
            assert!(
                matches!(e, TransportError::StrayRefusal { server: OTHER }),
                "{e:?}"
            );
        }
    }

    fn plain_server(fingerprint: Option<u64>) -> PacketCodec {
        PacketCodec::server(transport(fingerprint))
    }

    #[tokio::test]
    async fn plaintext_codecs_accept_the_same_protocol_and_refuse_another() {
        let (c, s) = round_trip(plain_server(Some(FP)), plain_client(Some(FP))).await;
        c.unwrap();
        s.unwrap();

        let (c, s) = round_trip(plain_server(Some(FP)), plain_client(Some(OTHER))).await;
        assert_refused(c.unwrap_err());
        assert_refused(s.unwrap_err());
    }

    #[tokio::test]
    async fn sealed_codecs_refuse_another_protocol_before_using_the_token() {
        let login = Login::new();
        let server = || plain_server(Some(FP)).sealed(login.provider());

        let (_, security) = login.issue();
        let (c, s) = round_trip(server(), plain_client(Some(FP)).sealed(security)).await;
        c.unwrap();
        s.unwrap();

        let (token, security) = login.issue();
        let (c, s) = round_trip(server(), plain_client(Some(OTHER)).sealed(security)).await;
        assert_refused(c.unwrap_err());
        assert_refused(s.unwrap_err());

        // The token was not looked up: the client, updated, still gets in.
        let updated = plain_client(Some(FP)).sealed(Login::stolen(token));
        let (c, s) = round_trip(server(), updated).await;
        c.unwrap();
        s.unwrap();
    }

    #[tokio::test]
    async fn codec_servers_without_a_fingerprint_take_either_hello_unchecked() {
        for client in [None, Some(OTHER)] {
            let (c, s) = round_trip(plain_server(None), plain_client(client)).await;
            c.unwrap();
            s.unwrap();

            let login = Login::new();
            let (_, security) = login.issue();
            let server = plain_server(None).sealed(login.provider());
            let (c, s) = round_trip(server, plain_client(client).sealed(security)).await;
            c.unwrap();
            s.unwrap();
        }
    }

    #[test]
    fn a_client_codec_writes_the_wire_formats_hello_before_its_first_frame_only() {
        let mut codec = plain_client(Some(FP));
        let mut wire = BytesMut::new();
        codec.encode(PING, &mut wire).unwrap();
        let hello = fingerprint_hello(&SessionToken([0; 16]), FP);
        assert_eq!(&wire[..hello.len()], &hello[..]);
        let first = wire.len();
        codec.encode(PING, &mut wire).unwrap();
        assert_eq!(wire.len() - first, first - hello.len());

        // Without a fingerprint, a plaintext client sends no hello.
        let mut plain = BytesMut::new();
        plain_client(None).encode(PING, &mut plain).unwrap();
        assert_eq!(plain.len(), first - hello.len());
    }

    #[test]
    fn a_codec_server_with_a_fingerprint_stays_failed_after_a_bad_first_frame() {
        let mut wire = BytesMut::new();
        plain_client(None).encode(PING, &mut wire).unwrap();
        plain_client(Some(FP)).encode(PING, &mut wire).unwrap();
        let mut server = plain_server(Some(FP));
        let expected = "expected a session hello with a protocol fingerprint first, \
                        got type 0x0007 with a 2-byte body";
        for _ in 0..2 {
            let e = server.decode(&mut wire).unwrap_err();
            assert_eq!(e.to_string(), expected);
        }
        assert_eq!(server.take_refusal(), None);

        // A mismatch: the refusal is owed once, and matches the vector.
        let mut wire = BytesMut::new();
        plain_client(Some(OTHER)).encode(PING, &mut wire).unwrap();
        let mut server = plain_server(Some(FP));
        assert_refused(server.decode(&mut wire).unwrap_err());
        assert_eq!(server.take_refusal(), Some(refusal(FP)));
        assert_eq!(server.take_refusal(), None);
        assert_refused(server.decode(&mut wire).unwrap_err());
    }
}

/// The sixth new-user trial: `with_fingerprint(..)` then
/// `with_transport(..)` dropped the fingerprint, and the server served
/// every protocol. The order no longer matters.
#[test]
fn with_transport_keeps_a_required_fingerprint() {
    use packet_net::transport::TransportConfig;
    let transport = TransportConfig::default().with_write_queue_limit(1 << 20);
    let a = ServerConfig::default()
        .with_fingerprint(FP)
        .with_transport(transport);
    let b = ServerConfig::default()
        .with_transport(transport)
        .with_fingerprint(FP);
    assert_eq!(a.transport.fingerprint, Some(FP));
    assert_eq!(b.transport.fingerprint, Some(FP));
    assert_eq!(a.transport.write_queue_limit, 1 << 20);
    // A transport that carries its own fingerprint replaces it.
    let c = ServerConfig::default()
        .with_fingerprint(FP)
        .with_transport(transport.with_fingerprint(7));
    assert_eq!(c.transport.fingerprint, Some(7));
}
