//! The multi-threaded blocking server: one acceptor thread and a pool of
//! worker threads.
//!
//! The acceptor registers each connection as a [`Session`] (or closes it
//! when `max_sessions` are open) and hands it to a worker, round robin.
//! Each worker owns its sessions' sockets (non-blocking) and polls them:
//! read into the session's bounded [`Inbox`], dispatch every complete frame
//! through the [`Router`], flush the session's [`Outbox`](crate::transport::Outbox), check the
//! partial-frame and idle timeouts. A worker with nothing to do parks for a
//! fraction of a millisecond; other threads that queue frames for one of
//! its sessions unpark it.
//!
//! A session whose outbox is above half full is not read from until it
//! drains (back-pressure reaches the peer through TCP).
//!
//! ```
//! use packet_net::server::{blocking::Server, Router, ServerConfig};
//! use packet_net::transport::blocking::TcpPacketStream;
//!
//! let router = Router::<()>::new().on_frame(1, |ctx, f| ctx.reply_raw(1, f.body()));
//! let server = Server::bind("127.0.0.1:0", ServerConfig::default(), router, ())?;
//! let mut client = TcpPacketStream::connect(server.local_addr())?;
//! client.send_raw(1, b"hi")?;
//! assert_eq!(client.recv()?.body(), b"hi");
//! server.shutdown();
//! # Ok::<(), packet_net::transport::TransportError>(())
//! ```

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};
use std::vec::Vec;

use super::udp::Peers;
use super::{
    DisconnectReason, Router, ServerConfig, ServerCore, Session, SessionTimers, Sessions,
    StatsSnapshot, Waker, reason_for,
};
use crate::transport::{Inbox, TransportError};

struct Shared<S> {
    core: ServerCore<S>,
    stop: AtomicBool,
}

/// Starts blocking servers; see the module docs.
#[derive(Debug)]
pub struct Server;

impl Server {
    /// Binds `addr` and starts the acceptor and `config.workers` workers.
    pub fn bind<S: Send + Sync + 'static>(
        addr: impl ToSocketAddrs,
        config: ServerConfig,
        router: Router<S>,
        state: S,
    ) -> Result<ServerHandle<S>, TransportError> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let workers_n = config.workers.max(1);
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            core: ServerCore::new(router, state, config),
            stop: AtomicBool::new(false),
        });
        let mut workers = Vec::new();
        let mut senders = Vec::new();
        for i in 0..workers_n {
            let (tx, rx) = mpsc::channel();
            let sh = shared.clone();
            let handle = thread::Builder::new()
                .name(std::format!("packet-worker-{i}"))
                .spawn(move || worker(&sh, &rx))?;
            senders.push((tx, handle.thread().clone()));
            workers.push(handle);
        }
        let sh = shared.clone();
        let acceptor = thread::Builder::new()
            .name("packet-acceptor".into())
            .spawn(move || acceptor(&sh, &listener, senders))?;
        Ok(ServerHandle {
            local_addr,
            shared,
            acceptor: Some(acceptor),
            workers,
        })
    }
}

/// A running blocking server. Dropping it shuts it down gracefully.
pub struct ServerHandle<S: Send + Sync + 'static> {
    local_addr: SocketAddr,
    shared: Arc<Shared<S>>,
    acceptor: Option<JoinHandle<()>>,
    workers: Vec<JoinHandle<()>>,
}

impl<S: Send + Sync + 'static> std::fmt::Debug for ServerHandle<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl<S: Send + Sync + 'static> ServerHandle<S> {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The session manager (send, broadcast, close from outside handlers).
    pub fn sessions(&self) -> &Arc<Sessions> {
        &self.shared.core.sessions
    }

    /// The shared state.
    pub fn state(&self) -> &S {
        &self.shared.core.state
    }

    /// The counters.
    pub fn stats(&self) -> StatsSnapshot {
        self.shared.core.sessions.stats()
    }

    /// Stops accepting, dispatches frames already received, flushes queued
    /// frames (within the grace period), closes every session and joins
    /// the threads.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
        for w in self.workers.drain(..) {
            w.thread().unpark();
            let _ = w.join();
        }
    }
}

impl<S: Send + Sync + 'static> Drop for ServerHandle<S> {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

type NewConn = (TcpStream, Arc<Session>);

