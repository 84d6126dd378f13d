//! Body codec: packet against bincode 2, postcard, bitcode and rkyv on the
//! same structs (`packet_benches::{PlayerMove, Chat, WorldSnapshot}`), in
//! the same run; and on four larger data shapes
//! (`packet_benches::shapes`: mesh, save game, log, game-state updates)
//! against wincode, bitcode, rkyv (validated and unvalidated), postcard and
//! bincode, with a bare copy of the mesh bytes as the floor.
//!
//! Every codec encodes into a buffer it reuses (no allocation per iteration
//! where the peer's API allows: bitcode's `Buffer`, rkyv's `AlignedVec`), and
//! decodes to the owned (or, for `Chat`, borrowing) struct. rkyv cannot
//! deserialize borrowed `&str`s, so for `Chat` its decode is a validated
//! `access` plus reading the fields; for the other packets it is validated
//! `access` plus `deserialize`. packet's rows are body-only (`Encode` into a
//! `Writer`, `Decode` from a `Reader` plus `finish`); `packet_frame` adds the
//! frame (header, padding, CRC-32, ending) for reference.
//!
//! Run with `cargo bench -p packet-benches --features peers --bench codec`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use packet_benches::decode_body as packet_decode;
use packet_benches::shapes;
use packet_benches::{
    ArchivedChat, Chat, PlayerMove, WorldSnapshot, sample_chat, sample_move, sample_snapshot,
};
use packet_core::frame::{self, FrameConfig};
use packet_core::{Decode, Encode, Packet, Reader, Writer};
use rkyv::rancor::Error as RkyvError;
use rkyv::util::AlignedVec;

const BUF: usize = 16 * 1024;

