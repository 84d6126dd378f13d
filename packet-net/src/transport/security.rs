//! Security as types: who seals what, and the one place frames are made
//! and checked.
//!
//! Sealed connections follow the login-server model (`docs/wire-format.md`
//! §7.3): a login server hands each client a [`SessionToken`] with fresh
//! `ChannelKeys` for that one session, and gives the game server a key
//! provider that looks the keys up by token. The client's first frame is
//! the plaintext session hello (type [`SESSION_HELLO_TYPE`], body = the
//! token); the server takes the keys for that token and only then seals
//! or opens anything.
//!
//! The hello also carries the protocol fingerprint (§11.5) when the
//! `TransportConfig` has one: a [`Hello`] is the token (16 zero bytes
//! for a plaintext session) and the fingerprint; an accepting end that
//! requires one compares it before the provider sees the token and owes
//! the client one [`refusal`] on a mismatch (`ProtocolMismatch` on both
//! ends); a connecting end takes a refusal as the reason its session
//! ends, until the server's first accepted frame. The provider may also
//! say whom the session belongs to ([`ServerSecurity::with_identity`]).
//!
//! - [`ClientSecurity`] (feature `crypto`): a client's token and keys. Not
//!   `Clone`, consumed by the one connection it seals, so one set of keys
//!   can never serve two sessions (each numbers its frames from 0: two
//!   sessions under one key would reuse nonces).
//! - [`ServerSecurity`] (feature `crypto`): the key provider of an
//!   accepting end (listener, server, server-side codec). Every accepted
//!   connection gets its own handshake state.
//! - The [`Security`] trait, implemented by both, is what the one
//!   `sealed(..)` method of each stream, listener, socket, server
//!   configuration and codec takes; each accepts only the side that makes
//!   sense there, so a client's keys on a listener (or a provider on a
//!   connecting stream) does not compile.
//!
//! Misuse does not compile: a provider on a connecting stream, a client's
//! keys on a server, or a second copy of a client's keys.
//!
//! ```compile_fail
//! # use packet_net::transport::{ServerSecurity, blocking::TcpPacketStream};
//! let provider = ServerSecurity::new(|_| None);
//! let s = TcpPacketStream::connect("127.0.0.1:1")?.sealed(provider); // a server's side
//! # Ok::<(), packet_net::transport::TransportError>(())
//! ```
//!
//! ```compile_fail
//! # use packet_net::transport::{ClientSecurity, SessionToken};
//! # use packet_core::crypto::{ChannelKeys, SecretKey};
//! let client = ClientSecurity::new(SessionToken([1; 16]), ChannelKeys::shared(SecretKey::from_bytes([2; 32])));
//! let config = packet_net::server::ServerConfig::default().sealed(client); // a client's side
//! ```
//!
//! ```compile_fail
//! # use packet_net::transport::{ClientSecurity, SessionToken};
//! # use packet_core::crypto::{ChannelKeys, SecretKey};
//! let client = ClientSecurity::new(SessionToken([1; 16]), ChannelKeys::shared(SecretKey::from_bytes([2; 32])));
//! let again = client.clone(); // one session's keys, twice: nonce reuse
//! ```
//!
//! ```
//! # #[cfg(feature = "crypto")] {
//! # use packet_net::transport::{ClientSecurity, ServerSecurity, SessionToken};
//! # use packet_core::crypto::{ChannelKeys, SecretKey};
//! let client = ClientSecurity::new(SessionToken([1; 16]), ChannelKeys::shared(SecretKey::from_bytes([2; 32])));
//! let config = packet_net::server::ServerConfig::default().sealed(ServerSecurity::new(|_| None));
//! # drop(client);
//! # }
//! ```
//!
//! Crate-private: [`Sealer`] and [`Opener`], a connection's send and
//! receive sides. Sealed, they own the two halves of one
//! [`SealedChannel`](packet_core::crypto::SealedChannel) (packet-core's
//! one implementation of sealing, sequence numbering and replay checks);
//! neither is `Clone`.

use packet_core::error::{EncodeError, FrameError};
use packet_core::frame::{self, Frame, FrameConfig, Header};
use packet_core::layout::{ProtocolMismatch, check_fingerprint};
use packet_core::{StreamDecoder, Writer};

use super::TransportError;

/// The reserved packet type id of the session hello and of the refusal
/// (`docs/wire-format.md` §7.3, §11.5): application packets must not use
/// it.
pub const SESSION_HELLO_TYPE: u16 = 0xFFFF;

/// Bytes of a session token.
pub const SESSION_TOKEN_LEN: usize = 16;

/// Length of the version-1 session hello (a plaintext frame whose body is
/// the 16-byte token, no fingerprint: 44 bytes).
pub const SESSION_HELLO_LEN: usize = frame::frame_len_for(SESSION_TOKEN_LEN);

/// Length of the session hello with a protocol fingerprint (body = token
/// then the u64 fingerprint: 52 bytes).
pub const FINGERPRINT_HELLO_LEN: usize = frame::frame_len_for(SESSION_TOKEN_LEN + 8);

/// Length of the refusal a server sends a client of another protocol
/// (body = the server's u64 fingerprint: 36 bytes, smaller than any hello,
/// so a refusal never amplifies).
pub const REFUSAL_LEN: usize = frame::frame_len_for(8);

/// An opaque 16-byte value a login server hands a client together with
/// that session's keys; the client sends it in its hello so the server can
/// look the keys up. Not a secret by itself (it travels in the clear), but
/// it must be unpredictable and used once: make it with
/// [`SessionToken::random`] (feature `crypto`), and the keys with
/// [`random_keys`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionToken(pub [u8; SESSION_TOKEN_LEN]);

/// The version-1 session hello frame carrying `token` (plaintext, type
/// [`SESSION_HELLO_TYPE`], sequence 0, no fingerprint).
pub fn session_hello(token: &SessionToken) -> [u8; SESSION_HELLO_LEN] {
    control_frame(&token.0)
}

/// A plaintext frame of type [`SESSION_HELLO_TYPE`] and sequence 0 (a
/// hello or a refusal) whose `N` bytes hold exactly `body`.
fn control_frame<const N: usize>(body: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    let n = frame::encode_raw(SESSION_HELLO_TYPE, 0, body, &mut out);
    debug_assert_eq!(n, Ok(N));
    out
}

