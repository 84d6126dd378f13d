//! The blocking servers: thin drivers that wait on socket readiness
//! (`mio`: epoll / kqueue) and move bytes between the sockets and the
//! session core, so idle sessions cost nothing.
//!
//! TCP: an acceptor thread registers each connection as a [`Session`]
//! (or, when `max_sessions` are open, closes it after a "server full"
//! close notice it writes without waiting) and hands it to a worker,
//! round robin. Each worker waits on its sessions' readiness, its wake-up
//! (another thread queued frames for one of its sessions) and the
//! earliest session deadline (a heap of deadlines, not a scan), then runs `ServerCore::service` for each
//! session that is ready. Every decision (back-pressure, timeouts, end of
//! session) is the core's.
//!
//! UDP ([`UdpServer`]): one thread waiting on one socket, feeding the
//! datagram endpoint of `server::udp`.
//!
//! With [`ServerConfig::wake_interval`] set, each worker and the UDP
//! thread park between waits (`hold_off`) so that one wait serves
//! everything that arrived during the interval. The tokio servers run
//! these threads, inside their runtime, when the interval is set.
//!
//! Examples: the TCP server's in [`crate::server`], the UDP server's on
//! [`UdpServer`].

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::io;
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};
use std::vec::Vec;

use mio::net::{TcpListener, TcpStream, UdpSocket};
use mio::{Events, Interest, Poll, Token};

use super::udp::{Peers, note_blocked};
use super::{
    DisconnectReason, Pacer, PollWaker, Router, ServerConfig, ServerCore, Serviced, Session, Waker,
    handle_methods, lock, recv_until_blocked,
};
use crate::session::{Connection, earliest};
use crate::transport::TransportError;
use crate::transport::batch::{RECV_SLOTS, RecvArea, SendBatch, UdpBatch};
use crate::transport::queue::Spare;

/// The token of a poll's waker.
const WAKE: Token = Token(usize::MAX);
/// The token of the listener / the UDP socket.
const SOCKET: Token = Token(usize::MAX - 1);

/// A running blocking server (TCP or UDP). Dropping it shuts it down
/// gracefully, as [`ServerHandle::shutdown`] does.
pub struct ServerHandle<S, U = ()> {
    pub(crate) local_addr: SocketAddr,
    pub(crate) core: Arc<ServerCore<S, U>>,
    pub(crate) threads: Threads,
}

handle_methods!();

impl<S, U> ServerHandle<S, U> {
    /// Stops accepting, dispatches frames already received, flushes queued
    /// frames and each session's close notice, closes every session (a
    /// TCP session once its client has closed after the notice, so the
    /// close does not reset the connection under it), all within the
    /// grace period, and joins the threads.
    ///
    /// Work in flight (an async handler's task, or any
    /// [`Session::work`](super::Session::work) guard) is waited for within
    /// the grace: its reply leaves before the session's notice.
    ///
    /// A handler still running is waited for: the grace bounds the
    /// network, not a handler that blocks, which holds the shutdown for as
    /// long as it blocks (handlers must not block: see
    /// [`Router`](super::Router#handlers-must-not-block)).
    pub fn shutdown(self) {
        drop(self.threads); // `Threads::drop` stops and joins them
    }
}

/// A server's threads: when dropped, told to stop (a flag each checks
/// after every wait, the wakers of their polls, and an unpark for a
/// thread holding off its next wait: [`hold_off`]) and joined.
#[derive(Default)]
pub(crate) struct Threads {
    stop: Arc<AtomicBool>,
    wakers: Vec<Arc<PollWaker>>,
    threads: Vec<JoinHandle<()>>,
    /// The tokio runtime every thread enters (a paced tokio server's, so
    /// its handlers may `tokio::spawn`).
    #[cfg(feature = "tokio")]
    runtime: Option<tokio::runtime::Handle>,
}

impl Threads {
    /// Threads that enter `runtime` (see [`crate::server::tokio`]).
    #[cfg(feature = "tokio")]
    pub(crate) fn entering(runtime: tokio::runtime::Handle) -> Self {
        let mut threads = Self::default();
        threads.runtime = Some(runtime);
        threads
    }

