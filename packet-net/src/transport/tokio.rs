//! Async (tokio) sockets that speak frames, and a tokio-util codec.
//!
//! - [`TcpPacketStream`] / [`TcpPacketListener`]: the async twins of the
//!   blocking types, with the same bounded inbox / [`Outbox`] buffers:
//!   frames are received borrowed from the receive buffer and sent from a
//!   coalescing write queue. Reads and writes go through the socket's
//!   readiness (`readable` / `try_read`), so no intermediate buffer exists.
//! - [`UdpPacketSocket`]: one frame per datagram, invalid datagrams
//!   dropped and counted.
//! - Both honour [`TransportConfig`]'s timeouts: the read timeout bounds
//!   each receive, the write timeout each flush or send
//!   (`tokio::time::timeout` around the socket waits); a timeout is an
//!   `Io(TimedOut)` error, [`TransportError::is_timeout`]. Receives are
//!   cancel-safe: bytes read before a cancellation (or the timeout) stay
//!   buffered.
//! - [`PacketCodec`]: `tokio_util::codec::{Encoder, Decoder}` for users
//!   already on `Framed`. Its items are owned ([`OwnedFrame`] with a
//!   `Bytes` body, split off the read buffer without copying). Built with
//!   [`PacketCodec::client`] / [`PacketCodec::server`] it sends / requires
//!   [`TransportConfig`]'s protocol fingerprint in the session hello like
//!   the streams (see its docs for the refusal).
//!
//! Available with the `tokio` feature. The async server is in
//! [`crate::server::tokio`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), packet_net::transport::TransportError> {
//! use packet_net::transport::tokio::{TcpPacketListener, TcpPacketStream};
//!
//! let listener = TcpPacketListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! let server = tokio::spawn(async move {
//!     let (mut peer, _) = listener.accept().await?;
//!     peer.recv_with(|frame, out| out.queue_raw(frame.type_id(), frame.body())).await??;
//!     peer.flush().await
//! });
//! let mut client = TcpPacketStream::connect(addr).await?;
//! client.send_raw(7, b"ping").await?;
//! assert_eq!(client.recv().await?.body(), b"ping");
//! server.await.unwrap()?;
//! # Ok(()) }
//! ```

use bytes::{Bytes, BytesMut};
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::Interest;
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use tokio_util::codec::{Decoder, Encoder};

use super::queue::{Outbox, body_len};
use super::security::{
    Halves, Opened, REFUSAL_LEN, Security, frame_in, plain, plain_client, plain_server,
};
use super::socket::{
    PacketListener, PacketSocket, PacketStream, constructors, socket_methods, stream_methods,
};
use super::{OwnedFrame, TransportConfig, TransportError};
use packet_core::buf::Writer;
use packet_core::error::{EncodeError, FrameError};
use packet_core::frame::{self, Frame, FrameConfig, Packet};

/// `std::io` adapter over a tokio TCP stream's non-blocking `try_read` /
/// `try_write`, so the std-based buffers can read and write it directly.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TryIo<'a>(pub &'a TcpStream);

impl io::Read for TryIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

impl io::Write for TryIo<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Evaluates `op` until it does not fail with `WouldBlock`, waiting for
/// `interest` on `io` in between; inside an `async` block. A macro, not
/// an `async fn` over a closure, so the per-frame path carries no
/// closure and no extra future (BENCHMARKS.md, Transport, #11).
macro_rules! retry {
    ($io:expr, $interest:expr, $op:expr) => {
        loop {
            match $op {
                Err(TransportError::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                    $io.ready($interest).await?;
                }
                done => break done,
            }
        }
    };
}

/// Evaluates `op` (an expression that awaits) within `limit`, failing
/// with `TimedOut` when it passes first; inside an `async` block. Without
/// a limit `op` runs in place: no timer, and no future of its own per
/// call (the round trip, BENCHMARKS.md, Transport).
macro_rules! within {
    ($limit:expr, $op:expr) => {
        match $limit {
            None => $op,
            Some(limit) => until(Some(Instant::now() + limit), async { $op }).await,
        }
    };
}

/// A TCP connection carrying frames (see [`PacketStream`]).
pub type TcpPacketStream = PacketStream<TcpStream>;

constructors!(async await);

/// `TCP_NODELAY` (the timeouts apply around each call).
fn tune(stream: &TcpStream, _: &TransportConfig) -> io::Result<()> {
    stream.set_nodelay(true)
}

/// Nothing: the timeouts apply around each call.
fn tune_udp(_: &UdpSocket, _: &TransportConfig) -> io::Result<()> {
    Ok(())
}

