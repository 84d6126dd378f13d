//! Byte cursors: the bounds-checked [`Writer`] and [`Reader`] that the
//! field codec writes and reads through. The bottom layer of the codec:
//! this module imports nothing of the crate but its errors.
//!
//! Every write checks capacity and every read checks length; neither can
//! panic or silently truncate. Values are little-endian. Field *types* and
//! their wire forms live in `codec`; frame buffers (`PacketBuf`) and the
//! envelope live in `frame`.

use crate::error::{DecodeError, EncodeError};

/// A bounds-checked little-endian cursor writing into a `&mut [u8]`.
///
/// The codec writes every field through a `Writer`. Each `put_*` checks the
/// remaining capacity once and then stores; [`Writer::reserve`] lets
/// generated code make one check for a whole fixed-size run of fields.
///
/// The bytes past [`Writer::position`] are scratch: an encode may store
/// a few bytes there that the next write replaces (an `Option` of a small
/// fixed-size value is written with one 16-byte store whatever its
/// variant), so only [`Writer::written`] holds the encoded bytes.
///
/// A value of a recursive type nested deeper than [`Writer::MAX_DEPTH`]
/// heap levels (`Box`, `Vec`, counted as the [`Reader`] counts them) is
/// refused with [`EncodeError::TooDeep`], since no decoder would take it
/// back. The encoders of such types carry the depth themselves, so the
/// writer of every other encode holds only its buffer and position.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    /// How deep heap-nested values (`Box`, `Vec`) may go while encoding:
    /// [`Reader::MAX_DEPTH`], so that exactly the values a decoder takes
    /// back encode. Past it encoding fails with [`EncodeError::TooDeep`]
    /// instead of writing bytes every decoder refuses (or recursing until
    /// the stack overflows).
    pub const MAX_DEPTH: u32 = Reader::MAX_DEPTH;

    /// A writer at the start of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes written so far.
    #[inline]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes still free.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        &self.buf[..self.pos]
    }

    /// Reserves the next `n` bytes and returns them to be filled; one
    /// capacity check for the whole run.
    #[inline]
    pub fn reserve(&mut self, n: usize) -> Result<&mut [u8], EncodeError> {
        let remaining = self.remaining();
        match self.try_reserve(n) {
            Some(slot) => Ok(slot),
            None => Err(buffer_full(n, remaining)),
        }
    }

    /// [`Writer::reserve`] without the error: `None` when `n` bytes do not
    /// fit (the writer unchanged). Two compares in registers and the
    /// position's update, where building the error inline kept the
    /// position's loads and stores around every field.
    #[doc(hidden)]
    #[inline(always)]
    pub fn try_reserve(&mut self, n: usize) -> Option<&mut [u8]> {
        let start = self.pos;
        let slot = self.buf.get_mut(start..)?.get_mut(..n)?;
        self.pos = start + n;
        Some(slot)
    }

    /// Reserves the next `N` bytes as an array (one capacity check).
    #[inline]
    pub fn reserve_array<const M: usize>(&mut self) -> Result<&mut [u8; M], EncodeError> {
        let remaining = self.remaining();
        match self
            .try_reserve(M)
            .and_then(|slot| slot.first_chunk_mut::<M>())
        {
            Some(slot) => Ok(slot),
            None => Err(buffer_full(M, remaining)),
        }
    }

    /// Writes the first `used` bytes of `bytes` with one `M`-byte store
    /// when `M` bytes fit (`false`, the writer unchanged, otherwise or when
    /// `used > M`). The bytes past `used` land after the position, where
    /// the next write goes: scratch, as every byte past the position is
    /// until written. A value whose size depends on its variant (an
    /// `Option`'s tag and value) is then written without a branch on it.
    #[doc(hidden)]
    #[inline(always)]
    pub fn put_head<const M: usize>(&mut self, bytes: [u8; M], used: usize) -> bool {
        let start = self.pos;
        match self
            .buf
            .get_mut(start..)
            .and_then(|t| t.first_chunk_mut::<M>())
        {
            Some(slot) if used <= M => {
                *slot = bytes;
                self.pos = start + used;
                true
            }
            _ => false,
        }
    }

    /// Runs `f` on a copy of this writer held in a local (then copied
    /// back, whatever `f` returns). A loop over a sequence's elements
    /// writes through it: once the elements' encodes are inlined, the
    /// copy's buffer and position live in registers across the loop, not
    /// reloaded from and stored to the caller's writer at every field.
    #[inline(always)]
    pub(crate) fn local<R>(&mut self, f: impl FnOnce(&mut Writer<'a>) -> R) -> R {
        let mut local = Writer {
            buf: core::mem::take(&mut self.buf),
            pos: self.pos,
        };
        let r = f(&mut local);
        *self = local;
        r
    }

    /// Runs `f`, a rarely taken path (a short buffer's field-by-field
    /// errors), out of line on a copy of this writer. Only the copy's
    /// address is passed to the call, so a writer kept in registers by
    /// [`Writer::local`] stays there on the hot path.
    #[doc(hidden)]
    #[inline(always)]
    pub fn cold_path<R>(&mut self, f: impl FnOnce(&mut Writer<'a>) -> R) -> R {
        self.local(|w| cold_call(w, f))
    }

    /// Writes raw bytes.
    #[inline]
    pub fn put_bytes(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        copy_bytes(self.reserve(bytes.len())?, bytes);
        Ok(())
    }

    /// Writes a fixed-size array of bytes.
    #[inline]
    pub fn put_array<const M: usize>(&mut self, bytes: [u8; M]) -> Result<(), EncodeError> {
        *self.reserve_array::<M>()? = bytes;
        Ok(())
    }

    /// Writes one byte.
    #[inline]
    pub fn put_u8(&mut self, v: u8) -> Result<(), EncodeError> {
        self.put_array([v])
    }

    /// Writes `n` zero bytes.
    pub fn put_zeros(&mut self, n: usize) -> Result<(), EncodeError> {
        self.reserve(n)?.fill(0);
        Ok(())
    }
}

/// [`Writer::cold_path`]'s call.
#[cold]
#[inline(never)]
fn cold_call<'a, R>(w: &mut Writer<'a>, f: impl FnOnce(&mut Writer<'a>) -> R) -> R {
    f(w)
}

/// The error of a write that does not fit, built out of line.
#[cold]
#[inline(never)]
fn buffer_full(needed: usize, remaining: usize) -> EncodeError {
    EncodeError::BufferFull { needed, remaining }
}

/// Copies `src` into `dst` (the same length). Short runs (strings, names,
/// ids: most are under 32 bytes) are two overlapping fixed-size moves
/// inline, not a `memcpy` call: measured 47 % of a string-heavy encode in
/// the call's fixed cost. Longer runs are one `copy_from_slice`.
#[inline(always)]
pub(crate) fn copy_bytes(dst: &mut [u8], src: &[u8]) {
    #[inline(always)]
    fn ends<const K: usize>(dst: &mut [u8], src: &[u8]) {
        if let (Some(d), Some(s)) = (dst.first_chunk_mut::<K>(), src.first_chunk::<K>()) {
            *d = *s;
        }
        if let (Some(d), Some(s)) = (dst.last_chunk_mut::<K>(), src.last_chunk::<K>()) {
            *d = *s;
        }
    }
    match src.len() {
        n if n != dst.len() || n > 32 => dst.copy_from_slice(src),
        16.. => ends::<16>(dst, src),
        8.. => ends::<8>(dst, src),
        4.. => ends::<4>(dst, src),
        // 1 to 3 bytes: first, middle and last (overlapping), the same
        // three stores whatever the length: no loop whose trip count a
        // mix of short lengths (`Vec<bool>` of 0 to 7) would mispredict.
        n @ 1..=3 => {
            for k in [0, n / 2, n - 1] {
                if let (Some(d), Some(s)) = (dst.get_mut(k), src.get(k)) {
                    *d = *s;
                }
            }
        }
        _ => {}
    }
}

/// A bounds-checked little-endian cursor reading from a `&'de [u8]`.
///
/// Borrowed fields (`&'de str`, `&'de [u8]`, [`crate::View`]) are slices of
/// the input: nothing is copied.
#[derive(Debug, Clone)]
pub struct Reader<'de> {
    /// The unread bytes. A slice rather than the whole input and an
    /// offset: a read is then one length check and a split, where
    /// `buf[pos..pos + n]` after `n <= len - pos` left the compiler two
    /// more checks (`pos + n` overflowing, `pos + n <= len`) on every read
    /// it could not prove redundant (`updates`: three per field group).
    rest: &'de [u8],
    /// The input's whole length, for [`Reader::position`].
    len: usize,
    depth: u32,
    /// Input already validated as UTF-8 (see [`Reader::take_str`]): a
    /// sub-slice of the input, or the empty `""` before the first window.
    /// Where the next byte lies in it is computed from the two addresses,
    /// so the window costs the reader two words, not three (the small
    /// packets' decode keeps the reader in registers).
    utf8: &'de str,
}

