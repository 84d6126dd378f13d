//! The data shapes' decodes (issue #13) against the fastest validating
//! peers, timed interleaved.
//!
//! Criterion times one row after another, so on a shared machine a load
//! change between rows moves a ratio by 10–20 %. Here every row of a shape
//! runs a short block of calls per round, round after round, so a load
//! change hits all rows alike. For each shape it prints the minimum, 10th
//! percentile and median of each row in microseconds, and the ratio of
//! medians to the fastest peer (and, for the mesh, to `memcpy`).
//!
//! ```text
//! cargo bench -p packet-benches --features peers --bench interleaved -- [ROUNDS] [SHAPE...]
//! ```
//!
//! Shapes: `mesh`, `savegame`, `log`, `updates` (default: all). Rows:
//! `packet` (body decode into the owned value), `bitcode` (through a
//! reused `Buffer`), `wincode`, `rkyv` (validated access, then
//! deserialize); the mesh adds `memcpy` (`to_vec` of packet's body bytes:
//! the floor) and `loop` (the same `&[Triangle]` copied element by
//! element, a copy loop the compiler cannot turn back into a `memcpy`
//! call).

use std::cell::RefCell;
use std::hint::black_box;
use std::time::Instant;

use packet_benches::decode_body;
use packet_benches::shapes::{self, Triangle};
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
/// Rows that are not peers (left out of "the fastest peer").
const FLOORS: [&str; 2] = ["memcpy", "loop"];

/// One timed row: its name and a call (the decoded value passes through
/// `black_box` before it is dropped).
type Row<'a> = (&'static str, Box<dyn Fn() + 'a>);

/// One shape: its encodings, its decode rows (plus any the optional
/// block pushes, given packet's encoded bytes and the rows), timed and
/// reported.
macro_rules! shape {
    ($name:literal, $value:expr, $t:ty, $archived:ty, $rounds:expr
        $(, |$body:ident, $more:ident| $extra:block)?) => {{
        let value: $t = $value;
        let wcfg = wincode::config::DefaultConfig::new()
            .with_preallocation_size_limit::<WINCODE_LIMIT>();
        let mut packet = vec![0u8; value.encoded_len()];
        Encode::encode(&value, &mut Writer::new(&mut packet)).expect("fits");
        let bitcode_bytes = bitcode::encode(&value);
        let wincode_bytes = wincode::config::serialize(&value, wcfg).expect("encodes");
        let rkyv_bytes =
            rkyv::api::high::to_bytes_in::<_, RkyvError>(&value, AlignedVec::<16>::new())
                .expect("serializes");
        assert_eq!(decode_body::<$t>(&packet), value);
        let bitcode_buf = RefCell::new(bitcode::Buffer::new());
        #[allow(unused_mut)]
        let mut rows: Vec<Row<'_>> = vec![
            (
                "packet",
                Box::new(|| {
                    black_box(decode_body::<$t>(black_box(&packet)));
                }),
            ),
            (
                "bitcode",
                Box::new(|| {
                    let decoded = bitcode_buf
                        .borrow_mut()
                        .decode::<$t>(black_box(&bitcode_bytes))
                        .expect("decodes");
                    black_box(decoded);
                }),
            ),
            (
                "wincode",
                Box::new(|| {
                    black_box(
                        wincode::config::deserialize::<$t, _>(black_box(&wincode_bytes), wcfg)
                            .expect("decodes"),
                    );
                }),
            ),
            (
                "rkyv",
                Box::new(|| {
                    let archived = rkyv::access::<$archived, RkyvError>(black_box(&rkyv_bytes))
                        .expect("valid");
                    black_box(rkyv::deserialize::<$t, RkyvError>(archived).expect("deserializes"));
                }),
            ),
        ];
        $({
            let $body: &[u8] = &packet;
            let $more = &mut rows;
            $extra
        })?
        report($name, &time(&rows, $rounds));
    }};
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let rounds: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(100);
    let only: Vec<&str> = args
        .iter()
        .filter(|a| a.parse::<usize>().is_err())
        .map(String::as_str)
        .collect();
    let wanted = |shape: &str| only.is_empty() || only.contains(&shape);

    if wanted("mesh") {
        let mesh = shapes::mesh(125_000);
        shape!(
            "mesh",
            mesh,
            shapes::Mesh,
            shapes::ArchivedMesh,
            rounds,
            |packet, rows| {
                let body = &packet[4..];
                let items: &[Triangle] = <[Triangle] as zerocopy::FromBytes>::ref_from_bytes(body)
                    .expect("4-aligned body");
                rows.push((
                    "memcpy",
                    Box::new(move || drop(black_box(black_box(body).to_vec()))),
                ));
                rows.push((
                    "loop",
                    Box::new(move || drop(black_box(copy_loop(black_box(items))))),
                ));
            }
        );
    }
    if wanted("savegame") {
        let save = shapes::save_game(500);
        shape!(
            "savegame",
            save,
            shapes::SaveGame,
            shapes::ArchivedSaveGame,
            rounds
        );
    }
    if wanted("log") {
        shape!(
            "log",
            shapes::logs(10_000),
            shapes::Logs,
            shapes::ArchivedLogs,
            rounds
        );
    }
    if wanted("updates") {
        let updates = shapes::updates(1_000);
        shape!(
            "updates",
            updates,
            shapes::Updates,
            shapes::ArchivedUpdates,
            rounds
        );
    }
}

/// Runs every row `rounds` times a block, interleaved; each row's timed
/// calls in microseconds, sorted.
fn time(rows: &[Row<'_>], rounds: usize) -> Vec<(&'static str, Vec<f64>)> {
    let mut times: Vec<(&'static str, Vec<f64>)> = rows
        .iter()
        .map(|(name, _)| (*name, Vec::with_capacity(rounds * (BLOCK - WARM))))
        .collect();
    for _ in 0..rounds {
        for (row, (_, t)) in rows.iter().zip(&mut times) {
            for k in 0..BLOCK {
                let start = Instant::now();
                (row.1)();
                let e = start.elapsed().as_secs_f64() * 1e6;
                if k >= WARM {
                    t.push(e);
                }
            }
        }
    }
    for (_, t) in &mut times {
        t.sort_by(f64::total_cmp);
    }
    times
}

/// Prints one shape's rows: minimum, 10th percentile, median, and the
/// median's ratio to the fastest peer's (and to `memcpy`'s, if timed).
fn report(shape: &str, times: &[(&'static str, Vec<f64>)]) {
    let median = |t: &[f64]| t[t.len() / 2];
    let of = |name: &str| {
        times
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| median(t))
    };
    let fastest_peer = times
        .iter()
        .filter(|(n, _)| *n != "packet" && !FLOORS.contains(n))
        .map(|(_, t)| median(t))
        .fold(f64::INFINITY, f64::min);
    let floor = of("memcpy");
    println!(
        "{shape} decode (median of {} calls a row)",
        times[0].1.len()
    );
    for (name, t) in times {
        let m = median(t);
        let to_floor = floor.map_or(String::new(), |f| format!("  {:.2}x memcpy", m / f));
        println!(
            "  {name:8} min {:8.1}  p10 {:8.1}  median {:8.1} us  {:.2}x fastest peer{to_floor}",
            t[0],
            t[t.len() / 10],
            m,
            m / fastest_peer,
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
