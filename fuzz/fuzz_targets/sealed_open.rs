//! Opening sealed frames (ChaCha20-Poly1305). The fuzzer cannot forge a
//! Poly1305 tag, so besides opening the raw input (which must fail cleanly),
//! the target *re-seals* the input: it treats it as a plaintext frame
//! (header as associated data, body and padding as plaintext), encrypts it
//! under the test key and writes the right tag, exactly as a peer holding
//! the key would. Then:
//! - `OpeningKey::open` never reports `AuthenticationFailed` (the tag is
//!   right), and when it succeeds the body is the plaintext that was sealed,
//!   the frame re-seals byte for byte with `SealingKey::seal_raw`, and the
//!   body round-trips through the example packet its type id names;
//! - a `SealedChannel` accepts such a frame at most once (the second time is
//!   a replay);
//! - opening with the other direction's key fails authentication.
//!
//! Input: mode byte (bit 0: set the sealed flag; bit 1: repair the ending;
//! bit 2: set the length prefix to the input's length; bit 7: stream-mode
//! replay window), then the frame bytes.
#![no_main]

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce};
use libfuzzer_sys::fuzz_target;
use packet_core::crypto::{
    ChannelConfig, ChannelKeys, Direction, OpeningKey, Role, SealedChannel, SealingKey, SecretKey,
    nonce,
};
use packet_core::frame::{ENDING, ENDING_LEN, HEADER_LEN, TAG_LEN, flags};
use packet_core::{CryptoError, FrameConfig};
use packet_fuzz::round_trip_frame_body;

const KEY: [u8; 32] = [0x42; 32];

/// Encrypts `frame[20..len-20]` in place with `frame[..20]` as associated
/// data and writes the tag; `None` if the frame is too short to hold one.
fn reseal(frame: &mut [u8], direction: Direction) -> Option<()> {
    let len = frame.len();
    if len < HEADER_LEN + TAG_LEN + ENDING_LEN {
        return None;
    }
    let tag_at = len - TAG_LEN - ENDING_LEN;
    let sequence = u64::from_le_bytes(frame[12..20].try_into().ok()?);
    let cipher = ChaCha20Poly1305::new((&KEY).into());
    let (aad, rest) = frame.split_at_mut(HEADER_LEN);
    let (body, rest) = rest.split_at_mut(tag_at - HEADER_LEN);
    let n = nonce(direction, sequence);
    let tag = cipher
        .encrypt_in_place_detached(Nonce::from_slice(&n), aad, body)
        .ok()?;
    rest[..TAG_LEN].copy_from_slice(&tag);
    Some(())
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let config = FrameConfig::default();
    let key = SecretKey::from_bytes(KEY);
    let c2s = Direction::ClientToServer;
    let opener = OpeningKey::new(&key, c2s);

    // The raw bytes: an authentic tag is out of reach, so this must fail.
    let mut raw = rest.to_vec();
    assert!(opener.open(&mut raw, &config).is_err());

    // The re-sealed bytes.
    let mut plain = rest.to_vec();
    let len = plain.len();
    if mode & 1 != 0 && len > 5 {
        plain[5] |= flags::ENCRYPTED;
    }
    if mode & 4 != 0 && len >= 4 {
        plain[..4].copy_from_slice(&(len as u32).to_le_bytes());
    }
    if mode & 2 != 0 && len >= ENDING_LEN {
        plain[len - ENDING_LEN..].copy_from_slice(&ENDING);
    }
    let mut sealed = plain.clone();
    if reseal(&mut sealed, c2s).is_none() {
        return;
    }
    let wire = sealed.clone();

    // The wrong direction never authenticates.
    let mut other = wire.clone();
    if let Err(CryptoError::AuthenticationFailed { .. }) | Ok(_) =
        OpeningKey::new(&key, c2s.reverse()).open(&mut other, &config)
    {
        // Ok is impossible: a different nonce gives a different tag.
        assert!(
            OpeningKey::new(&key, c2s.reverse())
                .open(&mut wire.clone(), &config)
                .is_err(),
            "opened under the wrong direction"
        );
    }

    match opener.open(&mut sealed, &config) {
        Err(CryptoError::AuthenticationFailed { .. }) => {
            panic!("a correctly re-sealed frame failed authentication")
        }
        Err(_) => {}
        Ok(frame) => {
            let header = *frame.header();
            assert!(header.is_sealed());
            assert_eq!(header.length as usize, len);
            let body_len = header.body_len as usize;
            assert_eq!(frame.body(), &plain[HEADER_LEN..HEADER_LEN + body_len]);
            round_trip_frame_body(&frame);
            // Canonical: sealing the same body again gives the same bytes.
            let mut again = vec![0u8; len];
            let n = SealingKey::new(&key, c2s)
                .seal_raw(header.type_id, header.sequence, frame.body(), &mut again)
                .expect("fits its own length");
            assert_eq!(&again[..n], &wire[..]);

            // Through a channel: accepted once, then a replay.
            let replay = if mode & 0x80 != 0 {
                ChannelConfig::stream()
            } else {
                ChannelConfig::datagram()
            };
            let mut server = SealedChannel::new(
                Role::Server,
                &ChannelKeys::shared(SecretKey::from_bytes(KEY)),
                replay,
            );
            let mut first = wire.clone();
            server
                .open(&mut first)
                .expect("a channel opens what the key opens");
            let mut second = wire.clone();
            assert!(server.open(&mut second).is_err(), "replay accepted");
        }
    }
});
