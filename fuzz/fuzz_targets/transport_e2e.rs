//! End to end over a mock non-blocking byte stream, in the style of h2's
//! `fuzz_e2e`: the input picks the packets to send and a script for the
//! stream: the pipe's capacity, short writes, short reads, `WouldBlock` and
//! `Interrupted` at any point, and the interleaving of the sending and the
//! receiving side. Frames are written with `Write` (retrying on short writes
//! and would-block) and read with `StreamDecoder::read_from`; every frame
//! must arrive intact and in order, and the stream must end cleanly.
#![no_main]

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use packet_benches::{Chat, PlayerMove, WorldSnapshot};
use packet_core::{FrameConfig, PacketBuf, StreamDecoder};
use packet_fuzz::mock::{MockReader, MockWriter, Msg, Pipe, Script, arb_msgs};

fn encode<'b>(msg: &Msg, seq: u64, buf: &'b mut PacketBuf<4096>) -> &'b [u8] {
    let r = match msg {
        Msg::Move(m) => buf.encode(m, seq),
        Msg::Chat(channel, from, text, time_ms) => buf.encode(
            &Chat {
                channel: *channel,
                from,
                text,
                time_ms: *time_ms,
            },
            seq,
        ),
        Msg::Snapshot(s) => buf.encode(s, seq),
    };
    r.expect("every generated packet fits 4 KiB")
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(capacity) = u.int_in_range(1..=4096usize) else {
        return;
    };
    let Ok(count) = u.int_in_range(0..=8usize) else {
        return;
    };
    let Ok(msgs) = arb_msgs(&mut u, count) else {
        return;
    };
    // The expected wire: every frame, in order.
    let mut sent: Vec<Vec<u8>> = Vec::new();
    let mut buf: PacketBuf<4096> = PacketBuf::new();
    for (seq, msg) in msgs.iter().enumerate() {
        sent.push(encode(msg, seq as u64, &mut buf).to_vec());
    }

    let script = Rc::new(RefCell::new(Script::new(u.take_rest())));
    let pipe = Rc::new(RefCell::new(Pipe::new(capacity)));
    let mut writer = MockWriter::new(pipe.clone(), script.clone());
    let mut reader = MockReader::new(pipe.clone(), script.clone());
    let mut decoder = StreamDecoder::new(FrameConfig::default());

    let (mut frame_at, mut offset) = (0usize, 0usize);
    let mut received = 0usize;
    let mut steps = 0u64;
    loop {
        steps += 1;
        assert!(steps < 10_000_000, "no progress");
        // Which side moves: the script decides, then alternate.
        let send_turn = match script.borrow_mut().choose() {
            Some(b) => b & 1 == 0,
            None => steps.is_multiple_of(2),
        };
        if send_turn {
            if frame_at < sent.len() {
                match writer.write(&sent[frame_at][offset..]) {
                    Ok(0) => panic!("write returned 0 for a non-empty buffer"),
                    Ok(n) => {
                        offset += n;
                        if offset == sent[frame_at].len() {
                            frame_at += 1;
                            offset = 0;
                        }
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                        ) => {}
                    Err(e) => panic!("unexpected write error {e}"),
                }
            } else {
                writer.flush().expect("flush");
                pipe.borrow_mut().close();
            }
            continue;
        }
        match decoder.read_from(&mut reader) {
            Ok(0) => {
                decoder.finish().expect("stream ends on a frame boundary");
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
        while let Some(frame) = decoder.next_frame().expect("intact frames") {
            let expected = &sent[received];
            assert_eq!(frame.sequence(), received as u64);
            let mut again: PacketBuf<4096> = PacketBuf::new();
            let bytes = again
                .encode_raw(frame.type_id(), frame.sequence(), frame.body())
                .expect("fits");
            assert_eq!(bytes, &expected[..], "frame {received} changed on the way");
            let decoded = match &msgs[received] {
                Msg::Move(m) => format!(
                    "{:?}",
                    frame
                        .decode_packet::<PlayerMove>()
                        .map(|p| p == *m || format!("{p:?}") == format!("{m:?}"))
                ),
                Msg::Chat(c, f, t, ms) => format!(
                    "{:?}",
                    frame
                        .decode_packet::<Chat<'_>>()
                        .map(|p| p.channel == *c && p.from == f && p.text == t && p.time_ms == *ms)
                ),
                Msg::Snapshot(s) => format!(
                    "{:?}",
                    frame
                        .decode_packet::<WorldSnapshot>()
                        .map(|p| format!("{p:?}") == format!("{s:?}"))
                ),
            };
            assert_eq!(decoded, "Ok(true)", "packet {received} decoded differently");
            received += 1;
        }
    }
    assert_eq!(received, sent.len(), "every frame arrives");
});