fn bincode_config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// The encode rows every packet shares.
fn encode_rows<P>(g: &mut BenchmarkGroup<'_, WallTime>, value: &P)
where
    P: Packet
        + bincode::Encode
        + serde::Serialize
        + bitcode::Encode
        + for<'a> rkyv::Serialize<
            rkyv::api::high::HighSerializer<
                AlignedVec,
                rkyv::ser::allocator::ArenaHandle<'a>,
                RkyvError,
            >,
        >,
{
    let mut buf = vec![0u8; BUF];
    g.bench_function("packet", |b| {
        b.iter(|| {
            let mut w = Writer::new(&mut buf);
            Encode::encode(black_box(value), &mut w).expect("fits");
            // The written bytes are observed, so no store can be elided.
            black_box(w.written());
        })
    });
    g.bench_function("packet_frame", |b| {
        b.iter(|| {
            let n = frame::encode_packet(black_box(value), 7, &mut buf).expect("fits");
            black_box(&buf[..n]);
        })
    });
    g.bench_function("bincode", |b| {
        b.iter(|| {
            let n = bincode::encode_into_slice(black_box(value), &mut buf, bincode_config())
                .expect("fits");
            black_box(&buf[..n]);
        })
    });
    g.bench_function("postcard", |b| {
        b.iter(|| {
            let out = postcard::to_slice(black_box(value), &mut buf).expect("fits");
            black_box(&*out);
        })
    });
    let mut bitcode_buf = bitcode::Buffer::new();
    g.bench_function("bitcode", |b| {
        b.iter(|| {
            black_box(bitcode_buf.encode(black_box(value)));
        })
    });
    let mut rkyv_buf = Some(AlignedVec::<16>::with_capacity(BUF));
    g.bench_function("rkyv", |b| {
        b.iter(|| {
            let mut out = rkyv_buf.take().expect("returned each iteration");
            out.clear();
            let out = rkyv::api::high::to_bytes_in::<_, RkyvError>(black_box(value), out)
                .expect("serializes");
            black_box(out.as_slice());
            rkyv_buf = Some(out);
        })
    });
}

/// The encoded forms of `value` for each codec.
struct Wire {
    packet: Vec<u8>,
    packet_frame: Vec<u8>,
    bincode: Vec<u8>,
    postcard: Vec<u8>,
    bitcode: Vec<u8>,
    rkyv: AlignedVec<16>,
}

fn wire<P>(value: &P) -> Wire
where
    P: Packet
        + bincode::Encode
        + serde::Serialize
        + bitcode::Encode
        + for<'a> rkyv::Serialize<
            rkyv::api::high::HighSerializer<
                AlignedVec,
                rkyv::ser::allocator::ArenaHandle<'a>,
                RkyvError,
            >,
        >,
{
    let mut packet = vec![0u8; value.encoded_len()];
    Encode::encode(value, &mut Writer::new(&mut packet)).expect("fits");
    let mut packet_frame = vec![0u8; BUF];
    let n = frame::encode_packet(value, 7, &mut packet_frame).expect("fits");
    packet_frame.truncate(n);
    Wire {
        packet,
        packet_frame,
        bincode: bincode::encode_to_vec(value, bincode_config()).expect("encodes"),
        postcard: postcard::to_allocvec(value).expect("encodes"),
        bitcode: bitcode::encode(value),
        rkyv: rkyv::api::high::to_bytes_in::<_, RkyvError>(value, AlignedVec::<16>::new())
            .expect("serializes"),
    }
}

fn report_sizes(name: &str, w: &Wire) {
    eprintln!(
        "{name} encoded sizes: packet {} (framed {}), bincode {}, postcard {}, bitcode {}, rkyv {}",
        w.packet.len(),
        w.packet_frame.len(),
        w.bincode.len(),
        w.postcard.len(),
        w.bitcode.len(),
        w.rkyv.len()
    );
}

macro_rules! owned_decode_rows {
    ($g:expr, $w:expr, $t:ty, $archived:ty) => {{
        let g = $g;
        let w = $w;
        let config = FrameConfig::default();
        g.bench_function("packet", |b| {
            b.iter(|| black_box(packet_decode::<$t>(black_box(&w.packet))))
        });
        g.bench_function("packet_frame", |b| {
            b.iter(|| {
                let f = frame::decode_frame(black_box(&w.packet_frame), &config).expect("valid");
                black_box(f.decode_packet::<$t>().expect("decodes"))
            })
        });
        g.bench_function("bincode", |b| {
            b.iter(|| {
                black_box(
                    bincode::decode_from_slice::<$t, _>(black_box(&w.bincode), bincode_config())
                        .expect("decodes"),
                )
            })
        });
        g.bench_function("postcard", |b| {
            b.iter(|| {
                black_box(postcard::from_bytes::<$t>(black_box(&w.postcard)).expect("decodes"))
            })
        });
        let mut bitcode_buf = bitcode::Buffer::new();
        g.bench_function("bitcode", |b| {
            b.iter(|| {
                black_box(
                    bitcode_buf
                        .decode::<$t>(black_box(&w.bitcode))
                        .expect("decodes"),
                )
            })
        });
        g.bench_function("rkyv", |b| {
            b.iter(|| {
                let archived =
                    rkyv::access::<$archived, RkyvError>(black_box(&w.rkyv)).expect("valid");
                black_box(rkyv::deserialize::<$t, RkyvError>(archived).expect("deserializes"))
            })
        });
    }};
}

fn player_move(c: &mut Criterion) {
    let value = sample_move();
    let w = wire(&value);
    report_sizes("move", &w);
    encode_rows(&mut c.benchmark_group("move/encode"), &value);
    owned_decode_rows!(
        &mut c.benchmark_group("move/decode"),
        &w,
        PlayerMove,
        packet_benches::ArchivedPlayerMove
    );
}

/// A hand-written decoder of the same wire bytes, for reference: each
/// entity's 31 bytes borrowed once and every field loaded from a constant
/// offset. It prototyped the derive's codegen for runs of fixed-size fields
/// (which now does the same), so the `packet` row should come close to it.
fn snapshot_offsets_proto(body: &[u8]) -> Result<WorldSnapshot, packet_core::DecodeError> {
    fn at<const N: usize>(a: &[u8; 31], i: usize) -> [u8; N] {
        let mut out = [0u8; N];
        out.copy_from_slice(&a[i..i + N]);
        out
    }
    let mut r = Reader::new(body);
    let tick = u64::decode(&mut r)?;
    let n = usize::from(u16::decode(&mut r)?);
    let mut entities = Vec::with_capacity(n.min(r.remaining()));
    for _ in 0..n {
        let a: &[u8; 31] = r
            .take(31)?
            .try_into()
            .map_err(|_| packet_core::DecodeError::Invalid("31"))?;
        entities.push(packet_benches::Entity {
            id: u32::from_le_bytes(at(a, 0)),
            kind: a[4],
            pos: [
                f32::from_le_bytes(at(a, 5)),
                f32::from_le_bytes(at(a, 9)),
                f32::from_le_bytes(at(a, 13)),
            ],
            yaw: f32::from_le_bytes(at(a, 17)),
            vel: [f32::from_le_bytes(at(a, 21)), f32::from_le_bytes(at(a, 25))],
            health: u16::from_le_bytes(at(a, 29)),
        });
    }
    r.finish()?;
    Ok(WorldSnapshot { tick, entities })
}

fn snapshot(c: &mut Criterion) {
    let value = sample_snapshot(100);
    let w = wire(&value);
    report_sizes("snapshot100", &w);
    encode_rows(&mut c.benchmark_group("snapshot100/encode"), &value);
    let mut g = c.benchmark_group("snapshot100/decode");
    assert_eq!(snapshot_offsets_proto(&w.packet).expect("decodes"), value);
    g.bench_function("packet_hand", |b| {
        b.iter(|| black_box(snapshot_offsets_proto(black_box(&w.packet)).expect("decodes")))
    });
    owned_decode_rows!(
        &mut g,
        &w,
        WorldSnapshot,
        packet_benches::ArchivedWorldSnapshot
    );
}

fn chat(c: &mut Criterion) {
    let value = sample_chat();
    let w = wire(&value);
    report_sizes("chat", &w);
    encode_rows(&mut c.benchmark_group("chat/encode"), &value);

    let mut g = c.benchmark_group("chat/decode");
    let config = FrameConfig::default();
    g.bench_function("packet", |b| {
        b.iter(|| black_box(packet_decode::<Chat<'_>>(black_box(&w.packet))))
    });
    g.bench_function("packet_frame", |b| {
        b.iter(|| {
            let f = frame::decode_frame(black_box(&w.packet_frame), &config).expect("valid");
            black_box(f.decode_packet::<Chat<'_>>().expect("decodes"))
        })
    });
    g.bench_function("bincode", |b| {
        b.iter(|| {
            black_box(
                bincode::borrow_decode_from_slice::<Chat<'_>, _>(
                    black_box(&w.bincode),
                    bincode_config(),
                )
                .expect("decodes"),
            )
        })
    });
    g.bench_function("postcard", |b| {
        b.iter(|| {
            black_box(postcard::from_bytes::<Chat<'_>>(black_box(&w.postcard)).expect("decodes"))
        })
    });
    let mut bitcode_buf = bitcode::Buffer::new();
    g.bench_function("bitcode", |b| {
        b.iter(|| {
            black_box(
                bitcode_buf
                    .decode::<Chat<'_>>(black_box(&w.bitcode))
                    .expect("decodes"),
            )
        })
    });
    g.bench_function("rkyv", |b| {
        b.iter(|| {
            // rkyv reads strings in place but has no borrowed deserialize:
            // validate, then read every field.
            let a = rkyv::access::<ArchivedChat, RkyvError>(black_box(&w.rkyv)).expect("valid");
            black_box((
                a.channel.to_native(),
                a.from.as_ref() as &str,
                a.text.as_ref() as &str,
                a.time_ms.to_native(),
            ))
        })
    });
    g.finish();
}

// ------------------------------------------------------------ data shapes

/// wincode refuses to preallocate more than 4 MiB by default (the mesh is
/// 6 MB); raise the limit so it decodes the same values as everyone else.
const WINCODE_LIMIT: usize = 64 << 20;

fn wincode_config() -> impl wincode::config::Config + Copy {
    wincode::config::DefaultConfig::new().with_preallocation_size_limit::<WINCODE_LIMIT>()
}

fn shape_group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    // Large values on a shared box: few samples, short windows.
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g
}

/// Encode and decode rows for one shape: packet (body only, owned decode)
/// against every peer, same values, same run. `floor` adds a row that only
/// copies packet's encoded bytes into a fresh `Vec` (the mesh's memcpy).
macro_rules! shape_rows {
    ($c:expr, $name:literal, $value:expr, $t:ty, $archived:ty, floor: $floor:expr) => {{
        let c: &mut Criterion = $c;
        let value: $t = $value;
        let wcfg = wincode_config();

        let mut packet = vec![0u8; value.encoded_len()];
        Encode::encode(&value, &mut Writer::new(&mut packet)).expect("fits");
        let bincode_bytes = bincode::encode_to_vec(&value, bincode_config()).expect("encodes");
        let postcard_bytes = postcard::to_allocvec(&value).expect("encodes");
        let bitcode_bytes = bitcode::encode(&value);
        let rkyv_bytes =
            rkyv::api::high::to_bytes_in::<_, RkyvError>(&value, AlignedVec::<16>::new())
                .expect("serializes");
        let wincode_bytes = wincode::config::serialize(&value, wcfg).expect("encodes");
        eprintln!(
            "{} encoded sizes: packet {}, bincode {}, postcard {}, bitcode {}, rkyv {}, wincode {}",
            $name,
            packet.len(),
            bincode_bytes.len(),
            postcard_bytes.len(),
            bitcode_bytes.len(),
            rkyv_bytes.len(),
            wincode_bytes.len()
        );
        // Every codec decodes the same value before anything is timed.
        assert_eq!(packet_decode::<$t>(&packet), value);
        assert_eq!(
            wincode::config::deserialize::<$t, _>(&wincode_bytes, wcfg).expect("decodes"),
            value
        );

        let cap = 2 * packet.len().max(bincode_bytes.len()) + 4096;
        let mut buf = vec![0u8; cap];
        let mut g = shape_group(c, concat!($name, "/encode"));
        g.bench_function("packet", |b| {
            b.iter(|| {
                let mut w = Writer::new(&mut buf);
                Encode::encode(black_box(&value), &mut w).expect("fits");
                black_box(w.written());
            })
        });
        g.bench_function("wincode", |b| {
            b.iter(|| {
                let mut out = &mut buf[..];
                wincode::config::serialize_into(&mut out, black_box(&value), wcfg).expect("fits");
                black_box(out.len());
            })
        });
        g.bench_function("bitcode", |b| {
            let mut bitcode_buf = bitcode::Buffer::new();
            b.iter(|| {
                black_box(bitcode_buf.encode(black_box(&value)));
            })
        });
        g.bench_function("rkyv", |b| {
            let mut rkyv_buf = Some(AlignedVec::<16>::with_capacity(cap));
            b.iter(|| {
                let mut out = rkyv_buf.take().expect("returned each iteration");
                out.clear();
                let out = rkyv::api::high::to_bytes_in::<_, RkyvError>(black_box(&value), out)
                    .expect("serializes");
                black_box(out.as_slice());
                rkyv_buf = Some(out);
            })
        });
        g.bench_function("postcard", |b| {
            b.iter(|| {
                let out = postcard::to_slice(black_box(&value), &mut buf).expect("fits");
                black_box(&*out);
            })
        });
        g.bench_function("bincode", |b| {
            b.iter(|| {
                let n = bincode::encode_into_slice(black_box(&value), &mut buf, bincode_config())
                    .expect("fits");
                black_box(&buf[..n]);
            })
        });
        g.finish();

        let mut g = shape_group(c, concat!($name, "/decode"));
        g.bench_function("packet", |b| {
            b.iter(|| black_box(packet_decode::<$t>(black_box(&packet))))
        });
        if $floor {
            g.bench_function("memcpy", |b| {
                b.iter(|| black_box(black_box(&packet[..]).to_vec()))
            });
        }
        g.bench_function("wincode", |b| {
            b.iter(|| {
                black_box(
                    wincode::config::deserialize::<$t, _>(black_box(&wincode_bytes), wcfg)
                        .expect("decodes"),
                )
            })
        });
        g.bench_function("bitcode", |b| {
            let mut bitcode_buf = bitcode::Buffer::new();
            b.iter(|| {
                black_box(
                    bitcode_buf
                        .decode::<$t>(black_box(&bitcode_bytes))
                        .expect("decodes"),
                )
            })
        });
        g.bench_function("rkyv", |b| {
            b.iter(|| {
                let archived =
                    rkyv::access::<$archived, RkyvError>(black_box(&rkyv_bytes)).expect("valid");
                black_box(rkyv::deserialize::<$t, RkyvError>(archived).expect("deserializes"))
            })
        });
        g.bench_function("rkyv_unvalidated", |b| {
            b.iter(|| {
                // SAFETY: the bytes were written by rkyv's serializer for
                // this very type just above and are not modified; this row
                // measures rkyv without its validation, as its docs allow
                // for trusted input.
                #[allow(unsafe_code)]
                let archived =
                    unsafe { rkyv::access_unchecked::<$archived>(black_box(&rkyv_bytes)) };
                black_box(rkyv::deserialize::<$t, RkyvError>(archived).expect("deserializes"))
            })
        });
        g.bench_function("postcard", |b| {
            b.iter(|| {
                black_box(postcard::from_bytes::<$t>(black_box(&postcard_bytes)).expect("decodes"))
            })
        });
        g.bench_function("bincode", |b| {
            b.iter(|| {
                black_box(
                    bincode::decode_from_slice::<$t, _>(
                        black_box(&bincode_bytes),
                        bincode_config(),
                    )
                    .expect("decodes"),
                )
            })
        });
        g.finish();
    }};
}

fn mesh(c: &mut Criterion) {
    shape_rows!(c, "mesh", shapes::mesh(125_000), shapes::Mesh, shapes::ArchivedMesh, floor: true);
    // The same bytes through types without `#[packet(pod)]`: the derive's
    // fixed-size path alone (one bounds check per run, stores at constant
    // offsets), no whole-run copy.
    let plain = shapes::plain::Mesh::from(&shapes::mesh(125_000));
    let mut bytes = vec![0u8; plain.encoded_len()];
    Encode::encode(&plain, &mut Writer::new(&mut bytes)).expect("fits");
    let mut g = shape_group(c, "mesh/encode");
    g.bench_function("packet_no_pod", |b| {
        let mut buf = vec![0u8; bytes.len()];
        b.iter(|| {
            let mut w = Writer::new(&mut buf);
            Encode::encode(black_box(&plain), &mut w).expect("fits");
            black_box(w.written());
        })
    });
    g.finish();
    let mut g = shape_group(c, "mesh/decode");
    g.bench_function("packet_no_pod", |b| {
        b.iter(|| black_box(packet_decode::<shapes::plain::Mesh>(black_box(&bytes))))
    });
    g.finish();
}

fn save_game(c: &mut Criterion) {
    shape_rows!(
        c,
        "savegame",
        shapes::save_game(500),
        shapes::SaveGame,
        shapes::ArchivedSaveGame,
        floor: false
    );
}

fn log(c: &mut Criterion) {
    shape_rows!(c, "log", shapes::logs(10_000), shapes::Logs, shapes::ArchivedLogs, floor: false);
}

fn updates(c: &mut Criterion) {
    shape_rows!(
        c,
        "updates",
        shapes::updates(1_000),
        shapes::Updates,
        shapes::ArchivedUpdates,
        floor: false
    );
}

criterion_group!(benches, player_move, chat, snapshot);
criterion_group!(data_shapes, mesh, save_game, log, updates);
criterion_main!(benches, data_shapes);
