//! Buffers of a connection: the bounded [`WriteQueue`] frames are encoded
//! into, the [`Outbox`] (queue + send side) and the [`Inbox`] (stream
//! decoder + receive side).
//!
//! After warm-up (buffers grown to their working size) sending and
//! receiving a packet allocates nothing; [`Outbox::release`] and
//! [`Inbox::release`] give a burst-grown buffer back while a connection
//! is idle.

use std::io;

use packet_core::error::EncodeError;
use packet_core::frame::{FrameConfig, Packet};
use packet_core::{Encode, StreamDecoder, Writer};

use super::security::{
    CloseNotice, Hello, Incoming, Opener, REFUSAL_LEN, SESSION_HELLO_TYPE, Sealer, close_notice,
};
use super::{TransportConfig, TransportError};

/// A bounded FIFO of encoded frames waiting to be written.
///
/// Frames are encoded straight into the queue's buffer (no staging copy);
/// [`WriteQueue::write_to`] hands everything queued to the socket in as few
/// `write` calls as the kernel allows. The buffer grows on demand up to the
/// limit and keeps its allocation afterwards.
#[derive(Debug, Default)]
pub struct WriteQueue {
    buf: Vec<u8>,
    head: usize,
    limit: usize,
}

impl WriteQueue {
    /// An empty queue holding at most `limit` bytes; allocates nothing yet.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            ..Self::default()
        }
    }

    /// Bytes waiting to be written.
    #[inline]
    pub fn len(&self) -> usize {
        self.buf.len() - self.head
    }

    /// Whether nothing waits.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The limit in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes that can still be queued.
    #[inline]
    pub fn space(&self) -> usize {
        self.limit.saturating_sub(self.len())
    }

    /// The queued bytes, oldest first.
    #[inline]
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.head..]
    }

    /// Marks `n` queued bytes as written.
    #[inline]
    pub fn consume(&mut self, n: usize) {
        self.head = (self.head + n).min(self.buf.len());
        if self.head == self.buf.len() {
            self.buf.clear();
            self.head = 0;
        }
    }

    /// Forgets everything queued (keeps the allocation).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.head = 0;
    }

    /// Appends at most `max_len` bytes that `fill` writes into the slice it
    /// is given, returning how many it wrote. Fails with
    /// [`TransportError::QueueFull`] (queue unchanged) when `max_len` bytes
    /// do not fit under the limit.
    pub fn push_with(
        &mut self,
        max_len: usize,
        fill: impl FnOnce(&mut [u8]) -> Result<usize, TransportError>,
    ) -> Result<usize, TransportError> {
        self.push_copied_with(max_len, 0, &[], fill)
    }

    /// Like [`WriteQueue::push_with`], but the `max_len` bytes `fill` is
    /// given already hold `bytes` at offset `offset` (the rest zeroed): a
    /// body encoded once and queued for many sessions is copied in, not
    /// zero-filled and then written. `offset + bytes.len()` must not
    /// exceed `max_len`.
    pub fn push_copied_with(
        &mut self,
        max_len: usize,
        offset: usize,
        bytes: &[u8],
        fill: impl FnOnce(&mut [u8]) -> Result<usize, TransportError>,
    ) -> Result<usize, TransportError> {
        assert!(
            offset + bytes.len() <= max_len,
            "copied bytes beyond the reserved region"
        );
        let at = self.make_room(max_len)?;
        self.buf.resize(at + offset, 0);
        self.buf.extend_from_slice(bytes);
        self.buf.resize(at + max_len, 0);
        // What `fill` wrote is kept (nothing, on an error).
        let kept = fill(&mut self.buf[at..]);
        self.buf
            .truncate(at + kept.as_ref().map_or(0, |&n| n.min(max_len)));
        kept
    }

    /// Checks that `max_len` more bytes fit under the limit, compacting
    /// the written-out front rather than growing; where they would start.
    ///
    /// A growing buffer takes twice what it is about to hold (within the
    /// limit): bytes the socket already took stay queued until the writer
    /// gets back to [`WriteQueue::consume`] them, and meanwhile the peer
    /// may have read them and another thread queued the next frames (the
    /// next tick's broadcast). Once the queue has held `n` bytes, `n` in
    /// flight plus `n` more fit: the high-water mark of a steady load does
    /// not depend on how the threads happen to be scheduled.
    #[inline]
    fn make_room(&mut self, max_len: usize) -> Result<usize, TransportError> {
        if max_len > self.space() {
            return Err(TransportError::QueueFull {
                queued: self.len(),
                needed: max_len,
                limit: self.limit,
            });
        }
        if self.head > 0 && self.buf.len() + max_len > self.buf.capacity() {
            // Reuse the written-out front before growing.
            self.buf.copy_within(self.head.., 0);
            self.buf.truncate(self.buf.len() - self.head);
            self.head = 0;
        }
        let need = self.buf.len() + max_len;
        if need > self.buf.capacity() {
            let want = (2 * need).min(self.limit.max(need));
            self.buf.reserve_exact(want - self.buf.len());
        }
        Ok(self.buf.len())
    }

    /// Writes queued bytes to `w` until the queue is empty or `w` would
    /// block; returns the bytes written. `WouldBlock` after partial
    /// progress is not an error (check [`WriteQueue::is_empty`]).
    pub fn write_to<W: io::Write + ?Sized>(&mut self, w: &mut W) -> io::Result<usize> {
        let mut total = 0;
        while !self.is_empty() {
            match w.write(self.pending()) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.consume(n);
                    total += n;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && total > 0 => break,
                Err(e) => return Err(e),
            }
        }
        Ok(total)
    }

    /// Frees the buffer when nothing is queued (an idle connection).
    pub fn release(&mut self) {
        if self.is_empty() {
            self.buf = Vec::new();
            self.head = 0;
        }
    }
}

