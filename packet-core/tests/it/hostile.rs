//! Hostile and arbitrary input to the frame decoder and the stream decoder:
//! frames or a typed error, never a panic, memory bounded by the maximum
//! frame, and the stream decoder agreeing with one-shot decoding whatever
//! the chunking.

use packet_core::error::{DecodeError, EncodeError, FrameError};
use packet_core::frame::{self, FrameConfig, MAX_WIRE_FRAME_LEN};
use packet_core::{Decode, Encode, Frame, Reader, StreamDecoder, Writer};
use proptest::prelude::*;

type RawFrame = (u16, u64, Vec<u8>);

fn encode_frame(type_id: u16, sequence: u64, body: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; frame::frame_len_for(body.len())];
    let n = frame::encode_raw(type_id, sequence, body, &mut out).unwrap();
    assert_eq!(n, out.len());
    out
}

fn crc(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// Frames with a forged header whose CRC is nevertheless right, so the
/// forgery reaches the rules behind the CRC.
fn forged(
    length: u32,
    version: u8,
    flags: u8,
    type_id: u16,
    body_len: u32,
    rest: &[u8],
) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&length.to_le_bytes());
    f.push(version);
    f.push(flags);
    f.extend_from_slice(&type_id.to_le_bytes());
    f.extend_from_slice(&body_len.to_le_bytes());
    f.extend_from_slice(&0u64.to_le_bytes());
    f.extend_from_slice(rest);
    let c = crc(&f);
    f.extend_from_slice(&c.to_le_bytes());
    f.extend_from_slice(b"PK\r\n");
    f
}

/// The rules of wire-format §4 one by one, through the building blocks,
/// as a reference for `decode_frame`'s fast path.
fn rule_by_rule(bytes: &[u8], config: &FrameConfig) -> Result<(u16, u64, Vec<u8>), FrameError> {
    let length = frame::check_prefix(bytes, config)?.ok_or(FrameError::Truncated {
        available: bytes.len(),
        needed: 4,
    })?;
    let f = frame::exact_frame(bytes, length)?;
    let header = frame::check_header(f, false)?;
    frame::check_ending(f)?;
    let check_at = f.len() - 8;
    let expected = u32::from_le_bytes(f[check_at..check_at + 4].try_into().unwrap());
    let computed = crc(&f[..check_at]);
    if expected != computed {
        return Err(FrameError::CrcMismatch { expected, computed });
    }
    frame::check_padding(f, header.body_len as usize)?;
    let body = f[20..20 + header.body_len as usize].to_vec();
    Ok((header.type_id, header.sequence, body))
}

/// One-shot decoding of a stream's concatenated bytes, frame by frame with
/// `decode_frame` on exact slices: the reference the stream decoder must match.
fn reference_decode(mut rest: &[u8], config: &FrameConfig) -> (Vec<RawFrame>, Option<FrameError>) {
    let mut frames = Vec::new();
    loop {
        if rest.is_empty() {
            return (frames, None);
        }
        if rest.len() < 4 {
            return (
                frames,
                Some(FrameError::UnexpectedEof {
                    buffered: rest.len(),
                }),
            );
        }
        let length = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
        let take = if (4..=rest.len()).contains(&length) {
            length
        } else {
            rest.len()
        };
        match frame::decode_frame(&rest[..take], config) {
            Ok(f) => frames.push((f.type_id(), f.sequence(), f.body().to_vec())),
            // The frame's length is fine but it has not fully arrived.
            Err(FrameError::Truncated { .. }) => {
                return (
                    frames,
                    Some(FrameError::UnexpectedEof {
                        buffered: rest.len(),
                    }),
                );
            }
            Err(e) => return (frames, Some(e)),
        }
        rest = &rest[take..];
    }
}

