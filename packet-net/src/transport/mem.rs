//! A [`PacketStream`] over an in-memory socket, for the fuzz targets (through
//! `fuzzing`): the shared [`stream_methods!`] (queue, send, receive, the
//! refusal and its lossless close, close) with the blocking stream's
//! primitives, over any `Read + Write` the target steers (short counts,
//! `WouldBlock`, `Interrupted`). `WouldBlock` comes back as an `Io` error,
//! as a blocking stream's timeout does, with the same buffering.
//!
//! Likewise a [`PacketSocket`] over an in-memory datagram network
//! ([`MemUdpSocket`]): the shared [`socket_methods!`] (send with the
//! pending hello, receive, open, count) with the blocking socket's
//! primitives, over any [`MemDatagrams`] the target steers.

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::queue::Outbox;
use super::security::frame_in;
use super::socket::{PacketListener, PacketSocket, PacketStream, socket_methods, stream_methods};
use super::{ServerSecurity, TransportConfig, TransportError};
use packet_core::buf::Writer;
use packet_core::error::EncodeError;
use packet_core::frame::{Frame, Packet};

/// The socket under a [`MemStream`]: reads, writes and a write shutdown.
pub trait MemSocket: io::Read + io::Write {
    /// The end of the write side (the peer reads end of stream).
    fn shutdown_write(&mut self) -> io::Result<()>;
}

/// An in-memory socket (see the module docs).
pub struct MemIo<'a>(pub Box<dyn MemSocket + 'a>);

/// `Debug` (the name) and the fixed addresses of an in-memory socket.
macro_rules! mem_socket {
    ($t:ident) => {
        impl std::fmt::Debug for $t<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(stringify!($t))
            }
        }

        impl $t<'_> {
            fn peer_addr(&self) -> io::Result<SocketAddr> {
                Ok(([127, 0, 0, 1], 1).into())
            }

            fn local_addr(&self) -> io::Result<SocketAddr> {
                Ok(([127, 0, 0, 1], 2).into())
            }
        }
    };
}

mem_socket!(MemIo);

/// A stream connection over a [`MemIo`].
pub type MemStream<'a> = PacketStream<MemIo<'a>>;

impl<'a> MemStream<'a> {
    /// A connecting end (sealed with [`PacketStream::sealed`]).
    pub fn client(io: impl MemSocket + 'a, config: TransportConfig) -> Self {
        Self::wrap(MemIo(Box::new(io)), config)
    }

    /// An accepting end, as a listener with `config` and `security`
    /// accepts it.
    pub fn server(
        io: impl MemSocket + 'a,
        config: TransportConfig,
        security: Option<ServerSecurity>,
    ) -> Self {
        let mut listener = PacketListener::wrap((), config);
        listener.security = security;
        listener.accepted(MemIo(Box::new(io)))
    }

    /// Writes everything queued (a `WouldBlock` leaves the rest queued).
    pub fn flush(&mut self) -> Result<(), TransportError> {
        self.outbox.flush_to(&mut self.io.0)
    }

    fn fill(&mut self) -> Result<(), TransportError> {
        self.inbox.fill_from(&mut self.io.0, &mut self.outbox)
    }

    /// Shuts the write side of `io` (the field alone: callable while a
    /// received frame borrows the inbox).
    fn shut(io: &mut MemIo<'a>) -> Result<(), TransportError> {
        Ok(io.0.shutdown_write()?)
    }

    /// Reads and drops until end of stream or an error (`WouldBlock`:
    /// nothing more now; a memory socket has no clock to wait on).
    fn drain(&mut self, _: Instant) {
        let mut scratch = [0; 4096];
        loop {
            match self.io.0.read(&mut scratch) {
                Ok(0) => break,
                Err(e) if e.kind() != io::ErrorKind::Interrupted => break,
                _ => {}
            }
        }
    }

    stream_methods!();
}

/// The network under a [`MemUdpSocket`]: where its datagrams go and come
/// from.
pub trait MemDatagrams {
    /// Sends `datagram` to `to` (or the connected peer); the bytes sent.
    fn send(&mut self, datagram: &[u8], to: Option<SocketAddr>) -> io::Result<usize>;
    /// The next datagram and its source, into `buf` and cut to its length
    /// as a UDP socket does; `WouldBlock` when none is waiting (a blocking
    /// socket's timeout).
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)>;
}

/// An in-memory datagram socket (see the module docs): shared by the
/// socket methods as a real socket is, hence the cell.
pub struct MemUdp<'a>(pub RefCell<Box<dyn MemDatagrams + 'a>>);

mem_socket!(MemUdp);

/// A datagram socket over a [`MemUdp`].
pub type MemUdpSocket<'a> = PacketSocket<MemUdp<'a>>;

impl<'a> MemUdpSocket<'a> {
    /// A client socket for `config` (sealed with [`PacketSocket::sealed`]).
    pub fn new(net: impl MemDatagrams + 'a, config: TransportConfig) -> Self {
        Self::wrap(MemUdp(RefCell::new(Box::new(net))), config)
    }

    fn send_datagram(
        socket: &MemUdp<'_>,
        _: Option<Duration>,
        to: Option<SocketAddr>,
        datagram: &[u8],
    ) -> io::Result<usize> {
        socket.0.borrow_mut().send(datagram, to)
    }

    fn recv_datagram(
        socket: &MemUdp<'_>,
        _: Option<Instant>,
        buf: &mut [u8],
    ) -> io::Result<(usize, SocketAddr)> {
        socket.0.borrow_mut().recv(buf)
    }

    /// No ICMP in memory: never called after a `ConnectionRefused`
    /// the network did not make.
    fn try_recv_datagram(_: &MemUdp<'_>, _: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        Err(io::ErrorKind::WouldBlock.into())
    }

    socket_methods!();
}
