//! The sans-I/O session core (`packet_net::fuzzing::Connection`) driven by
//! arbitrary sequences of inputs and time steps: bytes read (garbage or
//! valid frames, in arbitrary pieces), end of stream, clock advances, write
//! progress, handler failures, closes, shutdowns, work in flight, buffer
//! releases, with a plaintext or a sealed (server, awaiting its hello)
//! session.
//!
//! Properties beyond "no panic, no hang, no unbounded allocation":
//! - a sealed session that has not sent a valid hello never yields a frame
//!   and never connects (its provider knows no token);
//! - the receive buffer never takes more than a maximum frame;
//! - whenever the core says the session goes on, its next deadline (if
//!   any) lies in the future, and a session awaiting its hello, with
//!   bytes queued or stopping always has one (nothing waits forever; work
//!   in flight holds a shutdown only within its grace; it holds the idle
//!   and partial-frame timeouts, the application's work being the slow
//!   one, which is why a partial frame alone is not checked here).
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use packet_core::frame::{self, FrameConfig};
use packet_net::DisconnectReason;
use packet_net::fuzzing::{self, Connection, Event, Limits};
use packet_net::transport::{ServerSecurity, TransportError};

fn limits() -> Limits {
    Limits {
        handshake_timeout: Some(Duration::from_secs(5)),
        frame_timeout: Duration::from_secs(10),
        idle_timeout: Some(Duration::from_secs(30)),
        write_timeout: Some(Duration::from_secs(10)),
        shutdown_grace: Duration::from_secs(5),
        release_after: Duration::from_secs(1),
    }
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let sealed = u.arbitrary::<bool>()?;
    let max = u.int_in_range(64..=2048u32)?;
    let frame = FrameConfig::default().with_max_frame_len(max);
    let opener = if sealed {
        fuzzing::halves(ServerSecurity::new(|_| None), frame, false).1
    } else {
        fuzzing::plain(&frame).1
    };
    let queue_limit = 4096;
    let t0 = Instant::now();
    let mut now = t0;
    let mut conn = Connection::new(&frame, opener, limits(), queue_limit, now);
    let mut queued = 0usize;
    let mut closing = false;
    let mut stopping = false;
    let mut seq = 0u64;
    let mut pending: Vec<u8> = Vec::new();
    for _ in 0..u.int_in_range(0..=200usize)? {
        match u.int_in_range(0..=10u8)? {
            // Bytes arrive: a piece of what is pending, or fresh garbage.
            0 | 1 => {
                if pending.is_empty() {
                    if u.arbitrary::<bool>()? {
                        let body: &[u8] = u.arbitrary()?;
                        let mut b = vec![0u8; frame::frame_len_for(body.len())];
                        if let Ok(n) = frame::encode_raw(u.arbitrary()?, seq, body, &mut b) {
                            seq += 1;
                            pending.extend_from_slice(&b[..n]);
                        }
                    } else {
                        pending.extend_from_slice(u.arbitrary::<&[u8]>()?);
                    }
                }
                let room = conn.read_room();
                assert!(room <= max as usize, "read room past a maximum frame");
                let n = u.int_in_range(0..=pending.len())?.min(room);
                if n > 0 && conn.wants_read(queued) {
                    let taken = conn.on_read(&pending[..n], now);
                    assert_eq!(taken, n, "the core took less than its room");
                    pending.drain(..n);
                } else if pending.is_empty() && conn.wants_read(queued) {
                    // The socket is empty: a read would block (ends a
                    // shutdown's last read).
                    conn.life().on_read_blocked();
                }
            }
            2 => {
                conn.on_read(&[], now);
            }
            // The clock moves, by up to a minute.
            3 | 4 => now += Duration::from_millis(u.int_in_range(0..=60_000u64)?),
            // The application takes events; replies get queued.
            5 => {
                while let Some(e) = conn.poll_event(now) {
                    match e {
                        Event::Connected(_) => {
                            assert!(!sealed, "a session connected without a hello")
                        }
                        Event::Frame(f) => {
                            assert!(!sealed, "a frame before the hello");
                            let _ = f.body();
                            queued += 40;
                        }
                        Event::Refuse(_) => panic!("a refusal with no fingerprint configured"),
                    }
                }
            }
            // The socket takes some bytes (or none).
            6 => {
                let written = u.int_in_range(0..=queued)?;
                queued -= written;
                conn.life().on_written(written, queued, now);
            }
            7 => conn
                .life()
                .fail(DisconnectReason::Handler(TransportError::Closed), now),
            8 => {
                if u.arbitrary::<bool>()? {
                    conn.life().shutdown(now);
                    stopping = true;
                } else {
                    closing = true;
                }
            }
            // Work in flight (an async handler's task) starts or ends.
            9 => conn.life().on_work(u.arbitrary()?, now),
            _ => {
                conn.release_idle(now);
            }
        }
        let overflowed = queued > queue_limit;
        if let Some(reason) = conn.poll_end(queued, closing, overflowed, now) {
            let _ = reason.to_string();
            return Ok(());
        }
        conn.release_idle(now);
        let next = conn.life().poll_timeout(queued);
        if let Some(t) = next {
            assert!(t > now, "a deadline already past, yet the session goes on");
        }
        if sealed && !conn.is_connected() {
            assert!(
                next.is_some(),
                "an unauthenticated session with no deadline"
            );
        }
        if queued > 0 {
            assert!(next.is_some(), "queued bytes with no deadline");
        }
        if stopping {
            // Work in flight never holds a shutdown past its grace.
            assert!(next.is_some(), "a stopping session with no deadline");
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
