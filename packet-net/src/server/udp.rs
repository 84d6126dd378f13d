//! The sans-I/O core of the UDP session servers
//! ([`blocking::UdpServer`](super::blocking::UdpServer) and, with the
//! `tokio` feature, `tokio::UdpServer`): one socket, one [`Session`] per
//! peer address, dispatch through the same [`Router`](super::Router) as
//! the TCP servers.
//!
//! Each datagram is exactly one frame. A peer becomes a session with its
//! first datagram that validates (so garbage never creates sessions);
//! from then on the session has its own [`Opener`] (windowed replay
//! protection when sealed) and its outbox its own sealer. Handlers queue
//! replies into the session's outbox as on TCP; every queued frame leaves
//! as one datagram.
//!
//! - Datagrams that fail validation are dropped and counted; a peer whose
//!   datagrams fail authentication
//!   [`ServerConfig::max_auth_failures`](super::ServerConfig::max_auth_failures)
//!   times is dropped alone.
//! - A peer silent for the idle timeout is dropped (UDP has no close: set
//!   one). At most `max_sessions` peers; datagrams of new peers beyond are
//!   dropped.
//! - A handler error, [`Context::close`](super::Context::close) or a
//!   full outbox ends that peer's session only.
//!
//! Sealing (`ServerConfig::with_sealed_sessions`): a new peer's first
//! datagram must be its session hello (`docs/wire-format.md` §7.3); the
//! key provider gives that session its own keys, and only then is a
//! session created (the hello itself is not dispatched). Anything else
//! from an unknown address, or an unknown or used token, is dropped and
//! counted without creating a session. When a sealed peer's session ends
//! (idle, closed, dropped), its sealer and opener are kept: if the address
//! comes back, its new session continues the numbering and the replay
//! window, so no nonce is used twice and no old datagram replays. At most
//! `max_sessions` ended channels are kept, the oldest forgotten first; a
//! forgotten address must come back with a new hello (fresh token, fresh
//! keys).
//!
//! A sealed client resends its hello before each datagram until it hears
//! from the server (UDP may lose it); a datagram that is exactly the hello
//! that keyed the address's session (open or retired) is ignored, neither
//! a new session nor counted as dropped.
//!
//! What does not live here: the sockets and the loops that wait on them
//! (in `server::blocking` and `server::tokio`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;
use std::vec::Vec;

use super::{DisconnectReason, ServerCore, Session, Waker, count_in};
use crate::transport::{
    Opener, Outbox, SESSION_HELLO_LEN, Sealer, SessionToken, Side, frame_in, session_hello,
};

/// A non-blocking datagram send: `WouldBlock` when the socket is full.
pub(crate) type SendFn<'s> = dyn FnMut(&[u8], SocketAddr) -> std::io::Result<usize> + 's;

/// One peer: its session and its receive-side opener.
struct Peer {
    session: Arc<Session>,
    opener: Opener,
    last_rx: Instant,
    /// Sealed: the token of the hello that keyed the channel (a client
    /// resends that hello until it hears from us; duplicates are ignored).
    token: Option<SessionToken>,
    /// Why the session must end now (set by a failing handler).
    end: Option<DisconnectReason>,
}

/// The peer table: the sans-I/O part of the UDP servers. Sending goes through
/// a non-blocking `send(datagram, to)` the I/O layer passes in.
pub(crate) struct Peers<'a, S> {
    sh: &'a ServerCore<S>,
    map: HashMap<SocketAddr, Peer>,
    waker: Waker,
    /// Some peer has frames the socket would not take yet.
    pub(crate) backlog: bool,
    /// Reused by [`Peers::sweep`].
    scratch: Vec<SocketAddr>,
    /// Sealed mode: the sealer and opener of peers whose session ended,
    /// resumed if they come back (only authenticated peers get here), each
    /// stamped with when it was retired. At most `max_sessions` entries:
    /// the oldest is forgotten first.
    retired: HashMap<SocketAddr, Retired>,
    /// Stamps the next retired entry.
    retired_stamp: u64,
}

/// A retired sealed channel: its sealer and opener, its hello's token,
/// and when it retired.
type Retired = (Sealer, Opener, Option<SessionToken>, u64);

/// Whether `datagram` is exactly the session hello carrying `token`.
fn is_hello(datagram: &[u8], token: Option<&SessionToken>) -> bool {
    token.is_some_and(|t| datagram.len() == SESSION_HELLO_LEN && datagram == session_hello(t))
}

