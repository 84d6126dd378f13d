//! The tokio server: an acceptor task and one task per session.
//!
//! Each session task owns its socket and its bounded [`Inbox`]; it reads
//! when the socket is readable (and its outbox is under half full),
//! dispatches every complete frame through the [`Router`] (handlers are
//! synchronous closures: they queue replies, they do not await), flushes
//! the session's [`Outbox`](crate::transport::Outbox), and enforces the partial-frame and idle
//! timeouts. Other sessions queue frames for it through [`Sessions`] and
//! wake it with a `Notify`.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), packet_net::transport::TransportError> {
//! use packet_net::server::{tokio::Server, Router, ServerConfig};
//! use packet_net::transport::tokio::TcpPacketStream;
//!
//! let router = Router::<()>::new().on_frame(1, |ctx, f| ctx.reply_raw(1, f.body()));
//! let server = Server::bind("127.0.0.1:0", ServerConfig::default(), router, ()).await?;
//! let mut client = TcpPacketStream::connect(server.local_addr()).await?;
//! client.send_raw(1, b"hi").await?;
//! assert_eq!(client.recv().await?.body(), b"hi");
//! server.shutdown().await;
//! # Ok(()) }
//! ```

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::udp::Peers;
use super::{
    DisconnectReason, Router, ServerConfig, ServerCore, Session, SessionTimers, Sessions,
    StatsSnapshot, Waker, reason_for,
};
use crate::transport::tokio::TryIo;
use crate::transport::{Inbox, TransportError};

type Shared<S> = ServerCore<S>;

/// Starts tokio servers; see the module docs.
#[derive(Debug)]
pub struct Server;

impl Server {
    /// Binds `addr` and spawns the acceptor on the current runtime.
    pub async fn bind<S: Send + Sync + 'static>(
        addr: impl ToSocketAddrs,
        config: ServerConfig,
        router: Router<S>,
        state: S,
    ) -> Result<ServerHandle<S>, TransportError> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(ServerCore::new(router, state, config));
        let (stop_tx, stop_rx) = watch::channel(false);
        let acceptor = tokio::spawn(acceptor(shared.clone(), listener, stop_rx));
        Ok(ServerHandle {
            local_addr,
            shared,
            stop: stop_tx,
            acceptor: Some(acceptor),
        })
    }
}

/// A running tokio server. Dropping it stops it without waiting; call
/// [`ServerHandle::shutdown`] to wait for the queued frames to go out.
pub struct ServerHandle<S> {
    pub(super) local_addr: SocketAddr,
    pub(super) shared: Arc<Shared<S>>,
    pub(super) stop: watch::Sender<bool>,
    /// The acceptor (TCP) or the socket task (UDP).
    pub(super) acceptor: Option<tokio::task::JoinHandle<()>>,
}

impl<S> std::fmt::Debug for ServerHandle<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl<S> ServerHandle<S> {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The session manager.
    pub fn sessions(&self) -> &Arc<Sessions> {
        &self.shared.sessions
    }

    /// The shared state.
    pub fn state(&self) -> &S {
        &self.shared.state
    }

    /// The counters.
    pub fn stats(&self) -> StatsSnapshot {
        self.shared.sessions.stats()
    }

    /// Stops accepting, dispatches frames already received, flushes queued
    /// frames (within the grace period) and waits for every session to
    /// close.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(a) = self.acceptor.take() {
            let _ = a.await;
        }
    }
}

impl<S> Drop for ServerHandle<S> {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn acceptor<S: Send + Sync + 'static>(
    sh: Arc<Shared<S>>,
    listener: TcpListener,
    mut stop: watch::Receiver<bool>,
) {
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else {
                    // Transient (e.g. out of descriptors): back off a little.
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                    continue;
                };
                if stream.set_nodelay(true).is_err() {
                    continue;
                }
                let notify = Arc::new(Notify::new());
                let Some(session) = sh.sessions.register(
                    peer,
                    &sh.config,
                    Waker::Notify(notify.clone()),
                    sh.config.max_sessions,
                ) else {
                    continue; // dropping the stream closes it
                };
                tasks.spawn(run_session(sh.clone(), stream, session, notify, stop.clone()));
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
    drop(listener);
    while tasks.join_next().await.is_some() {}
}

