//! The game-tick benchmark: what a game server's networking costs in CPU
//! per delivered packet, packet-net against the stack a team would
//! otherwise hand-roll (tokio-util `Framed` + `LengthDelimitedCodec` +
//! bincode 2 over TCP, a tokio `UdpSocket` + bincode 2 over UDP). No
//! timing assertions: it prints what it measured.
//!
//! The workload, the same for every stack: N sessions; a game loop on
//! the server broadcasts a 300-byte world snapshot to every session at
//! 30 Hz, and every client sends 30 inputs (26 bytes) a second, spread
//! evenly over the tick. The server decodes every input and folds it into
//! the game state (a counter and a checksum); every client decodes every
//! snapshot. Each stack uses its own natural broadcast: packet-net's
//! `Sessions::broadcast` (encodes into each session's outbox), the
//! baseline a `tokio::sync::broadcast` of the bincode bytes encoded once
//! per tick (TCP) or a `send_to` per known peer (UDP).
//!
//! `--wake-interval-ms MS` adds two stacks, `packet-blocking-paced` and
//! `packet-tokio-paced`: the blocking and the tokio servers with
//! `ServerConfig::with_wake_interval` (each server thread waits on
//! readiness at most once per interval; a paced tokio server serves
//! through the blocking server's paced loops on threads inside its
//! runtime; the baseline has no such option), beside the default three
//! in every round.
//!
//! The server runs in a child process (this binary, `serve`), the
//! clients in this one, so the server's CPU is measured alone: the sum
//! over the server process's threads of their run time
//! (`/proc/self/task/*/schedstat`, nanoseconds), cross-checked with the
//! process's `/proc/self/stat` ticks (each run line also gives their
//! share spent in the kernel), over a window that starts after
//! every client is connected and traffic flows. Delivered packets in the
//! window = inputs the server decoded + snapshots the clients decoded;
//! the tool also prints what was sent, so datagram losses show.
//!
//! The verdict: each stack's median CPU per packet over the rounds
//! against the baseline's (`ratio`), every round's own ratio, and
//! their median (`paired`): a round runs every stack back to back, so
//! its two runs see about the same load on the machine, where the
//! medians may take a stack's runs from a quiet minute and the
//! baseline's from a busy one (the baseline's CPU per packet moves
//! most with load: a busy machine delays its wake-ups, and each then
//! handles more datagrams). Each round's header prints the load
//! (`/proc/loadavg`, one minute). No CPU pinning: on a shared machine
//! a pinned run would wait for whatever else runs on its CPU.
//!
//! ```sh
//! cargo run --release -p packet-benches --features game-tick --bin game_tick -- \
//!     --sessions 100,1000 --transport tcp,udp --seconds 5 --repeat 3
//! cargo run --release -p packet-benches --features game-tick --bin game_tick -- --help
//! ```
//!
//! Linux only (`/proc`). 1,000 TCP sessions take 1,000 descriptors in
//! each process: raise `ulimit -n` if it is 1024.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use packet_core::Packet;
use packet_core::frame::{FrameConfig, decode_frame, encode_packet};
use packet_net::server::{Router, ServerConfig, Sessions};
use packet_net::transport::tokio::PacketCodec;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio_util::codec::{Decoder, Encoder, Framed, LengthDelimitedCodec};

/// The tick: 30 Hz.
const TICK: Duration = Duration::from_micros(33_333);
/// Clients start connecting this far apart.
const CONNECT_EVERY: Duration = Duration::from_millis(1);

/// One replicated entity (36 bytes on the wire in both codecs).
#[derive(Packet, bincode::Encode, bincode::Decode, Debug, Clone, Copy, Default, PartialEq)]
struct Ent {
    id: u32,
    pos: [f32; 3],
    vel: [f32; 3],
    yaw: f32,
    health: u16,
    kind: u8,
    flags: u8,
}

/// The world snapshot: 8 + 4 + 8 × 36 = 300 bytes of body in both codecs.
#[derive(Packet, bincode::Encode, bincode::Decode, Debug, Clone, Copy, Default, PartialEq)]
#[packet(id = 0x0202)]
struct Snapshot {
    tick: u64,
    ack: u32,
    entities: [Ent; 8],
}

/// A player's input: 26 bytes of body in both codecs.
#[derive(Packet, bincode::Encode, bincode::Decode, Debug, Clone, Copy, Default, PartialEq)]
#[packet(id = 0x0201)]
struct Input {
    seq: u32,
    tick: u32,
    move_dir: [f32; 2],
    aim: [f32; 2],
    buttons: u16,
}

