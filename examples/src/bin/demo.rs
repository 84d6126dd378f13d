//! The demo: a packet server and bot clients exchanging echo packets over
//! TCP and UDP for a few seconds, in one process or across two.
//!
//! Every bot keeps a window of packets in flight; each packet carries its
//! send time and a sequence number, and every echoed byte is checked. A
//! live line shows progress; the summary gives packets/s, bytes/s, p50 and
//! p99 round-trip latency and errors per transport.
//!
//! ```sh
//! cargo run --release --bin demo                 # 5 s, 16 bots per transport
//! cargo run --release --bin demo -- serve --listen 0.0.0.0:7070
//! cargo run --release --bin demo -- bots --connect 192.0.2.7:7070
//! cargo run --release --bin demo -- --help
//! ```
//!
//! `serve` runs the game servers (TCP and UDP, sealed by default, on the
//! login port + 1 or `--game-port`) and, on `--listen`, a small **login
//! listener**: each bot logs in there for its own session token and keys
//! and learns the game ports. Ctrl-C or SIGTERM shuts it down gracefully
//! (each bot is told `shutting down` by a close notice). The login is
//! **plaintext on purpose** (it keeps the demo free of certificates): the
//! keys cross the network in the clear, so anyone watching the wire can
//! read them. A real game runs its login over TLS (or hands the keys out
//! through its account service) and only the game traffic over packet.

