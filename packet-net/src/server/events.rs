//! The tick-driven style: instead of acting in handlers, the game loop
//! drains what happened since the last tick ([`ServerEvent`]: a session
//! connected, sent a packet (decoded, owned), disconnected) from a
//! bounded [`EventQueue`] the router fills
//! ([`Router::queue_events`]), as renet and most engines run.
//!
//! The queue is bounded, and what happens when it is full is decided
//! here, so that a session keeping to its share is not ended for what
//! others sent:
//! - **A packet** goes in while the packets queued number fewer than
//!   `capacity`. When they fill it, the packets of sessions that ended
//!   leave first (their end is queued, or will be: a session refused
//!   as below counts as ended at once, while it lingers for its close
//!   notice); then the session holding the
//!   most, if that is more than its share (`capacity` divided among the
//!   sessions the game knows: connected, not yet ended), is taken out:
//!   its packets leave the queue and it ends, and the packet goes in. If
//!   nobody holds more than their share, the game loop is behind, and
//!   the session whose packet does not fit ends. So a session holding
//!   less than its share never ends for a full queue, provided
//!   `capacity` is at least the number of sessions (size it as sessions ×
//!   packets per session per tick, with room to spare).
//! - **A connect** goes in while the queue holds fewer than `capacity`
//!   connects (packets do not count); else the new session ends before
//!   the game ever sees it.
//! - **A disconnect** of a session the game saw always goes in.
//!
//! An ended session's client is told "server error" (wire format §12:
//! the game loop is behind, or the session flooded it). The queue holds
//! at most `capacity` packets and `capacity` connects, plus a disconnect
//! per session the game saw. Nothing is dropped silently: the game sees
//! every packet of every session it knows, or that session's end.
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
    /// The packets each session has waiting in `events`, and in all.
    held: HashMap<SessionId, usize>,
    packets: usize,
    /// The connects waiting in `events`.
    connects: usize,
    /// Sessions the game saw connect and not yet end.
    open: HashSet<SessionId>,
    /// Open sessions taken out of the queue, until their end is queued:
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
                packets: 0,
                connects: 0,
                open: HashSet::new(),
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
        q.packets = 0;
        q.connects = 0;
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

    /// Queues a connect or a packet by the rules of the module docs:
    /// `Ok(Some(id))` when open session `id` was taken out to make room
    /// (the caller ends it); an error when the caller's session ends.
    fn push(&self, event: ServerEvent<M>) -> Result<Option<SessionId>, TransportError> {
        let mut q = self.lock();
        let id = match &event {
            ServerEvent::Connected(id) => {
                if q.connects >= self.capacity {
                    q.refused += 1;
                    q.unseen.insert(*id);
                    return Err(full(self.capacity));
                }
                q.connects += 1;
                q.open.insert(*id);
                q.events.push_back(event);
                return Ok(None);
            }
            ServerEvent::Packet(id, _) => *id,
            // Always in, unless the game never saw the session start.
            ServerEvent::Disconnected(id, _) => {
                let id = *id;
                q.evicted.remove(&id);
                q.open.remove(&id);
                if !q.unseen.remove(&id) {
                    q.events.push_back(event);
                }
                return Ok(None);
            }
        };
        if q.evicted.contains(&id) {
            q.refused += 1;
            return Err(full(self.capacity));
        }
        let mut evicted = None;
        if q.packets >= self.capacity {
            // Full. First the packets of sessions that ended (their end
            // is queued, the game sees it).
            let gone: Vec<SessionId> = (q.held.keys())
                .filter(|s| !q.open.contains(s))
                .copied()
                .collect();
            q.take_out(&gone);
        }
        if q.packets >= self.capacity {
            // Still full: the session holding the most, if that is more
            // than its share, is taken out; if nobody holds more than
            // their share, the game loop is behind.
            let share = (self.capacity / q.open.len().max(1)).max(1);
            let top = (q.held.iter().max_by_key(|(_, n)| **n)).map(|(s, n)| (*s, *n));
            let Some((top, _)) = top.filter(|(s, n)| *n > share && *s != id) else {
                // The sender ends: its packets are an ended session's from
                // now on, not only once its disconnect is queued (a session
                // may linger a while for its close notice to leave).
                q.open.remove(&id);
                q.refused += 1;
                return Err(full(self.capacity));
            };
            q.take_out(&[top]);
            q.refused += 1;
            q.evicted.insert(top);
            evicted = Some(top);
        }
        *q.held.entry(id).or_default() += 1;
        q.packets += 1;
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
        let _ = self.push(ServerEvent::Disconnected(id, why));
    }
}

