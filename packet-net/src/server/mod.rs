//! Server building blocks: sessions with ids, a session manager, dispatch
//! of each incoming frame to a handler by type id, and two servers that
//! drive them over TCP.
//!
//! - [`Router`]: the handler registry, keyed by packet type id (`u16`).
//!   Handlers are plain closures called with a [`Context`] (the session,
//!   the session manager, the shared state) and the frame, borrowed from
//!   the receive buffer. A failing handler, a bad frame or a peer that
//!   stalls inside a frame drops that peer alone; an unknown type id too,
//!   unless the router's [`UnknownPackets`] policy is to count and ignore.
//! - [`Sessions`]: the session manager: look-up by [`SessionId`], send to
//!   one, broadcast (a [`BroadcastReport`] says who got it and why the
//!   others did not), close. Each session's outgoing frames are encoded in
//!   place into its bounded [`Outbox`]; a peer too slow to drain it is
//!   dropped rather than buffered without bound.
//! - [`blocking::Server`]: an acceptor thread and a pool of worker threads
//!   that each own a set of sessions and wait on their readiness (`mio`).
//! - `tokio::Server` (feature `tokio`): an acceptor
//!   task and one task per session.
//! - UDP: [`blocking::UdpServer`] and `tokio::UdpServer`: one UDP socket,
//!   a session per peer address (created by its first valid datagram, with
//!   its own opener and sealer), the same [`Router`]; bad, forged or
//!   replayed datagrams dropped and counted (never held against a
//!   session: source addresses can be forged), idle peers expired.
//!
//! Every session's life (timers, back-pressure, its end) is decided by the
//! sans-I/O core in `session`; the servers only move bytes.
//!
//! Sealed servers give every session its own keys
//! (`ServerConfig::sealed`, `docs/wire-format.md` §7.3):
//! a session's first frame is the plaintext session hello carrying the
//! token a login server handed the client with that session's keys.
//!
//! Both stop gracefully: accepting stops, frames already received are
//! dispatched, queued frames are flushed (within
//! [`ServerConfig::shutdown_grace`]), then connections close.
//!
//! ```
//! use packet_net::server::{blocking::Server, Router, ServerConfig};
//! use packet_net::transport::blocking::TcpPacketStream;
//!
//! let router = Router::<()>::new()
//!     .on_frame(1, |ctx, frame| ctx.reply_raw(1, frame.body()))   // echo type 1
//!     .on_frame(2, |ctx, frame| { ctx.broadcast_others_raw(2, frame.body()); Ok(()) });
//! let server = Server::bind("127.0.0.1:0", ServerConfig::default(), router, ())?;
//!
//! let mut client = TcpPacketStream::connect(server.local_addr())?;
//! client.send_raw(1, b"ping")?;
//! assert_eq!(client.recv()?.body(), b"ping");               // borrowed from the receive buffer
//! server.shutdown();                                         // graceful: queued frames are flushed
//! # Ok::<(), packet_net::transport::TransportError>(())
//! ```
//!
//! What does not live here: sockets and buffers ([`crate::transport`]),
//! framing ([`packet_core::frame`]).

use std::boxed::Box;
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use packet_core::frame::FrameConfig;
use std::vec::Vec;

pub use crate::session::DisconnectReason;
use crate::session::{Connection, Event, Limits};
use crate::transport::queue::Spare;
use crate::transport::{Outbox, TransportConfig, TransportError};
use packet_core::codec::Decode;
use packet_core::error::DecodeError;
use packet_core::frame::Frame;
use packet_core::frame::Packet;

pub mod blocking;
#[cfg(feature = "tokio")]
pub mod tokio;
pub(crate) mod udp;

/// A session's id: unique for the server's lifetime, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

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
    /// Per-connection framing limits and write queue size.
    pub transport: TransportConfig,
    /// Most sessions at once; connections beyond are closed on accept, and
    /// a UDP server drops a new address's datagrams unanswered.
    pub max_sessions: usize,
    /// How long a sealed session may take to send its hello. Default
    /// 5 s: a real client sends it at once, and until it arrives the peer
    /// is unauthenticated yet holds a slot.
    pub handshake_timeout: Duration,
    /// How long a peer may take to finish a frame it has started
    /// (slow-loris protection). Default 10 s.
    pub frame_timeout: Duration,
    /// Close sessions that send nothing for this long. Default 30 s: a
    /// game client sends at least a heartbeat far more often, and without
    /// it 1,024 silent sockets (or source ports) would hold every slot for
    /// good. `None` turns it off (then slots are only freed by peers).
    pub idle_timeout: Option<Duration>,
    /// Close sessions whose queued frames see no byte written for this
    /// long: a peer that never reads would otherwise hold its queue (up
    /// to the write queue limit) forever. Default 10 s.
    pub write_timeout: Option<Duration>,
    /// Worker threads of the blocking server (at least 1).
    pub workers: usize,
    /// How long a closing session (shutdown, bad frame, failed handler)
    /// may take to send what it queued. Default 5 s.
    pub shutdown_grace: Duration,
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
        }
    }
}

