//! The schema compiler on arbitrary text: lexing, parsing, checking,
//! rendering diagnostics and generating Rust never panic. Beyond that:
//! - a schema that checks without errors generates Rust (codegen parses its
//!   own output with syn, so "does not parse" would be a bug);
//! - the formatter (`packet-schema fmt`) is stable: formatting a parsed file
//!   gives text that parses again and formats to itself, and that compiles
//!   with errors exactly when the original did.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packet_schema::codegen::{self, CodegenOptions};
use packet_schema::validate::Options;
use packet_schema::{compile_str, fmt, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let opts = Options::default();
    let compiled = compile_str("fuzz.packet", text, &opts);
    let _ = compiled.render();
    if !compiled.has_errors()
        && let Err(e) = codegen::generate(&compiled.schema, &[], &CodegenOptions::default())
    {
        panic!("a schema without errors failed to generate: {e}");
    }
    for (id, file) in &compiled.parsed {
        let formatted = fmt::format_file(file);
        let reparsed = parse::parse_file(&formatted, *id)
            .unwrap_or_else(|d| panic!("formatted text does not parse: {d:?}\n---\n{formatted}"));
        let again = fmt::format_file(&reparsed);
        assert_eq!(again, formatted, "fmt is not idempotent");
        let recompiled = compile_str("fuzz.packet", &formatted, &opts);
        assert_eq!(
            recompiled.has_errors(),
            compiled.has_errors(),
            "formatting changed whether the schema checks\n---\n{formatted}"
        );
    }
});
