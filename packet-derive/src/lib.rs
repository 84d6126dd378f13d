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
//! The whole reference (wire form, generated code, size checks, recursive
//! types, every attribute with examples) is on the derives themselves,
//! [`#[derive(Packet)]`](derive.Packet.html) and
//! [`#[derive(PacketSet)]`](derive.PacketSet.html), so that it reaches
//! users through the re-exports `packet_core::Packet` and
//! `packet_core::PacketSet`.
//!
//! # Crate layout
//!
//! As in serde_derive: `attr.rs` parses attributes, `check.rs` validates
//! them into a model (collecting every error), `expand.rs` generates code;
//! `fingerprint.rs` generates the protocol fingerprint's layout impls,
//! `family.rs` the `packet_core::family` impls.
#![forbid(unsafe_code)]

mod attr;
mod check;
mod expand;
mod family;
mod fingerprint;
mod recursion;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

#[doc = include_str!("packet.md")]
#[proc_macro_derive(Packet, attributes(packet))]
pub fn derive_packet(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    let mut cx = attr::Ctxt::new();
    let parsed = check::parse_packet(&mut cx, &input);
    let model = check::packet(&mut cx, &input, &parsed);
    match cx.finish(model) {
        Ok(model) => {
            let mut out = expand::packet(&model);
            out.extend(fingerprint::layout(&model));
            out.extend(family::packet(&model));
            out.into()
        }
        Err(e) => e.into_compile_error().into(),
    }
}

#[doc = include_str!("packet_set.md")]
#[proc_macro_derive(PacketSet, attributes(packet))]
pub fn derive_packet_set(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    let mut cx = attr::Ctxt::new();
    let model = check::packet_set(&mut cx, &input);
    match cx.finish(model) {
        Ok(model) => {
            let mut out = expand::packet_set(&model);
            out.extend(fingerprint::set(&model));
            out.extend(family::set(&model));
            out.into()
        }
        Err(e) => e.into_compile_error().into(),
    }
}

// The crate README's examples, run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
