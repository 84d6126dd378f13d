//! The server's view of one session, shared between the thread that
//! drives it and everyone else: [`SessionId`], [`Session`] (its outbox,
//! close flags, identity, counters, the application's per-session state)
//! and the crate-private `Waker` that tells its driver another thread
//! queued frames or closed it.
//!
//! What does not live here: the session's sans-I/O core (timers,
//! back-pressure, its end: `crate::session`), the table of sessions
//! ([`super::Sessions`]).

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::vec::Vec;

use packet_core::frame::Packet;

use crate::session::{DisconnectReason, Lifecycle};
use crate::transport::{CloseNotice, CloseReason, Outbox, TransportError};

/// Locks `m` even if a thread panicked while holding it (a handler, say):
/// what the servers lock stays usable, and one panic must not spread to
/// every thread that locks it after.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A session's id: unique for the server's lifetime, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
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
    /// Set by the first wake since the worker last looked (which writes
    /// the waker's eventfd), cleared by the worker ([`PollWaker::take`])
    /// before it reads `ready`: the wakes in between only push their
    /// token, without a system call each.
    woken: AtomicBool,
}

impl PollWaker {
    pub(crate) fn new(waker: mio::Waker) -> Self {
        Self {
            waker,
            ready: Mutex::new(Vec::new()),
            woken: AtomicBool::new(false),
        }
    }

    /// Re-arms the waker: the worker calls this before it reads `ready`
    /// (and before it looks at the sessions' outboxes), so a token pushed
    /// after this is either seen now or wakes the poll again.
    pub(crate) fn take(&self) {
        self.woken.swap(false, Ordering::AcqRel);
    }

    /// Whether a wake came since the worker last took them.
    pub(crate) fn is_woken(&self) -> bool {
        self.woken.load(Ordering::Acquire)
    }
}

impl Waker {
    /// Whether `self` and `other` wake the same thing (the sessions of a
    /// UDP server share one).
    pub(crate) fn same(&self, other: &Waker) -> bool {
        match (self, other) {
            (Waker::Poll(a, t), Waker::Poll(b, u)) => Arc::ptr_eq(a, b) && t == u,
            #[cfg(feature = "tokio")]
            (Waker::Notify(a), Waker::Notify(b)) => Arc::ptr_eq(a, b),
            #[cfg(feature = "tokio")]
            _ => false,
        }
    }

    pub(crate) fn wake(&self) {
        match self {
            Waker::Poll(w, token) => {
                lock(&w.ready).push(*token);
                if !w.woken.swap(true, Ordering::AcqRel) {
                    let _ = w.waker.wake();
                }
            }
            #[cfg(feature = "tokio")]
            Waker::Notify(n) => n.notify_one(),
        }
    }
}

/// The part of a session other threads can reach: its outbox, flags,
/// identity and the application's per-session state `U` (see
/// [`Router::with_session_state`](super::Router::with_session_state)).
///
/// An `Arc<Session<U>>` (from [`Context::session`](super::Context::session)
/// or [`Sessions::get`](super::Sessions::get)) is a `'static` handle: a
/// task or the game loop keeps it to send to the session later; once the
/// session has ended, [`Session::send`] returns
/// [`TransportError::Closed`].
pub struct Session<U = ()> {
    pub(super) id: SessionId,
    pub(super) peer: SocketAddr,
    pub(super) out: Mutex<Outbox>,
    /// Set to close the session once its queue is flushed.
    pub(super) closing: AtomicBool,
    /// The application's code for the close notice of a close it asked
    /// for ([`Sessions::close_with`](super::Sessions::close_with)).
    pub(super) close_code: AtomicU16,
    /// Set when the queue overflowed: close without waiting.
    pub(super) overflowed: AtomicBool,
    /// Frames dispatched and queued for this session: counted here, on
    /// the session's own cache line, and added to the server totals when
    /// it ends (a shared counter bumped per packet by every thread would
    /// bounce between cores).
    pub(super) frames_in: AtomicU64,
    pub(super) frames_out: AtomicU64,
    pub(super) frames_unsent: AtomicU64,
    /// Whom the session belongs to (a player or account id): the key
    /// provider's at the hello (sealed, `ServerSecurity::with_identity`),
    /// or the application's ([`Context::set_identity`](super::Context::set_identity)).
    pub(super) identity: std::sync::OnceLock<u64>,
    pub(super) waker: Waker,
    /// Set once the session has ended (removed from [`super::Sessions`]).
    pub(super) ended: AtomicBool,
    /// Work in flight whose replies a shutdown waits for ([`Session::work`]).
    pub(super) work: AtomicU32,
    /// An end decided from outside the session's driver
    /// ([`Session::fail`]), taken by the driver; `failed` says whether
    /// to look (no lock on the hot path).
    pub(super) failed: AtomicBool,
    pub(super) failure: Mutex<Option<DisconnectReason>>,
    /// The application's per-session state, locked per session only.
    pub(super) state: Mutex<U>,
}