impl TcpPacketStream {
    /// Sets the read timeout (each receive then fails with a timeout
    /// error after it, see [`TransportError::is_timeout`]; a partial frame
    /// stays buffered).
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.config.read_timeout = timeout;
    }

    /// Sets the write timeout (bounds each flush).
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) {
        self.config.write_timeout = timeout;
    }

    /// Writes everything queued, within the write timeout (bytes the
    /// socket took stay written, the rest stays queued).
    pub async fn flush(&mut self) -> Result<(), TransportError> {
        let (io, outbox) = (&self.io, &mut self.outbox);
        within!(
            self.config.write_timeout,
            retry!(io, Interest::WRITABLE, outbox.flush_to(&mut TryIo(io)))
        )
    }

    /// Reads until a frame (or an error) is ready, within the read
    /// timeout (cancel-safe: bytes read stay buffered).
    async fn fill(&mut self) -> Result<(), TransportError> {
        let (io, inbox, outbox) = (&self.io, &mut self.inbox, &mut self.outbox);
        within!(
            self.config.read_timeout,
            retry!(
                io,
                Interest::READABLE,
                inbox.fill_from(&mut TryIo(io), outbox)
            )
        )
    }

    /// Shuts the write side of `io` (the field alone: callable while a
    /// received frame borrows the inbox).
    async fn shut(io: &mut TcpStream) -> Result<(), TransportError> {
        Ok(tokio::io::AsyncWriteExt::shutdown(io).await?)
    }

    /// Reads and drops until end of stream, an error or `deadline`.
    async fn drain(&mut self, deadline: Instant) {
        let mut scratch = [0; 4096];
        let read = async {
            loop {
                match tokio::io::AsyncReadExt::read(&mut self.io, &mut scratch).await {
                    Ok(0) => return Ok(()),
                    Err(e) if e.kind() != io::ErrorKind::Interrupted => return Err(e),
                    _ => {}
                }
            }
        };
        let _ = until(Some(deadline), read).await;
    }

    stream_methods!(async await);
}

/// Runs `op`, failing with `TimedOut` if `deadline` passes first.
async fn until<T, E: From<io::Error>>(
    deadline: Option<Instant>,
    op: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    match deadline {
        None => op.await,
        Some(d) => tokio::time::timeout_at(d.into(), op)
            .await
            .unwrap_or_else(|_| Err(io::Error::from(io::ErrorKind::TimedOut).into())),
    }
}

/// A TCP listener whose accepted connections are [`TcpPacketStream`]s.
pub type TcpPacketListener = PacketListener<TcpListener>;

/// A UDP socket carrying one frame per datagram (see [`PacketSocket`]).
pub type UdpPacketSocket = PacketSocket<UdpSocket>;

impl UdpPacketSocket {
    /// Wraps a bound socket.
    pub fn from_socket(socket: UdpSocket, config: TransportConfig) -> Self {
        Self::wrap(socket, config)
    }

    /// Sets the read timeout (bounds each receive; see
    /// [`TransportError::is_timeout`]).
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.chan.config.read_timeout = timeout;
    }

    /// Sets the write timeout (bounds each send).
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) {
        self.chan.config.write_timeout = timeout;
    }

    /// One send, within `limit`.
    async fn send_datagram(
        socket: &UdpSocket,
        limit: Option<Duration>,
        to: Option<SocketAddr>,
        datagram: &[u8],
    ) -> io::Result<usize> {
        until(limit.map(|t| Instant::now() + t), async {
            match to {
                Some(addr) => socket.send_to(datagram, addr).await,
                None => socket.send(datagram).await,
            }
        })
        .await
    }

    /// One receive, until `deadline`.
    async fn recv_datagram(
        socket: &UdpSocket,
        deadline: Option<Instant>,
        buf: &mut [u8],
    ) -> io::Result<(usize, SocketAddr)> {
        until(deadline, socket.recv_from(buf)).await
    }

    /// One receive that does not wait: `WouldBlock` when nothing is queued.
    fn try_recv_datagram(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        socket.try_recv_from(buf)
    }

    socket_methods!(async await);
}

/// A frame to encode with [`PacketCodec`] from a type id and a raw body.
#[derive(Debug, Clone, Copy)]
pub struct RawFrame<'a> {
    /// Packet type id.
    pub type_id: u16,
    /// Body bytes.
    pub body: &'a [u8],
}

