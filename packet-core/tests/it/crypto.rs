//! Sealed frames: golden vectors, tampering, replay, key limits, failure
//! counting, stream use and proptest round trips
//! (`docs/wire-format.md` §7, sealed frames).

use std::path::PathBuf;

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce};
use packet_core::crypto::{
    ChannelConfig, ChannelKeys, Direction, OpeningKey, Role, SealedChannel, SealingKey, SecretKey,
    nonce, sealed_frame_len_for,
};
use packet_core::error::{CryptoError, EncodeError, FrameError, ReplayError};
use packet_core::frame::{self, FrameConfig};
use packet_core::replay::{ReplayMode, ReplayState, ReplayWindow, WINDOW};
use packet_core::{Decode, Encode, Packet, Reader, StreamDecoder, Writer};
use proptest::prelude::*;

fn key(b: u8) -> SecretKey {
    SecretKey::from_bytes([b; 32])
}

fn pair(config: ChannelConfig) -> (SealedChannel, SealedChannel) {
    let keys = ChannelKeys::new(key(1), key(2));
    (
        SealedChannel::new(Role::Client, &keys, config),
        SealedChannel::new(Role::Server, &keys, config),
    )
}

// ---------------------------------------------------------------- vectors

struct Vector {
    path: PathBuf,
    text: String,
    key: [u8; 32],
    direction: Direction,
    sequence: u64,
    type_id: u16,
    body: Vec<u8>,
    frame: Vec<u8>,
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn vectors() -> Vec<Vector> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/vectors/sealed");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("docs/vectors/sealed")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 5, "expected the sealed vectors in {dir:?}");
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("read vector");
            let field = |name: &str| -> String {
                text.lines()
                    .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                    .unwrap_or_else(|| panic!("{path:?}: missing {name}"))
                    .trim()
                    .to_string()
            };
            let direction = match field("direction").as_str() {
                "client-to-server" => Direction::ClientToServer,
                "server-to-client" => Direction::ServerToClient,
                d => panic!("{path:?}: bad direction {d}"),
            };
            let type_id = field("type_id");
            Vector {
                key: hex(&field("key")).try_into().expect("32-byte key"),
                direction,
                sequence: field("sequence").parse().expect("sequence"),
                type_id: u16::from_str_radix(type_id.trim_start_matches("0x"), 16)
                    .expect("type_id"),
                body: hex(&field("body")),
                frame: hex(&field("frame")),
                text,
                path,
            }
        })
        .collect()
}

/// `PACKET_BLESS_VECTORS=1 cargo test -p packet-core --features crypto
/// --test crypto golden_vectors` rewrites the `frame:` lines; otherwise the
/// files are checked byte for byte.
#[test]
fn golden_vectors() {
    let bless = std::env::var_os("PACKET_BLESS_VECTORS").is_some();
    for v in vectors() {
        let sealing = SealingKey::new(&SecretKey::from_bytes(v.key), v.direction);
        let mut out = vec![0u8; sealed_frame_len_for(v.body.len())];
        let n = sealing
            .seal_raw(v.type_id, v.sequence, &v.body, &mut out)
            .expect("seal");
        assert_eq!(n, out.len());
        if bless {
            let text: String = v
                .text
                .lines()
                .map(|l| {
                    if l.starts_with("frame:") {
                        format!("frame: {}\n", to_hex(&out))
                    } else {
                        format!("{l}\n")
                    }
                })
                .collect();
            std::fs::write(&v.path, text).expect("bless");
            continue;
        }
        assert_eq!(to_hex(&out), to_hex(&v.frame), "{:?}", v.path);
        // And it opens back to the body, only in its own direction.
        let opening = OpeningKey::new(&SecretKey::from_bytes(v.key), v.direction);
        let mut wire = v.frame.clone();
        let f = opening
            .open(&mut wire, &FrameConfig::default())
            .expect("open");
        assert_eq!(f.body(), &v.body[..]);
        assert_eq!(f.sequence(), v.sequence);
        assert_eq!(f.type_id(), v.type_id);
        let reflected = OpeningKey::new(&SecretKey::from_bytes(v.key), v.direction.reverse());
        let mut wire = v.frame.clone();
        assert!(matches!(
            reflected.open(&mut wire, &FrameConfig::default()),
            Err(CryptoError::AuthenticationFailed { .. })
        ));
    }
}

