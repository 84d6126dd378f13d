//! The crate-private `ServerCore`: what every server shares, without
//! sockets (the router, the state, the session manager, the
//! configuration), and the steps every driver runs for a stream session:
//! open it, `service` it (read → dispatch → write → decide) over a
//! non-blocking socket, end it; and `handle_methods!`, what both drivers'
//! `ServerHandle`s offer over it.
//!
//! What does not live here: waiting on sockets (`blocking`, `tokio`),
//! the datagram endpoint (`udp`), the decisions themselves
//! (`crate::session`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::session::Waker;
use super::{Context, DisconnectReason, Router, ServerConfig, Session, SessionId, Sessions};
use crate::session::{Connection, Event};
use crate::transport::queue::Spare;
use crate::transport::security::close_notice;
use crate::transport::{CloseNotice, CloseReason, Outbox};

/// Counts one dispatched frame.
pub(crate) fn count_in<U>(session: &Session<U>) {
    session.frames_in.fetch_add(1, Ordering::Relaxed);
}

/// What both servers share, without sockets: the router, the state, the
/// session manager and the configuration, and the steps every driver
/// runs for a stream session: open it, [`ServerCore::service`] it over a
/// non-blocking socket, end it.
pub(crate) struct ServerCore<S, U = ()> {
    pub(crate) router: Router<S, U>,
    pub(crate) state: S,
    pub(crate) sessions: Arc<Sessions<U>>,
    pub(crate) config: ServerConfig,
    /// Datagrams dropped (UDP server only).
    pub(crate) dropped: AtomicU64,
    /// Where and how the server was bound, for its stop event.
    #[cfg(feature = "tracing")]
    bound: std::sync::OnceLock<(SocketAddr, &'static str, &'static str)>,
    /// When an accept failure was last logged, and how many were not
    /// since ([`ServerCore::accept_failed`]).
    #[cfg(feature = "tracing")]
    accept_log: std::sync::Mutex<(Option<Instant>, u64)>,
}

/// At most one accept failure logged per this interval.
#[cfg(feature = "tracing")]
const ACCEPT_LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// The server stopped: its last `Arc` went with its last thread or task.
#[cfg(feature = "tracing")]
impl<S, U> Drop for ServerCore<S, U> {
    fn drop(&mut self) {
        if let Some((addr, kind, driver)) = self.bound.get() {
            trace_event!(INFO, %addr, kind, driver, "server stopped");
        }
    }
}

/// Binds the first of `addrs` `bind` takes; else the last failure, its
/// message naming the address (the kind kept): `binding 127.0.0.1:7000:
/// Address already in use (os error 98)`, or, for addresses that resolved
/// to nothing, what std's `bind` says then.
pub(crate) fn bind_first<T>(
    addrs: impl IntoIterator<Item = SocketAddr>,
    mut bind: impl FnMut(SocketAddr) -> std::io::Result<T>,
) -> Result<T, crate::transport::TransportError> {
    use std::io::{Error, ErrorKind};
    let mut last = Error::new(
        ErrorKind::InvalidInput,
        "could not resolve to any addresses",
    );
    for addr in addrs {
        match bind(addr) {
            Ok(bound) => return Ok(bound),
            Err(e) => last = Error::new(e.kind(), std::format!("binding {addr}: {e}")),
        }
    }
    Err(last.into())
}

/// Most socket reads per session per [`ServerCore::service`] call, so one
/// busy peer cannot starve the others of a worker.
const READS_PER_SERVICE: usize = 8;

/// What [`ServerCore::service`] leaves for the driver.
#[derive(Debug)]
pub(crate) enum Serviced {
    /// The session goes on: wait for readable (if `read`), writable (if
    /// `write`), a wake-up or `deadline`. `again`: it stopped early for
    /// fairness, service it again soon.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    Wait {
        read: bool,
        write: bool,
        deadline: Option<Instant>,
        again: bool,
    },
    /// The session ended.
    End(DisconnectReason),
}

