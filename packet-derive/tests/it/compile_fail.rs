//! Every misuse of the derives is a compile error at the right token; the
//! expected compiler output is in `tests/ui/*.stderr`. Regenerate with
//! `TRYBUILD=overwrite cargo test -p packet-derive --test it compile_fail`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