/// bincode 2 with fixed-size integers, so its bodies are the same size
/// as packet's.
fn bconfig() -> impl bincode::config::Config {
    bincode::config::standard().with_fixed_int_encoding()
}

fn snapshot(tick: u64) -> Snapshot {
    let mut s = Snapshot {
        tick,
        ack: tick as u32,
        ..Default::default()
    };
    for (i, e) in s.entities.iter_mut().enumerate() {
        let t = tick as f32 * 0.033 + i as f32;
        *e = Ent {
            id: i as u32 + 1,
            pos: [t.sin() * 10.0, 0.0, t.cos() * 10.0],
            vel: [t.cos(), 0.0, -t.sin()],
            yaw: t,
            health: 100,
            kind: 1,
            flags: (tick & 0xff) as u8,
        };
    }
    s
}

fn input(seq: u32) -> Input {
    Input {
        seq,
        tick: seq,
        move_dir: [1.0, 0.0],
        aim: [0.5, -0.5],
        buttons: (seq & 0xffff) as u16,
    }
}

// ---- what is compared -------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stack {
    /// packet-net's tokio servers (`server::tokio::{Server, UdpServer}`).
    PacketTokio,
    /// packet-net's blocking servers (`server::blocking::{Server, UdpServer}`).
    PacketBlocking,
    /// tokio-util `Framed` + `LengthDelimitedCodec` + bincode 2 (TCP), a
    /// tokio `UdpSocket` + bincode 2 (UDP).
    Baseline,
    /// packet-blocking with `ServerConfig::with_wake_interval`
    /// (`--wake-interval-ms`).
    PacketBlockingPaced,
    /// packet-tokio with `ServerConfig::with_wake_interval`.
    PacketTokioPaced,
}

impl Stack {
    const ALL: [Stack; 5] = [
        Stack::PacketTokio,
        Stack::PacketBlocking,
        Stack::Baseline,
        Stack::PacketBlockingPaced,
        Stack::PacketTokioPaced,
    ];

    fn name(self) -> &'static str {
        match self {
            Stack::PacketTokio => "packet-tokio",
            Stack::PacketBlocking => "packet-blocking",
            Stack::Baseline => "baseline",
            Stack::PacketBlockingPaced => "packet-blocking-paced",
            Stack::PacketTokioPaced => "packet-tokio-paced",
        }
    }

    fn parse(s: &str) -> Result<Self, String> {
        Stack::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                format!(
                    "stack `{s}`: packet-tokio, packet-blocking, baseline, \
                 packet-blocking-paced or packet-tokio-paced"
                )
            })
    }

    /// The server this stack runs, and whether it is paced.
    fn server(self) -> (Stack, bool) {
        match self {
            Stack::PacketBlockingPaced => (Stack::PacketBlocking, true),
            Stack::PacketTokioPaced => (Stack::PacketTokio, true),
            s => (s, false),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Tcp,
    Udp,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }

    fn parse(s: &str) -> Result<Self, String> {
        match s {
            "tcp" => Ok(Transport::Tcp),
            "udp" => Ok(Transport::Udp),
            _ => Err(format!("transport `{s}`: tcp or udp")),
        }
    }
}

// ---- the server process -----------------------------------------------------

/// The game state every server folds inputs into, and what it sent.
#[derive(Debug, Default)]
struct Game {
    inputs: AtomicU64,
    checksum: AtomicU64,
    snapshots: AtomicU64,
}

impl Game {
    fn apply(&self, input: &Input) {
        self.inputs.fetch_add(1, Relaxed);
        self.checksum
            .fetch_add(u64::from(input.seq ^ u32::from(input.buttons)), Relaxed);
    }
}

/// CPU time of this process: the sum of its threads' run time in ns
/// (`schedstat`), its user + system clock ticks and its system clock
/// ticks (`stat`).
fn cpu_now() -> (u64, u64, u64) {
    let mut ns = 0;
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for task in dir.flatten() {
            if let Ok(s) = std::fs::read_to_string(task.path().join("schedstat")) {
                ns += s
                    .split_whitespace()
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let (ticks, system) = stat.rfind(')').map_or((0, 0), |at| {
        let f: Vec<&str> = stat[at + 2..].split(' ').collect();
        let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        (n(11) + n(12), n(12))
    });
    (ns, ticks, system)
}

/// Datagrams the kernel dropped for the UDP socket bound to `port`
/// (its receive buffer was full): the `drops` column of `/proc/net/udp`.
fn udp_drops(port: u16) -> u64 {
    let table = std::fs::read_to_string("/proc/net/udp").unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let local_port = f.get(1)?.rsplit(':').next()?;
            (u16::from_str_radix(local_port, 16).ok()? == port)
                .then(|| f.last()?.parse::<u64>().ok())?
        })
        .sum()
}

