//! The demo: a packet server and bot clients on loopback (127.0.0.1), over
//! TCP and UDP, exchanging echo packets for a few seconds.
//!
//! Every bot keeps a window of packets in flight; each packet carries its
//! send time and a sequence number, and every echoed byte is checked. A
//! live line shows progress; the summary gives packets/s, bytes/s, p50 and
//! p99 round-trip latency and errors per transport.
//!
//! ```sh
//! cargo run --release --bin demo                 # 5 s, 16 bots per transport
//! cargo run --release --bin demo -- --help
//! ```

use std::io::{IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use packet_examples::{ECHO, Histogram};
use packet_net::server::tokio::Server;
use packet_net::server::tokio::UdpServer;
use packet_net::server::{Router, ServerConfig};
use packet_net::transport::TransportError;
use packet_net::transport::tokio::{TcpPacketStream, UdpPacketSocket};
use tokio::time::timeout;

/// A loopback packet server with bot clients, over TCP and UDP.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// How long the bots exchange packets, in seconds.
    #[arg(short, long, default_value_t = 5.0)]
    seconds: f64,
    /// Bot clients per transport.
    #[arg(short, long, default_value_t = 16)]
    bots: u32,
    /// Which transports to run.
    #[arg(short, long, value_enum, default_value_t = Which::Both)]
    transport: Which,
    /// Packets each bot keeps in flight.
    #[arg(short, long, default_value_t = 8)]
    window: u32,
    /// Body bytes per packet (at least 16: send time and sequence).
    #[arg(short, long, default_value_t = 64)]
    payload: usize,
    /// Runtime worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// No live progress line.
    #[arg(short, long)]
    quiet: bool,
    /// Plaintext frames even when built with the `crypto` feature (the
    /// default build seals every frame with ChaCha20-Poly1305).
    #[arg(long)]
    plain: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    Tcp,
    Udp,
    Both,
}

/// Live counters of one transport.
#[derive(Default)]
struct Live {
    packets: AtomicU64,
    bytes: AtomicU64,
    errors: AtomicU64,
    lost: AtomicU64,
}

struct Report {
    name: &'static str,
    live: Arc<Live>,
    hist: Histogram,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.payload < 16 || args.payload > 60_000 || args.window == 0 || args.seconds <= 0.0 {
        eprintln!("demo: need --payload in 16..=60000, --window >= 1, --seconds > 0");
        return ExitCode::from(2);
    }
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if args.threads > 0 {
        rt.worker_threads(args.threads);
    }
    let rt = match rt.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("demo: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("demo: no packet made the round trip");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("demo: {e}");
            ExitCode::FAILURE
        }
    }
}

/// An in-process login server (built with `crypto`): it hands each bot a
/// fresh random session token with fresh random keys, and gives the game
/// servers a key provider that hands each token's keys out once. Every
/// session thus has its own keys: sessions never share a nonce under one
/// key, and a recorded session cannot be replayed into a new one.
#[derive(Default)]
struct Login {
    #[cfg(feature = "crypto")]
    table: std::sync::Mutex<
        std::collections::HashMap<
            packet_net::transport::SessionToken,
            packet_core::crypto::ChannelKeys,
        >,
    >,
}