/// The body length `packet` encodes to: its `encoded_len`, or, when that
/// is `usize::MAX` (a sequence field longer than its length prefix or
/// `max_len` allows, which `encode` refuses), the error `encode` gives,
/// which names the field and the attribute to change
/// ([`EncodeError::FieldTooLong`], as `PacketBuf::encode` reports it),
/// rather than a frame of `usize::MAX` bytes. Every send path sizes its
/// frame through this.
#[inline]
pub(crate) fn body_len<P: Encode + ?Sized>(packet: &P) -> Result<usize, EncodeError> {
    match packet.encoded_len() {
        usize::MAX => Err(refused(packet)),
        len => Ok(len),
    }
}

/// The error `packet`'s `encode` gives, encoding into scratch room for
/// the largest default frame (only a packet no frame carries gets here).
/// Any other outcome, such as a body that simply outgrows the room, is
/// the frame-size error the length stood for.
#[cold]
#[inline(never)]
fn refused<P: Encode + ?Sized>(packet: &P) -> EncodeError {
    let max = FrameConfig::DEFAULT_MAX_FRAME_LEN as usize;
    let mut scratch = std::vec![0u8; max];
    match packet.encode(&mut Writer::new(&mut scratch)) {
        Err(e) if !matches!(e, EncodeError::BufferFull { .. }) => e,
        _ => EncodeError::FrameTooLarge {
            len: usize::MAX,
            max,
        },
    }
}

/// The outgoing half of a connection: frames are sealed straight into a
/// bounded [`WriteQueue`]. A sealed client's first frame is preceded by
/// its session hello.
#[derive(Debug)]
pub struct Outbox {
    queue: WriteQueue,
    sealer: Sealer,
    hello: Option<Hello>,
}

impl Outbox {
    /// The outgoing half for `config` with `sealer`, sending the session
    /// hello for `hello` before the first frame.
    pub(crate) fn new(config: &TransportConfig, sealer: Sealer, hello: Option<Hello>) -> Self {
        Self {
            queue: WriteQueue::new(config.queue_limit()),
            sealer,
            hello,
        }
    }

    /// Queues `packet` as one frame.
    pub fn queue<P: Packet + ?Sized>(&mut self, packet: &P) -> Result<(), TransportError> {
        self.queue_with(P::ID, body_len(packet)?, |w| packet.write_data(w))
    }

