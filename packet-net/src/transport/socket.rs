//! The socket types, generic over the runtime's socket, and what the
//! blocking and tokio versions share: [`PacketStream`],
//! [`PacketListener`], [`PacketSocket`], and their sending and receiving
//! methods, written once here ([`stream_methods!`], [`socket_methods!`])
//! and expanded by `blocking` plain and by `tokio` with `async`/`.await`.
//! `blocking` and `tokio` name the types for their sockets
//! (`TcpPacketStream`, ...) and add only the calls that read, write and
//! wait.

use std::time::Duration;

use packet_core::Writer;
use packet_core::error::EncodeError;

use super::datagram::DatagramChannel;
use super::queue::{Inbox, Outbox};
#[cfg(feature = "crypto")]
use super::security::{ClientSecurity, Security, ServerSecurity};
use super::security::{Halves, plain_client, plain_server};
use super::{TransportConfig, TransportError, UdpStats};

/// A stream connection carrying frames over the socket `S`: a bounded
/// inbox (frames are received borrowed from its buffer) and a bounded,
/// coalescing outbox.
#[derive(Debug)]
pub struct PacketStream<S> {
    pub(crate) io: S,
    pub(crate) config: TransportConfig,
    pub(crate) inbox: Inbox,
    pub(crate) outbox: Outbox,
}

impl<S> PacketStream<S> {
    /// A connecting end (a client): with a fingerprint configured, its
    /// plaintext hello goes before the first frame.
    pub(crate) fn wrap(io: S, config: TransportConfig) -> Self {
        Self::with_halves(io, config, plain_client(&config.frame, config.fingerprint))
    }

    fn with_halves(io: S, config: TransportConfig, halves: Halves) -> Self {
        Self {
            io,
            inbox: Inbox::new(&config.frame, halves.opener),
            outbox: Outbox::new(&config, halves.sealer, halves.hello),
            config,
        }
    }

    /// Seals the connection with a client's token and keys: its session
    /// hello goes out before the first frame. Call before the first frame.
    #[cfg(feature = "crypto")]
    pub fn sealed(self, security: ClientSecurity) -> Self {
        let halves = security.halves(self.config.frame, self.config.fingerprint, false);
        Self::with_halves(self.io, self.config, halves)
    }

    /// The socket.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// Whether a received frame (or an error) is buffered: `recv` returns
    /// without reading (flush only when this is false, to coalesce).
    pub fn has_frame(&self) -> bool {
        self.inbox.has_frame()
    }

    /// Bytes queued and not yet written.
    pub fn queued(&self) -> usize {
        self.outbox.len()
    }

    /// Bytes of an unfinished frame received so far.
    pub fn buffered(&self) -> usize {
        self.inbox.buffered()
    }

    /// Queues a frame whose body of at most `max_body` bytes `body`
    /// writes; fails with [`TransportError::QueueFull`] instead of
    /// flushing.
    pub fn try_queue_with(
        &mut self,
        type_id: u16,
        max_body: usize,
        body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
    ) -> Result<(), TransportError> {
        self.outbox.queue_with(type_id, max_body, body)
    }
}

/// A listener whose accepted connections are [`PacketStream`]s.
#[derive(Debug)]
pub struct PacketListener<L> {
    pub(crate) listener: L,
    pub(crate) config: TransportConfig,
    #[cfg(feature = "crypto")]
    pub(crate) security: Option<ServerSecurity>,
}

impl<L> PacketListener<L> {
    pub(crate) fn wrap(listener: L, config: TransportConfig) -> Self {
        Self {
            listener,
            config,
            #[cfg(feature = "crypto")]
            security: None,
        }
    }

    /// Seals every accepted connection: each must open with a session
    /// hello whose token `security` knows, and gets that session's keys.
    #[cfg(feature = "crypto")]
    pub fn sealed(mut self, security: ServerSecurity) -> Self {
        self.security = Some(security);
        self
    }

    /// The listener.
    pub fn get_ref(&self) -> &L {
        &self.listener
    }

    /// An accepted connection, with this listener's security (and, with a
    /// fingerprint configured, its hello required).
    pub(crate) fn accepted<S>(&self, io: S) -> PacketStream<S> {
        let (frame, fingerprint) = (self.config.frame, self.config.fingerprint);
        #[cfg(feature = "crypto")]
        if let Some(security) = &self.security {
            let halves = security.halves(frame, fingerprint, false);
            return PacketStream::with_halves(io, self.config, halves);
        }
        PacketStream::with_halves(io, self.config, plain_server(&frame, fingerprint))
    }
}

