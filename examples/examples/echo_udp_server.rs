//! Echo over UDP, the server (the seed's 02): one frame per datagram;
//! invalid datagrams are dropped and counted.
//!
//! ```sh
//! cargo run --example echo_udp_server            # listens on 127.0.0.1:7402
//! cargo run --example echo_udp_client            # in another terminal
//! ```

use packet_net::transport::blocking::UdpPacketSocket;

fn main() -> Result<(), packet_net::transport::TransportError> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7402".into());
    let mut socket = UdpPacketSocket::bind(&addr)?;
    println!(
        "udp echo server on {} (Ctrl-C to stop)",
        socket.local_addr()?
    );
    let mut buf = socket.new_recv_buf();
    loop {
        // Receive into our own buffer, so the socket is free to reply
        // while the frame is still borrowed from it.
        let (frame, from) = socket.recv_from_in(&mut buf)?;
        socket.send_raw_to(frame.type_id(), frame.body(), from)?;
        let stats = socket.stats();
        if stats.received % 1000 == 1 {
            println!(
                "{} frames echoed, {} bad datagrams dropped",
                stats.received, stats.dropped
            );
        }
    }
}
