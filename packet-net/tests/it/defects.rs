//! Regression tests for the five defects of issue #11. Each was written
//! first against the networking code as it was before the redesign
//! (packet-core's `transport`/`server`, commit eec70ce) and failed there:
//! 1. 200 idle sessions cost 19-26 clock ticks per second (the blocking
//!    server polled every session every 0.5 ms);
//! 2. `ServerConfig::default().idle_timeout` was `None`, and a sealed
//!    session waited for its hello forever;
//! 3. a client that never read was never dropped;
//! 4. 0 of 3 replies came back when garbage followed valid frames in one
//!    read (blocking and tokio servers);
//! 5. forged datagrams from a sealed UDP peer's address ended its session.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::common::{ECHO, Msg, echo_router, wait_until};
use packet_net::fuzzing;
use packet_net::server::{Router, ServerConfig};
use packet_net::transport::blocking::UdpPacketSocket;
use packet_net::transport::{CloseNotice, CloseReason, TransportConfig};

const LIMIT: Duration = Duration::from_secs(10);

// Defect 1 (idle sessions cost no CPU) is checked in `tests/alloc`
// (`idle_cpu`): it measures the whole process's CPU time, so it needs
// the process to itself.

/// Defect 2: the defaults let anyone hold a slot forever (no idle
/// timeout, no handshake deadline).
#[test]
fn defect2_default_config_expires_idle_and_unauthenticated_peers() {
    let config = ServerConfig::default();
    assert!(
        config
            .idle_timeout
            .is_some_and(|t| t <= Duration::from_secs(60)),
        "idle timeout off by default"
    );
    assert!(config.handshake_timeout <= Duration::from_secs(10));
    assert!(config.write_timeout.is_some());
}

/// Defect 2, behaviour: a sealed server's silent (unauthenticated)
/// connection loses its slot at the handshake deadline, on both servers.
#[test]
fn defect2_a_silent_sealed_connection_is_dropped_at_the_handshake_deadline() {
    let login = crate::common::login::Login::new();
    let config = ServerConfig::default()
        .with_max_sessions(1)
        .with_handshake_timeout(Duration::from_millis(300))
        .sealed(login.provider());
    let blocking = packet_net::server::blocking::Server::bind(
        "127.0.0.1:0",
        config.clone(),
        echo_router(),
        (),
    )
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let tokio = rt
        .block_on(packet_net::server::tokio::Server::bind(
            "127.0.0.1:0",
            config,
            echo_router(),
            (),
        ))
        .unwrap();
    let servers: [(SocketAddr, &dyn Fn() -> u64); 2] = [
        (blocking.local_addr(), &|| blocking.stats().timeouts),
        (tokio.local_addr(), &|| tokio.stats().timeouts),
    ];
    for (addr, timeouts) in servers {
        let mut silent = TcpStream::connect(addr).unwrap();
        silent.set_read_timeout(Some(LIMIT)).unwrap();
        let mut b = [0u8; 8];
        assert!(
            matches!(silent.read(&mut b), Ok(0) | Err(_)),
            "closed by the server"
        );
        assert!(wait_until(LIMIT, || timeouts() == 1));
    }
}

/// Defect 3: a client that never reads was never dropped.
#[test]
fn defect3_a_client_that_never_reads_is_dropped_blocking() {
    let server = packet_net::server::blocking::Server::bind(
        "127.0.0.1:0",
        never_reads_config(),
        echo_router(),
        (),
    )
    .unwrap();
    never_reads(server.local_addr(), || server.stats().slow_consumers);
}

#[test]
fn defect3_a_client_that_never_reads_is_dropped_tokio() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt
        .block_on(packet_net::server::tokio::Server::bind(
            "127.0.0.1:0",
            never_reads_config(),
            echo_router(),
            (),
        ))
        .unwrap();
    never_reads(server.local_addr(), || server.stats().slow_consumers);
}

/// The default configuration with a short write-progress timeout (the
/// default is 10 s; on the old code no setting dropped such a client).
fn never_reads_config() -> ServerConfig {
    ServerConfig::default().with_write_timeout(Some(Duration::from_millis(500)))
}

/// Sends 1,024-byte echo requests without reading the replies until the
/// server stops taking them; the server must drop the session.
fn never_reads(addr: SocketAddr, dropped: impl Fn() -> u64) {
    let mut raw = TcpStream::connect(addr).unwrap();
    raw.set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 1024];
    let body = [7u8; 984]; // 8 + 4 + 984 = 996 body bytes: a 1,024-byte frame
    let n = packet_core::frame::encode_packet(
        &Msg {
            client: 1,
            seq: 2,
            data: &body,
        },
        0,
        &mut buf,
    )
    .unwrap();
    assert_eq!(n, 1024);
    let _ = (0..100_000).try_for_each(|_| raw.write_all(&buf[..n]));
    assert!(
        wait_until(LIMIT, || dropped() >= 1),
        "the session was never dropped"
    );
}