impl<S, U> ServerCore<S, U> {
    pub(crate) fn new(router: Router<S, U>, state: S, config: ServerConfig) -> Self {
        Self {
            router,
            state,
            sessions: Arc::new(Sessions::new()),
            config,
            dropped: AtomicU64::new(0),
            #[cfg(feature = "tracing")]
            bound: std::sync::OnceLock::new(),
            #[cfg(feature = "tracing")]
            accept_log: std::sync::Mutex::default(),
        }
    }

    /// The handler context for `session`.
    pub(crate) fn ctx<'a>(&'a self, session: &'a Arc<Session<U>>) -> Context<'a, S, U> {
        Context {
            session,
            sessions: &self.sessions,
            state: &self.state,
        }
    }

    /// Registers a session sending through `out`, with a new state from
    /// the router; else why not: past `max_sessions` (server full), or
    /// the state's constructor panicked (server error).
    pub(crate) fn register(
        &self,
        peer: SocketAddr,
        out: Outbox,
        waker: impl FnOnce(SessionId) -> Waker,
    ) -> Result<Arc<Session<U>>, CloseReason> {
        let Ok(state) = self.router.new_state() else {
            // The constructor panicked: no session (the connection is
            // dropped), the server goes on.
            self.sessions.stats.count_panic();
            trace_event!(
                WARN,
                server = self.local(),
                kind = self.kind(),
                %peer,
                "refused: the session state constructor panicked"
            );
            return Err(CloseReason::ServerError);
        };
        let session = self
            .sessions
            .register(peer, out, waker, self.config.max_sessions, state);
        if session.is_none() {
            trace_event!(
                DEBUG,
                server = self.local(),
                kind = self.kind(),
                %peer,
                max = self.config.max_sessions,
                "refused: server full"
            );
        }
        session.ok_or(CloseReason::ServerFull)
    }

