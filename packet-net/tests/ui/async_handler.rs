// A handler is synchronous: an `async` block is refused. Start the async
// work from the handler with a `'static` session handle instead.
use packet_net::Packet;
use packet_net::server::Router;

#[derive(Packet)]
#[packet(id = 1)]
struct Ping {
    n: u32,
}

fn main() {
    let _router = Router::<()>::new().on::<Ping>(|_ctx, ping| async move {
        let _ = ping.n;
        Ok(())
    });
}