    /// Tells the threads to stop, and returns without waiting for them
    /// (they stop gracefully on their own: a dropped tokio handle).
    #[cfg(feature = "tokio")]
    pub(crate) fn detach(mut self) {
        self.signal();
        self.threads.clear(); // dropping a `JoinHandle` detaches
    }

    /// Which driver the threads serve, for the server's log events:
    /// `blocking`, or `tokio (paced)` inside a tokio runtime.
    fn driver(&self) -> &'static str {
        #[cfg(feature = "tokio")]
        if self.runtime.is_some() {
            return "tokio (paced)";
        }
        "blocking"
    }

    /// A poll with a registered waker, known to the stop.
    fn poll(&mut self) -> io::Result<(Poll, Arc<PollWaker>)> {
        let poll = Poll::new()?;
        let waker = Arc::new(PollWaker::new(mio::Waker::new(poll.registry(), WAKE)?));
        self.wakers.push(waker.clone());
        Ok((poll, waker))
    }

    /// Starts thread `name` running `f`, which returns once the stop flag
    /// it is given is set.
    fn spawn(
        &mut self,
        name: String,
        f: impl FnOnce(&AtomicBool) + Send + 'static,
    ) -> io::Result<()> {
        let stop = self.stop.clone();
        let thread = thread::Builder::new().name(name);
        #[cfg(feature = "tokio")]
        let runtime = self.runtime.clone();
        self.threads.push(thread.spawn(move || {
            #[cfg(feature = "tokio")]
            let _entered = runtime.as_ref().map(|r| r.enter());
            f(&stop)
        })?);
        Ok(())
    }

    /// Tells every thread to stop.
    fn signal(&self) {
        self.stop.store(true, Ordering::SeqCst);
        for w in &self.wakers {
            let _ = w.waker.wake();
        }
        for t in &self.threads {
            t.thread().unpark();
        }
    }
}