    /// Logs the server bound at `addr` (`kind`: tcp or udp, `driver`:
    /// blocking or tokio), and keeps both for its stop event.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(crate) fn bound(&self, addr: SocketAddr, kind: &'static str, driver: &'static str) {
        trace_event!(INFO, %addr, kind, driver, "server bound");
        #[cfg(feature = "tracing")]
        let _ = self.bound.set((addr, kind, driver));
    }

    /// The bound address, a field of the session events (which server
    /// of a process that runs several, e.g. TCP and UDP).
    #[cfg(feature = "tracing")]
    pub(crate) fn local(&self) -> Option<tracing::field::DisplayValue<SocketAddr>> {
        self.bound.get().map(|b| tracing::field::display(b.0))
    }

    /// `tcp` or `udp`, a field of the session events beside `server` (a
    /// TCP and a UDP server often share a port number).
    #[cfg(feature = "tracing")]
    pub(crate) fn kind(&self) -> Option<&'static str> {
        self.bound.get().map(|b| b.1)
    }

    /// A session opened (sealed: its hello accepted; a plaintext session
    /// with a fingerprint: its plaintext hello): logged, then the
    /// connect hooks run.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(crate) fn connected(&self, session: &Arc<Session<U>>) -> Result<(), DisconnectReason> {
        // Sealed or not is the server's configuration, not whether a hello
        // came: a plaintext hello (with the fingerprint) is no seal.
        trace_event!(
            DEBUG,
            server = self.local(),
            kind = self.kind(),
            session = session.id().0,
            peer = %session.peer_addr(),
            sealed = self.config.is_sealed(),
            identity = session.identity(),
            "session opened"
        );
        self.router.connected(&self.ctx(session))
    }

    /// An accept call failed (e.g. out of descriptors: EMFILE): logged,
    /// at most once a second (the drivers retry within milliseconds, and
    /// such a failure lasts), with the failures left out since; the
    /// driver backs off and retries.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(crate) fn accept_failed(&self, e: &std::io::Error) {
        #[cfg(feature = "tracing")]
        {
            let mut last = super::lock(&self.accept_log);
            let now = Instant::now();
            if last
                .0
                .is_some_and(|at| now.duration_since(at) < ACCEPT_LOG_EVERY)
            {
                last.1 += 1;
                return;
            }
            let suppressed = std::mem::take(&mut last.1);
            last.0 = Some(now);
            trace_event!(
                WARN,
                server = self.local(),
                kind = self.kind(),
                error = %e,
                suppressed,
                "accept failed; retrying"
            );
        }
    }

    /// Opens a stream session from `peer`: its registered [`Session`] and
    /// its core; else why not (see [`ServerCore::register`]).
    pub(crate) fn open(
        &self,
        peer: SocketAddr,
        waker: impl FnOnce(SessionId) -> Waker,
        now: Instant,
    ) -> Result<(Arc<Session<U>>, Connection), CloseReason> {
        let halves = self.config.halves(false);
        let t = &self.config.transport;
        let out = Outbox::new(t, halves.sealer, None);
        let session = self.register(peer, out, waker)?;
        let limits = self.config.limits();
        let conn = Connection::new(&t.frame, halves.opener, limits, t.queue_limit(), now);
        Ok((session, conn.with_notices(self.config.close_notices)))
    }

    /// Closes `stream` (non-blocking), a connection a TCP acceptor
    /// opened no session for, first writing the close notice for `reason`
    /// (wire format §12: server full, or server error) if the socket
    /// takes it at once: never blocking the acceptor. What the client
    /// already sent is then read and dropped, so that closing does not
    /// reset the connection under the notice (best effort: what arrives
    /// later may still reset it). Both acceptors hand over the std socket
    /// (a fresh tokio socket may not know yet that it is writable, so
    /// `try_write` could refuse); dropping it closes it.
    pub(crate) fn refuse(&self, mut stream: std::net::TcpStream, reason: CloseReason) {
        use std::io::{Read, Write};
        let notice = close_notice(CloseNotice::new(reason));
        if self.config.close_notices && stream.write(&notice).is_ok() {
            let _ = stream.shutdown(std::net::Shutdown::Write);
            let mut scratch = [0; 512];
            for _ in 0..8 {
                if !matches!(stream.read(&mut scratch), Ok(n) if n > 0) {
                    break;
                }
            }
        }
    }

    /// Polls `conn`'s events and dispatches them: the connect hook (with
    /// a sealed session's keyed send side installed first), then each
    /// frame, until none is complete or the session is ending or closing.
    /// A hook or handler that fails or panics ends the session once its
    /// queued replies are out (the panic caught: `Router::run`).
    pub(crate) fn dispatch(&self, session: &Arc<Session<U>>, conn: &mut Connection, now: Instant) {
        let limit = self.config.max_session_work;
        // At its work limit, the session's next frames wait in its buffer.
        while !session.is_closing() && !session.work_full(limit) {
            match conn.poll_event(now) {
                Some(Event::Connected(handshake)) => {
                    if let Some(h) = handshake {
                        session.handshake(h.sealer, h.identity);
                    }
                    if let Err(reason) = self.connected(session) {
                        conn.life().fail(reason, now);
                    }
                }
                Some(Event::Refuse(refusal)) => session.outbox().queue_refusal(refusal),
                Some(Event::Frame(frame)) => {
                    count_in(session);
                    if let Err(reason) = self.router.run(&self.ctx(session), frame) {
                        conn.life().fail(reason, now);
                    }
                }
                None => break,
            }
        }
        // An end decided above (a bad frame, a failing handler) sends its
        // notice behind the replies queued so far.
        session.notify(conn.life());
    }

    /// One pass over a stream session on a non-blocking socket: read
    /// (while the core wants to, through the `spare` buffers, lent to the
    /// session for the pass), dispatch, write what the socket takes, and
    /// ask the core whether the session ends. The one place both TCP
    /// servers move bytes.
    pub(crate) fn service<IO: SessionIo>(
        &self,
        session: &Arc<Session<U>>,
        conn: &mut Connection,
        io: &mut IO,
        spare: &mut Spare,
        now: Instant,
    ) -> Serviced {
        conn.lend(spare, &mut session.outbox());
        let scratch = &mut spare.read[..];
        let limit = self.config.max_session_work;
        let mut reads = 0;
        let mut blocked_read = false;
        // Set once a close notice was queued: the next round writes it
        // before any read (a read that would block must not end the pass
        // with the notice unwritten).
        let mut write_first = false;
        let step = loop {
            let queued = session.outbox().len();
            if !std::mem::take(&mut write_first)
                && reads < READS_PER_SERVICE
                && reading(session, conn, queued, limit)
            {
                let room = conn.read_room().min(scratch.len());
                // At a shutdown, the last read asks the socket itself: the
                // frames it holds are dispatched whether or not the driver
                // has seen their readiness yet (`Lifecycle::shutdown`).
                let read = if conn.life().is_draining() {
                    io.read_now(&mut scratch[..room])
                } else {
                    io.read(&mut scratch[..room])
                };
                match read {
                    Ok(n) => {
                        reads += 1;
                        conn.on_read(&scratch[..n], now);
                    }
                    // After a full pass (`reads > 0`), nothing new can have
                    // come from the socket: that pass dispatched every
                    // complete frame, wrote what the socket took and asked
                    // the core about the end, so another would repeat it
                    // for nothing (frames another thread queued since come
                    // with a wake-up, which services the session again).
                    // A short read ends most passes so: the driver's socket
                    // then answers `WouldBlock` without a system call.
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        // The end of a shutdown's last read: the round goes
                        // on to decide the end (and queue the notice).
                        let drained = conn.life().on_read_blocked();
                        if reads > 0 && !drained {
                            break wait(session, conn, queued, false, limit);
                        }
                        blocked_read = true;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => conn.life().on_io_error(e),
                }
            }
            self.dispatch(session, conn, now);
            let mut out = session.outbox();
            // An empty queue writes nothing (no system call).
            let written = match out.queue_mut().write_to(io) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
                Err(e) => {
                    conn.life().on_io_error(e);
                    0
                }
            };
            let queued = out.len();
            drop(out); // `notify` below queues into it
            conn.life().on_written(written, queued, now);
            if conn.life().take_shut_write(queued) {
                // The last frame left: end of stream for the peer now
                // (an error changes nothing, the session is ending).
                io.shut_write();
            }
            conn.life().on_work(session.has_work(), now);
            if let Some(reason) = session.take_failure() {
                conn.life().fail(reason, now);
            }
            let end = conn.poll_end(queued, session.is_closing(), session.overflowed(), now);
            if let Some(reason) = end {
                break Serviced::End(reason);
            }
            if session.notify(conn.life()) {
                // An end decided now (closed, idle, shutdown): its notice
                // is queued, the next round writes it.
                write_first = true;
                continue;
            }
            if conn.release_idle(now) {
                session.outbox().release();
            }
            let more = !blocked_read && reading(session, conn, queued, limit);
            if more && reads < READS_PER_SERVICE {
                continue;
            }
            break wait(session, conn, queued, more, limit);
        };
        conn.take_back(spare, &mut session.outbox());
        step
    }

    /// Runs the disconnect hook (if the session was connected: a sealed
    /// session that never sent its hello had neither hook) and forgets
    /// the session.
    pub(crate) fn disconnected(
        &self,
        session: &Arc<Session<U>>,
        connected: bool,
        reason: &DisconnectReason,
    ) {
        if connected {
            self.router.disconnected(&self.ctx(session), reason);
        }
        // Above debug only for what the server failed at (a handler's
        // panic or I/O failure: the notice says "server error"): anything
        // else a peer can cause at will, and must not flood the log.
        trace_event!(
            warn_if(matches!(reason.close_reason(), Some(CloseReason::ServerError))),
            server = self.local(),
            kind = self.kind(),
            session = session.id().0,
            peer = %session.peer_addr(),
            identity = session.identity(),
            reason = %reason,
            notice = ?self.config.close_notices.then(|| reason.close_reason()).flatten(),
            code = session.close_code(),
            frames_in = session.frames_in.load(Ordering::Relaxed),
            frames_out = session.frames_out.load(Ordering::Relaxed),
            "session ended"
        );
        self.sessions.remove(session.id(), reason);
    }
}