/// The session hello with a protocol fingerprint (wire format §11.5):
/// `token` then `fingerprint` (u64 LE). A plaintext client sends it with
/// 16 zero bytes as the token ([`SessionToken::PLAINTEXT`]).
pub fn fingerprint_hello(token: &SessionToken, fingerprint: u64) -> [u8; FINGERPRINT_HELLO_LEN] {
    let mut body = [0; SESSION_TOKEN_LEN + 8];
    body[..SESSION_TOKEN_LEN].copy_from_slice(&token.0);
    body[SESSION_TOKEN_LEN..].copy_from_slice(&fingerprint.to_le_bytes());
    control_frame(&body)
}

/// The refusal frame a server sends a client whose fingerprint differs
/// (wire format §11.5): plaintext, type [`SESSION_HELLO_TYPE`], sequence
/// 0, body = the server's fingerprint (u64 LE).
pub fn refusal(server_fingerprint: u64) -> [u8; REFUSAL_LEN] {
    control_frame(&server_fingerprint.to_le_bytes())
}

/// Bytes of a close notice's body (wire format §12): reason, detail.
pub const CLOSE_NOTICE_BODY_LEN: usize = 4;

/// Length of a plain close notice (32 bytes: smaller than any hello, so
/// answering a forged address never amplifies).
pub const CLOSE_NOTICE_LEN: usize = frame::frame_len_for(CLOSE_NOTICE_BODY_LEN);

/// Why a server ended a session, as its close notice says
/// (`docs/wire-format.md` §12). A client reads every code: one this
/// version does not know is [`CloseReason::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// 1: the server had no room for another session (none was opened).
    ServerFull,
    /// 2: the server is shutting down.
    ShuttingDown,
    /// 3: the client sent nothing (or left a frame unfinished) for longer
    /// than the server's timeout.
    IdleTimeout,
    /// 4: the client sent something the server does not take: a frame
    /// that failed validation or authentication, a bad session hello, a
    /// body that did not decode, a packet type the server has no handler
    /// for (under the policy that ends the session), or a packet the
    /// application's handler rejected.
    ProtocolError,
    /// 5: the server failed while handling the session (a handler
    /// panicked).
    ServerError,
    /// 6: the application closed the session (a kick), with its own code
    /// in [`CloseNotice::detail`].
    Application,
    /// A code this version does not know.
    Other(u16),
}

impl CloseReason {
    /// The reason's wire code.
    pub const fn code(self) -> u16 {
        match self {
            CloseReason::ServerFull => 1,
            CloseReason::ShuttingDown => 2,
            CloseReason::IdleTimeout => 3,
            CloseReason::ProtocolError => 4,
            CloseReason::ServerError => 5,
            CloseReason::Application => 6,
            CloseReason::Other(code) => code,
        }
    }

    /// The reason of wire code `code` (an unknown one is
    /// [`CloseReason::Other`]).
    pub const fn from_code(code: u16) -> Self {
        match code {
            1 => CloseReason::ServerFull,
            2 => CloseReason::ShuttingDown,
            3 => CloseReason::IdleTimeout,
            4 => CloseReason::ProtocolError,
            5 => CloseReason::ServerError,
            6 => CloseReason::Application,
            other => CloseReason::Other(other),
        }
    }
}

impl core::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CloseReason::ServerFull => f.write_str("server full"),
            CloseReason::ShuttingDown => f.write_str("server shutting down"),
            CloseReason::IdleTimeout => f.write_str("idle timeout"),
            CloseReason::ProtocolError => f.write_str("protocol error"),
            CloseReason::ServerError => f.write_str("server error"),
            CloseReason::Application => f.write_str("closed by the application"),
            CloseReason::Other(code) => write!(f, "other({code})"),
        }
    }
}

/// A server's close notice (`docs/wire-format.md` §12): why it ended the
/// session. Displayed as `the server closed the session: <reason>`, e.g.
/// `the server closed the session: closed by the application (code 7)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CloseNotice {
    /// Why.
    pub reason: CloseReason,
    /// The application's code for [`CloseReason::Application`]; 0 for
    /// every other reason.
    pub detail: u16,
}

impl CloseNotice {
    /// A notice for `reason` (detail 0).
    pub const fn new(reason: CloseReason) -> Self {
        Self { reason, detail: 0 }
    }

    /// A notice that the application closed the session with `code`.
    pub const fn application(code: u16) -> Self {
        Self {
            reason: CloseReason::Application,
            detail: code,
        }
    }

    /// The 4-byte body: reason then detail, u16 LE each.
    pub fn body(&self) -> [u8; CLOSE_NOTICE_BODY_LEN] {
        let [r0, r1] = self.reason.code().to_le_bytes();
        let [d0, d1] = self.detail.to_le_bytes();
        [r0, r1, d0, d1]
    }

    /// Reads a notice from a (validated or opened) frame's type id and
    /// body: type [`SESSION_HELLO_TYPE`] and a 4-byte body.
    pub fn parse(type_id: u16, body: &[u8]) -> Option<CloseNotice> {
        if type_id != SESSION_HELLO_TYPE {
            return None;
        }
        let [r0, r1, d0, d1] = *<&[u8; CLOSE_NOTICE_BODY_LEN]>::try_from(body).ok()?;
        Some(CloseNotice {
            reason: CloseReason::from_code(u16::from_le_bytes([r0, r1])),
            detail: u16::from_le_bytes([d0, d1]),
        })
    }
}

impl core::fmt::Display for CloseNotice {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "the server closed the session: {}", self.reason)?;
        if self.reason == CloseReason::Application {
            write!(f, " (code {})", self.detail)?;
        }
        Ok(())
    }
}

/// The plain close notice frame (wire format §12): type
/// [`SESSION_HELLO_TYPE`], sequence 0, body = reason and detail. A sealed
/// session past its hello sends it sealed instead, through its own send
/// side.
pub fn close_notice(notice: CloseNotice) -> [u8; CLOSE_NOTICE_LEN] {
    control_frame(&notice.body())
}

/// The body of a plain control frame (type [`SESSION_HELLO_TYPE`]) of
/// `len` bytes, a refusal's or a close notice's, if `bytes` is exactly
/// one.
fn control_body(bytes: &[u8], len: usize) -> Option<&[u8]> {
    if bytes.len() != len {
        return None;
    }
    let f = Frame::parse(bytes).ok()?;
    if f.header().is_sealed() || f.type_id() != SESSION_HELLO_TYPE {
        return None;
    }
    Some(f.body())
}

