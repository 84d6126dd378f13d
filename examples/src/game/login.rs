//! The login service: who a player is, and the keys of their game
//! sessions.
//!
//! A player logs in by name (a real game checks a password or an account
//! service here, over TLS) and gets a player id, a ticket, and a fresh
//! token and keys for each game session (one TCP, one UDP). The game
//! servers' key provider ([`Login::server_security`]) hands each token's
//! keys out once, so every session has its own keys. The ticket is what a
//! session's first packet ([`Hello`](super::protocol::Hello)) proves the
//! player with; it travels only inside sealed frames.
//!
//! In this example the service is called in-process; the demo
//! (`demo serve`) shows a login listener on the network.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use packet_net::crypto::{ChannelKeys, SecretKey};
use packet_net::transport::{ClientSecurity, ServerSecurity, SessionToken};

/// What a login hands the player's client.
#[derive(Debug)]
pub struct Credentials {
    /// The player id.
    pub player: u32,
    /// The ticket each game session's hello carries.
    pub ticket: [u8; 16],
    /// The TCP (chat) session's token and keys.
    pub tcp: ClientSecurity,
    /// The UDP (moves) session's token and keys.
    pub udp: ClientSecurity,
}

/// A logged-in player.
#[derive(Debug)]
struct Account {
    name: String,
    ticket: [u8; 16],
}

#[derive(Debug, Default)]
struct Table {
    next_player: u32,
    accounts: HashMap<u32, Account>,
    /// Session keys not yet taken by a game server.
    keys: HashMap<SessionToken, ChannelKeys>,
}

/// The login service; see the module docs.
#[derive(Debug, Default)]
pub struct Login {
    table: Mutex<Table>,
}

fn random<const N: usize>() -> std::io::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(bytes)
}

impl Login {
    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Logs `name` in: a new player id, a ticket, and keys for one TCP
    /// and one UDP session.
    pub fn login(&self, name: &str) -> std::io::Result<Credentials> {
        let ticket = random::<16>()?;
        let session = || -> std::io::Result<(SessionToken, ChannelKeys)> {
            let token = SessionToken(random::<16>()?);
            let keys = ChannelKeys::new(
                SecretKey::from_bytes(random::<32>()?),
                SecretKey::from_bytes(random::<32>()?),
            );
            Ok((token, keys))
        };
        let (tcp, udp) = (session()?, session()?);
        let mut table = self.table();
        table.next_player += 1;
        let player = table.next_player;
        table.accounts.insert(
            player,
            Account {
                name: name.chars().take(super::protocol::MAX_NAME).collect(),
                ticket,
            },
        );
        table.keys.insert(tcp.0, tcp.1.clone());
        table.keys.insert(udp.0, udp.1.clone());
        Ok(Credentials {
            player,
            ticket,
            tcp: ClientSecurity::new(tcp.0, tcp.1),
            udp: ClientSecurity::new(udp.0, udp.1),
        })
    }

    /// The player's name if `ticket` is theirs.
    pub fn check(&self, player: u32, ticket: &[u8; 16]) -> Option<String> {
        let table = self.table();
        let account = table.accounts.get(&player)?;
        // Compare every byte (no early exit on the first difference).
        let diff = account
            .ticket
            .iter()
            .zip(ticket)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        (diff == 0).then(|| account.name.clone())
    }

    /// Forgets the player: their ticket no longer checks out.
    pub fn logout(&self, player: u32) {
        self.table().accounts.remove(&player);
    }

    /// The game servers' key provider: each token's keys, once.
    pub fn server_security(self: &Arc<Self>) -> ServerSecurity {
        let login = self.clone();
        ServerSecurity::new(move |token| login.table().keys.remove(token))
    }
}