/// Feeds `bytes` in chunks of the given sizes (cycled), draining frames
/// after every feed; checks the memory bound all along.
fn stream_decode(
    bytes: &[u8],
    chunks: &[usize],
    config: FrameConfig,
) -> (Vec<RawFrame>, Option<FrameError>) {
    let max = config.max_frame_len() as usize;
    let mut decoder = StreamDecoder::new(config);
    let mut frames = Vec::new();
    let mut rest = bytes;
    let mut i = 0;
    let mut stalls = 0;
    while !rest.is_empty() {
        let want = chunks[i % chunks.len()].max(1).min(rest.len());
        i += 1;
        let took = decoder.feed(&rest[..want]);
        assert!(took <= want);
        rest = &rest[took..];
        assert!(
            decoder.buffered() <= max,
            "buffered {} > max {max}",
            decoder.buffered()
        );
        assert!(
            decoder.buffer_capacity() <= max,
            "capacity {} > max {max}",
            decoder.buffer_capacity()
        );
        let mut drained = false;
        loop {
            match decoder.next_frame() {
                Ok(Some(f)) => {
                    frames.push((f.type_id(), f.sequence(), f.body().to_vec()));
                    drained = true;
                }
                Ok(None) => break,
                Err(e) => {
                    // Stays failed.
                    assert_eq!(decoder.next_frame().err(), Some(e));
                    assert_eq!(decoder.finish(), Err(e));
                    return (frames, Some(e));
                }
            }
        }
        if took == 0 && !drained {
            stalls += 1;
            assert!(
                stalls < 2,
                "the decoder neither accepts bytes nor yields frames"
            );
        } else {
            stalls = 0;
        }
    }
    (frames, decoder.finish().err())
}

fn arb_frames() -> impl Strategy<Value = Vec<RawFrame>> {
    proptest::collection::vec(
        (
            any::<u16>(),
            any::<u64>(),
            proptest::collection::vec(any::<u8>(), 0..80),
        ),
        0..6,
    )
}

