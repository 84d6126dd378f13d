//! The sans-I/O session core: every decision about a session's life,
//! written once, with no sockets and no clock of its own.
//!
//! - [`Lifecycle`]: the timers (handshake deadline, partial-frame timeout,
//!   idle timeout, write-progress timeout, shutdown grace, idle buffer
//!   release) and the end-of-session decision ([`Lifecycle::poll_end`]):
//!   bad frame, failed handler, peer closed, slow consumer, timeouts,
//!   local close, shutdown. The TCP sessions ([`Connection`]) and the UDP
//!   peers (`server::udp`) each hold one.
//! - [`Connection`]: one stream session: a [`Lifecycle`] plus the
//!   connection's inbox (stream decoder and receive side, which takes the
//!   session hello and authenticates sealed frames).
//!
//! The contract, quinn-proto style. Inputs: bytes read
//! ([`Connection::on_read`], an empty read is end of stream), a read or
//! write error, bytes written ([`Lifecycle::on_written`]), the current
//! time (every call takes `now`), a local close, the shutdown. Outputs,
//! polled: events for the application ([`Connection::poll_event`]: the
//! session is connected, with the send side a hello keyed; a frame),
//! whether to read now ([`Connection::wants_read`]: back-pressure), the
//! next deadline ([`Lifecycle::poll_timeout`]), and the end of the
//! session with its reason ([`Lifecycle::poll_end`]). What to transmit is
//! the session's [`Outbox`](crate::transport::Outbox), which the core
//! never writes itself.
//!
//! Close notices (wire format §12, when the server sends them): an end
//! decided for a reason that has one ([`DisconnectReason::close_reason`])
//! first hands the driver the notice to queue behind the replies
//! ([`Lifecycle::take_notice`]); the session ends once it has left (a
//! stream lingering after it, as after a refusal), within the grace. The
//! shutdown too: a stream first makes one last read of what its socket
//! already holds and dispatches those frames ([`Lifecycle::shutdown`]),
//! then stops reading new frames, flushes its replies,
//! sends the notice last, shuts its write side, and then reads and drops
//! until the client closes or the shutdown grace passes (closing with the
//! client's bytes unread would reset the connection, and the kernel drop
//! the replies and the notice it had not yet delivered). With notices
//! off, a stream ends the same way, lingering after its last reply.
//!
//! Lossless close: a bad frame or a failing handler stops reading and
//! dispatching, but the session ends only once the replies already queued
//! have left (or the shutdown grace has passed). A refused session (a
//! hello of another protocol) also lingers: it reads and drops what the
//! client still sends until the client closes (within the same grace), as
//! closing with bytes unread would reset the connection and the client
//! could lose the refusal.
//!
//! What does not live here: sockets and waiting (the drivers in
//! `server::blocking` and `server::tokio`), dispatch (`server`).

use std::io;
use std::time::{Duration, Instant};

use packet_core::frame::{Frame, FrameConfig};

use crate::transport::queue::{Inbox, READ_CHUNK, Spare};
use crate::transport::security::{CloseReason, Handshake, Incoming, Opener, REFUSAL_LEN, refusal};
use crate::transport::{Outbox, TransportError};