/// The construction in the doc, spelled out with the bare cipher: the
/// header is the AAD, body + zero padding is encrypted, the nonce is
/// `label u32 LE || sequence u64 LE`.
#[test]
fn layout_matches_the_documented_construction() {
    let key_bytes = [7u8; 32];
    let body = b"abcdefg"; // 7 bytes: one byte of padding
    let sequence = 0x0102_0304_0506_0708u64;
    let mut expected = Vec::new();
    expected.extend_from_slice(&48u32.to_le_bytes()); // 40 + 8
    expected.push(1); // version
    expected.push(1); // flags: ENCRYPTED
    expected.extend_from_slice(&0x0A0Bu16.to_le_bytes());
    expected.extend_from_slice(&7u32.to_le_bytes());
    expected.extend_from_slice(&sequence.to_le_bytes());
    let mut region = body.to_vec();
    region.push(0);
    let mut n = [0u8; 12];
    n[..4].copy_from_slice(&2u32.to_le_bytes());
    n[4..].copy_from_slice(&sequence.to_le_bytes());
    assert_eq!(n, nonce(Direction::ServerToClient, sequence));
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&key_bytes));
    let tag = cipher
        .encrypt_in_place_detached(Nonce::from_slice(&n), &expected[..20], &mut region)
        .unwrap();
    expected.extend_from_slice(&region);
    expected.extend_from_slice(&tag);
    expected.extend_from_slice(b"PK\r\n");

    let sealing = SealingKey::new(&SecretKey::from_bytes(key_bytes), Direction::ServerToClient);
    let mut out = [0u8; 64];
    let len = sealing.seal_raw(0x0A0B, sequence, body, &mut out).unwrap();
    assert_eq!(&out[..len], &expected[..]);
}

// ---------------------------------------------------------------- tampering

fn small_sealed_frame() -> Vec<u8> {
    let sealing = SealingKey::new(&key(9), Direction::ClientToServer);
    let mut out = vec![0u8; sealed_frame_len_for(3)];
    sealing.seal_raw(0x0042, 5, b"hi!", &mut out).unwrap();
    out
}

/// Every single-byte change of a small sealed frame, at every offset and
/// to every other value, is rejected, and the bytes handed back are still
/// what was received (no plaintext).
#[test]
fn every_single_byte_change_is_rejected() {
    let good = small_sealed_frame();
    assert_eq!(good.len(), 44);
    let opening = OpeningKey::new(&key(9), Direction::ClientToServer);
    let config = FrameConfig::default();
    let mut counts = std::collections::BTreeMap::<&'static str, usize>::new();
    let mut auth_offsets = std::collections::BTreeMap::<usize, usize>::new();
    let mut wire = good.clone();
    for at in 0..good.len() {
        for delta in 1..=255u8 {
            wire.copy_from_slice(&good);
            wire[at] = good[at].wrapping_add(delta);
            let tampered = wire.clone();
            let err = opening
                .open(&mut wire, &config)
                .expect_err("tampered frame accepted");
            let kind = match err {
                CryptoError::AuthenticationFailed { .. } => "auth",
                CryptoError::Frame(FrameError::LengthTooSmall { .. }) => "len-small",
                CryptoError::Frame(FrameError::LengthTooLarge { .. }) => "len-large",
                CryptoError::Frame(FrameError::Misaligned { .. }) => "misaligned",
                CryptoError::Frame(FrameError::Truncated { .. }) => "truncated",
                CryptoError::Frame(FrameError::TrailingBytes { .. }) => "trailing",
                CryptoError::Frame(FrameError::BadVersion { .. }) => "version",
                CryptoError::Frame(FrameError::ReservedFlags { .. }) => "flags",
                CryptoError::Frame(FrameError::UnexpectedEncryption { .. }) => "unsealed",
                CryptoError::Frame(FrameError::BodyLengthMismatch { .. }) => "body-len",
                CryptoError::Frame(FrameError::BadEnding { .. }) => "ending",
                other => panic!("offset {at}: unexpected {other:?}"),
            };
            *counts.entry(kind).or_default() += 1;
            if kind == "auth" {
                *auth_offsets.entry(at).or_default() += 1;
            }
            assert_eq!(wire, tampered, "offset {at}: buffer changed on failure");
        }
    }
    // Every region was exercised: header fields, ciphertext, tag, ending.
    for kind in [
        "auth",
        "len-small",
        "len-large",
        "misaligned",
        "version",
        "flags",
        "unsealed",
        "body-len",
        "ending",
    ] {
        assert!(counts.contains_key(kind), "{kind} never hit: {counts:?}");
    }
    // Type id, sequence, ciphertext (body + padding) and tag bytes fail
    // the tag for every value.
    for at in (6..8).chain(12..40) {
        assert_eq!(auth_offsets.get(&at), Some(&255), "offset {at}");
    }
}