impl SessionToken {
    /// The token of a plaintext session's hello: 16 zero bytes.
    pub const PLAINTEXT: SessionToken = SessionToken([0; SESSION_TOKEN_LEN]);

    /// A fresh token of 16 random bytes from the operating system's
    /// generator (`getrandom`): what a login server hands out with each
    /// session's [`random_keys`]. Fails only if the OS has no randomness
    /// to give (its error as an `io::Error`).
    ///
    /// ```
    /// use packet_net::transport::{SessionToken, random_keys};
    ///
    /// let (token, keys) = (SessionToken::random()?, random_keys()?);
    /// assert_ne!(token, SessionToken::random()?);
    /// # drop(keys);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(feature = "crypto")]
    pub fn random() -> std::io::Result<SessionToken> {
        let mut token = [0; SESSION_TOKEN_LEN];
        getrandom::fill(&mut token)?;
        Ok(SessionToken(token))
    }
}

/// Fresh keys for one sealed session: a random 32-byte key per direction
/// from the operating system's generator (`getrandom`). A login server
/// draws them with a [`SessionToken::random`], gives both to the client
/// (over TLS; the client wraps them in a [`ClientSecurity`]) and keeps the
/// keys by token for the game server's [`ServerSecurity`], which hands
/// each out once. Fails only if the OS has no randomness to give.
///
/// Without this helper, `ChannelKeys::new(SecretKey::from_bytes(..),
/// SecretKey::from_bytes(..))` takes key bytes from any CSPRNG.
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::{Arc, Mutex};
/// use packet_net::crypto::ChannelKeys;
/// use packet_net::server::ServerConfig;
/// use packet_net::transport::{ClientSecurity, ServerSecurity, SessionToken, random_keys};
///
/// // The login server: token -> keys, each taken once by the game server.
/// let issued: Arc<Mutex<HashMap<SessionToken, ChannelKeys>>> = Arc::default();
/// let (token, keys) = (SessionToken::random()?, random_keys()?);
/// issued.lock().unwrap().insert(token, keys.clone());
///
/// let login = issued.clone();
/// let config = ServerConfig::default()
///     .sealed(ServerSecurity::new(move |token| login.lock().unwrap().remove(token)));
/// let client = ClientSecurity::new(token, keys); // handed to the client
/// # drop((config, client));
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(feature = "crypto")]
pub fn random_keys() -> std::io::Result<packet_core::crypto::ChannelKeys> {
    use packet_core::crypto::{ChannelKeys, KEY_LEN, SecretKey};
    use zeroize::Zeroize;
    let mut bytes = [[0; KEY_LEN]; 2];
    let filled = getrandom::fill(bytes.as_flattened_mut());
    let [a, b] = bytes.map(SecretKey::from_bytes);
    bytes.zeroize();
    filled
        .map(|()| ChannelKeys::new(a, b))
        .map_err(std::io::Error::from)
}

/// A session hello as a client sends it: its token (16 zero bytes for a
/// plaintext session) and, from a client configured with one, its
/// protocol fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hello {
    /// The session token.
    pub token: SessionToken,
    /// The client's protocol fingerprint (`None`: the version-1 hello).
    pub fingerprint: Option<u64>,
}

/// A hello's bytes (44 or 52): derefs to the frame.
#[derive(Debug, Clone, Copy)]
pub struct HelloBytes {
    buf: [u8; FINGERPRINT_HELLO_LEN],
    len: usize,
}

impl core::ops::Deref for HelloBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Hello {
    /// The frame.
    pub fn bytes(&self) -> HelloBytes {
        let mut buf = [0; FINGERPRINT_HELLO_LEN];
        match self.fingerprint {
            Some(fp) => buf = fingerprint_hello(&self.token, fp),
            None => buf[..SESSION_HELLO_LEN].copy_from_slice(&session_hello(&self.token)),
        }
        let len = self.frame_len();
        HelloBytes { buf, len }
    }

    /// Its frame length (44 or 52 bytes).
    pub fn frame_len(&self) -> usize {
        frame::frame_len_for(SESSION_TOKEN_LEN + 8 * self.fingerprint.is_some() as usize)
    }

    /// Whether this is a plaintext session's hello: the zero token, and a
    /// fingerprint (a plaintext session has no version-1 hello).
    pub fn is_plaintext(&self) -> bool {
        self.token == SessionToken::PLAINTEXT && self.fingerprint.is_some()
    }

    /// Reads a hello from a validated plaintext frame's type id and body:
    /// a 16-byte body is the version-1 hello, a 24-byte one the hello with
    /// a fingerprint; anything else is not a hello.
    pub fn parse(type_id: u16, body: &[u8]) -> Option<Hello> {
        if type_id != SESSION_HELLO_TYPE {
            return None;
        }
        let (token, rest) = body.split_first_chunk::<SESSION_TOKEN_LEN>()?;
        let fingerprint = match rest.len() {
            0 => None,
            8 => Some(u64::from_le_bytes(rest.try_into().ok()?)),
            _ => return None,
        };
        Some(Hello {
            token: SessionToken(*token),
            fingerprint,
        })
    }
}

/// A client's side of one sealed session: the token and the keys the
/// login server handed out for it. Consumed by the connection it seals.
#[cfg(feature = "crypto")]
pub struct ClientSecurity {
    token: SessionToken,
    keys: packet_core::crypto::ChannelKeys,
}

#[cfg(feature = "crypto")]
impl ClientSecurity {
    /// The session `token` and its `keys`, as handed out by the login
    /// server.
    pub fn new(token: SessionToken, keys: packet_core::crypto::ChannelKeys) -> Self {
        Self { token, keys }
    }

    /// The session token.
    pub fn token(&self) -> SessionToken {
        self.token
    }
}

#[cfg(feature = "crypto")]
impl core::fmt::Debug for ClientSecurity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientSecurity")
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

/// What a key provider hands over for a token: the session's keys and
/// whom the session belongs to, if the provider says.
#[cfg(feature = "crypto")]
type Grant = (packet_core::crypto::ChannelKeys, Option<u64>);

/// The function behind a [`ServerSecurity`].
#[cfg(feature = "crypto")]
type KeyFn = dyn Fn(&SessionToken) -> Option<Grant> + Send + Sync;

