//! Feature `tracing`: the servers' log events carry what an operator
//! needs (a kicked session's end: its id, peer and reason), and none
//! fires per packet.
//!
//! A hand-written `Subscriber` (no tracing-subscriber dependency)
//! collects every event's fields. It is the process's global default (the
//! servers' threads log, not the test's), so it also sees the other tests'
//! servers: each check picks its own events by the server's address (and
//! the client's).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use packet_net::server::blocking::Server;
use packet_net::server::{Router, ServerConfig};
use packet_net::transport::blocking::TcpPacketStream;
use packet_net::transport::{TransportConfig, TransportError};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

use crate::common::wait_until;

/// One event: its level and fields (`message` among them), as text.
type Fields = HashMap<String, String>;

#[derive(Default)]
struct Collector {
    events: Mutex<Vec<Fields>>,
}

struct Visitor<'a>(&'a mut Fields);

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), std::format!("{value:?}"));
    }
}

impl Subscriber for Collector {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::new();
        fields.insert("level".into(), event.metadata().level().to_string());
        event.record(&mut Visitor(&mut fields));
        self.events.lock().unwrap().push(fields);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// The global collector, installed once.
fn collector() -> &'static Collector {
    static COLLECTOR: OnceLock<Arc<Collector>> = OnceLock::new();
    COLLECTOR.get_or_init(|| {
        let c = Arc::new(Collector::default());
        tracing::subscriber::set_global_default(c.clone()).expect("no other global subscriber");
        c
    })
}

/// The events whose fields have these values.
fn events_with(fields: &[(&str, &str)]) -> Vec<Fields> {
    let events = collector().events.lock().unwrap();
    let matches = |e: &&Fields| {
        fields
            .iter()
            .all(|(k, v)| e.get(*k).is_some_and(|x| x == v))
    };
    events.iter().filter(matches).cloned().collect()
}

#[test]
fn a_kicked_sessions_end_is_logged_once_with_its_id_and_reason_and_no_packet_is() {
    collector();
    let router = Router::<()>::new().on_frame(1, |ctx, f| ctx.reply_raw(1, f.body()));
    let server = Server::bind(
        "127.0.0.1:0",
        ServerConfig::default().with_workers(1),
        router,
        (),
    )
    .unwrap();
    let addr = server.local_addr().to_string();
    let bound = events_with(&[("addr", &addr)]);
    assert!(
        bound
            .iter()
            .any(|e| e["message"] == "server bound" && e["kind"] == "tcp"),
        "{bound:?}"
    );

    let config = TransportConfig::default().with_read_timeout(Some(Duration::from_secs(10)));
    let mut client = TcpPacketStream::connect_with(server.local_addr(), config).unwrap();
    let peer = client.local_addr().unwrap().to_string();
    for i in 0..100u32 {
        client.send_raw(1, &i.to_le_bytes()).unwrap();
        assert_eq!(client.recv().unwrap().body(), i.to_le_bytes());
    }

    let mut id = None;
    server.sessions().for_each(|s| {
        if s.peer_addr().to_string() == peer {
            id = Some(s.id());
        }
    });
    let id = id.expect("the client's session");
    assert!(server.sessions().close_with(id, 7));
    assert!(matches!(
        client.recv(),
        Err(TransportError::ClosedByServer(_))
    ));
    let ended = || {
        events_with(&[("server", &addr), ("peer", &peer)])
            .iter()
            .any(|e| e["message"] == "session ended")
    };
    assert!(wait_until(Duration::from_secs(10), ended));

    // Two events for this session, whatever its 100 packets: opened, ended.
    let events = events_with(&[("server", &addr), ("peer", &peer)]);
    assert_eq!(events.len(), 2, "{events:?}");
    let (opened, end) = (&events[0], &events[1]);
    assert_eq!(opened["message"], "session opened");
    assert_eq!(
        (opened["kind"].as_str(), end["kind"].as_str()),
        ("tcp", "tcp")
    );
    assert_eq!(
        (opened["session"].as_str(), opened["sealed"].as_str()),
        (&*id.0.to_string(), "false")
    );
    assert_eq!(end["message"], "session ended");
    assert_eq!(end["session"], id.0.to_string());
    assert_eq!(end["reason"], "closed");
    assert_eq!(end["code"], "7");
    assert_eq!(end["notice"], "Some(Application)");
    assert_eq!(end["frames_in"], "100");
    // A kick is ordinary: debug, as everything a peer can cause.
    assert_eq!(end["level"], "DEBUG");

    drop(client);
    server.shutdown();
    let stopped = events_with(&[("addr", &addr)]);
    assert!(
        stopped.iter().any(|e| e["message"] == "server stopped"),
        "{stopped:?}"
    );
}

