//! Thin I/O layers over the sans-I/O codec: the pieces every transport
//! shares.
//!
//! - [`Sealer`] and [`Opener`]: the one point on the send and receive paths
//!   where a frame is made and checked: plaintext (CRC-32) frames, or with
//!   [`Security`] sealed ones (ChaCha20-Poly1305, feature `crypto`).
//! - Sealed sessions (login-server model, `docs/wire-format.md` §7.3):
//!   [`SessionToken`], `KeyProvider`, [`session_hello`]. Every session has
//!   its own keys; a sealed client sends the plaintext hello (type
//!   [`SESSION_HELLO_TYPE`], body = token) before its first sealed frame,
//!   and a server's opener accepts exactly that first, asks the provider
//!   for the session's keys and shares them with the session's sealer
//!   (which seals nothing before).
//! - [`WriteQueue`]: a bounded byte queue that frames are encoded into in
//!   place, so that many small packets queued in one tick leave in one
//!   `write` call; when it is full, callers get back-pressure
//!   ([`TransportError::QueueFull`]) instead of unbounded growth.
//! - [`Outbox`]: a write queue plus its sealer, the outgoing half of a
//!   connection; [`Inbox`]: a [`StreamDecoder`] plus its opener, the
//!   incoming half.
//! - [`TransportConfig`] and [`TransportError`].
//!
//! The sockets themselves live in [`blocking`] (std) and, with the `tokio`
//! feature, in `transport::tokio`. Sessions, dispatch and the servers
//! live in [`crate::server`]. Framing rules live in [`packet_core::frame`]: nothing
//! here parses bytes itself.
//!
//! After warm-up (the queue and decoder buffers have grown to their working
//! size), sending and receiving a packet allocates nothing.

use std::io;
use std::time::Duration;
use std::vec::Vec;

use packet_core::buf::Writer;
use packet_core::error::{DecodeError, EncodeError, FrameError};
use packet_core::frame::Packet;
use packet_core::frame::{self, Frame, FrameConfig, Header};
use packet_core::stream::StreamDecoder;

pub mod blocking;
#[cfg(feature = "tokio")]
pub mod tokio;

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
        }
    }

    /// Sets the framing limits.
    pub const fn with_frame(mut self, frame: FrameConfig) -> Self {
        self.frame = frame;
        self
    }

    /// Sets the write queue limit in bytes.
    pub const fn with_write_queue_limit(mut self, bytes: usize) -> Self {
        self.write_queue_limit = bytes;
        self
    }

    /// Sets the read timeout.
    pub const fn with_read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Sets the write timeout.
    pub const fn with_write_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.write_timeout = timeout;
        self
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
    /// `WouldBlock` or `TimedOut` (blocking) or `TimedOut` (tokio); see
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
    /// The peer closed the connection cleanly, between frames.
    #[error("connection closed by the peer")]
    Closed,
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

