//! The datagram endpoint of the UDP session servers, sans-I/O: a session
//! per peer address, fed one datagram at a time, polled through a
//! non-blocking `send(datagram, to)` the driver passes in.
//!
//! The rules, each decided here once:
//! - Unauthenticated datagrams never change any state: a datagram that is
//!   not exactly one valid frame (sealed: that does not authenticate under
//!   the address's session, or is not a valid session hello) is dropped
//!   and counted, nothing more. It never ends a session (a source address
//!   can be forged) and never creates one.
//! - A new address gets a session only from a valid frame (sealed: a
//!   session hello whose token the key provider knows), and only while a
//!   slot is free: a full table is checked before the provider is asked,
//!   so a refused client's token is not used up and its resent hello
//!   gets in once a slot frees.
//! - Every session has the same [`Lifecycle`] as a TCP session: idle
//!   timeout (on by default, so slots always come free), write progress,
//!   lossless close after a failing handler, shutdown grace.
//! - Sealed, an ended session's send and receive sides are kept (at most
//!   `max_sessions`, the oldest forgotten first) and resumed when the
//!   address comes back with datagrams of that channel, so its sequences
//!   are never reused and its old datagrams never replayed. A datagram
//!   that is exactly the hello that keyed the address's channel (a client
//!   resends it until it hears from us) is ignored.
//!
//! What does not live here: the sockets and the loops that wait on them
//! (`server::blocking`, `server::tokio`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;
use std::vec::Vec;

use super::{DisconnectReason, ServerCore, Session, Waker, count_in};
use crate::session::Lifecycle;
use crate::transport::Outbox;
use crate::transport::security::{Handshake, Hello, Opened, Opener, REFUSAL_LEN, Sealer, frame_in};

/// A non-blocking send of `bytes` to an address: one datagram, or
/// datagrams of the given length (the last maybe shorter) that the socket
/// splits (GSO); `WouldBlock` when the socket is full.
pub(crate) type SendFn<'s> = dyn FnMut(&[u8], usize, SocketAddr) -> std::io::Result<()> + 's;

/// One peer: its session, its receive side and its lifecycle.
struct Peer<U> {
    session: Arc<Session<U>>,
    opener: Opener,
    life: Lifecycle,
    /// The hello that started the session (sealed: keyed the channel).
    hello: Option<Hello>,
}

/// A retired sealed channel: its send and receive sides, its hello, and
/// when it retired.
type Retired = (Sealer, Opener, Option<Hello>, u64);

/// The peer table, over its server core `C` (a reference for the
/// drivers; an `Arc` for the socketless [`Endpoint`]).
pub(crate) struct Peers<C, U = ()> {
    sh: C,
    map: HashMap<SocketAddr, Peer<U>>,
    waker: Waker,
    /// Reused by [`Peers::sweep`] and [`Peers::recv_batch`].
    scratch: Vec<SocketAddr>,
    retired: HashMap<SocketAddr, Retired>,
    retired_stamp: u64,
    stop_at: Option<Instant>,
    /// Most datagrams the socket takes in one send.
    max_segments: usize,
    /// The refusal owed to the last hello of another protocol (wire
    /// format §11.5), sent by the next [`Peers::settle`] of that address
    /// or [`Peers::sweep`]: one refusal per such hello at most, never
    /// retried, no state kept for the address.
    refusal: Option<(SocketAddr, [u8; REFUSAL_LEN])>,
}

/// Whether `datagram` is exactly `hello` (the hello that started a
/// session, resent by its client until it hears from us).
fn is_hello(datagram: &[u8], hello: Option<&Hello>) -> bool {
    hello.is_some_and(|h| datagram.len() == h.frame_len() && *datagram == *h.bytes())
}

impl<S, U, C: Deref<Target = ServerCore<S, U>> + Clone> Peers<C, U> {
    pub(crate) fn new(sh: C, waker: Waker, max_segments: usize) -> Self {
        Self {
            sh,
            map: HashMap::new(),
            waker,
            // Room for a batch's sources (one per receive slot).
            scratch: Vec::with_capacity(64),
            retired: HashMap::new(),
            retired_stamp: 0,
            stop_at: None,
            max_segments: max_segments.max(1),
            refusal: None,
        }
    }

    /// Peers with a session, and retired channels (for tests).
    pub(crate) fn sizes(&self) -> (usize, usize) {
        (self.map.len(), self.retired.len())
    }

