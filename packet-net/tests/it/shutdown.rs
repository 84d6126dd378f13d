//! The shutdown of the TCP servers: frames a client sent before
//! `shutdown()` are dispatched and answered, then the close notice, on
//! both servers, paced or not (one rule in the session core: a stopping
//! stream makes one last read of what its socket already holds).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use packet_net::server::{Router, ServerConfig};
use packet_net::transport::blocking::TcpPacketStream;
use packet_net::transport::{CloseReason, TransportConfig, TransportError};

use crate::common::{KINDS, Kind, Tcp, wait_until};

const ECHO: u16 = 1;
/// Echoed back after [`SLOW_FOR`]: only to hold the session's handler
/// while the client sends more and the server is told to stop.
const SLOW: u16 = 2;
const SLOW_FOR: Duration = Duration::from_millis(200);
const LIMIT: Duration = Duration::from_secs(10);

fn router(started: Arc<AtomicBool>) -> Router<()> {
    Router::new()
        .on_frame(ECHO, |ctx, f| ctx.reply_raw(ECHO, f.body()))
        .on_frame(SLOW, move |ctx, f| {
            started.store(true, Ordering::SeqCst);
            std::thread::sleep(SLOW_FOR);
            ctx.reply_raw(SLOW, f.body())
        })
}

/// The trial's report: a handler holds the session; meanwhile the client
/// sends three echo requests and the server is told to stop. Every frame
/// sent before the stop is answered, then the notice says the server is
/// shutting down. (Blocking, and both servers paced, answered only the
/// first: the stop came before the pass that would have read the rest,
/// and a stopping session read nothing more.)
#[test]
fn frames_sent_before_the_shutdown_are_answered_then_the_notice() {
    let transport = TransportConfig::default()
        .with_read_timeout(Some(LIMIT))
        .with_write_timeout(Some(LIMIT));
    for &kind in KINDS {
        for paced in [false, true] {
            let what = format!("{kind:?}, paced: {paced}");
            let mut config = ServerConfig::default()
                .with_workers(1)
                .with_shutdown_grace(Duration::from_secs(30));
            if paced {
                config = config.with_wake_interval(Duration::from_millis(10));
            }
            let started = Arc::new(AtomicBool::new(false));
            let server = Tcp::start(kind, config, router(started.clone()));
            let mut c = TcpPacketStream::connect_with(server.addr(), transport).unwrap();
            c.send_raw(SLOW, b"slow").unwrap();
            assert!(
                wait_until(LIMIT, || started.load(Ordering::SeqCst)),
                "{what}"
            );
            for body in [b"one", b"two", b"thr"] {
                c.send_raw(ECHO, body).unwrap();
            }
            // The requests are in the server's socket (loopback delivers
            // at once; a moment for good measure) while the handler runs.
            std::thread::sleep(Duration::from_millis(5));
            let stop = std::thread::spawn(move || server.shutdown());
            let mut got = Vec::new();
            let e = loop {
                match c.recv() {
                    Ok(f) => got.push((f.type_id(), f.body().to_vec())),
                    Err(e) => break e,
                }
            };
            let want: Vec<(u16, Vec<u8>)> = [
                (SLOW, &b"slow"[..]),
                (ECHO, b"one"),
                (ECHO, b"two"),
                (ECHO, b"thr"),
            ]
            .into_iter()
            .map(|(t, b)| (t, b.to_vec()))
            .collect();
            assert_eq!(got, want, "{what}: every reply, in order");
            match e {
                TransportError::ClosedByServer(n) => {
                    assert_eq!(n.reason, CloseReason::ShuttingDown, "{what}: {n}")
                }
                other => panic!("{what}: expected the shutdown notice, got {other:?}"),
            }
            drop(c);
            stop.join().unwrap();
        }
    }
}

const WORK: u16 = 3;

/// A handler that moves its work to a thread holding a
/// [`Session::work`](packet_net::server::Session::work) guard: the reply
/// comes `work_for` later; `late` records a send that found the session
/// gone.
fn work_router(work_for: Duration, started: Arc<AtomicBool>, late: Arc<AtomicBool>) -> Router<()> {
    Router::new().on_frame(WORK, move |ctx, f| {
        let session = ctx.session().clone();
        let work = session.work();
        let body = f.body().to_vec();
        let late = late.clone();
        started.store(true, Ordering::SeqCst);
        std::thread::spawn(move || {
            std::thread::sleep(work_for);
            if let Err(TransportError::Closed) = session.send_raw(WORK, &body) {
                late.store(true, Ordering::SeqCst);
            }
            drop(work);
        });
        Ok(())
    })
}

