//! Dispatch by packet id: [`PacketSet`], a closed set of packet types that
//! a frame decodes into by its `type_id` (the seed's `parsePacket`).
//!
//! Implement it with `#[derive(PacketSet)]` (feature `derive`) on an enum
//! whose variants each hold one packet type:
//!
//! ```
//! # #[cfg(feature = "derive")] {
//! use packet_core::{Packet, PacketBuf, PacketSet};
//! use packet_core::frame::{self, FrameConfig};
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
//! let mut buf: PacketBuf = PacketBuf::new();
//! let bytes = buf.encode(&Say { text: "hi" }, 7)?;
//! let frame = frame::decode_frame(bytes, &FrameConfig::default())?;
//! match Msg::decode_frame(&frame)? {
//!     Msg::Say(say) => assert_eq!(say.text, "hi"),
//!     other => panic!("unexpected {other:?}"),
//! }
//! assert_eq!(Msg::IDS, &[1, 2]);
//!
//! // Or validate and dispatch a datagram in one call.
//! let bytes = buf.encode(&Ping { nonce: 3 }, 8)?;
//! assert_eq!(Msg::decode_datagram(bytes, &FrameConfig::default())?, Msg::Ping(Ping { nonce: 3 }));
//! # }
//! # Ok::<(), packet_core::Error>(())
//! ```
//!
//! Two members with the same id are a compile error (a `const` assertion
//! that names both variants); a frame whose id names no member decodes to
//! [`DecodeError::UnknownPacketId`]. This module holds the trait only: the
//! frame rules live in [`crate::frame`], the member codecs in
//! [`crate::codec`].

use crate::error::{DecodeError, EncodeError, Error};
use crate::frame::{self, Frame, FrameConfig};

/// A closed set of packet types, decoded from a frame by its type id.
///
/// `'de` is the lifetime of the receive buffer that borrowed fields point
/// into.
pub trait PacketSet<'de>: Sized {
    /// The ids of the members, in declaration order (distinct).
    const IDS: &'static [u16];

    /// Decodes `frame`'s body as the member whose id is `frame.type_id()`;
    /// the whole body must be consumed.
    fn decode_frame(frame: &Frame<'de>) -> Result<Self, DecodeError>;

    /// Encodes the held packet as a plaintext frame with `sequence` into
    /// the start of `out`; returns the frame length.
    fn encode_frame(&self, sequence: u64, out: &mut [u8]) -> Result<usize, EncodeError>;

    /// The id of the held packet.
    fn id(&self) -> u16;

    /// Validates `bytes` as exactly one plaintext frame (datagram rules,
    /// [`frame::decode_frame`]) and decodes it with
    /// [`PacketSet::decode_frame`]: one call per received datagram.
    fn decode_datagram(bytes: &'de [u8], config: &FrameConfig) -> Result<Self, Error> {
        let frame = frame::decode_frame(bytes, config)?;
        Ok(Self::decode_frame(&frame)?)
    }

    /// Whether `id` names a member.
    fn contains_id(id: u16) -> bool {
        Self::IDS.contains(&id)
    }
}