/// A datagram socket carrying one frame per datagram; invalid datagrams
/// are dropped and counted, never returned.
#[derive(Debug)]
pub struct PacketSocket<U> {
    pub(crate) socket: U,
    pub(crate) chan: DatagramChannel,
}

impl<U> PacketSocket<U> {
    pub(crate) fn wrap(socket: U, config: TransportConfig) -> Self {
        Self {
            socket,
            chan: DatagramChannel::new(config, plain_client(&config.frame, config.fingerprint)),
        }
    }

    /// Seals the socket with a client's token and keys: one sealed
    /// channel with the server (windowed replay protection); the session
    /// hello goes before each datagram until the server answers. Call
    /// before the first frame.
    #[cfg(feature = "crypto")]
    pub fn sealed(mut self, security: ClientSecurity) -> Self {
        let config = self.chan.config;
        let halves = security.halves(config.frame, config.fingerprint, true);
        self.chan = DatagramChannel::new(config, halves);
        self
    }

    /// The socket.
    pub fn get_ref(&self) -> &U {
        &self.socket
    }

    /// The counters.
    pub fn stats(&self) -> UdpStats {
        self.chan.stats
    }

    /// A receive buffer big enough for any datagram this socket accepts
    /// (for `recv_from_in`).
    pub fn new_recv_buf(&self) -> Vec<u8> {
        self.chan.new_recv_buf()
    }
}

/// How long an accepting stream that refused a client of another
/// protocol keeps reading and dropping the client's bytes, waiting for it
/// to close, before it fails (see [`PacketStream`]'s `recv`): a client
/// that reads the refusal closes at once.
pub const REFUSAL_LINGER: Duration = Duration::from_secs(2);

