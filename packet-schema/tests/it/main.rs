//! packet-schema's integration tests, one binary (one link, one run), a
//! module per topic:
//! - `cli`: the `packet-schema` binary's commands, exit codes and outputs;
//! - `compat`: wire-incompatible changes between schema versions;
//! - `codegen_props`: generated valid schemas always generate Rust that parses;
//! - `diagnostics`: the corpus of bad schemas and their committed snapshots;
//! - `golden`: the generator's committed outputs and the `Builder`;
//! - `golden_compiles`: those outputs compile against the real derive;
//! - `inspect`: hostile frames never make `inspect` panic;
//! - `tshark`: the generated Wireshark dissector shows what the Rust decode
//!   shows, on every vector and a demo session (skipped without tshark).
//!
//! Tests that need files use paths relative to the crate directory and set
//! it as the working directory (the same one for every test, so tests
//! running in parallel agree).

#[cfg(feature = "cli")]
mod cli;
mod codegen_props;
mod compat;
mod diagnostics;
mod golden;
mod golden_compiles;
#[cfg(feature = "cli")]
mod inspect;
#[cfg(feature = "cli")]
mod tshark;

/// `golden/game_owned.rs` refers to packet_core through a re-export at
/// `crate::reexport` (the `Builder::crate_path` case).
mod reexport {
    pub use packet_core;
}
