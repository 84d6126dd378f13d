//! A handler that panics ends its own session only, on every server
//! kind: the panic is caught where the server calls it, the session ends
//! with `DisconnectReason::HandlerPanicked` once the replies queued before
//! it are out, `on_disconnect` runs, the stats count it, its slot frees,
//! and the other clients (and new ones) are served on.
//!
//! The panics print to stderr (the default hook runs; none is swapped).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::wait_until;
use packet_net::server::{Router, ServerConfig, Sessions};
use packet_net::transport::TransportConfig;
use packet_net::transport::blocking::{TcpPacketStream, UdpPacketSocket};

/// Echoed back.
const ECHO: u16 = 1;
/// Its handler panics.
const BOOM: u16 = 2;
const MESSAGE: &str = "boom on purpose";
/// Bounds each receive and each wait: far above what a pass takes.
const LIMIT: Duration = Duration::from_secs(2);

/// What `on_disconnect` saw, as `Debug` text.
type Ended = Arc<Mutex<Vec<String>>>;

fn router(ended: &Ended) -> Router<()> {
    let ended = ended.clone();
    Router::new()
        .on_frame(ECHO, |ctx, f| ctx.reply_raw(ECHO, f.body()))
        .on_frame(BOOM, |_, _| panic!("{MESSAGE}"))
        .on_disconnect(move |_, why| ended.lock().unwrap().push(format!("{why:?}")))
}

/// Room for two sessions: a slot the panicking session leaked would
/// refuse the third client.
fn config() -> ServerConfig {
    ServerConfig::default().with_max_sessions(2)
}

/// A running server of any kind, seen through its sessions.
struct Running {
    addr: SocketAddr,
    sessions: Arc<Sessions<()>>,
    stop: Option<Box<dyn FnOnce()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop();
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.worker_threads(2).enable_all().build().unwrap()
}

#[derive(Clone, Copy)]
enum Kind {
    BlockingTcp,
    TokioTcp,
    BlockingUdp,
    TokioUdp,
}

fn start(kind: Kind, config: ServerConfig, router: Router<()>) -> Running {
    use packet_net::server::{blocking, tokio as tk};
    match kind {
        Kind::BlockingTcp => {
            // One worker: a panic that killed it would take every session.
            let s =
                blocking::Server::bind("127.0.0.1:0", config.with_workers(1), router, ()).unwrap();
            let (addr, sessions) = (s.local_addr(), s.sessions().clone());
            let stop = Some(Box::new(move || s.shutdown()) as Box<dyn FnOnce()>);
            Running {
                addr,
                sessions,
                stop,
            }
        }
        Kind::BlockingUdp => {
            let s = blocking::UdpServer::bind("127.0.0.1:0", config, router, ()).unwrap();
            let (addr, sessions) = (s.local_addr(), s.sessions().clone());
            let stop = Some(Box::new(move || s.shutdown()) as Box<dyn FnOnce()>);
            Running {
                addr,
                sessions,
                stop,
            }
        }
        Kind::TokioTcp | Kind::TokioUdp => {
            let rt = runtime();
            let s = rt.block_on(async {
                match kind {
                    Kind::TokioTcp => tk::Server::bind("127.0.0.1:0", config, router, ()).await,
                    _ => tk::UdpServer::bind("127.0.0.1:0", config, router, ()).await,
                }
            });
            let s = s.unwrap();
            let (addr, sessions) = (s.local_addr(), s.sessions().clone());
            let stop = move || rt.block_on(s.shutdown());
            Running {
                addr,
                sessions,
                stop: Some(Box::new(stop)),
            }
        }
    }
}

/// A blocking client of either transport.
enum Client {
    Tcp(TcpPacketStream),
    Udp(UdpPacketSocket),
}

