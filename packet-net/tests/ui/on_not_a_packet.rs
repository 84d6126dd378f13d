// `Router::on::<P>` needs a derived packet; the error says what to write.
use packet_net::server::Router;

struct NotDerived;

fn main() {
    let _router = Router::<()>::new().on::<NotDerived>(|_, _| Ok(()));
}