fn arb_chunks() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(prop_oneof![Just(1usize), 1usize..8, 1usize..200], 1..10)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic_the_frame_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let config = FrameConfig::default();
        prop_assert_eq!(
            frame::decode_frame(&bytes, &config).map(|f| (f.type_id(), f.sequence(), f.body().to_vec())),
            rule_by_rule(&bytes, &config)
        );
        if let Ok(f) = frame::decode_frame(&bytes, &config) {
            prop_assert_eq!(f.header().length as usize, bytes.len());
        }
        let _ = Frame::parse(&bytes);
        let _ = frame::check_header(&bytes, false);
        let _ = frame::check_header(&bytes, true);
        let _ = frame::check_padding(&bytes, bytes.len());
    }

    /// Mutations of valid frames reach every rule, including those behind
    /// the CRC (the CRC is recomputed after some mutations).
    #[test]
    fn mutated_frames_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..64),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        fix_crc in any::<bool>(),
        cut in any::<Option<usize>>(),
    ) {
        let mut f = encode_frame(9, 1, &body);
        for (at, v) in edits {
            let at = at % f.len();
            f[at] = v;
        }
        if fix_crc && f.len() >= 28 {
            let check_at = f.len() - 8;
            let c = crc(&f[..check_at]);
            f[check_at..check_at + 4].copy_from_slice(&c.to_le_bytes());
        }
        if let Some(cut) = cut {
            f.truncate(cut % (f.len() + 1));
        }
        let got = frame::decode_frame(&f, &FrameConfig::default());
        let expected = rule_by_rule(&f, &FrameConfig::default());
        prop_assert_eq!(got.map(|f| (f.type_id(), f.sequence(), f.body().to_vec())), expected);
        // `Frame::parse` is `decode_frame` without a configured maximum.
        let unlimited = FrameConfig::default().with_max_frame_len(MAX_WIRE_FRAME_LEN);
        prop_assert_eq!(Frame::parse(&f), frame::decode_frame(&f, &unlimited));
        if let Ok(frame) = got {
            // Whatever passes is self-consistent.
            prop_assert_eq!(frame.header().length as usize, f.len());
            prop_assert_eq!(frame::frame_len_for(frame.body().len()), f.len());
            // ...and decoding its body as anything fails cleanly or succeeds.
            let _ = frame.decode_body::<(u8, Option<&str>, Vec<u16>)>();
        }
        let (frames, err) = stream_decode(&f, &[3], FrameConfig::default());
        let (ref_frames, ref_err) = reference_decode(&f, &FrameConfig::default());
        prop_assert_eq!(frames, ref_frames);
        prop_assert_eq!(err, ref_err);
    }

    #[test]
    fn arbitrary_bytes_in_arbitrary_chunks_never_panic_the_stream_decoder(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
        chunks in arb_chunks(),
        max in 40u32..200,
    ) {
        let config = FrameConfig::default().with_max_frame_len(max);
        let (frames, err) = stream_decode(&bytes, &chunks, config);
        let (ref_frames, ref_err) = reference_decode(&bytes, &config);
        prop_assert_eq!(frames, ref_frames);
        prop_assert_eq!(err, ref_err);
    }

    #[test]
    fn stream_yields_exactly_the_one_shot_frames(frames in arb_frames(), chunks in arb_chunks()) {
        let wire: Vec<u8> = frames.iter().flat_map(|(t, s, b)| encode_frame(*t, *s, b)).collect();
        let config = FrameConfig::default();
        let (got, err) = stream_decode(&wire, &chunks, config);
        prop_assert_eq!(err, None);
        prop_assert_eq!(&got, &frames);
        prop_assert_eq!(reference_decode(&wire, &config), (frames, None));
    }

    #[test]
    fn stream_yields_the_valid_frames_then_the_error_on_garbage(
        frames in arb_frames(),
        garbage in proptest::collection::vec(any::<u8>(), 1..100),
        chunks in arb_chunks(),
    ) {
        let mut wire: Vec<u8> = frames.iter().flat_map(|(t, s, b)| encode_frame(*t, *s, b)).collect();
        wire.extend_from_slice(&garbage);
        let config = FrameConfig::default();
        let (got, err) = stream_decode(&wire, &chunks, config);
        let (ref_got, ref_err) = reference_decode(&wire, &config);
        prop_assert_eq!(&got[..frames.len()], &frames[..]);
        prop_assert_eq!(got, ref_got);
        prop_assert_eq!(err, ref_err);
        prop_assert!(err.is_some(), "garbage must end in an error");
    }

    /// A peer that announces a large frame and trickles it costs only the
    /// bytes it sent.
    #[test]
    fn trickled_large_frame_costs_only_what_arrived(claim in 1024u32..=65536, sent in 4usize..3000) {
        let claim = claim & !3;
        let mut decoder = StreamDecoder::new(FrameConfig::default());
        let mut header = Vec::from(claim.to_le_bytes());
        header.extend_from_slice(&[1, 0, 0, 0]);
        let bytes: Vec<u8> = header.into_iter().chain(std::iter::repeat(0)).take(sent.min(claim as usize - 1)).collect();
        for b in &bytes {
            prop_assert_eq!(decoder.feed(std::slice::from_ref(b)), 1);
            prop_assert_eq!(decoder.next_frame(), Ok(None));
        }
        prop_assert_eq!(decoder.buffered(), bytes.len());
        // Vec-style doubling at most, from what arrived.
        prop_assert!(decoder.buffer_capacity() <= (2 * bytes.len()).max(8), "capacity {} for {} bytes", decoder.buffer_capacity(), bytes.len());
        prop_assert_eq!(decoder.finish(), Err(FrameError::UnexpectedEof { buffered: bytes.len() }));
    }
}

#[test]
fn hostile_lengths_on_a_stream_fail_after_four_bytes() {
    for (length, error) in [
        (0u32, FrameError::LengthTooSmall { length: 0, min: 28 }),
        (
            27,
            FrameError::LengthTooSmall {
                length: 27,
                min: 28,
            },
        ),
        (
            u32::MAX,
            FrameError::LengthTooLarge {
                length: u32::MAX,
                max: 65536,
            },
        ),
        (
            65540,
            FrameError::LengthTooLarge {
                length: 65540,
                max: 65536,
            },
        ),
        (29, FrameError::Misaligned { length: 29 }),
    ] {
        let mut decoder = StreamDecoder::new(FrameConfig::default());
        let prefix = length.to_le_bytes();
        decoder.feed(&prefix[..3]);
        assert_eq!(decoder.next_frame(), Ok(None), "3 bytes: wait");
        decoder.feed(&prefix[3..]);
        assert_eq!(decoder.next_frame(), Err(error));
        assert_eq!(decoder.next_frame(), Err(error), "stays failed");
        assert_eq!(decoder.finish(), Err(error));
        assert!(decoder.buffer_capacity() <= 8);
        // The same four bytes as a datagram.
        assert_eq!(
            frame::decode_frame(&prefix, &FrameConfig::default()).err(),
            Some(error)
        );
    }
}

