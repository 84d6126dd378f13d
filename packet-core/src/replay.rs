//! Replay protection for sealed frames: sans-I/O state held per peer.
//!
//! Two modes (`docs/wire-format.md` §7, "Replay rules"):
//!
//! - [`OrderedReplay`] for byte streams (TCP), where frames arrive in the
//!   order they were sent: each accepted sequence must be strictly above
//!   the last accepted one.
//! - [`ReplayWindow`] for datagrams (UDP), which may be lost, duplicated or
//!   reordered: an RFC 6479-style sliding bitmap of [`WINDOW`] sequences
//!   behind the highest one accepted. A frame reordered within the window
//!   is accepted exactly once; a duplicate or one behind the window is
//!   rejected.
//!
//! Every mode splits acceptance in two: [`ReplayState::check`] is
//! read-only and runs *before* the frame is authenticated;
//! [`ReplayState::commit`] runs only *after* the tag verified. A forged
//! frame (even one claiming sequence `u64::MAX`) therefore never moves the
//! state. [`crate::crypto::SealedChannel`] does this in the right order;
//! use these types directly only to build another channel.
//!
//! No cryptography lives here, and nothing allocates.

use crate::error::ReplayError;

/// Sequences the datagram window remembers behind the highest accepted:
/// with highest `h`, sequences `h - WINDOW + 1 ..= h` are tracked, and
/// anything `<= h - WINDOW` is too old.
pub const WINDOW: u64 = 1024;

/// Bits per bitmap block.
const BLOCK_BITS: u64 = u64::BITS as u64;
/// Blocks in the bitmap: the window plus one spare block, so a whole block
/// can be cleared when the window slides (RFC 6479 §2).
const BLOCKS: usize = (WINDOW / BLOCK_BITS) as usize + 1;

/// Which replay rule a channel applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplayMode {
    /// Strictly increasing sequences (byte streams: TCP).
    Ordered,
    /// Sliding window of [`WINDOW`] sequences (datagrams: UDP).
    Windowed,
}

/// Strictly increasing sequences, for ordered streams.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderedReplay {
    last: Option<u64>,
}

impl OrderedReplay {
    /// A fresh state: any first sequence is accepted.
    pub const fn new() -> Self {
        Self { last: None }
    }

    /// The last accepted sequence.
    pub const fn last(&self) -> Option<u64> {
        self.last
    }

    /// Read-only: would `sequence` be accepted?
    pub fn check(&self, sequence: u64) -> Result<(), ReplayError> {
        match self.last {
            Some(last) if sequence <= last => Err(ReplayError::NotIncreasing { sequence, last }),
            _ => Ok(()),
        }
    }

    /// Records `sequence` as accepted (call after authentication). A
    /// sequence that [`OrderedReplay::check`] would refuse changes nothing.
    pub fn commit(&mut self, sequence: u64) {
        if self.check(sequence).is_ok() {
            self.last = Some(sequence);
        }
    }
}

/// RFC 6479-style sliding window over the last [`WINDOW`] sequences.
///
/// The bitmap has `WINDOW / 64 + 1` blocks of 64 bits (136 bytes);
/// sequence `s` lives in block `(s / 64) % BLOCKS`, bit `s % 64`. Sliding
/// forward clears whole blocks, at most all of them, so a jump of any size
/// costs at most `BLOCKS` word writes. Arithmetic never overflows, up to
/// and including `u64::MAX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayWindow {
    /// Highest accepted sequence; `None` before the first.
    highest: Option<u64>,
    bitmap: [u64; BLOCKS],
}

impl Default for ReplayWindow {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplayWindow {
    /// A fresh window: any first sequence is accepted.
    pub const fn new() -> Self {
        Self {
            highest: None,
            bitmap: [0; BLOCKS],
        }
    }

    /// The highest accepted sequence.
    pub const fn highest(&self) -> Option<u64> {
        self.highest
    }

    fn slot(sequence: u64) -> (usize, u64) {
        (
            ((sequence / BLOCK_BITS) % BLOCKS as u64) as usize,
            1u64 << (sequence % BLOCK_BITS),
        )
    }

