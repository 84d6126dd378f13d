//! The login service: who a player is, and the keys of their game
//! sessions.
//!
//! A player logs in by name (a real game checks a password or an account
//! service here, over TLS) and gets a player id and a fresh token and
//! keys for each game session (one TCP, one UDP). The game servers' key
//! provider ([`Login::server_security`]) hands each token's keys out once,
//! *with the player id*: the server ties the session to that player at
//! its handshake (`Context::identity`), before any packet of it is
//! dispatched, so no packet has to say (or can lie about) who sent it.
//!
//! In this example the service is called in-process; the demo
//! (`demo serve`) shows a login listener on the network.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use packet_net::crypto::ChannelKeys;
use packet_net::transport::{ClientSecurity, ServerSecurity, SessionToken, random_keys};

/// What a login hands the player's client.
#[derive(Debug)]
pub struct Credentials {
    /// The player id.
    pub player: u32,
    /// The TCP (chat) session's token and keys.
    pub tcp: ClientSecurity,
    /// The UDP (moves) session's token and keys.
    pub udp: ClientSecurity,
}

#[derive(Debug, Default)]
struct Table {
    next_player: u32,
    /// Logged-in players' names.
    names: HashMap<u32, String>,
    /// Session keys not yet taken by a game server, and whose they are.
    keys: HashMap<SessionToken, (ChannelKeys, u64)>,
}

/// The login service; see the module docs.
#[derive(Debug, Default)]
pub struct Login {
    table: Mutex<Table>,
}

/// A fresh session: a random token and a random key per direction.
fn new_session() -> std::io::Result<(SessionToken, ChannelKeys)> {
    Ok((SessionToken::random()?, random_keys()?))
}

impl Login {
    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Logs `name` in: a new player id and keys for one TCP and one UDP
    /// session.
    pub fn login(&self, name: &str) -> std::io::Result<Credentials> {
        let (tcp, udp) = (new_session()?, new_session()?);
        let mut table = self.table();
        table.next_player += 1;
        let player = table.next_player;
        let name = name.chars().take(super::protocol::MAX_NAME).collect();
        table.names.insert(player, name);
        table.keys.insert(tcp.0, (tcp.1.clone(), u64::from(player)));
        table.keys.insert(udp.0, (udp.1.clone(), u64::from(player)));
        Ok(Credentials {
            player,
            tcp: ClientSecurity::new(tcp.0, tcp.1),
            udp: ClientSecurity::new(udp.0, udp.1),
        })
    }

    /// A logged-in player's name.
    pub fn name(&self, player: u32) -> Option<String> {
        self.table().names.get(&player).cloned()
    }

    /// Logs the player out.
    pub fn logout(&self, player: u32) {
        self.table().names.remove(&player);
    }

    /// The game servers' key provider: each token's keys, once, with the
    /// player they were issued to (the session's identity).
    pub fn server_security(self: &Arc<Self>) -> ServerSecurity {
        let login = self.clone();
        ServerSecurity::with_identity(move |token| login.table().keys.remove(token))
    }
}
