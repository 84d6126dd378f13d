//! The transport's own buffers over a mock non-blocking stream: packets
//! queued in an `Outbox` (plain or sealed) leave through
//! `WriteQueue::write_to` into the sending end, an `Inbox` reads the other
//! end with `read_from` and yields frames. The input picks the packets,
//! the security, the pipe's capacity, short writes and reads, `WouldBlock`
//! and `Interrupted` anywhere, and which side moves next; every packet must
//! come out intact, in order, exactly once, and the stream must end
//! cleanly.
#![no_main]

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use packet_benches::{Chat, PlayerMove, WorldSnapshot};
use packet_core::crypto::{ChannelKeys, SecretKey};
use packet_fuzz::mock::{MockReader, MockWriter, Msg, Pipe, Script, arb_msgs};
use packet_net::fuzzing::{self, Incoming};
use packet_net::transport::{
    ClientSecurity, ServerSecurity, SessionToken, TransportConfig, TransportError,
};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(mode) = u.arbitrary::<u8>() else {
        return;
    };
    let Ok(capacity) = u.int_in_range(1..=4096usize) else {
        return;
    };
    let Ok(count) = u.int_in_range(0..=8usize) else {
        return;
    };
    let Ok(msgs) = arb_msgs(&mut u, count) else {
        return;
    };
    let keys = || ChannelKeys::shared(SecretKey::from_bytes([9; 32]));
    // A small write queue (bit 1) makes queueing wait for the writer.
    let config = if mode & 2 != 0 {
        TransportConfig::default().with_write_queue_limit(4096)
    } else {
        TransportConfig::default()
    };
    let frame = config.frame;
    // The sending end is a client, the receiving end a server taking the
    // session hello (sealed) from a one-shot key provider.
    let (sealer, hello, opener) = if mode & 1 != 0 {
        let token = SessionToken([7; 16]);
        let once = std::sync::atomic::AtomicBool::new(true);
        let provider = ServerSecurity::new(move |t: &SessionToken| {
            (*t == token && once.swap(false, std::sync::atomic::Ordering::Relaxed)).then(keys)
        });
        let (sealer, _, hello) = fuzzing::halves(ClientSecurity::new(token, keys()), frame, false);
        let (_, opener, _) = fuzzing::halves(provider, frame, false);
        (sealer, hello, opener)
    } else {
        (fuzzing::plain(&frame).0, None, fuzzing::plain(&frame).1)
    };
    let mut outbox = fuzzing::outbox(&config, sealer, hello);
    let mut inbox = fuzzing::inbox(&frame, opener);

    let script = Rc::new(RefCell::new(Script::new(u.take_rest())));
    let pipe = Rc::new(RefCell::new(Pipe::new(capacity)));
    let mut writer = MockWriter::new(pipe.clone(), script.clone());
    let mut reader = MockReader::new(pipe.clone(), script.clone());

    let mut queued = 0usize;
    let mut received = 0usize;
    let mut steps = 0u64;
    loop {
        steps += 1;
        assert!(steps < 10_000_000, "no progress");
        let send_turn = match script.borrow_mut().choose() {
            Some(b) => b & 1 == 0,
            None => steps.is_multiple_of(2),
        };
        if send_turn {
            // Queue what fits, then write what the pipe takes.
            while queued < msgs.len() {
                let r = match &msgs[queued] {
                    Msg::Move(m) => outbox.queue(m),
                    Msg::Chat(channel, from, text, time_ms) => outbox.queue(&Chat {
                        channel: *channel,
                        from,
                        text,
                        time_ms: *time_ms,
                    }),
                    Msg::Snapshot(s) => outbox.queue(s),
                };
                match r {
                    Ok(()) => queued += 1,
                    Err(TransportError::QueueFull { .. }) => break,
                    Err(e) => panic!("queueing packet {queued} failed: {e}"),
                }
            }
            match fuzzing::queue(&mut outbox).write_to(&mut writer) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("unexpected write error {e}"),
            }
            if queued == msgs.len() && outbox.is_empty() {
                pipe.borrow_mut().close();
            }
            continue;
        }
        match inbox.read_from(&mut reader) {
            Ok(0) => {
                assert!(
                    matches!(inbox.end_of_stream(), TransportError::Closed),
                    "stream ended inside a frame"
                );
                break;
            }
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                continue;
            }
            Err(e) => panic!("unexpected read error {e}"),
        }
        while let Some(incoming) = inbox.next_frame().expect("intact frames") {
            let Incoming::Frame(frame) = incoming else {
                continue; // the session hello, keying the receiving end
            };
            let same = match &msgs[received] {
                Msg::Move(m) => frame
                    .decode_packet::<PlayerMove>()
                    .is_ok_and(|p| format!("{p:?}") == format!("{m:?}")),
                Msg::Chat(c, f, t, ms) => frame.decode_packet::<Chat<'_>>().is_ok_and(|p| {
                    p.channel == *c && p.from == f && p.text == t && p.time_ms == *ms
                }),
                Msg::Snapshot(s) => frame
                    .decode_packet::<WorldSnapshot>()
                    .is_ok_and(|p| format!("{p:?}") == format!("{s:?}")),
            };
            assert!(same, "packet {received} arrived changed");
            received += 1;
        }
    }
    assert_eq!(received, msgs.len(), "every packet arrives");
});
