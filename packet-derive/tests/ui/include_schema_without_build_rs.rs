// `include_schema!` in a crate without a build script: say to add one
// (rustc said `OUT_DIR` is not defined, and to read it at run time).
pub mod game {
    ::packet_core::include_schema!("game");
}

fn main() {}