impl Drop for Threads {
    fn drop(&mut self) {
        self.signal();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Starts blocking TCP servers; see the module docs.
#[derive(Debug)]
pub struct Server;

/// A new connection on its way to a worker.
type NewConn<U> = (TcpStream, Arc<Session<U>>, Connection);

struct WorkerLink<U> {
    waker: Arc<PollWaker>,
    inbox: Arc<Mutex<Vec<NewConn<U>>>>,
}

impl Server {
    /// Binds `addr` and starts the acceptor and `config.workers` workers.
    pub fn bind<S: Send + Sync + 'static, U: Send + 'static>(
        addr: impl ToSocketAddrs,
        config: ServerConfig,
        router: Router<S, U>,
        state: S,
    ) -> Result<ServerHandle<S, U>, TransportError> {
        Self::bind_on(addr, config, router, state, Threads::default())
    }

    /// [`Server::bind`], its threads started by `threads`.
    pub(crate) fn bind_on<S: Send + Sync + 'static, U: Send + 'static>(
        addr: impl ToSocketAddrs,
        config: ServerConfig,
        router: Router<S, U>,
        state: S,
        mut threads: Threads,
    ) -> Result<ServerHandle<S, U>, TransportError> {
        let listener = super::bind_first(addr.to_socket_addrs()?, std::net::TcpListener::bind)?;
        listener.set_nonblocking(true)?;
        let local_addr = listener.local_addr()?;
        let core = Arc::new(ServerCore::new(router, state, config));
        // Before any thread: its session events name the server.
        core.bound(local_addr, "tcp", threads.driver());
        // First: should a spawn fail, dropping `threads` stops those started.
        let mut links = Vec::new();
        for i in 0..core.config.workers.max(1) {
            let (poll, waker) = threads.poll()?;
            let inbox = Arc::new(Mutex::new(Vec::new()));
            links.push(WorkerLink {
                waker: waker.clone(),
                inbox: inbox.clone(),
            });
            let core = core.clone();
            threads.spawn(std::format!("packet-worker-{i}"), move |stop| {
                worker(&core, stop, poll, &waker, &inbox)
            })?;
        }
        let (poll, _) = threads.poll()?;
        let mut listener = TcpListener::from_std(listener);
        poll.registry()
            .register(&mut listener, SOCKET, Interest::READABLE)?;
        let sh = core.clone();
        threads.spawn("packet-acceptor".into(), move |stop| {
            acceptor(&sh, stop, poll, &listener, &links)
        })?;
        Ok(ServerHandle {
            local_addr,
            core,
            threads,
        })
    }
}

fn acceptor<S, U>(
    core: &ServerCore<S, U>,
    stop: &AtomicBool,
    mut poll: Poll,
    listener: &TcpListener,
    workers: &[WorkerLink<U>],
) {
    let mut events = Events::with_capacity(16);
    let mut next = 0;
    let mut backoff: Option<Duration> = None;
    while !stop.load(Ordering::SeqCst) {
        if poll.poll(&mut events, backoff).is_err() {
            thread::sleep(Duration::from_millis(1));
        }
        backoff = None;
        loop {
            match listener.accept() {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let w = &workers[next % workers.len()];
                    next += 1;
                    let waker = w.waker.clone();
                    match core.open(peer, |id| Waker::Poll(waker, id.0 as usize), Instant::now()) {
                        Ok((session, conn)) => lock(&w.inbox).push((stream, session, conn)),
                        Err(reason) => {
                            core.refuse(stream.into(), reason);
                            continue;
                        }
                    }
                    let _ = w.waker.waker.wake();
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                // A transient failure such as running out of descriptors:
                // retry shortly (the listener stays readable).
                Err(e) => {
                    core.accept_failed(&e);
                    backoff = Some(Duration::from_millis(5));
                    break;
                }
            }
        }
    }
}

/// A session socket for one [`ServerCore::service`] pass, reading only
/// while the socket may hold bytes (`readable`, the same readiness model
/// tokio keeps over the same `mio`). `mio` is edge-triggered: readiness is
/// gained only from a readable event (or a new session) and lost on
/// `WouldBlock`, and also on a short read (fewer bytes than asked): with
/// epoll and kqueue any byte that arrives after it raises a new event, so
/// no wake-up is lost. A pass started by a writable event, a wake-up or a
/// deadline then skips the `recvfrom` that would only say EAGAIN.
/// Elsewhere (mio's other back ends) only `WouldBlock` clears it. Once
/// the peer's end or an error was seen (`closed`: bytes then the end can
/// arrive as one event) nothing clears it, as tokio never clears its
/// closed readiness, so the end is always read.
struct Pass<'a, S = TcpStream> {
    stream: &'a mut S,
    readable: &'a mut bool,
    closed: bool,
}

/// Whether a short read proves the socket drained (see [`Pass`]).
const SHORT_READ_DRAINS: bool = cfg!(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
));

impl<S: io::Read> io::Read for Pass<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !*self.readable {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let read = self.stream.read(buf);
        match &read {
            _ if self.closed => {}
            Ok(n) if SHORT_READ_DRAINS && *n > 0 && *n < buf.len() => *self.readable = false,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => *self.readable = false,
            _ => {}
        }
        read
    }
}

impl<S: io::Write> io::Write for Pass<'_, S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

impl super::core::SessionIo for Pass<'_> {
    fn shut_write(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    fn read_now(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = io::Read::read(self.stream, buf);
        // Bytes read: more may follow (an edge already taken); empty: as
        // `read` after `WouldBlock`.
        match &read {
            Ok(n) if *n > 0 => *self.readable = true,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && !self.closed => {
                *self.readable = false
            }
            _ => {}
        }
        read
    }
}

/// One session on a worker.
struct Conn<U> {
    stream: TcpStream,
    /// Whether the socket may hold bytes (see [`Pass`]).
    readable: bool,
    /// Whether an event reported the peer's end or an error (see [`Pass`]).
    closed: bool,
    session: Arc<Session<U>>,
    conn: Connection,
    /// When the core wants to be asked again without other input.
    deadline: Option<Instant>,
    /// The time of this session's live entry in the worker's [`Timers`]
    /// (at or before `deadline`).
    queued: Option<Instant>,
    /// The worker's wake-up that last serviced it: a session on the
    /// ready list more than once (an event, a wake-up, a deadline) is
    /// serviced once per wake-up, without sorting the list.
    pass: u64,
}

