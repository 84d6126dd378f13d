//! `#[derive(Packet)]` for packet-core (work in progress: see the derive issue).
#![forbid(unsafe_code)]