/// A stream session's socket as [`ServerCore::service`] moves bytes
/// through it: non-blocking reads and writes, and the write side shut
/// once a lingering session's last frame has left.
pub(crate) trait SessionIo: std::io::Read + std::io::Write {
    /// Shuts the write side (errors ignored: the session is ending).
    fn shut_write(&mut self);

    /// A read that asks the socket itself, whatever readiness the driver
    /// cached (`WouldBlock` only when the socket is empty): a shutdown's
    /// last read (`Lifecycle::shutdown`).
    fn read_now(&mut self, buf: &mut [u8]) -> std::io::Result<usize>;
}

/// Whether a pass reads now: as the core wants, and not once the session
/// was asked to close unless it lingers (reading and dropping until the
/// client closes, after its close notice).
fn reading<U>(session: &Session<U>, conn: &mut Connection, queued: usize, limit: usize) -> bool {
    conn.wants_read(queued)
        && !held_by_work(session, conn, limit)
        && (!session.is_closing() || conn.life().is_lingering())
}

/// At its work limit the session reads nothing more (its work's end
/// wakes it), unless it lingers (reading and dropping after its end).
fn held_by_work<U>(session: &Session<U>, conn: &mut Connection, limit: usize) -> bool {
    session.work_full(limit) && !conn.life().is_lingering()
}

