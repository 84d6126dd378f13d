//! The stream socket's shared methods (`stream_methods!` in packet-net's
//! `transport/socket.rs`: `queue` with its back-pressure flush, `flush`,
//! `recv` / `recv_with` with the refusal and its lossless close, `close`)
//! driving a client and an accepting end over an in-memory duplex
//! (`packet_net::fuzzing::MemStream`, the blocking stream's primitives over
//! two scripted pipes). The input picks plaintext or sealed, matching or
//! another fingerprint (or none), the pipes' capacity, the packets, short
//! reads and writes, `WouldBlock` and `Interrupted` anywhere, garbage
//! slipped into either direction, and who moves next. The server echoes
//! each frame. Undamaged and matching: every packet comes back intact, in
//! order, once, and the server sees a clean end; another fingerprint: both
//! ends fail with that mismatch and the client gets no frame; errors are
//! sticky; nothing hangs while the wire is undamaged.
#![no_main]

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use packet_benches::{Chat, PlayerMove, WorldSnapshot};
use packet_core::crypto::{ChannelKeys, SecretKey};
use packet_core::frame::Frame;
use packet_fuzz::mock::{MockSocket, Msg, Pipe, Script, arb_msgs};
use packet_net::fuzzing::MemStream;
use packet_net::transport::{
    ClientSecurity, ServerSecurity, SessionToken, TransportConfig, TransportError,
};

const FP: u64 = 0x1111_2222_3333_4444;
const OTHER: u64 = 0x5555_6666_7777_8888;

fn queue(s: &mut MemStream<'_>, m: &Msg) -> Result<(), TransportError> {
    match m {
        Msg::Move(m) => s.queue(m),
        Msg::Chat(channel, from, text, time_ms) => s.queue(&Chat {
            channel: *channel,
            from,
            text,
            time_ms: *time_ms,
        }),
        Msg::Snapshot(w) => s.queue(w),
    }
}

fn same(m: &Msg, f: &Frame<'_>) -> bool {
    match m {
        Msg::Move(m) => f
            .decode_packet::<PlayerMove>()
            .is_ok_and(|p| format!("{p:?}") == format!("{m:?}")),
        Msg::Chat(c, from, t, ms) => f
            .decode_packet::<Chat<'_>>()
            .is_ok_and(|p| p.channel == *c && p.from == from && p.text == t && p.time_ms == *ms),
        Msg::Snapshot(s) => f
            .decode_packet::<WorldSnapshot>()
            .is_ok_and(|p| format!("{p:?}") == format!("{s:?}")),
    }
}

/// A `WouldBlock` (the blocking stream's timeout) or `Interrupted`: try
/// again later.
fn again(e: &TransportError) -> bool {
    matches!(e, TransportError::Io(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted))
}

fn is_mismatch(e: &TransportError) -> bool {
    matches!(e, TransportError::ProtocolMismatch(m) if (m.client, m.server) == (OTHER, FP))
}

