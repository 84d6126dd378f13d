//! Echo over UDP, the client: a connected socket sends a few packets and
//! checks the echoes.
//!
//! ```sh
//! cargo run --example echo_udp_client [127.0.0.1:7402]
//! ```

use std::time::{Duration, Instant};

use packet_examples::ECHO;
use packet_net::transport::TransportConfig;
use packet_net::transport::blocking::UdpPacketSocket;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7402".into());
    let config = TransportConfig::default().with_read_timeout(Some(Duration::from_secs(2)));
    let mut socket = UdpPacketSocket::bind_with("127.0.0.1:0", config)?;
    socket.connect(&addr)?;
    for i in 0..5u32 {
        let body = i.to_le_bytes();
        let start = Instant::now();
        socket.send_raw(ECHO, &body)?;
        let frame = socket.recv()?;
        assert_eq!(frame.body(), body);
        println!("datagram {i} echoed in {:?}", start.elapsed());
    }
    Ok(())
}