/// An accepting end's security: where each session's keys come from, a
/// function from the session's [`SessionToken`] to its `ChannelKeys`
/// (`None` for an unknown token) and, with
/// [`ServerSecurity::with_identity`], whom the session belongs to.
///
/// **Contract:** hand out each `ChannelKeys` for one session only (e.g.
/// remove the token from the login server's table when it is looked up).
/// That keeps every nonce unique under its key and stops a recorded
/// session being replayed into a new one.
///
/// A provider that panics is caught where the server asks it: the token
/// counts as unknown (the hello is refused like any unknown token,
/// counted in `StatsSnapshot::bad_frames`) and the server goes on.
#[cfg(feature = "crypto")]
#[derive(Clone)]
pub struct ServerSecurity(std::sync::Arc<KeyFn>);

#[cfg(feature = "crypto")]
impl ServerSecurity {
    /// Keys from `provider`.
    pub fn new(
        provider: impl Fn(&SessionToken) -> Option<packet_core::crypto::ChannelKeys>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        Self(std::sync::Arc::new(move |t| provider(t).map(|k| (k, None))))
    }

    /// Keys and an identity from `provider`: for a known token it returns
    /// the session's keys and whom the session belongs to (a player or
    /// account id, as the login server recorded it). A session server
    /// sets that as the session's identity when it accepts the hello,
    /// before the connect hook runs: handlers read it from
    /// `Context::identity` and the game finds the player's TCP and UDP
    /// sessions with `Sessions::sessions_of`, with no login packet of its
    /// own and no player field in each packet to trust.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use std::sync::Mutex;
    /// use packet_net::crypto::{ChannelKeys, SecretKey};
    /// use packet_net::transport::{ServerSecurity, SessionToken};
    ///
    /// // Filled by the login server: token -> (keys, player id).
    /// let issued: Mutex<HashMap<SessionToken, (ChannelKeys, u64)>> = Mutex::default();
    /// let security = ServerSecurity::with_identity(move |token| {
    ///     issued.lock().unwrap().remove(token) // one session per token
    /// });
    /// # let _ = security;
    /// ```
    pub fn with_identity(
        provider: impl Fn(&SessionToken) -> Option<(packet_core::crypto::ChannelKeys, u64)>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        Self(std::sync::Arc::new(move |t| {
            provider(t).map(|(k, id)| (k, Some(id)))
        }))
    }
}

#[cfg(feature = "crypto")]
impl core::fmt::Debug for ServerSecurity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ServerSecurity(..)")
    }
}

mod private {
    pub trait Sealed {}
}

/// What `sealed(..)` takes: [`ClientSecurity`] or [`ServerSecurity`]
/// (implemented by those two only).
pub trait Security: private::Sealed {
    /// The send and receive sides of one connection, carrying (a client:
    /// in its hello, and recognising a refusal) or requiring (a server
    /// end) the protocol `fingerprint` when set.
    #[doc(hidden)]
    fn halves(self, frame: FrameConfig, fingerprint: Option<u64>, datagrams: bool) -> Halves;
}

/// One connection's send and receive sides, and a client's hello.
#[doc(hidden)]
#[derive(Debug)]
pub struct Halves {
    pub(crate) sealer: Sealer,
    pub(crate) opener: Opener,
    pub(crate) hello: Option<Hello>,
}

impl Halves {
    /// Sends through `sealer` and receives as `open` says, as a
    /// connecting end (`client`, sending `hello` first; a refusal of the
    /// fingerprint it carries is recognised) or an accepting one.
    fn new(sealer: Sealer, open: Open, client: bool, hello: Option<Hello>) -> Self {
        let opener = Opener {
            open,
            client_fingerprint: hello.and_then(|h| h.fingerprint),
            refusal: None,
            client,
            notices: client,
            heard: false,
        };
        Self {
            sealer,
            opener,
            hello,
        }
    }
}

/// The two sides of a sealed channel under `keys`, for `role`: the send
/// side as a [`Sealer`] of frames no longer than `frame` allows.
#[cfg(feature = "crypto")]
fn sealed_sides(
    role: packet_core::crypto::Role,
    keys: &packet_core::crypto::ChannelKeys,
    frame: FrameConfig,
    datagrams: bool,
) -> (Sealer, packet_core::crypto::ChannelOpener) {
    use packet_core::crypto::{ChannelConfig, SealedChannel};
    let config = match datagrams {
        true => ChannelConfig::datagram(),
        false => ChannelConfig::stream(),
    };
    let (s, o) = SealedChannel::new(role, keys, config.with_frame_config(frame)).split();
    (Sealer::new(Seal::Sealed(s), &frame), o)
}

#[cfg(feature = "crypto")]
impl private::Sealed for ClientSecurity {}
#[cfg(feature = "crypto")]
impl Security for ClientSecurity {
    fn halves(self, frame: FrameConfig, fingerprint: Option<u64>, datagrams: bool) -> Halves {
        let role = packet_core::crypto::Role::Client;
        let (sealer, o) = sealed_sides(role, &self.keys, frame, datagrams);
        let hello = Hello {
            token: self.token,
            fingerprint,
        };
        Halves::new(sealer, Open::Sealed(o), true, Some(hello))
    }
}

#[cfg(feature = "crypto")]
impl private::Sealed for ServerSecurity {}
#[cfg(feature = "crypto")]
impl Security for ServerSecurity {
    fn halves(self, frame: FrameConfig, fingerprint: Option<u64>, datagrams: bool) -> Halves {
        let awaiting = Open::Awaiting {
            provider: self,
            frame,
            datagrams,
            fingerprint,
        };
        Halves::new(Sealer::new(Seal::Pending, &frame), awaiting, false, None)
    }
}

#[cfg(feature = "crypto")]
impl private::Sealed for &ServerSecurity {}
#[cfg(feature = "crypto")]
impl Security for &ServerSecurity {
    fn halves(self, frame: FrameConfig, fingerprint: Option<u64>, datagrams: bool) -> Halves {
        self.clone().halves(frame, fingerprint, datagrams)
    }
}

/// Plaintext halves with no hello either way, neither end of a session
/// (a codec, tests): every valid frame is handed out, but a close notice
/// (wire format §12), which ends the stream.
pub(crate) fn plain(frame: &FrameConfig) -> Halves {
    let mut halves = Halves::new(Sealer::plain(frame), Open::Plain, false, None);
    // Type 0xFFFF is reserved: its close notice is never an application
    // frame, whichever end this is (wire format §12).
    halves.opener.notices = true;
    halves
}

