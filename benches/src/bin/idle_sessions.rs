//! Measures what idle TCP sessions cost a packet-net server: CPU and
//! memory per session, in-process, no timing assertions.
//!
//! Starts a server (blocking or tokio) on loopback, opens N client
//! connections, has each exchange a burst of frames (so the server's
//! buffers grow as they would in play), lets them all fall silent, then
//! samples the process for a while: CPU time from `/proc/self/stat`
//! (percent of one core), resident memory from `/proc/self/status`, and
//! live heap bytes from a counting global allocator. Per-session numbers
//! are the growth over the server alone, divided by N (the idle client
//! ends hold no buffers: plain std sockets).
//!
//! ```sh
//! ulimit -n 20000
//! cargo run --release -p packet-benches --features measure --bin idle_sessions -- blocking 1000 10
//! cargo run --release -p packet-benches --features measure --bin idle_sessions -- tokio 1000 10
//! # arguments: server kind, sessions, seconds sampled, frames per burst (8)
//! ```
//!
//! Linux only (`/proc`). The idle timeout is raised above the sampling
//! window so the sessions stay open while measured.

use std::alloc::System;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use packet_net::server::{Router, ServerConfig};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Frames per client in its burst (default; the 4th argument), and their
/// body size.
const BURST: usize = 8;
const BODY: usize = 1000;

fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    let f: Vec<&str> = after.split(' ').collect();
    f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0)
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn heap_bytes() -> i64 {
    let s = GLOBAL.stats();
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

/// Opens `n` clients, each exchanging a burst of echoes, then idle.
fn open_clients(addr: SocketAddr, n: usize, burst_len: usize) -> Vec<TcpStream> {
    let mut frame = vec![0u8; packet_core::frame::frame_len_for(BODY)];
    let len = packet_core::frame::encode_raw(1, 0, &[7; BODY], &mut frame).expect("frame");
    let burst: Vec<u8> = frame[..len].repeat(burst_len);
    let mut back = vec![0u8; burst.len()];
    (0..n)
        .map(|_| {
            let mut s = TcpStream::connect(addr).expect("connect (raise ulimit -n?)");
            s.write_all(&burst).expect("burst");
            s.read_exact(&mut back).expect("echo");
            s
        })
        .collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "blocking".into());
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let secs: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let burst: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(BURST);
    let config = ServerConfig::default()
        .with_max_sessions(n + 16)
        .with_idle_timeout(Some(Duration::from_secs(secs + 60)));
    let router = || Router::<()>::new().on_frame(1, |ctx, f| ctx.reply_raw(1, f.body()));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    enum Handle {
        Blocking(packet_net::server::blocking::ServerHandle<()>),
        Tokio(packet_net::server::tokio::ServerHandle<()>),
    }
    let handle = match kind.as_str() {
        "blocking" => Handle::Blocking(
            packet_net::server::blocking::Server::bind("127.0.0.1:0", config, router(), ())
                .expect("bind"),
        ),
        "tokio" => Handle::Tokio(
            rt.block_on(packet_net::server::tokio::Server::bind(
                "127.0.0.1:0",
                config,
                router(),
                (),
            ))
            .expect("bind"),
        ),
        other => panic!("server kind `{other}`: blocking or tokio"),
    };
    let (addr, accepted): (SocketAddr, Box<dyn Fn() -> u64>) = match &handle {
        Handle::Blocking(h) => (h.local_addr(), Box::new(|| h.stats().accepted)),
        Handle::Tokio(h) => (h.local_addr(), Box::new(|| h.stats().accepted)),
    };
    // Warm the server (first allocations of its maps and threads).
    drop(open_clients(addr, 4, burst));
    std::thread::sleep(Duration::from_millis(500));
    let (rss0, heap0) = (rss_kib(), heap_bytes());
    let clients = open_clients(addr, n, burst);
    while accepted() < n as u64 + 4 {
        std::thread::sleep(Duration::from_millis(10));
    }
    // Past the 1 s quiet period after which buffers are released.
    std::thread::sleep(Duration::from_secs(2));
    let start = Instant::now();
    let ticks0 = cpu_ticks();
    let mut rss_max = 0;
    while start.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_millis(250));
        rss_max = rss_max.max(rss_kib());
    }
    let ticks = cpu_ticks() - ticks0;
    let wall = start.elapsed().as_secs_f64();
    let (rss1, heap1) = (rss_kib(), heap_bytes());
    let cpu = ticks as f64 / 100.0 / wall * 100.0;
    println!(
        "{kind}: {n} idle sessions (after a burst of {burst} x {BODY} B echoes each), sampled {wall:.1} s"
    );
    println!("  CPU: {ticks} ticks = {cpu:.2} % of one core");
    println!(
        "  RSS: {rss0} KiB before, {rss1} KiB idle (max {rss_max}): {:.0} B per session",
        (rss1 as f64 - rss0 as f64) * 1024.0 / n as f64
    );
    println!(
        "  heap (live bytes): {heap0} before, {heap1} idle: {:.0} B per session",
        (heap1 - heap0) as f64 / n as f64
    );
    drop(clients);
}