/// The [`PacketStream`] methods every runtime shares. The runtime's impl
/// provides `fill` (read until a frame or an error is ready, within the
/// read timeout), `flush`, `shut(io)` (shut the write side) and `drain`
/// (read and drop until end of stream, an error or the deadline);
/// `stream_methods!()` expands them blocking,
/// `stream_methods!(async await)` async.
macro_rules! stream_methods {
    ($($async:tt $aw:tt)?) => {
        /// The peer's address.
        pub fn peer_addr(&self) -> Result<SocketAddr, TransportError> {
            Ok(self.io.peer_addr()?)
        }

        /// The local address.
        pub fn local_addr(&self) -> Result<SocketAddr, TransportError> {
            Ok(self.io.local_addr()?)
        }

        /// Queues `packet` and flushes.
        pub $($async)? fn send<P: Packet + ?Sized>(&mut self, packet: &P) -> Result<(), TransportError> {
            self.queue(packet)$(.$aw)??;
            self.flush()$(.$aw)?
        }

        /// Queues a raw frame and flushes.
        pub $($async)? fn send_raw(&mut self, type_id: u16, body: &[u8]) -> Result<(), TransportError> {
            self.queue_raw(type_id, body)$(.$aw)??;
            self.flush()$(.$aw)?
        }

        /// Queues `packet`; writes only when the queue has no room for it
        /// (back-pressure: the caller waits for the socket).
        pub $($async)? fn queue<P: Packet + ?Sized>(&mut self, packet: &P) -> Result<(), TransportError> {
            self.queue_with(P::ID, $crate::transport::queue::body_len(packet)?, |w| packet.write_data(w))$(.$aw)?
        }

        /// Queues a raw frame (see `queue`).
        pub $($async)? fn queue_raw(&mut self, type_id: u16, body: &[u8]) -> Result<(), TransportError> {
            self.queue_with(type_id, body.len(), |w| w.put_bytes(body))$(.$aw)?
        }

        /// Queues a frame whose body of at most `max_body` bytes `body`
        /// writes (see `queue`). Type id `0xFFFF` is refused
        /// ([`TransportError::ReservedTypeId`]), before anything is flushed;
        /// once the server ended the session with a close notice, every
        /// send fails with it ([`TransportError::ClosedByServer`]), as
        /// `recv` does, not with the socket's broken pipe.
        pub $($async)? fn queue_with(
            &mut self,
            type_id: u16,
            max_body: usize,
            body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
        ) -> Result<(), TransportError> {
            $crate::transport::application_type_id(type_id)?;
            if let Some(notice) = self.inbox.opener().closed_by_server() {
                return Err(TransportError::ClosedByServer(notice));
            }
            if self.outbox.needs_flush_for(max_body)? {
                self.flush()$(.$aw)??;
            }
            self.outbox.queue_with(type_id, max_body, body)
        }

        /// Receives the next frame, borrowed from the receive buffer,
        /// once it has fully arrived; a timeout error
        /// ([`TransportError::is_timeout`]) when the read timeout passes
        /// first (bytes read so far stay buffered).
        ///
        /// [`TransportError::ClosedByServer`] when the server ended the
        /// session and said why (wire format §12): the stream then shuts
        /// its write side (the server lingers until the client closes).
        /// [`TransportError::Closed`] when the peer closed between frames;
        /// `Frame(UnexpectedEof)` when it closed inside one; a `Frame` error
        /// when it sent a bad frame (the stream stays failed). An accepting
        /// end refusing a client of another protocol returns
        /// [`TransportError::ProtocolMismatch`] once the client closed
        /// after reading the refusal (at most [`REFUSAL_LINGER`](super::REFUSAL_LINGER)).
        pub $($async)? fn recv(&mut self) -> Result<Frame<'_>, TransportError> {
            // A frame already buffered needs no read (nor its future).
            if !self.inbox.frame_ready()
                && let Err(e) = self.fill()$(.$aw)?
            {
                return Err(self.refuse(e)$(.$aw)?);
            }
            let frame = self.inbox.take_frame();
            if let Err(TransportError::ClosedByServer(_)) = &frame {
                // The session is over: closing our side ends the server's
                // linger after its notice at once.
                let _ = Self::shut(&mut self.io)$(.$aw)?;
            }
            frame
        }

        /// Receives the next frame and passes it, with the outbox, to `f`:
        /// for replying to a frame while it is still borrowed.
        pub $($async)? fn recv_with<R>(
            &mut self,
            f: impl FnOnce(Frame<'_>, &mut Outbox) -> R,
        ) -> Result<R, TransportError> {
            if !self.inbox.frame_ready()
                && let Err(e) = self.fill()$(.$aw)?
            {
                return Err(self.refuse(e)$(.$aw)?);
            }
            let frame = self.inbox.take_frame();
            if let Err(TransportError::ClosedByServer(_)) = &frame {
                // As `recv`: the server's linger after its notice ends.
                let _ = Self::shut(&mut self.io)$(.$aw)?;
            }
            Ok(f(frame?, &mut self.outbox))
        }

        /// After a read failed with `e`: an accepting end that refuses a
        /// client of another protocol (the mismatch names its fingerprint
        /// as the server's; a refused client's names its own, which is
        /// another) sends the refusal, shuts its write side, and reads and
        /// drops what the client still sends until it closes, for at most
        /// [`REFUSAL_LINGER`](super::REFUSAL_LINGER), before failing with
        /// `e`: dropping a socket with bytes unread resets the
        /// connection, and the client could lose the refusal. Off the
        /// per-frame path: the receive methods await it only on an error.
        #[cold]
        $($async)? fn refuse(&mut self, e: TransportError) -> TransportError {
            if let TransportError::ProtocolMismatch(m) = &e
                && Some(m.server) == self.config.fingerprint
                && self.flush()$(.$aw)?.is_ok()
                && Self::shut(&mut self.io)$(.$aw)?.is_ok()
            {
                self.drain(Instant::now() + super::REFUSAL_LINGER)$(.$aw)?;
            }
            e
        }

        /// Flushes, then shuts the write side down (the peer sees end of
        /// stream after the last frame).
        pub $($async)? fn close(mut self) -> Result<(), TransportError> {
            self.flush()$(.$aw)??;
            Self::shut(&mut self.io)$(.$aw)?
        }
    };
}
pub(crate) use stream_methods;

/// One datagram into `$buf` (in a [`socket_methods!`] method). A
/// connected socket reports an ICMP "port unreachable" about an earlier
/// send (`ConnectionRefused`: the server is gone) ahead of the datagrams
/// already queued, and one of those may be the server's close notice
/// (say, of its shutdown), which says more: the queued datagrams are read
/// first (`try_recv_datagram`: the runtime's receive that does not wait),
/// the refusal kept in `$refused` and returned once none is left (a
/// queued datagram that is not a valid frame does not swallow it).
macro_rules! recv_next {
    ($self:ident, $deadline:expr, $buf:expr, $refused:ident $(, $aw:tt)?) => {
        if $refused.is_some() {
            Self::try_recv_datagram(&$self.socket, $buf)
                .map_err(|_| $refused.take().expect("a refusal kept"))
        } else {
            match Self::recv_datagram(&$self.socket, $deadline, $buf)$(.$aw)? {
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    match Self::try_recv_datagram(&$self.socket, $buf) {
                        Ok(got) => {
                            $refused = Some(e);
                            Ok(got)
                        }
                        Err(_) => Err(e),
                    }
                }
                got => got,
            }
        }
    };
}
pub(crate) use recv_next;

