//! Runnable examples for packet: see `examples/examples/` and the `demo`
//! binary in `src/bin/`.
//!
//! This library holds what the examples share: the chat packets (written
//! by hand against packet-core's traits; `#[derive(Packet)]` generates the
//! same code) and a small latency histogram for the demo.
#![forbid(unsafe_code)]

use packet_core::error::{DecodeError, EncodeError};
use packet_core::{Decode, Encode, Packet, Reader, Writer};

/// Type id of the echo examples' frames (any body is echoed).
pub const ECHO: u16 = 0x0001;

/// Chat: a client asks to join under a name.
#[derive(Debug, Clone, PartialEq)]
pub struct Join<'a> {
    /// Display name (at most 32 bytes).
    pub name: &'a str,
}

/// Chat: a client says something.
#[derive(Debug, Clone, PartialEq)]
pub struct Say<'a> {
    /// What.
    pub text: &'a str,
}

/// Chat: the server relays what someone said (or announces a join or a
/// leave, with `text` empty and `event` set).
#[derive(Debug, Clone, PartialEq)]
pub struct Said<'a> {
    /// Sender's session id.
    pub from: u64,
    /// Sender's name.
    pub name: &'a str,
    /// 0 message, 1 joined, 2 left.
    pub event: u8,
    /// The message.
    pub text: &'a str,
}

/// Longest chat name.
pub const MAX_NAME: usize = 32;
/// Longest chat line.
pub const MAX_TEXT: usize = 500;

fn put_str(s: &str, max: usize, w: &mut Writer<'_>) -> Result<(), EncodeError> {
    packet_core::codec::encode_str::<u16>(s, max, w)
}

fn get_str<'de>(max: usize, r: &mut Reader<'de>) -> Result<&'de str, DecodeError> {
    packet_core::codec::decode_str::<u16>(max, r)
}

impl Encode for Join<'_> {
    const MAX_SIZE: Option<usize> = Some(2 + MAX_NAME);
    fn encoded_len(&self) -> usize {
        2 + self.name.len()
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        put_str(self.name, MAX_NAME, w)
    }
}
impl<'de> Decode<'de> for Join<'de> {
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        Ok(Join {
            name: get_str(MAX_NAME, r)?,
        })
    }
}
impl Packet for Join<'_> {
    const ID: u16 = 0x0101;
}

impl Encode for Say<'_> {
    const MAX_SIZE: Option<usize> = Some(2 + MAX_TEXT);
    fn encoded_len(&self) -> usize {
        2 + self.text.len()
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        put_str(self.text, MAX_TEXT, w)
    }
}
impl<'de> Decode<'de> for Say<'de> {
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        Ok(Say {
            text: get_str(MAX_TEXT, r)?,
        })
    }
}
impl Packet for Say<'_> {
    const ID: u16 = 0x0102;
}

impl Encode for Said<'_> {
    const MAX_SIZE: Option<usize> = Some(8 + 2 + MAX_NAME + 1 + 2 + MAX_TEXT);
    fn encoded_len(&self) -> usize {
        8 + 2 + self.name.len() + 1 + 2 + self.text.len()
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.from.encode(w)?;
        put_str(self.name, MAX_NAME, w)?;
        self.event.encode(w)?;
        put_str(self.text, MAX_TEXT, w)
    }
}
impl<'de> Decode<'de> for Said<'de> {
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        Ok(Said {
            from: u64::decode(r)?,
            name: get_str(MAX_NAME, r)?,
            event: u8::decode(r)?,
            text: get_str(MAX_TEXT, r)?,
        })
    }
}
impl Packet for Said<'_> {
    const ID: u16 = 0x0103;
}

/// A log-linear histogram of durations in nanoseconds (16 buckets per
/// power of two, so about 6% resolution), fixed size, no allocation per
/// sample.
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: vec![0; 64 * 16],
            total: 0,
        }
    }
}

impl Histogram {
    fn index(v: u64) -> usize {
        let v = v.max(1);
        let e = 63 - v.leading_zeros() as usize;
        if e < 4 {
            v as usize
        } else {
            (e - 3) * 16 + ((v >> (e - 4)) & 15) as usize
        }
    }

    fn lower_bound(i: usize) -> u64 {
        if i < 16 {
            return i as u64;
        }
        let e = i / 16 + 3;
        (16 + (i % 16) as u64) << (e - 4)
    }

    /// Records one sample.
    pub fn record(&mut self, nanos: u64) {
        self.counts[Self::index(nanos)] += 1;
        self.total += 1;
    }

    /// Adds another histogram's samples.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
    }

    /// Samples recorded.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Whether no sample was recorded.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The value below which `q` (0..=1) of the samples lie, in ns.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let want = ((self.total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= want {
                return Self::lower_bound(i + 1);
            }
        }
        Self::lower_bound(self.counts.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_are_close() {
        let mut h = Histogram::default();
        for v in 1..=10_000u64 {
            h.record(v * 1000);
        }
        let p50 = h.quantile(0.5) as f64;
        let p99 = h.quantile(0.99) as f64;
        assert!((p50 / 5_000_000.0 - 1.0).abs() < 0.07, "{p50}");
        assert!((p99 / 9_900_000.0 - 1.0).abs() < 0.07, "{p99}");
    }

    #[test]
    fn chat_packets_round_trip() {
        let mut buf: packet_core::PacketBuf = packet_core::PacketBuf::new();
        let said = Said {
            from: 7,
            name: "ana",
            event: 0,
            text: "hi",
        };
        let bytes = buf.encode(&said, 0).unwrap();
        let f = packet_core::frame::decode_frame(bytes, &Default::default()).unwrap();
        assert_eq!(f.decode_packet::<Said<'_>>().unwrap(), said);
    }
}
