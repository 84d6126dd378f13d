//! Sealed frames: ChaCha20-Poly1305 (RFC 8439) over the frame layout of
//! [`crate::frame`], with keys, nonces and a per-peer session object.
//!
//! `docs/wire-format.md` §7 (sealed frames) is the normative text. In short, a sealed
//! frame is a plain frame with flags bit 0 set, whose body and padding are
//! encrypted in place, whose 20 header bytes are the associated data, and
//! whose check is the 16-byte Poly1305 tag (length = 40 + padded body):
//!
//! ```text
//!  0      20                 20+P           36+P      40+P
//!  +------+------------------+--------------+---------+
//!  |header| body + padding   | Poly1305 tag | "PK\r\n"|
//!  | AAD  | (ciphertext)     | (16 bytes)   |         |
//!  +------+------------------+--------------+---------+
//! ```
//!
//! - **Nonce** ([`nonce`]): 4 bytes of [`Direction`] (u32 LE: 1 = client to
//!   server, 2 = server to client) then the frame's 8-byte sequence (u64
//!   LE). The two directions never produce the same nonce, even under one
//!   shared key, and a sender never reuses a sequence.
//! - **Keys** ([`SecretKey`], [`ChannelKeys`]): supplied by the
//!   application (e.g. handed out by a login server), one per direction or
//!   one shared by both; no key derivation happens here. Every copy of key
//!   material this crate holds is zeroized on drop.
//! - **Low level**: [`SealingKey`] seals a frame at a sequence the caller
//!   chooses; [`OpeningKey`] opens one without replay state.
//! - **Per peer**: [`SealedChannel`] (splittable into its two
//!   directions, [`ChannelSealer`] and [`ChannelOpener`], neither `Clone`) picks the next send sequence itself,
//!   refuses to pass the key's usage limit ([`CryptoError::RekeyRequired`]),
//!   runs the replay rules of [`crate::replay`] on receive (check, then
//!   authenticate, then commit), and closes after too many authentication
//!   failures.
//!
//! ```
//! use packet_core::crypto::{ChannelConfig, ChannelKeys, Role, SealedChannel, SecretKey};
//!
//! let keys = ChannelKeys::new(SecretKey::from_bytes([1; 32]), SecretKey::from_bytes([2; 32]));
//! let mut client = SealedChannel::new(Role::Client, &keys, ChannelConfig::datagram());
//! let mut server = SealedChannel::new(Role::Server, &keys, ChannelConfig::datagram());
//!
//! let mut wire = [0u8; 128];
//! let n = client.seal_raw(0x0102, b"hello", &mut wire)?;
//! let mut copy = wire; // an attacker's recording
//! let frame = server.open(&mut wire[..n])?;
//! assert_eq!(frame.body(), b"hello");
//! assert_eq!(frame.sequence(), 0);
//! // The same datagram again is a replay.
//! assert!(server.open(&mut copy[..n]).is_err());
//! # Ok::<(), packet_core::CryptoError>(())
//! ```
//!
//! What does not live here: the replay bookkeeping ([`crate::replay`]),
//! the frame rules themselves ([`crate::frame`]), any I/O.

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce, Tag};
use zeroize::Zeroize;

use crate::buf::Writer;
use crate::error::{CryptoError, EncodeError, FrameError};
use crate::frame::{
    ENDING, ENDING_LEN, Frame, FrameConfig, HEADER_LEN, Header, Packet, TAG_LEN, check_ending,
    check_header, check_padding, check_prefix, exact_frame, flags, padded_len, write_body_region,
    write_header,
};
use crate::replay::{ReplayMode, ReplayState};

/// Bytes of a ChaCha20-Poly1305 key.
pub const KEY_LEN: usize = 32;
/// Bytes of a ChaCha20-Poly1305 nonce.
pub const NONCE_LEN: usize = 12;

