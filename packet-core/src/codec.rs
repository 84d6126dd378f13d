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

use crate::buf::{Reader, Writer};
use crate::error::{DecodeError, EncodeError};

/// A value that can be written as packet fields.
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

    /// The exact number of bytes [`Encode::encode`] writes.
    fn encoded_len(&self) -> usize;

    /// Writes the value.
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError>;

    /// Writes a run of values. Overridden by `u8` to copy in one go.
    #[doc(hidden)]
    #[inline]
    fn encode_slice(items: &[Self], w: &mut Writer<'_>) -> Result<(), EncodeError>
    where
        Self: Sized,
    {
        items.iter().try_for_each(|item| item.encode(w))
    }

    /// The encoded size of a run of values.
    #[doc(hidden)]
    #[inline]
    fn slice_encoded_len(items: &[Self]) -> usize
    where
        Self: Sized,
    {
        items.iter().map(Encode::encoded_len).sum()
    }
}

/// A value that can be read from packet fields, possibly borrowing from the
/// input for `'de` (zero-copy `&'de str`, `&'de [u8]`, [`crate::View`]).
pub trait Decode<'de>: Sized {
    /// Reads the value.
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError>;

    /// Reads `M` values. Overridden by `u8` to copy in one go.
    #[doc(hidden)]
    #[inline]
    fn decode_array<const M: usize>(r: &mut Reader<'de>) -> Result<[Self; M], DecodeError> {
        let mut first_err = None;
        let items: [Option<Self>; M] = core::array::from_fn(|_| {
            if first_err.is_some() {
                return None;
            }
            match Self::decode(r) {
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

    /// Reads `n` values into a vector. Overridden by `u8` to copy in one go.
    #[doc(hidden)]
    #[cfg(feature = "alloc")]
    fn decode_vec(r: &mut Reader<'de>, n: usize) -> Result<Vec<Self>, DecodeError> {
        // Never reserve on the word of a length field beyond what the input
        // could possibly hold (each element takes at least one byte), nor
        // more than PREALLOC_BYTES of memory up front: an element can be far
        // larger in memory than on the wire, so a prefix times `size_of`
        // could ask for much more than the frame's size. Past that the
        // vector grows as elements actually decode.
        let cap = n
            .min(r.remaining())
            .min(PREALLOC_BYTES / size_of::<Self>().max(1));
        let mut items = Vec::with_capacity(cap);
        for _ in 0..n {
            items.push(Self::decode(r)?);
        }
        Ok(items)
    }
}

/// The most memory [`Decode::decode_vec`] reserves before decoding
/// elements: 64 KiB, the default maximum frame.
#[cfg(feature = "alloc")]
const PREALLOC_BYTES: usize = 64 * 1024;

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

macro_rules! impl_int {
    ($($t:ty),*) => {$(
        impl Encode for $t {
            const MAX_SIZE: Option<usize> = Some(size_of::<$t>());
            const MIN_SIZE: usize = size_of::<$t>();
            #[inline]
            fn encoded_len(&self) -> usize { size_of::<$t>() }
            #[inline]
            fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
                w.put_array(self.to_le_bytes())
            }
            #[inline]
            fn slice_encoded_len(items: &[Self]) -> usize { items.len() * size_of::<$t>() }
        }
        impl<'de> Decode<'de> for $t {
            #[inline]
            fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
                Ok(<$t>::from_le_bytes(r.take_array()?))
            }
        }
    )*};
}
impl_int!(u16, u32, u64, u128, i8, i16, i32, i64, i128);

impl Encode for u8 {
    const MAX_SIZE: Option<usize> = Some(1);
    const MIN_SIZE: usize = 1;
    #[inline]
    fn encoded_len(&self) -> usize {
        1
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.put_u8(*self)
    }
    #[inline]
    fn encode_slice(items: &[Self], w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.put_bytes(items)
    }
    #[inline]
    fn slice_encoded_len(items: &[Self]) -> usize {
        items.len()
    }
}

impl<'de> Decode<'de> for u8 {
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        r.take_u8()
    }
    #[inline]
    fn decode_array<const M: usize>(r: &mut Reader<'de>) -> Result<[Self; M], DecodeError> {
        r.take_array()
    }
    #[cfg(feature = "alloc")]
    fn decode_vec(r: &mut Reader<'de>, n: usize) -> Result<Vec<Self>, DecodeError> {
        Ok(r.take(n)?.to_vec())
    }
}

macro_rules! impl_float {
    ($($t:ty),*) => {$(
        impl Encode for $t {
            const MAX_SIZE: Option<usize> = Some(size_of::<$t>());
            const MIN_SIZE: usize = size_of::<$t>();
            #[inline]
            fn encoded_len(&self) -> usize { size_of::<$t>() }
            #[inline]
            fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
                w.put_array(self.to_bits().to_le_bytes())
            }
            #[inline]
            fn slice_encoded_len(items: &[Self]) -> usize { items.len() * size_of::<$t>() }
        }
        impl<'de> Decode<'de> for $t {
            #[inline]
            fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
                Ok(<$t>::from_le_bytes(r.take_array()?))
            }
        }
    )*};
}
impl_float!(f32, f64);

impl Encode for bool {
    const MAX_SIZE: Option<usize> = Some(1);
    const MIN_SIZE: usize = 1;
    #[inline]
    fn encoded_len(&self) -> usize {
        1
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.put_u8(u8::from(*self))
    }
}

impl<'de> Decode<'de> for bool {
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        match r.take_u8()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(DecodeError::InvalidBool(other)),
        }
    }
}

