//! The tokio server: an acceptor task and one task per session.
//!
//! Each session task owns its socket and its session core; it runs the
//! same `ServerCore::service` step as the blocking workers (read what
//! the core wants, dispatch through the [`Router`], write, ask the core
//! whether the session ends) and then waits for what the step asked for:
//! readable, writable, a `Notify` from another session that queued
//! frames for it, the shutdown, or the core's next deadline. Handlers are
//! synchronous closures: they queue replies, they do not await; to await,
//! a handler spawns a task with a `'static` handle to its session
//! (`ctx.session().clone()`, then [`Session::send`](super::Session::send);
//! see `examples/examples/async_server.rs`).
//!
//! With [`ServerConfig::wake_interval`] set, the server is the blocking
//! one (`server::blocking`: worker threads, or the UDP thread, that wait
//! at most once per interval), its threads inside the runtime `bind` ran
//! on, so handlers may still `tokio::spawn`.
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
//! drop(client); // the shutdown waits (within the grace) for clients to close
//! server.shutdown().await;
//! # Ok(()) }
//! ```

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::udp::{Peers, note_blocked};
use super::{
    DEADLINE_CHECK_EVERY, Router, ServerConfig, ServerCore, Serviced, Session, Waker,
    handle_methods, recv_until_blocked,
};
use crate::session::{Connection, earliest};
use crate::transport::TransportError;
use crate::transport::batch::{RecvArea, SendBatch, UdpBatch};
use crate::transport::queue::Spare;

/// A session socket as `Read + Write` for [`ServerCore::service`]. Reads
/// go through tokio's `AsyncRead`, which takes a short read (fewer bytes
/// than asked) as "drained" on epoll / kqueue and clears the read
/// readiness (any later bytes raise a new edge, so no wake-up is lost):
/// the pass's next read then returns `WouldBlock` without the `recvfrom`
/// that would only say EAGAIN. `try_read` clears readiness only on
/// EAGAIN, so it cost two syscalls per input. Writes are `try_write`.
struct SessionIo<'a>(&'a mut TcpStream);

impl io::Read for SessionIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // `Pending` (not readable, or the task's cooperative budget is
        // spent) is `WouldBlock`: the driver then awaits `readable()`,
        // which registers the task's own waker.
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let mut buf = ReadBuf::new(buf);
        match Pin::new(&mut *self.0).poll_read(&mut cx, &mut buf) {
            std::task::Poll::Ready(read) => read.map(|()| buf.filled().len()),
            std::task::Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl io::Write for SessionIo<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl super::core::SessionIo for SessionIo<'_> {
    fn shut_write(&mut self) {
        // tokio's `poll_shutdown` of a `TcpStream` shuts the write side
        // at once and is always ready.
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let _ = Pin::new(&mut *self.0).poll_shutdown(&mut cx);
    }

    fn read_now(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // The socket itself, not tokio's cached readiness, which lags
        // behind bytes that arrived while this task ran a handler (the
        // reactor has not seen them yet). A read past tokio leaves its
        // readiness set at worst: the next `poll_read` asks the socket.
        io::Read::read(&mut &*socket2::SockRef::from(&*self.0), buf)
    }
}

thread_local! {
    /// The buffers each runtime thread lends the session it is serving
    /// (so an idle session holds none).
    static SPARE: RefCell<Spare> = RefCell::new(Spare::default());
}

/// Starts tokio servers; see the module docs.
#[derive(Debug)]
pub struct Server;

