//! A deterministic probe of the owned decodes and the encodes of the
//! `codec` bench's data shapes, for callgrind (instructions, not wall
//! clock): packet against the fastest validating peers (bitcode,
//! wincode), on the same values as the bench (`packet_benches::shapes`),
//! and the small packets (`move`, `chat`, `snapshot100`) for packet alone.
//!
//! Only `probe_decode` (or, with the verb `encode`, `probe_encode`) is
//! counted (`--toggle-collect`), so building the fixture and encoding it
//! cost nothing in the count:
//!
//! ```sh
//! cargo bench -p packet-benches --features peers --bench shape_probe --no-run
//! P=$(ls -t target/release/deps/shape_probe-* | grep -v '\.d$' | head -1)
//! valgrind --tool=callgrind --toggle-collect='*probe_decode*' \
//!     --callgrind-out-file=/tmp/cg.log.packet $P log packet 5
//! callgrind_annotate --inclusive=yes /tmp/cg.log.packet | head -40
//! # the encodes: the verb `encode` after the count
//! valgrind --tool=callgrind --toggle-collect='*probe_encode*' \
//!     --callgrind-out-file=/tmp/cg.log.packet.enc $P log packet 5 encode
//! ```
//!
//! Arguments: shape (`savegame`, `log`, `updates`, `mesh`, `move`, `chat`,
//! `snapshot100`), codec (`packet`, `bitcode`, `wincode`; the small
//! packets: `packet` only), iterations (default 5), verb (`decode`, the
//! default, or `encode`). It prints the heap allocations, reallocations
//! and frees per iteration, counted by `stats_alloc` around the system
//! allocator (a few atomic adds per call, the same for every codec).
//!
//! Each encode writes into a buffer reused across iterations, as in the
//! bench: packet into one `Writer` slice, bitcode into one
//! `bitcode::Buffer` (its first encode, outside the count, sizes it),
//! wincode `serialize_into` one slice. None allocates per iteration.

use std::hint::black_box;

use packet_benches::decode_body as packet_decode;
use packet_benches::shapes;
use packet_core::{Encode, Writer};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

const WINCODE_LIMIT: usize = 64 << 20;

fn wincode_config() -> impl wincode::config::Config + Copy {
    wincode::config::DefaultConfig::new().with_preallocation_size_limit::<WINCODE_LIMIT>()
}

/// The counted loop: `iters` decodes by `decode`, each value dropped
/// before the next (as in criterion's `iter`).
#[inline(never)]
fn probe_decode<T>(iters: usize, mut decode: impl FnMut() -> T) {
    for _ in 0..iters {
        black_box(decode());
    }
}

/// The counted loop of the verb `encode`: `iters` encodes by `encode`
/// into the buffer it reuses.
#[inline(never)]
fn probe_encode(iters: usize, mut encode: impl FnMut()) {
    for _ in 0..iters {
        encode();
    }
}

fn run<T>(iters: usize, decode: impl FnMut() -> T) {
    let region = Region::new(GLOBAL);
    probe_decode(iters, decode);
    report(iters, "decode", region.change());
}

fn run_encode(iters: usize, mut encode: impl FnMut()) {
    // One encode outside the count: a peer's reused buffer sizes itself.
    encode();
    let region = Region::new(GLOBAL);
    probe_encode(iters, encode);
    report(iters, "encode", region.change());
}

fn report(iters: usize, verb: &str, s: stats_alloc::Stats) {
    let per = |n: usize| n as f64 / iters.max(1) as f64;
    println!(
        "{iters} {verb}s; per {verb}: {} allocs, {} reallocs, {} frees, {} bytes allocated",
        per(s.allocations),
        per(s.reallocations),
        per(s.deallocations),
        per(s.bytes_allocated)
    );
}

fn packet_bytes<T: Encode>(v: &T) -> Vec<u8> {
    let mut buf = vec![0u8; v.encoded_len()];
    v.encode(&mut Writer::new(&mut buf)).expect("encodes");
    buf
}

/// packet's encode of `value` into `buf` (the bench's row).
fn packet_encode<T: Encode>(value: &T, buf: &mut [u8]) {
    let mut w = Writer::new(buf);
    Encode::encode(black_box(value), &mut w).expect("fits");
    black_box(w.written());
}