/// The same through a channel: the replay state does not move and the
/// failures are counted.
#[test]
fn tampered_frames_never_move_the_channel() {
    let good = small_sealed_frame();
    let keys = ChannelKeys::shared(key(9));
    let mut server = SealedChannel::new(Role::Server, &keys, ChannelConfig::datagram());
    let before = server.replay().clone();
    let mut wire = good.clone();
    for at in 0..good.len() {
        wire.copy_from_slice(&good);
        wire[at] ^= 0x80;
        assert!(server.open(&mut wire).is_err(), "offset {at}");
    }
    assert_eq!(server.replay(), &before);
    assert!(server.auth_failures() >= 30);
    wire.copy_from_slice(&good);
    assert_eq!(server.open(&mut wire).unwrap().body(), b"hi!");
}

#[test]
fn truncated_and_extended_frames_are_rejected() {
    let good = small_sealed_frame();
    let opening = OpeningKey::new(&key(9), Direction::ClientToServer);
    let config = FrameConfig::default();
    for cut in 0..good.len() {
        let mut wire = good[..cut].to_vec();
        assert!(matches!(
            opening.open(&mut wire, &config),
            Err(CryptoError::Frame(FrameError::Truncated { .. }))
        ));
    }
    let mut wire = good.clone();
    wire.push(0);
    assert!(matches!(
        opening.open(&mut wire, &config),
        Err(CryptoError::Frame(FrameError::TrailingBytes {
            extra: 1,
            ..
        }))
    ));
}

/// A frame too short to hold a tag is refused by the header rules, before
/// the cipher: no authentication failure is counted.
#[test]
fn too_short_for_a_tag_is_rejected_before_the_cipher() {
    let (_, mut server) = pair(ChannelConfig::datagram().with_max_auth_failures(1));
    for length in [28u32, 32, 36] {
        let mut wire = vec![0u8; length as usize];
        wire[..4].copy_from_slice(&length.to_le_bytes());
        wire[4] = 1;
        wire[5] = frame::flags::ENCRYPTED;
        let end = wire.len() - 4;
        wire[end..].copy_from_slice(b"PK\r\n");
        assert_eq!(
            server.open(&mut wire),
            Err(CryptoError::Frame(FrameError::LengthTooSmall {
                length,
                min: 40
            }))
        );
    }
    assert_eq!(server.auth_failures(), 0);
    assert!(!server.is_closed());
}

