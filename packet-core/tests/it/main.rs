//! packet-core's integration tests: one binary, a module per topic.

mod vectors;