/// Runs one server until told to quit on stdin; reports on `start` and
/// `stop`. Never returns.
fn serve(stack: Stack, transport: Transport, sessions: usize, wake_interval: Duration) -> ! {
    let game = Arc::new(Game::default());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (stack, paced) = stack.server();
    let mut config = ServerConfig::default()
        .with_max_sessions(sessions + 16)
        .with_idle_timeout(Some(Duration::from_secs(600)));
    if paced {
        config = config.with_wake_interval(wake_interval);
    }
    let router = || {
        Router::<Arc<Game>>::new().on::<Input>(|ctx, input| {
            ctx.state().apply(&input);
            Ok(())
        })
    };
    // Datagrams the server dropped; holds its handle (dropping a handle
    // stops the server).
    let mut dropped: Box<dyn Fn() -> u64> = Box::new(|| 0);
    let addr = match (stack, transport) {
        (Stack::PacketTokio, _) => {
            let h = rt
                .block_on(async {
                    match transport {
                        Transport::Tcp => {
                            packet_net::server::tokio::Server::bind(
                                "127.0.0.1:0",
                                config,
                                router(),
                                game.clone(),
                            )
                            .await
                        }
                        Transport::Udp => {
                            packet_net::server::tokio::UdpServer::bind(
                                "127.0.0.1:0",
                                config,
                                router(),
                                game.clone(),
                            )
                            .await
                        }
                    }
                })
                .expect("bind");
            let sessions = h.sessions().clone();
            let g = game.clone();
            rt.spawn(async move {
                let mut tick = tokio::time::interval(TICK);
                for t in 0.. {
                    tick.tick().await;
                    packet_broadcast(&sessions, &g, t);
                }
            });
            let addr = h.local_addr();
            dropped = hold(h, |h| h.dropped());
            addr
        }
        (Stack::PacketBlocking, _) => {
            let h = match transport {
                Transport::Tcp => packet_net::server::blocking::Server::bind(
                    "127.0.0.1:0",
                    config,
                    router(),
                    game.clone(),
                ),
                Transport::Udp => packet_net::server::blocking::UdpServer::bind(
                    "127.0.0.1:0",
                    config,
                    router(),
                    game.clone(),
                ),
            }
            .expect("bind");
            let sessions = h.sessions().clone();
            let g = game.clone();
            std::thread::spawn(move || {
                let mut next = Instant::now();
                for t in 0.. {
                    next += TICK;
                    std::thread::sleep(next.saturating_duration_since(Instant::now()));
                    packet_broadcast(&sessions, &g, t);
                }
            });
            let addr = h.local_addr();
            dropped = hold(h, |h| h.dropped());
            addr
        }
        (Stack::Baseline, Transport::Tcp) => rt.block_on(baseline::tcp_server(game.clone())),
        (Stack::Baseline, Transport::Udp) => rt.block_on(baseline::udp_server(game.clone())),
        (Stack::PacketBlockingPaced | Stack::PacketTokioPaced, _) => unreachable!("unpaced above"),
    };
    println!("ADDR {addr}");
    let mut at_start = ((0, 0, 0), 0, 0, 0, 0);
    let now = |g: &Game, dropped: &dyn Fn() -> u64| {
        (
            cpu_now(),
            g.inputs.load(Relaxed),
            g.snapshots.load(Relaxed),
            dropped(),
            match transport {
                Transport::Udp => udp_drops(addr.port()),
                Transport::Tcp => 0,
            },
        )
    };
    for line in std::io::stdin().lock().lines() {
        match line.as_deref().unwrap_or("quit").trim() {
            "start" => {
                at_start = now(&game, &*dropped);
                println!("OK");
            }
            "stop" => {
                let end = now(&game, &*dropped);
                println!(
                    "CPU_NS {} TICKS {} SYSTEM_TICKS {} INPUTS {} SNAPSHOTS {} DROPPED {} \
                     RCVBUF_DROPS {}",
                    end.0.0 - at_start.0.0,
                    end.0.1 - at_start.0.1,
                    end.0.2 - at_start.0.2,
                    end.1 - at_start.1,
                    end.2 - at_start.2,
                    end.3 - at_start.3,
                    end.4 - at_start.4,
                );
            }
            _ => break,
        }
        let _ = std::io::stdout().flush();
    }
    std::process::exit(0)
}

