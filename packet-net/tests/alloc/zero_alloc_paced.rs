//! Zero heap allocations per packet with `ServerConfig::with_wake_interval`
//! set, on the blocking servers (a paced tokio server runs these same
//! threads inside its runtime): the held-off waits (a parked worker or
//! UDP thread) and the batches they serve allocate nothing once warm.

use std::time::Duration;

use crate::common::{ECHO, Msg};
use packet_net::server::{Router, ServerConfig};
use packet_net::transport::TransportConfig;
use stats_alloc::Region;

use crate::GLOBAL;

const WARM_UP: u32 = 50;
const MEASURED: u32 = 300;
/// Frames in flight per step, so a wake-up serves several.
const IN_FLIGHT: u32 = 4;

fn echo() -> Router<()> {
    Router::<()>::new().on_frame(ECHO, |ctx, f| {
        let m: Msg<'_> = f.decode_packet()?;
        ctx.reply(&m)
    })
}

fn config() -> ServerConfig {
    ServerConfig::default()
        .with_wake_interval(Duration::from_millis(1))
        .with_idle_timeout(Some(Duration::from_secs(60)))
        .with_workers(1)
}

fn transport() -> TransportConfig {
    TransportConfig::default().with_read_timeout(Some(Duration::from_secs(10)))
}

fn assert_none(what: &str, region: Region<'_, std::alloc::System>) {
    let change = region.change();
    assert_eq!(
        (change.allocations, change.reallocations),
        (0, 0),
        "allocations during {MEASURED} paced steps ({what}): {change:?}"
    );
}

pub fn paced_servers_do_not_allocate() {
    use packet_net::server::blocking::{Server, UdpServer};
    use packet_net::transport::blocking::{TcpPacketStream, UdpPacketSocket};
    let payload = [9u8; 64];
    let msg = |seq| Msg {
        client: 7,
        seq,
        data: &payload,
    };

    // Blocking TCP: round trips, then game-loop broadcasts.
    let srv = Server::bind("127.0.0.1:0", config(), echo(), ()).unwrap();
    let mut c = TcpPacketStream::connect_with(srv.local_addr(), transport()).unwrap();
    let mut step = |i: u32| {
        for k in 0..IN_FLIGHT {
            c.queue(&msg(i * IN_FLIGHT + k)).unwrap();
        }
        c.flush().unwrap();
        for k in 0..IN_FLIGHT {
            let m: Msg<'_> = c.recv().unwrap().decode_packet().unwrap();
            assert_eq!(m.seq, i * IN_FLIGHT + k);
        }
        let report = srv.sessions().broadcast(&msg(i), None);
        assert_eq!(report.delivered, 1, "{report}");
        let m: Msg<'_> = c.recv().unwrap().decode_packet().unwrap();
        assert_eq!(m.seq, i);
    };
    (0..WARM_UP).for_each(&mut step);
    let region = Region::new(GLOBAL);
    (WARM_UP..WARM_UP + MEASURED).for_each(&mut step);
    assert_none("blocking TCP", region);
    drop(c);
    srv.shutdown();

    // Blocking UDP: a window of datagrams per step.
    let srv = UdpServer::bind("127.0.0.1:0", config(), echo(), ()).unwrap();
    let mut c = UdpPacketSocket::bind_with("127.0.0.1:0", transport()).unwrap();
    c.connect(srv.local_addr()).unwrap();
    let mut step = |i: u32| {
        for k in 0..IN_FLIGHT {
            c.send(&msg(i * IN_FLIGHT + k)).unwrap();
        }
        for _ in 0..IN_FLIGHT {
            let m: Msg<'_> = c.recv().unwrap().decode_packet().unwrap();
            assert_eq!(m.data, &payload[..]);
        }
    };
    (0..WARM_UP).for_each(&mut step);
    let region = Region::new(GLOBAL);
    (WARM_UP..WARM_UP + MEASURED).for_each(&mut step);
    assert_none("blocking UDP", region);
    assert_eq!(srv.dropped(), 0);
    srv.shutdown();
}
