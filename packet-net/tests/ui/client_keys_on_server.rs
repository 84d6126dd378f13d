// A client's token and keys cannot configure a server: it needs a key
// provider (`ServerSecurity`).
use packet_net::crypto::{ChannelKeys, SecretKey};
use packet_net::server::ServerConfig;
use packet_net::transport::{ClientSecurity, SessionToken};

fn main() {
    let keys = ChannelKeys::shared(SecretKey::from_bytes([2; 32]));
    let client = ClientSecurity::new(SessionToken([1; 16]), keys);
    let _config = ServerConfig::default().sealed(client);
}
