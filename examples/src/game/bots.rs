//! The bots: players that log in, join over sealed TCP and UDP, send a
//! move every 50 ms and a chat line now and then, and count what comes
//! back (and whether anyone but themselves ever moved them). One kind on
//! tokio, one on plain threads (the blocking transport), and a cheater
//! that tries to move others.
//!
//! What the server sends is one `#[derive(PacketSet)]` enum,
//! [`FromServer`], decoded by type id.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use packet_net::PacketSet;
use packet_net::frame::Frame;
use packet_net::transport::{TransportError, blocking, tokio as tk};

use super::login::Login;
use super::protocol::{ChatLine, Move, Say, Snapshot, Welcome};
use super::server::Addrs;

/// How often a bot moves.
const MOVE_EVERY: Duration = Duration::from_millis(50);
/// A chat line every this many moves.
const SAY_EVERY: u32 = 10;

/// Everything the server sends a client.
#[derive(PacketSet, Debug)]
pub enum FromServer<'a> {
    /// A session's hello checked out.
    Welcome(Welcome),
    /// Chat (TCP).
    Chat(ChatLine<'a>),
    /// The world (UDP).
    Snapshot(Snapshot),
}

/// What the bots counted, all bots together.
#[derive(Debug, Default)]
pub struct BotStats {
    /// Bots that got both welcomes (TCP and UDP).
    pub joined: AtomicU64,
    /// Moves sent.
    pub moves: AtomicU64,
    /// Snapshots received.
    pub snapshots: AtomicU64,
    /// Snapshots showing the bot's own latest moves applied (its
    /// `last_move` advanced).
    pub moves_seen: AtomicU64,
    /// Snapshots showing a bot with a move it never sent: someone else
    /// moved it (must stay 0).
    pub foreign_moves: AtomicU64,
    /// Chat lines sent.
    pub said: AtomicU64,
    /// Chat lines received.
    pub heard: AtomicU64,
}

/// One bot's view of the game, shared by both bot kinds.
struct Play {
    me: u32,
    udp_welcomed: bool,
    /// The UDP welcome's proof, sent back in every move.
    proof: u64,
    last_seen: u32,
    seq: u32,
    stats: Arc<BotStats>,
}

impl Play {
    fn new(me: u32, stats: Arc<BotStats>) -> Self {
        Self {
            me,
            udp_welcomed: false,
            proof: 0,
            last_seen: 0,
            seq: 0,
            stats,
        }
    }

    /// The next move: circling, a different phase per player.
    fn next_move(&mut self) -> Move {
        self.seq += 1;
        self.stats.moves.fetch_add(1, Relaxed);
        let a = self.seq as f32 * 0.1 + self.me as f32;
        Move {
            proof: self.proof,
            seq: self.seq,
            dir: [a.cos(), a.sin()],
        }
    }

    /// Whether to say something with this move.
    fn says(&self) -> bool {
        self.seq.is_multiple_of(SAY_EVERY)
    }

