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
//! # use packet_net::transport::{ClientSecurity, ServerSecurity, SessionToken};
//! # use packet_core::crypto::{ChannelKeys, SecretKey};
//! let client = ClientSecurity::new(SessionToken([1; 16]), ChannelKeys::shared(SecretKey::from_bytes([2; 32])));
//! let config = packet_net::server::ServerConfig::default().sealed(ServerSecurity::new(|_| None));
//! # drop(client);
//! ```
//!
//! Crate-private: [`Sealer`] and [`Opener`], a connection's send and
//! receive sides. Sealed, they own the two halves of one
//! [`SealedChannel`](packet_core::crypto::SealedChannel) (packet-core's
//! one implementation of sealing, sequence numbering and replay checks);
//! neither is `Clone`.

use packet_core::error::{EncodeError, FrameError};
use packet_core::frame::{self, Frame, FrameConfig, Header};
use packet_core::{StreamDecoder, Writer};

use super::TransportError;

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

/// The session hello frame carrying `token` (plaintext, type
/// [`SESSION_HELLO_TYPE`], sequence 0): what a sealed client sends first.
pub fn session_hello(token: &SessionToken) -> [u8; SESSION_HELLO_LEN] {
    let mut out = [0; SESSION_HELLO_LEN];
    let n = frame::encode_raw(SESSION_HELLO_TYPE, 0, &token.0, &mut out);
    debug_assert_eq!(n, Ok(SESSION_HELLO_LEN));
    out
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

/// The function behind a [`ServerSecurity`].
#[cfg(feature = "crypto")]
type KeyFn = dyn Fn(&SessionToken) -> Option<packet_core::crypto::ChannelKeys> + Send + Sync;

/// An accepting end's security: where each session's keys come from, a
/// function from the session's [`SessionToken`] to its `ChannelKeys`
/// (`None` for an unknown token).
///
/// **Contract:** hand out each `ChannelKeys` for one session only (e.g.
/// remove the token from the login server's table when it is looked up).
/// That keeps every nonce unique under its key and stops a recorded
/// session being replayed into a new one.
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
        Self(std::sync::Arc::new(provider))
    }

    fn keys_for(&self, token: &SessionToken) -> Option<packet_core::crypto::ChannelKeys> {
        (self.0)(token)
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
    /// The send and receive sides of one connection.
    #[doc(hidden)]
    fn halves(self, frame: FrameConfig, datagrams: bool) -> Halves;
}

/// One connection's send and receive sides, and a client's hello token.
#[doc(hidden)]
#[derive(Debug)]
pub struct Halves {
    pub(crate) sealer: Sealer,
    pub(crate) opener: Opener,
    pub(crate) hello: Option<SessionToken>,
}

#[cfg(feature = "crypto")]
fn channel_config(frame: FrameConfig, datagrams: bool) -> packet_core::crypto::ChannelConfig {
    use packet_core::crypto::ChannelConfig;
    let c = if datagrams {
        ChannelConfig::datagram()
    } else {
        ChannelConfig::stream()
    };
    c.with_frame_config(frame)
}

#[cfg(feature = "crypto")]
impl private::Sealed for ClientSecurity {}
#[cfg(feature = "crypto")]
impl Security for ClientSecurity {
    fn halves(self, frame: FrameConfig, datagrams: bool) -> Halves {
        use packet_core::crypto::{Role, SealedChannel};
        let channel =
            SealedChannel::new(Role::Client, &self.keys, channel_config(frame, datagrams));
        let (s, o) = channel.split();
        Halves {
            sealer: Sealer::sealed(s, &frame),
            opener: Opener(Open::Sealed(o)),
            hello: Some(self.token),
        }
    }
}

#[cfg(feature = "crypto")]
impl private::Sealed for ServerSecurity {}
#[cfg(feature = "crypto")]
impl Security for ServerSecurity {
    fn halves(self, frame: FrameConfig, datagrams: bool) -> Halves {
        Halves {
            sealer: Sealer {
                seal: Seal::Pending,
                max_frame_len: frame.max_frame_len() as usize,
            },
            opener: Opener(Open::Awaiting {
                provider: self,
                frame,
                datagrams,
            }),
            hello: None,
        }
    }
}

