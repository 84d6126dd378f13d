//! The server's counters: [`ServerStats`] (atomics, totals of ended
//! sessions) and [`StatsSnapshot`] (a copy, with the open sessions'
//! per-session counts added by [`super::Sessions::stats`]).
//!
//! What does not live here: the per-session counters (on each
//! [`super::Session`]).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::DisconnectReason;

/// Declares the counters once: the atomics of [`ServerStats`], the
/// documented fields of [`StatsSnapshot`] and the copy between them.
macro_rules! counters {
    ($($(#[doc = $doc:literal])* $name:ident: $atomic:ty => $plain:ty,)*) => {
        /// Server counters (all monotonic except `active`).
        #[derive(Debug, Default)]
        pub struct ServerStats {
            $(pub(super) $name: $atomic,)*
        }

        /// A copy of the counters.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct StatsSnapshot {
            $($(#[doc = $doc])* pub $name: $plain,)*
        }

        impl ServerStats {
            /// The current values.
            pub fn snapshot(&self) -> StatsSnapshot {
                StatsSnapshot {
                    $($name: self.$name.load(Ordering::Relaxed),)*
                }
            }
        }

        impl StatsSnapshot {
            /// Every counter as `(name, value)`, in declaration order,
            /// names as the fields': what a metrics exporter walks, so a
            /// counter added in a later release is exported without a
            /// change (`active` is a gauge, every other one a monotonic
            /// counter).
            ///
            /// ```
            /// use packet_net::server::StatsSnapshot;
            ///
            /// fn prometheus(stats: &StatsSnapshot) -> String {
            ///     let mut out = String::new();
            ///     for (name, value) in stats.counters() {
            ///         let kind = if name == "active" { "gauge" } else { "counter" };
            ///         out += &format!("# TYPE packet_server_{name} {kind}\n");
            ///         out += &format!("packet_server_{name} {value}\n");
            ///     }
            ///     out
            /// }
            /// let text = prometheus(&StatsSnapshot::default());
            /// assert!(text.contains("packet_server_accepted 0\n"));
            /// assert!(text.contains("# TYPE packet_server_active gauge\n"));
            /// ```
            pub fn counters(&self) -> impl Iterator<Item = (&'static str, u64)> {
                [$((stringify!($name), self.$name as u64),)*].into_iter()
            }
        }
    };
}

counters! {
    /// Sessions opened. TCP: every connection accepted (sealed, before
    /// its hello: a bad or missing hello then ends it, in `bad_hellos`,
    /// `protocol_mismatches` or `timeouts`); UDP: every session an address's valid frame (sealed:
    /// an accepted hello, or a datagram that resumed an idle session's
    /// channel) created. Each session that ended is counted once more, in
    /// one of the counters of ends below, so `accepted` is `active` plus
    /// their sum (`handler_panics` also counts panics that ended no
    /// session).
    accepted: AtomicU64 => u64,
    /// Connections refused because `max_sessions` were open.
    rejected: AtomicU64 => u64,
    /// Sessions open now.
    active: AtomicUsize => usize,
    /// Frames received and dispatched.
    frames_in: AtomicU64 => u64,
    /// Frames queued for sending.
    frames_out: AtomicU64 => u64,
    /// Frames that could not be queued for a session (by a reply,
    /// `send_to` or a broadcast): too big to encode, or its queue full
    /// (that session then closes as a slow consumer).
    frames_unsent: AtomicU64 => u64,
    /// Sessions dropped for sending a bad frame. Not counted here: a bad
    /// session hello (in `bad_hellos`).
    bad_frames: AtomicU64 => u64,
    /// Sessions dropped at their session hello (sealed servers and
    /// servers with a fingerprint): a token the key provider does not
    /// know or already gave out, or a first frame that is not the hello
    /// (a plaintext client, or one without a fingerprint). Where to look
    /// when players cannot log in; another protocol's fingerprint is
    /// `protocol_mismatches`. TCP only: a UDP server drops a bad hello as
    /// any unauthenticated datagram (its `dropped` count).
    bad_hellos: AtomicU64 => u64,
    /// Sessions dropped because a handler failed (returned an error).
    /// Not counted here: frames of a type id with no handler, under
    /// [`UnknownPackets::Close`](super::UnknownPackets::Close) (in
    /// `unknown_closed`).
    handler_errors: AtomicU64 => u64,
    /// Sessions dropped for a frame of a type id with no handler (under
    /// [`UnknownPackets::Close`](super::UnknownPackets::Close), the
    /// default): a client of another version, or a handler missing.
    unknown_closed: AtomicU64 => u64,
    /// Panics caught in application code: handlers and `on_connect`
    /// hooks (each ended its session with
    /// [`DisconnectReason::HandlerPanicked`](crate::DisconnectReason::HandlerPanicked);
    /// not counted in `handler_errors`), `on_disconnect` hooks (the
    /// session was ending anyway) and session-state constructors (the
    /// connection was dropped before it became a session).
    handler_panics: AtomicU64 => u64,
    /// Sessions dropped by the frame or idle timeout.
    timeouts: AtomicU64 => u64,
    /// Sessions dropped for not reading.
    slow_consumers: AtomicU64 => u64,
    /// Sessions the peer closed (cleanly or mid-frame).
    peer_closed: AtomicU64 => u64,
    /// Sessions the application closed ([`Sessions::close`](super::Sessions::close),
    /// `close_with`, [`Context::close`](super::Context::close): kicks).
    closed: AtomicU64 => u64,
    /// Sessions ended by the server's shutdown.
    shutdowns: AtomicU64 => u64,
    /// Sessions whose socket failed (an I/O error other than the peer
    /// closing).
    io_errors: AtomicU64 => u64,
    /// Frames of an unknown type id ignored under
    /// [`UnknownPackets::Ignore`](super::UnknownPackets::Ignore) (their sessions went on).
    unknown_ignored: AtomicU64 => u64,
    /// Clients refused at their hello for another protocol fingerprint
    /// (`docs/wire-format.md` §11.5; each was sent the refusal). Counted
    /// when the session ends: a refused TCP session lingers until its
    /// client closes (at most the shutdown grace). Not counted in
    /// `bad_frames`.
    protocol_mismatches: AtomicU64 => u64,
}

impl ServerStats {
    /// Counts a caught panic that did not end a session itself.
    pub(super) fn count_panic(&self) {
        self.handler_panics.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn count_end(&self, reason: &DisconnectReason) {
        // No `_` arm: a new reason must get its counter.
        let c = match reason {
            DisconnectReason::PeerClosed | DisconnectReason::PeerClosedMidFrame => {
                &self.peer_closed
            }
            DisconnectReason::BadFrame(crate::transport::TransportError::ProtocolMismatch(_)) => {
                &self.protocol_mismatches
            }
            DisconnectReason::BadFrame(e) if is_bad_hello(e) => &self.bad_hellos,
            DisconnectReason::BadFrame(_) => &self.bad_frames,
            DisconnectReason::Handler(crate::transport::TransportError::Decode(
                packet_core::error::DecodeError::UnknownPacketId { .. },
            )) => &self.unknown_closed,
            DisconnectReason::Handler(_) => &self.handler_errors,
            DisconnectReason::HandlerPanicked(_) => &self.handler_panics,
            DisconnectReason::FrameTimeout
            | DisconnectReason::IdleTimeout
            | DisconnectReason::HandshakeTimeout => &self.timeouts,
            DisconnectReason::SlowConsumer => &self.slow_consumers,
            DisconnectReason::Closed => &self.closed,
            DisconnectReason::Shutdown => &self.shutdowns,
            DisconnectReason::Io(_) => &self.io_errors,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// Whether a bad frame was a bad session hello (see
/// [`StatsSnapshot::bad_hellos`]).
fn is_bad_hello(e: &crate::transport::TransportError) -> bool {
    use crate::transport::TransportError as E;
    #[cfg(feature = "crypto")]
    if let E::Crypto(
        packet_core::error::CryptoError::UnknownSessionToken
        | packet_core::error::CryptoError::HelloExpected { .. },
    ) = e
    {
        return true;
    }
    matches!(e, E::HelloExpected { .. })
}