impl Client {
    fn connect(kind: Kind, addr: SocketAddr) -> Self {
        let config = TransportConfig::default().with_read_timeout(Some(LIMIT));
        match kind {
            Kind::BlockingTcp | Kind::TokioTcp => {
                Client::Tcp(TcpPacketStream::connect_with(addr, config).unwrap())
            }
            Kind::BlockingUdp | Kind::TokioUdp => {
                let s = UdpPacketSocket::bind_with("127.0.0.1:0", config).unwrap();
                s.connect(addr).unwrap();
                Client::Udp(s)
            }
        }
    }

    fn send(&mut self, type_id: u16, body: &[u8]) {
        match self {
            Client::Tcp(s) => s.send_raw(type_id, body).unwrap(),
            Client::Udp(s) => s.send_raw(type_id, body).unwrap(),
        }
    }

    /// The next frame's type id and body, or why none came.
    fn recv(&mut self) -> Result<(u16, Vec<u8>), String> {
        let f = match self {
            Client::Tcp(s) => s.recv(),
            Client::Udp(s) => s.recv(),
        };
        f.map(|f| (f.type_id(), f.body().to_vec()))
            .map_err(|e| e.to_string())
    }

    /// One echo there and back.
    fn round_trip(&mut self, body: &[u8]) {
        self.send(ECHO, body);
        assert_eq!(self.recv(), Ok((ECHO, body.to_vec())));
    }
}

/// Clients A and B are served; A sends an echo and then the packet whose
/// handler panics. A gets its echo (queued before the panic) and its
/// session ends with `HandlerPanicked`; B goes on; C takes A's slot.
fn one_panic_ends_one_session(kind: Kind, config: ServerConfig) {
    let ended = Ended::default();
    let server = start(kind, config, router(&ended));
    let (mut a, mut b) = (
        Client::connect(kind, server.addr),
        Client::connect(kind, server.addr),
    );
    a.round_trip(b"a");
    b.round_trip(b"b");
    assert_eq!(server.sessions.len(), 2);

    a.send(ECHO, b"before");
    a.send(BOOM, b"");
    assert_eq!(
        a.recv(),
        Ok((ECHO, b"before".to_vec())),
        "replies before the panic"
    );
    if let Client::Tcp(_) = a {
        assert!(a.recv().is_err(), "a's session is closed");
    }
    let gone = wait_until(LIMIT, || server.sessions.len() == 1);
    assert!(gone, "a's session is removed: {}", server.sessions.len());
    let expected = format!("HandlerPanicked({MESSAGE:?})");
    assert_eq!(
        *ended.lock().unwrap(),
        [expected],
        "on_disconnect ran for a"
    );

    b.round_trip(b"b after the panic");
    let mut c = Client::connect(kind, server.addr);
    c.round_trip(b"c, in a's slot");
    assert_eq!(server.sessions.len(), 2);

    let stats = server.sessions.stats();
    assert_eq!(stats.handler_panics, 1);
    assert_eq!((stats.handler_errors, stats.active), (0, 2));
    assert_eq!(stats.accepted, 3);
}

#[test]
fn blocking_tcp() {
    one_panic_ends_one_session(Kind::BlockingTcp, config());
}

#[test]
fn blocking_tcp_paced() {
    let paced = config().with_wake_interval(Duration::from_millis(2));
    one_panic_ends_one_session(Kind::BlockingTcp, paced);
}

#[test]
fn tokio_tcp() {
    one_panic_ends_one_session(Kind::TokioTcp, config());
}

#[test]
fn blocking_udp() {
    one_panic_ends_one_session(Kind::BlockingUdp, config());
}

#[test]
fn blocking_udp_paced() {
    let paced = config().with_wake_interval(Duration::from_millis(2));
    one_panic_ends_one_session(Kind::BlockingUdp, paced);
}

#[test]
fn tokio_udp() {
    one_panic_ends_one_session(Kind::TokioUdp, config());
}