impl TransportError {
    /// Whether this is a read or write timeout (`WouldBlock`/`TimedOut`).
    pub fn is_timeout(&self) -> bool {
        matches!(self, TransportError::Io(e)
            if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut))
    }

    /// Whether the peer went away (clean close, reset, broken pipe, or end of
    /// stream inside a frame).
    pub fn is_disconnect(&self) -> bool {
        match self {
            TransportError::Closed => true,
            TransportError::Frame(FrameError::UnexpectedEof { .. }) => true,
            TransportError::Io(e) => matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
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

/// What protects the frames of a connection: chosen once, applied by the
/// [`Sealer`] and [`Opener`] built from it.
///
/// Sealed connections follow the login-server model
/// (`docs/wire-format.md` §7, "Keys"): a login server hands each client a
/// [`SessionToken`] together with fresh `ChannelKeys`
/// for that one session, and gives the game server a `KeyProvider` that
/// looks the keys up by token. The client's first frame is the plaintext
/// session hello (type [`SESSION_HELLO_TYPE`], body = the token); the
/// server takes the keys for that token and only then seals or opens
/// anything. One `ChannelKeys` must never serve two sessions: each side
/// numbers its frames from 0, so two sessions under one key would reuse
/// nonces.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum Security {
    /// Plaintext frames with a CRC-32 check.
    #[default]
    Plain,
    /// One sealed session (ChaCha20-Poly1305), with replay protection:
    /// ordered on streams, windowed on datagrams. On the client: the
    /// token and keys the login server handed out; the client sends the
    /// hello with `token` before its first sealed frame. On a single-peer
    /// server end (a stream or socket built with `Side::Server`): the
    /// first frame must be the hello carrying `token`.
    #[cfg(feature = "crypto")]
    Sealed {
        /// The session's token (sent in the clear, once, in the hello).
        token: SessionToken,
        /// The session's keys (never used for another session).
        keys: std::sync::Arc<packet_core::crypto::ChannelKeys>,
    },
    /// Server side of many sealed sessions: each session's keys come from
    /// the provider, looked up by the token of that session's hello.
    #[cfg(feature = "crypto")]
    SealedSessions(KeyProvider),
    /// One server session's handshake state, made by
    /// [`Security::for_session`] (shared by its sealer and opener).
    #[cfg(feature = "crypto")]
    #[doc(hidden)]
    Session(std::sync::Arc<SessionHandshake>),
}

impl Security {
    /// One sealed session: `token` and `keys` as handed out by the login
    /// server.
    #[cfg(feature = "crypto")]
    pub fn sealed(token: SessionToken, keys: packet_core::crypto::ChannelKeys) -> Self {
        Security::Sealed {
            token,
            keys: std::sync::Arc::new(keys),
        }
    }

    /// Server side of many sealed sessions with keys from `provider`.
    #[cfg(feature = "crypto")]
    pub fn sealed_sessions(
        provider: impl Fn(&SessionToken) -> Option<packet_core::crypto::ChannelKeys>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        Security::SealedSessions(KeyProvider::new(provider))
    }

    /// Whether frames are sealed.
    pub fn is_sealed(&self) -> bool {
        !matches!(self, Security::Plain)
    }

    /// The security of one new connection: for
    /// `Security::SealedSessions`, a fresh handshake state shared by
    /// that connection's sealer and opener (build both from the value this
    /// returns); anything else unchanged.
    pub fn for_session(&self) -> Security {
        #[cfg(feature = "crypto")]
        if let Security::SealedSessions(provider) = self {
            return Security::Session(std::sync::Arc::new(SessionHandshake {
                provider: provider.clone(),
                keys: std::sync::OnceLock::new(),
            }));
        }
        self.clone()
    }

    /// For an acceptor of many connections: a fixed `Sealed` session
    /// becomes a provider that hands its keys out once, so a second
    /// connection can never reuse them.
    pub fn for_acceptor(self) -> Security {
        #[cfg(feature = "crypto")]
        if let Security::Sealed { token, keys } = self {
            let once = std::sync::Mutex::new(Some((token, keys)));
            return Security::SealedSessions(KeyProvider::new(move |t: &SessionToken| {
                let mut slot = once.lock().unwrap_or_else(|p| p.into_inner());
                match slot.as_ref() {
                    Some((token, _)) if token == t => slot.take().map(|(_, k)| (*k).clone()),
                    _ => None,
                }
            }));
        }
        self
    }
}

/// The reserved packet type id of the session hello frame
/// (`docs/wire-format.md` §7): application packets must not use it.
pub const SESSION_HELLO_TYPE: u16 = 0xFFFF;

/// Bytes of a session token.
pub const SESSION_TOKEN_LEN: usize = 16;

/// Length of the session hello frame (a plaintext frame with a 16-byte
/// body).
pub const SESSION_HELLO_LEN: usize = frame::frame_len_for(SESSION_TOKEN_LEN);

/// An opaque 16-byte value a login server hands a client together with
/// that session's keys; the client sends it in its hello so the server can
/// look the keys up. Not a secret by itself (it travels in the clear), but
/// it must be unpredictable and used once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionToken(pub [u8; SESSION_TOKEN_LEN]);

/// Where a sealed server finds each session's keys: a function from the
/// session's [`SessionToken`] to its
/// [`ChannelKeys`](packet_core::crypto::ChannelKeys), or `None` for an unknown
/// token.
///
/// **Contract:** hand out each `ChannelKeys` for one session only (e.g.
/// remove the token from the login server's table when it is looked up).
/// That keeps every nonce unique under its key (each session numbers its
/// frames from 0) and stops a recorded session being replayed into a new
/// one.
#[cfg(feature = "crypto")]
#[derive(Clone)]
pub struct KeyProvider(std::sync::Arc<KeyFn>);

/// The function behind a [`KeyProvider`].
#[cfg(feature = "crypto")]
type KeyFn =
    dyn Fn(&SessionToken) -> Option<packet_core::crypto::ChannelKeys> + Send + Sync + 'static;

#[cfg(feature = "crypto")]
impl KeyProvider {
    /// A provider calling `f`.
    pub fn new(
        f: impl Fn(&SessionToken) -> Option<packet_core::crypto::ChannelKeys> + Send + Sync + 'static,
    ) -> Self {
        Self(std::sync::Arc::new(f))
    }

    /// The keys for `token`, if the provider has them.
    pub fn keys_for(&self, token: &SessionToken) -> Option<packet_core::crypto::ChannelKeys> {
        (self.0)(token)
    }
}

#[cfg(feature = "crypto")]
impl core::fmt::Debug for KeyProvider {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("KeyProvider(..)")
    }
}

/// One server session's handshake: the provider, and the keys once the
/// hello brought a valid token (set by the opener, read by the sealer).
#[cfg(feature = "crypto")]
#[doc(hidden)]
pub struct SessionHandshake {
    provider: KeyProvider,
    keys: std::sync::OnceLock<packet_core::crypto::ChannelKeys>,
}

#[cfg(feature = "crypto")]
impl core::fmt::Debug for SessionHandshake {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SessionHandshake")
            .field("keyed", &self.keys.get().is_some())
            .finish()
    }
}

/// Which end of a connection this is (chooses the sealing direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The connecting end.
    Client,
    /// The accepting end.
    Server,
}

#[cfg(feature = "crypto")]
impl From<Side> for packet_core::crypto::Role {
    fn from(side: Side) -> Self {
        match side {
            Side::Client => packet_core::crypto::Role::Client,
            Side::Server => packet_core::crypto::Role::Server,
        }
    }
}

/// The outgoing frame maker of one connection: numbers frames and, with
/// `Security::Sealed`, seals them. The single seam for security on the
/// send path.
#[derive(Debug, Clone)]
pub struct Sealer {
    next_sequence: u64,
    max_frame_len: usize,
    #[cfg(feature = "crypto")]
    key: Option<packet_core::crypto::SealingKey>,
    /// Server session awaiting its keys (from the peer's hello).
    #[cfg(feature = "crypto")]
    pending: Option<(
        std::sync::Arc<SessionHandshake>,
        packet_core::crypto::Direction,
    )>,
    /// Client: the token of the hello still to send before the first
    /// sealed frame.
    #[cfg(feature = "crypto")]
    hello: Option<SessionToken>,
}

impl Sealer {
    /// A sealer writing plaintext frames no longer than `config` allows,
    /// numbered from 0.
    pub fn plain(config: &FrameConfig) -> Self {
        Self {
            next_sequence: 0,
            max_frame_len: config.max_frame_len() as usize,
            #[cfg(feature = "crypto")]
            key: None,
            #[cfg(feature = "crypto")]
            pending: None,
            #[cfg(feature = "crypto")]
            hello: None,
        }
    }