    fn drop_one(&self) {
        self.sh.dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// Validates and dispatches one datagram from `from`.
    pub(crate) fn on_datagram(&mut self, from: SocketAddr, datagram: &mut [u8], now: Instant) {
        let sh = self.sh.clone();
        let core = &*sh;
        let frame_config = core.config.transport.frame;
        if let Some(peer) = self.map.get_mut(&from) {
            if is_hello(datagram, peer.hello.as_ref()) {
                return; // a resent hello: proves nothing, changes nothing
            }
            match peer.opener.open_datagram(datagram, &frame_config) {
                Ok(Opened::Frame(header)) => {
                    peer.life.on_rx(now);
                    dispatch(core, peer, frame_in(header, datagram), now);
                }
                // Unauthenticated: dropped and counted, nothing more.
                Ok(Opened::Keyed(..)) | Err(_) => self.drop_one(),
            }
            return;
        }
        if self.stop_at.is_some() {
            return self.drop_one();
        }
        let room = core.sessions.has_room(core.config.max_sessions);
        // An address coming back to its retired channel.
        if let Some((_, opener, hello, _)) = self.retired.get_mut(&from) {
            if is_hello(datagram, hello.as_ref()) {
                return;
            }
            if room && let Ok(Opened::Frame(header)) = opener.open_datagram(datagram, &frame_config)
            {
                let (sealer, opener, hello, _) = self.retired.remove(&from).expect("present");
                if let Some(peer) = self.admit(from, sealer, opener, hello, None, now) {
                    dispatch(core, peer, frame_in(header, datagram), now);
                }
                return;
            }
        }
        if !room {
            core.sessions.count_rejected();
            return self.drop_one();
        }
        let halves = core.config.halves(true);
        let mut opener = halves.opener;
        match opener.open_datagram(datagram, &frame_config) {
            Ok(Opened::Keyed(Handshake {
                sealer,
                hello,
                identity,
            })) => {
                self.retired.remove(&from);
                let sealer = sealer.unwrap_or(halves.sealer);
                self.admit(from, sealer, opener, Some(hello), identity, now);
            }
            Ok(Opened::Frame(header)) => {
                if let Some(peer) = self.admit(from, halves.sealer, opener, None, None, now) {
                    dispatch(core, peer, frame_in(header, datagram), now);
                }
            }
            Err(_) => {
                // A hello of another protocol: refused (once, plaintext,
                // smaller than the hello); no session, no token used.
                if let Some(refusal) = opener.take_refusal() {
                    core.sessions.count_mismatch();
                    self.refusal = Some((from, refusal));
                }
                self.drop_one()
            }
        }
    }

    /// One batch: `recv` hands every datagram of one receive call to the
    /// function it is given; each is validated and dispatched, then each
    /// peer that sent one is settled once, so its replies leave together
    /// (GSO). The earliest next deadline of those peers, or `recv`'s error.
    pub(crate) fn recv_batch(
        &mut self,
        recv: impl FnOnce(&mut dyn FnMut(SocketAddr, &mut [u8])) -> std::io::Result<usize>,
        send: &mut SendFn<'_>,
        now: Instant,
    ) -> std::io::Result<Option<Instant>> {
        let mut touched = std::mem::take(&mut self.scratch);
        touched.clear();
        let got = recv(&mut |from, datagram| {
            self.on_datagram(from, datagram, now);
            if !touched.contains(&from) {
                touched.push(from);
            }
        });
        let mut next = None;
        for &addr in &touched {
            next = earliest(next, self.settle(addr, send, now));
        }
        self.scratch = touched;
        got.map(|_| next)
    }

    /// Registers a session for `from` (connected: the hook runs).
    fn admit(
        &mut self,
        from: SocketAddr,
        sealer: Sealer,
        opener: Opener,
        hello: Option<Hello>,
        identity: Option<u64>,
        now: Instant,
    ) -> Option<&mut Peer<U>> {
        let sh = self.sh.clone();
        let core = &*sh;
        let out = Outbox::new(&core.config.transport, sealer, None);
        let waker = self.waker.clone();
        let session = core.register(from, out, |_| waker)?;
        session.handshake(None, identity);
        core.router.connected(&core.ctx(&session));
        let peer = self.map.entry(from).or_insert(Peer {
            session,
            opener,
            life: Lifecycle::new(core.config.limits(), false, now),
            hello,
        });
        peer.life.on_rx(now);
        Some(peer)
    }

    /// Sends what `addr` has queued, then asks its lifecycle whether the
    /// session ends; returns its next deadline.
    pub(crate) fn settle(
        &mut self,
        addr: SocketAddr,
        send: &mut SendFn<'_>,
        now: Instant,
    ) -> Option<Instant> {
        self.send_refusal(send);
        let peer = self.map.get_mut(&addr)?;
        let (flush, queued) = {
            let mut out = peer.session.outbox();
            let flush = out.send_datagrams(self.max_segments, |d, len| send(d, len, addr));
            if peer.life.should_release(now) {
                out.release();
            }
            (flush, out.len())
        };
        self.sh.dropped.fetch_add(flush.failed, Ordering::Relaxed);
        peer.life.on_written(flush.sent as usize, queued, now);
        let end = peer.life.poll_end(
            queued,
            0,
            peer.session.is_closing(),
            peer.session.overflowed(),
            now,
        );
        match end {
            Some(reason) => {
                let peer = self.map.remove(&addr).expect("looked up above");
                self.end(addr, peer, &reason);
                None
            }
            None => peer.life.poll_timeout(queued),
        }
    }

    /// Sends the refusal owed, if any (once: a full socket loses it, as
    /// it may lose any datagram).
    fn send_refusal(&mut self, send: &mut SendFn<'_>) {
        if let Some((addr, refusal)) = self.refusal.take() {
            let _ = send(&refusal, REFUSAL_LEN, addr);
        }
    }

    /// Ends `peer`'s session; sealed, keeps its channel.
    fn end(&mut self, addr: SocketAddr, peer: Peer<U>, reason: &DisconnectReason) {
        self.sh.disconnected(&peer.session, true, reason);
        let plain = Outbox::new(
            &self.sh.config.transport,
            Sealer::plain(&self.sh.config.transport.frame),
            None,
        );
        let out = std::mem::replace(&mut *peer.session.outbox(), plain);
        if out.is_sealed() {
            self.retire(addr, out.into_sealer(), peer.opener, peer.hello);
        }
    }

    /// Keeps a sealed channel for its address's return, forgetting the
    /// oldest beyond `max_sessions`.
    fn retire(&mut self, addr: SocketAddr, sealer: Sealer, opener: Opener, hello: Option<Hello>) {
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
                .insert(addr, (sealer, opener, hello, self.retired_stamp));
        }
    }