/// A plaintext connecting end's halves: with a `fingerprint`, its first
/// frame is preceded by the plaintext hello carrying it (wire format
/// §11.5) and a refusal from the server is recognised.
pub(crate) fn plain_client(frame: &FrameConfig, fingerprint: Option<u64>) -> Halves {
    let hello = fingerprint.map(|fp| Hello {
        token: SessionToken::PLAINTEXT,
        fingerprint: Some(fp),
    });
    Halves::new(Sealer::plain(frame), Open::Plain, true, hello)
}

/// A plaintext accepting end's halves: with a `fingerprint`, the first
/// frame must be the plaintext hello carrying the same one; without, a
/// plaintext hello as the first frame is taken and not checked (so a
/// client that sends one works with a server that has none).
pub(crate) fn plain_server(frame: &FrameConfig, fingerprint: Option<u64>) -> Halves {
    let open = Open::PlainServer { fingerprint };
    Halves::new(Sealer::plain(frame), open, false, None)
}

#[derive(Debug)]
enum Seal {
    Plain {
        next_sequence: u64,
    },
    /// A server end awaiting the peer's hello: nothing is sealed before.
    #[cfg(feature = "crypto")]
    Pending,
    #[cfg(feature = "crypto")]
    Sealed(packet_core::crypto::ChannelSealer),
}

/// The send side of one connection: numbers frames and, sealed, seals
/// them (the one owner of the send sequence; not `Clone`).
#[derive(Debug)]
pub struct Sealer {
    seal: Seal,
    max_frame_len: usize,
}

impl Sealer {
    /// Frames no longer than `config` allows, sent as `seal` says.
    fn new(seal: Seal, config: &FrameConfig) -> Self {
        let max_frame_len = config.max_frame_len() as usize;
        Self {
            seal,
            max_frame_len,
        }
    }

    /// Plaintext frames no longer than `config` allows, numbered from 0.
    pub(crate) fn plain(config: &FrameConfig) -> Self {
        Self::new(Seal::Plain { next_sequence: 0 }, config)
    }

    /// The same, sending datagrams: no frame longer than one datagram
    /// carries ([`frame::MAX_DATAGRAM_FRAME_LEN`], wire format §2.6: a
    /// datagram sender must not send a longer frame), whatever the
    /// configured maximum, which still bounds what is received. A longer
    /// frame is refused when it is encoded ([`EncodeError::FrameTooLarge`],
    /// a `too_big` broadcast), not by the socket with an OS error or,
    /// worse, by a silent drop after it was counted as sent.
    pub(crate) fn for_datagrams(mut self) -> Self {
        self.max_frame_len = self.max_frame_len.min(frame::MAX_DATAGRAM_FRAME_LEN);
        self
    }

    /// Whether it has the session's keys (sealed, past the hello).
    pub(crate) fn is_keyed(&self) -> bool {
        #[cfg(feature = "crypto")]
        if matches!(self.seal, Seal::Sealed(_)) {
            return true;
        }
        false
    }

    /// Whether frames are (or, awaiting keys, will be) sealed.
    #[inline]
    pub(crate) fn is_sealed(&self) -> bool {
        !matches!(self.seal, Seal::Plain { .. })
    }

    /// Checks that a body of `body_len` bytes fits the maximum frame and
    /// returns the frame length it needs at most.
    #[inline]
    pub fn check_len(&self, body_len: usize) -> Result<usize, EncodeError> {
        let len = match self.seal {
            Seal::Plain { .. } => frame::frame_len_for(body_len),
            #[cfg(feature = "crypto")]
            _ => packet_core::crypto::sealed_frame_len_for(body_len),
        };
        if len > self.max_frame_len {
            return Err(EncodeError::FrameTooLarge {
                len,
                max: self.max_frame_len,
            });
        }
        Ok(len)
    }

    /// Writes one frame of type `type_id` whose body `body` writes at the
    /// start of `out`; returns its length. The sequence is used up only on
    /// success.
    pub fn seal_with(
        &mut self,
        type_id: u16,
        out: &mut [u8],
        body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
    ) -> Result<usize, TransportError> {
        match &mut self.seal {
            Seal::Plain { next_sequence } => {
                let n = frame::encode_with(type_id, *next_sequence, out, body)?;
                *next_sequence = next_sequence.wrapping_add(1);
                Ok(n)
            }
            #[cfg(feature = "crypto")]
            Seal::Pending => Err(packet_core::CryptoError::KeysPending.into()),
            #[cfg(feature = "crypto")]
            Seal::Sealed(s) => Ok(s.seal_with(type_id, out, body)?),
        }
    }

    /// [`Sealer::seal_with`] behind the session `hello` still to send (a
    /// client's first frame), which is then sent: written at the start of
    /// `out` (room for both, see [`Hello::frame_len`]). Returns the bytes
    /// written; on an error the hello stays to send.
    #[inline]
    pub(crate) fn seal_after(
        &mut self,
        hello: &mut Option<Hello>,
        type_id: u16,
        out: &mut [u8],
        body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
    ) -> Result<usize, TransportError> {
        // Every frame but a client's first: the frame alone.
        let Some(h) = hello else {
            return self.seal_with(type_id, out, body);
        };
        let at = h.frame_len();
        out[..at].copy_from_slice(&h.bytes());
        let n = self.seal_with(type_id, &mut out[at..], body)?;
        *hello = None;
        Ok(at + n)
    }
}

#[derive(Debug)]
enum Open {
    Plain,
    /// A plaintext accepting end before the first frame: with a
    /// fingerprint, that frame must be the plaintext hello carrying it;
    /// without, a plaintext hello is taken unchecked.
    PlainServer {
        fingerprint: Option<u64>,
    },
    /// A sealed accepting end before the peer's hello.
    #[cfg(feature = "crypto")]
    Awaiting {
        provider: ServerSecurity,
        frame: FrameConfig,
        datagrams: bool,
        /// Required in the hello when set.
        fingerprint: Option<u64>,
    },
    #[cfg(feature = "crypto")]
    Sealed(packet_core::crypto::ChannelOpener),
    /// A stream that failed: it stays failed.
    Failed(Stop),
}