/// Why a session ended.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The peer closed the connection between frames.
    #[error("peer closed")]
    PeerClosed,
    /// The peer closed the connection inside a frame.
    #[error("peer closed inside a frame")]
    PeerClosedMidFrame,
    /// The peer sent a frame that failed validation (or, sealed, failed
    /// authentication or the replay check, or a bad session hello).
    #[error("bad frame: {0}")]
    BadFrame(TransportError),
    /// A handler failed (bad body, unknown type id, ...).
    #[error("handler failed: {0}")]
    Handler(TransportError),
    /// A handler or the `on_connect` hook panicked, with the panic's
    /// message (or a fixed text for a payload that is not a string). The
    /// panic was caught: only this session ended, after its queued
    /// replies, and the server serves the rest (the default panic hook
    /// printed the message and where it happened to stderr).
    #[error("handler panicked: {0}")]
    HandlerPanicked(String),
    /// A sealed session's hello did not arrive within the handshake
    /// deadline.
    #[error("no session hello before the deadline")]
    HandshakeTimeout,
    /// The peer left a frame unfinished for longer than the frame timeout.
    #[error("frame left unfinished")]
    FrameTimeout,
    /// The peer sent nothing for longer than the idle timeout.
    #[error("idle")]
    IdleTimeout,
    /// The peer did not read its frames fast enough: its queue overflowed,
    /// or nothing of it could be written for the write timeout.
    #[error("slow consumer")]
    SlowConsumer,
    /// The server closed the session (the application's `close` or
    /// `close_with`: a kick; its code is the session's
    /// [`close_code`](crate::server::Session::close_code)).
    #[error("closed")]
    Closed,
    /// The server is shutting down.
    #[error("shutdown")]
    Shutdown,
    /// The socket failed.
    #[error("I/O error: {0}")]
    Io(io::Error),
}

impl DisconnectReason {
    /// The close notice's reason for an end decided for this reason
    /// (wire format §12): protocol error for a bad frame or a handler's
    /// `Err`, server error for a handler's panic or I/O error (a full
    /// event queue); or `None` where the server sends none: the peer
    /// left or the socket failed (no one to tell), a refused hello (the
    /// refusal says it), a slow consumer (its queue is full: the notice
    /// would wait behind what the client does not read) and a handshake
    /// timeout (nothing proves a client is there).
    pub fn close_reason(&self) -> Option<CloseReason> {
        Some(match self {
            DisconnectReason::BadFrame(TransportError::ProtocolMismatch(_)) => return None,
            // A handler that failed on I/O (a full event queue, a store
            // it could not reach) failed on the server's side.
            DisconnectReason::Handler(TransportError::Io(_)) => CloseReason::ServerError,
            DisconnectReason::BadFrame(_) | DisconnectReason::Handler(_) => {
                CloseReason::ProtocolError
            }
            DisconnectReason::HandlerPanicked(_) => CloseReason::ServerError,
            DisconnectReason::IdleTimeout | DisconnectReason::FrameTimeout => {
                CloseReason::IdleTimeout
            }
            DisconnectReason::Closed => CloseReason::Application,
            DisconnectReason::Shutdown => CloseReason::ShuttingDown,
            _ => return None,
        })
    }
}

/// The timeouts of a session (see `ServerConfig` for the defaults and
/// their reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a sealed session may take to send its hello (`None`:
    /// forever).
    pub handshake_timeout: Option<Duration>,
    /// How long a peer may take to finish a frame it has started.
    pub frame_timeout: Duration,
    /// How long a session may send nothing (`None`: forever).
    pub idle_timeout: Option<Duration>,
    /// How long queued frames may wait with no byte written (`None`:
    /// forever).
    pub write_timeout: Option<Duration>,
    /// How long a closing session may take to send what it queued.
    pub shutdown_grace: Duration,
    /// After this long without traffic, burst-grown buffers are freed.
    pub release_after: Duration,
}

