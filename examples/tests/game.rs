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
