//! The packet schema compiler (work in progress: see the schema issue).
#![forbid(unsafe_code)]