/// The timers and the end-of-session decision of one session.
#[derive(Debug)]
pub struct Lifecycle {
    limits: Limits,
    /// Set until the session is connected (sealed: until its hello).
    handshake_since: Option<Instant>,
    last_rx: Instant,
    /// The last byte either way (what [`Lifecycle::should_release`]
    /// waits on: a peer that only receives, a spectator, is not idle).
    last_traffic: Instant,
    partial_since: Option<Instant>,
    stalled_since: Option<Instant>,
    read_closed: bool,
    /// A reason decided, waiting for the queue to drain (lossless close),
    /// with the deadline past which it ends anyway.
    ending: Option<(DisconnectReason, Instant)>,
    /// The socket failed: end now.
    broken: Option<DisconnectReason>,
    /// Shutdown: the grace deadline.
    stop_at: Option<Instant>,
    /// A stream makes one last read at the shutdown
    /// ([`Lifecycle::shutdown`]): set for streams ([`Connection`]).
    final_read: bool,
    /// Stopping, and that last read is not over yet: the frames already
    /// in the socket are still read and dispatched.
    draining: bool,
    /// An ending session reads and drops what the peer still sends until
    /// it closes (within the ending deadline) instead of ending once its
    /// queue is empty: closing a TCP socket with bytes unread resets the
    /// connection, and the peer may lose the last bytes sent to it (a
    /// refusal, wire format §11.5).
    linger: bool,
    /// The write side was shut after the last frame (a lingering session;
    /// [`Lifecycle::take_shut_write`]).
    write_shut: bool,
    /// Buffers are held (not yet released since the last traffic).
    holding: bool,
    /// Work in flight will still reply ([`Lifecycle::on_work`]).
    busy: bool,
    /// Close notices (wire format §12): one is sent when the session
    /// ends for a reason that has one.
    notices: bool,
    /// A stream: an end for such a reason lingers after the last frame
    /// (notice or not), as after a refusal.
    stream: bool,
    /// The notice decided and not yet taken by the driver
    /// ([`Lifecycle::take_notice`]).
    notice: Option<CloseReason>,
    /// A notice was decided (once per session).
    noticed: bool,
}

impl Lifecycle {
    /// A session that started at `now`; `handshake` when it must first
    /// send a session hello.
    pub fn new(limits: Limits, handshake: bool, now: Instant) -> Self {
        Self {
            limits,
            handshake_since: handshake.then_some(now),
            last_rx: now,
            last_traffic: now,
            partial_since: None,
            stalled_since: None,
            read_closed: false,
            ending: None,
            broken: None,
            stop_at: None,
            final_read: false,
            draining: false,
            linger: false,
            write_shut: false,
            holding: false,
            busy: false,
            notices: false,
            stream: false,
            notice: None,
            noticed: false,
        }
    }

    /// With `on`, sends a close notice (wire format §12) when the session
    /// ends for a reason that has one: the end waits for it to leave
    /// behind the replies already queued (bounded by the shutdown grace).
    /// With `linger` (a stream), such an end then lingers as after a
    /// refusal ([`Lifecycle::linger`]), notice or not, so the close does
    /// not reset the connection under the last replies and the notice.
    /// The driver queues each notice [`Lifecycle::take_notice`] hands out.
    pub fn with_notices(mut self, on: bool, linger: bool) -> Self {
        self.notices = on;
        self.stream = linger;
        self
    }

    /// Whether an end for a reason with a notice waits for something
    /// first (its notice to leave, or the peer to close).
    fn ends_gently(&self) -> bool {
        self.notices || self.stream
    }

    /// The close notice to queue now, once (after [`Lifecycle::fail`] or
    /// [`Lifecycle::poll_end`] decided an end that has one): queue it
    /// behind what is queued; the session ends once it has left.
    pub fn take_notice(&mut self) -> Option<CloseReason> {
        self.notice.take()
    }

    /// Whether a close notice waits to be taken.
    pub fn has_notice(&self) -> bool {
        self.notice.is_some()
    }

    /// Decides, once, how an end for `reason` goes if `reason` has a
    /// notice: the notice (if this session sends notices), then (a
    /// stream) lingering; whether the end waits for either.
    fn arm_notice(&mut self, reason: &DisconnectReason) -> bool {
        let armed = reason
            .close_reason()
            .filter(|_| !self.noticed && self.ends_gently());
        let Some(notice) = armed else {
            return false;
        };
        self.notice = self.notices.then_some(notice);
        self.noticed = true;
        self.linger |= self.stream;
        true
    }

    /// An end decided now for `reason`: with a notice to send first, the
    /// session is ending until it has left (at the latest at `deadline`)
    /// and `None` is returned; else the end, now.
    fn end_now(&mut self, reason: DisconnectReason, deadline: Instant) -> Option<DisconnectReason> {
        if self.ending.is_none() && self.arm_notice(&reason) {
            self.ending = Some((reason, deadline));
            return None;
        }
        Some(reason)
    }

