//! [`ServerConfig`]: a server's limits, timers and security, with safe
//! defaults (each documented with its reason), and the session timers
//! and connection halves they give the session core.
//!
//! What does not live here: the timers' logic (`crate::session`), the
//! keys (`crate::transport::security`).

use std::time::{Duration, Instant};

use packet_core::frame::FrameConfig;

use crate::session::Limits;
use crate::transport::TransportConfig;

/// Server limits and security.
///
/// The defaults are safe for a server on the open internet: no peer
/// holds a slot, a buffer or CPU without a deadline.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Plaintext, or sealed sessions each with its own keys from a
    /// provider ([`ServerConfig::sealed`]).
    #[cfg(feature = "crypto")]
    security: Option<crate::transport::ServerSecurity>,
    /// Per-connection framing limits, write queue size and protocol
    /// fingerprint. Its `read_timeout` and `write_timeout` (a client
    /// socket's blocking timeouts) do not apply to a server's sessions:
    /// their timers are this configuration's own fields below
    /// (`frame_timeout`, `idle_timeout`, `write_timeout`, ...).
    pub transport: TransportConfig,
    /// Most sessions at once; connections beyond are closed on accept
    /// (after a close notice, "server full"), and a UDP server answers a
    /// new address's first datagram with that notice alone, opening no
    /// session. 0 refuses every client (each told "server full"). The
    /// limit is per server, not per client address: players behind one
    /// NAT share an address, so a per-address cap is the game's call
    /// (e.g. counted in the connect hook, closing the extra sessions).
    pub max_sessions: usize,
    /// How long a sealed session (or any session, with a fingerprint
    /// required) may take to send its hello. Default
    /// 5 s: a real client sends it at once, and until it arrives the peer
    /// is unauthenticated yet holds a slot.
    pub handshake_timeout: Duration,
    /// How long a peer may take to finish a frame it has started
    /// (slow-loris protection). Default 10 s.
    pub frame_timeout: Duration,
    /// Close sessions that send nothing for this long. Default 30 s: a
    /// game client sends at least a heartbeat far more often, and without
    /// it 1,024 silent sockets (or source ports) would hold every slot for
    /// good. `None` turns it off (then slots are only freed by peers);
    /// `Some(Duration::ZERO)` is not "off" but "at once": a session ends
    /// as soon as it has nothing queued.
    pub idle_timeout: Option<Duration>,
    /// Close sessions whose queued frames see no byte written for this
    /// long: a peer that never reads would otherwise hold its queue (up
    /// to the write queue limit) forever. Default 10 s.
    pub write_timeout: Option<Duration>,
    /// Worker threads of the blocking server (at least 1: 0 is taken as
    /// 1). Default: one per core.
    pub workers: usize,
    /// How long a closing session (shutdown, bad frame, failed handler)
    /// may take to send what it queued, and a TCP session may wait for
    /// its client to close after its refusal or close notice; at a
    /// shutdown, also how long a session waits for work in flight to
    /// reply ([`Router::on_async`](super::Router::on_async)'s tasks,
    /// [`Session::work`](super::Session::work)). Default 5 s.
    ///
    /// It bounds the waits on the network, not the application: a
    /// handler runs to its end on the server's thread or task, and one
    /// that blocks (sleeps, blocking I/O) holds the shutdown past the
    /// grace for as long as it blocks, and meanwhile delays the other
    /// sessions served by that thread. Handlers must not block: see
    /// [`Router`](super::Router#handlers-must-not-block).
    pub shutdown_grace: Duration,
    /// Opt-in batching of wake-ups for tick-driven servers: each
    /// worker thread (TCP) or the socket thread (UDP) waits on readiness
    /// at most once per interval, and each wake-up then serves
    /// everything that arrived meanwhile: one `epoll_wait` for many
    /// sessions, a few `recvmmsg` for many datagrams, instead of a
    /// wake-up (and a context switch) per input. Default `None`: every
    /// input is served as soon as it arrives.
    ///
    /// The trade-off is latency: reads, replies, broadcasts and timeouts
    /// may wait up to the interval (an idle server still sleeps until
    /// the next input, which is then served at once). A game that
    /// applies inputs once per tick loses little with an interval at or
    /// below its tick.
    ///
    /// With it, a tokio server (`tokio::Server`, `tokio::UdpServer`) is
    /// served by the blocking server's threads and paced loops, which
    /// enter the runtime the server was bound on (handlers may still
    /// `tokio::spawn`, `Router::on_async` works): tokio's reactor is
    /// edge-triggered and returns from `epoll_wait` for every arrival, so
    /// pacing its session tasks did not lower their CPU (BENCHMARKS.md,
    /// game tick). Set it with [`ServerConfig::with_wake_interval`].
    pub wake_interval: Option<Duration>,
    /// Whether the server tells a client why it ended its session with a
    /// close notice (`docs/wire-format.md` §12: server full, shutting
    /// down, idle timeout, protocol error, server error, closed by the
    /// application with its code), which the client reports as
    /// [`TransportError::ClosedByServer`](crate::transport::TransportError::ClosedByServer).
    /// Default on. Turn it off only while clients older than the notice
    /// connect: they would take it for a frame of type 0xFFFF. A notice
    /// costs one small frame on the close path only, and is never larger
    /// than the hello (no amplification).
    pub close_notices: bool,
    /// Work in flight per session ([`Router::on_async`](super::Router::on_async)
    /// tasks, [`Session::work`](super::Session::work) guards) past which
    /// that session waits: no more of its frames are dispatched or read
    /// (TCP flow control holds its client back) until some work is done;
    /// a UDP session's datagrams are dropped and counted meanwhile.
    /// Default 64: without a bound, one client sending small frames to an
    /// async handler made the server hold 1.6 million tasks (1 GB) in 3 s.
    /// 0 is taken as 1. Work in flight also holds the session's idle and
    /// partial-frame timeouts (the server is the slow one; the idle time
    /// counts again from the work's end), so work that never ends holds
    /// its session: bound the application's work (`tokio::time::timeout`).
    pub max_session_work: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            #[cfg(feature = "crypto")]
            security: None,
            transport: TransportConfig::default(),
            max_sessions: 1024,
            handshake_timeout: Duration::from_secs(5),
            frame_timeout: Duration::from_secs(10),
            idle_timeout: Some(Duration::from_secs(30)),
            write_timeout: Some(Duration::from_secs(10)),
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            shutdown_grace: Duration::from_secs(5),
            wake_interval: None,
            close_notices: true,
            max_session_work: 64,
        }
    }
}