/// What a peer causes (here a bad frame) ends its session at debug; what
/// the server fails at (a handler's panic) at warn.
#[test]
fn only_a_server_side_failure_ends_a_session_above_debug() {
    use std::io::{Read, Write};
    collector();
    let router = Router::<()>::new().on_frame(2, |_, _| panic!("a handler bug"));
    let config = ServerConfig::default().with_workers(1);
    let server = Server::bind("127.0.0.1:0", config, router, ()).unwrap();
    let addr = server.local_addr().to_string();
    let end_of = |peer: &str| {
        let mut events = events_with(&[("server", &addr), ("peer", peer)]);
        events.retain(|e| e["message"] == "session ended");
        events.pop()
    };

    let mut garbage = std::net::TcpStream::connect(server.local_addr()).unwrap();
    let peer = garbage.local_addr().unwrap().to_string();
    garbage.write_all(&[0xAB; 64]).unwrap();
    let _ = garbage.read(&mut [0; 64]);
    // Closed after the notice: the server's session ends without lingering.
    drop(garbage);
    assert!(wait_until(Duration::from_secs(10), || end_of(&peer).is_some()));
    let end = end_of(&peer).unwrap();
    assert!(end["reason"].starts_with("bad frame"), "{end:?}");
    assert_eq!(end["level"], "DEBUG");

    let config = TransportConfig::default().with_read_timeout(Some(Duration::from_secs(10)));
    let mut client = TcpPacketStream::connect_with(server.local_addr(), config).unwrap();
    let peer = client.local_addr().unwrap().to_string();
    client.send_raw(2, b"boom").unwrap();
    assert!(matches!(
        client.recv(),
        Err(TransportError::ClosedByServer(_))
    ));
    assert!(wait_until(Duration::from_secs(10), || end_of(&peer).is_some()));
    let end = end_of(&peer).unwrap();
    assert!(end["reason"].starts_with("handler panicked"), "{end:?}");
    assert_eq!(end["notice"], "Some(ServerError)");
    assert_eq!(end["level"], "WARN");
    server.shutdown();
}

/// `sealed` in "session opened" is the server's configuration: a
/// plaintext session that opens with a hello (the fingerprint) is not
/// sealed (it was logged `sealed=true`, found by a new-user trial).
#[test]
fn a_plaintext_session_with_a_fingerprint_hello_is_logged_unsealed() {
    const FP: u64 = 0x0123_4567_89AB_CDEF;
    collector();
    let router = Router::<()>::new().on_frame(1, |ctx, f| ctx.reply_raw(1, f.body()));
    let config = ServerConfig::default().with_workers(1).with_fingerprint(FP);
    let server = Server::bind("127.0.0.1:0", config, router, ()).unwrap();
    let addr = server.local_addr().to_string();
    let config = TransportConfig::default()
        .with_fingerprint(FP)
        .with_read_timeout(Some(Duration::from_secs(10)));
    let mut client = TcpPacketStream::connect_with(server.local_addr(), config).unwrap();
    let peer = client.local_addr().unwrap().to_string();
    client.send_raw(1, b"hi").unwrap();
    assert_eq!(client.recv().unwrap().body(), b"hi");
    let opened = events_with(&[("server", &addr), ("peer", &peer)]);
    let opened: Vec<_> = opened
        .iter()
        .filter(|e| e["message"] == "session opened")
        .collect();
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!(opened[0]["sealed"], "false");
    drop(client);
    server.shutdown();
}
