//! A chat server (the seed's 07): sessions with ids, dispatch by packet
//! type, broadcast, and an announcement when someone leaves. Runs on the
//! tokio server; handlers are plain closures.
//!
//! ```sh
//! cargo run --example chat_server                 # listens on 127.0.0.1:7407
//! cargo run --example chat_client -- ana          # in other terminals
//! ```

use std::collections::HashMap;
use std::sync::Mutex;

use packet_examples::{Join, Said, Say};
use packet_net::Packet as _;
use packet_net::server::tokio::Server;
use packet_net::server::{Router, ServerConfig, SessionId};

/// Names by session.
#[derive(Default)]
struct Room {
    names: Mutex<HashMap<SessionId, String>>,
}

impl Room {
    fn name(&self, id: SessionId) -> String {
        let names = self.names.lock().unwrap();
        names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("guest{}", id.0))
    }
}

#[tokio::main]
async fn main() -> Result<(), packet_net::transport::TransportError> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7407".into());
    let router = Router::<Room>::new()
        .on_frame(Join::ID, |ctx, frame| {
            let join: Join<'_> = frame.decode_packet()?;
            ctx.state()
                .names
                .lock()
                .unwrap()
                .insert(ctx.id(), join.name.to_owned());
            println!("{} joined as {}", ctx.id(), join.name);
            ctx.broadcast(&Said {
                from: ctx.id().0,
                name: join.name,
                event: 1,
                text: "",
            });
            Ok(())
        })
        .on_frame(Say::ID, |ctx, frame| {
            let say: Say<'_> = frame.decode_packet()?;
            let name = ctx.state().name(ctx.id());
            ctx.broadcast(&Said {
                from: ctx.id().0,
                name: &name,
                event: 0,
                text: say.text,
            });
            Ok(())
        })
        .on_disconnect(|ctx, why| {
            let name = ctx.state().name(ctx.id());
            println!("{} ({name}) left: {why:?}", ctx.id());
            ctx.broadcast_others(&Said {
                from: ctx.id().0,
                name: &name,
                event: 2,
                text: "",
            });
            ctx.state().names.lock().unwrap().remove(&ctx.id());
        });
    let server = Server::bind(&addr, ServerConfig::default(), router, Room::default()).await?;
    println!("chat server on {} (Ctrl-C to stop)", server.local_addr());
    std::future::pending::<()>().await;
    Ok(())
}
