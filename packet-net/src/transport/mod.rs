//! Connections that speak frames: the sockets ([`blocking`] and, with the
//! `tokio` feature, `tokio`), their configuration and errors, and the
//! security types.
//!
//! - [`TransportConfig`] and [`TransportError`].
//! - Security as types (`security`): [`SessionToken`], and with the
//!   `crypto` feature `ClientSecurity` (a client's token and keys) and
//!   `ServerSecurity` (an accepting end's key provider), and
//!   `SessionToken::random` and `random_keys` for a login server to
//!   issue them; the one
//!   `sealed(..)` method of every stream, listener, socket, server
//!   configuration and codec takes the one that fits it.
//! - [`Outbox`]: the outgoing queue of a connection (frames encoded in
//!   place, bounded: a full queue is back-pressure, never growth).
//!
//! Sessions, their timers and every end-of-session decision live in
//! the crate-private `session` module; dispatch and the servers in [`crate::server`]. Framing
//! rules live in packet-core's `frame`: nothing here parses bytes itself.
//!
//! After warm-up (the queue and decoder buffers have grown to their working
//! size), sending and receiving a packet allocates nothing.

use std::io;
use std::time::Duration;

use packet_core::error::{DecodeError, EncodeError, FrameError};
use packet_core::frame::{Frame, FrameConfig, Header};

pub(crate) mod batch;
pub mod blocking;
pub(crate) mod datagram;
#[cfg(feature = "crypto")]
pub(crate) mod mem;
pub(crate) mod queue;
pub(crate) mod security;
mod socket;
#[cfg(feature = "tokio")]
pub mod tokio;

pub use queue::Outbox;
#[cfg(feature = "crypto")]
pub use security::{ClientSecurity, ServerSecurity, random_keys};
pub use security::{CloseNotice, CloseReason, SESSION_HELLO_TYPE, Security, SessionToken};
pub use socket::{PacketListener, PacketSocket, PacketStream, REFUSAL_LINGER};

/// Limits and timeouts of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportConfig {
    /// Framing limits (maximum frame length) for both directions.
    pub frame: FrameConfig,
    /// Most bytes the write queue holds before senders get back-pressure.
    /// Raised to at least one maximum frame.
    pub write_queue_limit: usize,
    /// Read timeout of streams and sockets (`None`: wait forever): set on
    /// the socket by the blocking types, applied around each receive by
    /// the tokio types.
    pub read_timeout: Option<Duration>,
    /// Write timeout of streams and sockets (`None`: wait forever), applied
    /// like the read timeout.
    pub write_timeout: Option<Duration>,
    /// The protocol fingerprint (`docs/wire-format.md` §11) this end
    /// speaks, carried in the session hello (§11.5): a connecting end
    /// (client stream or socket, `PacketCodec::client`) sends it before
    /// its first frame, an accepting end (listener, server,
    /// `PacketCodec::server`) requires it and refuses another
    /// one with `protocol mismatch: client 0x…, server 0x…`
    /// ([`TransportError::ProtocolMismatch`]). `None` (the default): a
    /// client sends no fingerprint, a server requires none and takes a
    /// hello that carries one without checking it. Set it once, from
    /// `<MyPacketSet as Fingerprint>::FINGERPRINT` or the schema
    /// compiler's, with [`TransportConfig::with_fingerprint`] or
    /// [`TransportConfig::with_protocol`].
    pub fingerprint: Option<u64>,
}

impl TransportConfig {
    /// Default write queue limit: 256 KiB.
    pub const DEFAULT_WRITE_QUEUE_LIMIT: usize = 256 * 1024;

    /// The defaults: 64 KiB frames, a 256 KiB write queue, no timeouts.
    pub const fn new() -> Self {
        Self {
            frame: FrameConfig::new(),
            write_queue_limit: Self::DEFAULT_WRITE_QUEUE_LIMIT,
            read_timeout: None,
            write_timeout: None,
            fingerprint: None,
        }
    }

