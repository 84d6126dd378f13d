//! packet-net's integration tests: one binary, a module per topic.
#![allow(dead_code)]

mod common;
mod core;
#[cfg(all(feature = "crypto", feature = "tokio"))]
mod defects;
#[cfg(all(feature = "crypto", feature = "tokio"))]
mod sealed_transport;
mod server_blocking;
#[cfg(feature = "tokio")]
mod server_tokio;
#[cfg(feature = "tokio")]
mod server_udp;
