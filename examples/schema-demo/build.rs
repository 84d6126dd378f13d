//! Compiles `schema/game.packet` (and what it imports) into
//! `$OUT_DIR/game.rs`; cargo reruns this when any of them changes.

fn main() {
    packet_schema::Builder::new()
        .include("schema")
        .max_frame_len(16 * 1024)
        .compile(&["schema/game.packet"])
        .unwrap();
}
