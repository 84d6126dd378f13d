//! The frame envelope: `Length + Header + Data + Check + Ending`, padded to
//! a multiple of 4 bytes (`docs/wire-format.md` is the normative text).
//!
//! ```text
//!  0       4   5   6       8               12                              20
//!  +-------+---+---+-------+---------------+-------------------------------+
//!  |length |ver|flg|type_id|   body_len    |           sequence            |
//!  +-------+---+---+-------+---------------+-------------------------------+
//!  | body (body_len bytes) | zero padding to a multiple of 4 |
//!  +-----------------------+-------------+-------------------+
//!  | check: CRC-32 (4)  or  Poly1305 tag (16, sealed frames) | ending "PK\r\n" |
//!  +---------------------------------------------------------+----------------+
//! ```
//!
//! This module encodes frames in place ([`encode_packet`], [`encode_raw`],
//! [`encode_with`]) and validates them ([`decode_frame`] for a datagram,
//! [`check_prefix`] for the first bytes of a stream, used by
//! `crate::stream`). Sealing with ChaCha20-Poly1305 reuses the layout here
//! with a 16-byte check; the cipher itself lives elsewhere.

use zerocopy::byteorder::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::buf::{Reader, Writer};
use crate::codec::{Decode, Encode};
use crate::error::{DecodeError, EncodeError, FrameError};

/// The wire version this implementation writes and accepts.
pub const VERSION: u8 = 1;
/// Bytes of `Length + Header`: the body starts here.
pub const HEADER_LEN: usize = 20;
/// Bytes of the CRC-32 check of a plaintext frame.
pub const CRC_LEN: usize = 4;
/// Bytes of the Poly1305 tag that replaces the check in a sealed frame.
pub const TAG_LEN: usize = 16;
/// The ending marker, the frame's last four bytes: ASCII `"PK\r\n"`.
pub const ENDING: [u8; 4] = *b"PK\r\n";
/// Bytes of the ending marker.
pub const ENDING_LEN: usize = 4;
/// The smallest plaintext frame (empty body): 28 bytes.
pub const MIN_FRAME_LEN: u32 = (HEADER_LEN + CRC_LEN + ENDING_LEN) as u32;
/// The smallest sealed frame (empty body): 40 bytes.
pub const MIN_SEALED_FRAME_LEN: u32 = (HEADER_LEN + TAG_LEN + ENDING_LEN) as u32;
/// The largest length any frame may claim: `u32::MAX` rounded down to 4.
pub const MAX_WIRE_FRAME_LEN: u32 = 0xFFFF_FFFC;
/// The largest frame one UDP datagram carries (wire format §5.1): the
/// 65,507-byte IPv4 UDP payload rounded down to a multiple of 4.
pub const MAX_DATAGRAM_FRAME_LEN: usize = 65_504;

/// Header flag bits.
pub mod flags {
    /// The frame is sealed (ChaCha20-Poly1305): body and padding are
    /// ciphertext and the check is a 16-byte tag.
    pub const ENCRYPTED: u8 = 0x01;
    /// Bits that must be zero in version 1.
    pub const RESERVED: u8 = !ENCRYPTED;
}

/// The first 20 bytes of every frame as they lie on the wire; viewed in
/// place with zerocopy, never copied field by field.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Debug, Clone, Copy)]
#[repr(C)]
pub struct RawHeader {
    /// Whole frame length in bytes.
    pub length: U32,
    /// Wire version.
    pub version: u8,
    /// Flag bits.
    pub flags: u8,
    /// Packet type id.
    pub type_id: U16,
    /// Unpadded body length.
    pub body_len: U32,
    /// Sequence number.
    pub sequence: U64,
}

const _: () = assert!(size_of::<RawHeader>() == HEADER_LEN);

/// A validated frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// Whole frame length in bytes (a multiple of 4).
    pub length: u32,
    /// Wire version.
    pub version: u8,
    /// Flag bits (see [`flags`]).
    pub flags: u8,
    /// Packet type id.
    pub type_id: u16,
    /// Unpadded body length.
    pub body_len: u32,
    /// Sequence number.
    pub sequence: u64,
}