use std::io::{IsTerminal as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use packet_examples::{ECHO, Histogram};
use packet_net::server::tokio::{Server, ServerHandle, UdpServer};
use packet_net::server::{Router, ServerConfig};
use packet_net::transport::tokio::{TcpPacketStream, UdpPacketSocket};
use packet_net::transport::{CloseReason, TransportError};
use tokio::time::timeout;

/// A packet server with bot clients, over TCP and UDP: in one process
/// (no subcommand), or `serve` and `bots` in two.
#[derive(Debug, Parser)]
#[command(name = "demo", version, about)]
struct Args {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    bot: BotOpts,
    #[command(flatten)]
    server: ServerOpts,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Only the server: a plaintext login listener on `--listen` and the
    /// game servers (TCP and UDP) on the login port + 1. Runs until
    /// stopped (Ctrl-C or SIGTERM: a graceful shutdown) or for `--seconds`.
    Serve {
        /// The login listener's address; bots connect here.
        #[arg(long, default_value = "127.0.0.1:7070")]
        listen: String,
        /// The game servers' port, TCP and UDP (default: the login port
        /// + 1; ephemeral ports when the login port is 0).
        #[arg(long, value_name = "PORT")]
        game_port: Option<u16>,
        #[command(flatten)]
        server: ServerOpts,
    },
    /// Only the bots, against a `demo serve` (its login listener's
    /// address). Sealing follows the server's choice.
    Bots {
        /// The server's login address (`demo serve --listen`).
        #[arg(long)]
        connect: String,
        #[command(flatten)]
        bot: BotOpts,
    },
}

/// Options of every mode (global: before or after the subcommand).
#[derive(Debug, Clone, clap::Args)]
struct Common {
    /// How long to run, in seconds (default 5; `serve`: until stopped).
    #[arg(short, long, global = true)]
    seconds: Option<f64>,
    /// Runtime worker threads (0: one per core).
    #[arg(long, global = true, default_value_t = 0)]
    threads: usize,
    /// No live progress line.
    #[arg(short, long, global = true)]
    quiet: bool,
}

/// The bots' options (no subcommand, and `bots`).
#[derive(Debug, Clone, clap::Args)]
struct BotOpts {
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
}

/// The server's options (no subcommand, and `serve`).
#[derive(Debug, Clone, clap::Args)]
struct ServerOpts {
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

/// Parses the command line. The bots' and the server's options are the
/// no-subcommand run's before a subcommand: there they would apply to
/// nothing, so they are refused (as clap refuses them after the wrong
/// subcommand).
fn parse_args() -> Args {
    use clap::{CommandFactory as _, FromArgMatches as _};
    let matches = Args::command().get_matches();
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if let Some(sub) = matches.subcommand_name() {
        for id in ["bots", "transport", "window", "payload", "plain"] {
            if matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine) {
                Args::command()
                    .error(
                        clap::error::ErrorKind::ArgumentConflict,
                        format!(
                            "--{id} before `{sub}`: give each option after the \
                             subcommand it applies to (`demo {sub} --help`)"
                        ),
                    )
                    .exit();
            }
        }
    }
    args
}

fn main() -> ExitCode {
    let args = parse_args();
    let common = &args.common;
    let bot = match &args.cmd {
        None => Some(&args.bot),
        Some(Cmd::Serve { .. }) => None,
        Some(Cmd::Bots { bot, .. }) => Some(bot),
    };
    let bad_seconds = common.seconds.is_some_and(|s| !(s > 0.0 && s < 1e9));
    let bad_bot = bot.is_some_and(|b| b.payload < 16 || b.payload > 60_000 || b.window == 0);
    if bad_bot || bad_seconds {
        eprintln!("demo: need --payload in 16..=60000, --window >= 1, --seconds > 0");
        return ExitCode::from(2);
    }
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if common.threads > 0 {
        rt.worker_threads(common.threads);
    }
    let rt = match rt.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("demo: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match &args.cmd {
        None => rt.block_on(all_in_one(&args.common, &args.bot, &args.server)),
        Some(Cmd::Serve {
            listen,
            game_port,
            server,
        }) => rt.block_on(serve(common, server, listen, *game_port)),
        Some(Cmd::Bots { connect, bot }) => rt.block_on(bots(common, bot, connect)),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("demo: no packet made the round trip");
            ExitCode::FAILURE
        }
        Err(TransportError::Io(e)) => {
            eprintln!("demo: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("demo: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The login server's table (built with `crypto`): it hands each bot a
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
            packet_net::crypto::ChannelKeys,
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

    /// The security a grant's secret (token, then the two keys) gives.
    fn from_secret(secret: Option<&[u8; SECRET_LEN]>) -> Result<Self, TransportError> {
        #[cfg(feature = "crypto")]
        if let Some(bytes) = secret {
            let (token, keys) = keys_of(bytes);
            return Ok(Self(Some(packet_net::transport::ClientSecurity::new(
                token, keys,
            ))));
        }
        match secret {
            Some(_) => Err(login_error("the server seals; this build has no `crypto`")),
            None => Ok(Self::default()),
        }
    }
}

/// Bytes of one session's secret: a 16-byte token, then 32-byte keys
/// client-to-server and server-to-client.
const SECRET_LEN: usize = 16 + 32 + 32;

#[cfg(feature = "crypto")]
fn keys_of(
    bytes: &[u8; SECRET_LEN],
) -> (
    packet_net::transport::SessionToken,
    packet_net::crypto::ChannelKeys,
) {
    use packet_net::crypto::{ChannelKeys, SecretKey};
    let mut token = [0u8; 16];
    token.copy_from_slice(&bytes[..16]);
    let key = |at: usize| {
        let mut k = [0u8; 32];
        k.copy_from_slice(&bytes[at..at + 32]);
        SecretKey::from_bytes(k)
    };
    (
        packet_net::transport::SessionToken(token),
        ChannelKeys::new(key(16), key(48)),
    )
}

/// Bytes on the wire for a body of `len` bytes.
fn frame_len_for(sealed: bool, len: usize) -> u64 {
    #[cfg(feature = "crypto")]
    if sealed {
        return packet_net::crypto::sealed_frame_len_for(len) as u64;
    }
    let _ = sealed;
    packet_net::frame::frame_len_for(len) as u64
}

impl Login {
    /// A new session's secret (token and keys), remembered for the game
    /// servers' key provider; `None` (plaintext) unless `sealed`.
    fn issue(&self, sealed: bool) -> Result<Option<[u8; SECRET_LEN]>, TransportError> {
        #[cfg(feature = "crypto")]
        if sealed {
            let mut bytes = [0u8; SECRET_LEN];
            getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
            let (token, keys) = keys_of(&bytes);
            self.table
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(token, keys);
            return Ok(Some(bytes));
        }
        let _ = sealed;
        Ok(None)
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

/// Type id of a login request (empty body) and of its reply, a [`Grant`].
const LOGIN: u16 = 0x0002;

/// What a login hands a bot: where the game servers are and, when they
/// seal, the session's secret.
///
/// Wire body: `sealed: u8` (0 or 1), `tcp_port: u16` LE, `udp_port: u16`
/// LE, then when sealed the 80-byte secret (token, key client-to-server,
/// key server-to-client).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Grant {
    tcp_port: u16,
    udp_port: u16,
    secret: Option<[u8; SECRET_LEN]>,
}

impl Grant {
    const MAX_LEN: usize = 5 + SECRET_LEN;

    fn encode(&self, out: &mut [u8; Self::MAX_LEN]) -> usize {
        out[0] = u8::from(self.secret.is_some());
        out[1..3].copy_from_slice(&self.tcp_port.to_le_bytes());
        out[3..5].copy_from_slice(&self.udp_port.to_le_bytes());
        match &self.secret {
            Some(s) => {
                out[5..].copy_from_slice(s);
                Self::MAX_LEN
            }
            None => 5,
        }
    }

    fn decode(body: &[u8]) -> Result<Self, TransportError> {
        let port = |at: usize| u16::from_le_bytes([body[at], body[at + 1]]);
        match (body.first(), body.len()) {
            (Some(0), 5) => Ok(Self {
                tcp_port: port(1),
                udp_port: port(3),
                secret: None,
            }),
            (Some(1), Self::MAX_LEN) => {
                let mut secret = [0u8; SECRET_LEN];
                secret.copy_from_slice(&body[5..]);
                Ok(Self {
                    tcp_port: port(1),
                    udp_port: port(3),
                    secret: Some(secret),
                })
            }
            _ => Err(login_error("malformed login reply")),
        }
    }
}

fn login_error(what: &str) -> TransportError {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string()).into()
}

/// An error that says what failed: `what: error hint`.
fn context(what: &str, e: &dyn std::fmt::Display, hint: &str) -> TransportError {
    std::io::Error::other(format!("{what}: {e} {hint}").trim_end().to_string()).into()
}

/// [`context`] for a transport error (an I/O error without its prefix).
fn io_context(what: &str, e: &TransportError, hint: &str) -> TransportError {
    match e {
        TransportError::Io(io) => context(what, io, hint),
        e => context(what, e, hint),
    }
}

/// Where `serve` binds its game servers (TCP and UDP, one port number):
/// on `--listen`'s address, at `--game-port`, else the login port + 1,
/// else (login port 0, as tests use) ephemeral ports.
fn game_addr(listen: SocketAddr, game_port: Option<u16>) -> Result<SocketAddr, String> {
    let port = match (game_port, listen.port()) {
        (Some(p), login) if p == login && p != 0 => {
            return Err(format!("--game-port {p} is the login port: choose another"));
        }
        (Some(p), _) => p,
        (None, 0) => 0,
        (None, login) => login.checked_add(1).ok_or_else(|| {
            format!("login port {login} leaves no port + 1 for the game: pass --game-port")
        })?,
    };
    Ok(SocketAddr::new(listen.ip(), port))
}

/// The game servers, TCP and UDP, echoing every frame.
struct Game {
    tcp: ServerHandle<()>,
    udp: ServerHandle<()>,
}

impl Game {
    /// Binds both on `at` (TCP and UDP share the port number; port 0:
    /// an ephemeral port each).
    async fn start(at: SocketAddr, config: ServerConfig) -> Result<Self, TransportError> {
        // Sessions, dispatch by type id, echo.
        let router = || Router::<()>::new().on_frame(ECHO, |ctx, f| ctx.reply_raw(ECHO, f.body()));
        let hint = "(choose another with --game-port)";
        let tcp = Server::bind(at, config.clone(), router(), ())
            .await
            .map_err(|e| io_context(&format!("game TCP server on {at}"), &e, hint))?;
        // One frame per datagram, a session per peer address (each bot is
        // its own sealed session with its own keys), the same router.
        let udp = UdpServer::bind(at, config, router(), ())
            .await
            .map_err(|e| io_context(&format!("game UDP server on {at}"), &e, hint))?;
        Ok(Self { tcp, udp })
    }

    async fn shutdown(self) {
        self.udp.shutdown().await;
        self.tcp.shutdown().await;
    }
}

/// Where bots get their sessions: from the login table in this process,
/// or over the network from a `demo serve`.
#[derive(Clone)]
enum Source {
    Local {
        login: Arc<Login>,
        sealed: bool,
        tcp: SocketAddr,
        udp: SocketAddr,
    },
    Remote(SocketAddr),
}

/// One bot's session: its security and the game servers' addresses.
struct Ticket {
    sec: BotSecurity,
    tcp: SocketAddr,
    udp: SocketAddr,
}

impl Source {
    /// Logs one bot in.
    async fn login(&self) -> Result<Ticket, TransportError> {
        match self {
            Source::Local {
                login,
                sealed,
                tcp,
                udp,
            } => Ok(Ticket {
                sec: BotSecurity::from_secret(login.issue(*sealed)?.as_ref())?,
                tcp: *tcp,
                udp: *udp,
            }),
            Source::Remote(addr) => {
                let mut s = TcpPacketStream::connect(*addr).await?;
                s.send_raw(LOGIN, &[]).await?;
                let frame = timeout(Duration::from_secs(5), s.recv())
                    .await
                    .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
                if frame.type_id() != LOGIN {
                    return Err(login_error("unexpected login reply type"));
                }
                let grant = Grant::decode(frame.body())?;
                let _ = s.close().await;
                Ok(Ticket {
                    sec: BotSecurity::from_secret(grant.secret.as_ref())?,
                    tcp: SocketAddr::new(addr.ip(), grant.tcp_port),
                    udp: SocketAddr::new(addr.ip(), grant.udp_port),
                })
            }
        }
    }
}

fn sealed_by(opts: &ServerOpts) -> bool {
    cfg!(feature = "crypto") && !opts.plain
}

fn mode(sealed: bool) -> &'static str {
    if sealed {
        "sealed ChaCha20-Poly1305"
    } else {
        "plaintext CRC-32"
    }
}

/// No subcommand: the servers and the bots in this process, on loopback.
async fn all_in_one(
    common: &Common,
    bot: &BotOpts,
    server: &ServerOpts,
) -> Result<bool, TransportError> {
    let sealed = sealed_by(server);
    let login = Arc::new(Login::default());
    let at = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0);
    let game = Game::start(at, login.server_config(sealed)).await?;
    println!(
        "packet demo: server + {} bot(s) per transport on 127.0.0.1",
        bot.bots
    );
    let source = Source::Local {
        login,
        sealed,
        tcp: game.tcp.local_addr(),
        udp: game.udp.local_addr(),
    };
    let ok = run_bots(common, bot, source).await;
    game.shutdown().await;
    ok
}

/// What stops `serve`: Ctrl-C (SIGINT) or, on unix, SIGTERM. Listening
/// from creation on, so a signal that comes early is not missed.
struct StopSignal {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl StopSignal {
    fn new() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                int: signal(SignalKind::interrupt())?,
                term: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Waits for the next signal; its name.
    async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.int.recv() => "Ctrl-C (SIGINT)",
                _ = self.term.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            match tokio::signal::ctrl_c().await {
                Ok(()) => "Ctrl-C",
                // No handler: wait for `--seconds` alone.
                Err(_) => std::future::pending().await,
            }
        }
    }
}

