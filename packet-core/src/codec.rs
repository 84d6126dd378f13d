//! The field codec: the [`Encode`] / [`Decode`] traits and the wire form of
//! every built-in type. It sits on the cursors of [`crate::buf`] and knows
//! nothing of frames: the `Packet` trait (a body with a type id) and
//! `PacketBuf` live in [`crate::frame`], one layer up.
//!
//! | type | wire form |
//! |---|---|
//! | `u8`..`u128`, `i8`..`i128` | little-endian, natural width (two's complement) |
//! | `f32`, `f64` | IEEE 754 bits, little-endian |
//! | `bool` | one byte, 0 or 1 (anything else is [`DecodeError::InvalidBool`]) |
//! | `char` | `u32` scalar value |
//! | `[T; N]` | N elements, no prefix |
//! | `Option<T>` | tag byte 0 (None) or 1 (Some) then `T` |
//! | tuples | the elements in order |
//! | `&str`, `&[u8]`, `String`, `Vec<T>`, `Box<[T]>` | length prefix (`u16` by default, or `u8`/`u32` per field) then the items |
//! | `Box<T>` | `T` |
//!
//! Sequences choose their prefix width per field with the helpers
//! [`encode_bytes`], [`decode_str`], [`encode_seq`], ... generic over a
//! [`LenPrefix`] (`u8`, `u16`, `u32`); the plain trait impls use
//! [`DefaultLen`] (`u16`). This module does no framing: see
//! [`crate::frame`].

#[cfg(feature = "alloc")]
use alloc::{boxed::Box, string::String, vec::Vec};

use zerocopy::IntoBytes;
#[cfg(feature = "alloc")]
use zerocopy::TryFromBytes;

use crate::buf::{Reader, Writer, copy_bytes, utf8};
use crate::error::{DecodeError, EncodeError};

/// A value that can be written as packet fields.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be written as packet fields: it does not implement `Encode`",
    label = "no `Encode` for `{Self}`",
    note = "derive `Packet` for it (a field type needs no `id`), or use `#[packet(with = ..)]` on the field for a custom codec"
)]
pub trait Encode {
    /// The largest encoded size in bytes, or `None` when unbounded (or
    /// larger than `usize`). Combine with [`size::add`], [`size::max`] and
    /// [`size::mul`] in `const` context.
    const MAX_SIZE: Option<usize>;

    /// A lower bound on the encoded size in bytes: every value writes at
    /// least this many. The default, 0, is always correct; built-in types
    /// give their exact minimum and `#[derive(Packet)]` sums its fields', so
    /// that a packet that can never fit a buffer is caught at compile time.
    ///
    /// The minimum of an indirection, `Option<T>` (its tag) and the
    /// sequences `Vec<T>`, `Box<[T]>`, `[T]`, `String`, `str` (their
    /// prefix), never reads `T::MIN_SIZE`: a type that contains itself
    /// through one of them still has a finite, non-cyclic minimum.
    const MIN_SIZE: usize = 0;

    /// `Some(n)` when every value encodes to exactly `n` bytes: the
    /// largest size equals the smallest. Runs of such values (`Vec<T>`,
    /// `[T; N]`, slices, consecutive fields of a derived type) are written
    /// after one capacity check for the whole run.
    const FIXED_SIZE: Option<usize> = match Self::MAX_SIZE {
        Some(max) if max == Self::MIN_SIZE => Some(max),
        _ => None,
    };

    /// Whether, on this target, a value's bytes in memory are exactly its
    /// wire bytes (no padding, little-endian plain data): `u8`, `i8`,
    /// multi-byte numbers on little-endian targets, arrays of them and
    /// `#[packet(pod)]` structs. Runs of such types that also implement
    /// zerocopy's traits are copied in one go.
    #[doc(hidden)]
    const MEMORY_IS_WIRE: bool = false;

    /// The exact number of bytes [`Encode::encode`] writes, or
    /// `usize::MAX` when `encode` would refuse the value because a
    /// sequence in it is longer than its length prefix or `max_len`
    /// allows, or because it is nested deeper than [`Writer::MAX_DEPTH`]
    /// (no buffer is that large, so a size check refuses it too; past
    /// that depth it stops descending, so a deep value cannot overflow the
    /// stack). Sum sizes with `saturating_add`.
    fn encoded_len(&self) -> usize;

    /// Writes the value.
    ///
    /// A value nested deeper than [`Writer::MAX_DEPTH`] heap levels (a
    /// recursive type's `Box`es and `Vec`s, counted as the decoder counts
    /// them) is refused with [`EncodeError::TooDeep`]: every decoder would
    /// refuse it with [`DecodeError::TooDeep`]. The count is kept by
    /// `#[derive(Packet)]` types and this crate's impls (`Box`, `Vec`,
    /// `Option`, slices, arrays, tuples, references); a hand-written impl
    /// does not count what it writes itself.
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError>;

    /// Whether a value may contain a recursive type, one that nests
    /// without a bound known at compile time (`#[derive(Packet)]` sets it
    /// for recursive types and for types whose fields contain one).
    /// `encode` and `encoded_len` of such a type are
    /// [`Encode::encode_nested`] and [`Encode::nested_len`]: they count
    /// heap nesting levels and stop past [`Writer::MAX_DEPTH`]. For every
    /// other type it is `false` and no depth is counted.
    #[doc(hidden)]
    const RECURSIVE: bool = false;

    /// Whether a value never contains a heap nesting level (a `Box<T>` or a
    /// `Vec<T>`, which the decoder counts): [`Encode::encode_nested`] is
    /// then `encode`, and a run of such values is written as usual inside
    /// a recursive type. `false`, the default, is always correct.
    #[doc(hidden)]
    const FLAT: bool = false;

    /// Writes a value found `depth` heap nesting levels deep, counting
    /// the levels below it as the decoder counts them in its reader (one
    /// for each `Box<T>` and each `Vec<T>`), and refusing one past
    /// [`Writer::MAX_DEPTH`] with [`EncodeError::TooDeep`] before going
    /// into it. Containers and derived types pass it on to their parts;
    /// the default, `encode`, is exact for a type without `Box` or `Vec`
    /// inside. The depth is an argument, not a field of the [`Writer`]:
    /// the writer of every other encode stays as it was.
    #[doc(hidden)]
    #[inline]
    fn encode_nested(&self, w: &mut Writer<'_>, depth: u32) -> Result<(), EncodeError> {
        let _ = depth;
        self.encode(w)
    }

    /// [`Encode::encoded_len`] of a value found `depth` nesting levels
    /// deep: `usize::MAX` (what `encode` refuses) as soon as a level past
    /// [`Writer::MAX_DEPTH`] is reached, without descending further, so
    /// that no value, however deep, recurses more than that many levels.
    #[doc(hidden)]
    #[inline]
    fn nested_len(&self, depth: u32) -> usize {
        let _ = depth;
        self.encoded_len()
    }

    /// Whether a `Box<Self>` is a nesting level for the decoder (true but
    /// for `Box<str>`, which decodes as a string).
    #[doc(hidden)]
    const BOX_ENTERS: bool = true;

    /// Writes the value into `out`, exactly [`Encode::FIXED_SIZE`] bytes
    /// already reserved by the caller (one capacity check for a whole run).
    /// Only called when `FIXED_SIZE` is `Some`; the default goes through a
    /// [`Writer`], primitives and derived types store directly.
    #[doc(hidden)]
    #[inline]
    fn encode_fixed(&self, out: &mut [u8]) -> Result<(), EncodeError> {
        self.encode(&mut Writer::new(out))
    }

    /// Writes a run of values: one capacity check and straight-line stores
    /// when `Self` has a fixed size, one copy for plain little-endian data.
    #[doc(hidden)]
    #[inline]
    fn encode_slice(items: &[Self], w: &mut Writer<'_>) -> Result<(), EncodeError>
    where
        Self: Sized,
    {
        encode_run(items, w)
    }

    /// Writes a run of fixed-size values into `out`, exactly their
    /// encoded size, already reserved by the caller (a sequence's prefix
    /// and items in one reservation): each value into its slot, one copy
    /// for plain little-endian data. Without a fixed size (or with `out`
    /// of another length) it goes through [`Encode::encode_slice`].
    #[doc(hidden)]
    #[inline]
    fn encode_fixed_run(items: &[Self], out: &mut [u8]) -> Result<(), EncodeError>
    where
        Self: Sized,
    {
        fixed_run(items, out)
    }

    /// The encoded size of a run of values (saturating).
    #[doc(hidden)]
    #[inline]
    fn slice_encoded_len(items: &[Self]) -> usize
    where
        Self: Sized,
    {
        match Self::FIXED_SIZE {
            Some(size) => items.len().saturating_mul(size),
            None => items
                .iter()
                .fold(0usize, |n, item| n.saturating_add(item.encoded_len())),
        }
    }
}

/// [`Encode::encode_slice`]'s general form: a fixed-size run is reserved
/// once and each element stored into its slot; otherwise (or when the run
/// does not fit, so that the error names the element that ran out) the
/// elements are written one by one.
#[inline]
fn encode_run<T: Encode>(items: &[T], w: &mut Writer<'_>) -> Result<(), EncodeError> {
    if let Some(size) = T::FIXED_SIZE
        && size > 0
        && let Some(total) = items.len().checked_mul(size)
        && let Some(out) = w.try_reserve(total)
    {
        return T::encode_fixed_run(items, out);
    }
    w.local(|w| items.iter().try_for_each(|item| item.encode(w)))
}

/// [`Encode::encode_fixed_run`]'s general form: each value into its slot.
#[inline]
fn fixed_run<T: Encode>(items: &[T], out: &mut [u8]) -> Result<(), EncodeError> {
    match T::FIXED_SIZE {
        Some(size) if size > 0 && items.len().checked_mul(size) == Some(out.len()) => {
            for (item, slot) in items.iter().zip(out.chunks_exact_mut(size)) {
                item.encode_fixed(slot)?;
            }
            Ok(())
        }
        _ => T::encode_slice(items, &mut Writer::new(out)),
    }
}

/// [`Encode::encode_fixed_run`] of plain little-endian data: one copy of
/// `bytes` (the run's bytes in memory) when `out` is their length.
#[inline(always)]
fn copy_run<T: Encode>(items: &[T], bytes: &[u8], out: &mut [u8]) -> Result<(), EncodeError> {
    if bytes.len() == out.len() {
        copy_bytes(out, bytes);
        return Ok(());
    }
    fixed_run(items, out)
}

/// Splits the first `n` bytes off `out` for one fixed-size value (used by
/// derived `encode_fixed`); a short `out` is `BufferFull`, never a panic.
#[doc(hidden)]
#[inline(always)]
pub fn split_fixed_mut(out: &mut [u8], n: usize) -> Result<(&mut [u8], &mut [u8]), EncodeError> {
    let remaining = out.len();
    out.split_at_mut_checked(n).ok_or(EncodeError::BufferFull {
        needed: n,
        remaining,
    })
}

/// Splits the first `n` bytes off `bytes` for one fixed-size value (used
/// by derived `decode_fixed`); `None` (a type without a fixed size) or a
/// short input is an error, never a panic.
#[doc(hidden)]
#[inline(always)]
pub fn split_fixed(bytes: &[u8], n: Option<usize>) -> Result<(&[u8], &[u8]), DecodeError> {
    let remaining = bytes.len();
    let n = n.unwrap_or(usize::MAX);
    bytes.split_at_checked(n).ok_or(DecodeError::UnexpectedEnd {
        needed: n,
        remaining,
    })
}

/// A value that can be read from packet fields, possibly borrowing from the
/// input for `'de` (zero-copy `&'de str`, `&'de [u8]`, [`crate::View`]).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from packet fields: it does not implement `Decode`",
    label = "no `Decode` for `{Self}`",
    note = "derive `Packet` for it (a field type needs no `id`), or use `#[packet(with = ..)]` on the field for a custom codec"
)]
pub trait Decode<'de>: Sized {
    /// `Some(n)` when every value takes exactly `n` bytes on the wire (the
    /// decode-side twin of [`Encode::FIXED_SIZE`]; `None`, the default, is
    /// always correct). Runs of such values are read after one bounds
    /// check for the whole run.
    const FIXED_WIRE_SIZE: Option<usize> = None;

    /// A lower bound on the bytes every value takes on the wire (the twin
    /// of [`Encode::MIN_SIZE`]; 0, the default, is always correct). A
    /// sequence's count is checked against it before anything is
    /// allocated: `count × max(MIN_WIRE_SIZE, 1)` must fit the input left.
    const MIN_WIRE_SIZE: usize = 0;

    /// Whether [`Decode::decode_vec`] is a scan of the input's run of
    /// strings (`String`, `&str` and derived structs built around them),
    /// usually a call: [`decode_vec`] then hands it the caller's reader
    /// itself, not a copy (copied in and out, 6 words each way, it cost
    /// the save game more than it saved).
    #[doc(hidden)]
    const VEC_SCANS_RUN: bool = false;

    /// Reads the value.
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError>;

    /// Reads the value from exactly [`Decode::FIXED_WIRE_SIZE`] bytes
    /// already taken by the caller (one bounds check for a whole run).
    /// Only called when `FIXED_WIRE_SIZE` is `Some`.
    #[doc(hidden)]
    #[inline]
    fn decode_fixed(bytes: &'de [u8]) -> Result<Self, DecodeError> {
        Self::decode(&mut Reader::new(bytes))
    }

    /// Reads `M` values: one bounds check for a fixed-size run.
    #[doc(hidden)]
    #[inline]
    fn decode_array<const M: usize>(r: &mut Reader<'de>) -> Result<[Self; M], DecodeError> {
        if let Some(size) = Self::FIXED_WIRE_SIZE
            && size > 0
            && let Some(total) = M.checked_mul(size)
            && let Ok(bytes) = r.take(total)
        {
            let mut chunks = bytes.chunks_exact(size);
            return try_array(|| match chunks.next() {
                Some(chunk) => Self::decode_fixed(chunk),
                None => Err(DecodeError::UnexpectedEnd {
                    needed: size,
                    remaining: 0,
                }),
            });
        }
        try_array(|| Self::decode(r))
    }

    /// Reads `n` values into a vector (the count already checked against
    /// the input by [`decode_vec`]). Fixed-size elements whose bytes are
    /// all present get exactly `n` reserved (a run of at most 16 bytes of
    /// numbers or `bool`s: room for 16 bytes, what the allocator hands
    /// out for any smaller request) (numbers: one check and one
    /// copy; derived structs that nest fixed-size structs: one check for
    /// the run, then each element from its slot; `#[packet(pod)]`: one
    /// copy); otherwise the capacity is bounded by what the input left can
    /// hold (elements of at least [`Decode::MIN_WIRE_SIZE`] bytes, and no
    /// more memory than the larger of twice that input and 64 KiB), never by the
    /// count alone.
    #[doc(hidden)]
    #[cfg(feature = "alloc")]
    #[inline]
    fn decode_vec(r: &mut Reader<'de>, n: usize) -> Result<Vec<Self>, DecodeError> {
        decode_vec_general(r, n)
    }
}