/// A worker's sessions by token (the session id): looked up for every
/// event, wake-up and deadline, twice per session per wake-up when paced.
type Conns<U> = HashMap<usize, Conn<U>, BuildHasherDefault<TokenHasher>>;

/// Hashes a token (a session id, counted up from 1, never chosen by a
/// peer) with one multiplication: the ids differ in their low bits, which
/// an odd multiplier keeps distinct and spreads to the high ones (the
/// table's tag). The default SipHash guards against keys an attacker
/// picks, which these are not.
#[derive(Default)]
struct TokenHasher(u64);

impl Hasher for TokenHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(TOKEN_MIX);
        }
    }

    fn write_usize(&mut self, token: usize) {
        self.0 = (token as u64).wrapping_mul(TOKEN_MIX);
    }
}

/// An odd constant with well-spread bits (2^64 / the golden ratio).
const TOKEN_MIX: u64 = 0x9E37_79B9_7F4A_7C15;

/// A worker's session deadlines: a min-heap of (time, token) with lazy
/// invalidation, so a worker finds what is due and when to wake without
/// scanning every session. Each session has one live entry, at or before
/// its deadline: a deadline that moves earlier gets a new entry (the old
/// one is skipped when it comes up), one that moves later is re-queued
/// when its entry comes up. Stale entries are dropped once they outnumber
/// the sessions, and room for three entries per session is reserved when
/// it arrives: no allocation per packet.
#[derive(Default)]
struct Timers(BinaryHeap<Reverse<(Instant, usize)>>);

impl Timers {
    /// Room for the entries of `sessions` sessions.
    fn reserve(&mut self, sessions: usize) {
        let want = 3 * sessions + 32;
        self.0.reserve(want.saturating_sub(self.0.len()));
    }

    /// Sets `c`'s deadline.
    fn set<U>(&mut self, token: usize, c: &mut Conn<U>, deadline: Option<Instant>) {
        c.deadline = deadline;
        if let Some(d) = deadline
            && c.queued.is_none_or(|q| d < q)
        {
            self.0.push(Reverse((d, token)));
            c.queued = Some(d);
        }
    }

    /// Adds the sessions whose deadline has come to `due`; the time of
    /// the next entry (when to wake: maybe early, for a deadline that
    /// moved later).
    fn due<U>(
        &mut self,
        conns: &mut Conns<U>,
        now: Instant,
        due: &mut Vec<usize>,
    ) -> Option<Instant> {
        if self.0.len() > 2 * conns.len() + 16 {
            // Only each session's live entry stays.
            self.0
                .retain(|Reverse((at, t))| conns.get(t).is_some_and(|c| c.queued == Some(*at)));
        }
        while let Some(&Reverse((at, token))) = self.0.peek() {
            // Not come up yet: the worker wakes then at the latest (the
            // session's deadline may have moved later since: then the
            // entry is re-queued when it comes up, not on every call).
            if at > now {
                return Some(at);
            }
            self.0.pop();
            let Some(c) = conns.get_mut(&token).filter(|c| c.queued == Some(at)) else {
                continue; // the session ended, or a stale entry
            };
            c.queued = None;
            match c.deadline {
                Some(d) if d <= now => due.push(token),
                later => self.set(token, c, later),
            }
        }
        None
    }
}

/// With a [`ServerConfig::wake_interval`], holds the thread off until
/// its next wait may start (the last wake-up plus the interval), so
/// what arrives meanwhile is served by one wake-up; returns at once once
/// `stop` is set (the stop unparks the thread).
fn hold_off(pacer: Option<&Pacer>, stop: &AtomicBool) {
    let Some(pacer) = pacer else { return };
    while let Some(at) = pacer.hold_until(Instant::now()) {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        thread::park_timeout(at.saturating_duration_since(Instant::now()));
    }
}