    /// A sealer for `security` on the `side` end.
    pub fn new(security: &Security, side: Side, config: &FrameConfig) -> Self {
        #[allow(unused_mut)]
        let mut sealer = Self::plain(config);
        #[cfg(feature = "crypto")]
        {
            let dir = packet_core::crypto::Role::from(side).send_direction();
            match security {
                Security::Plain => {}
                Security::Sealed { token, keys } => {
                    sealer.key = Some(packet_core::crypto::SealingKey::new(keys.key(dir), dir));
                    if side == Side::Client {
                        sealer.hello = Some(*token);
                    }
                }
                // Shared state must be per session: a sealer that can
                // never get keys (it seals nothing) rather than a shared
                // one. Build from `Security::for_session` instead.
                Security::SealedSessions(provider) => {
                    let hs = SessionHandshake {
                        provider: provider.clone(),
                        keys: std::sync::OnceLock::new(),
                    };
                    sealer.pending = Some((std::sync::Arc::new(hs), dir));
                }
                Security::Session(hs) => sealer.pending = Some((hs.clone(), dir)),
            }
        }
        #[cfg(not(feature = "crypto"))]
        let _ = (security, side);
        sealer
    }

    /// Whether frames are sealed.
    pub fn is_sealed(&self) -> bool {
        #[cfg(feature = "crypto")]
        return self.key.is_some() || self.pending.is_some();
        #[cfg(not(feature = "crypto"))]
        false
    }

    /// The sequence number the next frame gets.
    pub fn next_sequence(&self) -> u64 {
        self.next_sequence
    }

    /// The frame length a body of `body_len` bytes needs at most.
    pub fn frame_len_for(&self, body_len: usize) -> usize {
        #[cfg(feature = "crypto")]
        if self.is_sealed() {
            return packet_core::crypto::sealed_frame_len_for(body_len);
        }
        frame::frame_len_for(body_len)
    }

    /// Checks that a body of `body_len` bytes fits the maximum frame and
    /// returns the bytes [`Sealer::seal_with`] needs (the frame, plus the
    /// session hello before a client's first sealed frame).
    pub fn check_len(&self, body_len: usize) -> Result<usize, EncodeError> {
        let len = self.frame_len_for(body_len);
        if len > self.max_frame_len {
            return Err(EncodeError::FrameTooLarge {
                len,
                max: self.max_frame_len,
            });
        }
        #[cfg(feature = "crypto")]
        if self.hello.is_some() {
            return Ok(len + SESSION_HELLO_LEN);
        }
        Ok(len)
    }

    /// Takes the token of the session hello still to send (a client
    /// sealer), so the caller sends the hello itself (UDP: as its own
    /// datagram, see [`session_hello`]).
    pub fn take_hello(&mut self) -> Option<SessionToken> {
        #[cfg(feature = "crypto")]
        return self.hello.take();
        #[cfg(not(feature = "crypto"))]
        None
    }

    /// Writes one frame of type `type_id` whose body `body` writes, at the
    /// start of `out`; returns its length. The sequence is used up only on
    /// success.
    pub fn seal_with(
        &mut self,
        type_id: u16,
        out: &mut [u8],
        body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
    ) -> Result<usize, TransportError> {
        let seq = self.next_sequence;
        #[cfg(feature = "crypto")]
        if let Some((hs, dir)) = &self.pending {
            // A server session: nothing is sealed before the peer's hello
            // brought this session's keys.
            let Some(keys) = hs.keys.get() else {
                return Err(packet_core::error::CryptoError::KeysPending.into());
            };
            self.key = Some(packet_core::crypto::SealingKey::new(keys.key(*dir), *dir));
            self.pending = None;
        }
        #[cfg(feature = "crypto")]
        let (out, hello_len) = match self.hello {
            Some(token) => {
                let n = frame::encode_raw(SESSION_HELLO_TYPE, 0, &token.0, out)?;
                let (_, rest) = out.split_at_mut(n);
                (rest, n)
            }
            None => (out, 0),
        };
        #[cfg(feature = "crypto")]
        let n = match &self.key {
            Some(key) => {
                if seq == u64::MAX {
                    return Err(packet_core::error::CryptoError::RekeyRequired {
                        sequence: seq,
                        limit: u64::MAX,
                    }
                    .into());
                }
                key.seal_with(type_id, seq, out, body)?
            }
            None => frame::encode_with(type_id, seq, out, body)?,
        };
        #[cfg(feature = "crypto")]
        let n = {
            self.hello = None;
            n + hello_len
        };
        #[cfg(not(feature = "crypto"))]
        let n = frame::encode_with(type_id, seq, out, body)?;
        self.next_sequence = seq.wrapping_add(1);
        Ok(n)
    }
}

/// The session hello frame carrying `token` (plaintext, type
/// [`SESSION_HELLO_TYPE`], sequence 0): what a sealed client sends first.
pub fn session_hello(token: &SessionToken) -> [u8; SESSION_HELLO_LEN] {
    let mut out = [0; SESSION_HELLO_LEN];
    let n = frame::encode_raw(SESSION_HELLO_TYPE, 0, &token.0, &mut out);
    debug_assert_eq!(n, Ok(SESSION_HELLO_LEN));
    out
}

/// What a server-side opener awaits before its keys exist.
#[cfg(feature = "crypto")]
#[derive(Debug, Clone)]
enum Awaiting {
    /// A hello whose token the provider knows (shared with the sealer).
    Provider(std::sync::Arc<SessionHandshake>),
    /// A hello with exactly this token (a single-peer server end).
    Token(
        SessionToken,
        std::sync::Arc<packet_core::crypto::ChannelKeys>,
    ),
}