impl Header {
    /// Whether the frame is sealed.
    pub fn is_sealed(&self) -> bool {
        self.flags & flags::ENCRYPTED != 0
    }
}

impl From<&RawHeader> for Header {
    fn from(raw: &RawHeader) -> Self {
        Header {
            length: raw.length.get(),
            version: raw.version,
            flags: raw.flags,
            type_id: raw.type_id.get(),
            body_len: raw.body_len.get(),
            sequence: raw.sequence.get(),
        }
    }
}

/// Decoder limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameConfig {
    max_frame_len: u32,
}

impl FrameConfig {
    /// The default maximum frame: 64 KiB.
    pub const DEFAULT_MAX_FRAME_LEN: u32 = 64 * 1024;

    /// The default configuration.
    pub const fn new() -> Self {
        Self {
            max_frame_len: Self::DEFAULT_MAX_FRAME_LEN,
        }
    }

    /// Sets the largest frame a decoder accepts. The value is rounded down
    /// to a multiple of 4 and raised to at least [`MIN_SEALED_FRAME_LEN`].
    pub const fn with_max_frame_len(mut self, max: u32) -> Self {
        let max = max & !3;
        self.max_frame_len = if max < MIN_SEALED_FRAME_LEN {
            MIN_SEALED_FRAME_LEN
        } else {
            max
        };
        self
    }

    /// The largest frame a decoder accepts.
    pub const fn max_frame_len(&self) -> u32 {
        self.max_frame_len
    }
}

impl Default for FrameConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// Rounds `n` up to a multiple of 4, saturating: a length near
/// `usize::MAX` (such as the `usize::MAX` that `Encode::encoded_len`
/// reports for a value that cannot be encoded) stays larger than any
/// buffer instead of wrapping to a small number.
#[inline]
pub const fn padded_len(n: usize) -> usize {
    n.saturating_add(3) & !3
}

/// The frame length a plaintext body of `body_len` bytes produces
/// (saturating, like [`padded_len`]).
#[inline]
pub const fn frame_len_for(body_len: usize) -> usize {
    padded_len(body_len).saturating_add(HEADER_LEN + CRC_LEN + ENDING_LEN)
}

/// The plaintext frame length for a body of `body_len` bytes, `None` if it
/// would overflow `usize` (`const` form of [`frame_len_for`]).
pub const fn max_frame_len_for(body_len: usize) -> Option<usize> {
    match body_len.checked_add(HEADER_LEN + CRC_LEN + ENDING_LEN + 3) {
        Some(n) => Some(n & !3),
        None => None,
    }
}

/// A top-level packet: a body with a type id.
///
/// `#[derive(Packet)]` implements it along with [`Encode`] and [`Decode`];
/// [`encode_packet`] puts [`Packet::ID`] in the frame header
/// and [`crate::Frame::decode_packet`] checks it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a packet",
    label = "`{Self}` does not implement `Packet` (no packet type id)",
    note = "derive it: `#[derive(Packet)]` with `#[packet(id = ..)]` (without an `id` the derive makes a field type, not a packet)",
    note = "a `#[derive(PacketSet)]` enum is not a `Packet`: send the variant's packet, or use the set's own encode (`PacketSet::encode_frame`)"
)]
pub trait Packet: Encode {
    /// The packet type id carried in the frame header.
    const ID: u16;

    /// The largest plaintext frame this packet encodes to (header, padded
    /// body, check and ending), or `None` when its body is unbounded.
    /// Compare it with a buffer's capacity in a `const` assertion:
    ///
    /// ```
    /// # use packet_core::{Encode, EncodeError, Packet, Writer, DEFAULT_PACKET_SIZE};
    /// struct Ping(u32);
    /// impl Encode for Ping {
    ///     const MAX_SIZE: Option<usize> = Some(4);
    ///     fn encoded_len(&self) -> usize { 4 }
    ///     fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> { self.0.encode(w) }
    /// }
    /// impl Packet for Ping { const ID: u16 = 1; }
    ///
    /// // 20 header + 4 body + 4 CRC + 4 ending.
    /// const _: () = assert!(matches!(Ping::MAX_FRAME_LEN, Some(32)));
    /// const _: () = assert!(matches!(Ping::MAX_FRAME_LEN, Some(n) if n <= DEFAULT_PACKET_SIZE));
    /// // Sealed (wire-format §7): the 16-byte tag takes the CRC's place.
    /// const _: () = assert!(matches!(Ping::MAX_SEALED_FRAME_LEN, Some(44)));
    /// ```
    const MAX_FRAME_LEN: Option<usize> = match Self::MAX_SIZE {
        Some(body) => max_frame_len_for(body),
        None => None,
    };