impl<'a, S> Peers<'a, S> {
    pub(crate) fn new(sh: &'a ServerCore<S>, waker: Waker) -> Self {
        Self {
            sh,
            map: HashMap::new(),
            waker,
            backlog: false,
            scratch: Vec::new(),
            retired: HashMap::new(),
            retired_stamp: 0,
        }
    }

    /// Whether no peer is left.
    pub(crate) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn count_drop(&self, n: u64) {
        self.sh.dropped.fetch_add(n, Ordering::Relaxed);
    }

    /// Validates and dispatches one datagram from `from`.
    pub(crate) fn on_datagram(&mut self, from: SocketAddr, datagram: &mut [u8], now: Instant) {
        let core = self.sh;
        let config = &core.config;
        let frame_config = config.transport.frame;
        let peer = match self.map.get_mut(&from) {
            Some(peer) => peer,
            None => {
                // A new peer (or a sealed one back): only a valid frame
                // makes a session.
                if let Some((_, _, token, _)) = self.retired.get(&from)
                    && is_hello(datagram, token.as_ref())
                {
                    // The old channel's hello again (resent by a client
                    // that never heard from us): not a new session.
                    return;
                }
                let back = self.retired.remove(&from);
                let came_back = back.is_some();
                let mut token = back.as_ref().and_then(|(_, _, t, _)| *t);
                let back = back.map(|(s, o, _, _)| (s, o));
                let security = config.security.for_session();
                let fresh = || {
                    (
                        Sealer::new(&security, Side::Server, &frame_config),
                        Opener::new(&security, Side::Server, true),
                    )
                };
                let (mut sealer, mut opener) = back.unwrap_or_else(fresh);
                // Sealed: a new peer's first datagram is its session hello,
                // which keys the session and is not dispatched.
                let mut hello = opener.awaiting_hello();
                let header = match opener.open_datagram(datagram, &frame_config) {
                    Ok(header) => header,
                    Err(_) if came_back => {
                        // Not the old channel: perhaps a new session from
                        // this address (its hello, with a fresh token). The
                        // failed open left the datagram untouched (nothing
                        // is decrypted before the tag verifies).
                        let (new_sealer, mut new_opener) = fresh();
                        let new_hello = new_opener.awaiting_hello();
                        match new_opener.open_datagram(datagram, &frame_config) {
                            Ok(header) if new_hello => {
                                (sealer, opener, hello) = (new_sealer, new_opener, true);
                                header
                            }
                            _ => {
                                // Unauthenticated senders leave nothing
                                // behind.
                                self.retire(from, sealer, opener, token);
                                self.count_drop(1);
                                return;
                            }
                        }
                    }
                    Err(_) => {
                        self.count_drop(1);
                        return;
                    }
                };
                if hello {
                    token = <[u8; 16]>::try_from(frame_in(header, datagram).body())
                        .ok()
                        .map(SessionToken);
                }
                let out = Outbox::with_sealer(&config.transport, sealer.clone());
                let Some(session) = core.sessions.register_with(
                    from,
                    out,
                    security,
                    self.waker.clone(),
                    config.max_sessions,
                ) else {
                    // Not admitted: the frame was opened (its sequence
                    // used up in the window); keep that.
                    self.retire(from, sealer, opener, token);
                    self.count_drop(1);
                    return;
                };
                // Created only once keyed (sealed: by this hello or the
                // channel it comes back to): the hook can reply.
                core.greet(&session);
                let peer = self.map.entry(from).or_insert(Peer {
                    session,
                    opener,
                    last_rx: now,
                    token,
                    end: None,
                });
                if !hello {
                    dispatch(core, peer, frame_in(header, datagram));
                }
                return;
            }
        };
        if is_hello(datagram, peer.token.as_ref()) {
            // A duplicate of the hello that keyed this session: the client
            // resends it until it hears from us. Ignored (it proves
            // nothing: the hello travels in the clear).
            return;
        }
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
    pub(crate) fn settle(&mut self, addr: SocketAddr, send: &mut SendFn<'_>, stopping: bool) {
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
            self.end(addr, peer, &reason);
        }
    }

    /// Ends `peer`'s session; sealed, keeps its channel state.
    fn end(&mut self, addr: SocketAddr, peer: Peer, reason: &DisconnectReason) {
        self.sh.disconnected(&peer.session, reason);
        let sealer = peer.session.outbox().sealer().clone();
        self.retire(addr, sealer, peer.opener, peer.token);
    }

