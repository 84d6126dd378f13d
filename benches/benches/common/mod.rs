//! The TCP echo workload shared by the `transport` bench and the
//! `echo_probe` callgrind probe, so both measure the very same code: the
//! 64-byte `Ping`, the echo loop of one server-side stream and the client
//! that keeps a window of packets in flight. Both ends flush only when no
//! more frames are already buffered.

use packet_core::error::{DecodeError, EncodeError};
use packet_core::{Decode, Encode, Packet, Reader, Writer};
use packet_net::transport::tokio::TcpPacketStream;

/// Body bytes after the 8-byte sequence: a 64-byte body.
pub const PAYLOAD: usize = 56;

/// The packet: a sequence number and 56 bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ping {
    pub seq: u64,
    pub payload: [u8; PAYLOAD],
}

impl Encode for Ping {
    const MAX_SIZE: Option<usize> = Some(8 + PAYLOAD);
    fn encoded_len(&self) -> usize {
        8 + PAYLOAD
    }
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.seq.encode(w)?;
        w.put_array(self.payload)
    }
}
impl<'de> Decode<'de> for Ping {
    fn decode(r: &mut Reader<'de>) -> Result<Self, DecodeError> {
        Ok(Ping {
            seq: u64::decode(r)?,
            payload: r.take_array()?,
        })
    }
}
impl Packet for Ping {
    const ID: u16 = 1;
}
/// So `Router::on::<Ping>` can name it (derived packets get this).
impl packet_core::family::PacketFamily for Ping {
    type At<'de> = Ping;
}

/// The `seq`-th packet a client sends.
pub fn ping(seq: u64) -> Ping {
    Ping {
        seq,
        payload: [seq as u8; PAYLOAD],
    }
}

/// Serve one accepted stream: decode every `Ping` and echo it, until the
/// peer goes away.
pub async fn echo_stream(mut s: TcpPacketStream) {
    loop {
        let r = s
            .recv_with(|f, out| {
                let p: Ping = f.decode_packet()?;
                out.queue(&p)
            })
            .await;
        match r {
            Ok(Ok(())) => {}
            _ => return,
        }
        if !s.has_frame() && s.flush().await.is_err() {
            return;
        }
    }
}

/// Echo `n` packets through `s`, keeping `window` of them in flight, and
/// check every reply's sequence.
pub async fn client_batch(s: &mut TcpPacketStream, n: u64, window: u64) {
    let mut sent = 0;
    while sent < window.min(n) {
        s.queue(&ping(sent)).await.unwrap();
        sent += 1;
    }
    s.flush().await.unwrap();
    for expect in 0..n {
        let p: Ping = s.recv().await.unwrap().decode_packet().unwrap();
        assert_eq!(p.seq, expect);
        if sent < n {
            s.queue(&ping(sent)).await.unwrap();
            sent += 1;
        }
        if !s.has_frame() {
            s.flush().await.unwrap();
        }
    }
}