    /// The largest sealed frame this packet encodes to (wire-format §7:
    /// header, padded body, 16-byte tag in place of the CRC, ending), or
    /// `None` when its body is unbounded: [`Packet::MAX_FRAME_LEN`] plus
    /// `TAG_LEN - CRC_LEN` (12) bytes. What a sealed transport's buffer
    /// must hold for this packet.
    const MAX_SEALED_FRAME_LEN: Option<usize> = match Self::MAX_FRAME_LEN {
        Some(n) => n.checked_add(TAG_LEN - CRC_LEN),
        None => None,
    };

    /// The smallest plaintext frame this packet encodes to (header, padded
    /// [`Encode::MIN_SIZE`], check and ending; saturating). Whether a
    /// packet fits is decided where its frames go, against this constant
    /// at compile time: [`PacketBuf::encode`] refuses a packet whose
    /// smallest frame exceeds the buffer, packet-net's UDP sockets one
    /// that exceeds a datagram ([`assert_fits_datagram`]), and
    /// `#[derive(Packet)]` one that exceeds every transport
    /// ([`MAX_WIRE_FRAME_LEN`]). Stream transports (TCP) take frames up to
    /// their decoder's `max_frame_len` (64 KiB by default). The buffer and
    /// datagram checks are post-monomorphization `const` errors: `cargo
    /// build` (or `cargo test`) reports them, `cargo check` does not.
    ///
    /// ```
    /// # use packet_core::{Encode, EncodeError, Packet, Writer};
    /// struct Map([u8; 2000]); // e.g. what `#[derive(Packet)]` makes of `[[u8; 50]; 40]`
    /// impl Encode for Map {
    ///     const MAX_SIZE: Option<usize> = Some(2000);
    ///     const MIN_SIZE: usize = 2000;
    ///     fn encoded_len(&self) -> usize { 2000 }
    ///     fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> { w.put_bytes(&self.0) }
    /// }
    /// impl Packet for Map { const ID: u16 = 7; }
    ///
    /// // 20 header + 2000 body + 4 CRC + 4 ending: too big for the default
    /// // 1200-byte `PacketBuf` or a typical datagram, fine for TCP.
    /// assert_eq!(Map::MIN_FRAME_LEN, 2028);
    /// ```
    const MIN_FRAME_LEN: usize = frame_len_for(Self::MIN_SIZE);

    /// Writes the packet's fields (the seed's `writeData`).
    #[inline]
    fn write_data(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.encode(w)
    }

    /// Reads the packet's fields (the seed's `readData`), borrowing from the
    /// input where the fields do.
    #[inline]
    fn read_data<'de>(r: &mut Reader<'de>) -> Result<Self, DecodeError>
    where
        Self: Decode<'de>,
    {
        Self::decode(r)
    }
}

impl<T: Packet + ?Sized> Packet for &T {
    const ID: u16 = T::ID;
}

/// The default size of a [`PacketBuf`]: 1200 bytes, a frame that fits in
/// one UDP datagram on any common path MTU without IP fragmentation.
/// It limits only what is encoded into a default `PacketBuf`: a larger
/// packet is sent through a `PacketBuf<N>` with a larger `N` or a stream.
pub const DEFAULT_PACKET_SIZE: usize = 1200;

/// Compile-time: `P`'s smallest frame fits a buffer of `capacity` bytes,
/// else a `const` panic naming the remedy. Call it in an inline `const`
/// block of a function generic over `P` (it fails when that function is
/// instantiated for a `P` that can never fit, as [`PacketBuf::encode`]
/// does for its `N`).
#[doc(hidden)]
pub const fn assert_fits_buffer<P: Packet + ?Sized>(capacity: usize) {
    if P::MIN_FRAME_LEN > capacity {
        panic!(
            "this packet can never fit this PacketBuf: its smallest frame (`Packet::MIN_FRAME_LEN`) is larger than the buffer's `N`; use `PacketBuf::<N>` with a larger `N` (or a stream transport, whose frames go up to its `max_frame_len`)"
        );
    }
}

