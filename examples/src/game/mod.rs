//! The example game of record: a login service, a game server (chat over
//! sealed TCP, moves over sealed UDP, a fixed-tick snapshot broadcast,
//! per-session player state, each session's player from its keys) and
//! bots on tokio and on plain threads, plus a cheater the server must
//! refuse. `cargo run --release --bin game` runs it on loopback and prints
//! what flowed; `examples/tests/game.rs` runs it briefly and checks.
//!
//! - [`protocol`](crate::game::protocol): the packets (derived).
//! - [`login`](crate::game::login): who a player is; session keys (and players) for the key
//!   provider.
//! - [`server`](crate::game::server): the two servers, their handlers and the game loop.
//! - [`bots`](crate::game::bots): the clients.

pub mod bots;
pub mod login;
pub mod protocol;
pub mod server;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use packet_net::transport::TransportError;

use bots::BotStats;
use login::Login;
use server::GameServer;

/// What to run.
#[derive(Debug, Clone)]
pub struct GameConfig {
    /// How long the bots play.
    pub run_for: Duration,
    /// Bots on tokio.
    pub tokio_bots: usize,
    /// Bots on threads (the blocking transport).
    pub blocking_bots: usize,
    /// Game loop ticks per second.
    pub tick_hz: f64,
    /// Whether a cheater tries to move the others.
    pub cheater: bool,
}

impl Default for GameConfig {
    fn default() -> Self {
        Self {
            run_for: Duration::from_secs(5),
            tokio_bots: 2,
            blocking_bots: 1,
            tick_hz: 20.0,
            cheater: true,
        }
    }
}

/// What a run did, from the server's counters and the bots'.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Bots that joined (both welcomes), of how many.
    pub joined: u64,
    /// Bots started (not counting the cheater).
    pub bots: u64,
    /// Game loop ticks.
    pub ticks: u64,
    /// Moves the bots sent, the server applied, the bots saw applied.
    pub moves_sent: u64,
    /// Moves applied by the server.
    pub moves_applied: u64,
    /// Snapshots where a bot saw its own newest move.
    pub moves_seen: u64,
    /// Moves the server refused (their player had logged out).
    pub moves_refused: u64,
    /// Snapshots where a bot saw a move it never sent applied to itself.
    pub foreign_moves: u64,
    /// Snapshot frames queued by the server, received by the bots.
    pub snapshots_sent: u64,
    /// Snapshots the bots received.
    pub snapshots_received: u64,
    /// Snapshot frames the server could not queue.
    pub snapshots_failed: u64,
    /// Chat lines the bots said, the server relayed, the bots heard.
    pub said: u64,
    /// Chat lines relayed by the server.
    pub relayed: u64,
    /// Chat lines heard by the bots.
    pub heard: u64,
    /// UDP datagrams the server dropped (not a frame of a known session).
    pub dropped: u64,
    /// Bots that ended with an error.
    pub bot_errors: u64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "players: {} of {} bots joined; {} ticks",
            self.joined, self.bots, self.ticks
        )?;
        writeln!(
            f,
            "moves (UDP): {} sent, {} applied, {} seen in snapshots; {} refused",
            self.moves_sent, self.moves_applied, self.moves_seen, self.moves_refused
        )?;
        writeln!(
            f,
            "snapshots (UDP): {} sent, {} received, {} failed",
            self.snapshots_sent, self.snapshots_received, self.snapshots_failed
        )?;
        writeln!(
            f,
            "chat (TCP): {} said, {} relayed, {} heard",
            self.said, self.relayed, self.heard
        )?;
        write!(
            f,
            "moved by someone else: {}; datagrams dropped (forged, unknown keys): {}; bot errors: {}",
            self.foreign_moves, self.dropped, self.bot_errors
        )
    }
}

/// Runs the game on loopback: the server, the bots (and the cheater) for
/// `config.run_for`, then a graceful shutdown; returns what happened.
pub async fn run(config: &GameConfig) -> Result<Summary, TransportError> {
    let login = Arc::new(Login::default());
    let server = GameServer::start(
        login.clone(),
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        config.tick_hz,
    )
    .await?;
    let addrs = server.addrs();
    let stats = Arc::new(BotStats::default());
    let mut bots = tokio::task::JoinSet::new();
    for i in 0..config.tokio_bots {
        let (login, stats, run_for) = (login.clone(), stats.clone(), config.run_for);
        bots.spawn(async move {
            bots::tokio_bot(&format!("tokio{i}"), &login, addrs, run_for, stats).await
        });
    }
    for i in 0..config.blocking_bots {
        let (login, stats, run_for) = (login.clone(), stats.clone(), config.run_for);
        bots.spawn_blocking(move || {
            bots::blocking_bot(&format!("thread{i}"), &login, addrs, run_for, stats)
        });
    }
    if config.cheater {
        // Once the bots are in the game.
        tokio::time::sleep(config.run_for.min(Duration::from_millis(300)) / 2).await;
        if let Err(e) = bots::cheater(&login, addrs).await {
            eprintln!("game: the cheater failed to send: {e}");
        }
    }
    let mut bot_errors = 0;
    while let Some(done) = bots.join_next().await {
        if let Err(e) = done
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()))
        {
            eprintln!("game: a bot failed: {e}");
            bot_errors += 1;
        }
    }
    let world = server.world().clone();
    let dropped = server.dropped();
    server.shutdown().await;
    let s = &world.stats;
    let b = &stats;
    Ok(Summary {
        joined: b.joined.load(Relaxed),
        bots: (config.tokio_bots + config.blocking_bots) as u64,
        ticks: s.ticks.load(Relaxed),
        moves_sent: b.moves.load(Relaxed),
        moves_applied: s.moves.load(Relaxed),
        moves_seen: b.moves_seen.load(Relaxed),
        moves_refused: s.moves_refused.load(Relaxed),
        foreign_moves: b.foreign_moves.load(Relaxed),
        snapshots_sent: s.snapshots.load(Relaxed),
        snapshots_received: b.snapshots.load(Relaxed),
        snapshots_failed: s.snapshots_failed.load(Relaxed),
        said: b.said.load(Relaxed),
        relayed: s.chat.load(Relaxed),
        heard: b.heard.load(Relaxed),
        dropped,
        bot_errors,
    })
}
