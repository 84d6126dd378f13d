//! packet-core's integration tests: one binary, a module per topic.

#[cfg(feature = "crypto")]
mod crypto;
mod hostile;
mod roundtrip;
mod utf8_window;
mod vectors;
