// A key provider is an accepting end's: a connecting stream takes a
// client's `ClientSecurity`.
use packet_net::transport::ServerSecurity;
use packet_net::transport::blocking::TcpPacketStream;

fn main() -> Result<(), packet_net::transport::TransportError> {
    let provider = ServerSecurity::new(|_| None);
    let _s = TcpPacketStream::connect("127.0.0.1:1")?.sealed(provider);
    Ok(())
}
