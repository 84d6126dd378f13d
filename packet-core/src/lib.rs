//! # packet-core
//!
//! The runtime of the *packet* protocol for game networking: fixed-size packet
//! buffers, a bounds-checked little-endian field codec with borrowed
//! (zero-copy) reads, and CRC-checked framing
//! (`Length + Header + Data + Check + Ending`, padded to 4 bytes) with a
//! streaming decoder for byte streams.
//!
//! The codec is *sans-I/O*: nothing in [`buf`], [`codec`], [`frame`] or
//! `stream` touches a socket. The byte layout is specified in
//! `docs/wire-format.md`, which is the contract this crate implements.
//!
//! ```
//! use packet_core::{Decode, Encode, Packet, PacketBuf, Reader, Writer};
//! use packet_core::error::{DecodeError, EncodeError};
//! use packet_core::frame::{self, FrameConfig};
//!
//! /// A hand-written packet; `#[derive(Packet)]` generates the same code.
//! #[derive(Debug, PartialEq)]
//! struct Chat<'a> { room: u16, text: &'a str }
//!
//! impl Encode for Chat<'_> {
//!     const MAX_SIZE: Option<usize> = None; // the text is unbounded
//!     fn encoded_len(&self) -> usize { self.room.encoded_len() + self.text.encoded_len() }
//!     fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
//!         self.room.encode(w)?;
//!         self.text.encode(w)
//!     }
//! }
//! impl<'de> Decode<'de> for Chat<'de> {
//!     fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
//!         Ok(Chat { room: u16::decode(r)?, text: <&str>::decode(r)? })
//!     }
//! }
//! impl Packet for Chat<'_> { const ID: u16 = 0x0102; }
//!
//! // Encode into a stack buffer: the body is written in place, once.
//! let mut buf: PacketBuf = PacketBuf::new();
//! let bytes = buf.encode(&Chat { room: 7, text: "gg" }, 1)?;
//! assert_eq!(bytes.len() % 4, 0);
//!
//! // Decode: validate the frame once, then borrow `text` from `bytes`.
//! let frame = frame::decode_frame(bytes, &FrameConfig::default())?;
//! let chat: Chat<'_> = frame.decode_packet()?;
//! assert_eq!(chat, Chat { room: 7, text: "gg" });
//! # Ok::<(), packet_core::Error>(())
//! ```
//!
//! ## Features
//! - `std` (default): implies `alloc`; `std::error::Error` integration and
//!   `StreamDecoder::read_from`. Sockets, sessions and servers live in the
//!   `packet-net` crate.
//! - `derive`: `#[derive(Packet)]` and `#[derive(PacketSet)]` (from
//!   `packet-derive`), exported next to the traits of the same names. Off
//!   by default: without it rustc says `Packet` is "only a trait, without
//!   a derive macro", not which feature to enable.
//! - `crypto`: sealed frames (ChaCha20-Poly1305) in `crypto` and the
//!   replay state in `replay`; works without `std` and `alloc`.
//! - `alloc`: `String`, `Vec`, `Box` fields and the `stream` decoder.
//!
//! Without default features the crate is `no_std` and allocation-free.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod buf;
pub mod codec;
#[cfg(feature = "crypto")]
pub mod crypto;
pub mod dispatch;
pub mod error;
pub mod family;
pub mod frame;
pub mod layout;
#[cfg(feature = "crypto")]
pub mod replay;
#[cfg(feature = "alloc")]
pub mod stream;
pub mod view;

pub use buf::{Reader, Writer};
pub use codec::{Decode, Encode, LenPrefix};
pub use dispatch::PacketSet;
#[cfg(feature = "crypto")]
pub use error::{CryptoError, ReplayError};
pub use error::{DecodeError, EncodeError, Error, FrameError};
pub use frame::{DEFAULT_PACKET_SIZE, Frame, FrameConfig, Header, Packet, PacketBuf};
// The derives carry their whole reference (every attribute, with examples)
// in their own docs, which rustdoc shows on these re-exports.
#[cfg(feature = "derive")]
pub use packet_derive::{Packet, PacketSet};
#[cfg(feature = "alloc")]
pub use stream::StreamDecoder;
pub use view::View;

/// `Vec` for derived code in `no_std` crates (inside [`__if_alloc!`]).
#[doc(hidden)]
#[cfg(feature = "alloc")]
pub use alloc::vec::Vec as __Vec;

/// Expands its input only when packet-core has the `alloc` feature (for
/// derived code that overrides `alloc`-only trait methods).
#[doc(hidden)]
#[cfg(feature = "alloc")]
#[macro_export]
macro_rules! __if_alloc {
    ($($item:tt)*) => { $($item)* };
}

/// Expands its input only when packet-core has the `alloc` feature (for
/// derived code that overrides `alloc`-only trait methods).
#[doc(hidden)]
#[cfg(not(feature = "alloc"))]
#[macro_export]
macro_rules! __if_alloc {
    ($($item:tt)*) => {};
}

/// Includes the Rust that packet-schema's `Builder` generated into
/// `OUT_DIR` from build.rs: `include_schema!("game")` includes
/// `$OUT_DIR/game.rs` (like `prost::include_proto!`). The generated types
/// use `#[derive(Packet)]`, so enable the `derive` feature.
///
/// ```ignore
/// pub mod game {
///     ::packet_core::include_schema!("game"); // `::`: a schema module may be named `packet_core`
/// }
/// ```
#[macro_export]
macro_rules! include_schema {
    ($name:literal) => {
        include!(concat!(
            // Without a build script rustc said only that `OUT_DIR` is not
            // defined, with a help to read it at run time instead.
            env!(
                "OUT_DIR",
                "include_schema! includes what packet_schema::Builder::compile wrote into OUT_DIR from the crate's build.rs, and this crate has no build script (OUT_DIR is not set): add a build.rs that calls packet_schema::Builder::new().compile(&[\"schema/game.packet\"]), with packet-schema as a build-dependency"
            ),
            "/",
            $name,
            ".rs"
        ));
    };
}

// The crate README's examples, run as doctests so that they stay true
// (the example derives: feature `derive`).
#[cfg(all(doctest, feature = "derive"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
