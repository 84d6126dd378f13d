//! The server's counters: [`ServerStats`] (atomics, totals of ended
//! sessions) and [`StatsSnapshot`] (a copy, with the open sessions'
//! per-session counts added by [`super::Sessions::stats`]).
//!
//! What does not live here: the per-session counters (on each
//! [`super::Session`]).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::DisconnectReason;

/// Server counters (all monotonic except `active`).
#[derive(Debug, Default)]
pub struct ServerStats {
    pub(super) accepted: AtomicU64,
    pub(super) rejected: AtomicU64,
    pub(super) active: AtomicUsize,
    pub(super) frames_in: AtomicU64,
    pub(super) frames_out: AtomicU64,
    pub(super) frames_unsent: AtomicU64,
    pub(super) bad_frames: AtomicU64,
    pub(super) handler_errors: AtomicU64,
    pub(super) timeouts: AtomicU64,
    pub(super) slow_consumers: AtomicU64,
    pub(super) peer_closed: AtomicU64,
    pub(super) unknown_ignored: AtomicU64,
    pub(super) protocol_mismatches: AtomicU64,
}

/// A copy of the counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatsSnapshot {
    /// Connections accepted as sessions.
    pub accepted: u64,
    /// Connections refused because `max_sessions` were open.
    pub rejected: u64,
    /// Sessions open now.
    pub active: usize,
    /// Frames received and dispatched.
    pub frames_in: u64,
    /// Frames queued for sending.
    pub frames_out: u64,
    /// Frames that could not be queued for a session (by a reply,
    /// `send_to` or a broadcast): too big to encode, or its queue full
    /// (that session then closes as a slow consumer).
    pub frames_unsent: u64,
    /// Sessions dropped for sending a bad frame.
    pub bad_frames: u64,
    /// Sessions dropped because a handler failed.
    pub handler_errors: u64,
    /// Sessions dropped by the frame or idle timeout.
    pub timeouts: u64,
    /// Sessions dropped for not reading.
    pub slow_consumers: u64,
    /// Sessions the peer closed (cleanly or mid-frame).
    pub peer_closed: u64,
    /// Frames of an unknown type id ignored under
    /// [`UnknownPackets::Ignore`](super::UnknownPackets::Ignore) (their sessions went on).
    pub unknown_ignored: u64,
    /// Clients refused at their hello for another protocol fingerprint
    /// (`docs/wire-format.md` §11.5; each was sent the refusal). Counted
    /// when the session ends: a refused TCP session lingers until its
    /// client closes (at most the shutdown grace). Not counted in
    /// `bad_frames`.
    pub protocol_mismatches: u64,
}

impl ServerStats {
    /// The current values.
    pub fn snapshot(&self) -> StatsSnapshot {
        let r = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsSnapshot {
            accepted: r(&self.accepted),
            rejected: r(&self.rejected),
            active: self.active.load(Ordering::Relaxed),
            frames_in: r(&self.frames_in),
            frames_out: r(&self.frames_out),
            frames_unsent: r(&self.frames_unsent),
            bad_frames: r(&self.bad_frames),
            handler_errors: r(&self.handler_errors),
            timeouts: r(&self.timeouts),
            slow_consumers: r(&self.slow_consumers),
            peer_closed: r(&self.peer_closed),
            unknown_ignored: r(&self.unknown_ignored),
            protocol_mismatches: r(&self.protocol_mismatches),
        }
    }

    pub(super) fn count_end(&self, reason: &DisconnectReason) {
        let c = match reason {
            DisconnectReason::PeerClosed | DisconnectReason::PeerClosedMidFrame => {
                &self.peer_closed
            }
            DisconnectReason::BadFrame(crate::transport::TransportError::ProtocolMismatch(_)) => {
                &self.protocol_mismatches
            }
            DisconnectReason::BadFrame(_) => &self.bad_frames,
            DisconnectReason::Handler(_) => &self.handler_errors,
            DisconnectReason::FrameTimeout
            | DisconnectReason::IdleTimeout
            | DisconnectReason::HandshakeTimeout => &self.timeouts,
            DisconnectReason::SlowConsumer => &self.slow_consumers,
            _ => return,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }
}