    /// Queues a frame with a raw body.
    /// Type id `0xFFFF` is refused ([`TransportError::ReservedTypeId`]).
    pub fn queue_raw(&mut self, type_id: u16, body: &[u8]) -> Result<(), TransportError> {
        self.queue_encoded(super::application_type_id(type_id)?, body.len(), body)
    }

    /// Queues a frame whose body (at most `max_body` bytes) `body` writes.
    /// Type id `0xFFFF` is refused ([`TransportError::ReservedTypeId`]).
    pub fn queue_with(
        &mut self,
        type_id: u16,
        max_body: usize,
        body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
    ) -> Result<(), TransportError> {
        let type_id = super::application_type_id(type_id)?;
        let len = self.needed(max_body)?;
        let (sealer, hello) = (&mut self.sealer, &mut self.hello);
        self.queue
            .push_with(len, |out| sealer.seal_after(hello, type_id, out, body))
            .map(drop)
    }

    /// Queues a frame of type `type_id` whose body was encoded beforehand
    /// into `body` (a packet whose `encoded_len` is `max_body`: the same
    /// length checks as [`Outbox::queue`], the same bytes on the wire).
    /// The body is copied into the queue and the frame built around it
    /// in place (header, padding, check or seal), so a broadcast encodes
    /// its packet once for every session. Any type id: the crate's own
    /// control frames (a sealed close notice) too.
    pub(crate) fn queue_encoded(
        &mut self,
        type_id: u16,
        max_body: usize,
        body: &[u8],
    ) -> Result<(), TransportError> {
        // `type_id`: its callers checked an application's.
        let len = self.needed(max_body)?;
        if body.len() > max_body {
            return Err(EncodeError::BufferFull {
                needed: body.len(),
                remaining: max_body,
            }
            .into());
        }
        let (sealer, hello) = (&mut self.sealer, &mut self.hello);
        // Frames (plain and sealed) carry their body right after the
        // header (after the hello, on a client's first frame): the body
        // region is taken as it is (`reserve`), sealed in place for a
        // sealed session.
        let reserve = |w: &mut Writer<'_>| w.reserve(body.len()).map(drop);
        if hello.is_none() {
            // Every frame but a client's first: the offset a constant, the
            // header's zeroing a few stores rather than a `memset` call
            // (measured: the UDP echo's reply).
            let at = packet_core::frame::HEADER_LEN;
            let push = self
                .queue
                .push_copied_with(len, at, body, |out| sealer.seal_with(type_id, out, reserve));
            return push.map(drop);
        }
        let at = hello.map_or(0, |h| h.frame_len()) + packet_core::frame::HEADER_LEN;
        self.queue
            .push_copied_with(len, at, body, |out| {
                sealer.seal_after(hello, type_id, out, reserve)
            })
            .map(drop)
    }

    /// Bytes a frame with a body of at most `max_body` bytes needs.
    #[inline]
    fn needed(&self, max_body: usize) -> Result<usize, TransportError> {
        let hello = self.hello.map_or(0, |h| h.frame_len());
        Ok(self.sealer.check_len(max_body)? + hello)
    }

    /// Whether a frame with a body of at most `max_body` bytes needs the
    /// queue flushed first (fails when it can never fit a frame).
    #[inline]
    pub(crate) fn needs_flush_for(&self, max_body: usize) -> Result<bool, TransportError> {
        Ok(self.needed(max_body)? > self.queue.space())
    }

    /// Writes to `w` until the queue is empty. A `WouldBlock` before
    /// anything more could be written comes back as an `Io` error.
    pub(crate) fn flush_to<W: io::Write + ?Sized>(
        &mut self,
        w: &mut W,
    ) -> Result<(), TransportError> {
        while !self.queue.is_empty() {
            self.queue.write_to(w)?;
        }
        Ok(())
    }