/// Why a receive side stopped (kept, so a failed stream keeps failing).
#[derive(Debug, Clone, Copy)]
enum Stop {
    /// A frame failed validation.
    Frame(FrameError),
    #[cfg(feature = "crypto")]
    Crypto(packet_core::CryptoError),
    /// The hello carried another fingerprint (a server end), or the
    /// server refused ours (a client end).
    Mismatch(ProtocolMismatch),
    /// The first frame was not the hello this end requires.
    NoHello { type_id: u16, body_len: u32 },
    /// A client end got a refusal-shaped frame outside the refusal's
    /// window (wire format §11.5): an invalid frame.
    StrayRefusal { server: u64 },
    /// A client end got a close notice it believes (wire format §12).
    Notice(CloseNotice),
}

impl From<Stop> for TransportError {
    fn from(s: Stop) -> Self {
        match s {
            Stop::Frame(e) => e.into(),
            #[cfg(feature = "crypto")]
            Stop::Crypto(e) => e.into(),
            Stop::Mismatch(m) => m.into(),
            Stop::NoHello { type_id, body_len } => {
                TransportError::HelloExpected { type_id, body_len }
            }
            Stop::StrayRefusal { server } => TransportError::StrayRefusal { server },
            Stop::Notice(n) => TransportError::ClosedByServer(n),
        }
    }
}

/// The receive side of one connection: validates plaintext frames, or
/// sealed, checks replay, authenticates and decrypts them in place; a
/// server end first takes the session hello (not `Clone`).
#[derive(Debug)]
pub struct Opener {
    open: Open,
    /// A client end that sent this fingerprint in its hello and has not
    /// yet had a frame from the server: a refusal is recognised.
    client_fingerprint: Option<u64>,
    /// A server end that refused a hello: the refusal to send (once).
    refusal: Option<u64>,
    /// A connecting end: a refusal-shaped frame outside the refusal's
    /// window is invalid, never a frame for the application (§11.5).
    client: bool,
    /// Close notices from the peer are recognised (wire format §12): a
    /// connecting end, and an end that is neither (a plain codec).
    notices: bool,
    /// A connecting end that has accepted a frame from the server (sealed:
    /// one that authenticated): a plain close notice is no longer
    /// believed on a sealed session (§12).
    heard: bool,
}

/// A session hello a server end accepted.
#[derive(Debug)]
pub struct Handshake {
    /// Sealed: the send side keyed for this session (install it in the
    /// connection's outbox).
    pub sealer: Option<Sealer>,
    /// The hello, as received.
    pub hello: Hello,
    /// Whom the session belongs to, as the key provider said
    /// ([`ServerSecurity::with_identity`]).
    pub identity: Option<u64>,
}

/// What a receive side accepted: a frame `F` for the application, or a
/// server end's session hello.
#[derive(Debug)]
pub enum Accepted<F> {
    /// A frame for the application.
    Frame(F),
    /// A server end's session hello was accepted.
    Keyed(Handshake),
}

/// What the receive side of a stream yields: the frame is borrowed from
/// its decoder.
pub type Incoming<'a> = Accepted<Frame<'a>>;

/// What [`Opener::open_datagram`] accepted: [`frame_in`] borrows the
/// frame from the datagram.
pub type Opened = Accepted<Header>;

impl Opener {
    /// Whether this (a server end) still awaits the session hello it
    /// requires (sealed, or plaintext with a fingerprint).
    #[inline]
    pub fn awaiting_hello(&self) -> bool {
        match &self.open {
            Open::PlainServer { fingerprint } => fingerprint.is_some(),
            #[cfg(feature = "crypto")]
            Open::Awaiting { .. } => true,
            _ => false,
        }
    }

    /// Whether the stream failed (every later frame is that error).
    #[inline]
    pub fn has_failed(&self) -> bool {
        matches!(self.open, Open::Failed(_))
    }

    /// The close notice the server ended the session with, once one was
    /// read: a stream's sends then fail with it too.
    #[inline]
    pub fn closed_by_server(&self) -> Option<CloseNotice> {
        match self.open {
            Open::Failed(Stop::Notice(n)) => Some(n),
            _ => None,
        }
    }

    /// The refusal a server end owes the peer whose hello carried another
    /// fingerprint (wire format §11.5), once: send it, then end the
    /// session.
    pub fn take_refusal(&mut self) -> Option<[u8; REFUSAL_LEN]> {
        self.refusal.take().map(refusal)
    }

    /// Checks the first frame of a server end (a validated plaintext
    /// frame) as its hello (a plaintext end without a fingerprint: a
    /// plaintext hello, unchecked) and, sealed, keys the session. The
    /// fingerprint is compared before the provider is asked, so a client
    /// of another protocol does not use up its token. A bad hello leaves
    /// the opener awaiting (the caller fails a stream).
    fn accept_hello(&mut self, type_id: u16, body: &[u8]) -> Result<Handshake, Stop> {
        let no_hello = Stop::NoHello {
            type_id,
            body_len: body.len() as u32,
        };
        let hello = Hello::parse(type_id, body);
        let (required, sealed) = match &self.open {
            Open::PlainServer { fingerprint } => (*fingerprint, false),
            #[cfg(feature = "crypto")]
            Open::Awaiting { fingerprint, .. } => (*fingerprint, true),
            _ => return Err(no_hello),
        };
        let hello = match hello {
            // A plaintext session's hello has the zero token and always a
            // fingerprint; a sealed one any token, with a fingerprint when
            // the server requires one.
            Some(h) if !sealed && !h.is_plaintext() => return Err(no_hello),
            Some(h) if required.is_some() && h.fingerprint.is_none() => return Err(no_hello),
            Some(h) => h,
            #[cfg(feature = "crypto")]
            None if sealed => {
                return Err(Stop::Crypto(packet_core::CryptoError::HelloExpected {
                    type_id,
                    body_len: body.len() as u32,
                }));
            }
            None => return Err(no_hello),
        };
        if let (Some(server), Some(client)) = (required, hello.fingerprint)
            && let Err(m) = check_fingerprint(client, server)
        {
            self.refusal = Some(server);
            return Err(Stop::Mismatch(m));
        }
        #[cfg(feature = "crypto")]
        if let Open::Awaiting {
            provider,
            frame,
            datagrams,
            ..
        } = &self.open
        {
            // A provider that panics (caught, not unwinding through the
            // server's loop) knows no keys for the token.
            let (keys, identity) = crate::guard::guard(|| (provider.0)(&hello.token))
                .ok()
                .flatten()
                .ok_or(Stop::Crypto(packet_core::CryptoError::UnknownSessionToken))?;
            let role = packet_core::crypto::Role::Server;
            let (sealer, o) = sealed_sides(role, &keys, *frame, *datagrams);
            self.open = Open::Sealed(o);
            return Ok(Handshake {
                sealer: Some(sealer),
                hello,
                identity,
            });
        }
        self.open = Open::Plain;
        Ok(Handshake {
            sealer: None,
            hello,
            identity: None,
        })
    }

