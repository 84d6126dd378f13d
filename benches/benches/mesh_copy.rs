//! The mesh decode against its copy floor and the fastest peers, timed
//! interleaved (issue #13).
//!
//! Criterion times one row after another, so on a shared machine a load
//! change between rows moves a ratio by 10–20 %. Here every row runs a
//! short block of calls per round, round after round, so a load change
//! hits all rows alike. Prints the minimum, 10th percentile and median
//! of each row in microseconds, and the ratio of medians to `memcpy`.
//!
//! ```text
//! cargo bench -p packet-benches --features peers --bench mesh_copy -- [ROUNDS] [ROW...]
//! ```
//!
//! Rows: `packet` (body decode into an owned `Mesh`), `memcpy` (`to_vec`
//! of packet's body bytes: the floor), `loop` (the same `&[Triangle]`
//! copied element by element, a copy loop the compiler cannot turn back
//! into a `memcpy` call), `wincode` and `rkyv` (validated access, then
//! deserialize).

use std::hint::black_box;
use std::time::Instant;

use packet_benches::decode_body;
use packet_benches::shapes::{self, Mesh, Triangle};
use packet_core::{Encode, Writer};
use rkyv::rancor::Error as RkyvError;
use rkyv::util::AlignedVec;

/// wincode's preallocation limit, raised as in the `codec` bench (its
/// default refuses the 6 MB mesh).
const WINCODE_LIMIT: usize = 64 << 20;
/// Calls per row per round; the first `WARM` of each block are not timed,
/// so every row runs with its own input warm in the cache.
const BLOCK: usize = 12;
const WARM: usize = 2;

/// One timed row: its name and a call returning the decoded length
/// (the value itself passes through `black_box` before it is dropped).
type Row<'a> = (&'static str, Box<dyn Fn() -> usize + 'a>);

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let rounds: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(400);
    let only: Vec<&str> = args
        .iter()
        .filter(|a| a.parse::<usize>().is_err())
        .map(String::as_str)
        .collect();

    let value = shapes::mesh(125_000);
    let mut packet = vec![0u8; value.encoded_len()];
    Encode::encode(&value, &mut Writer::new(&mut packet)).expect("fits");
    let body = &packet[4..];
    let items: &[Triangle] =
        <[Triangle] as zerocopy::FromBytes>::ref_from_bytes(body).expect("4-aligned body");
    let wcfg =
        wincode::config::DefaultConfig::new().with_preallocation_size_limit::<WINCODE_LIMIT>();
    let wincode_bytes = wincode::config::serialize(&value, wcfg).expect("encodes");
    let rkyv_bytes = rkyv::api::high::to_bytes_in::<_, RkyvError>(&value, AlignedVec::<16>::new())
        .expect("serializes");

    let rows: Vec<Row<'_>> = vec![
        (
            "packet",
            Box::new(|| {
                let m: Mesh = black_box(decode_body(black_box(&packet)));
                m.triangles.len()
            }),
        ),
        (
            "memcpy",
            Box::new(|| black_box(black_box(body).to_vec()).len()),
        ),
        (
            "loop",
            Box::new(|| black_box(copy_loop(black_box(items))).len()),
        ),
        (
            "wincode",
            Box::new(|| {
                let m: Mesh = black_box(
                    wincode::config::deserialize(black_box(&wincode_bytes), wcfg).expect("decodes"),
                );
                m.triangles.len()
            }),
        ),
        (
            "rkyv",
            Box::new(|| {
                let a = rkyv::access::<shapes::ArchivedMesh, RkyvError>(black_box(&rkyv_bytes))
                    .expect("valid");
                let m: Mesh =
                    black_box(rkyv::deserialize::<Mesh, RkyvError>(a).expect("deserializes"));
                m.triangles.len()
            }),
        ),
    ];
    let active: Vec<usize> = (0..rows.len())
        .filter(|&i| only.is_empty() || only.contains(&rows[i].0))
        .collect();

    let mut times = vec![Vec::with_capacity(rounds * BLOCK); rows.len()];
    for _ in 0..rounds.div_ceil(BLOCK - WARM) {
        for &i in &active {
            for k in 0..BLOCK {
                let t = Instant::now();
                black_box((rows[i].1)());
                let e = t.elapsed().as_secs_f64() * 1e6;
                if k >= WARM {
                    times[i].push(e);
                }
            }
        }
    }
    let median = |t: &[f64]| t[t.len() / 2];
    for t in &mut times {
        t.sort_by(f64::total_cmp);
    }
    let floor = (!times[1].is_empty()).then(|| median(&times[1]));
    for &i in &active {
        let t = &times[i];
        let ratio = floor.map_or(String::new(), |f| format!("  {:.2}x memcpy", median(t) / f));
        println!(
            "{:8} min {:7.1}  p10 {:7.1}  median {:7.1} us{ratio}",
            rows[i].0,
            t[0],
            t[t.len() / 10],
            median(t),
        );
    }
}

/// Copies element by element into an exact allocation; the capacity
/// check keeps the compiler from turning the loop into a `memcpy` call.
#[inline(never)]
fn copy_loop(items: &[Triangle]) -> Vec<Triangle> {
    let mut v = Vec::with_capacity(items.len());
    for x in items {
        if v.len() < v.capacity() {
            v.push(*x);
        }
    }
    v
}