/// Defect 4: replies to valid frames were lost when garbage arrived in
/// the same read.
fn replies_leave_before_the_close(addr: SocketAddr) {
    let mut raw = TcpStream::connect(addr).unwrap();
    raw.set_read_timeout(Some(LIMIT)).unwrap();
    let mut wire = Vec::new();
    let mut buf = [0u8; 256];
    for seq in 0..3 {
        let n = packet_core::frame::encode_packet(
            &Msg {
                client: 9,
                seq,
                data: b"hi",
            },
            seq.into(),
            &mut buf,
        )
        .unwrap();
        wire.extend_from_slice(&buf[..n]);
    }
    wire.extend_from_slice(&[0xEE; 64]);
    raw.write_all(&wire).unwrap();
    let mut got = Vec::new();
    let mut b = [0u8; 256];
    // The replies, then the close notice (wire format §12): the server
    // lingers until we close.
    while !got.ends_with(&packet_net::fuzzing::close_notice(CloseNotice::new(
        CloseReason::ProtocolError,
    ))) {
        match raw.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&b[..n]),
        }
    }
    raw.shutdown(std::net::Shutdown::Write).unwrap();
    let _ = raw.read_to_end(&mut got);
    let mut dec = packet_core::StreamDecoder::new(Default::default());
    dec.feed(&got);
    let mut seqs = Vec::new();
    let mut notice = None;
    while let Ok(Some(f)) = dec.next_frame() {
        if f.type_id() == 0xFFFF {
            assert!(notice.is_none(), "one notice, last");
            notice = CloseNotice::parse(f.type_id(), f.body());
            continue;
        }
        assert!(notice.is_none(), "the notice comes after every reply");
        seqs.push(f.decode_packet::<Msg<'_>>().unwrap().seq);
    }
    assert_eq!(seqs, [0, 1, 2], "replies to the valid frames were lost");
    assert_eq!(notice, Some(CloseNotice::new(CloseReason::ProtocolError)));
}

#[test]
fn defect4_replies_leave_before_a_bad_frame_closes_blocking() {
    let server = packet_net::server::blocking::Server::bind(
        "127.0.0.1:0",
        ServerConfig::default(),
        echo_router(),
        (),
    )
    .unwrap();
    replies_leave_before_the_close(server.local_addr());
}

#[test]
fn defect4_replies_leave_before_a_bad_frame_closes_tokio() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt
        .block_on(packet_net::server::tokio::Server::bind(
            "127.0.0.1:0",
            ServerConfig::default(),
            echo_router(),
            (),
        ))
        .unwrap();
    replies_leave_before_the_close(server.local_addr());
}

/// Defect 5: datagrams failing authentication counted against the
/// address and ended its session (source addresses can be forged).
#[test]
fn defect5_forged_datagrams_never_end_a_sealed_udp_session() {
    let login = crate::common::login::Login::new();
    let ended = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let e = ended.clone();
    let router = echo_router().on_disconnect(move |_, _| {
        e.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    let server = packet_net::server::blocking::UdpServer::bind(
        "127.0.0.1:0",
        ServerConfig::default().sealed(login.provider()),
        router,
        (),
    )
    .unwrap();
    let (token, sec) = login.issue();
    let config = TransportConfig::default().with_read_timeout(Some(LIMIT));
    let mut victim = UdpPacketSocket::bind_with("127.0.0.1:0", config)
        .unwrap()
        .sealed(sec);
    victim.connect(server.local_addr()).unwrap();
    let echo = |s: &mut UdpPacketSocket, seq: u32| {
        s.send(&Msg {
            client: 5,
            seq,
            data: b"x",
        })
        .unwrap();
        assert_eq!(
            s.recv().unwrap().decode_packet::<Msg<'_>>().unwrap().seq,
            seq
        );
    };
    echo(&mut victim, 0);
    // Forged: sealed under the right key at a sequence ahead, one bit
    // flipped, "from" the victim's address.
    let (mut sealer, _, _) = fuzzing::halves(
        crate::common::login::Login::stolen(token),
        Default::default(),
        true,
    );
    let mut wire = [0u8; 128];
    for _ in 0..50 {
        sealer.seal_with(ECHO, &mut wire, |_| Ok(())).unwrap();
    }
    let n = sealer
        .seal_with(ECHO, &mut wire, |w| w.put_bytes(b"forged body!"))
        .unwrap();
    wire[22] ^= 1;
    for _ in 0..20 {
        victim.get_ref().send(&wire[..n]).unwrap();
    }
    assert!(wait_until(LIMIT, || server.dropped() >= 20));
    echo(&mut victim, 1);
    assert_eq!(
        ended.load(std::sync::atomic::Ordering::Relaxed),
        0,
        "forged datagrams ended the session"
    );
    drop(Router::<()>::new());
}