    /// Hands the queued frames to `send`, oldest first, each as one
    /// datagram: a run of up to `max_segments` frames of one length (the
    /// last maybe shorter) in one call, `send(bytes, length)`, for the
    /// socket to split (GSO); until the queue is empty or `send` would
    /// block (the rest stays queued). Datagrams `send` fails for another
    /// reason are lost, as datagrams may be, and counted.
    pub(crate) fn send_datagrams(
        &mut self,
        max_segments: usize,
        mut send: impl FnMut(&[u8], usize) -> io::Result<()>,
    ) -> DatagramFlush {
        let mut flush = DatagramFlush::default();
        loop {
            let pending = self.queue.pending();
            let Some(len) = frame_len_at(pending) else {
                flush.empty = true;
                return flush;
            };
            let (mut end, mut n) = (len, 1);
            while n < max_segments
                && let Some(next) = frame_len_at(&pending[end..])
                && next <= len
                && end + next <= super::batch::MAX_SEND
            {
                (end, n) = (end + next, n + 1);
                if next < len {
                    break;
                }
            }
            match send(&pending[..end], len) {
                Ok(()) => flush.sent += n as u64,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return flush,
                Err(_) => flush.failed += n as u64,
            }
            self.queue.consume(end);
        }
    }

    /// Whether more than one frame is queued.
    pub(crate) fn holds_several_datagrams(&self) -> bool {
        let pending = self.queue.pending();
        frame_len_at(pending).is_some_and(|len| len < pending.len())
    }

    /// Hands the queued frames to `take`, oldest first, one datagram
    /// each, until `take` refuses one (returns `false`); nothing is
    /// consumed (the caller consumes what it sent). Whether every frame
    /// was taken.
    pub(crate) fn peek_datagrams(&self, mut take: impl FnMut(&[u8]) -> bool) -> bool {
        let mut pending = self.queue.pending();
        while let Some(len) = frame_len_at(pending) {
            if !take(&pending[..len]) {
                return false;
            }
            pending = &pending[len..];
        }
        true
    }

    /// Queues the refusal of a hello with another protocol fingerprint
    /// (a server end; plaintext whatever the session, wire format §11.5).
    pub(crate) fn queue_refusal(&mut self, refusal: [u8; REFUSAL_LEN]) {
        self.queue_plain(&refusal);
    }

    /// Queues a whole plain control frame (a refusal, a close notice) as
    /// is; a full queue loses it (both are best effort).
    fn queue_plain(&mut self, frame: &[u8]) {
        let _ = self.queue.push_with(frame.len(), |out| {
            out[..frame.len()].copy_from_slice(frame);
            Ok(frame.len())
        });
    }

    /// Queues a close notice (wire format §12) behind what is queued: a
    /// server end's last frame. Sealed by the session's own send side
    /// once it has the session's keys (its next sequence), else the plain
    /// control frame. A full queue (or a send side that can seal no more)
    /// loses it: the notice is best effort, the close goes on.
    pub(crate) fn queue_notice(&mut self, notice: CloseNotice) {
        if !self.sealer.is_keyed() {
            return self.queue_plain(&close_notice(notice));
        }
        let body = notice.body();
        let _ = self.queue_encoded(SESSION_HELLO_TYPE, body.len(), &body);
    }

    /// Installs the send side keyed by the peer's hello (a server end).
    pub(crate) fn set_sealer(&mut self, sealer: Sealer) {
        self.sealer = sealer;
    }

    /// Takes the send side out (a UDP peer whose session ends keeps it).
    pub(crate) fn into_sealer(self) -> Sealer {
        self.sealer
    }

    /// Whether frames are sealed.
    pub(crate) fn is_sealed(&self) -> bool {
        self.sealer.is_sealed()
    }

    /// The queue.
    pub(crate) fn queue_ref(&self) -> &WriteQueue {
        &self.queue
    }

    /// The queue, mutably (to write it out).
    pub(crate) fn queue_mut(&mut self) -> &mut WriteQueue {
        &mut self.queue
    }

    /// Frees the queue's buffer if nothing waits.
    pub(crate) fn release(&mut self) {
        self.queue.release();
    }

