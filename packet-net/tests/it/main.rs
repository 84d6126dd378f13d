//! packet-net's integration tests: one binary, a module per topic.
#![allow(dead_code)]

mod bind_error;
#[cfg(feature = "tokio")]
mod broadcast;
mod close_notice;
mod common;
mod compile_fail;
mod core;
mod datagram_limit;
#[cfg(all(feature = "crypto", feature = "tokio"))]
mod defects;
mod events;
#[cfg(feature = "tokio")]
mod field_too_long;
mod frame_paths;
#[cfg(feature = "crypto")]
mod fuzz_regressions;
#[cfg(feature = "tokio")]
mod handler_panic;
#[cfg(all(feature = "crypto", feature = "tokio"))]
mod handshake;
#[cfg(feature = "tokio")]
mod identity;
mod queue;
mod refusal_close;
mod reserved_type_id;
mod router;
#[cfg(all(feature = "crypto", feature = "tokio"))]
mod sealed_transport;
mod server_blocking;
#[cfg(feature = "tokio")]
mod server_tokio;
#[cfg(feature = "tokio")]
mod server_udp;
mod session_state;
mod shutdown;
mod timeouts;
mod too_deep;
#[cfg(feature = "tracing")]
mod tracing_events;
mod typed_dispatch;
#[cfg(feature = "crypto")]
mod udp_endpoint;
mod udp_flood;
mod udp_split;
mod unknown_packets;
mod wake_interval;
mod work_limit;