    /// Bytes (or a datagram) arrived at `now`.
    pub fn on_rx(&mut self, now: Instant) {
        self.last_rx = now;
        self.last_traffic = now;
        self.holding = true;
    }

    /// The socket failed: the session ends at the next poll, for
    /// [`DisconnectReason::PeerClosed`] if the peer went away (as
    /// [`TransportError::is_disconnect`] says), else for the error.
    pub fn on_io_error(&mut self, e: io::Error) {
        let reason = match TransportError::Io(e.kind().into()).is_disconnect() {
            true => DisconnectReason::PeerClosed,
            false => DisconnectReason::Io(e),
        };
        self.broken.get_or_insert(reason);
    }

    /// `written` bytes left and `queued` remain, at `now`: tracks write
    /// progress for the write timeout.
    pub fn on_written(&mut self, written: usize, queued: usize, now: Instant) {
        if queued == 0 {
            self.stalled_since = None;
        } else if written > 0 || self.stalled_since.is_none() {
            self.stalled_since = Some(now);
        }
        if written > 0 {
            self.last_traffic = now;
            self.holding = true;
        }
    }

    /// The session must end for `reason` once its queued replies have
    /// left (lossless close), at the latest after the shutdown grace.
    pub fn fail(&mut self, reason: DisconnectReason, now: Instant) {
        if self.ending.is_none() {
            self.arm_notice(&reason);
            self.ending = Some((reason, now + self.limits.shutdown_grace));
        }
    }

    /// Whether the session is ending (no more dispatch, and no reading
    /// unless [`Lifecycle::is_lingering`]).
    pub fn is_ending(&self) -> bool {
        self.ending.is_some() || self.broken.is_some()
    }

    /// Once ending, the session waits for the peer to close (reading and
    /// dropping its bytes), bounded by the ending deadline (see
    /// [`Lifecycle::fail`]): for a close that must not reset the
    /// connection before the peer read what was queued for it.
    pub fn linger(&mut self) {
        self.linger = true;
    }

    /// Whether the session is ending and still reads (to drop the bytes)
    /// until the peer closes: see [`Lifecycle::linger`]. While the server
    /// stops too (a stream's shutdown notice, a refusal), bounded by the
    /// shutdown grace as well.
    pub fn is_lingering(&self) -> bool {
        self.linger && self.ending.is_some() && self.broken.is_none() && !self.read_closed
    }

    /// Whether to shut the write side now, with `queued` bytes still to
    /// write: once a lingering session has written everything (its
    /// refusal or close notice last, wire format §11.5, §12), a FIN tells
    /// the peer at once that nothing follows, while the session reads and
    /// drops until the peer closes. True once.
    pub fn take_shut_write(&mut self, queued: usize) -> bool {
        let now = queued == 0 && self.is_lingering() && self.notice.is_none() && !self.write_shut;
        self.write_shut |= now;
        now
    }

    /// The server stops: the session stops reading new frames and flushes
    /// within the grace period (with notices, a stream then lingers after
    /// its notice until the peer closes, within the same grace).
    ///
    /// A stream ([`Connection`]) that is not ending first makes one last
    /// read of what its socket already holds ([`Lifecycle::is_draining`]):
    /// the frames the client sent before the shutdown are dispatched and
    /// answered, whenever the driver learnt of them. That pass ends when a
    /// read would block ([`Lifecycle::on_read_blocked`]), the peer closes,
    /// the queue passes half its limit (back-pressure), or the grace
    /// passes; frames arriving after it are not dispatched.
    pub fn shutdown(&mut self, now: Instant) {
        if self.stop_at.is_none() {
            self.stop_at = Some(now + self.limits.shutdown_grace);
            self.draining = self.final_read && !self.is_ending();
        }
    }

    /// Whether work in flight (the application's, e.g. an async handler's
    /// task) will still reply: a shutdown waits for it, within its grace,
    /// before it ends the session (and sends the notice); meanwhile
    /// neither the idle nor the partial-frame timeout runs (the server is
    /// the slow one, and frames held back by the work limit wait in the
    /// receive buffer), and the idle time counts again from the work's
    /// end. Work that never ends holds the session, as a request in flight
    /// holds an HTTP connection: bound the application's work.
    pub fn on_work(&mut self, busy: bool, now: Instant) {
        if self.busy && !busy {
            // The work is done: the peer's idle time counts from now.
            self.last_rx = now;
        }
        self.busy = busy;
    }

