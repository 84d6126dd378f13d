//! Packets generated from `schema/game.packet` by packet-schema's
//! `Builder` in `build.rs`, included from `OUT_DIR`.
//!
//! ```
//! use packet_core::{PacketBuf, frame::{self, FrameConfig}};
//! use packet_schema_example::game::chat::Say;
//!
//! let say = Say { room: 1, name: "ada", text: "gg", color: None, mentions: vec![7] };
//! let mut buf: PacketBuf = PacketBuf::new();
//! let bytes = buf.encode(&say, 1)?;
//! let back: Say<'_> = frame::decode_frame(bytes, &FrameConfig::default())?.decode_packet()?;
//! assert_eq!(back, say);
//! # Ok::<(), packet_core::Error>(())
//! ```
#![forbid(unsafe_code)]

/// The generated packets (`schema/game.packet` and its imports).
pub mod game {
    packet_core::include_schema!("game");
}

/// The packet types of the wire-format test vectors
/// (`docs/vectors/vectors.packet`), checked against every vector file by
/// `tests/it/vectors.rs`.
pub mod vectors {
    packet_core::include_schema!("vectors");
}