/// Holds a server handle for the life of the process; returns its
/// dropped-datagram counter.
fn hold<H: 'static>(handle: H, dropped: fn(&H) -> u64) -> Box<dyn Fn() -> u64> {
    Box::new(move || dropped(&handle))
}

/// One tick of packet-net's game loop: the snapshot to every session.
fn packet_broadcast(sessions: &Sessions, game: &Game, tick: u64) {
    let report = sessions.broadcast(&snapshot(tick), None);
    game.snapshots.fetch_add(report.delivered as u64, Relaxed);
}

/// The hand-rolled stack: what a team writes with tokio-util and bincode.
mod baseline {
    use super::*;

    /// TCP: a task per connection with its `Framed`; the game loop
    /// encodes the snapshot once a tick and hands the bytes to every
    /// connection through a `tokio::sync::broadcast` channel.
    pub async fn tcp_server(game: Arc<Game>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, _) = tokio::sync::broadcast::channel::<Bytes>(16);
        let ticker = tx.clone();
        let g = game.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(TICK);
            for t in 0.. {
                tick.tick().await;
                let bytes = bincode::encode_to_vec(snapshot(t), bconfig()).expect("encode");
                let receivers = ticker.send(Bytes::from(bytes)).unwrap_or(0);
                g.snapshots.fetch_add(receivers as u64, Relaxed);
            }
        });
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(connection(stream, tx.subscribe(), game.clone()));
            }
        });
        addr
    }

    async fn connection(
        stream: TcpStream,
        mut snapshots: tokio::sync::broadcast::Receiver<Bytes>,
        game: Arc<Game>,
    ) {
        use tokio::sync::broadcast::error::RecvError;
        let mut framed = Framed::new(stream, LengthDelimitedCodec::new());
        loop {
            tokio::select! {
                frame = framed.next() => {
                    let Some(Ok(frame)) = frame else { return };
                    match bincode::decode_from_slice::<Input, _>(&frame, bconfig()) {
                        Ok((input, _)) => game.apply(&input),
                        Err(_) => return,
                    }
                }
                snap = snapshots.recv() => match snap {
                    Ok(bytes) => {
                        if framed.send(bytes).await.is_err() {
                            return;
                        }
                    }
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return,
                },
            }
        }
    }

    /// UDP: one socket; a receive task decodes inputs and keeps the peer
    /// table; the game loop encodes the snapshot once a tick and sends it
    /// to every known peer.
    pub async fn udp_server(game: Arc<Game>) -> SocketAddr {
        let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("bind"));
        let addr = socket.local_addr().expect("addr");
        // Each peer's last input sequence: the per-player state.
        let peers = Arc::new(Mutex::new(HashMap::<SocketAddr, u32>::new()));
        let (rx_socket, rx_peers, g) = (socket.clone(), peers.clone(), game.clone());
        tokio::spawn(async move {
            let mut buf = vec![0u8; 2048];
            loop {
                let Ok((len, from)) = rx_socket.recv_from(&mut buf).await else {
                    continue;
                };
                if let Ok((input, _)) =
                    bincode::decode_from_slice::<Input, _>(&buf[..len], bconfig())
                {
                    rx_peers.lock().unwrap().insert(from, input.seq);
                    g.apply(&input);
                }
            }
        });
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(TICK);
            let mut to = Vec::new();
            let mut bytes = [0u8; 512];
            for t in 0.. {
                tick.tick().await;
                let len =
                    bincode::encode_into_slice(snapshot(t), &mut bytes, bconfig()).expect("encode");
                to.clear();
                to.extend(peers.lock().unwrap().keys().copied());
                for peer in &to {
                    if socket.send_to(&bytes[..len], peer).await.is_ok() {
                        game.snapshots.fetch_add(1, Relaxed);
                    }
                }
            }
        });
        addr
    }

    /// The codec a team writes on top of `LengthDelimitedCodec`: bincode
    /// bodies in length-prefixed frames (for the clients).
    pub struct BincodeCodec(pub LengthDelimitedCodec);

    impl Encoder<&Input> for BincodeCodec {
        type Error = std::io::Error;

        fn encode(&mut self, input: &Input, dst: &mut BytesMut) -> std::io::Result<()> {
            let bytes = bincode::encode_to_vec(input, bconfig()).map_err(std::io::Error::other)?;
            self.0.encode(Bytes::from(bytes), dst)
        }
    }

    impl Decoder for BincodeCodec {
        type Item = BytesMut;
        type Error = std::io::Error;

        fn decode(&mut self, src: &mut BytesMut) -> std::io::Result<Option<BytesMut>> {
            self.0.decode(src)
        }
    }

    /// Whether `bytes` is a bincode snapshot.
    pub fn is_snapshot(bytes: &[u8]) -> bool {
        bincode::decode_from_slice::<Snapshot, _>(bytes, bconfig()).is_ok()
    }
}