/// [`Decode::decode_vec`]'s general form (also the fallback of the
/// overrides).
#[doc(hidden)]
#[cfg(feature = "alloc")]
#[inline]
pub fn decode_vec_general<'de, T: Decode<'de>>(
    r: &mut Reader<'de>,
    n: usize,
) -> Result<Vec<T>, DecodeError> {
    if let Some(size) = T::FIXED_WIRE_SIZE
        && size > 0
        && let Some(total) = n.checked_mul(size)
        && let Ok(bytes) = r.take(total)
    {
        // Every element's bytes are there: one bounds check, exactly `n`
        // reserved, each element read by its own `decode` from the run
        // (its checks fold; measured faster on `snapshot100` than
        // `decode_fixed` per slot, whose struct LLVM assembled through a
        // stack store-forwarding stall).
        let mut items = Vec::with_capacity(n);
        let mut sub = Reader::new(bytes);
        for _ in 0..n {
            let item = T::decode(&mut sub)?;
            push_reserved(&mut items, item);
        }
        return Ok(items);
    }
    // Never more elements than the input left can hold, nor more
    // memory than the larger of 64 KiB and twice that input: an element
    // can be far larger in memory than its smallest wire form (`None` of
    // a big array is one byte). Past that the vector grows as elements
    // actually decode.
    let mut items = Vec::with_capacity(prealloc_count::<T>(n, r.remaining()));
    for _ in 0..n {
        // Grow (as `push` would) before the element decodes, not after:
        // no call then stands between a decoded element and its slot, so
        // it is stored in place instead of being built on the stack and
        // copied (`updates`: the copy of each `Contact` re-read narrow
        // stores with wide loads, a store-forwarding stall).
        if items.len() == items.capacity() {
            items.reserve(1);
        }
        let item = T::decode(r)?;
        push_reserved(&mut items, item);
    }
    Ok(items)
}

/// [`decode_vec_general`] out of line: the fallback of a fast path that
/// rarely fails, kept out of its caller so that the caller's own code
/// stays small enough for the allocations in it to be inlined.
///
/// The reader is handed over by value and back (see [`cold_decode`]), so
/// the caller's never has its address taken.
#[doc(hidden)]
#[cfg(feature = "alloc")]
#[inline(always)]
pub fn decode_vec_fallback<'de, T: Decode<'de>>(
    r: &mut Reader<'de>,
    n: usize,
) -> Result<Vec<T>, DecodeError> {
    let (back, items) = cold_decode(r.clone(), |r| decode_vec_general(r, n));
    *r = back;
    items
}

/// `n` fixed-size values read with one bounds check for the whole run,
/// each from its slot with `decode_fixed` (derived structs that nest other
/// fixed-size structs use this for `Vec`), else
/// [`Decode::decode_vec`]'s general form.
#[doc(hidden)]
#[cfg(feature = "alloc")]
#[inline]
pub fn decode_vec_chunks<'de, T: Decode<'de>>(
    r: &mut Reader<'de>,
    n: usize,
) -> Result<Vec<T>, DecodeError> {
    if let Some(size) = T::FIXED_WIRE_SIZE
        && size > 0
        && let Some(total) = n.checked_mul(size)
        && let Ok(bytes) = r.take(total)
    {
        let mut items = Vec::with_capacity(n);
        for slot in bytes.chunks_exact(size) {
            let item = T::decode_fixed(slot)?;
            push_reserved(&mut items, item);
        }
        return Ok(items);
    }
    decode_vec_general(r, n)
}

/// [`decode_vec_general`]'s variable-size loop for generated code: `one`
/// decodes an element and pushes it itself (room reserved first), so
/// that the element is built in its slot instead of being returned in a
/// `Result` and copied.
#[doc(hidden)]
#[cfg(feature = "alloc")]
#[inline]
pub fn decode_vec_in_place<'de, T: Decode<'de>>(
    r: &mut Reader<'de>,
    n: usize,
    one: impl Fn(&mut Reader<'de>, &mut Vec<T>) -> Result<(), DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    let mut items = Vec::with_capacity(prealloc_count::<T>(n, r.remaining()));
    for _ in 0..n {
        if items.len() == items.capacity() {
            items.reserve(1);
        }
        one(r, &mut items)?;
    }
    Ok(items)
}

/// [`push_reserved`] for generated code (`decode_str_run_vec`'s `make`).
#[doc(hidden)]
#[cfg(feature = "alloc")]
#[inline(always)]
pub fn push_decoded<T>(items: &mut Vec<T>, item: T) {
    push_reserved(items, item);
}

/// `items.push(item)` into capacity reserved up front. The guard lets the
/// compiler drop `push`'s growth call from the loop, and with it the
/// spilling of every decoded field to the stack around that call
/// (`snapshot100`: each entity's fields went through the stack). Never
/// taken: the callers reserve every element first.
#[cfg(feature = "alloc")]
#[inline(always)]
fn push_reserved<T>(items: &mut Vec<T>, item: T) {
    debug_assert!(items.len() < items.capacity(), "element not reserved");
    if items.len() < items.capacity() {
        items.push(item);
    }
}

/// A run of `#[packet(pod)]` values: one copy of their bytes when they are
/// the wire bytes on this target, else [`Encode::encode_slice`]'s general
/// form. Safe code: zerocopy's `IntoBytes` views the slice as bytes.
#[doc(hidden)]
#[inline]
pub fn encode_pod_slice<T>(items: &[T], w: &mut Writer<'_>) -> Result<(), EncodeError>
where
    T: Encode + IntoBytes + zerocopy::Immutable,
{
    if T::MEMORY_IS_WIRE && T::FIXED_SIZE == Some(size_of::<T>()) {
        let bytes = items.as_bytes();
        if let Some(out) = w.try_reserve(bytes.len()) {
            copy_bytes(out, bytes);
            return Ok(());
        }
    }
    encode_run(items, w)
}

/// [`Encode::encode_fixed_run`] of `#[packet(pod)]` values: one copy of
/// their bytes when they are the wire bytes on this target.
#[doc(hidden)]
#[inline]
pub fn encode_pod_run<T>(items: &[T], out: &mut [u8]) -> Result<(), EncodeError>
where
    T: Encode + IntoBytes + zerocopy::Immutable,
{
    if T::MEMORY_IS_WIRE && T::FIXED_SIZE == Some(size_of::<T>()) {
        return copy_run(items, items.as_bytes(), out);
    }
    fixed_run(items, out)
}

/// `n` `#[packet(pod)]` values: one bounds check and one copy into a
/// vector of exactly `n` when their bytes are the wire bytes on this
/// target (zerocopy's `FromBytes` reads each from its unaligned slot, no
/// `unsafe`), else [`Decode::decode_vec`]'s general form.
#[doc(hidden)]
#[cfg(feature = "alloc")]
#[inline]
pub fn decode_pod_vec<'de, T>(r: &mut Reader<'de>, n: usize) -> Result<Vec<T>, DecodeError>
where
    T: Decode<'de>
        + Encode
        + Clone
        + zerocopy::FromBytes
        + zerocopy::IntoBytes
        + zerocopy::Immutable,
{
    if T::MEMORY_IS_WIRE
        && T::FIXED_SIZE == Some(size_of::<T>())
        && size_of::<T>() > 0
        && let Some(total) = n.checked_mul(size_of::<T>())
        && let Ok(bytes) = r.take(total)
    {
        // Input aligned for `T` (the usual case: frames are 4-byte
        // aligned): the bytes are a `&[T]` already, copied into an exact
        // allocation by `extend_from_slice` (measured at 1.06x-1.10x of a
        // `memcpy` of the bytes on the 6 MB mesh; `to_vec`, compiled to a
        // different copy loop, 1.15x-1.29x).
        if let Ok(items) = <[T] as zerocopy::FromBytes>::ref_from_bytes(bytes) {
            let mut out = Vec::with_capacity(n);
            out.extend_from_slice(items);
            return Ok(out);
        }
        // Unaligned: a zeroed vector (one `alloc_zeroed`), then one
        // `copy_from_slice` of the bytes (1.6x of `memcpy` on the mesh,
        // forced; element by element, each read from its unaligned slot,
        // was about 2x). Out of memory ends the process, as `Vec` does.
        let Ok(mut items) = T::new_vec_zeroed(n) else {
            alloc::alloc::handle_alloc_error(
                core::alloc::Layout::array::<T>(n).unwrap_or(core::alloc::Layout::new::<T>()),
            )
        };
        items.as_mut_bytes().copy_from_slice(bytes);
        return Ok(items);
    }
    decode_vec_general(r, n)
}

/// The longest run, in wire bytes, of plain numbers or `bool`s that
/// [`Decode::decode_vec`] reads with one fixed-size load when at least
/// this much input is left.
#[cfg(feature = "alloc")]
const TINY_RUN: usize = 16;

/// `RUN_MASKS[n]`: the low `n` bytes of a 16-byte word set, for a run of
/// `n <= 16` bytes masked out of a fixed-size load. A table: the shift
/// it replaces is a dozen instructions on a `u128` (two halves, shift
/// counts of 64 and more selected by branch-free moves).
#[cfg(feature = "alloc")]
const RUN_MASKS: [u128; TINY_RUN + 1] = {
    let mut masks = [u128::MAX; TINY_RUN + 1];
    let mut n = 0;
    while n < TINY_RUN {
        masks[n] = (1u128 << (8 * n)) - 1;
        n += 1;
    }
    masks
};

/// The first `n` of `items` (`n <= K`) as a vector: empty without an
/// allocation for 0, else all `K` copied with one fixed-size move and
/// the rest cut off. Short runs (`Vec<u16>` of 0 to 5 turret angles,
/// `Vec<bool>` of 0 to 7 flags) then cost no loop whose trip count
/// mispredicts: measured 40 % of the `updates` decode's branch misses.
/// The vector holds capacity for `K` (16 bytes), which the allocator
/// gives a request of 1 to 16 bytes anyway (its smallest chunk).
#[cfg(feature = "alloc")]
#[inline(always)]
fn tiny_vec<T: Copy, const K: usize>(items: [T; K], n: usize) -> Vec<T> {
    if n == 0 {
        return Vec::new();
    }
    let mut v = items.to_vec();
    v.truncate(n);
    v
}

/// The least memory [`Decode::decode_vec`] may reserve up front for a
/// sequence of variable-size elements, whatever the input left: 64 KiB.
#[cfg(feature = "alloc")]
const PREALLOC_BYTES: usize = 64 * 1024;

/// How many times the input left a sequence may reserve in memory before
/// its elements decode. Decoded values are larger in memory than on the
/// wire (a `String` is 24 bytes behind a 2-byte prefix): at 1x, a `Vec`
/// of 10,000 log records (112 bytes each in memory, 88 on average on the
/// wire) was reserved short and reallocated once, copying 0.9 MB (6 % of
/// that decode). A hostile count still buys at most twice the bytes its
/// sender had to deliver.
#[cfg(feature = "alloc")]
const PREALLOC_PER_INPUT_BYTE: usize = 2;

/// The most memory a sequence may reserve before its elements decode,
/// with `remaining` bytes of input left: the larger of 64 KiB and
/// [`PREALLOC_PER_INPUT_BYTE`] times `remaining`.
#[cfg(feature = "alloc")]
#[inline]
fn prealloc_bytes(remaining: usize) -> usize {
    remaining
        .saturating_mul(PREALLOC_PER_INPUT_BYTE)
        .max(PREALLOC_BYTES)
}

/// The capacity to reserve for `n` elements of `T` with `remaining`
/// bytes of input left: never more elements than that input can hold,
/// nor more memory than [`prealloc_bytes`].
#[cfg(feature = "alloc")]
#[inline(always)]
fn prealloc_count<'de, T: Decode<'de>>(n: usize, remaining: usize) -> usize {
    n.min(remaining / T::MIN_WIRE_SIZE.max(1))
        .min(prealloc_bytes(remaining) / size_of::<T>().max(1))
}

/// `[T; M]` from a fallible element reader, stopping at the first error.
#[inline]
fn try_array<T, const M: usize>(
    mut next: impl FnMut() -> Result<T, DecodeError>,
) -> Result<[T; M], DecodeError> {
    let mut first_err = None;
    let items: [Option<T>; M] = core::array::from_fn(|_| {
        if first_err.is_some() {
            return None;
        }
        match next() {
            Ok(v) => Some(v),
            Err(e) => {
                first_err = Some(e);
                None
            }
        }
    });
    match first_err {
        Some(e) => Err(e),
        // Every element is Some when no error was recorded.
        None => Ok(items.map(|item| item.expect("decoded without error"))),
    }
}

/// `const` arithmetic on [`Encode::MAX_SIZE`] values (`None` = unbounded).
pub mod size {
    /// `a + b`, `None` if either is unbounded or the sum overflows.
    pub const fn add(a: Option<usize>, b: Option<usize>) -> Option<usize> {
        match (a, b) {
            (Some(a), Some(b)) => a.checked_add(b),
            _ => None,
        }
    }

    /// The larger of `a` and `b`, `None` if either is unbounded.
    pub const fn max(a: Option<usize>, b: Option<usize>) -> Option<usize> {
        match (a, b) {
            (Some(a), Some(b)) => Some(if a > b { a } else { b }),
            _ => None,
        }
    }

    /// `a * n`, `None` if unbounded or on overflow.
    pub const fn mul(a: Option<usize>, n: usize) -> Option<usize> {
        match a {
            Some(a) => a.checked_mul(n),
            None => None,
        }
    }
}

// ---------------------------------------------------------------- scalars

// Integers and floats: `to_le_bytes` / `from_le_bytes`. A run of them is
// one copy on little-endian targets, where the in-memory bytes are the wire
// bytes (zerocopy's `IntoBytes` / `FromBytes`, no `unsafe` here).
macro_rules! impl_num {
    ($($t:ty),*) => {$(
        impl Encode for $t {
            const MAX_SIZE: Option<usize> = Some(size_of::<$t>());
            const MIN_SIZE: usize = size_of::<$t>();
            const MEMORY_IS_WIRE: bool = cfg!(target_endian = "little");
            const FLAT: bool = true;
            #[inline]
            fn encoded_len(&self) -> usize { size_of::<$t>() }
            #[inline]
            fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
                w.put_array(self.to_le_bytes())
            }
            #[inline(always)]
            fn encode_fixed(&self, out: &mut [u8]) -> Result<(), EncodeError> {
                let remaining = out.len();
                let slot = out.first_chunk_mut::<{ size_of::<$t>() }>().ok_or(
                    EncodeError::BufferFull { needed: size_of::<$t>(), remaining },
                )?;
                *slot = self.to_le_bytes();
                Ok(())
            }
            #[inline]
            fn encode_slice(items: &[Self], w: &mut Writer<'_>) -> Result<(), EncodeError> {
                #[cfg(target_endian = "little")]
                if let Some(out) = w.try_reserve(items.len().saturating_mul(size_of::<$t>())) {
                    copy_bytes(out, items.as_bytes());
                    return Ok(());
                }
                encode_run(items, w)
            }
            #[inline]
            fn encode_fixed_run(items: &[Self], out: &mut [u8]) -> Result<(), EncodeError> {
                if cfg!(target_endian = "little") {
                    copy_run(items, items.as_bytes(), out)
                } else {
                    fixed_run(items, out)
                }
            }
            #[inline]
            fn slice_encoded_len(items: &[Self]) -> usize {
                items.len().saturating_mul(size_of::<$t>())
            }
        }
        impl<'de> Decode<'de> for $t {
            const FIXED_WIRE_SIZE: Option<usize> = Some(size_of::<$t>());
            const MIN_WIRE_SIZE: usize = size_of::<$t>();
            #[inline]
            fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
                Ok(<$t>::from_le_bytes(r.take_array()?))
            }
            #[inline(always)]
            fn decode_fixed(bytes: &'de [u8]) -> Result<Self, DecodeError> {
                match bytes.first_chunk() {
                    Some(b) => Ok(<$t>::from_le_bytes(*b)),
                    None => Err(DecodeError::UnexpectedEnd {
                        needed: size_of::<$t>(),
                        remaining: bytes.len(),
                    }),
                }
            }
            #[inline]
            fn decode_array<const M: usize>(r: &mut Reader<'de>) -> Result<[Self; M], DecodeError> {
                #[cfg(target_endian = "little")]
                if let Ok(bytes) = r.take(M * size_of::<$t>()) {
                    let mut items = [<$t>::default(); M];
                    items.as_mut_bytes().copy_from_slice(bytes);
                    return Ok(items);
                }
                try_array(|| Self::decode(r))
            }
            #[cfg(feature = "alloc")]
            #[inline]
            fn decode_vec(r: &mut Reader<'de>, n: usize) -> Result<Vec<Self>, DecodeError> {
                #[cfg(target_endian = "little")]
                if let Some(total) = n.checked_mul(size_of::<$t>())
                    && total <= TINY_RUN
                    && let Some(window) = r.rest().first_chunk::<TINY_RUN>()
                {
                    // A run of at most 16 bytes with 16 bytes of input
                    // left: one fixed-size load and copy, no loop (see
                    // `tiny_vec`).
                    let mut items = [<$t>::default(); TINY_RUN / size_of::<$t>()];
                    items.as_mut_bytes().copy_from_slice(window);
                    r.take(total)?;
                    return Ok(tiny_vec(items, n));
                }
                #[cfg(target_endian = "little")]
                if let Some(total) = n.checked_mul(size_of::<$t>())
                    && let Ok(bytes) = r.take(total)
                {
                    if total >= 256 {
                        // Zeroed (calloc: fresh pages are free) and
                        // overwritten with one copy through zerocopy.
                        let mut items = alloc::vec![<$t>::default(); n];
                        items.as_mut_bytes().copy_from_slice(bytes);
                        return Ok(items);
                    }
                    // Short: one pass, no zeroing (calloc costs more than
                    // it saves on a few bytes), exactly `n` reserved.
                    let mut items = Vec::with_capacity(n);
                    items.extend(
                        bytes
                            .chunks_exact(size_of::<$t>())
                            .map(|b| b.first_chunk().map_or(0 as $t, |b| <$t>::from_le_bytes(*b))),
                    );
                    return Ok(items);
                }
                // Short input: element by element, so the error names the
                // element that ran out; capacity bounded by the input left.
                let mut items = Vec::with_capacity(n.min(r.remaining() / size_of::<$t>()));
                for _ in 0..n {
                    items.push(Self::decode(r)?);
                }
                Ok(items)
            }
        }
    )*};
}
impl_num!(u16, u32, u64, u128, i8, i16, i32, i64, i128, f32, f64);

