//! The UDP session server (tokio): one socket, one [`Session`] per peer
//! address, dispatch through the same [`Router`] as the TCP servers.
//!
//! Each datagram is exactly one frame. A peer becomes a session with its
//! first datagram that validates (so garbage never creates sessions);
//! from then on the session has its own [`Opener`] (windowed replay
//! protection when sealed) and its outbox its own sealer. Handlers queue
//! replies into the session's outbox as on TCP; every queued frame leaves
//! as one datagram.
//!
//! - Datagrams that fail validation are dropped and counted
//!   ([`UdpServerHandle::dropped`]); a peer whose datagrams fail
//!   authentication [`ServerConfig::max_auth_failures`] times is dropped
//!   alone.
//! - A peer silent for [`ServerConfig::idle_timeout`] is dropped (UDP has
//!   no close: set one). At most [`ServerConfig::max_sessions`] peers;
//!   datagrams of new peers beyond are dropped.
//! - A handler error, [`Context::close`](super::Context::close) or a
//!   full outbox ends that peer's session only.
//!
//! Sealing: every session uses `ServerConfig::security`; share those keys
//! with one peer only (see `docs/wire-format-sealed.md`), since each
//! session numbers its frames from 0.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), packet_core::transport::TransportError> {
//! use packet_core::server::{udp::UdpServer, Router, ServerConfig};
//! use packet_core::transport::tokio::UdpPacketSocket;
//!
//! let router = Router::<()>::new().on_frame(1, |ctx, f| ctx.reply_raw(1, f.body()));
//! let server = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), router, ()).await?;
//! let mut client = UdpPacketSocket::bind("127.0.0.1:0").await?;
//! client.connect(server.local_addr()).await?;
//! client.send_raw(1, b"hi").await?;
//! assert_eq!(client.recv().await?.body(), b"hi");
//! server.shutdown().await;
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use std::vec;

use tokio::net::{ToSocketAddrs, UdpSocket};
use tokio::sync::{Notify, watch};

use super::tokio::ServerHandle;
use super::{DisconnectReason, Router, ServerConfig, ServerCore, Session, Waker, count_in};
use crate::transport::{Opener, Side, TransportError, frame_in};

type Shared<S> = ServerCore<S>;

/// Starts UDP session servers; see the module docs.
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
        let socket = UdpSocket::bind(addr).await?;
        let local_addr = socket.local_addr()?;
        let shared = Arc::new(ServerCore::new(router, state, config));
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(run(shared.clone(), socket, stop_rx));
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

/// A non-blocking datagram send: `WouldBlock` when the socket is full.
type SendFn<'s> = dyn FnMut(&[u8], SocketAddr) -> std::io::Result<usize> + 's;

/// One peer: its session and its receive-side opener.
struct Peer {
    session: Arc<Session>,
    opener: Opener,
    last_rx: Instant,
    /// Why the session must end now (set by a failing handler).
    end: Option<DisconnectReason>,
}

/// The peer table: the sans-I/O part of the server. Sending goes through
/// a non-blocking `send(datagram, to)` the I/O layer passes in.
struct Peers<'a, S> {
    sh: &'a Shared<S>,
    map: HashMap<SocketAddr, Peer>,
    waker: Waker,
    /// Some peer has frames the socket would not take yet.
    backlog: bool,
}