fn acceptor<S>(
    sh: &Shared<S>,
    listener: &TcpListener,
    workers: Vec<(mpsc::Sender<NewConn>, thread::Thread)>,
) {
    let mut next = 0;
    while !sh.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, peer)) => {
                let (tx, thread) = &workers[next % workers.len()];
                next += 1;
                if stream.set_nonblocking(true).is_err() || stream.set_nodelay(true).is_err() {
                    continue;
                }
                let core = &sh.core;
                let Some(session) = core.sessions.register(
                    peer,
                    &core.config,
                    Waker::Thread(thread.clone()),
                    core.config.max_sessions,
                ) else {
                    let _ = stream.shutdown(Shutdown::Both);
                    continue;
                };
                if tx.send((stream, session.clone())).is_err() {
                    core.sessions
                        .remove(session.id(), &DisconnectReason::Shutdown);
                }
                thread.unpark();
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // WouldBlock (nothing pending) or a transient failure such as
            // running out of descriptors: wait a little.
            Err(_) => thread::sleep(Duration::from_millis(1)),
        }
    }
    // Dropping the senders tells the workers no more sessions come.
}

struct Conn {
    stream: TcpStream,
    inbox: Inbox,
    session: Arc<Session>,
    half_limit: usize,
    timers: SessionTimers,
    read_closed: bool,
    end: Option<DisconnectReason>,
}

fn worker<S>(sh: &Shared<S>, rx: &mpsc::Receiver<NewConn>) {
    let mut conns: Vec<Conn> = Vec::new();
    let mut idle = Backoff::default();
    let mut acceptor_done = false;
    let mut stop_at: Option<Instant> = None;
    loop {
        loop {
            match rx.try_recv() {
                Ok((stream, session)) => {
                    let inbox = sh.core.connected(&session);
                    let half_limit = session.outbox().queue_ref().limit() / 2;
                    conns.push(Conn {
                        stream,
                        inbox,
                        session,
                        half_limit,
                        timers: SessionTimers::new(Instant::now()),
                        read_closed: false,
                        end: None,
                    });
                }
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    acceptor_done = true;
                    break;
                }
            }
        }
        let now = Instant::now();
        let stopping = sh.stop.load(Ordering::SeqCst);
        if stopping && stop_at.is_none() {
            stop_at = Some(now);
        }
        let past_grace =
            stop_at.is_some_and(|t| now.duration_since(t) > sh.core.config.shutdown_grace);
        let mut progress = false;
        for c in conns.iter_mut() {
            progress |= service(sh, c, now, stopping, past_grace);
        }
        conns.retain_mut(|c| match c.end.take() {
            Some(reason) => {
                finish(sh, c, reason);
                false
            }
            None => true,
        });
        if stopping && acceptor_done && conns.is_empty() {
            return;
        }
        idle.pause_unless(progress);
    }
}

/// One polling pass over a connection; returns whether anything moved.
fn service<S>(
    sh: &Shared<S>,
    c: &mut Conn,
    now: Instant,
    stopping: bool,
    past_grace: bool,
) -> bool {
    let mut progress = false;
    // Read and dispatch, unless the peer must first drain its queue.
    if !stopping && !c.read_closed && !c.session.is_closing() {
        for _ in 0..4 {
            if c.session.outbox().len() > c.half_limit {
                break;
            }
            match c.inbox.read_from(&mut c.stream) {
                Ok(0) => {
                    c.read_closed = true;
                    break;
                }
                Ok(_) => {
                    progress = true;
                    c.timers.received(now);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    c.end = Some(reason_for(e.into()));
                    return true;
                }
            }
            dispatch_ready(sh, c);
            if c.end.is_some() {
                return true;
            }
        }
    }
    // Frames already buffered are dispatched even while stopping.
    dispatch_ready(sh, c);
    if c.end.is_some() {
        return true;
    }
    // Timeouts.
    if c.read_closed {
        if c.inbox.buffered() > 0 {
            c.end = Some(reason_for(c.inbox.end_of_stream()));
            return true;
        }
    } else if let Err(reason) = c
        .timers
        .check(now, c.inbox.buffered(), &sh.core.config, stopping)
    {
        c.end = Some(reason);
        return true;
    }
    // Flush.
    let empty = match ServerCore::<S>::flush(&c.session, &mut c.stream) {
        Ok(f) => {
            progress |= f.written > 0;
            f.empty
        }
        Err(reason) => {
            c.end = Some(reason);
            return true;
        }
    };
    if c.session.overflowed.load(Ordering::Relaxed) {
        c.end = Some(DisconnectReason::SlowConsumer);
    } else if empty && c.read_closed {
        c.end = Some(DisconnectReason::PeerClosed);
    } else if empty && c.session.is_closing() {
        c.end = Some(DisconnectReason::Closed);
    } else if stopping && (empty || past_grace) {
        c.end = Some(DisconnectReason::Shutdown);
    }
    progress || c.end.is_some()
}

fn dispatch_ready<S>(sh: &Shared<S>, c: &mut Conn) {
    if let Err(reason) = sh.core.dispatch_ready(&c.session, &mut c.inbox) {
        c.end = Some(reason);
    }
}

