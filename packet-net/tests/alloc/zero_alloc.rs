//! Zero heap allocations per packet on the steady-state send and receive
//! paths, counted by a global allocator: blocking TCP streams, UDP sockets,
//! and the blocking server (acceptor, workers, dispatch, reply).
//!
//! One test in its own file, so no other test allocates concurrently.

use std::time::Duration;

use crate::common::{ECHO, Msg};
use packet_net::server::blocking::Server;
use packet_net::server::{Router, ServerConfig};
use packet_net::transport::TransportConfig;
use packet_net::transport::blocking::{TcpPacketListener, TcpPacketStream, UdpPacketSocket};
use stats_alloc::Region;

use crate::GLOBAL;

const WARM_UP: u32 = 200;
const MEASURED: u32 = 2000;

/// Runs `step` `WARM_UP` times, then returns the allocations of `MEASURED` more.
fn count(mut step: impl FnMut(u32)) -> u64 {
    for i in 0..WARM_UP {
        step(i);
    }
    let region = Region::new(GLOBAL);
    for i in WARM_UP..WARM_UP + MEASURED {
        step(i);
    }
    let change = region.change();
    (change.allocations + change.reallocations) as u64
}

pub fn steady_state_send_and_receive_do_not_allocate() {
    // The counter works: a deliberate allocation is seen.
    let region = Region::new(GLOBAL);
    drop(std::hint::black_box(Box::new(1u64)));
    assert!(
        region.change().allocations >= 1,
        "counting allocator not installed"
    );

    let config = TransportConfig::default().with_read_timeout(Some(Duration::from_secs(10)));
    let payload = [7u8; 64];

    // TCP: client and server ends in one thread, one packet each way per step.
    let listener = TcpPacketListener::bind_with("127.0.0.1:0", config).unwrap();
    let mut client = TcpPacketStream::connect_with(listener.local_addr().unwrap(), config).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    let tcp = count(|i| {
        client
            .send(&Msg {
                client: 1,
                seq: i,
                data: &payload,
            })
            .unwrap();
        server
            .recv_with(|frame, out| {
                let m: Msg<'_> = frame.decode_packet().unwrap();
                assert_eq!(m.seq, i);
                out.queue(&m).unwrap();
            })
            .unwrap();
        server.flush().unwrap();
        let m: Msg<'_> = client.recv().unwrap().decode_packet().unwrap();
        assert_eq!((m.seq, m.data), (i, &payload[..]));
    });

    // UDP: a datagram each way per step.
    let mut a = UdpPacketSocket::bind_with("127.0.0.1:0", config).unwrap();
    let mut b = UdpPacketSocket::bind_with("127.0.0.1:0", config).unwrap();
    let b_addr = b.local_addr().unwrap();
    let mut b_buf = b.new_recv_buf();
    let udp = count(|i| {
        a.send_to(
            &Msg {
                client: 2,
                seq: i,
                data: &payload,
            },
            b_addr,
        )
        .unwrap();
        let (frame, from) = b.recv_from_in(&mut b_buf).unwrap();
        let m: Msg<'_> = frame.decode_packet().unwrap();
        b.send_to(&m, from).unwrap();
        let (frame, _) = a.recv_from().unwrap();
        let m: Msg<'_> = frame.decode_packet().unwrap();
        assert_eq!((m.seq, m.data), (i, &payload[..]));
    });

    // The blocking server: its worker reads, dispatches by type id,
    // decodes and queues the reply; counted across all threads.
    let router = Router::<()>::new().on_frame(ECHO, |ctx, f| {
        let m: Msg<'_> = f.decode_packet()?;
        ctx.reply(&m)
    });
    let srv = Server::bind(
        "127.0.0.1:0",
        ServerConfig::default().with_workers(1),
        router,
        (),
    )
    .unwrap();
    let mut c = TcpPacketStream::connect_with(srv.local_addr(), config).unwrap();
    let served = count(|i| {
        c.send(&Msg {
            client: 3,
            seq: i,
            data: &payload,
        })
        .unwrap();
        let m: Msg<'_> = c.recv().unwrap().decode_packet().unwrap();
        assert_eq!((m.seq, m.data), (i, &payload[..]));
    });
    // A broadcast from outside the handlers (the game loop's snapshot):
    // encoded once, queued, woken, written, received.
    let broadcast = count(|i| {
        let snapshot = Msg {
            client: 0,
            seq: i,
            data: &payload,
        };
        let report = srv.sessions().broadcast(&snapshot, None);
        assert_eq!(report.delivered, 1, "{report}");
        let m: Msg<'_> = c.recv().unwrap().decode_packet().unwrap();
        assert_eq!((m.seq, m.data), (i, &payload[..]));
    });
    srv.shutdown();

    assert_eq!(
        (tcp, udp, served, broadcast),
        (0, 0, 0, 0),
        "allocations during {MEASURED} round trips (tcp, udp, server) and broadcasts"
    );

    // Sealed: the same TCP round trip, encrypted both ways.
    #[cfg(feature = "crypto")]
    {
        use packet_core::crypto::{ChannelKeys, SecretKey};
        use packet_net::transport::{ClientSecurity, ServerSecurity, SessionToken};
        // One session: the listener's provider hands these keys out once.
        let keys = || ChannelKeys::shared(SecretKey::from_bytes([9; 32]));
        let once = std::sync::Mutex::new(true);
        let provider = ServerSecurity::new(move |t: &SessionToken| {
            (t.0 == [3; 16] && std::mem::take(&mut *once.lock().unwrap())).then(keys)
        });
        let sec = ClientSecurity::new(SessionToken([3; 16]), keys());
        let listener = TcpPacketListener::bind_with("127.0.0.1:0", config)
            .unwrap()
            .sealed(provider);
        let mut client = TcpPacketStream::connect_with(listener.local_addr().unwrap(), config)
            .unwrap()
            .sealed(sec);
        let (mut server, _) = listener.accept().unwrap();
        let sealed = count(|i| {
            client
                .send(&Msg {
                    client: 4,
                    seq: i,
                    data: &payload,
                })
                .unwrap();
            server
                .recv_with(|frame, out| {
                    let m: Msg<'_> = frame.decode_packet().unwrap();
                    out.queue(&m).unwrap();
                })
                .unwrap();
            server.flush().unwrap();
            let frame = client.recv().unwrap();
            assert!(frame.header().is_sealed());
            let m: Msg<'_> = frame.decode_packet().unwrap();
            assert_eq!((m.seq, m.data), (i, &payload[..]));
        });
        assert_eq!(
            sealed, 0,
            "allocations during {MEASURED} sealed round trips"
        );
    }
}
