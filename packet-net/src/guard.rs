//! `guard`: runs application code (a handler, a hook, a key provider,
//! a session-state constructor) so that a panic in it is caught where
//! the server called it, instead of unwinding through the server's loop
//! (a UDP server's one task, a worker thread with all its sessions).
//!
//! The default panic hook has printed the message (to stderr) by the
//! time it is caught; no hook is installed. On the path that does not
//! panic, `catch_unwind` costs no allocation.
//!
//! What does not live here: what a caught panic means (each caller
//! decides: the session ends with
//! [`DisconnectReason::HandlerPanicked`](crate::DisconnectReason::HandlerPanicked),
//! a hook's panic is counted, a provider's is an unknown token).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::string::String;

/// What a panic payload that is not a string says.
const NO_MESSAGE: &str = "panic with a non-string payload";

/// Runs `f`, catching a panic: `Err` with its message (the payload when
/// it is a `&str` or a `String`, else a fixed text).
///
/// `AssertUnwindSafe`: whatever `f` left half-changed is the
/// application's own state (the library's locks shrug off poisoning),
/// and the session it acted on is ended.
#[inline]
pub(crate) fn guard<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| match payload.downcast_ref::<&str>() {
        Some(s) => String::from(*s),
        None => match payload.downcast_ref::<String>() {
            Some(s) => s.clone(),
            None => String::from(NO_MESSAGE),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_passes_and_a_panic_gives_its_message() {
        assert_eq!(guard(|| 7), Ok(7));
        // The panics print to stderr (no hook is swapped: tests run at once).
        let literal = guard(|| panic!("literal"));
        let formatted = guard(|| panic!("formatted {}", 1));
        let other = guard(|| std::panic::panic_any(5_u8));
        assert_eq!(literal, Err::<(), _>("literal".into()));
        assert_eq!(formatted, Err::<(), _>("formatted 1".into()));
        assert_eq!(other, Err::<(), _>(NO_MESSAGE.into()));
    }
}