/// How far ahead [`Reader::take_str`] validates UTF-8 in one pass when a
/// string is not inside the window already validated. Binary fields end
/// most windows long before this (1 KiB and 4 KiB measured the same on
/// the save game); it bounds the bytes validated ahead and never read as
/// strings.
const UTF8_WINDOW: usize = 1024;

impl<'de> Reader<'de> {
    /// How deep heap-nested values (`Box`, `Vec`) may go while decoding.
    /// A recursive type such as `struct Node(Option<Box<Node>>)` could
    /// otherwise nest once per input byte and overflow the stack; past this
    /// depth decoding fails with [`DecodeError::TooDeep`].
    pub const MAX_DEPTH: u32 = 128;

    /// A reader at the start of `buf`.
    pub fn new(buf: &'de [u8]) -> Self {
        Self {
            rest: buf,
            len: buf.len(),
            depth: 0,
            utf8: "",
        }
    }

    /// Enters one level of nesting; fails past [`Reader::MAX_DEPTH`]. Pair
    /// every successful call with [`Reader::leave`]. Decoders of types that
    /// can contain themselves (`Box`, `Vec`) call this.
    #[inline]
    pub fn enter(&mut self) -> Result<(), DecodeError> {
        if self.depth >= Self::MAX_DEPTH {
            return Err(DecodeError::TooDeep {
                max: Self::MAX_DEPTH,
            });
        }
        self.depth += 1;
        Ok(())
    }

