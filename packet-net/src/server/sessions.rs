//! The session manager [`Sessions`]: every open session by id, look-up
//! (by id, by identity), send, broadcast (with its [`BroadcastReport`]),
//! close, and the counters.
//!
//! What does not live here: one session's shared part
//! ([`super::Session`]), what a handler sees ([`super::Context`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::vec::Vec;

use packet_core::Writer;
use packet_core::error::EncodeError;
use packet_core::frame::Packet;

use super::session::Waker;
use super::{DisconnectReason, ServerStats, Session, SessionId, StatsSnapshot};
use crate::transport::queue::body_len;
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
    /// too big for a frame (or the write queue), a field out of range, or
    /// the type id `0xFFFF`, reserved for the session control frames
    /// ([`TransportError::ReservedTypeId`]). Every session fails alike, so `too_big > 0` with `delivered == 0`
    /// means the packet itself is wrong.
    pub too_big: usize,
    /// Sessions whose write queue was full: slow consumers, now closing.
    pub queue_full: usize,
    /// Sessions skipped because they are closing.
    pub closing: usize,
    /// Sealed sessions skipped because the server has not opened them yet:
    /// their hello has not been *processed* (it may have arrived and wait
    /// in the receive buffer), so there are no keys to seal with. Not a
    /// failure, but such a session never gets this frame, only later
    /// ones; a client that must not miss broadcasts waits for the reply
    /// to its login before it counts on them (see
    /// [`Context::broadcast_others`](super::Context::broadcast_others)).
    pub pending: usize,
    /// Why the frame could not be encoded, from the first session it
    /// failed for (every session fails alike): e.g.
    /// [`EncodeError::FieldTooLong`] naming the field and the attribute
    /// to change, or [`EncodeError::FrameTooLarge`] with the limit.
    /// `None` when nothing was `too_big`, or the failure was not the
    /// encoder's.
    pub encode_error: Option<EncodeError>,
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
                write!(f, ", {} not yet opened (hello unprocessed)", self.pending)?;
            }
            if let Some(e) = &self.encode_error {
                write!(f, " (too big: {e})")?;
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

/// A session's own frame counters: in, out, unsent.
fn frame_counts<U>(s: &Session<U>) -> [u64; 3] {
    [&s.frames_in, &s.frames_out, &s.frames_unsent].map(|a| a.load(Ordering::Relaxed))
}

std::thread_local! {
    /// Where [`Sessions::broadcast`] encodes a packet's body once for all
    /// sessions: one per thread that broadcasts, grown to the largest body
    /// and kept (no allocation per broadcast).
    static BODY: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

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
            close_code: AtomicU16::new(0),
            overflowed: AtomicBool::new(false),
            frames_in: AtomicU64::new(0),
            frames_out: AtomicU64::new(0),
            frames_unsent: AtomicU64::new(0),
            identity: std::sync::OnceLock::new(),
            waker: waker(id),
            ended: AtomicBool::new(false),
            failed: AtomicBool::new(false),
            failure: Mutex::new(None),
            work: std::sync::atomic::AtomicU32::new(0),
            state: Mutex::new(state),
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
            s.ended.store(true, Ordering::Relaxed);
            self.stats.count_end(reason);
            let st = &self.stats;
            let totals = [&st.frames_in, &st.frames_out, &st.frames_unsent];
            for (total, n) in totals.into_iter().zip(frame_counts(&s)) {
                total.fetch_add(n, Ordering::Relaxed);
            }
        }
        self.stats.active.store(map.len(), Ordering::Relaxed);
    }

    /// The counters: the totals of ended sessions plus the open ones'.
    pub fn stats(&self) -> StatsSnapshot {
        let map = self.read();
        let mut snap = self.stats.snapshot();
        for [i, o, u] in map.values().map(|s| frame_counts(s)) {
            (snap.frames_in, snap.frames_out) = (snap.frames_in + i, snap.frames_out + o);
            snap.frames_unsent += u;
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
    ///
    /// The errors are about session `id`, not the caller: no session `id`
    /// is open (it never was, or it ended) is
    /// [`TransportError::Closed`], its full queue `QueueFull`. In a
    /// handler, passing them on with `?` ends the *sender's* session
    /// (its `on_disconnect` sees `DisconnectReason::Handler(Closed)`,
    /// "connection closed by the peer"): a whisper to a player who just
    /// left would kick the whisperer. Handle them instead:
    ///
    /// ```
    /// use packet_net::server::{Router, SessionId};
    ///
    /// let router = Router::<()>::new().on_frame(3, |ctx, frame| {
    ///     let to = SessionId(7); // the addressee, read from the packet
    ///     if ctx.sessions().send_raw_to(to, 4, frame.body()).is_err() {
    ///         ctx.reply_raw(5, b"no such player")?; // `?` on the sender's own reply is right
    ///     }
    ///     Ok(())
    /// });
    /// # let _ = router;
    /// ```
    pub fn send_to<P: Packet + ?Sized>(
        &self,
        id: SessionId,
        packet: &P,
    ) -> Result<(), TransportError> {
        let map = self.read(); // no `Arc` clone per send
        map.get(&id).ok_or(TransportError::Closed)?.send(packet)
    }

    /// Queues a raw frame for session `id`; see [`Sessions::send_to`] for
    /// its errors, which are about session `id`, not the caller.
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
    ///
    /// The packet is encoded once, and its body copied into each session's
    /// outbox where the frame is built around it (its own sequence and
    /// check, or seal): the same bytes as [`Session::send`] to each. Wake-ups
    /// are coalesced: sessions sharing a driver wake-up (a UDP server's)
    /// are woken once, after every outbox has its frame.
    pub fn broadcast<P: Packet + ?Sized>(
        &self,
        packet: &P,
        except: Option<SessionId>,
    ) -> BroadcastReport {
        self.broadcast_where(packet, |s| Some(s.id) != except)
    }

    /// Queues `packet` for every session `to` picks (encoded once, as
    /// [`Sessions::broadcast`]); the others are not counted in the report.
    /// `to` runs under the table's read lock: it may read the session
    /// (its state, its identity), not call this `Sessions`.
    ///
    /// ```
    /// use packet_net::server::Sessions;
    /// use packet_net::Packet;
    ///
    /// #[derive(Packet)]
    /// #[packet(id = 1)]
    /// struct Snapshot { tick: u64 }
    ///
    /// // Only to the sessions of logged-in players (in a game, also a
    /// // flag in each session's state: `|s| s.state().in_game`).
    /// let sessions = Sessions::default();
    /// let report = sessions.broadcast_where(&Snapshot { tick: 1 }, |s| s.identity().is_some());
    /// assert_eq!(report.delivered, 0);
    /// ```
    pub fn broadcast_where<P: Packet + ?Sized>(
        &self,
        packet: &P,
        to: impl Fn(&Session<U>) -> bool,
    ) -> BroadcastReport {
        // A packet `encode` refuses whatever the room (a field longer than
        // its `max_len`) fails for every session alike, with the error
        // that names the field; and no body buffer is grown to its
        // `usize::MAX` length.
        let max_body = match body_len(packet) {
            Ok(len) => len,
            Err(e) => return self.broadcast_with(to, |_| Err(e.into())),
        };
        let once = BODY.with(|body| {
            // The reserved type id: refused per session below, as `queue`
            // refuses it.
            crate::transport::application_type_id(P::ID).ok()?;
            // Busy only if `write_data` itself broadcast: encode per session.
            let mut body = body.try_borrow_mut().ok()?;
            if body.len() < max_body {
                body.resize(max_body, 0);
            }
            let mut w = Writer::new(&mut body[..max_body]);
            // A packet that fails to encode fails for every session alike:
            // the per-session path below reports it as before.
            packet.write_data(&mut w).ok()?;
            let len = w.position();
            Some(self.broadcast_with(&to, |o| o.queue_encoded(P::ID, max_body, &body[..len])))
        });
        once.unwrap_or_else(|| self.broadcast_with(to, |o| o.queue(packet)))
    }

    /// Queues a raw frame for every session except `except`; see
    /// [`Sessions::broadcast`]. Type id `0xFFFF` is reserved for the
    /// session control frames (wire format §2.2): no session gets it, each
    /// is counted in [`BroadcastReport::too_big`].
    pub fn broadcast_raw(
        &self,
        type_id: u16,
        body: &[u8],
        except: Option<SessionId>,
    ) -> BroadcastReport {
        self.broadcast_with(|s| Some(s.id) != except, |o| o.queue_raw(type_id, body))
    }

    fn broadcast_with(
        &self,
        to: impl Fn(&Session<U>) -> bool,
        f: impl Fn(&mut Outbox) -> Result<(), TransportError>,
    ) -> BroadcastReport {
        let map = self.read();
        let mut report = BroadcastReport::default();
        // The wake-up owed to the last sessions queued for, if they share
        // one: given once the next session's differs, or at the end.
        let mut owed: Option<&Waker> = None;
        for s in map.values() {
            if !to(s) {
                continue;
            }
            if s.is_closing() {
                report.closing += 1;
                continue;
            }
            let result = s.queue_with(false, &f);
            if let Some(w) = owed.replace(&s.waker)
                && !w.same(&s.waker)
            {
                w.wake();
            }
            match result {
                Ok(()) => report.delivered += 1,
                Err(TransportError::QueueFull { .. }) => report.queue_full += 1,
                Err(TransportError::Closed) => report.closing += 1,
                #[cfg(feature = "crypto")]
                Err(TransportError::Crypto(packet_core::error::CryptoError::KeysPending)) => {
                    report.pending += 1
                }
                Err(e) => {
                    report.too_big += 1;
                    if report.encode_error.is_none()
                        && let TransportError::Encode(e) = e
                    {
                        report.encode_error = Some(e);
                    }
                }
            }
        }
        if let Some(w) = owed {
            w.wake();
        }
        report
    }

    /// Closes session `id` once its queued frames are flushed; whether it
    /// was open. Its client is sent a close notice (unless
    /// [`ServerConfig::close_notices`](super::ServerConfig::close_notices)
    /// is off), "closed by the application" with code 0: see
    /// [`Sessions::close_with`] to give a code.
    pub fn close(&self, id: SessionId) -> bool {
        self.read().get(&id).map(|s| s.close()).is_some()
    }

    /// Closes session `id` (a kick) once its queued frames are flushed,
    /// telling its client why with the application's own `code`: the
    /// client's receive fails with
    /// [`TransportError::ClosedByServer`](crate::transport::TransportError::ClosedByServer),
    /// reason [`CloseReason::Application`](crate::transport::CloseReason::Application)
    /// and `detail` = `code` (wire format §12). Whether it was open. The
    /// first close of a session decides its code.
    ///
    /// ```
    /// # use packet_net::server::{Sessions, SessionId};
    /// const KICKED_FOR_CHEATING: u16 = 7;
    /// fn kick(sessions: &Sessions, id: SessionId) {
    ///     sessions.close_with(id, KICKED_FOR_CHEATING);
    /// }
    /// # let _ = kick as fn(&Sessions, SessionId);
    /// ```
    pub fn close_with(&self, id: SessionId, code: u16) -> bool {
        self.read().get(&id).map(|s| s.close_with(code)).is_some()
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::Arc;

    use packet_core::error::EncodeError;
    use packet_core::frame::{Packet, encode_with};
    use packet_core::{Encode, Writer};

    use super::Sessions;
    use crate::server::session::{PollWaker, Waker};
    use crate::transport::security::Sealer;
    use crate::transport::{Outbox, TransportConfig};

    /// A snapshot whose body (41 bytes) needs padding.
    struct Snapshot {
        tick: u32,
        entities: [u8; 37],
    }

    impl Encode for Snapshot {
        const MAX_SIZE: Option<usize> = Some(41);
        fn encoded_len(&self) -> usize {
            41
        }
        fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
            self.tick.encode(w)?;
            w.put_bytes(&self.entities)
        }
    }

    impl Packet for Snapshot {
        const ID: u16 = 0x0B02;
    }

    fn poll_waker() -> (mio::Poll, Arc<PollWaker>) {
        let poll = mio::Poll::new().unwrap();
        let waker = mio::Waker::new(poll.registry(), mio::Token(0)).unwrap();
        (poll, Arc::new(PollWaker::new(waker)))
    }

    /// `n` plaintext sessions, each woken through `waker` with the token
    /// `token(id)`.
    fn sessions(n: usize, waker: &Arc<PollWaker>, token: fn(u64) -> usize) -> Sessions {
        let sessions = Sessions::new();
        let config = TransportConfig::default();
        let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
        for _ in 0..n {
            let out = Outbox::new(&config, Sealer::plain(&config.frame), None);
            let w = |id: super::SessionId| Waker::Poll(waker.clone(), token(id.0));
            sessions.register(peer, out, w, usize::MAX, ()).unwrap();
        }
        sessions
    }

    /// What a session's outbox holds, then emptied.
    fn take(sessions: &Sessions, id: super::SessionId) -> std::vec::Vec<u8> {
        let s = sessions.get(id).unwrap();
        let mut out = s.outbox();
        let bytes = out.queue_ref().pending().to_vec();
        out.queue_mut().clear();
        bytes
    }

    /// The frame of `packet` with `sequence`, encoded on its own.
    fn alone(packet: &Snapshot, sequence: u64) -> std::vec::Vec<u8> {
        let mut buf = [0u8; 128];
        let n = encode_with(Snapshot::ID, sequence, &mut buf, |w| packet.write_data(w)).unwrap();
        buf[..n].to_vec()
    }

    #[test]
    fn a_broadcast_encoded_once_gives_each_session_the_bytes_of_its_own_encoding() {
        let (_poll, waker) = poll_waker();
        let sessions = sessions(5, &waker, |id| id as usize);
        let mut ids = std::vec::Vec::new();
        sessions.ids(&mut ids);
        ids.sort();
        // Sequences differ: session k has sent k frames already.
        for (k, id) in ids.iter().enumerate() {
            for _ in 0..k {
                sessions.send_raw_to(*id, 1, b"earlier").unwrap();
            }
            take(&sessions, *id);
        }
        let mut snapshot = Snapshot {
            tick: 7,
            entities: [0; 37],
        };
        for (i, b) in snapshot.entities.iter_mut().enumerate() {
            *b = i as u8 ^ 0x5A;
        }
        let report = sessions.broadcast(&snapshot, Some(ids[4]));
        assert_eq!((report.delivered, report.skipped()), (4, 0), "{report}");
        for (k, id) in ids.iter().enumerate().take(4) {
            assert_eq!(
                take(&sessions, *id),
                alone(&snapshot, k as u64),
                "session {k}"
            );
        }
        assert!(take(&sessions, ids[4]).is_empty(), "the excepted session");
        // A raw broadcast too, with the sequences moved on by one.
        let mut body = [0u8; 41];
        snapshot.write_data(&mut Writer::new(&mut body)).unwrap();
        let report = sessions.broadcast_raw(Snapshot::ID, &body, None);
        assert_eq!(report.delivered, 5, "{report}");
        for (k, id) in ids.iter().enumerate() {
            let sequence = if k == 4 { 4 } else { k as u64 + 1 };
            assert_eq!(
                take(&sessions, *id),
                alone(&snapshot, sequence),
                "session {k}"
            );
        }
        // Each session's token was queued for its driver once per frame:
        // the earlier sends, then each broadcast that reached it.
        let mut ready = std::mem::take(&mut *waker.ready.lock().unwrap());
        ready.sort();
        let mut expected = std::vec::Vec::new();
        for (k, id) in ids.iter().enumerate() {
            let broadcasts = if k == 4 { 1 } else { 2 };
            expected.extend(std::iter::repeat_n(id.0 as usize, k + broadcasts));
        }
        assert_eq!(ready, expected);
    }

    /// Not a check: the instructions a broadcast of a 300-byte snapshot to
    /// 1,000 sessions costs, encoded once (`broadcast`) or per session
    /// (its fallback), to compare under callgrind:
    /// `valgrind --tool=callgrind <the lib test binary> --ignored
    /// broadcast_cost_probe --test-threads 1`, then the inclusive cost of
    /// `encoded_once` and `per_session`.
    #[test]
    #[ignore]
    fn broadcast_cost_probe() {
        struct Big([u8; 300]);
        impl Encode for Big {
            const MAX_SIZE: Option<usize> = Some(300);
            fn encoded_len(&self) -> usize {
                300
            }
            fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
                // Field by field, as a derived snapshot of 8 entities writes.
                for chunk in self.0.chunks(4) {
                    w.put_bytes(chunk)?;
                }
                Ok(())
            }
        }
        impl Packet for Big {
            const ID: u16 = 3;
        }
        #[inline(never)]
        fn encoded_once(sessions: &Sessions, p: &Big) {
            assert_eq!(sessions.broadcast(p, None).delivered, 1000);
        }
        #[inline(never)]
        fn per_session(sessions: &Sessions, p: &Big) {
            let report = sessions.broadcast_with(|_| true, |o| o.queue(p));
            assert_eq!(report.delivered, 1000);
        }
        let (_poll, waker) = poll_waker();
        let sessions = sessions(1000, &waker, |id| id as usize);
        let clear = |sessions: &Sessions| {
            sessions.for_each(|s| s.outbox().queue_mut().clear());
            waker.ready.lock().unwrap().clear();
        };
        let p = Big([7; 300]);
        for _ in 0..20 {
            encoded_once(&sessions, &p);
            clear(&sessions);
            per_session(&sessions, &p);
            clear(&sessions);
        }
    }

    #[test]
    fn sessions_sharing_a_wake_up_are_woken_once_per_broadcast() {
        // A UDP server's sessions: one driver, one token.
        let (_poll, waker) = poll_waker();
        let sessions = sessions(100, &waker, |_| 0);
        let report = sessions.broadcast_raw(1, b"tick", None);
        assert_eq!(report.delivered, 100, "{report}");
        assert_eq!(*waker.ready.lock().unwrap(), [0]);
        // Until the driver takes the wake-up, more broadcasts only queue.
        waker.ready.lock().unwrap().clear();
        sessions.broadcast_raw(1, b"tick", None);
        assert_eq!(*waker.ready.lock().unwrap(), [0]);
    }
}