impl Encode for u8 {
    const MAX_SIZE: Option<usize> = Some(1);
    const FLAT: bool = true;
    const MIN_SIZE: usize = 1;
    const MEMORY_IS_WIRE: bool = true;
    #[inline]
    fn encoded_len(&self) -> usize {
        1
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.put_u8(*self)
    }
    #[inline(always)]
    fn encode_fixed(&self, out: &mut [u8]) -> Result<(), EncodeError> {
        match out.first_mut() {
            Some(slot) => {
                *slot = *self;
                Ok(())
            }
            None => Err(EncodeError::BufferFull {
                needed: 1,
                remaining: 0,
            }),
        }
    }
    #[inline]
    fn encode_slice(items: &[Self], w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.put_bytes(items)
    }
    #[inline]
    fn encode_fixed_run(items: &[Self], out: &mut [u8]) -> Result<(), EncodeError> {
        copy_run(items, items, out)
    }
    #[inline]
    fn slice_encoded_len(items: &[Self]) -> usize {
        items.len()
    }
}

impl<'de> Decode<'de> for u8 {
    const FIXED_WIRE_SIZE: Option<usize> = Some(1);
    const MIN_WIRE_SIZE: usize = 1;
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        r.take_u8()
    }
    #[inline(always)]
    fn decode_fixed(bytes: &'de [u8]) -> Result<Self, DecodeError> {
        bytes.first().copied().ok_or(DecodeError::UnexpectedEnd {
            needed: 1,
            remaining: 0,
        })
    }
    #[inline]
    fn decode_array<const M: usize>(r: &mut Reader<'de>) -> Result<[Self; M], DecodeError> {
        r.take_array()
    }
    #[cfg(feature = "alloc")]
    #[inline]
    fn decode_vec(r: &mut Reader<'de>, n: usize) -> Result<Vec<Self>, DecodeError> {
        Ok(r.take(n)?.to_vec())
    }
}

impl Encode for bool {
    const FLAT: bool = true;
    const MAX_SIZE: Option<usize> = Some(1);
    const MIN_SIZE: usize = 1;
    // `false` is 0 and `true` 1 in memory, as on the wire.
    const MEMORY_IS_WIRE: bool = true;
    #[inline]
    fn encode_slice(items: &[Self], w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.put_bytes(items.as_bytes())
    }
    #[inline]
    fn encode_fixed_run(items: &[Self], out: &mut [u8]) -> Result<(), EncodeError> {
        copy_run(items, items.as_bytes(), out)
    }
    #[inline]
    fn slice_encoded_len(items: &[Self]) -> usize {
        items.len()
    }
    #[inline]
    fn encoded_len(&self) -> usize {
        1
    }
    #[inline(always)]
    fn encode_fixed(&self, out: &mut [u8]) -> Result<(), EncodeError> {
        u8::from(*self).encode_fixed(out)
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.put_u8(u8::from(*self))
    }
}

impl<'de> Decode<'de> for bool {
    const FIXED_WIRE_SIZE: Option<usize> = Some(1);
    const MIN_WIRE_SIZE: usize = 1;
    #[inline(always)]
    fn decode_fixed(bytes: &'de [u8]) -> Result<Self, DecodeError> {
        match bytes.first() {
            Some(0) => Ok(false),
            Some(1) => Ok(true),
            Some(&other) => Err(DecodeError::InvalidBool(other)),
            None => Err(DecodeError::UnexpectedEnd {
                needed: 1,
                remaining: 0,
            }),
        }
    }
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        match r.take_u8()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(DecodeError::InvalidBool(other)),
        }
    }
    /// One bounds check and one validation pass for the run (a branch-free
    /// OR of every byte), then one conversion pass; an invalid byte is reported as
    /// element-by-element decoding would.
    #[cfg(feature = "alloc")]
    #[inline]
    fn decode_vec(r: &mut Reader<'de>, n: usize) -> Result<Vec<Self>, DecodeError> {
        if n <= TINY_RUN
            && let Some(window) = r.rest().first_chunk::<TINY_RUN>()
        {
            // A run of at most 16 with 16 bytes of input left: the bytes
            // past the run masked to 0, then one validity check of all 16
            // (zerocopy's: each a 0 or a 1) that is also the conversion,
            // no loop (see `tiny_vec`).
            let run = RUN_MASKS.get(n).copied().unwrap_or(u128::MAX);
            let masked = (u128::from_le_bytes(*window) & run).to_le_bytes();
            return match <[bool; TINY_RUN]>::try_read_from_bytes(&masked) {
                Ok(bools) => {
                    r.take(n)?;
                    Ok(tiny_vec(bools, n))
                }
                Err(_) => {
                    let bad = window.iter().take(n).copied().find(|&b| b > 1);
                    Err(DecodeError::InvalidBool(bad.unwrap_or(2)))
                }
            };
        }
        if let Some(bytes) = r.rest().get(..n) {
            // Any byte above 1 sets a bit above bit 0 of the OR.
            if bytes.iter().fold(0u8, |acc, &b| acc | b) > 1 {
                let bad = bytes.iter().copied().find(|&b| b > 1).unwrap_or(2);
                return Err(DecodeError::InvalidBool(bad));
            }
            r.take(n)?;
            return Ok(bytes.iter().map(|&b| b != 0).collect());
        }
        decode_vec_general(r, n)
    }
}

impl Encode for char {
    const FLAT: bool = true;
    const MAX_SIZE: Option<usize> = Some(4);
    const MIN_SIZE: usize = 4;
    #[inline]
    fn encoded_len(&self) -> usize {
        4
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        u32::from(*self).encode(w)
    }
}

impl<'de> Decode<'de> for char {
    const FIXED_WIRE_SIZE: Option<usize> = Some(4);
    const MIN_WIRE_SIZE: usize = 4;
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        let v = u32::decode(r)?;
        char::from_u32(v).ok_or(DecodeError::InvalidChar(v))
    }
}

// ------------------------------------------------------------- composites

impl<T: Encode, const N: usize> Encode for [T; N] {
    const MAX_SIZE: Option<usize> = size::mul(T::MAX_SIZE, N);
    const MIN_SIZE: usize = T::MIN_SIZE.saturating_mul(N);
    const MEMORY_IS_WIRE: bool = T::MEMORY_IS_WIRE;
    const RECURSIVE: bool = T::RECURSIVE;
    const FLAT: bool = T::FLAT;
    #[inline]
    fn encoded_len(&self) -> usize {
        if T::RECURSIVE {
            return self.nested_len(0);
        }
        T::slice_encoded_len(self)
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        if T::RECURSIVE {
            return self.encode_nested(w, 0);
        }
        T::encode_slice(self, w)
    }
    #[inline]
    fn encode_nested(&self, w: &mut Writer<'_>, depth: u32) -> Result<(), EncodeError> {
        if T::FLAT {
            return T::encode_slice(self, w);
        }
        self.iter()
            .try_for_each(|item| item.encode_nested(w, depth))
    }
    #[inline]
    fn nested_len(&self, depth: u32) -> usize {
        items_nested_len(self, depth)
    }
}