/// The frame length a body of `body_len` bytes produces when sealed:
/// `40 + round_up(body_len, 4)`.
#[inline]
pub const fn sealed_frame_len_for(body_len: usize) -> usize {
    padded_len(body_len).saturating_add(HEADER_LEN + TAG_LEN + ENDING_LEN)
}

/// A 256-bit ChaCha20-Poly1305 key, zeroized on drop. Its `Debug` output
/// never shows the bytes.
#[derive(Clone)]
pub struct SecretKey([u8; KEY_LEN]);

impl SecretKey {
    /// Wraps key bytes (the caller should zeroize its own copy).
    pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// Copies key bytes from a slice; `None` unless it is 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        Some(Self(bytes.try_into().ok()?))
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        // The cipher keeps its own copy of the key and zeroizes it on drop
        // (chacha20poly1305 0.10 implements `ZeroizeOnDrop`).
        ChaCha20Poly1305::new(Key::from_slice(&self.0))
    }
}

impl From<[u8; KEY_LEN]> for SecretKey {
    fn from(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl zeroize::ZeroizeOnDrop for SecretKey {}

impl core::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// Which way a frame travels. Part of every nonce, so the two directions
/// never share a nonce even under one key, and a frame reflected back to
/// its sender fails authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client to server; nonce label 1.
    ClientToServer,
    /// Server to client; nonce label 2.
    ServerToClient,
}

impl Direction {
    /// The 32-bit label in the nonce's first four bytes (little-endian).
    pub const fn label(self) -> u32 {
        match self {
            Direction::ClientToServer => 1,
            Direction::ServerToClient => 2,
        }
    }

    /// The other direction.
    pub const fn reverse(self) -> Self {
        match self {
            Direction::ClientToServer => Direction::ServerToClient,
            Direction::ServerToClient => Direction::ClientToServer,
        }
    }
}

/// The 12-byte nonce of a frame: `label(direction) as u32 LE ||
/// sequence as u64 LE`.
///
/// Unique per key as long as each direction's sender never repeats a
/// sequence, which [`SealedChannel`] guarantees (it only counts up and
/// stops at its usage limit).
pub const fn nonce(direction: Direction, sequence: u64) -> [u8; NONCE_LEN] {
    let d = direction.label().to_le_bytes();
    let s = sequence.to_le_bytes();
    [
        d[0], d[1], d[2], d[3], s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7],
    ]
}

/// Which end of a connection this is: it fixes the send and receive
/// directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Sends [`Direction::ClientToServer`], receives the other.
    Client,
    /// Sends [`Direction::ServerToClient`], receives the other.
    Server,
}

impl Role {
    /// The direction this end seals.
    pub const fn send_direction(self) -> Direction {
        match self {
            Role::Client => Direction::ClientToServer,
            Role::Server => Direction::ServerToClient,
        }
    }

    /// The direction this end opens.
    pub const fn receive_direction(self) -> Direction {
        self.send_direction().reverse()
    }
}

/// The keys of one connection, as the application hands them out: one per
/// direction, or one shared by both (safe, because the nonce contains the
/// direction). No KDF is applied: each key is used as given.
#[derive(Debug, Clone)]
pub struct ChannelKeys {
    client_to_server: SecretKey,
    server_to_client: SecretKey,
}

impl ChannelKeys {
    /// A key per direction.
    pub fn new(client_to_server: SecretKey, server_to_client: SecretKey) -> Self {
        Self {
            client_to_server,
            server_to_client,
        }
    }

    /// One key for both directions.
    pub fn shared(key: SecretKey) -> Self {
        Self {
            client_to_server: key.clone(),
            server_to_client: key,
        }
    }

    /// The key of `direction`.
    pub fn key(&self, direction: Direction) -> &SecretKey {
        match direction {
            Direction::ClientToServer => &self.client_to_server,
            Direction::ServerToClient => &self.server_to_client,
        }
    }
}

/// A key bound to the direction it seals: seals frames at sequences the
/// caller chooses. Prefer [`SealedChannel`], which never reuses one.
#[derive(Clone)]
pub struct SealingKey {
    cipher: ChaCha20Poly1305,
    direction: Direction,
}

