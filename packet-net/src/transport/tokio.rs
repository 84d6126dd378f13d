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
//!   `Io(TimedOut)` error, [`TransportError::is_timeout`].
//! - [`PacketCodec`]: `tokio_util::codec::{Encoder, Decoder}` for users
//!   already on `Framed`. Its items are owned ([`OwnedFrame`] with a
//!   `Bytes` body, split off the read buffer without copying).
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
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use tokio_util::codec::{Decoder, Encoder};

use super::queue::{Inbox, Outbox};
use super::security::{Opened, Opener, Sealer, Security, frame_in, plain};
use super::socket::{PacketListener, PacketSocket, PacketStream};
use super::{OwnedFrame, TransportConfig, TransportError};
use packet_core::buf::Writer;
use packet_core::error::{EncodeError, FrameError};
use packet_core::frame::Packet;
use packet_core::frame::{self, Frame, FrameConfig};

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

/// A TCP connection carrying frames (see [`PacketStream`]).
pub type TcpPacketStream = PacketStream<TcpStream>;

impl TcpPacketStream {
    /// Connects with the default configuration.
    pub async fn connect(addr: impl ToSocketAddrs) -> Result<Self, TransportError> {
        Self::connect_with(addr, TransportConfig::default()).await
    }

    /// Connects with `config`; its read timeout bounds each receive and
    /// its write timeout each flush (see [`TcpPacketStream::recv`]).
    pub async fn connect_with(
        addr: impl ToSocketAddrs,
        config: TransportConfig,
    ) -> Result<Self, TransportError> {
        Self::from_stream(TcpStream::connect(addr).await?, config)
    }

    /// Wraps a connected stream and sets `TCP_NODELAY`.
    pub fn from_stream(stream: TcpStream, config: TransportConfig) -> Result<Self, TransportError> {
        stream.set_nodelay(true)?;
        Ok(Self::wrap(stream, config))
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> Result<SocketAddr, TransportError> {
        Ok(self.io.peer_addr()?)
    }

    /// The local address.
    pub fn local_addr(&self) -> Result<SocketAddr, TransportError> {
        Ok(self.io.local_addr()?)
    }

    /// Queues `packet` and flushes.
    pub async fn send<P: Packet + ?Sized>(&mut self, packet: &P) -> Result<(), TransportError> {
        self.queue(packet).await?;
        self.flush().await
    }

    /// Queues a raw frame and flushes.
    pub async fn send_raw(&mut self, type_id: u16, body: &[u8]) -> Result<(), TransportError> {
        self.queue_raw(type_id, body).await?;
        self.flush().await
    }

    /// Queues `packet`; writes only when the queue is full (back-pressure:
    /// waits for the socket).
    pub async fn queue<P: Packet + ?Sized>(&mut self, packet: &P) -> Result<(), TransportError> {
        self.make_room(packet.encoded_len()).await?;
        self.outbox.queue(packet)
    }

    /// Queues a raw frame (see [`TcpPacketStream::queue`]).
    pub async fn queue_raw(&mut self, type_id: u16, body: &[u8]) -> Result<(), TransportError> {
        self.make_room(body.len()).await?;
        self.outbox.queue_raw(type_id, body)
    }

    async fn make_room(&mut self, body_len: usize) -> Result<(), TransportError> {
        if self.outbox.needs_flush_for(body_len)? {
            self.flush().await?;
        }
        Ok(())
    }

    /// Sets the read timeout (each receive then fails with a timeout
    /// error after it, see [`TransportError::is_timeout`]; a partial frame
    /// stays buffered).
    pub fn set_read_timeout(&mut self, timeout: Option<std::time::Duration>) {
        self.config.read_timeout = timeout;
    }

    /// Sets the write timeout (bounds each flush).
    pub fn set_write_timeout(&mut self, timeout: Option<std::time::Duration>) {
        self.config.write_timeout = timeout;
    }

    /// Writes everything queued, within the write timeout (bytes the
    /// socket took stay written, the rest stays queued).
    pub async fn flush(&mut self) -> Result<(), TransportError> {
        within(
            self.config.write_timeout,
            flush_outbox(&self.io, &mut self.outbox),
        )
        .await
    }

    /// Receives the next frame, borrowed from the receive buffer; fails
    /// with a timeout error ([`TransportError::is_timeout`]) when the read
    /// timeout passes first.
    ///
    /// Cancel-safe: bytes read before cancellation (or the timeout) stay
    /// buffered.
    pub async fn recv(&mut self) -> Result<Frame<'_>, TransportError> {
        self.fill().await?;
        self.inbox.take_frame()
    }