impl Server {
    /// Binds `addr` and spawns the acceptor on the current runtime.
    pub async fn bind<S: Send + Sync + 'static, U: Send + 'static>(
        addr: impl ToSocketAddrs,
        config: ServerConfig,
        router: Router<S, U>,
        state: S,
    ) -> Result<ServerHandle<S, U>, TransportError> {
        // Resolved without blocking the runtime.
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host(addr).await?.collect();
        if config.pacer().is_some() {
            return paced(&addrs, config, router, state, false);
        }
        let listener = super::bind_first(addrs, std::net::TcpListener::bind)?;
        listener.set_nonblocking(true)?;
        let listener = TcpListener::from_std(listener)?;
        let local_addr = listener.local_addr()?;
        let core = Arc::new(ServerCore::new(router, state, config));
        core.bound(local_addr, "tcp", "tokio");
        let (stop, stop_rx) = watch::channel(false);
        let task = Some(tokio::spawn(acceptor(core.clone(), listener, stop_rx)));
        Ok(ServerHandle {
            local_addr,
            core,
            stop,
            task,
            paced: None,
        })
    }
}

/// With a wake interval, a tokio server is the blocking one (its paced
/// waits: tokio's edge-triggered reactor would wake for every arrival)
/// on threads that entered this runtime, so handlers may `tokio::spawn`.
fn paced<S: Send + Sync + 'static, U: Send + 'static>(
    addrs: &[SocketAddr],
    config: ServerConfig,
    router: Router<S, U>,
    state: S,
    udp: bool,
) -> Result<ServerHandle<S, U>, TransportError> {
    use super::blocking::{Server, Threads, UdpServer};
    let threads = Threads::entering(tokio::runtime::Handle::current());
    let inner = match udp {
        false => Server::bind_on(addrs, config, router, state, threads)?,
        true => UdpServer::bind_on(addrs, config, router, state, threads)?,
    };
    Ok(ServerHandle {
        local_addr: inner.local_addr,
        core: inner.core,
        stop: watch::channel(false).0,
        task: None,
        paced: Some(inner.threads),
    })
}

/// A running tokio server (TCP or UDP). Dropping it stops it without
/// waiting; call [`ServerHandle::shutdown`] to wait for the queued frames
/// to go out.
pub struct ServerHandle<S, U = ()> {
    local_addr: SocketAddr,
    core: Arc<ServerCore<S, U>>,
    stop: watch::Sender<bool>,
    /// The acceptor (TCP) or the socket task (UDP).
    task: Option<tokio::task::JoinHandle<()>>,
    /// With a wake interval: the threads of the blocking server that
    /// serves instead.
    paced: Option<super::blocking::Threads>,
}

handle_methods!();

impl<S, U> ServerHandle<S, U> {
    /// Stops accepting, dispatches frames already received, flushes queued
    /// frames and each session's close notice, and waits for every
    /// session to close (a TCP session once its client has closed after
    /// the notice, so the close does not reset the connection under it),
    /// all within the grace period.
    ///
    /// Work in flight (an async handler's task, or any
    /// [`Session::work`](super::Session::work) guard) is waited for within
    /// the grace: its reply leaves before the session's notice.
    ///
    /// A handler still running is waited for: the grace bounds the
    /// network, not a handler that blocks, which holds the shutdown for as
    /// long as it blocks, and its runtime thread meanwhile (handlers must
    /// not block: use [`Router::on_async`] or spawn the slow work; see
    /// [`Router`](super::Router#handlers-must-not-block)).
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(threads) = self.paced.take() {
            // Dropping them stops and joins them.
            let _ = tokio::task::spawn_blocking(move || drop(threads)).await;
        }
    }
}

impl<S, U> Drop for ServerHandle<S, U> {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(threads) = self.paced.take() {
            threads.detach();
        }
    }
}

async fn acceptor<S: Send + Sync + 'static, U: Send + 'static>(
    sh: Arc<ServerCore<S, U>>,
    listener: TcpListener,
    mut stop: watch::Receiver<bool>,
) {
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        sh.accept_failed(&e);
                        // Transient (e.g. out of descriptors): back off a little.
                        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                        continue;
                    }
                };
                if stream.set_nodelay(true).is_err() {
                    continue;
                }
                let notify = Arc::new(Notify::new());
                let n = notify.clone();
                let (session, conn) = match sh.open(peer, |_| Waker::Notify(n), Instant::now()) {
                    Ok(opened) => opened,
                    Err(reason) => {
                        if let Ok(stream) = stream.into_std() {
                            sh.refuse(stream, reason);
                        }
                        continue;
                    }
                };
                tasks.spawn(run_session(sh.clone(), stream, session, conn, notify, stop.clone()));
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
    drop(listener);
    // Every session task sees the stop at its next pass: wake them all
    // (their waits do not each hold a `watch` waiter for it).
    sh.sessions.for_each(|s| s.waker.wake());
    while tasks.join_next().await.is_some() {}
}