/// An idle session's burst-grown buffers are freed after this long
/// without traffic.
const RELEASE_AFTER: Duration = Duration::from_secs(1);

impl ServerConfig {
    /// Sets the maximum number of sessions.
    pub fn with_max_sessions(mut self, n: usize) -> Self {
        self.max_sessions = n;
        self
    }
    /// Sets the partial-frame timeout.
    pub fn with_frame_timeout(mut self, t: Duration) -> Self {
        self.frame_timeout = t;
        self
    }
    /// Sets the idle timeout.
    pub fn with_idle_timeout(mut self, t: Option<Duration>) -> Self {
        self.idle_timeout = t;
        self
    }
    /// Sets the handshake deadline of sealed sessions.
    pub fn with_handshake_timeout(mut self, t: Duration) -> Self {
        self.handshake_timeout = t;
        self
    }
    /// Sets the write-progress timeout.
    pub fn with_write_timeout(mut self, t: Option<Duration>) -> Self {
        self.write_timeout = t;
        self
    }
    /// Sets the number of worker threads (blocking server).
    pub fn with_workers(mut self, n: usize) -> Self {
        self.workers = n.max(1);
        self
    }
    /// Sets the transport configuration.
    pub fn with_transport(mut self, t: TransportConfig) -> Self {
        self.transport = t;
        self
    }
    /// Requires `fingerprint` (the protocol's, `docs/wire-format.md` §11)
    /// in every session's hello: a client of another protocol is sent the
    /// refusal and dropped (counted in
    /// [`StatsSnapshot::protocol_mismatches`]); see
    /// [`TransportConfig::fingerprint`] for the forms accepted without it.
    pub fn with_fingerprint(mut self, fingerprint: u64) -> Self {
        self.transport.fingerprint = Some(fingerprint);
        self
    }
    /// Seals every session under its own keys: a session's first frame
    /// must be the plaintext session hello carrying the token the login
    /// server handed the client; `security` maps that token to the
    /// session's keys. A sealed session's [`Router::on_connect`] hook runs
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
    /// Sets the shutdown grace period.
    pub fn with_shutdown_grace(mut self, t: Duration) -> Self {
        self.shutdown_grace = t;
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

    /// A new session's send and receive sides (sealed, or with a
    /// fingerprint: awaiting the hello).
    pub(crate) fn halves(&self, datagrams: bool) -> crate::transport::security::Halves {
        let frame: FrameConfig = self.transport.frame;
        let fingerprint = self.transport.fingerprint;
        #[cfg(feature = "crypto")]
        if let Some(sec) = &self.security {
            use crate::transport::Security;
            return sec.halves(frame, datagrams).with_fingerprint(fingerprint);
        }
        let _ = datagrams;
        crate::transport::security::plain_server(&frame, fingerprint)
    }
}

/// Server counters (all monotonic except `active`).
#[derive(Debug, Default)]
pub struct ServerStats {
    accepted: AtomicU64,
    rejected: AtomicU64,
    active: AtomicUsize,
    frames_in: AtomicU64,
    frames_out: AtomicU64,
    frames_unsent: AtomicU64,
    bad_frames: AtomicU64,
    handler_errors: AtomicU64,
    timeouts: AtomicU64,
    slow_consumers: AtomicU64,
    peer_closed: AtomicU64,
    unknown_ignored: AtomicU64,
    protocol_mismatches: AtomicU64,
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
    /// [`UnknownPackets::Ignore`] (their sessions went on).
    pub unknown_ignored: u64,
    /// Clients refused at their hello for another protocol fingerprint
    /// (`docs/wire-format.md` §11.5; each was sent the refusal). Not
    /// counted in `bad_frames`.
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

