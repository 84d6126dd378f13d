//! Every error the codec can report.
//!
//! Errors are small `Copy` values that carry the offending numbers, so a
//! server can log exactly what a peer sent without keeping the bytes. There
//! are three families, one per stage, plus [`enum@Error`] that wraps them all:
//!
//! - [`FrameError`]: the frame envelope (length, header, check, ending)
//!   failed validation; the rules and their order are in
//!   `docs/wire-format.md` §4.
//! - [`DecodeError`]: the envelope was fine but the body did not decode as
//!   the expected packet.
//! - [`EncodeError`]: a packet could not be written (buffer too small, a
//!   sequence longer than its length prefix allows, ...).
//! - `CryptoError` and `ReplayError` (feature `crypto`): a sealed frame
//!   could not be sealed or opened (`docs/wire-format.md` §7, sealed frames).
//!
//! This module holds types only; the code that raises them lives with the
//! stage that detects the problem.

use core::fmt;

use thiserror::Error;

/// The frame envelope failed validation.
///
/// The variants are listed in the order a decoder checks them
/// (`docs/wire-format.md` §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Fewer bytes than the frame needs. From the stream decoder this is
    /// never returned (it waits for more); see [`FrameError::UnexpectedEof`].
    #[error("truncated frame: {available} byte{} available, {needed} needed", if *available == 1 { "" } else { "s" })]
    Truncated {
        /// Bytes available.
        available: usize,
        /// Bytes the frame needs (4 while the length itself is incomplete).
        needed: usize,
    },
    /// The length field is below the smallest possible frame.
    #[error("frame length {length} is below the minimum of {min} bytes")]
    LengthTooSmall {
        /// The length field.
        length: u32,
        /// The minimum for this kind of frame (28 plain, 40 sealed).
        min: u32,
    },
    /// The length field exceeds the configured maximum frame size.
    #[error("frame length {length} exceeds the configured maximum of {max} bytes")]
    LengthTooLarge {
        /// The length field.
        length: u32,
        /// The configured maximum ([`crate::FrameConfig::max_frame_len`]).
        max: u32,
    },
    /// The length field is not a multiple of 4.
    #[error("frame length {length} is not a multiple of 4")]
    Misaligned {
        /// The length field.
        length: u32,
    },
    /// A datagram held bytes after its one frame.
    #[error("{extra} trailing byte{} after a {length}-byte frame", if *extra == 1 { "" } else { "s" })]
    TrailingBytes {
        /// The frame's length field.
        length: u32,
        /// How many bytes followed it.
        extra: usize,
    },
    /// The version byte is not one this implementation speaks.
    #[error("unsupported wire version {found} (this implementation speaks {expected})")]
    BadVersion {
        /// The version byte found.
        found: u8,
        /// The version expected.
        expected: u8,
    },
    /// Reserved flag bits were set.
    #[error("reserved flag bits set in flags {flags:#04x}")]
    ReservedFlags {
        /// The whole flags byte.
        flags: u8,
    },
    /// A sealed (encrypted) frame reached a plaintext decoder, or a plaintext
    /// frame reached a decoder that requires sealed frames.
    #[error("frame encryption flag is {}, but this decoder expects {}", if *.sealed { "set" } else { "clear" }, if *.sealed { "plaintext" } else { "sealed frames" })]
    UnexpectedEncryption {
        /// Whether the frame was sealed.
        sealed: bool,
    },
    /// The body length does not agree with the frame length.
    #[error("body length {body_len} does not fit frame length {length}")]
    BodyLengthMismatch {
        /// The body length field.
        body_len: u32,
        /// The frame length field.
        length: u32,
    },
    /// The last four bytes are not the ending marker.
    #[error("bad ending marker {found:02x?}")]
    BadEnding {
        /// The four bytes found.
        found: [u8; 4],
    },
    /// The CRC-32 carried by the frame does not match its bytes.
    #[error("CRC mismatch: frame carries {expected:#010x}, bytes give {computed:#010x}")]
    CrcMismatch {
        /// The check value in the frame.
        expected: u32,
        /// The check value computed over the received bytes.
        computed: u32,
    },
    /// A padding byte was not zero.
    #[error("padding byte at frame offset {offset} is {value:#04x}, must be zero")]
    NonZeroPadding {
        /// Offset of the byte within the frame.
        offset: usize,
        /// Its value.
        value: u8,
    },
    /// A byte stream ended in the middle of a frame.
    #[error("stream ended inside a frame ({buffered} byte{} buffered)", if *buffered == 1 { "" } else { "s" })]
    UnexpectedEof {
        /// Bytes of the unfinished frame that had arrived.
        buffered: usize,
    },
}

