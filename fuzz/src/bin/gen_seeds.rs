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
    // transport_io: mode (bit 0 sealed, bit 1 small queue), then as transport_e2e.
    write(
        &dir,
        "transport_io",
        "plain",
        &[0u8, 0x10, 0x00, 3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    write(
        &dir,
        "transport_io",
        "sealed",
        &[1u8, 0x10, 0x00, 3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    write(
        &dir,
        "transport_io",
        "sealed_choppy",
        &[
            3u8, 1, 0, 8, 0, 9, 9, 9, 9, 9, 9, 9, 9, 0, 1, 2, 3, 8, 16, 24,
        ],
    );

    // udp_endpoint and packet_codec read `arbitrary::Unstructured` scripts
    // (a byte or two per choice); these seeds only start the mutator on
    // scripts that reach the interesting steps.
    // udp_endpoint: sealed?, max sessions, GSO segments, step count, then
    // steps: a client's hello from its address (3), a sealed frame (4),
    // its delivery (5), time (7), sweep (8).
    for (name, sealed) in [("plain", 0u8), ("sealed", 1)] {
        let steps = [
            3u8, 0, 4, 0, 1, 2, b'h', b'i', 5, 0, 1, 0, 7, 0x40, 8, 2, 0, 0, 0,
        ];
        write(
            &dir,
            "udp_endpoint",
            name,
            &[&[sealed, 3, 2, 12][..], &steps].concat(),
        );
    }
    // packet_codec: mode (bit 0 sealed, bits 1-2 damage, bits 3-4 CRC
    // repair), maximum frame, frame count, frames (type id, body), then
    // damage and chunk sizes.
    for (name, mode) in [
        ("plain", 0u8),
        ("sealed", 1),
        ("flipped", 3),
        ("spliced", 4),
    ] {
        let frames = [2u8, 1, 0, 3, b'a', b'b', b'c', 2, 0, 1, 9, 7, 3, 10, 20];
        write(
            &dir,
            "packet_codec",
            name,
            &[&[mode, 0x80, 0x01][..], &frames].concat(),
        );
    }

    // sealed_open: mode (sealed flag, ending, length), then a *plaintext*
    // sealed-layout frame that the target encrypts and tags itself.
    for (name, body, type_id) in [
        ("move", body_of(&mv), PlayerMove::ID),
        ("chat", body_of(&chat), Chat::ID),
        ("snapshot5", body_of(&snap), WorldSnapshot::ID),
        ("empty", Vec::new(), 0x0001),
    ] {
        let padded = frame::padded_len(body.len());
        let length = frame::HEADER_LEN + padded + frame::TAG_LEN + frame::ENDING_LEN;
        let mut f = vec![0u8; length];
        frame::write_header(
            &mut f,
            length,
            frame::flags::ENCRYPTED,
            type_id,
            body.len(),
            5,
        )
        .expect("fits");
        f[frame::HEADER_LEN..frame::HEADER_LEN + body.len()].copy_from_slice(&body);
        f[length - frame::ENDING_LEN..].copy_from_slice(&frame::ENDING);
        write(&dir, "sealed_open", name, &[&[0b111u8][..], &f].concat());
    }

    // The wire-format test vectors (docs/vectors/{valid,invalid}/*.hex).
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/vectors");
    for kind in ["valid", "invalid"] {
        let Ok(entries) = fs::read_dir(vectors.join(kind)) else {
            eprintln!("no {kind} vectors under {}", vectors.display());
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "hex") {
                continue;
            }
            let text = fs::read_to_string(&path).expect("read vector");
            let Some(bytes) = parse_hex(&text) else {
                eprintln!("skipping {}: not hex", path.display());
                continue;
            };
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("vector");
            let name = format!("{kind}-{stem}");
            write(&dir, "frame_decode", &name, &[&[0u8][..], &bytes].concat());
            // Mode 2: keep the vector's CRCs as they are.
            write(
                &dir,
                "stream_decode",
                &name,
                &[&[2u8, 0][..], &bytes].concat(),
            );
        }
    }
    // schema_parse: every schema the schema crate tests and the demo use.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for sub in [
        "packet-schema/tests/golden",
        "packet-schema/tests/bad",
        "examples/schema-demo/schema",
    ] {
        let Ok(entries) = fs::read_dir(root.join(sub)) else {
            eprintln!("no schemas under {sub}");
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "packet") {
                let text = fs::read(&path).expect("read schema");
                let stem = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("schema");
                let tag = sub.replace('/', "_");
                write(&dir, "schema_parse", &format!("{tag}-{stem}"), &text);
            }
        }
    }
    println!("seeds written under {}", dir.display());
}

/// The frame bytes of a `docs/vectors` `.hex` file: every line not starting
/// with `#`, whitespace ignored.
fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| l.bytes())
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}
