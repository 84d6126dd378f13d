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
pub type Handler<S, U = ()> =
    Box<dyn Fn(&Context<'_, S, U>, Frame<'_>) -> Result<(), TransportError> + Send + Sync>;
/// A connect hook.
pub type Hook<S, U = ()> = Box<dyn Fn(&Context<'_, S, U>) + Send + Sync>;
/// A disconnect hook.
pub type LeaveHook<S, U = ()> = Box<dyn Fn(&Context<'_, S, U>, &DisconnectReason) + Send + Sync>;
/// Makes a new session's state.
type Init<U> = Box<dyn Fn() -> U + Send + Sync>;

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

/// The handler registry: one handler per packet type id, hooks for a
/// session's start and end, and how each session's own state `U` is
/// made (`S` is the server's shared state).
///
/// ```
/// use packet_net::server::Router;
///
/// let router = Router::<()>::new()
///     .on_frame(1, |ctx, frame| ctx.reply_raw(1, frame.body())); // echo type 1
/// assert!(router.handles(1) && !router.handles(2));
/// ```
pub struct Router<S, U = ()> {
    /// Sorted by type id: a binary search beats hashing a `u16`.
    handlers: Vec<(u16, Handler<S, U>)>,
    fallback: Option<Handler<S, U>>,
    on_connect: Vec<Hook<S, U>>,
    on_disconnect: Vec<LeaveHook<S, U>>,
    unknown: UnknownPackets,
    init: Init<U>,
}

impl<S, U: Default + Send + 'static> Default for Router<S, U> {
    /// An empty router whose sessions each start with `U::default()`.
    fn default() -> Self {
        Self::with_session_state(U::default)
    }
}

impl<S, U> fmt::Debug for Router<S, U> {
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
    /// An empty router (every frame is an unknown type id) whose sessions
    /// carry no state of their own.
    pub fn new() -> Self {
        Self::with_session_state(|| ())
    }
}

impl<S, U> Router<S, U> {
    /// An empty router whose sessions each get their own state, made by
    /// `init` when the session opens (before [`Router::on_connect`]).
    /// Handlers reach it with [`Context::session_state`], the game loop
    /// through [`Sessions::for_each`](super::Sessions::for_each) /
    /// [`Session::state`](super::Session::state); each session's state
    /// has its own lock, so handlers of different sessions never wait on
    /// each other. A `U: Default` router is also `Router::default()`.
    ///
    /// ```
    /// use packet_net::server::Router;
    ///
    /// struct Player { hp: u32, name: String }
    ///
    /// let router = Router::<(), Player>::with_session_state(|| Player { hp: 100, name: String::new() })
    ///     .on_frame(1, |ctx, frame| {
    ///         ctx.session_state().name = String::from_utf8_lossy(frame.body()).into();
    ///         Ok(())
    ///     });
    /// # let _ = router;
    /// ```
    pub fn with_session_state(init: impl Fn() -> U + Send + Sync + 'static) -> Self {
        Self {
            handlers: Vec::new(),
            fallback: None,
            on_connect: Vec::new(),
            on_disconnect: Vec::new(),
            unknown: UnknownPackets::Close,
            init: Box::new(init),
        }
    }

    /// A new session's state.
    pub(crate) fn new_state(&self) -> U {
        (self.init)()
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
        f: impl Fn(&Context<'_, S, U>, Frame<'_>) -> Result<(), TransportError> + Send + Sync + 'static,
    ) -> Self {
        let h: Handler<S, U> = Box::new(f);
        match self.handlers.binary_search_by_key(&type_id, |(id, _)| *id) {
            Ok(i) => self.handlers[i].1 = h,
            Err(i) => self.handlers.insert(i, (type_id, h)),
        }
        self
    }

    /// Handles packets `P` (owned: no borrowed fields), decoded for `f`.
    pub fn on<P>(
        self,
        f: impl Fn(&Context<'_, S, U>, P) -> Result<(), TransportError> + Send + Sync + 'static,
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
        f: impl Fn(&Context<'_, S, U>, Frame<'_>) -> Result<(), TransportError> + Send + Sync + 'static,
    ) -> Self {
        self.fallback = Some(Box::new(f));
        self
    }

    /// Called when a session opens (sealed: once its hello is accepted,
    /// see [`ServerConfig::sealed`](super::ServerConfig::sealed)). Hooks
    /// add up: each runs, in the order they were added.
    pub fn on_connect(mut self, f: impl Fn(&Context<'_, S, U>) + Send + Sync + 'static) -> Self {
        self.on_connect.push(Box::new(f));
        self
    }

    /// Called when a session ends, while it is still registered (only for
    /// sessions whose `on_connect` ran). Hooks add up, like
    /// [`Router::on_connect`]'s.
    pub fn on_disconnect(
        mut self,
        f: impl Fn(&Context<'_, S, U>, &DisconnectReason) + Send + Sync + 'static,
    ) -> Self {
        self.on_disconnect.push(Box::new(f));
        self
    }

    /// Whether a handler is registered for `type_id`.
    pub fn handles(&self, type_id: u16) -> bool {
        self.handler(type_id).is_some()
    }

    fn handler(&self, type_id: u16) -> Option<&Handler<S, U>> {
        self.handlers
            .binary_search_by_key(&type_id, |(id, _)| *id)
            .ok()
            .map(|i| &self.handlers[i].1)
    }

    /// Passes `frame` to its handler.
    pub fn dispatch(
        &self,
        ctx: &Context<'_, S, U>,
        frame: Frame<'_>,
    ) -> Result<(), TransportError> {
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

    pub(crate) fn connected(&self, ctx: &Context<'_, S, U>) {
        self.on_connect.iter().for_each(|h| h(ctx));
    }

    pub(crate) fn disconnected(&self, ctx: &Context<'_, S, U>, reason: &DisconnectReason) {
        self.on_disconnect.iter().for_each(|h| h(ctx, reason));
    }
}
