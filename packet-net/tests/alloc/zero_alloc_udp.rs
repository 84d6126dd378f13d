//! Zero heap allocations per packet on the UDP steady state, counted by a
//! global allocator (`stats_alloc`): a tokio `UdpPacketSocket` client
//! (with a read timeout, so the timer path is covered) talking to the
//! tokio UDP session server on a current-thread runtime; and a blocking
//! client keeping 8 frames in flight to the blocking UDP server, so the
//! server's batched receives (several datagrams per call) and batched
//! replies (GSO runs) are covered.
//!
//! Its own test binary (one test), so nothing else allocates meanwhile.

use std::time::Duration;

use crate::common::{ECHO, Msg};
use packet_net::server::blocking::UdpServer as BlockingUdpServer;
use packet_net::server::tokio::UdpServer;
use packet_net::server::{Router, ServerConfig};
use packet_net::transport::TransportConfig;
use packet_net::transport::blocking::UdpPacketSocket as BlockingUdpSocket;
use packet_net::transport::tokio::UdpPacketSocket;
use stats_alloc::Region;

use crate::GLOBAL;

pub fn udp_server_steady_state_does_not_allocate() {
    let region = Region::new(GLOBAL);
    drop(std::hint::black_box(Box::new(1u64)));
    assert!(
        region.change().allocations >= 1,
        "counting allocator not installed"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let router = Router::<()>::new().on_frame(ECHO, |ctx, f| {
            let m: Msg<'_> = f.decode_packet()?;
            ctx.reply(&m)
        });
        let config = ServerConfig::default().with_idle_timeout(Some(Duration::from_secs(60)));
        let server = UdpServer::bind("127.0.0.1:0", config, router, ())
            .await
            .unwrap();
        let transport = TransportConfig::default().with_read_timeout(Some(Duration::from_secs(10)));
        let mut c = UdpPacketSocket::bind_with("127.0.0.1:0", transport)
            .await
            .unwrap();
        c.connect(server.local_addr()).await.unwrap();
        let payload = [3u8; 64];
        let mut round_trips = async |from: u32, to: u32| {
            for i in from..to {
                c.send(&Msg {
                    client: 1,
                    seq: i,
                    data: &payload,
                })
                .await
                .unwrap();
                let m: Msg<'_> = c.recv().await.unwrap().decode_packet().unwrap();
                assert_eq!((m.client, m.seq, m.data), (1, i, &payload[..]));
            }
        };
        round_trips(0, 200).await;
        let region = Region::new(GLOBAL);
        round_trips(200, 2200).await;
        let change = region.change();
        assert_eq!(
            (change.allocations, change.reallocations),
            (0, 0),
            "allocations during 2000 UDP round trips: {change:?}"
        );
        assert_eq!(server.dropped(), 0);
        server.shutdown().await;
    });
}

pub fn blocking_udp_server_batches_do_not_allocate() {
    let router = Router::<()>::new().on_frame(ECHO, |ctx, f| {
        let m: Msg<'_> = f.decode_packet()?;
        ctx.reply(&m)
    });
    let config = ServerConfig::default().with_idle_timeout(Some(Duration::from_secs(60)));
    let server = BlockingUdpServer::bind("127.0.0.1:0", config, router, ()).unwrap();
    let transport = TransportConfig::default().with_read_timeout(Some(Duration::from_secs(10)));
    let mut c = BlockingUdpSocket::bind_with("127.0.0.1:0", transport).unwrap();
    c.connect(server.local_addr()).unwrap();
    let payload = [5u8; 64];
    let mut windows = |from: u32, to: u32| {
        for w in from..to {
            for i in 0..8 {
                let seq = w * 8 + i;
                c.send(&Msg {
                    client: 2,
                    seq,
                    data: &payload,
                })
                .unwrap();
            }
            for _ in 0..8 {
                let m: Msg<'_> = c.recv().unwrap().decode_packet().unwrap();
                assert_eq!((m.client, m.data), (2, &payload[..]));
            }
        }
    };
    windows(0, 50);
    let region = Region::new(GLOBAL);
    windows(50, 300);
    let change = region.change();
    assert_eq!(
        (change.allocations, change.reallocations),
        (0, 0),
        "allocations during 2000 batched UDP round trips: {change:?}"
    );
    assert_eq!(server.dropped(), 0);
    server.shutdown();
}

/// Broadcasts to 8 sessions of each UDP server: its sweep gathers the
/// sessions' datagrams into one batch (`sendmmsg` on Linux).
pub fn udp_broadcast_sweeps_do_not_allocate() {
    const CLIENTS: usize = 8;
    let payload = [7u8; 64];
    let msg = |seq| Msg {
        client: 3,
        seq,
        data: &payload,
    };
    let echo = || {
        Router::<()>::new().on_frame(ECHO, |ctx, f| {
            let m: Msg<'_> = f.decode_packet()?;
            ctx.reply(&m)
        })
    };
    let config = || ServerConfig::default().with_idle_timeout(Some(Duration::from_secs(60)));
    let transport = TransportConfig::default().with_read_timeout(Some(Duration::from_secs(10)));

    // Blocking server, blocking clients.
    let server = BlockingUdpServer::bind("127.0.0.1:0", config(), echo(), ()).unwrap();
    let mut clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let mut c = BlockingUdpSocket::bind_with("127.0.0.1:0", transport).unwrap();
            c.connect(server.local_addr()).unwrap();
            c.send(&msg(0)).unwrap();
            c.recv().unwrap();
            c
        })
        .collect();
    let mut ticks = |from: u32, to: u32| {
        for seq in from..to {
            let report = server.sessions().broadcast(&msg(seq), None);
            assert_eq!(report.delivered, CLIENTS);
            for c in &mut clients {
                let m: Msg<'_> = c.recv().unwrap().decode_packet().unwrap();
                assert_eq!((m.seq, m.data), (seq, &payload[..]));
            }
        }
    };
    ticks(1, 50);
    let region = Region::new(GLOBAL);
    ticks(50, 300);
    let change = region.change();
    assert_eq!(
        (change.allocations, change.reallocations),
        (0, 0),
        "allocations during 250 broadcasts to 8 blocking UDP sessions: {change:?}"
    );
    assert_eq!(server.dropped(), 0);
    server.shutdown();

    // Tokio server, tokio clients, one current-thread runtime.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let server = UdpServer::bind("127.0.0.1:0", config(), echo(), ())
            .await
            .unwrap();
        let mut clients = Vec::new();
        for _ in 0..CLIENTS {
            let mut c = UdpPacketSocket::bind_with("127.0.0.1:0", transport)
                .await
                .unwrap();
            c.connect(server.local_addr()).await.unwrap();
            c.send(&msg(0)).await.unwrap();
            c.recv().await.unwrap();
            clients.push(c);
        }
        let mut ticks = async |from: u32, to: u32| {
            for seq in from..to {
                let report = server.sessions().broadcast(&msg(seq), None);
                assert_eq!(report.delivered, CLIENTS);
                for c in &mut clients {
                    let m: Msg<'_> = c.recv().await.unwrap().decode_packet().unwrap();
                    assert_eq!((m.seq, m.data), (seq, &payload[..]));
                }
            }
        };
        ticks(1, 50).await;
        let region = Region::new(GLOBAL);
        ticks(50, 300).await;
        let change = region.change();
        assert_eq!(
            (change.allocations, change.reallocations),
            (0, 0),
            "allocations during 250 broadcasts to 8 tokio UDP sessions: {change:?}"
        );
        assert_eq!(server.dropped(), 0);
        server.shutdown().await;
    });
}