/// `tokio_util` codec for frames: `Framed::new(stream, PacketCodec::default())`.
///
/// Encodes `&P` for any [`Packet`] and [`RawFrame`]s, numbering frames
/// from 0; decodes [`OwnedFrame<Bytes>`] whose body shares the read buffer.
///
/// ```
/// use bytes::BytesMut;
/// use packet_net::transport::tokio::{PacketCodec, RawFrame};
/// use tokio_util::codec::{Decoder, Encoder};
///
/// let mut codec = PacketCodec::default();
/// let mut buf = BytesMut::new();
/// codec.encode(RawFrame { type_id: 3, body: b"abc" }, &mut buf)?;
/// let frame = codec.decode(&mut buf)?.unwrap();
/// assert_eq!((frame.header.type_id, &frame.body[..]), (3, &b"abc"[..]));
/// # Ok::<(), packet_net::transport::TransportError>(())
/// ```
///
/// After a decode error (a bad frame, a refused hello) the stream is not
/// resynchronised: the bad bytes stay in the read buffer, and `Framed`
/// ends its stream (`None`) or, polled on, reports the same error again.
/// Drop the `Framed` and close the connection, as the crate's streams do.
///
/// A client codec ([`PacketCodec::client`], and one built with
/// [`PacketCodec::new`], which is neither end) reports a server's close
/// notice (`docs/wire-format.md` §12: why the server ended the session)
/// as [`TransportError::ClosedByServer`], never as a frame; a sealed
/// client believes a plain one only before the server's first
/// authenticated frame. The server lingers until the client closes: drop
/// the `Framed` then.
///
/// # Protocol fingerprint
///
/// Like the streams, the codec takes the fingerprint from a
/// [`TransportConfig`] ([`TransportConfig::with_fingerprint`] /
/// [`TransportConfig::with_protocol`]) and needs to know its side
/// (`docs/wire-format.md` §11.5): [`PacketCodec::client`] writes the
/// session hello carrying it before its first frame (plaintext: the zero
/// token; sealed with a [`ClientSecurity`](super::ClientSecurity): its
/// token) and reports the server's refusal as
/// [`TransportError::ProtocolMismatch`]; [`PacketCodec::server`] requires
/// that hello as the first frame (never handed out) and fails with
/// `ProtocolMismatch` on another fingerprint. A decoder cannot write, so
/// the refusal the client is owed is then in
/// [`PacketCodec::take_refusal`]: write it to the socket
/// (`framed.get_mut()`) before closing. Without a fingerprint a client
/// sends no hello (plaintext) and a server takes either hello unchecked.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), packet_net::transport::TransportError> {
/// use futures_util::{SinkExt, StreamExt};
/// use packet_net::transport::tokio::{PacketCodec, RawFrame};
/// use packet_net::transport::{TransportConfig, TransportError};
/// use tokio::io::AsyncWriteExt;
/// use tokio_util::codec::Framed;
///
/// let (a, b) = tokio::io::duplex(1024);
/// let ours = TransportConfig::default().with_fingerprint(1);
/// let theirs = TransportConfig::default().with_fingerprint(2);
/// let mut server = Framed::new(a, PacketCodec::server(ours));
/// let mut client = Framed::new(b, PacketCodec::client(theirs));
///
/// client.send(RawFrame { type_id: 7, body: b"hi" }).await?;
/// let refused = server.next().await.unwrap().unwrap_err();
/// assert!(matches!(refused, TransportError::ProtocolMismatch(_)));
/// if let Some(refusal) = server.codec_mut().take_refusal() {
///     server.get_mut().write_all(&refusal).await?;
/// }
/// let e = client.next().await.unwrap().unwrap_err();
/// assert_eq!(e.to_string(), "protocol mismatch: client 0x0000000000000002, server 0x0000000000000001");
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct PacketCodec {
    /// The frame limits, and the fingerprint carried (a client) or
    /// required (a server) in the hello.
    config: TransportConfig,
    /// The send and receive sides, and a client's hello still to send.
    halves: Halves,
}

impl PacketCodec {
    /// A plaintext codec with `config`'s limits, neither end of a session:
    /// no hello is sent, and a hello received is handed out as a frame.
    pub fn new(config: FrameConfig) -> Self {
        Self::with_halves(TransportConfig::new().with_frame(config), plain(&config))
    }

    /// The connecting end with `config`'s frame limits (its timeouts and
    /// write queue limit do not apply to a codec): with a fingerprint,
    /// the plaintext hello carrying it goes before the first frame and a
    /// refusal is recognised.
    pub fn client(config: TransportConfig) -> Self {
        Self::with_halves(config, plain_client(&config.frame, config.fingerprint))
    }

