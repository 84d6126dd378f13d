//! The sans-I/O session core, deterministically: no sockets, a fake clock
//! (`Instant`s the test makes up), every timer and end-of-session decision.

use std::time::{Duration, Instant};

use packet_core::frame::FrameConfig;
use packet_net::DisconnectReason;
use packet_net::fuzzing::{self, Connection, Event, Limits};

use crate::common::wire;

const QUEUE: usize = 1000;

/// The core's limits as the servers' defaults set them (also for
/// `frame_paths`).
pub(crate) fn limits() -> Limits {
    Limits {
        handshake_timeout: Some(Duration::from_secs(5)),
        frame_timeout: Duration::from_secs(10),
        idle_timeout: Some(Duration::from_secs(30)),
        write_timeout: Some(Duration::from_secs(10)),
        shutdown_grace: Duration::from_secs(5),
        release_after: Duration::from_secs(1),
    }
}

fn plain(t0: Instant) -> Connection {
    let frame = FrameConfig::default();
    let (_, opener) = fuzzing::plain(&frame);
    Connection::new(&frame, opener, limits(), QUEUE, t0)
}

#[cfg(feature = "crypto")]
fn sealed(t0: Instant) -> Connection {
    let frame = FrameConfig::default();
    let provider = packet_net::transport::ServerSecurity::new(|_| None);
    let (_, opener, _) = fuzzing::halves(provider, frame, false);
    Connection::new(&frame, opener, limits(), QUEUE, t0)
}

