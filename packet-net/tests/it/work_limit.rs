//! `ServerConfig::max_session_work`: a session's work in flight (its
//! `on_async` tasks) is bounded; past the bound its frames wait (TCP:
//! neither dispatched nor read, so flow control holds the client back)
//! and nothing is lost. Found by a hostile-input run (session 8): one
//! client sending small frames to an async handler made the server hold
//! 1.6 million tasks and 1 GB in 3 s.
#![cfg(feature = "tokio")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use packet_net::Packet;
use packet_net::server::{Router, ServerConfig};
use packet_net::transport::TransportConfig;
use packet_net::transport::blocking::TcpPacketStream;

use crate::common::{Kind, Tcp};

#[derive(Packet, Debug, PartialEq)]
#[packet(id = 0x0D20)]
struct Job {
    n: u32,
}

const LIMIT: usize = 8;
const JOBS: u32 = 400;

#[test]
fn work_in_flight_per_session_is_bounded_and_nothing_is_lost() {
    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (now2, most2) = (now.clone(), most.clone());
    let router = Router::<()>::new().on_async(move |session, job: Job| {
        let (now, most) = (now2.clone(), most2.clone());
        async move {
            let running = now.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(running, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(5)).await;
            now.fetch_sub(1, Ordering::SeqCst);
            session.send(&job)
        }
    });
    let config = ServerConfig::default().with_max_session_work(LIMIT);
    let server = Tcp::start(Kind::Tokio, config, router);
    let transport = TransportConfig::default().with_read_timeout(Some(Duration::from_secs(10)));
    let mut c = TcpPacketStream::connect_with(server.addr(), transport).unwrap();
    // Every job at once: far more than the bound.
    for n in 0..JOBS {
        c.queue(&Job { n }).unwrap();
    }
    c.flush().unwrap();
    let mut got: Vec<u32> = (0..JOBS)
        .map(|_| c.recv().unwrap().decode_packet::<Job>().unwrap().n)
        .collect();
    got.sort_unstable();
    assert_eq!(got, (0..JOBS).collect::<Vec<_>>(), "every job answered");
    let most = most.load(Ordering::SeqCst);
    assert!(
        most <= LIMIT,
        "{most} tasks at once, past the bound {LIMIT}"
    );
    assert!(most > 1, "the tasks ran side by side ({most})");
    drop(c);
    server.shutdown();
}

/// Found by a review of the bound: frames the bound holds back wait in
/// the receive buffer, where the core took them for an unfinished frame
/// and ended the session at the frame timeout (the client told "idle
/// timeout") while its work ran. Work in flight now holds the idle and
/// partial-frame timeouts: every job is answered.
#[test]
fn frames_held_by_the_bound_do_not_time_out() {
    let router = Router::<()>::new().on_async(move |session, job: Job| async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        session.send(&job)
    });
    let config = ServerConfig::default()
        .with_max_session_work(1)
        .with_frame_timeout(Duration::from_millis(150))
        .with_idle_timeout(Some(Duration::from_millis(150)));
    let server = Tcp::start(Kind::Tokio, config, router);
    let transport = TransportConfig::default().with_read_timeout(Some(Duration::from_secs(10)));
    let mut c = TcpPacketStream::connect_with(server.addr(), transport).unwrap();
    for n in 0..3 {
        c.queue(&Job { n }).unwrap();
    }
    c.flush().unwrap();
    for n in 0..3 {
        let got = c.recv().map(|f| f.decode_packet::<Job>().unwrap());
        assert_eq!(got.ok(), Some(Job { n }), "job {n}");
    }
    drop(c);
    server.shutdown();
}

/// A bound of 0 is taken as 1 (it would serve nothing).
#[test]
fn a_zero_bound_is_one() {
    let config = ServerConfig::default().with_max_session_work(0);
    assert_eq!(config.max_session_work, 1);
    let router = Router::<()>::new().on_frame(1, |ctx, f| ctx.reply_raw(1, f.body()));
    let mut config = ServerConfig::default();
    config.max_session_work = 0; // set directly: still served
    let server =
        packet_net::server::blocking::Server::bind("127.0.0.1:0", config, router, ()).unwrap();
    let transport = TransportConfig::default().with_read_timeout(Some(Duration::from_secs(10)));
    let mut c = TcpPacketStream::connect_with(server.local_addr(), transport).unwrap();
    c.send_raw(1, b"hi").unwrap();
    assert_eq!(c.recv().unwrap().body(), b"hi");
    drop(c);
    server.shutdown();
}
