//! The tick-driven style: a game loop drains connects, owned packets and
//! disconnects from an `EventQueue` once per tick; a full queue ends the
//! session whose packet did not fit (the game sees its end) and closes a
//! session whose connect did not fit (the game never sees it).

use std::time::Duration;

use packet_core::{Packet, PacketSet};
use packet_net::server::blocking::{Server, UdpServer};
use packet_net::server::{EventQueue, Router, ServerConfig, ServerEvent};
use packet_net::transport::blocking::{TcpPacketStream, UdpPacketSocket};

use crate::common::wait_until;

const LIMIT: Duration = Duration::from_secs(10);

#[derive(Packet, Debug, PartialEq, Eq)]
#[packet(id = 0x0E51)]
struct Move {
    dx: i8,
    dy: i8,
}

#[derive(Packet, Debug, PartialEq, Eq)]
#[packet(id = 0x0E52)]
struct Say {
    #[packet(max_len = 64)]
    text: String,
}

#[derive(PacketSet, Debug, PartialEq, Eq)]
enum Input {
    Move(Move),
    Say(Say),
}

/// Drains until `n` events have come (or the limit passes).
fn drain(events: &EventQueue<Input>, n: usize) -> Vec<ServerEvent<Input>> {
    let mut out = Vec::new();
    wait_until(LIMIT, || {
        events.drain(&mut out);
        out.len() >= n
    });
    out
}

fn connect(addr: std::net::SocketAddr) -> TcpPacketStream {
    let c = TcpPacketStream::connect(addr).unwrap();
    c.set_read_timeout(Some(LIMIT)).unwrap();
    c
}

#[test]
fn a_game_loop_drains_connects_packets_and_disconnects() {
    let events = EventQueue::<Input>::new(64);
    let router = Router::<()>::new().queue_events(&events);
    let server = Server::bind("127.0.0.1:0", ServerConfig::default(), router, ()).unwrap();
    let mut client = connect(server.local_addr());
    client.send(&Move { dx: 1, dy: -1 }).unwrap();
    client.send(&Say { text: "gg".into() }).unwrap();
    let got = drain(&events, 3);
    let ServerEvent::Connected(id) = got[0] else {
        panic!("{got:?}")
    };
    assert_eq!(
        got[1..],
        [
            ServerEvent::Packet(id, Input::Move(Move { dx: 1, dy: -1 })),
            ServerEvent::Packet(id, Input::Say(Say { text: "gg".into() })),
        ]
    );
    drop(client);
    let got = drain(&events, 1);
    // The client left: no notice's reason, the text says so.
    assert!(
        matches!(&got[..], [ServerEvent::Disconnected(i, why)]
            if *i == id && why.reason.is_none() && why.code == 0 && why.to_string() == "peer closed"),
        "{got:?}"
    );

    // A kick carries its class and code (the sixth new-user trial: the
    // game loop had only text to match).
    let mut client = connect(server.local_addr());
    client.send(&Move { dx: 0, dy: 0 }).unwrap();
    let got = drain(&events, 2);
    let ServerEvent::Connected(id) = got[0] else {
        panic!("{got:?}")
    };
    assert!(server.sessions().close_with(id, 4001));
    let got = drain(&events, 1);
    assert!(
        matches!(&got[..], [ServerEvent::Disconnected(i, why)]
            if *i == id
            && why.reason == Some(packet_net::transport::CloseReason::Application)
            && why.code == 4001),
        "{got:?}"
    );
    drop(client);

    // UDP: the same events from datagrams (a queue per server: session
    // ids are per server).
    let events = EventQueue::<Input>::new(64);
    let router = Router::<()>::new().queue_events(&events);
    let udp = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), router, ()).unwrap();
    let mut socket = UdpPacketSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(udp.local_addr()).unwrap();
    socket.send(&Move { dx: 0, dy: 2 }).unwrap();
    let got = drain(&events, 2);
    assert!(matches!(
        &got[..],
        [ServerEvent::Connected(a), ServerEvent::Packet(b, Input::Move(Move { dx: 0, dy: 2 }))] if a == b
    ));
}

#[test]
fn a_full_queue_ends_sessions_and_never_hides_an_end() {
    // Room for a connect and one packet.
    let events = EventQueue::<Input>::new(2);
    let router = Router::<()>::new()
        .queue_events(&events)
        .on_frame(1, |ctx, _| ctx.reply_raw(1, b"pong"));
    let server = Server::bind("127.0.0.1:0", ServerConfig::default(), router, ()).unwrap();
    let mut a = connect(server.local_addr());
    a.send(&Move { dx: 1, dy: 1 }).unwrap();
    a.send_raw(1, b"").unwrap();
    a.send(&Move { dx: 2, dy: 2 }).unwrap(); // does not fit: `a` ends
    assert_eq!(
        a.recv().unwrap().body(),
        b"pong",
        "replies before the end go out"
    );
    // The game loop is behind: the server's failure, not the client's.
    let server_error = |e: packet_net::transport::TransportError| match e {
        packet_net::transport::TransportError::ClosedByServer(n) => {
            n.reason == packet_net::transport::CloseReason::ServerError
        }
        _ => false,
    };
    let e = a.recv().map(|_| ()).unwrap_err();
    assert!(server_error(e), "the session ended, told why");
    // `b` connects while the queue is still full: closed unseen, and told
    // it is the server's failure, not the application's decision.
    let mut b = connect(server.local_addr());
    let e = b.recv().map(|_| ()).unwrap_err();
    assert!(server_error(e), "a connect that did not fit");
    assert!(wait_until(LIMIT, || server.sessions().is_empty()));
    assert_eq!(events.refused(), 2);
    let got = drain(&events, 3);
    let ServerEvent::Connected(id) = got[0] else {
        panic!("{got:?}")
    };
    assert_eq!(
        got[1],
        ServerEvent::Packet(id, Input::Move(Move { dx: 1, dy: 1 }))
    );
    assert!(
        matches!(&got[2], ServerEvent::Disconnected(i, why) if *i == id
            && why.text.contains("event queue full")
            && why.reason == Some(packet_net::transport::CloseReason::ServerError)),
        "{got:?}"
    );
    assert_eq!(got.len(), 3, "nothing of `b`: {got:?}");
}
