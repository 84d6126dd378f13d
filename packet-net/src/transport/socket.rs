//! The socket types, generic over the runtime's socket, and what the
//! blocking and tokio versions share: [`PacketStream`],
//! [`PacketListener`], [`PacketSocket`]. `blocking` and `tokio` name them
//! for their sockets (`TcpPacketStream`, ...) and add only the calls that
//! read, write and wait.

use std::vec::Vec;

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
    #[cfg_attr(not(any(feature = "crypto", feature = "tokio")), allow(dead_code))]
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
        let (inbox, outbox) = Inbox::pair(&config, halves);
        Self {
            io,
            config,
            inbox,
            outbox,
        }
    }

    /// Seals the connection with a client's token and keys: its session
    /// hello goes out before the first frame. Call before the first frame.
    #[cfg(feature = "crypto")]
    pub fn sealed(mut self, security: ClientSecurity) -> Self {
        self.secure(security);
        self
    }

    #[cfg(feature = "crypto")]
    fn secure(&mut self, security: impl Security) {
        let halves = security
            .halves(self.config.frame, false)
            .with_fingerprint(self.config.fingerprint);
        (self.inbox, self.outbox) = Inbox::pair(&self.config, halves);
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
    security: Option<ServerSecurity>,
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
        let halves = plain_server(&self.config.frame, self.config.fingerprint);
        #[allow(unused_mut)]
        let mut s = PacketStream::with_halves(io, self.config, halves);
        #[cfg(feature = "crypto")]
        if let Some(security) = &self.security {
            s.secure(security);
        }
        s
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
        let config = *self.chan.config();
        let halves = security
            .halves(config.frame, true)
            .with_fingerprint(config.fingerprint);
        self.chan = DatagramChannel::new(config, halves);
        self
    }

    /// The socket.
    pub fn get_ref(&self) -> &U {
        &self.socket
    }

    /// The counters.
    pub fn stats(&self) -> UdpStats {
        self.chan.stats()
    }

    /// A receive buffer big enough for any datagram this socket accepts
    /// (for `recv_from_in`).
    pub fn new_recv_buf(&self) -> Vec<u8> {
        self.chan.new_recv_buf()
    }
}
