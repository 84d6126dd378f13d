//! The schema demo's integration tests, one binary (a module per topic):
//! generated packets byte-identical to hand-derived ones, the wire-format
//! vectors through the vectors' schema, and the protocol fingerprint
//! computed alike by the derive and the schema compiler.

mod fingerprint;
mod identical;
mod vectors;