impl core::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SealingKey")
            .field("direction", &self.direction)
            .finish_non_exhaustive()
    }
}

impl SealingKey {
    /// Binds `key` to `direction`.
    pub fn new(key: &SecretKey, direction: Direction) -> Self {
        Self {
            cipher: key.cipher(),
            direction,
        }
    }

    /// The direction it seals.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// Seals a frame whose body `write_body` writes in place in `out`;
    /// returns the frame length. **The caller must never seal two frames
    /// with one key, direction and sequence.**
    pub fn seal_with(
        &self,
        type_id: u16,
        sequence: u64,
        out: &mut [u8],
        write_body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
    ) -> Result<usize, CryptoError> {
        let (body_len, padded) = write_body_region(out, TAG_LEN, write_body)?;
        let tag_at = HEADER_LEN + padded;
        let length = tag_at + TAG_LEN + ENDING_LEN;
        write_header(out, length, flags::ENCRYPTED, type_id, body_len, sequence)?;
        let (aad, rest) = out.split_at_mut(HEADER_LEN);
        let (body, rest) = rest.split_at_mut(padded);
        let nonce = nonce(self.direction, sequence);
        let tag = self
            .cipher
            .encrypt_in_place_detached(Nonce::from_slice(&nonce), aad, body)
            // Only fails past 256 GiB, far beyond any frame.
            .map_err(|_| EncodeError::FrameTooLarge {
                len: length,
                max: crate::frame::MAX_WIRE_FRAME_LEN as usize,
            })?;
        rest[..TAG_LEN].copy_from_slice(&tag);
        rest[TAG_LEN..TAG_LEN + ENDING_LEN].copy_from_slice(&ENDING);
        Ok(length)
    }

    /// Seals a frame whose body is `body`.
    pub fn seal_raw(
        &self,
        type_id: u16,
        sequence: u64,
        body: &[u8],
        out: &mut [u8],
    ) -> Result<usize, CryptoError> {
        self.seal_with(type_id, sequence, out, |w| w.put_bytes(body))
    }

    /// Seals `packet`.
    pub fn seal_packet<P: Packet + ?Sized>(
        &self,
        packet: &P,
        sequence: u64,
        out: &mut [u8],
    ) -> Result<usize, CryptoError> {
        self.seal_with(P::ID, sequence, out, |w| packet.write_data(w))
    }
}

/// Sealed-frame rules before the tag: 1 to 6 (length, exact size), 7 to 10
/// (header, with the sealed minimum of 40 bytes, so a frame too short for
/// a tag never reaches the cipher) and 11 (ending).
pub fn check_sealed(bytes: &[u8], config: &FrameConfig) -> Result<Header, FrameError> {
    let length = check_prefix(bytes, config)?.ok_or(FrameError::Truncated {
        available: bytes.len(),
        needed: 4,
    })?;
    let frame = exact_frame(bytes, length)?;
    let header = check_header(frame, true)?;
    check_ending(frame)?;
    Ok(header)
}

/// A key bound to the direction it opens: opens frames without replay
/// state. Prefer [`SealedChannel`] for traffic from a peer.
#[derive(Clone)]
pub struct OpeningKey {
    cipher: ChaCha20Poly1305,
    direction: Direction,
}

impl core::fmt::Debug for OpeningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OpeningKey")
            .field("direction", &self.direction)
            .finish_non_exhaustive()
    }
}

impl OpeningKey {
    /// Binds `key` to `direction`.
    pub fn new(key: &SecretKey, direction: Direction) -> Self {
        Self {
            cipher: key.cipher(),
            direction,
        }
    }

    /// The direction it opens.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// Verifies the tag of a frame that passed [`check_sealed`] and
    /// decrypts body and padding in place. On failure nothing is decrypted.
    fn decrypt(&self, frame: &mut [u8], header: &Header) -> bool {
        let padded = padded_len(header.body_len as usize);
        let (aad, rest) = frame.split_at_mut(HEADER_LEN);
        let (body, rest) = rest.split_at_mut(padded);
        let nonce = nonce(self.direction, header.sequence);
        self.cipher
            .decrypt_in_place_detached(
                Nonce::from_slice(&nonce),
                aad,
                body,
                Tag::from_slice(&rest[..TAG_LEN]),
            )
            .is_ok()
    }