fn worker<S, U>(
    core: &ServerCore<S, U>,
    stop: &AtomicBool,
    mut poll: Poll,
    waker: &PollWaker,
    inbox: &Mutex<Vec<NewConn<U>>>,
) {
    let mut conns = Conns::<U>::default();
    let mut pacer = core.config.pacer();
    // Paced, one wait should take in a worker's sessions; a wait that
    // filled it is followed by another at once, so no backlog builds.
    let mut events = Events::with_capacity(if pacer.is_some() { 1024 } else { 256 });
    let mut full = false;
    // Sized up front: `again` is first pushed only when a session stops
    // early for fairness, which may happen long after warm-up (on a
    // loaded machine), and would then be a per-packet allocation.
    let mut ready: Vec<usize> = Vec::with_capacity(64);
    let mut again: Vec<usize> = Vec::with_capacity(64);
    let mut spare = Spare::default();
    let mut timers = Timers::default();
    let mut stopping = false;
    // Counts the wake-ups (see `Conn::pass`).
    let mut passes: u64 = 0;
    loop {
        if again.is_empty() && !full && !stopping {
            hold_off(pacer.as_ref(), stop);
        }
        let now = Instant::now();
        let next = timers.due(&mut conns, now, &mut again);
        let timeout = if again.is_empty() {
            next.map(|d| d.saturating_duration_since(now))
        } else {
            Some(Duration::ZERO)
        };
        if let Err(e) = poll.poll(&mut events, timeout)
            && e.kind() != io::ErrorKind::Interrupted
        {
            thread::sleep(Duration::from_millis(1));
        }
        let now = Instant::now();
        if let Some(p) = &mut pacer {
            p.woke(now);
        }
        ready.clear();
        ready.append(&mut again);
        for e in events.iter().filter(|e| e.token() != WAKE) {
            let token = e.token().0;
            if let Some(c) = conns.get_mut(&token) {
                c.closed |= e.is_read_closed() || e.is_error();
                c.readable |= e.is_readable() || c.closed;
            }
            ready.push(token);
        }
        full = events.iter().count() >= events.capacity();
        waker.take();
        ready.append(&mut lock(&waker.ready));
        for (mut stream, session, conn) in lock(inbox).drain(..) {
            let token = session.id().0 as usize;
            let interest = Interest::READABLE | Interest::WRITABLE;
            let registered = poll
                .registry()
                .register(&mut stream, Token(token), interest);
            if registered.is_err() {
                core.disconnected(&session, false, &DisconnectReason::Shutdown);
                continue;
            }
            timers.reserve(conns.len() + 1);
            let c = Conn {
                stream,
                readable: true,
                closed: false,
                session,
                conn,
                deadline: None,
                queued: None,
                pass: 0,
            };
            conns.insert(token, c);
            ready.push(token);
        }
        if !stopping && stop.load(Ordering::SeqCst) {
            // Every session is serviced now, shut down at its pass below.
            stopping = true;
            ready.extend(conns.keys().copied());
        }
        timers.due(&mut conns, now, &mut ready);
        passes += 1;
        for &token in &ready {
            let Some(c) = conns.get_mut(&token).filter(|c| c.pass != passes) else {
                continue; // ended, or serviced already in this wake-up
            };
            c.pass = passes;
            if stopping {
                c.conn.life().shutdown(now);
            }
            let mut io = Pass {
                stream: &mut c.stream,
                readable: &mut c.readable,
                closed: c.closed,
            };
            match core.service(&c.session, &mut c.conn, &mut io, &mut spare, now) {
                Serviced::Wait {
                    deadline, again: a, ..
                } => {
                    timers.set(token, c, deadline);
                    if a {
                        again.push(token);
                    }
                }
                Serviced::End(reason) => {
                    let mut c = conns.remove(&token).expect("looked up above");
                    let _ = poll.registry().deregister(&mut c.stream);
                    core.disconnected(&c.session, c.conn.is_connected(), &reason);
                    let _ = c.stream.shutdown(Shutdown::Both);
                }
            }
        }
        if stopping && conns.is_empty() {
            return;
        }
    }
}

