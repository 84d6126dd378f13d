//! Session identity: a plaintext server ties a session to a player after
//! its own login packet; handlers read it from the context, and the game
//! finds a player's sessions (TCP and UDP) through the session managers.

use std::time::Duration;

use packet_net::server::tokio::{Server, UdpServer};
use packet_net::server::{Router, ServerConfig, SessionId};
use packet_net::transport::TransportConfig;
use packet_net::transport::tokio::{TcpPacketStream, UdpPacketSocket};

const LIMIT: Duration = Duration::from_secs(10);
const LOGIN: u16 = 0x0C01;
const WHO: u16 = 0x0C02;

/// LOGIN (a u64 player id) sets the identity once; WHO replies with it
/// (empty before a login); a second login as someone else is refused.
fn router() -> Router<()> {
    Router::<()>::new()
        .on_frame(LOGIN, |ctx, f| {
            let player = u64::from_le_bytes(f.body().try_into().unwrap_or_default());
            match ctx.set_identity(player) {
                Ok(()) => ctx.reply_raw(LOGIN, b"ok"),
                Err(current) => ctx.reply_raw(LOGIN, &current.to_le_bytes()),
            }
        })
        .on_frame(WHO, |ctx, _| match ctx.identity() {
            Some(p) => ctx.reply_raw(WHO, &p.to_le_bytes()),
            None => ctx.reply_raw(WHO, &[]),
        })
}

fn transport() -> TransportConfig {
    TransportConfig::default().with_read_timeout(Some(LIMIT))
}

async fn wait_until(mut cond: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + LIMIT;
    while std::time::Instant::now() < end {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cond()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_packet_ties_tcp_and_udp_sessions_to_a_player() {
    let tcp = Server::bind("127.0.0.1:0", ServerConfig::default(), router(), ())
        .await
        .unwrap();
    let udp = UdpServer::bind("127.0.0.1:0", ServerConfig::default(), router(), ())
        .await
        .unwrap();

    let mut chat = TcpPacketStream::connect_with(tcp.local_addr(), transport())
        .await
        .unwrap();
    chat.send_raw(WHO, &[]).await.unwrap();
    assert_eq!(
        chat.recv().await.unwrap().body(),
        b"",
        "no identity before login"
    );
    chat.send_raw(LOGIN, &42u64.to_le_bytes()).await.unwrap();
    assert_eq!(chat.recv().await.unwrap().body(), b"ok");
    chat.send_raw(WHO, &[]).await.unwrap();
    assert_eq!(chat.recv().await.unwrap().body(), 42u64.to_le_bytes());
    // Logging in again as someone else is refused: the session stays 42.
    chat.send_raw(LOGIN, &7u64.to_le_bytes()).await.unwrap();
    assert_eq!(chat.recv().await.unwrap().body(), 42u64.to_le_bytes());

    let mut moves = UdpPacketSocket::bind_with("127.0.0.1:0", transport())
        .await
        .unwrap();
    moves.connect(udp.local_addr()).await.unwrap();
    moves.send_raw(LOGIN, &42u64.to_le_bytes()).await.unwrap();
    assert_eq!(moves.recv().await.unwrap().body(), b"ok");

    // The game finds player 42's sessions on both servers, and nobody else's.
    let (mut on_tcp, mut on_udp, mut nobody) = (Vec::new(), Vec::new(), Vec::new());
    tcp.sessions().sessions_of(42, &mut on_tcp);
    udp.sessions().sessions_of(42, &mut on_udp);
    tcp.sessions().sessions_of(7, &mut nobody);
    assert_eq!((on_tcp.len(), on_udp.len(), nobody.len()), (1, 1, 0));
    let session = tcp.sessions().get(on_tcp[0]).unwrap();
    assert_eq!(session.identity(), Some(42));

    // Gone with the session.
    chat.close().await.unwrap();
    let sessions = tcp.sessions().clone();
    assert!(
        wait_until(|| {
            let mut v: Vec<SessionId> = Vec::new();
            sessions.sessions_of(42, &mut v);
            v.is_empty()
        })
        .await
    );
    udp.shutdown().await;
    tcp.shutdown().await;
}