    /// Whether the session is stopping and still on its last read of
    /// what the socket already holds (see [`Lifecycle::shutdown`]): the
    /// driver reads until the socket would block, with a read that asks
    /// the socket itself (not a readiness it cached).
    pub fn is_draining(&self) -> bool {
        self.draining && !self.is_ending() && !self.read_closed
    }

    /// A read found the socket empty (it would block): ends a stopping
    /// session's last read ([`Lifecycle::shutdown`]). Whether it did.
    pub fn on_read_blocked(&mut self) -> bool {
        std::mem::take(&mut self.draining)
    }

    /// Whether to read now: neither ending nor stopping (or lingering,
    /// or on the last read at a shutdown), the peer still sending, and
    /// (back-pressure) its queue at most half full.
    pub fn wants_read(&self, queued: usize, half_limit: usize) -> bool {
        ((!self.is_ending() && (self.stop_at.is_none() || self.draining)) || self.is_lingering())
            && !self.read_closed
            && queued <= half_limit
    }

    /// Whether burst-grown buffers should be freed now (no traffic for
    /// `release_after`); true once per quiet period.
    pub fn should_release(&mut self, now: Instant) -> bool {
        if self.holding && now >= self.last_traffic + self.limits.release_after {
            self.holding = false;
            return true;
        }
        false
    }

    /// The end-of-session decision, given the bytes still `queued`, the
    /// bytes of an unfinished frame `partial`, whether the session was
    /// asked to close, whether its queue overflowed, and `now`. `None`:
    /// the session goes on.
    pub fn poll_end(
        &mut self,
        queued: usize,
        partial: usize,
        closing: bool,
        overflowed: bool,
        now: Instant,
    ) -> Option<DisconnectReason> {
        if let Some(reason) = self.broken.take() {
            return Some(reason);
        }
        // Bytes queued and never reported as tried: the write clock starts
        // now (the core does not rely on the driver calling `on_written`).
        self.on_written(0, queued, now);
        if overflowed {
            return Some(DisconnectReason::SlowConsumer);
        }
        if let Some((_, deadline)) = &self.ending {
            let late = now >= *deadline || self.stop_at.is_some_and(|s| now >= s);
            // A notice not yet taken (queued) holds the end back too.
            if late || (queued == 0 && !self.is_lingering() && self.notice.is_none()) {
                return self.ending.take().map(|(r, _)| r);
            }
            return self.write_stalled(queued, now);
        }
        if self.read_closed {
            let reason = if partial > 0 {
                DisconnectReason::PeerClosedMidFrame
            } else {
                DisconnectReason::PeerClosed
            };
            // The replies to what it sent still go out first.
            self.fail(reason, now);
            return self.poll_end(queued, 0, closing, false, now);
        }
        let grace = now + self.limits.shutdown_grace;
        // With a close notice (wire format §12), an end decided below
        // first queues the notice behind the replies (the session is
        // ending: `None` now, the end once the notice has left).
        if closing && (queued == 0 || self.ends_gently()) {
            return self.end_now(DisconnectReason::Closed, grace);
        }
        if let Some(stop) = self.stop_at {
            if (self.draining || self.busy) && now < stop {
                // The last read of what the socket holds is not over, or
                // work in flight has not replied yet.
                return self.write_stalled(queued, now);
            }
            if self.ends_gently() && !self.noticed {
                return self.end_now(DisconnectReason::Shutdown, stop);
            }
            if queued == 0 || now >= stop {
                return Some(DisconnectReason::Shutdown);
            }
            return self.write_stalled(queued, now);
        }
        if let (Some(since), Some(t)) = (self.handshake_since, self.limits.handshake_timeout)
            && now >= since + t
        {
            return Some(DisconnectReason::HandshakeTimeout);
        }
        // Work in flight: the server is the one that is slow (frames the
        // work limit holds back are in `partial` too), so neither a
        // partial frame nor an idle peer times out meanwhile.
        if partial > 0 && !self.busy {
            let since = *self.partial_since.get_or_insert(now);
            if now >= since + self.limits.frame_timeout {
                return self.end_now(DisconnectReason::FrameTimeout, grace);
            }
        } else {
            self.partial_since = None;
        }
        if let Some(r) = self.write_stalled(queued, now) {
            return Some(r);
        }
        if let Some(idle) = self.limits.idle_timeout
            && queued == 0
            && !self.busy
            && now >= self.last_rx + idle
        {
            return self.end_now(DisconnectReason::IdleTimeout, grace);
        }
        None
    }

