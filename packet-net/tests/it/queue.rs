//! The outgoing queue: coalescing, datagram flushing, back-pressure.

use std::io;

use packet_core::StreamDecoder;
use packet_core::error::EncodeError;
use packet_core::frame::{self, FrameConfig};
use packet_net::fuzzing::{self, Outbox};
use packet_net::transport::{TransportConfig, TransportError};

fn outbox(config: &TransportConfig) -> Outbox {
    fuzzing::outbox(config, fuzzing::plain(&config.frame).0, None)
}

/// A writer that takes at most `chunk` bytes per call, then reports
/// `WouldBlock` after `budget` calls, counting the calls.
struct Trickle {
    out: Vec<u8>,
    chunk: usize,
    budget: usize,
    calls: usize,
}

impl io::Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.calls == self.budget {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.calls += 1;
        let n = buf.len().min(self.chunk);
        self.out.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn many_frames_leave_in_one_write() {
    let mut out = outbox(&TransportConfig::default());
    for i in 0..100u16 {
        out.queue_raw(i, &[i as u8; 10]).unwrap();
    }
    let mut w = Trickle {
        out: Vec::new(),
        chunk: usize::MAX,
        budget: 10,
        calls: 0,
    };
    let n = fuzzing::queue(&mut out).write_to(&mut w).unwrap();
    assert_eq!((w.calls, n, out.is_empty()), (1, 100 * 40, true));
    // Every frame is intact and in order.
    let mut dec = StreamDecoder::new(FrameConfig::default());
    dec.feed(&w.out);
    for i in 0..100u16 {
        let f = dec.next_frame().unwrap().unwrap();
        assert_eq!(
            (f.type_id(), f.sequence(), f.body()),
            (i, u64::from(i), &[i as u8; 10][..])
        );
    }
}

#[test]
fn queued_frames_leave_as_one_datagram_each() {
    let mut out = outbox(&TransportConfig::default());
    for i in 0..3u16 {
        out.queue_raw(i, &[i as u8; 5]).unwrap();
    }
    let mut sent = Vec::new();
    // The second send would block: the rest stays queued.
    let mut calls = 0;
    let flush = fuzzing::send_datagrams(&mut out, 1, |d, _| {
        calls += 1;
        if calls == 2 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        sent.push(d.to_vec());
        Ok(())
    });
    assert_eq!((flush.sent, flush.failed, flush.empty), (1, 0, false));
    // A refused datagram is lost and counted; the next still goes.
    let mut calls = 0;
    let flush = fuzzing::send_datagrams(&mut out, 1, |d, _| {
        calls += 1;
        if calls == 1 {
            return Err(io::ErrorKind::ConnectionRefused.into());
        }
        sent.push(d.to_vec());
        Ok(())
    });
    assert_eq!((flush.sent, flush.failed, flush.empty), (1, 1, true));
    let types: Vec<u16> = sent
        .iter()
        .map(|d| {
            frame::decode_frame(d, &FrameConfig::default())
                .unwrap()
                .type_id()
        })
        .collect();
    assert_eq!(types, [0, 2]);
}

#[test]
fn full_queue_pushes_back_and_partial_writes_resume() {
    let config = TransportConfig::default()
        .with_frame(FrameConfig::default().with_max_frame_len(64))
        .with_write_queue_limit(100);
    let mut out = outbox(&config);
    assert_eq!(fuzzing::queue(&mut out).limit(), 100);
    out.queue_raw(1, &[1; 36]).unwrap(); // 64 bytes
    let full = out.queue_raw(2, &[2; 36]).unwrap_err();
    assert!(matches!(
        full,
        TransportError::QueueFull {
            queued: 64,
            needed: 64,
            limit: 100
        }
    ));
    assert_eq!(out.len(), 64, "a refused frame leaves nothing behind");
    assert!(matches!(
        out.queue_raw(3, &[0; 37]),
        Err(TransportError::Encode(EncodeError::FrameTooLarge {
            len: 68,
            max: 64
        }))
    ));
    // The socket takes 10 bytes a call, then would block.
    let mut w = Trickle {
        out: Vec::new(),
        chunk: 10,
        budget: 3,
        calls: 0,
    };
    assert_eq!(fuzzing::queue(&mut out).write_to(&mut w).unwrap(), 30);
    assert_eq!(out.len(), 34);
    out.queue_raw(4, b"x").unwrap(); // room again: 34 + 32 <= 100
    w.budget = usize::MAX;
    fuzzing::queue(&mut out).write_to(&mut w).unwrap();
    assert!(out.is_empty());
    let mut dec = StreamDecoder::new(config.frame);
    let taken = dec.feed(&w.out); // at most one maximum frame
    assert_eq!(dec.next_frame().unwrap().unwrap().type_id(), 1);
    dec.feed(&w.out[taken..]);
    assert_eq!(dec.next_frame().unwrap().unwrap().body(), b"x");
    assert!(dec.next_frame().unwrap().is_none());
}

/// With GSO, a run of frames of one length (the last maybe shorter)
/// leaves in one send, split by the socket at that length; a longer frame
/// starts a new run, and no run exceeds `max_segments`.
#[test]
fn runs_of_equal_frames_leave_in_one_send() {
    let mut out = outbox(&TransportConfig::default());
    for body in [8, 8, 8, 4, 8, 8, 8, 8, 8, 16] {
        out.queue_raw(1, &vec![0u8; body]).unwrap();
    }
    let len = |body| frame::frame_len_for(body);
    let mut sends = Vec::new();
    let flush = fuzzing::send_datagrams(&mut out, 4, |d, seg| {
        sends.push((d.len(), seg));
        Ok(())
    });
    assert_eq!((flush.sent, flush.failed, flush.empty), (10, 0, true));
    assert_eq!(
        sends,
        [
            (3 * len(8) + len(4), len(8)),
            (4 * len(8), len(8)),
            (len(8), len(8)),
            (len(16), len(16)),
        ]
    );
}
