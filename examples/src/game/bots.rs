//! The bots: players that log in, join over sealed TCP and UDP, send a
//! move every 50 ms and a chat line now and then, and count what comes
//! back. One kind on tokio, one on plain threads (the blocking
//! transport), and a cheater that tries to move someone else.
//!
//! What the server sends is one `#[derive(PacketSet)]` enum,
//! [`FromServer`], decoded by type id.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use packet_net::PacketSet;
use packet_net::frame::Frame;
use packet_net::transport::{TransportError, blocking, tokio as tk};

use super::login::{Credentials, Login};
use super::protocol::{ChatLine, Hello, Move, Say, Snapshot, Welcome};
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
    /// Chat lines sent and received.
    pub said: AtomicU64,
    /// Chat lines received.
    pub heard: AtomicU64,
}

/// One bot's view of the game, shared by both bot kinds.
struct Play {
    me: u32,
    hello: Hello,
    udp_welcomed: bool,
    last_seen: u32,
    seq: u32,
    stats: Arc<BotStats>,
}

impl Play {
    fn new(creds: &Credentials, stats: Arc<BotStats>) -> Self {
        Self {
            me: creds.player,
            hello: Hello {
                player: creds.player,
                ticket: creds.ticket,
            },
            udp_welcomed: false,
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
            seq: self.seq,
            dir: [a.cos(), a.sin()],
        }
    }

    /// Whether to say something with this move.
    fn says(&self) -> bool {
        self.seq % SAY_EVERY == 0
    }

    /// Takes one frame from the server.
    fn on_frame(&mut self, frame: Frame<'_>) -> Result<(), TransportError> {
        match FromServer::decode_frame(&frame)? {
            FromServer::Welcome(_) => {
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
    let mut play = Play::new(&creds, stats.clone());
    let mut tcp = tk::TcpPacketStream::connect(addrs.tcp)
        .await?
        .sealed(creds.tcp);
    tcp.send(&play.hello).await?;
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
                if !play.udp_welcomed {
                    udp.send(&play.hello).await?; // until the server answers
                }
                udp.send(&play.next_move()).await?;
                if play.says() {
                    tcp.send(&Say { text: "gg" }).await?;
                    stats.said.fetch_add(1, Relaxed);
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
    let mut play = Play::new(&creds, stats.clone());
    let mut tcp = blocking::TcpPacketStream::connect(addrs.tcp)?.sealed(creds.tcp);
    tcp.set_read_timeout(Some(Duration::from_secs(5)))?;
    tcp.send(&play.hello)?;
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
            if !play.udp_welcomed {
                udp.send(&play.hello)?;
            }
            udp.send(&play.next_move())?;
            if play.says() {
                tcp.send(&Say { text: "o/" })?;
                stats.said.fetch_add(1, Relaxed);
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

/// A cheater: logs in as itself, then over UDP claims to be `victim`
/// (with its own ticket) and sends moves. The server must refuse both:
/// the hello's ticket is not the victim's, and a session without a
/// player moves nobody.
pub async fn cheater(login: &Login, addrs: Addrs, victim: u32) -> Result<(), TransportError> {
    let creds = login.login("mallory")?;
    let mut udp = tk::UdpPacketSocket::bind((addrs.udp.ip(), 0))
        .await?
        .sealed(creds.udp);
    udp.connect(addrs.udp).await?;
    udp.send(&Hello {
        player: victim,
        ticket: creds.ticket,
    })
    .await?;
    for seq in 1..=3 {
        udp.send(&Move {
            seq: 1_000_000 + seq,
            dir: [1.0, 1.0],
        })
        .await?;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}
