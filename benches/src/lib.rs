//! Shared fixtures for the criterion benchmarks in `benches/benches/`.
//!
//! The benchmarks compare packet against its peers in the same run; see
//! `BENCHMARKS.md` at the workspace root for how to run them and the ratios.
#![forbid(unsafe_code)]

/// A body of `len` bytes with a recognisable pattern.
pub fn body(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + 7) as u8).collect()
}