/// The sixth new-user trial: work a handler moved off the server (an
/// async handler's task) was cut off by the shutdown, its reply lost
/// although the grace had room. Work in flight now holds the session's
/// end (and its notice) until it replies, within the grace.
#[test]
fn work_in_flight_replies_before_the_shutdown_notice() {
    let transport = TransportConfig::default()
        .with_read_timeout(Some(LIMIT))
        .with_write_timeout(Some(LIMIT));
    for &kind in KINDS {
        for paced in [false, true] {
            let what = format!("{kind:?}, paced: {paced}");
            let mut config = ServerConfig::default()
                .with_workers(1)
                .with_shutdown_grace(Duration::from_secs(30));
            if paced {
                config = config.with_wake_interval(Duration::from_millis(10));
            }
            let (started, late) = (Arc::new(AtomicBool::new(false)), Arc::default());
            let router = work_router(Duration::from_millis(300), started.clone(), late);
            let server = Tcp::start(kind, config, router);
            let mut c = TcpPacketStream::connect_with(server.addr(), transport).unwrap();
            c.send_raw(WORK, b"work").unwrap();
            assert!(
                wait_until(LIMIT, || started.load(Ordering::SeqCst)),
                "{what}"
            );
            let stop = std::thread::spawn(move || server.shutdown());
            let f = c
                .recv()
                .unwrap_or_else(|e| panic!("{what}: the reply, got {e:?}"));
            assert_eq!((f.type_id(), f.body()), (WORK, &b"work"[..]), "{what}");
            match c.recv() {
                Err(TransportError::ClosedByServer(n)) => {
                    assert_eq!(n.reason, CloseReason::ShuttingDown, "{what}: {n}")
                }
                other => panic!("{what}: expected the shutdown notice, got {other:?}"),
            }
            drop(c);
            stop.join().unwrap();
        }
    }
}

/// Work that outlasts the grace does not hold the shutdown past it: the
/// session ends with its notice at the grace, and the late reply's send
/// says the session is gone.
#[test]
fn work_in_flight_does_not_hold_a_shutdown_past_its_grace() {
    let transport = TransportConfig::default()
        .with_read_timeout(Some(LIMIT))
        .with_write_timeout(Some(LIMIT));
    for &kind in KINDS {
        let what = format!("{kind:?}");
        let config = ServerConfig::default()
            .with_workers(1)
            .with_shutdown_grace(Duration::from_millis(200));
        let (started, late) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let router = work_router(Duration::from_secs(2), started.clone(), late.clone());
        let server = Tcp::start(kind, config, router);
        let mut c = TcpPacketStream::connect_with(server.addr(), transport).unwrap();
        c.send_raw(WORK, b"work").unwrap();
        assert!(
            wait_until(LIMIT, || started.load(Ordering::SeqCst)),
            "{what}"
        );
        let stop = std::thread::spawn(move || server.shutdown());
        match c.recv() {
            Err(TransportError::ClosedByServer(n)) => {
                assert_eq!(n.reason, CloseReason::ShuttingDown, "{what}: {n}")
            }
            other => panic!("{what}: expected the shutdown notice first, got {other:?}"),
        }
        drop(c);
        stop.join().unwrap();
        assert!(
            wait_until(LIMIT, || late.load(Ordering::SeqCst)),
            "{what}: the late send is told Closed"
        );
    }
}

/// `Router::on_async` (tokio): the task's reply leaves before the notice.
#[cfg(feature = "tokio")]
#[test]
fn an_async_handlers_reply_leaves_before_the_shutdown_notice() {
    use packet_net::Packet;

    #[derive(Packet, Debug, PartialEq)]
    #[packet(id = 0x0D10)]
    struct Slow {
        ms: u32,
    }

    let router = Router::<()>::new().on_async(|session, slow: Slow| async move {
        tokio::time::sleep(Duration::from_millis(slow.ms.into())).await;
        session.send(&slow)
    });
    let config = ServerConfig::default().with_shutdown_grace(Duration::from_secs(30));
    let server = Tcp::start(Kind::Tokio, config, router);
    let transport = TransportConfig::default().with_read_timeout(Some(LIMIT));
    let mut c = TcpPacketStream::connect_with(server.addr(), transport).unwrap();
    c.send(&Slow { ms: 400 }).unwrap();
    // The task is sleeping when the shutdown starts.
    std::thread::sleep(Duration::from_millis(100));
    let stop = std::thread::spawn(move || server.shutdown());
    let reply: Slow = c.recv().expect("the task's reply").decode_packet().unwrap();
    assert_eq!(reply, Slow { ms: 400 });
    match c.recv() {
        Err(TransportError::ClosedByServer(n)) => assert_eq!(n.reason, CloseReason::ShuttingDown),
        other => panic!("expected the shutdown notice, got {other:?}"),
    }
    drop(c);
    stop.join().unwrap();
}

/// The same over UDP (both servers): the reply of work in flight leaves
/// before the notice.
#[test]
fn udp_work_in_flight_replies_before_the_shutdown_notice() {
    let transport = TransportConfig::default().with_read_timeout(Some(LIMIT));
    let config = ServerConfig::default().with_shutdown_grace(Duration::from_secs(30));
    let (started, late) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let router = || work_router(Duration::from_millis(300), started.clone(), late.clone());
    let blocking =
        packet_net::server::blocking::UdpServer::bind("127.0.0.1:0", config.clone(), router(), ())
            .unwrap();
    let addr = blocking.local_addr();
    let mut c =
        packet_net::transport::blocking::UdpPacketSocket::bind_with("127.0.0.1:0", transport)
            .unwrap();
    c.connect(addr).unwrap();
    c.send_raw(WORK, b"work").unwrap();
    assert!(wait_until(LIMIT, || started.load(Ordering::SeqCst)));
    let stop = std::thread::spawn(move || blocking.shutdown());
    let f = c.recv().expect("the reply");
    assert_eq!((f.type_id(), f.body()), (WORK, &b"work"[..]));
    match c.recv() {
        Err(TransportError::ClosedByServer(n)) => assert_eq!(n.reason, CloseReason::ShuttingDown),
        other => panic!("expected the shutdown notice, got {other:?}"),
    }
    stop.join().unwrap();
    assert!(!late.load(Ordering::SeqCst));
}
