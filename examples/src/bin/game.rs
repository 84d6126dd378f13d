//! The example game of record (`packet_examples::game`): a login
//! service, a game server with chat over sealed TCP and moves over sealed
//! UDP, a 20 Hz snapshot broadcast from a game loop, bots on tokio and on
//! threads, and a cheater the server refuses. Runs on loopback and prints
//! what flowed.
//!
//! ```sh
//! cargo run --release --bin game
//! cargo run --release --bin game -- --seconds 10 --bots 8 --blocking-bots 2
//! ```

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use packet_examples::game::{self, GameConfig};

/// A small game on loopback: server, bots, and a cheater.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// How long the bots play, in seconds.
    #[arg(short, long, default_value_t = 5.0)]
    seconds: f64,
    /// Bots on tokio.
    #[arg(short, long, default_value_t = 2)]
    bots: usize,
    /// Bots on threads (the blocking transport).
    #[arg(long, default_value_t = 1)]
    blocking_bots: usize,
    /// Game loop ticks per second.
    #[arg(long, default_value_t = 20.0)]
    tick_hz: f64,
    /// Leave the cheater out.
    #[arg(long)]
    no_cheater: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let config = GameConfig {
        run_for: Duration::from_secs_f64(args.seconds.max(0.1)),
        tokio_bots: args.bots,
        blocking_bots: args.blocking_bots,
        tick_hz: args.tick_hz,
        cheater: !args.no_cheater,
    };
    println!(
        "game: {} tokio + {} blocking bots for {:.1} s at {} Hz, sealed TCP chat and UDP moves",
        config.tokio_bots,
        config.blocking_bots,
        config.run_for.as_secs_f64(),
        config.tick_hz
    );
    match game::run(&config).await {
        Ok(summary) => {
            println!("{summary}");
            if summary.bot_errors == 0 && summary.joined == summary.bots {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("game: {e}");
            ExitCode::FAILURE
        }
    }
}