/// Polls every event: `Some(type_id)` per frame, `None` for connected.
fn events(c: &mut Connection, now: Instant) -> Vec<Option<u16>> {
    let mut out = Vec::new();
    while let Some(e) = c.poll_event(now) {
        out.push(match e {
            Event::Frame(f) => Some(f.type_id()),
            Event::Connected(_) | Event::Refuse(_) => None,
        });
    }
    out
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn a_plain_session_connects_then_yields_each_frame() {
    let t0 = Instant::now();
    let mut c = plain(t0);
    let mut bytes = wire(1, 0, b"a");
    bytes.extend(wire(2, 1, b"bb"));
    let half = bytes.len() - 3;
    c.on_read(&bytes[..half], t0);
    assert_eq!(events(&mut c, t0), [None, Some(1)]);
    c.on_read(&bytes[half..], t0);
    assert_eq!(events(&mut c, t0), [Some(2)]);
    assert!(c.is_connected());
    assert!(c.poll_end(0, false, false, t0).is_none());
}

#[test]
fn back_pressure_stops_reading_above_half_the_queue() {
    let t0 = Instant::now();
    let c = plain(t0);
    assert!(c.wants_read(QUEUE / 2));
    assert!(!c.wants_read(QUEUE / 2 + 1));
}

#[test]
#[cfg(feature = "crypto")]
fn an_unauthenticated_session_ends_at_the_handshake_deadline() {
    let t0 = Instant::now();
    let mut c = sealed(t0);
    assert!(events(&mut c, t0).is_empty(), "no connect before the hello");
    let next = c.life().poll_timeout(0);
    assert!(next.is_some_and(|t| t <= t0 + secs(5)), "{next:?}");
    assert!(c.poll_end(0, false, false, t0 + secs(4)).is_none());
    assert!(matches!(
        c.poll_end(0, false, false, t0 + secs(5)),
        Some(DisconnectReason::HandshakeTimeout)
    ));
}

#[test]
#[cfg(feature = "crypto")]
fn a_bad_hello_ends_the_session_as_a_bad_frame() {
    let t0 = Instant::now();
    let mut c = sealed(t0);
    c.on_read(&wire(1, 0, b"not a hello"), t0);
    assert!(events(&mut c, t0).is_empty());
    assert!(!c.wants_read(0), "an ending session reads no more");
    assert!(matches!(
        c.poll_end(0, false, false, t0),
        Some(DisconnectReason::BadFrame(_))
    ));
}

#[test]
fn a_frame_left_unfinished_times_out() {
    let t0 = Instant::now();
    let mut c = plain(t0);
    let w = wire(1, 0, b"slow");
    c.on_read(&w[..5], t0);
    events(&mut c, t0);
    assert!(c.poll_end(0, false, false, t0 + secs(1)).is_none());
    // The earliest deadline: the quiet-second buffer release.
    assert_eq!(c.life().poll_timeout(0), Some(t0 + secs(1)));
    assert!(c.poll_end(0, false, false, t0 + secs(10)).is_none());
    assert!(matches!(
        c.poll_end(0, false, false, t0 + secs(11)),
        Some(DisconnectReason::FrameTimeout)
    ));
}

#[test]
fn silence_ends_the_session_at_the_idle_timeout_and_traffic_resets_it() {
    let t0 = Instant::now();
    let mut c = plain(t0);
    events(&mut c, t0);
    c.on_read(&wire(1, 0, b"x"), t0 + secs(20));
    events(&mut c, t0 + secs(20));
    assert!(c.poll_end(0, false, false, t0 + secs(49)).is_none());
    assert!(matches!(
        c.poll_end(0, false, false, t0 + secs(50)),
        Some(DisconnectReason::IdleTimeout)
    ));
}

#[test]
fn a_peer_that_never_reads_ends_at_the_write_timeout() {
    let t0 = Instant::now();
    let mut c = plain(t0);
    events(&mut c, t0);
    // Bytes queued, the socket takes nothing.
    c.life().on_written(0, 600, t0);
    assert!(c.poll_end(600, false, false, t0 + secs(9)).is_none());
    // Progress resets the clock.
    c.life().on_written(100, 500, t0 + secs(9));
    assert!(c.poll_end(500, false, false, t0 + secs(18)).is_none());
    assert!(matches!(
        c.poll_end(500, false, false, t0 + secs(19)),
        Some(DisconnectReason::SlowConsumer)
    ));
    // An overflowing queue ends it at once.
    let mut c = plain(t0);
    assert!(matches!(
        c.poll_end(0, false, true, t0),
        Some(DisconnectReason::SlowConsumer)
    ));
}

#[test]
fn a_bad_frame_ends_the_session_only_after_the_replies_already_queued() {
    let t0 = Instant::now();
    let mut c = plain(t0);
    let mut bytes = wire(1, 0, b"a");
    bytes.extend(wire(1, 1, b"b"));
    bytes.extend([0xEE; 40]);
    c.on_read(&bytes, t0);
    assert_eq!(events(&mut c, t0), [None, Some(1), Some(1)]);
    // Two replies queued: the session waits for them.
    assert!(c.poll_end(80, false, false, t0).is_none());
    assert!(!c.wants_read(0));
    assert!(matches!(
        c.poll_end(0, false, false, t0 + secs(1)),
        Some(DisconnectReason::BadFrame(_))
    ));
    // A peer that never takes them: the shutdown grace bounds the wait.
    let mut c = plain(t0);
    c.on_read(&[0xEE; 40], t0);
    events(&mut c, t0);
    assert!(c.poll_end(80, false, false, t0 + secs(4)).is_none());
    assert!(matches!(
        c.poll_end(80, false, false, t0 + secs(5)),
        Some(DisconnectReason::BadFrame(_))
    ));
}

#[test]
fn a_failing_handler_ends_the_session_losslessly_too() {
    let t0 = Instant::now();
    let mut c = plain(t0);
    events(&mut c, t0);
    c.life().fail(
        DisconnectReason::Handler(packet_net::transport::TransportError::Closed),
        t0,
    );
    assert!(c.poll_end(10, false, false, t0).is_none());
    assert!(matches!(
        c.poll_end(0, false, false, t0),
        Some(DisconnectReason::Handler(_))
    ));
}

#[test]
fn the_peer_closing_ends_the_session_once_its_replies_are_out() {
    let t0 = Instant::now();
    let mut c = plain(t0);
    c.on_read(&wire(1, 0, b"last"), t0);
    events(&mut c, t0);
    c.on_read(&[], t0);
    assert!(c.poll_end(40, false, false, t0).is_none());
    assert!(matches!(
        c.poll_end(0, false, false, t0),
        Some(DisconnectReason::PeerClosed)
    ));
    let mut c = plain(t0);
    c.on_read(&wire(1, 0, b"cut")[..6], t0);
    c.on_read(&[], t0);
    assert!(matches!(
        c.poll_end(0, false, false, t0),
        Some(DisconnectReason::PeerClosedMidFrame)
    ));
}

#[test]
fn close_and_shutdown_flush_first_within_the_grace() {
    let t0 = Instant::now();
    let mut c = plain(t0);
    events(&mut c, t0);
    assert!(c.poll_end(10, true, false, t0).is_none());
    assert!(matches!(
        c.poll_end(0, true, false, t0),
        Some(DisconnectReason::Closed)
    ));
    let mut c = plain(t0);
    c.life().shutdown(t0);
    assert!(c.wants_read(0), "the last read of what the socket holds");
    assert!(c.life().on_read_blocked());
    assert!(!c.wants_read(0));
    assert!(c.poll_end(10, false, false, t0 + secs(4)).is_none());
    assert!(matches!(
        c.poll_end(10, false, false, t0 + secs(5)),
        Some(DisconnectReason::Shutdown)
    ));
}

/// Work in flight (`Lifecycle::on_work`) holds a shutdown's end until it
/// is done, within the grace; it never holds any other end.
#[test]
fn work_in_flight_holds_a_shutdown_within_the_grace() {
    let t0 = Instant::now();
    let mut c = plain(t0);
    events(&mut c, t0);
    c.life().shutdown(t0);
    assert!(c.life().on_read_blocked());
    c.life().on_work(true, t0);
    assert!(c.poll_end(0, false, false, t0 + secs(1)).is_none());
    assert!(!c.life().is_ending(), "no notice while the work may reply");
    assert_eq!(c.life().poll_timeout(0), Some(t0 + secs(5)));
    c.life().on_work(false, t0 + secs(2));
    // Done: the end is decided (notices off: at once).
    assert!(matches!(
        c.poll_end(0, false, false, t0 + secs(2)),
        Some(DisconnectReason::Shutdown)
    ));
    // Past the grace, work in flight no longer holds it.
    let mut c = plain(t0);
    events(&mut c, t0);
    c.life().shutdown(t0);
    assert!(c.life().on_read_blocked());
    c.life().on_work(true, t0);
    assert!(matches!(
        c.poll_end(0, false, false, t0 + secs(5)),
        Some(DisconnectReason::Shutdown)
    ));
    // Nor does it hold a close the application asked for.
    let mut c = plain(t0);
    events(&mut c, t0);
    c.life().on_work(true, t0);
    assert!(matches!(
        c.poll_end(0, true, false, t0),
        Some(DisconnectReason::Closed)
    ));
}

/// Work in flight holds the idle timeout, which counts again from the
/// work's end (the second review: a session idled out right after a long
/// work's reply, before its client could answer).
#[test]
fn the_idle_time_counts_from_the_end_of_work_in_flight() {
    let t0 = Instant::now();
    let mut c = plain(t0);
    events(&mut c, t0);
    c.life().on_work(true, t0);
    assert!(c.poll_end(0, false, false, t0 + secs(40)).is_none());
    assert!(c.life().poll_timeout(0).is_none() || c.life().poll_timeout(0) > Some(t0 + secs(40)));
    c.life().on_work(false, t0 + secs(40));
    assert!(c.poll_end(0, false, false, t0 + secs(41)).is_none());
    assert_eq!(c.life().poll_timeout(0), Some(t0 + secs(70)));
    assert!(matches!(
        c.poll_end(0, false, false, t0 + secs(70)),
        Some(DisconnectReason::IdleTimeout)
    ));
}

#[test]
fn buffers_are_released_once_after_a_quiet_second() {
    let t0 = Instant::now();
    let mut c = plain(t0);
    c.on_read(&wire(1, 0, b"burst"), t0);
    events(&mut c, t0);
    assert!(!c.release_idle(t0));
    assert_eq!(c.life().poll_timeout(0), Some(t0 + secs(1)));
    assert!(c.release_idle(t0 + secs(1)));
    assert!(!c.release_idle(t0 + secs(2)), "once per quiet period");
    assert_eq!(c.life().poll_timeout(0), Some(t0 + secs(30)));
}

/// Found by the `session_core` fuzz target: replies queued while the
/// driver never reported a write attempt left the session with no
/// deadline at all. The write clock now starts when the core first sees
/// bytes queued.
#[test]
fn queued_bytes_always_have_a_deadline() {
    let t0 = Instant::now();
    let mut c = plain(t0);
    c.on_read(&wire(1, 0, b"x"), t0);
    events(&mut c, t0);
    c.release_idle(t0 + secs(1));
    assert!(c.poll_end(40, false, false, t0 + secs(1)).is_none());
    assert_eq!(c.life().poll_timeout(40), Some(t0 + secs(11)));
    assert!(matches!(
        c.poll_end(40, false, false, t0 + secs(11)),
        Some(DisconnectReason::SlowConsumer)
    ));
}

/// Found by the `session_core` fuzz target: a session stopping (or
/// ending) reported deadlines `poll_end` no longer acted on (the shutdown
/// grace while a bad frame's replies drained, a partial-frame timer), so
/// a driver would wake in a loop. The deadlines now follow `poll_end`'s
/// order, and the shutdown grace bounds an ending session too.
#[test]
fn an_ending_session_reports_only_deadlines_it_acts_on() {
    let t0 = Instant::now();
    let mut c = plain(t0);
    c.on_read(&wire(1, 0, b"partial")[..6], t0);
    events(&mut c, t0);
    assert!(c.poll_end(0, false, false, t0).is_none()); // the partial-frame clock runs
    c.life().shutdown(t0);
    c.life().fail(
        DisconnectReason::Handler(packet_net::transport::TransportError::Closed),
        t0 + secs(3),
    );
    c.release_idle(t0 + secs(4));
    assert!(c.poll_end(40, false, false, t0 + secs(4)).is_none());
    assert_eq!(c.life().poll_timeout(40), Some(t0 + secs(5)));
    assert!(c.poll_end(40, false, false, t0 + secs(5)).is_some());
}

#[test]
fn a_refused_session_lingers_until_the_client_closes_within_the_grace() {
    let t0 = Instant::now();
    let frame = FrameConfig::default();
    let refused = |t0| {
        let opener = fuzzing::plain_server_opener(&frame, Some(1));
        let mut c = Connection::new(&frame, opener, limits(), QUEUE, t0);
        let mut bytes =
            fuzzing::fingerprint_hello(&packet_net::transport::SessionToken([0; 16]), 2).to_vec();
        bytes.extend(wire(1, 0, b"more"));
        c.on_read(&bytes, t0);
        let mut refusals = 0;
        while let Some(e) = c.poll_event(t0) {
            refusals += matches!(e, Event::Refuse(_)) as usize;
        }
        assert_eq!(refusals, 1);
        c
    };
    // The refusal sent, the session still reads (and drops) the client's
    // bytes, then ends when the client closes.
    let mut c = refused(t0);
    assert!(c.poll_end(36, false, false, t0).is_none());
    assert!(c.poll_end(0, false, false, t0).is_none());
    assert!(c.wants_read(0));
    let room = c.read_room();
    assert!(room > 0 && room <= frame.max_frame_len() as usize);
    assert_eq!(c.on_read(&vec![0xEE; room], t0), room);
    assert!(c.poll_event(t0).is_none());
    let next = c.life().poll_timeout(0);
    assert!(next.is_some_and(|t| t <= t0 + secs(5)), "{next:?}");
    c.on_read(&[], t0 + secs(1));
    assert!(!c.wants_read(0));
    let end = c.poll_end(0, false, false, t0 + secs(1));
    assert!(
        matches!(end, Some(DisconnectReason::BadFrame(_))),
        "{end:?}"
    );
    // A client that never closes: the grace bounds the wait.
    let mut c = refused(t0);
    assert!(c.poll_end(0, false, false, t0 + secs(4)).is_none());
    assert!(c.poll_end(0, false, false, t0 + secs(5)).is_some());
    // A stopping server waits for it too, within the shutdown grace.
    let mut c = refused(t0 + secs(3));
    c.life().shutdown(t0);
    assert!(c.wants_read(0));
    assert!(c.poll_end(0, false, false, t0 + secs(4)).is_none());
    c.release_idle(t0 + secs(4));
    assert_eq!(c.life().poll_timeout(0), Some(t0 + secs(5)));
    assert!(c.poll_end(0, false, false, t0 + secs(5)).is_some());
}

// ------------------------------------------------- close notices (§12)

use packet_net::transport::CloseReason;

/// A plaintext server session that sends close notices.
fn noticing(t0: Instant) -> Connection {
    plain(t0).with_notices(true)
}

#[test]
fn an_end_with_a_notice_waits_for_it_then_lingers_until_the_client_closes() {
    let t0 = Instant::now();
    let mut c = noticing(t0);
    assert_eq!(events(&mut c, t0), [None]);
    // Idle: the end is decided, the notice handed out once, no end yet.
    assert!(c.poll_end(0, false, false, t0 + secs(30)).is_none());
    assert!(!c.life().take_shut_write(0), "the notice is not queued yet");
    assert_eq!(c.life().take_notice(), Some(CloseReason::IdleTimeout));
    assert_eq!(c.life().take_notice(), None);
    // Queued (behind the replies), then written: the write side is shut
    // once (the client reads the end right behind the notice), and the
    // session lingers, reading and dropping, until the client closes.
    assert!(c.poll_end(32, false, false, t0 + secs(30)).is_none());
    assert!(!c.life().take_shut_write(32), "the notice has not left");
    assert!(c.poll_end(0, false, false, t0 + secs(31)).is_none());
    assert!(c.life().take_shut_write(0));
    assert!(!c.life().take_shut_write(0), "once");
    assert!(c.life().is_lingering() && c.wants_read(0));
    assert_eq!(c.on_read(&wire(1, 0, b"late"), t0 + secs(31)), 32);
    assert!(events(&mut c, t0 + secs(31)).is_empty(), "dropped");
    c.on_read(&[], t0 + secs(32));
    assert!(matches!(
        c.poll_end(0, false, false, t0 + secs(32)),
        Some(DisconnectReason::IdleTimeout)
    ));
}

#[test]
fn a_client_that_never_closes_is_ended_by_the_grace() {
    let t0 = Instant::now();
    let mut c = noticing(t0);
    // The application closes the session (a kick).
    assert!(c.poll_end(0, true, false, t0).is_none());
    assert_eq!(c.life().take_notice(), Some(CloseReason::Application));
    assert!(c.poll_end(0, true, false, t0 + secs(4)).is_none());
    assert_eq!(c.life().poll_timeout(0), Some(t0 + secs(5)));
    assert!(matches!(
        c.poll_end(0, true, false, t0 + secs(5)),
        Some(DisconnectReason::Closed)
    ));
}

#[test]
fn a_notice_not_yet_queued_holds_the_end_back() {
    let t0 = Instant::now();
    let mut c = noticing(t0);
    c.life()
        .fail(DisconnectReason::HandlerPanicked("boom".into()), t0);
    c.on_read(&[], t0); // the client is gone: nothing to linger for
    assert!(c.life().has_notice());
    assert!(c.poll_end(0, false, false, t0).is_none(), "not sent yet");
    assert_eq!(c.life().take_notice(), Some(CloseReason::ServerError));
    assert!(
        c.poll_end(32, false, false, t0).is_none(),
        "not written yet"
    );
    assert!(matches!(
        c.poll_end(0, false, false, t0),
        Some(DisconnectReason::HandlerPanicked(_))
    ));
}

#[test]
fn a_bad_frame_is_a_protocol_error_after_the_frames_before_it() {
    let t0 = Instant::now();
    let mut c = noticing(t0);
    let mut bytes = wire(1, 0, b"ok");
    bytes.extend_from_slice(&[0xEE; 32]);
    c.on_read(&bytes, t0);
    assert_eq!(events(&mut c, t0), [None, Some(1)]);
    assert_eq!(c.life().take_notice(), Some(CloseReason::ProtocolError));
}

/// A stopping server stops reading, flushes the replies, sends the notice
/// last and shuts its write side; then the session lingers, reading and
/// dropping what the client still sends, until the client closes: closing
/// with the client's bytes unread would reset the connection, and the
/// kernel would drop what it had not yet delivered (the notice too).
#[test]
fn a_stopping_session_lingers_after_its_notice_until_the_client_closes() {
    let t0 = Instant::now();
    let mut c = noticing(t0);
    c.life().shutdown(t0);
    assert!(c.life().on_read_blocked(), "the last read is over");
    assert!(!c.wants_read(10), "no new frames once stopping");
    assert!(c.poll_end(10, false, false, t0).is_none());
    assert_eq!(c.life().take_notice(), Some(CloseReason::ShuttingDown));
    assert!(
        c.poll_end(42, false, false, t0).is_none(),
        "replies, notice"
    );
    assert!(!c.life().take_shut_write(42), "the notice has not left");
    assert!(c.poll_end(0, false, false, t0 + secs(1)).is_none());
    assert!(c.life().take_shut_write(0));
    assert!(c.life().is_lingering() && c.wants_read(0));
    assert_eq!(c.on_read(&wire(1, 0, b"late"), t0 + secs(1)), 32);
    assert!(events(&mut c, t0 + secs(1)).is_empty(), "dropped");
    assert!(c.poll_end(0, false, false, t0 + secs(2)).is_none());
    c.on_read(&[], t0 + secs(2));
    assert!(!c.wants_read(0));
    assert!(matches!(
        c.poll_end(0, false, false, t0 + secs(2)),
        Some(DisconnectReason::Shutdown)
    ));
}

/// At the shutdown a stream makes one last read of what its socket holds:
/// those frames are dispatched (their replies queued before the notice),
/// until a read would block; frames read after that are dropped. The
/// trial's report: frames a client sent while a handler ran were lost
/// when the stop came before the pass that would have read them.
#[test]
fn a_stopping_session_dispatches_what_its_socket_held_then_nothing_more() {
    let t0 = Instant::now();
    let mut c = noticing(t0);
    assert_eq!(events(&mut c, t0), [None]);
    c.life().shutdown(t0);
    assert!(c.life().is_draining());
    assert!(c.wants_read(0), "the last read");
    assert!(c.poll_end(0, false, false, t0).is_none());
    assert_eq!(c.life().take_notice(), None, "not before the last read");
    let mut held = wire(1, 0, b"one");
    held.extend(wire(2, 1, b"two"));
    held.extend(&wire(3, 2, b"three")[..5]);
    c.on_read(&held, t0);
    assert_eq!(events(&mut c, t0), [Some(1), Some(2)]);
    c.on_read(&wire(3, 2, b"three")[5..], t0);
    assert_eq!(
        events(&mut c, t0),
        [Some(3)],
        "a frame finished in the pass"
    );
    assert!(c.poll_end(30, false, false, t0).is_none());
    assert_eq!(c.life().take_notice(), None);
    // The socket is empty: the pass is over, once.
    assert!(c.life().on_read_blocked());
    assert!(!c.life().on_read_blocked());
    assert!(!c.life().is_draining() && !c.wants_read(0));
    assert!(c.poll_end(30, false, false, t0).is_none());
    assert_eq!(c.life().take_notice(), Some(CloseReason::ShuttingDown));
    // Lingering after the notice: what arrives now is dropped.
    assert!(c.poll_end(0, false, false, t0 + secs(1)).is_none());
    assert!(c.life().is_lingering());
    c.on_read(&wire(4, 3, b"late"), t0 + secs(1));
    assert!(events(&mut c, t0 + secs(1)).is_empty(), "dropped");
    c.on_read(&[], t0 + secs(2));
    assert!(matches!(
        c.poll_end(0, false, false, t0 + secs(2)),
        Some(DisconnectReason::Shutdown)
    ));

    // Bounded: back-pressure (the queue past half its limit) ends the
    // pass, and so does the grace.
    let mut c = noticing(t0);
    c.life().shutdown(t0);
    assert!(c.poll_end(QUEUE / 2 + 1, false, false, t0).is_none());
    assert!(!c.life().is_draining());
    assert_eq!(c.life().take_notice(), Some(CloseReason::ShuttingDown));
    let mut c = noticing(t0);
    c.life().shutdown(t0);
    assert!(c.poll_end(0, false, false, t0 + secs(4)).is_none());
    assert_eq!(c.life().poll_timeout(0), Some(t0 + secs(5)));
    assert!(c.life().is_draining());
    assert!(c.poll_end(0, false, false, t0 + secs(5)).is_none());
    assert_eq!(c.life().take_notice(), Some(CloseReason::ShuttingDown));
    // A session already ending makes no last read.
    let mut c = noticing(t0);
    assert!(c.poll_end(0, true, false, t0).is_none()); // a kick
    c.life().shutdown(t0);
    assert!(!c.life().is_draining());
}

/// The shutdown grace bounds the wait for a client that never closes.
#[test]
fn a_stopping_session_lingers_at_most_the_grace() {
    let t0 = Instant::now();
    let mut c = noticing(t0);
    c.life().shutdown(t0);
    c.life().on_read_blocked();
    assert!(c.poll_end(0, false, false, t0).is_none());
    assert_eq!(c.life().take_notice(), Some(CloseReason::ShuttingDown));
    assert!(c.poll_end(0, false, false, t0 + secs(4)).is_none());
    assert!(c.life().is_lingering());
    assert_eq!(c.life().poll_timeout(0), Some(t0 + secs(5)));
    assert!(matches!(
        c.poll_end(0, false, false, t0 + secs(5)),
        Some(DisconnectReason::Shutdown)
    ));
    // An end decided before the stop: its own deadline, or the stop's,
    // whichever comes first.
    let mut c = noticing(t0);
    assert!(c.poll_end(0, true, false, t0).is_none()); // a kick: lingers
    assert_eq!(c.life().take_notice(), Some(CloseReason::Application));
    c.life().shutdown(t0 + secs(2));
    assert!(c.life().is_lingering());
    assert_eq!(c.life().poll_timeout(0), Some(t0 + secs(5)));
    assert!(matches!(
        c.poll_end(0, true, false, t0 + secs(5)),
        Some(DisconnectReason::Closed)
    ));
}

#[test]
fn slow_consumers_peers_that_left_and_handshake_timeouts_get_no_notice() {
    let t0 = Instant::now();
    let mut c = noticing(t0);
    assert!(matches!(
        c.poll_end(100, false, true, t0),
        Some(DisconnectReason::SlowConsumer)
    ));
    assert_eq!(c.life().take_notice(), None);

    let mut c = noticing(t0);
    c.on_read(&[], t0);
    assert!(matches!(
        c.poll_end(0, false, false, t0),
        Some(DisconnectReason::PeerClosed)
    ));
    assert_eq!(c.life().take_notice(), None);

    #[cfg(feature = "crypto")]
    {
        let mut c = sealed(t0).with_notices(true);
        assert!(matches!(
            c.poll_end(0, false, false, t0 + secs(5)),
            Some(DisconnectReason::HandshakeTimeout)
        ));
        assert_eq!(c.life().take_notice(), None);
    }
}

#[test]
fn each_end_has_its_reason_code() {
    use packet_net::transport::TransportError;
    let cases = [
        (DisconnectReason::BadFrame(TransportError::Closed), Some(4)),
        (DisconnectReason::Handler(TransportError::Closed), Some(4)),
        (DisconnectReason::HandlerPanicked(String::new()), Some(5)),
        (
            DisconnectReason::Handler(std::io::Error::other("event queue full").into()),
            Some(5),
        ),
        (DisconnectReason::IdleTimeout, Some(3)),
        (DisconnectReason::FrameTimeout, Some(3)),
        (DisconnectReason::Closed, Some(6)),
        (DisconnectReason::Shutdown, Some(2)),
        (DisconnectReason::SlowConsumer, None),
        (DisconnectReason::HandshakeTimeout, None),
        (DisconnectReason::PeerClosed, None),
        (DisconnectReason::PeerClosedMidFrame, None),
    ];
    for (reason, code) in cases {
        assert_eq!(
            reason.close_reason().map(CloseReason::code),
            code,
            "{reason:?}"
        );
    }
    let refused = packet_core::layout::ProtocolMismatch {
        client: 1,
        server: 2,
    };
    let refused = DisconnectReason::BadFrame(refused.into());
    assert_eq!(refused.close_reason(), None, "the refusal says it");
    for code in 0..=8 {
        assert_eq!(CloseReason::from_code(code).code(), code);
    }
    assert_eq!(CloseReason::from_code(99).to_string(), "other(99)");
}