    /// Read-only: would `sequence` be accepted?
    pub fn check(&self, sequence: u64) -> Result<(), ReplayError> {
        let Some(highest) = self.highest else {
            return Ok(());
        };
        if sequence > highest {
            return Ok(());
        }
        if highest - sequence >= WINDOW {
            return Err(ReplayError::TooOld {
                sequence,
                highest,
                window: WINDOW,
            });
        }
        let (block, bit) = Self::slot(sequence);
        if self.bitmap[block] & bit != 0 {
            return Err(ReplayError::Duplicate { sequence });
        }
        Ok(())
    }

    /// Records `sequence` as accepted (call after authentication), sliding
    /// the window forward if it is the new highest. A sequence that
    /// [`ReplayWindow::check`] would refuse changes nothing.
    pub fn commit(&mut self, sequence: u64) {
        if self.check(sequence).is_err() {
            return;
        }
        match self.highest {
            None => {
                self.bitmap = [0; BLOCKS];
                self.highest = Some(sequence);
            }
            Some(highest) if sequence > highest => {
                let old_block = highest / BLOCK_BITS;
                let new_block = sequence / BLOCK_BITS;
                let steps = (new_block - old_block).min(BLOCKS as u64);
                for i in 1..=steps {
                    let block = ((old_block + i) % BLOCKS as u64) as usize;
                    self.bitmap[block] = 0;
                }
                self.highest = Some(sequence);
            }
            Some(_) => {}
        }
        let (block, bit) = Self::slot(sequence);
        self.bitmap[block] |= bit;
    }
}

/// The replay state of one peer, in either mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayState {
    /// See [`OrderedReplay`].
    Ordered(OrderedReplay),
    /// See [`ReplayWindow`].
    Windowed(ReplayWindow),
}

impl ReplayState {
    /// A fresh state for `mode`.
    pub const fn new(mode: ReplayMode) -> Self {
        match mode {
            ReplayMode::Ordered => Self::Ordered(OrderedReplay::new()),
            ReplayMode::Windowed => Self::Windowed(ReplayWindow::new()),
        }
    }

    /// The mode.
    pub const fn mode(&self) -> ReplayMode {
        match self {
            Self::Ordered(_) => ReplayMode::Ordered,
            Self::Windowed(_) => ReplayMode::Windowed,
        }
    }

    /// Read-only: would `sequence` be accepted? Call before authenticating.
    pub fn check(&self, sequence: u64) -> Result<(), ReplayError> {
        match self {
            Self::Ordered(s) => s.check(sequence),
            Self::Windowed(s) => s.check(sequence),
        }
    }

