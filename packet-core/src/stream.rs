//! The incremental frame decoder for byte streams (TCP).
//!
//! Feed it chunks of any size, one byte at a time or many frames at once,
//! and take complete frames out, borrowed from its buffer. Its memory is
//! bounded by [`FrameConfig::max_frame_len`](crate::FrameConfig) and grows
//! only with bytes that actually arrived: a header that claims a large
//! frame and then trickles gets no large allocation. After a damaged frame
//! it reports the error and stays failed (the caller closes the stream).
//!
//! Framing rules live in [`crate::frame`]; this module only buffers.

use alloc::vec::Vec;

use crate::error::FrameError;
use crate::frame::{self, Frame, FrameConfig};

/// An incremental decoder of a stream of frames.
///
/// ```
/// use packet_core::{frame, FrameConfig, StreamDecoder};
///
/// let mut wire = [0u8; 64];
/// let n = frame::encode_raw(1, 0, b"hello", &mut wire)?;
///
/// let mut decoder = StreamDecoder::new(FrameConfig::default());
/// let mut got = Vec::new();
/// for byte in &wire[..n] {               // one byte at a time
///     decoder.feed(core::slice::from_ref(byte));
///     while let Some(frame) = decoder.next_frame()? {
///         got.push(frame.body().to_vec());
///     }
/// }
/// assert_eq!(got, [b"hello".to_vec()]);
/// decoder.finish()?; // no frame left half-way
/// # Ok::<(), packet_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct StreamDecoder {
    config: FrameConfig,
    /// Initialised storage; bytes `start..end` are buffered and unconsumed.
    /// It only grows (never past the maximum frame), so a read lands in
    /// memory that is already initialised: no zero-fill per read.
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`.
    start: usize,
    /// End of the buffered bytes in `buf`.
    end: usize,
    /// Set once a frame failed validation; returned from then on.
    failed: Option<FrameError>,
}

impl StreamDecoder {
    /// A decoder with the given limits; allocates nothing until fed.
    pub fn new(config: FrameConfig) -> Self {
        Self {
            config,
            buf: Vec::new(),
            start: 0,
            end: 0,
            failed: None,
        }
    }

    /// The limits.
    pub fn config(&self) -> &FrameConfig {
        &self.config
    }

    /// Bytes buffered and not yet returned as frames.
    #[inline]
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// Bytes allocated for the buffer: never more than the maximum frame.
    /// [`StreamDecoder::feed`] grows it only to hold bytes that arrived (at
    /// most doubling), `read_from` by at most one 16 KiB read; it is kept
    /// across frames and [`StreamDecoder::reset`] for reuse.
    pub fn buffer_capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The most bytes [`StreamDecoder::feed`] accepts right now.
    #[inline]
    pub fn capacity_left(&self) -> usize {
        (self.config.max_frame_len() as usize).saturating_sub(self.buffered())
    }

    /// Appends bytes; returns how many were taken.
    ///
    /// At most [`StreamDecoder::capacity_left`] bytes are taken, so the
    /// buffer never exceeds the maximum frame. When fewer than
    /// `data.len()` are taken, drain frames with
    /// [`StreamDecoder::next_frame`] and feed the rest.
    #[inline]
    pub fn feed(&mut self, data: &[u8]) -> usize {
        self.compact();
        let take = data.len().min(self.capacity_left());
        self.grow_for(take);
        self.buf[self.end..self.end + take].copy_from_slice(&data[..take]);
        self.end += take;
        take
    }

    /// Makes room for `extra` more bytes (at most `capacity_left`, so the
    /// result stays within the maximum frame). `Vec`'s own growth could
    /// double past the bound; this caps it.
    #[inline]
    fn grow_for(&mut self, extra: usize) {
        let needed = self.end + extra;
        if needed > self.buf.len() {
            let max = self.config.max_frame_len() as usize;
            // Double (amortised growth) but never past the maximum frame;
            // `needed <= max` because callers take at most `capacity_left`.
            let target = needed
                .max(self.buf.len().saturating_mul(2))
                .min(max)
                .max(needed);
            self.buf.reserve_exact(target - self.buf.len());
            self.buf.resize(target, 0);
        }
    }

    /// Reads from `reader` once into the buffer (at most 16 KiB, and never
    /// past the maximum frame); returns the byte count, 0 at end of stream.
    ///
    /// Take complete frames out first: when the buffer already holds a
    /// maximum-size frame there is no room to read into, and this returns
    /// an [`std::io::ErrorKind::InvalidInput`] error rather than an `Ok(0)`
    /// that would look like end of stream.
    #[cfg(feature = "std")]
    #[inline]
    pub fn read_from<R: std::io::Read>(&mut self, reader: &mut R) -> std::io::Result<usize> {
        self.compact();
        let want = self.capacity_left().min(16 * 1024);
        if want == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "stream decoder is full: take the buffered frame out before reading more",
            ));
        }
        self.grow_for(want);
        let n = reader.read(&mut self.buf[self.end..self.end + want])?;
        self.end += n;
        Ok(n)
    }

    /// Moves unconsumed bytes to the front of the buffer.
    #[inline]
    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
    }

    /// The next complete frame's bytes after only the length checks (rules
    /// 1 to 4), or `None` if it has not fully arrived. For sealed frames,
    /// which are opened in place.
    #[inline]
    pub fn next_raw(&mut self) -> Result<Option<&mut [u8]>, FrameError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let pending = &self.buf[self.start..self.end];
        let length = match frame::check_prefix(pending, &self.config) {
            Ok(Some(length)) => length as usize,
            Ok(None) => return Ok(None),
            Err(e) => return Err(self.fail(e)),
        };
        if pending.len() < length {
            return Ok(None);
        }
        let at = self.start;
        self.start += length;
        Ok(Some(&mut self.buf[at..at + length]))
    }

    /// The next complete frame's bytes after only the length checks (rules
    /// 1 to 4), without taking it: `None` if it has not fully arrived (or
    /// the stream failed). Lets a caller look at a frame before deciding
    /// how to take it.
    ///
    /// ```
    /// use packet_core::{StreamDecoder, frame::{self, FrameConfig}};
    ///
    /// let mut wire = [0u8; 64];
    /// let n = frame::encode_raw(7, 0, b"hi", &mut wire).unwrap();
    /// let mut d = StreamDecoder::new(FrameConfig::default());
    /// d.feed(&wire[..n - 1]);
    /// assert_eq!(d.peek(), None); // not complete yet
    /// d.feed(&wire[n - 1..n]);
    /// assert_eq!(d.peek(), Some(&wire[..n])); // complete, still there
    /// assert_eq!(d.next_frame().unwrap().unwrap().body(), b"hi");
    /// assert_eq!(d.peek(), None);
    /// ```
    #[inline]
    pub fn peek(&self) -> Option<&[u8]> {
        if self.failed.is_some() {
            return None;
        }
        let pending = &self.buf[self.start..self.end];
        match frame::check_prefix(pending, &self.config) {
            Ok(Some(length)) if pending.len() >= length as usize => {
                Some(&pending[..length as usize])
            }
            _ => None,
        }
    }

    /// Whether [`StreamDecoder::next_frame`] (or [`StreamDecoder::next_raw`])
    /// would return a frame or an error now rather than `None`: lets an I/O
    /// loop decide to read more before borrowing a frame.
    #[inline]
    pub fn has_frame(&self) -> bool {
        if self.failed.is_some() {
            return true;
        }
        let pending = &self.buf[self.start..self.end];
        match frame::check_prefix(pending, &self.config) {
            Ok(Some(length)) => pending.len() >= length as usize,
            Ok(None) => false,
            Err(_) => true,
        }
    }

    /// The next complete, fully validated plaintext frame, or `None` if it
    /// has not fully arrived yet.
    #[inline]
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, FrameError> {
        let at = self.start;
        let length = match self.next_raw()? {
            Some(raw) => raw.len(),
            None => return Ok(None),
        };
        match Frame::parse_exact(&self.buf[at..at + length]) {
            Ok(frame) => Ok(Some(frame)),
            Err(e) => {
                // A disjoint field: the frame's borrow of `buf` is not held.
                self.failed = Some(e);
                Err(e)
            }
        }
    }

    /// Records a failure; every later call returns it.
    pub fn fail(&mut self, error: FrameError) -> FrameError {
        self.failed = Some(error);
        error
    }

    /// Call at end of stream: an error if a frame was left unfinished.
    pub fn finish(&self) -> Result<(), FrameError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        match self.buffered() {
            0 => Ok(()),
            buffered => Err(FrameError::UnexpectedEof { buffered }),
        }
    }

    /// Forgets buffered bytes and any failure, keeping the allocation.
    pub fn reset(&mut self) {
        self.start = 0;
        self.end = 0;
        self.failed = None;
    }
}