/// Compile-time: `P`'s smallest plaintext frame fits one UDP datagram
/// ([`MAX_DATAGRAM_FRAME_LEN`]), else a `const` panic. packet-net's UDP
/// sockets call it in an inline `const` block of `send` / `send_to`, so
/// sending a packet no datagram can carry does not compile (a sealed
/// frame is 12 bytes longer; that, and the socket's configured maximum,
/// are checked when the frame is encoded).
///
/// Evaluated where the generic function is instantiated (a
/// post-monomorphization `const` error): `cargo build` and `cargo test`
/// report it, `cargo check` (and an editor's check-on-save) does not.
///
/// ```compile_fail
/// # use packet_core::{Encode, EncodeError, Packet, Writer, frame::assert_fits_datagram};
/// struct Huge([u8; 76_800]); // TCP only
/// impl Encode for Huge {
///     const MAX_SIZE: Option<usize> = Some(76_800);
///     const MIN_SIZE: usize = 76_800;
///     fn encoded_len(&self) -> usize { 76_800 }
///     fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> { w.put_bytes(&self.0) }
/// }
/// impl Packet for Huge { const ID: u16 = 7; }
///
/// const _: () = assert_fits_datagram::<Huge>();
/// ```
pub const fn assert_fits_datagram<P: Packet + ?Sized>() {
    if P::MIN_FRAME_LEN > MAX_DATAGRAM_FRAME_LEN {
        panic!(
            "this packet can never fit a UDP datagram: its smallest frame (`Packet::MIN_FRAME_LEN`) is larger than 65,504 bytes (`MAX_DATAGRAM_FRAME_LEN`); send it over a stream (TCP) instead"
        );
    }
}

/// A fixed-size, stack-allocatable packet buffer holding at most one frame.
///
/// `N` is its capacity in bytes ([`DEFAULT_PACKET_SIZE`] unless named).
/// Encoding a frame that does not fit is an [`EncodeError::BufferFull`],
/// never a panic and never a truncated frame.
///
/// ```
/// # use packet_core::PacketBuf;
/// let mut buf: PacketBuf<64> = PacketBuf::new();
/// let frame = buf.encode_raw(0x0001, 9, b"ping")?;
/// assert_eq!(frame.len(), 32);
/// # Ok::<(), packet_core::EncodeError>(())
/// ```
#[derive(Clone)]
pub struct PacketBuf<const N: usize = DEFAULT_PACKET_SIZE> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> PacketBuf<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        Self {
            bytes: [0; N],
            len: 0,
        }
    }

    /// The capacity, `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Encodes `packet` as one frame with `sequence`, replacing the contents;
    /// returns the frame's bytes.
    ///
    /// A packet whose *smallest* frame ([`Packet::MIN_FRAME_LEN`]) exceeds
    /// `N` does not compile (a `const` assertion when this method is
    /// instantiated: a post-monomorphization error that `cargo build` and
    /// `cargo test` report, `cargo check` does not); a value larger than
    /// `N` is [`EncodeError::BufferFull`] at run time.
    ///
    /// ```
    /// # use packet_core::{Encode, EncodeError, Packet, PacketBuf, Writer};
    /// # struct Map([u8; 2000]);
    /// # impl Encode for Map {
    /// #     const MAX_SIZE: Option<usize> = Some(2000);
    /// #     const MIN_SIZE: usize = 2000;
    /// #     fn encoded_len(&self) -> usize { 2000 }
    /// #     fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> { w.put_bytes(&self.0) }
    /// # }
    /// # impl Packet for Map { const ID: u16 = 7; }
    /// let mut buf: PacketBuf<4096> = PacketBuf::new(); // not the default 1200
    /// let frame = buf.encode(&Map([1; 2000]), 0)?; // a 2028-byte frame
    /// assert_eq!(frame.len(), 2028);
    /// # Ok::<(), packet_core::EncodeError>(())
    /// ```
    pub fn encode<P: Packet + ?Sized>(
        &mut self,
        packet: &P,
        sequence: u64,
    ) -> Result<&[u8], EncodeError> {
        const { assert_fits_buffer::<P>(N) };
        self.len = 0;
        self.len = encode_packet(packet, sequence, &mut self.bytes)?;
        Ok(&self.bytes[..self.len])
    }

    /// Encodes a frame whose body is the given bytes.
    pub fn encode_raw(
        &mut self,
        type_id: u16,
        sequence: u64,
        body: &[u8],
    ) -> Result<&[u8], EncodeError> {
        self.len = 0;
        self.len = encode_raw(type_id, sequence, body, &mut self.bytes)?;
        Ok(&self.bytes[..self.len])
    }

    /// The current contents (an encoded frame, or bytes received).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The whole storage, to receive a datagram into; follow with
    /// [`PacketBuf::set_len`].
    pub fn storage_mut(&mut self) -> &mut [u8; N] {
        &mut self.bytes
    }

    /// Sets how many bytes of the storage are valid (clamped to `N`).
    pub fn set_len(&mut self, len: usize) {
        self.len = len.min(N);
    }

    /// The number of valid bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Empties the buffer.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Validates the contents as exactly one frame (datagram rules).
    pub fn frame(&self, config: &FrameConfig) -> Result<Frame<'_>, FrameError> {
        decode_frame(self.as_bytes(), config)
    }
}