    /// Bytes waiting.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

/// The length of the frame `bytes` starts with (the queue holds whole
/// frames only: the length prefix is the frame's), or `None` when empty.
fn frame_len_at(bytes: &[u8]) -> Option<usize> {
    let prefix = bytes.first_chunk::<4>()?;
    Some((u32::from_le_bytes(*prefix) as usize).clamp(4, bytes.len()))
}

/// What `Outbox::send_datagrams` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DatagramFlush {
    /// Datagrams sent.
    pub sent: u64,
    /// Datagrams the socket refused (lost).
    pub failed: u64,
    /// Whether the queue is empty (else the socket would block).
    pub empty: bool,
}

/// The incoming half of a stream connection: a bounded [`StreamDecoder`]
/// and the [`Opener`] that validates what it yields.
#[derive(Debug)]
pub struct Inbox {
    decoder: StreamDecoder,
    opener: Opener,
}

/// The buffers one driver thread lends to the session it is serving, so
/// a burst grows these once instead of every session's own (which would
/// keep them, or leave the heap fragmented when freed): the read buffer,
/// a stream decoder and a write queue. A session keeps a lent buffer only
/// while it holds bytes in it (an unfinished frame, unsent replies).
///
/// The write queue is lent only when the spare's is larger, and taken
/// back only when it grew past [`KEEP_QUEUE`]: a session keeps a small
/// working buffer of its own, because other threads queue into it while
/// it is not being served (a broadcast). Swapping every pass would leave
/// it a buffer that never grew (the spare's first), and the first frame
/// queued from outside at the wrong moment, after warm-up, allocated.
#[derive(Debug, Default)]
pub struct Spare {
    /// Where socket reads land.
    pub(crate) read: Vec<u8>,
    decoder: Option<StreamDecoder>,
    queue: WriteQueue,
}

impl Spare {
    /// Lends the spare decoder and queue to a session's inbox and outbox
    /// (each only if the session's own is empty).
    pub(crate) fn lend(&mut self, inbox: &mut Inbox, out: &mut Outbox) {
        if self.read.len() < READ_CHUNK {
            self.read.resize(READ_CHUNK, 0);
        }
        let config = *inbox.decoder.config();
        let spare = self
            .decoder
            .get_or_insert_with(|| StreamDecoder::new(config));
        if *spare.config() == config && inbox.is_empty() {
            std::mem::swap(spare, &mut inbox.decoder);
        }
        if out.queue.is_empty() && self.queue.buf.capacity() > out.queue.buf.capacity() {
            self.queue.limit = out.queue.limit;
            std::mem::swap(&mut self.queue, &mut out.queue);
        }
    }

    /// Takes back what [`Spare::lend`] lent, if the session left it empty.
    pub(crate) fn take_back(&mut self, inbox: &mut Inbox, out: &mut Outbox) {
        if let Some(spare) = &mut self.decoder
            && inbox.is_empty()
            && spare.buffer_capacity() < inbox.decoder.buffer_capacity()
        {
            std::mem::swap(spare, &mut inbox.decoder);
        }
        let kept = out.queue.buf.capacity();
        if out.queue.is_empty() && kept > KEEP_QUEUE && self.queue.buf.capacity() < kept {
            // The spare's queue may never have been lent (limit 0): the
            // session gets it with its own limit, or it could queue nothing.
            self.queue.limit = out.queue.limit;
            std::mem::swap(&mut self.queue, &mut out.queue);
        }
    }
}

/// Bytes of write queue a session keeps of its own between passes (see
/// [`Spare`]); a queue grown past it by a burst goes to the spare.
pub(crate) const KEEP_QUEUE: usize = 4 << 10;

/// Most bytes one socket read takes.
pub const READ_CHUNK: usize = 16 * 1024;

impl Inbox {
    /// The incoming half with `opener`.
    pub(crate) fn new(config: &FrameConfig, opener: Opener) -> Self {
        Self {
            decoder: StreamDecoder::new(*config),
            opener,
        }
    }

    /// Whether [`Inbox::next_frame`] has a frame (or an error) ready.
    #[inline]
    pub fn has_frame(&self) -> bool {
        self.decoder.has_frame() || self.opener.has_failed()
    }