/// Regression: `Vec`'s doubling used to take the buffer past the maximum
/// (40 000 bytes buffered, 20 000 more: capacity 80 000 > 65 536).
#[test]
fn stream_buffer_capacity_never_exceeds_the_maximum_frame() {
    let config = FrameConfig::default();
    let mut decoder = StreamDecoder::new(config);
    let mut claim = Vec::from(65536u32.to_le_bytes());
    claim.resize(40_000, 0);
    assert_eq!(decoder.feed(&claim), 40_000);
    assert_eq!(decoder.next_frame(), Ok(None));
    assert_eq!(decoder.feed(&[0u8; 20_000]), 20_000);
    assert_eq!(decoder.feed(&[0u8; 20_000]), 65536 - 60_000);
    assert_eq!(decoder.buffered(), 65536);
    assert!(
        decoder.buffer_capacity() <= 65536,
        "{}",
        decoder.buffer_capacity()
    );
    assert_eq!(decoder.capacity_left(), 0);
    assert_eq!(decoder.feed(&[1]), 0, "full: nothing more is taken");
}

#[test]
fn stream_read_from_respects_the_bound() {
    let frame = encode_frame(1, 2, &[5u8; 100]);
    let wire: Vec<u8> = frame
        .iter()
        .copied()
        .cycle()
        .take(frame.len() * 50)
        .collect();
    let mut reader = &wire[..];
    let config = FrameConfig::default().with_max_frame_len(256);
    let mut decoder = StreamDecoder::new(config);
    let mut count = 0;
    loop {
        let n = decoder.read_from(&mut reader).unwrap();
        assert!(decoder.buffer_capacity() <= 256);
        while let Some(f) = decoder.next_frame().unwrap() {
            assert_eq!(f.body(), &[5u8; 100]);
            count += 1;
        }
        if n == 0 {
            break;
        }
    }
    assert_eq!(count, 50);
    assert_eq!(decoder.finish(), Ok(()));
}

/// Regression: `Frame::parse` is public and used to trust that the length
/// field matched the slice; a forged length with a right CRC indexed past
/// the end (panic).
#[test]
fn frame_parse_checks_the_length_field_against_the_slice() {
    // 28 bytes claiming 1000, with body_len consistent with 1000.
    let f = forged(1000, 1, 0, 1, 972, &[]);
    assert_eq!(f.len(), 28);
    assert_eq!(
        Frame::parse(&f),
        Err(FrameError::Truncated {
            available: 28,
            needed: 1000
        })
    );
    assert_eq!(
        frame::check_header(&f, false),
        Err(FrameError::Truncated {
            available: 28,
            needed: 1000
        })
    );
    // A slice longer than its length field.
    let mut g = encode_frame(1, 0, b"");
    g.extend_from_slice(&[0; 4]);
    assert_eq!(
        Frame::parse(&g),
        Err(FrameError::TrailingBytes {
            length: 28,
            extra: 4
        })
    );
    // Too short to hold a length.
    assert_eq!(
        Frame::parse(&[28, 0]),
        Err(FrameError::Truncated {
            available: 2,
            needed: 4
        })
    );
    // A padding check asked about a body beyond the slice reports, not panics.
    assert_eq!(
        frame::check_padding(&g, 10_000),
        Err(FrameError::Truncated {
            available: 32,
            needed: 10_020
        })
    );
    assert!(frame::check_padding(&g, usize::MAX).is_err());
}

/// Regression (32-bit targets): `padded_len(body_len)` was computed before
/// comparing, so `body_len` near `u32::MAX` overflowed `usize` (and wrapped
/// to 0 in release builds, accepting the frame). Now compared first.
#[test]
fn body_len_near_u32_max_is_a_mismatch_not_an_overflow() {
    for body_len in [
        u32::MAX,
        u32::MAX - 1,
        u32::MAX - 2,
        u32::MAX - 3,
        0x8000_0000,
    ] {
        let f = forged(28, 1, 0, 1, body_len, &[]);
        assert_eq!(
            frame::decode_frame(&f, &FrameConfig::default()),
            Err(FrameError::BodyLengthMismatch {
                body_len,
                length: 28
            })
        );
    }
}