#[test]
fn plain_and_sealed_frames_do_not_mix() {
    let (_, mut server) = pair(ChannelConfig::datagram());
    let mut plain = [0u8; 64];
    let n = frame::encode_raw(1, 0, b"hi", &mut plain).unwrap();
    assert_eq!(
        server.open(&mut plain[..n]),
        Err(CryptoError::Frame(FrameError::UnexpectedEncryption {
            sealed: false
        }))
    );
    let sealed = small_sealed_frame();
    assert_eq!(
        frame::decode_frame(&sealed, &FrameConfig::default()),
        Err(FrameError::UnexpectedEncryption { sealed: true })
    );
}

/// Padding is checked after decryption; a (correctly tagged) frame with a
/// non-zero padding byte is refused and its decrypted bytes are wiped.
#[test]
fn non_zero_padding_is_refused_and_wiped() {
    let key_bytes = [3u8; 32];
    let sequence = 4u64;
    let mut wire = vec![0u8; sealed_frame_len_for(3)];
    let length = wire.len() as u32;
    wire[..4].copy_from_slice(&length.to_le_bytes());
    wire[4] = 1;
    wire[5] = 1;
    wire[6..8].copy_from_slice(&9u16.to_le_bytes());
    wire[8..12].copy_from_slice(&3u32.to_le_bytes());
    wire[12..20].copy_from_slice(&sequence.to_le_bytes());
    wire[20..24].copy_from_slice(b"abc\x07");
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&key_bytes));
    let n = nonce(Direction::ClientToServer, sequence);
    let (aad, rest) = wire.split_at_mut(20);
    let tag = cipher
        .encrypt_in_place_detached(Nonce::from_slice(&n), aad, &mut rest[..4])
        .unwrap();
    rest[4..20].copy_from_slice(&tag);
    rest[20..24].copy_from_slice(b"PK\r\n");

    let keys = ChannelKeys::shared(SecretKey::from_bytes(key_bytes));
    let mut server = SealedChannel::new(Role::Server, &keys, ChannelConfig::datagram());
    assert_eq!(
        server.open(&mut wire),
        Err(CryptoError::Frame(FrameError::NonZeroPadding {
            offset: 23,
            value: 7
        }))
    );
    assert_eq!(&wire[20..24], &[0, 0, 0, 0], "plaintext left behind");
    assert_eq!(server.auth_failures(), 0);
    assert_eq!(server.replay(), &ReplayState::new(server.config().mode()));
}

// ---------------------------------------------------------------- replay

fn seal_at(client: &mut SealedChannel, sequence: u64) -> Vec<u8> {
    client.skip_to(sequence).unwrap();
    let mut out = vec![0u8; 64];
    let n = client
        .seal_raw(7, &sequence.to_le_bytes(), &mut out)
        .unwrap();
    out.truncate(n);
    out
}

#[test]
fn datagram_replay_window() {
    let (_, mut server) = pair(ChannelConfig::datagram());
    let keys = ChannelKeys::new(key(1), key(2));
    // Frames sealed out of order: seal them all in order, deliver shuffled.
    let mut client = SealedChannel::new(Role::Client, &keys, ChannelConfig::datagram());
    let frames: Vec<Vec<u8>> = (0..3600u64).map(|s| seal_at(&mut client, s)).collect();
    let mut open = |s: usize| server.open(&mut frames[s].clone()).map(|f| f.sequence());

    assert_eq!(open(1500), Ok(1500));
    // Reordered within the window: accepted exactly once.
    assert_eq!(open(1499), Ok(1499));
    assert_eq!(
        open(1499),
        Err(CryptoError::Replay(ReplayError::Duplicate {
            sequence: 1499
        }))
    );
    // Window edges: 1500 - WINDOW is too old, 1500 - WINDOW + 1 is in.
    let edge = (1500 - WINDOW) as usize;
    assert_eq!(
        open(edge),
        Err(CryptoError::Replay(ReplayError::TooOld {
            sequence: edge as u64,
            highest: 1500,
            window: WINDOW
        }))
    );
    assert_eq!(open(edge + 1), Ok(edge as u64 + 1));
    assert_eq!(
        open(1500).unwrap_err(),
        CryptoError::Replay(ReplayError::Duplicate { sequence: 1500 })
    );
    // Forward within the window: older ones not yet seen still accepted.
    assert_eq!(open(1501), Ok(1501));
    assert_eq!(open(1999), Ok(1999));
    assert_eq!(open(1400), Ok(1400));
    assert!(matches!(
        open(1999 - WINDOW as usize),
        Err(CryptoError::Replay(ReplayError::TooOld { .. }))
    ));
    // A jump larger than the window: everything before it is too old,
    // everything inside the new window is fresh.
    assert_eq!(open(3500), Ok(3500));
    assert!(matches!(
        open(1998),
        Err(CryptoError::Replay(ReplayError::TooOld { .. }))
    ));
    assert_eq!(open(3500 - WINDOW as usize + 1), Ok(3500 - WINDOW + 1));
    assert_eq!(open(3499), Ok(3499));
}

