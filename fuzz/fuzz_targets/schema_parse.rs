//! The schema compiler on arbitrary text: lexing, parsing, checking,
//! rendering diagnostics and generating Rust never panic. Beyond that:
//! - a schema that checks without errors generates Rust (codegen parses its
//!   own output with syn, so "does not parse" would be a bug);
//! - the formatter (`packet-schema fmt`) is stable: formatting a parsed file
//!   gives text that parses again and formats to itself, and that compiles
//!   with errors exactly when the original did.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packet_schema::{CodegenOptions, Options, compile_str, format_str};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let opts = Options::default();
    let compiled = compile_str("fuzz.packet", text, &opts);
    let _ = compiled.render();
    if !compiled.has_errors()
        && let Err(e) = compiled.generate(&CodegenOptions::default())
    {
        panic!("a schema without errors failed to generate: {e}");
    }
    for (_, formatted) in compiled.formatted() {
        let again = format_str("formatted.packet", &formatted)
            .unwrap_or_else(|d| panic!("formatted text does not parse: {d:?}\n---\n{formatted}"));
        assert_eq!(again, formatted, "fmt is not idempotent");
        let recompiled = compile_str("fuzz.packet", &formatted, &opts);
        assert_eq!(
            recompiled.has_errors(),
            compiled.has_errors(),
            "formatting changed whether the schema checks\n---\n{formatted}"
        );
    }
});
