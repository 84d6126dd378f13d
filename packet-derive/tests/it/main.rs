//! packet-derive's integration tests, one binary with a module per topic
//! (one link instead of one per file keeps `cargo test --workspace` fast).
//! The zero-allocation test is the other binary, `tests/alloc`: it installs
//! a counting global allocator and runs single-threaded without the test
//! harness, which cannot share a binary with these tests.

mod compile_fail;
mod depth;
mod fit;
mod golden;
mod recursive;
mod roundtrip;
mod runs;