// ---- the clients ------------------------------------------------------------

/// Counters shared by all clients of a run.
#[derive(Debug, Default)]
struct Clients {
    connected: AtomicU64,
    failed: AtomicU64,
    sent: AtomicU64,
    snapshots: AtomicU64,
    bad: AtomicU64,
    /// Why the first client that failed did.
    why: Mutex<Option<String>>,
}

impl Clients {
    fn failed_because(&self, why: &str) {
        self.failed.fetch_add(1, Relaxed);
        self.why
            .lock()
            .unwrap()
            .get_or_insert_with(|| why.to_string());
    }

    fn received(&self, snapshot: bool) {
        match snapshot {
            true => self.snapshots.fetch_add(1, Relaxed),
            false => self.bad.fetch_add(1, Relaxed),
        };
    }
}

/// A TCP client with any tokio-util codec: an input every tick (from
/// `start`), every snapshot checked by `is_snapshot`.
async fn tcp_client<C>(
    addr: SocketAddr,
    start: Instant,
    c: Arc<Clients>,
    codec: C,
    is_snapshot: impl Fn(&<C as Decoder>::Item) -> bool,
) where
    C: for<'a> Encoder<&'a Input> + Decoder,
    for<'a> <C as Encoder<&'a Input>>::Error: std::fmt::Display,
    <C as Decoder>::Error: std::fmt::Display,
{
    let stream = match TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(e) => return c.failed_because(&format!("connect: {e}")),
    };
    let _ = stream.set_nodelay(true);
    c.connected.fetch_add(1, Relaxed);
    let mut framed = Framed::new(stream, codec);
    let mut tick = tokio::time::interval_at(start.into(), TICK);
    for seq in 1.. {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(e) = framed.send(&input(seq)).await {
                    return c.failed_because(&format!("send: {e}"));
                }
                c.sent.fetch_add(1, Relaxed);
            }
            frame = framed.next() => match frame {
                Some(Ok(f)) => c.received(is_snapshot(&f)),
                Some(Err(e)) => return c.failed_because(&format!("receive: {e}")),
                None => return c.failed_because("closed by the server"),
            },
        }
    }
}

/// A UDP client: `encode` writes input `seq` into the buffer and says how
/// long it is, `is_snapshot` checks a received datagram.
async fn udp_client(
    addr: SocketAddr,
    start: Instant,
    c: Arc<Clients>,
    encode: impl Fn(u32, &mut [u8]) -> usize,
    is_snapshot: impl Fn(&[u8]) -> bool,
) {
    let socket = match UdpSocket::bind("127.0.0.1:0").await {
        Ok(s) => s,
        Err(e) => return c.failed_because(&format!("bind: {e}")),
    };
    if let Err(e) = socket.connect(addr).await {
        return c.failed_because(&format!("connect: {e}"));
    }
    c.connected.fetch_add(1, Relaxed);
    let mut tick = tokio::time::interval_at(start.into(), TICK);
    let (mut out, mut buf) = ([0u8; 256], [0u8; 2048]);
    let mut seq = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                seq += 1;
                let len = encode(seq, &mut out);
                if socket.send(&out[..len]).await.is_ok() {
                    c.sent.fetch_add(1, Relaxed);
                }
            }
            got = socket.recv(&mut buf) => {
                if let Ok(len) = got {
                    c.received(is_snapshot(&buf[..len]));
                }
            }
        }
    }
}

/// A client of `stack`'s server: packet-net's `PacketCodec` over TCP and
/// frames in datagrams over UDP (for both packet-net servers), or the
/// baseline's bincode over `LengthDelimitedCodec` and bare datagrams.
async fn client(
    stack: Stack,
    transport: Transport,
    addr: SocketAddr,
    start: Instant,
    c: Arc<Clients>,
) {
    let packet_snapshot = |bytes: &[u8]| {
        decode_frame(bytes, &FrameConfig::default())
            .is_ok_and(|f| f.decode_packet::<Snapshot>().is_ok())
    };
    match (stack, transport) {
        (Stack::Baseline, Transport::Tcp) => {
            let codec = baseline::BincodeCodec(LengthDelimitedCodec::new());
            tcp_client(addr, start, c, codec, |f| baseline::is_snapshot(f)).await
        }
        (Stack::Baseline, Transport::Udp) => {
            let encode = |seq, out: &mut [u8]| {
                bincode::encode_into_slice(input(seq), out, bconfig()).expect("encode")
            };
            udp_client(addr, start, c, encode, baseline::is_snapshot).await
        }
        (_, Transport::Tcp) => {
            let is_snapshot = |f: &packet_net::transport::OwnedFrame<Bytes>| {
                f.as_frame().decode_packet::<Snapshot>().is_ok()
            };
            tcp_client(addr, start, c, PacketCodec::default(), is_snapshot).await
        }
        (_, Transport::Udp) => {
            let encode = |seq, out: &mut [u8]| {
                encode_packet(&input(seq), u64::from(seq), out).expect("encode")
            };
            udp_client(addr, start, c, encode, packet_snapshot).await
        }
    }
}

