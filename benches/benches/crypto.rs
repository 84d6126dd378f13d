//! Sealed-frame overhead: packet's seal and open beside the bare
//! `chacha20poly1305` in-place call on the same bytes, in the same run.
//!
//! - `bare_encrypt`: `encrypt_in_place_detached` over the padded body with
//!   the 20 header bytes as AAD (what a seal cannot avoid).
//! - `packet_seal`: `SealedChannel::seal_raw`: copy the body in, pad,
//!   header, encrypt, tag, ending, next sequence.
//! - `bare_decrypt`: copy the received frame into the buffer, then
//!   `decrypt_in_place_detached` (an in-place open must start from a fresh
//!   copy each iteration).
//! - `packet_open`: the same copy, then `OpeningKey::open`: all frame
//!   rules, tag, decryption, padding check.
//! - `packet_channel_open`: `SealedChannel::open` on a clone of the
//!   fresh receiving channel (setup, not timed), adding the replay window.
//!
//! Run with `cargo bench -p packet-benches --bench crypto`.

use std::hint::black_box;

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce, Tag};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use packet_benches::body;
use packet_core::crypto::{
    ChannelConfig, ChannelKeys, Direction, OpeningKey, Role, SealedChannel, SecretKey, nonce,
    sealed_frame_len_for,
};
use packet_core::frame::FrameConfig;

fn sealed_overhead(c: &mut Criterion) {
    let key_bytes = [0x42u8; 32];
    let keys = ChannelKeys::shared(SecretKey::from_bytes(key_bytes));
    let bare = ChaCha20Poly1305::new(Key::from_slice(&key_bytes));
    let config = FrameConfig::default().with_max_frame_len(64 * 1024);

    for len in [32usize, 256, 1200, 16 * 1024] {
        let payload = body(len);
        let frame_len = sealed_frame_len_for(len);
        let padded = frame_len - 40;
        let mut out = vec![0u8; frame_len];

        // A reference frame, sealed once, to open.
        let mut client = SealedChannel::new(Role::Client, &keys, ChannelConfig::datagram());
        let n = client.seal_raw(7, &payload, &mut out).expect("fits");
        let wire = out[..n].to_vec();
        let seq = 0u64;
        let opening = OpeningKey::new(&SecretKey::from_bytes(key_bytes), Direction::ClientToServer);
        let n_c2s = nonce(Direction::ClientToServer, seq);

        let mut group = c.benchmark_group(format!("sealed/{len}B"));
        group.throughput(Throughput::Bytes(len as u64));

        group.bench_function("bare_encrypt", |b| {
            let mut buf = wire.clone();
            b.iter(|| {
                let (aad, rest) = buf.split_at_mut(20);
                let tag = bare
                    .encrypt_in_place_detached(
                        Nonce::from_slice(&n_c2s),
                        black_box(aad),
                        &mut rest[..padded],
                    )
                    .expect("encrypt");
                black_box(tag)
            })
        });
        group.bench_function("packet_seal", |b| {
            let mut sender = SealedChannel::new(Role::Client, &keys, ChannelConfig::datagram());
            b.iter(|| black_box(sender.seal_raw(7, black_box(&payload), &mut out)))
        });

        group.bench_function("bare_decrypt", |b| {
            let mut buf = wire.clone();
            b.iter(|| {
                buf.copy_from_slice(black_box(&wire));
                let (aad, rest) = buf.split_at_mut(20);
                let (region, rest) = rest.split_at_mut(padded);
                let tag = *Tag::from_slice(&rest[..16]);
                bare.decrypt_in_place_detached(Nonce::from_slice(&n_c2s), aad, region, &tag)
                    .expect("decrypt");
                black_box(region[0])
            })
        });
        group.bench_function("packet_open", |b| {
            let mut buf = wire.clone();
            b.iter(|| {
                buf.copy_from_slice(black_box(&wire));
                let frame = opening.open(&mut buf, &config).expect("open");
                black_box(frame.body()[0])
            })
        });
        group.bench_function("packet_channel_open", |b| {
            b.iter_batched_ref(
                || {
                    let server = SealedChannel::new(Role::Server, &keys, ChannelConfig::datagram());
                    (server, wire.clone())
                },
                |(channel, buf)| {
                    let frame = channel.open(buf).expect("open");
                    black_box(frame.body()[0])
                },
                BatchSize::SmallInput,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, sealed_overhead);
criterion_main!(benches);
