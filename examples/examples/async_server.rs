//! Async work from handlers (tokio server): a handler cannot `.await`,
//! but it can start a task with `'static` handles to its session
//! (`ctx.session()`) and to every session (`ctx.sessions()`), return at
//! once, and let the task reply when its work is done. Each session also
//! keeps its own typed state (`Router<S, U>`), here the lookups it asked.
//! (`Router::on_async` does the spawning for you when a handler needs
//! only the session handle and the packet.)
//!
//! The example runs the server and two clients in one process and exits:
//!
//! ```sh
//! cargo run --example async_server
//! ```

use std::time::Duration;

use packet_net::server::tokio::Server;
use packet_net::server::{Router, ServerConfig};
use packet_net::transport::TransportError;
use packet_net::transport::tokio::TcpPacketStream;
use packet_net::{Packet, PacketSet};

/// "What is player `player`'s rating?"
#[derive(Packet, Debug)]
#[packet(id = 0x0A01)]
struct Lookup {
    player: u32,
}

/// The answer, sent by a task after the handler returned.
#[derive(Packet, Debug)]
#[packet(id = 0x0A02)]
struct Rating {
    player: u32,
    rating: u16,
    /// How many lookups this session has asked so far.
    asked: u32,
}

/// What a client receives.
#[derive(PacketSet, Debug)]
enum Reply {
    Rating(Rating),
}

/// Per-session state: made when the session opens, one lock each.
#[derive(Default)]
struct Client {
    asked: u32,
}

/// A slow service a real server would await: a database, a matchmaker.
async fn rating_of(player: u32) -> u16 {
    tokio::time::sleep(Duration::from_millis(20)).await;
    1000 + (player % 500) as u16
}

fn router() -> Router<(), Client> {
    Router::<(), Client>::default().on_frame(Lookup::ID, |ctx, frame| {
        let lookup: Lookup = frame.decode_packet()?;
        let asked = {
            let mut client = ctx.session_state();
            client.asked += 1;
            client.asked
        }; // the guard is dropped before the task: never hold it across an await
        let session = ctx.session().clone(); // 'static: moves into the task
        tokio::spawn(async move {
            let rating = rating_of(lookup.player).await;
            // The session may have ended meanwhile: then this is `Closed`.
            let _ = session.send(&Rating {
                player: lookup.player,
                rating,
                asked,
            });
        });
        Ok(())
    })
}

/// Runs the server and two clients; returns the ratings they received.
async fn run() -> Result<Vec<(u32, u16, u32)>, TransportError> {
    let server = Server::bind("127.0.0.1:0", ServerConfig::default(), router(), ()).await?;
    println!("async server on {}", server.local_addr());
    let mut got = Vec::new();
    for client in 0..2u32 {
        let mut stream = TcpPacketStream::connect(server.local_addr()).await?;
        for player in [7, 42] {
            stream
                .send(&Lookup {
                    player: player + client,
                })
                .await?;
        }
        for _ in 0..2 {
            let frame = stream.recv().await?;
            let Reply::Rating(r) = Reply::decode_frame(&frame)?;
            println!(
                "client {client}: player {} is rated {} (lookup {})",
                r.player, r.rating, r.asked
            );
            got.push((r.player, r.rating, r.asked));
        }
    }
    server.shutdown().await;
    Ok(got)
}

#[tokio::main]
async fn main() -> Result<(), TransportError> {
    run().await.map(drop)
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn every_lookup_is_answered_by_its_task() {
        let mut got = super::run().await.unwrap();
        got.sort();
        // Each session counted its own lookups (1 and 2, twice).
        assert_eq!(
            got,
            [(7, 1007, 1), (8, 1008, 1), (42, 1042, 2), (43, 1043, 2)]
        );
    }
}
