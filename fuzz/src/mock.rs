//! An in-memory non-blocking byte pipe whose every `read` and `write` is
//! steered by the fuzz input (short counts, `WouldBlock`, `Interrupted`),
//! and the packets the transport targets send through it.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::rc::Rc;

use libfuzzer_sys::arbitrary::{Result as ArbResult, Unstructured};
use packet_benches::{Entity, PlayerMove, WorldSnapshot};

/// The input's remaining bytes, read one choice at a time; once spent,
/// every choice is "no trouble", so an exchange always completes.
pub struct Script<'a> {
    bytes: &'a [u8],
}

impl<'a> Script<'a> {
    /// A script over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    /// The next choice, `None` once spent.
    pub fn choose(&mut self) -> Option<u8> {
        let (&b, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(b)
    }
}

/// The bytes in flight, at most `capacity` of them.
pub struct Pipe {
    bytes: VecDeque<u8>,
    capacity: usize,
    closed: bool,
}

impl Pipe {
    /// An empty open pipe holding at most `capacity` bytes.
    pub fn new(capacity: usize) -> Self {
        Self {
            bytes: VecDeque::new(),
            capacity,
            closed: false,
        }
    }

    /// The sender is done: reads return 0 once the pipe is drained.
    pub fn close(&mut self) {
        self.closed = true;
    }
}

/// The sending end.
pub struct MockWriter<'a> {
    pipe: Rc<RefCell<Pipe>>,
    script: Rc<RefCell<Script<'a>>>,
}

impl<'a> MockWriter<'a> {
    /// The sending end of `pipe`, steered by `script`.
    pub fn new(pipe: Rc<RefCell<Pipe>>, script: Rc<RefCell<Script<'a>>>) -> Self {
        Self { pipe, script }
    }
}

impl Write for MockWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let choice = self.script.borrow_mut().choose();
        let mut pipe = self.pipe.borrow_mut();
        let space = pipe.capacity.saturating_sub(pipe.bytes.len());
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

/// The receiving end.
pub struct MockReader<'a> {
    pipe: Rc<RefCell<Pipe>>,
    script: Rc<RefCell<Script<'a>>>,
}

impl<'a> MockReader<'a> {
    /// The receiving end of `pipe`, steered by `script`.
    pub fn new(pipe: Rc<RefCell<Pipe>>, script: Rc<RefCell<Script<'a>>>) -> Self {
        Self { pipe, script }
    }
}

impl Read for MockReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let choice = self.script.borrow_mut().choose();
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
pub enum Msg {
    /// A `PlayerMove`.
    Move(PlayerMove),
    /// A `Chat`'s fields.
    Chat(u16, String, String, u64),
    /// A `WorldSnapshot` of up to 100 entities.
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

/// `count` packets from the input, in order.
pub fn arb_msgs(u: &mut Unstructured<'_>, count: usize) -> ArbResult<Vec<Msg>> {
    (0..count).map(|_| arb_msg(u)).collect()
}

/// A packet with field values from the input.
pub fn arb_msg(u: &mut Unstructured<'_>) -> ArbResult<Msg> {
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

impl Pipe {
    /// Bytes a third party slips in (garbage on the wire), past the
    /// capacity.
    pub fn inject(&mut self, bytes: &[u8]) {
        self.bytes.extend(bytes);
    }
}

/// One end of a duplex of two pipes: reads one, writes the other; its
/// write shutdown closes the pipe it writes (`packet_net::fuzzing::MemSocket`).
pub struct MockSocket<'a> {
    reader: MockReader<'a>,
    writer: MockWriter<'a>,
    out: Rc<RefCell<Pipe>>,
}

impl<'a> MockSocket<'a> {
    /// Reads `inp`, writes `out`, both steered by `script`.
    pub fn new(
        inp: Rc<RefCell<Pipe>>,
        out: Rc<RefCell<Pipe>>,
        script: Rc<RefCell<Script<'a>>>,
    ) -> Self {
        Self {
            reader: MockReader::new(inp, script.clone()),
            writer: MockWriter::new(out.clone(), script),
            out,
        }
    }
}

impl Read for MockSocket<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }
}

impl Write for MockSocket<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.out.borrow().closed {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        self.writer.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl packet_net::fuzzing::MemSocket for MockSocket<'_> {
    fn shutdown_write(&mut self) -> io::Result<()> {
        self.out.borrow_mut().close();
        Ok(())
    }
}

/// A well-formed frame of `type_id` with an arbitrary sequence and body,
/// as a datagram's bytes; `None` when the body cannot be framed.
pub fn arb_frame(u: &mut Unstructured<'_>, type_id: u16) -> ArbResult<Option<Vec<u8>>> {
    let body: &[u8] = u.arbitrary()?;
    let mut b = vec![0u8; packet_core::frame::frame_len_for(body.len())];
    let Ok(n) = packet_core::frame::encode_raw(type_id, u.arbitrary()?, body, &mut b) else {
        return Ok(None);
    };
    b.truncate(n);
    Ok(Some(b))
}