    /// Whether [`Reader::enter`] would succeed (without entering).
    #[cfg(feature = "alloc")]
    #[inline(always)]
    pub(crate) fn can_enter(&self) -> bool {
        self.depth < Self::MAX_DEPTH
    }

    /// Leaves one level of nesting entered with [`Reader::enter`].
    #[inline]
    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Bytes consumed so far.
    #[inline]
    pub fn position(&self) -> usize {
        self.len - self.rest.len()
    }

    /// Bytes not yet read.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// The unread bytes.
    #[inline]
    pub fn rest(&self) -> &'de [u8] {
        self.rest
    }

    /// Takes the next `n` bytes, borrowed from the input.
    #[inline]
    pub fn take(&mut self, n: usize) -> Result<&'de [u8], DecodeError> {
        match self.rest.split_at_checked(n) {
            Some((bytes, rest)) => {
                self.rest = rest;
                Ok(bytes)
            }
            None => Err(DecodeError::UnexpectedEnd {
                needed: n,
                remaining: self.rest.len(),
            }),
        }
    }

    /// Takes the next `N` bytes as an array.
    #[inline]
    pub fn take_array<const M: usize>(&mut self) -> Result<[u8; M], DecodeError> {
        match self.rest.split_first_chunk::<M>() {
            Some((bytes, rest)) => {
                self.rest = rest;
                Ok(*bytes)
            }
            None => Err(DecodeError::UnexpectedEnd {
                needed: M,
                remaining: self.rest.len(),
            }),
        }
    }

    /// Skips `n` bytes known to be there (a prefix of [`Reader::rest`]
    /// just read through another path).
    #[inline(always)]
    fn advance(&mut self, n: usize) {
        self.rest = self.rest.get(n..).unwrap_or_default();
    }

    /// Takes the next `n` bytes as a UTF-8 string, borrowed from the input.
    ///
    /// `core::str::from_utf8` per string costs a call and a byte-at-a-time
    /// head loop, several times one pass over the same bytes for the short
    /// strings of game data. So the reader validates a window instead: the
    /// longest valid prefix of the next 1 KiB (or of the string, if
    /// longer) from the first string outside the current window, and a
    /// string inside it is cut out with `str::get`, which only checks that
    /// both ends fall on character boundaries. A window starts at a
    /// string's first byte and is valid UTF-8, so a string inside it is
    /// valid exactly when both ends are boundaries. Strings a few bytes
    /// apart (the ids of a `Vec` of items) then cost one validation.
    /// An invalid string is [`DecodeError::InvalidUtf8`] with the offset
    /// into that string, as `from_utf8` on it reports.
    ///
    /// A string inside the window is cut inline; a new window is validated
    /// out of line from the unread bytes alone (passed and returned in
    /// registers), so the caller's reader never has its address taken
    /// and can stay in registers.
    #[inline]
    pub fn take_str(&mut self, n: usize) -> Result<&'de str, DecodeError> {
        if let Some(s) = self.validated(n) {
            self.advance(n);
            return Ok(s);
        }
        if let Some(window) = new_window(self.rest, n)
            && let Some(s) = window.get(..n)
        {
            self.utf8 = window;
            self.advance(n);
            return Ok(s);
        }
        let s = str_alone(self.rest, n);
        if n <= self.rest.len() {
            self.advance(n);
        }
        s
    }

    /// [`Reader::take_str`] for a string that binary fields follow (an
    /// entity's id before its `f64` position): when it is not inside the
    /// window already validated, only its own `n` bytes are validated,
    /// with no scan for how far ASCII reaches after it (a new window there
    /// would end at the first float byte above 0x7F and hold nothing
    /// more), and the reader's window stays as it was. Same values, errors
    /// and position as [`Reader::take_str`].
    #[inline]
    pub(crate) fn take_str_alone(&mut self, n: usize) -> Result<&'de str, DecodeError> {
        if let Some(s) = self.validated(n) {
            self.advance(n);
            return Ok(s);
        }
        let s = match self.rest.get(..n).and_then(utf8) {
            Some(s) => Ok(s),
            None => str_alone(self.rest, n),
        };
        if n <= self.rest.len() {
            self.advance(n);
        }
        s
    }

    /// The next `n` bytes as a string when they lie inside the window
    /// already validated and start and end on its character boundaries;
    /// `None` otherwise. Does not advance.
    #[inline(always)]
    pub(crate) fn validated(&self, n: usize) -> Option<&'de str> {
        // The next byte's offset in the window. For the initial `""` (not
        // in the input) it is meaningless, but `"".get` only succeeds on
        // an empty range, whose string (`""`) is right wherever it is cut.
        let at = (self.rest.as_ptr() as usize).checked_sub(self.utf8.as_ptr() as usize)?;
        self.utf8.get(at..at.checked_add(n)?)
    }

    /// Validated UTF-8 from the next byte on, at least `n` bytes of it:
    /// the rest of the current window when it holds them, else a new
    /// window validated from here (which becomes the reader's), else
    /// `None` (the next `n` bytes are short or not valid UTF-8 on their
    /// own terms, see [`new_window`]). Does not advance: the caller cuts
    /// what it reads from the front and then [`Reader::skip_validated`]s
    /// past it. Lists of strings and of number-then-string records cut
    /// their elements from this in one pass.
    #[cfg(feature = "alloc")]
    #[inline(always)]
    pub(crate) fn utf8_ahead(&mut self, n: usize) -> Option<&'de str> {
        if let Some(at) = (self.rest.as_ptr() as usize).checked_sub(self.utf8.as_ptr() as usize)
            && let Some(ahead) = self.utf8.get(at..)
            && ahead.len() >= n
        {
            return Some(ahead);
        }
        let window = new_window(self.rest, n).filter(|w| w.len() >= n)?;
        self.utf8 = window;
        Some(window)
    }

    /// Skips `n` bytes of a prefix of [`Reader::utf8_ahead`] already read.
    #[cfg(feature = "alloc")]
    #[inline(always)]
    pub(crate) fn skip_validated(&mut self, n: usize) {
        self.advance(n);
    }

    /// Reads one byte.
    #[inline]
    pub fn take_u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take_array::<1>()?[0])
    }

    /// Succeeds only if every byte was read.
    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            extra => Err(DecodeError::TrailingBytes { extra }),
        }
    }
}

