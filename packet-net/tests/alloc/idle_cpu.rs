//! Defect 1 of issue #11: the blocking server busy-polled its sessions
//! (200 idle connections cost 19-26 clock ticks per second on the old
//! code, 48 % of a core in the run). Idle sessions must cost
//! (almost) no CPU, on both servers.
//!
//! Not a timing assertion: CPU time used, which a loaded machine only
//! lowers. It reads the process's counters, so it runs in this binary,
//! alone.

use std::net::TcpStream;
use std::time::Duration;

use crate::common::{echo_router, wait_until};
use packet_net::server::ServerConfig;

const LIMIT: Duration = Duration::from_secs(10);

/// Process CPU time (user + system) in clock ticks (1/100 s), Linux only.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split(' ').collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// Ticks used in one second with 200 idle connections to `addr`, once
/// `accepted()` shows them all.
fn idle_ticks(addr: std::net::SocketAddr, accepted: impl Fn() -> u64) -> u64 {
    let idle: Vec<TcpStream> = (0..200)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    assert!(wait_until(LIMIT, || accepted() == 200));
    std::thread::sleep(Duration::from_millis(200));
    let before = cpu_ticks();
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks() - before;
    drop(idle);
    used
}

pub fn idle_sessions_cost_no_cpu() {
    let blocking = packet_net::server::blocking::Server::bind(
        "127.0.0.1:0",
        ServerConfig::default().with_workers(2),
        echo_router(),
        (),
    )
    .unwrap();
    let used = idle_ticks(blocking.local_addr(), || blocking.stats().accepted);
    // 10 ticks = 10 % of one core over the second.
    assert!(
        used < 10,
        "blocking: 200 idle sessions used {used} ticks in 1 s"
    );
    blocking.shutdown();
    #[cfg(feature = "tokio")]
    {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let server = rt
            .block_on(packet_net::server::tokio::Server::bind(
                "127.0.0.1:0",
                ServerConfig::default(),
                echo_router(),
                (),
            ))
            .unwrap();
        let used = idle_ticks(server.local_addr(), || server.stats().accepted);
        assert!(
            used < 10,
            "tokio: 200 idle sessions used {used} ticks in 1 s"
        );
    }
}