/// Starts blocking UDP session servers: one socket served by one thread,
/// a session per peer address, the same [`Router`]; see
/// [`crate::server`]'s UDP notes.
///
/// ```
/// use packet_net::server::{blocking::UdpServer, Router, ServerConfig};
/// use packet_net::transport::blocking::UdpPacketSocket;
///
/// let router = Router::<()>::new().on_frame(1, |ctx, f| ctx.reply_raw(1, f.body()));
/// let server = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), router, ())?;
/// let mut client = UdpPacketSocket::bind("127.0.0.1:0")?;
/// client.connect(server.local_addr())?;
/// client.send_raw(1, b"hi")?;
/// assert_eq!(client.recv()?.body(), b"hi");
/// server.shutdown();
/// # Ok::<(), packet_net::transport::TransportError>(())
/// ```
#[derive(Debug)]
pub struct UdpServer;

impl UdpServer {
    /// Binds `addr` and starts the server thread.
    pub fn bind<S: Send + Sync + 'static, U: Send + 'static>(
        addr: impl ToSocketAddrs,
        config: ServerConfig,
        router: Router<S, U>,
        state: S,
    ) -> Result<UdpServerHandle<S, U>, TransportError> {
        Self::bind_on(addr, config, router, state, Threads::default())
    }

    /// [`UdpServer::bind`], its thread started by `threads`.
    pub(crate) fn bind_on<S: Send + Sync + 'static, U: Send + 'static>(
        addr: impl ToSocketAddrs,
        config: ServerConfig,
        router: Router<S, U>,
        state: S,
        mut threads: Threads,
    ) -> Result<UdpServerHandle<S, U>, TransportError> {
        let socket = super::bind_first(addr.to_socket_addrs()?, std::net::UdpSocket::bind)?;
        let local_addr = socket.local_addr()?;
        // Also makes the socket non-blocking, as `from_std` below needs.
        let batch = UdpBatch::server((&socket).into())?;
        let core = Arc::new(ServerCore::new(router, state, config));
        core.bound(local_addr, "udp", threads.driver());
        let (poll, waker) = threads.poll()?;
        let mut socket = UdpSocket::from_std(socket);
        poll.registry()
            .register(&mut socket, SOCKET, Interest::READABLE | Interest::WRITABLE)?;
        let sh = core.clone();
        threads.spawn("packet-udp".into(), move |stop| {
            run_udp(&sh, stop, poll, waker, &socket, &batch)
        })?;
        Ok(ServerHandle {
            local_addr,
            core,
            threads,
        })
    }
}

/// The UDP socket's registration with the poll. Paced (unix), the socket
/// is registered only while the thread waits in the poll, not while it
/// receives, sweeps and sends, nor while it is held off: a socket in an
/// epoll set has the set's entry on its wait queue, and Linux then wakes
/// that queue (two locks taken, the set's callback run) for every
/// datagram the socket sends, once its memory comes back (`sock_wfree`):
/// about 1.3 % of the paced server's CPU at 1,000 peers (and for every
/// datagram it receives, on the sender's time). Two `epoll_ctl` calls a
/// wake-up instead. Nothing is missed: registering reports the socket's
/// readiness at once (readable, writable), as an edge; unpaced, a wake-up
/// serves a few datagrams, so the socket stays registered. The same
/// report lets a toggled thread end its drain on a receive call that
/// filled fewer slots than it had (`recvmmsg` stops when the socket has
/// no datagram left, or on an error after some, which the kernel keeps
/// for the next call): whatever is still there, or arrives, is reported
/// when the socket is registered for the next wait, so the call that
/// would only say `WouldBlock` is saved (one a wake-up).
struct Watch {
    /// The socket, when it toggles (paced, unix); else it stays registered.
    #[cfg(unix)]
    fd: Option<std::os::fd::RawFd>,
    registered: bool,
}

impl Watch {
    /// The socket `bind_on` registered, toggled when `paced`.
    #[cfg_attr(not(unix), allow(unused_variables))]
    fn new(socket: &UdpSocket, paced: bool) -> Self {
        Self {
            #[cfg(unix)]
            fd: paced.then(|| std::os::fd::AsRawFd::as_raw_fd(socket)),
            registered: true,
        }
    }

