//! Compiles `schema/game.packet` (and what it imports) into
//! `$OUT_DIR/game.rs`, and the wire-format vectors' types
//! (`docs/vectors/vectors.packet`) into `$OUT_DIR/vectors.rs`; cargo reruns
//! this when any of them changes. Uses packet-schema without default
//! features: no clap in the build.

fn main() {
    packet_schema::Builder::new()
        .include("schema")
        .max_frame_len(16 * 1024)
        .packet_set("Msg") // `game::Msg`: every packet, dispatched by id
        .compile(&["schema/game.packet"])
        .unwrap();

    // The vectors' types are deliberately unbounded (`Strings`' u32-prefixed
    // fields, `Nested`'s lists), like the hand-written types of
    // packet-core/tests/it/vectors.rs; their W0001 warnings are expected, so
    // the directives (which would print them) are written here instead.
    let vectors = "../../docs/vectors/vectors.packet";
    println!("cargo:rerun-if-changed={vectors}");
    packet_schema::Builder::new()
        .cargo_directives(false)
        .compile(&[vectors])
        .unwrap();
}