/// [`Reader::take_str`] outside the window: a new one validated from
/// `rest`'s first byte (the string's), holding at least the string's `n`
/// bytes, else `None` (the string is short or invalid).
#[inline(never)]
fn new_window(rest: &[u8], n: usize) -> Option<&str> {
    let window = rest.get(..n.max(UTF8_WINDOW).min(rest.len()))?;
    // Binary fields after the strings end most windows, nearly always at
    // their first byte above 0x7F: find it with a word at a time, then
    // validate only the ASCII before it (one `from_utf8` pass that cannot
    // fail, where validating the whole window found the end in a first
    // pass and needed a second over the valid prefix). A string that is
    // not ASCII itself takes the general path below.
    let ascii = ascii_prefix(window);
    if ascii >= n
        && let Some(valid) = window.get(..ascii).and_then(utf8)
    {
        return Some(valid);
    }
    window_not_ascii(window, n)
}

/// [`new_window`] for a string that is not ASCII (or an ASCII window that
/// did not validate): the longest valid prefix of `window` when it holds
/// the string's `n` bytes. Out of line, so that the ASCII path keeps a
/// small frame.
#[inline(never)]
fn window_not_ascii(window: &[u8], n: usize) -> Option<&str> {
    // The window's valid prefix is found in a first pass over all of it:
    // with simdutf8 when the string alone is long enough for its SIMD
    // path (64 bytes), else with `core::str::from_utf8`, which stops at
    // the first invalid byte where simdutf8 validates a 64-byte block
    // first and then finds the offset again byte by byte (a short string
    // that is not ASCII, binary bytes right after it: 15 % more
    // instructions with simdutf8 throughout; a 74-byte one: 63 % fewer).
    let first = if n >= 64 {
        utf8_or_valid_up_to(window)
    } else {
        core::str::from_utf8(window).map_err(|e| e.valid_up_to())
    };
    match first {
        Ok(valid) => Some(valid),
        // Binary fields after the strings end the window: keep its valid
        // prefix when it holds more than this string (a second pass over
        // that prefix, still one call for the strings in it).
        Err(valid_up_to) if valid_up_to > n => window.get(..valid_up_to).and_then(utf8),
        Err(_) => None,
    }
}

