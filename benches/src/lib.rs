//! Shared fixtures for the criterion benchmarks in `benches/benches/` and
//! the fuzz targets in `fuzz/`: three representative game packets and
//! sample values of them.
//!
//! | packet | shape | body |
//! |---|---|---|
//! | [`PlayerMove`] | fixed-size scalars and arrays | 38 bytes |
//! | [`Chat`] | two borrowed strings (zero-copy on decode) | 14 bytes + text |
//! | [`WorldSnapshot`] | a `Vec` of 100 [`Entity`] | 10 + 100 × 31 bytes |
//!
//! and, in [`shapes`], four larger data shapes (a 125,000-triangle mesh, a
//! 500-player save game, 10,000 log records, 1,000 game-state updates).
//!
//! packet's `Encode` / `Decode` / [`Packet`] impls come from
//! `#[derive(Packet)]`, as an application's would. With the
//! `peers` feature the same structs also derive the peers' traits (bincode 2,
//! serde for postcard, bitcode, rkyv), so every codec serializes the very
//! same values. The benchmarks compare packet against its peers in the same
//! run; see `BENCHMARKS.md` at the workspace root for how to run them and the
//! ratios.
#![forbid(unsafe_code)]

use packet_core::Packet;

pub mod shapes;

/// A body of `len` bytes with a recognisable pattern.
pub fn body(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + 7) as u8).collect()
}

/// Decodes a whole body as `T`, panicking on an error or trailing bytes:
/// the owned-decode step the `codec` bench times and the `shape_probe`
/// counts, written once so both measure the same call.
#[inline]
pub fn decode_body<'a, T: packet_core::Decode<'a>>(bytes: &'a [u8]) -> T {
    let mut r = packet_core::Reader::new(bytes);
    let v = T::decode(&mut r).expect("decodes");
    r.finish().expect("whole body");
    v
}

/// The two knobs of the callgrind probes (`benches/benches/*_probe.rs`):
/// how many echoes to count (the first numeric argument, as `cargo bench`
/// passes `--bench` first; 4096 without one) and how many packets to keep
/// in flight (`WINDOW` in the environment, or `default_window`).
pub fn probe_args(default_window: u64) -> (u64, u64) {
    let n = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(4096);
    let window = std::env::var("WINDOW")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(default_window);
    (n, window)
}

/// A player's movement input: fixed-size, sent many times a second.
#[derive(Debug, Clone, Copy, PartialEq, Default, Packet)]
#[packet(id = 0x0101)]
#[cfg_attr(
    feature = "peers",
    derive(
        bincode::Encode,
        bincode::Decode,
        serde::Serialize,
        serde::Deserialize,
        bitcode::Encode,
        bitcode::Decode,
        rkyv::Archive,
        rkyv::Serialize,
        rkyv::Deserialize,
    )
)]
pub struct PlayerMove {
    /// The moving entity.
    pub entity: u32,
    /// The client tick the input belongs to.
    pub tick: u32,
    /// Position.
    pub pos: [f32; 3],
    /// Velocity.
    pub vel: [f32; 3],
    /// Facing, radians.
    pub yaw: f32,
    /// Button bits.
    pub buttons: u16,
}

/// A chat line whose strings borrow from the receive buffer.
#[derive(Debug, Clone, Copy, PartialEq, Default, Packet)]
#[packet(id = 0x0102)]
#[cfg_attr(
    feature = "peers",
    derive(
        bincode::Encode,
        bincode::BorrowDecode,
        serde::Serialize,
        serde::Deserialize,
        bitcode::Encode,
        bitcode::Decode,
        rkyv::Archive,
        rkyv::Serialize,
    )
)]
pub struct Chat<'a> {
    /// Chat channel.
    pub channel: u16,
    /// Sender's display name.
    #[cfg_attr(feature = "peers", rkyv(with = rkyv::with::InlineAsBox))]
    pub from: &'a str,
    /// The message.
    #[cfg_attr(feature = "peers", rkyv(with = rkyv::with::InlineAsBox))]
    pub text: &'a str,
    /// Server time, milliseconds.
    pub time_ms: u64,
}

/// One entity's replicated state.
#[derive(Debug, Clone, Copy, PartialEq, Default, Packet)]
#[cfg_attr(
    feature = "peers",
    derive(
        bincode::Encode,
        bincode::Decode,
        serde::Serialize,
        serde::Deserialize,
        bitcode::Encode,
        bitcode::Decode,
        rkyv::Archive,
        rkyv::Serialize,
        rkyv::Deserialize,
    )
)]
pub struct Entity {
    /// Entity id.
    pub id: u32,
    /// Entity kind.
    pub kind: u8,
    /// Position.
    pub pos: [f32; 3],
    /// Facing, radians.
    pub yaw: f32,
    /// Horizontal velocity.
    pub vel: [f32; 2],
    /// Hit points.
    pub health: u16,
}

