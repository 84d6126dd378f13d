//! Blocking (std) sockets that speak frames: [`TcpPacketStream`],
//! [`TcpPacketListener`] and [`UdpPacketSocket`].
//!
//! A TCP stream buffers incoming bytes in a bounded inbox and hands out
//! each frame borrowed from that buffer; outgoing packets are encoded in
//! place into a bounded [`Outbox`] and leave in as few `write` calls as
//! possible ([`TcpPacketStream::queue`] then [`TcpPacketStream::flush`]).
//! A UDP socket carries exactly one frame per datagram, validated with
//! [`frame::decode_frame`](packet_core::frame::decode_frame); invalid datagrams are
//! dropped and counted, never returned.
//!
//! Sessions, dispatch and servers are in [`crate::server`]; the async
//! equivalents in `transport::tokio` (feature `tokio`).
//!
//! ```
//! use packet_net::transport::blocking::{TcpPacketListener, TcpPacketStream};
//!
//! let listener = TcpPacketListener::bind("127.0.0.1:0")?;
//! let addr = listener.local_addr()?;
//! let server = std::thread::spawn(move || -> Result<(), packet_net::transport::TransportError> {
//!     let (mut peer, _) = listener.accept()?;
//!     // Echo one frame: the frame is borrowed, the reply queued, then flushed.
//!     peer.recv_with(|frame, out| out.queue_raw(frame.type_id(), frame.body()))??;
//!     peer.flush()
//! });
//! let mut client = TcpPacketStream::connect(addr)?;
//! client.send_raw(7, b"ping")?;
//! let frame = client.recv()?;
//! assert_eq!((frame.type_id(), frame.body()), (7, &b"ping"[..]));
//! server.join().unwrap()?;
//! # Ok::<(), packet_net::transport::TransportError>(())
//! ```

use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::time::Duration;

use super::queue::Outbox;
use super::security::frame_in;
use super::socket::{PacketListener, PacketSocket, PacketStream};
use super::{TransportConfig, TransportError};
use packet_core::buf::Writer;
use packet_core::error::EncodeError;
use packet_core::frame::Frame;
use packet_core::frame::Packet;

/// A TCP connection carrying frames (see [`PacketStream`]).
pub type TcpPacketStream = PacketStream<TcpStream>;

impl TcpPacketStream {
    /// Connects with the default configuration.
    pub fn connect(addr: impl ToSocketAddrs) -> Result<Self, TransportError> {
        Self::connect_with(addr, TransportConfig::default())
    }

    /// Connects with `config`.
    pub fn connect_with(
        addr: impl ToSocketAddrs,
        config: TransportConfig,
    ) -> Result<Self, TransportError> {
        Self::from_stream(TcpStream::connect(addr)?, config)
    }

    /// Wraps a connected stream: sets `TCP_NODELAY` (frames are coalesced
    /// here, not by Nagle) and the configured timeouts.
    pub fn from_stream(stream: TcpStream, config: TransportConfig) -> Result<Self, TransportError> {
        stream.set_nodelay(true)?;
        stream.set_read_timeout(config.read_timeout)?;
        stream.set_write_timeout(config.write_timeout)?;
        Ok(Self::wrap(stream, config))
    }

    /// Sets the read timeout (`recv` then fails with a timeout error, see
    /// [`TransportError::is_timeout`]; a partial frame stays buffered).
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> Result<(), TransportError> {
        Ok(self.io.set_read_timeout(timeout)?)
    }

    /// Sets the write timeout.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> Result<(), TransportError> {
        Ok(self.io.set_write_timeout(timeout)?)
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
    pub fn send<P: Packet + ?Sized>(&mut self, packet: &P) -> Result<(), TransportError> {
        self.queue(packet)?;
        self.flush()
    }

    /// Queues a raw frame and flushes.
    pub fn send_raw(&mut self, type_id: u16, body: &[u8]) -> Result<(), TransportError> {
        self.queue_raw(type_id, body)?;
        self.flush()
    }

    /// Queues `packet` without writing unless the queue is full (then it
    /// flushes first: back-pressure blocks the caller).
    pub fn queue<P: Packet + ?Sized>(&mut self, packet: &P) -> Result<(), TransportError> {
        self.queue_with(P::ID, packet.encoded_len(), |w| packet.write_data(w))
    }

    /// Queues a raw frame (see [`TcpPacketStream::queue`]).
    pub fn queue_raw(&mut self, type_id: u16, body: &[u8]) -> Result<(), TransportError> {
        self.queue_with(type_id, body.len(), |w| w.put_bytes(body))
    }

