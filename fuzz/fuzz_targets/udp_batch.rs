//! The UDP servers' batched receive splitting
//! (`packet_net::fuzzing::split_slots`, the pure part of `UdpBatch::recv`
//! in packet-net's `transport/batch.rs`): the receive area's slots, as
//! one `recvmmsg` call filled them, split back into datagrams, GRO's
//! coalesced buffers of `stride`-byte datagrams included. The input picks
//! the slot size, how many slots were filled, and for each its source,
//! length (past the slot's end too: a misreported length must not panic)
//! and stride (0, any, or more than the length), then the bytes.
//!
//! Properties beyond "no panic":
//! - every byte received (each slot's first `min(len, slot)` bytes) is
//!   handed over exactly once, in order, with its slot's source, and no
//!   other byte is;
//! - a slot is split into datagrams of `stride` bytes, the last one maybe
//!   shorter and never empty; a slot of 0 bytes is one empty datagram (an
//!   empty datagram is one datagram), and a stride of 0 or at least the
//!   length leaves the slot whole;
//! - the count returned is the number of datagrams handed over.
#![no_main]

use std::net::SocketAddr;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use packet_net::fuzzing::split_slots;

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let slot_len = u.int_in_range(1..=256usize)?;
    let filled = u.int_in_range(0..=8usize)?;
    let mut slots: Vec<(SocketAddr, usize, usize)> = Vec::with_capacity(filled);
    for _ in 0..filled {
        let from = SocketAddr::from(([127, 0, 0, 1], u.int_in_range(1..=4u16)?));
        let len = match u.int_in_range(0..=7u8)? {
            0 => 0,
            1 => slot_len,
            2 => slot_len + u.int_in_range(1..=64usize)?,
            _ => u.int_in_range(0..=slot_len)?,
        };
        let stride = match u.int_in_range(0..=5u8)? {
            0 => 0,
            1 => len,
            2 => len + u.int_in_range(1..=64usize)?,
            _ => u.int_in_range(1..=slot_len)?,
        };
        slots.push((from, len, stride));
    }
    // The area: `filled` slots, sometimes fewer (or the last one cut
    // short, or none at all), with bytes from the input.
    let area_len = match u.int_in_range(0..=3u8)? {
        0 => u.int_in_range(0..=filled * slot_len)?,
        _ => filled * slot_len,
    };
    let mut area = vec![0u8; area_len];
    u.fill_buffer(&mut area)?;
    let original = area.clone();

    // What must come out, as ranges of the area: slot `i` exists when the
    // area reaches it; its received bytes are the first `len` (at most
    // the slot), split every `stride` bytes (0 or more than the length:
    // whole), and none received is one empty datagram.
    let mut expected: Vec<(SocketAddr, std::ops::Range<usize>)> = Vec::new();
    for (i, &(from, len, stride)) in slots.iter().enumerate() {
        let start = i * slot_len;
        if start >= area_len {
            break;
        }
        let end = start + len.min(slot_len).min(area_len - start);
        if start == end {
            expected.push((from, start..start));
            continue;
        }
        let step = if stride == 0 { end - start } else { stride };
        let mut at = start;
        while at < end {
            let next = (at + step).min(end);
            expected.push((from, at..next));
            at = next;
        }
    }

    // Where each datagram handed over lies in the area (by address: a
    // byte handed twice, skipped or out of place shows).
    let base = area.as_ptr() as usize;
    let mut got: Vec<(SocketAddr, std::ops::Range<usize>)> = Vec::new();
    let count = split_slots(&mut area, slot_len, &slots, |from, d| {
        let at = d.as_ptr() as usize - base;
        got.push((from, at..at + d.len()));
        // Whoever gets a datagram may write it in place (the servers open
        // sealed frames there).
        d.fill(0xA5);
    });
    assert_eq!(count, got.len(), "count returned vs datagrams handed over");
    assert_eq!(
        got, expected,
        "datagrams of slots {slots:?} (slot {slot_len}, area {area_len})"
    );
    // Only the datagrams' bytes were written.
    for (i, (a, o)) in area.iter().zip(&original).enumerate() {
        if a != o {
            assert!(
                got.iter().any(|(_, r)| r.contains(&i)),
                "byte {i} outside every datagram was written"
            );
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