    /// The accepting end with `config`'s frame limits: with a fingerprint,
    /// the first frame must be the hello carrying the same one (see
    /// [`PacketCodec::take_refusal`]); without, a plaintext hello is taken
    /// unchecked.
    pub fn server(config: TransportConfig) -> Self {
        Self::with_halves(config, plain_server(&config.frame, config.fingerprint))
    }

    fn with_halves(config: TransportConfig, halves: Halves) -> Self {
        Self { config, halves }
    }

    /// Seals the codec's frames: with a [`ClientSecurity`](super::ClientSecurity) as the
    /// connecting end (its hello, with the fingerprint of
    /// [`PacketCodec::client`]'s config, goes before the first frame),
    /// with a [`ServerSecurity`](super::ServerSecurity) as the accepting
    /// end (the peer's hello is taken, checked against the fingerprint of
    /// [`PacketCodec::server`]'s config, never handed out as a frame, and
    /// keys the codec). The security decides the side. Call before the
    /// first frame.
    pub fn sealed(self, security: impl Security) -> Self {
        let halves = security.halves(self.config.frame, self.config.fingerprint, false);
        Self::with_halves(self.config, halves)
    }

    /// The refusal (36 bytes, `docs/wire-format.md` §11.5) a server end
    /// owes the client whose hello carried another fingerprint, once,
    /// after [`Decoder::decode`] failed with
    /// [`TransportError::ProtocolMismatch`]: write it to the connection
    /// (with `Framed`, `framed.get_mut()`), then close it: shut the write
    /// side and read until the client closes (bounded), as dropping a
    /// socket with bytes unread resets the connection and the client may
    /// lose the refusal (the streams do this themselves).
    pub fn take_refusal(&mut self) -> Option<[u8; REFUSAL_LEN]> {
        self.halves.opener.take_refusal()
    }

    fn encode_with(
        &mut self,
        type_id: u16,
        max_body: usize,
        dst: &mut BytesMut,
        body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
    ) -> Result<(), TransportError> {
        // A frame that cannot be encoded leaves `dst` as it was, and the
        // hello for the next one.
        let type_id = super::application_type_id(type_id)?;
        let Halves { sealer, hello, .. } = &mut self.halves;
        let len = sealer.check_len(max_body)? + hello.map_or(0, |h| h.frame_len());
        let at = dst.len();
        dst.resize(at + len, 0);
        let sealed = sealer.seal_after(hello, type_id, &mut dst[at..], body);
        dst.truncate(at + sealed.as_ref().map_or(0, |&n| n));
        sealed.map(drop)
    }
}

impl Default for PacketCodec {
    fn default() -> Self {
        Self::new(FrameConfig::default())
    }
}

impl Decoder for PacketCodec {
    type Item = OwnedFrame<Bytes>;
    type Error = TransportError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, Self::Error> {
        let (header, bytes) = loop {
            let Some(length) = frame::check_prefix(src, &self.config.frame)? else {
                return Ok(None);
            };
            let length = length as usize;
            if src.len() < length {
                src.reserve(length - src.len());
                return Ok(None);
            }
            let mut bytes = src.split_to(length);
            // Validates (and, sealed, opens in place) exactly this one
            // frame; a server end's session hello keys the codec and is
            // not handed out.
            match self
                .halves
                .opener
                .open_stream_frame(&mut bytes, &self.config.frame)?
            {
                Opened::Frame(header) => break (header, bytes),
                Opened::Keyed(h) => {
                    if let Some(sealer) = h.sealer {
                        self.halves.sealer = sealer;
                    }
                }
            }
        };
        let bytes = bytes.freeze();
        let start = frame::HEADER_LEN;
        let body = bytes.slice(start..start + header.body_len as usize);
        Ok(Some(OwnedFrame { header, body }))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, Self::Error> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => Err(FrameError::UnexpectedEof {
                buffered: src.len(),
            }
            .into()),
        }
    }
}

impl<P: Packet + ?Sized> Encoder<&P> for PacketCodec {
    type Error = TransportError;

    fn encode(&mut self, item: &P, dst: &mut BytesMut) -> Result<(), Self::Error> {
        self.encode_with(P::ID, body_len(item)?, dst, |w| item.write_data(w))
    }
}

impl Encoder<RawFrame<'_>> for PacketCodec {
    type Error = TransportError;

    fn encode(&mut self, item: RawFrame<'_>, dst: &mut BytesMut) -> Result<(), Self::Error> {
        self.encode_with(item.type_id, item.body.len(), dst, |w| {
            w.put_bytes(item.body)
        })
    }
}