/// `demo serve`: the login listener on `listen`, the game servers on
/// its port + 1 (or `--game-port`).
async fn serve(
    common: &Common,
    server: &ServerOpts,
    listen: &str,
    game_port: Option<u16>,
) -> Result<bool, TransportError> {
    let sealed = sealed_by(server);
    // Signals first: from here on Ctrl-C shuts down gracefully.
    let mut signals =
        StopSignal::new().map_err(|e| context("cannot listen for Ctrl-C / SIGTERM", &e, ""))?;
    let listen = tokio::net::lookup_host(listen)
        .await?
        .next()
        .ok_or_else(|| login_error("--listen names no address"))?;
    let at = game_addr(listen, game_port).map_err(|e| login_error(&e))?;
    let login = Arc::new(Login::default());
    let game = Game::start(at, login.server_config(sealed)).await?;
    let grant = Grant {
        tcp_port: game.tcp.local_addr().port(),
        udp_port: game.udp.local_addr().port(),
        secret: None,
    };
    // The login listener: plaintext on purpose (see the module docs).
    let desk = login.clone();
    let router = Router::<()>::new().on_frame(LOGIN, move |ctx, _| {
        let grant = Grant {
            secret: desk.issue(sealed)?,
            ..grant.clone()
        };
        let mut body = [0u8; Grant::MAX_LEN];
        let n = grant.encode(&mut body);
        ctx.reply_raw(LOGIN, &body[..n])
    });
    let desk = Server::bind(listen, ServerConfig::default(), router, ())
        .await
        .map_err(|e| io_context(&format!("login listener on {listen}"), &e, ""))?;
    let at = desk.local_addr();
    let (tcp, udp) = (game.tcp.local_addr(), game.udp.local_addr());
    println!("packet demo serve: login on {at} (plaintext, demo only)");
    println!("game: TCP {tcp}, UDP {udp}");
    println!("frames: {}", mode(sealed));
    if at.ip().is_unspecified() {
        println!("bots: demo bots --connect SERVER_IP:{}", at.port());
        println!("  (SERVER_IP: this machine's address; 127.0.0.1 on this machine)");
    } else {
        println!("bots: demo bots --connect {at}");
    }
    if !at.ip().is_loopback() {
        let game_ports = if tcp.port() == udp.port() {
            format!("TCP and UDP {}", tcp.port())
        } else {
            format!("TCP {} and UDP {}", tcp.port(), udp.port())
        };
        println!(
            "firewall: open TCP {} (login), {game_ports} (game)",
            at.port()
        );
    }
    let until = match common.seconds {
        Some(s) => format!("for {s} s or until Ctrl-C"),
        None => "until Ctrl-C".to_string(),
    };
    println!("running {until} (or SIGTERM): then a graceful shutdown");
    let _ = std::io::stdout().flush();
    let start = Instant::now();
    let tty = std::io::stderr().is_terminal();
    let (why, signalled) = loop {
        let left = common
            .seconds
            .map(|s| Duration::from_secs_f64(s).saturating_sub(start.elapsed()));
        if left == Some(Duration::ZERO) {
            break ("--seconds elapsed", false);
        }
        let nap = Duration::from_secs(1).min(left.unwrap_or(Duration::MAX));
        tokio::select! {
            () = tokio::time::sleep(nap) => {}
            name = signals.recv() => break (name, true),
        }
        if !common.quiet {
            let line = serve_line(
                start.elapsed().as_secs_f64(),
                &[("tcp", game.tcp.stats()), ("udp", game.udp.stats())]
                    .map(|(name, s)| (name, [s.active as u64, s.frames_in, s.frames_out])),
            );
            print_progress(tty, &line);
        }
    };
    if !common.quiet && tty {
        eprintln!();
    }
    let (tcp_open, udp_open) = (game.tcp.stats().active, game.udp.stats().active);
    let again = if signalled {
        " (again: exit at once)"
    } else {
        ""
    };
    println!("{why}: shutting down gracefully{again}");
    println!(
        "  closing {tcp_open} TCP + {udp_open} UDP session(s): replies, then a \
         close notice"
    );
    let _ = std::io::stdout().flush();
    // A second signal during the shutdown exits at once.
    tokio::spawn(async move {
        let name = signals.recv().await;
        eprintln!("demo serve: {name} again: exiting without waiting");
        std::process::exit(130);
    });
    let t = Instant::now();
    desk.shutdown().await;
    game.shutdown().await;
    println!(
        "stopped: login and game servers shut down in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    Ok(true)
}

/// `demo bots`: bots against a `demo serve` at `connect`.
async fn bots(common: &Common, bot: &BotOpts, connect: &str) -> Result<bool, TransportError> {
    let addr = tokio::net::lookup_host(connect)
        .await?
        .next()
        .ok_or_else(|| login_error("--connect names no address"))?;
    println!(
        "packet demo bots: {} bot(s) per transport, logging in at {addr}",
        bot.bots
    );
    run_bots(common, bot, Source::Remote(addr)).await
}

/// Logs the bots in through `source`, runs them for `--seconds` with a
/// live progress line, and prints the summary; whether any packet made
/// the round trip.
async fn run_bots(common: &Common, opts: &BotOpts, source: Source) -> Result<bool, TransportError> {
    let duration = Duration::from_secs_f64(common.seconds.unwrap_or(5.0));
    let body_len = opts.payload;
    let mut reports = Vec::new();
    let mut tickets = Vec::new();
    for (name, on) in [
        ("tcp", opts.transport != Which::Udp),
        ("udp", opts.transport != Which::Tcp),
    ] {
        if !on {
            continue;
        }
        reports.push(Report {
            name,
            live: Arc::new(Live::default()),
            hist: Histogram::default(),
        });
        for bot in 0..opts.bots {
            // Each bot logs in for its own session keys.
            tickets.push((reports.len() - 1, bot, source.login().await?));
        }
    }
    let sealed = tickets.first().is_some_and(|t| t.2.sec.is_sealed());
    let frame_len = frame_len_for(sealed, body_len);
    println!(
        "{body_len} B bodies ({frame_len} B {} frames), window {}, {:.1} s",
        mode(sealed),
        opts.window,
        duration.as_secs_f64()
    );

    let stop = Arc::new(AtomicBool::new(false));
    // Bots still running: when none is (the server shut down), the run
    // ends early.
    let running = Arc::new(AtomicUsize::new(tickets.len()));
    let mut bots = tokio::task::JoinSet::new();
    for (index, bot, ticket) in tickets {
        let name = reports[index].name;
        let (live, stop) = (reports[index].live.clone(), stop.clone());
        let running = running.clone();
        let window = opts.window;
        bots.spawn(async move {
            let mut hist = Histogram::default();
            let result = if name == "tcp" {
                tcp_bot(
                    ticket.tcp, ticket.sec, bot, window, body_len, &live, &stop, &mut hist,
                )
                .await
            } else {
                udp_bot(
                    ticket.udp, ticket.sec, bot, window, body_len, &live, &stop, &mut hist,
                )
                .await
            };
            running.fetch_sub(1, Ordering::Relaxed);
            let notice = match result {
                Ok(()) => None,
                // A graceful shutdown: the server answered what it had
                // read and said so. The end of the run, not an error.
                Err(TransportError::ClosedByServer(n)) if n.reason == CloseReason::ShuttingDown => {
                    Some(n)
                }
                Err(e) => {
                    live.errors.fetch_add(1, Ordering::Relaxed);
                    eprintln!("\n{name} bot {bot}: {e}");
                    None
                }
            };
            (index, hist, notice)
        });
    }

    // Live progress.
    let start = Instant::now();
    // A live line on a terminal; a line per second in logs.
    let tty = std::io::stderr().is_terminal();
    let tick = if tty { 250 } else { 1000 };
    let mut last = vec![0u64; reports.len()];
    let mut last_t = start;
    while start.elapsed() < duration && running.load(Ordering::Relaxed) > 0 {
        tokio::time::sleep(
            Duration::from_millis(tick).min(duration.saturating_sub(start.elapsed())),
        )
        .await;
        if common.quiet {
            continue;
        }
        let now = Instant::now();
        let dt = now.duration_since(last_t).as_secs_f64().max(1e-9);
        let mut rates = Vec::with_capacity(reports.len());
        for (r, last) in reports.iter().zip(last.iter_mut()) {
            let p = r.live.packets.load(Ordering::Relaxed);
            let delta = p.saturating_sub(*last) as f64;
            rates.push(Rate {
                name: r.name,
                packets: delta / dt,
                bytes: delta * 2.0 * frame_len as f64 / dt,
                errors: r.live.errors.load(Ordering::Relaxed),
            });
            *last = p;
        }
        last_t = now;
        print_progress(tty, &progress_line(start.elapsed().as_secs_f64(), &rates));
    }
    stop.store(true, Ordering::Relaxed);
    let elapsed = start.elapsed().as_secs_f64();
    if !common.quiet && tty {
        eprintln!();
    }
    let mut shut_down = 0;
    let mut notice = None;
    while let Some(done) = bots.join_next().await {
        match done {
            Ok((index, hist, n)) => {
                reports[index].hist.merge(&hist);
                shut_down += usize::from(n.is_some());
                notice = notice.or(n);
            }
            Err(e) => eprintln!("bot task failed: {e}"),
        }
    }

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
    println!("(packets: round trips; bytes: frame bytes both ways;");
    println!(
        " latency: round trip, {} bots x {} in flight)",
        opts.bots, opts.window
    );
    if let Some(n) = notice {
        println!("{shut_down} bot(s) ended early: {n}");
    }
    Ok(any)
}

/// One transport's rates for the progress line.
struct Rate {
    name: &'static str,
    packets: f64,
    bytes: f64,
    errors: u64,
}

/// The widest progress line: it must fit an 80-column terminal, or each
/// update leaves a broken line behind.
const PROGRESS_WIDTH: usize = 80;

/// `x` in at most 5 characters: `999`, `12.3k`, `4.56M`, … `18.4E`.
fn compact(x: f64) -> String {
    const UNITS: [&str; 7] = ["", "k", "M", "G", "T", "P", "E"];
    if !x.is_finite() || x < 0.0 {
        return "?".into();
    }
    let mut x = x;
    let mut unit = 0;
    while x >= 999.5 && unit < UNITS.len() - 1 {
        x /= 1000.0;
        unit += 1;
    }
    if x >= 999.5 {
        return ">999E".into();
    }
    match (unit, x) {
        (0, _) => format!("{x:.0}"),
        (_, x) if x < 9.995 => format!("{x:.2}{}", UNITS[unit]),
        (_, x) if x < 99.95 => format!("{x:.1}{}", UNITS[unit]),
        _ => format!("{x:.0}{}", UNITS[unit]),
    }
}

/// Elapsed seconds in at most 7 characters.
fn elapsed(secs: f64) -> String {
    if (0.0..999.95).contains(&secs) {
        format!("{secs:5.1}s")
    } else {
        format!("{:>5}s", compact(secs))
    }
}

/// The bots' progress line (without the leading `\r`), at most
/// [`PROGRESS_WIDTH`] columns for up to two transports.
fn progress_line(secs: f64, rates: &[Rate]) -> String {
    let mut line = format!("[{}]", elapsed(secs));
    for r in rates {
        line += &format!(
            " {} {:>5} pkt/s {:>5}B/s err {}",
            r.name,
            compact(r.packets),
            compact(r.bytes),
            compact(r.errors as f64)
        );
    }
    line
}

/// The server's progress line: per transport, open sessions, frames in
/// and frames out.
fn serve_line(secs: f64, stats: &[(&str, [u64; 3])]) -> String {
    let mut line = format!("[{}]", elapsed(secs));
    for (name, [sessions, frames_in, frames_out]) in stats {
        line += &format!(
            " {name} {:>5} sess {:>5} in {:>5} out",
            compact(*sessions as f64),
            compact(*frames_in as f64),
            compact(*frames_out as f64)
        );
    }
    line
}

/// Prints a progress line: rewritten in place on a terminal (padded to
/// erase a longer previous line), one per update in logs.
fn print_progress(tty: bool, line: &str) {
    if tty {
        let pad = PROGRESS_WIDTH.saturating_sub(line.chars().count() + 1);
        eprint!("\r{line}{:pad$}", "");
        let _ = std::io::stderr().flush();
    } else {
        eprintln!("{line}");
    }
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
    // A local address that can reach `addr`: loopback for loopback,
    // else any interface of its family.
    let local: SocketAddr = match addr.ip() {
        ip if ip.is_loopback() => (ip, 0).into(),
        IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let s = UdpPacketSocket::bind(local).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn width(line: &str) -> usize {
        line.chars().count()
    }

    #[test]
    fn compact_numbers_are_short_and_readable() {
        assert_eq!(compact(0.0), "0");
        assert_eq!(compact(999.0), "999");
        assert_eq!(compact(1_234.0), "1.23k");
        assert_eq!(compact(98_765.0), "98.8k");
        assert_eq!(compact(123_456_789.0), "123M");
        assert_eq!(compact(u64::MAX as f64), "18.4E");
        assert_eq!(compact(1e300), ">999E");
        assert_eq!(compact(f64::NAN), "?");
        for x in [
            0.0,
            0.4,
            999.4,
            999.6,
            9_995.0,
            99_950.0,
            1e18,
            1e21,
            f64::MAX,
        ] {
            assert!(width(&compact(x)) <= 5, "{x}: {}", compact(x));
        }
    }

    #[test]
    fn progress_lines_fit_80_columns_for_extreme_values() {
        for secs in [0.0, 4.96, 999.9, 1e6, 1e30, f64::INFINITY] {
            for v in [0.0, 1.0, 999.7, 1e15, u64::MAX as f64, 1e300] {
                let rate = |name| Rate {
                    name,
                    packets: v,
                    bytes: v,
                    errors: u64::MAX,
                };
                let line = progress_line(secs, &[rate("tcp"), rate("udp")]);
                // Below 80: the padded, rewritten line never reaches the
                // last column (where some terminals wrap).
                assert!(width(&line) < PROGRESS_WIDTH, "{} {line}", width(&line));
                let s = [u64::MAX, u64::MAX, v as u64];
                let line = serve_line(secs, &[("tcp", s), ("udp", s)]);
                assert!(width(&line) < PROGRESS_WIDTH, "{} {line}", width(&line));
            }
        }
    }

    #[test]
    fn game_servers_bind_the_login_port_plus_one_unless_told() {
        let at = |s: &str| s.parse::<SocketAddr>().unwrap();
        let ok = |listen, port| game_addr(at(listen), port).unwrap();
        assert_eq!(ok("0.0.0.0:7070", None), at("0.0.0.0:7071"));
        assert_eq!(ok("[::1]:7070", None), at("[::1]:7071"));
        // Port 0 (tests): ephemeral game ports too.
        assert_eq!(ok("127.0.0.1:0", None), at("127.0.0.1:0"));
        assert_eq!(ok("0.0.0.0:7070", Some(9000)), at("0.0.0.0:9000"));
        assert_eq!(ok("127.0.0.1:0", Some(9000)), at("127.0.0.1:9000"));
        assert_eq!(ok("127.0.0.1:7070", Some(0)), at("127.0.0.1:0"));
        // No port + 1 above 65535; the login's own port is taken.
        assert!(game_addr(at("0.0.0.0:65535"), None).is_err());
        assert_eq!(ok("0.0.0.0:65535", Some(7000)), at("0.0.0.0:7000"));
        assert!(game_addr(at("0.0.0.0:7070"), Some(7070)).is_err());
    }

    #[test]
    fn grants_round_trip_and_malformed_ones_are_refused() {
        let plain = Grant {
            tcp_port: 7071,
            udp_port: 65535,
            secret: None,
        };
        let sealed = Grant {
            secret: Some([7; SECRET_LEN]),
            ..plain.clone()
        };
        for g in [plain, sealed] {
            let mut buf = [0; Grant::MAX_LEN];
            let n = g.encode(&mut buf);
            assert_eq!(Grant::decode(&buf[..n]).unwrap(), g);
            assert!(Grant::decode(&buf[..n - 1]).is_err());
        }
        for bad in [&[][..], &[2, 0, 0, 0, 0], &[1, 0, 0, 0, 0], &[0; 6]] {
            assert!(Grant::decode(bad).is_err(), "{bad:?}");
        }
    }
}
