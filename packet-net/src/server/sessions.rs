//! The session manager [`Sessions`]: every open session by id, look-up
//! (by id, by identity), send, broadcast (with its [`BroadcastReport`]),
//! close, and the counters.
//!
//! What does not live here: one session's shared part
//! ([`super::Session`]), what a handler sees ([`super::Context`]).

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::vec::Vec;

use packet_core::frame::Packet;

use super::session::Waker;
use super::{DisconnectReason, ServerStats, Session, SessionId, StatsSnapshot};
use crate::transport::{Outbox, TransportError};

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
    /// Sealed sessions skipped because their hello has not arrived yet:
    /// no keys to seal with (not a failure; they get the next one).
    pub pending: usize,
}

impl BroadcastReport {
    /// Sessions that did not get the frame, for any reason.
    pub fn skipped(&self) -> usize {
        self.too_big + self.queue_full + self.closing + self.pending
    }

    /// Sessions the frame failed for (too big, or queue full); sessions
    /// already closing or still in their handshake are not failures.
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
            if self.pending > 0 {
                write!(f, ", {} awaiting their hello", self.pending)?;
            }
        }
        Ok(())
    }
}

/// The session manager: every open session by id, each with its
/// per-session state `U` (see
/// [`Router::with_session_state`](super::Router::with_session_state)).
///
/// The servers hold it in an `Arc` ([`Context::sessions`](super::Context::sessions),
/// `ServerHandle::sessions`): clone that into a task or the game loop to
/// send, broadcast or close from outside handlers.
pub struct Sessions<U = ()> {
    map: RwLock<HashMap<SessionId, Arc<Session<U>>>>,
    next_id: AtomicU64,
    pub(super) stats: ServerStats,
}

type Map<U> = HashMap<SessionId, Arc<Session<U>>>;

impl Default for Sessions {
    /// An empty session manager (the servers make their own).
    fn default() -> Self {
        Self::new()
    }
}

impl<U> fmt::Debug for Sessions<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sessions")
            .field("open", &self.len())
            .finish_non_exhaustive()
    }
}

impl<U> Sessions<U> {
    pub(crate) fn new() -> Self {
        Self {
            map: RwLock::default(),
            next_id: AtomicU64::new(0),
            stats: ServerStats::default(),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Map<U>> {
        self.map.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Map<U>> {
        self.map.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether another session fits under `max`.
    pub(crate) fn has_room(&self, max: usize) -> bool {
        self.read().len() < max
    }

    /// Registers a new session sending through `out` with its `state`, or
    /// `None` when `max` are open.
    pub(crate) fn register(
        &self,
        peer: SocketAddr,
        out: Outbox,
        waker: impl FnOnce(SessionId) -> Waker,
        max: usize,
        state: U,
    ) -> Option<Arc<Session<U>>> {
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
            ended: AtomicBool::new(false),
            state: Mutex::new(state),
        });
        map.insert(id, session.clone());
        self.stats.accepted.fetch_add(1, Ordering::Relaxed);
        self.stats.active.store(map.len(), Ordering::Relaxed);
        Some(session)
    }

    /// Counts a refused session.
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
            s.ended.store(true, Ordering::Relaxed);
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

    /// The session with this id: a `'static` handle to send to it or
    /// reach its state later.
    pub fn get(&self, id: SessionId) -> Option<Arc<Session<U>>> {
        self.read().get(&id).cloned()
    }

    /// Calls `f` with every open session (under the table's read lock:
    /// sessions opening or ending meanwhile wait until `f` is done), e.g.
    /// for the game loop to read each player's state once per tick.
    ///
    /// ```
    /// use packet_net::server::Sessions;
    ///
    /// #[derive(Default)]
    /// struct Player { score: u32 }
    ///
    /// fn leader(sessions: &Sessions<Player>) -> Option<u32> {
    ///     let mut best = None;
    ///     sessions.for_each(|s| best = best.max(Some(s.state().score)));
    ///     best
    /// }
    /// # let _ = leader;
    /// ```
    pub fn for_each(&self, f: impl FnMut(&Arc<Session<U>>)) {
        self.read().values().for_each(f);
    }

    /// Whether a session with this id is open.
    pub fn contains(&self, id: SessionId) -> bool {
        self.read().contains_key(&id)
    }

    /// Appends the ids of the open sessions that belong to `identity`
    /// (the key provider's, or set by
    /// [`Context::set_identity`](super::Context::set_identity)) to `out`: a player's sessions,
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
        let map = self.read(); // no `Arc` clone per send
        map.get(&id).ok_or(TransportError::Closed)?.send(packet)
    }

    /// Queues a raw frame for session `id`.
    pub fn send_raw_to(
        &self,
        id: SessionId,
        type_id: u16,
        body: &[u8],
    ) -> Result<(), TransportError> {
        let map = self.read();
        map.get(&id)
            .ok_or(TransportError::Closed)?
            .send_raw(type_id, body)
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
                #[cfg(feature = "crypto")]
                Err(TransportError::Crypto(packet_core::error::CryptoError::KeysPending)) => {
                    report.pending += 1
                }
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