#[test]
fn sealed_frames_need_forty_bytes() {
    // A 28-byte frame with the sealed flag reaching a sealed decoder.
    let f = forged(28, 1, 1, 1, 0, &[]);
    assert_eq!(
        frame::check_header(&f, true),
        Err(FrameError::LengthTooSmall {
            length: 28,
            min: 40
        })
    );
    assert_eq!(
        frame::decode_frame(&f, &FrameConfig::default()),
        Err(FrameError::UnexpectedEncryption { sealed: true })
    );
    let plain = encode_frame(1, 0, b"");
    assert_eq!(
        frame::check_header(&plain, true),
        Err(FrameError::UnexpectedEncryption { sealed: false })
    );
}

#[test]
fn frame_config_rounds_and_clamps() {
    assert_eq!(FrameConfig::default().max_frame_len(), 65536);
    assert_eq!(
        FrameConfig::default()
            .with_max_frame_len(103)
            .max_frame_len(),
        100
    );
    assert_eq!(
        FrameConfig::default().with_max_frame_len(0).max_frame_len(),
        40
    );
    assert_eq!(
        FrameConfig::default()
            .with_max_frame_len(u32::MAX)
            .max_frame_len(),
        MAX_WIRE_FRAME_LEN
    );
}

#[test]
fn encode_errors_instead_of_panicking_on_small_buffers() {
    for cap in 0..40 {
        let mut out = vec![0u8; cap];
        let got = frame::encode_raw(1, 0, b"hello", &mut out);
        if cap >= 36 {
            assert_eq!(got, Ok(36));
        } else {
            assert!(
                matches!(got, Err(EncodeError::BufferFull { .. })),
                "{cap}: {got:?}"
            );
        }
    }
}

// ------------------------------------------------- nesting depth limit

/// `struct Chain(Option<Box<Chain>>)`: one tag byte per level.
#[derive(Debug, PartialEq)]
struct Chain(Option<Box<Chain>>);
impl Encode for Chain {
    const MAX_SIZE: Option<usize> = None;
    fn encoded_len(&self) -> usize {
        self.0.encoded_len()
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.0.encode(w)
    }
}
impl<'de> Decode<'de> for Chain {
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        Ok(Chain(Decode::decode(r)?))
    }
}

/// `struct Tree(Vec<Tree>)`: two prefix bytes per level.
#[derive(Debug, PartialEq)]
struct Tree(Vec<Tree>);
impl Encode for Tree {
    const MAX_SIZE: Option<usize> = None;
    fn encoded_len(&self) -> usize {
        self.0.encoded_len()
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.0.encode(w)
    }
}
impl<'de> Decode<'de> for Tree {
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        Ok(Tree(Decode::decode(r)?))
    }
}

/// Regression: a recursive type fed one tag byte per level recursed once
/// per input byte (64 KiB of `01` overflowed the stack).
#[test]
fn recursive_types_are_depth_limited() {
    let deep = vec![1u8; 65_000];
    let mut r = Reader::new(&deep);
    assert_eq!(
        Chain::decode(&mut r),
        Err(DecodeError::TooDeep {
            max: Reader::MAX_DEPTH
        })
    );
    let deep: Vec<u8> = [1u8, 0].repeat(32_000);
    let mut r = Reader::new(&deep);
    assert_eq!(
        Tree::decode(&mut r),
        Err(DecodeError::TooDeep {
            max: Reader::MAX_DEPTH
        })
    );
    // Legitimate nesting up to the limit still works, and depth unwinds.
    let mut ok = vec![1u8; Reader::MAX_DEPTH as usize];
    ok.push(0);
    let mut r = Reader::new(&ok);
    let chain = Chain::decode(&mut r).unwrap();
    r.finish().unwrap();
    let mut buf = vec![0u8; ok.len()];
    let mut w = Writer::new(&mut buf);
    chain.encode(&mut w).unwrap();
    assert_eq!(w.written(), &ok[..]);
    // Siblings do not add up: a wide, shallow tree of 1000 leaves is fine.
    let mut wide = vec![0xE8, 0x03]; // 1000 children
    wide.extend([0u8, 0].repeat(1000));
    let mut r = Reader::new(&wide);
    let tree = Tree::decode(&mut r).unwrap();
    assert_eq!(tree.0.len(), 1000);
}

