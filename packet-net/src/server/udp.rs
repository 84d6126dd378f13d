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
//!   are never reused and its old datagrams never replayed; not a
//!   session the application closed (a kick) or that ended for what its
//!   client sent (a bad frame, a failing handler): its channel is
//!   forgotten, so the client's further datagrams are dropped and
//!   counted as any unauthenticated one. A datagram
//!   that is exactly the hello that keyed the address's channel (a client
//!   resends it until it hears from us) is ignored. A new hello from an
//!   address does not forget its retired channel (the hello's source may
//!   be forged): should that channel's datagram come back authenticated,
//!   the address is its client's, and the newer session ends.
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
use crate::session::{Lifecycle, earliest};
use crate::transport::Outbox;
use crate::transport::batch::{RECV_SLOTS, SEND_MANY, SendBatch};
use crate::transport::security::{
    CLOSE_NOTICE_LEN, Handshake, Hello, Opened, Opener, REFUSAL_LEN, Sealer, close_notice, frame_in,
};
use crate::transport::{CloseNotice, CloseReason};

/// A non-blocking send of `bytes` to an address: one datagram, or
/// datagrams of the given length (the last maybe shorter) that the socket
/// splits (GSO); `WouldBlock` when the socket is full.
pub(crate) type SendFn<'s> = dyn FnMut(&[u8], usize, SocketAddr) -> std::io::Result<()> + 's;

/// A non-blocking send of many datagrams, to any destinations, in one
/// call (`sendmmsg`): those of the batch from the given index on; how
/// many left (the first ones, at least one), or the first one's error
/// (`WouldBlock` when the socket is full).
pub(crate) type SendManyFn<'s> = dyn FnMut(&SendBatch, usize) -> std::io::Result<usize> + 's;

/// `sent`, noting in `blocked` a send the socket refused (its buffer
/// full): both drivers then sweep again once the socket is writable, so
/// queued datagrams do not wait for the next input or deadline.
pub(crate) fn note_blocked<T>(
    blocked: &std::sync::atomic::AtomicBool,
    sent: std::io::Result<T>,
) -> std::io::Result<T> {
    if matches!(&sent, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock) {
        blocked.store(true, Ordering::Relaxed);
    }
    sent
}

/// One peer: its session, its receive side and its lifecycle.
struct Peer<U> {
    session: Arc<Session<U>>,
    opener: Opener,
    life: Lifecycle,
    /// The hello that started the session (sealed: keyed the channel).
    hello: Option<Hello>,
    /// Datagrams a batched sweep sent since the peer was last settled.
    sent: u64,
}

/// A retired sealed channel: its send and receive sides, its hello, the
/// session's identity (a resumed session is the same player's), and
/// when it retired.
struct Retired {
    sealer: Sealer,
    opener: Opener,
    hello: Option<Hello>,
    identity: Option<u64>,
    stamp: u64,
}

