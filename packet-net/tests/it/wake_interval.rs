//! `ServerConfig::with_wake_interval` on the blocking servers and the
//! tokio servers (which then serve through the blocking servers' paced
//! loops, on threads inside their runtime), TCP and UDP: every input is
//! still dispatched and every reply arrives, broadcasts go out, timeouts
//! still fire, handlers may `tokio::spawn`, and a server stops.
//! No timing assertions: the limits below only keep a broken server from
//! hanging the test run.

use std::net::SocketAddr;
use std::thread;
use std::time::Duration;

use crate::common::{Msg, echo_router, payload, wait_until};
use packet_net::server::ServerConfig;
use packet_net::transport::TransportConfig;

const LIMIT: Duration = Duration::from_secs(10);
const INTERVAL: Duration = Duration::from_millis(20);
/// Clients per test, and messages each keeps in flight per round.
const CLIENTS: u32 = 4;
const IN_FLIGHT: u32 = 16;
const ROUNDS: u32 = 3;

fn paced() -> ServerConfig {
    ServerConfig::default()
        .with_wake_interval(INTERVAL)
        .with_workers(2)
}

fn transport() -> TransportConfig {
    TransportConfig::default().with_read_timeout(Some(LIMIT))
}

/// Checks that `got` is message `seq` of client `c`.
fn check(got: &Msg<'_>, c: u32, seq: u32, buf: &mut Vec<u8>) {
    payload(c, seq, buf);
    assert_eq!(
        *got,
        Msg {
            client: c,
            seq,
            data: buf
        }
    );
}

mod blocking {
    use super::*;
    use packet_net::server::blocking::{Server, UdpServer};
    use packet_net::transport::blocking::{TcpPacketStream, UdpPacketSocket};

    pub(super) fn tcp_client(addr: SocketAddr, c: u32) {
        let mut s = TcpPacketStream::connect_with(addr, transport()).unwrap();
        let mut buf = Vec::new();
        for round in 0..ROUNDS {
            for i in 0..IN_FLIGHT {
                let seq = round * IN_FLIGHT + i;
                payload(c, seq, &mut buf);
                let data = &buf;
                s.queue(&Msg {
                    client: c,
                    seq,
                    data,
                })
                .unwrap();
            }
            s.flush().unwrap();
            for i in 0..IN_FLIGHT {
                let m: Msg<'_> = s.recv().unwrap().decode_packet().unwrap();
                check(&m, c, round * IN_FLIGHT + i, &mut buf);
            }
        }
    }

    #[test]
    fn tcp_every_input_is_answered() {
        let server = Server::bind("127.0.0.1:0", paced(), echo_router(), ()).unwrap();
        let addr = server.local_addr();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| thread::spawn(move || tcp_client(addr, c)))
            .collect();
        for c in clients {
            c.join().unwrap();
        }
        assert_eq!(
            server.stats().frames_in,
            u64::from(CLIENTS * ROUNDS * IN_FLIGHT)
        );
        server.shutdown();
    }

    pub(super) fn udp_client(addr: SocketAddr, c: u32) {
        let mut s = UdpPacketSocket::bind_with("127.0.0.1:0", transport()).unwrap();
        s.connect(addr).unwrap();
        let mut buf = Vec::new();
        for round in 0..ROUNDS {
            for i in 0..IN_FLIGHT {
                let seq = round * IN_FLIGHT + i;
                payload(c, seq, &mut buf);
                s.send(&Msg {
                    client: c,
                    seq,
                    data: &buf,
                })
                .unwrap();
            }
            for i in 0..IN_FLIGHT {
                let m: Msg<'_> = s.recv().unwrap().decode_packet().unwrap();
                check(&m, c, round * IN_FLIGHT + i, &mut buf);
            }
        }
    }

    #[test]
    fn udp_every_input_is_answered() {
        let server = UdpServer::bind("127.0.0.1:0", paced(), echo_router(), ()).unwrap();
        let addr = server.local_addr();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| thread::spawn(move || udp_client(addr, c)))
            .collect();
        for c in clients {
            c.join().unwrap();
        }
        assert_eq!(server.dropped(), 0);
        server.shutdown();
    }

    /// A broadcast from outside the handlers (a game loop) reaches every
    /// session, and an idle session is still timed out.
    #[test]
    fn tcp_broadcasts_arrive_and_timeouts_fire() {
        let config = paced().with_idle_timeout(Some(Duration::from_millis(300)));
        let server = Server::bind("127.0.0.1:0", config, echo_router(), ()).unwrap();
        let addr = server.local_addr();
        let mut a = TcpPacketStream::connect_with(addr, transport()).unwrap();
        let mut b = TcpPacketStream::connect_with(addr, transport()).unwrap();
        assert!(wait_until(LIMIT, || server.stats().active == 2));
        let mut buf = Vec::new();
        for seq in 0..5 {
            payload(9, seq, &mut buf);
            let report = server.sessions().broadcast(
                &Msg {
                    client: 9,
                    seq,
                    data: &buf,
                },
                None,
            );
            assert_eq!(report.delivered, 2, "{report}");
        }
        for s in [&mut a, &mut b] {
            for seq in 0..5 {
                let m: Msg<'_> = s.recv().unwrap().decode_packet().unwrap();
                check(&m, 9, seq, &mut buf);
            }
        }
        // Both are silent from here on: the idle timeout ends them.
        assert!(a.recv().unwrap_err().is_disconnect());
        assert!(wait_until(LIMIT, || server.stats().timeouts == 2));
        drop((a, b));
        server.shutdown();
    }

    /// A stop returns although the interval is far longer than the test
    /// may take: a worker holding off its next wait is unparked.
    #[test]
    fn stop_returns_with_a_long_interval() {
        let config = ServerConfig::default().with_wake_interval(Duration::from_secs(3600));
        let server = Server::bind("127.0.0.1:0", config.clone(), echo_router(), ()).unwrap();
        let addr = server.local_addr();
        let mut s = TcpPacketStream::connect_with(addr, transport()).unwrap();
        // The worker took the session in (it woke once) and holds off
        // for an hour from then on: this input waits for its next wait.
        assert!(wait_until(LIMIT, || server.stats().active == 1));
        s.send(&Msg {
            client: 1,
            seq: 0,
            data: b"x",
        })
        .unwrap();
        drop(s);
        server.shutdown();

        // The UDP thread holds off once it woke (for its socket's first
        // writable event or this datagram).
        let udp = UdpServer::bind("127.0.0.1:0", config, echo_router(), ()).unwrap();
        let mut s = UdpPacketSocket::bind_with("127.0.0.1:0", transport()).unwrap();
        s.connect(udp.local_addr()).unwrap();
        s.send(&Msg {
            client: 2,
            seq: 0,
            data: b"x",
        })
        .unwrap();
        udp.shutdown();
    }
}