/// A panicking `on_connect` ends that session (with `on_disconnect`);
/// a panicking `on_disconnect` is counted and the other hooks run; the
/// server goes on.
#[test]
fn hooks_that_panic_end_one_session() {
    for kind in [Kind::BlockingTcp, Kind::TokioUdp] {
        let ended = Ended::default();
        let first = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let router = router(&ended)
            .on_connect(move |_| {
                if first.swap(false, std::sync::atomic::Ordering::Relaxed) {
                    panic!("{MESSAGE}");
                }
            })
            .on_disconnect(|_, _| panic!("on_disconnect panics too"));
        let server = start(kind, config(), router);
        let mut a = Client::connect(kind, server.addr);
        a.send(ECHO, b"a"); // opens a UDP session (and is not dispatched)
        if let Client::Tcp(_) = a {
            assert!(a.recv().is_err(), "a's session ended at its connect hook");
        }
        // The hooks run before the session is forgotten: wait for both.
        let done = wait_until(LIMIT, || {
            !ended.lock().unwrap().is_empty() && server.sessions.is_empty()
        });
        assert!(done);
        let expected = format!("HandlerPanicked({MESSAGE:?})");
        assert_eq!(*ended.lock().unwrap(), [expected]);

        let mut b = Client::connect(kind, server.addr);
        b.round_trip(b"b");
        let stats = server.sessions.stats();
        // The connect hook's panic and the disconnect hook's.
        assert_eq!((stats.handler_panics, stats.active), (2, 1));
    }
}

/// A session-state constructor that panics drops that connection only.
#[test]
fn a_panicking_state_constructor_refuses_one_connection() {
    let first = std::sync::atomic::AtomicBool::new(true);
    let router = Router::<(), u8>::with_session_state(move || {
        if first.swap(false, std::sync::atomic::Ordering::Relaxed) {
            panic!("{MESSAGE}");
        }
        0
    })
    .on_frame(ECHO, |ctx, f| ctx.reply_raw(ECHO, f.body()));
    let s = packet_net::server::blocking::Server::bind(
        "127.0.0.1:0",
        config().with_workers(1),
        router,
        (),
    )
    .unwrap();
    let mut a = Client::connect(Kind::BlockingTcp, s.local_addr());
    a.send(ECHO, b"a");
    assert!(a.recv().is_err(), "a's connection was dropped");
    let mut b = Client::connect(Kind::BlockingTcp, s.local_addr());
    b.round_trip(b"b");
    assert_eq!(s.stats().handler_panics, 1);
    drop((a, b));
    s.shutdown();
}

/// An empty packet whose async work panics.
struct AsyncBoom;

impl packet_core::Encode for AsyncBoom {
    const MAX_SIZE: Option<usize> = Some(0);
    fn encoded_len(&self) -> usize {
        0
    }
    fn encode(
        &self,
        _: &mut packet_core::Writer<'_>,
    ) -> Result<(), packet_core::error::EncodeError> {
        Ok(())
    }
}
impl<'de> packet_core::Decode<'de> for AsyncBoom {
    fn decode(_: &mut packet_core::Reader<'de>) -> Result<Self, packet_core::error::DecodeError> {
        Ok(AsyncBoom)
    }
}
impl packet_core::Packet for AsyncBoom {
    const ID: u16 = 3;
}

/// An `on_async` task that panics closes its session (as one that fails
/// does: `DisconnectReason::Closed`), which is removed; the server goes on.
#[test]
fn an_async_task_that_panics_closes_its_session() {
    let ended = Ended::default();
    let router = router(&ended).on_async(|_, _: AsyncBoom| async {
        tokio::task::yield_now().await;
        if std::hint::black_box(true) {
            panic!("{MESSAGE}");
        }
        Ok(())
    });
    let server = start(Kind::TokioTcp, config(), router);
    let mut a = Client::connect(Kind::TokioTcp, server.addr);
    a.round_trip(b"a");
    a.send(<AsyncBoom as packet_core::Packet>::ID, b"");
    assert!(a.recv().is_err(), "a's session is closed");
    assert!(wait_until(LIMIT, || server.sessions.is_empty()));
    assert_eq!(*ended.lock().unwrap(), ["Closed"]);
    let mut b = Client::connect(Kind::TokioTcp, server.addr);
    b.round_trip(b"b");
}
