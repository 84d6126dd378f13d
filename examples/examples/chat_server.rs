//! A chat server (the seed's 07): sessions with ids, typed dispatch
//! (`on::<Join>` hands the handler a `Join<'_>` borrowing the receive
//! buffer), each session's name kept by the server as its per-session
//! state (no shared map, no global lock), broadcast, and an announcement
//! when someone leaves. Runs on the tokio server; handlers are plain
//! closures.
//!
//! ```sh
//! cargo run --example chat_server                 # listens on 127.0.0.1:7407
//! cargo run --example chat_client -- ana          # in other terminals
//! ```

use packet_examples::{Join, Said, Say};
use packet_net::server::tokio::Server;
use packet_net::server::{Context, Router, ServerConfig};

/// Each session's chat name, empty until it joins.
#[derive(Default)]
struct Name(String);

fn name(ctx: &Context<'_, (), Name>) -> String {
    let name = &ctx.session_state().0;
    if name.is_empty() {
        format!("guest{}", ctx.id().0)
    } else {
        name.clone()
    }
}

#[tokio::main]
async fn main() -> Result<(), packet_net::transport::TransportError> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7407".into());
    let router = Router::<(), Name>::default()
        .on::<Join>(|ctx, join| {
            ctx.session_state().0 = join.name.to_owned();
            println!("{} joined as {}", ctx.id(), join.name);
            ctx.broadcast(&Said {
                from: ctx.id().0,
                name: join.name,
                event: 1,
                text: "",
            });
            Ok(())
        })
        .on::<Say>(|ctx, say| {
            ctx.broadcast(&Said {
                from: ctx.id().0,
                name: &name(ctx),
                event: 0,
                text: say.text,
            });
            Ok(())
        })
        .on_disconnect(|ctx, why| {
            let name = name(ctx);
            println!("{} ({name}) left: {why:?}", ctx.id());
            ctx.broadcast_others(&Said {
                from: ctx.id().0,
                name: &name,
                event: 2,
                text: "",
            });
        });
    let server = Server::bind(&addr, ServerConfig::default(), router, ()).await?;
    println!("chat server on {} (Ctrl-C to stop)", server.local_addr());
    // A graceful stop: replies flushed, each client told "shutting down"
    // by its close notice (killing the process would reset them).
    tokio::signal::ctrl_c().await?;
    println!("stopping: {:?}", server.stats());
    server.shutdown().await;
    Ok(())
}