impl<const N: usize> Default for PacketBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> core::fmt::Debug for PacketBuf<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PacketBuf")
            .field("capacity", &N)
            .field("len", &self.len)
            .finish()
    }
}

/// Encodes `packet` as a plaintext frame with `sequence` into the start of
/// `out`; returns the frame length. The body is written once, in place.
#[inline]
pub fn encode_packet<P: Packet + ?Sized>(
    packet: &P,
    sequence: u64,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    encode_with(P::ID, sequence, out, |w| packet.write_data(w))
}

/// Encodes a frame whose body is `body`.
#[inline]
pub fn encode_raw(
    type_id: u16,
    sequence: u64,
    body: &[u8],
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    encode_with(type_id, sequence, out, |w| w.put_bytes(body))
}

/// Encodes a frame whose body `write_body` writes through a [`Writer`]
/// positioned at the body, in place in `out`; returns the frame length.
pub fn encode_with(
    type_id: u16,
    sequence: u64,
    out: &mut [u8],
    write_body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
) -> Result<usize, EncodeError> {
    let (body_len, padded) = write_body_region(out, CRC_LEN, write_body)?;
    let check_at = HEADER_LEN + padded;
    let length = check_at + CRC_LEN + ENDING_LEN;
    write_header(out, length, 0, type_id, body_len, sequence)?;
    let crc = crc32fast::hash(&out[..check_at]);
    out[check_at..check_at + CRC_LEN].copy_from_slice(&crc.to_le_bytes());
    out[check_at + CRC_LEN..length].copy_from_slice(&ENDING);
    Ok(length)
}

/// Writes the body after the header space, zero-pads it, and returns
/// `(body_len, padded_len)`. `check_len` is the size of the check field
/// that must still fit after the padding.
#[doc(hidden)]
pub fn write_body_region(
    out: &mut [u8],
    check_len: usize,
    write_body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
) -> Result<(usize, usize), EncodeError> {
    let overhead = HEADER_LEN + check_len + ENDING_LEN;
    if out.len() < overhead {
        return Err(EncodeError::BufferFull {
            needed: overhead,
            remaining: out.len(),
        });
    }
    // The body may use what is left once the overhead is set aside, rounded
    // down to a multiple of 4 so that its padding always fits.
    let body_cap = (out.len() - overhead) & !3;
    let mut w = Writer::new(&mut out[HEADER_LEN..HEADER_LEN + body_cap]);
    write_body(&mut w)?;
    let body_len = w.position();
    let padded = padded_len(body_len);
    // Zero the padding with a fixed 3-byte store rather than a variable
    // memset: the check field follows the padding and is written later, so
    // those 3 bytes always exist and any beyond the padding are overwritten.
    let start = HEADER_LEN + body_len;
    match out.get_mut(start..start + 3) {
        Some(pad) => pad.copy_from_slice(&[0; 3]),
        None => out[start..HEADER_LEN + padded].fill(0),
    }
    Ok((body_len, padded))
}

