// 70,000 bytes: over TCP yes, in one UDP datagram (65,504 bytes) never.
use packet_core::Packet;
use packet_net::transport::blocking::UdpPacketSocket;

#[derive(Packet)]
#[packet(id = 9)]
struct Terrain {
    heights: [[u8; 250]; 280],
}

fn send(socket: &mut UdpPacketSocket, t: &Terrain) {
    let _ = socket.send(t);
}

fn main() {
    let _send: fn(&mut UdpPacketSocket, &Terrain) = send;
}
