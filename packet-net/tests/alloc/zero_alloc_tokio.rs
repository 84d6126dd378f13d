//! Zero heap allocations per packet on the async (tokio) steady state: a
//! `TcpPacketStream` client talking to the tokio session server, on a
//! current-thread runtime, counted by a global allocator (`stats_alloc`).
//!
//! Its own test binary (one test), so nothing else allocates meanwhile.

use crate::common::{ECHO, Msg};
use packet_net::server::tokio::Server;
use packet_net::server::{Router, ServerConfig};
use packet_net::transport::tokio::TcpPacketStream;
use stats_alloc::Region;

use crate::GLOBAL;

pub fn async_steady_state_does_not_allocate() {
    let region = Region::new(GLOBAL);
    drop(std::hint::black_box(Box::new(1u64)));
    assert!(
        region.change().allocations >= 1,
        "counting allocator not installed"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let router = Router::<()>::new().on_frame(ECHO, |ctx, f| {
            let m: Msg<'_> = f.decode_packet()?;
            ctx.reply(&m)
        });
        let server = Server::bind("127.0.0.1:0", ServerConfig::default(), router, ())
            .await
            .unwrap();
        let mut c = TcpPacketStream::connect(server.local_addr()).await.unwrap();
        let payload = [3u8; 64];
        let mut round_trips = async |from: u32, to: u32| {
            for i in from..to {
                // A few packets in flight per step, so replies coalesce too.
                for k in 0..4 {
                    c.queue(&Msg {
                        client: k,
                        seq: i,
                        data: &payload,
                    })
                    .await
                    .unwrap();
                }
                c.flush().await.unwrap();
                for k in 0..4 {
                    let m: Msg<'_> = c.recv().await.unwrap().decode_packet().unwrap();
                    assert_eq!((m.client, m.seq, m.data), (k, i, &payload[..]));
                }
            }
        };
        round_trips(0, 200).await;
        let region = Region::new(GLOBAL);
        round_trips(200, 1200).await;
        let change = region.change();
        assert_eq!(
            (change.allocations, change.reallocations),
            (0, 0),
            "allocations during 4000 async round trips: {change:?}"
        );
        server.shutdown().await;
    });
}
