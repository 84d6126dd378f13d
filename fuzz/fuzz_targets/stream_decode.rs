//! The stream decoder fed the input in chunks the input chooses must agree
//! with one-shot decoding of the concatenation: the same frames (header and
//! body) in the same order, then the same error or the same clean end.
//!
//! Input: `mode`, `n`, `n` chunk sizes, then the stream bytes (whose frames
//! get their CRCs repaired unless `mode` bit 1 is set).
#![no_main]

use libfuzzer_sys::fuzz_target;
use packet_core::StreamDecoder;
use packet_core::error::FrameError;
use packet_core::frame::{self, FrameConfig, Header};
use packet_fuzz::{fix_frames, round_trip_frame_body};

type Outcome = (Vec<(Header, Vec<u8>)>, Result<(), FrameError>);

fn one_shot(data: &[u8], config: &FrameConfig) -> Outcome {
    let mut frames = Vec::new();
    let mut pos = 0;
    loop {
        let rest = &data[pos..];
        let len = match frame::check_prefix(rest, config) {
            Err(e) => return (frames, Err(e)),
            Ok(None) if rest.is_empty() => return (frames, Ok(())),
            Ok(None) => {
                return (
                    frames,
                    Err(FrameError::UnexpectedEof {
                        buffered: rest.len(),
                    }),
                );
            }
            Ok(Some(len)) => len as usize,
        };
        if rest.len() < len {
            return (
                frames,
                Err(FrameError::UnexpectedEof {
                    buffered: rest.len(),
                }),
            );
        }
        match frame::decode_frame(&rest[..len], config) {
            Ok(f) => {
                round_trip_frame_body(&f);
                frames.push((*f.header(), f.body().to_vec()));
            }
            Err(e) => return (frames, Err(e)),
        }
        pos += len;
    }
}

fn streamed(data: &[u8], sizes: &[u8], config: &FrameConfig) -> Outcome {
    let mut decoder = StreamDecoder::new(*config);
    let mut frames = Vec::new();
    let max = config.max_frame_len() as usize;
    let mut pos = 0;
    let mut turn = 0;
    while pos < data.len() {
        // Zero sizes feed empty chunks; with no non-zero size, feed it all.
        let size = if sizes.iter().any(|&s| s > 0) {
            sizes[turn % sizes.len()] as usize
        } else {
            data.len()
        };
        turn += 1;
        let chunk = &data[pos..(pos + size).min(data.len())];
        pos += chunk.len();
        let mut off = 0;
        loop {
            let took = decoder.feed(&chunk[off..]);
            off += took;
            assert!(decoder.buffered() <= max, "buffer beyond the maximum frame");
            let mut drained = false;
            loop {
                match decoder.next_frame() {
                    Ok(Some(f)) => {
                        drained = true;
                        frames.push((*f.header(), f.body().to_vec()));
                    }
                    Ok(None) => break,
                    Err(e) => {
                        // Sticky: the decoder stays failed.
                        assert_eq!(decoder.next_frame().err(), Some(e));
                        assert_eq!(decoder.finish(), Err(e));
                        return (frames, Err(e));
                    }
                }
            }
            if off == chunk.len() {
                break;
            }
            assert!(took > 0 || drained, "stream decoder stalled");
        }
    }
    let end = decoder.finish();
    (frames, end)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Some((&n, rest)) = rest.split_first() else {
        return;
    };
    let n = (n as usize % 32).min(rest.len());
    let (sizes, stream) = rest.split_at(n);
    let config = if mode & 0x80 != 0 {
        FrameConfig::default().with_max_frame_len(128)
    } else {
        FrameConfig::default()
    };
    let mut stream = stream.to_vec();
    if mode & 2 == 0 {
        fix_frames(&mut stream, mode & 1 != 0);
    }
    let expected = one_shot(&stream, &config);
    let got = streamed(&stream, sizes, &config);
    assert_eq!(got, expected);
});