impl<'de, T: Decode<'de>, const N: usize> Decode<'de> for [T; N] {
    const FIXED_WIRE_SIZE: Option<usize> = size::mul(T::FIXED_WIRE_SIZE, N);
    const MIN_WIRE_SIZE: usize = T::MIN_WIRE_SIZE.saturating_mul(N);
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        // Items that take no bytes would be decoded N times from no input
        // (four billion calls for a tiny frame) and built on the stack:
        // refused where the array is decoded (`#[derive(Packet)]` refuses
        // it at the field, the schema compiler as E0120).
        const {
            assert!(
                N == 0 || !matches!(T::FIXED_WIRE_SIZE, Some(0)),
                "an array of items that take no bytes on the wire: give the item a field, or drop the array"
            )
        };
        T::decode_array::<N>(r)
    }
}

/// The bytes an `Option` of a small fixed-size value is assembled in.
const OPTION_HEAD: usize = 16;

impl<T: Encode> Encode for Option<T> {
    const MAX_SIZE: Option<usize> = size::add(Some(1), T::MAX_SIZE);
    const MIN_SIZE: usize = 1;
    const RECURSIVE: bool = T::RECURSIVE;
    const FLAT: bool = T::FLAT;
    #[inline]
    fn encode_nested(&self, w: &mut Writer<'_>, depth: u32) -> Result<(), EncodeError> {
        match self {
            None => w.put_u8(0),
            Some(v) => {
                w.put_u8(1)?;
                v.encode_nested(w, depth)
            }
        }
    }
    #[inline]
    fn nested_len(&self, depth: u32) -> usize {
        self.as_ref()
            .map_or(0, |v| v.nested_len(depth))
            .saturating_add(1)
    }
    #[inline]
    fn encoded_len(&self) -> usize {
        if T::RECURSIVE {
            return self.nested_len(0);
        }
        self.as_ref()
            .map_or(0, Encode::encoded_len)
            .saturating_add(1)
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        if T::RECURSIVE {
            return self.encode_nested(w, 0);
        }
        // A small fixed-size value: tag and value assembled in 16 bytes
        // and stored at once, the position advanced by 1 or 1 + n, so no
        // branch on the variant (a random mix of `Some` and `None` no
        // longer mispredicts). Without 16 bytes of room, the steps below.
        if let Some(n) = T::FIXED_SIZE
            && n < OPTION_HEAD
        {
            let mut head = [0u8; OPTION_HEAD];
            let used = match (self, head.get_mut(1..=n)) {
                (Some(v), Some(slot)) => {
                    v.encode_fixed(slot)?;
                    n + 1
                }
                _ => 1,
            };
            head[0] = u8::from(self.is_some());
            if w.put_head(head, used) {
                return Ok(());
            }
        }
        match self {
            None => w.put_u8(0),
            Some(v) => {
                // A fixed-size value: tag and value in one reservation.
                if let Some(n) = T::FIXED_SIZE
                    && let Some(out) = w.try_reserve(n.saturating_add(1))
                    && let Some((tag, rest)) = out.split_first_mut()
                {
                    *tag = 1;
                    return v.encode_fixed(rest);
                }
                w.put_u8(1)?;
                v.encode(w)
            }
        }
    }
}

impl<'de, T: Decode<'de>> Decode<'de> for Option<T> {
    const MIN_WIRE_SIZE: usize = 1;
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        // A fixed-size value whose bytes are all there: tag and value in
        // one bounds check (a short input takes the general path, which
        // reports the exact error).
        //
        // The value is read whatever the tag says (for `None` those bytes
        // belong to the next field and are ignored), so that the tag
        // picks the result and the step instead of a branch: `Some` and
        // `None` mixed at random (an optional kind per contact) made it a
        // mispredicted branch half the time.
        if let Some(n) = T::FIXED_WIRE_SIZE
            && let Some((&tag, rest)) = r.rest().split_first()
            && tag <= 1
            && let Some(bytes) = rest.get(..n)
        {
            let some = tag == 1;
            return match T::decode_fixed(bytes) {
                Err(e) if some => Err(e),
                value => {
                    r.take(1 + n * usize::from(tag))?;
                    Ok(value.ok().filter(|_| some))
                }
            };
        }
        match r.take_u8()? {
            0 => Ok(None),
            1 => T::decode(r).map(Some),
            tag => Err(DecodeError::InvalidOptionTag(tag)),
        }
    }
}

macro_rules! impl_tuple {
    ($(($($n:tt $t:ident),+))*) => {$(
        impl<$($t: Encode),+> Encode for ($($t,)+) {
            const MAX_SIZE: Option<usize> = {
                let total = Some(0);
                $(let total = size::add(total, $t::MAX_SIZE);)+
                total
            };
            const MIN_SIZE: usize = 0usize $(.saturating_add($t::MIN_SIZE))+;
            const RECURSIVE: bool = false $(|| $t::RECURSIVE)+;
            const FLAT: bool = true $(&& $t::FLAT)+;
            #[inline]
            fn encoded_len(&self) -> usize {
                if Self::RECURSIVE {
                    return self.nested_len(0);
                }
                0usize $(.saturating_add(self.$n.encoded_len()))+
            }
            #[inline]
            fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
                if Self::RECURSIVE {
                    return self.encode_nested(w, 0);
                }
                $(self.$n.encode(w)?;)+
                Ok(())
            }
            #[inline]
            fn encode_nested(&self, w: &mut Writer<'_>, depth: u32) -> Result<(), EncodeError> {
                $(self.$n.encode_nested(w, depth)?;)+
                Ok(())
            }
            #[inline]
            fn nested_len(&self, depth: u32) -> usize {
                0usize $(.saturating_add(self.$n.nested_len(depth)))+
            }
        }
        impl<'de, $($t: Decode<'de>),+> Decode<'de> for ($($t,)+) {
            const FIXED_WIRE_SIZE: Option<usize> = {
                let total = Some(0);
                $(let total = size::add(total, $t::FIXED_WIRE_SIZE);)+
                total
            };
            const MIN_WIRE_SIZE: usize = 0usize $(.saturating_add($t::MIN_WIRE_SIZE))+;
            #[inline]
            fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
                Ok(($($t::decode(r)?,)+))
            }
        }
    )*};
}
impl_tuple! {
    (0 A)
    (0 A, 1 B)
    (0 A, 1 B, 2 C)
    (0 A, 1 B, 2 C, 3 D)
    (0 A, 1 B, 2 C, 3 D, 4 E)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H)
}

impl<T: Encode + ?Sized> Encode for &T {
    const MAX_SIZE: Option<usize> = T::MAX_SIZE;
    const MIN_SIZE: usize = T::MIN_SIZE;
    const RECURSIVE: bool = T::RECURSIVE;
    const FLAT: bool = T::FLAT;
    #[inline]
    fn encode_nested(&self, w: &mut Writer<'_>, depth: u32) -> Result<(), EncodeError> {
        (**self).encode_nested(w, depth)
    }
    #[inline]
    fn nested_len(&self, depth: u32) -> usize {
        (**self).nested_len(depth)
    }
    #[inline]
    fn encoded_len(&self) -> usize {
        (**self).encoded_len()
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        (**self).encode(w)
    }
}

// -------------------------------------------------------- length prefixes

/// The width of a sequence's length prefix: `u8`, `u16` or `u32`.
pub trait LenPrefix {
    /// Bytes the prefix takes.
    const SIZE: usize;
    /// The largest length it can carry.
    const MAX: usize;
    /// Writes `len` (already checked against [`LenPrefix::MAX`]).
    fn put(len: usize, w: &mut Writer<'_>) -> Result<(), EncodeError>;
    /// Reads a length.
    fn get(r: &mut Reader<'_>) -> Result<usize, DecodeError>;
}

macro_rules! impl_prefix {
    ($($t:ty),*) => {$(
        impl LenPrefix for $t {
            const SIZE: usize = size_of::<$t>();
            const MAX: usize = if (<$t>::MAX as u64) < (usize::MAX as u64) { <$t>::MAX as usize } else { usize::MAX };
            #[inline]
            fn put(len: usize, w: &mut Writer<'_>) -> Result<(), EncodeError> {
                let len = <$t>::try_from(len).map_err(|_| EncodeError::LengthOverMax { len, max: <Self as LenPrefix>::MAX })?;
                len.encode(w)
            }
            #[inline]
            fn get(r: &mut Reader<'_>) -> Result<usize, DecodeError> {
                let len = <$t>::decode(r)?;
                usize::try_from(len).map_err(|_| DecodeError::LengthOverMax { len: usize::MAX, max: usize::MAX })
            }
        }
    )*};
}
impl_prefix!(u8, u16, u32);

/// The prefix of sequences that name none: `u16` (at most 65 535 items).
pub type DefaultLen = u16;

/// The largest encoded size of a sequence of at most `max_len` items of at
/// most `item_max` bytes each, behind an `L` prefix.
pub const fn seq_max_size<L: LenPrefix>(item_max: Option<usize>, max_len: usize) -> Option<usize> {
    let max_len = if max_len < L::MAX { max_len } else { L::MAX };
    size::add(Some(L::SIZE), size::mul(item_max, max_len))
}

/// The encoded size of a sequence of `count` items taking `payload` bytes
/// behind an `L` prefix with at most `max_len` items, or `usize::MAX` when
/// `count` is more than the prefix or `max_len` allows (`encode` refuses
/// it, so no size may claim otherwise; see [`Encode::encoded_len`]).
#[inline]
pub fn prefixed_len<L: LenPrefix>(count: usize, max_len: usize, payload: usize) -> usize {
    let max = if max_len < L::MAX { max_len } else { L::MAX };
    if count > max {
        return usize::MAX;
    }
    payload.saturating_add(L::SIZE)
}

#[inline]
fn put_len<L: LenPrefix>(
    len: usize,
    max_len: usize,
    w: &mut Writer<'_>,
) -> Result<(), EncodeError> {
    let max = if max_len < L::MAX { max_len } else { L::MAX };
    if len > max {
        return Err(EncodeError::LengthOverMax { len, max });
    }
    L::put(len, w)
}

#[inline]
fn get_len<L: LenPrefix>(max_len: usize, r: &mut Reader<'_>) -> Result<usize, DecodeError> {
    let len = L::get(r)?;
    if len > max_len {
        return Err(DecodeError::LengthOverMax { len, max: max_len });
    }
    Ok(len)
}

/// Runs `slow` out of line and rarely: the field-by-field decode that
/// derived code falls back to when the one bounds check of a fixed-size
/// run fails (short input, so nearly always an error). Kept out of the
/// caller, the fallback's calls and the values they keep alive no longer
/// cost the hot path registers, spills and callee-saved pushes.
///
/// The reader goes in and comes back by value: its address never leaves
/// the caller, which can then keep it in registers (a reader whose
/// address is passed to a function that is not inlined lives in memory,
/// and every read stores its two words back).
#[doc(hidden)]
#[cold]
#[inline(never)]
pub fn cold_decode<'de, T>(
    mut r: Reader<'de>,
    slow: impl FnOnce(&mut Reader<'de>) -> Result<T, DecodeError>,
) -> (Reader<'de>, Result<T, DecodeError>) {
    let result = slow(&mut r);
    (r, result)
}

/// The string behind the `W`-byte length prefix that ends `run` (bytes
/// the caller already took with the fixed-size fields before it: one
/// bounds check for both), refusing more than `max_len`. Used by
/// `#[derive(Packet)]` for a string field right after primitives.
#[doc(hidden)]
#[inline(always)]
pub fn take_str_after<'de, const W: usize>(
    run: &[u8],
    max_len: usize,
    r: &mut Reader<'de>,
) -> Result<&'de str, DecodeError> {
    let mut le = [0u8; 8];
    if let (Some(dst), Some(src)) = (le.get_mut(..W), run.last_chunk::<W>()) {
        dst.copy_from_slice(src);
    }
    let len = usize::try_from(u64::from_le_bytes(le)).unwrap_or(usize::MAX);
    if len > max_len {
        return Err(DecodeError::LengthOverMax { len, max: max_len });
    }
    r.take_str(len)
}

/// Writes `bytes` behind an `L` length prefix, refusing more than `max_len`.
///
/// Prefix and bytes in one reservation, inline at every string field (a
/// record's strings, its other fields' writes and the writer's position
/// stay in registers); a refused length or a short buffer goes out of line
/// to the two-step path, so that the error names the part that ran out.
#[inline(always)]
pub fn encode_bytes<L: LenPrefix>(
    bytes: &[u8],
    max_len: usize,
    w: &mut Writer<'_>,
) -> Result<(), EncodeError> {
    let len = bytes.len();
    let max = if max_len < L::MAX { max_len } else { L::MAX };
    if len <= max
        && let Some(out) = w.try_reserve(len.wrapping_add(L::SIZE))
        && let Some((prefix, rest)) = out.split_at_mut_checked(L::SIZE)
        && let Some(le) = (len as u64).to_le_bytes().get(..L::SIZE)
    {
        // `len <= L::MAX`: its low `L::SIZE` little-endian bytes are the prefix.
        prefix.copy_from_slice(le);
        copy_bytes(rest, bytes);
        return Ok(());
    }
    w.cold_path(|w| encode_bytes_slow::<L>(bytes, max_len, w))
}

