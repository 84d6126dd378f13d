//! `compat`: every wire-incompatible change between two schema versions,
//! and none for changes that keep the bytes (renames, `box<T>`, new ids).

use packet_schema::{Options, compat, compile_files, compile_str};

fn check(old: &str, new: &str) -> compat::Report {
    let (a, b) = (
        compile_str("old.packet", old, &Options::default()),
        compile_str("new.packet", new, &Options::default()),
    );
    assert!(
        !a.has_errors() && !b.has_errors(),
        "{}{}",
        a.render(),
        b.render()
    );
    compat::compare(&a, &b)
}

#[test]
fn every_kind_of_break_is_reported_with_both_locations() {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let opts = Options::default();
    let old = compile_files(&["tests/compat/old.packet"], &[], &opts);
    let new = compile_files(&["tests/compat/new.packet"], &[], &opts);
    let report = compat::compare(&old, &new);
    let codes: Vec<&str> = report.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        [
            "C0006", "C0008", "C0004", "C0009", "C0004", "C0005", "C0002", "C0006", "C0012",
            "C0013", "C0001"
        ]
    );
    assert_eq!(report.compared, 3);
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("compat_old_new", report.render());
    });
}

#[test]
fn renames_boxes_and_new_ids_keep_the_wire_form() {
    let report = check(
        "packet A = 1 { x: u8, v: V }\nstruct V { a: u16 }\nenum E { P, Q }\npacket B = 2 { e: E }",
        "packet Renamed = 1 { y: u8, w: box<W> }\nstruct W { b: u16 }\nenum F { P, Q }\n\
         packet B = 2 { e: F }\npacket C = 3 { z: string }",
    );
    assert!(report.diagnostics.is_empty(), "{}", report.render());
    assert_eq!(report.compared, 2);
}

#[test]
fn recursive_types_compare_without_looping() {
    let schema = "struct M { c: list<M>(max = 4) }\npacket P = 1 { m: M }";
    assert!(check(schema, schema).diagnostics.is_empty());
    let report = check(
        schema,
        "struct M { c: list<M>(max = 5) }\npacket P = 1 { m: M }",
    );
    assert_eq!(report.diagnostics.len(), 1, "{}", report.render());
    assert_eq!(report.diagnostics[0].code, "C0009");
}

#[test]
fn variant_data_and_tag_width_changes_are_breaks() {
    let report = check(
        "enum E: u8 { A(u8), B { x: u8 } }\npacket P = 1 { e: E, a: [u8; 2], o: option<u8> }",
        "enum E: u16 { A(u16), B { x: u8, y: u8 } }\npacket P = 1 { e: E, a: [u8; 3], o: u8 }",
    );
    let codes: Vec<&str> = report.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        ["C0010", "C0006", "C0005", "C0007", "C0006"],
        "{}",
        report.render()
    );
}

#[test]
fn an_inserted_field_does_not_move_the_ones_after_it() {
    let report = check(
        "packet P = 1 { a: u8, b: u8, c: u8 }",
        "packet P = 1 { a: u8, x: u8, b: u8, c: u8 }",
    );
    let codes: Vec<&str> = report.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["C0005"], "{}", report.render());
    let report = check(
        "packet P = 1 { a: u8, b: u8, c: u8 }",
        "packet P = 1 { c: u8, a: u8, b: u8 }",
    );
    let codes: Vec<&str> = report.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["C0004", "C0004", "C0004"], "{}", report.render());
}

#[test]
fn positional_and_named_variant_fields_of_the_same_types_are_the_same_bytes() {
    let tuple = "enum E: u8 { A(u8, u16) }\npacket P = 1 { e: E }";
    let named = "enum E: u8 { A { x: u8, y: u16 } }\npacket P = 1 { e: E }";
    assert!(check(tuple, named).diagnostics.is_empty());
    assert!(check(named, tuple).diagnostics.is_empty());
    // A different type or count is still a break.
    let report = check(
        tuple,
        "enum E: u8 { A { x: u8, y: u32 } }\npacket P = 1 { e: E }",
    );
    let codes: Vec<&str> = report.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["C0006"], "{}", report.render());
    let report = check(tuple, "enum E: u8 { A { x: u8 } }\npacket P = 1 { e: E }");
    let codes: Vec<&str> = report.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["C0014"], "{}", report.render());
}

/// A `max` that only spells out the prefix's own maximum (the default)
/// changes neither the bytes nor what peers accept, nor the fingerprint:
/// compat agrees (it reported C0009 before).
#[test]
fn a_max_equal_to_the_prefix_maximum_is_no_change() {
    for (old, new) in [
        ("string", "string(max = 65535)"),
        ("string(len = u8)", "string(len = u8, max = 255)"),
        ("bytes(len = u32)", "bytes(len = u32, max = 4294967295)"),
        ("list<u8>(max = 65535)", "list<u8>"),
    ] {
        let (a, b) = (
            format!("packet P = 1 {{ s: {old} }}"),
            format!("packet P = 1 {{ s: {new} }}"),
        );
        let report = check(&a, &b);
        assert!(
            report.diagnostics.is_empty(),
            "{old} -> {new}: {}",
            report.render()
        );
        let fp = |t: &str| {
            compile_str("x.packet", t, &Options::default())
                .schema
                .fingerprint()
                .unwrap()
        };
        assert_eq!(fp(&a), fp(&b), "{old} -> {new}");
    }
    // A real change of bound is still one, shown as the effective bounds.
    let report = check(
        "packet P = 1 { s: string(len = u8) }",
        "packet P = 1 { s: string(len = u8, max = 200) }",
    );
    let text = report.render();
    assert!(
        text.contains("`max` changed from 255 (no `max`: the prefix's maximum) to 200"),
        "{text}"
    );
}
