//! End to end over a mock non-blocking byte stream, in the style of h2's
//! `fuzz_e2e`: the input picks the packets to send and a script for the
//! stream: the pipe's capacity, short writes, short reads, `WouldBlock` and
//! `Interrupted` at any point, and the interleaving of the sending and the
//! receiving side. Frames are written with `Write` (retrying on short writes
//! and would-block) and read with `StreamDecoder::read_from`; every frame
//! must arrive intact and in order, and the stream must end cleanly.
#![no_main]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::rc::Rc;

use libfuzzer_sys::arbitrary::{Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use packet_benches::{Chat, Entity, PlayerMove, WorldSnapshot};
use packet_core::{FrameConfig, PacketBuf, StreamDecoder};

/// The input's remaining bytes, read one choice at a time; once spent,
/// every choice is "no trouble" so the exchange always completes.
struct Script<'a> {
    bytes: &'a [u8],
}

impl Script<'_> {
    fn next(&mut self) -> Option<u8> {
        let (&b, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(b)
    }
}

struct Pipe {
    bytes: VecDeque<u8>,
    capacity: usize,
    closed: bool,
}

struct MockWriter<'a> {
    pipe: Rc<RefCell<Pipe>>,
    script: Rc<RefCell<Script<'a>>>,
}

impl Write for MockWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let choice = self.script.borrow_mut().next();
        let mut pipe = self.pipe.borrow_mut();
        let space = pipe.capacity - pipe.bytes.len();
        let limit = match choice {
            Some(b) if b % 8 == 0 => return Err(io::ErrorKind::WouldBlock.into()),
            Some(b) if b % 8 == 1 => return Err(io::ErrorKind::Interrupted.into()),
            Some(b) => 1 + (b as usize >> 3) * 7, // a short write
            None => usize::MAX,
        };
        if buf.is_empty() {
            return Ok(0);
        }
        if space == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(space).min(limit);
        pipe.bytes.extend(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct MockReader<'a> {
    pipe: Rc<RefCell<Pipe>>,
    script: Rc<RefCell<Script<'a>>>,
}

impl Read for MockReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let choice = self.script.borrow_mut().next();
        let limit = match choice {
            Some(b) if b % 8 == 0 => return Err(io::ErrorKind::WouldBlock.into()),
            Some(b) if b % 8 == 1 => return Err(io::ErrorKind::Interrupted.into()),
            Some(b) => 1 + (b as usize >> 3) * 5, // a short read
            None => usize::MAX,
        };
        let mut pipe = self.pipe.borrow_mut();
        if pipe.bytes.is_empty() {
            return if pipe.closed {
                Ok(0)
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
        }
        let n = buf.len().min(pipe.bytes.len()).min(limit);
        for (dst, src) in buf[..n].iter_mut().zip(pipe.bytes.drain(..n)) {
            *dst = src;
        }
        Ok(n)
    }
}

/// A packet to send, owning its strings.
#[derive(Debug)]
enum Msg {
    Move(PlayerMove),
    Chat(u16, String, String, u64),
    Snapshot(WorldSnapshot),
}

fn arb_move(u: &mut Unstructured<'_>) -> ArbResult<PlayerMove> {
    Ok(PlayerMove {
        entity: u.arbitrary()?,
        tick: u.arbitrary()?,
        pos: u.arbitrary()?,
        vel: u.arbitrary()?,
        yaw: u.arbitrary()?,
        buttons: u.arbitrary()?,
    })
}

fn arb_msg(u: &mut Unstructured<'_>) -> ArbResult<Msg> {
    Ok(match u.int_in_range(0..=2u8)? {
        0 => Msg::Move(arb_move(u)?),
        1 => Msg::Chat(
            u.arbitrary()?,
            u.arbitrary()?,
            u.arbitrary()?,
            u.arbitrary()?,
        ),
        _ => {
            let n = u.int_in_range(0..=100usize)?;
            let mut entities = Vec::with_capacity(n);
            for _ in 0..n {
                entities.push(Entity {
                    id: u.arbitrary()?,
                    kind: u.arbitrary()?,
                    pos: u.arbitrary()?,
                    yaw: u.arbitrary()?,
                    vel: u.arbitrary()?,
                    health: u.arbitrary()?,
                });
            }
            Msg::Snapshot(WorldSnapshot {
                tick: u.arbitrary()?,
                entities,
            })
        }
    })
}

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
    let mut msgs = Vec::with_capacity(count);
    for _ in 0..count {
        match arb_msg(&mut u) {
            Ok(m) => msgs.push(m),
            Err(_) => return,
        }
    }
    // The expected wire: every frame, in order.
    let mut sent: Vec<Vec<u8>> = Vec::new();
    let mut buf: PacketBuf<4096> = PacketBuf::new();
    for (seq, msg) in msgs.iter().enumerate() {
        sent.push(encode(msg, seq as u64, &mut buf).to_vec());
    }

    let script = Rc::new(RefCell::new(Script {
        bytes: u.take_rest(),
    }));
    let pipe = Rc::new(RefCell::new(Pipe {
        bytes: VecDeque::new(),
        capacity,
        closed: false,
    }));
    let mut writer = MockWriter {
        pipe: pipe.clone(),
        script: script.clone(),
    };
    let mut reader = MockReader {
        pipe: pipe.clone(),
        script: script.clone(),
    };
    let mut decoder = StreamDecoder::new(FrameConfig::default());

    let (mut frame_at, mut offset) = (0usize, 0usize);
    let mut received = 0usize;
    let mut steps = 0u64;
    loop {
        steps += 1;
        assert!(steps < 10_000_000, "no progress");
        // Which side moves: the script decides, then alternate.
        let send_turn = match script.borrow_mut().next() {
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
                pipe.borrow_mut().closed = true;
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