    fn count_end(&self, reason: &DisconnectReason) {
        let c = match reason {
            DisconnectReason::PeerClosed | DisconnectReason::PeerClosedMidFrame => {
                &self.peer_closed
            }
            DisconnectReason::BadFrame(TransportError::ProtocolMismatch(_)) => {
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

/// How a session's owner is woken when another thread queues a frame for
/// it or closes it.
#[derive(Debug, Clone)]
pub(crate) enum Waker {
    /// A blocking worker (or the blocking UDP loop): the session's token
    /// is put on the worker's ready list and its poll woken.
    Poll(Arc<PollWaker>, usize),
    #[cfg(feature = "tokio")]
    Notify(Arc<::tokio::sync::Notify>),
}

/// A blocking worker's wake-up: its `mio` waker and the tokens to service.
#[derive(Debug)]
pub(crate) struct PollWaker {
    pub(crate) waker: mio::Waker,
    pub(crate) ready: Mutex<Vec<usize>>,
}

impl Waker {
    fn wake(&self) {
        match self {
            Waker::Poll(w, token) => {
                w.ready
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(*token);
                let _ = w.waker.wake();
            }
            #[cfg(feature = "tokio")]
            Waker::Notify(n) => n.notify_one(),
        }
    }
}

/// The part of a session other threads can reach: its outbox and flags.
#[derive(Debug)]
pub struct Session {
    id: SessionId,
    peer: SocketAddr,
    out: Mutex<Outbox>,
    /// Set to close the session once its queue is flushed.
    closing: AtomicBool,
    /// Set when the queue overflowed: close without waiting.
    overflowed: AtomicBool,
    /// Frames dispatched and queued for this session: counted here, on
    /// the session's own cache line, and added to the server totals when
    /// it ends (a shared counter bumped per packet by every thread would
    /// bounce between cores).
    frames_in: AtomicU64,
    frames_out: AtomicU64,
    frames_unsent: AtomicU64,
    /// Whom the session belongs to (a player or account id), once the
    /// application says so: see [`Context::set_identity`].
    identity: std::sync::OnceLock<u64>,
    waker: Waker,
}

impl Session {
    /// The id.
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// Whom the session belongs to (a player or account id), if the
    /// application has said: see [`Context::set_identity`].
    pub fn identity(&self) -> Option<u64> {
        self.identity.get().copied()
    }

    /// Takes what an accepted session hello gave (before the connect
    /// hook): the keyed send side, and the key provider's identity.
    pub(crate) fn handshake(
        &self,
        sealer: Option<crate::transport::security::Sealer>,
        identity: Option<u64>,
    ) {
        if let Some(sealer) = sealer {
            self.outbox().set_sealer(sealer);
        }
        if let Some(identity) = identity {
            let _ = self.identity.set(identity);
        }
    }

    /// Whether the session is being closed.
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Relaxed)
    }

    pub(crate) fn outbox(&self) -> MutexGuard<'_, Outbox> {
        self.out.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn queue_with(
        &self,
        wake: bool,
        f: impl FnOnce(&mut Outbox) -> Result<(), TransportError>,
    ) -> Result<(), TransportError> {
        let result = f(&mut self.outbox());
        match &result {
            Ok(()) => {
                self.frames_out.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                self.frames_unsent.fetch_add(1, Ordering::Relaxed);
                if let TransportError::QueueFull { .. } = e {
                    self.overflowed.store(true, Ordering::Relaxed);
                    self.closing.store(true, Ordering::Relaxed);
                }
            }
        }
        if wake {
            self.waker.wake();
        }
        result
    }

    fn close(&self) {
        self.closing.store(true, Ordering::Relaxed);
        self.waker.wake();
    }

    pub(crate) fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Relaxed)
    }
}

/// What a broadcast did: how many sessions got the frame, and how many
/// were skipped and why. Failures are also counted in
/// [`StatsSnapshot::frames_unsent`].
///
/// ```
/// use packet_net::server::BroadcastReport;
///
/// let report = BroadcastReport::default();
/// assert!(report.is_complete() && report.skipped() == 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BroadcastReport {
    /// Sessions the frame was queued for.
    pub delivered: usize,
    /// Sessions skipped because the frame could not be encoded for them:
    /// too big for a frame (or the write queue), or a field out of range.
    /// Every session fails alike, so `too_big > 0` with `delivered == 0`
    /// means the packet itself is wrong.
    pub too_big: usize,
    /// Sessions whose write queue was full: slow consumers, now closing.
    pub queue_full: usize,
    /// Sessions skipped because they are closing.
    pub closing: usize,
}

impl BroadcastReport {
    /// Sessions that did not get the frame, for any reason.
    pub fn skipped(&self) -> usize {
        self.too_big + self.queue_full + self.closing
    }

    /// Sessions the frame failed for (too big, or queue full); sessions
    /// already closing are not failures.
    pub fn failed(&self) -> usize {
        self.too_big + self.queue_full
    }

    /// Whether every open session that was not closing got the frame.
    pub fn is_complete(&self) -> bool {
        self.failed() == 0
    }
}