/// The `n` bytes at the start of `rest` validated on their own, when no
/// window holds them (short input, an invalid string, or a string that is
/// not ASCII with an invalid byte right after it): the string, or the
/// error `from_utf8` reports for it alone.
#[inline(never)]
fn str_alone(rest: &[u8], n: usize) -> Result<&str, DecodeError> {
    let bytes = rest.get(..n).ok_or(DecodeError::UnexpectedEnd {
        needed: n,
        remaining: rest.len(),
    })?;
    utf8_or_valid_up_to(bytes).map_err(|valid_up_to| DecodeError::InvalidUtf8 { valid_up_to })
}

/// `bytes` as a string when it is valid UTF-8, else `None`: the
/// validation for spans and windows, whose callers need no error offset.
/// With `std`, simdutf8 (AVX2 or SSE4.2, detected at run time): 64 bytes
/// per step where `core::str::from_utf8` takes 16, and the same
/// `from_utf8` for inputs shorter than 64 bytes.
#[inline(always)]
pub(crate) fn utf8(bytes: &[u8]) -> Option<&str> {
    #[cfg(feature = "std")]
    let valid = simdutf8::basic::from_utf8(bytes).ok();
    #[cfg(not(feature = "std"))]
    let valid = core::str::from_utf8(bytes).ok();
    valid
}