/// Every padding byte of every padding width is checked (the decoder tests
/// the padding as one masked word; this pins each byte).
#[test]
fn every_padding_byte_is_checked() {
    for body_len in 0..12usize {
        let base = encode_frame(1, 0, &vec![0xAA; body_len]);
        let padded = body_len.div_ceil(4) * 4;
        for offset in 20 + body_len..20 + padded {
            for value in [1u8, 0x80, 0xFF] {
                let mut f = base.clone();
                f[offset] = value;
                let check_at = f.len() - 8;
                let c = crc(&f[..check_at]);
                f[check_at..check_at + 4].copy_from_slice(&c.to_le_bytes());
                assert_eq!(
                    frame::decode_frame(&f, &FrameConfig::default()),
                    Err(FrameError::NonZeroPadding { offset, value }),
                    "body_len {body_len}, offset {offset}"
                );
            }
        }
        // Body bytes next to the padding are not padding.
        assert!(frame::decode_frame(&base, &FrameConfig::default()).is_ok());
    }
}

/// A type with nothing on the wire (every field `#[packet(skip)]`).
#[derive(Debug, Default, PartialEq)]
struct Nothing(u64);
impl Encode for Nothing {
    const MAX_SIZE: Option<usize> = Some(0);
    fn encoded_len(&self) -> usize {
        0
    }
    fn encode(&self, _: &mut Writer<'_>) -> Result<(), EncodeError> {
        Ok(())
    }
}
impl<'de> Decode<'de> for Nothing {
    fn decode(_: &mut Reader<'de>) -> Result<Self, DecodeError> {
        Ok(Nothing::default())
    }
}

/// Regression: a u32 count of zero-size elements looped (and grew a Vec)
/// four billion times; counts beyond the bytes left are refused up front.
#[test]
fn sequence_counts_beyond_the_input_are_refused_up_front() {
    let mut r = Reader::new(&[0xFF, 0xFF, 0xFF, 0xFF]);
    assert_eq!(
        packet_core::codec::decode_vec::<u32, Nothing>(usize::MAX, &mut r),
        Err(DecodeError::UnexpectedEnd {
            needed: u32::MAX as usize,
            remaining: 0
        })
    );
    let mut r = Reader::new(&[3, 0, 0, 0, 1, 2, 3]);
    let v = packet_core::codec::decode_vec::<u32, Nothing>(usize::MAX, &mut r).unwrap();
    assert_eq!(v.len(), 3);
}

#[test]
fn write_header_into_a_short_buffer_is_an_error() {
    let mut out = [0u8; 19];
    assert_eq!(
        frame::write_header(&mut out, 28, 0, 1, 0, 0),
        Err(EncodeError::BufferFull {
            needed: 20,
            remaining: 19
        })
    );
    assert!(frame::write_header(&mut out, usize::MAX, 0, 1, 0, 0).is_err());
}

/// Regression: with a maximum-size frame buffered and not yet taken out,
/// `read_from` has no room; it used to return `Ok(0)`, which reads as end of
/// stream. It is an `InvalidInput` error now, and taking the frame out makes
/// room again.
#[test]
fn stream_read_from_when_full_is_an_error_not_end_of_stream() {
    let max = 64u32;
    let body = [9u8; 36]; // 20 + 36 + 4 + 4 = 64 bytes: a maximum-size frame
    let frame = encode_frame(1, 0, &body);
    assert_eq!(frame.len(), max as usize);
    let wire: Vec<u8> = frame.iter().chain(frame.iter()).copied().collect();
    let mut reader = &wire[..];
    let mut decoder = StreamDecoder::new(FrameConfig::default().with_max_frame_len(max));
    let mut read = 0;
    while decoder.capacity_left() > 0 {
        read += decoder.read_from(&mut reader).unwrap();
    }
    assert_eq!(read, 64);
    let err = decoder.read_from(&mut reader).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(decoder.next_frame().unwrap().unwrap().body(), &body);
    assert_eq!(decoder.read_from(&mut reader).unwrap(), 64);
    assert_eq!(decoder.next_frame().unwrap().unwrap().body(), &body);
    assert_eq!(decoder.read_from(&mut reader).unwrap(), 0);
    assert_eq!(decoder.finish(), Ok(()));
}