impl fmt::Display for BroadcastReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "delivered to {}", self.delivered)?;
        if self.skipped() > 0 {
            write!(
                f,
                "; skipped {} too big, {} queue full, {} closing",
                self.too_big, self.queue_full, self.closing
            )?;
        }
        Ok(())
    }
}

/// The session manager: every open session by id.
#[derive(Debug, Default)]
pub struct Sessions {
    map: RwLock<HashMap<SessionId, Arc<Session>>>,
    next_id: AtomicU64,
    stats: ServerStats,
}

impl Sessions {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<SessionId, Arc<Session>>> {
        self.map.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<SessionId, Arc<Session>>> {
        self.map.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether another session fits under `max`.
    pub(crate) fn has_room(&self, max: usize) -> bool {
        self.read().len() < max
    }

    /// Registers a new session sending through `out`, or `None` when `max`
    /// are open.
    pub(crate) fn register(
        &self,
        peer: SocketAddr,
        out: Outbox,
        waker: impl FnOnce(SessionId) -> Waker,
        max: usize,
    ) -> Option<Arc<Session>> {
        let mut map = self.write();
        if map.len() >= max {
            self.stats.rejected.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let id = SessionId(self.next_id.fetch_add(1, Ordering::Relaxed) + 1);
        let session = Arc::new(Session {
            id,
            peer,
            out: Mutex::new(out),
            closing: AtomicBool::new(false),
            overflowed: AtomicBool::new(false),
            frames_in: AtomicU64::new(0),
            frames_out: AtomicU64::new(0),
            frames_unsent: AtomicU64::new(0),
            identity: std::sync::OnceLock::new(),
            waker: waker(id),
        });
        map.insert(id, session.clone());
        self.stats.accepted.fetch_add(1, Ordering::Relaxed);
        self.stats.active.store(map.len(), Ordering::Relaxed);
        Some(session)
    }

    /// Counts a client refused for another protocol fingerprint (a UDP
    /// hello: no session was opened).
    pub(crate) fn count_mismatch(&self) {
        self.stats
            .protocol_mismatches
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a refused session.
    pub(crate) fn count_rejected(&self) {
        self.stats.rejected.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn remove(&self, id: SessionId, reason: &DisconnectReason) {
        let mut map = self.write();
        if let Some(s) = map.remove(&id) {
            self.stats.count_end(reason);
            let r = |a: &AtomicU64| a.load(Ordering::Relaxed);
            self.stats
                .frames_in
                .fetch_add(r(&s.frames_in), Ordering::Relaxed);
            self.stats
                .frames_out
                .fetch_add(r(&s.frames_out), Ordering::Relaxed);
            self.stats
                .frames_unsent
                .fetch_add(r(&s.frames_unsent), Ordering::Relaxed);
        }
        self.stats.active.store(map.len(), Ordering::Relaxed);
    }

    /// The counters: the totals of ended sessions plus the open ones'.
    pub fn stats(&self) -> StatsSnapshot {
        let map = self.read();
        let mut snap = self.stats.snapshot();
        for s in map.values() {
            snap.frames_in += s.frames_in.load(Ordering::Relaxed);
            snap.frames_out += s.frames_out.load(Ordering::Relaxed);
            snap.frames_unsent += s.frames_unsent.load(Ordering::Relaxed);
        }
        snap
    }

    /// Open sessions.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether no session is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The session with this id.
    pub fn get(&self, id: SessionId) -> Option<Arc<Session>> {
        self.read().get(&id).cloned()
    }

    /// Whether a session with this id is open.
    pub fn contains(&self, id: SessionId) -> bool {
        self.read().contains_key(&id)
    }

    /// Appends the ids of the open sessions that belong to `identity`
    /// (set by [`Context::set_identity`]) to `out`: a player's sessions,
    /// e.g. to close them all or to check that a packet came from one.
    /// Looks at every open session (a scan, no index).
    pub fn sessions_of(&self, identity: u64, out: &mut Vec<SessionId>) {
        out.extend(
            self.read()
                .values()
                .filter(|s| s.identity() == Some(identity))
                .map(|s| s.id),
        );
    }

    /// Appends the ids of all open sessions to `out`.
    pub fn ids(&self, out: &mut Vec<SessionId>) {
        out.extend(self.read().keys().copied());
    }

    /// Queues `packet` for session `id`. A session whose queue is full is
    /// closed as a slow consumer and the error returned.
    pub fn send_to<P: Packet + ?Sized>(
        &self,
        id: SessionId,
        packet: &P,
    ) -> Result<(), TransportError> {
        match self.read().get(&id) {
            Some(s) => s.queue_with(true, |o| o.queue(packet)),
            None => Err(TransportError::Closed),
        }
    }

    /// Queues a raw frame for session `id`.
    pub fn send_raw_to(
        &self,
        id: SessionId,
        type_id: u16,
        body: &[u8],
    ) -> Result<(), TransportError> {
        match self.read().get(&id) {
            Some(s) => s.queue_with(true, |o| o.queue_raw(type_id, body)),
            None => Err(TransportError::Closed),
        }
    }

    /// Queues `packet` for every session except `except`, and reports how
    /// many got it and why the others did not. Sessions whose queue is
    /// full are closed as slow consumers.
    ///
    /// ```
    /// use packet_net::server::Sessions;
    ///
    /// let sessions = Sessions::default();
    /// let report = sessions.broadcast_raw(1, b"snapshot", None);
    /// assert_eq!((report.delivered, report.skipped()), (0, 0)); // nobody is connected
    /// ```
    pub fn broadcast<P: Packet + ?Sized>(
        &self,
        packet: &P,
        except: Option<SessionId>,
    ) -> BroadcastReport {
        self.broadcast_with(except, |o| o.queue(packet))
    }

    /// Queues a raw frame for every session except `except`; see
    /// [`Sessions::broadcast`].
    pub fn broadcast_raw(
        &self,
        type_id: u16,
        body: &[u8],
        except: Option<SessionId>,
    ) -> BroadcastReport {
        self.broadcast_with(except, |o| o.queue_raw(type_id, body))
    }

    fn broadcast_with(
        &self,
        except: Option<SessionId>,
        f: impl Fn(&mut Outbox) -> Result<(), TransportError>,
    ) -> BroadcastReport {
        let map = self.read();
        let mut report = BroadcastReport::default();
        for (id, s) in map.iter() {
            if Some(*id) == except {
                continue;
            }
            if s.is_closing() {
                report.closing += 1;
                continue;
            }
            match s.queue_with(true, &f) {
                Ok(()) => report.delivered += 1,
                Err(TransportError::QueueFull { .. }) => report.queue_full += 1,
                Err(TransportError::Closed) => report.closing += 1,
                Err(_) => report.too_big += 1,
            }
        }
        report
    }

    /// Closes session `id` once its queued frames are flushed.
    pub fn close(&self, id: SessionId) -> bool {
        match self.read().get(&id) {
            Some(s) => {
                s.close();
                true
            }
            None => false,
        }
    }
}

/// What a handler sees: its session, the session manager and the state.
pub struct Context<'a, S> {
    session: &'a Session,
    sessions: &'a Sessions,
    state: &'a S,
}

impl<'a, S> Context<'a, S> {
    pub(crate) fn new(session: &'a Session, sessions: &'a Sessions, state: &'a S) -> Self {
        Self {
            session,
            sessions,
            state,
        }
    }

    /// This session's id.
    pub fn id(&self) -> SessionId {
        self.session.id
    }

    /// This session's peer address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.session.peer
    }

    /// Whom this session belongs to, once set by
    /// [`Context::set_identity`].
    pub fn identity(&self) -> Option<u64> {
        self.session.identity()
    }

    /// Ties this session to `identity` (a player or account id), e.g.
    /// after the server's own login packet: handlers then trust
    /// [`Context::identity`] rather than a player field in each packet,
    /// and [`Sessions::sessions_of`] finds the player's sessions. Set
    /// once: a session already tied to another identity keeps it, and
    /// that identity comes back as the error.
    ///
    /// ```
    /// use packet_net::server::Router;
    ///
    /// const LOGIN: u16 = 1;
    /// let router = Router::<()>::new().on_frame(LOGIN, |ctx, frame| {
    ///     // A real server checks a password or a ticket here.
    ///     let player = u64::from_le_bytes(frame.body().try_into().unwrap_or_default());
    ///     if ctx.set_identity(player).is_err() {
    ///         ctx.close(); // one login per session
    ///     }
    ///     Ok(())
    /// });
    /// # let _ = router;
    /// ```
    pub fn set_identity(&self, identity: u64) -> Result<(), u64> {
        let current = *self.session.identity.get_or_init(|| identity);
        if current == identity {
            Ok(())
        } else {
            Err(current)
        }
    }

    /// The shared state.
    pub fn state(&self) -> &'a S {
        self.state
    }

    /// The session manager.
    pub fn sessions(&self) -> &'a Sessions {
        self.sessions
    }

