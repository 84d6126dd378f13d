// `Router::on_set::<M>` needs a `#[derive(PacketSet)]` enum.
use packet_net::server::Router;

#[allow(dead_code)]
enum NotDerived {
    A,
}

fn main() {
    let _router = Router::<()>::new().on_set::<NotDerived>(|_, _| Ok(()));
}