impl<M> Inner<M> {
    /// Takes the packets of `sessions` out of the queue (one pass), and
    /// out of the counts.
    fn take_out(&mut self, sessions: &[SessionId]) {
        self.events
            .retain(|e| !matches!(e, ServerEvent::Packet(s, _) if sessions.contains(s)));
        for s in sessions {
            self.packets -= self.held.remove(s).unwrap_or(0);
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
    #[track_caller]
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
        router.on_ids(M::IDS, "Router::queue_events", move |ctx, frame| {
            queue.push_from(ctx, ServerEvent::Packet(ctx.id(), M::decode_frame(&frame)?))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn left() -> Left {
        Left {
            reason: None,
            code: 0,
            text: String::new(),
        }
    }

    fn packet(id: u64) -> ServerEvent<u8> {
        ServerEvent::Packet(SessionId(id), 0)
    }

    fn open(q: &EventQueue<u8>, ids: impl IntoIterator<Item = u64>) {
        for id in ids {
            q.push(ServerEvent::Connected(SessionId(id))).unwrap();
        }
    }

    /// Found by a review: sessions that connect and leave within a tick
    /// filled the queue with connects and disconnects, and the next
    /// player's packet ended its session.
    #[test]
    fn connect_churn_does_not_end_a_players_session() {
        let q = EventQueue::<u8>::new(4);
        open(&q, [1]);
        q.drain(&mut Vec::new());
        for id in 10..12 {
            open(&q, [id]);
            q.push_end(SessionId(id), left());
        }
        assert_eq!(q.len(), 4);
        assert_eq!(q.push(packet(1)).unwrap(), None);
    }

    /// Connects have their own room: one past it is refused and takes
    /// nobody out; packets do not hold connects out.
    #[test]
    fn a_connect_past_its_room_is_refused_not_evicting() {
        let q = EventQueue::<u8>::new(4);
        open(&q, [1]);
        q.push(packet(1)).unwrap();
        open(&q, [10, 11, 12]);
        assert!(q.push(ServerEvent::Connected(SessionId(20))).is_err());
        assert_eq!(q.lock().held.get(&SessionId(1)), Some(&1));
        for id in 10..13 {
            q.push_end(SessionId(id), left());
        }
        q.drain(&mut Vec::new()); // 1 alone: its share is the queue
        for _ in 0..4 {
            q.push(packet(1)).unwrap();
        }
        open(&q, [21]); // a full share of packets holds no one out
    }

    /// Found flaky under load: the sender refused for a full queue ends,
    /// but until its disconnect is queued (it may linger for its close
    /// notice) its packets counted as an open session's, so the next
    /// player's packet took it out as the top holder, a second refusal.
    /// A refused sender's packets are an ended session's at once.
    #[test]
    fn a_refused_senders_packets_leave_first_before_its_end_is_queued() {
        let q = EventQueue::<u8>::new(6);
        open(&q, [1, 2]);
        q.drain(&mut Vec::new());
        for _ in 0..6 {
            q.push(packet(2)).unwrap();
        }
        assert!(q.push(packet(2)).is_err(), "2 holds all: it ends");
        assert_eq!(q.refused(), 1);
        // 2 lingers, its end not queued yet: 1's packet takes its place.
        assert_eq!(q.push(packet(1)).unwrap(), None, "nobody taken out");
        assert_eq!(q.refused(), 1);
        q.push_end(SessionId(2), left());
        let mut got = Vec::new();
        q.drain(&mut got);
        assert_eq!(got.len(), 2, "{got:?}"); // 1's packet, 2's end
    }

    /// Found by the second review: the share was enforced with room left
    /// (4 sessions, capacity 4: a second packet ended its session).
    #[test]
    fn a_share_is_enforced_only_when_the_queue_is_full() {
        let q = EventQueue::<u8>::new(4);
        open(&q, [1, 2, 3, 4]);
        q.drain(&mut Vec::new());
        assert_eq!(q.push(packet(1)).unwrap(), None);
        assert_eq!(q.push(packet(1)).unwrap(), None);
    }

    /// Found by the second review: the packets of sessions that ended
    /// (their end queued) kept the queue full, and a player alone ended.
    #[test]
    fn ended_sessions_packets_leave_a_full_queue_first() {
        let q = EventQueue::<u8>::new(4);
        open(&q, [1, 2, 3, 4]);
        q.drain(&mut Vec::new());
        for id in 1..=4 {
            q.push(packet(id)).unwrap();
        }
        for id in 2..=4 {
            q.push_end(SessionId(id), left());
        }
        assert_eq!(q.push(packet(1)).unwrap(), None);
        assert_eq!(q.lock().packets, 2);
    }

    /// Many sessions (one peer's, say) each get their share, no more:
    /// together they never take a player's share, nor get it ended.
    #[test]
    fn many_sessions_cannot_crowd_a_player_out() {
        let q = EventQueue::<u8>::new(10);
        open(&q, [1, 10, 11, 12, 13]);
        q.drain(&mut Vec::new()); // shares: 10 / 5 = 2 each
        for id in [1, 10, 11, 12, 13] {
            for _ in 0..2 {
                assert_eq!(q.push(packet(id)).unwrap(), None);
            }
        }
        assert!(q.push(packet(13)).is_err(), "13 is over its share");
        assert_eq!(q.lock().held.get(&SessionId(1)), Some(&2));
    }

    /// Shares shrink as sessions join: the session that took more under
    /// a larger share is taken out when the queue is full, not the one
    /// whose packet came.
    #[test]
    fn a_full_queue_takes_out_the_top_holder() {
        let q = EventQueue::<u8>::new(4);
        open(&q, [1]);
        q.drain(&mut Vec::new());
        for _ in 0..4 {
            q.push(packet(1)).unwrap(); // share 4: alone
        }
        open(&q, [2]);
        assert_eq!(q.push(packet(2)).unwrap(), Some(SessionId(1)));
        let mut out = Vec::new();
        q.drain(&mut out);
        assert!(matches!(
            &out[..],
            [
                ServerEvent::Connected(SessionId(2)),
                ServerEvent::Packet(SessionId(2), _)
            ]
        ));
        // Taken out: refused until its end comes.
        assert!(q.push(packet(1)).is_err());
        q.push_end(SessionId(1), left());
        assert!(q.lock().evicted.is_empty());
    }

    /// Found by a review: a session taken out after its end was queued
    /// stayed in `evicted` for good.
    #[test]
    fn an_ended_session_taken_out_leaves_nothing_behind() {
        let q = EventQueue::<u8>::new(3);
        open(&q, [1]);
        q.drain(&mut Vec::new());
        for _ in 0..3 {
            q.push(packet(1)).unwrap();
        }
        q.push_end(SessionId(1), left());
        open(&q, [2]);
        assert_eq!(q.push(packet(2)).unwrap(), None, "1 ended: nobody to end");
        assert!(q.lock().evicted.is_empty());
    }
}