/// Moves bytes between `stream` and the session core until it decides
/// the session ends, then ends it.
async fn run_session<S, U>(
    sh: Arc<ServerCore<S, U>>,
    mut stream: TcpStream,
    session: Arc<Session<U>>,
    mut conn: Connection,
    notify: Arc<Notify>,
    stop: watch::Receiver<bool>,
) {
    // One `Notified` kept across the waits, renewed only once it fired: a
    // wait that ends on readable or writable does not take it out of the
    // `Notify`'s waiter list and put a new one in (a lock each, per input).
    let mut notified = std::pin::pin!(notify.notified());
    // One timer kept across the waits, moved only when the core's deadline
    // comes earlier than the one it is set to (or after it fired): an
    // idle timeout moves later with every input, and a fresh `Sleep` per
    // wait (registered and dropped in the timer wheel) cost a few per cent.
    // Firing early is harmless: the next pass finds nothing due and gives
    // the deadline again.
    let mut timer = std::pin::pin!(tokio::time::sleep_until(tokio::time::Instant::now()));
    let mut armed: Option<Instant> = None;
    let reason = loop {
        if *stop.borrow() {
            conn.life().shutdown(Instant::now());
        }
        let step = SPARE.with_borrow_mut(|spare| {
            let io = &mut SessionIo(&mut stream);
            sh.service(&session, &mut conn, io, spare, Instant::now())
        });
        let (read, write, deadline) = match step {
            Serviced::End(reason) => break reason,
            Serviced::Wait { again: true, .. } => {
                tokio::task::yield_now().await;
                continue;
            }
            Serviced::Wait {
                read,
                write,
                deadline,
                ..
            } => (read, write, deadline),
        };
        if let Some(d) = deadline
            && armed.is_none_or(|a| d < a)
        {
            timer.as_mut().reset(d.into());
            armed = Some(d);
        }
        tokio::select! {
            biased;
            _ = notified.as_mut() => notified.set(notify.notified()),
            ready = stream.writable(), if write => {
                if let Err(e) = ready {
                    conn.life().on_io_error(e);
                }
            }
            ready = stream.readable(), if read => {
                if let Err(e) = ready {
                    conn.life().on_io_error(e);
                }
            }
            _ = timer.as_mut(), if armed.is_some() => armed = None,
        }
    };
    sh.disconnected(&session, conn.is_connected(), &reason);
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
    pub async fn bind<S: Send + Sync + 'static, U: Send + 'static>(
        addr: impl ToSocketAddrs,
        config: ServerConfig,
        router: Router<S, U>,
        state: S,
    ) -> Result<UdpServerHandle<S, U>, TransportError> {
        // Resolved without blocking the runtime.
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host(addr).await?.collect();
        if config.pacer().is_some() {
            return paced(&addrs, config, router, state, true);
        }
        let socket = super::bind_first(addrs, std::net::UdpSocket::bind)?;
        // Also makes the socket non-blocking, as `from_std` needs.
        let batch = UdpBatch::server((&socket).into())?;
        let socket = tokio::net::UdpSocket::from_std(socket)?;
        let local_addr = socket.local_addr()?;
        let core = Arc::new(ServerCore::new(router, state, config));
        core.bound(local_addr, "udp", "tokio");
        let (stop, stop_rx) = watch::channel(false);
        let task = Some(tokio::spawn(run_udp(core.clone(), socket, batch, stop_rx)));
        Ok(ServerHandle {
            local_addr,
            core,
            stop,
            task,
            paced: None,
        })
    }
}

