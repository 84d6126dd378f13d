//! Runnable examples for packet: see `examples/examples/` and the `demo`
//! binary in `src/bin/`.
#![forbid(unsafe_code)]
