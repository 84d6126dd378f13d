//! The tick-driven style, as renet and most engines run: handlers do
//! nothing but queue; a fixed-rate game loop drains what happened since
//! the last tick (connects, moves, disconnects) from a bounded
//! `EventQueue`, applies it to each player's own state (kept by the
//! server per session, `Router<S, U>`), and broadcasts a snapshot.
//!
//! The example runs the (blocking) server, its game loop and three bots
//! in one process for a second, then prints where everyone ended up:
//!
//! ```sh
//! cargo run --example tick_server
//! ```

use std::thread;
use std::time::{Duration, Instant};

use packet_net::server::blocking::Server;
use packet_net::server::{EventQueue, Router, ServerConfig, ServerEvent, Sessions};
use packet_net::transport::TransportError;
use packet_net::transport::blocking::TcpPacketStream;
use packet_net::{Packet, PacketSet};

/// A bot's input.
#[derive(Packet, Debug)]
#[packet(id = 0x0B01)]
struct Move {
    dx: i8,
    dy: i8,
}

/// What the game loop reads from the queue (owned packets only).
#[derive(PacketSet, Debug)]
enum Input {
    Move(Move),
}

/// One player in a snapshot.
#[derive(Packet, Debug, Clone, Copy)]
struct Pos {
    id: u64,
    x: i32,
    y: i32,
}

/// The world, broadcast every tick.
#[derive(Packet, Debug)]
#[packet(id = 0x0B02)]
struct Snapshot {
    tick: u32,
    #[packet(max_len = 64)]
    players: Vec<Pos>,
}

/// Each session's player, owned by the server.
#[derive(Default, Debug)]
struct Player {
    x: i32,
    y: i32,
}

const TICK: Duration = Duration::from_millis(50); // 20 Hz

/// One tick: apply the events, then tell everyone where everyone is.
fn tick(n: u32, events: &mut Vec<ServerEvent<Input>>, sessions: &Sessions<Player>) {
    for event in events.drain(..) {
        match event {
            ServerEvent::Connected(id) => println!("tick {n}: {id} joined"),
            ServerEvent::Packet(id, Input::Move(m)) => {
                if let Some(session) = sessions.get(id) {
                    let mut p = session.state();
                    p.x += i32::from(m.dx);
                    p.y += i32::from(m.dy);
                }
            }
            ServerEvent::Disconnected(id, why) => println!("tick {n}: {id} left ({why})"),
        }
    }
    let mut players = Vec::new();
    sessions.for_each(|s| {
        let p = s.state();
        players.push(Pos {
            id: s.id().0,
            x: p.x,
            y: p.y,
        });
    });
    let report = sessions.broadcast(&Snapshot { tick: n, players }, None);
    if !report.is_complete() {
        println!("tick {n}: snapshot {report}");
    }
}

/// A bot: moves `(dx, dy)` every tick-ish and reads snapshots until the
/// server closes; returns the last snapshot's view of itself.
fn bot(
    addr: std::net::SocketAddr,
    dx: i8,
    dy: i8,
    moves: u32,
) -> Result<(i32, i32), TransportError> {
    let mut stream = TcpPacketStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    for _ in 0..moves {
        stream.send(&Move { dx, dy })?;
        thread::sleep(TICK / 2);
    }
    // Wait for a snapshot that shows every move applied.
    let want = (i32::from(dx) * moves as i32, i32::from(dy) * moves as i32);
    loop {
        let frame = stream.recv()?;
        let snap: Snapshot = frame.decode_packet()?;
        let me = snap.players.iter().find(|p| (p.x, p.y) == want);
        if me.is_some() {
            return Ok(want);
        }
    }
}

/// Runs the server, the game loop for `ticks` ticks and three bots.
fn run(ticks: u32) -> Result<Vec<(i32, i32)>, TransportError> {
    // Room for every input of a tick (3 bots × ~2 moves) many times over.
    let events = EventQueue::<Input>::new(1024);
    let router = Router::<(), Player>::default().queue_events(&events);
    // The game applies inputs once per tick, so the server need not wake
    // for each one: its workers wait on their sockets at most once a tick
    // and serve everything that arrived (fewer wake-ups, less CPU; inputs
    // and snapshots may wait up to a tick).
    let config = ServerConfig::default().with_wake_interval(TICK);
    let server = Server::bind("127.0.0.1:0", config, router, ())?;
    let addr = server.local_addr();
    println!("tick server on {addr}, {} Hz", 1000 / TICK.as_millis());
    let bots: Vec<_> = [(1, 0), (0, -1), (2, 3)]
        .into_iter()
        .map(|(dx, dy)| thread::spawn(move || bot(addr, dx, dy, 10)))
        .collect();
    let mut batch = Vec::new();
    let mut next = Instant::now();
    for n in 0..ticks {
        // Once the bots are gone and their sessions ended, every
        // disconnect is queued (the hook runs before a session is
        // removed): one last tick reports them.
        let done = bots.iter().all(|b| b.is_finished()) && server.sessions().is_empty();
        events.drain(&mut batch);
        tick(n, &mut batch, server.sessions());
        if done {
            break;
        }
        next += TICK;
        thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let ends = bots
        .into_iter()
        .map(|b| b.join().expect("bot panicked"))
        .collect::<Result<Vec<_>, _>>()?;
    server.shutdown();
    for (i, (x, y)) in ends.iter().enumerate() {
        println!("bot {i} ended at ({x}, {y})");
    }
    Ok(ends)
}

fn main() -> Result<(), TransportError> {
    run(200).map(drop)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_move_reaches_the_game_loop_and_the_snapshots() {
        assert_eq!(super::run(400).unwrap(), [(10, 0), (0, -10), (20, 30)]);
    }
}
