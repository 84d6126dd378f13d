//! The tick-driven style: instead of acting in handlers, the game loop
//! drains what happened since the last tick ([`ServerEvent`]: a session
//! connected, sent a packet (decoded, owned), disconnected) from a
//! bounded [`EventQueue`] the router fills
//! ([`Router::queue_events`]), as renet and most engines run.
//!
//! The queue is bounded, and what happens when it is full is decided
//! here, against the session that filled it: the one holding the most
//! packets in the queue. If that is another session than the one whose
//! connect or packet does not fit, that session's packets are taken out
//! of the queue and it ends (a handler error, after the replies it
//! already queued are out), and the connect or packet goes in: a few
//! flooding peers cannot get an innocent player ended. Otherwise (the
//! session that does not fit holds the most itself, or the queue holds
//! only connects) a packet ends its own session, and a connect ends the
//! new session before the game ever sees it. Either way the ended
//! client is told "server error" (wire format §12). A disconnect of a
//! session the game saw always goes in (at most one per session the
//! game saw, so the queue holds at most `capacity` plus the open
//! sessions). Nothing is dropped silently: the game sees every packet of
//! every session it knows, or that session's end.
//!
//! What does not live here: when hooks and handlers run (the servers),
//! the packets' decoding (`packet_core::dispatch`).

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::vec::Vec;

use packet_core::dispatch::PacketSet;

use super::{Router, SessionId};
use crate::DisconnectReason;
use crate::transport::{CloseReason, TransportError};

/// One thing that happened on a server, for the game loop: what
/// [`EventQueue::drain`] hands out (see [`EventQueue`]'s example).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent<M> {
    /// A session opened (sealed: its hello was accepted). Its state and
    /// identity are reachable through the server's `Sessions`.
    Connected(SessionId),
    /// A session sent a packet of the set `M`, decoded and owned.
    Packet(SessionId, M),
    /// A session the game saw connect has ended, and why.
    Disconnected(SessionId, Left),
}

/// Why a session ended, as [`ServerEvent::Disconnected`] carries it:
/// owned and comparable, classified for the game's decisions (a player
/// who timed out may keep a reconnect grace, a kicked one not), with the
/// whole [`DisconnectReason`](crate::DisconnectReason)'s text for the log
/// (its `Display`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Left {
    /// The close notice's reason for this end (wire format §12), whether
    /// or not the server sends notices: `IdleTimeout` (also a frame left
    /// unfinished), `Application` (closed by the game: a kick, see
    /// `code`), `ShuttingDown`, `ProtocolError` (a bad frame, a handler's
    /// error), `ServerError` (a handler's panic or I/O failure). `None`:
    /// the client went away (closed, reset) or was dropped without a
    /// notice (a slow consumer).
    pub reason: Option<CloseReason>,
    /// The code of a close by the game (`close_with`), else 0.
    pub code: u16,
    /// The [`DisconnectReason`](crate::DisconnectReason), as text.
    pub text: String,
}