/// Receive-side state of a sealed connection.
#[cfg(feature = "crypto")]
#[derive(Debug, Clone)]
struct OpenState {
    key: packet_core::crypto::OpeningKey,
    replay: packet_core::replay::ReplayState,
    auth_failures: u64,
}

/// The incoming frame checker of one connection: validates plaintext
/// frames, or with `Security::Sealed` checks replay, authenticates and
/// decrypts them in place. The single seam for security on the receive
/// path. After a sealed frame fails on a stream, it stays failed.
#[derive(Debug, Clone, Default)]
pub struct Opener {
    #[cfg(feature = "crypto")]
    sealed: Option<OpenState>,
    #[cfg(feature = "crypto")]
    failed: Option<packet_core::error::CryptoError>,
    /// Server end before the peer's hello: what it must bring, and the
    /// replay mode (true: datagrams).
    #[cfg(feature = "crypto")]
    awaiting: Option<(Awaiting, bool)>,
}

impl Opener {
    /// An opener accepting plaintext frames.
    pub fn plain() -> Self {
        Self::default()
    }

    /// An opener for `security` on the `side` end; `datagrams` selects the
    /// windowed replay mode (UDP) instead of the ordered one (TCP).
    pub fn new(security: &Security, side: Side, datagrams: bool) -> Self {
        #[allow(unused_mut)]
        let mut opener = Self::plain();
        #[cfg(feature = "crypto")]
        match (security, side) {
            (Security::Plain, _) => {}
            (Security::Sealed { keys, .. }, Side::Client) => {
                opener.key_with(keys, side, datagrams);
            }
            (Security::Sealed { token, keys }, Side::Server) => {
                opener.awaiting = Some((Awaiting::Token(*token, keys.clone()), datagrams));
            }
            // Per session only: a fresh handshake whose keys no sealer
            // sees (build both from `Security::for_session`).
            (Security::SealedSessions(_), _) => {
                let Security::Session(hs) = security.for_session() else {
                    unreachable!("for_session of SealedSessions")
                };
                opener.awaiting = Some((Awaiting::Provider(hs), datagrams));
            }
            (Security::Session(hs), _) => {
                opener.awaiting = Some((Awaiting::Provider(hs.clone()), datagrams));
            }
        }
        #[cfg(not(feature = "crypto"))]
        let _ = (security, side, datagrams);
        opener
    }

    #[cfg(feature = "crypto")]
    fn key_with(&mut self, keys: &packet_core::crypto::ChannelKeys, side: Side, datagrams: bool) {
        use packet_core::replay::{ReplayMode, ReplayState};
        let dir = packet_core::crypto::Role::from(side).receive_direction();
        let mode = if datagrams {
            ReplayMode::Windowed
        } else {
            ReplayMode::Ordered
        };
        self.sealed = Some(OpenState {
            key: packet_core::crypto::OpeningKey::new(keys.key(dir), dir),
            replay: ReplayState::new(mode),
            auth_failures: 0,
        });
    }

    /// Whether this opener (a sealed server end) still awaits the peer's
    /// session hello.
    pub fn awaiting_hello(&self) -> bool {
        #[cfg(feature = "crypto")]
        return self.awaiting.is_some();
        #[cfg(not(feature = "crypto"))]
        false
    }

    /// Checks the session hello (`type_id`, `body` of a validated
    /// plaintext frame) and keys the session.
    #[cfg(feature = "crypto")]
    fn accept_hello(
        &mut self,
        type_id: u16,
        body: &[u8],
    ) -> Result<(), packet_core::error::CryptoError> {
        use packet_core::error::CryptoError;
        // Cleared only on success: a bad hello leaves the opener awaiting
        // (a stream then fails for good; a datagram is dropped).
        let Some((awaiting, datagrams)) = self.awaiting.clone() else {
            return Ok(());
        };
        let token = match (type_id, <[u8; SESSION_TOKEN_LEN]>::try_from(body)) {
            (SESSION_HELLO_TYPE, Ok(t)) => SessionToken(t),
            _ => {
                return Err(CryptoError::HelloExpected {
                    type_id,
                    body_len: body.len() as u32,
                });
            }
        };
        match awaiting {
            Awaiting::Token(expected, keys) => {
                if token != expected {
                    return Err(CryptoError::UnknownSessionToken);
                }
                self.key_with(&keys, Side::Server, datagrams);
            }
            Awaiting::Provider(hs) => {
                if hs.keys.get().is_some() {
                    // Keyed once already: never twice.
                    return Err(CryptoError::UnknownSessionToken);
                }
                let keys = hs
                    .provider
                    .keys_for(&token)
                    .ok_or(CryptoError::UnknownSessionToken)?;
                // The sealer of this session reads them from here; a
                // handshake state is never keyed twice.
                self.key_with(&keys, Side::Server, datagrams);
                if hs.keys.set(keys).is_err() {
                    self.sealed = None;
                    return Err(CryptoError::UnknownSessionToken);
                }
            }
        }
        self.awaiting = None;
        Ok(())
    }

    /// Authentication failures counted (sealed connections).
    pub fn auth_failures(&self) -> u64 {
        #[cfg(feature = "crypto")]
        return self.sealed.as_ref().map_or(0, |s| s.auth_failures);
        #[cfg(not(feature = "crypto"))]
        0
    }