/// Writes the 20 header bytes.
#[doc(hidden)]
#[inline]
pub fn write_header(
    out: &mut [u8],
    length: usize,
    flags: u8,
    type_id: u16,
    body_len: usize,
    sequence: u64,
) -> Result<(), EncodeError> {
    let too_large = EncodeError::FrameTooLarge {
        len: length,
        max: MAX_WIRE_FRAME_LEN as usize,
    };
    let length = u32::try_from(length).map_err(|_| too_large)?;
    let body_len = u32::try_from(body_len).map_err(|_| too_large)?;
    if length > MAX_WIRE_FRAME_LEN {
        return Err(too_large);
    }
    let header = RawHeader {
        length: U32::new(length),
        version: VERSION,
        flags,
        type_id: U16::new(type_id),
        body_len: U32::new(body_len),
        sequence: U64::new(sequence),
    };
    let remaining = out.len();
    let slot = out
        .first_chunk_mut::<HEADER_LEN>()
        .ok_or(EncodeError::BufferFull {
            needed: HEADER_LEN,
            remaining,
        })?;
    *slot = zerocopy::transmute!(header);
    Ok(())
}

/// Checks a frame's first bytes (rules 1 to 4 of `docs/wire-format.md` §4):
/// `Ok(None)` while fewer than 4 bytes are present, otherwise the frame
/// length once it is known to be within `[28, max]` and a multiple of 4.
#[inline]
pub fn check_prefix(bytes: &[u8], config: &FrameConfig) -> Result<Option<u32>, FrameError> {
    let Some(prefix) = bytes.first_chunk::<4>() else {
        return Ok(None);
    };
    let length = u32::from_le_bytes(*prefix);
    if length < MIN_FRAME_LEN {
        return Err(FrameError::LengthTooSmall {
            length,
            min: MIN_FRAME_LEN,
        });
    }
    if length > config.max_frame_len {
        return Err(FrameError::LengthTooLarge {
            length,
            max: config.max_frame_len,
        });
    }
    if length % 4 != 0 {
        return Err(FrameError::Misaligned { length });
    }
    Ok(Some(length))
}

/// Validates `bytes` as exactly one plaintext frame (a datagram: no bytes
/// may follow it) and returns it, borrowing the body.
#[inline]
pub fn decode_frame<'a>(bytes: &'a [u8], config: &FrameConfig) -> Result<Frame<'a>, FrameError> {
    let length = check_prefix(bytes, config)?.ok_or(FrameError::Truncated {
        available: bytes.len(),
        needed: 4,
    })?;
    let frame = exact_frame(bytes, length)?;
    Frame::parse_exact(frame)
}

/// Rules 5 and 6: the buffer holds the whole frame and nothing more.
#[doc(hidden)]
#[inline]
pub fn exact_frame(bytes: &[u8], length: u32) -> Result<&[u8], FrameError> {
    let len = length as usize;
    match bytes.len().cmp(&len) {
        core::cmp::Ordering::Less => Err(FrameError::Truncated {
            available: bytes.len(),
            needed: len,
        }),
        core::cmp::Ordering::Greater => Err(FrameError::TrailingBytes {
            length,
            extra: bytes.len() - len,
        }),
        core::cmp::Ordering::Equal => Ok(bytes),
    }
}

