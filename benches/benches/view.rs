//! Zero-copy reads: packet's `View` / `Frame::view` (zerocopy casts of the
//! received bytes) against rkyv's validated `access`, in the same run.
//!
//! Each row reads every field it needs from the received bytes without
//! deserializing into an owned struct:
//! - `move`: the 38-byte `PlayerMove` body, viewed as `PlayerMovePod`;
//!   reading all fields.
//! - `snapshot100`: the 100-entity `WorldSnapshot`; summing every entity's
//!   health and x position (packet: `View<EntityPod>` per entity from a
//!   `Reader`; rkyv: iterating the archived `Vec`).
//!
//! `packet_frame` rows validate the whole frame (length, header, CRC-32,
//! ending, padding) before viewing, which rkyv has no equivalent of.
//! rkyv's unchecked access needs `unsafe`, which this project forbids, so it
//! is not measured.
//!
//! Run with `cargo bench -p packet-benches --features peers --bench view`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use packet_benches::pod::{EntityPod, PlayerMovePod};
use packet_benches::{ArchivedPlayerMove, ArchivedWorldSnapshot, sample_move, sample_snapshot};
use packet_core::frame::{self, FrameConfig};
use packet_core::{Decode, Encode, Reader, View, Writer};
use rkyv::rancor::Error as RkyvError;
use rkyv::util::AlignedVec;

fn body_of<P: Encode>(p: &P) -> Vec<u8> {
    let mut out = vec![0u8; p.encoded_len()];
    Encode::encode(p, &mut Writer::new(&mut out)).expect("fits");
    out
}

fn read_pod(m: &PlayerMovePod) -> f32 {
    m.entity.get() as f32
        + m.tick.get() as f32
        + m.pos.iter().map(|v| v.get()).sum::<f32>()
        + m.vel.iter().map(|v| v.get()).sum::<f32>()
        + m.yaw.get()
        + f32::from(m.buttons.get())
}

fn view_move(c: &mut Criterion) {
    let value = sample_move();
    let body = body_of(&value);
    let mut wire = vec![0u8; 256];
    let n = frame::encode_packet(&value, 1, &mut wire).expect("fits");
    wire.truncate(n);
    let archived_bytes =
        rkyv::api::high::to_bytes_in::<_, RkyvError>(&value, AlignedVec::<16>::new())
            .expect("serializes");
    let config = FrameConfig::default();

    let mut g = c.benchmark_group("view/move");
    g.bench_function("packet_view", |b| {
        b.iter(|| {
            let mut r = Reader::new(black_box(&body));
            let v = View::<PlayerMovePod>::decode(&mut r).expect("38 bytes");
            black_box(read_pod(v.get()))
        })
    });
    g.bench_function("packet_frame_view", |b| {
        b.iter(|| {
            let f = frame::decode_frame(black_box(&wire), &config).expect("valid");
            let v: &PlayerMovePod = f.view().expect("38 bytes");
            black_box(read_pod(v))
        })
    });
    g.bench_function("rkyv_access", |b| {
        b.iter(|| {
            let a = rkyv::access::<ArchivedPlayerMove, RkyvError>(black_box(&archived_bytes))
                .expect("valid");
            black_box(
                a.entity.to_native() as f32
                    + a.tick.to_native() as f32
                    + a.pos.iter().map(|v| v.to_native()).sum::<f32>()
                    + a.vel.iter().map(|v| v.to_native()).sum::<f32>()
                    + a.yaw.to_native()
                    + f32::from(a.buttons.to_native()),
            )
        })
    });
    g.finish();
}

fn view_snapshot(c: &mut Criterion) {
    let value = sample_snapshot(100);
    let body = body_of(&value);
    let mut wire = vec![0u8; 8192];
    let n = frame::encode_packet(&value, 1, &mut wire).expect("fits");
    wire.truncate(n);
    let archived_bytes =
        rkyv::api::high::to_bytes_in::<_, RkyvError>(&value, AlignedVec::<16>::new())
            .expect("serializes");
    let config = FrameConfig::default();

    fn sum_entities(body: &[u8]) -> (u64, u32, f32) {
        let mut r = Reader::new(body);
        let tick = u64::decode(&mut r).expect("tick");
        let n = u16::decode(&mut r).expect("count");
        let (mut health, mut x) = (0u32, 0f32);
        for _ in 0..n {
            let e = View::<EntityPod>::decode(&mut r).expect("entity");
            health += u32::from(e.health.get());
            x += e.pos[0].get();
        }
        r.finish().expect("whole body");
        (tick, health, x)
    }

    let mut g = c.benchmark_group("view/snapshot100");
    g.bench_function("packet_view", |b| {
        b.iter(|| black_box(sum_entities(black_box(&body))))
    });
    g.bench_function("packet_frame_view", |b| {
        b.iter(|| {
            let f = frame::decode_frame(black_box(&wire), &config).expect("valid");
            black_box(sum_entities(f.body()))
        })
    });
    g.bench_function("rkyv_access", |b| {
        b.iter(|| {
            let a = rkyv::access::<ArchivedWorldSnapshot, RkyvError>(black_box(&archived_bytes))
                .expect("valid");
            let (mut health, mut x) = (0u32, 0f32);
            for e in a.entities.iter() {
                health += u32::from(e.health.to_native());
                x += e.pos[0].to_native();
            }
            black_box((a.tick.to_native(), health, x))
        })
    });
    g.finish();
}

criterion_group!(benches, view_move, view_snapshot);
criterion_main!(benches);
