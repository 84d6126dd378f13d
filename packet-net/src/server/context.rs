//! [`Context`]: what a handler sees: its session (id, address,
//! identity, per-session state), the session manager, the shared state,
//! and replies; `'static` handles to the session and the manager for work
//! that outlives the handler.
//!
//! What does not live here: the handlers' registry ([`super::Router`]).

use std::net::SocketAddr;
use std::sync::{Arc, MutexGuard};

use packet_core::frame::Packet;

use super::{BroadcastReport, Session, SessionId, Sessions};
use crate::transport::TransportError;

/// What a handler sees: its session (with its per-session state `U`),
/// the session manager and the shared state `S`.
pub struct Context<'a, S, U = ()> {
    pub(super) session: &'a Arc<Session<U>>,
    pub(super) sessions: &'a Arc<Sessions<U>>,
    pub(super) state: &'a S,
}

impl<'a, S, U> Context<'a, S, U> {
    /// This session's id.
    pub fn id(&self) -> SessionId {
        self.session.id
    }

    /// This session's peer address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.session.peer
    }

    /// Whom this session belongs to: a sealed session's from its key
    /// provider, already in the connect hook (feature `crypto`,
    /// `ServerSecurity::with_identity`), or once set by
    /// [`Context::set_identity`].
    pub fn identity(&self) -> Option<u64> {
        self.session.identity()
    }

    /// Ties this session to `identity` (a player or account id) on a
    /// server whose key provider gives none (a plaintext server), e.g.
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
        (current == identity).then_some(()).ok_or(current)
    }

    /// The shared state.
    pub fn state(&self) -> &'a S {
        self.state
    }

    /// This session's own state (see
    /// [`Router::with_session_state`](super::Router::with_session_state)),
    /// locked for this session only; see [`Session::state`].
    ///
    /// ```
    /// use packet_net::server::Router;
    ///
    /// #[derive(Default)]
    /// struct Player { moves: u32 }
    ///
    /// let router = Router::<(), Player>::default().on_frame(1, |ctx, _| {
    ///     ctx.session_state().moves += 1;
    ///     Ok(())
    /// });
    /// # let _ = router;
    /// ```
    pub fn session_state(&self) -> MutexGuard<'a, U> {
        self.session.state()
    }

    /// This session: clone the `Arc` for a `'static` handle that sends
    /// to it later ([`Session::send`]), e.g. from a spawned task or a
    /// timer thread.
    ///
    /// ```
    /// use packet_net::server::Router;
    ///
    /// let router = Router::<()>::new().on_frame(1, |ctx, _| {
    ///     let session = ctx.session().clone();
    ///     std::thread::spawn(move || {
    ///         std::thread::sleep(std::time::Duration::from_millis(100));
    ///         let _ = session.send_raw(1, b"later"); // `Closed` if it ended meanwhile
    ///     });
    ///     Ok(())
    /// });
    /// # let _ = router;
    /// ```
    pub fn session(&self) -> &'a Arc<Session<U>> {
        self.session
    }

    /// The session manager: clone the `Arc` for a `'static` handle that
    /// a spawned task can move.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use packet_net::server::Router;
    ///
    /// let router = Router::<()>::new().on_frame(1, |ctx, frame| {
    ///     let sessions = ctx.sessions().clone();
    ///     let body = frame.body().to_vec();
    ///     tokio::spawn(async move {
    ///         // ... await something, then tell everyone ...
    ///         sessions.broadcast_raw(2, &body, None);
    ///     });
    ///     Ok(())
    /// });
    /// # let _ = router;
    /// # }
    /// ```
    pub fn sessions(&self) -> &'a Arc<Sessions<U>> {
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
    ///
    /// Only sessions the server has opened get it: a plaintext one once
    /// accepted, a sealed one once the server has *processed* its hello
    /// (it may have arrived already). A sealed session not yet opened is
    /// skipped and counted in [`BroadcastReport::pending`], and never gets
    /// this frame. A client that must not miss broadcasts therefore waits
    /// for a reply to its login first (the login handler replies; the
    /// client's first `recv` is that reply), and bounds its reads
    /// (`TransportConfig::with_read_timeout`: client reads wait forever by
    /// default, so a client waiting for a skipped broadcast blocks until
    /// the server's idle timeout ends its session).
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
    /// [`Context::broadcast_others`] (which sessions a broadcast reaches).
    pub fn broadcast<P: Packet + ?Sized>(&self, packet: &P) -> BroadcastReport {
        self.sessions.broadcast(packet, None)
    }

    /// Closes this session after its queued frames are flushed (its
    /// client is sent a close notice, "closed by the application", code
    /// 0: see [`Context::close_with`]).
    pub fn close(&self) {
        self.session.close();
    }

    /// Closes this session after its queued frames are flushed, telling
    /// its client the application's `code` (a kick; see
    /// [`Sessions::close_with`]).
    pub fn close_with(&self, code: u16) {
        self.session.close_with(code);
    }
}
