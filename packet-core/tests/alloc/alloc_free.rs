//! Zero heap allocations per packet on the steady-state paths: encoding
//! and decoding a packet with no `alloc` fields, one-shot (datagram) and
//! through the `StreamDecoder` after warm-up, including the error paths.

use packet_core::error::{DecodeError, EncodeError, FrameError};
use packet_core::frame::{self, FrameConfig};
use packet_core::{Decode, Encode, Packet, PacketBuf, Reader, StreamDecoder, View, Writer, codec};
use stats_alloc::Region;
use zerocopy::byteorder::little_endian::{F32, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::GLOBAL;

/// Runs `f` and returns its result with the allocations (and
/// reallocations) it made.
fn allocations<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let region = Region::new(GLOBAL);
    let result = f();
    let c = region.change();
    (result, (c.allocations + c.reallocations) as u64)
}

/// Runs `f` and returns the bytes it requested.
fn bytes_requested(f: impl FnOnce()) -> u64 {
    let region = Region::new(GLOBAL);
    f();
    let c = region.change();
    c.bytes_allocated as u64 + c.bytes_reallocated.max(0) as u64
}

pub fn the_counter_counts() {
    let (v, n) = allocations(|| vec![1u8; 10]);
    assert_eq!(v.len(), 10);
    assert_eq!(n, 1, "the counting allocator must see a Vec allocation");
}

// ---------------------------------------------- a packet without alloc

#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Debug)]
#[repr(C)]
struct Pos {
    entity: U32,
    x: F32,
    y: F32,
}

/// Every non-alloc field family: scalars, arrays, options, tuples, borrowed
/// strings and bytes (with a non-default prefix), a zero-copy view.
#[derive(Debug)]
struct Move<'a> {
    tick: u64,
    dir: [f32; 3],
    flags: (bool, u8, char),
    target: Option<u16>,
    name: &'a str,
    /// `#[packet(len = u8)]`
    blob: &'a [u8],
    pos: View<'a, Pos>,
}

impl Encode for Move<'_> {
    const MAX_SIZE: Option<usize> = None;
    fn encoded_len(&self) -> usize {
        self.tick.encoded_len()
            + self.dir.encoded_len()
            + self.flags.encoded_len()
            + self.target.encoded_len()
            + self.name.encoded_len()
            + 1
            + self.blob.len()
            + self.pos.encoded_len()
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        (&self.tick, &self.dir, &self.flags, &self.target, &self.name).encode(w)?;
        codec::encode_bytes::<u8>(self.blob, usize::MAX, w)?;
        self.pos.encode(w)
    }
}

impl<'a> Decode<'a> for Move<'a> {
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        Ok(Move {
            tick: Decode::decode(r)?,
            dir: Decode::decode(r)?,
            flags: Decode::decode(r)?,
            target: Decode::decode(r)?,
            name: Decode::decode(r)?,
            blob: codec::decode_bytes::<u8>(usize::MAX, r)?,
            pos: Decode::decode(r)?,
        })
    }
}

impl Packet for Move<'_> {
    const ID: u16 = 0x0042;
}

fn sample(pos: &Pos) -> Move<'_> {
    Move {
        tick: 77,
        dir: [1.0, -0.5, 0.25],
        flags: (true, 3, 'λ'),
        target: Some(9),
        name: "player-one",
        blob: &[1, 2, 3, 4, 5],
        pos: View(pos),
    }
}

fn check(m: &Move<'_>) {
    assert_eq!(m.tick, 77);
    assert_eq!(m.name, "player-one");
    assert_eq!(m.blob, [1, 2, 3, 4, 5]);
    assert_eq!(m.pos.entity.get(), 5);
    assert_eq!(m.flags.2, 'λ');
}