    /// Settles every peer; returns the earliest next deadline.
    pub(crate) fn sweep(&mut self, send: &mut SendFn<'_>, now: Instant) -> Option<Instant> {
        self.send_refusal(send);
        let mut addrs = std::mem::take(&mut self.scratch);
        addrs.clear();
        addrs.extend(self.map.keys().copied());
        let mut next = None;
        for &addr in &addrs {
            next = earliest(next, self.settle(addr, send, now));
        }
        self.scratch = addrs;
        next
    }

    /// The server stops: every session flushes within the grace period.
    pub(crate) fn shutdown(&mut self, now: Instant) {
        self.stop_at.get_or_insert(now);
        for peer in self.map.values_mut() {
            peer.life.shutdown(now);
        }
    }

    /// One step of the graceful stop (after [`Peers::shutdown`]): flushes
    /// what is queued, then says until when the driver may wait for the
    /// socket before the next step, or `None` once no session is left or
    /// the grace period is over (then [`Peers::end_all`]).
    pub(crate) fn drain(&mut self, send: &mut SendFn<'_>, now: Instant) -> Option<Instant> {
        self.sweep(send, now);
        let deadline = self.stop_at.unwrap_or(now) + self.sh.config.shutdown_grace;
        (!self.map.is_empty() && now < deadline).then_some(deadline)
    }

    /// Ends every session (shutdown, past the grace period).
    pub(crate) fn end_all(&mut self) {
        let map = std::mem::take(&mut self.map);
        for (addr, peer) in map {
            self.end(addr, peer, &DisconnectReason::Shutdown);
        }
    }
}

/// The earlier of two deadlines, either maybe absent.
pub(crate) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Dispatches one frame of `peer`'s session; a failing handler ends it
/// once its queued replies are out.
fn dispatch<S, U>(
    core: &ServerCore<S, U>,
    peer: &mut Peer<U>,
    frame: packet_core::frame::Frame<'_>,
    now: Instant,
) {
    if peer.session.is_closing() || peer.life.is_ending() {
        return;
    }
    count_in(&peer.session);
    if let Err(e) = core.router.dispatch(&core.ctx(&peer.session), frame) {
        peer.life.fail(DisconnectReason::Handler(e), now);
    }
}