#[cfg(feature = "tokio")]
mod on_tokio {
    use super::*;
    use crate::common::ECHO;
    use packet_net::server::Router;
    use packet_net::server::tokio::{Server, UdpServer};
    use packet_net::transport::blocking::{TcpPacketStream, UdpPacketSocket};

    /// Runs `CLIENTS` blocking clients against `addr` at once, to the end.
    async fn all_clients(addr: SocketAddr, client: fn(SocketAddr, u32)) {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| tokio::task::spawn_blocking(move || client(addr, c)))
            .collect();
        for c in clients {
            c.await.unwrap();
        }
    }

    /// Every input answered, by a paced tokio server (TCP, then UDP).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_input_is_answered() {
        let server = Server::bind("127.0.0.1:0", paced(), echo_router(), ())
            .await
            .unwrap();
        let addr = server.local_addr();
        all_clients(addr, super::blocking::tcp_client).await;
        assert_eq!(
            server.stats().frames_in,
            u64::from(CLIENTS * ROUNDS * IN_FLIGHT)
        );
        server.shutdown().await;

        let server = UdpServer::bind("127.0.0.1:0", paced(), echo_router(), ())
            .await
            .unwrap();
        let addr = server.local_addr();
        all_clients(addr, super::blocking::udp_client).await;
        assert_eq!(server.dropped(), 0);
        server.shutdown().await;
    }

    /// Echoes from a task the handler spawns: the paced threads are
    /// inside the runtime.
    fn spawning_echo() -> Router<()> {
        Router::<()>::new().on_frame(ECHO, |ctx, f| {
            let m: Msg<'_> = f.decode_packet()?;
            let (client, seq, data) = (m.client, m.seq, m.data.to_vec());
            let session = ctx.session().clone();
            tokio::spawn(async move {
                let _ = session.send(&Msg {
                    client,
                    seq,
                    data: &data,
                });
            });
            Ok(())
        })
    }

    /// Handlers may `tokio::spawn`; a dropped handle stops its server
    /// without blocking the runtime.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn handlers_may_spawn() {
        let tcp = Server::bind("127.0.0.1:0", paced(), spawning_echo(), ())
            .await
            .unwrap();
        let udp = UdpServer::bind("127.0.0.1:0", paced(), spawning_echo(), ())
            .await
            .unwrap();
        let (tcp_addr, udp_addr) = (tcp.local_addr(), udp.local_addr());
        tokio::task::spawn_blocking(move || {
            let mut t = TcpPacketStream::connect_with(tcp_addr, transport()).unwrap();
            let mut u = UdpPacketSocket::bind_with("127.0.0.1:0", transport()).unwrap();
            u.connect(udp_addr).unwrap();
            let mut buf = Vec::new();
            for seq in 0..5 {
                payload(7, seq, &mut buf);
                let sent = Msg {
                    client: 7,
                    seq,
                    data: &buf,
                };
                t.send(&sent).unwrap();
                u.send(&sent).unwrap();
                let m: Msg<'_> = t.recv().unwrap().decode_packet().unwrap();
                check(&m, 7, seq, &mut buf);
                let m: Msg<'_> = u.recv().unwrap().decode_packet().unwrap();
                check(&m, 7, seq, &mut buf);
            }
        })
        .await
        .unwrap();
        tcp.shutdown().await;
        drop(udp);
    }
}