/// A frame's body did not decode as the expected value.
///
/// Its `Debug` and `Display` both write packet type ids as four hex
/// digits (`0x0101`), as the wire format and every log do.
///
/// ```
/// use packet_core::DecodeError;
///
/// let e = DecodeError::WrongPacketId { expected: 0x0101, found: 0x0102 };
/// assert_eq!(e.to_string(), "frame carries packet id 0x0102, expected 0x0101");
/// assert_eq!(format!("{e:?}"), "WrongPacketId { expected: 0x0101, found: 0x0102 }");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The body ended before a field did.
    #[error("body ended early: field needs {needed} byte{}, {remaining} remain{}", if *needed == 1 { "" } else { "s" }, if *remaining == 1 { "s" } else { "" })]
    UnexpectedEnd {
        /// Bytes the field needed.
        needed: usize,
        /// Bytes that remained.
        remaining: usize,
    },
    /// The body had bytes left after the packet was decoded.
    #[error("{extra} unread byte{} after the packet body", if *extra == 1 { "" } else { "s" })]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// A `bool` byte other than 0 or 1.
    #[error("invalid bool byte {0:#04x}")]
    InvalidBool(u8),
    /// A `char` that is not a Unicode scalar value.
    #[error("invalid char {0:#x}")]
    InvalidChar(u32),
    /// A string field that is not UTF-8.
    #[error("string is not valid UTF-8 (error at byte {valid_up_to})")]
    InvalidUtf8 {
        /// Length of the valid prefix.
        valid_up_to: usize,
    },
    /// An `Option` tag other than 0 or 1.
    #[error("invalid option tag {0:#04x}")]
    InvalidOptionTag(u8),
    /// A length prefix exceeds the field's maximum.
    #[error("length {len} exceeds the field maximum {max}")]
    LengthOverMax {
        /// The decoded length.
        len: usize,
        /// The field's maximum.
        max: usize,
    },
    /// An enum discriminant that names no variant.
    #[error("unknown discriminant {value} for {type_name}")]
    UnknownDiscriminant {
        /// The tag read (a signed `#[repr]` tag is sign-extended, then read
        /// as `u32`).
        value: u32,
        /// The enum's name as its schema declares it, without a module
        /// path (for a derive-only enum, the Rust type's name): the same
        /// text in every implementation (`docs/wire-format.md` §3).
        type_name: &'static str,
    },
    /// The frame's type id is not the packet's.
    #[error("frame carries packet id {found:#06x}, expected {expected:#06x}")]
    WrongPacketId {
        /// The id expected.
        expected: u16,
        /// The id in the frame.
        found: u16,
    },
    /// The frame's type id names no packet of the dispatch set.
    #[error("unknown packet id {id:#06x}")]
    UnknownPacketId {
        /// The id in the frame.
        id: u16,
    },
    /// A zero-copy view did not fit the body (size or alignment).
    #[error("body of {len} byte{} cannot be viewed as {type_name}", if *len == 1 { "" } else { "s" })]
    BadView {
        /// Body length.
        len: usize,
        /// The target type.
        type_name: &'static str,
    },
    /// A custom codec (`#[packet(with = ...)]`) rejected the data.
    #[error("invalid value: {0}")]
    Invalid(&'static str),
    /// Heap-nested values (`Box`, `Vec`) went deeper than
    /// [`crate::Reader::MAX_DEPTH`]: a recursive type fed hostile input.
    #[error("values nested deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: u32,
    },
}

/// A packet type id in `Debug` output: `0x0101`, as in `Display`.
struct TypeId(u16);

impl fmt::Debug for TypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#06x}", self.0)
    }
}

// By hand rather than derived only for the type ids, which a derived
// `Debug` would write in decimal (`257` for `0x0101`).
impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::UnexpectedEnd { needed, remaining } => f
                .debug_struct("UnexpectedEnd")
                .field("needed", needed)
                .field("remaining", remaining)
                .finish(),
            DecodeError::TrailingBytes { extra } => f
                .debug_struct("TrailingBytes")
                .field("extra", extra)
                .finish(),
            DecodeError::InvalidBool(b) => f.debug_tuple("InvalidBool").field(b).finish(),
            DecodeError::InvalidChar(c) => f.debug_tuple("InvalidChar").field(c).finish(),
            DecodeError::InvalidUtf8 { valid_up_to } => f
                .debug_struct("InvalidUtf8")
                .field("valid_up_to", valid_up_to)
                .finish(),
            DecodeError::InvalidOptionTag(t) => f.debug_tuple("InvalidOptionTag").field(t).finish(),
            DecodeError::LengthOverMax { len, max } => f
                .debug_struct("LengthOverMax")
                .field("len", len)
                .field("max", max)
                .finish(),
            DecodeError::UnknownDiscriminant { value, type_name } => f
                .debug_struct("UnknownDiscriminant")
                .field("value", value)
                .field("type_name", type_name)
                .finish(),
            DecodeError::WrongPacketId { expected, found } => f
                .debug_struct("WrongPacketId")
                .field("expected", &TypeId(*expected))
                .field("found", &TypeId(*found))
                .finish(),
            DecodeError::UnknownPacketId { id } => f
                .debug_struct("UnknownPacketId")
                .field("id", &TypeId(*id))
                .finish(),
            DecodeError::BadView { len, type_name } => f
                .debug_struct("BadView")
                .field("len", len)
                .field("type_name", type_name)
                .finish(),
            DecodeError::Invalid(why) => f.debug_tuple("Invalid").field(why).finish(),
            DecodeError::TooDeep { max } => f.debug_struct("TooDeep").field("max", max).finish(),
        }
    }
}