#[test]
fn forged_max_sequence_never_moves_the_window() {
    let (mut client, mut server) = pair(ChannelConfig::datagram());
    let mut wire = [0u8; 64];
    let n = client.seal_raw(7, b"x", &mut wire).unwrap();
    server.open(&mut wire[..n]).unwrap();
    let before = server.replay().clone();

    // A frame claiming u64::MAX with a bad tag (sealed under a wrong key).
    let forger = SealingKey::new(&key(99), Direction::ClientToServer);
    let n = forger.seal_raw(7, u64::MAX, b"x", &mut wire).unwrap();
    assert!(matches!(
        server.open(&mut wire[..n]),
        Err(CryptoError::AuthenticationFailed {
            sequence: u64::MAX,
            failures: 1,
            ..
        })
    ));
    // The right frame rewritten to claim u64::MAX: also fails.
    let n = client.seal_raw(7, b"y", &mut wire).unwrap();
    wire[12..20].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(server.open(&mut wire[..n]).is_err());
    assert_eq!(server.replay(), &before);
    // Genuine traffic continues.
    let n = client.seal_raw(7, b"z", &mut wire).unwrap();
    assert_eq!(server.open(&mut wire[..n]).unwrap().sequence(), 2);
}

#[test]
fn stream_mode_requires_strictly_increasing_sequences() {
    let (mut client, mut server) = pair(ChannelConfig::stream());
    let a = seal_at(&mut client, 0);
    let b = seal_at(&mut client, 1);
    let c = seal_at(&mut client, 5);
    assert_eq!(server.open(&mut b.clone()).unwrap().sequence(), 1);
    assert_eq!(
        server.open(&mut a.clone()),
        Err(CryptoError::Replay(ReplayError::NotIncreasing {
            sequence: 0,
            last: 1
        }))
    );
    assert!(server.open(&mut b.clone()).is_err());
    assert_eq!(server.open(&mut c.clone()).unwrap().sequence(), 5);
}

#[test]
fn stream_decoder_frames_open_in_place() {
    let (mut client, mut server) = pair(ChannelConfig::stream());
    let mut wire = Vec::new();
    let bodies: Vec<Vec<u8>> = (0..20u8).map(|i| vec![i; i as usize * 7]).collect();
    for body in &bodies {
        let mut out = vec![0u8; sealed_frame_len_for(body.len())];
        let n = client.seal_raw(3, body, &mut out).unwrap();
        wire.extend_from_slice(&out[..n]);
    }
    let mut decoder = StreamDecoder::new(FrameConfig::default());
    let mut got = Vec::new();
    for chunk in wire.chunks(13) {
        decoder.feed(chunk);
        while let Some(raw) = decoder.next_raw().unwrap() {
            let frame = server.open(raw).unwrap();
            got.push(frame.body().to_vec());
        }
    }
    decoder.finish().unwrap();
    assert_eq!(got, bodies);
}

