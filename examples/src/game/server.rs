//! The game server: chat over sealed TCP, moves over sealed UDP, a
//! fixed-tick game loop that moves every player and broadcasts a
//! snapshot.
//!
//! Two packet-net tokio servers share one [`World`] (the login service
//! and the counters). Whom a session belongs to comes from its keys: the
//! login service's key provider returns the player with them, so every
//! session has its player (`Context::identity`) before its first packet
//! is dispatched. Each server keeps its own per-session state
//! (`Router::with_session_state`): a TCP session the player's name, a UDP
//! session the player's body (position, direction, last move). A move
//! changes the state of the session it arrived on, so it can only ever
//! move the player who holds that session's keys; datagrams under
//! anyone else's (or no) keys are dropped before any handler sees them.
//!
//! Snapshots go only to UDP sessions whose client has sent back the
//! random `proof` of its welcome: a session's address is only the source
//! of its hello, which whoever holds a token can forge, and a game loop
//! that pushed to it would flood the forged address (wire format §9,
//! "UDP return routability").

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use packet_net::server::tokio::{Server, ServerHandle, UdpServer};
use packet_net::server::{Context, Router, ServerConfig, SessionId, Sessions};
use packet_net::transport::TransportError;
use tokio::sync::watch;

use super::login::Login;
use super::protocol::{ChatLine, MAX_PLAYERS, Move, PlayerState, Say, Snapshot, Welcome};

/// Units a player moves per second at full speed.
const SPEED: f32 = 4.0;

/// What the server counts (all monotonic).
#[derive(Debug, Default)]
pub struct GameStats {
    /// Game loop ticks run.
    pub ticks: AtomicU64,
    /// Sessions welcomed (TCP and UDP).
    pub welcomed: AtomicU64,
    /// Moves applied to their session's player.
    pub moves: AtomicU64,
    /// Moves refused: from a player no longer logged in.
    pub moves_refused: AtomicU64,
    /// Chat lines relayed.
    pub chat: AtomicU64,
    /// Snapshot frames queued (a snapshot times the sessions it reached).
    pub snapshots: AtomicU64,
    /// Snapshot frames that could not be queued (see `BroadcastReport`).
    pub snapshots_failed: AtomicU64,
}

/// A UDP session's state: the player's body.
#[derive(Debug, Default)]
pub struct Body {
    pos: [f32; 2],
    dir: [f32; 2],
    last_move: u32,
    /// The welcome's proof, and whether the client sent it back.
    proof: u64,
    proven: bool,
}

/// A TCP session's state: the player's name.
#[derive(Debug, Default)]
pub struct Chatter {
    name: String,
}

/// The state both servers share.
#[derive(Debug)]
pub struct World {
    login: Arc<Login>,
    /// The UDP server's sessions, to end a player's UDP session when
    /// their TCP session ends (known once the UDP server is bound).
    udp: OnceLock<Arc<Sessions<Body>>>,
    /// The counters.
    pub stats: GameStats,
}

/// The player a session belongs to (every sealed session of this server
/// has one, from the key provider).
fn player_of<U>(ctx: &Context<'_, Arc<World>, U>) -> Option<u32> {
    ctx.identity().and_then(|id| u32::try_from(id).ok())
}

/// A session opened: welcome its player (`proof`: see [`Welcome::proof`];
/// `again`: a UDP welcome resent, not counted).
fn welcome<U>(ctx: &Context<'_, Arc<World>, U>, proof: u64, again: bool) {
    let world = ctx.state();
    let Some(player) = player_of(ctx) else {
        return ctx.close();
    };
    if !again {
        world.stats.welcomed.fetch_add(1, Relaxed);
    }
    let _ = ctx.reply(&Welcome {
        player,
        tick: world.stats.ticks.load(Relaxed),
        proof,
    });
}

/// A UDP session opened: its welcome carries a fresh proof.
fn on_udp_connect(ctx: &Context<'_, Arc<World>, Body>) {
    let proof = match packet_net::transport::SessionToken::random() {
        Ok(t) => u64::from_le_bytes(t.0[..8].try_into().expect("8 bytes")) | 1,
        Err(_) => return ctx.close(),
    };
    ctx.session_state().proof = proof;
    welcome(ctx, proof, false);
}