    /// Queues `packet` for this session.
    pub fn reply<P: Packet + ?Sized>(&self, packet: &P) -> Result<(), TransportError> {
        self.session.queue_with(false, |o| o.queue(packet))
    }

    /// Queues a raw frame for this session.
    pub fn reply_raw(&self, type_id: u16, body: &[u8]) -> Result<(), TransportError> {
        self.session
            .queue_with(false, |o| o.queue_raw(type_id, body))
    }

    /// Queues `packet` for every other session; reports how many got it
    /// and why the others did not.
    pub fn broadcast_others<P: Packet + ?Sized>(&self, packet: &P) -> BroadcastReport {
        self.sessions.broadcast(packet, Some(self.session.id))
    }

    /// Queues a raw frame for every other session; see
    /// [`Context::broadcast_others`].
    pub fn broadcast_others_raw(&self, type_id: u16, body: &[u8]) -> BroadcastReport {
        self.sessions
            .broadcast_raw(type_id, body, Some(self.session.id))
    }

    /// Queues `packet` for every session, this one included; see
    /// [`Context::broadcast_others`].
    pub fn broadcast<P: Packet + ?Sized>(&self, packet: &P) -> BroadcastReport {
        self.sessions.broadcast(packet, None)
    }

    /// Closes this session after its queued frames are flushed.
    pub fn close(&self) {
        self.session.close();
    }
}

/// A frame handler.
pub type Handler<S> =
    Box<dyn Fn(&Context<'_, S>, Frame<'_>) -> Result<(), TransportError> + Send + Sync>;
/// A connect / disconnect hook.
pub type Hook<S> = Box<dyn Fn(&Context<'_, S>) + Send + Sync>;
/// A disconnect hook.
pub type LeaveHook<S> = Box<dyn Fn(&Context<'_, S>, &DisconnectReason) + Send + Sync>;

/// What a [`Router`] does with a frame whose type id has no handler (and
/// no [`Router::fallback`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnknownPackets {
    /// End the session with [`DecodeError::UnknownPacketId`] (after its
    /// queued replies are out). The default: a peer speaking another
    /// protocol is cut off at once.
    #[default]
    Close,
    /// Drop the frame, count it in [`StatsSnapshot::unknown_ignored`] and
    /// keep the session: for the weeks when old and new clients overlap
    /// and a newer client sends packets this server does not know yet.
    Ignore,
}

/// The handler registry: one handler per packet type id.
///
/// ```
/// use packet_net::server::Router;
///
/// let router = Router::<()>::new()
///     .on_frame(1, |ctx, frame| ctx.reply_raw(1, frame.body())); // echo type 1
/// assert!(router.handles(1) && !router.handles(2));
/// ```
pub struct Router<S> {
    /// Sorted by type id: a binary search beats hashing a `u16`.
    handlers: Vec<(u16, Handler<S>)>,
    fallback: Option<Handler<S>>,
    on_connect: Option<Hook<S>>,
    on_disconnect: Option<LeaveHook<S>>,
    unknown: UnknownPackets,
}

impl<S> Default for Router<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> fmt::Debug for Router<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<_> = self.handlers.iter().map(|(id, _)| id).collect();
        f.debug_struct("Router")
            .field("type_ids", &ids)
            .field("fallback", &self.fallback.is_some())
            .field("unknown", &self.unknown)
            .finish()
    }
}