// ---------------------------------------------------------------- keys

#[test]
fn usage_limit_asks_for_a_rekey() {
    let (mut client, _) = pair(ChannelConfig::datagram().with_usage_limit(3));
    let mut out = [0u8; 64];
    for s in 0..3 {
        client.seal_raw(1, b"", &mut out).unwrap();
        assert_eq!(client.next_sequence(), s + 1);
    }
    for _ in 0..2 {
        assert_eq!(
            client.seal_raw(1, b"", &mut out),
            Err(CryptoError::RekeyRequired {
                sequence: 3,
                limit: 3
            })
        );
    }
}

#[test]
fn sequence_never_wraps() {
    let (mut client, mut server) = pair(ChannelConfig::datagram());
    assert_eq!(
        ChannelConfig::datagram().usage_limit(),
        ChannelConfig::DEFAULT_USAGE_LIMIT
    );
    client.skip_to(u64::MAX - 1).unwrap();
    let mut out = [0u8; 64];
    let n = client.seal_raw(1, b"last", &mut out).unwrap();
    assert_eq!(server.open(&mut out[..n]).unwrap().sequence(), u64::MAX - 1);
    assert_eq!(
        client.seal_raw(1, b"wrap", &mut out),
        Err(CryptoError::RekeyRequired {
            sequence: u64::MAX,
            limit: u64::MAX
        })
    );
    assert_eq!(client.next_sequence(), u64::MAX);
    assert_eq!(
        client.skip_to(0),
        Err(CryptoError::SequenceBackwards {
            next: u64::MAX,
            requested: 0
        })
    );
}

#[test]
fn a_failed_seal_does_not_use_up_a_sequence() {
    let (mut client, _) = pair(ChannelConfig::datagram());
    let mut small = [0u8; 44];
    assert!(matches!(
        client.seal_raw(1, &[0; 8], &mut small),
        Err(CryptoError::Encode(EncodeError::BufferFull { .. }))
    ));
    assert_eq!(client.next_sequence(), 0);
}

#[test]
fn reflected_frames_fail() {
    // Separate keys and one shared key: either way the direction differs.
    for keys in [
        ChannelKeys::new(key(1), key(2)),
        ChannelKeys::shared(key(1)),
    ] {
        let mut client = SealedChannel::new(Role::Client, &keys, ChannelConfig::datagram());
        let mut server = SealedChannel::new(Role::Server, &keys, ChannelConfig::datagram());
        let mut out = [0u8; 64];
        let n = client.seal_raw(1, b"ping", &mut out).unwrap();
        let mut reflected = out;
        assert!(matches!(
            client.open(&mut reflected[..n]),
            Err(CryptoError::AuthenticationFailed { .. })
        ));
        assert_eq!(server.open(&mut out[..n]).unwrap().body(), b"ping");
        // And the server's own frame reflected back to it.
        let n = server.seal_raw(1, b"pong", &mut out).unwrap();
        let mut reflected = out;
        assert!(server.open(&mut reflected[..n]).is_err());
        assert_eq!(client.open(&mut out[..n]).unwrap().body(), b"pong");
    }
}

#[test]
fn auth_failure_limit_closes_the_peer() {
    assert_eq!(ChannelConfig::DEFAULT_MAX_AUTH_FAILURES, 1 << 36);
    let (mut client, mut server) = pair(ChannelConfig::datagram().with_max_auth_failures(3));
    let mut out = [0u8; 64];
    let n = client.seal_raw(1, b"ok", &mut out).unwrap();
    let good = out;
    for i in 1..=3u64 {
        let mut bad = good;
        bad[21] ^= 1;
        let err = server.open(&mut bad[..n]).unwrap_err();
        if i < 3 {
            assert_eq!(
                err,
                CryptoError::AuthenticationFailed {
                    sequence: 0,
                    length: n as u32,
                    failures: i
                }
            );
            assert!(!server.is_closed());
        } else {
            assert_eq!(
                err,
                CryptoError::TooManyAuthFailures {
                    failures: 3,
                    limit: 3
                }
            );
        }
    }
    assert!(server.is_closed());
    let mut copy = good;
    assert_eq!(
        server.open(&mut copy[..n]),
        Err(CryptoError::Closed { failures: 3 })
    );
    assert_eq!(
        server.seal_raw(1, b"", &mut out),
        Err(CryptoError::Closed { failures: 3 })
    );
}

