//! Server building blocks: sessions with ids, a session manager, dispatch
//! of each incoming frame to a handler by type id, and two servers that
//! drive them over TCP.
//!
//! - [`Router`]: the handler registry, keyed by packet type id (`u16`).
//!   Handlers are plain closures called with a [`Context`] (the session,
//!   the session manager, the shared state) and the frame, borrowed from
//!   the receive buffer. An unknown type id, a failing handler, a bad frame
//!   or a peer that stalls inside a frame drops that peer alone.
//! - [`Sessions`]: the session manager: look-up by [`SessionId`], send to
//!   one, broadcast, close. Each session's outgoing frames are encoded in
//!   place into its bounded [`Outbox`]; a peer too slow to drain it is
//!   dropped rather than buffered without bound.
//! - [`blocking::Server`]: an acceptor thread and a pool of worker threads
//!   that each own a set of sessions (non-blocking sockets, polled).
//! - `tokio::Server` (feature `tokio`): an acceptor
//!   task and one task per session.
//! - UDP: [`blocking::UdpServer`] and `tokio::UdpServer`: one UDP socket,
//!   a session per peer address (created by its first valid datagram, with
//!   its own opener and sealer), the same [`Router`]; bad datagrams
//!   dropped and counted, a peer failing authentication
//!   [`ServerConfig::max_auth_failures`] times dropped alone, idle peers
//!   expired.
//!
//! Sealed servers give every session its own keys
//! (`ServerConfig::with_sealed_sessions`, `docs/wire-format.md` §7.3):
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
use std::vec::Vec;

use crate::transport::{Inbox, Outbox, Security, Side, TransportConfig, TransportError};
use packet_core::codec::Decode;
use packet_core::error::{DecodeError, FrameError};
use packet_core::frame::Frame;
use packet_core::frame::Packet;

pub mod blocking;
#[cfg(feature = "tokio")]
pub mod tokio;
mod udp;

/// A session's id: unique for the server's lifetime, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Server limits and security.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Plaintext, or sealed sessions each with its own keys from a
    /// provider ([`ServerConfig::with_sealed_sessions`]). Private: a server
    /// never shares one set of keys between sessions.
    security: Security,
    /// Per-connection framing limits and write queue size.
    pub transport: TransportConfig,
    /// Most sessions at once; connections beyond are closed on accept.
    /// Sealed UDP server: also the most ended sessions whose channel state
    /// (sealer and opener) is remembered for their address's return; the
    /// oldest is forgotten first, and a forgotten address must start a new
    /// session with a fresh hello.
    pub max_sessions: usize,
    /// How long a peer may take to finish a frame it has started
    /// (slow-loris protection).
    pub frame_timeout: Duration,
    /// Close sessions that send nothing for this long (`None`: never).
    pub idle_timeout: Option<Duration>,
    /// Worker threads of the blocking server (at least 1).
    pub workers: usize,
    /// How long shutdown waits for queued frames to drain.
    pub shutdown_grace: Duration,
    /// UDP server: a peer whose datagrams fail authentication this many
    /// times is dropped (sealed sessions; the other peers are untouched).
    pub max_auth_failures: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            security: Security::Plain,
            transport: TransportConfig::default(),
            max_sessions: 1024,
            frame_timeout: Duration::from_secs(10),
            idle_timeout: None,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            shutdown_grace: Duration::from_secs(5),
            max_auth_failures: 8,
        }
    }
}

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
    /// Seals every session under its own keys: a session's first frame
    /// must be the plaintext session hello (type
    /// [`SESSION_HELLO_TYPE`](crate::transport::SESSION_HELLO_TYPE), body =
    /// the [`SessionToken`](crate::transport::SessionToken) the login
    /// server handed the client); `provider` maps that token to the
    /// session's [`ChannelKeys`](packet_core::crypto::ChannelKeys). A sealed
    /// session's [`Router::on_connect`] hook runs once its hello is
    /// accepted (its keys exist, so the hook can reply), before its first
    /// frame is dispatched; a wrong first frame or an unknown token drops
    /// that session alone, and such a session runs neither `on_connect`
    /// nor `on_disconnect`.
    ///
    /// **`provider` must hand out each `ChannelKeys` for one session
    /// only** (e.g. remove the token from the login server's table when it
    /// is looked up): every session numbers its frames from 0, so a second
    /// session under the same keys would reuse nonces, and a recorded
    /// session could be replayed into a new one.
    #[cfg(feature = "crypto")]
    pub fn with_sealed_sessions(
        mut self,
        provider: impl Fn(&crate::transport::SessionToken) -> Option<packet_core::crypto::ChannelKeys>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.security = Security::sealed_sessions(provider);
        self
    }

    /// Whether sessions are sealed.
    pub fn is_sealed(&self) -> bool {
        self.security.is_sealed()
    }
    /// Sets the shutdown grace period.
    pub fn with_shutdown_grace(mut self, t: Duration) -> Self {
        self.shutdown_grace = t;
        self
    }
    /// Sets how many authentication failures drop a UDP peer (at least 1).
    pub fn with_max_auth_failures(mut self, n: u64) -> Self {
        self.max_auth_failures = n.max(1);
        self
    }
}

