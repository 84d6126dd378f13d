//! The tokio-util codec (`packet_net::transport::tokio::PacketCodec`) fed
//! arbitrary bytes: up to 8 frames encoded by a sending codec (plaintext,
//! or sealed as a client whose hello goes first), then optionally a
//! byte flipped, garbage spliced in or the CRCs repaired, then decoded by
//! a receiving codec (plaintext, or sealed as the accepting end) from
//! arbitrary chunks, as `Framed` would, ending with `decode_eof`.
//!
//! Properties beyond "no panic, no hang, no unbounded allocation":
//! - an encode that fails leaves the destination as it was;
//! - the chunking changes nothing: the frames and the outcome (clean
//!   end, waiting for more, or an error) are those of decoding the whole
//!   input at once;
//! - untouched, every frame comes back equal and in order, and the
//!   stream ends cleanly (plaintext: up to a close notice, wire format
//!   §12, which ends it with an error); sealed, whatever comes back is always a prefix
//!   of what was sent (a flipped byte never yields a different frame).
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use packet_core::crypto::{ChannelKeys, SecretKey};
use packet_core::frame::FrameConfig;
use packet_net::transport::tokio::{PacketCodec, RawFrame};
use packet_net::transport::{ClientSecurity, ServerSecurity, SessionToken};
use tokio_util::codec::{Decoder, Encoder};

const TOKEN: SessionToken = SessionToken([1; 16]);

fn keys() -> ChannelKeys {
    ChannelKeys::new(
        SecretKey::from_bytes([1; 32]),
        SecretKey::from_bytes([2; 32]),
    )
}

fn codecs(sealed: bool, config: FrameConfig) -> (PacketCodec, PacketCodec) {
    let (tx, rx) = (PacketCodec::new(config), PacketCodec::new(config));
    if !sealed {
        return (tx, rx);
    }
    let server = ServerSecurity::new(|t: &SessionToken| (*t == TOKEN).then(keys));
    (
        tx.sealed(ClientSecurity::new(TOKEN, keys())),
        rx.sealed(server),
    )
}

/// What decoding gave: the frames, and how it ended (`None`: waiting for
/// more bytes; `Some(true)`: a clean end; `Some(false)`: an error).
type Outcome = (Vec<(u16, Vec<u8>)>, Option<bool>);

/// Decodes `wire` in pieces of the given sizes (the rest at once), then
/// `decode_eof`.
fn decode(mut rx: PacketCodec, wire: &[u8], chunks: &[usize]) -> Outcome {
    let mut src = BytesMut::new();
    let mut frames = Vec::new();
    let mut rest = wire;
    let mut sizes = chunks.iter().copied().chain(std::iter::once(usize::MAX));
    while !rest.is_empty() {
        let n = sizes.next().unwrap_or(usize::MAX).clamp(1, rest.len());
        src.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        loop {
            match rx.decode(&mut src) {
                Ok(Some(f)) => frames.push((f.header.type_id, f.body.to_vec())),
                Ok(None) => break,
                Err(_) => {
                    let _ = rx.decode(&mut src); // never a panic after an error
                    return (frames, Some(false));
                }
            }
        }
    }
    loop {
        match rx.decode_eof(&mut src) {
            Ok(Some(f)) => frames.push((f.header.type_id, f.body.to_vec())),
            Ok(None) => return (frames, Some(true)),
            Err(_) => return (frames, Some(false)),
        }
    }
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let mode = u.arbitrary::<u8>()?;
    let sealed = mode & 1 != 0;
    let max = u.int_in_range(64..=1024u32)?;
    let config = FrameConfig::default().with_max_frame_len(max);
    let (mut tx, rx) = codecs(sealed, config);
    let mut wire = BytesMut::new();
    let mut sent = Vec::new();
    for _ in 0..u.int_in_range(0..=8u8)? {
        let type_id = u.arbitrary::<u16>()?;
        let body: &[u8] = u.arbitrary()?;
        let before = wire.clone();
        match tx.encode(RawFrame { type_id, body }, &mut wire) {
            Ok(()) => sent.push((type_id, body.to_vec())),
            Err(_) => assert_eq!(wire, before, "a failed encode changed the destination"),
        }
    }
    let mut wire = wire.to_vec();
    let touched = match (mode >> 1) & 3 {
        1 if !wire.is_empty() => {
            let at = u.choose_index(wire.len())?;
            wire[at] ^= u.int_in_range(1..=255u8)?;
            true
        }
        2 => {
            let at = u.int_in_range(0..=wire.len())?;
            let garbage: Vec<u8> = u.arbitrary()?;
            let touched = !garbage.is_empty();
            wire.splice(at..at, garbage);
            touched
        }
        _ => false,
    };
    if touched && !sealed && mode & 8 != 0 {
        packet_fuzz::fix_frames(&mut wire, mode & 16 != 0);
    }
    let chunks: Vec<usize> = (0..u.int_in_range(0..=16u8)?)
        .map(|_| u.int_in_range(1..=300usize))
        .collect::<Result<_>>()?;
    let whole = decode(codecs(sealed, config).1, &wire, &[]);
    let pieces = decode(rx, &wire, &chunks);
    assert_eq!(pieces, whole, "the chunking changed what was decoded");
    if !touched {
        // Wire format §12: a plaintext receiving codec takes a close
        // notice (type 0xFFFF, a 4-byte body) as the stream's end, never
        // as a frame; a sealed accepting end has no notices to read.
        let notice = |(t, b): &(u16, Vec<u8>)| !sealed && *t == 0xFFFF && b.len() == 4;
        let expected = match sent.iter().position(notice) {
            Some(i) => (sent[..i].to_vec(), Some(false)),
            None => (sent, Some(true)),
        };
        assert_eq!(whole, expected, "frames lost or changed");
    } else if sealed {
        assert!(
            whole.0.len() <= sent.len() && whole.0[..] == sent[..whole.0.len()],
            "a sealed stream yielded a frame that was not sent"
        );
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