#[test]
fn wrong_key_fails_and_keys_do_not_print() {
    let sealing = SealingKey::new(&key(1), Direction::ClientToServer);
    let opening = OpeningKey::new(&key(2), Direction::ClientToServer);
    let mut out = [0u8; 64];
    let n = sealing.seal_raw(1, 0, b"secret", &mut out).unwrap();
    let sent = out;
    assert!(
        opening
            .open(&mut out[..n], &FrameConfig::default())
            .is_err()
    );
    assert_eq!(out, sent);
    let shown = format!(
        "{:?} {:?} {:?}",
        key(0xAB),
        sealing,
        ChannelKeys::shared(key(0xAB))
    );
    assert!(
        !shown.contains("171") && !shown.to_lowercase().contains("ab, "),
        "{shown}"
    );
    assert!(SecretKey::from_slice(&[0; 31]).is_none());
    assert_eq!(
        SecretKey::from_slice(&[5; 32]).unwrap().as_bytes(),
        &[5; 32]
    );
}

// ---------------------------------------------------------------- packets

#[derive(Debug, PartialEq)]
struct Chat<'a> {
    room: u16,
    text: &'a str,
}

impl Encode for Chat<'_> {
    const MAX_SIZE: Option<usize> = None;
    fn encoded_len(&self) -> usize {
        self.room.encoded_len() + self.text.encoded_len()
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.room.encode(w)?;
        self.text.encode(w)
    }
}

impl<'de> Decode<'de> for Chat<'de> {
    fn decode(r: &mut Reader<'de>) -> Result<Self, packet_core::DecodeError> {
        Ok(Chat {
            room: u16::decode(r)?,
            text: <&str>::decode(r)?,
        })
    }
}

impl Packet for Chat<'_> {
    const ID: u16 = 0x0102;
}