    fn write_stalled(&self, queued: usize, now: Instant) -> Option<DisconnectReason> {
        let stalled = self.write_deadline(queued).is_some_and(|d| now >= d);
        stalled.then_some(DisconnectReason::SlowConsumer)
    }

    /// When bytes queued that see no write progress make a slow consumer.
    fn write_deadline(&self, queued: usize) -> Option<Instant> {
        let since = self.stalled_since.filter(|_| queued > 0)?;
        Some(since + self.limits.write_timeout?)
    }

    /// When [`Lifecycle::poll_end`] may decide next (or buffers be
    /// released) without any other input: the next deadline.
    pub fn poll_timeout(&self, queued: usize) -> Option<Instant> {
        let l = &self.limits;
        let release = self.holding.then(|| self.last_traffic + l.release_after);
        let next = [release, self.write_deadline(queued)].into_iter().flatten();
        // The same order as `poll_end`: an ending or stopping session
        // waits only for its queue, bounded by its deadlines.
        let ending = self.ending.as_ref().map(|(_, deadline)| *deadline);
        if ending.is_some() || self.stop_at.is_some() {
            return next.chain(ending).chain(self.stop_at).min();
        }
        let handshake = self
            .handshake_since
            .zip(l.handshake_timeout)
            .map(|(s, t)| s + t);
        let partial = self.partial_since.map(|since| since + l.frame_timeout);
        let idle = l.idle_timeout.filter(|_| queued == 0 && !self.busy);
        let idle = idle.map(|idle| self.last_rx + idle);
        next.chain(handshake).chain(partial).chain(idle).min()
    }
}

/// The earlier of two deadlines, either maybe absent.
pub(crate) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    a.into_iter().chain(b).min()
}

/// What a [`Connection`] yields for the application.
#[derive(Debug)]
pub enum Event<'a> {
    /// The session is connected (once, before its first frame); after a
    /// hello, with what it gave: sealed, the send side it keyed (install
    /// it in the outbox before queueing anything) and the key provider's
    /// identity for the session.
    Connected(Option<Handshake>),
    /// The session's hello carried another protocol fingerprint: queue
    /// this refusal (wire format §11.5); the session ends once it is sent.
    Refuse([u8; REFUSAL_LEN]),
    /// A frame, borrowed from the receive buffer.
    Frame(Frame<'a>),
}

/// One stream session: its [`Lifecycle`] and its inbox.
#[derive(Debug)]
pub struct Connection {
    inbox: Inbox,
    life: Lifecycle,
    connected: bool,
    half_limit: usize,
    /// The read room while lingering (at most one maximum frame).
    drop_room: usize,
}

impl Connection {
    /// A session over a stream, receiving through `opener`, whose outbox
    /// holds at most `queue_limit` bytes; started at `now`.
    pub fn new(
        frame: &FrameConfig,
        opener: Opener,
        limits: Limits,
        queue_limit: usize,
        now: Instant,
    ) -> Self {
        let handshake = opener.awaiting_hello();
        Self {
            inbox: Inbox::new(frame, opener),
            life: Lifecycle {
                final_read: true,
                ..Lifecycle::new(limits, handshake, now)
            },
            connected: false,
            half_limit: queue_limit / 2,
            drop_room: (frame.max_frame_len() as usize).min(READ_CHUNK),
        }
    }

