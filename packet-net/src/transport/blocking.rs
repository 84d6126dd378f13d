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

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant};

use super::queue::Outbox;
use super::security::frame_in;
use super::socket::{
    PacketListener, PacketSocket, PacketStream, constructors, socket_methods, stream_methods,
};
use super::{TransportConfig, TransportError};
use packet_core::buf::Writer;
use packet_core::error::EncodeError;
use packet_core::frame::{Frame, Packet};

/// A blocking socket reports its read or write timeout as `WouldBlock`
/// (`EAGAIN`, "Resource temporarily unavailable" on Linux): named here as
/// the `TimedOut` it means, so the error a user prints says so.
fn io_timed_out(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::WouldBlock {
        io::Error::new(io::ErrorKind::TimedOut, "the socket's timeout passed")
    } else {
        e
    }
}

/// [`io_timed_out`] for the stream's errors.
fn timed_out(e: TransportError) -> TransportError {
    match e {
        TransportError::Io(e) => TransportError::Io(io_timed_out(e)),
        e => e,
    }
}

/// A TCP connection carrying frames (see [`PacketStream`]).
pub type TcpPacketStream = PacketStream<TcpStream>;

constructors!();

impl TcpPacketStream {
    /// Sets the read timeout (`recv` then fails with a timeout error, see
    /// [`TransportError::is_timeout`]; a partial frame stays buffered).
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> Result<(), TransportError> {
        Ok(self.io.set_read_timeout(timeout)?)
    }

    /// Sets the write timeout.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> Result<(), TransportError> {
        Ok(self.io.set_write_timeout(timeout)?)
    }

    /// Writes everything queued, blocking until done (or the write
    /// timeout).
    pub fn flush(&mut self) -> Result<(), TransportError> {
        self.outbox.flush_to(&mut self.io).map_err(timed_out)
    }

    /// Reads until a frame (or an error) is ready.
    fn fill(&mut self) -> Result<(), TransportError> {
        self.inbox
            .fill_from(&mut self.io, &mut self.outbox)
            .map_err(timed_out)
    }

    /// Shuts the write side of `io` (the field alone: callable while a
    /// received frame borrows the inbox).
    fn shut(io: &mut TcpStream) -> Result<(), TransportError> {
        Ok(io.shutdown(Shutdown::Write)?)
    }

    /// Reads and drops until end of stream, an error or `deadline`.
    fn drain(&mut self, deadline: Instant) {
        let before = self.io.read_timeout();
        let mut scratch = [0; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.io.set_read_timeout(Some(left)).is_err() {
                break;
            }
            match io::Read::read(&mut self.io, &mut scratch) {
                Ok(0) => break,
                Err(e) if e.kind() != io::ErrorKind::Interrupted => break,
                _ => {}
            }
        }
        if let Ok(t) = before {
            let _ = self.io.set_read_timeout(t);
        }
    }

    stream_methods!();
}

/// A TCP listener whose accepted connections are [`TcpPacketStream`]s.
pub type TcpPacketListener = PacketListener<TcpListener>;

/// `TCP_NODELAY` and `config`'s timeouts, for either end.
fn tune(stream: &TcpStream, config: &TransportConfig) -> io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(config.read_timeout)?;
    stream.set_write_timeout(config.write_timeout)
}

/// `config`'s timeouts on a UDP socket.
fn tune_udp(socket: &UdpSocket, config: &TransportConfig) -> io::Result<()> {
    socket.set_read_timeout(config.read_timeout)?;
    socket.set_write_timeout(config.write_timeout)
}

/// A UDP socket carrying one frame per datagram (see [`PacketSocket`]).
pub type UdpPacketSocket = PacketSocket<UdpSocket>;

impl UdpPacketSocket {
    /// Wraps a bound socket and applies the configured timeouts.
    pub fn from_socket(socket: UdpSocket, config: TransportConfig) -> Result<Self, TransportError> {
        tune_udp(&socket, &config)?;
        Ok(Self::wrap(socket, config))
    }

    /// Sets the read timeout.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> Result<(), TransportError> {
        Ok(self.socket.set_read_timeout(timeout)?)
    }

    /// Sets the write timeout.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> Result<(), TransportError> {
        Ok(self.socket.set_write_timeout(timeout)?)
    }

    /// One send (the socket's own write timeout applies).
    fn send_datagram(
        socket: &UdpSocket,
        _: Option<Duration>,
        to: Option<SocketAddr>,
        datagram: &[u8],
    ) -> io::Result<usize> {
        match to {
            Some(addr) => socket.send_to(datagram, addr),
            None => socket.send(datagram),
        }
        .map_err(io_timed_out)
    }

    /// One receive (the socket's own read timeout applies).
    fn recv_datagram(
        socket: &UdpSocket,
        _: Option<Instant>,
        buf: &mut [u8],
    ) -> io::Result<(usize, SocketAddr)> {
        socket.recv_from(buf).map_err(io_timed_out)
    }

    /// One receive that barely waits (a millisecond; an error when
    /// nothing is queued). By a short read timeout, restored after, not
    /// by non-blocking mode: a mode the application set (non-blocking
    /// through `get_ref`) stays as it was.
    fn try_recv_datagram(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let before = socket.read_timeout()?;
        socket.set_read_timeout(Some(Duration::from_millis(1)))?;
        let got = socket.recv_from(buf);
        let _ = socket.set_read_timeout(before);
        got
    }

    socket_methods!();
}
