//! Per-session state: each session's own `Player`, made when it opens,
//! changed by its handlers and read or changed from outside them (the
//! game loop, through `Sessions`), on every server (TCP and UDP,
//! blocking and tokio); and `'static` handles (`ctx.session()`,
//! `ctx.sessions()`) that a spawned task uses after the handler returned.

use std::time::Duration;

use packet_net::server::{Router, ServerConfig, Sessions};
use packet_net::transport::blocking::{TcpPacketStream, UdpPacketSocket};

const LIMIT: Duration = Duration::from_secs(10);
const MOVE: u16 = 0x0D01;

#[derive(Default)]
struct Player {
    moves: u32,
}

/// Each MOVE bumps the session's own counter and replies with it.
fn router() -> Router<(), Player> {
    Router::<(), Player>::default().on_frame(MOVE, |ctx, _| {
        let mut player = ctx.session_state();
        player.moves += 1;
        ctx.reply_raw(MOVE, &player.moves.to_le_bytes())
    })
}

fn moves(body: &[u8]) -> u32 {
    u32::from_le_bytes(body.try_into().expect("4 bytes"))
}

/// Two clients, each `round_trip(client, MOVE)` returning the reply's
/// body: their counters are their own, the game loop sees both and can
/// change one.
fn check(sessions: &Sessions<Player>, mut round_trip: impl FnMut(usize) -> Vec<u8>) {
    assert_eq!(moves(&round_trip(0)), 1);
    assert_eq!(moves(&round_trip(0)), 2);
    assert_eq!(moves(&round_trip(1)), 1, "the second session has its own");
    let mut seen = Vec::new();
    sessions.for_each(|s| seen.push((s.id(), s.state().moves)));
    seen.sort();
    assert_eq!(seen.iter().map(|s| s.1).collect::<Vec<_>>(), [2, 1]);
    // The game loop resets the first player; its next move sees it.
    sessions.get(seen[0].0).expect("open").state().moves = 100;
    assert_eq!(moves(&round_trip(0)), 101);
}

fn tcp_clients(addr: std::net::SocketAddr) -> impl FnMut(usize) -> Vec<u8> {
    let mut clients: Vec<_> = (0..2)
        .map(|_| {
            let c = TcpPacketStream::connect(addr).unwrap();
            c.set_read_timeout(Some(LIMIT)).unwrap();
            c
        })
        .collect();
    move |i| {
        clients[i].send_raw(MOVE, &[]).unwrap();
        clients[i].recv().unwrap().body().to_vec()
    }
}

fn udp_clients(addr: std::net::SocketAddr) -> impl FnMut(usize) -> Vec<u8> {
    let mut clients: Vec<_> = (0..2)
        .map(|_| {
            let c = UdpPacketSocket::bind("127.0.0.1:0").unwrap();
            c.connect(addr).unwrap();
            c.set_read_timeout(Some(LIMIT)).unwrap();
            c
        })
        .collect();
    move |i| {
        clients[i].send_raw(MOVE, &[]).unwrap();
        clients[i].recv().unwrap().body().to_vec()
    }
}

#[test]
fn blocking_servers_keep_a_state_per_session() {
    use packet_net::server::blocking::{Server, UdpServer};
    let tcp = Server::bind("127.0.0.1:0", ServerConfig::default(), router(), ()).unwrap();
    check(tcp.sessions(), tcp_clients(tcp.local_addr()));
    let udp = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), router(), ()).unwrap();
    check(udp.sessions(), udp_clients(udp.local_addr()));
}

#[cfg(feature = "tokio")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_servers_keep_a_state_per_session() {
    use packet_net::server::tokio::{Server, UdpServer};
    let config = ServerConfig::default;
    let tcp = Server::bind("127.0.0.1:0", config(), router(), ())
        .await
        .unwrap();
    let udp = UdpServer::bind("127.0.0.1:0", config(), router(), ())
        .await
        .unwrap();
    let (t, u) = (tcp.local_addr(), udp.local_addr());
    let (ts, us) = (tcp.sessions().clone(), udp.sessions().clone());
    tokio::task::spawn_blocking(move || {
        check(&ts, tcp_clients(t));
        check(&us, udp_clients(u));
    })
    .await
    .unwrap();
}