    /// Whether this is a plaintext accepting end without a fingerprint
    /// that has not seen a frame yet (see [`Opener::skip_hello`]).
    #[inline]
    pub(crate) fn may_skip_hello(&self) -> bool {
        matches!(self.open, Open::PlainServer { fingerprint: None })
    }

    /// A plaintext accepting end without a fingerprint, once its first
    /// frame is complete: a plaintext hello is taken there (unchecked, not
    /// handed out); from then on the stream is plain.
    pub(crate) fn skip_hello(&mut self, decoder: &mut StreamDecoder) -> Result<(), FrameError> {
        if !self.may_skip_hello() || !decoder.has_frame() {
            return Ok(());
        }
        let hello = decoder.peek().and_then(|b| Frame::parse(b).ok());
        if hello.is_some_and(|f| self.accept_hello(f.type_id(), f.body()).is_ok()) {
            decoder.next_frame()?;
        }
        self.open = Open::Plain;
        Ok(())
    }

    /// A client end's verdict on a plain control frame from the server
    /// (`None` for any other frame, and on other ends). Shaped as the
    /// refusal (wire format §11.5): the refusal before the first frame it
    /// accepted (when its hello carried a fingerprint), an invalid frame
    /// after. A close notice (§12): believed on a plaintext session, and
    /// on a sealed one only before its first authenticated frame (after,
    /// it is left to the sealed open, which refuses it as any plain
    /// frame).
    fn control_stop(&self, bytes: &[u8]) -> Option<Stop> {
        if self.client
            && let Some(body) = control_body(bytes, REFUSAL_LEN)
        {
            let server = u64::from_le_bytes(body.try_into().ok()?);
            return Some(match self.client_fingerprint {
                Some(client) => Stop::Mismatch(ProtocolMismatch { client, server }),
                None => Stop::StrayRefusal { server },
            });
        }
        if !self.notices || (self.heard && self.opens_sealed()) {
            return None;
        }
        let body = control_body(bytes, CLOSE_NOTICE_LEN)?;
        CloseNotice::parse(SESSION_HELLO_TYPE, body).map(Stop::Notice)
    }

    /// Whether it opens sealed frames (they are authenticated).
    fn opens_sealed(&self) -> bool {
        #[cfg(feature = "crypto")]
        if matches!(self.open, Open::Sealed(_)) {
            return true;
        }
        false
    }

    /// The next complete frame from a stream decoder, validated (and
    /// opened in place when sealed) as [`Opener::open_frame`] does, after
    /// a plaintext hello a server end without a fingerprint skips. After
    /// any error the stream stays failed.
    pub fn next_frame<'a>(
        &mut self,
        decoder: &'a mut StreamDecoder,
    ) -> Result<Option<Incoming<'a>>, TransportError> {
        // A plaintext accepting end past its hello: frames straight from
        // the decoder.
        if matches!(self.open, Open::Plain) && !self.notices {
            return Ok(decoder.next_frame()?.map(Incoming::Frame));
        }
        if let Open::Failed(e) = self.open {
            return Err(e.into());
        }
        let config = *decoder.config();
        if matches!(self.open, Open::Plain) {
            // A plaintext end that recognises the server's control frames
            // (a client, a plain codec): what `open_frame` does for it,
            // without the general path's nested results (a client's
            // receive path, per frame).
            let raw: &'a [u8] = match decoder.next_raw() {
                Ok(Some(raw)) => raw,
                Ok(None) => return Ok(None),
                Err(e) => return Err(self.fail(Stop::Frame(e))),
            };
            if let Some(stop) = self.control_stop(raw) {
                return Err(self.fail(stop));
            }
            return match frame::decode_frame(raw, &config) {
                Ok(f) => {
                    self.client_fingerprint = None;
                    Ok(Some(Incoming::Frame(f)))
                }
                Err(e) => Err(self.fail(Stop::Frame(e))),
            };
        }
        self.skip_hello(decoder)?;
        let raw = match decoder.next_raw() {
            Ok(Some(raw)) => raw,
            Ok(None) => return Ok(None),
            Err(e) => return Err(self.fail(self.bad_frame(e))),
        };
        // As a frame cut from a stream by the codec, but every error ends
        // the stream.
        let opened = match self.open_frame(raw, &config) {
            Ok(Ok(opened)) => opened,
            Ok(Err(TransportError::Frame(e))) => return Err(self.fail(Stop::Frame(e))),
            #[cfg(feature = "crypto")]
            Ok(Err(TransportError::Crypto(e))) => return Err(self.fail(Stop::Crypto(e))),
            Ok(Err(e)) => return Err(e),
            Err(stop) => return Err(self.fail(stop)),
        };
        Ok(Some(match opened {
            Opened::Frame(header) => Incoming::Frame(frame_in(header, raw)),
            Opened::Keyed(h) => Incoming::Keyed(h),
        }))
    }

    /// The stream fails for good with `stop`.
    fn fail(&mut self, stop: Stop) -> TransportError {
        self.open = Open::Failed(stop);
        stop.into()
    }

    /// Why a frame that fails §4 stops this receive side: for a sealed
    /// server end awaiting the hello, a bad hello.
    fn bad_frame(&self, e: FrameError) -> Stop {
        #[cfg(feature = "crypto")]
        if matches!(self.open, Open::Awaiting { .. }) {
            return Stop::Crypto(packet_core::CryptoError::Frame(e));
        }
        Stop::Frame(e)
    }

    /// One whole frame of a stream cut by the caller (the tokio-util
    /// codec): as [`Opener::open_datagram`], except that a stream ends at
    /// a refused or missing hello (a server end) or at the server's
    /// refusal (a client end): every later frame is that error.
    #[cfg(feature = "tokio")]
    pub(crate) fn open_stream_frame(
        &mut self,
        bytes: &mut [u8],
        config: &FrameConfig,
    ) -> Result<Opened, TransportError> {
        if let Open::Failed(e) = self.open {
            return Err(e.into());
        }
        match self.open_frame(bytes, config) {
            Ok(opened) => opened,
            Err(stop) => Err(self.fail(stop)),
        }
    }

    /// Validates one datagram as exactly one frame (opening it in place
    /// when sealed). A failure changes nothing (a stray or forged datagram
    /// is dropped by the caller, never held against the session); a
    /// client end reports a refusal (wire format §11.5) as
    /// `ProtocolMismatch`, until a datagram from the server is accepted
    /// (`StrayRefusal` after), and stays as it was.
    pub fn open_datagram(
        &mut self,
        datagram: &mut [u8],
        config: &FrameConfig,
    ) -> Result<Opened, TransportError> {
        self.open_frame(datagram, config)
            .unwrap_or_else(|stop| Err(stop.into()))
    }

    /// One whole frame: a refusal-shaped one (a client end: the refusal,
    /// or an invalid frame after its window), the hello (a server end
    /// awaiting it), or a frame. The errors that end the codec's stream
    /// come back as a [`Stop`]; the others (a frame that fails §4 or,
    /// sealed, to open) as `Ok(Err(..))`, which end a decoder's stream
    /// too ([`Opener::next_frame`]).
    fn open_frame(
        &mut self,
        bytes: &mut [u8],
        config: &FrameConfig,
    ) -> Result<Result<Opened, TransportError>, Stop> {
        if let Some(stop) = self.control_stop(bytes) {
            return Err(stop);
        }
        if self.awaiting_hello() {
            return match frame::decode_frame(bytes, config) {
                Ok(f) => Ok(Ok(Opened::Keyed(self.accept_hello(f.type_id(), f.body())?))),
                // A plaintext end's frame that fails §4 is only that.
                Err(e) => match self.bad_frame(e) {
                    Stop::Frame(e) => Ok(Err(e.into())),
                    stop => Err(stop),
                },
            };
        }
        let opened = self.open_accepted(bytes, config);
        if let Ok(Opened::Frame(header)) = &opened
            && self.notices
            && self.opens_sealed()
        {
            // A client end's frame it opened (sealed, so authenticated): a
            // close notice is the end of the session, never a frame for the
            // application; any other frame closes the window in which a
            // plain notice is believed.
            self.heard = true;
            let f = frame_in(*header, bytes);
            if let Some(notice) = CloseNotice::parse(f.type_id(), f.body()) {
                return Err(Stop::Notice(notice));
            }
        }
        Ok(opened)
    }

    /// A frame of a receive side that needs no hello (any more).
    fn open_accepted(
        &mut self,
        bytes: &mut [u8],
        config: &FrameConfig,
    ) -> Result<Opened, TransportError> {
        let header = match &mut self.open {
            Open::Failed(e) => return Err((*e).into()),
            #[cfg(feature = "crypto")]
            Open::Sealed(o) => *o.open(bytes)?.header(),
            Open::PlainServer { .. } => {
                let f = frame::decode_frame(bytes, config)?;
                // A plaintext hello, unchecked (no fingerprint here).
                if let Ok(h) = self.accept_hello(f.type_id(), f.body()) {
                    return Ok(Opened::Keyed(h));
                }
                self.open = Open::Plain;
                *f.header()
            }
            _ => *frame::decode_frame(bytes, config)?.header(),
        };
        self.client_fingerprint = None;
        Ok(Opened::Frame(header))
    }
}