/// `bytes` as a string, or the length of its longest valid UTF-8 prefix
/// (`Utf8Error::valid_up_to`) when it is not valid: [`utf8`] where the
/// offset is needed (the window of a string that is not ASCII, an
/// invalid string's error). With `std`, simdutf8's `compat` validation,
/// which reports the same offset as `core::str::from_utf8`.
#[inline(always)]
fn utf8_or_valid_up_to(bytes: &[u8]) -> Result<&str, usize> {
    #[cfg(feature = "std")]
    let valid = simdutf8::compat::from_utf8(bytes).map_err(|e| e.valid_up_to());
    #[cfg(not(feature = "std"))]
    let valid = core::str::from_utf8(bytes).map_err(|e| e.valid_up_to());
    valid
}

/// The length of the longest ASCII prefix of `bytes`: 64 bytes per step
/// (the bytes of a block OR-ed together, vector instructions), then the
/// first byte above 0x7F in the block that has one. Windows of lists run
/// hundreds of bytes; most others end in their first block.
#[inline(always)]
fn ascii_prefix(bytes: &[u8]) -> usize {
    let (blocks, tail) = bytes.as_chunks::<64>();
    let mut n = 0;
    for block in blocks {
        if block.iter().fold(0, |any, &b| any | b) > 0x7F {
            return n + ascii_prefix_short(block);
        }
        n += 64;
    }
    n + ascii_prefix_short(tail)
}

/// [`ascii_prefix`] sixteen bytes per step, the first byte above 0x7F
/// found from the words' high bits.
#[inline(always)]
fn ascii_prefix_short(bytes: &[u8]) -> usize {
    const HIGH: u128 = u128::MAX / 0xFF * 0x80;
    let mut chunks = bytes.chunks_exact(16);
    let mut n = 0;
    for chunk in &mut chunks {
        let word = chunk
            .first_chunk()
            .map_or(HIGH, |c| u128::from_le_bytes(*c));
        let high = word & HIGH;
        if high != 0 {
            return n + (high.trailing_zeros() / 8) as usize;
        }
        n += 16;
    }
    n + chunks
        .remainder()
        .iter()
        .take_while(|b| b.is_ascii())
        .count()
}

#[cfg(test)]
mod tests {
    use super::{ascii_prefix, copy_bytes};