    /// Registers the socket (`on`: before a wait) or deregisters it
    /// (after one), when it toggles.
    #[cfg_attr(not(unix), allow(unused_variables))]
    fn set(&mut self, registry: &mio::Registry, on: bool) {
        #[cfg(unix)]
        if let Some(fd) = &self.fd
            && self.registered != on
        {
            let interest = Interest::READABLE | Interest::WRITABLE;
            let fd = &mut mio::unix::SourceFd(fd);
            self.registered = match on {
                true => registry.register(fd, SOCKET, interest).is_ok(),
                // Still registered if that failed: the next `set(.., true)` skips.
                false => registry.deregister(fd).is_err(),
            };
        }
    }
}

/// A running UDP server: the same handle as the TCP server's
/// ([`ServerHandle::dropped`] counts the datagrams it dropped).
pub type UdpServerHandle<S, U = ()> = ServerHandle<S, U>;

fn run_udp<S, U>(
    core: &ServerCore<S, U>,
    stop: &AtomicBool,
    mut poll: Poll,
    waker: Arc<PollWaker>,
    socket: &UdpSocket,
    batch: &UdpBatch,
) {
    let mut peers = Peers::new(core, Waker::Poll(waker.clone(), 0), batch.max_segments());
    let mut area = RecvArea::new();
    // Set when the socket refused a send (its buffer full): the frames
    // stay queued, and the next writable event sweeps them out.
    let blocked = AtomicBool::new(false);
    let mut send = |d: &[u8], len: usize, to: SocketAddr| {
        note_blocked(&blocked, batch.send(socket.into(), to, d, len))
    };
    // The sweep's batches: many peers' datagrams per call (`sendmmsg`).
    let mut many = |b: &SendBatch, from: usize| note_blocked(&blocked, b.send(socket.into(), from));
    let mut events = Events::with_capacity(16);
    let mut next = peers.sweep(&mut send, &mut many, Instant::now());
    let mut pacer = core.config.pacer();
    let mut watch = Watch::new(socket, pacer.is_some());
    while !stop.load(Ordering::SeqCst) {
        // Paced: what arrives meanwhile waits in the socket, taken by a
        // few `recvmmsg` below.
        hold_off(pacer.as_ref(), stop);
        watch.set(poll.registry(), true);
        // Not watching the socket (registering failed): look again soon.
        let soon = (!watch.registered).then(|| Instant::now() + Duration::from_millis(1));
        let timeout = earliest(next, soon).map(|d| d.saturating_duration_since(Instant::now()));
        let _ = poll.poll(&mut events, timeout);
        watch.set(poll.registry(), false);
        if let Some(p) = &mut pacer {
            p.woke(Instant::now());
        }
        waker.take();
        // Frames queued or a close from elsewhere (a session's wake).
        let woken = lock(&waker.ready).drain(..).count() > 0;
        // Every datagram waiting, a batch per call, each dispatched and
        // answered at once (its peer settled); paced, answered by the
        // sweep below, one pass over the peers per wake-up. Paced, with the
        // socket out of the poll, a call that filled fewer slots than it
        // had ends the drain (see `Watch`): no last call that only says
        // `WouldBlock`.
        let mut drained = false;
        // A flood that never lets the socket drain holds back neither
        // the stop nor what other threads queued (a broadcast, a task's
        // reply): those end the receiving within 8 calls, for the sweep.
        let interrupt = || stop.load(Ordering::Relaxed) || woken || waker.is_woken();
        let (at, _) = recv_until_blocked(usize::MAX, next, &interrupt, || {
            if drained {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let mut recv = |each: &mut dyn FnMut(SocketAddr, &mut [u8])| {
                batch.recv(&mut area, socket.into(), each)
            };
            match pacer {
                // Dispatched, not answered: the sweep below sends for
                // every peer (one pass over the peers a wake-up).
                Some(_) => {
                    let now = Instant::now();
                    recv(&mut |from, d| peers.on_datagram(from, d, now)).map(|n| {
                        drained = !watch.registered && n < RECV_SLOTS;
                        None
                    })
                }
                None => peers.recv_batch(recv, &mut send, &mut many, Instant::now()),
            }
        });
        next = at;
        // One pass over every peer when paced, a session was woken or a
        // deadline is due, not after every receive (a pass per input
        // datagram at 1,000 peers was most of this thread's time).
        let now = Instant::now();
        let writable = events
            .iter()
            .any(|e| e.token() == SOCKET && e.is_writable());
        let due = next.is_some_and(|at| at <= now);
        let woken = woken || waker.is_woken();
        if pacer.is_some() || woken || due || (writable && blocked.load(Ordering::Relaxed)) {
            blocked.store(false, Ordering::Relaxed);
            next = peers.sweep(&mut send, &mut many, now);
        }
    }
    // Graceful stop: flush what is queued, within the grace period.
    watch.set(poll.registry(), true);
    peers.shutdown(Instant::now());
    // Between passes it waits for a wake (a reply queued, work in flight
    // done), the socket's room or the next deadline, 10 ms at most.
    loop {
        waker.take();
        lock(&waker.ready).clear();
        let Some(deadline) = peers.drain(&mut send, &mut many, Instant::now()) else {
            break;
        };
        let wait = deadline.saturating_duration_since(Instant::now());
        let _ = poll.poll(&mut events, Some(wait.min(Duration::from_millis(10))));
    }
    peers.end_all();
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::io::{self, Read};

    use super::{Pass, SHORT_READ_DRAINS};

    /// A socket that answers reads from a script: `Some(n)` gives `n`
    /// bytes, `None` says `WouldBlock`; it counts the reads asked of it.
    struct Script {
        reads: VecDeque<Option<usize>>,
        asked: usize,
    }

    impl Script {
        fn new(reads: impl IntoIterator<Item = Option<usize>>) -> Self {
            Self {
                reads: reads.into_iter().collect(),
                asked: 0,
            }
        }
    }

    impl io::Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.asked += 1;
            match self.reads.pop_front().flatten() {
                Some(n) => Ok(n.min(buf.len())),
                None => Err(io::ErrorKind::WouldBlock.into()),
            }
        }
    }

    fn pass<'a>(s: &'a mut Script, readable: &'a mut bool, closed: bool) -> Pass<'a, Script> {
        Pass {
            stream: s,
            readable,
            closed,
        }
    }

    #[test]
    fn a_socket_not_readable_is_not_read() {
        let mut s = Script::new([Some(8)]);
        let mut readable = false;
        let e = pass(&mut s, &mut readable, false).read(&mut [0; 8]);
        assert_eq!(e.unwrap_err().kind(), io::ErrorKind::WouldBlock);
        assert_eq!(s.asked, 0, "no recvfrom that could only say EAGAIN");
    }

    #[test]
    fn would_block_clears_readiness_and_a_full_read_keeps_it() {
        let mut s = Script::new([Some(8), None]);
        let mut readable = true;
        let mut buf = [0; 8];
        assert_eq!(
            pass(&mut s, &mut readable, false).read(&mut buf).unwrap(),
            8
        );
        assert!(readable, "a full read may leave bytes behind");
        assert!(pass(&mut s, &mut readable, false).read(&mut buf).is_err());
        assert!(!readable);
        assert_eq!(s.asked, 2);
    }

    #[test]
    fn a_short_read_clears_readiness_where_it_proves_the_socket_drained() {
        let mut s = Script::new([Some(3)]);
        let mut readable = true;
        let mut buf = [0; 8];
        assert_eq!(
            pass(&mut s, &mut readable, false).read(&mut buf).unwrap(),
            3
        );
        assert_eq!(readable, !SHORT_READ_DRAINS);
        // The end of the stream (0 bytes) never clears it.
        let mut end = Script::new([Some(0)]);
        let mut readable = true;
        assert_eq!(
            pass(&mut end, &mut readable, false).read(&mut buf).unwrap(),
            0
        );
        assert!(readable);
    }

    #[test]
    fn once_closed_nothing_clears_readiness_so_the_end_is_read() {
        let mut s = Script::new([Some(3), None, Some(0)]);
        let mut readable = true;
        let mut buf = [0; 8];
        for _ in 0..3 {
            let _ = pass(&mut s, &mut readable, true).read(&mut buf);
            assert!(readable);
        }
        assert_eq!(s.asked, 3);
    }
}