/// The server's world state for one tick.
#[derive(Debug, Clone, PartialEq, Default, Packet)]
#[packet(id = 0x0103)]
#[cfg_attr(
    feature = "peers",
    derive(
        bincode::Encode,
        bincode::Decode,
        serde::Serialize,
        serde::Deserialize,
        bitcode::Encode,
        bitcode::Decode,
        rkyv::Archive,
        rkyv::Serialize,
        rkyv::Deserialize,
    )
)]
pub struct WorldSnapshot {
    /// Server tick.
    pub tick: u64,
    /// Every entity in view.
    pub entities: Vec<Entity>,
}

/// A sample [`PlayerMove`].
pub fn sample_move() -> PlayerMove {
    PlayerMove {
        entity: 4242,
        tick: 123_456,
        pos: [10.5, -3.25, 100.0],
        vel: [0.5, 0.0, -1.25],
        yaw: 1.5707964,
        buttons: 0b1010_0001,
    }
}

/// A sample [`Chat`] borrowing static strings.
pub fn sample_chat() -> Chat<'static> {
    Chat {
        channel: 3,
        from: "xX_sniper_Xx",
        text: "gg, rematch on the harbour map? bring the rail guns this time",
        time_ms: 1_764_000_000_123,
    }
}

/// A sample [`WorldSnapshot`] of `n` entities.
pub fn sample_snapshot(n: usize) -> WorldSnapshot {
    WorldSnapshot {
        tick: 987_654,
        entities: (0..n)
            .map(|i| {
                let f = i as f32;
                Entity {
                    id: 1000 + i as u32,
                    kind: (i % 7) as u8,
                    pos: [f * 1.5, f * -0.25, 64.0 + f],
                    yaw: f * 0.01,
                    vel: [f * 0.125, -f],
                    health: 100 + (i % 50) as u16,
                }
            })
            .collect(),
    }
}

/// A fixed-size POD form of [`PlayerMove`] for zero-copy views
/// ([`packet_core::Frame::view`]): the same 38 bytes as the encoded body.
pub mod pod {
    use zerocopy::byteorder::little_endian::{F32, U16, U32};
    use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

    /// [`super::PlayerMove`] as it lies on the wire.
    #[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Debug, Clone, Copy)]
    #[repr(C)]
    pub struct PlayerMovePod {
        /// The moving entity.
        pub entity: U32,
        /// The client tick.
        pub tick: U32,
        /// Position.
        pub pos: [F32; 3],
        /// Velocity.
        pub vel: [F32; 3],
        /// Facing.
        pub yaw: F32,
        /// Button bits.
        pub buttons: U16,
    }

    /// [`super::Entity`] as it lies on the wire.
    #[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Debug, Clone, Copy)]
    #[repr(C)]
    pub struct EntityPod {
        /// Entity id.
        pub id: U32,
        /// Entity kind.
        pub kind: u8,
        /// Position.
        pub pos: [F32; 3],
        /// Facing.
        pub yaw: F32,
        /// Velocity.
        pub vel: [F32; 2],
        /// Hit points.
        pub health: U16,
    }

    const _: () = assert!(size_of::<PlayerMovePod>() == 38);
    const _: () = assert!(size_of::<EntityPod>() == 31);
}

#[cfg(test)]
mod tests {
    use super::*;
    use packet_core::Decode;
    use packet_core::frame::{self, FrameConfig};

    fn round_trip<P>(p: &P) -> Vec<u8>
    where
        P: Packet + for<'de> Decode<'de> + PartialEq + core::fmt::Debug,
    {
        let mut out = vec![0u8; 8192];
        let n = frame::encode_packet(p, 9, &mut out).expect("fits");
        let f = frame::decode_frame(&out[..n], &FrameConfig::default()).expect("valid");
        assert_eq!(f.body().len(), p.encoded_len());
        let back: P = f.decode_packet().expect("decodes");
        assert_eq!(&back, p);
        f.body().to_vec()
    }

    #[test]
    fn samples_round_trip_with_declared_sizes() {
        assert_eq!(round_trip(&sample_move()).len(), 38);
        assert_eq!(round_trip(&sample_snapshot(100)).len(), 8 + 2 + 100 * 31);
        let chat = sample_chat();
        let mut out = vec![0u8; 512];
        let n = frame::encode_packet(&chat, 1, &mut out).expect("fits");
        let f = frame::decode_frame(&out[..n], &FrameConfig::default()).expect("valid");
        assert_eq!(f.decode_packet::<Chat<'_>>().expect("decodes"), chat);
    }

    #[test]
    fn pod_view_matches_decoded_move() {
        let m = sample_move();
        let mut out = [0u8; 128];
        let n = frame::encode_packet(&m, 1, &mut out).expect("fits");
        let f = frame::decode_frame(&out[..n], &FrameConfig::default()).expect("valid");
        let v: &pod::PlayerMovePod = f.view().expect("38 bytes");
        assert_eq!(v.entity.get(), m.entity);
        assert_eq!(v.pos[2].get(), m.pos[2]);
        assert_eq!(v.buttons.get(), m.buttons);
    }
}