async fn run_session<S>(
    sh: Arc<Shared<S>>,
    stream: TcpStream,
    session: Arc<Session>,
    notify: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let mut inbox = sh.connected(&session);
    let reason = drive(&sh, &stream, &session, &notify, &mut stop, &mut inbox).await;
    sh.disconnected(&session, &reason);
}

async fn drive<S>(
    sh: &Shared<S>,
    stream: &TcpStream,
    session: &Session,
    notify: &Notify,
    stop: &mut watch::Receiver<bool>,
    inbox: &mut Inbox,
) -> DisconnectReason {
    let config = &sh.config;
    let half_limit = session.outbox().queue_ref().limit() / 2;
    let mut timers = SessionTimers::new(Instant::now());
    let mut read_closed = false;
    let mut stop_deadline: Option<Instant> = if *stop.borrow() {
        Some(Instant::now() + config.shutdown_grace)
    } else {
        None
    };
    loop {
        // Dispatch what is buffered.
        if let Err(reason) = sh.dispatch_ready(session, inbox) {
            return reason;
        }
        // Flush what the socket takes now.
        let (empty, queued) = match ServerCore::<S>::flush(session, &mut TryIo(stream)) {
            Ok(f) => (f.empty, f.queued),
            Err(reason) => return reason,
        };
        let now = Instant::now();
        if session.overflowed.load(Ordering::Relaxed) {
            return DisconnectReason::SlowConsumer;
        }
        if read_closed && inbox.buffered() > 0 {
            return reason_for(inbox.end_of_stream());
        }
        if empty && read_closed {
            return DisconnectReason::PeerClosed;
        }
        if empty && session.is_closing() {
            return DisconnectReason::Closed;
        }
        if let Some(deadline) = stop_deadline
            && (empty || now >= deadline)
        {
            return DisconnectReason::Shutdown;
        }
        // The next deadline: partial frame, idle, shutdown grace.
        let deadline = match timers.check(now, inbox.buffered(), config, stop_deadline.is_some()) {
            Ok(Some(t)) => Some(stop_deadline.map_or(t, |d| d.min(t))),
            Ok(None) => stop_deadline,
            Err(reason) => return reason,
        };
        let want_read = stop_deadline.is_none()
            && !read_closed
            && !session.is_closing()
            && queued <= half_limit;
        let sleep = sleep_until(deadline);
        tokio::select! {
            biased;
            _ = stop.changed(), if stop_deadline.is_none() => {
                stop_deadline = Some(Instant::now() + config.shutdown_grace);
            }
            _ = notify.notified() => {}
            ready = stream.writable(), if !empty => {
                if let Err(e) = ready {
                    return reason_for(e.into());
                }
            }
            ready = stream.readable(), if want_read => {
                if let Err(e) = ready {
                    return reason_for(e.into());
                }
                match inbox.read_from(&mut TryIo(stream)) {
                    Ok(0) => read_closed = true,
                    Ok(_) => timers.received(Instant::now()),
                    Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {}
                    Err(e) => return reason_for(e.into()),
                }
            }
            _ = sleep => {}
        }
    }
}

/// Starts tokio UDP session servers: one socket, a session per peer
/// address, the same [`Router`]; see [`crate::server`]'s UDP notes.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), packet_net::transport::TransportError> {
/// use packet_net::server::{tokio::UdpServer, Router, ServerConfig};
/// use packet_net::transport::tokio::UdpPacketSocket;
///
/// let router = Router::<()>::new().on_frame(1, |ctx, f| ctx.reply_raw(1, f.body()));
/// let server = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), router, ()).await?;
/// let mut client = UdpPacketSocket::bind("127.0.0.1:0").await?;
/// client.connect(server.local_addr()).await?;
/// client.send_raw(1, b"hi").await?;
/// assert_eq!(client.recv().await?.body(), b"hi");
/// server.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct UdpServer;