/// Lists of strings read their count before the call that decodes them,
/// and an empty one returns without that call: at the depth limit an
/// empty list is still `TooDeep`, as every other list, and the reader
/// stops at the same byte.
#[test]
fn empty_string_lists_keep_the_depth_limit() {
    fn at_depth<'de, T: Decode<'de> + core::fmt::Debug + PartialEq>(
        bytes: &'de [u8],
        depth: u32,
    ) -> (Result<Vec<T>, DecodeError>, usize) {
        let mut r = Reader::new(bytes);
        for _ in 0..depth {
            r.enter().unwrap();
        }
        let got = Vec::<T>::decode(&mut r);
        (got, r.position())
    }
    let too_deep = DecodeError::TooDeep {
        max: Reader::MAX_DEPTH,
    };
    let limit = Reader::MAX_DEPTH;
    for bytes in [&[0u8, 0][..], &[1, 0, 1, 0, b'a']] {
        assert_eq!(at_depth::<String>(bytes, limit), (Err(too_deep), 2));
        assert_eq!(at_depth::<&str>(bytes, limit), (Err(too_deep), 2));
        assert_eq!(at_depth::<Box<str>>(bytes, limit), (Err(too_deep), 2));
        let ok = at_depth::<String>(bytes, limit - 1);
        assert_eq!(ok.1, bytes.len());
        assert_eq!(ok.0.unwrap().len(), usize::from(bytes[0]));
    }
    // A count past the input, an empty input.
    assert_eq!(
        at_depth::<String>(&[3, 0, 0], 0),
        (
            Err(DecodeError::UnexpectedEnd {
                needed: 3,
                remaining: 1
            }),
            2
        )
    );
    assert_eq!(
        at_depth::<String>(&[0], 0),
        (
            Err(DecodeError::UnexpectedEnd {
                needed: 2,
                remaining: 1
            }),
            0
        )
    );
}

/// Found by a new-user trial: "1 unread bytes".
#[test]
fn byte_counts_in_messages_agree_in_number() {
    use packet_core::error::{DecodeError, FrameError};
    assert_eq!(
        DecodeError::TrailingBytes { extra: 1 }.to_string(),
        "1 unread byte after the packet body"
    );
    assert_eq!(
        DecodeError::TrailingBytes { extra: 3 }.to_string(),
        "3 unread bytes after the packet body"
    );
    let one = FrameError::TrailingBytes {
        length: 16,
        extra: 1,
    };
    assert_eq!(one.to_string(), "1 trailing byte after a 16-byte frame");
}

/// Found by the third review: the commit above left the commonest of
/// them, a `u8` field at the body's end ("field needs 1 bytes, 0
/// remain"), and the frame, stream and buffer counts.
#[test]
fn every_byte_count_in_a_message_agrees_in_number() {
    let mut r = Reader::new(&[]);
    assert_eq!(
        u8::decode(&mut r).unwrap_err().to_string(),
        "body ended early: field needs 1 byte, 0 remain"
    );
    let mut r = Reader::new(&[0]);
    assert_eq!(
        u16::decode(&mut r).unwrap_err().to_string(),
        "body ended early: field needs 2 bytes, 1 remains"
    );
    assert_eq!(
        FrameError::UnexpectedEof { buffered: 1 }.to_string(),
        "stream ended inside a frame (1 byte buffered)"
    );
    assert_eq!(
        FrameError::Truncated {
            available: 1,
            needed: 16
        }
        .to_string(),
        "truncated frame: 1 byte available, 16 needed"
    );
    assert_eq!(
        EncodeError::BufferFull {
            needed: 1,
            remaining: 1
        }
        .to_string(),
        "buffer full: 1 more byte needed, 1 remains"
    );
    assert_eq!(
        DecodeError::UnexpectedEnd {
            needed: 4,
            remaining: 2
        }
        .to_string(),
        "body ended early: field needs 4 bytes, 2 remain"
    );
}
