//! The servers `docs/vectors/interop.py` (a Python client written from
//! docs/wire-format.md alone) talks to: echo servers of type `ECHO` on
//! consecutive ports from a base (default 7410), until killed.
//!
//! | port   | transport | fingerprint        | sessions |
//! |--------|-----------|--------------------|----------|
//! | base   | TCP       | none               | default  |
//! | base+1 | TCP       | the `Interop` set  | 2        |
//! | base+2 | UDP       | none               | default  |
//! | base+3 | UDP       | the `Interop` set  | 1        |
//! | base+4 | TCP       | none, sealed       | default  |
//! | base+5 | UDP       | the set, sealed    | default  |
//!
//! The sealed servers (feature `crypto`) take any token that starts with
//! `interop:`, once each, with the keys `[0xC2; 16] ++ token` (client to
//! server) and `[0x2C; 16] ++ token` (server to client): a test key
//! provider, predictable on purpose.
//!
//! ```sh
//! cargo run -p packet-examples --example interop_server [BASE_PORT]
//! python3 docs/vectors/interop.py --port BASE_PORT
//! ```

use packet_examples::ECHO;
use packet_net::layout::Fingerprint;
use packet_net::server::blocking::{Server, UdpServer};
use packet_net::server::{Router, ServerConfig};
use packet_net::{Packet, PacketSet};

/// The packet the client's fingerprint describes: `packet Echo = 0x0001
/// { data: bytes }` (the servers echo raw bodies whatever they hold).
#[derive(Packet)]
#[packet(id = 0x0001)]
struct Echo<'a> {
    #[allow(dead_code)]
    data: &'a [u8],
}

#[derive(PacketSet)]
#[allow(dead_code)]
enum Interop<'a> {
    Echo(Echo<'a>),
}

fn echo() -> Router<()> {
    Router::new().on_frame(ECHO, |ctx, frame| ctx.reply_raw(ECHO, frame.body()))
}

/// The test key provider of the sealed servers (see the module docs).
#[cfg(feature = "crypto")]
fn sealed(config: ServerConfig) -> ServerConfig {
    use packet_net::crypto::{ChannelKeys, SecretKey};
    use packet_net::transport::ServerSecurity;
    let used = std::sync::Mutex::new(std::collections::HashSet::new());
    config.sealed(ServerSecurity::new(move |token| {
        let t = token.0;
        if !t.starts_with(b"interop:") || !used.lock().ok()?.insert(t) {
            return None;
        }
        let key = |fill: u8| {
            let mut k = [fill; 32];
            k[16..].copy_from_slice(&t);
            SecretKey::from_bytes(k)
        };
        Some(ChannelKeys::new(key(0xC2), key(0x2C)))
    }))
}

fn main() -> Result<(), packet_net::transport::TransportError> {
    let base: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse().expect("BASE_PORT: a port number"))
        .unwrap_or(7410);
    let fp = <Interop<'_> as Fingerprint>::FINGERPRINT;
    let checked = |n| {
        ServerConfig::default()
            .with_fingerprint(fp)
            .with_max_sessions(n)
    };
    let ip = "127.0.0.1";
    let _tcp = Server::bind((ip, base), ServerConfig::default(), echo(), ())?;
    let _tcp_fp = Server::bind((ip, base + 1), checked(2), echo(), ())?;
    let _udp = UdpServer::bind((ip, base + 2), ServerConfig::default(), echo(), ())?;
    let _udp_fp = UdpServer::bind((ip, base + 3), checked(1), echo(), ())?;
    #[cfg(feature = "crypto")]
    let _sealed = (
        Server::bind((ip, base + 4), sealed(ServerConfig::default()), echo(), ())?,
        UdpServer::bind((ip, base + 5), sealed(checked(1024)), echo(), ())?,
    );
    println!(
        "interop servers on {ip}:{base}..{} (fingerprint {fp:#018x})",
        base + 5
    );
    loop {
        std::thread::park();
    }
}