/// The UDP endpoint without a socket, for tests and fuzz targets
/// (`packet_net::fuzzing::UdpEndpoint`): a server core and its peer
/// table, fed datagrams and times by the caller; whatever it sends is
/// counted and discarded (or refused with `WouldBlock` while blocked).
#[doc(hidden)]
pub struct Endpoint {
    peers: Peers<Arc<ServerCore<()>>>,
    blocked: bool,
    sent: u64,
}

impl Endpoint {
    /// An endpoint for `config` with `router`.
    pub fn new(config: super::ServerConfig, router: super::Router<()>) -> Self {
        let core = Arc::new(ServerCore::new(router, (), config));
        let poll = mio::Poll::new().expect("poll");
        let waker =
            super::PollWaker::new(mio::Waker::new(poll.registry(), mio::Token(0)).expect("waker"));
        Self {
            peers: Peers::new(core, Waker::Poll(Arc::new(waker), 0), 1),
            blocked: false,
            sent: 0,
        }
    }

    /// Whether the socket refuses sends (`WouldBlock`) from now on.
    pub fn set_blocked(&mut self, blocked: bool) {
        self.blocked = blocked;
    }

    /// Most datagrams one send takes (GSO; 1 by default).
    pub fn set_max_segments(&mut self, n: usize) {
        self.peers.max_segments = n.max(1);
    }

    /// One datagram from `from` at `now`, then its peer settled.
    pub fn datagram(&mut self, from: SocketAddr, datagram: &mut [u8], now: Instant) {
        self.peers.on_datagram(from, datagram, now);
        let (blocked, mut sent) = (self.blocked, 0);
        self.peers
            .settle(from, &mut send_fn(blocked, &mut sent), now);
        self.sent += sent;
    }

    /// Settles every peer at `now`; the next deadline.
    pub fn sweep(&mut self, now: Instant) -> Option<Instant> {
        let (blocked, mut sent) = (self.blocked, 0);
        let next = self.peers.sweep(&mut send_fn(blocked, &mut sent), now);
        self.sent += sent;
        next
    }

    /// Ends every session.
    pub fn end_all(&mut self) {
        self.peers.end_all();
    }

    /// Open sessions, and retired sealed channels.
    pub fn sizes(&self) -> (usize, usize) {
        self.peers.sizes()
    }

    /// Sessions accepted so far.
    pub fn accepted(&self) -> u64 {
        self.peers.sh.sessions.stats().accepted
    }

    /// Datagrams dropped so far.
    pub fn dropped(&self) -> u64 {
        self.peers.sh.dropped.load(Ordering::Relaxed)
    }

    /// Datagrams sent so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Everything the table holds, per address (sessions: lifecycle,
    /// receive side, frames in; retired channels: receive side), as
    /// text to compare before and after a datagram. Leaves out the one
    /// thing a forged datagram changes by design: the receive side's
    /// count of failed tags (wire format §7.3's forgery limit).
    pub fn snapshot(&self) -> Vec<String> {
        let peers = self.peers.map.iter().map(|(a, p)| {
            let n = p.session.frames_in.load(Ordering::Relaxed);
            std::format!("{a} {:?} {:?} {n}", p.life, p.opener)
        });
        let retired = self.peers.retired.iter();
        let retired = retired.map(|(a, r)| std::format!("{a} retired {:?}", r.1));
        let mut all: Vec<String> = peers.chain(retired).map(without_failures).collect();
        all.sort();
        all
    }
}

/// `text` without the digits after each `auth_failures: `.
fn without_failures(text: String) -> String {
    const KEY: &str = "auth_failures: ";
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find(KEY) {
        out.push_str(&rest[..i + KEY.len()]);
        rest = rest[i + KEY.len()..].trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

/// The endpoint's socket: counts the datagrams sent, or refuses them.
fn send_fn(
    blocked: bool,
    sent: &mut u64,
) -> impl FnMut(&[u8], usize, SocketAddr) -> std::io::Result<()> + '_ {
    move |d, len, _| {
        if blocked {
            return Err(std::io::ErrorKind::WouldBlock.into());
        }
        *sent += d.len().div_ceil(len.max(1)) as u64;
        Ok(())
    }
}