/// Chat: relayed to every TCP session under the speaker's own name.
fn on_say(ctx: &Context<'_, Arc<World>, Chatter>, say: Say<'_>) -> Result<(), TransportError> {
    let world = ctx.state();
    let (Some(from), name) = (player_of(ctx), ctx.session_state().name.clone()) else {
        return Ok(());
    };
    world.stats.chat.fetch_add(1, Relaxed);
    // The report says who did not get it; a session still in its
    // handshake is among them (it cannot be sent to yet).
    let _report = ctx.broadcast(&ChatLine {
        from,
        name: &name,
        text: say.text,
    });
    Ok(())
}

/// A move: applied to this session's own player.
fn on_move(ctx: &Context<'_, Arc<World>, Body>, m: Move) -> Result<(), TransportError> {
    let world = ctx.state();
    if player_of(ctx).and_then(|p| world.login.name(p)).is_none() {
        world.stats.moves_refused.fetch_add(1, Relaxed);
        return Ok(());
    }
    let mut body = ctx.session_state();
    if !body.proven {
        if m.proof != body.proof {
            // Its welcome was lost (or the address is forged): once more,
            // one datagram for the one received.
            let proof = body.proof;
            drop(body);
            welcome(ctx, proof, true);
            return Ok(());
        }
        body.proven = true;
    }
    if m.seq > body.last_move {
        body.last_move = m.seq;
        body.dir = m.dir.map(|d| {
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

/// The player leaves with their TCP session: logged out, their UDP
/// sessions closed.
fn on_leave(ctx: &Context<'_, Arc<World>, Chatter>) {
    let Some(player) = player_of(ctx) else { return };
    let world = ctx.state();
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
    tcp: ServerHandle<Arc<World>, Chatter>,
    udp: ServerHandle<Arc<World>, Body>,
    stop: watch::Sender<bool>,
    game_loop: tokio::task::JoinHandle<()>,
}

impl GameServer {
    /// Binds the TCP and UDP servers on `ip` (ephemeral ports) with keys
    /// (and players) from `login`, and starts the game loop at `tick_hz`.
    pub async fn start(
        login: Arc<Login>,
        ip: std::net::IpAddr,
        tick_hz: f64,
    ) -> Result<Self, TransportError> {
        let world = Arc::new(World {
            login: login.clone(),
            udp: OnceLock::new(),
            stats: GameStats::default(),
        });
        let config = ServerConfig::default()
            .with_max_sessions(MAX_PLAYERS)
            .sealed(login.server_security());
        let tcp_router = Router::<Arc<World>, Chatter>::default()
            .on_connect(|ctx| {
                if let Some(name) = player_of(ctx).and_then(|p| ctx.state().login.name(p)) {
                    ctx.session_state().name = name;
                }
            })
            .on_connect(|ctx| welcome(ctx, 0, false))
            .on::<Say>(on_say) // borrowed: `say.text` points into the receive buffer
            .on_disconnect(|ctx, _| on_leave(ctx));
        let udp_router = Router::<Arc<World>, Body>::default()
            .on_connect(on_udp_connect)
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

    /// UDP datagrams the server dropped: not a frame of a session it
    /// knows (forged, under unknown keys, replayed, plaintext).
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

/// The fixed-tick loop: move every player (each UDP session's own
/// state), broadcast the snapshot over UDP.
async fn game_loop(
    world: Arc<World>,
    udp: Arc<Sessions<Body>>,
    tick_hz: f64,
    mut stop: watch::Receiver<bool>,
) {
    let period = Duration::from_secs_f64(1.0 / tick_hz.clamp(1.0, 1000.0));
    let dt = period.as_secs_f32();
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut snapshot = Snapshot::default();
    for tick in 1.. {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => return,
        }
        snapshot.tick = tick;
        snapshot.players.clear();
        udp.for_each(|session| {
            let Some(id) = session.identity().and_then(|id| u32::try_from(id).ok()) else {
                return;
            };
            let mut body = session.state();
            for axis in 0..2 {
                body.pos[axis] =
                    (body.pos[axis] + body.dir[axis] * SPEED * dt).clamp(-100.0, 100.0);
            }
            if snapshot.players.len() < MAX_PLAYERS {
                snapshot.players.push(PlayerState {
                    id,
                    pos: body.pos,
                    last_move: body.last_move,
                });
            }
        });
        snapshot.players.sort_by_key(|p| p.id);
        // Only to clients that proved their address (see the module docs).
        let report = udp.broadcast_where(&snapshot, |s| s.state().proven);
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