/// The peer table, over its server core `C` (a reference for the
/// drivers; an `Arc` for the socketless [`Endpoint`]).
pub(crate) struct Peers<C, U = ()> {
    sh: C,
    /// Each peer's place in `all`: the one look-up per datagram.
    index: HashMap<SocketAddr, usize>,
    /// The peers, in no order: a sweep walks them, no look-up.
    all: Vec<(SocketAddr, Peer<U>)>,
    waker: Waker,
    /// Reused by [`Peers::recv_batch`].
    scratch: Vec<SocketAddr>,
    retired: HashMap<SocketAddr, Retired>,
    retired_stamp: u64,
    stop_at: Option<Instant>,
    /// Most datagrams the socket takes in one send.
    max_segments: usize,
    /// Whether [`Peers::sweep`] gathers the datagrams of many peers into
    /// one send call ([`SEND_MANY`]), into `batch` (allocated once; each
    /// datagram tagged with its peer's place in `all`).
    batched: bool,
    batch: SendBatch,
    /// The refusal owed to the last hello of another protocol (wire
    /// format §11.5), sent by the next [`Peers::settle_all`] (a receive's
    /// or a sweep's): one refusal per such hello at most, never
    /// retried, no state kept for the address.
    refusal: Option<(SocketAddr, [u8; REFUSAL_LEN])>,
    /// The addresses owed a plain close notice "server full" (wire format
    /// §12), one per datagram of the current receive (at most
    /// [`RECV_SLOTS`], room allocated once), sent like the refusal by the
    /// next settle: never retried, no state kept for the address after.
    full: Vec<SocketAddr>,
    /// A batched settle queued a close notice it could not send: the
    /// settle runs once more, unbatched, for it.
    renotice: bool,
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
            index: HashMap::new(),
            all: Vec::new(),
            waker,
            // Room for a batch's sources (one per receive slot).
            scratch: Vec::with_capacity(64),
            retired: HashMap::new(),
            retired_stamp: 0,
            stop_at: None,
            max_segments: max_segments.max(1),
            batched: SEND_MANY,
            batch: SendBatch::new(),
            refusal: None,
            full: Vec::with_capacity(RECV_SLOTS),
            renotice: false,
        }
    }

    /// Peers with a session, and retired channels (for tests).
    pub(crate) fn sizes(&self) -> (usize, usize) {
        (self.all.len(), self.retired.len())
    }

    /// The place in `all` of the `k`th peer at `addrs` (`None`: of all).
    fn place(&self, addrs: Option<&[SocketAddr]>, k: usize) -> Option<usize> {
        addrs.map_or(Some(k), |addrs| self.index.get(&addrs[k]).copied())
    }

    /// Takes the peer at `i` out (the last one moves into its place).
    fn remove(&mut self, i: usize) -> (SocketAddr, Peer<U>) {
        let (addr, peer) = self.all.swap_remove(i);
        self.index.remove(&addr);
        if let Some((moved, _)) = self.all.get(i) {
            self.index.insert(*moved, i);
        }
        (addr, peer)
    }

    fn drop_one(&self) {
        self.sh.dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// Validates and dispatches one datagram from `from`.
    pub(crate) fn on_datagram(&mut self, from: SocketAddr, datagram: &mut [u8], now: Instant) {
        let sh = self.sh.clone();
        let core = &*sh;
        let frame_config = core.config.transport.frame;
        if let Some(&i) = self.index.get(&from) {
            let peer = &mut self.all[i].1;
            if is_hello(datagram, peer.hello.as_ref()) {
                return; // a resent hello: proves nothing, changes nothing
            }
            if let Ok(Opened::Frame(header)) = peer.opener.open_datagram(datagram, &frame_config) {
                peer.life.on_rx(now);
                dispatch(core, peer, frame_in(header, datagram), now);
                return;
            }
            // The address's retired channel coming back: see `reclaim`.
            if !self.reclaim(from, datagram, true, now) {
                // Unauthenticated: dropped and counted, nothing more.
                self.drop_one();
            }
            return;
        }
        if self.stop_at.is_some() {
            return self.drop_one();
        }
        let room = core.sessions.has_room(core.config.max_sessions);
        // An address coming back to its retired channel.
        if self.reclaim(from, datagram, room, now) {
            return;
        }
        if !room {
            core.sessions.count_rejected();
            if core.config.close_notices
                && self.full.len() < self.full.capacity()
                && would_open(core, datagram)
            {
                // Logged only for a datagram that would open a session
                // and gets the notice: at most `full`'s capacity a batch.
                trace_event!(DEBUG, server = core.local(), kind = core.kind(), peer = %from, "refused: server full");
                self.full.push(from);
            }
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
                // The address's retired channel is kept: this hello's
                // source may be forged (see `reclaim`).
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
                    trace_event!(DEBUG, server = core.local(), kind = core.kind(), peer = %from, "refused: another protocol");
                    self.refusal = Some((from, refusal));
                }
                self.drop_one()
            }
        }
    }

    /// A datagram from `from` tried under the address's retired channel;
    /// whether that took it (its old hello, resent, changes nothing; an
    /// authenticated datagram resumes the channel's session with it, only
    /// while a slot is free: `room`).
    ///
    /// With a live session at `from` (that did not authenticate the
    /// datagram): a hello of another token from this address (its source
    /// perhaps forged by someone holding a token of their own) started
    /// that session, while the retired channel's authenticated datagram
    /// proves its client is the one at this address. Then the newer
    /// session ends (`PeerClosed`: its client is not there; its channel
    /// is not kept) and the retired one resumes with this datagram. Not
    /// when both are the same player's (the provider's identity): that
    /// player said hello again, and its older channel is forgotten.
    fn reclaim(&mut self, from: SocketAddr, datagram: &mut [u8], room: bool, now: Instant) -> bool {
        let sh = self.sh.clone();
        let core = &*sh;
        let live = self
            .index
            .get(&from)
            .and_then(|&i| self.all[i].1.session.identity());
        let Some(r) = self.retired.get_mut(&from) else {
            return false;
        };
        if live.is_some() && live == r.identity {
            // The same player said hello again from here: its older
            // channel is stale (a late datagram of it must not end the
            // newer session).
            self.retired.remove(&from);
            return false;
        }
        if is_hello(datagram, r.hello.as_ref()) {
            return true; // its old hello, resent: changes nothing
        }
        if !room {
            return false;
        }
        let frame = &core.config.transport.frame;
        let Ok(Opened::Frame(header)) = r.opener.open_datagram(datagram, frame) else {
            return false;
        };
        let r = self.retired.remove(&from).expect("present");
        if let Some(&i) = self.index.get(&from) {
            let (addr, peer) = self.remove(i);
            self.end_as(addr, peer, &DisconnectReason::PeerClosed, false);
        }
        if let Some(peer) = self.admit(from, r.sealer, r.opener, r.hello, r.identity, now) {
            dispatch(core, peer, frame_in(header, datagram), now);
        }
        true
    }

    /// One batch: `recv` hands every datagram of one receive call to the
    /// function it is given; each is validated and dispatched, then each
    /// peer that sent one is settled once, so its replies leave together
    /// (GSO), and batched ([`SEND_MANY`]) the single replies of many peers
    /// in one `many` call. The earliest next deadline of those peers, or
    /// `recv`'s error.
    pub(crate) fn recv_batch(
        &mut self,
        recv: impl FnOnce(&mut dyn FnMut(SocketAddr, &mut [u8])) -> std::io::Result<usize>,
        send: &mut SendFn<'_>,
        many: &mut SendManyFn<'_>,
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
        let next = self.settle_all(Some(&touched), send, many, now);
        self.scratch = touched;
        got.map(|_| next)
    }

    /// Registers a session for `from` (connected: the hook runs; if it
    /// panics, the session is ending).
    fn admit(
        &mut self,
        from: SocketAddr,
        sealer: Sealer,
        opener: Opener,
        hello: Option<Hello>,
        identity: Option<u64>,
        now: Instant,
    ) -> Option<&mut Peer<U>> {
        let core = &*self.sh;
        let out = Outbox::new(&core.config.transport, sealer, None);
        let waker = self.waker.clone();
        let session = core.register(from, out, |_| waker).ok()?;
        session.handshake(None, identity);
        let connected = core.connected(&session);
        let i = *self.index.entry(from).or_insert(self.all.len());
        if i == self.all.len() {
            // Datagrams: a notice, then the end (nothing to linger for).
            let life = Lifecycle::new(core.config.limits(), false, now)
                .with_notices(core.config.close_notices, false);
            let peer = Peer {
                session,
                opener,
                life,
                hello,
                sent: 0,
            };
            self.all.push((from, peer));
        }
        let peer = &mut self.all[i].1;
        peer.life.on_rx(now);
        if let Err(reason) = connected {
            // A panicking hook: the session ends (its first frame is not
            // dispatched), settled with the others.
            fail(peer, reason, now);
        }
        Some(peer)
    }

    /// Sends what the peer at `i` in `all` has queued with `send` (`None`:
    /// a batched sweep sent what it could, [`Peers::send_gathered`]), then
    /// asks its lifecycle whether the session ends; returns its next
    /// deadline.
    fn settle_at(
        &mut self,
        i: usize,
        mut send: Option<&mut SendFn<'_>>,
        now: Instant,
    ) -> Option<Instant> {
        let (addr, peer) = &mut self.all[i];
        let addr = *addr;
        loop {
            let mut out = peer.session.outbox();
            let flush = send.as_deref_mut().map_or_else(Default::default, |send| {
                out.send_datagrams(self.max_segments, |d, len| send(d, len, addr))
            });
            if peer.life.should_release(now) {
                out.release();
            }
            let queued = out.len();
            drop(out); // `notify` below queues into it
            self.sh.dropped.fetch_add(flush.failed, Ordering::Relaxed);
            let sent = flush.sent + std::mem::take(&mut peer.sent);
            peer.life.on_written(sent as usize, queued, now);
            peer.life.on_work(peer.session.has_work(), now);
            if let Some(reason) = peer.session.take_failure() {
                peer.life.fail(reason, now);
            }
            let (closing, overflowed) = (peer.session.is_closing(), peer.session.overflowed());
            let end = peer.life.poll_end(queued, 0, closing, overflowed, now);
            if let Some(reason) = end {
                let (addr, peer) = self.remove(i);
                self.end(addr, peer, &reason);
                return None;
            }
            // An end decided now (closed, idle, shutdown) sends its close
            // notice first: queued behind the replies, sent at once (or,
            // after a batched send, by the next settle, due now).
            if !peer.session.notify(&mut peer.life) {
                return peer.life.poll_timeout(queued);
            }
            if send.is_none() {
                self.renotice = true;
                return peer.life.poll_timeout(queued);
            }
        }
    }

    /// Sends the refusal and the "server full" notice owed, if any (once:
    /// a full socket loses them, as it may lose any datagram).
    fn send_refusal(&mut self, send: &mut SendFn<'_>) {
        if let Some((addr, refusal)) = self.refusal.take() {
            let _ = send(&refusal, REFUSAL_LEN, addr);
        }
        if !self.full.is_empty() {
            let notice = close_notice(CloseNotice::new(CloseReason::ServerFull));
            for addr in self.full.drain(..) {
                let _ = send(&notice, CLOSE_NOTICE_LEN, addr);
            }
        }
    }

    /// Ends `peer`'s session; sealed, keeps its channel for the address's
    /// return, unless the session ended for what its client sent or by
    /// the application's decision (a kick): such a client is not resumed.
    fn end(&mut self, addr: SocketAddr, peer: Peer<U>, reason: &DisconnectReason) {
        let refused = matches!(
            reason,
            DisconnectReason::Closed
                | DisconnectReason::BadFrame(_)
                | DisconnectReason::Handler(_)
                | DisconnectReason::HandlerPanicked(_)
        );
        if refused
            && let Some(r) = self.retired.get(&addr)
            && r.identity.is_some()
            && r.identity == peer.session.identity()
        {
            // An older channel of the same client at this address (it
            // idled out, then said hello again) must not resume it.
            self.retired.remove(&addr);
        }
        self.end_as(addr, peer, reason, !refused);
    }

    /// Ends `peer`'s session; `keep`: its sealed channel is retired for
    /// the address's return, forgetting the oldest beyond `max_sessions`.
    fn end_as(&mut self, addr: SocketAddr, peer: Peer<U>, reason: &DisconnectReason, keep: bool) {
        self.sh.disconnected(&peer.session, true, reason);
        let t = &self.sh.config.transport;
        let plain = Outbox::new(t, Sealer::plain(&t.frame), None);
        let out = std::mem::replace(&mut *peer.session.outbox(), plain);
        if !out.is_sealed() || !keep {
            return;
        }
        let cap = self.sh.config.max_sessions;
        self.retired.remove(&addr);
        while self.retired.len() >= cap.max(1) {
            // O(n) on a session's end only, never per datagram.
            let oldest = self.retired.iter().min_by_key(|(_, r)| r.stamp);
            let oldest = *oldest.expect("not empty").0;
            self.retired.remove(&oldest);
        }
        if cap > 0 {
            self.retired_stamp += 1;
            let retired = Retired {
                sealer: out.into_sealer(),
                opener: peer.opener,
                hello: peer.hello,
                identity: peer.session.identity(),
                stamp: self.retired_stamp,
            };
            self.retired.insert(addr, retired);
        }
    }

    /// Settles every peer; returns the earliest next deadline. Batched
    /// ([`SEND_MANY`]), the datagrams of many peers leave in one `many`
    /// call ([`Peers::send_gathered`]); else each peer's in its own
    /// `send` calls.
    pub(crate) fn sweep(
        &mut self,
        send: &mut SendFn<'_>,
        many: &mut SendManyFn<'_>,
        now: Instant,
    ) -> Option<Instant> {
        self.settle_all(None, send, many, now)
    }

    /// Settles the peers at `addrs` (`None`: every peer, walked in
    /// place, no look-up): batched, their datagrams sent together first
    /// ([`Peers::send_gathered`]); a single peer's are sent as unbatched
    /// (gathering costs a copy, for one system call either way). The
    /// earliest next deadline.
    fn settle_all(
        &mut self,
        addrs: Option<&[SocketAddr]>,
        send: &mut SendFn<'_>,
        many: &mut SendManyFn<'_>,
        now: Instant,
    ) -> Option<Instant> {
        self.send_refusal(send);
        let mut n = addrs.map_or(self.all.len(), <[_]>::len);
        let mut batched = self.batched && n > 1;
        if batched {
            self.send_gathered(addrs, send, many);
        }
        loop {
            let mut next = None;
            // Backwards: a peer that ends takes the last one's place, which
            // was settled already.
            for k in (0..n).rev() {
                let send = (!batched).then_some(&mut *send);
                let i = self.place(addrs, k);
                next = earliest(next, i.and_then(|i| self.settle_at(i, send, now)));
            }
            if !std::mem::take(&mut self.renotice) {
                return next;
            }
            // Close notices queued after the batch left (the close path
            // only): sent now by a second pass over the same peers, each
            // peer on its own (their deadlines anew), and those sessions
            // end here.
            batched = false;
            n = addrs.map_or(self.all.len(), <[_]>::len);
        }
    }

    /// Sends what the peers at `addrs` have queued, oldest first per
    /// peer: their datagrams are copied into one batch, and a full batch
    /// (or the last) leaves in `many` calls, until every queue is empty
    /// or the socket would block. Where the socket has GSO, a peer with
    /// several datagrams queued sends them in its own `send` call instead
    /// (one call, and one pass through the kernel's UDP path, for the
    /// run). A datagram leaves its peer's queue
    /// only once sent (or failed, and counted as dropped): what a full
    /// socket refused stays queued, in order, for the next sweep, so
    /// nothing is lost or sent twice. Each peer's `sent` counts its
    /// datagrams that left, for [`Peers::settle_at`].
    fn send_gathered(
        &mut self,
        addrs: Option<&[SocketAddr]>,
        send: &mut SendFn<'_>,
        many: &mut SendManyFn<'_>,
    ) {
        self.batch.clear();
        let gso = self.max_segments > 1;
        let n = addrs.map_or(self.all.len(), <[_]>::len);
        for k in 0..n {
            let Some(i) = self.place(addrs, k) else {
                continue;
            };
            loop {
                let (addr, peer) = &mut self.all[i];
                let addr = *addr;
                let mut out = peer.session.outbox();
                if gso && out.holds_several_datagrams() {
                    // Its earlier datagrams, if any, left with a batch.
                    let flush = out.send_datagrams(self.max_segments, |d, len| send(d, len, addr));
                    drop(out);
                    peer.sent += flush.sent;
                    self.sh.dropped.fetch_add(flush.failed, Ordering::Relaxed);
                    if !flush.empty {
                        // The socket is full: the batch's datagrams are
                        // still queued too.
                        self.batch.clear();
                        return;
                    }
                    break;
                }
                // From the queue's front: anything of this peer's in the
                // batch before it was full has left with it.
                let all = out.peek_datagrams(|d| self.batch.push(addr, i, d));
                drop(out);
                if all {
                    break;
                }
                // The batch is full: send it, then gather on.
                if !self.send_batch(many) {
                    return;
                }
            }
        }
        self.send_batch(many);
    }

    /// Sends the batch (emptied), taking every datagram that left (or
    /// failed, counted as dropped) out of its peer's queue; whether all
    /// of it left (else the socket would block and the rest is still
    /// queued).
    fn send_batch(&mut self, many: &mut SendManyFn<'_>) -> bool {
        let batch = &mut self.batch;
        let mut at = 0;
        let mut all = true;
        while at < batch.len() {
            let (n, sent) = match many(batch, at) {
                Ok(n) if n > 0 => (n.min(batch.len() - at), true),
                Err(e) if e.kind() != std::io::ErrorKind::WouldBlock => (1, false),
                // Would block (or took nothing): the rest stays queued.
                _ => {
                    all = false;
                    break;
                }
            };
            for j in at..at + n {
                let (_, i, datagram) = batch.get(j);
                let peer = &mut self.all[i].1;
                peer.session.outbox().queue_mut().consume(datagram.len());
                if sent {
                    peer.sent += 1;
                } else {
                    self.sh.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
            at += n;
        }
        batch.clear();
        all
    }

    /// The server stops: every session flushes within the grace period.
    pub(crate) fn shutdown(&mut self, now: Instant) {
        self.stop_at.get_or_insert(now);
        for (_, peer) in &mut self.all {
            peer.life.shutdown(now);
        }
    }

    /// One step of the graceful stop (after [`Peers::shutdown`]): flushes
    /// what is queued, then says until when the driver may wait for the
    /// socket before the next step, or `None` once no session is left or
    /// the grace period is over (then [`Peers::end_all`]).
    pub(crate) fn drain(
        &mut self,
        send: &mut SendFn<'_>,
        many: &mut SendManyFn<'_>,
        now: Instant,
    ) -> Option<Instant> {
        self.sweep(send, many, now);
        let deadline = self.stop_at.unwrap_or(now) + self.sh.config.shutdown_grace;
        (!self.all.is_empty() && now < deadline).then_some(deadline)
    }

    /// Ends every session (shutdown, past the grace period).
    pub(crate) fn end_all(&mut self) {
        self.index.clear();
        for (addr, peer) in std::mem::take(&mut self.all) {
            self.end(addr, peer, &DisconnectReason::Shutdown);
        }
    }
}

/// Dispatches one frame of `peer`'s session; a handler that fails or
/// panics (caught: `Router::run`) ends it once its queued replies are
/// out, and the endpoint serves the other peers on.
fn dispatch<S, U>(
    core: &ServerCore<S, U>,
    peer: &mut Peer<U>,
    frame: packet_core::frame::Frame<'_>,
    now: Instant,
) {
    if peer.session.is_closing() || peer.life.is_ending() {
        return;
    }
    if peer.session.work_full(core.config.max_session_work) {
        // At its work limit: a datagram cannot wait, it is dropped.
        core.dropped.fetch_add(1, Ordering::Relaxed);
        return;
    }
    count_in(&peer.session);
    if let Err(reason) = core.router.run(&core.ctx(&peer.session), frame) {
        fail(peer, reason, now);
    }
}

/// `peer`'s session ends for `reason` once its queued replies are out,
/// its close notice (wire format §12) queued behind them.
fn fail<U>(peer: &mut Peer<U>, reason: DisconnectReason, now: Instant) {
    peer.life.fail(reason, now);
    peer.session.notify(&mut peer.life);
}

/// Whether `datagram` from a new address would have opened a session
/// (a valid frame; where the server requires a hello, a valid hello,
/// checked without asking for keys) and is at least as long as the close
/// notice that answers it when the table is full (no amplification).
fn would_open<S, U>(core: &ServerCore<S, U>, datagram: &[u8]) -> bool {
    if datagram.len() < CLOSE_NOTICE_LEN {
        return false;
    }
    let Ok(f) = packet_core::frame::decode_frame(datagram, &core.config.transport.frame) else {
        return false;
    };
    let hello = core.config.is_sealed() || core.config.transport.fingerprint.is_some();
    !hello || Hello::parse(f.type_id(), f.body()).is_some()
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

    /// One datagram from `from` at `now`, then its peer settled: a
    /// receive call of the drivers (`Peers::recv_batch`) that got one.
    pub fn datagram(&mut self, from: SocketAddr, datagram: &mut [u8], now: Instant) {
        let recv = |each: &mut dyn FnMut(SocketAddr, &mut [u8])| {
            each(from, datagram);
            Ok(1)
        };
        let _ = self.with_socket(|peers, send, many| peers.recv_batch(recv, send, many, now));
    }

    /// Settles every peer at `now`; the next deadline.
    pub fn sweep(&mut self, now: Instant) -> Option<Instant> {
        self.with_socket(|peers, send, many| peers.sweep(send, many, now))
    }

    /// `f` with the peers and the endpoint's socket, which counts the
    /// datagrams sent (a batched send takes every one) or, while blocked,
    /// refuses them.
    fn with_socket<R>(
        &mut self,
        f: impl FnOnce(&mut Peers<Arc<ServerCore<()>>>, &mut SendFn<'_>, &mut SendManyFn<'_>) -> R,
    ) -> R {
        let (blocked, sent) = (self.blocked, std::cell::Cell::new(0));
        let take = |n: usize| -> std::io::Result<usize> {
            if blocked {
                return Err(std::io::ErrorKind::WouldBlock.into());
            }
            sent.set(sent.get() + n as u64);
            Ok(n)
        };
        let mut send =
            |d: &[u8], len: usize, _: SocketAddr| take(d.len().div_ceil(len.max(1))).map(drop);
        let mut many = |batch: &SendBatch, from: usize| take(batch.len() - from);
        let r = f(&mut self.peers, &mut send, &mut many);
        self.sent += sent.get();
        r
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
        let peers = self.peers.all.iter().map(|(a, p)| {
            let n = p.session.frames_in.load(Ordering::Relaxed);
            std::format!("{a} {:?} {:?} {n}", p.life, p.opener)
        });
        let retired = self.peers.retired.iter();
        let retired = retired.map(|(a, r)| std::format!("{a} retired {:?}", r.opener));
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::io;
    use std::vec;

    use super::*;

    type TestPeers = Peers<Arc<ServerCore<()>>>;

    /// Plaintext peers at `n` addresses, each with `per_peer` datagrams
    /// queued; what each peer's queue holds, per address.
    fn peers_with_queues(n: u16, per_peer: u8) -> (TestPeers, HashMap<SocketAddr, Vec<u8>>) {
        // A plaintext peer's first frame opens its session.
        let router = super::super::Router::new().on_unknown(super::super::UnknownPackets::Ignore);
        let core = Arc::new(ServerCore::new(
            router,
            (),
            super::super::ServerConfig::default(),
        ));
        let poll = mio::Poll::new().unwrap();
        let waker =
            super::super::PollWaker::new(mio::Waker::new(poll.registry(), mio::Token(0)).unwrap());
        let mut peers = Peers::new(core, Waker::Poll(Arc::new(waker), 0), 1);
        let now = Instant::now();
        for i in 0..n {
            let addr = SocketAddr::from(([127, 0, 0, 1], 2000 + i));
            // (A frame of type 7, ignored: a version-1 hello, type 0xFFFF,
            // is a protocol error on a plaintext session, wire format §11.5.)
            let mut first = [0; 32];
            let len = packet_core::frame::encode_raw(7, 0, &[], &mut first).unwrap();
            peers.on_datagram(addr, &mut first[..len], now);
        }
        assert_eq!(peers.sizes().0, usize::from(n));
        let mut queued = HashMap::new();
        for (addr, peer) in &peers.all {
            for j in 0..per_peer {
                // Bodies of different lengths, so a datagram's bytes
                // tell which one it is.
                peer.session
                    .send_raw(7, &vec![j; usize::from(j) + 1])
                    .unwrap();
            }
            let bytes = peer.session.outbox().queue_ref().pending().to_vec();
            queued.insert(*addr, bytes);
        }
        (peers, queued)
    }

    /// A socket that takes at most `per_call` datagrams per call and
    /// `budget` in all (then `WouldBlock`), failing the `fail`th datagram
    /// offered (from 0) with another error; what it took, in order, per
    /// address.
    struct Fake {
        per_call: usize,
        budget: usize,
        fail: Option<usize>,
        offered: usize,
        calls: usize,
        took: HashMap<SocketAddr, Vec<u8>>,
    }

    impl Fake {
        fn new(per_call: usize, budget: usize) -> Self {
            let (fail, offered, calls, took) = (None, 0, 0, HashMap::new());
            Self {
                per_call,
                budget,
                fail,
                offered,
                calls,
                took,
            }
        }

        fn send(&mut self, batch: &SendBatch, from: usize) -> io::Result<usize> {
            self.calls += 1;
            if self.fail == Some(self.offered) {
                self.offered += 1;
                return Err(io::ErrorKind::ConnectionRefused.into());
            }
            let mut n = (batch.len() - from).min(self.per_call).min(self.budget);
            // As `sendmmsg`: a datagram that fails after the first ends
            // the call, which returns how many went before it.
            if let Some(fail) = self.fail.filter(|f| *f > self.offered) {
                n = n.min(fail - self.offered);
            }
            if n == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            for i in from..from + n {
                let (to, _, datagram) = batch.get(i);
                self.took.entry(to).or_default().extend_from_slice(datagram);
            }
            self.budget -= n;
            self.offered += n;
            Ok(n)
        }
    }

    /// One sweep through `fake`; per-peer sends must not be used.
    fn sweep(peers: &mut TestPeers, fake: &mut Fake) {
        let mut send = |_: &[u8], _: usize, _: SocketAddr| -> io::Result<()> {
            panic!("a batched sweep sends through the batch")
        };
        let mut many = |b: &SendBatch, from: usize| fake.send(b, from);
        peers.batched = true;
        peers.sweep(&mut send, &mut many, Instant::now());
    }

    fn pending(peers: &TestPeers, addr: &SocketAddr) -> Vec<u8> {
        let out = peers.all[peers.index[addr]].1.session.outbox();
        out.queue_ref().pending().to_vec()
    }

    #[test]
    fn a_sweep_sends_many_peers_datagrams_per_call() {
        let (mut peers, queued) = peers_with_queues(10, 3);
        let mut fake = Fake::new(usize::MAX, usize::MAX);
        sweep(&mut peers, &mut fake);
        assert_eq!(fake.calls, 1, "30 datagrams fit one batch");
        assert_eq!(fake.took, queued);
        for addr in queued.keys() {
            assert!(pending(&peers, addr).is_empty());
        }
    }

    #[test]
    fn a_full_batch_leaves_and_gathering_goes_on() {
        let (mut peers, queued) = peers_with_queues(7, 3);
        peers.batch = SendBatch::with_room(4, 1 << 16);
        let mut fake = Fake::new(usize::MAX, usize::MAX);
        sweep(&mut peers, &mut fake);
        assert_eq!(fake.calls, 6, "21 datagrams, 4 per batch");
        assert_eq!(fake.took, queued);
    }

    /// The socket takes `k` of the `n` datagrams offered, a few per call,
    /// then would block: what it took left the queues, the rest is still
    /// queued, in order; the next sweeps send exactly the rest.
    #[test]
    fn partial_sends_and_would_block_lose_and_repeat_nothing() {
        for budget in [0, 1, 2, 5, 7, 11, 19, 29] {
            let (mut peers, queued) = peers_with_queues(10, 3);
            peers.batch = SendBatch::with_room(8, 1 << 16);
            let mut fake = Fake::new(3, budget);
            sweep(&mut peers, &mut fake);
            let sent: usize = fake.took.values().map(|b| frames(b)).sum();
            assert_eq!(sent, budget, "budget {budget}");
            for (addr, all) in &queued {
                let took = fake.took.get(addr).map_or(&[][..], |b| &b[..]);
                let left = pending(&peers, addr);
                assert_eq!([took, &left].concat(), *all, "budget {budget}, {addr}");
            }
            // The socket drains: the next sweeps send the rest, once.
            for _ in 0..3 {
                fake.budget = 4;
                sweep(&mut peers, &mut fake);
            }
            fake.budget = usize::MAX;
            sweep(&mut peers, &mut fake);
            assert_eq!(fake.took, queued, "budget {budget}");
            assert_eq!(peers.sh.dropped.load(Ordering::Relaxed), 0);
        }
    }

    /// A datagram the socket fails for another reason is lost and
    /// counted; the others leave.
    #[test]
    fn a_failed_datagram_is_dropped_once_and_the_rest_leaves() {
        let (mut peers, queued) = peers_with_queues(4, 2);
        let mut fake = Fake::new(usize::MAX, usize::MAX);
        fake.fail = Some(3);
        sweep(&mut peers, &mut fake);
        assert_eq!(fake.calls, 3, "3 datagrams, the failure, the other 4");
        assert_eq!(peers.sh.dropped.load(Ordering::Relaxed), 1);
        let sent: usize = fake.took.values().map(|b| frames(b)).sum();
        assert_eq!(sent, 7);
        for addr in queued.keys() {
            assert!(pending(&peers, addr).is_empty());
        }
    }

    /// With GSO, a peer with a run queued sends it in a call of its own
    /// (one GSO send); single datagrams of many peers share a batch.
    #[test]
    fn runs_to_one_peer_keep_gso_and_single_datagrams_share_a_batch() {
        let (mut peers, mut queued) = peers_with_queues(6, 1);
        peers.max_segments = 4;
        let runs: Vec<SocketAddr> = queued.keys().copied().take(2).collect();
        for addr in &runs {
            let session = &peers.all[peers.index[addr]].1.session;
            session.send_raw(7, &[1, 1]).unwrap();
            session.send_raw(7, &[2, 2]).unwrap();
            let bytes = session.outbox().queue_ref().pending().to_vec();
            queued.insert(*addr, bytes);
        }
        let mut fake = Fake::new(usize::MAX, usize::MAX);
        let mut gso = HashMap::<SocketAddr, Vec<u8>>::new();
        let mut gso_calls = 0;
        let mut send = |d: &[u8], _: usize, to: SocketAddr| -> io::Result<()> {
            gso_calls += 1;
            gso.entry(to).or_default().extend_from_slice(d);
            Ok(())
        };
        let mut many = |b: &SendBatch, from: usize| fake.send(b, from);
        peers.batched = true;
        peers.sweep(&mut send, &mut many, Instant::now());
        assert_eq!((gso_calls, fake.calls), (2, 1));
        let mut took = fake.took;
        took.extend(gso);
        assert_eq!(took, queued);
    }

    /// A batched sweep at a shutdown: each peer's replies leave in the
    /// batch, then its close notice by the unbatched second pass, which
    /// ends the session there (a peer ending takes another's place in
    /// `all` mid-pass); every peer gets exactly its own datagrams, once,
    /// in order, also when the socket would block on the way.
    #[test]
    fn a_batched_shutdown_sends_each_peer_its_replies_then_one_notice() {
        for budget in [0, 1, 4, 13, 30] {
            let (mut peers, queued) = peers_with_queues(10, 3);
            peers.batch = SendBatch::with_room(4, 1 << 16);
            let mut fake = Fake::new(3, budget);
            let mut single = HashMap::<SocketAddr, Vec<Vec<u8>>>::new();
            let now = Instant::now();
            peers.shutdown(now);
            for round in 0..6 {
                if round > 0 {
                    fake.budget = usize::MAX;
                }
                let mut send = |d: &[u8], _: usize, to: SocketAddr| -> io::Result<()> {
                    single.entry(to).or_default().push(d.to_vec());
                    Ok(())
                };
                let mut many = |b: &SendBatch, from: usize| fake.send(b, from);
                peers.batched = true;
                peers.sweep(&mut send, &mut many, now);
            }
            assert_eq!(peers.sizes().0, 0, "budget {budget}: all ended");
            let mut notices = Vec::new();
            for (addr, all) in &queued {
                // What the batch took, then what the second pass sent.
                let took = fake.took.get(addr).map_or(&[][..], |b| &b[..]);
                let got = [took, &single[addr].concat()].concat();
                assert_eq!(got[..all.len()], all[..], "budget {budget}, {addr}");
                let notice = &got[all.len()..];
                assert_eq!(frames(notice), 1, "budget {budget}, {addr}");
                notices.push(notice.to_vec());
            }
            notices.dedup();
            assert_eq!(notices.len(), 1, "budget {budget}: the same notice");
            assert_eq!(peers.sh.dropped.load(Ordering::Relaxed), 0);
        }
    }

    /// Frames in `bytes`.
    fn frames(mut bytes: &[u8]) -> usize {
        let mut n = 0;
        while let Some(prefix) = bytes.first_chunk::<4>() {
            bytes = &bytes[u32::from_le_bytes(*prefix) as usize..];
            n += 1;
        }
        n
    }
}