    /// The next complete frame from a stream decoder, validated (and
    /// opened in place when sealed).
    pub fn next_frame<'a>(
        &mut self,
        decoder: &'a mut StreamDecoder,
    ) -> Result<Option<Frame<'a>>, TransportError> {
        #[cfg(feature = "crypto")]
        if self.awaiting.is_some() {
            if let Some(e) = self.failed {
                return Err(e.into());
            }
            let hello = match decoder.next_frame() {
                Ok(Some(frame)) => self.accept_hello(frame.type_id(), frame.body()),
                Ok(None) => return Ok(None),
                Err(e) => Err(packet_core::error::CryptoError::Frame(e)),
            };
            if let Err(e) = hello {
                self.failed = Some(e);
                return Err(e.into());
            }
        }
        #[cfg(feature = "crypto")]
        if self.sealed.is_some() || self.failed.is_some() {
            if let Some(e) = self.failed {
                return Err(e.into());
            }
            let config = *decoder.config();
            let Some(raw) = decoder.next_raw()? else {
                return Ok(None);
            };
            return match self.open_sealed(raw, &config) {
                Ok(header) => Ok(Some(frame_in(header, raw))),
                Err(e) => {
                    self.failed = Some(e);
                    Err(e.into())
                }
            };
        }
        Ok(decoder.next_frame()?)
    }

    /// Validates one datagram as exactly one frame (opening it in place
    /// when sealed) and returns its header; [`frame_in`] then borrows the
    /// frame from the datagram.
    pub fn open_datagram(
        &mut self,
        datagram: &mut [u8],
        config: &FrameConfig,
    ) -> Result<Header, TransportError> {
        #[cfg(feature = "crypto")]
        if self.awaiting.is_some() {
            // The session hello: one plaintext frame, then the keys.
            let header = *frame::decode_frame(datagram, config)
                .map_err(packet_core::error::CryptoError::Frame)?
                .header();
            let body = frame_in(header, datagram).body();
            let hello = self.accept_hello(header.type_id, body);
            // A bad hello leaves the opener awaiting a good one (a stray
            // datagram does not end the peer).
            hello?;
            return Ok(header);
        }
        #[cfg(feature = "crypto")]
        if self.sealed.is_some() {
            return Ok(self.open_sealed(datagram, config)?);
        }
        Ok(frame::decode_frame(datagram, config).map(|f| *f.header())?)
    }

    /// Replay check, then authentication and decryption in place, then
    /// the replay commit.
    #[cfg(feature = "crypto")]
    fn open_sealed(
        &mut self,
        bytes: &mut [u8],
        config: &FrameConfig,
    ) -> Result<Header, packet_core::error::CryptoError> {
        use packet_core::error::CryptoError;
        let Some(s) = self.sealed.as_mut() else {
            return Err(CryptoError::Frame(FrameError::UnexpectedEncryption {
                sealed: false,
            }));
        };
        let header = packet_core::crypto::check_sealed(bytes, config)?;
        s.replay.check(header.sequence)?;
        match s.key.open(bytes, config) {
            Ok(frame) => {
                let header = *frame.header();
                s.replay.commit(header.sequence);
                Ok(header)
            }
            Err(CryptoError::AuthenticationFailed {
                sequence, length, ..
            }) => {
                s.auth_failures += 1;
                Err(CryptoError::AuthenticationFailed {
                    sequence,
                    length,
                    failures: s.auth_failures,
                })
            }
            Err(e) => Err(e),
        }
    }
}

/// The frame whose header [`Opener::open_datagram`] returned, borrowed
/// from the same datagram bytes.
pub fn frame_in(header: Header, datagram: &[u8]) -> Frame<'_> {
    let start = frame::HEADER_LEN;
    let end = (start + header.body_len as usize).min(datagram.len());
    Frame::from_parts(header, &datagram[start.min(end)..end])
}

/// A bounded FIFO of encoded frames waiting to be written.
///
/// Frames are encoded straight into the queue's buffer (no staging copy);
/// [`WriteQueue::write_to`] hands everything queued to the socket in as few
/// `write` calls as the kernel allows. The buffer grows on demand up to the
/// limit and keeps its allocation afterwards.
#[derive(Debug, Clone)]
pub struct WriteQueue {
    buf: Vec<u8>,
    head: usize,
    limit: usize,
}

impl WriteQueue {
    /// An empty queue holding at most `limit` bytes; allocates nothing yet.
    pub fn new(limit: usize) -> Self {
        Self {
            buf: Vec::new(),
            head: 0,
            limit,
        }
    }

    /// Bytes waiting to be written.
    pub fn len(&self) -> usize {
        self.buf.len() - self.head
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The limit in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes that can still be queued.
    pub fn space(&self) -> usize {
        self.limit.saturating_sub(self.len())
    }

    /// The queued bytes, oldest first.
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.head..]
    }

    /// Marks `n` queued bytes as written.
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
        let at = self.buf.len();
        self.buf.resize(at + max_len, 0);
        match fill(&mut self.buf[at..]) {
            Ok(n) => {
                self.buf.truncate(at + n.min(max_len));
                Ok(n)
            }
            Err(e) => {
                self.buf.truncate(at);
                Err(e)
            }
        }
    }

    /// Appends raw bytes (an already encoded frame).
    pub fn push_bytes(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        self.push_with(bytes.len(), |out| {
            out.copy_from_slice(bytes);
            Ok(bytes.len())
        })
        .map(|_| ())
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
}

/// The outgoing half of a connection: frames are sealed straight into a
/// bounded [`WriteQueue`].
#[derive(Debug, Clone)]
pub struct Outbox {
    queue: WriteQueue,
    sealer: Sealer,
}

impl Outbox {
    /// A plaintext outbox for `config`.
    pub fn new(config: &TransportConfig) -> Self {
        Self::with_sealer(config, Sealer::plain(&config.frame))
    }

    /// An outbox for `security` on the `side` end. A sealed client's
    /// first frame is preceded by its session hello.
    pub fn secured(config: &TransportConfig, security: &Security, side: Side) -> Self {
        Self::with_sealer(config, Sealer::new(security, side, &config.frame))
    }

    /// An outbox using `sealer`.
    pub fn with_sealer(config: &TransportConfig, sealer: Sealer) -> Self {
        Self {
            queue: WriteQueue::new(config.queue_limit()),
            sealer,
        }
    }