#[test]
fn packets_round_trip_sealed() {
    let (mut client, mut server) = pair(ChannelConfig::datagram());
    let mut out = [0u8; 128];
    let sent = Chat {
        room: 7,
        text: "gg, well played",
    };
    let n = client.seal_packet(&sent, &mut out).unwrap();
    assert_eq!(n, sealed_frame_len_for(sent.encoded_len()));
    let frame = server.open(&mut out[..n]).unwrap();
    assert_eq!(frame.decode_packet::<Chat<'_>>().unwrap(), sent);
}

// ---------------------------------------------------------------- proptest

proptest! {
    #[test]
    fn seal_open_round_trip(
        key_bytes in any::<[u8; 32]>(),
        c2s in any::<bool>(),
        sequence in any::<u64>(),
        type_id in any::<u16>(),
        body in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let direction = if c2s { Direction::ClientToServer } else { Direction::ServerToClient };
        let k = SecretKey::from_bytes(key_bytes);
        let mut out = vec![0u8; sealed_frame_len_for(body.len()) + 3];
        let n = SealingKey::new(&k, direction).seal_raw(type_id, sequence, &body, &mut out).unwrap();
        prop_assert_eq!(n, sealed_frame_len_for(body.len()));
        prop_assert_eq!(n % 4, 0);
        // The plaintext does not appear in the ciphertext region.
        if body.len() >= 8 && body.iter().any(|&b| b != 0) {
            prop_assert_ne!(&out[20..20 + body.len()], &body[..]);
        }
        let f = OpeningKey::new(&k, direction).open(&mut out[..n], &FrameConfig::default()).unwrap();
        prop_assert_eq!(f.body(), &body[..]);
        prop_assert_eq!(f.type_id(), type_id);
        prop_assert_eq!(f.sequence(), sequence);
        prop_assert!(f.header().is_sealed());
    }

    /// Any delivery order within the window: each frame accepted once,
    /// every repeat refused.
    #[test]
    fn window_accepts_each_reordered_frame_once(
        order in Just((0..64u64).collect::<Vec<_>>()).prop_shuffle(),
        repeats in proptest::collection::vec(0..64usize, 0..32),
    ) {
        let (mut client, mut server) = pair(ChannelConfig::datagram());
        let frames: Vec<Vec<u8>> = (0..64u64).map(|s| seal_at(&mut client, s)).collect();
        for &s in &order {
            let mut f = frames[s as usize].clone();
            prop_assert_eq!(server.open(&mut f).unwrap().sequence(), s);
        }
        for &s in &repeats {
            let mut f = frames[s].clone();
            prop_assert_eq!(
                server.open(&mut f).unwrap_err(),
                CryptoError::Replay(ReplayError::Duplicate { sequence: s as u64 })
            );
        }
    }

    /// The bitmap window against a plain model (a set of every accepted
    /// sequence), over walks that creep, reorder, repeat and jump, near 0
    /// and near `u64::MAX`; `commit` only after `check` passed, and a
    /// refused `commit` must change nothing.
    #[test]
    fn window_matches_a_model(
        start_high in any::<bool>(),
        steps in proptest::collection::vec(
            prop_oneof![
                4 => -70i64..70,
                1 => -1100i64..1100,
                1 => 1000i64..5000,
            ],
            1..300,
        ),
    ) {
        let mut w = ReplayWindow::new();
        let mut state = ReplayState::new(ReplayMode::Windowed);
        let mut seen = std::collections::BTreeSet::new();
        let mut highest: Option<u64> = None;
        let mut cursor: u64 = if start_high { u64::MAX - 3000 } else { 3000 };
        for step in steps {
            cursor = cursor.saturating_add_signed(step);
            let s = cursor;
            let model_ok = match highest {
                None => true,
                Some(h) => s > h || (h - s < WINDOW && !seen.contains(&s)),
            };
            let got = w.check(s);
            prop_assert_eq!(got.is_ok(), model_ok, "seq {} highest {:?} got {:?}", s, highest, got);
            prop_assert_eq!(state.check(s).is_ok(), model_ok);
            if model_ok {
                w.commit(s);
                state.commit(s);
                seen.insert(s);
                highest = Some(highest.map_or(s, |h| h.max(s)));
            } else {
                let before = w.clone();
                w.commit(s);
                prop_assert_eq!(&w, &before);
            }
            prop_assert_eq!(w.highest(), highest);
        }
    }

    /// Random garbage never opens and never panics.
    #[test]
    fn garbage_never_opens(mut bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let (_, mut server) = pair(ChannelConfig::datagram());
        prop_assert!(server.open(&mut bytes).is_err());
    }
}

#[test]
fn max_sealed_frame_len_is_what_the_largest_value_seals_to() {
    #[derive(Debug, PartialEq)]
    struct Pos([u16; 3]);
    impl Encode for Pos {
        const MAX_SIZE: Option<usize> = Some(6);
        fn encoded_len(&self) -> usize {
            6
        }
        fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
            self.0.encode(w)
        }
    }
    impl Packet for Pos {
        const ID: u16 = 9;
    }
    let (mut client, _) = pair(ChannelConfig::datagram());
    let mut out = [0u8; 128];
    let n = client.seal_packet(&Pos([1, 2, 3]), &mut out).unwrap();
    assert_eq!(Some(n), Pos::MAX_SEALED_FRAME_LEN);
    assert_eq!(Pos::MAX_SEALED_FRAME_LEN, Some(sealed_frame_len_for(6)));
    assert_eq!(Chat::MAX_SEALED_FRAME_LEN, None);
}