/// Why a session ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The peer closed the connection between frames.
    PeerClosed,
    /// The peer closed the connection inside a frame.
    PeerClosedMidFrame,
    /// The peer sent a frame that failed validation (or, sealed, failed
    /// authentication or the replay check).
    BadFrame(TransportError),
    /// A handler failed (bad body, unknown type id, ...).
    Handler(TransportError),
    /// The peer left a frame unfinished for longer than the frame timeout.
    FrameTimeout,
    /// The peer sent nothing for longer than the idle timeout.
    IdleTimeout,
    /// The peer did not read its frames fast enough.
    SlowConsumer,
    /// The server closed the session ([`Context::close`], [`Sessions::close`]).
    Closed,
    /// The server is shutting down.
    Shutdown,
    /// The socket failed.
    Io(std::io::Error),
}

/// Server counters (all monotonic except `active`).
#[derive(Debug, Default)]
pub struct ServerStats {
    accepted: AtomicU64,
    rejected: AtomicU64,
    active: AtomicUsize,
    frames_in: AtomicU64,
    frames_out: AtomicU64,
    bad_frames: AtomicU64,
    handler_errors: AtomicU64,
    timeouts: AtomicU64,
    slow_consumers: AtomicU64,
    peer_closed: AtomicU64,
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
            bad_frames: r(&self.bad_frames),
            handler_errors: r(&self.handler_errors),
            timeouts: r(&self.timeouts),
            slow_consumers: r(&self.slow_consumers),
            peer_closed: r(&self.peer_closed),
        }
    }

    fn count_end(&self, reason: &DisconnectReason) {
        let c = match reason {
            DisconnectReason::PeerClosed | DisconnectReason::PeerClosedMidFrame => {
                &self.peer_closed
            }
            DisconnectReason::BadFrame(_) => &self.bad_frames,
            DisconnectReason::Handler(_) => &self.handler_errors,
            DisconnectReason::FrameTimeout | DisconnectReason::IdleTimeout => &self.timeouts,
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
    Thread(std::thread::Thread),
    #[cfg(feature = "tokio")]
    Notify(Arc<::tokio::sync::Notify>),
}

impl Waker {
    fn wake(&self) {
        match self {
            Waker::Thread(t) => t.unpark(),
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
    /// Set once the connect hook has run (sealed: after the hello).
    greeted: AtomicBool,
    /// Frames dispatched and queued for this session: counted here, on
    /// the session's own cache line, and added to the server totals when
    /// it ends (a shared counter bumped per packet by every thread would
    /// bounce between cores).
    frames_in: AtomicU64,
    frames_out: AtomicU64,
    waker: Waker,
    /// This session's own security (sealed: its handshake state, shared
    /// by its sealer and opener).
    security: Security,
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
            Err(TransportError::QueueFull { .. }) => {
                self.overflowed.store(true, Ordering::Relaxed);
                self.closing.store(true, Ordering::Relaxed);
            }
            Err(_) => {}
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

    /// Registers a new session, or `None` when `max` are open.
    pub(crate) fn register(
        &self,
        peer: SocketAddr,
        config: &ServerConfig,
        waker: Waker,
        max: usize,
    ) -> Option<Arc<Session>> {
        let security = config.security.for_session();
        let out = Outbox::secured(&config.transport, &security, Side::Server);
        self.register_with(peer, out, security, waker, max)
    }

    /// Registers a new session sending through `out`, or `None` when `max`
    /// are open.
    pub(crate) fn register_with(
        &self,
        peer: SocketAddr,
        out: Outbox,
        security: Security,
        waker: Waker,
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
            greeted: AtomicBool::new(false),
            frames_in: AtomicU64::new(0),
            frames_out: AtomicU64::new(0),
            waker,
            security,
        });
        map.insert(id, session.clone());
        self.stats.accepted.fetch_add(1, Ordering::Relaxed);
        self.stats.active.store(map.len(), Ordering::Relaxed);
        Some(session)
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

    /// Queues `packet` for every session except `except`; returns how many
    /// got it. Sessions whose queue is full are closed as slow consumers.
    pub fn broadcast<P: Packet + ?Sized>(&self, packet: &P, except: Option<SessionId>) -> usize {
        self.broadcast_with(except, |o| o.queue(packet))
    }

    /// Queues a raw frame for every session except `except`.
    pub fn broadcast_raw(&self, type_id: u16, body: &[u8], except: Option<SessionId>) -> usize {
        self.broadcast_with(except, |o| o.queue_raw(type_id, body))
    }

    fn broadcast_with(
        &self,
        except: Option<SessionId>,
        f: impl Fn(&mut Outbox) -> Result<(), TransportError>,
    ) -> usize {
        let map = self.read();
        let mut n = 0;
        for (id, s) in map.iter() {
            if Some(*id) == except || s.is_closing() {
                continue;
            }
            if s.queue_with(true, &f).is_ok() {
                n += 1;
            }
        }
        n
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

    /// Queues `packet` for every other session; returns how many got it.
    pub fn broadcast_others<P: Packet + ?Sized>(&self, packet: &P) -> usize {
        self.sessions.broadcast(packet, Some(self.session.id))
    }

    /// Queues a raw frame for every other session; returns how many got it.
    pub fn broadcast_others_raw(&self, type_id: u16, body: &[u8]) -> usize {
        self.sessions
            .broadcast_raw(type_id, body, Some(self.session.id))
    }

    /// Queues `packet` for every session, this one included.
    pub fn broadcast<P: Packet + ?Sized>(&self, packet: &P) -> usize {
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
        }
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

    /// Handles frames no other handler takes (default: drop the peer with
    /// [`DecodeError::UnknownPacketId`]).
    pub fn fallback(
        mut self,
        f: impl Fn(&Context<'_, S>, Frame<'_>) -> Result<(), TransportError> + Send + Sync + 'static,
    ) -> Self {
        self.fallback = Some(Box::new(f));
        self
    }

    /// Called when a session opens (sealed: once its hello is accepted,
    /// see [`ServerConfig::with_sealed_sessions`]).
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

/// Classifies a read-side transport error as a disconnect reason.
pub(crate) fn reason_for(e: TransportError) -> DisconnectReason {
    match e {
        TransportError::Closed => DisconnectReason::PeerClosed,
        TransportError::Frame(FrameError::UnexpectedEof { .. }) => {
            DisconnectReason::PeerClosedMidFrame
        }
        TransportError::Frame(f) => DisconnectReason::BadFrame(TransportError::Frame(f)),
        #[cfg(feature = "crypto")]
        TransportError::Crypto(c) => DisconnectReason::BadFrame(TransportError::Crypto(c)),
        TransportError::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::BrokenPipe => DisconnectReason::PeerClosed,
            _ => DisconnectReason::Io(io),
        },
        other => DisconnectReason::Handler(other),
    }
}

/// Counts one dispatched frame.
pub(crate) fn count_in(session: &Session) {
    session.frames_in.fetch_add(1, Ordering::Relaxed);
}

/// What both servers share, without sockets: the router, the state, the
/// session manager and the configuration, and the per-session steps
/// (connect hook, dispatch of buffered frames, flush, disconnect) that the
/// blocking workers and the tokio session tasks both run.
pub(crate) struct ServerCore<S> {
    pub(crate) router: Router<S>,
    pub(crate) state: S,
    pub(crate) sessions: Arc<Sessions>,
    pub(crate) config: ServerConfig,
    /// Datagrams dropped (UDP server only).
    pub(crate) dropped: AtomicU64,
}

/// The outcome of [`ServerCore::flush`].
pub(crate) struct Flushed {
    /// Bytes the socket took.
    pub(crate) written: usize,
    /// Whether the outbox is empty now.
    pub(crate) empty: bool,
    /// Bytes still queued.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) queued: usize,
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

    /// Returns the new session's inbox and runs the connect hook, or,
    /// sealed, leaves it for [`ServerCore::dispatch_ready`] to run once the
    /// session's hello has keyed it (so the hook can reply).
    pub(crate) fn connected(&self, session: &Session) -> Inbox {
        if !session.security.is_sealed() {
            self.greet(session);
        }
        Inbox::secured(&self.config.transport, &session.security, Side::Server)
    }

    /// Runs the connect hook of `session` unless it ran already; returns
    /// whether it ran now.
    pub(crate) fn greet(&self, session: &Session) -> bool {
        let now = !session.greeted.swap(true, Ordering::Relaxed);
        if now {
            self.router.connected(&self.ctx(session));
        }
        now
    }

    /// Dispatches every complete frame buffered in `inbox` (stopping early
    /// once the session is closing); `Err` says why the session ends.
    pub(crate) fn dispatch_ready(
        &self,
        session: &Session,
        inbox: &mut Inbox,
    ) -> Result<(), DisconnectReason> {
        loop {
            match inbox.next_frame() {
                Ok(Some(frame)) => {
                    // A frame (sealed: after the hello): keys exist.
                    if self.greet(session) && session.is_closing() {
                        return Ok(());
                    }
                    count_in(session);
                    if let Err(e) = self.router.dispatch(&self.ctx(session), frame) {
                        return Err(DisconnectReason::Handler(e));
                    }
                    if session.is_closing() {
                        return Ok(());
                    }
                }
                Ok(None) => {
                    if !inbox.opener().awaiting_hello() {
                        // Sealed: the hello arrived alone.
                        self.greet(session);
                    }
                    return Ok(());
                }
                Err(e) => return Err(DisconnectReason::BadFrame(e)),
            }
        }
    }

    /// Writes what `w` (a non-blocking socket) takes of the session's
    /// outbox now; `Err` says why the session ends.
    pub(crate) fn flush<W: std::io::Write + ?Sized>(
        session: &Session,
        w: &mut W,
    ) -> Result<Flushed, DisconnectReason> {
        let mut out = session.outbox();
        let mut written = 0;
        if !out.is_empty() {
            match out.queue_mut().write_to(w) {
                Ok(n) => written = n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(reason_for(e.into())),
            }
        }
        Ok(Flushed {
            written,
            empty: out.is_empty(),
            queued: out.len(),
        })
    }

    /// Runs the disconnect hook (if the connect hook ran: a sealed session
    /// that never got keys had neither) and forgets the session.
    pub(crate) fn disconnected(&self, session: &Session, reason: &DisconnectReason) {
        if session.greeted.load(Ordering::Relaxed) {
            self.router.disconnected(&self.ctx(session), reason);
        }
        self.sessions.remove(session.id(), reason);
    }
}

/// The partial-frame and idle clocks of one session.
pub(crate) struct SessionTimers {
    partial_since: Option<Instant>,
    last_rx: Instant,
}

impl SessionTimers {
    pub(crate) fn new(now: Instant) -> Self {
        Self {
            partial_since: None,
            last_rx: now,
        }
    }

    /// Bytes arrived at `now`.
    pub(crate) fn received(&mut self, now: Instant) {
        self.last_rx = now;
    }

    /// With `buffered` bytes of an unfinished frame: fails with
    /// `FrameTimeout` once the frame has taken longer than the frame
    /// timeout; with none, with `IdleTimeout` once nothing arrived for the
    /// idle timeout (not while stopping). Otherwise returns when the next
    /// of these would fire.
    pub(crate) fn check(
        &mut self,
        now: Instant,
        buffered: usize,
        config: &ServerConfig,
        stopping: bool,
    ) -> Result<Option<Instant>, DisconnectReason> {
        if buffered > 0 {
            let since = *self.partial_since.get_or_insert(now);
            if now.duration_since(since) > config.frame_timeout {
                return Err(DisconnectReason::FrameTimeout);
            }
            return Ok(Some(since + config.frame_timeout));
        }
        self.partial_since = None;
        match config.idle_timeout {
            Some(idle) => {
                if !stopping && now.duration_since(self.last_rx) > idle {
                    return Err(DisconnectReason::IdleTimeout);
                }
                Ok(Some(self.last_rx + idle))
            }
            None => Ok(None),
        }
    }
}

#[allow(unused)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Sessions>();
    is::<Router<()>>();
    let _: Option<Box<Session>> = None;
}