    /// Receives the next frame and passes it, with the outbox, to `f`.
    pub async fn recv_with<R>(
        &mut self,
        f: impl FnOnce(Frame<'_>, &mut Outbox) -> R,
    ) -> Result<R, TransportError> {
        self.fill().await?;
        Ok(f(self.inbox.take_frame()?, &mut self.outbox))
    }

    /// Reads until a frame is ready, within the read timeout; an
    /// accepting end that refuses a client of another protocol sends the
    /// refusal before failing.
    async fn fill(&mut self) -> Result<(), TransportError> {
        let limit = self.config.read_timeout;
        let filled = within(limit, fill(&self.io, &mut self.inbox, &mut self.outbox)).await;
        if let Err(TransportError::ProtocolMismatch(_)) = filled {
            let _ = self.flush().await;
        }
        filled
    }

    /// Flushes, then shuts the write side down.
    pub async fn close(mut self) -> Result<(), TransportError> {
        use tokio::io::AsyncWriteExt;
        self.flush().await?;
        self.io.shutdown().await?;
        Ok(())
    }
}

/// Runs `op`, failing with `TimedOut` if `limit` passes first.
async fn within<T>(
    limit: Option<std::time::Duration>,
    op: impl Future<Output = Result<T, TransportError>>,
) -> Result<T, TransportError> {
    match limit {
        None => op.await,
        Some(limit) => match tokio::time::timeout(limit, op).await {
            Ok(done) => done,
            Err(_) => Err(io::Error::from(io::ErrorKind::TimedOut).into()),
        },
    }
}

/// Writes the whole outbox to `stream`.
async fn flush_outbox(stream: &TcpStream, outbox: &mut Outbox) -> Result<(), TransportError> {
    loop {
        match outbox.flush_to(&mut TryIo(stream)) {
            Err(TransportError::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                stream.writable().await?
            }
            done => return done,
        }
    }
}

/// Reads from `stream` until `inbox` has a frame (or an error) ready.
async fn fill(
    stream: &TcpStream,
    inbox: &mut Inbox,
    outbox: &mut Outbox,
) -> Result<(), TransportError> {
    loop {
        match inbox.fill_from(&mut TryIo(stream), outbox) {
            Err(TransportError::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                stream.readable().await?
            }
            done => return done,
        }
    }
}

/// A TCP listener whose accepted connections are [`TcpPacketStream`]s.
pub type TcpPacketListener = PacketListener<TcpListener>;

impl TcpPacketListener {
    /// Binds with the default configuration.
    pub async fn bind(addr: impl ToSocketAddrs) -> Result<Self, TransportError> {
        Self::bind_with(addr, TransportConfig::default()).await
    }

    /// Binds; accepted streams use `config`.
    pub async fn bind_with(
        addr: impl ToSocketAddrs,
        config: TransportConfig,
    ) -> Result<Self, TransportError> {
        Ok(Self::wrap(TcpListener::bind(addr).await?, config))
    }

    /// The bound address.
    pub fn local_addr(&self) -> Result<SocketAddr, TransportError> {
        Ok(self.listener.local_addr()?)
    }

