//! The example game of record, run briefly on loopback: every bot (tokio
//! and blocking) joins, moves and chat flow, snapshots arrive, and the
//! cheater moved nobody else: its datagrams under made-up keys and in
//! plaintext were dropped, and no bot ever saw a move it did not send.
//! No timing assertions: only that packets flowed and what was refused.
#![cfg(feature = "crypto")]

use std::time::Duration;

use packet_examples::game::{GameConfig, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_play_and_the_cheater_is_refused() {
    let config = GameConfig {
        run_for: Duration::from_millis(1500),
        tokio_bots: 2,
        blocking_bots: 1,
        tick_hz: 20.0,
        cheater: true,
    };
    let s = run(&config).await.expect("the game runs");
    println!("{s}");
    assert_eq!(s.bot_errors, 0, "{s}");
    assert_eq!(s.joined, 3, "every bot got both welcomes: {s}");
    assert!(s.ticks > 0 && s.snapshots_sent > 0, "{s}");
    assert!(s.snapshots_received > 0, "snapshots reached the bots: {s}");
    assert!(s.moves_applied > 0 && s.moves_seen > 0, "moves landed: {s}");
    assert!(s.relayed > 0 && s.heard > 0, "chat flowed: {s}");
    assert_eq!(s.snapshots_failed, 0, "every broadcast was queued: {s}");
    // The cheater's moves carry sequence numbers no bot sends: none of
    // them showed up on a bot, and the forged and plaintext ones were
    // dropped by the server.
    assert_eq!(s.foreign_moves, 0, "someone moved a bot: {s}");
    assert!(s.dropped >= 2, "the forged datagrams were dropped: {s}");
}

/// A session whose client never sends its welcome's proof back (as one
/// opened from a forged address could not: it never sees the welcome)
/// gets no snapshot pushed: at most a welcome for each move it sends
/// (wire format §9, "UDP return routability"; found by a hostile-input
/// run against the game's shape). A client that sends it back gets them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_go_only_to_clients_that_proved_their_address() {
    use packet_examples::game::bots::FromServer;
    use packet_examples::game::login::Login;
    use packet_examples::game::protocol::Move;
    use packet_examples::game::server::GameServer;
    use packet_net::PacketSet;
    use packet_net::transport::TransportConfig;
    use packet_net::transport::tokio::UdpPacketSocket;

    let login = std::sync::Arc::new(Login::default());
    let server = GameServer::start(login.clone(), "127.0.0.1".parse().unwrap(), 50.0)
        .await
        .unwrap();
    let addr = server.addrs().udp;
    let config = TransportConfig::default().with_read_timeout(Some(Duration::from_millis(300)));
    let mut counts = Vec::new();
    for prove in [false, true] {
        let creds = login.login(if prove { "ana" } else { "eve" }).unwrap();
        let mut udp = UdpPacketSocket::bind_with("127.0.0.1:0", config)
            .await
            .unwrap()
            .sealed(creds.udp);
        udp.connect(addr).await.unwrap();
        let (mut welcomes, mut snapshots, mut proof) = (0, 0, 0);
        for seq in 1..=10 {
            let m = Move {
                proof: if prove { proof } else { 0 },
                seq,
                dir: [0.0, 0.0],
            };
            udp.send(&m).await.unwrap();
            // Everything the server sends within a few ticks.
            while let Ok(frame) = udp.recv().await {
                match FromServer::decode_frame(&frame).unwrap() {
                    FromServer::Welcome(w) => {
                        welcomes += 1;
                        proof = w.proof;
                    }
                    FromServer::Snapshot(_) => snapshots += 1,
                    FromServer::Chat(_) => {}
                }
                if snapshots > 3 {
                    break;
                }
            }
        }
        counts.push((welcomes, snapshots));
    }
    let (eve, ana) = (counts[0], counts[1]);
    assert_eq!(
        eve.1, 0,
        "no snapshot pushed to an unproven session: {eve:?}"
    );
    assert!(eve.0 <= 11, "at most a welcome per datagram: {eve:?}");
    assert!(ana.1 > 0, "a proven client gets snapshots: {ana:?}");
    server.shutdown().await;
}