    /// Whether a frame (or an error) is ready for [`Inbox::take_frame`]
    /// with no read: [`Inbox::fill_from`] would return at once, as no
    /// hello is still to be taken first. The receive methods' fast path
    /// (many frames arrive in one read).
    #[inline]
    pub(crate) fn frame_ready(&self) -> bool {
        self.has_frame() && !self.opener.may_skip_hello() && !self.opener.awaiting_hello()
    }

    /// The next complete, validated frame (or the accepted hello), or
    /// `None`.
    #[inline]
    pub fn next_frame(&mut self) -> Result<Option<Incoming<'_>>, TransportError> {
        self.opener.next_frame(&mut self.decoder)
    }

    /// How many bytes the next read may take (every byte read is kept).
    pub fn room(&self) -> usize {
        self.decoder.capacity_left().min(READ_CHUNK)
    }

    /// Appends bytes received; returns how many were taken (all of them
    /// when at most [`Inbox::room`]).
    pub fn feed(&mut self, bytes: &[u8]) -> usize {
        self.decoder.feed(bytes)
    }

    /// Reads once from `r` straight into the decoder's buffer; 0 at end of
    /// stream. For a client's own connection (the buffer may grow to one
    /// read); servers read through a shared buffer and [`Inbox::feed`].
    #[inline]
    pub fn read_from<R: io::Read>(&mut self, r: &mut R) -> io::Result<usize> {
        self.decoder.read_from(r)
    }

    /// Reads from `r` until a frame (or an error) is ready, retrying
    /// `Interrupted`; a server end's session hello is taken on the way and
    /// its keyed send side installed in `out`. End of stream gives
    /// [`Inbox::end_of_stream`]; every other I/O error, `WouldBlock`
    /// included, comes back as an `Io` error (bytes read so far stay
    /// buffered).
    pub(crate) fn fill_from<R: io::Read>(
        &mut self,
        r: &mut R,
        out: &mut Outbox,
    ) -> Result<(), TransportError> {
        loop {
            while !self.has_frame() {
                match self.read_from(r) {
                    Ok(0) => return Err(self.end_of_stream()),
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e.into()),
                }
            }
            if self.opener.may_skip_hello() {
                // A plaintext hello first is taken here, not handed out:
                // read on if it was all there was.
                self.opener.skip_hello(&mut self.decoder)?;
                continue;
            }
            if !self.opener.awaiting_hello() {
                return Ok(());
            }
            match self.next_frame() {
                Ok(Some(Incoming::Keyed(h))) => {
                    if let Some(sealer) = h.sealer {
                        out.set_sealer(sealer);
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    // A client of another protocol: the refusal goes out
                    // (the caller flushes it) and the stream fails.
                    if let Some(refusal) = self.opener.take_refusal() {
                        out.queue_refusal(refusal);
                    }
                    return Err(e);
                }
            }
        }
    }

    /// The frame [`Inbox::fill_from`] made ready.
    #[inline]
    pub(crate) fn take_frame(&mut self) -> Result<packet_core::Frame<'_>, TransportError> {
        match self.next_frame()? {
            Some(Incoming::Frame(f)) => Ok(f),
            _ => Err(TransportError::Closed),
        }
    }

    /// Bytes of an unfinished frame that are buffered.
    pub fn buffered(&self) -> usize {
        self.decoder.buffered()
    }

    /// At end of stream: `Closed` if between frames, else the error
    /// (`UnexpectedEof` inside a frame).
    pub fn end_of_stream(&self) -> TransportError {
        match self.decoder.finish() {
            Ok(()) => TransportError::Closed,
            Err(e) => e.into(),
        }
    }

    /// The receive side.
    pub fn opener(&self) -> &Opener {
        &self.opener
    }

    /// Whether nothing is buffered (and the stream has not failed).
    fn is_empty(&self) -> bool {
        self.decoder.buffered() == 0 && !self.decoder.has_frame()
    }

    /// Frees the decoder's buffer when nothing is buffered.
    pub fn release(&mut self) {
        if self.is_empty() {
            self.decoder = StreamDecoder::new(*self.decoder.config());
        }
    }
}
