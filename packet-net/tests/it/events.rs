//! The tick-driven style: a game loop drains connects, owned packets and
//! disconnects from an `EventQueue` once per tick; a full queue ends the
//! session that filled it (the game sees its end), or, when the one that
//! does not fit holds the most, that one (a connect: the game never sees
//! it).

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

/// The game loop is behind: the server's failure, not the client's.
fn server_error(e: packet_net::transport::TransportError) -> bool {
    match e {
        packet_net::transport::TransportError::ClosedByServer(n) => {
            n.reason == packet_net::transport::CloseReason::ServerError
        }
        _ => false,
    }
}

#[test]
fn a_full_queue_ends_sessions_and_never_hides_an_end() {
    // Room for two connects and two packets: a session alone may hold both.
    let events = EventQueue::<Input>::new(2);
    let router = Router::<()>::new()
        .queue_events(&events)
        .on_frame(1, |ctx, _| ctx.reply_raw(1, b"pong"));
    let server = Server::bind("127.0.0.1:0", ServerConfig::default(), router, ()).unwrap();
    let mut a = connect(server.local_addr());
    a.send(&Move { dx: 1, dy: 1 }).unwrap();
    a.send(&Move { dx: 2, dy: 2 }).unwrap();
    a.send_raw(1, b"").unwrap();
    // Past its share: `a` ends.
    a.send(&Move { dx: 3, dy: 3 }).unwrap();
    assert_eq!(
        a.recv().unwrap().body(),
        b"pong",
        "replies before the end go out"
    );
    let e = a.recv().map(|_| ()).unwrap_err();
    assert!(server_error(e), "the session ended, told why");
    assert!(wait_until(LIMIT, || server.sessions().is_empty()));
    assert_eq!(events.refused(), 1);
    let got = drain(&events, 4);
    let ServerEvent::Connected(id) = got[0] else {
        panic!("{got:?}")
    };
    assert_eq!(
        got[1..3],
        [
            ServerEvent::Packet(id, Input::Move(Move { dx: 1, dy: 1 })),
            ServerEvent::Packet(id, Input::Move(Move { dx: 2, dy: 2 })),
        ]
    );
    assert!(
        matches!(&got[3], ServerEvent::Disconnected(i, why) if *i == id
            && why.text.contains("event queue full")
            && why.reason == Some(packet_net::transport::CloseReason::ServerError)),
        "{got:?}"
    );
    assert_eq!(got.len(), 4, "{got:?}");

    // Connects past their room: the new one is closed unseen, told it
    // is the server's failure.
    let mut x = connect(server.local_addr());
    let mut y = connect(server.local_addr());
    assert!(wait_until(LIMIT, || events.len() == 2));
    let mut z = connect(server.local_addr());
    let e = z.recv().map(|_| ()).unwrap_err();
    assert!(server_error(e), "a connect that did not fit");
    assert_eq!(events.refused(), 2);
    let got = drain(&events, 2);
    assert!(
        matches!(
            &got[..],
            [ServerEvent::Connected(_), ServerEvent::Connected(_)]
        ),
        "nothing of `z`: {got:?}"
    );
    x.send(&Move { dx: 0, dy: 0 }).unwrap();
    y.send(&Move { dx: 0, dy: 0 }).unwrap();
    assert_eq!(drain(&events, 2).len(), 2, "x and y still in");
}

/// A hostile-input run (session 8): flooding peers filled the shared
/// queue and the session ended was whoever came next, an innocent player
/// (told "server error") while the flooders stayed. Each session now has
/// its share of the queue: the flooder is the one ended, and the
/// innocent player goes on.
#[test]
fn a_flooding_session_is_ended_not_the_player_beside_it() {
    let events = EventQueue::<Input>::new(6);
    let router = Router::<()>::new().queue_events(&events);
    let server = Server::bind("127.0.0.1:0", ServerConfig::default(), router, ()).unwrap();
    let mut innocent = connect(server.local_addr());
    assert!(wait_until(LIMIT, || events.len() == 1));
    let mut flooder = connect(server.local_addr());
    assert!(wait_until(LIMIT, || events.len() == 2));
    // The flooder fills the queue (6); its next packet finds it full
    // with the flooder over its share (6 / 2 = 3): the flooder ends.
    for i in 0..10 {
        let _ = flooder.send(&Move { dx: i, dy: 0 });
    }
    let e = flooder.recv().map(|_| ()).unwrap_err();
    assert!(server_error(e), "the flooder is told 'server error'");
    innocent.send(&Move { dx: 9, dy: 9 }).unwrap();
    innocent.send(&Move { dx: 8, dy: 8 }).unwrap();
    // Everything until the player's two packets are in.
    let mut got = Vec::new();
    let mine = |got: &Vec<ServerEvent<Input>>| {
        got.iter()
            .filter(|e| {
                matches!(
                    e,
                    ServerEvent::Packet(_, Input::Move(Move { dx: 8 | 9, .. }))
                )
            })
            .count()
    };
    assert!(wait_until(LIMIT, || {
        events.drain(&mut got);
        mine(&got) == 2
    }));
    let ServerEvent::Connected(me) = got[0] else {
        panic!("{got:?}")
    };
    let ServerEvent::Connected(them) = got[1] else {
        panic!("{got:?}")
    };
    let count = |who| {
        got.iter()
            .filter(|e| matches!(e, ServerEvent::Packet(i, _) if *i == who))
            .count()
    };
    // The player's packets went in, whether the ended flooder's were
    // still queued (they then left first: its end is queued) or drained.
    assert_eq!(count(me), 2, "{got:?}");
    assert!(count(them) <= 6, "{got:?}");
    assert!(
        got.iter()
            .any(|e| matches!(e, ServerEvent::Disconnected(i, why)
            if *i == them && why.text.contains("event queue full"))),
        "{got:?}"
    );
    assert_eq!(events.refused(), 1);
    assert!(wait_until(LIMIT, || server.sessions().len() == 1));
    drop(flooder);
    innocent.send(&Move { dx: 7, dy: 7 }).unwrap();
    assert!(matches!(
        &drain(&events, 1)[..],
        [ServerEvent::Packet(i, _)] if *i == me
    ));
}