    /// Accepts one connection.
    pub async fn accept(&self) -> Result<(TcpPacketStream, SocketAddr), TransportError> {
        let (stream, addr) = self.listener.accept().await?;
        stream.set_nodelay(true)?;
        Ok((self.accepted(stream), addr))
    }
}

/// A UDP socket carrying one frame per datagram (see [`PacketSocket`]).
pub type UdpPacketSocket = PacketSocket<UdpSocket>;

impl UdpPacketSocket {
    /// Binds with the default configuration.
    pub async fn bind(addr: impl ToSocketAddrs) -> Result<Self, TransportError> {
        Self::bind_with(addr, TransportConfig::default()).await
    }

    /// Binds with `config`.
    pub async fn bind_with(
        addr: impl ToSocketAddrs,
        config: TransportConfig,
    ) -> Result<Self, TransportError> {
        Ok(Self::from_socket(UdpSocket::bind(addr).await?, config))
    }

    /// Wraps a bound socket.
    pub fn from_socket(socket: UdpSocket, config: TransportConfig) -> Self {
        Self::wrap(socket, config)
    }

    /// Fixes the peer.
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> Result<(), TransportError> {
        Ok(self.socket.connect(addr).await?)
    }

    /// The local address.
    pub fn local_addr(&self) -> Result<SocketAddr, TransportError> {
        Ok(self.socket.local_addr()?)
    }

    /// Sets the read timeout (bounds each receive; see
    /// [`TransportError::is_timeout`]).
    pub fn set_read_timeout(&mut self, timeout: Option<std::time::Duration>) {
        self.chan.config_mut().read_timeout = timeout;
    }

    /// Sets the write timeout (bounds each send).
    pub fn set_write_timeout(&mut self, timeout: Option<std::time::Duration>) {
        self.chan.config_mut().write_timeout = timeout;
    }

    /// Sends `packet` to `addr`.
    pub async fn send_to<P: Packet + ?Sized>(
        &mut self,
        packet: &P,
        addr: SocketAddr,
    ) -> Result<(), TransportError> {
        const { packet_core::frame::assert_fits_datagram::<P>() };
        self.send_with(Some(addr), P::ID, packet.encoded_len(), |w| {
            packet.write_data(w)
        })
        .await
    }

    /// Sends a raw frame to `addr`.
    pub async fn send_raw_to(
        &mut self,
        type_id: u16,
        body: &[u8],
        addr: SocketAddr,
    ) -> Result<(), TransportError> {
        self.send_with(Some(addr), type_id, body.len(), |w| w.put_bytes(body))
            .await
    }

    /// Sends `packet` to the connected peer.
    pub async fn send<P: Packet + ?Sized>(&mut self, packet: &P) -> Result<(), TransportError> {
        const { packet_core::frame::assert_fits_datagram::<P>() };
        self.send_with(None, P::ID, packet.encoded_len(), |w| packet.write_data(w))
            .await
    }

    /// Sends a raw frame to the connected peer.
    pub async fn send_raw(&mut self, type_id: u16, body: &[u8]) -> Result<(), TransportError> {
        self.send_with(None, type_id, body.len(), |w| w.put_bytes(body))
            .await
    }

    /// Sends one frame whose body `body` writes, to `addr` or the
    /// connected peer.
    pub async fn send_with(
        &mut self,
        addr: Option<SocketAddr>,
        type_id: u16,
        max_body: usize,
        body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
    ) -> Result<(), TransportError> {
        let limit = self.chan.config().write_timeout;
        if let Some(hello) = self.chan.pending_hello() {
            // A sealed client not yet answered: its session hello first
            // (again: the last one may have been lost).
            let send = async {
                let n = match addr {
                    Some(addr) => self.socket.send_to(&hello, addr).await?,
                    None => self.socket.send(&hello).await?,
                };
                Ok::<usize, TransportError>(n)
            };
            within(limit, send).await?;
        }
        let datagram = self.chan.encode_with(type_id, max_body, body)?;
        let send = async {
            Ok(match addr {
                Some(addr) => self.socket.send_to(datagram, addr).await,
                None => self.socket.send(datagram).await,
            })
        };
        let sent = match within(limit, send).await {
            Ok(sent) => sent,
            Err(TransportError::Io(e)) => Err(e),
            Err(e) => return Err(e),
        };
        self.chan.sent(sent)
    }