#[cfg(feature = "crypto")]
impl private::Sealed for &ServerSecurity {}
#[cfg(feature = "crypto")]
impl Security for &ServerSecurity {
    fn halves(self, frame: FrameConfig, datagrams: bool) -> Halves {
        self.clone().halves(frame, datagrams)
    }
}

/// Plaintext halves.
pub(crate) fn plain(frame: &FrameConfig) -> Halves {
    Halves {
        sealer: Sealer::plain(frame),
        opener: Opener::plain(),
        hello: None,
    }
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
    /// Plaintext frames no longer than `config` allows, numbered from 0.
    pub(crate) fn plain(config: &FrameConfig) -> Self {
        Self {
            seal: Seal::Plain { next_sequence: 0 },
            max_frame_len: config.max_frame_len() as usize,
        }
    }

    #[cfg(feature = "crypto")]
    fn sealed(s: packet_core::crypto::ChannelSealer, config: &FrameConfig) -> Self {
        Self {
            seal: Seal::Sealed(s),
            max_frame_len: config.max_frame_len() as usize,
        }
    }

    /// Whether frames are (or, awaiting keys, will be) sealed.
    pub(crate) fn is_sealed(&self) -> bool {
        !matches!(self.seal, Seal::Plain { .. })
    }

    /// Checks that a body of `body_len` bytes fits the maximum frame and
    /// returns the frame length it needs at most.
    pub fn check_len(&self, body_len: usize) -> Result<usize, EncodeError> {
        #[cfg(feature = "crypto")]
        let len = if self.is_sealed() {
            packet_core::crypto::sealed_frame_len_for(body_len)
        } else {
            frame::frame_len_for(body_len)
        };
        #[cfg(not(feature = "crypto"))]
        let len = frame::frame_len_for(body_len);
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
}

#[derive(Debug)]
enum Open {
    Plain,
    /// A server end before the peer's hello.
    #[cfg(feature = "crypto")]
    Awaiting {
        provider: ServerSecurity,
        frame: FrameConfig,
        datagrams: bool,
    },
    #[cfg(feature = "crypto")]
    Sealed(packet_core::crypto::ChannelOpener),
    /// A stream whose sealed frame failed: it stays failed.
    #[cfg(feature = "crypto")]
    Failed(packet_core::CryptoError),
}

/// The receive side of one connection: validates plaintext frames, or
/// sealed, checks replay, authenticates and decrypts them in place; a
/// server end first takes the session hello (not `Clone`).
#[derive(Debug)]
pub struct Opener(Open);

/// What the receive side yields.
#[derive(Debug)]
pub enum Incoming<'a> {
    /// A frame for the application.
    Frame(Frame<'a>),
    /// A server end's session hello was accepted: the send side for this
    /// session's keys (install it in the connection's outbox).
    Keyed(Sealer, SessionToken),
}

/// What [`Opener::open_datagram`] accepted.
#[derive(Debug)]
pub enum Opened {
    /// A frame; [`frame_in`] borrows it from the datagram.
    Frame(Header),
    /// The session hello, accepted (see [`Incoming::Keyed`]).
    Keyed(Sealer, SessionToken),
}

impl Opener {
    /// Plaintext frames.
    pub(crate) fn plain() -> Self {
        Self(Open::Plain)
    }

    /// Whether this (a sealed server end) still awaits the session hello.
    pub fn awaiting_hello(&self) -> bool {
        #[cfg(feature = "crypto")]
        return matches!(self.0, Open::Awaiting { .. });
        #[cfg(not(feature = "crypto"))]
        false
    }

    /// Whether frames are sealed (or will be, after the hello).
    pub fn is_sealed(&self) -> bool {
        !matches!(self.0, Open::Plain)
    }

    /// Checks the session hello (a validated plaintext frame) and keys the
    /// session. A bad hello leaves the opener awaiting.
    #[cfg(feature = "crypto")]
    fn accept_hello(
        &mut self,
        type_id: u16,
        body: &[u8],
    ) -> Result<(Sealer, SessionToken), packet_core::CryptoError> {
        use packet_core::CryptoError;
        use packet_core::crypto::{Role, SealedChannel};
        let Open::Awaiting {
            provider,
            frame,
            datagrams,
        } = &self.0
        else {
            return Err(CryptoError::UnknownSessionToken);
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
        let keys = provider
            .keys_for(&token)
            .ok_or(CryptoError::UnknownSessionToken)?;
        let frame = *frame;
        let channel = SealedChannel::new(Role::Server, &keys, channel_config(frame, *datagrams));
        let (s, o) = channel.split();
        self.0 = Open::Sealed(o);
        Ok((Sealer::sealed(s, &frame), token))
    }

    /// The next complete frame from a stream decoder, validated (and
    /// opened in place when sealed). After an error the stream stays
    /// failed.
    pub fn next_frame<'a>(
        &mut self,
        decoder: &'a mut StreamDecoder,
    ) -> Result<Option<Incoming<'a>>, TransportError> {
        #[cfg(feature = "crypto")]
        {
            use packet_core::CryptoError;
            if let Open::Failed(e) = self.0 {
                return Err(e.into());
            }
            if self.awaiting_hello() {
                let hello = match decoder.next_frame() {
                    Ok(Some(f)) => self.accept_hello(f.type_id(), f.body()),
                    Ok(None) => return Ok(None),
                    Err(e) => Err(CryptoError::Frame(e)),
                };
                return match hello {
                    Ok((sealer, token)) => Ok(Some(Incoming::Keyed(sealer, token))),
                    Err(e) => {
                        self.0 = Open::Failed(e);
                        Err(e.into())
                    }
                };
            }
            if let Open::Sealed(o) = &mut self.0 {
                let Some(raw) = decoder.next_raw()? else {
                    return Ok(None);
                };
                return match o.open(raw) {
                    Ok(f) => Ok(Some(Incoming::Frame(f))),
                    Err(e) => {
                        self.0 = Open::Failed(e);
                        Err(e.into())
                    }
                };
            }
        }
        Ok(decoder.next_frame()?.map(Incoming::Frame))
    }

    /// Validates one datagram as exactly one frame (opening it in place
    /// when sealed). A failure changes nothing (a stray or forged datagram
    /// is dropped by the caller, never held against the session).
    pub fn open_datagram(
        &mut self,
        datagram: &mut [u8],
        config: &FrameConfig,
    ) -> Result<Opened, TransportError> {
        #[cfg(feature = "crypto")]
        match &mut self.0 {
            Open::Awaiting { .. } => {
                let f = frame::decode_frame(datagram, config)
                    .map_err(packet_core::CryptoError::Frame)?;
                let (sealer, token) = self.accept_hello(f.type_id(), f.body())?;
                return Ok(Opened::Keyed(sealer, token));
            }
            Open::Sealed(o) => return Ok(Opened::Frame(*o.open(datagram)?.header())),
            Open::Failed(e) => return Err((*e).into()),
            Open::Plain => {}
        }
        Ok(Opened::Frame(
            *frame::decode_frame(datagram, config)?.header(),
        ))
    }
}

/// The frame whose header [`Opener::open_datagram`] returned, borrowed
/// from the same datagram bytes.
pub fn frame_in(header: Header, datagram: &[u8]) -> Frame<'_> {
    let start = frame::HEADER_LEN;
    let end = (start + header.body_len as usize).min(datagram.len());
    Frame::from_parts(header, &datagram[start.min(end)..end])
}

/// Whether a stream's end of file inside a frame: `Closed` between frames.
pub(crate) fn end_of_stream(decoder: &StreamDecoder) -> TransportError {
    match decoder.finish() {
        Ok(()) => TransportError::Closed,
        Err(FrameError::UnexpectedEof { buffered }) => {
            FrameError::UnexpectedEof { buffered }.into()
        }
        Err(e) => e.into(),
    }
}