/// A handler starts async work with `'static` handles: the reply comes
/// from a spawned task after the handler returned, and a handle kept past
/// the session's end says `Closed`.
#[cfg(feature = "tokio")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spawned_task_replies_through_its_handles() {
    use packet_net::server::tokio::Server;
    use packet_net::server::{Session, SessionId};
    use packet_net::transport::TransportError;
    use std::sync::{Arc, Mutex};

    let kept: Arc<Mutex<Option<Arc<Session>>>> = Arc::default();
    let k = kept.clone();
    let router = Router::<()>::new().on_frame(MOVE, move |ctx, frame| {
        let session = ctx.session().clone();
        let sessions = ctx.sessions().clone();
        let body = frame.body().to_vec();
        *k.lock().unwrap() = Some(session.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            session.send_raw(MOVE, &body).unwrap();
            let id: SessionId = session.id();
            sessions.send_raw_to(id, MOVE, b"again").unwrap();
        });
        Ok(())
    });
    let server = Server::bind("127.0.0.1:0", ServerConfig::default(), router, ())
        .await
        .unwrap();
    let addr = server.local_addr();
    tokio::task::spawn_blocking(move || {
        let mut client = TcpPacketStream::connect(addr).unwrap();
        client.set_read_timeout(Some(LIMIT)).unwrap();
        client.send_raw(MOVE, b"later").unwrap();
        assert_eq!(client.recv().unwrap().body(), b"later");
        assert_eq!(client.recv().unwrap().body(), b"again");
    })
    .await
    .unwrap();
    // The client is gone: once the server has noticed, the kept handle
    // refuses to queue instead of filling a dead session's queue.
    let session = kept.lock().unwrap().clone().expect("handler ran");
    let end = std::time::Instant::now() + LIMIT;
    while server.sessions().contains(session.id()) && std::time::Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(matches!(
        session.send_raw(MOVE, b"late"),
        Err(TransportError::Closed)
    ));
}

#[derive(packet_core::Packet, Debug, PartialEq)]
#[packet(id = 0x0D02)]
struct Ask {
    n: u32,
}

/// `Router::on_async`: the handler's future runs as its own task and
/// replies through its handle; a failing task closes the session; on the
/// blocking server (no runtime) the session ends with an error.
#[cfg(feature = "tokio")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_async_runs_each_packets_work_as_a_task() {
    use packet_net::server::tokio::Server;
    use packet_net::transport::TransportError;
    let router = || {
        Router::<()>::new().on_async(|session, ask: Ask| async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            if ask.n == 0 {
                return Err(TransportError::Closed); // the work failed
            }
            session.send(&Ask { n: ask.n + 1 })
        })
    };
    let server = Server::bind("127.0.0.1:0", ServerConfig::default(), router(), ())
        .await
        .unwrap();
    let blocking = packet_net::server::blocking::Server::bind(
        "127.0.0.1:0",
        ServerConfig::default(),
        router(),
        (),
    )
    .unwrap();
    let (addr, baddr) = (server.local_addr(), blocking.local_addr());
    tokio::task::spawn_blocking(move || {
        let mut client = TcpPacketStream::connect(addr).unwrap();
        client.set_read_timeout(Some(LIMIT)).unwrap();
        client.send(&Ask { n: 41 }).unwrap();
        let reply: Ask = client.recv().unwrap().decode_packet().unwrap();
        assert_eq!(reply, Ask { n: 42 });
        client.send(&Ask { n: 0 }).unwrap();
        assert!(client.recv().is_err(), "a failed task closes its session");

        let mut client = TcpPacketStream::connect(baddr).unwrap();
        client.set_read_timeout(Some(LIMIT)).unwrap();
        client.send(&Ask { n: 1 }).unwrap();
        assert!(client.recv().is_err(), "no runtime on a blocking worker");
    })
    .await
    .unwrap();
    let failed = || blocking.stats().handler_errors == 1;
    assert!(tokio::task::block_in_place(|| crate::common::wait_until(
        LIMIT, failed
    )));
}
