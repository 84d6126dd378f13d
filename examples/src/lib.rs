//! Runnable examples for packet: see `examples/examples/` and the `demo`
//! binary in `src/bin/`.
//!
//! This library holds what the examples share: the chat packets
//! (`#[derive(Packet)]`) and a small latency histogram for the demo.
#![forbid(unsafe_code)]

use packet_net::Packet;

/// Type id of the echo examples' frames (any body is echoed).
pub const ECHO: u16 = 0x0001;

/// Longest chat name.
pub const MAX_NAME: usize = 32;
/// Longest chat line.
pub const MAX_TEXT: usize = 500;

/// Chat: a client asks to join under a name.
#[derive(Packet, Debug, Clone, PartialEq)]
#[packet(id = 0x0101)]
pub struct Join<'a> {
    /// Display name.
    #[packet(max_len = 32)]
    pub name: &'a str,
}

/// Chat: a client says something.
#[derive(Packet, Debug, Clone, PartialEq)]
#[packet(id = 0x0102)]
pub struct Say<'a> {
    /// What.
    #[packet(max_len = 500)]
    pub text: &'a str,
}

/// Chat: the server relays what someone said (or announces a join or a
/// leave, with `text` empty and `event` set).
#[derive(Packet, Debug, Clone, PartialEq)]
#[packet(id = 0x0103)]
pub struct Said<'a> {
    /// Sender's session id.
    pub from: u64,
    /// Sender's name.
    #[packet(max_len = 32)]
    pub name: &'a str,
    /// 0 message, 1 joined, 2 left.
    pub event: u8,
    /// The message.
    #[packet(max_len = 500)]
    pub text: &'a str,
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
        let mut buf: packet_net::PacketBuf = packet_net::PacketBuf::new();
        let said = Said {
            from: 7,
            name: "ana",
            event: 0,
            text: "hi",
        };
        let bytes = buf.encode(&said, 0).unwrap();
        let f = packet_net::frame::decode_frame(bytes, &Default::default()).unwrap();
        assert_eq!(f.decode_packet::<Said<'_>>().unwrap(), said);
    }
}

/// The example game of record: login, sealed TCP chat, sealed UDP moves,
/// a fixed-tick snapshot broadcast, bots (`cargo run --release --bin game`).
#[cfg(feature = "crypto")]
pub mod game;
