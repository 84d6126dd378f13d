//! The demo: encodes a few packets into frames, pushes them through the
//! stream decoder in awkward chunks, and prints what comes out.
//!
//! (The transport issue turns this into a loopback server with bot clients.)

use packet_core::error::{DecodeError, EncodeError};
use packet_core::{Decode, Encode, FrameConfig, Packet, PacketBuf, Reader, StreamDecoder, Writer};

#[derive(Debug, PartialEq)]
struct Move {
    entity: u32,
    x: f32,
    y: f32,
}

impl Encode for Move {
    const MAX_SIZE: Option<usize> = Some(12);
    fn encoded_len(&self) -> usize {
        12
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.entity.encode(w)?;
        self.x.encode(w)?;
        self.y.encode(w)
    }
}
impl<'de> Decode<'de> for Move {
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        Ok(Move {
            entity: u32::decode(r)?,
            x: f32::decode(r)?,
            y: f32::decode(r)?,
        })
    }
}
impl Packet for Move {
    const ID: u16 = 0x0001;
}

fn main() -> Result<(), packet_core::Error> {
    let mut wire = Vec::new();
    let mut buf: PacketBuf = PacketBuf::new();
    for seq in 0..5u32 {
        let m = Move {
            entity: seq,
            x: seq as f32 * 1.5,
            y: -(seq as f32),
        };
        let frame = buf.encode(&m, u64::from(seq))?;
        println!("encoded {m:?} -> {} bytes", frame.len());
        wire.extend_from_slice(frame);
    }
    let mut decoder = StreamDecoder::new(FrameConfig::default());
    for chunk in wire.chunks(7) {
        decoder.feed(chunk);
        while let Some(frame) = decoder.next_frame()? {
            let m: Move = frame.decode_packet()?;
            println!(
                "decoded seq {} id {:#06x}: {m:?}",
                frame.sequence(),
                frame.type_id()
            );
        }
    }
    decoder.finish()?;
    Ok(())
}
