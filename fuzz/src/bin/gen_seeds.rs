//! Writes seed corpora for the fuzz targets into `fuzz/corpus/<target>/`
//! (or the directory given as the first argument): valid frames of every
//! example packet, streams of several frames, and bodies, each prefixed with
//! the target's selector bytes.
//!
//! Run: `cargo run --manifest-path fuzz/Cargo.toml --bin gen_seeds`.
#![forbid(unsafe_code)]

use std::fs;
use std::path::{Path, PathBuf};

use packet_benches::{Chat, PlayerMove, WorldSnapshot, sample_chat, sample_move, sample_snapshot};
use packet_core::frame;
use packet_core::{Encode, Packet, Writer};

fn frame_of<P: Packet>(p: &P, seq: u64) -> Vec<u8> {
    let mut out = vec![0u8; 8192];
    let n = frame::encode_packet(p, seq, &mut out).expect("fits");
    out.truncate(n);
    out
}

fn body_of<P: Encode>(p: &P) -> Vec<u8> {
    let mut out = vec![0u8; p.encoded_len()];
    let mut w = Writer::new(&mut out);
    p.encode(&mut w).expect("fits");
    out
}

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let d = dir.join(target);
    fs::create_dir_all(&d).expect("create corpus dir");
    fs::write(d.join(name), bytes).expect("write seed");
}

fn main() {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/corpus")));
    let mv: PlayerMove = sample_move();
    let chat: Chat<'static> = sample_chat();
    let snap: WorldSnapshot = sample_snapshot(5);
    let big: WorldSnapshot = sample_snapshot(100);
    let mut empty = vec![0u8; 64];
    let n = frame::encode_raw(0x7777, 0, b"", &mut empty).expect("fits");
    empty.truncate(n);

    let frames = [
        ("move", frame_of(&mv, 1)),
        ("chat", frame_of(&chat, 2)),
        ("snapshot5", frame_of(&snap, 3)),
        ("snapshot100", frame_of(&big, 4)),
        ("empty", empty),
    ];
    let mut stream = Vec::new();
    for (name, f) in &frames {
        write(&dir, "frame_decode", name, &[[0u8].as_slice(), f].concat());
        stream.extend_from_slice(f);
    }
    // stream_decode: mode, chunk-size count, sizes, stream.
    write(
        &dir,
        "stream_decode",
        "whole",
        &[&[0u8, 0][..], &stream].concat(),
    );
    write(
        &dir,
        "stream_decode",
        "bytes",
        &[&[0u8, 1, 1][..], &stream].concat(),
    );
    write(
        &dir,
        "stream_decode",
        "odd",
        &[&[0u8, 3, 7, 0, 33][..], &stream].concat(),
    );
    write(
        &dir,
        "stream_decode",
        "truncated",
        &[&[0u8, 1, 5][..], &stream[..stream.len() - 3]].concat(),
    );

    // body_decode: selector, body (selectors as in packet_fuzz::round_trip_by_index).
    write(
        &dir,
        "body_decode",
        "move",
        &[&[0u8][..], &body_of(&mv)].concat(),
    );
    write(
        &dir,
        "body_decode",
        "chat",
        &[&[1u8][..], &body_of(&chat)].concat(),
    );
    write(
        &dir,
        "body_decode",
        "snapshot",
        &[&[2u8][..], &body_of(&snap)].concat(),
    );
    write(
        &dir,
        "body_decode",
        "option",
        &[&[4u8][..], &body_of(&Some((true, 'é', -5i64)))].concat(),
    );
    write(
        &dir,
        "body_decode",
        "strings",
        &[&[5u8][..], &body_of(&vec!["ab".to_string(), String::new()])].concat(),
    );
    write(
        &dir,
        "body_decode",
        "prefixed",
        &[
            11u8, 2, b'h', b'i', 1, 0, 0, 0, 9, 0, 3, 0, 0, 0, 1, 2, 3, 1, 1, b'x',
        ][..],
    );

    // transport_e2e: capacity, count, messages..., script (free-form).
    write(
        &dir,
        "transport_e2e",
        "simple",
        &[
            0x10, 0x00, 3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
        ],
    );
    write(
        &dir,
        "transport_e2e",
        "choppy",
        &[
            1, 0, 8, 0, 9, 9, 9, 9, 9, 9, 9, 9, 0, 1, 2, 3, 8, 16, 24, 32, 40, 48,
        ],
    );
    println!("seeds written under {}", dir.display());
}