/// A packet could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The output buffer is too small.
    #[error("buffer full: {needed} more byte{} needed, {remaining} remain{}", if *needed == 1 { "" } else { "s" }, if *remaining == 1 { "s" } else { "" })]
    BufferFull {
        /// Bytes the write needed.
        needed: usize,
        /// Bytes that remained.
        remaining: usize,
    },
    /// A sequence is longer than its length prefix or `max_len` allows.
    #[error("length {len} exceeds the maximum {max} for this field")]
    LengthOverMax {
        /// The sequence length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// The frame would exceed the maximum frame size.
    #[error("frame of {len} bytes exceeds the maximum of {max}")]
    FrameTooLarge {
        /// The frame size it would have.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A custom codec (`#[packet(with = ...)]`) refused the value.
    #[error("invalid value: {0}")]
    Invalid(&'static str),
    /// A sequence field of a derived type is longer than its length prefix
    /// or `max_len` allows: [`EncodeError::LengthOverMax`] with the field
    /// that raised it and the attribute to change.
    #[error(
        "field `{field}` has length {len} (elements; a string's bytes), more than its maximum {max}: {fix}"
    )]
    FieldTooLong {
        /// `Type.field` (or `Type::Variant.field`).
        field: &'static str,
        /// The sequence length.
        len: usize,
        /// The maximum (the smaller of the prefix's and `max_len`).
        max: usize,
        /// What to change, e.g. "widen its prefix with `#[packet(len = u32)]`".
        fix: &'static str,
    },
    /// Heap-nested values (`Box`, `Vec`) of a recursive type go deeper
    /// than [`crate::Writer::MAX_DEPTH`], the [`crate::Reader::MAX_DEPTH`]
    /// past which every decoder refuses them ([`DecodeError::TooDeep`]):
    /// the value is not encoded rather than sent as bytes no peer accepts.
    #[error("values nested deeper than {max} levels: a decoder would refuse them")]
    TooDeep {
        /// The limit ([`crate::Writer::MAX_DEPTH`]). A `usize` like the
        /// other variants' numbers (not the `u32` of
        /// [`DecodeError::TooDeep`]): a `u32` here changed the layout of
        /// `Result<(), EncodeError>` and with it the code of every encode.
        max: usize,
    },
}

impl EncodeError {
    /// Names the field a [`EncodeError::LengthOverMax`] came from (derived
    /// code calls this); any other error, including one already named by a
    /// nested field, is returned unchanged.
    #[doc(hidden)]
    #[cold]
    pub fn in_field(self, field: &'static str, fix: &'static str) -> Self {
        match self {
            EncodeError::LengthOverMax { len, max } => EncodeError::FieldTooLong {
                field,
                len,
                max,
                fix,
            },
            other => other,
        }
    }
}

/// Any error of this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// See [`FrameError`].
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// See [`DecodeError`].
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// See [`EncodeError`].
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// See [`CryptoError`].
    #[cfg(feature = "crypto")]
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// A sealed frame's sequence number was refused by the replay state
/// ([`crate::replay`]). Checked before the tag, so it carries only the
/// claimed sequence, which is not yet authenticated.
#[cfg(feature = "crypto")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// Ordered mode (streams): the sequence is not above the last accepted.
    #[error("sequence {sequence} is not above the last accepted sequence {last}")]
    NotIncreasing {
        /// The frame's sequence.
        sequence: u64,
        /// The last sequence accepted.
        last: u64,
    },
    /// Window mode (datagrams): this sequence was already accepted.
    #[error("sequence {sequence} was already accepted (duplicate)")]
    Duplicate {
        /// The frame's sequence.
        sequence: u64,
    },
    /// Window mode (datagrams): the sequence is behind the window.
    #[error("sequence {sequence} is too old: highest accepted is {highest}, window is {window}")]
    TooOld {
        /// The frame's sequence.
        sequence: u64,
        /// The highest sequence accepted so far.
        highest: u64,
        /// The window size: sequences `<= highest - window` are too old.
        window: u64,
    },
}