    /// Opens `bytes`, exactly one sealed frame, in place: validates the
    /// envelope ([`check_sealed`]), verifies the tag, decrypts, checks the
    /// padding, and returns the frame borrowing the plaintext body.
    ///
    /// Authentication failure is [`CryptoError::AuthenticationFailed`]
    /// with `failures: 1` (no counting here). No replay check: the caller
    /// must do that (see [`SealedChannel`]).
    pub fn open<'a>(
        &self,
        bytes: &'a mut [u8],
        config: &FrameConfig,
    ) -> Result<Frame<'a>, CryptoError> {
        let header = check_sealed(bytes, config)?;
        if !self.decrypt(bytes, &header) {
            return Err(CryptoError::AuthenticationFailed {
                sequence: header.sequence,
                length: header.length,
                failures: 1,
            });
        }
        Ok(finish_open(bytes, header)?)
    }
}

/// Rule 13 on the decrypted frame; wipes the plaintext when it fails.
fn finish_open(frame: &mut [u8], header: Header) -> Result<Frame<'_>, FrameError> {
    let body_len = header.body_len as usize;
    if let Err(e) = check_padding(frame, body_len) {
        frame[HEADER_LEN..HEADER_LEN + padded_len(body_len)].zeroize();
        return Err(e);
    }
    let frame: &[u8] = frame;
    Ok(Frame::from_parts(
        header,
        &frame[HEADER_LEN..HEADER_LEN + body_len],
    ))
}

/// Settings of a [`SealedChannel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelConfig {
    mode: ReplayMode,
    max_auth_failures: u64,
    usage_limit: u64,
    frame: FrameConfig,
}

impl ChannelConfig {
    /// Authentication failures after which the channel closes by default:
    /// 2^36, the forgery limit RFC 9001 §6.6 sets for ChaCha20-Poly1305.
    pub const DEFAULT_MAX_AUTH_FAILURES: u64 = 1 << 36;
    /// Sequences a key may seal by default: `0 .. u64::MAX` (all but the
    /// last; ChaCha20-Poly1305's confidentiality limit is above the
    /// number of possible packets, RFC 9001 §6.6, so the nonce space is
    /// the limit). Lower it to force periodic rekeying.
    pub const DEFAULT_USAGE_LIMIT: u64 = u64::MAX;

    /// Settings for a channel in `mode`.
    pub const fn new(mode: ReplayMode) -> Self {
        Self {
            mode,
            max_auth_failures: Self::DEFAULT_MAX_AUTH_FAILURES,
            usage_limit: Self::DEFAULT_USAGE_LIMIT,
            frame: FrameConfig::new(),
        }
    }

    /// For a byte stream (TCP): [`ReplayMode::Ordered`].
    pub const fn stream() -> Self {
        Self::new(ReplayMode::Ordered)
    }

    /// For datagrams (UDP): [`ReplayMode::Windowed`].
    pub const fn datagram() -> Self {
        Self::new(ReplayMode::Windowed)
    }

    /// Closes the channel once this many authentication failures were
    /// counted (at least 1).
    pub const fn with_max_auth_failures(mut self, limit: u64) -> Self {
        self.max_auth_failures = if limit == 0 { 1 } else { limit };
        self
    }

    /// Seals only sequences below `limit`; beyond, sealing fails with
    /// [`CryptoError::RekeyRequired`].
    pub const fn with_usage_limit(mut self, limit: u64) -> Self {
        self.usage_limit = limit;
        self
    }

    /// Frame limits for opening.
    pub const fn with_frame_config(mut self, frame: FrameConfig) -> Self {
        self.frame = frame;
        self
    }