    /// Queues a frame whose body of at most `max_body` bytes `body` writes.
    pub fn queue_with(
        &mut self,
        type_id: u16,
        max_body: usize,
        body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
    ) -> Result<(), TransportError> {
        if self.outbox.needs_flush_for(max_body)? {
            self.flush()?;
        }
        self.outbox.queue_with(type_id, max_body, body)
    }

    /// Writes everything queued, blocking until done (or the write
    /// timeout).
    pub fn flush(&mut self) -> Result<(), TransportError> {
        self.outbox.flush_to(&mut self.io)
    }

    /// Receives the next frame, borrowed from the receive buffer. Blocks
    /// until it has fully arrived (or the read timeout passes).
    ///
    /// [`TransportError::Closed`] when the peer closed between frames;
    /// `Frame(UnexpectedEof)` when it closed inside one; a `Frame` error
    /// when it sent a bad frame (the stream stays failed).
    pub fn recv(&mut self) -> Result<Frame<'_>, TransportError> {
        self.fill()?;
        self.inbox.take_frame()
    }

    /// Reads until a frame is ready; an accepting end that refuses a
    /// client of another protocol sends the refusal before failing.
    fn fill(&mut self) -> Result<(), TransportError> {
        let filled = self.inbox.fill_from(&mut self.io, &mut self.outbox);
        if let Err(TransportError::ProtocolMismatch(_)) = filled {
            let _ = self.flush();
        }
        filled
    }

    /// Receives the next frame and passes it, with the outbox, to `f`: for
    /// replying to a frame while it is still borrowed.
    pub fn recv_with<R>(
        &mut self,
        f: impl FnOnce(Frame<'_>, &mut Outbox) -> R,
    ) -> Result<R, TransportError> {
        self.fill()?;
        Ok(f(self.inbox.take_frame()?, &mut self.outbox))
    }

    /// Flushes, then shuts the write side down (the peer sees end of
    /// stream after the last frame).
    pub fn close(mut self) -> Result<(), TransportError> {
        self.flush()?;
        self.io.shutdown(Shutdown::Write)?;
        Ok(())
    }
}

/// A TCP listener whose accepted connections are [`TcpPacketStream`]s.
pub type TcpPacketListener = PacketListener<TcpListener>;

impl TcpPacketListener {
    /// Binds with the default configuration.
    pub fn bind(addr: impl ToSocketAddrs) -> Result<Self, TransportError> {
        Self::bind_with(addr, TransportConfig::default())
    }

    /// Binds; accepted streams use `config`.
    pub fn bind_with(
        addr: impl ToSocketAddrs,
        config: TransportConfig,
    ) -> Result<Self, TransportError> {
        Ok(Self::wrap(TcpListener::bind(addr)?, config))
    }

    /// The bound address.
    pub fn local_addr(&self) -> Result<SocketAddr, TransportError> {
        Ok(self.listener.local_addr()?)
    }

    /// Accepts one connection.
    pub fn accept(&self) -> Result<(TcpPacketStream, SocketAddr), TransportError> {
        let (stream, addr) = self.listener.accept()?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(self.config.read_timeout)?;
        stream.set_write_timeout(self.config.write_timeout)?;
        Ok((self.accepted(stream), addr))
    }
}

pub use super::UdpStats;

/// A UDP socket carrying one frame per datagram (see [`PacketSocket`]).
pub type UdpPacketSocket = PacketSocket<UdpSocket>;

impl UdpPacketSocket {
    /// Binds with the default configuration.
    pub fn bind(addr: impl ToSocketAddrs) -> Result<Self, TransportError> {
        Self::bind_with(addr, TransportConfig::default())
    }

    /// Binds with `config` (its maximum frame bounds each datagram).
    pub fn bind_with(
        addr: impl ToSocketAddrs,
        config: TransportConfig,
    ) -> Result<Self, TransportError> {
        Self::from_socket(UdpSocket::bind(addr)?, config)
    }

    /// Wraps a bound socket and applies the configured timeouts.
    pub fn from_socket(socket: UdpSocket, config: TransportConfig) -> Result<Self, TransportError> {
        socket.set_read_timeout(config.read_timeout)?;
        socket.set_write_timeout(config.write_timeout)?;
        Ok(Self::wrap(socket, config))
    }