/// One bot's security: a fresh sealed session from the login server
/// (its own token and keys), or plaintext.
#[derive(Debug, Default)]
struct BotSecurity(#[cfg(feature = "crypto")] Option<packet_net::transport::ClientSecurity>);

impl BotSecurity {
    fn is_sealed(&self) -> bool {
        #[cfg(feature = "crypto")]
        return self.0.is_some();
        #[cfg(not(feature = "crypto"))]
        false
    }
}

/// Bytes on the wire for a body of `len` bytes.
fn frame_len_for(sealed: bool, len: usize) -> u64 {
    #[cfg(feature = "crypto")]
    if sealed {
        return packet_core::crypto::sealed_frame_len_for(len) as u64;
    }
    let _ = sealed;
    packet_core::frame::frame_len_for(len) as u64
}

impl Login {
    /// The security of one new bot session: sealed with its own keys when
    /// `sealed`, else plaintext.
    fn issue(&self, sealed: bool) -> Result<BotSecurity, TransportError> {
        #[cfg(feature = "crypto")]
        if sealed {
            use packet_core::crypto::{ChannelKeys, SecretKey};
            use packet_net::transport::SessionToken;
            let mut bytes = [0u8; 16 + 32 + 32];
            getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
            let token = SessionToken(bytes[..16].try_into().expect("16 bytes"));
            let key =
                |at: usize| SecretKey::from_bytes(bytes[at..at + 32].try_into().expect("32 bytes"));
            let keys = || ChannelKeys::new(key(16), key(48));
            self.table
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(token, keys());
            return Ok(BotSecurity(Some(
                packet_net::transport::ClientSecurity::new(token, keys()),
            )));
        }
        let _ = sealed;
        Ok(BotSecurity::default())
    }

    /// The server configuration: sealed sessions with keys from this
    /// login server (each handed out once), or plaintext.
    fn server_config(self: &Arc<Self>, sealed: bool) -> ServerConfig {
        #[cfg(feature = "crypto")]
        if sealed {
            let login = self.clone();
            return ServerConfig::default().sealed(packet_net::transport::ServerSecurity::new(
                move |token| {
                    login
                        .table
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(token)
                },
            ));
        }
        let _ = sealed;
        ServerConfig::default()
    }
}

async fn run(args: Args) -> Result<bool, TransportError> {
    let duration = Duration::from_secs_f64(args.seconds);
    let body_len = args.payload;
    let sealed = cfg!(feature = "crypto") && !args.plain;
    let login = Arc::new(Login::default());
    let frame_len = frame_len_for(sealed, body_len);
    println!(
        "packet demo: server + {} bot(s) per transport on 127.0.0.1, {} B bodies ({} B {} frames), window {}, {:.1} s",
        args.bots,
        body_len,
        frame_len,
        if sealed {
            "sealed ChaCha20-Poly1305"
        } else {
            "plaintext CRC-32"
        },
        args.window,
        args.seconds
    );

    // The TCP server: sessions, dispatch by type id, echo.
    let router = || Router::<()>::new().on_frame(ECHO, |ctx, f| ctx.reply_raw(ECHO, f.body()));
    let config = login.server_config(sealed);
    let tcp_server = Server::bind("127.0.0.1:0", config.clone(), router(), ()).await?;
    let tcp_addr = tcp_server.local_addr();
    // The UDP server: one frame per datagram, a session per peer address
    // (each bot is its own sealed session with its own keys), the same
    // router.
    let udp_server = UdpServer::bind("127.0.0.1:0", config, router(), ()).await?;
    let udp_addr = udp_server.local_addr();

    let stop = Arc::new(AtomicBool::new(false));
    let mut reports = Vec::new();
    let mut bots = tokio::task::JoinSet::new();
    for (name, on) in [
        ("tcp", args.transport != Which::Udp),
        ("udp", args.transport != Which::Tcp),
    ] {
        if !on {
            continue;
        }
        let live = Arc::new(Live::default());
        reports.push(Report {
            name,
            live: live.clone(),
            hist: Histogram::default(),
        });
        let index = reports.len() - 1;
        for bot in 0..args.bots {
            // Each bot logs in for its own session keys.
            let sec = login.issue(sealed)?;
            let (live, stop) = (live.clone(), stop.clone());
            let window = args.window;
            bots.spawn(async move {
                let mut hist = Histogram::default();
                let result = if name == "tcp" {
                    tcp_bot(
                        tcp_addr, sec, bot, window, body_len, &live, &stop, &mut hist,
                    )
                    .await
                } else {
                    udp_bot(
                        udp_addr, sec, bot, window, body_len, &live, &stop, &mut hist,
                    )
                    .await
                };
                if let Err(e) = result {
                    live.errors.fetch_add(1, Ordering::Relaxed);
                    eprintln!("\n{name} bot {bot}: {e}");
                }
                (index, hist)
            });
        }
    }

    // Live progress.
    let start = Instant::now();
    // A live line on a terminal; a line per second in logs.
    let tty = std::io::stderr().is_terminal();
    let tick = if tty { 250 } else { 1000 };
    let mut last = vec![0u64; reports.len()];
    let mut last_t = start;
    while start.elapsed() < duration {
        tokio::time::sleep(
            Duration::from_millis(tick).min(duration.saturating_sub(start.elapsed())),
        )
        .await;
        if args.quiet {
            continue;
        }
        let now = Instant::now();
        let dt = now.duration_since(last_t).as_secs_f64().max(1e-9);
        let mut line = format!(
            "{}[{:4.1}s]",
            if tty { "\r" } else { "" },
            start.elapsed().as_secs_f64()
        );
        for (r, last) in reports.iter().zip(last.iter_mut()) {
            let p = r.live.packets.load(Ordering::Relaxed);
            line += &format!(
                "  {} {:>9} pkt/s {:>7.1} MB/s err {}",
                r.name,
                ((p - *last) as f64 / dt) as u64,
                (p - *last) as f64 * 2.0 * frame_len as f64 / dt / 1e6,
                r.live.errors.load(Ordering::Relaxed)
            );
            *last = p;
        }
        last_t = now;
        if tty {
            eprint!("{line}   ");
            let _ = std::io::stderr().flush();
        } else {
            eprintln!("{line}");
        }
    }
    stop.store(true, Ordering::Relaxed);
    let elapsed = start.elapsed().as_secs_f64();
    if !args.quiet && tty {
        eprintln!();
    }
    while let Some(done) = bots.join_next().await {
        match done {
            Ok((index, hist)) => reports[index].hist.merge(&hist),
            Err(e) => eprintln!("bot task failed: {e}"),
        }
    }
    udp_server.shutdown().await;
    tcp_server.shutdown().await;

    println!();
    println!(
        "{:<5} {:>12} {:>12} {:>10} {:>10} {:>10} {:>7} {:>7}",
        "", "packets", "packets/s", "MB/s", "p50", "p99", "lost", "errors"
    );
    let mut any = false;
    for r in &reports {
        let packets = r.live.packets.load(Ordering::Relaxed);
        let bytes = r.live.bytes.load(Ordering::Relaxed);
        any |= packets > 0;
        println!(
            "{:<5} {:>12} {:>12.0} {:>10.1} {:>10} {:>10} {:>7} {:>7}",
            r.name,
            packets,
            packets as f64 / elapsed,
            bytes as f64 / elapsed / 1e6,
            fmt_ns(r.hist.quantile(0.50)),
            fmt_ns(r.hist.quantile(0.99)),
            r.live.lost.load(Ordering::Relaxed),
            r.live.errors.load(Ordering::Relaxed),
        );
    }
    println!(
        "(packets: round trips; bytes: frame bytes both ways; latency: round trip, {} bots x {} in flight)",
        args.bots, args.window
    );
    Ok(any)
}

fn fmt_ns(ns: u64) -> String {
    if ns >= 1_000_000 {
        format!("{:.2} ms", ns as f64 / 1e6)
    } else {
        format!("{:.1} µs", ns as f64 / 1e3)
    }
}

/// Writes the body of packet `seq`: send time, sequence, then a pattern.
fn fill_body(body: &mut [u8], epoch: Instant, bot: u32, seq: u64) {
    let t = epoch.elapsed().as_nanos() as u64;
    body[..8].copy_from_slice(&t.to_le_bytes());
    body[8..16].copy_from_slice(&seq.to_le_bytes());
    for (i, b) in body[16..].iter_mut().enumerate() {
        *b = pattern(bot, seq, i);
    }
}

fn pattern(bot: u32, seq: u64, i: usize) -> u8 {
    (seq as u8)
        .wrapping_mul(31)
        .wrapping_add(bot as u8)
        .wrapping_add(i as u8)
}

/// Checks an echoed body; returns its round-trip time in ns.
fn check_body(body: &[u8], len: usize, epoch: Instant, bot: u32) -> Option<(u64, u64)> {
    if body.len() != len {
        return None;
    }
    let sent = u64::from_le_bytes(body[..8].try_into().ok()?);
    let seq = u64::from_le_bytes(body[8..16].try_into().ok()?);
    let ok = body[16..]
        .iter()
        .enumerate()
        .all(|(i, &b)| b == pattern(bot, seq, i));
    let now = epoch.elapsed().as_nanos() as u64;
    ok.then(|| (seq, now.saturating_sub(sent)))
}

#[allow(clippy::too_many_arguments)]
async fn tcp_bot(
    addr: SocketAddr,
    sec: BotSecurity,
    bot: u32,
    window: u32,
    len: usize,
    live: &Live,
    stop: &AtomicBool,
    hist: &mut Histogram,
) -> Result<(), TransportError> {
    let epoch = Instant::now();
    let frame_len = frame_len_for(sec.is_sealed(), len);
    let s = TcpPacketStream::connect(addr).await?;
    #[cfg(feature = "crypto")]
    let s = match sec.0 {
        Some(c) => s.sealed(c),
        None => s,
    };
    let mut s = s;
    let mut body = vec![0u8; len];
    let mut seq = 0u64;
    for _ in 0..window {
        fill_body(&mut body, epoch, bot, seq);
        s.queue_raw(ECHO, &body).await?;
        seq += 1;
    }
    s.flush().await?;
    let mut in_flight = window;
    let mut expect = 0u64;
    while in_flight > 0 {
        let frame = timeout(Duration::from_secs(5), s.recv())
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        match check_body(frame.body(), len, epoch, bot) {
            Some((got, rtt)) if got == expect => {
                hist.record(rtt);
                live.packets.fetch_add(1, Ordering::Relaxed);
                live.bytes.fetch_add(2 * frame_len, Ordering::Relaxed);
            }
            _ => {
                live.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        expect += 1;
        in_flight -= 1;
        if !stop.load(Ordering::Relaxed) {
            fill_body(&mut body, epoch, bot, seq);
            s.queue_raw(ECHO, &body).await?;
            seq += 1;
            in_flight += 1;
        }
        // Coalesce: one write for all the replies to frames already here.
        if !s.has_frame() {
            s.flush().await?;
        }
    }
    s.close().await
}

#[allow(clippy::too_many_arguments)]
async fn udp_bot(
    addr: SocketAddr,
    sec: BotSecurity,
    bot: u32,
    window: u32,
    len: usize,
    live: &Live,
    stop: &AtomicBool,
    hist: &mut Histogram,
) -> Result<(), TransportError> {
    let epoch = Instant::now();
    let frame_len = frame_len_for(sec.is_sealed(), len);
    let s = UdpPacketSocket::bind("127.0.0.1:0").await?;
    #[cfg(feature = "crypto")]
    let s = match sec.0 {
        Some(c) => s.sealed(c),
        None => s,
    };
    let mut s = s;
    s.connect(addr).await?;
    let mut body = vec![0u8; len];
    let mut seq = 0u64;
    let mut in_flight = 0u32;
    loop {
        let stopping = stop.load(Ordering::Relaxed);
        while !stopping && in_flight < window {
            fill_body(&mut body, epoch, bot, seq);
            s.send_raw(ECHO, &body).await?;
            seq += 1;
            in_flight += 1;
        }
        if in_flight == 0 {
            return Ok(());
        }
        match timeout(Duration::from_millis(200), s.recv()).await {
            Ok(frame) => {
                let frame = frame?;
                match check_body(frame.body(), len, epoch, bot) {
                    Some((_, rtt)) => {
                        hist.record(rtt);
                        live.packets.fetch_add(1, Ordering::Relaxed);
                        live.bytes.fetch_add(2 * frame_len, Ordering::Relaxed);
                    }
                    None => {
                        live.errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                in_flight -= 1;
            }
            Err(_) => {
                // Datagrams can be lost: count them and refill the window.
                live.lost.fetch_add(u64::from(in_flight), Ordering::Relaxed);
                in_flight = 0;
            }
        }
    }
}