pub fn one_shot_encode_and_decode_allocate_nothing() {
    let pos = Pos {
        entity: U32::new(5),
        x: F32::new(1.0),
        y: F32::new(2.0),
    };
    let config = FrameConfig::default();
    let ((), n) = allocations(|| {
        for seq in 0..100u64 {
            // Into the stack buffer.
            let mut buf: PacketBuf = PacketBuf::new();
            let bytes = buf.encode(&sample(&pos), seq).unwrap();
            let frame = frame::decode_frame(bytes, &config).unwrap();
            assert_eq!(frame.sequence(), seq);
            check(&frame.decode_packet::<Move<'_>>().unwrap());

            // Into any slice.
            let mut out = [0u8; 256];
            let len = frame::encode_packet(&sample(&pos), seq, &mut out).unwrap();
            let frame = frame::decode_frame(&out[..len], &config).unwrap();
            check(&frame.decode_packet::<Move<'_>>().unwrap());

            // Error paths are allocation-free too.
            out[30] ^= 0xFF;
            assert!(matches!(
                frame::decode_frame(&out[..len], &config),
                Err(FrameError::CrcMismatch { .. })
            ));
            assert!(matches!(
                frame::encode_packet(&sample(&pos), seq, &mut out[..40]),
                Err(EncodeError::BufferFull { .. })
            ));
            let mut small: PacketBuf<32> = PacketBuf::new();
            assert!(small.encode(&sample(&pos), seq).is_err());
        }
    });
    assert_eq!(n, 0, "allocations on the one-shot path");
}

pub fn stream_decoding_allocates_nothing_after_warm_up() {
    let pos = Pos {
        entity: U32::new(5),
        x: F32::new(1.0),
        y: F32::new(2.0),
    };
    // Ten frames back to back, as they would arrive on a socket.
    let mut wire = vec![0u8; 0];
    let mut buf: PacketBuf = PacketBuf::new();
    for seq in 0..10 {
        wire.extend_from_slice(buf.encode(&sample(&pos), seq).unwrap());
    }

    let mut decoder = StreamDecoder::new(FrameConfig::default());
    let run = |decoder: &mut StreamDecoder, chunk: usize| {
        let mut got = 0u64;
        for piece in wire.chunks(chunk) {
            let mut piece = piece;
            while !piece.is_empty() {
                let took = decoder.feed(piece);
                piece = &piece[took..];
                while let Some(frame) = decoder.next_frame().unwrap() {
                    assert_eq!(frame.sequence(), got);
                    check(&frame.decode_packet::<Move<'_>>().unwrap());
                    got += 1;
                }
            }
        }
        assert_eq!(got, 10);
        decoder.finish().unwrap();
    };
    let chunks = [1usize, 7, 64, 100, 1000, wire.len()];
    // Warm-up: the buffer grows to what the largest feed needs.
    for chunk in chunks {
        run(&mut decoder, chunk);
    }
    let ((), n) = allocations(|| {
        for _ in 0..10 {
            for chunk in chunks {
                run(&mut decoder, chunk);
            }
        }
    });
    assert_eq!(n, 0, "allocations on the stream path after warm-up");

    // `read_from` (std::io::Read) likewise, after one warm-up pass.
    let read_all = |decoder: &mut StreamDecoder| {
        let mut reader = &wire[..];
        let mut got = 0;
        loop {
            let n = decoder.read_from(&mut reader).unwrap();
            while let Some(frame) = decoder.next_frame().unwrap() {
                check(&frame.decode_packet::<Move<'_>>().unwrap());
                got += 1;
            }
            if n == 0 {
                break;
            }
        }
        assert_eq!(got, 10);
    };
    read_all(&mut decoder);
    let ((), n) = allocations(|| {
        for _ in 0..10 {
            read_all(&mut decoder);
        }
    });
    assert_eq!(n, 0, "allocations in read_from after warm-up");

    // A failed stream reports its error without allocating, and `reset`
    // keeps the buffer for the next connection.
    let ((), n) = allocations(|| {
        decoder.feed(&[0, 0, 0, 0]);
        assert_eq!(
            decoder.next_frame().err(),
            Some(FrameError::LengthTooSmall { length: 0, min: 28 })
        );
        decoder.reset();
        run(&mut decoder, 7);
    });
    assert_eq!(n, 0, "allocations on the error path");
}

/// Regression: `Vec<T>` decoding reserved `min(count, bytes left)` elements
/// up front, so a 64 KiB body claiming 65 535 elements of a 1 KiB type
/// (1 byte each on the wire when `None`) reserved 64 MiB before decoding
/// one. Up-front reservation is now capped at the larger of 64 KiB and
/// twice the body bytes left (wire format §3); what follows grows
/// only with elements that actually decode.
pub fn hostile_sequence_counts_do_not_reserve_memory_up_front() {
    let mut body = vec![0u8; 2 + 65_533];
    body[..2].copy_from_slice(&65_533u16.to_le_bytes());
    body[2..].fill(2); // every Option tag invalid: the first element fails
    let used = bytes_requested(|| {
        let mut r = Reader::new(&body);
        let got = Vec::<Option<[u64; 128]>>::decode(&mut r);
        assert_eq!(got, Err(DecodeError::InvalidOptionTag(2)));
    });
    // Twice the 65 533 bytes left after the prefix (more than 64 KiB).
    let limit = 2 * (body.len() as u64 - 2);
    assert!(
        used <= limit,
        "{used} bytes reserved for a failing decode (limit {limit})"
    );
}