/// Rules 7 to 10 on a complete frame whose length prefix passed
/// [`check_prefix`]: version, reserved flags, sealing, body length.
/// Returns the header.
///
/// The length field must equal `frame.len()` (rules 5 and 6); this is
/// checked again here so that no caller can pair a header with a slice of
/// another size and reach an out-of-bounds index further on.
#[doc(hidden)]
pub fn check_header(frame: &[u8], expect_sealed: bool) -> Result<Header, FrameError> {
    let (raw, _) = RawHeader::ref_from_prefix(frame).map_err(|_| FrameError::Truncated {
        available: frame.len(),
        needed: HEADER_LEN,
    })?;
    let header = Header::from(raw);
    exact_frame(frame, header.length)?;
    if header.version != VERSION {
        return Err(FrameError::BadVersion {
            found: header.version,
            expected: VERSION,
        });
    }
    if header.flags & flags::RESERVED != 0 {
        return Err(FrameError::ReservedFlags {
            flags: header.flags,
        });
    }
    let sealed = header.is_sealed();
    if sealed != expect_sealed {
        return Err(FrameError::UnexpectedEncryption { sealed });
    }
    let (check_len, min) = if sealed {
        (TAG_LEN, MIN_SEALED_FRAME_LEN)
    } else {
        (CRC_LEN, MIN_FRAME_LEN)
    };
    if header.length < min {
        return Err(FrameError::LengthTooSmall {
            length: header.length,
            min,
        });
    }
    // `length >= min` was just checked, so this cannot underflow.
    let room = header.length as usize - HEADER_LEN - check_len - ENDING_LEN;
    let body_len = header.body_len as usize;
    // Compare before rounding: on a 32-bit target `padded_len` of a body
    // length near `u32::MAX` would overflow (and wrap to 0 in release).
    if body_len > room || padded_len(body_len) != room {
        return Err(FrameError::BodyLengthMismatch {
            body_len: header.body_len,
            length: header.length,
        });
    }
    Ok(header)
}

/// Rule 11: the ending marker.
#[doc(hidden)]
pub fn check_ending(frame: &[u8]) -> Result<(), FrameError> {
    match frame.last_chunk::<4>() {
        Some(end) if *end == ENDING => Ok(()),
        Some(end) => Err(FrameError::BadEnding { found: *end }),
        None => Err(FrameError::Truncated {
            available: frame.len(),
            needed: ENDING_LEN,
        }),
    }
}

/// Rule 13: padding bytes are zero. `body_len` comes from a header that
/// passed [`check_header`]; a body that does not fit `frame` is reported as
/// truncated rather than indexed out of bounds.
#[doc(hidden)]
pub fn check_padding(frame: &[u8], body_len: usize) -> Result<(), FrameError> {
    let start = HEADER_LEN.saturating_add(body_len);
    let end = start.saturating_add(3) & !3;
    let Some(padding) = frame.get(start..end) else {
        return Err(FrameError::Truncated {
            available: frame.len(),
            needed: end,
        });
    };
    match padding.iter().position(|&b| b != 0) {
        None => Ok(()),
        Some(i) => Err(FrameError::NonZeroPadding {
            offset: start + i,
            value: padding[i],
        }),
    }
}

/// A validated plaintext frame, borrowing its body from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    header: Header,
    body: &'a [u8],
}

impl<'a> Frame<'a> {
    /// Validates `frame` as exactly one complete plaintext frame with every
    /// rule of `docs/wire-format.md` §4 except the configured maximum (the
    /// length may be anything up to [`MAX_WIRE_FRAME_LEN`]); use
    /// [`decode_frame`] to enforce a [`FrameConfig`].
    pub fn parse(frame: &'a [u8]) -> Result<Self, FrameError> {
        const ANY: FrameConfig = FrameConfig::new().with_max_frame_len(MAX_WIRE_FRAME_LEN);
        let length = check_prefix(frame, &ANY)?.ok_or(FrameError::Truncated {
            available: frame.len(),
            needed: 4,
        })?;
        Self::parse_exact(exact_frame(frame, length)?)
    }

