//! [`Router`]: the handler registry (a handler per packet type id, a
//! fallback, connect and disconnect hooks) and the [`UnknownPackets`]
//! policy for type ids nobody handles.
//!
//! What does not live here: the session a handler acts on
//! ([`super::Context`]), when handlers run ([`super::ServerCore`]
//! and the UDP endpoint).

use std::boxed::Box;
use std::fmt;
use std::sync::atomic::Ordering;
use std::vec::Vec;

use packet_core::codec::Decode;
use packet_core::error::DecodeError;
use packet_core::frame::{Frame, Packet};

use super::{Context, DisconnectReason};
use crate::transport::TransportError;

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
    /// Drop the frame, count it in [`StatsSnapshot::unknown_ignored`](super::StatsSnapshot::unknown_ignored) and
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
    /// see [`ServerConfig::sealed`](super::ServerConfig::sealed)).
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