impl UdpServer {
    /// Binds `addr` and spawns the server task on the current runtime.
    pub async fn bind<S: Send + Sync + 'static>(
        addr: impl ToSocketAddrs,
        config: ServerConfig,
        router: Router<S>,
        state: S,
    ) -> Result<UdpServerHandle<S>, TransportError> {
        let socket = tokio::net::UdpSocket::bind(addr).await?;
        let local_addr = socket.local_addr()?;
        let shared = Arc::new(ServerCore::new(router, state, config));
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(run_udp(shared.clone(), socket, stop_rx));
        Ok(UdpServerHandle(ServerHandle {
            local_addr,
            shared,
            stop,
            acceptor: Some(task),
        }))
    }
}

/// A running UDP server: a tokio [`ServerHandle`] (address, sessions,
/// state, counters, through `Deref`) plus the dropped-datagram counter.
/// Dropping it stops it without waiting; call
/// [`UdpServerHandle::shutdown`] to flush queued frames first.
pub struct UdpServerHandle<S>(ServerHandle<S>);

impl<S> std::fmt::Debug for UdpServerHandle<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("UdpServerHandle").field(&self.0).finish()
    }
}

impl<S> std::ops::Deref for UdpServerHandle<S> {
    type Target = ServerHandle<S>;
    fn deref(&self) -> &ServerHandle<S> {
        &self.0
    }
}

impl<S> UdpServerHandle<S> {
    /// Datagrams dropped: invalid, forged or replayed, from a new peer
    /// beyond `max_sessions`, or queued frames the socket refused.
    pub fn dropped(&self) -> u64 {
        self.0.shared.dropped.load(Ordering::Relaxed)
    }

    /// Stops receiving, flushes queued frames (within the grace period)
    /// and ends every session.
    pub async fn shutdown(self) {
        self.0.shutdown().await;
    }
}

async fn run_udp<S>(
    sh: Arc<Shared<S>>,
    socket: tokio::net::UdpSocket,
    mut stop: watch::Receiver<bool>,
) {
    let notify = Arc::new(Notify::new());
    let mut peers = Peers::new(&sh, Waker::Notify(notify.clone()));
    let max = sh.config.transport.frame.max_frame_len() as usize;
    // One byte more than the largest frame: an over-long datagram shows
    // up as trailing bytes instead of being cut to a plausible size.
    let mut buf = std::vec![0u8; max + 4];
    let mut send = |d: &[u8], to: SocketAddr| socket.try_send_to(d, to);
    let mut next_sweep = peers.sweep(&mut send, Instant::now(), false);
    loop {
        let sleep = sleep_until(next_sweep);
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            _ = notify.notified() => {
                next_sweep = peers.sweep(&mut send, Instant::now(), false);
            }
            ready = socket.writable(), if peers.backlog => {
                if ready.is_ok() {
                    next_sweep = peers.sweep(&mut send, Instant::now(), false);
                }
            }
            received = socket.recv_from(&mut buf) => {
                // Errors here are per datagram (e.g. an ICMP report about
                // an earlier send): keep serving.
                if let Ok((len, from)) = received {
                    let now = Instant::now();
                    peers.on_datagram(from, &mut buf[..len], now);
                    peers.settle(from, &mut send, false);
                    if next_sweep.is_none() {
                        next_sweep = sh.config.idle_timeout.map(|idle| now + idle);
                    }
                }
            }
            _ = sleep => {
                next_sweep = peers.sweep(&mut send, Instant::now(), false);
            }
        }
    }
    // Graceful stop: flush what is queued, within the grace period.
    let deadline = Instant::now() + sh.config.shutdown_grace;
    loop {
        peers.sweep(&mut send, Instant::now(), true);
        if peers.is_empty() || Instant::now() >= deadline {
            break;
        }
        let wait = tokio::time::sleep_until(deadline.into());
        tokio::select! {
            _ = socket.writable() => {}
            _ = wait => {}
        }
        // Give the socket a moment to drain before retrying.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    peers.end_all();
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}
