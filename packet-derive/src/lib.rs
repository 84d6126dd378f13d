//! `#[derive(Packet)]` and `#[derive(PacketSet)]` for packet-core.
//!
//! Use them through packet-core's `derive` feature (`packet_core::Packet`
//! is both the trait and the derive, as with serde).
#![forbid(unsafe_code)]

mod attr;
mod check;
mod expand;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Implements `Encode` and `Decode` (and `Packet` with `#[packet(id = ..)]`).
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

/// Implements `packet_core::PacketSet` for an enum of packets.
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
