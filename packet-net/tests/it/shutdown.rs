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

use crate::common::{KINDS, Tcp, wait_until};

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
