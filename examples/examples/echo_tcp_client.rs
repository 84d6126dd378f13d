//! Echo over TCP, the client: sends a few packets, checks the echoes.
//!
//! ```sh
//! cargo run --example echo_tcp_client [127.0.0.1:7401]
//! ```

use std::time::{Duration, Instant};

use packet_examples::ECHO;
use packet_net::transport::TransportConfig;
use packet_net::transport::blocking::TcpPacketStream;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7401".into());
    let config = TransportConfig::default().with_read_timeout(Some(Duration::from_secs(5)));
    let mut stream = TcpPacketStream::connect_with(&addr, config)?;
    for i in 0..5 {
        let text = format!("hello #{i}");
        let start = Instant::now();
        stream.send_raw(ECHO, text.as_bytes())?;
        let frame = stream.recv()?;
        assert_eq!(frame.body(), text.as_bytes());
        println!(
            "echoed {:?} (seq {}) in {:?}",
            std::str::from_utf8(frame.body())?,
            frame.sequence(),
            start.elapsed()
        );
    }
    stream.close()?;
    Ok(())
}
