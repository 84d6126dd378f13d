//! A deterministic probe of the owned decodes of the `codec` bench's data
//! shapes, for callgrind (instructions, not wall clock): packet against
//! the fastest validating peers (bitcode, wincode), decode only, on the
//! same values as the bench (`packet_benches::shapes`), and the small
//! packets (`move`, `chat`, `snapshot100`) for packet alone.
//!
//! Only `probe_decode` is counted (`--toggle-collect`), so building the
//! fixture and encoding it cost nothing in the count:
//!
//! ```sh
//! cargo bench -p packet-benches --features peers --bench shape_probe --no-run
//! P=$(ls -t target/release/deps/shape_probe-* | grep -v '\.d$' | head -1)
//! valgrind --tool=callgrind --toggle-collect='*probe_decode*' \
//!     --callgrind-out-file=/tmp/cg.log.packet $P log packet 5
//! callgrind_annotate --inclusive=yes /tmp/cg.log.packet | head -40
//! ```
//!
//! Arguments: shape (`savegame`, `log`, `updates`, `mesh`, `move`, `chat`,
//! `snapshot100`), codec (`packet`, `bitcode`, `wincode`; the small
//! packets: `packet` only), decodes (default 5). It prints the heap
//! allocations, reallocations and frees per decode, counted by
//! `stats_alloc` around the system allocator (a few atomic adds per call,
//! the same for every codec).

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

fn run<T>(iters: usize, decode: impl FnMut() -> T) {
    let region = Region::new(GLOBAL);
    probe_decode(iters, decode);
    let s = region.change();
    let per = |n: usize| n as f64 / iters.max(1) as f64;
    println!(
        "{iters} decodes; per decode: {} allocs, {} reallocs, {} frees, {} bytes allocated",
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

macro_rules! shape {
    ($value:expr, $t:ty, $codec:expr, $iters:expr) => {{
        let value: $t = $value;
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
    match shape {
        "savegame" => shape!(shapes::save_game(500), shapes::SaveGame, codec, iters),
        "log" => shape!(shapes::logs(10_000), shapes::Logs, codec, iters),
        "updates" => shape!(shapes::updates(1_000), shapes::Updates, codec, iters),
        "mesh" => shape!(shapes::mesh(125_000), shapes::Mesh, codec, iters),
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
