//! The UDP servers' receive splitting (`fuzzing::split_slots`, the pure
//! part of a batched receive), pinned through the refactor that made it
//! iterator chains: every slot described is split, in order; an empty
//! datagram is one datagram; a length past the slot is cut to it; a GRO
//! slot splits every `stride` bytes, the last datagram maybe shorter.

use std::net::SocketAddr;

use packet_net::fuzzing::split_slots;

fn addr(i: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 5000 + i))
}

#[test]
fn split_slots_hands_every_datagram_of_every_slot_in_order() {
    const SLOT: usize = 8;
    let mut bytes: Vec<u8> = (0..4 * SLOT as u8).collect();
    let slots = [
        (addr(0), 3, 0),     // one datagram of 3 bytes
        (addr(1), 0, 0),     // an empty datagram: one
        (addr(2), 7, 3),     // GRO: 3 + 3 + 1
        (addr(3), 100, 100), // a length past the slot: cut to 8
    ];
    let mut got = Vec::new();
    let n = split_slots(&mut bytes, SLOT, &slots, |from, d| {
        got.push((from, d.to_vec()))
    });
    let want = vec![
        (addr(0), vec![0, 1, 2]),
        (addr(1), vec![]),
        (addr(2), vec![16, 17, 18]),
        (addr(2), vec![19, 20, 21]),
        (addr(2), vec![22]),
        (addr(3), (24..32).collect()),
    ];
    assert_eq!(got, want);
    assert_eq!(n, want.len(), "the count is what was handed over");
    // Fewer slots described than the area holds: only those.
    let mut got = 0;
    let n = split_slots(&mut bytes, SLOT, &slots[..1], |_, _| got += 1);
    assert_eq!((n, got), (1, 1));
    // None: nothing.
    assert_eq!(split_slots(&mut bytes, SLOT, &[], |_, _| panic!()), 0);
}