/// [`encode_bytes`] when the fast path refused: the prefix, then the
/// bytes, each with its own error.
#[inline]
fn encode_bytes_slow<L: LenPrefix>(
    bytes: &[u8],
    max_len: usize,
    w: &mut Writer<'_>,
) -> Result<(), EncodeError> {
    put_len::<L>(bytes.len(), max_len, w)?;
    w.put_bytes(bytes)
}

/// Reads bytes behind an `L` length prefix, borrowed from the input.
#[inline]
pub fn decode_bytes<'de, L: LenPrefix>(
    max_len: usize,
    r: &mut Reader<'de>,
) -> Result<&'de [u8], DecodeError> {
    let len = get_len::<L>(max_len, r)?;
    r.take(len)
}

/// Writes a string behind an `L` length prefix (its UTF-8 byte length).
#[inline]
pub fn encode_str<L: LenPrefix>(
    s: &str,
    max_len: usize,
    w: &mut Writer<'_>,
) -> Result<(), EncodeError> {
    encode_bytes::<L>(s.as_bytes(), max_len, w)
}

/// [`decode_str`] for a string that binary fields follow
/// ([`Reader::take_str_alone`]: no UTF-8 window ahead of it). Used by
/// `#[derive(Packet)]` for a string field before `f32` / `f64` fields.
#[doc(hidden)]
#[inline]
pub fn decode_str_alone<'de, L: LenPrefix>(
    max_len: usize,
    r: &mut Reader<'de>,
) -> Result<&'de str, DecodeError> {
    let len = get_len::<L>(max_len, r)?;
    r.take_str_alone(len)
}

/// Reads a string behind an `L` length prefix, borrowed from the input.
#[inline]
pub fn decode_str<'de, L: LenPrefix>(
    max_len: usize,
    r: &mut Reader<'de>,
) -> Result<&'de str, DecodeError> {
    let len = get_len::<L>(max_len, r)?;
    r.take_str(len)
}

// ----------------------------------------------------------- string runs
//
// `core::str::from_utf8` costs a call and a byte-at-a-time loop until it
// reaches an aligned word, so many short strings validated one by one
// cost several times one pass over the same bytes (17-19 % of the `log`
// and `savegame` decodes in a profile). A run of strings (consecutive
// string fields, the elements of a `Vec<String>`) is therefore validated
// as one span, prefixes included, whenever every prefix is a length below
// 128: then each prefix byte is ASCII, so the span is valid UTF-8 exactly
// when every string is, and every string starts and ends on a character
// boundary of the span (`str::get` checks it, no `unsafe`). Anything else
// (a longer string, a bad length, a short input, invalid UTF-8) returns
// `None` with the reader untouched, and the caller decodes string by
// string, so every error is the one that path reports.
//
// The elements of a `Vec<String>` (and of a `Vec` of a derived struct of
// numbers then one string, [`decode_fixed_str_vec`]) need no ASCII
// prefixes: they are cut from the reader's UTF-8 window (validated bytes
// as they are), and a string that is valid UTF-8 on its own and cut at
// its bounds from a valid window lies on its character boundaries, so
// `str::get` cuts every string the window holds; from the first element
// it does not (a prefix or a fixed byte that is not UTF-8 in its
// context, an invalid string), decoding goes element by element.

/// The length in a prefix of `width` bytes at the start of `bytes` when it
/// is below 128 (every prefix byte ASCII), else `None`.
#[inline(always)]
fn ascii_len(bytes: &[u8], width: usize) -> Option<usize> {
    let (&first, high) = bytes.get(..width)?.split_first()?;
    (first < 0x80 && high.iter().all(|&b| b == 0)).then_some(usize::from(first))
}

/// Where each string of a run lies in `bytes` (after its length prefix
/// of `width` bytes, at most `max` long), into `at`, and where the run
/// ends; `None`
/// when a prefix does not fit or a length exceeds its `max`.
#[inline(always)]
fn str_run_layout<const K: usize>(
    bytes: &[u8],
    prefixes: &[(usize, usize); K],
    at: &mut [(usize, usize); K],
) -> Option<usize> {
    let mut pos = 0usize;
    for (slot, &(width, max)) in at.iter_mut().zip(prefixes) {
        let len = ascii_len(bytes.get(pos..)?, width)?;
        if len > max {
            return None;
        }
        let start = pos + width;
        *slot = (start, start + len);
        pos = start + len;
    }
    Some(pos)
}

/// The run's strings, cut out of its validated `span` at `at`.
#[inline(always)]
fn split_str_run<'a, const K: usize>(
    span: &'a str,
    at: &[(usize, usize); K],
) -> Option<[&'a str; K]> {
    let mut out = [""; K];
    for (s, &(a, b)) in out.iter_mut().zip(at) {
        *s = span.get(a..b)?;
    }
    Some(out)
}

/// `K` consecutive strings behind prefixes of `(width in bytes, max_len)`,
/// validated as one span (see above); `None` (reader untouched) when the
/// run does not qualify, and the caller decodes field by field. Used by
/// `#[derive(Packet)]` for consecutive string fields.
#[doc(hidden)]
#[inline]
pub fn decode_str_run<'de, const K: usize>(
    r: &mut Reader<'de>,
    prefixes: [(usize, usize); K],
) -> Option<[&'de str; K]> {
    let bytes = r.rest();
    let mut at = [(0usize, 0usize); K];
    let pos = str_run_layout(bytes, &prefixes, &mut at)?;
    let span = utf8(bytes.get(..pos)?)?;
    let out = split_str_run(span, &at)?;
    r.take(pos).ok()?;
    Some(out)
}

/// The longest span (prefixes and strings) that [`decode_owned_str_run`]
/// validates in an aligned copy: the log's four strings per record take
/// 70-90 bytes.
const OWNED_SPAN: usize = 112;

/// Room for [`decode_owned_str_run`]'s aligned copy, provided by the
/// caller (the strings it returns may borrow it); `None` until used, so
/// nothing is written to it before the copy.
#[doc(hidden)]
pub type OwnedStrScratch = Option<[u128; (OWNED_SPAN + 16) / 16]>;

/// [`decode_str_run`] for fields that own their strings (`String`,
/// `Box<str>`; the caller copies them right away, so they may borrow
/// `scratch` instead of the input): the span is validated in an aligned
/// copy padded with zeros to a multiple of 16 bytes. There
/// `core::str::from_utf8` runs its two-words-at-a-time loop from the
/// first byte to the last, without the byte-at-a-time head (up to the
/// input's alignment) and tail (after the last full block) whose trip
/// counts vary with every record's lengths (the `log` decode: 142
/// instructions and 3.5 mispredicted branches per record in `from_utf8`,
/// callgrind). The copy is one fixed-size move of 128 bytes of input,
/// taken only when that much is left; otherwise the input itself is
/// validated, as [`decode_str_run`] does. `None` (reader untouched) when
/// the run does not qualify, and the caller decodes field by field.
#[doc(hidden)]
#[inline]
pub fn decode_owned_str_run<'a, 'de: 'a, const K: usize>(
    r: &mut Reader<'de>,
    prefixes: [(usize, usize); K],
    scratch: &'a mut OwnedStrScratch,
) -> Option<[&'a str; K]> {
    let bytes = r.rest();
    let mut at = [(0usize, 0usize); K];
    let pos = str_run_layout(bytes, &prefixes, &mut at)?;
    let span: &'a str = if pos <= OWNED_SPAN
        && let Some(input) = bytes.first_chunk::<{ OWNED_SPAN + 16 }>()
        && let Ok(words) = zerocopy::FromBytes::read_from_bytes(input)
    {
        let copy = scratch.insert(words).as_mut_bytes();
        // Zeros (ASCII) from the span's end to the next multiple of 16.
        if let Some(pad) = copy.get_mut(pos..).and_then(|c| c.first_chunk_mut::<16>()) {
            *pad = [0; 16];
        }
        let copy: &'a [u8] = copy;
        utf8(copy.get(..(pos + 15) & !15)?)?
    } else {
        utf8(bytes.get(..pos)?)?
    };
    let strs = split_str_run(span, &at)?;
    r.take(pos).ok()?;
    Some(strs)
}

/// Bytes of the stack buffer in which [`decode_str_run_vec`] gathers the
/// string runs of consecutive elements to validate them together.
#[cfg(feature = "alloc")]
const RUN_BATCH: usize = 2048;

/// `n` elements that are `head` bytes of fixed-size fields, a run of `K`
/// owned strings (prefixes of `(width, max_len)`) and `tail` bytes of
/// fixed-size fields (the `log` record: an address, four strings, a
/// status and a size), built by `make` from the fixed bytes and the
/// strings. `core::str::from_utf8` per element's run (70-90 bytes in the
/// `log`) cost a call and a fixed overhead per element; here the runs of
/// consecutive elements are copied, one fixed-size 128-byte move each,
/// end to end into a 2 KiB stack buffer and validated with one call per
/// buffer, padded with zeros to a multiple of 16 bytes (the word loop
/// only). Each element's strings are then cut, one after the other, out
/// of the validated buffer, and its fixed fields read from the input.
/// The runs qualify as for [`decode_owned_str_run`] (every length below
/// 128, the run at most 112 bytes, 128 bytes of input left from its
/// start); an element that does not is decoded by its own `decode`, and
/// a buffer that does not validate is decoded element by element, so
/// every error is the one that path reports. `head` or `tail` `None`
/// (not fixed-size): element by element throughout. Used by
/// `#[derive(Packet)]` for `Vec` of such structs; the strings borrow the
/// buffer, so `make` must copy them (`String`, `Box<str>`); it pushes
/// the element onto the vector (capacity reserved) itself, so that the
/// element is built in its slot rather than returned and copied.
#[doc(hidden)]
#[cfg(feature = "alloc")]
#[inline]
pub fn decode_str_run_vec<'de, T: Decode<'de>, const K: usize>(
    r: &mut Reader<'de>,
    n: usize,
    head: Option<usize>,
    prefixes: [(usize, usize); K],
    tail: Option<usize>,
    make: impl Fn(&'de [u8], [&str; K], &'de [u8], &mut Vec<T>) -> Result<(), DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    let (Some(head), Some(tail)) = (head, tail) else {
        return decode_vec_fallback(r, n);
    };
    let mut items = Vec::with_capacity(prealloc_count::<T>(n, r.remaining()));
    let mut buf = [0u128; RUN_BATCH / 16];
    let mut left = n;
    while left > 0 {
        let bytes = r.rest();
        let copy = buf.as_mut_bytes();
        // The runs of as many elements as fit, end to end.
        let (mut pos, mut off, mut count) = (0usize, 0usize, 0usize);
        while count < left
            && let Some(run) = bytes.get(pos + head..)
            && let Some(input) = run.first_chunk::<{ OWNED_SPAN + 16 }>()
            && let Some(len) = owned_run_len(input, &prefixes)
            && len <= OWNED_SPAN
            && let Some(end) = (pos + head + len).checked_add(tail)
            && end <= bytes.len()
            && let Some(slot) = copy
                .get_mut(off..)
                .and_then(|c| c.first_chunk_mut::<{ OWNED_SPAN + 16 }>())
            && let (Some(dst), Some(run)) = (
                slot.first_chunk_mut::<OWNED_SPAN>(),
                input.first_chunk::<OWNED_SPAN>(),
            )
        {
            // The run is at most 112 bytes: those are copied, and what
            // follows it becomes the next run or the zero padding (room
            // for which the 128-byte slot keeps).
            *dst = *run;
            off += len;
            pos = end;
            count += 1;
        }
        if count == 0 {
            // This element does not qualify: its own decode (and errors).
            one_by_one(r, &mut items, 1)?;
            left -= 1;
            continue;
        }
        // Zeros (ASCII) from the last run's end to the next multiple of 16.
        if let Some(pad) = copy.get_mut(off..).and_then(|c| c.first_chunk_mut::<16>()) {
            *pad = [0; 16];
        }
        let copy: &[u8] = copy;
        let Some(mut runs) = copy.get(..(off + 15) & !15).and_then(utf8) else {
            one_by_one(r, &mut items, count)?;
            left -= count;
            continue;
        };
        // The input from the current element on: its fixed head and tail
        // are split off it (a length check each, no offset arithmetic to
        // overflow-check).
        let mut cur = bytes;
        // Room for the batch first (one check a batch, not an element), so
        // that `make` builds each element in its slot.
        items.reserve(count);
        for done in 0..count {
            let at = bytes.len() - cur.len();
            let mut strs = [""; K];
            let mut run = 0usize;
            // The first cut that fails ends the record (no flag carried
            // through the others).
            let cut = 'cut: {
                for (s, &(width, _)) in strs.iter_mut().zip(&prefixes) {
                    // The prefix first (its end is the string's start),
                    // then the string: the prefix's length read from a
                    // slice of known size, without a bounds check.
                    let Some((string, rest)) =
                        runs.split_at_checked(width).and_then(|(prefix, rest)| {
                            rest.split_at_checked(prefix_len_of(prefix.as_bytes(), width)?)
                        })
                    else {
                        break 'cut false;
                    };
                    run += width + string.len();
                    *s = string;
                    runs = rest;
                }
                true
            };
            let fixed = cur.split_at_checked(head).and_then(|(h, rest)| {
                let (t, next) = rest.get(run..)?.split_at_checked(tail)?;
                Some((h, t, next))
            });
            let (true, Some((h, t, next))) = (cut, fixed) else {
                // Not reached (the first pass checked every cut): the
                // rest of the batch element by element.
                r.take(at)?;
                one_by_one(r, &mut items, count - done)?;
                break;
            };
            match make(h, strs, t, &mut items) {
                Ok(()) => {}
                Err(e) => {
                    // An invalid fixed field (a `bool`): the error its
                    // own decode reports.
                    r.take(at)?;
                    T::decode(r)?;
                    return Err(e);
                }
            }
            cur = next;
            if done + 1 == count {
                r.take(bytes.len() - cur.len())?;
            }
        }
        left -= count;
    }
    Ok(items)
}

