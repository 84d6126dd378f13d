//! Measures the UDP session servers' echo throughput on loopback: how many
//! datagrams per second a blocking and a tokio `UdpServer` receive,
//! dispatch and answer. No timing assertions; numbers only.
//!
//! Starts one server (blocking or tokio, plaintext, an echo router), then
//! `clients` threads, each a plain std UDP socket (its own session)
//! keeping `window` pre-encoded frames in flight: it sends a frame for
//! every echo it gets back (and the whole window again after a 50 ms
//! silence, since UDP may drop). Prints echoes per second over the
//! measured seconds, and the server's dropped count.
//!
//! ```sh
//! cargo run --release -p packet-benches --features measure --bin udp_throughput -- blocking 4 32 5
//! cargo run --release -p packet-benches --features measure --bin udp_throughput -- tokio 4 32 5
//! # arguments: server kind, clients, window per client, seconds, body bytes (64)
//! ```

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use packet_net::frame;
use packet_net::server::{Router, ServerConfig};

fn client(server: SocketAddr, window: usize, body: usize, stop: &AtomicBool, echoes: &AtomicU64) {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.connect(server).expect("connect");
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let mut wire = vec![0u8; frame::frame_len_for(body)];
    let n = frame::encode_raw(1, 0, &vec![7u8; body], &mut wire).expect("encode");
    wire.truncate(n);
    let mut buf = vec![0u8; 2048];
    let burst = |sock: &UdpSocket| {
        for _ in 0..window {
            let _ = sock.send(&wire);
        }
    };
    burst(&sock);
    while !stop.load(Ordering::Relaxed) {
        match sock.recv(&mut buf) {
            Ok(_) => {
                echoes.fetch_add(1, Ordering::Relaxed);
                let _ = sock.send(&wire);
            }
            Err(_) => burst(&sock),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let kind = args.first().map_or("blocking", String::as_str).to_owned();
    let num = |i: usize, d: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let (clients, window, seconds, body) = (num(1, 4), num(2, 32), num(3, 5), num(4, 64));
    let router = Router::<()>::new().on_frame(1, |ctx, f| ctx.reply_raw(1, f.body()));
    let config = ServerConfig::default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    enum Server {
        Blocking(packet_net::server::blocking::UdpServerHandle<()>),
        Tokio(packet_net::server::tokio::UdpServerHandle<()>),
    }
    let (server, addr) = match kind.as_str() {
        "tokio" => {
            let s = rt
                .block_on(packet_net::server::tokio::UdpServer::bind(
                    "127.0.0.1:0",
                    config,
                    router,
                    (),
                ))
                .expect("bind");
            let a = s.local_addr();
            (Server::Tokio(s), a)
        }
        _ => {
            let s =
                packet_net::server::blocking::UdpServer::bind("127.0.0.1:0", config, router, ())
                    .expect("bind");
            let a = s.local_addr();
            (Server::Blocking(s), a)
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let echoes = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (stop, echoes) = (stop.clone(), echoes.clone());
            std::thread::spawn(move || client(addr, window as usize, body as usize, &stop, &echoes))
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1)); // warm-up
    let (start, before) = (Instant::now(), echoes.load(Ordering::Relaxed));
    std::thread::sleep(Duration::from_secs(seconds));
    let (elapsed, after) = (start.elapsed(), echoes.load(Ordering::Relaxed));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let dropped = match &server {
        Server::Blocking(s) => s.dropped(),
        Server::Tokio(s) => s.dropped(),
    };
    let rate = (after - before) as f64 / elapsed.as_secs_f64();
    println!(
        "{kind}: {clients} clients x window {window}, {body}-byte bodies: {rate:.0} echoes/s over {:.1} s (dropped by the server: {dropped})",
        elapsed.as_secs_f64()
    );
    match server {
        Server::Blocking(s) => s.shutdown(),
        Server::Tokio(s) => rt.block_on(s.shutdown()),
    }
}