    /// Keeps a sealed channel for its address's return, forgetting the
    /// oldest retired one beyond `max_sessions` (a forgotten address that
    /// comes back needs a new hello with a fresh token: it never gets its
    /// old keys back, so nothing is reused or replayed).
    fn retire(
        &mut self,
        addr: SocketAddr,
        sealer: Sealer,
        opener: Opener,
        token: Option<SessionToken>,
    ) {
        if !sealer.is_sealed() {
            return;
        }
        let cap = self.sh.config.max_sessions;
        self.retired.remove(&addr);
        while !self.retired.is_empty() && self.retired.len() >= cap {
            // O(n) on a session's end only, never per datagram.
            let oldest = self
                .retired
                .iter()
                .min_by_key(|(_, (_, _, _, stamp))| *stamp)
                .map(|(a, _)| *a)
                .expect("not empty");
            self.retired.remove(&oldest);
        }
        if cap > 0 {
            self.retired_stamp += 1;
            self.retired
                .insert(addr, (sealer, opener, token, self.retired_stamp));
        }
    }

    /// Settles every peer and ends the idle ones; returns when the next
    /// peer would go idle.
    pub(crate) fn sweep(
        &mut self,
        send: &mut SendFn<'_>,
        now: Instant,
        stopping: bool,
    ) -> Option<Instant> {
        self.backlog = false;
        let idle = self.sh.config.idle_timeout;
        let mut addrs = std::mem::take(&mut self.scratch);
        addrs.clear();
        addrs.extend(self.map.keys().copied());
        let mut next: Option<Instant> = None;
        for &addr in &addrs {
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
        self.scratch = addrs;
        next
    }

    /// Ends every session (shutdown, past the grace period).
    pub(crate) fn end_all(&mut self) {
        let map = std::mem::take(&mut self.map);
        for (addr, peer) in map {
            self.end(addr, peer, &DisconnectReason::Shutdown);
        }
    }
}

/// Dispatches one frame of `peer`'s session.
fn dispatch<S>(core: &ServerCore<S>, peer: &mut Peer, frame: packet_core::frame::Frame<'_>) {
    if peer.session.is_closing() {
        return;
    }
    count_in(&peer.session);
    if let Err(e) = core.router.dispatch(&core.ctx(&peer.session), frame) {
        peer.end = Some(DisconnectReason::Handler(e));
    }
}

#[cfg(all(test, feature = "crypto"))]
mod tests {
    use super::*;
    use crate::server::{Router, ServerConfig};
    use crate::transport::{SessionToken, session_hello};
    use packet_core::crypto::{ChannelKeys, SecretKey};

    fn addr(i: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 1000 + i))
    }

    /// Any token is good once per test: keys derived from its first byte.
    fn config(max_sessions: usize) -> ServerConfig {
        ServerConfig::default()
            .with_max_sessions(max_sessions)
            .with_sealed_sessions(|t: &SessionToken| {
                Some(ChannelKeys::new(
                    SecretKey::from_bytes([t.0[0]; 32]),
                    SecretKey::from_bytes([t.0[0] ^ 0x80; 32]),
                ))
            })
    }

    #[test]
    fn retired_channels_are_bounded_by_max_sessions_oldest_first() {
        let core = ServerCore::new(Router::<()>::new(), (), config(2));
        let mut peers = Peers::new(&core, Waker::Thread(std::thread::current()));
        for i in 0..5u16 {
            let mut hello = session_hello(&SessionToken([i as u8; 16]));
            peers.on_datagram(addr(i), &mut hello, Instant::now());
            assert_eq!(core.sessions.len(), 1, "peer {i} got a session");
            peers.end_all();
            assert!(peers.retired.len() <= 2);
        }
        let mut kept: Vec<_> = peers.retired.keys().copied().collect();
        kept.sort();
        assert_eq!(kept, [addr(3), addr(4)]);
        assert_eq!(core.dropped.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_resent_hello_is_ignored_for_open_and_ended_sessions() {
        let core = ServerCore::new(Router::<()>::new(), (), config(4));
        let mut peers = Peers::new(&core, Waker::Thread(std::thread::current()));
        let hello = session_hello(&SessionToken([7; 16]));
        for _ in 0..3 {
            peers.on_datagram(addr(0), &mut hello.clone(), Instant::now());
        }
        assert_eq!(core.sessions.stats().accepted, 1);
        peers.end_all();
        peers.on_datagram(addr(0), &mut hello.clone(), Instant::now());
        assert!(
            core.sessions.is_empty(),
            "no new session from the old hello"
        );
        assert!(peers.retired.contains_key(&addr(0)), "old channel kept");
        assert_eq!(core.dropped.load(Ordering::Relaxed), 0);
    }
}