/// Where a run of strings behind prefixes of `(width, max_len)` at the
/// start of `input` ends, when it ends within [`OWNED_SPAN`] bytes (so
/// every length is below 128, as [`str_run_layout`] requires, with one
/// bound per prefix: the run's limit, which keeps every prefix inside
/// `input`).
#[cfg(feature = "alloc")]
#[inline(always)]
fn owned_run_len<const K: usize>(
    input: &[u8; OWNED_SPAN + 16],
    prefixes: &[(usize, usize); K],
) -> Option<usize> {
    let mut pos = 0usize;
    for &(width, max) in prefixes {
        // One 4-byte load per prefix (`pos` is at most 112 here, so it
        // lies inside `input`), masked to the prefix's width.
        let word = u32::from_le_bytes(*input.get(pos..)?.first_chunk::<4>()?);
        let len = match width {
            1 => word & 0xFF,
            2 => word & 0xFFFF,
            4 => word,
            _ => return None,
        };
        // The run's limit bounds each length too (below 112, so below
        // 128: every prefix byte ASCII), one comparison instead of two;
        // summed in 64 bits, so that a 4-byte length cannot wrap a
        // 32-bit `usize` past it.
        let end = (pos + width) as u64 + u64::from(len);
        if end > OWNED_SPAN as u64 {
            return None;
        }
        if len as usize > max {
            return None;
        }
        pos = end as usize;
    }
    Some(pos)
}

/// `k` elements decoded one by one into `items` (growing it as `push`
/// would), out of line with the reader by value (see [`cold_decode`]).
#[cfg(feature = "alloc")]
#[inline(always)]
fn one_by_one<'de, T: Decode<'de>>(
    r: &mut Reader<'de>,
    items: &mut Vec<T>,
    k: usize,
) -> Result<(), DecodeError> {
    let (back, done) = cold_decode(r.clone(), |r| {
        for _ in 0..k {
            let item = T::decode(r)?;
            items.push(item);
        }
        Ok(())
    });
    *r = back;
    done
}

/// The length in the `width`-byte little-endian prefix at the start of
/// `bytes`, else `None`.
#[cfg(feature = "alloc")]
#[inline(always)]
fn prefix_len_of(bytes: &[u8], width: usize) -> Option<usize> {
    match width {
        1 => prefix_len::<1>(bytes),
        2 => prefix_len::<2>(bytes),
        _ => prefix_len::<4>(bytes),
    }
}

/// `n` strings behind default (`u16`) prefixes, cut from the reader's
/// validated UTF-8 in one pass (prefixes included; see
/// [`decode_fixed_str_vec`], with no fixed bytes before each string) and
/// converted with `make`; element by element from the first that does
/// not qualify. `Vec<String>`, `Vec<&str>` and `Vec<Box<str>>` decode
/// through this.
#[cfg(feature = "alloc")]
#[inline]
fn decode_str_vec<'de, S: Decode<'de>>(
    r: &mut Reader<'de>,
    n: usize,
    make: impl Fn(&'de str) -> S,
) -> Result<Vec<S>, DecodeError> {
    decode_fixed_str_vec::<S, 0, { DefaultLen::SIZE }>(r, n, usize::MAX, |_, s| make(s))
}

/// The little-endian length in the `W`-byte prefix at the start of
/// `bytes` (`W` is 1, 2 or 4), else `None` (too short, or a length the
/// target cannot count).
#[cfg(feature = "alloc")]
#[inline(always)]
fn prefix_len<const W: usize>(bytes: &[u8]) -> Option<usize> {
    match W {
        1 => bytes.first().map(|&b| usize::from(b)),
        2 => bytes
            .first_chunk::<2>()
            .map(|b| usize::from(u16::from_le_bytes(*b))),
        _ => bytes
            .first_chunk::<4>()
            .and_then(|b| usize::try_from(u32::from_le_bytes(*b)).ok()),
    }
}

/// `n` elements that are `P` bytes of fixed-size fields followed by one
/// string behind a `W`-byte length prefix of at most `max_len` (a
/// derived struct of primitives then a string, such as an inventory
/// item's count, slot and id), built by `make` from the fixed bytes and
/// the string, in one pass: each element is cut from the UTF-8 the reader
/// has validated ahead ([`Reader::utf8_ahead`]: the rest of its window,
/// or a new one from the element, up to 1 KiB of ASCII and more when a
/// string needs it), its string with `str::get` and its end with
/// `split_at_checked`, and built straight into reserved capacity. A
/// string valid on its own and cut at its element's bounds lies on
/// character boundaries of a valid window, so an element is cut from it
/// exactly when its string is valid *and* its fixed bytes and prefix
/// happen to be valid UTF-8 there (in game data: counts and slots below
/// 128). An element past the window's end takes a new window from its
/// first byte; one that a new window does not hold (not valid UTF-8 in
/// its context, a length over `max_len`, short input), and every element
/// after it, is decoded element by element, with that path's errors at
/// that element's offsets. The window stays the reader's, so the strings
/// after the list (the next list of items) are cut from it too. Used by
/// `#[derive(Packet)]` for `Vec` of such structs: no call, bounds check
/// on the reader or `Result` per element, and no first pass to find
/// where the list ends.
#[doc(hidden)]
#[cfg(feature = "alloc")]
#[inline]
pub fn decode_fixed_str_vec<'de, T: Decode<'de>, const P: usize, const W: usize>(
    r: &mut Reader<'de>,
    n: usize,
    max_len: usize,
    make: impl Fn(&[u8; P], &'de str) -> T,
) -> Result<Vec<T>, DecodeError> {
    // `n * size > bytes` is `n > bytes / size` without the division.
    if n.saturating_mul(size_of::<T>().max(1)) > prealloc_bytes(r.remaining()) {
        return decode_vec_fallback(r, n);
    }
    let mut items = Vec::with_capacity(n);
    // Elements still to decode: one counter, not a count and a bound.
    let mut left = n;
    while left > 0 {
        // The next element's length, for a window that holds it.
        let Some(len) = r.rest().get(P..).and_then(prefix_len::<W>) else {
            break;
        };
        if len > max_len {
            break;
        }
        let Some(window) = r.utf8_ahead(len.saturating_add(P + W)) else {
            break;
        };
        let before = left;
        let mut rest = window;
        while left > 0 {
            let head = rest.as_bytes();
            let (Some(fixed), Some(len)) = (
                head.first_chunk::<P>(),
                head.get(P..).and_then(prefix_len::<W>),
            ) else {
                break;
            };
            if len > max_len {
                break;
            }
            // The element first (its end is never 0 bytes in: `W` is at
            // least 1, so that case of the boundary check folds), then
            // its fixed bytes and prefix off the front.
            let Some((element, tail)) = rest.split_at_checked(len.saturating_add(P + W)) else {
                break;
            };
            let Some(s) = element.get(P + W..) else {
                break;
            };
            push_reserved(&mut items, make(fixed, s));
            rest = tail;
            left -= 1;
        }
        r.skip_validated(window.len() - rest.len());
        if left == before {
            break;
        }
    }
    if left > 0 {
        one_by_one(r, &mut items, left)?;
    }
    Ok(items)
}

/// Writes items behind an `L` count prefix, refusing more than `max_len`.
#[inline]
pub fn encode_seq<L: LenPrefix, T: Encode>(
    items: &[T],
    max_len: usize,
    w: &mut Writer<'_>,
) -> Result<(), EncodeError> {
    let len = items.len();
    let max = if max_len < L::MAX { max_len } else { L::MAX };
    // Fixed-size items (`Vec<u16>`, `Vec<bool>`, runs of fixed-size
    // structs): prefix and items in one reservation, as strings are; the
    // items are then written into their exact slot (one copy for plain
    // little-endian data). Anything else, or a short buffer (so that the
    // error names the part that ran out), takes the two steps.
    if let Some(size) = T::FIXED_SIZE
        && size > 0
        && len <= max
        && let Some(total) = len.checked_mul(size).and_then(|n| n.checked_add(L::SIZE))
        && let Some(out) = w.try_reserve(total)
        && let Some((prefix, rest)) = out.split_at_mut_checked(L::SIZE)
        && let Some(le) = (len as u64).to_le_bytes().get(..L::SIZE)
    {
        // `len <= L::MAX`: its low `L::SIZE` little-endian bytes are the prefix.
        prefix.copy_from_slice(le);
        return T::encode_fixed_run(items, rest);
    }
    put_len::<L>(len, max_len, w)?;
    T::encode_slice(items, w)
}

/// Reads items behind an `L` count prefix into a vector.
///
/// A count larger than the bytes left in the input is refused up front
/// with [`DecodeError::UnexpectedEnd`] `{ needed: count, remaining }`: every
/// element takes at least one byte, and elements that take none (a type
/// whose fields are all skipped) cannot make a 4-byte prefix loop four
/// billion times. A fixed-size element type is read with one bounds check
/// for the whole run into a vector of exactly `count`; otherwise the
/// reservation is bounded by what the input left can hold (see
/// [`Decode::decode_vec`]).
#[cfg(feature = "alloc")]
#[inline(always)]
pub fn decode_vec<'de, L: LenPrefix, T: Decode<'de>>(
    max_len: usize,
    r: &mut Reader<'de>,
) -> Result<Vec<T>, DecodeError> {
    if T::VEC_SCANS_RUN {
        // Lists of strings and string records are a call each (their
        // loops are long): the count is read here, and an empty list
        // (an entity without tags) costs a compare instead of that call.
        let len = get_len::<L>(max_len, r)?;
        if len == 0 && r.can_enter() {
            return Ok(Vec::new());
        }
        return decode_vec_counted(len, r);
    }
    decode_vec_prefixed::<L, T>(max_len, r)
}

/// [`decode_vec`] of a list whose count `len` was read.
#[cfg(feature = "alloc")]
#[inline]
fn decode_vec_counted<'de, T: Decode<'de>>(
    len: usize,
    r: &mut Reader<'de>,
) -> Result<Vec<T>, DecodeError> {
    let remaining = r.remaining();
    if len > remaining {
        return Err(DecodeError::UnexpectedEnd {
            needed: len,
            remaining,
        });
    }
    r.enter()?;
    let items = T::decode_vec(r, len);
    r.leave();
    items
}

/// [`decode_vec`] for elements that do not scan string runs.
#[cfg(feature = "alloc")]
#[inline]
fn decode_vec_prefixed<'de, L: LenPrefix, T: Decode<'de>>(
    max_len: usize,
    r: &mut Reader<'de>,
) -> Result<Vec<T>, DecodeError> {
    let len = get_len::<L>(max_len, r)?;
    // The same count check as `decode_vec_counted`, written out: a shared
    // `#[inline(always)]` helper for both cost `updates` +0.77 % of its
    // decode instructions (`shape_probe`: the compiler laid the loop out
    // differently), so the repetition is deliberate.
    let remaining = r.remaining();
    if len > remaining {
        return Err(DecodeError::UnexpectedEnd {
            needed: len,
            remaining,
        });
    }
    r.enter()?;
    let items = if T::VEC_SCANS_RUN {
        T::decode_vec(r, len)
    } else {
        // The elements read from a copy of the reader, copied back after
        // (on error too: where decoding stopped). Their loop is mostly
        // inlined and the copy folds away, but the caller's reader then
        // never has its address taken here and can stay in registers
        // (`updates`: fewer instructions per contact).
        let mut sub = r.clone();
        let items = T::decode_vec(&mut sub, len);
        *r = sub;
        items
    };
    r.leave();
    items
}

/// The encoded size of a sequence of `items` behind an `L` prefix
/// (`usize::MAX` when there are more than the prefix can count).
#[inline]
pub fn seq_encoded_len<L: LenPrefix, T: Encode>(items: &[T]) -> usize {
    prefixed_len::<L>(items.len(), usize::MAX, T::slice_encoded_len(items))
}

/// [`encode_seq`] counting nesting levels (see [`Encode::encode_nested`]):
/// the sequence is one level, as [`decode_vec`] enters one, and its items
/// are written at that depth. Used inside recursive types only.
#[doc(hidden)]
#[inline]
pub fn encode_seq_nested<L: LenPrefix, T: Encode>(
    items: &[T],
    max_len: usize,
    w: &mut Writer<'_>,
    depth: u32,
) -> Result<(), EncodeError> {
    if depth >= Writer::MAX_DEPTH {
        return Err(too_deep());
    }
    items_nested::<L, T>(items, max_len, w, depth + 1)
}

/// [`EncodeError::TooDeep`]: a level entered at `depth >=
/// Writer::MAX_DEPTH`, where [`Reader::enter`] fails. Out of line, so
/// that the callers' test is a compare and a rarely taken branch.
#[cold]
#[inline(never)]
fn too_deep() -> EncodeError {
    EncodeError::TooDeep {
        max: Writer::MAX_DEPTH as usize,
    }
}

/// A sequence's prefix and items, the items counting nesting levels
/// (one by one, unless they contain none).
#[inline]
fn items_nested<L: LenPrefix, T: Encode>(
    items: &[T],
    max_len: usize,
    w: &mut Writer<'_>,
    depth: u32,
) -> Result<(), EncodeError> {
    if T::FLAT {
        return encode_seq::<L, T>(items, max_len, w);
    }
    put_len::<L>(items.len(), max_len, w)?;
    // Through a copy of the writer, as `encode_run` does: it stays in
    // registers across the loop.
    w.local(|w| {
        items
            .iter()
            .try_for_each(|item| item.encode_nested(w, depth))
    })
}

/// [`prefixed_len`] of a sequence found `depth` levels deep (see
/// [`Encode::nested_len`]): `usize::MAX`, without looking at the items,
/// when the sequence's own level is past [`Writer::MAX_DEPTH`].
#[doc(hidden)]
#[inline]
pub fn seq_nested_len<L: LenPrefix, T: Encode>(items: &[T], max_len: usize, depth: u32) -> usize {
    if depth >= Writer::MAX_DEPTH {
        return usize::MAX;
    }
    prefixed_len::<L>(items.len(), max_len, items_nested_len(items, depth + 1))
}

/// The summed [`Encode::nested_len`] of items found `depth` levels deep.
#[inline]
fn items_nested_len<T: Encode>(items: &[T], depth: u32) -> usize {
    if T::FLAT {
        return T::slice_encoded_len(items);
    }
    items
        .iter()
        .fold(0usize, |n, item| n.saturating_add(item.nested_len(depth)))
}

impl Encode for str {
    const MAX_SIZE: Option<usize> = seq_max_size::<DefaultLen>(Some(1), usize::MAX);
    const MIN_SIZE: usize = DefaultLen::SIZE;
    const FLAT: bool = true;
    // `Box<str>` decodes as a string, not through `Box<T>`'s level.
    const BOX_ENTERS: bool = false;
    #[inline]
    fn encoded_len(&self) -> usize {
        prefixed_len::<DefaultLen>(self.len(), usize::MAX, self.len())
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        encode_str::<DefaultLen>(self, usize::MAX, w)
    }
}

impl<'de> Decode<'de> for &'de str {
    const MIN_WIRE_SIZE: usize = DefaultLen::SIZE;
    const VEC_SCANS_RUN: bool = true;
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        decode_str::<DefaultLen>(usize::MAX, r)
    }
    #[cfg(feature = "alloc")]
    #[inline]
    fn decode_vec(r: &mut Reader<'de>, n: usize) -> Result<Vec<Self>, DecodeError> {
        decode_str_vec(r, n, |s| s)
    }
}