impl<S> Router<S> {
    /// An empty router: every frame is an unknown type id.
    pub fn new() -> Self {
        Self {
            handlers: Vec::new(),
            fallback: None,
            on_connect: None,
            on_disconnect: None,
            unknown: UnknownPackets::Close,
        }
    }

    /// Sets what happens to frames of an unknown type id (when no
    /// [`Router::fallback`] is set): end the session (the default) or
    /// count and ignore them.
    ///
    /// ```
    /// use packet_net::server::{Router, UnknownPackets};
    ///
    /// // Old and new clients overlap during an update: newer packets are
    /// // counted (`StatsSnapshot::unknown_ignored`) and skipped.
    /// let router = Router::<()>::new()
    ///     .on_frame(1, |ctx, frame| ctx.reply_raw(1, frame.body()))
    ///     .on_unknown(UnknownPackets::Ignore);
    /// assert_eq!(router.unknown_packets(), UnknownPackets::Ignore);
    /// ```
    pub fn on_unknown(mut self, policy: UnknownPackets) -> Self {
        self.unknown = policy;
        self
    }

    /// The unknown-packet policy.
    pub fn unknown_packets(&self) -> UnknownPackets {
        self.unknown
    }

    /// Handles frames of type `type_id` with `f`, which gets the frame
    /// borrowed from the receive buffer (decode borrowed packets from it
    /// with [`Frame::decode_packet`]). Replaces an earlier handler.
    pub fn on_frame(
        mut self,
        type_id: u16,
        f: impl Fn(&Context<'_, S>, Frame<'_>) -> Result<(), TransportError> + Send + Sync + 'static,
    ) -> Self {
        let h: Handler<S> = Box::new(f);
        match self.handlers.binary_search_by_key(&type_id, |(id, _)| *id) {
            Ok(i) => self.handlers[i].1 = h,
            Err(i) => self.handlers.insert(i, (type_id, h)),
        }
        self
    }

