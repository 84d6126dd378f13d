//! Echo over TCP, the server (the seed's 01): the blocking multi-threaded
//! server with one handler that sends every `ECHO` frame back.
//!
//! ```sh
//! cargo run --example echo_tcp_server            # listens on 127.0.0.1:7401
//! cargo run --example echo_tcp_client            # in another terminal
//! ```

use packet_examples::ECHO;
use packet_net::server::blocking::Server;
use packet_net::server::{DisconnectReason, Router, ServerConfig};

fn main() -> Result<(), packet_net::transport::TransportError> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7401".into());
    let router = Router::<()>::new()
        .on_frame(ECHO, |ctx, frame| ctx.reply_raw(ECHO, frame.body()))
        .on_connect(|ctx| println!("{} connected from {}", ctx.id(), ctx.peer_addr()))
        .on_disconnect(|ctx, why: &DisconnectReason| println!("{} left: {why:?}", ctx.id()));
    let server = Server::bind(&addr, ServerConfig::default(), router, ())?;
    println!("echo server on {} (Ctrl-C to stop)", server.local_addr());
    loop {
        std::thread::park();
    }
}