// ---- the driver -------------------------------------------------------------

/// The server child process and its pipes.
struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Server {
    fn start(
        stack: Stack,
        transport: Transport,
        sessions: usize,
        wake_interval: Duration,
    ) -> (Self, SocketAddr) {
        let mut child = Command::new(std::env::current_exe().expect("own path"))
            .args([
                "serve",
                stack.name(),
                transport.name(),
                &sessions.to_string(),
                &wake_interval.as_secs_f64().to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the server process");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut server = Server {
            child,
            stdin,
            stdout,
        };
        let line = server.line();
        let addr = line
            .strip_prefix("ADDR ")
            .and_then(|a| a.trim().parse().ok())
            .unwrap_or_else(|| panic!("server said {line:?}"));
        (server, addr)
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("server output");
        line
    }

    fn ask(&mut self, command: &str) -> String {
        writeln!(self.stdin, "{command}").expect("server input");
        self.stdin.flush().expect("server input");
        self.line()
    }

    fn quit(mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.wait();
    }
}

/// One measured run.
#[derive(Debug, Clone, Copy)]
struct Run {
    stack: Stack,
    cpu_ns: u64,
    ticks: u64,
    /// Of `ticks`, those spent in the kernel.
    system_ticks: u64,
    secs: f64,
    /// Inputs the clients sent, the server decoded.
    inputs_sent: u64,
    inputs: u64,
    /// Snapshots the server sent (queued), the clients decoded.
    snapshots_sent: u64,
    snapshots: u64,
    /// Bad frames at the clients; datagrams the server dropped.
    bad: u64,
    dropped: u64,
    /// Datagrams the kernel dropped at the server's socket (receive
    /// buffer full).
    rcvbuf_drops: u64,
}

impl Run {
    fn delivered(&self) -> u64 {
        self.inputs + self.snapshots
    }

    /// Server CPU per delivered packet, in microseconds.
    fn us_per_packet(&self) -> f64 {
        self.cpu_ns as f64 / 1e3 / self.delivered().max(1) as f64
    }

    /// Whether the run measured the workload rather than a starved box:
    /// what was delivered in the window is within 3 % of what was sent
    /// in it (more means a backlog from before the window was worked
    /// off; fewer snapshots, or fewer inputs over TCP, means a process
    /// fell behind). Inputs lost over UDP are the server's own result
    /// (its socket overflowed) and do not void a run.
    fn valid(&self, transport: Transport) -> bool {
        let ratio = |got: u64, sent: u64| got as f64 / sent.max(1) as f64;
        let (rin, rout) = (
            ratio(self.inputs, self.inputs_sent),
            ratio(self.snapshots, self.snapshots_sent),
        );
        let near = |r: f64| (0.97..=1.03).contains(&r);
        near(rout)
            && match transport {
                Transport::Tcp => near(rin),
                Transport::Udp => rin <= 1.03,
            }
    }
}

fn run_one(
    rt: &tokio::runtime::Runtime,
    stack: Stack,
    transport: Transport,
    sessions: usize,
    warmup: Duration,
    window: Duration,
    wake_interval: Duration,
) -> Run {
    let (mut server, addr) = Server::start(stack, transport, sessions, wake_interval);
    let clients = Arc::new(Clients::default());
    let mut tasks = tokio::task::JoinSet::new();
    // Clients connect one a millisecond (a burst of 1,000 connects
    // overflows the listen queue of a server starved on a loaded box, and
    // the kernel resets the overflowing connections), then play with
    // their phases spread evenly over the tick, as players' clocks are.
    let now = Instant::now();
    let start = now + CONNECT_EVERY * sessions as u32 + Duration::from_millis(200);
    for i in 0..sessions {
        let connect_at = now + CONNECT_EVERY * i as u32;
        let at = start + TICK.mul_f64(i as f64 / sessions as f64);
        let c = clients.clone();
        let client = async move {
            tokio::time::sleep_until(connect_at.into()).await;
            client(stack, transport, addr, at, c).await
        };
        tasks.spawn_on(client, rt.handle());
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while clients.connected.load(Relaxed) + clients.failed.load(Relaxed) < sessions as u64
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(warmup);
    // Client counters are read right after the server read its own, at
    // both ends of the window.
    assert_eq!(server.ask("start").trim(), "OK");
    let c0 = (clients.sent.load(Relaxed), clients.snapshots.load(Relaxed));
    let t0 = Instant::now();
    std::thread::sleep(window);
    let reply = server.ask("stop");
    let secs = t0.elapsed().as_secs_f64();
    let c1 = (clients.sent.load(Relaxed), clients.snapshots.load(Relaxed));
    let field = |name: &str| -> u64 {
        let mut words = reply.split_whitespace();
        words
            .by_ref()
            .find(|w| *w == name)
            .and_then(|_| words.next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {reply:?}"))
    };
    let run = Run {
        stack,
        cpu_ns: field("CPU_NS"),
        ticks: field("TICKS"),
        system_ticks: field("SYSTEM_TICKS"),
        secs,
        inputs_sent: c1.0 - c0.0,
        inputs: field("INPUTS"),
        snapshots_sent: field("SNAPSHOTS"),
        snapshots: c1.1 - c0.1,
        bad: clients.bad.load(Relaxed),
        dropped: field("DROPPED"),
        rcvbuf_drops: field("RCVBUF_DROPS"),
    };
    let failed = clients.failed.load(Relaxed);
    server.quit();
    rt.block_on(async {
        tasks.shutdown().await;
    });
    if failed > 0 {
        let why = clients.why.lock().unwrap().clone().unwrap_or_default();
        eprintln!("  ({failed} clients failed; the first: {why})");
    }
    run
}

fn print_run(transport: Transport, sessions: usize, r: &Run) {
    println!(
        "{:<21} {} {:>5} | server CPU {:>6.1} ms ({:>5.1} % of a core, {} ticks, \
         {:>3.0} % kernel) | in {}/{} out {}/{} (delivered/sent) | {:>5.2} us/packet{}{}",
        r.stack.name(),
        transport.name(),
        sessions,
        r.cpu_ns as f64 / 1e6,
        r.cpu_ns as f64 / 1e9 / r.secs * 100.0,
        r.ticks,
        r.system_ticks as f64 * 100.0 / r.ticks.max(1) as f64,
        r.inputs,
        r.inputs_sent,
        r.snapshots,
        r.snapshots_sent,
        r.us_per_packet(),
        if r.valid(transport) {
            ""
        } else {
            " [void: delivered and sent differ by over 3 %]"
        },
        if r.bad + r.dropped + r.rcvbuf_drops > 0 {
            format!(
                " (bad {}, server dropped {}, server socket buffer overflowed {})",
                r.bad, r.dropped, r.rcvbuf_drops
            )
        } else {
            String::new()
        }
    );
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

const HELP: &str = "\
game_tick: server CPU per delivered packet, packet-net vs tokio-util Framed + bincode 2

USAGE: game_tick [OPTIONS]

  --sessions LIST   sessions per run, comma-separated        [default: 100,1000]
  --transport LIST  tcp, udp                                 [default: tcp,udp]
  --stack LIST      packet-tokio, packet-blocking, baseline, packet-blocking-paced,
                    packet-tokio-paced
                    [default: the first three; all five with --wake-interval-ms]
  --wake-interval-ms MS  the paced stacks' ServerConfig::with_wake_interval
                    (each server thread waits on readiness at most once per MS;
                    inputs and sends wait up to MS)            [default: 10]
  --seconds S       measured window per run                  [default: 5]
  --warmup S        traffic before the window opens         [default: 1.5]
  --repeat R        rounds (each round runs every stack once) [default: 3]

Each run: the server in a child process (this binary, `serve STACK TRANSPORT N`),
N clients here at 30 inputs/s each, the server broadcasting a 300-byte snapshot
at 30 Hz. Reported: the server process's CPU time over the window divided by the
packets delivered in it (inputs the server decoded + snapshots the clients decoded).";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        let stack = Stack::parse(&args[1]).expect("stack");
        let transport = Transport::parse(&args[2]).expect("transport");
        let wake_interval = Duration::from_secs_f64(args[4].parse().expect("wake interval"));
        serve(
            stack,
            transport,
            args[3].parse().expect("sessions"),
            wake_interval,
        );
    }
    let mut sessions = vec![100usize, 1000];
    let mut transports = vec![Transport::Tcp, Transport::Udp];
    let mut stacks: Option<Vec<Stack>> = None;
    let mut wake_interval: Option<Duration> = None;
    let (mut seconds, mut warmup, mut repeat) = (5.0f64, 1.5f64, 3usize);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            println!("{HELP}");
            return;
        }
        let value = it
            .next()
            .unwrap_or_else(|| panic!("{flag} needs a value (see --help)"));
        let list = || value.split(',').map(str::trim);
        match flag.as_str() {
            "--sessions" => sessions = list().map(|v| v.parse().expect("sessions")).collect(),
            "--transport" => transports = list().map(|v| Transport::parse(v).unwrap()).collect(),
            "--stack" => stacks = Some(list().map(|v| Stack::parse(v).unwrap()).collect()),
            "--wake-interval-ms" => {
                let ms: f64 = value.parse().expect("wake interval (ms)");
                wake_interval = Some(Duration::from_secs_f64(ms / 1e3));
            }
            "--seconds" => seconds = value.parse().expect("seconds"),
            "--warmup" => warmup = value.parse().expect("warmup"),
            "--repeat" => repeat = value.parse().expect("repeat"),
            _ => panic!("unknown option {flag} (see --help)"),
        }
    }
    // The paced stacks run beside the default three when an interval is
    // given (10 ms if they are named without one).
    let stacks = stacks.unwrap_or_else(|| {
        let n = if wake_interval.is_some() { 5 } else { 3 };
        Stack::ALL[..n].to_vec()
    });
    let wake_interval = wake_interval.unwrap_or(Duration::from_millis(10));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (warmup, window) = (
        Duration::from_secs_f64(warmup),
        Duration::from_secs_f64(seconds),
    );
    let mut summary = Vec::new();
    for &n in &sessions {
        for &transport in &transports {
            let mut runs: Vec<Run> = Vec::new();
            for round in 0..repeat {
                let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
                let load = load.split(' ').next().unwrap_or("?");
                println!(
                    "-- {} x {n}, round {} (load {load})",
                    transport.name(),
                    round + 1
                );
                for &stack in &stacks {
                    let run = run_one(&rt, stack, transport, n, warmup, window, wake_interval);
                    print_run(transport, n, &run);
                    runs.push(run);
                }
            }
            summary.push((n, transport, runs));
        }
    }
    println!();
    println!(
        "median server CPU per delivered packet over the valid runs; \
         ratio = packet-net / baseline (target <= 0.67)"
    );
    println!(
        "(every round's ratio in brackets, * where either run of the round is void; \
         paired = the median of the valid rounds' ratios, each of two runs seconds apart \
         at most, so less moved by the machine's load over a sitting)"
    );
    for (n, transport, runs) in &summary {
        let transport = *transport;
        let of = |s: Stack| -> Vec<&Run> { runs.iter().filter(|r| r.stack == s).collect() };
        let ok = |rs: &[&Run]| -> Vec<f64> {
            rs.iter()
                .filter(|r| r.valid(transport))
                .map(|r| r.us_per_packet())
                .collect()
        };
        let base = of(Stack::Baseline);
        let base_med = median(ok(&base));
        for &stack in &stacks {
            let mine = of(stack);
            let valid = ok(&mine);
            let (count, med) = (valid.len(), median(valid));
            let loss_in: u64 = mine
                .iter()
                .map(|r| r.inputs_sent.saturating_sub(r.inputs))
                .sum();
            let sent_in: u64 = mine.iter().map(|r| r.inputs_sent).sum();
            let overflowed: u64 = mine.iter().map(|r| r.rcvbuf_drops).sum();
            // Every round's ratio, a void one marked `*`.
            let mut paired = Vec::new();
            let rounds: Vec<String> = mine
                .iter()
                .zip(&base)
                .map(|(m, b)| {
                    let void = !(m.valid(transport) && b.valid(transport));
                    let ratio = m.us_per_packet() / b.us_per_packet();
                    if !void {
                        paired.push(ratio);
                    }
                    format!("{ratio:.2}{}", if void { "*" } else { "" })
                })
                .collect();
            println!(
                "{} x {:>5} {:<21} {:>6.2} us/packet ({count} of {} runs valid)  ratio {:.2} [{}]  \
                 paired {:.2}  inputs lost {loss_in} of {sent_in} (server socket overflowed {overflowed})",
                transport.name(),
                n,
                stack.name(),
                med,
                mine.len(),
                med / base_med,
                rounds.join(" "),
                median(paired),
            );
        }
    }
}
