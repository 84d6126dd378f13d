//! Loopback integration tests of the blocking server and TCP stream:
//! many echoing clients, hostile peers (garbage, mid-frame disconnect,
//! slow loris), session limits and graceful shutdown.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use crate::common::{ECHO, Msg, echo_router, payload, wait_until};
use packet_core::frame;
use packet_net::server::blocking::{Server, ServerHandle};
use packet_net::server::{Router, ServerConfig};
use packet_net::transport::TransportConfig;
use packet_net::transport::blocking::TcpPacketStream;

const LIMIT: Duration = Duration::from_secs(10);

fn start(config: ServerConfig) -> ServerHandle<()> {
    Server::bind("127.0.0.1:0", config.with_workers(2), echo_router(), ()).unwrap()
}

fn client(addr: SocketAddr) -> TcpPacketStream {
    let config = TransportConfig::default().with_read_timeout(Some(LIMIT));
    TcpPacketStream::connect_with(addr, config).unwrap()
}

/// Sends `n` messages as client `c` and checks every echoed byte.
fn echo_round(s: &mut TcpPacketStream, c: u32, n: u32) {
    let mut buf = Vec::new();
    for seq in 0..n {
        payload(c, seq, &mut buf);
        s.queue(&Msg {
            client: c,
            seq,
            data: &buf,
        })
        .unwrap();
    }
    s.flush().unwrap();
    for seq in 0..n {
        payload(c, seq, &mut buf);
        let frame = s.recv().unwrap();
        let m: Msg<'_> = frame.decode_packet().unwrap();
        assert_eq!(
            m,
            Msg {
                client: c,
                seq,
                data: &buf
            }
        );
    }
}