    /// Queues `packet` as one frame.
    pub fn queue<P: Packet + ?Sized>(&mut self, packet: &P) -> Result<(), TransportError> {
        self.queue_with(P::ID, packet.encoded_len(), |w| packet.write_data(w))
    }

    /// Queues a frame with a raw body.
    pub fn queue_raw(&mut self, type_id: u16, body: &[u8]) -> Result<(), TransportError> {
        self.queue_with(type_id, body.len(), |w| w.put_bytes(body))
    }

    /// Queues a frame whose body (at most `max_body` bytes) `body` writes.
    pub fn queue_with(
        &mut self,
        type_id: u16,
        max_body: usize,
        body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
    ) -> Result<(), TransportError> {
        let len = self.sealer.check_len(max_body)?;
        let sealer = &mut self.sealer;
        self.queue
            .push_with(len, |out| sealer.seal_with(type_id, out, body))
            .map(|_| ())
    }

    /// Whether a frame with a body of at most `max_body` bytes needs the
    /// queue flushed first (fails when it can never fit a frame).
    pub fn needs_flush_for(&self, max_body: usize) -> Result<bool, TransportError> {
        Ok(self.sealer.check_len(max_body)? > self.queue.space())
    }

    /// Writes to `w` until the queue is empty. A `WouldBlock` before
    /// anything more could be written comes back as an `Io` error: a
    /// timeout on a blocking socket, "wait for writable" on a
    /// non-blocking one.
    pub fn flush_to<W: io::Write + ?Sized>(&mut self, w: &mut W) -> Result<(), TransportError> {
        while !self.queue.is_empty() {
            self.queue.write_to(w)?;
        }
        Ok(())
    }

    /// Hands each queued frame to `send` as one datagram, oldest first,
    /// until the queue is empty (`Ok(true)`) or `send` would block
    /// (`Ok(false)`, the rest stays queued). A datagram `send` fails for
    /// another reason is lost, as datagrams may be, and counted.
    pub fn send_datagrams(
        &mut self,
        mut send: impl FnMut(&[u8]) -> io::Result<usize>,
    ) -> DatagramFlush {
        let mut flush = DatagramFlush::default();
        loop {
            let pending = self.queue.pending();
            let Some(prefix) = pending.first_chunk::<4>() else {
                flush.empty = true;
                return flush;
            };
            // The queue holds whole frames only: the length prefix is
            // the frame's.
            let len = (u32::from_le_bytes(*prefix) as usize).clamp(4, pending.len());
            match send(&pending[..len]) {
                Ok(_) => flush.sent += 1,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return flush,
                Err(_) => flush.failed += 1,
            }
            self.queue.consume(len);
        }
    }

    /// The queue.
    pub fn queue_ref(&self) -> &WriteQueue {
        &self.queue
    }

    /// The queue, mutably (to write it out).
    pub fn queue_mut(&mut self) -> &mut WriteQueue {
        &mut self.queue
    }

    /// The sealer.
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
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

/// What [`Outbox::send_datagrams`] did.
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
#[derive(Debug, Clone)]
pub struct Inbox {
    decoder: StreamDecoder,
    opener: Opener,
    /// What one `read` lands in before it is fed to the decoder: zeroed
    /// once, reused, so a read costs a copy of the bytes that arrived
    /// rather than re-zeroing a whole read-sized region every call.
    scratch: Vec<u8>,
}

/// Most bytes one socket read takes.
const READ_CHUNK: usize = 16 * 1024;

impl Inbox {
    /// A plaintext inbox for `config`.
    pub fn new(config: &TransportConfig) -> Self {
        Self::with_opener(config, Opener::plain())
    }

    /// An inbox for `security` on the `side` end of a stream.
    ///
    /// For a server end of `Security::SealedSessions`, build the inbox and
    /// the outbox from one [`Security::for_session`] value.
    pub fn secured(config: &TransportConfig, security: &Security, side: Side) -> Self {
        Self::with_opener(config, Opener::new(security, side, false))
    }

    /// An inbox using `opener`.
    pub fn with_opener(config: &TransportConfig, opener: Opener) -> Self {
        Self {
            decoder: StreamDecoder::new(config.frame),
            opener,
            scratch: Vec::new(),
        }
    }

    /// Whether [`Inbox::next_frame`] has a frame (or an error) ready.
    pub fn has_frame(&self) -> bool {
        self.decoder.has_frame()
    }

    /// The next complete, validated frame, or `None`.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, TransportError> {
        self.opener.next_frame(&mut self.decoder)
    }

    /// Reads once from `r` into the decoder (at most what the decoder can
    /// take, so every byte read is kept); 0 at end of stream.
    pub fn read_from<R: io::Read + ?Sized>(&mut self, r: &mut R) -> io::Result<usize> {
        let want = self.decoder.capacity_left().min(READ_CHUNK);
        if self.scratch.len() < want {
            self.scratch.resize(READ_CHUNK, 0);
        }
        let n = r.read(&mut self.scratch[..want])?;
        let taken = self.decoder.feed(&self.scratch[..n]);
        debug_assert_eq!(taken, n, "read at most capacity_left");
        Ok(n)
    }