    /// With `on`, sends close notices (wire format §12); either way an
    /// end for a reason that has one lingers after the last frame, so the
    /// close does not reset the connection under it (see
    /// [`Lifecycle::with_notices`]).
    pub fn with_notices(mut self, on: bool) -> Self {
        self.life = self.life.with_notices(on, true);
        self
    }

    /// The lifecycle (timers and the end decision).
    pub fn life(&mut self) -> &mut Lifecycle {
        &mut self.life
    }

    /// Whether to read now (see [`Lifecycle::wants_read`]).
    pub fn wants_read(&self, queued: usize) -> bool {
        self.life.wants_read(queued, self.half_limit)
    }

    /// How many bytes the next read may take.
    pub fn read_room(&self) -> usize {
        if self.life.is_ending() {
            // Lingering: bytes are dropped, never buffered.
            return self.drop_room;
        }
        self.inbox.room()
    }

    /// `bytes` were read at `now` (empty: end of stream). At most
    /// [`Connection::read_room`] bytes are taken; an ending (lingering)
    /// session drops them.
    pub fn on_read(&mut self, bytes: &[u8], now: Instant) -> usize {
        if bytes.is_empty() {
            self.life.read_closed = true;
            return 0;
        }
        if self.life.is_ending() {
            return bytes.len();
        }
        self.life.on_rx(now);
        self.inbox.feed(bytes)
    }

    /// The next event for the application, or `None` (nothing complete,
    /// or the session is ending). A bad frame makes the session end once
    /// its queued replies are out.
    pub fn poll_event(&mut self, now: Instant) -> Option<Event<'_>> {
        if self.life.is_ending() {
            return None;
        }
        let handshake = if !self.connected && !self.inbox.opener().awaiting_hello() {
            None
        } else {
            match self.inbox.next_frame() {
                Ok(Some(Incoming::Frame(f))) => return Some(Event::Frame(f)),
                Ok(Some(Incoming::Keyed(handshake))) => Some(handshake),
                Ok(None) => return None,
                Err(e) => {
                    // A server end's hello of another protocol: refused, and
                    // the session lingers so that closing does not reset the
                    // connection before the client read the refusal.
                    let server = match &e {
                        TransportError::ProtocolMismatch(m) => Some(m.server),
                        _ => None,
                    };
                    self.life.fail(DisconnectReason::BadFrame(e), now);
                    if server.is_some() {
                        self.life.linger();
                    }
                    return server.map(|server| Event::Refuse(refusal(server)));
                }
            }
        };
        self.connected = true;
        self.life.handshake_since = None;
        Some(Event::Connected(handshake))
    }

    /// Whether the session was connected (its connect event was polled).
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// The end-of-session decision (see [`Lifecycle::poll_end`]).
    pub fn poll_end(
        &mut self,
        queued: usize,
        closing: bool,
        overflowed: bool,
        now: Instant,
    ) -> Option<DisconnectReason> {
        let partial = self.inbox.buffered();
        if queued > self.half_limit {
            // Back-pressure: the last read at a shutdown is over.
            self.life.on_read_blocked();
        }
        self.life
            .poll_end(queued, partial, closing, overflowed, now)
    }

    /// Lends the driver's spare buffers to this session (see
    /// [`Spare`](crate::transport::queue::Spare)).
    pub(crate) fn lend(&mut self, spare: &mut Spare, out: &mut Outbox) {
        spare.lend(&mut self.inbox, out);
    }

    /// Takes the spare buffers back if the session left them empty.
    pub(crate) fn take_back(&mut self, spare: &mut Spare, out: &mut Outbox) {
        spare.take_back(&mut self.inbox, out);
    }

    /// Frees the inbox's buffer if the session has been quiet long enough;
    /// returns whether it did (the driver then frees the outbox's too).
    pub fn release_idle(&mut self, now: Instant) -> bool {
        if self.life.should_release(now) {
            self.inbox.release();
            return true;
        }
        false
    }
}