    /// The replay mode.
    pub const fn mode(&self) -> ReplayMode {
        self.mode
    }

    /// The authentication failure limit.
    pub const fn max_auth_failures(&self) -> u64 {
        self.max_auth_failures
    }

    /// The usage limit.
    pub const fn usage_limit(&self) -> u64 {
        self.usage_limit
    }

    /// The frame limits.
    pub const fn frame_config(&self) -> &FrameConfig {
        &self.frame
    }
}

/// The sealed session with one peer, as a transport holds it: seals with
/// the next sequence, opens with replay protection and failure counting.
/// Allocation-free; no I/O.
///
/// Works on datagrams (the whole datagram is the frame) and on frames
/// from [`StreamDecoder::next_raw`](crate::StreamDecoder::next_raw),
/// opened in place in the decoder's buffer. On a stream, any error should
/// close the connection (the stream cannot resynchronize).
///
/// It is its two directions, [`ChannelSealer`] and [`ChannelOpener`];
/// [`SealedChannel::split`] hands them to two owners (e.g. a connection's
/// outgoing queue and its receive loop). Neither half, nor the channel,
/// is `Clone`: two copies would seal with the same sequences, reusing
/// nonces, and the type system keeps that from happening.
#[derive(Debug)]
pub struct SealedChannel {
    sealer: ChannelSealer,
    opener: ChannelOpener,
}

/// The sending direction of a [`SealedChannel`]: the one owner of the
/// next send sequence. Not `Clone` (see [`SealedChannel`]).
#[derive(Debug)]
pub struct ChannelSealer {
    sealing: SealingKey,
    next_sequence: u64,
    usage_limit: u64,
}

/// The receiving direction of a [`SealedChannel`]: replay state and
/// authentication-failure counting. Not `Clone`.
#[derive(Debug)]
pub struct ChannelOpener {
    opening: OpeningKey,
    replay: ReplayState,
    auth_failures: u64,
    closed: bool,
    config: ChannelConfig,
}

impl SealedChannel {
    /// The channel for `role` with `keys`.
    pub fn new(role: Role, keys: &ChannelKeys, config: ChannelConfig) -> Self {
        let send = role.send_direction();
        let receive = role.receive_direction();
        Self {
            sealer: ChannelSealer {
                sealing: SealingKey::new(keys.key(send), send),
                next_sequence: 0,
                usage_limit: config.usage_limit,
            },
            opener: ChannelOpener {
                opening: OpeningKey::new(keys.key(receive), receive),
                replay: ReplayState::new(config.mode),
                auth_failures: 0,
                closed: false,
                config,
            },
        }
    }

    /// Splits the channel into its sending and receiving directions.
    pub fn split(self) -> (ChannelSealer, ChannelOpener) {
        (self.sealer, self.opener)
    }

    /// The settings.
    pub fn config(&self) -> &ChannelConfig {
        &self.opener.config
    }

    /// The sequence the next sealed frame gets.
    pub fn next_sequence(&self) -> u64 {
        self.sealer.next_sequence
    }

    /// The receive-side replay state.
    pub fn replay(&self) -> &ReplayState {
        &self.opener.replay
    }

    /// Authentication failures counted so far.
    pub fn auth_failures(&self) -> u64 {
        self.opener.auth_failures
    }

    /// Whether the failure limit closed the channel (drop the peer).
    pub fn is_closed(&self) -> bool {
        self.opener.closed
    }

    /// Moves the send sequence forward to `sequence` (e.g. to resume a
    /// session). Moving backwards would reuse nonces and is refused.
    pub fn skip_to(&mut self, sequence: u64) -> Result<(), CryptoError> {
        self.sealer.skip_to(sequence)
    }

    /// Seals a frame whose body `write_body` writes, with the next
    /// sequence; returns the frame length. The sequence is used up only
    /// when sealing succeeds.
    pub fn seal_with(
        &mut self,
        type_id: u16,
        out: &mut [u8],
        write_body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
    ) -> Result<usize, CryptoError> {
        if self.opener.closed {
            return Err(CryptoError::Closed {
                failures: self.opener.auth_failures,
            });
        }
        self.sealer.seal_with(type_id, out, write_body)
    }