/// A sealed frame could not be sealed or opened.
///
/// On every error from an open, no plaintext is left for the caller: the
/// tag is verified before anything is decrypted, and the one check that
/// runs after decryption (zero padding) wipes the decrypted bytes when it
/// fails.
#[cfg(feature = "crypto")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The envelope failed one of the frame rules (length, header, ending,
    /// or zero padding after decryption); nothing was authenticated yet,
    /// except for [`FrameError::NonZeroPadding`].
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The sealed frame could not be written.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The sequence was refused by the replay state (before the tag check).
    #[error(transparent)]
    Replay(#[from] ReplayError),
    /// The Poly1305 tag did not verify: the frame was forged, damaged,
    /// sealed under another key, or reflected (sealed for the other
    /// direction).
    #[error(
        "authentication failed for a {length}-byte frame claiming sequence {sequence} (failure {failures} of this peer)"
    )]
    AuthenticationFailed {
        /// The sequence the frame claimed (unauthenticated).
        sequence: u64,
        /// The frame length.
        length: u32,
        /// This peer's authentication failures so far, this one included.
        failures: u64,
    },
    /// This authentication failure reached the configured limit: the
    /// channel is now closed and the peer must be dropped.
    #[error("{failures} authentication failures reached the limit of {limit}: peer closed")]
    TooManyAuthFailures {
        /// Failures counted.
        failures: u64,
        /// The configured limit.
        limit: u64,
    },
    /// A sealed server session's first frame was not the session hello
    /// (plaintext, type `0xFFFF`, a 16-byte token body).
    #[error(
        "expected the session hello (type 0xFFFF, 16-byte token) first, got type {type_id:#06x} with a {body_len}-byte body"
    )]
    HelloExpected {
        /// The type id of the frame that came instead.
        type_id: u16,
        /// Its body length.
        body_len: u32,
    },
    /// The session hello's token is unknown to the key provider (never
    /// issued, or already used).
    #[error("unknown or already used session token")]
    UnknownSessionToken,
    /// A server session cannot seal before the peer's hello brought its
    /// keys.
    #[error("no session keys yet: nothing is sealed before the peer's session hello")]
    KeysPending,
    /// The channel was closed by an earlier failure limit; it neither
    /// seals nor opens any more.
    #[error("sealed channel is closed after {failures} authentication failures")]
    Closed {
        /// Failures counted.
        failures: u64,
    },
    /// Sealing would use a sequence at or past the key's usage limit (or
    /// wrap the sequence): the application must install new keys.
    #[error("sequence {sequence} reaches the key usage limit {limit}: rekey required")]
    RekeyRequired {
        /// The sequence that would have been used.
        sequence: u64,
        /// The usage limit: sequences `>= limit` are never sealed.
        limit: u64,
    },
    /// [`crate::crypto::SealedChannel::skip_to`] was asked to move the
    /// send sequence backwards, which would reuse nonces.
    #[error("send sequence cannot move back from {next} to {requested}")]
    SequenceBackwards {
        /// The next sequence the channel would use.
        next: u64,
        /// The sequence asked for.
        requested: u64,
    },
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn decode_errors_write_type_ids_in_hex() {
        let wrong = DecodeError::WrongPacketId {
            expected: 0x0101,
            found: 0xFFFF,
        };
        assert_eq!(
            format!("{wrong:?}"),
            "WrongPacketId { expected: 0x0101, found: 0xffff }"
        );
        assert_eq!(
            format!("{wrong}"),
            "frame carries packet id 0xffff, expected 0x0101"
        );
        let unknown = DecodeError::UnknownPacketId { id: 0x0040 };
        assert_eq!(format!("{unknown:?}"), "UnknownPacketId { id: 0x0040 }");
        assert_eq!(format!("{unknown}"), "unknown packet id 0x0040");
        assert_eq!(
            format!("{:?}", Error::from(unknown)),
            "Decode(UnknownPacketId { id: 0x0040 })"
        );
        assert_eq!(
            format!("{unknown:#?}"),
            "UnknownPacketId {\n    id: 0x0040,\n}"
        );
        // The other variants read as a derived `Debug` would.
        assert_eq!(
            format!("{:?}", DecodeError::InvalidBool(2)),
            "InvalidBool(2)"
        );
        assert_eq!(
            format!(
                "{:?}",
                DecodeError::UnknownDiscriminant {
                    value: 3,
                    type_name: "Mood"
                }
            ),
            "UnknownDiscriminant { value: 3, type_name: \"Mood\" }"
        );
    }
}