/// A bad frame or a mismatch is sticky: the next receive fails the same
/// way (an end of stream or a socket error is the socket's, read again).
fn assert_sticky(s: &mut MemStream<'_>, first: &TransportError) {
    use packet_core::error::FrameError::UnexpectedEof;
    if matches!(
        first,
        TransportError::Closed
            | TransportError::Io(_)
            | TransportError::Frame(UnexpectedEof { .. })
    ) {
        return;
    }
    let next = s.recv().map(|_| ()).unwrap_err();
    let same_kind = std::mem::discriminant(&next) == std::mem::discriminant(first);
    assert!(same_kind || again(first), "{first:?} then {next:?}");
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let (Ok(mode), Ok(capacity), Ok(count)) = (
        u.arbitrary::<u8>(),
        u.int_in_range(64..=4096usize),
        u.int_in_range(0..=8usize),
    ) else {
        return;
    };
    let Ok(msgs) = arb_msgs(&mut u, count) else {
        return;
    };
    let Ok(garbage) = u.arbitrary::<&[u8]>() else {
        return;
    };
    let sealed = mode & 1 != 0;
    let mismatch = mode & 2 != 0;
    let no_fingerprint = mode & 4 != 0 && !mismatch;
    let inject = mode & 8 != 0 && !garbage.is_empty();
    let base = if mode & 16 != 0 {
        TransportConfig::default().with_write_queue_limit(4096)
    } else {
        TransportConfig::default()
    };
    let (client_config, server_config) = if no_fingerprint {
        (base, base)
    } else {
        let theirs = if mismatch { OTHER } else { FP };
        (base.with_fingerprint(theirs), base.with_fingerprint(FP))
    };

    let script = Rc::new(RefCell::new(Script::new(u.take_rest())));
    let c2s = Rc::new(RefCell::new(Pipe::new(capacity)));
    let s2c = Rc::new(RefCell::new(Pipe::new(capacity)));
    let client_io = MockSocket::new(s2c.clone(), c2s.clone(), script.clone());
    let server_io = MockSocket::new(c2s.clone(), s2c.clone(), script.clone());
    let keys = || ChannelKeys::shared(SecretKey::from_bytes([9; 32]));
    let token = SessionToken([7; 16]);
    let mut client = MemStream::client(client_io, client_config);
    let mut server = if sealed {
        client = client.sealed(ClientSecurity::new(token, keys()));
        let provider = ServerSecurity::new(move |t: &SessionToken| (*t == token).then(keys));
        MemStream::server(server_io, server_config, Some(provider))
    } else {
        MemStream::server(server_io, server_config, None)
    };
    let mut client = Some(client);

    let mut queued = 0;
    let mut echoed = 0;
    let mut served = 0;
    let mut injected = false;
    let mut client_end: Option<TransportError> = None;
    let mut server_end: Option<TransportError> = None;
    let mut steps = 0u64;
    let mut spent_steps = 0u64;
    while client_end.is_none() || server_end.is_none() {
        steps += 1;
        let actor = match script.borrow_mut().choose() {
            Some(b) => b % 4,
            None => {
                spent_steps += 1;
                (steps % 4) as u8
            }
        };
        if spent_steps > 100_000 {
            // Garbage can leave a partial frame that is never completed
            // (a real server's frame timeout ends that); an undamaged
            // exchange always finishes once the script is spent.
            assert!(
                injected,
                "no progress: {queued} queued, {served} served, {echoed} echoed"
            );
            return;
        }
        match actor {
            // The client queues what it may (back-pressure flushes), then
            // flushes; once every echo is back it closes.
            0 => {
                let Some(c) = client.as_mut().filter(|_| client_end.is_none()) else {
                    continue;
                };
                while queued < msgs.len() {
                    match queue(c, &msgs[queued]) {
                        Ok(()) => queued += 1,
                        Err(e) if again(&e) => break,
                        Err(e) => panic!("queueing packet {queued}: {e:?}"),
                    }
                }
                match c.flush() {
                    Ok(()) => {}
                    Err(e) if again(&e) => {}
                    Err(e) => panic!("client flush: {e:?}"),
                }
                if echoed == msgs.len() && queued == msgs.len() && c.queued() == 0 {
                    client
                        .take()
                        .unwrap()
                        .close()
                        .expect("nothing left to flush");
                    client_end = Some(TransportError::Closed);
                }
            }
            // The server echoes what arrived, then flushes.
            1 => {
                if server_end.is_some() {
                    continue;
                }
                loop {
                    // Room for one more echo first: a queue with anything
                    // in it is flushed (the limit is at least one frame).
                    match server.flush() {
                        Ok(()) => {}
                        Err(e) if again(&e) => break,
                        Err(e) => panic!("server flush: {e:?}"),
                    }
                    let echo = server.recv_with(|f, out| {
                        let at = served;
                        assert!(
                            injected || mismatch || msgs.get(at).is_some_and(|m| same(m, &f)),
                            "packet {at} arrived changed"
                        );
                        out.queue_raw(f.type_id(), f.body())
                    });
                    match echo {
                        Ok(Ok(())) => served += 1,
                        Ok(Err(e)) => panic!("echo {served}: {e:?}"),
                        Err(e) if again(&e) => break,
                        Err(e) => {
                            assert_sticky(&mut server, &e);
                            if is_mismatch(&e) {
                                assert!(mismatch || injected, "{e:?}");
                                // The refusal leaves (the retry flushes and
                                // shuts the write side), then the server
                                // drops the stream.
                                if server.queued() == 0 {
                                    s2c.borrow_mut().close();
                                    server_end = Some(e);
                                }
                            } else {
                                // (A client that sent nothing sent no hello.)
                                assert!(
                                    !mismatch || injected || queued == 0,
                                    "a mismatched client: {e:?}"
                                );
                                if !injected {
                                    assert!(
                                        matches!(e, TransportError::Closed),
                                        "unclean end: {e:?}"
                                    );
                                }
                                s2c.borrow_mut().close();
                                server_end = Some(e);
                            }
                            break;
                        }
                    }
                }
            }
            // The client takes the echoes.
            2 => {
                let Some(c) = client.as_mut().filter(|_| client_end.is_none()) else {
                    continue;
                };
                loop {
                    match c.recv() {
                        Ok(f) => {
                            assert!(!mismatch || injected, "a refused client got a frame");
                            assert!(
                                injected || msgs.get(echoed).is_some_and(|m| same(m, &f)),
                                "echo {echoed} changed"
                            );
                            echoed += 1;
                        }
                        Err(e) if again(&e) => break,
                        Err(e) => {
                            assert!(
                                injected || !mismatch || is_mismatch(&e),
                                "refused client: {e:?}"
                            );
                            assert!(injected || mismatch, "client failed: {e:?}");
                            assert_sticky(c, &e);
                            client_end = Some(e);
                            break;
                        }
                    }
                }
            }
            // Garbage on the wire, once.
            _ => {
                if inject && !injected {
                    injected = true;
                    let pipe = if mode & 32 != 0 { &s2c } else { &c2s };
                    pipe.borrow_mut().inject(garbage);
                }
            }
        }
    }
    if !injected && !mismatch {
        assert_eq!(
            (served, echoed),
            (msgs.len(), msgs.len()),
            "every packet echoed"
        );
    }
});