    /// Rules 7 to 13 on a frame that passed rules 1 to 6.
    #[inline(always)]
    pub(crate) fn parse_exact(frame: &'a [u8]) -> Result<Self, FrameError> {
        let Some((fixed, _)) = frame.split_first_chunk::<HEADER_LEN>() else {
            return Err(FrameError::Truncated {
                available: frame.len(),
                needed: HEADER_LEN,
            });
        };
        let header = Header::from(RawHeader::ref_from_bytes(fixed.as_slice()).map_err(|_| {
            FrameError::Truncated {
                available: frame.len(),
                needed: HEADER_LEN,
            }
        })?);
        // Fast path: rules 7 to 11 for a well-formed plaintext frame in a
        // few branch-free comparisons; on any failure the rule-by-rule
        // checks below find and report the first broken rule.
        let len = frame.len();
        let body_len = header.body_len as usize;
        let room = len.wrapping_sub(HEADER_LEN + CRC_LEN + ENDING_LEN);
        let well_formed = (header.length as usize == len)
            & (header.version == VERSION)
            & (header.flags == 0)
            & (len >= MIN_FRAME_LEN as usize)
            & (body_len <= room)
            & ((body_len.wrapping_add(3) & !3) == room)
            & (frame.last_chunk::<ENDING_LEN>() == Some(&ENDING));
        if !well_formed {
            check_header(frame, false)?;
            check_ending(frame)?;
        }
        let check_at = len - ENDING_LEN - CRC_LEN;
        let (covered, rest) = frame.split_at(check_at);
        let Some(check) = rest.first_chunk::<CRC_LEN>() else {
            return Err(FrameError::Truncated {
                available: len,
                needed: MIN_FRAME_LEN as usize,
            });
        };
        let expected = u32::from_le_bytes(*check);
        let computed = crc32fast::hash(covered);
        if expected != computed {
            return Err(FrameError::CrcMismatch { expected, computed });
        }
        // Padding: the unused high bytes of the body's last 4-byte word.
        let tail = body_len % 4;
        if tail != 0 {
            let word_at = HEADER_LEN + (body_len - tail);
            let word = covered
                .get(word_at..word_at + 4)
                .and_then(|w| w.first_chunk::<4>())
                .map_or(u32::MAX, |w| u32::from_le_bytes(*w));
            if word & (u32::MAX << (8 * tail)) != 0 {
                check_padding(frame, body_len)?;
            }
        }
        let body = covered.get(HEADER_LEN..HEADER_LEN + body_len).ok_or(
            FrameError::BodyLengthMismatch {
                body_len: header.body_len,
                length: header.length,
            },
        )?;
        Ok(Frame { header, body })
    }

    /// Builds a frame from a header and body already validated elsewhere
    /// (an opened sealed frame).
    #[doc(hidden)]
    pub fn from_parts(header: Header, body: &'a [u8]) -> Self {
        Frame { header, body }
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The packet type id.
    pub fn type_id(&self) -> u16 {
        self.header.type_id
    }

    /// The sequence number.
    pub fn sequence(&self) -> u64 {
        self.header.sequence
    }

    /// The body, unpadded, borrowed from the input.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// Decodes the body as packet `P`: checks the type id, reads every
    /// field and requires that no body byte is left over.
    pub fn decode_packet<P: Packet + Decode<'a>>(&self) -> Result<P, DecodeError> {
        if self.header.type_id != P::ID {
            return Err(DecodeError::WrongPacketId {
                expected: P::ID,
                found: self.header.type_id,
            });
        }
        self.decode_body()
    }

    /// Decodes the body as `T` without looking at the type id.
    pub fn decode_body<T: Decode<'a>>(&self) -> Result<T, DecodeError> {
        let mut r = Reader::new(self.body);
        let value = T::decode(&mut r)?;
        r.finish()?;
        Ok(value)
    }

    /// Views the body in place as a zerocopy type: no copy, no parsing.
    /// The body must be exactly `size_of::<T>()` bytes (else
    /// [`DecodeError::BadView`]). `T` must be `Unaligned` (built from
    /// zerocopy's little-endian integers and floats), as for a [`View`]
    /// field: a body sits at any address, so a type of alignment 4 or 8
    /// would view only by luck of the buffer's placement, and not at all
    /// at the 20-byte body offset for alignment 8.
    ///
    /// [`View`]: crate::View
    pub fn view<T: FromBytes + KnownLayout + Immutable + Unaligned>(
        &self,
    ) -> Result<&'a T, DecodeError> {
        view_body(self.body)
    }
}

/// Views all of `body` as `T` (used by [`Frame::view`] and by
/// [`crate::View`]'s decoder).
pub(crate) fn view_body<T: FromBytes + KnownLayout + Immutable + Unaligned>(
    body: &[u8],
) -> Result<&T, DecodeError> {
    T::ref_from_bytes(body).map_err(|_| DecodeError::BadView {
        len: body.len(),
        type_name: core::any::type_name::<T>(),
    })
}