/// A running UDP server: the same handle as the TCP server's
/// ([`ServerHandle::dropped`] counts the datagrams it dropped).
pub type UdpServerHandle<S, U = ()> = ServerHandle<S, U>;

async fn run_udp<S, U>(
    sh: Arc<ServerCore<S, U>>,
    socket: tokio::net::UdpSocket,
    batch: UdpBatch,
    mut stop: watch::Receiver<bool>,
) {
    let notify = Arc::new(Notify::new());
    let mut peers = Peers::new(&*sh, Waker::Notify(notify.clone()), batch.max_segments());
    let mut area = RecvArea::new();
    // Set when the socket refused a send (its buffer full): the frames
    // stay queued, and a sweep runs once it is writable.
    let blocked = std::sync::atomic::AtomicBool::new(false);
    let mut send = |d: &[u8], len: usize, to: SocketAddr| {
        let send = || batch.send((&socket).into(), to, d, len);
        note_blocked(&blocked, socket.try_io(Interest::WRITABLE, send))
    };
    // The sweep's batches: many peers' datagrams per call (`sendmmsg`).
    let mut many = |b: &SendBatch, from: usize| {
        let sent = socket.try_io(Interest::WRITABLE, || b.send((&socket).into(), from));
        note_blocked(&blocked, sent)
    };
    let mut next = peers.sweep(&mut send, &mut many, Instant::now());
    loop {
        let sleep = tokio::time::sleep_until(next.unwrap_or_else(Instant::now).into());
        // Whether to receive first, and whether for a wake: else a sweep.
        let woken = tokio::select! {
            biased;
            _ = stop.changed() => break,
            // Frames were queued (a broadcast wakes this task once, after
            // every outbox has its frame). What the socket holds is taken
            // first: the sweep sends up to a datagram per peer, and inputs
            // arriving meanwhile wait in (or overflow) the receive buffer.
            _ = notify.notified() => Some(true),
            Ok(()) = socket.readable() => Some(false),
            Ok(()) = socket.writable(), if blocked.load(std::sync::atomic::Ordering::Relaxed) => {
                blocked.store(false, std::sync::atomic::Ordering::Relaxed);
                None
            }
            _ = sleep, if next.is_some() => None,
        };
        let Some(woken) = woken else {
            next = peers.sweep(&mut send, &mut many, Instant::now());
            continue;
        };
        // What the socket holds: a few batches (then the other branches
        // get a turn), until it would block. The earliest deadline, the
        // one known before (not on a wake, which sweeps anyway) or one of
        // the peers that sent something, and whether it is due (a socket
        // that did not drain: a flood, under which the readable branch
        // would always win over the sleep).
        let known = next.filter(|_| !woken);
        let (at, due) = recv_until_blocked(DEADLINE_CHECK_EVERY, known, &|| false, || {
            socket.try_io(Interest::READABLE, || {
                let recv = |each: &mut dyn FnMut(SocketAddr, &mut [u8])| {
                    batch.recv(&mut area, (&socket).into(), each)
                };
                peers.recv_batch(recv, &mut send, &mut many, Instant::now())
            })
        });
        next = match woken || due {
            true => earliest(
                peers.sweep(&mut send, &mut many, Instant::now()),
                at.filter(|_| woken),
            ),
            false => at,
        };
    }
    // Graceful stop: flush what is queued, within the grace period.
    peers.shutdown(Instant::now());
    // Between passes it waits for a wake (a reply queued, work in flight
    // done), the socket's room after a refused send, or the next
    // deadline, 10 ms at most.
    while let Some(deadline) = peers.drain(&mut send, &mut many, Instant::now()) {
        let soon = Instant::now() + Duration::from_millis(10);
        let wait = tokio::time::sleep_until(deadline.min(soon).into());
        let full = blocked.swap(false, std::sync::atomic::Ordering::Relaxed);
        tokio::select! {
            _ = notify.notified() => {}
            Ok(()) = socket.writable(), if full => {}
            _ = wait => {}
        }
    }
    peers.end_all();
}
