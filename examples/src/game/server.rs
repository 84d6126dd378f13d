//! The game server: chat over sealed TCP, moves over sealed UDP, a
//! fixed-tick game loop that moves every player and broadcasts a
//! snapshot, and each session tied to its player by its hello.
//!
//! Two packet-net tokio servers share one [`World`]: the TCP server's
//! router takes hellos and chat, the UDP server's hellos and moves. A
//! move is applied to the player its *session* belongs to
//! (`Context::identity`, set once by a hello whose ticket checks out),
//! never to a player named in a packet, so no client can move anyone
//! else; a move from a session without a player is refused and counted.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use packet_net::Packet as _;
use packet_net::server::tokio::{Server, ServerHandle, UdpServer};
use packet_net::server::{Context, Router, ServerConfig, SessionId, Sessions};
use packet_net::transport::TransportError;
use tokio::sync::watch;

use super::login::Login;
use super::protocol::{ChatLine, Hello, MAX_PLAYERS, Move, PlayerState, Say, Snapshot, Welcome};

/// Units a player moves per second at full speed.
const SPEED: f32 = 4.0;

/// What the server counts (all monotonic).
#[derive(Debug, Default)]
pub struct GameStats {
    /// Game loop ticks run.
    pub ticks: AtomicU64,
    /// Hellos that checked out (TCP and UDP).
    pub hellos: AtomicU64,
    /// Hellos refused: unknown player, wrong ticket, or a second player
    /// on one session.
    pub hellos_refused: AtomicU64,
    /// Moves applied to their session's player.
    pub moves: AtomicU64,
    /// Moves refused: from a session that belongs to no player.
    pub moves_refused: AtomicU64,
    /// Chat lines relayed.
    pub chat: AtomicU64,
    /// Snapshot frames queued (a snapshot times the sessions it reached).
    pub snapshots: AtomicU64,
    /// Snapshot frames that could not be queued (see `BroadcastReport`).
    pub snapshots_failed: AtomicU64,
}

/// One player's state.
#[derive(Debug)]
struct Player {
    name: String,
    pos: [f32; 2],
    dir: [f32; 2],
    last_move: u32,
}

/// The state both servers share.
#[derive(Debug)]
pub struct World {
    login: Arc<Login>,
    /// Players by id. (Per-session state owned by the server is coming to
    /// packet-net; until then, this map.)
    players: Mutex<HashMap<u32, Player>>,
    /// The UDP server's sessions, to end a player's UDP session when
    /// their TCP session ends (known once the UDP server is bound).
    udp: OnceLock<Arc<Sessions>>,
    /// The counters.
    pub stats: GameStats,
}

impl World {
    fn players(&self) -> MutexGuard<'_, HashMap<u32, Player>> {
        self.players.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One tick: moves every player and returns the snapshot.
    fn step(&self, tick: u64, dt: f32) -> Snapshot {
        let mut players = self.players();
        let mut snapshot = Snapshot {
            tick,
            players: Vec::with_capacity(players.len()),
        };
        for (id, p) in players.iter_mut() {
            for axis in 0..2 {
                p.pos[axis] = (p.pos[axis] + p.dir[axis] * SPEED * dt).clamp(-100.0, 100.0);
            }
            snapshot.players.push(PlayerState {
                id: *id,
                pos: p.pos,
                last_move: p.last_move,
            });
        }
        snapshot.players.sort_by_key(|p| p.id);
        snapshot
    }
}

type Ctx<'a> = Context<'a, Arc<World>>;

/// The player a session belongs to, if its hello checked out.
fn player_of(ctx: &Ctx<'_>) -> Option<u32> {
    ctx.identity().and_then(|id| u32::try_from(id).ok())
}

/// A session's hello: checks the ticket, ties the session to the player
/// and welcomes it; anything else ends the session. `joins` adds the
/// player to the game (the TCP session, the player's main one).
fn on_hello(ctx: &Ctx<'_>, hello: Hello, joins: bool) -> Result<(), TransportError> {
    let world = ctx.state();
    let name = world.login.check(hello.player, &hello.ticket);
    let (Some(name), Ok(())) = (name, ctx.set_identity(u64::from(hello.player))) else {
        world.stats.hellos_refused.fetch_add(1, Relaxed);
        ctx.close();
        return Ok(());
    };
    world.stats.hellos.fetch_add(1, Relaxed);
    let mut players = world.players();
    if joins && players.len() < MAX_PLAYERS {
        players.entry(hello.player).or_insert(Player {
            name,
            pos: [0.0; 2],
            dir: [0.0; 2],
            last_move: 0,
        });
    }
    drop(players);
    ctx.reply(&Welcome {
        player: hello.player,
        tick: world.stats.ticks.load(Relaxed),
    })
}

/// Chat: relayed to every TCP session under the speaker's own name.
fn on_say(ctx: &Ctx<'_>, say: Say<'_>) -> Result<(), TransportError> {
    let world = ctx.state();
    let Some(from) = player_of(ctx) else {
        ctx.close(); // chat before the hello
        return Ok(());
    };
    let name = match world.players().get(&from) {
        Some(p) => p.name.clone(),
        None => return Ok(()),
    };
    world.stats.chat.fetch_add(1, Relaxed);
    let report = ctx.broadcast(&ChatLine {
        from,
        name: &name,
        text: say.text,
    });
    if !report.is_complete() {
        eprintln!("game: chat line from {from}: {report}");
    }
    Ok(())
}

