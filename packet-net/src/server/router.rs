//! [`Router`]: the handler registry (a handler per packet type id, a
//! fallback, connect and disconnect hooks) and the [`UnknownPackets`]
//! policy for type ids nobody handles.
//!
//! What does not live here: the session a handler acts on
//! ([`super::Context`]), when handlers run ([`super::ServerCore`]
//! and the UDP endpoint).

use std::boxed::Box;
use std::fmt;
use std::panic::Location;
use std::sync::atomic::Ordering;
use std::vec::Vec;

use std::sync::Arc;

use packet_core::dispatch::PacketSet;
use packet_core::error::DecodeError;
use packet_core::family::{PacketFamily, PacketSetFamily};
use packet_core::frame::{Frame, Packet};

use super::{Context, DisconnectReason};
use crate::guard::guard;
use crate::transport::TransportError;

/// A frame handler.
pub type Handler<S, U = ()> =
    Box<dyn Fn(&Context<'_, S, U>, Frame<'_>) -> Result<(), TransportError> + Send + Sync>;
/// A connect hook.
pub type Hook<S, U = ()> = Box<dyn Fn(&Context<'_, S, U>) + Send + Sync>;
/// A disconnect hook.
pub type LeaveHook<S, U = ()> = Box<dyn Fn(&Context<'_, S, U>, &DisconnectReason) + Send + Sync>;
/// A connect hook as the router keeps it: the crate's own may fail (a
/// full event queue), ending the session as a failed handler does.
type Connect<S, U> = Box<dyn Fn(&Context<'_, S, U>) -> Result<(), TransportError> + Send + Sync>;
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
    /// Not type id 0xFFFF (session control frames): a client's frame of
    /// that type always ends its session (wire format §11.5).
    Ignore,
}

/// The handler registry: one handler per packet type id, hooks for a
/// session's start and end, and how each session's own state `U` is
/// made (`S` is the server's shared state).
///
/// Application code that panics ends one session, never the server:
/// the servers catch a panic in a handler or an `on_connect` hook and
/// end that session with [`DisconnectReason::HandlerPanicked`] once the
/// replies it queued before are out (as a handler's `Err` ends it with
/// [`DisconnectReason::Handler`]); `on_disconnect` then runs. A panic in
/// an `on_disconnect` hook is swallowed (the next hook runs), and one in
/// the session-state constructor drops that connection; each is counted
/// in [`StatsSnapshot::handler_panics`](super::StatsSnapshot::handler_panics).
/// The default panic hook still prints the message.
///
/// # Handlers must not block
///
/// Handlers and hooks run on the server's own threads (a blocking
/// server's workers) or tasks (a tokio server's session tasks, on the
/// runtime's worker threads), inside the pass that reads the session:
/// while one sleeps, waits on a lock held long, or does blocking I/O, it
/// holds that thread, and the other sessions it serves wait too (on a
/// tokio runtime, blocked handlers on each of its threads stall every
/// session), and so does the shutdown, which no grace can cut short (see
/// [`ServerConfig::shutdown_grace`](super::ServerConfig::shutdown_grace)):
/// a handler sleeping 3 s holds `shutdown()` about 3 s, whatever the
/// grace. Queue the replies and return; move slow work off the server:
/// [`Router::on_async`] on a tokio server (the pattern of
/// `examples/examples/async_server.rs`), or, from any handler, a task or
/// thread of your own holding a `'static` handle to the session
/// (`let session = ctx.session().clone();`, then
/// [`Session::send`](super::Session::send) when the work is done).
///
/// ```
/// use packet_net::server::Router;
///
/// let router = Router::<()>::new()
///     .on_frame(1, |ctx, frame| ctx.reply_raw(1, frame.body())); // echo type 1
/// assert!(router.handles(1) && !router.handles(2));
/// ```
pub struct Router<S, U = ()> {
    /// Sorted by type id: a binary search beats hashing a `u16`. Each
    /// with the registration that made it (the method, with the packet
    /// type it decodes, and where the application called it), for the
    /// panic of a second one.
    handlers: Vec<(u16, Handler<S, U>, String)>,
    fallback: Option<Handler<S, U>>,
    on_connect: Vec<Connect<S, U>>,
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
        let ids: Vec<_> = self.handlers.iter().map(|(id, ..)| id).collect();
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

    /// A new session's state; a panic in `init`'s message.
    pub(crate) fn new_state(&self) -> Result<U, String> {
        guard(|| (self.init)())
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
    /// with [`Frame::decode_packet`]). `f` runs on a server thread or
    /// task and must not block (see [Handlers must not
    /// block](Router#handlers-must-not-block)).
    ///
    /// # Panics
    ///
    /// If `type_id` already has a handler (from any of `on_frame`,
    /// [`Router::on`], [`Router::on_set`], [`Router::on_async`],
    /// [`Router::queue_events`]): one type id has one handler, and a
    /// second registration is a mistake that silently replacing the first
    /// would hide. The message names the id in hex and both
    /// registrations:
    ///
    ///
    /// If `type_id` is `0xFFFF`: that id is reserved for the session
    /// control frames (the session hellos, the refusal, the close notice;
    /// `docs/wire-format.md` §2.2), which the server handles itself; a
    /// client's frame of that type ends its session with a protocol error
    /// and never reaches a handler (the same check refuses it in
    /// [`Router::on`], [`Router::on_set`] and every other registration):
    ///
    /// ```should_panic
    /// use packet_net::server::Router;
    ///
    /// // panics: "Router: type id 0xffff is reserved for the session
    /// // control frames (wire format §2.2) ..."
    /// let router = Router::<()>::new().on_frame(0xFFFF, |_, _| Ok(()));
    /// ```
    ///
    /// ```should_panic
    /// use packet_net::server::Router;
    ///
    /// // panics: "Router: type id 0x0001 already has a handler, registered
    /// // by `Router::on_frame(0x0001)` at src/main.rs:6:6;
    /// // `Router::on_frame(0x0001)` at src/main.rs:7:6 cannot add another
    /// // (one handler per type id: ...)"
    /// let router = Router::<()>::new()
    ///     .on_frame(1, |ctx, frame| ctx.reply_raw(1, frame.body()))
    ///     .on_frame(1, |_, _| Ok(()));
    /// ```
    #[track_caller]
    pub fn on_frame(
        self,
        type_id: u16,
        f: impl Fn(&Context<'_, S, U>, Frame<'_>) -> Result<(), TransportError> + Send + Sync + 'static,
    ) -> Self {
        let method = format!("Router::on_frame({type_id:#06x})");
        self.register(type_id, Box::new(f), &method)
    }

    /// Adds `h` for `type_id`, registered by `method`, or panics naming
    /// both registrations if the id has a handler already (reported at
    /// the application's call).
    #[track_caller]
    fn register(mut self, type_id: u16, h: Handler<S, U>, method: &str) -> Self {
        let by = format!("`{method}` at {}", Location::caller());
        if crate::transport::application_type_id(type_id).is_err() {
            panic!(
                "Router: type id {type_id:#06x} is reserved for the session control frames (wire format §2.2: hellos, refusal, close notice); {by} cannot handle it (application packets use 0x0000-0xFFFE)"
            );
        }
        match self.handlers.binary_search_by_key(&type_id, |(id, ..)| *id) {
            Ok(i) => panic!(
                "Router: type id {type_id:#06x} already has a handler, registered by {}; {by} cannot add another (one handler per type id: remove one registration, or handle the packets in one handler, e.g. with `Router::on_set`)",
                self.handlers[i].2
            ),
            Err(i) => self.handlers.insert(i, (type_id, h, by)),
        }
        self
    }

    /// Handles packets `P`, decoded for `f`; borrowed packets
    /// (`Chat<'a>` with `&'a str` fields) borrow from the receive buffer.
    /// `P` is any [`PacketFamily`] (`#[derive(Packet)]` with an `id`
    /// implements it); name it without its lifetime.
    ///
    /// ```
    /// use packet_net::server::Router;
    /// use packet_net::Packet;
    ///
    /// #[derive(Packet)]
    /// #[packet(id = 7)]
    /// struct Chat<'a> { #[packet(len = u8)] text: &'a str }
    ///
    /// let router = Router::<()>::new().on::<Chat>(|ctx, chat| {
    ///     println!("{} says {}", ctx.id(), chat.text);     // chat: Chat<'_>
    ///     ctx.broadcast_others(&chat);
    ///     Ok(())
    /// });
    /// # let _ = router;
    /// ```
    ///
    /// A handler is synchronous and returns `Result<(), TransportError>`;
    /// `|ctx, chat| async move { .. }` is refused ("expected `Result`,
    /// found `async` block"): start the async work from the handler
    /// instead, with a `'static` handle to reply through
    /// (`let session = ctx.session().clone(); tokio::spawn(async move {
    /// .. session.send(&reply) })`, see `Session::send`). A type that is
    /// not a packet family says what to write:
    ///
    /// ```compile_fail,E0277
    /// use packet_net::server::Router;
    /// struct NotDerived;
    /// let router = Router::<()>::new().on::<NotDerived>(|_, _| Ok(()));
    /// // error[E0277]: `NotDerived` is not a packet type a router can decode
    /// //   = note: derive it: `#[derive(Packet)]` with `#[packet(id = ..)]` ...
    /// ```
    ///
    /// # Panics
    ///
    /// If `P`'s type id already has a handler, as [`Router::on_frame`]
    /// does: the message names the id in hex, `P` and the earlier
    /// registration. Also if that id is the reserved `0xFFFF` (a
    /// hand-written `Packet`; the derive refuses it).
    #[track_caller]
    pub fn on<P: PacketFamily>(
        self,
        f: impl for<'de> Fn(&Context<'_, S, U>, P::At<'de>) -> Result<(), TransportError>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        let method = format!("Router::on::<{}>", std::any::type_name::<P>());
        let h: Handler<S, U> =
            Box::new(move |ctx, frame| f(ctx, frame.decode_packet::<P::At<'_>>()?));
        self.register(<P::At<'static> as Packet>::ID, h, &method)
    }

    /// Handles every packet of the set `M` (a `#[derive(PacketSet)]`
    /// enum; name it without its lifetime) with one handler that gets
    /// the decoded enum, to `match` on.
    ///
    /// ```
    /// use packet_net::server::Router;
    /// use packet_net::{Packet, PacketSet};
    ///
    /// #[derive(Packet)]
    /// #[packet(id = 1)]
    /// struct Move { dx: i8, dy: i8 }
    /// #[derive(Packet)]
    /// #[packet(id = 2)]
    /// struct Say<'a> { #[packet(len = u8)] text: &'a str }
    ///
    /// #[derive(PacketSet)]
    /// enum Msg<'a> { Move(Move), Say(Say<'a>) }
    ///
    /// let router = Router::<()>::new().on_set::<Msg>(|ctx, msg| {
    ///     match msg {
    ///         Msg::Move(m) => println!("{} moves {},{}", ctx.id(), m.dx, m.dy),
    ///         Msg::Say(s) => println!("{} says {}", ctx.id(), s.text),
    ///     }
    ///     Ok(())
    /// });
    /// assert!(router.handles(1) && router.handles(2));
    /// ```
    ///
    /// ```compile_fail,E0277
    /// use packet_net::server::Router;
    /// enum NotDerived { A }
    /// let router = Router::<()>::new().on_set::<NotDerived>(|_, _| Ok(()));
    /// // error[E0277]: `NotDerived` is not a packet set a router can decode
    /// ```
    ///
    /// # Panics
    ///
    /// If one of `M`'s type ids already has a handler, as
    /// [`Router::on_frame`] does: the message names the id in hex, `M` and
    /// the earlier registration. Also if one is the reserved `0xFFFF`.
    #[track_caller]
    pub fn on_set<M: PacketSetFamily>(
        self,
        f: impl for<'de> Fn(&Context<'_, S, U>, M::At<'de>) -> Result<(), TransportError>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        let ids = <M::At<'static> as PacketSet<'static>>::IDS;
        let method = format!("Router::on_set::<{}>", std::any::type_name::<M>());
        self.on_ids(ids, &method, move |ctx, frame| {
            f(ctx, M::At::decode_frame(&frame)?)
        })
    }

    /// Handles each type id in `ids` with `f`, registered as `method`
    /// (`on_set`, and [`Router::queue_events`]'s packet handlers).
    ///
    /// # Panics
    ///
    /// If one of `ids` already has a handler, or is the reserved
    /// `0xFFFF` (session control frames, wire format §2.2), as
    /// [`Router::on_frame`] does.
    #[track_caller]
    pub(super) fn on_ids(
        mut self,
        ids: &[u16],
        method: &str,
        f: impl Fn(&Context<'_, S, U>, Frame<'_>) -> Result<(), TransportError> + Send + Sync + 'static,
    ) -> Self {
        let f = Arc::new(f);
        for &id in ids {
            let f = f.clone();
            self = self.register(id, Box::new(move |ctx, frame| f(ctx, frame)), method);
        }
        self
    }

    /// Handles frames no other handler takes (default: the
    /// [`UnknownPackets`] policy, set by [`Router::on_unknown`]).
    ///
    /// # Panics
    ///
    /// If a fallback is already set: one router has one fallback (handle
    /// every case in one closure).
    #[track_caller]
    pub fn fallback(
        mut self,
        f: impl Fn(&Context<'_, S, U>, Frame<'_>) -> Result<(), TransportError> + Send + Sync + 'static,
    ) -> Self {
        assert!(
            self.fallback.is_none(),
            "Router: a fallback is already set; one router has one fallback (handle every case in one closure)"
        );
        self.fallback = Some(Box::new(f));
        self
    }

    /// Called when a session opens (sealed: once its hello is accepted,
    /// see [`ServerConfig::sealed`](super::ServerConfig::sealed)). Hooks
    /// add up: each runs, in the order they were added.
    pub fn on_connect(self, f: impl Fn(&Context<'_, S, U>) + Send + Sync + 'static) -> Self {
        self.on_connect_or_fail(move |ctx| {
            f(ctx);
            Ok(())
        })
    }

    /// A connect hook that may fail: its error ends the session as a
    /// handler's does (after the other hooks ran).
    pub(super) fn on_connect_or_fail(
        mut self,
        f: impl Fn(&Context<'_, S, U>) -> Result<(), TransportError> + Send + Sync + 'static,
    ) -> Self {
        self.on_connect.push(Box::new(f));
        self
    }

    /// Called when a session ends, while it is still registered (only for
    /// sessions whose `on_connect` ran). Hooks add up, like
    /// [`Router::on_connect`]'s.
    ///
    /// A session that never opened (on a sealed server or one that
    /// requires a fingerprint: a plaintext client, a missing or malformed
    /// hello, a token the key provider does not know, another protocol)
    /// ends without this hook: it leaves only a count in
    /// [`StatsSnapshot::bad_hellos`](super::StatsSnapshot::bad_hellos),
    /// `protocol_mismatches` or, when no hello came in time, `timeouts`.
    /// Its client is told why as any other (TCP): a close notice saying
    /// "protocol error" (`TransportError::ClosedByServer`), or for
    /// another protocol the refusal (`TransportError::ProtocolMismatch`);
    /// only at the handshake timeout does the connection just close.
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
            .binary_search_by_key(&type_id, |(id, ..)| *id)
            .ok()
            .map(|i| &self.handlers[i].1)
    }

    /// Passes `frame` to its handler. A frame of the reserved type id
    /// `0xFFFF` (a session control frame where an application frame
    /// belongs: wire format §11.5) reaches none, not even the fallback:
    /// [`TransportError::ReservedTypeId`], whatever the
    /// [`UnknownPackets`] policy (the servers end the session with a
    /// protocol error).
    pub fn dispatch(
        &self,
        ctx: &Context<'_, S, U>,
        frame: Frame<'_>,
    ) -> Result<(), TransportError> {
        crate::transport::application_type_id(frame.type_id())?;
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

    /// Passes `frame` to its handler as the servers do: a handler's
    /// error, or its panic (caught here), is why its session ends.
    pub(crate) fn run(
        &self,
        ctx: &Context<'_, S, U>,
        frame: Frame<'_>,
    ) -> Result<(), DisconnectReason> {
        match guard(|| self.dispatch(ctx, frame)) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(DisconnectReason::Handler(e)),
            Err(panic) => Err(DisconnectReason::HandlerPanicked(panic)),
        }
    }

    /// Runs the connect hooks; a panic (caught here; the hooks after it
    /// do not run) or the first error (the hooks after it still run) is
    /// why the session ends.
    pub(crate) fn connected(&self, ctx: &Context<'_, S, U>) -> Result<(), DisconnectReason> {
        let hooks = || {
            let mut first = Ok(());
            for h in &self.on_connect {
                first = first.and(h(ctx)); // every hook runs
            }
            first
        };
        match guard(hooks) {
            Ok(r) => r.map_err(DisconnectReason::Handler),
            Err(panic) => Err(DisconnectReason::HandlerPanicked(panic)),
        }
    }

    /// Runs the disconnect hooks, each one guarded: a panic is counted
    /// ([`StatsSnapshot::handler_panics`](super::StatsSnapshot::handler_panics))
    /// and the next hook runs.
    pub(crate) fn disconnected(&self, ctx: &Context<'_, S, U>, reason: &DisconnectReason) {
        for h in &self.on_disconnect {
            if guard(|| h(ctx, reason)).is_err() {
                ctx.sessions.stats.count_panic();
            }
        }
    }
}

#[cfg(feature = "tokio")]
impl<S, U: Send + 'static> Router<S, U> {
    /// Handles packets `P` with async work (tokio servers): `f` gets a
    /// `'static` handle to the session and the decoded packet (owned, as
    /// it outlives the frame) and returns a future, spawned as its own
    /// task; the session reads on meanwhile, so one session's tasks may
    /// run at once. The task replies through the handle
    /// ([`Session::send`](super::Session::send)); if it fails or panics,
    /// the session is closed (after its queued frames; the reason is
    /// [`DisconnectReason::Closed`], the task holding only a handle) and
    /// the task's handle is dropped, so nothing stays registered. A
    /// shutdown waits for the session's tasks (each holds a
    /// [`Session::work`](super::Session::work) guard), within
    /// [`ServerConfig::shutdown_grace`](super::ServerConfig::shutdown_grace),
    /// so their replies leave before the close notice. A
    /// panic in `f` itself, which runs inside the frame handler, ends the
    /// session with [`DisconnectReason::HandlerPanicked`]. Outside a tokio
    /// runtime (the blocking servers) the packet's session ends with an
    /// error saying so; there, spawn onto a runtime you keep yourself.
    ///
    /// ```
    /// use packet_net::server::Router;
    /// use packet_net::Packet;
    ///
    /// #[derive(Packet)]
    /// #[packet(id = 1)]
    /// struct Lookup { player: u32 }
    ///
    /// let router = Router::<()>::new().on_async(|session, lookup: Lookup| async move {
    ///     // ... let rating = db.rating(lookup.player).await; ...
    ///     session.send(&Lookup { player: lookup.player })
    /// });
    /// # let _ = router;
    /// ```
    ///
    /// # Panics
    ///
    /// If `P`'s type id already has a handler, or is the reserved
    /// `0xFFFF`, as [`Router::on_frame`] does.
    #[track_caller]
    pub fn on_async<P, W>(
        self,
        f: impl Fn(Arc<super::Session<U>>, P) -> W + Send + Sync + 'static,
    ) -> Self
    where
        P: Packet + for<'de> packet_core::codec::Decode<'de>,
        W: Future<Output = Result<(), TransportError>> + Send + 'static,
    {
        let method = format!("Router::on_async::<{}>", std::any::type_name::<P>());
        self.register(
            P::ID,
            Box::new(move |ctx, frame| {
                let runtime = ::tokio::runtime::Handle::try_current()
                    .map_err(|e| std::io::Error::other(format!("on_async: {e}")))?;
                let session = ctx.session().clone();
                let work = f(session.clone(), frame.decode_packet::<P>()?);
                // A shutdown waits for the task's reply (within its grace).
                let held = session.work();
                runtime.spawn(async move {
                    // Each poll guarded: a task that panics closes its session
                    // as one that fails does (tokio would catch the panic but
                    // leave the session open, as if the reply were coming).
                    let mut work = std::pin::pin!(work);
                    let ok = std::future::poll_fn(|cx| match guard(|| work.as_mut().poll(cx)) {
                        Ok(std::task::Poll::Ready(done)) => std::task::Poll::Ready(done.is_ok()),
                        Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
                        Err(_) => std::task::Poll::Ready(false),
                    })
                    .await;
                    if !ok {
                        session.close();
                    }
                    drop(held);
                });
                Ok(())
            }),
            &method,
        )
    }
}