    /// A chat line, counted.
    fn say(&self, text: &'static str) -> Say<'static> {
        self.stats.said.fetch_add(1, Relaxed);
        Say { text }
    }

    /// Takes one frame from the server.
    fn on_frame(&mut self, frame: Frame<'_>) -> Result<(), TransportError> {
        match FromServer::decode_frame(&frame)? {
            FromServer::Welcome(w) => {
                if w.proof != 0 {
                    self.proof = w.proof; // the UDP welcome
                }
                if !self.udp_welcomed {
                    self.udp_welcomed = true;
                    self.stats.joined.fetch_add(1, Relaxed);
                }
            }
            FromServer::Chat(_) => {
                self.stats.heard.fetch_add(1, Relaxed);
            }
            FromServer::Snapshot(s) => {
                self.stats.snapshots.fetch_add(1, Relaxed);
                let mine = s.players.iter().find(|p| p.id == self.me);
                if mine.is_some_and(|p| p.last_move > self.seq) {
                    self.stats.foreign_moves.fetch_add(1, Relaxed);
                }
                if let Some(p) = mine.filter(|p| p.last_move > self.last_seen) {
                    self.last_seen = p.last_move;
                    self.stats.moves_seen.fetch_add(1, Relaxed);
                }
            }
        }
        Ok(())
    }
}

/// Waits for the TCP welcome (chat from others may come first).
fn is_welcome(frame: &Frame<'_>) -> bool {
    frame.type_id() == <Welcome as packet_net::Packet>::ID
}

/// A tokio bot: logs in as `name`, plays for `run_for`.
pub async fn tokio_bot(
    name: &str,
    login: &Login,
    addrs: Addrs,
    run_for: Duration,
    stats: Arc<BotStats>,
) -> Result<(), TransportError> {
    let creds = login.login(name)?;
    let mut play = Play::new(creds.player, stats);
    let mut tcp = tk::TcpPacketStream::connect(addrs.tcp)
        .await?
        .sealed(creds.tcp);
    // The first frame carries the session hello; the server welcomes us.
    tcp.send(&play.say("hi all")).await?;
    while !is_welcome(&tcp.recv().await?) {}
    let mut udp = tk::UdpPacketSocket::bind((addrs.udp.ip(), 0))
        .await?
        .sealed(creds.udp);
    udp.connect(addrs.udp).await?;
    let end = Instant::now() + run_for;
    let mut tick = tokio::time::interval(MOVE_EVERY);
    while Instant::now() < end {
        tokio::select! {
            _ = tick.tick() => {
                udp.send(&play.next_move()).await?;
                if play.says() {
                    tcp.send(&play.say("gg")).await?;
                }
            }
            frame = udp.recv() => play.on_frame(frame?)?,
            frame = tcp.recv() => play.on_frame(frame?)?,
        }
    }
    tcp.close().await
}

/// A blocking bot (plain threads, the blocking transport): the same
/// player as [`tokio_bot`].
pub fn blocking_bot(
    name: &str,
    login: &Login,
    addrs: Addrs,
    run_for: Duration,
    stats: Arc<BotStats>,
) -> Result<(), TransportError> {
    let creds = login.login(name)?;
    let mut play = Play::new(creds.player, stats);
    let mut tcp = blocking::TcpPacketStream::connect(addrs.tcp)?.sealed(creds.tcp);
    tcp.set_read_timeout(Some(Duration::from_secs(5)))?;
    // The first frame carries the session hello; the server welcomes us.
    tcp.send(&play.say("hello"))?;
    while !is_welcome(&tcp.recv()?) {}
    // Short timeouts: the loop polls both sockets between moves.
    tcp.set_read_timeout(Some(Duration::from_millis(1)))?;
    let mut udp = blocking::UdpPacketSocket::bind((addrs.udp.ip(), 0))?.sealed(creds.udp);
    udp.connect(addrs.udp)?;
    udp.set_read_timeout(Some(Duration::from_millis(5)))?;
    let end = Instant::now() + run_for;
    let mut next_move = Instant::now();
    while Instant::now() < end {
        if Instant::now() >= next_move {
            next_move += MOVE_EVERY;
            udp.send(&play.next_move())?;
            if play.says() {
                tcp.send(&play.say("o/"))?;
            }
        }
        for result in [udp.recv(), tcp.recv()] {
            match result {
                Ok(frame) => play.on_frame(frame)?,
                Err(e) if e.is_timeout() => {}
                Err(e) => return Err(e),
            }
        }
    }
    tcp.close()
}

/// The cheater's moves carry sequence numbers no bot reaches, so a bot
/// that sees one on itself knows it was moved by someone else.
const CHEAT_SEQ: u32 = 1_000_000;

/// A cheater, three ways: over its own session (logged in as "mallory":
/// its moves can only move mallory, as no packet names a player), over a
/// session under made-up keys, and in plaintext (both dropped by the
/// server before any handler). Returns after sending.
pub async fn cheater(login: &Login, addrs: Addrs) -> Result<(), TransportError> {
    use packet_net::crypto::{ChannelKeys, SecretKey};
    use packet_net::transport::{ClientSecurity, SessionToken};

    let made_up = ClientSecurity::new(
        SessionToken([0x42; 16]),
        ChannelKeys::new(
            SecretKey::from_bytes([1; 32]),
            SecretKey::from_bytes([2; 32]),
        ),
    );
    let own = login.login("mallory")?.udp;
    for security in [Some(own), Some(made_up), None] {
        let socket = tk::UdpPacketSocket::bind((addrs.udp.ip(), 0)).await?;
        let mut socket = match security {
            Some(s) => socket.sealed(s),
            None => socket,
        };
        socket.connect(addrs.udp).await?;
        for seq in 1..=3 {
            let dir = [1.0, 1.0];
            socket
                .send(&Move {
                    proof: 0,
                    seq: CHEAT_SEQ + seq,
                    dir,
                })
                .await?;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    Ok(())
}
