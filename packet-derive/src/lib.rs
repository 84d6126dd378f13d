//! `#[derive(Packet)]` and `#[derive(PacketSet)]` for
//! [packet-core](https://docs.rs/packet-core).
//!
//! Depend on packet-core with its `derive` feature and use the derives from
//! there: `packet_core::Packet` is both the trait and the derive (as with
//! serde), and so is `packet_core::PacketSet`. Generated code names
//! `::packet_core` unless told otherwise with `#[packet(crate = ...)]`.
//!
//! ```
//! use packet_core::frame::{self, FrameConfig};
//! use packet_core::{Packet, PacketBuf};
//!
//! #[derive(Packet, Debug, PartialEq)]
//! #[packet(id = 0x0102)]
//! struct Chat<'a> {
//!     room: u16,
//!     #[packet(len = u8)]
//!     name: &'a str,
//!     #[packet(max_len = 200)]
//!     text: &'a str,
//! }
//!
//! let mut buf: PacketBuf = PacketBuf::new();
//! let bytes = buf.encode(&Chat { room: 7, name: "bob", text: "hi" }, 1)?;
//! let frame = frame::decode_frame(bytes, &FrameConfig::default())?;
//! let chat: Chat<'_> = frame.decode_packet()?; // `name`, `text` borrow `bytes`
//! assert_eq!(chat, Chat { room: 7, name: "bob", text: "hi" });
//! assert_eq!(Chat::ID, 0x0102);
//! // 20 header + (2 + 1 + 255 + 2 + 200 = 460 body) + 4 CRC + 4 ending
//! assert_eq!(Chat::MAX_FRAME_LEN, Some(488));
//! # Ok::<(), packet_core::Error>(())
//! ```
//!
//! # What `#[derive(Packet)]` implements
//!
//! - `Encode`, with `MAX_SIZE` (the largest body, `None` if unbounded) and
//!   `MIN_SIZE` (the smallest) computed in `const` context from the fields
//!   with `codec::size`, so `T::MAX_SIZE` is usable in your own `const`s.
//! - `Decode<'de>`. A type with exactly one lifetime `'a` implements
//!   `Decode<'a>`, so borrowed fields at any depth (`&'a str`,
//!   `Vec<&'a str>`, `Option<&'a [u8]>`, nested derived types) point into
//!   the receive buffer. A type with several lifetimes implements
//!   `Decode<'de>` for a `'de` that outlives them all; then only top-level
//!   `&str` / `&[u8]` fields can borrow.
//! - `Packet`, only with `#[packet(id = ...)]`. Plain body types (nested
//!   in packets, enums used as fields) have no id.
//!
//! Every type parameter gets an `Encode` bound on the `Encode` / `Packet`
//! impls and a `Decode<'de>` bound on the `Decode` impl. Lifetimes and
//! const generics are passed through.
//!
//! ## Wire form
//!
//! - **Structs** (named, tuple, unit): the fields in declaration order, each
//!   in its own wire form (packet-core's `codec` table); a unit struct is an
//!   empty body.
//! - **Enums**: a tag, then the variant's fields in order. The tag is the
//!   variant's Rust discriminant (explicit `= N`, or the previous one plus
//!   one, starting from 0) written little-endian at the width of the enum's
//!   `#[repr(u8|u16|u32|i8|i16|i32)]` (signed: two's complement), or of
//!   `#[packet(tag = u8|u16|u32)]` when there is no repr (default `u8`). This covers C-like enums
//!   (`#[repr(u8)] enum Kind { A = 1, B = 2 }` is one byte) and enums with
//!   data (`#[repr(u16)] enum Event<'a> { Hit { dmg: u32 } = 1, Say(&'a str) = 2 }`).
//!   Decoding a tag that names no variant is
//!   `DecodeError::UnknownDiscriminant { value, type_name }` (`value` is
//!   the tag `as u32`, so a signed tag is sign-extended).
//!
//! ## Generated code
//!
//! Consecutive fixed-size primitive fields (integers, floats, `bool`,
//! `char`, arrays of them up to 64 bytes, and an enum's tag) form a run that
//! is written with one `Writer::reserve_array::<N>()` and direct stores, and
//! read with one `Reader::take_array::<N>()` and loads: a packet made only
//! of such fields (or of nested derived structs that are) does one capacity
//! check per run. Primitives are recognised by name, so a type alias of
//! `u32` takes the general path (same bytes). Other fields call their own
//! `Encode` / `Decode` impls, or the codec's length-prefix helpers when they
//! carry `len` / `max_len`. Nothing allocates unless a field's type owns
//! heap data (`String`, `Vec`, `Box`). `bool` and `char` in a run are still
//! validated (`InvalidBool`, `InvalidChar`). When the input is shorter than
//! a run, the run is decoded again field by field on that error path only,
//! so the error is exactly what hand-written code reports:
//! `UnexpectedEnd { needed, remaining }` for the field that ran out (or an
//! earlier field's `InvalidBool`). On encode, a run that does not fit is one
//! `EncodeError::BufferFull { needed: <run size>, .. }`.
//!
//! ## Compile-time size check
//!
//! For a packet (a type with `id`), the derive asserts in `const` context
//! that its **smallest** possible frame, `frame_len_for(MIN_SIZE)`, fits the
//! default `PacketBuf` (`DEFAULT_PACKET_SIZE`, 1200 bytes). A packet that
//! fails can never be sent through a default buffer; it is a compile error
//! naming the packet. For a packet with no type parameters the assertion
//! runs where the type is defined; for a generic one, wherever its
//! `Packet::ID` is used (every encode and decode of a frame uses it).
//! A packet whose *largest* frame exceeds the buffer but whose smallest fits
//! is allowed (an oversized value is a runtime `EncodeError::BufferFull`):
//! `Packet::MAX_FRAME_LEN` gives the largest frame (`None` if unbounded) to
//! assert on where that matters:
//!
//! ```
//! # use packet_core::{Packet, DEFAULT_PACKET_SIZE};
//! #[derive(Packet)]
//! #[packet(id = 0x0010)]
//! struct Move { entity: u32, x: f32, y: f32, z: f32 }
//!
//! const _: () = assert!(matches!(Move::MAX_FRAME_LEN, Some(n) if n <= DEFAULT_PACKET_SIZE));
//! ```
//!
//! # Attribute reference
//!
//! All attributes are written `#[packet(key = value, ...)]`; unknown keys,
//! values of the wrong kind and keys in the wrong place are compile errors
//! at the offending token, all reported at once.
//!
//! ## On the type
//!
//! | attribute | meaning |
//! |---|---|
//! | `id = EXPR` | implements `Packet` with this `u16` id (a literal like `0x0102` or a `const` expression) |
//! | `crate = PATH` | where packet-core is (default `::packet_core`); also accepts a string, `crate = "my::reexport"` |
//! | `tag = u8 \| u16 \| u32` | the tag width of an enum without an integer `#[repr]` (default `u8`); an error together with a repr |
//!
//! `#[repr(u8)]`, `#[repr(u16)]`, `#[repr(u32)]`, `#[repr(i8)]`,
//! `#[repr(i16)]` and `#[repr(i32)]` on an enum set the tag width; 64- and
//! 128-bit and pointer-sized reprs are errors (tags are at most 32 bits).
//!
//! ## On a field
//!
//! | attribute | meaning |
//! |---|---|
//! | `len = u8 \| u16 \| u32` | the length prefix of a sequence field (default `u16`) |
//! | `max_len = EXPR` | the most items (bytes for strings) the field may hold, checked on encode (`EncodeError::LengthOverMax`) and decode (`DecodeError::LengthOverMax`, before anything is read or allocated); a `usize` literal or `const` expression |
//! | `skip` | not on the wire; `Default::default()` on decode |
//! | `with = PATH` | a module that writes the field itself (see below) |
//!
//! `len` and `max_len` apply to sequence fields, recognised by their type:
//! `&str`, `&[u8]`, `String`, `Box<str>` (length in bytes) and `Vec<T>`,
//! `Box<[T]>` (length in items). On any other type they are an error. A
//! sequence without them uses its plain impl: a `u16` prefix, no maximum
//! beyond the prefix's. `skip` cannot be combined with the others, nor
//! `with` with `len` / `max_len`.
//!
//! The module named by `with` must provide, for the field type `T`,
//! `MAX_SIZE: Option<usize>`, `encoded_len(&T) -> usize`,
//! `encode(&T, &mut Writer) -> Result<(), EncodeError>` and
//! `decode(&mut Reader<'de>) -> Result<T, DecodeError>`:
//!
//! ```
//! /// A `u32` written in 3 bytes.
//! mod u24 {
//!     use packet_core::{Reader, Writer};
//!     use packet_core::error::{DecodeError, EncodeError};
//!
//!     pub const MAX_SIZE: Option<usize> = Some(3); // or None if unbounded
//!     pub fn encoded_len(_: &u32) -> usize { 3 }
//!     pub fn encode(v: &u32, w: &mut Writer<'_>) -> Result<(), EncodeError> {
//!         let [a, b, c, high] = v.to_le_bytes();
//!         if high != 0 {
//!             return Err(EncodeError::Invalid("u24 out of range"));
//!         }
//!         w.put_array([a, b, c])
//!     }
//!     pub fn decode(r: &mut Reader<'_>) -> Result<u32, DecodeError> {
//!         let [a, b, c] = r.take_array()?;
//!         Ok(u32::from_le_bytes([a, b, c, 0]))
//!     }
//! }
//!
//! #[derive(packet_core::Packet)]
//! struct Health {
//!     #[packet(with = u24)]
//!     hp: u32,
//! }
//! assert_eq!(<Health as packet_core::Encode>::MAX_SIZE, Some(3));
//! ```
//!
//! (`encoded_len` and `MAX_SIZE` are needed besides `encode` / `decode` so
//! the packet's `Encode::encoded_len` and `MAX_SIZE` stay exact; a `with`
//! field counts 0 towards `MIN_SIZE`.)
//!
//! # `#[derive(PacketSet)]`
//!
//! On an enum whose variants each hold one packet type, implements
//! `packet_core::PacketSet`: `IDS`, `decode_frame` (dispatch on the
//! frame's type id; an unknown id is `DecodeError::UnknownPacketId`),
//! `encode_frame` and `id`. Two members with the same id are a compile
//! error naming both variants; a member without `#[packet(id = ...)]` is a
//! compile error at its type. Only `crate = PATH` is accepted as an
//! attribute.
//!
//! ```
//! use packet_core::{Packet, PacketSet};
//!
//! #[derive(Packet, Debug, PartialEq)]
//! #[packet(id = 1)]
//! struct Ping { nonce: u32 }
//!
//! #[derive(Packet, Debug, PartialEq)]
//! #[packet(id = 2)]
//! struct Say<'a> { text: &'a str }
//!
//! #[derive(PacketSet, Debug, PartialEq)]
//! enum Msg<'a> { Ping(Ping), Say(Say<'a>) }
//!
//! let mut out = [0u8; 64];
//! let n = Msg::Ping(Ping { nonce: 9 }).encode_frame(1, &mut out)?;
//! let frame = packet_core::frame::decode_frame(&out[..n], &Default::default())?;
//! assert_eq!(Msg::decode_frame(&frame)?, Msg::Ping(Ping { nonce: 9 }));
//! # Ok::<(), packet_core::Error>(())
//! ```
//!
//! # Limitations
//!
//! - Recursive types (`struct Node { children: Vec<Node> }`) cannot derive:
//!   their `MAX_SIZE` / `MIN_SIZE` would be defined in terms of themselves,
//!   which rustc reports as a cycle (E0391). Bound the depth in the type
//!   (`[Option<Leaf>; 4]`) or write the impls by hand.
//! - Fields are classified by how their type is *written*: `len` /
//!   `max_len` need one of the sequence types spelled out (not an alias),
//!   and only primitives spelled by name join a direct-store run (an alias
//!   still works, through its `Encode` impl). Runs do not cross into nested
//!   types: a nested derived struct makes its own single check.
//! - A `PacketSet` enum has at most one lifetime, shared by its members.
//!
//! # Crate layout
//!
//! As in serde_derive: `attr.rs` parses attributes, `check.rs` validates
//! them into a model (collecting every error), `expand.rs` generates code.
#![forbid(unsafe_code)]

mod attr;
mod check;
mod expand;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Implements `Encode` and `Decode` (and `Packet` with `#[packet(id = ..)]`);
/// see the [crate docs](crate) for the wire form and attribute reference.
#[proc_macro_derive(Packet, attributes(packet))]
pub fn derive_packet(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    let mut cx = attr::Ctxt::default();
    let parsed = check::parse_packet(&mut cx, &input);
    let model = check::packet(&mut cx, &input, &parsed);
    match (cx.finish(), model) {
        (Ok(()), Some(model)) => expand::packet(&model).into(),
        (Err(e), _) => e.into_compile_error().into(),
        (Ok(()), None) => TokenStream::new(),
    }
}

/// Implements `packet_core::PacketSet` for an enum whose variants each hold
/// one packet; see the [crate docs](crate#derivepacketset).
#[proc_macro_derive(PacketSet, attributes(packet))]
pub fn derive_packet_set(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    let mut cx = attr::Ctxt::default();
    let model = check::packet_set(&mut cx, &input);
    match (cx.finish(), model) {
        (Ok(()), Some(model)) => expand::packet_set(&model).into(),
        (Err(e), _) => e.into_compile_error().into(),
        (Ok(()), None) => TokenStream::new(),
    }
}
