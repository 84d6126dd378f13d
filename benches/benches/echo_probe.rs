//! A deterministic probe of the tokio `TcpPacketStream` echo's CPU cost,
//! for callgrind (instructions per echo; no hardware counters needed):
//! the `transport` bench's stream workload (64-byte `Ping`s, 256 in
//! flight, both ends flushing only when nothing more is buffered) on a
//! current-thread runtime over loopback, `N` echoes after a warm-up.
//! Run it twice and divide the difference, so setup and warm-up cancel:
//!
//! ```sh
//! cargo bench -p packet-benches --bench echo_probe --no-run
//! P=$(ls -t target/release/deps/echo_probe-* | grep -v '\.d$' | head -1)
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.4k $P 4096
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.36k $P 36864
//! # instructions per echo = (Ir(36864) - Ir(4096)) / 32768
//! ```
//!
//! `WINDOW=1` in the environment makes it one packet in flight (the round
//! trip). Not a timing: it prints nothing but the count it echoed.

use packet_core::error::{DecodeError, EncodeError};
use packet_core::{Decode, Encode, Packet, Reader, Writer};
use packet_net::transport::tokio::{TcpPacketListener, TcpPacketStream};

const PAYLOAD: usize = 56;
const WARM_UP: u64 = 4096;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Ping {
    seq: u64,
    payload: [u8; PAYLOAD],
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

fn ping(seq: u64) -> Ping {
    Ping {
        seq,
        payload: [seq as u8; PAYLOAD],
    }
}

async fn echo_server(listener: TcpPacketListener) {
    let (mut s, _) = listener.accept().await.unwrap();
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

async fn client(s: &mut TcpPacketStream, n: u64, window: u64) {
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

fn main() {
    // `cargo bench` passes `--bench`; a count is the first numeric argument.
    let n: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(4096);
    let window: u64 = std::env::var("WINDOW")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(256);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let l = TcpPacketListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(echo_server(l));
        let mut s = TcpPacketStream::connect(addr).await.unwrap();
        client(&mut s, WARM_UP, window).await;
        client(&mut s, n, window).await;
    });
    println!("{n} echoes");
}