/// The [`PacketSocket`] methods every runtime shares. The runtime's impl
/// provides `send_datagram(socket, write timeout, to, bytes)` and
/// `recv_datagram(socket, deadline, buf)`; `socket_methods!()` expands
/// them blocking, `socket_methods!(async await)` async.
macro_rules! socket_methods {
    ($($async:tt $aw:tt)?) => {
        /// The local address.
        pub fn local_addr(&self) -> Result<SocketAddr, TransportError> {
            Ok(self.socket.local_addr()?)
        }

        /// The connected peer's address.
        pub fn peer_addr(&self) -> Result<SocketAddr, TransportError> {
            Ok(self.socket.peer_addr()?)
        }

        /// Sends `packet` to `addr` as one datagram. A packet no datagram
        /// can carry does not compile (`assert_fits_datagram`; reported by
        /// `cargo build`, not `cargo check`).
        pub $($async)? fn send_to<P: Packet + ?Sized>(&mut self, packet: &P, addr: SocketAddr) -> Result<(), TransportError> {
            const { packet_core::frame::assert_fits_datagram::<P>() };
            self.send_with(Some(addr), P::ID, $crate::transport::queue::body_len(packet)?, |w| packet.write_data(w))$(.$aw)?
        }

        /// Sends a raw frame to `addr`.
        pub $($async)? fn send_raw_to(&mut self, type_id: u16, body: &[u8], addr: SocketAddr) -> Result<(), TransportError> {
            self.send_with(Some(addr), type_id, body.len(), |w| w.put_bytes(body))$(.$aw)?
        }

        /// Sends `packet` to the connected peer (as one datagram; see
        /// `send_to` for the compile-time fit check).
        pub $($async)? fn send<P: Packet + ?Sized>(&mut self, packet: &P) -> Result<(), TransportError> {
            const { packet_core::frame::assert_fits_datagram::<P>() };
            self.send_with(None, P::ID, $crate::transport::queue::body_len(packet)?, |w| packet.write_data(w))$(.$aw)?
        }

        /// Sends a raw frame to the connected peer.
        pub $($async)? fn send_raw(&mut self, type_id: u16, body: &[u8]) -> Result<(), TransportError> {
            self.send_with(None, type_id, body.len(), |w| w.put_bytes(body))$(.$aw)?
        }

        /// Sends one frame whose body `body` writes, to `addr` or the
        /// connected peer, within the write timeout. A sealed client not
        /// yet answered sends its session hello first (again: the last
        /// one may have been lost).
        pub $($async)? fn send_with(
            &mut self,
            addr: Option<SocketAddr>,
            type_id: u16,
            max_body: usize,
            body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
        ) -> Result<(), TransportError> {
            // Refused before a pending hello is sent.
            $crate::transport::application_type_id(type_id)?;
            let limit = self.chan.config.write_timeout;
            if let Some(hello) = self.chan.pending_hello() {
                Self::send_datagram(&self.socket, limit, addr, &hello)$(.$aw)??;
            }
            let datagram = self.chan.encode_with(type_id, max_body, body)?;
            let sent = Self::send_datagram(&self.socket, limit, addr, datagram)$(.$aw)?;
            self.chan.sent(sent)
        }

        /// Receives the next valid frame and its sender, borrowed from the
        /// socket's buffer. Invalid datagrams are dropped and counted in
        /// [`UdpStats::dropped`](super::UdpStats::dropped); only socket
        /// errors (including the read timeout) are returned.
        pub $($async)? fn recv_from(&mut self) -> Result<(Frame<'_>, SocketAddr), TransportError> {
            let deadline = self.chan.read_deadline();
            let mut refused = None;
            let (header, addr) = loop {
                let buf = &mut self.chan.recv_buf;
                let (len, addr) = $crate::transport::socket::recv_next!(self, deadline, buf, refused $(, $aw)?)?;
                if let Some(header) = self.chan.open_received(len)? {
                    break (header, addr);
                }
            };
            Ok((self.chan.received(header), addr))
        }

        /// Like `recv_from` but into a caller's buffer (from
        /// `new_recv_buf`), leaving the socket free to reply while the
        /// frame is borrowed.
        pub $($async)? fn recv_from_in<'b>(
            &mut self,
            buf: &'b mut [u8],
        ) -> Result<(Frame<'b>, SocketAddr), TransportError> {
            let deadline = self.chan.read_deadline();
            let mut refused = None;
            let (header, addr) = loop {
                let (len, addr) = $crate::transport::socket::recv_next!(self, deadline, buf, refused $(, $aw)?)?;
                if let Some(header) = self.chan.open(&mut buf[..len])? {
                    break (header, addr);
                }
            };
            Ok((frame_in(header, buf), addr))
        }

        /// Receives the next valid frame from the connected peer.
        pub $($async)? fn recv(&mut self) -> Result<Frame<'_>, TransportError> {
            self.socket.peer_addr()?;
            Ok(self.recv_from()$(.$aw)??.0)
        }
    };
}
pub(crate) use socket_methods;