/// The frame whose header [`Opener::open_datagram`] returned, borrowed
/// from the same datagram bytes.
pub fn frame_in(header: Header, datagram: &[u8]) -> Frame<'_> {
    let start = frame::HEADER_LEN;
    let end = (start + header.body_len as usize).min(datagram.len());
    Frame::from_parts(header, &datagram[start.min(end)..end])
}

#[cfg(test)]
mod notice_tests {
    use super::*;

    fn plain_notice_in(bytes: &[u8]) -> Option<CloseNotice> {
        let body = control_body(bytes, CLOSE_NOTICE_LEN)?;
        CloseNotice::parse(SESSION_HELLO_TYPE, body)
    }

    #[test]
    fn a_close_notice_reads_back_and_says_why() {
        let kick = CloseNotice::application(7);
        let frame = close_notice(kick);
        assert_eq!(frame.len(), CLOSE_NOTICE_LEN);
        const { assert!(CLOSE_NOTICE_LEN < SESSION_HELLO_LEN, "no amplification") };
        assert_eq!(plain_notice_in(&frame), Some(kick));
        assert_eq!(
            kick.to_string(),
            "the server closed the session: closed by the application (code 7)"
        );
        let full = CloseNotice::new(CloseReason::ServerFull);
        assert_eq!(
            full.to_string(),
            "the server closed the session: server full"
        );
        // Unknown codes are read, not refused; other lengths are no notice.
        let other = CloseNotice::parse(SESSION_HELLO_TYPE, &[9, 1, 0, 0]).unwrap();
        assert_eq!(other.reason, CloseReason::Other(265));
        assert_eq!(
            other.to_string(),
            "the server closed the session: other(265)"
        );
        assert_eq!(CloseNotice::parse(SESSION_HELLO_TYPE, &[1, 0, 0]), None);
        assert_eq!(CloseNotice::parse(1, &[1, 0, 0, 0]), None);
        assert_eq!(plain_notice_in(&refusal(5)), None);
    }
}

#[cfg(all(test, feature = "crypto"))]
mod tests {
    use super::*;
    use packet_core::crypto::{Direction, KEY_LEN};

    #[test]
    fn random_tokens_and_keys_are_fresh() {
        let (a, b) = (
            SessionToken::random().unwrap(),
            SessionToken::random().unwrap(),
        );
        assert_eq!(a.0.len(), SESSION_TOKEN_LEN);
        assert_ne!(a, b);
        assert_ne!(a, SessionToken::PLAINTEXT);

        let (k, l) = (random_keys().unwrap(), random_keys().unwrap());
        let bytes = |k: &packet_core::crypto::ChannelKeys, d| *k.key(d).as_bytes();
        for d in [Direction::ClientToServer, Direction::ServerToClient] {
            assert_eq!(bytes(&k, d).len(), KEY_LEN);
            assert_ne!(bytes(&k, d), bytes(&l, d));
            assert_ne!(bytes(&k, d), [0; KEY_LEN]);
        }
        // One key per direction, not one shared key.
        assert_ne!(
            bytes(&k, Direction::ClientToServer),
            bytes(&k, Direction::ServerToClient)
        );
    }
}
