//! [`Context`]: what a handler sees: its session (id, address,
//! identity), the session manager, the shared state, and replies.
//!
//! What does not live here: the handlers' registry ([`super::Router`]).

use std::net::SocketAddr;

use packet_core::frame::Packet;

use super::{BroadcastReport, Session, SessionId, Sessions};
use crate::transport::TransportError;

/// What a handler sees: its session, the session manager and the state.
pub struct Context<'a, S> {
    pub(super) session: &'a Session,
    pub(super) sessions: &'a Sessions,
    pub(super) state: &'a S,
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
