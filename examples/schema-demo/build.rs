//! Compiles `schema/game.packet` (and what it imports) into
//! `$OUT_DIR/game.rs`; cargo reruns this when any of them changes. Uses
//! packet-schema without default features: no clap in the build.

fn main() {
    packet_schema::Builder::new()
        .include("schema")
        .max_frame_len(16 * 1024)
        .packet_set("Msg") // `game::Msg`: every packet, dispatched by id
        .compile(&["schema/game.packet"])
        .unwrap();
}