/// A stream session's pass ends waiting: for reads as the core wants
/// (not at its work limit: its work's end wakes it), for writes while
/// `queued` bytes wait, until the core's next deadline; `again` when it
/// stopped only at the pass's read limit.
fn wait<U>(
    session: &Session<U>,
    conn: &mut Connection,
    queued: usize,
    again: bool,
    limit: usize,
) -> Serviced {
    Serviced::Wait {
        read: conn.wants_read(queued) && !held_by_work(session, conn, limit),
        write: queued > 0,
        deadline: conn.life().poll_timeout(queued),
        again,
    }
}

/// The UDP servers' receive loop: `recv` (one batched receive call, its
/// datagrams dispatched and answered: `Peers::recv_batch`) until the
/// socket would block or `max` calls were made. A failed call (e.g. an
/// ICMP report about an earlier send) does not stop it. Returns the
/// earliest deadline (`next`, the one known before, with those the calls
/// reported) and whether it is due: every [`DEADLINE_CHECK_EVERY`] calls
/// the loop looks at the clock and `interrupt` (the driver's stop, or a
/// wake: frames other threads queued), and ends once that deadline is due
/// or `interrupt` says so, so a flood that never lets the socket drain
/// cannot hold back the caller's sweep (idle timeouts that free slots for
/// new clients, handshake deadlines, a broadcast) or its stop. A socket
/// that drains within those calls, as any but a flooded one does, costs
/// no clock read.
pub(crate) fn recv_until_blocked(
    max: usize,
    mut next: Option<Instant>,
    interrupt: &dyn Fn() -> bool,
    mut recv: impl FnMut() -> std::io::Result<Option<Instant>>,
) -> (Option<Instant>, bool) {
    for i in 1..=max {
        match recv() {
            Ok(at) => next = crate::session::earliest(next, at),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(_) => {}
        }
        if i % DEADLINE_CHECK_EVERY == 0 {
            let due = next.is_some_and(|at| Instant::now() >= at);
            if due || interrupt() {
                return (next, due);
            }
        }
    }
    (next, false)
}

/// How many receive calls (each up to a batch of datagrams) the UDP
/// receive loop makes between looks at the clock ([`recv_until_blocked`]).
pub(crate) const DEADLINE_CHECK_EVERY: usize = 8;

