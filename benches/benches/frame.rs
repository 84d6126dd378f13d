//! Frame overhead: packet's frame encode and decode beside the bare
//! `crc32fast` call and a `memcpy` of the same bytes, in the same run.
//!
//! Run with `cargo bench -p packet-benches --bench frame`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use packet_benches::body;
use packet_core::frame::{self, FrameConfig};

fn frame_overhead(c: &mut Criterion) {
    let config = FrameConfig::default();
    for len in [64usize, 1024] {
        let payload = body(len);
        let mut out = vec![0u8; frame::frame_len_for(len)];
        let n = frame::encode_raw(7, 1, &payload, &mut out).expect("fits");
        let wire = out[..n].to_vec();

        let mut group = c.benchmark_group(format!("frame/{len}B"));
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function("memcpy", |b| {
            let mut dst = vec![0u8; len];
            b.iter(|| {
                dst.copy_from_slice(black_box(&payload));
                black_box(&dst);
            })
        });
        group.bench_function("crc32fast", |b| {
            b.iter(|| black_box(crc32fast::hash(black_box(&wire[..n - 8]))))
        });
        // The least any framing encoder must do: put the body in place,
        // then hash bytes it has just written.
        group.bench_function("copy_then_crc32fast", |b| {
            let mut dst = wire.clone();
            b.iter(|| {
                dst[20..20 + len].copy_from_slice(black_box(&payload));
                black_box(crc32fast::hash(&dst[..n - 8]))
            })
        });
        group.bench_function("packet_encode", |b| {
            b.iter(|| black_box(frame::encode_raw(7, 1, black_box(&payload), &mut out)))
        });
        group.bench_function("packet_decode", |b| {
            b.iter(|| {
                let frame = frame::decode_frame(black_box(&wire), &config).expect("valid");
                black_box(frame.body().len())
            })
        });
        group.finish();
    }
}

criterion_group!(benches, frame_overhead);
criterion_main!(benches);
