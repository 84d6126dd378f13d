//! Type id 0xFFFF is reserved for the session control frames (the session
//! hellos, the refusal, the close notice; wire format §2.2): no raw API
//! registers, sends or dispatches it as an application frame. A handler's
//! `reply_raw(0xFFFF, ..)` once made its client report a close notice the
//! server never sent; a client's frame of that type reached handlers.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use packet_core::frame;
use packet_net::server::blocking::Server;
use packet_net::server::{Router, ServerConfig, UnknownPackets};
use packet_net::transport::blocking::{TcpPacketStream, UdpPacketSocket};
use packet_net::transport::{CloseReason, TransportConfig, TransportError};

use crate::common::{KINDS, Tcp, wire};

const ECHO: u16 = 1;
const RESERVED: u16 = 0xFFFF;
/// The body of a close notice "closed by the application, code 7".
const NOTICE_BODY: [u8; 4] = [6, 0, 7, 0];
const LIMIT: Duration = Duration::from_secs(5);

fn transport() -> TransportConfig {
    TransportConfig::default()
        .with_read_timeout(Some(LIMIT))
        .with_write_timeout(Some(LIMIT))
}

fn config() -> ServerConfig {
    ServerConfig::default().with_workers(1)
}

fn assert_reserved<T: std::fmt::Debug>(r: Result<T, TransportError>) {
    match r {
        Err(e @ TransportError::ReservedTypeId) => {
            let msg = e.to_string();
            assert!(
                msg.contains("0xFFFF") && msg.contains("session control frames"),
                "{msg}"
            );
            assert!(!e.is_disconnect());
        }
        other => panic!("expected ReservedTypeId, got {other:?}"),
    }
}

fn echo(c: &mut TcpPacketStream, body: &[u8]) {
    c.send_raw(ECHO, body).unwrap();
    let f = c.recv().unwrap();
    assert_eq!((f.type_id(), f.body()), (ECHO, body));
}

#[test]
fn a_router_refuses_to_register_the_reserved_id() {
    let panic = std::panic::catch_unwind(|| Router::<()>::new().on_frame(RESERVED, |_, _| Ok(())))
        .map(drop)
        .unwrap_err();
    let msg = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains("0xffff is reserved for the session control frames (wire format §2.2"),
        "{msg}"
    );
    // The largest application id is fine.
    assert!(
        Router::<()>::new()
            .on_frame(0xFFFE, |_, _| Ok(()))
            .handles(0xFFFE)
    );
}