impl<U> fmt::Debug for Session<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("peer", &self.peer)
            .field("identity", &self.identity())
            .field("closing", &self.is_closing())
            .finish_non_exhaustive()
    }
}

impl<U> Session<U> {
    /// The id.
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// Whom the session belongs to (a player or account id), if known: a
    /// sealed session's from its key provider when its hello was accepted
    /// (before the connect hook; feature `crypto`,
    /// `ServerSecurity::with_identity`), else once the application sets it
    /// ([`Context::set_identity`](super::Context::set_identity)).
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

    /// The application's code of a kick ([`Sessions::close_with`](super::Sessions::close_with),
    /// [`Context::close_with`](super::Context::close_with)): what the close
    /// notice told the client, for a disconnect hook to log beside
    /// [`DisconnectReason::Closed`](crate::DisconnectReason::Closed); 0
    /// without one (a plain `close`, or no close).
    pub fn close_code(&self) -> u16 {
        self.close_code.load(Ordering::Relaxed)
    }

    /// The session's own state, locked for this session only (no lock is
    /// shared between sessions). Do not hold the guard across an `.await`
    /// or while locking another session's state in a different order.
    ///
    /// ```
    /// # use packet_net::server::{Router, Sessions};
    /// #[derive(Default)]
    /// struct Player { x: i32 }
    ///
    /// // A handler moves its own player...
    /// let router = Router::<(), Player>::default()
    ///     .on_frame(1, |ctx, _| { ctx.session_state().x += 1; Ok(()) });
    /// // ...and the game loop reads every player once per tick.
    /// fn tick(sessions: &Sessions<Player>) {
    ///     sessions.for_each(|s| println!("{} at {}", s.id(), s.state().x));
    /// }
    /// # let _ = (router, tick as fn(&Sessions<Player>));
    /// ```
    pub fn state(&self) -> MutexGuard<'_, U> {
        lock(&self.state)
    }

    /// Queues `packet` for this session and wakes its driver: from a
    /// task, the game loop or another session's handler. After the
    /// session has ended, [`TransportError::Closed`]. A full queue closes
    /// the session as a slow consumer and returns the error.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use packet_net::server::Router;
    ///
    /// let router = Router::<()>::new().on_frame(1, |ctx, frame| {
    ///     let session = ctx.session().clone();          // 'static: Arc<Session>
    ///     let body = frame.body().to_vec();
    ///     tokio::spawn(async move {
    ///         // ... await a database, a matchmaker ...
    ///         let _ = session.send_raw(1, &body);       // reply later
    ///     });
    ///     Ok(())
    /// });
    /// # let _ = router;
    /// # }
    /// ```
    pub fn send<P: Packet + ?Sized>(&self, packet: &P) -> Result<(), TransportError> {
        self.queue_with(true, |o| o.queue(packet))
    }

    /// Queues a raw frame for this session; see [`Session::send`].
    pub fn send_raw(&self, type_id: u16, body: &[u8]) -> Result<(), TransportError> {
        self.queue_with(true, |o| o.queue_raw(type_id, body))
    }

    pub(crate) fn outbox(&self) -> MutexGuard<'_, Outbox> {
        lock(&self.out)
    }

    pub(super) fn queue_with(
        &self,
        wake: bool,
        f: impl FnOnce(&mut Outbox) -> Result<(), TransportError>,
    ) -> Result<(), TransportError> {
        if self.ended.load(Ordering::Relaxed) {
            return Err(TransportError::Closed);
        }
        let result = f(&mut self.outbox());
        let count = match result {
            Ok(()) => &self.frames_out,
            Err(_) => &self.frames_unsent,
        };
        count.fetch_add(1, Ordering::Relaxed);
        if let Err(TransportError::QueueFull { .. }) = result {
            self.overflowed.store(true, Ordering::Relaxed);
            self.closing.store(true, Ordering::Relaxed);
        }
        if wake {
            self.waker.wake();
        }
        result
    }

    pub(super) fn close(&self) {
        self.closing.store(true, Ordering::Relaxed);
        self.waker.wake();
    }

    /// Closes the session, its close notice carrying the application's
    /// `code` (wire format §12, reason 6). The first close's code counts.
    pub(super) fn close_with(&self, code: u16) {
        if !self.is_closing() {
            self.close_code.store(code, Ordering::Relaxed);
        }
        self.close();
    }

    /// Queues the close notice `life` decided, if any (wire format §12),
    /// behind what is queued: the session's last frame (the application's
    /// code from [`Session::close_with`] for a close it asked for);
    /// whether there was one.
    pub(crate) fn notify(&self, life: &mut Lifecycle) -> bool {
        let Some(reason) = life.take_notice() else {
            return false;
        };
        let detail = match reason {
            CloseReason::Application => self.close_code(),
            _ => 0,
        };
        self.outbox().queue_notice(CloseNotice { reason, detail });
        true
    }

    pub(crate) fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Relaxed)
    }

    /// Ends the session for `reason`, decided outside its driver (by
    /// another session's handler: [`super::EventQueue`] ending the
    /// session that filled it): its driver ends it as it would on its
    /// own (queued replies first, then the notice `reason` calls for).
    pub(crate) fn fail(&self, reason: DisconnectReason) {
        let mut slot = lock(&self.failure);
        if slot.is_none() {
            *slot = Some(reason);
            self.failed.store(true, Ordering::Release);
        }
        drop(slot);
        self.waker.wake();
    }

    /// The end [`Session::fail`] decided, once.
    pub(crate) fn take_failure(&self) -> Option<DisconnectReason> {
        if !self.failed.load(Ordering::Acquire) {
            return None;
        }
        lock(&self.failure).take()
    }

    /// Whether work started with [`Session::work`] is in flight.
    pub(crate) fn has_work(&self) -> bool {
        self.work.load(Ordering::Acquire) > 0
    }

    /// Whether `limit` pieces of work are in flight (or more): the
    /// session waits ([`ServerConfig::max_session_work`](super::ServerConfig::max_session_work)).
    pub(crate) fn work_full(&self, limit: usize) -> bool {
        self.work.load(Ordering::Acquire) as usize >= limit.max(1)
    }

    /// Marks work in flight for this session (a task or thread that will
    /// reply through the session later) until the returned guard drops:
    /// meanwhile a shutdown does not end the session, so the reply the
    /// work sends leaves before the "shutting down" close notice, within
    /// [`ServerConfig::shutdown_grace`](super::ServerConfig::shutdown_grace)
    /// (past it the session ends anyway, and a late
    /// [`Session::send`] returns [`TransportError::Closed`]). Frames the
    /// client sends after the shutdown began are not dispatched.
    /// [`Router::on_async`](super::Router::on_async) holds one for each
    /// of its tasks; hold one yourself for work you move off a handler:
    ///
    /// ```
    /// use packet_net::server::Router;
    ///
    /// let router = Router::<()>::new().on_frame(1, |ctx, frame| {
    ///     let session = ctx.session().clone();
    ///     let work = session.work();               // shutdown waits for it
    ///     let body = frame.body().to_vec();
    ///     std::thread::spawn(move || {
    ///         // ... slow work ...
    ///         let _ = session.send_raw(1, &body);
    ///         drop(work);                            // now it may end
    ///     });
    ///     Ok(())
    /// });
    /// # let _ = router;
    /// ```
    pub fn work(self: &Arc<Self>) -> Work<U> {
        self.work.fetch_add(1, Ordering::AcqRel);
        Work(self.clone())
    }
}

/// Work in flight for a session ([`Session::work`]): a shutdown waits for
/// it, within its grace, and it counts against
/// [`ServerConfig::max_session_work`](super::ServerConfig::max_session_work).
/// Dropping it wakes the session's driver.
#[must_use = "the session waits only while the guard lives"]
pub struct Work<U = ()>(Arc<Session<U>>);

impl<U> fmt::Debug for Work<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Work").field(&self.0.id).finish()
    }
}

impl<U> Drop for Work<U> {
    fn drop(&mut self) {
        self.0.work.fetch_sub(1, Ordering::AcqRel);
        // A session at its work limit, or stopping, goes on now.
        self.0.waker.wake();
    }
}
