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

mod common;

use common::{client_batch, echo_stream};
use packet_net::transport::tokio::{TcpPacketListener, TcpPacketStream};

const WARM_UP: u64 = 4096;

fn main() {
    let (n, window) = packet_benches::probe_args(256);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let l = TcpPacketListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            echo_stream(s).await;
        });
        let mut s = TcpPacketStream::connect(addr).await.unwrap();
        client_batch(&mut s, WARM_UP, window).await;
        client_batch(&mut s, n, window).await;
    });
    println!("{n} echoes");
}