    /// Handles packets `P` (owned: no borrowed fields), decoded for `f`.
    pub fn on<P>(
        self,
        f: impl Fn(&Context<'_, S>, P) -> Result<(), TransportError> + Send + Sync + 'static,
    ) -> Self
    where
        P: Packet + for<'de> Decode<'de>,
    {
        self.on_frame(P::ID, move |ctx, frame| f(ctx, frame.decode_packet::<P>()?))
    }

    /// Handles frames no other handler takes (default: the
    /// [`UnknownPackets`] policy, set by [`Router::on_unknown`]).
    pub fn fallback(
        mut self,
        f: impl Fn(&Context<'_, S>, Frame<'_>) -> Result<(), TransportError> + Send + Sync + 'static,
    ) -> Self {
        self.fallback = Some(Box::new(f));
        self
    }

    /// Called when a session opens (sealed: once its hello is accepted,
    /// see [`ServerConfig::sealed`]).
    pub fn on_connect(mut self, f: impl Fn(&Context<'_, S>) + Send + Sync + 'static) -> Self {
        self.on_connect = Some(Box::new(f));
        self
    }

    /// Called when a session ends, while it is still registered (only for
    /// sessions whose `on_connect` ran).
    pub fn on_disconnect(
        mut self,
        f: impl Fn(&Context<'_, S>, &DisconnectReason) + Send + Sync + 'static,
    ) -> Self {
        self.on_disconnect = Some(Box::new(f));
        self
    }

    /// Whether a handler is registered for `type_id`.
    pub fn handles(&self, type_id: u16) -> bool {
        self.handler(type_id).is_some()
    }

    fn handler(&self, type_id: u16) -> Option<&Handler<S>> {
        self.handlers
            .binary_search_by_key(&type_id, |(id, _)| *id)
            .ok()
            .map(|i| &self.handlers[i].1)
    }

    /// Passes `frame` to its handler.
    pub fn dispatch(&self, ctx: &Context<'_, S>, frame: Frame<'_>) -> Result<(), TransportError> {
        match self.handler(frame.type_id()).or(self.fallback.as_ref()) {
            Some(h) => h(ctx, frame),
            None if self.unknown == UnknownPackets::Ignore => {
                ctx.sessions
                    .stats
                    .unknown_ignored
                    .fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            None => Err(DecodeError::UnknownPacketId {
                id: frame.type_id(),
            }
            .into()),
        }
    }

    pub(crate) fn connected(&self, ctx: &Context<'_, S>) {
        if let Some(h) = &self.on_connect {
            h(ctx);
        }
    }

    pub(crate) fn disconnected(&self, ctx: &Context<'_, S>, reason: &DisconnectReason) {
        if let Some(h) = &self.on_disconnect {
            h(ctx, reason);
        }
    }
}

/// Counts one dispatched frame.
pub(crate) fn count_in(session: &Session) {
    session.frames_in.fetch_add(1, Ordering::Relaxed);
}

/// What both servers share, without sockets: the router, the state, the
/// session manager and the configuration, and the steps every driver
/// runs for a stream session: open it, [`ServerCore::service`] it over a
/// non-blocking socket, end it.
pub(crate) struct ServerCore<S> {
    pub(crate) router: Router<S>,
    pub(crate) state: S,
    pub(crate) sessions: Arc<Sessions>,
    pub(crate) config: ServerConfig,
    /// Datagrams dropped (UDP server only).
    pub(crate) dropped: AtomicU64,
}

/// Most socket reads per session per [`ServerCore::service`] call, so one
/// busy peer cannot starve the others of a worker.
const READS_PER_SERVICE: usize = 8;

/// What [`ServerCore::service`] leaves for the driver.
#[derive(Debug)]
pub(crate) enum Serviced {
    /// The session goes on: wait for readable (if `read`), writable (if
    /// `write`), a wake-up or `deadline`. `again`: it stopped early for
    /// fairness, service it again soon.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    Wait {
        read: bool,
        write: bool,
        deadline: Option<Instant>,
        again: bool,
    },
    /// The session ended.
    End(DisconnectReason),
}

impl<S> ServerCore<S> {
    pub(crate) fn new(router: Router<S>, state: S, config: ServerConfig) -> Self {
        Self {
            router,
            state,
            sessions: Arc::new(Sessions::default()),
            config,
            dropped: AtomicU64::new(0),
        }
    }

    /// The handler context for `session`.
    pub(crate) fn ctx<'a>(&'a self, session: &'a Session) -> Context<'a, S> {
        Context::new(session, &self.sessions, &self.state)
    }

    /// Opens a stream session from `peer` (or `None` past
    /// `max_sessions`): its registered [`Session`] and its core.
    pub(crate) fn open(
        &self,
        peer: SocketAddr,
        waker: impl FnOnce(SessionId) -> Waker,
        now: Instant,
    ) -> Option<(Arc<Session>, Connection)> {
        let halves = self.config.halves(false);
        let t = &self.config.transport;
        let out = Outbox::new(t, halves.sealer, None);
        let session = self
            .sessions
            .register(peer, out, waker, self.config.max_sessions)?;
        let conn = Connection::new(
            &t.frame,
            halves.opener,
            self.config.limits(),
            t.queue_limit(),
            now,
        );
        Some((session, conn))
    }

    /// Polls `conn`'s events and dispatches them: the connect hook (with
    /// a sealed session's keyed send side installed first), then each
    /// frame, until none is complete or the session is ending or closing.
    pub(crate) fn dispatch(&self, session: &Session, conn: &mut Connection, now: Instant) {
        while !session.is_closing() {
            match conn.poll_event(now) {
                Some(Event::Connected(handshake)) => {
                    if let Some(h) = handshake {
                        session.handshake(h.sealer, h.identity);
                    }
                    self.router.connected(&self.ctx(session));
                }
                Some(Event::Refuse(refusal)) => session.outbox().queue_refusal(refusal),
                Some(Event::Frame(frame)) => {
                    count_in(session);
                    if let Err(e) = self.router.dispatch(&self.ctx(session), frame) {
                        conn.life().fail(DisconnectReason::Handler(e), now);
                    }
                }
                None => return,
            }
        }
    }

    /// One pass over a stream session on a non-blocking socket: read
    /// (while the core wants to, through `scratch`), dispatch, write what
    /// the socket takes, and ask the core whether the session ends. The
    /// one place both TCP servers move bytes.
    pub(crate) fn service<IO: std::io::Read + std::io::Write>(
        &self,
        session: &Session,
        conn: &mut Connection,
        io: &mut IO,
        spare: &mut Spare,
        now: Instant,
    ) -> Serviced {
        conn.lend(spare, &mut session.outbox());
        let step = self.step(session, conn, io, &mut spare.read, now);
        conn.take_back(spare, &mut session.outbox());
        step
    }

    fn step<IO: std::io::Read + std::io::Write>(
        &self,
        session: &Session,
        conn: &mut Connection,
        io: &mut IO,
        scratch: &mut [u8],
        now: Instant,
    ) -> Serviced {
        let mut reads = 0;
        let mut blocked_read = false;
        loop {
            let queued = session.outbox().len();
            if reads < READS_PER_SERVICE && conn.wants_read(queued) && !session.is_closing() {
                let room = conn.read_room().min(scratch.len());
                match io.read(&mut scratch[..room]) {
                    Ok(n) => {
                        reads += 1;
                        conn.on_read(&scratch[..n], now);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => blocked_read = true,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => conn.life().on_io_error(e),
                }
            }
            self.dispatch(session, conn, now);
            let (written, queued) = {
                let mut out = session.outbox();
                let written = if out.is_empty() {
                    0
                } else {
                    match out.queue_mut().write_to(io) {
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
                        Err(e) => {
                            conn.life().on_io_error(e);
                            0
                        }
                    }
                };
                (written, out.len())
            };
            conn.life().on_written(written, queued, now);
            let end = conn.poll_end(queued, session.is_closing(), session.overflowed(), now);
            if let Some(reason) = end {
                return Serviced::End(reason);
            }
            if conn.release_idle(now) {
                session.outbox().release();
            }
            let more = !blocked_read && !session.is_closing() && conn.wants_read(queued);
            if more && reads < READS_PER_SERVICE {
                continue;
            }
            return Serviced::Wait {
                read: conn.wants_read(queued),
                write: queued > 0,
                deadline: conn.life().poll_timeout(queued),
                again: more,
            };
        }
    }

    /// Runs the disconnect hook (if the session was connected: a sealed
    /// session that never sent its hello had neither hook) and forgets
    /// the session.
    pub(crate) fn disconnected(
        &self,
        session: &Session,
        connected: bool,
        reason: &DisconnectReason,
    ) {
        if connected {
            self.router.disconnected(&self.ctx(session), reason);
        }
        self.sessions.remove(session.id(), reason);
    }
}

#[allow(unused)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Sessions>();
    is::<Router<()>>();
    let _: Option<Box<Session>> = None;
}