fn finish<S>(sh: &Shared<S>, c: &mut Conn, reason: DisconnectReason) {
    sh.core.disconnected(&c.session, &reason);
    let _ = c.stream.shutdown(Shutdown::Both);
}

/// Starts blocking UDP session servers: one socket polled by one thread,
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
    pub fn bind<S: Send + Sync + 'static>(
        addr: impl ToSocketAddrs,
        config: ServerConfig,
        router: Router<S>,
        state: S,
    ) -> Result<UdpServerHandle<S>, TransportError> {
        let socket = UdpSocket::bind(addr)?;
        socket.set_nonblocking(true)?;
        let local_addr = socket.local_addr()?;
        let shared = Arc::new(Shared {
            core: ServerCore::new(router, state, config),
            stop: AtomicBool::new(false),
        });
        let sh = shared.clone();
        let thread = thread::Builder::new()
            .name("packet-udp".into())
            .spawn(move || run_udp(&sh, &socket))?;
        Ok(UdpServerHandle(ServerHandle {
            local_addr,
            shared,
            acceptor: Some(thread),
            workers: Vec::new(),
        }))
    }
}

/// A running blocking UDP server: a [`ServerHandle`] (address, sessions,
/// state, counters, through `Deref`) plus the dropped-datagram counter.
/// Dropping it shuts it down gracefully.
pub struct UdpServerHandle<S: Send + Sync + 'static>(ServerHandle<S>);

impl<S: Send + Sync + 'static> std::fmt::Debug for UdpServerHandle<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("UdpServerHandle").field(&self.0).finish()
    }
}

impl<S: Send + Sync + 'static> std::ops::Deref for UdpServerHandle<S> {
    type Target = ServerHandle<S>;
    fn deref(&self) -> &ServerHandle<S> {
        &self.0
    }
}

impl<S: Send + Sync + 'static> UdpServerHandle<S> {
    /// Datagrams dropped: invalid, forged or replayed, from a new peer
    /// beyond `max_sessions`, or queued frames the socket refused.
    pub fn dropped(&self) -> u64 {
        self.0.shared.core.dropped.load(Ordering::Relaxed)
    }

    /// Stops receiving, flushes queued frames (within the grace period),
    /// ends every session and joins the thread.
    pub fn shutdown(self) {
        self.0.shutdown();
    }
}

fn run_udp<S>(sh: &Shared<S>, socket: &UdpSocket) {
    let core = &sh.core;
    let mut peers = Peers::new(core, Waker::Thread(thread::current()));
    let max = core.config.transport.frame.max_frame_len() as usize;
    // One byte more than the largest frame: an over-long datagram shows
    // up as trailing bytes instead of being cut to a plausible size.
    let mut buf = std::vec![0u8; max + 4];
    let mut send = |d: &[u8], to: SocketAddr| socket.send_to(d, to);
    let mut idle = Backoff::default();
    let mut last_sweep = Instant::now();
    while !sh.stop.load(Ordering::SeqCst) {
        let mut progress = false;
        // A batch of datagrams, each dispatched and answered at once.
        for _ in 0..64 {
            match socket.recv_from(&mut buf) {
                Ok((len, from)) => {
                    progress = true;
                    peers.on_datagram(from, &mut buf[..len], Instant::now());
                    peers.settle(from, &mut send, false);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                // Per-datagram errors (e.g. an ICMP report about an
                // earlier send): keep serving.
                Err(_) => {}
            }
        }
        // Frames queued for other peers (broadcasts, other threads), the
        // idle timeout, sessions closed from outside: a pass over every
        // peer, so when idle or at most every millisecond under load.
        let now = Instant::now();
        if !progress || now.duration_since(last_sweep) >= Duration::from_millis(1) {
            peers.sweep(&mut send, now, false);
            last_sweep = now;
        }
        idle.pause_unless(progress);
    }
    // Graceful stop: flush what is queued, within the grace period.
    let deadline = Instant::now() + core.config.shutdown_grace;
    loop {
        peers.sweep(&mut send, Instant::now(), true);
        if peers.is_empty() || Instant::now() >= deadline {
            break;
        }
        thread::sleep(Duration::from_millis(1));
    }
    peers.end_all();
}

/// How a polling loop waits when a pass moved nothing: yields a few
/// times, then parks for a fraction of a millisecond (an unpark from a
/// thread that queued frames ends the park early).
#[derive(Default)]
struct Backoff(u32);

impl Backoff {
    fn pause_unless(&mut self, progress: bool) {
        if progress {
            self.0 = 0;
            return;
        }
        self.0 = self.0.saturating_add(1);
        if self.0 < 32 {
            thread::yield_now();
        } else {
            thread::park_timeout(Duration::from_micros(500));
        }
    }
}