#[test]
fn clients_cannot_send_the_reserved_id() {
    let router = Router::new().on_frame(ECHO, |ctx, f| ctx.reply_raw(ECHO, f.body()));
    let server = Server::bind("127.0.0.1:0", config(), router, ()).unwrap();
    let mut c = TcpPacketStream::connect_with(server.local_addr(), transport()).unwrap();
    assert_reserved(c.send_raw(RESERVED, &NOTICE_BODY));
    assert_reserved(c.queue_raw(RESERVED, &NOTICE_BODY));
    assert_reserved(c.queue_with(RESERVED, 4, |w| w.put_bytes(&NOTICE_BODY)));
    // Nothing was sent: the session goes on.
    echo(&mut c, b"still here");
    drop(c);

    let mut u = UdpPacketSocket::bind("127.0.0.1:0").unwrap();
    u.connect(server.local_addr()).unwrap();
    assert_reserved(u.send_raw(RESERVED, &NOTICE_BODY));
    assert_reserved(u.send_raw_to(RESERVED, &NOTICE_BODY, server.local_addr()));
    assert_eq!(u.stats().sent, 0);
    server.shutdown();
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn tokio_clients_and_the_codec_cannot_send_the_reserved_id() {
    use packet_net::transport::tokio::{PacketCodec, RawFrame, TcpPacketStream};
    use tokio_util::codec::Encoder as _;

    let router = Router::new().on_frame(ECHO, |ctx, f| ctx.reply_raw(ECHO, f.body()));
    let server = packet_net::server::tokio::Server::bind("127.0.0.1:0", config(), router, ())
        .await
        .unwrap();
    let mut c = TcpPacketStream::connect(server.local_addr()).await.unwrap();
    assert_reserved(c.send_raw(RESERVED, &NOTICE_BODY).await);
    c.send_raw(ECHO, b"ok").await.unwrap();
    assert_eq!(c.recv().await.unwrap().body(), b"ok");
    drop(c);

    let mut codec = PacketCodec::client(TransportConfig::default());
    let mut dst = bytes::BytesMut::new();
    let raw = RawFrame {
        type_id: RESERVED,
        body: &NOTICE_BODY,
    };
    assert_reserved(codec.encode(raw, &mut dst));
    assert!(dst.is_empty());
    server.shutdown().await;
}

/// A handler (or anything holding the session) cannot queue a frame of
/// the reserved type: before, `reply_raw(0xFFFF, &[6, 0, 7, 0])` made the
/// client report `ClosedByServer(Application, 7)` though the server never
/// closed the session.
#[test]
fn handlers_and_sessions_cannot_send_the_reserved_id() {
    let refused = Arc::new(AtomicUsize::new(0));
    let r = refused.clone();
    let router = Router::new().on_frame(ECHO, move |ctx, f| {
        let tried = [
            ctx.reply_raw(RESERVED, &NOTICE_BODY),
            ctx.session().send_raw(RESERVED, &NOTICE_BODY),
        ];
        for t in tried {
            assert_reserved(t);
            r.fetch_add(1, Ordering::SeqCst);
        }
        let report = ctx.broadcast_others_raw(RESERVED, &NOTICE_BODY);
        assert_eq!(report.delivered, 0);
        ctx.reply_raw(ECHO, f.body())
    });
    let server = Server::bind("127.0.0.1:0", config(), router, ()).unwrap();
    let mut other = TcpPacketStream::connect_with(server.local_addr(), transport()).unwrap();
    echo(&mut other, b"other");
    let mut c = TcpPacketStream::connect_with(server.local_addr(), transport()).unwrap();
    echo(&mut c, b"one");
    let report = server
        .sessions()
        .broadcast_raw(RESERVED, &NOTICE_BODY, None);
    assert_eq!((report.delivered, report.too_big), (0, 2), "{report:?}");
    // No notice arrives: both sessions go on.
    echo(&mut c, b"two");
    echo(&mut other, b"other again");
    assert_eq!(refused.load(Ordering::SeqCst), 8);
    drop((c, other));
    server.shutdown();
}

/// A client's frame of type 0xFFFF on an established plaintext session is
/// not a hello (wire format §11.5): a frame of a type the server does not
/// take, so the session ends with a protocol error after the replies to
/// what came before, whatever the unknown-packet policy, and neither a
/// handler nor the fallback sees it.
#[test]
fn a_clients_frame_of_the_reserved_id_reaches_no_handler() {
    for &kind in KINDS {
        let seen = Arc::new(AtomicUsize::new(0));
        let s = seen.clone();
        let router = Router::new()
            .on_frame(ECHO, |ctx, f| ctx.reply_raw(ECHO, f.body()))
            .fallback(move |_, f| {
                assert_ne!(f.type_id(), RESERVED, "the fallback got a control frame");
                s.fetch_add(1, Ordering::SeqCst);
                Ok(())
            })
            .on_unknown(UnknownPackets::Ignore);
        let mut bytes = wire(ECHO, 0, b"before");
        bytes.extend(wire(RESERVED, 1, &NOTICE_BODY));
        bytes.extend(wire(ECHO, 2, b"after"));
        let check = |addr| {
            let mut raw = std::net::TcpStream::connect(addr).unwrap();
            raw.write_all(&bytes).unwrap();
            let mut c = TcpPacketStream::from_stream(raw, transport()).unwrap();
            let f = c.recv().unwrap();
            assert_eq!((f.type_id(), f.body()), (ECHO, &b"before"[..]));
            match c.recv().map(|f| (f.type_id(), f.body().to_vec())) {
                Err(TransportError::ClosedByServer(n)) => {
                    assert_eq!(n.reason, CloseReason::ProtocolError, "{kind:?}: {n}")
                }
                other => panic!("{kind:?}: expected the protocol error, got {other:?}"),
            }
        };
        let server = Tcp::start(kind, config(), router);
        check(server.addr());
        server.shutdown();
        assert_eq!(seen.load(Ordering::SeqCst), 0, "{kind:?}");
    }
}

/// The same on a UDP session: the frame before it is answered, then the
/// protocol error's notice; no handler sees the 0xFFFF frame.
#[test]
fn a_udp_clients_frame_of_the_reserved_id_reaches_no_handler() {
    use packet_net::fuzzing::close_notice;
    use packet_net::transport::CloseNotice;

    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let router = Router::new()
        .on_frame(ECHO, |ctx, f| ctx.reply_raw(ECHO, f.body()))
        .fallback(move |_, _| {
            s.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .on_unknown(UnknownPackets::Ignore);
    let server =
        packet_net::server::blocking::UdpServer::bind("127.0.0.1:0", config(), router, ()).unwrap();
    let c = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    c.set_read_timeout(Some(LIMIT)).unwrap();
    c.connect(server.local_addr()).unwrap();
    let mut buf = [0u8; 2048];
    c.send(&wire(ECHO, 0, b"before")).unwrap();
    let n = c.recv(&mut buf).unwrap();
    let reply = frame::decode_frame(&buf[..n], &frame::FrameConfig::default()).unwrap();
    assert_eq!((reply.type_id(), reply.body()), (ECHO, &b"before"[..]));
    c.send(&wire(RESERVED, 1, &NOTICE_BODY)).unwrap();
    let n = c.recv(&mut buf).unwrap();
    let notice = close_notice(CloseNotice::new(CloseReason::ProtocolError));
    assert_eq!(&buf[..n], &notice[..]);
    assert_eq!(seen.load(Ordering::SeqCst), 0);
    server.shutdown();
}