    /// Sets the protocol fingerprint carried and checked in the session
    /// hello (see [`TransportConfig::fingerprint`]).
    pub const fn with_fingerprint(mut self, fingerprint: u64) -> Self {
        self.fingerprint = Some(fingerprint);
        self
    }

    /// Sets the protocol fingerprint to packet set `P`'s (a
    /// `#[derive(PacketSet)]` enum), computed at compile time.
    ///
    /// ```
    /// use packet_net::layout::Fingerprint;
    /// use packet_net::transport::TransportConfig;
    /// use packet_net::{Packet, PacketSet};
    ///
    /// #[derive(Packet)]
    /// #[packet(id = 1)]
    /// struct Ping { at: u64 }
    ///
    /// #[derive(PacketSet)]
    /// enum Game { Ping(Ping) }
    ///
    /// // Client and server configure the same value once.
    /// let config = TransportConfig::default().with_protocol::<Game>();
    /// assert_eq!(config.fingerprint, Some(<Game as Fingerprint>::FINGERPRINT));
    /// ```
    pub const fn with_protocol<P: packet_core::layout::Fingerprint>(self) -> Self {
        self.with_fingerprint(P::FINGERPRINT)
    }

    setters! {
        [const]
        /// Sets the framing limits.
        frame: FrameConfig, with_frame;
        /// Sets the write queue limit in bytes.
        write_queue_limit: usize, with_write_queue_limit;
        /// Sets the read timeout.
        read_timeout: Option<Duration>, with_read_timeout;
        /// Sets the write timeout.
        write_timeout: Option<Duration>, with_write_timeout;
    }

    /// The effective queue limit: at least one maximum frame.
    pub fn queue_limit(&self) -> usize {
        self.write_queue_limit
            .max(self.frame.max_frame_len() as usize)
    }
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// An error of the transport layers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The socket failed (a read or write timeout shows up here as
    /// `TimedOut`, from the blocking and the tokio sockets alike; see
    /// [`TransportError::is_timeout`]).
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The peer sent a frame that failed validation; the stream is
    /// unusable from here on.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A packet could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// A frame's body did not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A sealed frame failed: replayed, forged, or sealed under another
    /// key.
    #[cfg(feature = "crypto")]
    #[error(transparent)]
    Crypto(#[from] packet_core::error::CryptoError),
    /// The peer speaks another protocol: the fingerprints in the session
    /// hello differ (`docs/wire-format.md` §11.5). A client gets it from
    /// the server's refusal, a server end from the client's hello; the
    /// message is `protocol mismatch: client 0x…, server 0x…`.
    #[error(transparent)]
    ProtocolMismatch(#[from] packet_core::layout::ProtocolMismatch),
    /// The first frame was not the session hello this end requires (a
    /// server with a fingerprint: the hello carrying one).
    #[error(
        "expected a session hello with a protocol fingerprint first, got type {type_id:#06x} with a {body_len}-byte body"
    )]
    HelloExpected {
        /// The first frame's type id.
        type_id: u16,
        /// Its body length.
        body_len: u32,
    },
    /// A client got a refusal-shaped frame (type `0xFFFF`, an 8-byte
    /// body) after the server had answered, or without having sent a
    /// fingerprint: not a frame a server sends then, so an invalid one
    /// (`docs/wire-format.md` §11.5). A datagram is dropped; a stream
    /// ends.
    #[error(
        "refusal-shaped frame (server fingerprint {server:#018x}) outside the handshake: invalid"
    )]
    StrayRefusal {
        /// The fingerprint the frame carries.
        server: u64,
    },
    /// The server ended the session and said why, in a close notice
    /// (`docs/wire-format.md` §12): server full, shutting down, idle
    /// timeout, protocol error, server error, or closed by the application
    /// with its code. The message is `the server closed the session:
    /// <reason>`. A stream is over (every later receive says the same);
    /// a datagram socket changes nothing else (a plain notice on a sealed
    /// session is believed only before the server's first authenticated
    /// datagram, and then only as news: the application decides).
    #[error("{0}")]
    ClosedByServer(security::CloseNotice),
    /// The peer closed the connection cleanly, between frames.
    ///
    /// A server that ends a session says why first
    /// ([`TransportError::ClosedByServer`]), unless its close notices are
    /// off, the session was a slow consumer or never sent its hello in
    /// time, or the server's process went away (README: "When the client
    /// sees `Closed`").
    #[error("connection closed by the peer")]
    Closed,
    /// An application frame of type id `0xFFFF`, which is reserved for
    /// the session control frames (the session hellos, the refusal, the
    /// close notice; `docs/wire-format.md` §2.2): refused by every send
    /// path that takes a type id (`send_raw`, `queue_raw`, `queue_with`,
    /// `reply_raw`, `broadcast_raw`, the codec, a hand-written `Packet`
    /// with that id), and by the server for a frame a client sent (a
    /// protocol error, §11.5), which no handler sees.
    #[error(
        "type id 0xFFFF is reserved for the session control frames (wire format §2.2): application packets cannot use it"
    )]
    ReservedTypeId,
    /// The write queue has no room for the frame: flush (or wait for the
    /// peer to read) and try again.
    #[error("write queue full: {queued} bytes queued, {needed} more needed, limit {limit}")]
    QueueFull {
        /// Bytes waiting in the queue.
        queued: usize,
        /// Bytes the frame needs at most.
        needed: usize,
        /// The queue's limit.
        limit: usize,
    },
}

