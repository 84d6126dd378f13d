//! `decode_frame` on arbitrary bytes, then on the same bytes with the CRC
//! (and ending) repaired so the later rules and the body decoders are
//! reached. A frame that validates must re-encode byte for byte, and its body
//! must round-trip through the example packet its type id names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packet_core::frame::{self, FrameConfig};
use packet_fuzz::{fix_frames, round_trip_frame_body};

fn check(bytes: &[u8], config: &FrameConfig) {
    let Ok(f) = frame::decode_frame(bytes, config) else {
        return;
    };
    let header = *f.header();
    assert!(!header.is_sealed());
    assert_eq!(header.length as usize, bytes.len());
    assert!(header.length <= config.max_frame_len());
    // Canonical: the same type id, sequence and body give the same bytes.
    let mut out = vec![0u8; bytes.len()];
    let n = frame::encode_raw(header.type_id, header.sequence, f.body(), &mut out)
        .expect("a valid frame's body fits its own length");
    assert_eq!(&out[..n], bytes);
    round_trip_frame_body(&f);
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let config = if mode & 0x80 != 0 {
        FrameConfig::default().with_max_frame_len(256)
    } else {
        FrameConfig::default()
    };
    check(rest, &config);
    let mut fixed = rest.to_vec();
    fix_frames(&mut fixed, mode & 1 != 0);
    check(&fixed, &config);
});
