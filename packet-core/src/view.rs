//! Zero-copy views: bodies or fields that are plain old data, read in place
//! through zerocopy instead of being decoded field by field.
//!
//! A `#[repr(C)]` struct deriving zerocopy's `FromBytes`, `IntoBytes`,
//! `KnownLayout`, `Immutable` and `Unaligned`, built from zerocopy's
//! little-endian integer types, has the same bytes in memory as on the wire.
//! [`crate::Frame::view`] then returns `&T` pointing into the receive buffer,
//! and [`View`] does the same for one field of a larger packet.
//!
//! ```
//! use packet_core::frame::{self, FrameConfig};
//! use zerocopy::byteorder::little_endian::{F32, U32};
//! use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};
//!
//! #[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
//! #[repr(C)]
//! struct Position { entity: U32, x: F32, y: F32, z: F32 }
//!
//! let pos = Position { entity: 7.into(), x: F32::new(1.5), y: F32::new(0.0), z: F32::new(-2.0) };
//! let mut out = [0u8; 64];
//! let n = frame::encode_raw(0x0010, 1, pos.as_bytes(), &mut out)?;
//!
//! let frame = frame::decode_frame(&out[..n], &FrameConfig::default())?;
//! let seen: &Position = frame.view()?; // points into `out`
//! assert_eq!(seen.entity.get(), 7);
//! assert_eq!(seen.z.get(), -2.0);
//! # Ok::<(), packet_core::Error>(())
//! ```

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::buf::{Reader, Writer};
use crate::codec::{Decode, Encode};
use crate::error::{DecodeError, EncodeError};
use crate::frame::view_body;

/// A field that is a zerocopy type, read in place: decoding borrows
/// `size_of::<T>()` bytes of the input and casts them, with no copy.
#[derive(Debug, PartialEq, Eq)]
pub struct View<'a, T>(pub &'a T);

impl<T> Clone for View<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for View<'_, T> {}

impl<'a, T> View<'a, T> {
    /// Wraps a reference.
    pub fn new(value: &'a T) -> Self {
        View(value)
    }
    /// The viewed value.
    pub fn get(&self) -> &'a T {
        self.0
    }
}

impl<T> core::ops::Deref for View<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0
    }
}

impl<T: IntoBytes + Immutable> Encode for View<'_, T> {
    const MAX_SIZE: Option<usize> = Some(size_of::<T>());
    const FLAT: bool = true;
    #[inline]
    fn encoded_len(&self) -> usize {
        size_of::<T>()
    }
    #[inline]
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.put_bytes(self.0.as_bytes())
    }
}

impl<'de, T: FromBytes + KnownLayout + Immutable + Unaligned> Decode<'de> for View<'de, T> {
    const FIXED_WIRE_SIZE: Option<usize> = Some(size_of::<T>());
    const MIN_WIRE_SIZE: usize = size_of::<T>();
    #[inline]
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        let bytes = r.take(size_of::<T>())?;
        view_body(bytes).map(View)
    }
}