/// Refuses the type id reserved for the session control frames
/// ([`TransportError::ReservedTypeId`]): every application send path
/// checks it; the crate's own control frames do not pass here.
#[inline]
pub(crate) fn application_type_id(type_id: u16) -> Result<u16, TransportError> {
    if type_id == security::SESSION_HELLO_TYPE {
        return Err(TransportError::ReservedTypeId);
    }
    Ok(type_id)
}

impl TransportError {
    /// Whether this is a read or write timeout (`TimedOut`, or the
    /// `WouldBlock` a socket of your own may report for one).
    pub fn is_timeout(&self) -> bool {
        matches!(self, TransportError::Io(e)
            if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut))
    }

    /// Whether the peer went away (clean close, a close notice from the
    /// server, reset, broken pipe, end of stream inside a frame, or, on a connected UDP socket, the peer's
    /// port closed: `ConnectionRefused`, from the ICMP answer to an
    /// earlier datagram).
    pub fn is_disconnect(&self) -> bool {
        match self {
            TransportError::Closed | TransportError::ClosedByServer(_) => true,
            TransportError::Frame(FrameError::UnexpectedEof { .. }) => true,
            TransportError::Io(e) => matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::UnexpectedEof
            ),
            _ => false,
        }
    }
}

impl From<packet_core::Error> for TransportError {
    fn from(e: packet_core::Error) -> Self {
        match e {
            packet_core::Error::Frame(e) => TransportError::Frame(e),
            packet_core::Error::Decode(e) => TransportError::Decode(e),
            packet_core::Error::Encode(e) => TransportError::Encode(e),
            #[cfg(feature = "crypto")]
            packet_core::Error::Crypto(e) => TransportError::Crypto(e),
            #[allow(unreachable_patterns)]
            _ => TransportError::Io(io::Error::other("unknown packet-core error")),
        }
    }
}

/// Counters of a UDP packet socket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UdpStats {
    /// Valid frames received.
    pub received: u64,
    /// Datagrams dropped because they were not exactly one valid frame
    /// (truncated, bad check, trailing bytes, ...), or were not for the
    /// application: the server's refusal or close notice (reported as an
    /// error by the receive that read it).
    pub dropped: u64,
    /// Frames sent.
    pub sent: u64,
}

/// A received frame copied out of the receive buffer: what crosses an
/// owned boundary (a channel, the tokio-util `Decoder`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedFrame<B = Vec<u8>> {
    /// The validated header.
    pub header: Header,
    /// The unpadded body.
    pub body: B,
}

impl<B: AsRef<[u8]>> OwnedFrame<B> {
    /// Borrows it back as a [`Frame`] (to call `decode_packet`).
    pub fn as_frame(&self) -> Frame<'_> {
        Frame::from_parts(self.header, self.body.as_ref())
    }
}