/// A move: applied to the session's own player, or refused.
fn on_move(ctx: &Ctx<'_>, m: Move) -> Result<(), TransportError> {
    let world = ctx.state();
    let mut players = world.players();
    let Some(player) = player_of(ctx).and_then(|id| players.get_mut(&id)) else {
        world.stats.moves_refused.fetch_add(1, Relaxed);
        return Ok(());
    };
    if m.seq > player.last_move {
        player.last_move = m.seq;
        player.dir = m.dir.map(|d| {
            if d.is_finite() {
                d.clamp(-1.0, 1.0)
            } else {
                0.0
            }
        });
        world.stats.moves.fetch_add(1, Relaxed);
    }
    Ok(())
}

/// The player leaves with their TCP session: out of the game, logged out,
/// their UDP sessions closed.
fn on_leave(ctx: &Ctx<'_>) {
    let Some(player) = player_of(ctx) else { return };
    let world = ctx.state();
    world.players().remove(&player);
    world.login.logout(player);
    if let Some(udp) = world.udp.get() {
        let mut ids: Vec<SessionId> = Vec::new();
        udp.sessions_of(u64::from(player), &mut ids);
        for id in ids {
            udp.close(id);
        }
    }
}

/// Where the game listens.
#[derive(Debug, Clone, Copy)]
pub struct Addrs {
    /// Chat (and the player's main session): TCP.
    pub tcp: SocketAddr,
    /// Moves and snapshots: UDP.
    pub udp: SocketAddr,
}

/// A running game server.
#[derive(Debug)]
pub struct GameServer {
    world: Arc<World>,
    tcp: ServerHandle<Arc<World>>,
    udp: ServerHandle<Arc<World>>,
    stop: watch::Sender<bool>,
    game_loop: tokio::task::JoinHandle<()>,
}

impl GameServer {
    /// Binds the TCP and UDP servers on `ip` (ephemeral ports) with keys
    /// from `login`, and starts the game loop at `tick_hz`.
    pub async fn start(
        login: Arc<Login>,
        ip: std::net::IpAddr,
        tick_hz: f64,
    ) -> Result<Self, TransportError> {
        let world = Arc::new(World {
            login: login.clone(),
            players: Mutex::default(),
            udp: OnceLock::new(),
            stats: GameStats::default(),
        });
        let config = ServerConfig::default().sealed(login.server_security());
        let tcp_router = Router::new()
            .on::<Hello>(|ctx, hello| on_hello(ctx, hello, true))
            .on_frame(Say::ID, |ctx, frame| on_say(ctx, frame.decode_packet()?))
            .on_disconnect(|ctx, _| on_leave(ctx));
        let udp_router = Router::new()
            .on::<Hello>(|ctx, hello| on_hello(ctx, hello, false))
            .on::<Move>(on_move);
        let tcp = Server::bind((ip, 0), config.clone(), tcp_router, world.clone()).await?;
        let udp = UdpServer::bind((ip, 0), config, udp_router, world.clone()).await?;
        let _ = world.udp.set(udp.sessions().clone());
        let (stop, stopped) = watch::channel(false);
        let game_loop = tokio::spawn(game_loop(
            world.clone(),
            udp.sessions().clone(),
            tick_hz,
            stopped,
        ));
        Ok(Self {
            world,
            tcp,
            udp,
            stop,
            game_loop,
        })
    }

    /// Where to connect.
    pub fn addrs(&self) -> Addrs {
        Addrs {
            tcp: self.tcp.local_addr(),
            udp: self.udp.local_addr(),
        }
    }

    /// The shared state and its counters.
    pub fn world(&self) -> &Arc<World> {
        &self.world
    }

    /// UDP datagrams the server dropped (forged, replayed, not a frame).
    pub fn dropped(&self) -> u64 {
        self.udp.dropped()
    }

    /// Stops the game loop, then both servers (queued frames flushed).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.game_loop.await;
        self.udp.shutdown().await;
        self.tcp.shutdown().await;
    }
}

/// The fixed-tick loop: move everyone, broadcast the snapshot over UDP.
async fn game_loop(
    world: Arc<World>,
    udp: Arc<Sessions>,
    tick_hz: f64,
    mut stop: watch::Receiver<bool>,
) {
    let period = Duration::from_secs_f64(1.0 / tick_hz.clamp(1.0, 1000.0));
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for tick in 1.. {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => return,
        }
        let snapshot = world.step(tick, period.as_secs_f32());
        let report = udp.broadcast(&snapshot, None);
        world.stats.ticks.store(tick, Relaxed);
        world
            .stats
            .snapshots
            .fetch_add(report.delivered as u64, Relaxed);
        world
            .stats
            .snapshots_failed
            .fetch_add(report.failed() as u64, Relaxed);
    }
}