impl Encode for char {
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
    #[inline]
    fn encoded_len(&self) -> usize {
        T::slice_encoded_len(self)
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        T::encode_slice(self, w)
    }
}

impl<'de, T: Decode<'de>, const N: usize> Decode<'de> for [T; N] {
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        T::decode_array::<N>(r)
    }
}

impl<T: Encode> Encode for Option<T> {
    const MAX_SIZE: Option<usize> = size::add(Some(1), T::MAX_SIZE);
    const MIN_SIZE: usize = 1;
    #[inline]
    fn encoded_len(&self) -> usize {
        1 + self.as_ref().map_or(0, Encode::encoded_len)
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        match self {
            None => w.put_u8(0),
            Some(v) => {
                w.put_u8(1)?;
                v.encode(w)
            }
        }
    }
}

impl<'de, T: Decode<'de>> Decode<'de> for Option<T> {
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
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
            #[inline]
            fn encoded_len(&self) -> usize { 0 $(+ self.$n.encoded_len())+ }
            #[inline]
            fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
                $(self.$n.encode(w)?;)+
                Ok(())
            }
        }
        impl<'de, $($t: Decode<'de>),+> Decode<'de> for ($($t,)+) {
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

/// Writes `bytes` behind an `L` length prefix, refusing more than `max_len`.
#[inline]
pub fn encode_bytes<L: LenPrefix>(
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

/// Reads a string behind an `L` length prefix, borrowed from the input.
#[inline]
pub fn decode_str<'de, L: LenPrefix>(
    max_len: usize,
    r: &mut Reader<'de>,
) -> Result<&'de str, DecodeError> {
    let bytes = decode_bytes::<L>(max_len, r)?;
    core::str::from_utf8(bytes).map_err(|e| DecodeError::InvalidUtf8 {
        valid_up_to: e.valid_up_to(),
    })
}

/// Writes items behind an `L` count prefix, refusing more than `max_len`.
#[inline]
pub fn encode_seq<L: LenPrefix, T: Encode>(
    items: &[T],
    max_len: usize,
    w: &mut Writer<'_>,
) -> Result<(), EncodeError> {
    put_len::<L>(items.len(), max_len, w)?;
    T::encode_slice(items, w)
}

/// Reads items behind an `L` count prefix into a vector.
///
/// A count larger than the bytes left in the input is refused up front
/// with [`DecodeError::UnexpectedEnd`] `{ needed: count, remaining }`: every
/// element takes at least one byte, and elements that take none (a type
/// whose fields are all skipped) cannot make a 4-byte prefix loop four
/// billion times. Never reserves more than the input could hold.
#[cfg(feature = "alloc")]
#[inline]
pub fn decode_vec<'de, L: LenPrefix, T: Decode<'de>>(
    max_len: usize,
    r: &mut Reader<'de>,
) -> Result<Vec<T>, DecodeError> {
    let len = get_len::<L>(max_len, r)?;
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

/// The encoded size of a sequence of `items` behind an `L` prefix.
#[inline]
pub fn seq_encoded_len<L: LenPrefix, T: Encode>(items: &[T]) -> usize {
    L::SIZE + T::slice_encoded_len(items)
}

impl Encode for str {
    const MAX_SIZE: Option<usize> = seq_max_size::<DefaultLen>(Some(1), usize::MAX);
    const MIN_SIZE: usize = DefaultLen::SIZE;
    #[inline]
    fn encoded_len(&self) -> usize {
        DefaultLen::SIZE + self.len()
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        encode_str::<DefaultLen>(self, usize::MAX, w)
    }
}

impl<'de> Decode<'de> for &'de str {
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        decode_str::<DefaultLen>(usize::MAX, r)
    }
}

impl<T: Encode> Encode for [T] {
    const MAX_SIZE: Option<usize> = seq_max_size::<DefaultLen>(T::MAX_SIZE, usize::MAX);
    const MIN_SIZE: usize = DefaultLen::SIZE;
    #[inline]
    fn encoded_len(&self) -> usize {
        seq_encoded_len::<DefaultLen, T>(self)
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        encode_seq::<DefaultLen, T>(self, usize::MAX, w)
    }
}

impl<'de> Decode<'de> for &'de [u8] {
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
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        <&str>::decode(r).map(String::from)
    }
}

#[cfg(feature = "alloc")]
impl<T: Encode> Encode for Vec<T> {
    const MAX_SIZE: Option<usize> = <[T]>::MAX_SIZE;
    const MIN_SIZE: usize = DefaultLen::SIZE;
    #[inline]
    fn encoded_len(&self) -> usize {
        self.as_slice().encoded_len()
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.as_slice().encode(w)
    }
}

#[cfg(feature = "alloc")]
impl<'de, T: Decode<'de>> Decode<'de> for Vec<T> {
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        decode_vec::<DefaultLen, T>(usize::MAX, r)
    }
}

#[cfg(feature = "alloc")]
impl<T: Encode + ?Sized> Encode for Box<T> {
    const MAX_SIZE: Option<usize> = T::MAX_SIZE;
    const MIN_SIZE: usize = T::MIN_SIZE;
    #[inline]
    fn encoded_len(&self) -> usize {
        (**self).encoded_len()
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        (**self).encode(w)
    }
}

#[cfg(feature = "alloc")]
impl<'de, T: Decode<'de>> Decode<'de> for Box<T> {
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
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        Vec::<T>::decode(r).map(Vec::into_boxed_slice)
    }
}

#[cfg(feature = "alloc")]
impl<'de> Decode<'de> for Box<str> {
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        String::decode(r).map(String::into_boxed_str)
    }
}
