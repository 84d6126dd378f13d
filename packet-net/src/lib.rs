//! # packet-net
//!
//! Networking for the *packet* protocol: TCP and UDP transports (blocking
//! and tokio), session servers with dispatch by packet type id, sealed
//! sessions with per-session keys. Re-exports all of [`packet_core`], so a
//! networked game needs this one dependency.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use packet_core::*;

pub mod server;
pub mod transport;
