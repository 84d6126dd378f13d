//! A deterministic probe of the tokio `UdpServer` echo's CPU cost, for
//! callgrind (instructions per echo; no hardware counters needed): the
//! `udp_throughput` workload (an echo router, a client keeping `WINDOW`
//! 64-byte frames in flight, default 32) with server and client on one
//! current-thread runtime over loopback, `N` echoes after a warm-up. Run
//! it twice and divide the difference, so setup and warm-up cancel:
//!
//! ```sh
//! cargo bench -p packet-benches --bench udp_echo_probe --no-run
//! P=$(ls -t target/release/deps/udp_echo_probe-* | grep -v '\.d$' | head -1)
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.4k $P 4096
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.36k $P 36864
//! # instructions per echo = (Ir(36864) - Ir(4096)) / 32768
//! ```
//!
//! Not a timing: it prints nothing but the count it echoed.

use packet_net::frame;
use packet_net::server::tokio::UdpServer;
use packet_net::server::{Router, ServerConfig};

const BODY: usize = 64;
const WARM_UP: u64 = 4096;

async fn client(sock: &tokio::net::UdpSocket, wire: &[u8], n: u64, window: u64) {
    let mut buf = [0u8; 2048];
    let mut sent = 0;
    while sent < window.min(n) {
        sock.send(wire).await.unwrap();
        sent += 1;
    }
    for _ in 0..n {
        let got = sock.recv(&mut buf).await.unwrap();
        assert_eq!(got, wire.len());
        if sent < n {
            sock.send(wire).await.unwrap();
            sent += 1;
        }
    }
}

fn main() {
    let (n, window) = packet_benches::probe_args(32);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let router = Router::<()>::new().on_frame(1, |ctx, f| ctx.reply_raw(1, f.body()));
        let server = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), router, ())
            .await
            .unwrap();
        let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        sock.connect(server.local_addr()).await.unwrap();
        let mut wire = vec![0u8; frame::frame_len_for(BODY)];
        let len = frame::encode_raw(1, 0, &[7u8; BODY], &mut wire).unwrap();
        wire.truncate(len);
        client(&sock, &wire, WARM_UP, window).await;
        client(&sock, &wire, n, window).await;
        assert_eq!(server.dropped(), 0);
    });
    println!("{n} echoes");
}