    /// Receives the next valid frame and its sender, borrowed from the
    /// socket's buffer; invalid datagrams are dropped and counted.
    pub async fn recv_from(&mut self) -> Result<(Frame<'_>, SocketAddr), TransportError> {
        let limit = self.chan.config().read_timeout;
        let (header, addr) = within(limit, async {
            loop {
                let (len, addr) = self.socket.recv_from(self.chan.recv_buf()).await?;
                if let Some(header) = self.chan.open_received(len)? {
                    return Ok((header, addr));
                }
            }
        })
        .await?;
        Ok((self.chan.received(header), addr))
    }

    /// Like [`UdpPacketSocket::recv_from`] into a caller's buffer.
    pub async fn recv_from_in<'b>(
        &mut self,
        buf: &'b mut [u8],
    ) -> Result<(Frame<'b>, SocketAddr), TransportError> {
        let limit = self.chan.config().read_timeout;
        let (header, addr) = within(limit, async {
            loop {
                let (len, addr) = self.socket.recv_from(buf).await?;
                if let Some(header) = self.chan.open(&mut buf[..len])? {
                    return Ok((header, addr));
                }
            }
        })
        .await?;
        Ok((frame_in(header, buf), addr))
    }

    /// Receives the next valid frame from the connected peer.
    pub async fn recv(&mut self) -> Result<Frame<'_>, TransportError> {
        let limit = self.chan.config().read_timeout;
        let header = within(limit, async {
            loop {
                let len = self.socket.recv(self.chan.recv_buf()).await?;
                self.socket.peer_addr()?;
                if let Some(header) = self.chan.open_received(len)? {
                    return Ok(header);
                }
            }
        })
        .await?;
        Ok(self.chan.received(header))
    }
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
#[derive(Debug)]
pub struct PacketCodec {
    config: FrameConfig,
    sealer: Sealer,
    opener: Opener,
    /// A client's hello still to send.
    hello: Option<super::security::Hello>,
}

impl PacketCodec {
    /// A plaintext codec with `config`'s limits.
    pub fn new(config: FrameConfig) -> Self {
        let halves = plain(&config);
        Self {
            config,
            sealer: halves.sealer,
            opener: halves.opener,
            hello: None,
        }
    }

    /// Seals the codec's frames: with a [`ClientSecurity`](super::ClientSecurity) as the
    /// connecting end (its hello goes before the first frame), with a
    /// [`ServerSecurity`](super::ServerSecurity) as the accepting end (the peer's hello is taken,
    /// never handed out as a frame, and keys the codec). Call before the
    /// first frame.
    pub fn sealed(mut self, security: impl Security) -> Self {
        let halves = security.halves(self.config, false);
        self.sealer = halves.sealer;
        self.opener = halves.opener;
        self.hello = halves.hello;
        self
    }

    fn encode_with(
        &mut self,
        type_id: u16,
        max_body: usize,
        dst: &mut BytesMut,
        body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
    ) -> Result<(), TransportError> {
        if let Some(hello) = self.hello.take() {
            dst.extend_from_slice(&hello.bytes());
        }
        let len = self.sealer.check_len(max_body)?;
        let at = dst.len();
        dst.resize(at + len, 0);
        match self.sealer.seal_with(type_id, &mut dst[at..], body) {
            Ok(n) => {
                dst.truncate(at + n);
                Ok(())
            }
            Err(e) => {
                dst.truncate(at);
                Err(e)
            }
        }
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
            let Some(length) = frame::check_prefix(src, &self.config)? else {
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
            match self.opener.open_datagram(&mut bytes, &self.config)? {
                Opened::Frame(header) => break (header, bytes),
                Opened::Keyed(h) => {
                    if let Some(sealer) = h.sealer {
                        self.sealer = sealer;
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
        self.encode_with(P::ID, item.encoded_len(), dst, |w| item.write_data(w))
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