/// An idle session's burst-grown buffers are freed after this long
/// without traffic.
const RELEASE_AFTER: Duration = Duration::from_secs(1);

impl ServerConfig {
    setters! {
        []
        /// Sets the maximum number of sessions.
        max_sessions: usize, with_max_sessions;
        /// Sets the partial-frame timeout.
        frame_timeout: Duration, with_frame_timeout;
        /// Sets the idle timeout.
        idle_timeout: Option<Duration>, with_idle_timeout;
        /// Sets the handshake deadline of sealed sessions.
        handshake_timeout: Duration, with_handshake_timeout;
        /// Sets the write-progress timeout.
        write_timeout: Option<Duration>, with_write_timeout;
        /// Sets the shutdown grace period.
        shutdown_grace: Duration, with_shutdown_grace;
        /// Sends close notices, or not (see [`ServerConfig::close_notices`]).
        close_notices: bool, with_close_notices;

    }
    /// Sets the work in flight per session (see
    /// [`ServerConfig::max_session_work`]); 0 is taken as 1.
    pub fn with_max_session_work(mut self, n: usize) -> Self {
        self.max_session_work = n.max(1);
        self
    }
    /// Sets the number of worker threads (blocking server); 0 is taken
    /// as 1.
    pub fn with_workers(mut self, n: usize) -> Self {
        self.workers = n.max(1);
        self
    }
    /// Sets the transport configuration (frame limit, queue limit,
    /// timeouts, the protocol fingerprint). A fingerprint required before
    /// ([`ServerConfig::with_fingerprint`], [`ServerConfig::with_protocol`])
    /// is kept when `transport` carries none, so the order of the calls
    /// does not matter; one that `transport` carries replaces it.
    ///
    /// ```
    /// use packet_net::server::ServerConfig;
    /// use packet_net::transport::TransportConfig;
    ///
    /// let config = ServerConfig::default()
    ///     .with_fingerprint(0x1234)
    ///     .with_transport(TransportConfig::default().with_write_queue_limit(1 << 20));
    /// assert_eq!(config.transport.fingerprint, Some(0x1234));
    /// ```
    pub fn with_transport(mut self, transport: TransportConfig) -> Self {
        let fingerprint = transport.fingerprint.or(self.transport.fingerprint);
        self.transport = TransportConfig {
            fingerprint,
            ..transport
        };
        self
    }
    /// Requires packet set `P`'s fingerprint (a `#[derive(PacketSet)]`
    /// enum, or a schema's packet set) in every session's hello: see
    /// [`ServerConfig::with_fingerprint`]; the client configures the same
    /// with [`TransportConfig::with_protocol`].
    pub fn with_protocol<P: packet_core::layout::Fingerprint>(self) -> Self {
        self.with_fingerprint(P::FINGERPRINT)
    }
    /// Requires `fingerprint` (the protocol's, `docs/wire-format.md` §11)
    /// in every session's hello: a client of another protocol is sent the
    /// refusal and dropped (counted in
    /// [`StatsSnapshot::protocol_mismatches`](super::StatsSnapshot::protocol_mismatches));
    /// see [`TransportConfig::fingerprint`] for the forms accepted without it.
    /// Every session then starts with a hello (plaintext ones too): its
    /// [`Router::on_connect`](super::Router::on_connect) hook runs once the
    /// hello is accepted, and [`ServerConfig::handshake_timeout`] bounds it.
    pub fn with_fingerprint(mut self, fingerprint: u64) -> Self {
        self.transport.fingerprint = Some(fingerprint);
        self
    }
    /// Seals every session under its own keys: a session's first frame
    /// must be the plaintext session hello carrying the token the login
    /// server handed the client; `security` maps that token to the
    /// session's keys. A sealed session's [`Router::on_connect`](super::Router::on_connect) hook runs
    /// once its hello is accepted (so it can reply); a wrong first frame,
    /// an unknown token or no hello within
    /// [`ServerConfig::handshake_timeout`] drops that session alone, and
    /// such a session runs neither `on_connect` nor `on_disconnect`.
    #[cfg(feature = "crypto")]
    pub fn sealed(mut self, security: crate::transport::ServerSecurity) -> Self {
        self.security = Some(security);
        self
    }

