//! The game's packets, derived (`#[derive(Packet)]`): the welcome, chat
//! (TCP), moves and snapshots (UDP).
//!
//! No packet a client sends names a player: the server knows whom a
//! session belongs to from the session's keys (the login service's key
//! provider returns the player with them: `Context::identity`), so a
//! client can only ever speak for itself.

use packet_net::Packet;

/// Longest player name.
pub const MAX_NAME: usize = 16;
/// Longest chat line.
pub const MAX_SAY: usize = 200;
/// Most players in one snapshot (and sessions per server).
pub const MAX_PLAYERS: usize = 32;

/// Server → client, when a session opens: whom it belongs to.
#[derive(Packet, Debug, Clone, Copy, PartialEq)]
#[packet(id = 0x0302)]
pub struct Welcome {
    /// Whom the session now belongs to.
    pub player: u32,
    /// The server's current tick.
    pub tick: u64,
    /// UDP: a random value the client sends back in its moves
    /// ([`Move::proof`]) before the server pushes it snapshots, proof that
    /// the client receives at the session's address (a forged source
    /// address never sees it; wire format §9, "UDP return routability").
    /// 0 on TCP.
    pub proof: u64,
}

/// Client → server (TCP): a chat line.
#[derive(Packet, Debug, Clone, Copy, PartialEq)]
#[packet(id = 0x0303)]
pub struct Say<'a> {
    /// What.
    #[packet(max_len = 200)]
    pub text: &'a str,
}

/// Server → clients (TCP): someone said something.
#[derive(Packet, Debug, Clone, Copy, PartialEq)]
#[packet(id = 0x0304)]
pub struct ChatLine<'a> {
    /// The speaker's player id (from their session, not from their packet).
    pub from: u32,
    /// The speaker's name.
    #[packet(len = u8, max_len = 16)]
    pub name: &'a str,
    /// What they said.
    #[packet(max_len = 200)]
    pub text: &'a str,
}

/// Client → server (UDP): where the player wants to go. No player field:
/// the move applies to the session's own player.
#[derive(Packet, Debug, Clone, Copy, PartialEq)]
#[packet(id = 0x0305)]
pub struct Move {
    /// The UDP welcome's [`Welcome::proof`], sent back.
    pub proof: u64,
    /// Increases with every move; older moves arriving late are ignored.
    pub seq: u32,
    /// Direction, each component clamped to -1..=1 by the server.
    pub dir: [f32; 2],
}

/// One player in a snapshot.
#[derive(Packet, Debug, Clone, Copy, PartialEq, Default)]
pub struct PlayerState {
    /// Player id.
    pub id: u32,
    /// Position.
    pub pos: [f32; 2],
    /// The last move applied (so a client sees its moves land).
    pub last_move: u32,
}

/// Server → clients (UDP), every tick: the world.
#[derive(Packet, Debug, Clone, PartialEq, Default)]
#[packet(id = 0x0306)]
pub struct Snapshot {
    /// Server tick.
    pub tick: u64,
    /// Every player in the game.
    #[packet(max_len = 32)]
    pub players: Vec<PlayerState>,
}
