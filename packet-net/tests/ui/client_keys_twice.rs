// One session's keys serve one session: a copy would number a second
// session's frames from 0 under the same key (nonce reuse).
use packet_net::crypto::{ChannelKeys, SecretKey};
use packet_net::transport::{ClientSecurity, SessionToken};

fn main() {
    let keys = ChannelKeys::shared(SecretKey::from_bytes([2; 32]));
    let client = ClientSecurity::new(SessionToken([1; 16]), keys);
    let _again = client.clone();
}
