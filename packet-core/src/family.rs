//! Packet types at every lifetime of the receive buffer: how generic code
//! (a server's router, an event queue) that is told "`Chat`" names
//! `Chat<'de>` for each frame it decodes, whatever that frame's lifetime.
//!
//! A bound like `P: for<'de> Decode<'de>` only holds for owned types; a
//! packet that borrows (`Chat<'a>` with a `&'a str`) decodes only at its
//! own lifetime, so such a bound fails with "implementation of `Decode`
//! is not general enough". A *family* maps any lifetime to the type at
//! that lifetime instead:
//!
//! - [`PacketFamily`]: a packet (`Chat<'_>` → `Chat<'de>`; an owned
//!   packet is its own family),
//! - [`PacketSetFamily`]: a [`PacketSet`] enum.
//!
//! `#[derive(Packet)]` (with an `id`) and `#[derive(PacketSet)]`
//! implement them for types with at most one lifetime and no type
//! parameters; for a hand-written packet it is one line:
//!
//! ```
//! use packet_core::family::PacketFamily;
//! # use packet_core::{Decode, DecodeError, Encode, EncodeError, Packet, Reader, Writer};
//! struct Say<'a>(&'a str);
//! # impl Encode for Say<'_> {
//! #     const MAX_SIZE: Option<usize> = None;
//! #     fn encoded_len(&self) -> usize { self.0.encoded_len() }
//! #     fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> { self.0.encode(w) }
//! # }
//! # impl<'de> Decode<'de> for Say<'de> {
//! #     fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> { Ok(Say(Decode::decode(r)?)) }
//! # }
//! # impl Packet for Say<'_> { const ID: u16 = 9; }
//!
//! impl PacketFamily for Say<'_> {
//!     type At<'de> = Say<'de>;
//! }
//! ```
//!
//! What does not live here: the codec ([`crate::codec`]), the sets'
//! dispatch ([`crate::dispatch`]).

use crate::codec::Decode;
use crate::dispatch::PacketSet;
use crate::frame::Packet;

/// A packet type at every lifetime of the buffer it is decoded from. See
/// the [module docs](self).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a packet type a router can decode",
    label = "no `PacketFamily` for `{Self}`",
    note = "derive it: `#[derive(Packet)]` with `#[packet(id = ..)]` (at most one lifetime, no type parameters)",
    note = "or, for a hand-written packet: `impl PacketFamily for {Self} {{ type At<'de> = /* the type, borrowing for 'de */; }}`"
)]
pub trait PacketFamily {
    /// The packet borrowing from a buffer that lives for `'de` (`Self`
    /// for an owned packet).
    type At<'de>: Packet + Decode<'de>;
}

/// A [`PacketSet`] enum at every lifetime of the buffer it is decoded
/// from. See the [module docs](self).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a packet set a router can decode",
    label = "no `PacketSetFamily` for `{Self}`",
    note = "derive it: `#[derive(PacketSet)]` on an enum whose variants each hold one packet (at most one lifetime, no type parameters)"
)]
pub trait PacketSetFamily {
    /// The set borrowing from a buffer that lives for `'de`.
    type At<'de>: PacketSet<'de>;
}