impl<S> Peers<'_, S> {
    fn count_drop(&self, n: u64) {
        self.sh.dropped.fetch_add(n, Ordering::Relaxed);
    }

    /// Validates and dispatches one datagram from `from`.
    fn on_datagram(&mut self, from: SocketAddr, datagram: &mut [u8], now: Instant) {
        let core = self.sh;
        let config = &core.config;
        let frame_config = config.transport.frame;
        let peer = match self.map.get_mut(&from) {
            Some(peer) => peer,
            None => {
                // A new peer: only a valid frame makes a session.
                let mut opener = Opener::new(&config.security, Side::Server, true);
                let Ok(header) = opener.open_datagram(datagram, &frame_config) else {
                    self.count_drop(1);
                    return;
                };
                let Some(session) =
                    core.sessions
                        .register(from, config, self.waker.clone(), config.max_sessions)
                else {
                    self.count_drop(1);
                    return;
                };
                core.router.connected(&core.ctx(&session));
                let peer = self.map.entry(from).or_insert(Peer {
                    session,
                    opener,
                    last_rx: now,
                    end: None,
                });
                dispatch(core, peer, frame_in(header, datagram));
                return;
            }
        };
        match peer.opener.open_datagram(datagram, &frame_config) {
            Ok(header) => {
                peer.last_rx = now;
                dispatch(core, peer, frame_in(header, datagram));
            }
            Err(e) => {
                self.sh.dropped.fetch_add(1, Ordering::Relaxed);
                if peer.opener.auth_failures() >= config.max_auth_failures {
                    peer.end = Some(DisconnectReason::BadFrame(e));
                }
            }
        }
    }

    /// Sends what `addr` has queued, then ends its session if it must.
    fn settle(&mut self, addr: SocketAddr, send: &mut SendFn<'_>, stopping: bool) {
        let Some(peer) = self.map.get_mut(&addr) else {
            return;
        };
        let reason = if let Some(reason) = peer.end.take() {
            Some(reason)
        } else {
            let flush = peer.session.outbox().send_datagrams(|d| send(d, addr));
            self.sh.dropped.fetch_add(flush.failed, Ordering::Relaxed);
            self.backlog |= !flush.empty;
            if peer.session.overflowed.load(Ordering::Relaxed) {
                Some(DisconnectReason::SlowConsumer)
            } else if flush.empty && peer.session.is_closing() {
                Some(DisconnectReason::Closed)
            } else if stopping && flush.empty {
                Some(DisconnectReason::Shutdown)
            } else {
                None
            }
        };
        if let Some(reason) = reason {
            let peer = self.map.remove(&addr).expect("looked up above");
            self.sh.disconnected(&peer.session, &reason);
        }
    }

    /// Settles every peer and ends the idle ones; returns when the next
    /// peer would go idle.
    fn sweep(&mut self, send: &mut SendFn<'_>, now: Instant, stopping: bool) -> Option<Instant> {
        self.backlog = false;
        let idle = self.sh.config.idle_timeout;
        let addrs: vec::Vec<SocketAddr> = self.map.keys().copied().collect();
        let mut next: Option<Instant> = None;
        for addr in addrs {
            if let (Some(idle), Some(peer)) = (idle, self.map.get_mut(&addr)) {
                if !stopping && now.duration_since(peer.last_rx) > idle {
                    peer.end.get_or_insert(DisconnectReason::IdleTimeout);
                } else {
                    let at = peer.last_rx + idle;
                    next = Some(next.map_or(at, |n| n.min(at)));
                }
            }
            self.settle(addr, send, stopping);
        }
        next
    }

    /// Ends every session (shutdown, past the grace period).
    fn end_all(&mut self) {
        for (_, peer) in self.map.drain() {
            self.sh
                .disconnected(&peer.session, &DisconnectReason::Shutdown);
        }
    }
}

/// Dispatches one frame of `peer`'s session.
fn dispatch<S>(core: &ServerCore<S>, peer: &mut Peer, frame: crate::frame::Frame<'_>) {
    if peer.session.is_closing() {
        return;
    }
    count_in(&peer.session);
    if let Err(e) = core.router.dispatch(&core.ctx(&peer.session), frame) {
        peer.end = Some(DisconnectReason::Handler(e));
    }
}

async fn run<S>(sh: Arc<Shared<S>>, socket: UdpSocket, mut stop: watch::Receiver<bool>) {
    let notify = Arc::new(Notify::new());
    let mut peers = Peers {
        sh: &sh,
        map: HashMap::new(),
        waker: Waker::Notify(notify.clone()),
        backlog: false,
    };
    let max = sh.config.transport.frame.max_frame_len() as usize;
    // One byte more than the largest frame: an over-long datagram shows
    // up as trailing bytes instead of being cut to a plausible size.
    let mut buf = vec![0u8; max + 4];
    let mut send = |d: &[u8], to: SocketAddr| socket.try_send_to(d, to);
    let mut next_sweep = peers.sweep(&mut send, Instant::now(), false);
    loop {
        let sleep = async {
            match next_sweep {
                Some(t) => tokio::time::sleep_until(t.into()).await,
                None => std::future::pending().await,
            }
        };
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
        if peers.map.is_empty() || Instant::now() >= deadline {
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
