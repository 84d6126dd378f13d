//! The servers' log events (feature `tracing`): `trace_event!`, one line
//! at each call site, that is `tracing::event!` with the feature and
//! nothing at all without it (no formatting, no branch: its arguments
//! are not even evaluated). Where each event is and at which level: the
//! `server` module docs.

/// `trace_event!(LEVEL, fields..., "message")` (a `tracing::Level` name:
/// `DEBUG`, `WARN`, ...), or `trace_event!(warn_if(cond), ...)`: at `WARN`
/// when `cond` holds, else at `DEBUG` (tracing's level is fixed per call
/// site). Fields as in `tracing::event!`.
#[cfg(feature = "tracing")]
macro_rules! trace_event {
    (warn_if($cond:expr), $($t:tt)*) => {
        if $cond {
            ::tracing::event!(::tracing::Level::WARN, $($t)*)
        } else {
            ::tracing::event!(::tracing::Level::DEBUG, $($t)*)
        }
    };
    ($level:ident, $($t:tt)*) => {
        ::tracing::event!(::tracing::Level::$level, $($t)*)
    };
}

/// Without the feature `tracing`: nothing.
#[cfg(not(feature = "tracing"))]
macro_rules! trace_event {
    ($($t:tt)*) => {};
}
