//! Broadcast reports what it did: how many sessions got the frame and
//! why the others did not (too big, queue full), and the stats count the
//! failures instead of a silent "reached 0 sessions".

use std::time::Duration;

use packet_net::server::tokio::Server;
use packet_net::server::{Router, ServerConfig};
use packet_net::transport::TransportConfig;
use packet_net::transport::tokio::TcpPacketStream;

const LIMIT: Duration = Duration::from_secs(10);
const NEWS: u16 = 0x0B01;

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

async fn clients(addr: std::net::SocketAddr, n: usize) -> Vec<TcpPacketStream> {
    let config = TransportConfig::default().with_read_timeout(Some(LIMIT));
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(TcpPacketStream::connect_with(addr, config).await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_broadcast_reports_its_failure_and_is_counted() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::default(), Router::new(), ())
        .await
        .unwrap();
    let mut cs = clients(server.local_addr(), 2).await;
    assert!(wait_until(|| server.stats().active == 2).await);

    // Bigger than any frame: every session fails alike, none is dropped.
    let huge = vec![7u8; 70_000];
    let report = server.sessions().broadcast_raw(NEWS, &huge, None);
    assert_eq!((report.delivered, report.too_big), (0, 2), "{report}");
    assert!(!report.is_complete());
    assert_eq!(report.failed(), 2);
    assert!(report.to_string().contains("2 too big"), "{report}");
    let stats = server.stats();
    assert_eq!((stats.frames_unsent, stats.active), (2, 2));

    // The sessions go on: a frame that fits reaches both.
    let report = server.sessions().broadcast_raw(NEWS, b"fits", None);
    assert_eq!(report.delivered, 2, "{report}");
    assert!(report.is_complete());
    for c in &mut cs {
        assert_eq!(c.recv().await.unwrap().body(), b"fits");
    }
    drop(cs);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_is_reported_as_queue_full_and_counted() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::default(), Router::new(), ())
        .await
        .unwrap();
    // A client that never reads: its socket buffers, then its queue, fill.
    let _silent = clients(server.local_addr(), 1).await;
    assert!(wait_until(|| server.stats().active == 1).await);
    let body = vec![1u8; 32_000];
    let mut report = None;
    for _ in 0..100_000 {
        let r = server.sessions().broadcast_raw(NEWS, &body, None);
        if r.queue_full > 0 {
            report = Some(r);
            break;
        }
        if r.delivered == 0 {
            // Closing already (the overflow was seen by the session task).
            break;
        }
        tokio::task::yield_now().await;
    }
    let report = report.expect("the queue of a client that never reads fills");
    assert_eq!((report.delivered, report.queue_full), (0, 1), "{report}");
    assert!(server.stats().frames_unsent >= 1);
    // The slow consumer is closed; later broadcasts skip it as closing
    // (or find it gone).
    let later = server.sessions().broadcast_raw(NEWS, b"x", None);
    assert_eq!(later.delivered, 0, "{later}");
    assert!(wait_until(|| server.stats().slow_consumers == 1).await);
    server.shutdown().await;
}

/// A sealed session whose hello the server has not processed has no keys
/// to seal with: the broadcast skips it as pending, not as "too big" (the
/// packet is fine), and it is not a failure.
#[cfg(feature = "crypto")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_awaiting_its_hello_is_reported_pending_not_too_big() {
    let login = super::common::login::Login::new();
    let config = ServerConfig::default().sealed(login.provider());
    let server = Server::bind("127.0.0.1:0", config, Router::new(), ())
        .await
        .unwrap();
    // Connected, but no hello yet.
    let _quiet = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    assert!(wait_until(|| server.stats().active == 1).await);
    let report = server.sessions().broadcast_raw(NEWS, b"news", None);
    assert_eq!(
        (report.delivered, report.pending, report.too_big),
        (0, 1, 0),
        "{report}"
    );
    assert!(report.is_complete(), "{report}");
    assert!(
        report
            .to_string()
            .contains("1 not yet opened (hello unprocessed)"),
        "{report}"
    );
    drop(_quiet);
    server.shutdown().await;
}

/// A typed broadcast encodes its packet once and builds each session's
/// frame around that body: sealed sessions still each get a frame sealed
/// under their own keys and sequence, which their clients open and decode.
#[cfg(feature = "crypto")]
#[test]
fn a_typed_broadcast_reaches_sealed_sessions_each_under_its_own_keys() {
    use packet_net::server::blocking::Server;
    use packet_net::transport::blocking::TcpPacketStream;

    use super::common::login::Login;
    use super::common::{ECHO, Msg, echo_router};

    let login = Login::new();
    let config = ServerConfig::default().sealed(login.provider());
    let server = Server::bind("127.0.0.1:0", config, echo_router(), ()).unwrap();
    let hi = Msg {
        client: 0,
        seq: 0,
        data: b"hi",
    };
    let mut clients: Vec<TcpPacketStream> = (0..3)
        .map(|i| {
            let (_, security) = login.issue();
            let mut c = TcpPacketStream::connect(server.local_addr())
                .unwrap()
                .sealed(security);
            c.set_read_timeout(Some(LIMIT)).unwrap();
            // Keyed by its hello; client i's sequences are i frames ahead.
            for _ in 0..=i {
                c.send(&hi).unwrap();
                assert_eq!(c.recv().unwrap().type_id(), ECHO);
            }
            c
        })
        .collect();
    for seq in 0..2 {
        let snapshot = Msg {
            client: 9,
            seq,
            data: b"the world, odd length",
        };
        let report = server.sessions().broadcast(&snapshot, None);
        assert_eq!((report.delivered, report.skipped()), (3, 0), "{report}");
    }
    for c in &mut clients {
        for seq in 0..2 {
            let frame = c.recv().unwrap();
            let got: Msg<'_> = frame.decode_packet().unwrap();
            assert_eq!(
                (got.client, got.seq, got.data),
                (9, seq, &b"the world, odd length"[..])
            );
        }
    }
    drop(clients);
    server.shutdown();
}