/// A slice is not a nesting level of its own: `&[u8]` decodes as bytes,
/// and `Vec<T>` and `Box<[T]>` count their level around it.
impl<T: Encode> Encode for [T] {
    const MAX_SIZE: Option<usize> = seq_max_size::<DefaultLen>(T::MAX_SIZE, usize::MAX);
    const MIN_SIZE: usize = DefaultLen::SIZE;
    const RECURSIVE: bool = T::RECURSIVE;
    const FLAT: bool = T::FLAT;
    #[inline]
    fn encoded_len(&self) -> usize {
        if T::RECURSIVE {
            return self.nested_len(0);
        }
        seq_encoded_len::<DefaultLen, T>(self)
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        if T::RECURSIVE {
            return self.encode_nested(w, 0);
        }
        encode_seq::<DefaultLen, T>(self, usize::MAX, w)
    }
    #[inline]
    fn encode_nested(&self, w: &mut Writer<'_>, depth: u32) -> Result<(), EncodeError> {
        items_nested::<DefaultLen, T>(self, usize::MAX, w, depth)
    }
    #[inline]
    fn nested_len(&self, depth: u32) -> usize {
        prefixed_len::<DefaultLen>(self.len(), usize::MAX, items_nested_len(self, depth))
    }
}

impl<'de> Decode<'de> for &'de [u8] {
    const MIN_WIRE_SIZE: usize = DefaultLen::SIZE;
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        decode_bytes::<DefaultLen>(usize::MAX, r)
    }
}

// ------------------------------------------------------------------ alloc

#[cfg(feature = "alloc")]
impl Encode for String {
    const MAX_SIZE: Option<usize> = str::MAX_SIZE;
    const MIN_SIZE: usize = DefaultLen::SIZE;
    const FLAT: bool = true;
    #[inline]
    fn encoded_len(&self) -> usize {
        self.as_str().encoded_len()
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.as_str().encode(w)
    }
}

#[cfg(feature = "alloc")]
impl<'de> Decode<'de> for String {
    const MIN_WIRE_SIZE: usize = DefaultLen::SIZE;
    const VEC_SCANS_RUN: bool = true;
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        <&str>::decode(r).map(String::from)
    }
    #[inline]
    fn decode_vec(r: &mut Reader<'de>, n: usize) -> Result<Vec<Self>, DecodeError> {
        decode_str_vec(r, n, String::from)
    }
}

#[cfg(feature = "alloc")]
impl<T: Encode> Encode for Vec<T> {
    const MAX_SIZE: Option<usize> = <[T]>::MAX_SIZE;
    const MIN_SIZE: usize = DefaultLen::SIZE;
    const RECURSIVE: bool = T::RECURSIVE;
    #[inline]
    fn encoded_len(&self) -> usize {
        if T::RECURSIVE {
            return self.nested_len(0);
        }
        self.as_slice().encoded_len()
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        if T::RECURSIVE {
            return self.encode_nested(w, 0);
        }
        self.as_slice().encode(w)
    }
    #[inline]
    fn encode_nested(&self, w: &mut Writer<'_>, depth: u32) -> Result<(), EncodeError> {
        encode_seq_nested::<DefaultLen, T>(self, usize::MAX, w, depth)
    }
    #[inline]
    fn nested_len(&self, depth: u32) -> usize {
        seq_nested_len::<DefaultLen, T>(self, usize::MAX, depth)
    }
}

#[cfg(feature = "alloc")]
impl<'de, T: Decode<'de>> Decode<'de> for Vec<T> {
    const MIN_WIRE_SIZE: usize = DefaultLen::SIZE;
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        decode_vec::<DefaultLen, T>(usize::MAX, r)
    }
}

#[cfg(feature = "alloc")]
impl<T: Encode + ?Sized> Encode for Box<T> {
    const MAX_SIZE: Option<usize> = T::MAX_SIZE;
    const MIN_SIZE: usize = T::MIN_SIZE;
    const RECURSIVE: bool = T::RECURSIVE;
    const FLAT: bool = T::FLAT && !T::BOX_ENTERS;
    #[inline]
    fn encoded_len(&self) -> usize {
        if T::RECURSIVE {
            return self.nested_len(0);
        }
        (**self).encoded_len()
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        if T::RECURSIVE {
            return self.encode_nested(w, 0);
        }
        (**self).encode(w)
    }
    /// The level the decoder enters for a `Box<T>` (or a `Box<[T]>`'s
    /// sequence): the only ways a type can contain itself.
    #[inline]
    fn encode_nested(&self, w: &mut Writer<'_>, depth: u32) -> Result<(), EncodeError> {
        if !T::BOX_ENTERS {
            return (**self).encode_nested(w, depth);
        }
        if depth >= Writer::MAX_DEPTH {
            return Err(too_deep());
        }
        (**self).encode_nested(w, depth + 1)
    }
    #[inline]
    fn nested_len(&self, depth: u32) -> usize {
        if !T::BOX_ENTERS {
            return (**self).nested_len(depth);
        }
        if depth >= Writer::MAX_DEPTH {
            return usize::MAX;
        }
        (**self).nested_len(depth + 1)
    }
}

#[cfg(feature = "alloc")]
impl<'de, T: Decode<'de>> Decode<'de> for Box<T> {
    const MIN_WIRE_SIZE: usize = T::MIN_WIRE_SIZE;
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        // The only way a type can contain itself: bound the recursion.
        r.enter()?;
        let value = T::decode(r);
        r.leave();
        value.map(Box::new)
    }
}

#[cfg(feature = "alloc")]
impl<'de, T: Decode<'de>> Decode<'de> for Box<[T]> {
    const MIN_WIRE_SIZE: usize = DefaultLen::SIZE;
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        Vec::<T>::decode(r).map(Vec::into_boxed_slice)
    }
}

