//! A flood that never lets a UDP server's socket drain holds back none of
//! its deadlines. Found by a hostile-input run (session 8): the blocking
//! `UdpServer` received until the socket would block, so under a flood of
//! CRC-bad datagrams no sweep ran: a quiet session's idle timeout (due at
//! 30 s) came only when the flood stopped (40 s), and meanwhile every new
//! client was told "server full"; the tokio server's `biased` select let
//! the readable branch win over the deadline's sleep the same way. (The
//! shape of #11's "a sealed UDP server stopped answering new sessions
//! while established ones kept working".)

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use packet_core::frame;
use packet_net::server::ServerConfig;
use packet_net::transport::blocking::UdpPacketSocket;
use packet_net::transport::{CloseReason, TransportConfig, TransportError};

use crate::common::{ECHO, echo_router};

const IDLE: Duration = Duration::from_millis(300);
/// Longer than any wait below: the flood outlasts the checks.
const FLOOD_FOR: Duration = Duration::from_secs(20);

/// Threads sending, as fast as they can, one 60,000-byte frame whose
/// CRC is wrong (the server reads the whole datagram and checks it:
/// dropped and counted, nothing more), until `stop`.
fn flood(to: SocketAddr, stop: &Arc<AtomicBool>) -> Vec<JoinHandle<u64>> {
    let mut bad = vec![0u8; frame::frame_len_for(60_000)];
    let n = frame::encode_raw(ECHO, 0, &[7; 60_000], &mut bad).unwrap();
    bad.truncate(n);
    bad[100] ^= 0xFF;
    let bad = Arc::new(bad);
    (0..2)
        .map(|_| {
            let (stop, bad) = (stop.clone(), bad.clone());
            std::thread::spawn(move || {
                let s = UdpSocket::bind("127.0.0.1:0").unwrap();
                let end = Instant::now() + FLOOD_FOR;
                let mut sent = 0;
                while !stop.load(Ordering::Relaxed) && Instant::now() < end {
                    if s.send_to(&bad, to).is_ok() {
                        sent += 1;
                    }
                }
                sent
            })
        })
        .collect()
}

fn client(server: SocketAddr, wait: Duration) -> UdpPacketSocket {
    let config = TransportConfig::default().with_read_timeout(Some(wait));
    let s = UdpPacketSocket::bind_with("127.0.0.1:0", config).unwrap();
    s.connect(server).unwrap();
    s
}

/// Sends `body` and waits for its echo, skipping any other frame; false
/// if none came.
fn echoes(c: &mut UdpPacketSocket, body: &[u8]) -> bool {
    let m = crate::common::Msg {
        client: 1,
        seq: 1,
        data: body,
    };
    if c.send(&m).is_err() {
        return false;
    }
    matches!(c.recv(), Ok(f) if f.type_id() == ECHO)
}

enum Server {
    Blocking(packet_net::server::blocking::ServerHandle<()>),
    #[cfg(feature = "tokio")]
    Tokio(
        tokio::runtime::Runtime,
        packet_net::server::tokio::UdpServerHandle<()>,
    ),
}

impl Server {
    fn addr(&self) -> SocketAddr {
        match self {
            Server::Blocking(h) => h.local_addr(),
            #[cfg(feature = "tokio")]
            Server::Tokio(_, h) => h.local_addr(),
        }
    }

    fn shutdown(self) {
        match self {
            Server::Blocking(h) => h.shutdown(),
            #[cfg(feature = "tokio")]
            Server::Tokio(rt, h) => rt.block_on(h.shutdown()),
        }
    }
}

fn servers(config: &ServerConfig) -> Vec<(&'static str, Server)> {
    let blocking = packet_net::server::blocking::UdpServer::bind(
        "127.0.0.1:0",
        config.clone(),
        echo_router(),
        (),
    )
    .unwrap();
    #[allow(unused_mut)]
    let mut all = vec![("blocking", Server::Blocking(blocking))];
    #[cfg(feature = "tokio")]
    {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let h = rt
            .block_on(packet_net::server::tokio::UdpServer::bind(
                "127.0.0.1:0",
                config.clone(),
                echo_router(),
                (),
            ))
            .unwrap();
        all.push(("tokio", Server::Tokio(rt, h)));
    }
    all
}

#[test]
fn a_flood_holds_back_neither_an_idle_timeout_nor_a_new_clients_slot() {
    let config = ServerConfig::default()
        .with_max_sessions(1)
        .with_idle_timeout(Some(IDLE));
    for (what, server) in servers(&config) {
        let addr = server.addr();
        let mut a = client(addr, Duration::from_secs(10));
        assert!(echoes(&mut a, b"a"), "{what}: A's session");
        let stop = Arc::new(AtomicBool::new(false));
        let flooders = flood(addr, &stop);
        // A goes quiet: its idle timeout comes while the flood goes on.
        let got = a.recv();
        let flooding = !flooders.iter().any(|t| t.is_finished());
        match got {
            Err(TransportError::ClosedByServer(n)) => {
                assert_eq!(n.reason, CloseReason::IdleTimeout, "{what}: {n}")
            }
            other => panic!("{what}: expected A's idle-timeout notice, got {other:?}"),
        }
        assert!(flooding, "{what}: the notice came only after the flood");
        // Its slot is free for a new client, flood or not (a datagram
        // may be lost to the flood's full socket: a few tries).
        let mut b = client(addr, Duration::from_millis(250));
        let got_in = (0..40).any(|_| echoes(&mut b, b"b"));
        let flooding = !flooders.iter().any(|t| t.is_finished());
        assert!(got_in, "{what}: B never got the free slot");
        assert!(flooding, "{what}: B got in only after the flood");
        stop.store(true, Ordering::Relaxed);
        let sent: u64 = flooders.into_iter().map(|t| t.join().unwrap()).sum();
        assert!(sent > 0, "{what}");
        server.shutdown();
    }
}

/// Found by a review: under a flood, what another thread queued (a game
/// loop's broadcast) waited in the blocking server until its next
/// deadline (here a minute away), since the receive loop stopped only for
/// deadlines and the stop. A wake now ends the receiving too.
#[test]
fn a_flood_does_not_hold_back_a_broadcast() {
    let config = ServerConfig::default().with_idle_timeout(Some(Duration::from_secs(60)));
    for (what, server) in servers(&config) {
        let addr = server.addr();
        let mut a = client(addr, Duration::from_secs(5));
        assert!(echoes(&mut a, b"a"), "{what}: A's session");
        // Past the buffers' release (1 s): the next deadline is a minute out.
        std::thread::sleep(Duration::from_millis(1500));
        let stop = Arc::new(AtomicBool::new(false));
        let flooders = flood(addr, &stop);
        std::thread::sleep(Duration::from_millis(300));
        let sessions = match &server {
            Server::Blocking(h) => h.sessions().clone(),
            #[cfg(feature = "tokio")]
            Server::Tokio(_, h) => h.sessions().clone(),
        };
        let report = sessions.broadcast_raw(ECHO, b"push", None);
        assert_eq!(report.delivered, 1, "{what}");
        let got = a.recv().map(|f| f.body().to_vec());
        let flooding = !flooders.iter().any(|t| t.is_finished());
        stop.store(true, Ordering::Relaxed);
        for f in flooders {
            f.join().unwrap();
        }
        assert_eq!(got.ok().as_deref(), Some(&b"push"[..]), "{what}");
        assert!(flooding, "{what}: it came only after the flood");
        server.shutdown();
    }
}