    /// Whether sessions are sealed.
    pub fn is_sealed(&self) -> bool {
        #[cfg(feature = "crypto")]
        return self.security.is_some();
        #[cfg(not(feature = "crypto"))]
        false
    }

    /// The servers wait on readiness at most once per `interval` (zero
    /// turns it off): batched wake-ups for a tick-driven
    /// server, at the price of up to `interval` of added latency; see
    /// [`ServerConfig::wake_interval`].
    pub fn with_wake_interval(mut self, interval: Duration) -> Self {
        self.wake_interval = (!interval.is_zero()).then_some(interval);
        self
    }

    /// The session timers these settings give.
    pub(crate) fn limits(&self) -> Limits {
        Limits {
            handshake_timeout: Some(self.handshake_timeout),
            frame_timeout: self.frame_timeout,
            idle_timeout: self.idle_timeout,
            write_timeout: self.write_timeout,
            shutdown_grace: self.shutdown_grace,
            release_after: RELEASE_AFTER,
        }
    }

    /// The pacing of a driver's waits, if [`ServerConfig::wake_interval`]
    /// is set (and not zero).
    pub(crate) fn pacer(&self) -> Option<Pacer> {
        let interval = self.wake_interval.filter(|i| !i.is_zero())?;
        Some(Pacer {
            interval,
            last: None,
        })
    }

    /// A new session's send and receive sides (sealed, or with a
    /// fingerprint: awaiting the hello).
    pub(crate) fn halves(&self, datagrams: bool) -> crate::transport::security::Halves {
        let frame: FrameConfig = self.transport.frame;
        let fingerprint = self.transport.fingerprint;
        let halves = || {
            #[cfg(feature = "crypto")]
            if let Some(sec) = &self.security {
                use crate::transport::Security;
                return sec.halves(frame, fingerprint, datagrams);
            }
            crate::transport::security::plain_server(&frame, fingerprint)
        };
        let mut halves = halves();
        if datagrams {
            halves.sealer = halves.sealer.for_datagrams();
        }
        halves
    }
}

/// When a paced driver may next wait on readiness
/// ([`ServerConfig::wake_interval`]): at most once per interval.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pacer {
    pub(crate) interval: Duration,
    /// When the last wait returned.
    last: Option<Instant>,
}

impl Pacer {
    /// Until when the driver holds off before its next wait (the last
    /// wake-up plus the interval), or `None` to wait at once.
    pub(crate) fn hold_until(&self, now: Instant) -> Option<Instant> {
        let at = self.last? + self.interval;
        (at > now).then_some(at)
    }

    /// A wait returned at `now`.
    pub(crate) fn woke(&mut self, now: Instant) {
        self.last = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacer_holds_off_for_an_interval() {
        let config = ServerConfig::default();
        assert!(config.pacer().is_none());
        assert!(
            config
                .clone()
                .with_wake_interval(Duration::ZERO)
                .pacer()
                .is_none()
        );
        let ms = Duration::from_millis;
        let mut p = config.with_wake_interval(ms(10)).pacer().unwrap();
        let t0 = Instant::now();
        assert_eq!(p.hold_until(t0), None, "the first wait is not held");
        p.woke(t0);
        assert_eq!(p.hold_until(t0 + ms(3)), Some(t0 + ms(10)));
        assert_eq!(p.hold_until(t0 + ms(10)), None);
    }
}