    /// Seals a frame whose body is `body`.
    pub fn seal_raw(
        &mut self,
        type_id: u16,
        body: &[u8],
        out: &mut [u8],
    ) -> Result<usize, CryptoError> {
        self.seal_with(type_id, out, |w| w.put_bytes(body))
    }

    /// Seals `packet`.
    pub fn seal_packet<P: Packet + ?Sized>(
        &mut self,
        packet: &P,
        out: &mut [u8],
    ) -> Result<usize, CryptoError> {
        self.seal_with(P::ID, out, |w| packet.write_data(w))
    }

    /// Opens `bytes`, exactly one sealed frame, in place: see
    /// [`ChannelOpener::open`].
    pub fn open<'a>(&mut self, bytes: &'a mut [u8]) -> Result<Frame<'a>, CryptoError> {
        self.opener.open(bytes)
    }
}

impl ChannelSealer {
    /// The sequence the next sealed frame gets.
    pub fn next_sequence(&self) -> u64 {
        self.next_sequence
    }

    /// Moves the send sequence forward to `sequence`; backwards is refused.
    pub fn skip_to(&mut self, sequence: u64) -> Result<(), CryptoError> {
        if sequence < self.next_sequence {
            return Err(CryptoError::SequenceBackwards {
                next: self.next_sequence,
                requested: sequence,
            });
        }
        self.next_sequence = sequence;
        Ok(())
    }

    /// Seals a frame whose body `write_body` writes, with the next
    /// sequence; returns the frame length. The sequence is used up only
    /// when sealing succeeds; past the usage limit it fails with
    /// [`CryptoError::RekeyRequired`].
    pub fn seal_with(
        &mut self,
        type_id: u16,
        out: &mut [u8],
        write_body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
    ) -> Result<usize, CryptoError> {
        let sequence = self.next_sequence;
        if sequence >= self.usage_limit {
            return Err(CryptoError::RekeyRequired {
                sequence,
                limit: self.usage_limit,
            });
        }
        let n = self.sealing.seal_with(type_id, sequence, out, write_body)?;
        // Cannot overflow: sequence < usage_limit <= u64::MAX.
        self.next_sequence = sequence + 1;
        Ok(n)
    }
}

impl ChannelOpener {
    /// The receive-side replay state.
    pub fn replay(&self) -> &ReplayState {
        &self.replay
    }

    /// Authentication failures counted so far.
    pub fn auth_failures(&self) -> u64 {
        self.auth_failures
    }

    /// Whether the failure limit closed the channel.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Opens `bytes`, exactly one sealed frame, in place. Order: envelope
    /// rules ([`check_sealed`]), replay check (read-only), tag, decryption,
    /// padding, and only then the replay state advances. A failed tag
    /// counts against [`ChannelConfig::max_auth_failures`]; reaching it
    /// closes the channel.
    pub fn open<'a>(&mut self, bytes: &'a mut [u8]) -> Result<Frame<'a>, CryptoError> {
        if self.closed {
            return Err(CryptoError::Closed {
                failures: self.auth_failures,
            });
        }
        let header = check_sealed(bytes, &self.config.frame)?;
        self.replay.check(header.sequence)?;
        if !self.opening.decrypt(bytes, &header) {
            self.auth_failures = self.auth_failures.saturating_add(1);
            if self.auth_failures >= self.config.max_auth_failures {
                self.closed = true;
                return Err(CryptoError::TooManyAuthFailures {
                    failures: self.auth_failures,
                    limit: self.config.max_auth_failures,
                });
            }
            return Err(CryptoError::AuthenticationFailed {
                sequence: header.sequence,
                length: header.length,
                failures: self.auth_failures,
            });
        }
        let frame = finish_open(bytes, header)?;
        self.replay.commit(header.sequence);
        Ok(frame)
    }
}