    #[test]
    fn strings_outside_a_window_validate_on_their_own() {
        use super::Reader;
        use crate::error::DecodeError;
        // Not ASCII, an invalid byte right after it: valid alone.
        let mut r = Reader::new("é".as_bytes());
        assert_eq!(r.take_str(2), Ok("é"));
        let bytes = [0xC3, 0xA9, 0xFF, b'a'];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.take_str(2), Ok("é"));
        assert_eq!(r.position(), 2);
        assert_eq!(
            r.take_str(1),
            Err(DecodeError::InvalidUtf8 { valid_up_to: 0 })
        );
        assert_eq!(r.position(), 3);
        assert_eq!(r.take_str(1), Ok("a"));
        // Cut inside a character, and short input.
        let mut r = Reader::new(&bytes);
        assert_eq!(
            r.take_str(1),
            Err(DecodeError::InvalidUtf8 { valid_up_to: 0 })
        );
        let mut r = Reader::new(&bytes);
        assert_eq!(
            r.take_str(5),
            Err(DecodeError::UnexpectedEnd {
                needed: 5,
                remaining: 4
            })
        );
        assert_eq!(r.position(), 0);
    }

    /// [`super::utf8`] (simdutf8 from 64 bytes with `std`) accepts
    /// exactly what `core::str::from_utf8` accepts, and
    /// [`super::utf8_or_valid_up_to`] reports its offset: an invalid byte, a
    /// truncated character or a character across a 64-byte block
    /// boundary at every offset of inputs through three blocks.
    #[test]
    fn utf8_agrees_with_core_at_every_offset() {
        use super::{utf8, utf8_or_valid_up_to};
        let base: [u8; 200] = core::array::from_fn(|i| b'a' + (i % 26) as u8);
        let cases: [&[u8]; 5] = [
            &[0xFF],
            &[0xC3],
            &[0xC3, 0xA9],
            &[0xE2, 0x82, 0xAC],
            &[0xF0, 0x9F],
        ];
        for len in [0, 1, 15, 16, 63, 64, 65, 100, 127, 128, 129, 191, 192, 200] {
            for at in 0..len {
                for case in cases {
                    let mut bytes = base;
                    let end = (at + case.len()).min(len);
                    bytes[at..end].copy_from_slice(&case[..end - at]);
                    let input = &bytes[..len];
                    assert_eq!(
                        utf8(input),
                        core::str::from_utf8(input).ok(),
                        "len {len}, {case:x?} at {at}"
                    );
                    assert_eq!(
                        utf8_or_valid_up_to(input),
                        core::str::from_utf8(input).map_err(|e| e.valid_up_to()),
                        "len {len}, {case:x?} at {at}"
                    );
                }
            }
        }
    }

    /// A string in a window of 64 bytes or more (validated by simdutf8
    /// with `std`) and an invalid one after it: the error is the one
    /// `from_utf8` reports for that string alone.
    #[test]
    fn long_windows_keep_each_strings_error() {
        use super::Reader;
        use crate::error::DecodeError;
        let mut bytes = [b'x'; 150];
        bytes[100] = 0xFF;
        let mut r = Reader::new(&bytes);
        assert_eq!(r.take_str(70), Ok(&"x".repeat(70)[..]));
        assert_eq!(r.take_str(20), Ok(&"x".repeat(20)[..]));
        assert_eq!(
            r.take_str(40),
            Err(DecodeError::InvalidUtf8 { valid_up_to: 10 })
        );
        // Not ASCII (the simdutf8 first pass from 64 bytes): a window of
        // two strings ended by a binary byte, that byte read as a string,
        // then a string with an invalid byte.
        let text = "é".repeat(40);
        let mut bytes = [0u8; 300];
        bytes[..80].copy_from_slice(text.as_bytes());
        bytes[80..160].copy_from_slice(text.as_bytes());
        bytes[160] = 0xFF;
        bytes[161..241].copy_from_slice(text.as_bytes());
        bytes[200] = 0xFF;
        let mut r = Reader::new(&bytes);
        assert_eq!(r.take_str(80), Ok(&text[..]));
        assert_eq!(r.take_str(80), Ok(&text[..]));
        assert_eq!(
            r.take_str(1),
            Err(DecodeError::InvalidUtf8 { valid_up_to: 0 })
        );
        // Also cut inside its last character: the invalid byte (at 200, in
        // place of a character's second byte) is the error reported.
        assert_eq!(
            r.take_str(79),
            Err(DecodeError::InvalidUtf8 { valid_up_to: 38 })
        );
    }

    #[test]
    fn ascii_prefix_stops_at_the_first_high_byte() {
        for len in 0..40 {
            for at in 0..=len {
                let mut bytes = [b'a'; 40];
                if at < len {
                    bytes[at] = 0x80 | at as u8;
                }
                assert_eq!(
                    ascii_prefix(&bytes[..len]),
                    at,
                    "len {len}, high byte at {at}"
                );
            }
        }
    }

    /// Every length through the short-copy cases and past them copies
    /// exactly the source, and nothing beyond the destination.
    #[test]
    fn copy_bytes_copies_every_length() {
        let src: [u8; 40] = core::array::from_fn(|i| i as u8 + 1);
        for n in 0..=src.len() {
            let mut dst = [0u8; 41];
            copy_bytes(&mut dst[..n], &src[..n]);
            assert_eq!(&dst[..n], &src[..n], "length {n}");
            assert!(dst[n..].iter().all(|&b| b == 0), "length {n}");
        }
    }
}