#[cfg(feature = "alloc")]
impl<'de> Decode<'de> for Box<str> {
    const MIN_WIRE_SIZE: usize = DefaultLen::SIZE;
    const VEC_SCANS_RUN: bool = true;
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        String::decode(r).map(String::into_boxed_str)
    }
    #[inline]
    fn decode_vec(r: &mut Reader<'de>, n: usize) -> Result<Vec<Self>, DecodeError> {
        decode_str_vec(r, n, Box::from)
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use crate::frame::{frame_len_for, padded_len};

    #[test]
    fn a_sequence_its_prefix_cannot_count_claims_no_size() {
        let long = alloc::vec![0u8; 65_536];
        assert_eq!(long.encoded_len(), usize::MAX);
        assert_eq!(long[..65_535].encoded_len(), 2 + 65_535);
        assert_eq!((1u8, long.clone()).encoded_len(), usize::MAX);
        assert_eq!(Some(long.clone()).encoded_len(), usize::MAX);
        assert_eq!(prefixed_len::<u8>(256, usize::MAX, 256), usize::MAX);
        assert_eq!(prefixed_len::<u32>(11, 10, 11), usize::MAX);
        // Sizes built on it stay beyond any buffer instead of wrapping.
        assert_eq!(frame_len_for(usize::MAX), usize::MAX);
        assert_eq!(padded_len(usize::MAX - 1) % 4, 0);
        assert_eq!(frame_len_for(5), 20 + 8 + 4 + 4);
        let mut buf = alloc::vec![0u8; 70_000];
        assert_eq!(
            long.encode(&mut Writer::new(&mut buf)),
            Err(EncodeError::LengthOverMax {
                len: 65_536,
                max: 65_535
            })
        );
    }

    /// Strings decoded as one validated run and one by one agree on every
    /// input: same values, same errors, same bytes consumed.
    #[test]
    fn string_runs_agree_with_string_by_string() {
        let long = "x".repeat(200);
        let cases: [&[&[u8]]; 7] = [
            &[b"ab", b"", "é€".as_bytes(), b"cd"],
            &[b"ab", long.as_bytes(), b"cd"],
            &[b"ab", b"\xff", b"cd"],
            &[b"ab", b"\xe2\x82", b"\xac"],
            &[b"\xc3", b"\xa9"],
            &[b"", b""],
            &[b"abc", b"def", b"ghi"],
        ];
        for parts in cases {
            let mut body = Vec::new();
            for p in parts {
                body.extend_from_slice(&(p.len() as u16).to_le_bytes());
                body.extend_from_slice(p);
            }
            // Cut short, whole, and whole with binary bytes after it (the
            // owned run's aligned copy needs 128 bytes of input).
            let mut padded = body.clone();
            padded.extend((0..200u32).map(|i| (i * 37 + 200) as u8));
            for cut in [body.len(), body.len().saturating_sub(1), 3, padded.len()] {
                let bytes = &padded[..cut];
                let one_by_one = |r: &mut Reader<'_>| {
                    (0..parts.len())
                        .map(|_| String::decode(r))
                        .collect::<Result<Vec<_>, _>>()
                };
                let mut a = Reader::new(bytes);
                let want = one_by_one(&mut a);
                let mut b = Reader::new(bytes);
                let got = <String as Decode>::decode_vec(&mut b, parts.len());
                assert_eq!(got, want, "{parts:?} cut at {cut}");
                if got.is_ok() {
                    assert_eq!(a.position(), b.position());
                }
                let mut c = Reader::new(bytes);
                if let Some(run) = decode_str_run::<2>(&mut c, [(2, usize::MAX); 2]) {
                    let mut d = Reader::new(bytes);
                    assert_eq!(
                        run.map(String::from).to_vec(),
                        (0..2)
                            .map(|_| String::decode(&mut d))
                            .collect::<Result<Vec<_>, _>>()
                            .unwrap()
                    );
                    assert_eq!(c.position(), d.position());
                } else {
                    assert_eq!(c.position(), 0, "untouched when the run does not qualify");
                }
                // The owned run agrees with the borrowed one, whichever
                // way it validates.
                for k in [2usize, 3] {
                    let (mut c, mut e) = (Reader::new(bytes), Reader::new(bytes));
                    let (owned, borrowed) = if k == 2 {
                        let mut scratch = None;
                        (
                            decode_owned_str_run::<2>(&mut c, [(2, usize::MAX); 2], &mut scratch)
                                .map(|r| r.map(String::from).to_vec()),
                            decode_str_run::<2>(&mut e, [(2, usize::MAX); 2])
                                .map(|r| r.map(String::from).to_vec()),
                        )
                    } else {
                        let mut scratch = None;
                        (
                            decode_owned_str_run::<3>(&mut c, [(2, usize::MAX); 3], &mut scratch)
                                .map(|r| r.map(String::from).to_vec()),
                            decode_str_run::<3>(&mut e, [(2, usize::MAX); 3])
                                .map(|r| r.map(String::from).to_vec()),
                        )
                    };
                    assert_eq!(owned, borrowed, "{parts:?} cut at {cut}, {k} strings");
                    assert_eq!(c.position(), e.position());
                }
            }
        }
        // A run longer than its `max_len` is left to the field-by-field path.
        let mut r = Reader::new(&[2, 0, b'a', b'b', 1, 0, b'c']);
        assert_eq!(decode_str_run::<2>(&mut r, [(2, 1), (2, 9)]), None);
        assert_eq!(r.position(), 0);
        let mut r = Reader::new(&[2, b'a', b'b', 1, 0, 0, 0, b'c']);
        assert_eq!(
            decode_str_run::<2>(&mut r, [(1, 9), (4, 9)]),
            Some(["ab", "c"])
        );
        assert_eq!(r.remaining(), 0);
    }

    /// A sequence's prefix and items (and a string's prefix and bytes)
    /// are written with one reservation when they fit; with every buffer
    /// size the result, the position and the bytes written are those of
    /// the two steps (the prefix, then the run's own `encode_slice`).
    #[test]
    fn one_reservation_sequences_match_the_step_by_step_writes() {
        fn steps<T: Encode>(items: &[T], w: &mut Writer<'_>) -> Result<(), EncodeError> {
            u16::try_from(items.len()).unwrap().encode(w)?;
            T::encode_slice(items, w)
        }
        fn check<T: Encode + core::fmt::Debug>(items: &[T]) {
            let full = 2 + items.iter().map(Encode::encoded_len).sum::<usize>();
            for cap in 0..=full + 1 {
                let (mut a, mut b) = (alloc::vec![0u8; cap], alloc::vec![0u8; cap]);
                let (mut wa, mut wb) = (Writer::new(&mut a), Writer::new(&mut b));
                let ra = items.encode(&mut wa);
                let rb = steps(items, &mut wb);
                assert_eq!(ra, rb, "{items:?} into {cap}");
                assert_eq!(wa.position(), wb.position(), "{items:?} into {cap}");
                assert_eq!(a, b, "{items:?} into {cap}");
            }
        }
        check(&[1u16, 0x0302, 0xFFFF]);
        check(&[true, false, true, true, false]);
        check(&[7u8; 40]);
        check(&[0x0403_0201u32; 9]);
        check(&[(1u8, 2u16), (3, 4)]);
        check(&[Some(1u8), None]);
        check::<u16>(&[]);
        for s in ["", "a", "hello", "a string longer than thirty-two bytes"] {
            let full = 2 + s.len();
            for cap in 0..=full + 1 {
                let (mut a, mut b) = (alloc::vec![0u8; cap], alloc::vec![0u8; cap]);
                let (mut wa, mut wb) = (Writer::new(&mut a), Writer::new(&mut b));
                let ra = s.encode(&mut wa);
                let rb = (|| {
                    (s.len() as u16).encode(&mut wb)?;
                    wb.put_bytes(s.as_bytes())
                })();
                assert_eq!(ra, rb, "{s:?} into {cap}");
                assert_eq!(wa.position(), wb.position(), "{s:?} into {cap}");
                assert_eq!(a, b, "{s:?} into {cap}");
            }
        }
        // A sequence its prefix cannot count: refused before anything is written.
        let mut buf = [0u8; 400];
        let mut w = Writer::new(&mut buf);
        assert_eq!(
            encode_seq::<u8, u16>(&[0; 256], usize::MAX, &mut w),
            Err(EncodeError::LengthOverMax { len: 256, max: 255 })
        );
        assert_eq!(
            encode_bytes::<u8>(&[0; 300], 10, &mut w),
            Err(EncodeError::LengthOverMax { len: 300, max: 10 })
        );
        assert_eq!(w.position(), 0);
    }

    #[test]
    fn fixed_size_options_take_one_check_with_the_same_errors() {
        let mut buf = [0u8; 5];
        let mut w = Writer::new(&mut buf);
        Some(0x0403_0201u32).encode(&mut w).unwrap();
        assert_eq!(buf, [1, 1, 2, 3, 4]);
        let mut r = Reader::new(&buf);
        assert_eq!(Option::<u32>::decode(&mut r), Ok(Some(0x0403_0201)));
        assert_eq!(r.remaining(), 0);
        let mut r = Reader::new(&buf[..4]);
        assert_eq!(
            Option::<u32>::decode(&mut r),
            Err(DecodeError::UnexpectedEnd {
                needed: 4,
                remaining: 3
            })
        );
        assert_eq!(
            Option::<bool>::decode(&mut Reader::new(&[1, 2])),
            Err(DecodeError::InvalidBool(2))
        );
        // `None` ignores the bytes after its tag, valid or not, present or not.
        for input in [&[0u8, 2][..], &[0, 1], &[0]] {
            let mut r = Reader::new(input);
            assert_eq!(Option::<bool>::decode(&mut r), Ok(None), "{input:?}");
            assert_eq!(r.position(), 1);
        }
        let mut r = Reader::new(&[1, 1, 0]);
        assert_eq!(Option::<bool>::decode(&mut r), Ok(Some(true)));
        assert_eq!(r.position(), 2);
        assert_eq!(
            Option::<u8>::decode(&mut Reader::new(&[2, 0])),
            Err(DecodeError::InvalidOptionTag(2))
        );
        let mut small = [0u8; 3];
        assert!(matches!(
            Some(7u32).encode(&mut Writer::new(&mut small)),
            Err(EncodeError::BufferFull { .. })
        ));
    }

    #[test]
    fn bool_runs_are_validated_in_bulk() {
        let mut r = Reader::new(&[1, 0, 1, 0]);
        assert_eq!(
            <bool as Decode>::decode_vec(&mut r, 3),
            Ok(alloc::vec![true, false, true])
        );
        assert_eq!(r.remaining(), 1);
        let mut r = Reader::new(&[1, 0, 7, 9]);
        assert_eq!(
            <bool as Decode>::decode_vec(&mut r, 4),
            Err(DecodeError::InvalidBool(7))
        );
        let mut r = Reader::new(&[1, 0]);
        assert!(matches!(
            <bool as Decode>::decode_vec(&mut r, 3),
            Err(DecodeError::UnexpectedEnd { .. })
        ));
        let mut buf = [0u8; 5];
        let mut w = Writer::new(&mut buf);
        alloc::vec![true, false, true].encode(&mut w).unwrap();
        assert_eq!(w.written(), [3, 0, 1, 0, 1]);
    }

    /// Short runs read with one fixed-size load (input to spare after
    /// them) agree with element-by-element decoding: values, errors,
    /// bytes consumed; the bytes after the run are never judged.
    #[test]
    fn tiny_runs_agree_with_element_by_element() {
        fn one_by_one<'de, T: Decode<'de>>(
            r: &mut Reader<'de>,
            n: usize,
        ) -> Result<Vec<T>, DecodeError> {
            (0..n).map(|_| T::decode(r)).collect()
        }
        let mut bytes = [0u8; 40];
        for seed in 0..64u32 {
            for (i, b) in bytes.iter_mut().enumerate() {
                // Mostly 0 / 1, with a bad byte now and then.
                let x = (i as u32 * 7 + seed * 13) % 23;
                *b = if x == 5 { 0xFE } else { (x & 1) as u8 };
            }
            for n in 0..=18 {
                for cut in [bytes.len(), n + 3, n] {
                    let input = &bytes[..cut.min(bytes.len())];
                    let (mut a, mut b) = (Reader::new(input), Reader::new(input));
                    let got = <bool as Decode>::decode_vec(&mut a, n);
                    assert_eq!(
                        got,
                        one_by_one::<bool>(&mut b, n),
                        "bool, seed {seed}, n {n}, cut {cut}"
                    );
                    if got.is_ok() {
                        assert_eq!(a.position(), b.position());
                    }
                    let (mut a, mut b) = (Reader::new(input), Reader::new(input));
                    let got = <u16 as Decode>::decode_vec(&mut a, n);
                    assert_eq!(got, one_by_one::<u16>(&mut b, n), "u16, n {n}");
                    if got.is_ok() {
                        assert_eq!(a.position(), b.position());
                    }
                    let (mut a, mut b) = (Reader::new(input), Reader::new(input));
                    assert_eq!(
                        <i8 as Decode>::decode_vec(&mut a, n),
                        one_by_one::<i8>(&mut b, n)
                    );
                    let (mut a, mut b) = (Reader::new(input), Reader::new(input));
                    assert_eq!(
                        <u32 as Decode>::decode_vec(&mut a, n),
                        one_by_one::<u32>(&mut b, n)
                    );
                }
            }
        }
        // An empty run allocates nothing.
        let v = <u16 as Decode>::decode_vec(&mut Reader::new(&[9u8; 20]), 0).unwrap();
        assert_eq!(v.capacity(), 0);
    }

    /// The one-pass list decode cuts the elements that are valid UTF-8
    /// in their context from the reader's window and decodes the rest
    /// element by element: the same values, errors and reader position
    /// as element-by-element decoding throughout.
    #[test]
    fn fixed_str_lists_agree_with_element_by_element() {
        let make = |f: &[u8; 1], s: &str| (f[0], String::from(s));
        let list = [7, 2, 0, b'a', b'b', 9, 0, 0, 3, 2, 0, 0xC3, 0xA9, 0xFF];
        let mut r = Reader::new(&list);
        let got = decode_fixed_str_vec::<_, 1, 2>(&mut r, 3, usize::MAX, make);
        assert_eq!(
            got,
            Ok(alloc::vec![
                (7, "ab".into()),
                (9, String::new()),
                (3, "\u{e9}".into())
            ])
        );
        assert_eq!(r.remaining(), 1);
        let agrees = |bytes: &[u8], n: usize| {
            let mut r = Reader::new(bytes);
            let got = decode_fixed_str_vec::<_, 1, 2>(&mut r, n, usize::MAX, make);
            let mut want_r = Reader::new(bytes);
            let want = decode_vec_general::<(u8, String)>(&mut want_r, n);
            assert_eq!(got, want, "{bytes:x?}, n {n}");
            assert_eq!(r.position(), want_r.position(), "{bytes:x?}, n {n}");
        };
        // A fixed byte that is not UTF-8, a string that is not, too short
        // an input, each at every element.
        for at in [0, 5, 8] {
            let mut bad = list;
            bad[at] = 0x80;
            agrees(&bad, 3);
        }
        for at in [3, 4, 11, 12] {
            let mut bad = list;
            bad[at] = 0xFF;
            agrees(&bad, 3);
        }
        let mut bad = list;
        bad[12] = b'x';
        agrees(&bad, 3);
        for end in 0..list.len() {
            agrees(&list[..end], 3);
        }
        agrees(&list, 4);
        // A length over the maximum: element by element from there (a
        // derived element's own decode then reports it; the tuple here
        // has no maximum).
        let mut r = Reader::new(&list);
        let got = decode_fixed_str_vec::<_, 1, 2>(&mut r, 3, 1, |f, s| (f[0], String::from(s)));
        assert!(got.is_ok_and(|v| v.len() == 3));
        // A `Vec<String>` whose first prefix is not ASCII but valid UTF-8
        // in the window (43,459 = bytes C3 A9, "é"): cut from it.
        let long = "x".repeat(0xA9C3);
        let mut body = Vec::new();
        for s in [long.as_str(), "ab", ""] {
            body.extend_from_slice(&(s.len() as u16).to_le_bytes());
            body.extend_from_slice(s.as_bytes());
        }
        let mut r = Reader::new(&body);
        let got = decode_fixed_str_vec::<_, 0, 2>(&mut r, 3, usize::MAX, |_, s| s);
        assert_eq!(got, Ok(alloc::vec![long.as_str(), "ab", ""]));
        assert_eq!(r.remaining(), 0);
        // Lists longer than one window, and a list after a list: the same
        // as one by one.
        let mut body = Vec::new();
        for i in 0..300u32 {
            let s = "y".repeat((i % 23) as usize);
            body.extend_from_slice(&(s.len() as u16).to_le_bytes());
            body.extend_from_slice(s.as_bytes());
        }
        let mut r = Reader::new(&body);
        let a = decode_fixed_str_vec::<_, 0, 2>(&mut r, 100, usize::MAX, |_, s| s);
        let b = decode_fixed_str_vec::<_, 0, 2>(&mut r, 200, usize::MAX, |_, s| s);
        let mut want_r = Reader::new(&body);
        let want = decode_vec_general::<&str>(&mut want_r, 300).unwrap();
        assert_eq!([a.unwrap(), b.unwrap()].concat(), want);
        assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn hostile_counts_reserve_what_the_input_can_hold() {
        // 1,000 strings claimed, 10 bytes left: at most 5 (2-byte minimum).
        let mut r = Reader::new(&[0u8; 10]);
        let v = <String as Decode>::decode_vec(&mut r, 1000);
        assert!(v.is_err());
        // Fixed-size elements whose bytes are all there: exactly `n`.
        let bytes = [1u8; 4 * 7];
        let v = <u32 as Decode>::decode_vec(&mut Reader::new(&bytes), 7).unwrap();
        assert_eq!((v.len(), v.capacity()), (7, 7));
        let v = decode_vec_general::<(u16, u16)>(&mut Reader::new(&bytes), 7).unwrap();
        assert_eq!((v.len(), v.capacity()), (7, 7));
    }
}