/// The constructors the blocking and tokio sockets share, one `impl`
/// block per type, for the runtime whose `TcpStream`, `TcpListener`,
/// `UdpSocket` and `ToSocketAddrs` are in scope. The runtime provides
/// `tune(&TcpStream, &TransportConfig)` (`TCP_NODELAY`, and the blocking
/// socket's timeouts) and `tune_udp(&UdpSocket, &TransportConfig)`;
/// `constructors!()` expands them blocking, `constructors!(async await)`
/// async.
macro_rules! constructors {
    ($($async:tt $aw:tt)?) => {
        impl TcpPacketStream {
            /// Connects with the default configuration.
            pub $($async)? fn connect(addr: impl ToSocketAddrs) -> Result<Self, TransportError> {
                Self::connect_with(addr, TransportConfig::default())$(.$aw)?
            }

            /// Connects with `config`; its read timeout bounds each receive
            /// and its write timeout each flush. Neither bounds the connect
            /// itself, which waits as long as the OS does (minutes, for an
            /// address that never answers): bound it with
            /// `std::net::TcpStream::connect_timeout` and
            /// [`from_stream`](Self::from_stream) (blocking) or
            /// `tokio::time::timeout` around this call (tokio).
            pub $($async)? fn connect_with(
                addr: impl ToSocketAddrs,
                config: TransportConfig,
            ) -> Result<Self, TransportError> {
                Self::from_stream(TcpStream::connect(addr)$(.$aw)??, config)
            }

            /// Wraps a connected stream: sets `TCP_NODELAY` (frames are
            /// coalesced here, not by Nagle) and, blocking, the configured
            /// timeouts on the socket (tokio applies them around each call).
            pub fn from_stream(stream: TcpStream, config: TransportConfig) -> Result<Self, TransportError> {
                tune(&stream, &config)?;
                Ok(Self::wrap(stream, config))
            }
        }

        impl TcpPacketListener {
            /// Binds with the default configuration.
            pub $($async)? fn bind(addr: impl ToSocketAddrs) -> Result<Self, TransportError> {
                Self::bind_with(addr, TransportConfig::default())$(.$aw)?
            }

            /// Binds; accepted streams use `config`.
            pub $($async)? fn bind_with(
                addr: impl ToSocketAddrs,
                config: TransportConfig,
            ) -> Result<Self, TransportError> {
                Ok(Self::wrap(TcpListener::bind(addr)$(.$aw)??, config))
            }

            /// The bound address.
            pub fn local_addr(&self) -> Result<SocketAddr, TransportError> {
                Ok(self.listener.local_addr()?)
            }

            /// Accepts one connection.
            pub $($async)? fn accept(&self) -> Result<(TcpPacketStream, SocketAddr), TransportError> {
                let (stream, addr) = self.listener.accept()$(.$aw)??;
                tune(&stream, &self.config)?;
                Ok((self.accepted(stream), addr))
            }
        }

        impl UdpPacketSocket {
            /// Binds with the default configuration.
            pub $($async)? fn bind(addr: impl ToSocketAddrs) -> Result<Self, TransportError> {
                Self::bind_with(addr, TransportConfig::default())$(.$aw)?
            }

            /// Binds with `config` (its maximum frame bounds each datagram).
            pub $($async)? fn bind_with(
                addr: impl ToSocketAddrs,
                config: TransportConfig,
            ) -> Result<Self, TransportError> {
                let socket = UdpSocket::bind(addr)$(.$aw)??;
                tune_udp(&socket, &config)?;
                Ok(Self::wrap(socket, config))
            }

            /// Fixes the peer: `send` and `recv` then talk to it only.
            pub $($async)? fn connect(&self, addr: impl ToSocketAddrs) -> Result<(), TransportError> {
                Ok(self.socket.connect(addr)$(.$aw)??)
            }
        }
    };
}
pub(crate) use constructors;