    /// Records an authenticated `sequence`. Call only after the tag
    /// verified.
    pub fn commit(&mut self, sequence: u64) {
        match self {
            Self::Ordered(s) => s.commit(sequence),
            Self::Windowed(s) => s.commit(sequence),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(w: &mut ReplayWindow, s: u64) -> Result<(), ReplayError> {
        w.check(s)?;
        w.commit(s);
        Ok(())
    }

    #[test]
    fn window_has_room_for_at_least_1024() {
        const { assert!(WINDOW >= 1024) };
        assert!((BLOCKS as u64 - 1) * BLOCK_BITS >= WINDOW);
    }

    #[test]
    fn window_edges() {
        let mut w = ReplayWindow::new();
        let top = 5000;
        accept(&mut w, top).unwrap();
        // top - WINDOW is just outside, top - WINDOW + 1 just inside.
        assert_eq!(
            w.check(top - WINDOW),
            Err(ReplayError::TooOld {
                sequence: top - WINDOW,
                highest: top,
                window: WINDOW
            })
        );
        accept(&mut w, top - WINDOW + 1).unwrap();
        assert_eq!(
            w.check(top - WINDOW + 1),
            Err(ReplayError::Duplicate {
                sequence: top - WINDOW + 1
            })
        );
        // Every in-window sequence once, then never again.
        for s in top - WINDOW + 2..top {
            accept(&mut w, s).unwrap();
        }
        for s in top - WINDOW + 1..=top {
            assert_eq!(w.check(s), Err(ReplayError::Duplicate { sequence: s }));
        }
    }

    #[test]
    fn slide_by_one_keeps_history_and_forgets_the_edge() {
        let mut w = ReplayWindow::new();
        for s in 0..3000 {
            accept(&mut w, s).unwrap();
            assert!(w.check(s).is_err());
            if s >= WINDOW {
                assert!(matches!(
                    w.check(s - WINDOW),
                    Err(ReplayError::TooOld { .. })
                ));
                assert!(matches!(
                    w.check(s - WINDOW + 1),
                    Err(ReplayError::Duplicate { .. })
                ));
            }
        }
    }

    #[test]
    fn jump_larger_than_window_clears_everything() {
        let mut w = ReplayWindow::new();
        for s in 0..100 {
            accept(&mut w, s).unwrap();
        }
        let top = 100 + 10 * WINDOW;
        accept(&mut w, top).unwrap();
        // Everything in the new window except top is fresh.
        for s in top - WINDOW + 1..top {
            assert_eq!(w.check(s), Ok(()), "{s}");
        }
        assert!(matches!(w.check(99), Err(ReplayError::TooOld { .. })));
        // A jump of exactly WINDOW and of WINDOW + 64 (block edges).
        for jump in [WINDOW - 1, WINDOW, WINDOW + 1, WINDOW + 63, WINDOW + 64] {
            let mut w = ReplayWindow::new();
            accept(&mut w, 1000).unwrap();
            accept(&mut w, 999).unwrap();
            accept(&mut w, 1000 + jump).unwrap();
            let expect_999 = if jump + 1 >= WINDOW { "old" } else { "dup" };
            match (expect_999, w.check(999)) {
                ("old", Err(ReplayError::TooOld { .. })) => {}
                ("dup", Err(ReplayError::Duplicate { .. })) => {}
                other => panic!("jump {jump}: {other:?}"),
            }
            for s in (1000 + jump).saturating_sub(WINDOW - 1)..1000 + jump {
                if s != 999 && s != 1000 {
                    assert_eq!(w.check(s), Ok(()), "jump {jump}, seq {s}");
                }
            }
        }
    }

    #[test]
    fn near_the_top_of_the_sequence_space() {
        let mut w = ReplayWindow::new();
        accept(&mut w, u64::MAX - 2).unwrap();
        accept(&mut w, u64::MAX).unwrap();
        accept(&mut w, u64::MAX - 1).unwrap();
        for s in [u64::MAX, u64::MAX - 1, u64::MAX - 2] {
            assert_eq!(w.check(s), Err(ReplayError::Duplicate { sequence: s }));
        }
        assert_eq!(w.check(u64::MAX - WINDOW + 1), Ok(()));
        assert!(matches!(
            w.check(u64::MAX - WINDOW),
            Err(ReplayError::TooOld { .. })
        ));
        assert!(matches!(w.check(0), Err(ReplayError::TooOld { .. })));
    }

    #[test]
    fn check_is_read_only() {
        let mut w = ReplayWindow::new();
        accept(&mut w, 10).unwrap();
        let before = w.clone();
        for s in [0, 9, 10, 11, u64::MAX] {
            let _ = w.check(s);
        }
        assert_eq!(w, before);
        // Committing a refused sequence changes nothing either.
        w.commit(10);
        assert_eq!(w, before);
    }

    #[test]
    fn ordered_is_strictly_increasing() {
        let mut o = OrderedReplay::new();
        assert_eq!(o.check(0), Ok(()));
        o.commit(0);
        assert_eq!(
            o.check(0),
            Err(ReplayError::NotIncreasing {
                sequence: 0,
                last: 0
            })
        );
        o.commit(5);
        assert_eq!(
            o.check(4),
            Err(ReplayError::NotIncreasing {
                sequence: 4,
                last: 5
            })
        );
        assert_eq!(o.check(6), Ok(()));
        o.commit(u64::MAX);
        assert!(o.check(u64::MAX).is_err());
        o.commit(3);
        assert_eq!(o.last(), Some(u64::MAX));
    }
}