impl fmt::Display for Left {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A bounded queue of [`ServerEvent`]s that a [`Router`] fills (see
/// [`Router::queue_events`]) and the game loop drains once per tick. The
/// module docs say what happens when it is full.
///
/// ```
/// use packet_net::server::{EventQueue, Router, ServerEvent};
/// use packet_net::{Packet, PacketSet};
///
/// #[derive(Packet, Debug)]
/// #[packet(id = 1)]
/// struct Move { dx: i8, dy: i8 }
///
/// #[derive(PacketSet, Debug)]
/// enum Input { Move(Move) }
///
/// let events = EventQueue::<Input>::new(4096);
/// let router = Router::<()>::new().queue_events(&events);
/// // ... bind a server with `router`, then once per tick:
/// let mut tick = Vec::new();
/// events.drain(&mut tick);
/// for event in tick.drain(..) {
///     match event {
///         ServerEvent::Connected(id) => println!("{id} joined"),
///         ServerEvent::Packet(id, Input::Move(m)) => println!("{id} moves {},{}", m.dx, m.dy),
///         ServerEvent::Disconnected(id, why) => println!("{id} left: {why}"),
///     }
/// }
/// # let _ = router;
/// ```
#[derive(Debug)]
pub struct EventQueue<M> {
    inner: Mutex<Inner<M>>,
    capacity: usize,
}

#[derive(Debug)]
struct Inner<M> {
    events: VecDeque<ServerEvent<M>>,
    /// Sessions whose connect did not fit: the game never hears of them.
    unseen: HashSet<SessionId>,
    /// The packets each session has waiting in `events`.
    held: HashMap<SessionId, usize>,
    /// Sessions ended for filling the queue, until their end is queued:
    /// their further packets are refused.
    evicted: HashSet<SessionId>,
    refused: u64,
}

impl<M> EventQueue<M> {
    /// A queue holding up to `capacity` connects and packets between two
    /// drains (a tick's worth: sessions × packets per session per tick,
    /// with room to spare).
    pub fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            inner: Mutex::new(Inner {
                events: VecDeque::with_capacity(capacity.min(1 << 16)),
                unseen: HashSet::new(),
                held: HashMap::new(),
                evicted: HashSet::new(),
                refused: 0,
            }),
            capacity,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner<M>> {
        super::lock(&self.inner)
    }

    /// Moves every queued event, oldest first, to the end of `out` (keep
    /// `out` from tick to tick: no allocation once it has grown).
    pub fn drain(&self, out: &mut Vec<ServerEvent<M>>) {
        let mut q = self.lock();
        q.held.clear();
        out.extend(q.events.drain(..));
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.lock().events.len()
    }

    /// Whether no event is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Connects and packets refused so far because the queue was full,
    /// and sessions ended for filling it (each ended a session).
    pub fn refused(&self) -> u64 {
        self.lock().refused
    }

    /// Queues a connect or a packet if there is room; if not, see the
    /// module docs: `Ok(Some(id))` when session `id`, which filled the
    /// queue, was taken out to make room (the caller ends it).
    fn push(&self, event: ServerEvent<M>) -> Result<Option<SessionId>, TransportError> {
        let mut q = self.lock();
        let own = match &event {
            ServerEvent::Packet(id, _) if q.evicted.contains(id) => {
                q.refused += 1;
                return Err(full(self.capacity));
            }
            ServerEvent::Packet(id, _) => q.held.get(id).copied().unwrap_or(0),
            _ => 0,
        };
        let mut evicted = None;
        if q.events.len() >= self.capacity {
            let top = q
                .held
                .iter()
                .max_by_key(|(_, n)| **n)
                .map(|(id, n)| (*id, *n));
            match top {
                Some((top, n)) if n > own => {
                    q.events
                        .retain(|e| !matches!(e, ServerEvent::Packet(s, _) if *s == top));
                    q.held.remove(&top);
                    q.evicted.insert(top);
                    q.refused += 1;
                    evicted = Some(top);
                }
                _ => {
                    q.refused += 1;
                    if let ServerEvent::Connected(id) = event {
                        q.unseen.insert(id);
                    }
                    return Err(full(self.capacity));
                }
            }
        }
        if let ServerEvent::Packet(id, _) = &event {
            *q.held.entry(*id).or_default() += 1;
        }
        q.events.push_back(event);
        Ok(evicted)
    }

    /// [`EventQueue::push`] from a handler or hook of the session in
    /// `ctx`; ends the session it took out, if any.
    fn push_from<S, U>(
        &self,
        ctx: &super::Context<'_, S, U>,
        event: ServerEvent<M>,
    ) -> Result<(), TransportError> {
        if let Some(id) = self.push(event)?
            && let Some(session) = ctx.sessions().get(id)
        {
            let why = io::Error::other(format!(
                "event queue full ({} events): this session held the most of them",
                self.capacity
            ));
            session.fail(DisconnectReason::Handler(TransportError::Io(why)));
        }
        Ok(())
    }

    /// Queues a session's end, unless the game never saw it start.
    fn push_end(&self, id: SessionId, why: Left) {
        let mut q = self.lock();
        q.evicted.remove(&id);
        if !q.unseen.remove(&id) {
            q.events.push_back(ServerEvent::Disconnected(id, why));
        }
    }
}

/// The error of a connect or packet that did not fit.
fn full(capacity: usize) -> TransportError {
    TransportError::Io(io::Error::other(format!(
        "event queue full ({capacity} events): the game loop is behind"
    )))
}

impl<S, U> Router<S, U> {
    /// Queues every session's connect, every packet of the set `M`
    /// (decoded, owned: `M` borrows nothing) and every disconnect in
    /// `queue`, for a game loop that drains it once per tick
    /// ([`EventQueue`] has an example; the module docs say what happens
    /// when it is full). Other hooks and handlers still run; a packet
    /// of `M` that does not decode ends its session as any handler error.
    /// Give each server its own queue: session ids are numbered per
    /// server.
    pub fn queue_events<M>(self, queue: &Arc<EventQueue<M>>) -> Self
    where
        M: for<'de> PacketSet<'de> + Send + 'static,
    {
        let (on, off, queue) = (queue.clone(), queue.clone(), queue.clone());
        let router = self
            // Not closed by the application: the server failed (its game
            // loop is behind), and its client is told so (a server error).
            .on_connect_or_fail(move |ctx| on.push_from(ctx, ServerEvent::Connected(ctx.id())))
            .on_disconnect(move |ctx, why| {
                let reason = why.close_reason();
                let kicked = reason == Some(CloseReason::Application);
                let left = Left {
                    reason,
                    code: if kicked {
                        ctx.session().close_code()
                    } else {
                        0
                    },
                    text: why.to_string(),
                };
                off.push_end(ctx.id(), left)
            });
        router.on_each(M::IDS, move |ctx, frame| {
            queue.push_from(ctx, ServerEvent::Packet(ctx.id(), M::decode_frame(&frame)?))
        })
    }
}
