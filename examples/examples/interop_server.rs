//! The servers `docs/vectors/interop.py` (a Python client written from
//! docs/wire-format.md alone) talks to: four echo servers of type `ECHO` on
//! consecutive ports from a base (default 7410), until killed.
//!
//! | port   | transport | fingerprint        | sessions |
//! |--------|-----------|--------------------|----------|
//! | base   | TCP       | none               | default  |
//! | base+1 | TCP       | the `Interop` set  | 2        |
//! | base+2 | UDP       | none               | default  |
//! | base+3 | UDP       | the `Interop` set  | 1        |
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
    println!(
        "interop servers on {ip}:{base}..{} (fingerprint {fp:#018x})",
        base + 3
    );
    loop {
        std::thread::park();
    }
}
