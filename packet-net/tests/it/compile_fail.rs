//! Misuse of the networking API is a compile error that says what to write:
//! security of the wrong side, a copy of a client's keys, a router handler
//! for a type that is not a packet (set), an `async` handler. The expected
//! compiler output is in `tests/ui/*.stderr`; regenerate it with
//! `TRYBUILD=overwrite cargo test -p packet-net --test it compile_fail`.

#[test]
#[cfg(all(feature = "crypto", feature = "tokio"))]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
