//! Every misuse of the derives is a compile error at the right token; the
//! expected compiler output is in `tests/ui/*.stderr`. Regenerate with
//! `TRYBUILD=overwrite cargo test -p packet-derive --test it compile_fail`.
//!
//! `tests/ui/pass` holds programs that must compile and run. Having them
//! also makes trybuild *build* (not only check) every case, which the fit
//! checks need: a packet too big for its `PacketBuf` or for a datagram is a
//! `const` assertion that fails when `encode` / `send` is instantiated,
//! which `cargo check` never does.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