    /// Fixes the peer: [`UdpPacketSocket::send`] and
    /// [`UdpPacketSocket::recv`] then talk to it only.
    pub fn connect(&self, addr: impl ToSocketAddrs) -> Result<(), TransportError> {
        Ok(self.socket.connect(addr)?)
    }

    /// The local address.
    pub fn local_addr(&self) -> Result<SocketAddr, TransportError> {
        Ok(self.socket.local_addr()?)
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> Result<SocketAddr, TransportError> {
        Ok(self.socket.peer_addr()?)
    }

    /// Sets the read timeout.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> Result<(), TransportError> {
        Ok(self.socket.set_read_timeout(timeout)?)
    }

    /// Sets the write timeout.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> Result<(), TransportError> {
        Ok(self.socket.set_write_timeout(timeout)?)
    }

    /// Sends `packet` to `addr` as one datagram.
    pub fn send_to<P: Packet + ?Sized>(
        &mut self,
        packet: &P,
        addr: SocketAddr,
    ) -> Result<(), TransportError> {
        const { packet_core::frame::assert_fits_datagram::<P>() };
        self.send_with(Some(addr), P::ID, packet.encoded_len(), |w| {
            packet.write_data(w)
        })
    }

    /// Sends a raw frame to `addr`.
    pub fn send_raw_to(
        &mut self,
        type_id: u16,
        body: &[u8],
        addr: SocketAddr,
    ) -> Result<(), TransportError> {
        self.send_with(Some(addr), type_id, body.len(), |w| w.put_bytes(body))
    }

    /// Sends `packet` to the connected peer.
    pub fn send<P: Packet + ?Sized>(&mut self, packet: &P) -> Result<(), TransportError> {
        const { packet_core::frame::assert_fits_datagram::<P>() };
        self.send_with(None, P::ID, packet.encoded_len(), |w| packet.write_data(w))
    }

    /// Sends a raw frame to the connected peer.
    pub fn send_raw(&mut self, type_id: u16, body: &[u8]) -> Result<(), TransportError> {
        self.send_with(None, type_id, body.len(), |w| w.put_bytes(body))
    }

    /// Sends one frame whose body `body` writes, to `addr` or the
    /// connected peer.
    pub fn send_with(
        &mut self,
        addr: Option<SocketAddr>,
        type_id: u16,
        max_body: usize,
        body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
    ) -> Result<(), TransportError> {
        if let Some(hello) = self.chan.pending_hello() {
            // A sealed client not yet answered: its session hello first
            // (again: the last one may have been lost).
            match addr {
                Some(addr) => self.socket.send_to(&hello, addr)?,
                None => self.socket.send(&hello)?,
            };
        }
        let datagram = self.chan.encode_with(type_id, max_body, body)?;
        let sent = match addr {
            Some(addr) => self.socket.send_to(datagram, addr),
            None => self.socket.send(datagram),
        };
        self.chan.sent(sent)
    }

    /// Receives the next valid frame and its sender, borrowed from the
    /// socket's buffer. Invalid datagrams are dropped and counted in
    /// [`UdpStats::dropped`]; only socket errors (including the read
    /// timeout) are returned.
    pub fn recv_from(&mut self) -> Result<(Frame<'_>, SocketAddr), TransportError> {
        let (header, addr) = loop {
            let (len, addr) = self.socket.recv_from(self.chan.recv_buf())?;
            if let Some(header) = self.chan.open_received(len)? {
                break (header, addr);
            }
        };
        Ok((self.chan.received(header), addr))
    }

    /// Like [`UdpPacketSocket::recv_from`] but into a caller's buffer
    /// (from [`UdpPacketSocket::new_recv_buf`]), leaving the socket free
    /// to reply while the frame is borrowed.
    pub fn recv_from_in<'b>(
        &mut self,
        buf: &'b mut [u8],
    ) -> Result<(Frame<'b>, SocketAddr), TransportError> {
        let (header, addr) = loop {
            let (len, addr) = self.socket.recv_from(buf)?;
            if let Some(header) = self.chan.open(&mut buf[..len])? {
                break (header, addr);
            }
        };
        Ok((frame_in(header, buf), addr))
    }

    /// Receives the next valid frame from the connected peer.
    pub fn recv(&mut self) -> Result<Frame<'_>, TransportError> {
        loop {
            let len = self.socket.recv(self.chan.recv_buf())?;
            self.socket.peer_addr()?;
            if let Some(header) = self.chan.open_received(len)? {
                return Ok(self.chan.received(header));
            }
        }
    }
}