/// The encodes of one value, into a buffer of twice its packet size.
macro_rules! shape_encode {
    ($value:expr, $codec:expr, $iters:expr) => {{
        let value = $value;
        let mut buf = vec![0u8; 2 * value.encoded_len() + 4096];
        match $codec {
            "packet" => run_encode($iters, || packet_encode(&value, &mut buf)),
            "bitcode" => {
                let mut out = bitcode::Buffer::new();
                run_encode($iters, || {
                    black_box(out.encode(black_box(&value)));
                });
            }
            "wincode" => {
                let cfg = wincode_config();
                run_encode($iters, || {
                    let mut out = &mut buf[..];
                    wincode::config::serialize_into(&mut out, black_box(&value), cfg)
                        .expect("fits");
                    black_box(out.len());
                });
            }
            other => panic!("codec packet|bitcode|wincode, not {other}"),
        }
    }};
}

macro_rules! shape {
    ($value:expr, $t:ty, $codec:expr, $iters:expr, $verb:expr) => {{
        let value: $t = $value;
        if $verb == "encode" {
            shape_encode!(value, $codec, $iters);
            return;
        }
        match $codec {
            "packet" => {
                let bytes = packet_bytes(&value);
                run($iters, || packet_decode::<$t>(black_box(&bytes)));
            }
            "bitcode" => {
                let bytes = bitcode::encode(&value);
                let mut buf = bitcode::Buffer::new();
                run($iters, || {
                    buf.decode::<$t>(black_box(&bytes)).expect("decodes")
                });
            }
            "wincode" => {
                let cfg = wincode_config();
                let bytes = wincode::config::serialize(&value, cfg).expect("encodes");
                run($iters, || {
                    wincode::config::deserialize::<$t, _>(black_box(&bytes), cfg).expect("decodes")
                });
            }
            other => panic!("codec packet|bitcode|wincode, not {other}"),
        }
    }};
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes `--bench`; ignore flags.
    let args: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let shape = args.first().copied().unwrap_or("log");
    let codec = args.get(1).copied().unwrap_or("packet");
    let iters: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(5);
    let verb = args.get(3).copied().unwrap_or("decode");
    assert!(
        verb == "decode" || verb == "encode",
        "verb decode|encode, not {verb}"
    );
    if verb == "encode" && codec == "packet" {
        let mut buf = vec![0u8; 64 << 10];
        match shape {
            "move" => {
                let v = packet_benches::sample_move();
                return run_encode(iters, || packet_encode(&v, &mut buf));
            }
            "snapshot100" => {
                let v = packet_benches::sample_snapshot(100);
                return run_encode(iters, || packet_encode(&v, &mut buf));
            }
            "chat" => {
                let v = packet_benches::sample_chat();
                return run_encode(iters, || packet_encode(&v, &mut buf));
            }
            _ => {}
        }
    }
    match shape {
        "savegame" => shape!(shapes::save_game(500), shapes::SaveGame, codec, iters, verb),
        "log" => shape!(shapes::logs(10_000), shapes::Logs, codec, iters, verb),
        "updates" => shape!(shapes::updates(1_000), shapes::Updates, codec, iters, verb),
        "mesh" => shape!(shapes::mesh(125_000), shapes::Mesh, codec, iters, verb),
        "move" => {
            let bytes = packet_bytes(&packet_benches::sample_move());
            run(iters, || {
                packet_decode::<packet_benches::PlayerMove>(black_box(&bytes))
            });
        }
        "snapshot100" => {
            let bytes = packet_bytes(&packet_benches::sample_snapshot(100));
            run(iters, || {
                packet_decode::<packet_benches::WorldSnapshot>(black_box(&bytes))
            });
        }
        "chat" => {
            let bytes = packet_bytes(&packet_benches::sample_chat());
            run(iters, || {
                packet_decode::<packet_benches::Chat<'_>>(black_box(&bytes))
            });
        }
        other => panic!("shape savegame|log|updates|mesh|move|chat|snapshot100, not {other}"),
    }
}