    /// The next frame of a stream that [`Inbox::fill_from`] filled:
    /// [`TransportError::Closed`] if there is none.
    pub fn take_frame(&mut self) -> Result<Frame<'_>, TransportError> {
        self.next_frame()?.ok_or(TransportError::Closed)
    }

    /// Reads from `r` until a frame (or an error) is ready, retrying
    /// `Interrupted`. End of stream gives [`Inbox::end_of_stream`]; every
    /// other I/O error, `WouldBlock` included, comes back as an `Io`
    /// error (a timeout on a blocking socket, "wait for readable" on a
    /// non-blocking one; bytes read so far stay buffered).
    pub fn fill_from<R: io::Read + ?Sized>(&mut self, r: &mut R) -> Result<(), TransportError> {
        while !self.has_frame() {
            match self.read_from(r) {
                Ok(0) => return Err(self.end_of_stream()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Appends bytes received by other means; returns how many were taken.
    pub fn feed(&mut self, bytes: &[u8]) -> usize {
        self.decoder.feed(bytes)
    }

    /// Bytes of an unfinished frame that are buffered.
    pub fn buffered(&self) -> usize {
        self.decoder.buffered()
    }

    /// At end of stream: `Closed` if between frames, else the error.
    pub fn end_of_stream(&self) -> TransportError {
        match self.decoder.finish() {
            Ok(()) => TransportError::Closed,
            Err(e) => TransportError::Frame(e),
        }
    }

    /// The decoder.
    pub fn decoder(&self) -> &StreamDecoder {
        &self.decoder
    }

    /// The opener.
    pub fn opener(&self) -> &Opener {
        &self.opener
    }
}

/// Counters of a UDP packet socket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UdpStats {
    /// Valid frames received.
    pub received: u64,
    /// Datagrams dropped because they were not exactly one valid frame
    /// (truncated, bad check, trailing bytes, ...).
    pub dropped: u64,
    /// Frames sent.
    pub sent: u64,
}

/// The sans-I/O state of a UDP packet socket (one frame per datagram):
/// a one-datagram outbox with its sealer, the opener, a receive buffer
/// and the counters. The blocking and tokio sockets wrap one of these and
/// add only the `send`/`recv` calls.
#[derive(Debug, Clone)]
pub struct DatagramChannel {
    config: TransportConfig,
    out: Outbox,
    opener: Opener,
    recv_buf: Vec<u8>,
    stats: UdpStats,
    /// A sealed client's session token: its hello is sent before every
    /// datagram until the first authenticated datagram from the server
    /// shows the server has it (a lost hello is resent).
    hello: Option<SessionToken>,
}

impl DatagramChannel {
    /// A plaintext channel for `config` (its maximum frame bounds each
    /// datagram).
    pub fn new(config: TransportConfig) -> Self {
        let max = config.frame.max_frame_len() as usize;
        Self {
            config,
            // One frame at a time: the queue holds exactly one maximum frame.
            out: Outbox::new(&config.with_write_queue_limit(max)),
            opener: Opener::plain(),
            // One byte more than the largest frame, so that an over-long
            // datagram shows up as trailing bytes instead of being cut to
            // a plausible size.
            recv_buf: std::vec![0; max + 4],
            stats: UdpStats::default(),
            hello: None,
        }
    }

    /// Switches to `security` as the `side` end: one sealed channel with
    /// one peer (windowed replay protection). A sealed client sends its
    /// session hello before its datagrams until the server answers
    /// ([`DatagramChannel::pending_hello`]).
    pub fn secure(&mut self, security: &Security, side: Side) {
        let security = security.for_session();
        let max = self.config.frame.max_frame_len() as usize;
        let one = self.config.with_write_queue_limit(max);
        let mut sealer = Sealer::new(&security, side, &self.config.frame);
        self.hello = sealer.take_hello();
        self.out = Outbox::with_sealer(&one, sealer);
        self.opener = Opener::new(&security, side, true);
    }

    /// The session hello datagram to send before the next frame (a
    /// sealed client), until the first authenticated datagram from the
    /// server arrives: UDP may lose the hello, and every sealed datagram
    /// the server gets before it is dropped. The server ignores the
    /// duplicates (`docs/wire-format.md` §7.3).
    pub fn pending_hello(&self) -> Option<[u8; SESSION_HELLO_LEN]> {
        self.hello.as_ref().map(session_hello)
    }

    /// The configuration.
    pub fn config(&self) -> &TransportConfig {
        &self.config
    }

    /// The counters.
    pub fn stats(&self) -> UdpStats {
        self.stats
    }

    /// Sets the read timeout kept in the configuration (the async socket
    /// applies it; a blocking socket sets it on the socket itself).
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.config.read_timeout = timeout;
    }

    /// Sets the write timeout kept in the configuration.
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) {
        self.config.write_timeout = timeout;
    }

    /// A receive buffer big enough for any datagram this channel accepts.
    pub fn new_recv_buf(&self) -> Vec<u8> {
        std::vec![0; self.recv_buf.len()]
    }

    /// Encodes one frame whose body `body` writes and returns the datagram
    /// to send; then report the send with [`DatagramChannel::sent`].
    pub fn encode_with(
        &mut self,
        type_id: u16,
        max_body: usize,
        body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
    ) -> Result<&[u8], TransportError> {
        self.out.queue_mut().clear();
        self.out.queue_with(type_id, max_body, body)?;
        Ok(self.out.queue_ref().pending())
    }

    /// Records the outcome of sending the datagram from
    /// [`DatagramChannel::encode_with`] (a short send is `WriteZero`).
    pub fn sent(&mut self, result: io::Result<usize>) -> Result<(), TransportError> {
        let len = self.out.len();
        self.out.queue_mut().clear();
        if result? != len {
            return Err(io::Error::from(io::ErrorKind::WriteZero).into());
        }
        self.stats.sent += 1;
        Ok(())
    }

    /// The channel's own receive buffer (receive into it, then call
    /// [`DatagramChannel::open_received`]).
    pub fn recv_buf(&mut self) -> &mut [u8] {
        &mut self.recv_buf
    }

    /// Validates (and, sealed, opens) a datagram of `len` bytes in the
    /// channel's own receive buffer; `None` (counted as dropped) when it
    /// is not exactly one valid frame.
    pub fn open_received(&mut self, len: usize) -> Option<Header> {
        let len = len.min(self.recv_buf.len());
        let hello = self.opener.awaiting_hello();
        let opened = self
            .opener
            .open_datagram(&mut self.recv_buf[..len], &self.config.frame);
        self.answered(&opened);
        Self::count(&mut self.stats, opened).filter(|_| !hello)
    }

    /// Like [`DatagramChannel::open_received`] for a datagram in another
    /// buffer.
    pub fn open(&mut self, datagram: &mut [u8]) -> Option<Header> {
        let hello = self.opener.awaiting_hello();
        let opened = self.opener.open_datagram(datagram, &self.config.frame);
        self.answered(&opened);
        Self::count(&mut self.stats, opened).filter(|_| !hello)
    }

    /// A sealed client stops resending its hello once a datagram from the
    /// server authenticates (the server has its keys, so it had the hello).
    fn answered(&mut self, opened: &Result<Header, TransportError>) {
        if opened.is_ok() {
            self.hello = None;
        }
    }

    fn count(stats: &mut UdpStats, opened: Result<Header, TransportError>) -> Option<Header> {
        match opened {
            Ok(header) => {
                stats.received += 1;
                Some(header)
            }
            Err(_) => {
                stats.dropped += 1;
                None
            }
        }
    }

    /// The frame [`DatagramChannel::open_received`] accepted, borrowed
    /// from the receive buffer.
    pub fn received(&self, header: Header) -> Frame<'_> {
        frame_in(header, &self.recv_buf)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that takes at most `chunk` bytes per call, then reports
    /// `WouldBlock` after `budget` calls, counting the calls.
    struct Trickle {
        out: Vec<u8>,
        chunk: usize,
        budget: usize,
        calls: usize,
    }

    impl io::Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.calls == self.budget {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            self.calls += 1;
            let n = buf.len().min(self.chunk);
            self.out.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn many_frames_leave_in_one_write() {
        let mut out = Outbox::new(&TransportConfig::default());
        for i in 0..100u16 {
            out.queue_raw(i, &[i as u8; 10]).unwrap();
        }
        let mut w = Trickle {
            out: Vec::new(),
            chunk: usize::MAX,
            budget: 10,
            calls: 0,
        };
        let n = out.queue_mut().write_to(&mut w).unwrap();
        assert_eq!((w.calls, n, out.is_empty()), (1, 100 * 40, true));
        // Every frame is intact and in order.
        let mut dec = StreamDecoder::new(FrameConfig::default());
        dec.feed(&w.out);
        for i in 0..100u16 {
            let f = dec.next_frame().unwrap().unwrap();
            assert_eq!(
                (f.type_id(), f.sequence(), f.body()),
                (i, u64::from(i), &[i as u8; 10][..])
            );
        }
    }

    #[test]
    fn queued_frames_leave_as_one_datagram_each() {
        let mut out = Outbox::new(&TransportConfig::default());
        for i in 0..3u16 {
            out.queue_raw(i, &[i as u8; 5]).unwrap();
        }
        let mut sent = Vec::new();
        // The second send would block: the rest stays queued.
        let mut calls = 0;
        let flush = out.send_datagrams(|d| {
            calls += 1;
            if calls == 2 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            sent.push(d.to_vec());
            Ok(d.len())
        });
        assert_eq!((flush.sent, flush.failed, flush.empty), (1, 0, false));
        // A refused datagram is lost and counted; the next still goes.
        let mut calls = 0;
        let flush = out.send_datagrams(|d| {
            calls += 1;
            if calls == 1 {
                return Err(io::ErrorKind::ConnectionRefused.into());
            }
            sent.push(d.to_vec());
            Ok(d.len())
        });
        assert_eq!((flush.sent, flush.failed, flush.empty), (1, 1, true));
        let types: Vec<u16> = sent
            .iter()
            .map(|d| {
                frame::decode_frame(d, &FrameConfig::default())
                    .unwrap()
                    .type_id()
            })
            .collect();
        assert_eq!(types, [0, 2]);
    }

    #[test]
    fn full_queue_pushes_back_and_partial_writes_resume() {
        let config = TransportConfig::default()
            .with_frame(FrameConfig::default().with_max_frame_len(64))
            .with_write_queue_limit(100);
        let mut out = Outbox::new(&config);
        assert_eq!(out.queue_ref().limit(), 100);
        out.queue_raw(1, &[1; 36]).unwrap(); // 64 bytes
        let full = out.queue_raw(2, &[2; 36]).unwrap_err();
        assert!(matches!(
            full,
            TransportError::QueueFull {
                queued: 64,
                needed: 64,
                limit: 100
            }
        ));
        assert_eq!(out.len(), 64, "a refused frame leaves nothing behind");
        assert!(matches!(
            out.queue_raw(3, &[0; 37]),
            Err(TransportError::Encode(EncodeError::FrameTooLarge {
                len: 68,
                max: 64
            }))
        ));
        // The socket takes 10 bytes a call, then would block.
        let mut w = Trickle {
            out: Vec::new(),
            chunk: 10,
            budget: 3,
            calls: 0,
        };
        assert_eq!(out.queue_mut().write_to(&mut w).unwrap(), 30);
        assert_eq!(out.len(), 34);
        out.queue_raw(4, b"x").unwrap(); // room again: 34 + 32 <= 100
        w.budget = usize::MAX;
        out.queue_mut().write_to(&mut w).unwrap();
        assert!(out.is_empty());
        let mut dec = StreamDecoder::new(config.frame);
        let taken = dec.feed(&w.out); // at most one maximum frame
        assert_eq!(dec.next_frame().unwrap().unwrap().type_id(), 1);
        dec.feed(&w.out[taken..]);
        assert_eq!(dec.next_frame().unwrap().unwrap().body(), b"x");
        assert!(dec.next_frame().unwrap().is_none());
    }
}