#[test]
fn hundreds_of_clients_echo_every_byte() {
    let server = start(ServerConfig::default());
    let addr = server.local_addr();
    const THREADS: u32 = 4;
    const PER_THREAD: u32 = 60; // 240 concurrent connections
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            thread::spawn(move || {
                let mut conns: Vec<_> = (0..PER_THREAD).map(|_| client(addr)).collect();
                let mut buf = Vec::new();
                for round in 0..3u32 {
                    // Every connection has frames in flight at once.
                    for (i, s) in conns.iter_mut().enumerate() {
                        let c = t * PER_THREAD + i as u32;
                        for k in 0..5 {
                            payload(c, round * 5 + k, &mut buf);
                            s.queue(&Msg {
                                client: c,
                                seq: round * 5 + k,
                                data: &buf,
                            })
                            .unwrap();
                        }
                        s.flush().unwrap();
                    }
                    for (i, s) in conns.iter_mut().enumerate() {
                        let c = t * PER_THREAD + i as u32;
                        for k in 0..5 {
                            payload(c, round * 5 + k, &mut buf);
                            let frame = s.recv().unwrap();
                            let m: Msg<'_> = frame.decode_packet().unwrap();
                            assert_eq!((m.client, m.seq, m.data), (c, round * 5 + k, &buf[..]));
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let stats = server.stats();
    assert_eq!(stats.accepted, u64::from(THREADS * PER_THREAD));
    assert_eq!(stats.frames_in, u64::from(THREADS * PER_THREAD * 15));
    server.shutdown();
}

#[test]
fn garbage_client_is_dropped_alone() {
    let server = start(ServerConfig::default());
    let addr = server.local_addr();
    let good: Vec<_> = (0..8u32)
        .map(|c| {
            thread::spawn(move || {
                let mut s = client(addr);
                for _ in 0..20 {
                    echo_round(&mut s, c, 10);
                }
            })
        })
        .collect();
    // Text instead of frames: the length field is absurd.
    let mut garbage = TcpStream::connect(addr).unwrap();
    garbage
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // A well-formed frame with a corrupted check.
    let mut wire = [0u8; 64];
    let n = frame::encode_raw(ECHO, 0, b"bad crc", &mut wire).unwrap();
    wire[n - 6] ^= 0xFF;
    let mut bad_crc = TcpStream::connect(addr).unwrap();
    bad_crc.write_all(&wire[..n]).unwrap();
    // An unknown packet type: the handler registry refuses it.
    let mut unknown = client(addr);
    unknown.send_raw(0x7777, b"?").unwrap();
    for s in [&mut garbage, &mut bad_crc] {
        // The server closes: its close notice, then end of stream.
        assert!(crate::common::closed_for_protocol_error(s));
    }
    assert!(unknown.recv().is_err());
    assert!(wait_until(LIMIT, || server.stats().unknown_closed == 1));
    for g in good {
        g.join().unwrap();
    }
    let stats = server.stats();
    assert_eq!(stats.bad_frames, 2);
    assert_eq!((stats.unknown_closed, stats.handler_errors), (1, 0));
    server.shutdown();
}

#[test]
fn client_disconnecting_mid_frame() {
    let server = start(ServerConfig::default());
    let addr = server.local_addr();
    let mut wire = [0u8; 128];
    let n = frame::encode_raw(ECHO, 0, &[9; 40], &mut wire).unwrap();
    {
        let mut half = TcpStream::connect(addr).unwrap();
        half.write_all(&wire[..n / 2]).unwrap();
    } // dropped mid-frame
    assert!(wait_until(LIMIT, || server.stats().peer_closed == 1));
    assert!(wait_until(LIMIT, || server.sessions().is_empty()));
    let mut s = client(addr);
    echo_round(&mut s, 1, 5);
    assert_eq!(server.stats().bad_frames, 0);
    drop(s);
    server.shutdown();
}

#[test]
fn slow_loris_is_timed_out() {
    let config = ServerConfig::default().with_frame_timeout(Duration::from_millis(200));
    let server = start(config);
    let addr = server.local_addr();
    let mut wire = [0u8; 128];
    let n = frame::encode_raw(ECHO, 0, &[1; 40], &mut wire).unwrap();
    let mut loris = TcpStream::connect(addr).unwrap();
    loris.set_read_timeout(Some(LIMIT)).unwrap();
    loris.write_all(&wire[..10]).unwrap();
    // The server gives up on the frame, says so, and closes.
    let notice = crate::common::read_close(&mut loris).unwrap();
    assert_eq!(
        notice.reason,
        packet_net::transport::CloseReason::IdleTimeout
    );
    assert!(wait_until(LIMIT, || server.stats().timeouts == 1));
    // Finishing the frame now is too late; a prompt client is served.
    let _ = loris.write_all(&wire[10..n]);
    let mut s = client(addr);
    echo_round(&mut s, 2, 5);
    drop((loris, s));
    server.shutdown();
}

#[test]
fn max_sessions_is_enforced() {
    let server = start(ServerConfig::default().with_max_sessions(2));
    let addr = server.local_addr();
    let mut a = client(addr);
    let mut b = client(addr);
    assert!(wait_until(LIMIT, || server.stats().active == 2));
    let mut c = client(addr);
    assert!(c.send_raw(ECHO, b"x").is_err() || c.recv().is_err());
    assert_eq!(server.stats().rejected, 1);
    echo_round(&mut a, 1, 3);
    echo_round(&mut b, 2, 3);
    drop((a, b, c));
    server.shutdown();
}

#[test]
fn graceful_shutdown_flushes_queued_packets() {
    const N: u64 = 60;
    let handled = std::sync::Arc::new(AtomicU64::new(0));
    let h = handled.clone();
    let router = Router::new().on_frame(ECHO, move |ctx, f| {
        let m: Msg<'_> = f.decode_packet()?;
        // A big reply, so the queue is far from written when shutdown starts.
        let big = vec![m.seq as u8; 2000];
        ctx.reply(&Msg {
            client: m.client,
            seq: m.seq,
            data: &big,
        })?;
        h.fetch_add(1, Ordering::SeqCst);
        Ok(())
    });
    let server = Server::bind(
        "127.0.0.1:0",
        ServerConfig::default().with_workers(1),
        router,
        (),
    )
    .unwrap();
    let mut s = client(server.local_addr());
    for seq in 0..N as u32 {
        s.queue(&Msg {
            client: 0,
            seq,
            data: b"",
        })
        .unwrap();
    }
    s.flush().unwrap();
    // Every request is accepted (dispatched, reply queued) before the
    // client reads anything.
    assert!(wait_until(LIMIT, || handled.load(Ordering::SeqCst) == N));
    let stopper = thread::spawn(move || server.shutdown());
    for seq in 0..N as u32 {
        let frame = s.recv().unwrap();
        let m: Msg<'_> = frame.decode_packet().unwrap();
        assert_eq!((m.seq, m.data.len()), (seq, 2000));
        assert!(m.data.iter().all(|&b| b == seq as u8));
    }
    // Then the server closes the connection.
    assert!(s.recv().unwrap_err().is_disconnect());
    stopper.join().unwrap();
}

#[test]
fn udp_bad_datagrams_are_dropped_and_counted() {
    use packet_net::transport::blocking::UdpPacketSocket;
    let config = TransportConfig::default().with_read_timeout(Some(LIMIT));
    let mut server = UdpPacketSocket::bind_with("127.0.0.1:0", config).unwrap();
    let server_addr = server.local_addr().unwrap();
    let raw = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    raw.connect(server_addr).unwrap();
    let mut wire = [0u8; 128];
    let n = frame::encode_raw(ECHO, 1, b"datagram", &mut wire).unwrap();
    let mut bad_crc = wire;
    bad_crc[n - 5] ^= 1;
    let mut bad_ending = wire;
    bad_ending[n - 1] = b'!';
    for d in [
        &wire[..n],
        &wire[..n / 2],   // truncated
        &bad_crc[..n],    // bad check
        &bad_ending[..n], // bad ending
        &[0u8; 3][..],    // too short for a length
        &wire[..n],
    ] {
        raw.send(d).unwrap();
    }
    let mut buf = server.new_recv_buf();
    for _ in 0..2 {
        // Receive into our own buffer so the socket is free to reply.
        let (frame, from) = server.recv_from_in(&mut buf).unwrap();
        assert_eq!(frame.body(), b"datagram");
        server
            .send_raw_to(frame.type_id(), frame.body(), from)
            .unwrap();
    }
    let stats = server.stats();
    assert_eq!((stats.received, stats.dropped, stats.sent), (2, 4, 2));

    // Connected mode on the client side, through the packet socket.
    let mut client = UdpPacketSocket::bind_with("127.0.0.1:0", config).unwrap();
    client.connect(server_addr).unwrap();
    client
        .send(&Msg {
            client: 1,
            seq: 2,
            data: b"abc",
        })
        .unwrap();
    let (frame, from) = server.recv_from().unwrap();
    let m: Msg<'_> = frame.decode_packet().unwrap();
    assert_eq!(
        m,
        Msg {
            client: 1,
            seq: 2,
            data: b"abc"
        }
    );
    let reply = m.data.to_vec();
    server
        .send_to(
            &Msg {
                client: 1,
                seq: 2,
                data: &reply,
            },
            from,
        )
        .unwrap();
    let back: Msg<'_> = client.recv().unwrap().decode_packet().unwrap();
    assert_eq!(back.data, b"abc");
}

fn udp_client(addr: SocketAddr) -> packet_net::transport::blocking::UdpPacketSocket {
    let config = TransportConfig::default().with_read_timeout(Some(LIMIT));
    let s =
        packet_net::transport::blocking::UdpPacketSocket::bind_with("127.0.0.1:0", config).unwrap();
    s.connect(addr).unwrap();
    s
}

fn udp_echo_once(
    s: &mut packet_net::transport::blocking::UdpPacketSocket,
    c: u32,
    i: u32,
    buf: &mut Vec<u8>,
) {
    payload(c, i, buf);
    let msg = Msg {
        client: c,
        seq: i,
        data: buf,
    };
    s.send(&msg).unwrap();
    let got: Msg<'_> = s.recv().unwrap().decode_packet().unwrap();
    assert_eq!(got, msg);
}

#[test]
fn blocking_udp_server_gives_each_peer_a_session_and_drops_bad_datagrams() {
    use packet_net::server::blocking::UdpServer;
    let config = ServerConfig::default().with_idle_timeout(Some(Duration::from_secs(1)));
    let server = UdpServer::bind("127.0.0.1:0", config, echo_router(), ()).unwrap();
    let addr = server.local_addr();
    let clients: Vec<_> = (0..16u32)
        .map(|c| {
            thread::spawn(move || {
                let mut s = udp_client(addr);
                let mut buf = Vec::new();
                for i in 0..40 {
                    udp_echo_once(&mut s, c, i, &mut buf);
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    let stats = server.stats();
    assert_eq!((stats.accepted, stats.frames_in), (16, 16 * 40));
    // Garbage, a truncated frame and a bad check: dropped, counted, no
    // session made.
    let raw = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut wire = [0u8; 128];
    let n = frame::encode_raw(ECHO, 0, b"datagram", &mut wire).unwrap();
    raw.send_to(&wire[..n - 1], addr).unwrap();
    wire[20] ^= 0xFF;
    raw.send_to(&wire[..n], addr).unwrap();
    raw.send_to(b"garbage", addr).unwrap();
    assert!(wait_until(LIMIT, || server.dropped() == 3));
    assert_eq!(server.stats().accepted, 16);
    // Silent peers expire.
    assert!(wait_until(LIMIT, || server.sessions().is_empty()));
    assert_eq!(server.stats().timeouts, 16);
    // A new peer still gets in; shutdown is clean.
    let mut s = udp_client(addr);
    udp_echo_once(&mut s, 99, 0, &mut Vec::new());
    server.shutdown();
}

/// `StatsSnapshot::counters` walks every field (an exporter needs no list
/// of its own): the names are the fields', each once.
#[test]
fn stats_counters_name_every_field_once() {
    let stats = packet_net::server::StatsSnapshot::default();
    let names: Vec<&str> = stats.counters().map(|(n, _)| n).collect();
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "{names:?}");
    for want in [
        "accepted",
        "active",
        "bad_frames",
        "bad_hellos",
        "protocol_mismatches",
    ] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    // As many as the Debug output has fields.
    let debug = format!("{stats:?}");
    assert_eq!(debug.matches(": ").count(), names.len(), "{debug}");
}