/// What the `ServerHandle<S, U>` of each driver offers, written once:
/// `Debug` and the accessors over its fields `local_addr` and `core` (an
/// `Arc<ServerCore<S, U>>`). Each driver adds how it stops: `shutdown`
/// (plain or `async`) and what dropping the handle does.
macro_rules! handle_methods {
    () => {
        impl<S, U> std::fmt::Debug for ServerHandle<S, U> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("ServerHandle")
                    .field("local_addr", &self.local_addr)
                    .finish_non_exhaustive()
            }
        }

        impl<S, U> ServerHandle<S, U> {
            /// The bound address.
            pub fn local_addr(&self) -> std::net::SocketAddr {
                self.local_addr
            }

            /// The session manager: send, broadcast, close and reach each
            /// session's state from outside handlers (clone the `Arc` to keep it).
            pub fn sessions(&self) -> &std::sync::Arc<$crate::server::Sessions<U>> {
                &self.core.sessions
            }

            /// The shared state.
            pub fn state(&self) -> &S {
                &self.core.state
            }

            /// The counters.
            pub fn stats(&self) -> $crate::server::StatsSnapshot {
                self.core.sessions.stats()
            }

            /// Datagrams a UDP server dropped: invalid, forged or replayed, from a
            /// new peer beyond `max_sessions`, or queued frames the socket refused.
            pub fn dropped(&self) -> u64 {
                self.core.dropped.load(std::sync::atomic::Ordering::Relaxed)
            }
        }
    };
}
pub(crate) use handle_methods;

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::Arc;
    use std::time::Instant;

    use super::*;
    use crate::server::PollWaker;
    use crate::transport::security::close_notice;

    /// A socket whose driver cached "not readable" though three frames
    /// wait in it (tokio's or mio's readiness lagging behind bytes that
    /// arrived while a handler ran): `read` says `WouldBlock`, only
    /// `read_now` asks the socket.
    struct Stale {
        held: Vec<u8>,
        out: Vec<u8>,
    }

    impl io::Read for Stale {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::ErrorKind::WouldBlock.into())
        }
    }

    impl io::Write for Stale {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.out.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl SessionIo for Stale {
        fn shut_write(&mut self) {}
        fn read_now(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.held.is_empty() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = buf.len().min(self.held.len());
            buf[..n].copy_from_slice(&self.held[..n]);
            self.held.drain(..n);
            Ok(n)
        }
    }

    fn wire(type_id: u16, seq: u64, body: &[u8]) -> Vec<u8> {
        let mut b = std::vec![0u8; 256];
        let n = packet_core::frame::encode_raw(type_id, seq, body, &mut b).unwrap();
        b.truncate(n);
        b
    }

    /// At a shutdown, the session's last read asks the socket itself
    /// (`SessionIo::read_now`), whatever readiness the driver cached: the
    /// frames already there are answered before the notice on either
    /// driver, not only when the driver happened to have seen them.
    #[test]
    fn the_last_read_at_a_shutdown_asks_the_socket_itself() {
        let router = Router::<()>::new().on_frame(1, |ctx, f| ctx.reply_raw(1, f.body()));
        let core = ServerCore::new(router, (), ServerConfig::default());
        let poll = mio::Poll::new().unwrap();
        let waker = PollWaker::new(mio::Waker::new(poll.registry(), mio::Token(0)).unwrap());
        let now = Instant::now();
        let peer = SocketAddr::from(([127, 0, 0, 1], 9));
        let (session, mut conn) = core
            .open(peer, |_| Waker::Poll(Arc::new(waker), 0), now)
            .unwrap();
        let mut io = Stale {
            held: [wire(1, 0, b"one"), wire(1, 1, b"two"), wire(1, 2, b"three")].concat(),
            out: std::vec::Vec::new(),
        };
        let mut spare = Spare::default();
        // Before the stop, the stale readiness reads nothing.
        let step = core.service(&session, &mut conn, &mut io, &mut spare, now);
        assert!(matches!(step, Serviced::Wait { .. }), "{step:?}");
        assert!(io.out.is_empty());
        conn.life().shutdown(now);
        let step = core.service(&session, &mut conn, &mut io, &mut spare, now);
        assert!(matches!(step, Serviced::Wait { .. }), "{step:?}");
        let notice = close_notice(CloseNotice::new(CloseReason::ShuttingDown));
        let replies = [wire(1, 0, b"one"), wire(1, 1, b"two"), wire(1, 2, b"three")].concat();
        assert_eq!(io.out, [&replies[..], &notice[..]].concat());
        assert!(!conn.life().is_draining() && conn.life().is_lingering());
    }
}
