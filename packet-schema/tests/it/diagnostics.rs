//! The corpus of bad schemas: every file under `tests/bad/` must produce
//! exactly the diagnostics in its committed snapshot
//! (`tests/it/snapshots/<name>.snap`), and its name starts with the code it
//! demonstrates (`e0102_...` → `error[E0102]`, `w0001_...` → a warning
//! only).
//!
//! After an intended change, review the differences with
//! `INSTA_UPDATE=always cargo test -p packet-schema --test it diagnostics`
//! (or `cargo insta review`).

use std::path::Path;

use packet_schema::{Options, compile_files};

#[test]
fn bad_schemas_match_their_snapshots() {
    // Relative names keep the snapshots independent of the checkout path.
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let mut names: Vec<String> = std::fs::read_dir("tests/bad")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".packet"))
        .collect();
    names.sort();
    assert!(names.len() >= 30, "the corpus is missing: {names:?}");
    for name in names {
        let path = Path::new("tests/bad").join(&name);
        let compiled = compile_files(&[&path], &[], &Options::default());
        let rendered = compiled.render();
        let stem = name.trim_end_matches(".packet");
        let code = stem[..5].to_uppercase();
        if code.starts_with('W') {
            assert!(
                !compiled.has_errors(),
                "{name}: expected warnings only\n{rendered}"
            );
            assert!(
                rendered.contains(&format!("warning[{code}]")),
                "{name}:\n{rendered}"
            );
        } else {
            assert!(compiled.has_errors(), "{name}: expected an error");
            assert!(
                rendered.contains(&format!("error[{code}]")),
                "{name}:\n{rendered}"
            );
        }
        // Every diagnostic names file:line:column (the importing file's, or
        // the imported one's when the error is there).
        assert!(rendered.contains("┌─ tests/bad/"), "{name}:\n{rendered}");
        insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true, description => format!("{name}") }, {
            insta::assert_snapshot!(stem, rendered);
        });
    }
}

#[test]
fn check_reports_line_and_column() {
    let compiled = packet_schema::compile_str(
        "inline.packet",
        "packet Move = 1 {\n    pos: Vec3,\n}\n",
        &Options::default(),
    );
    let d = &compiled.diagnostics[0];
    assert_eq!(compiled.sources.line_col(d.labels[0].span), (2, 10));
    assert!(compiled.render().contains("inline.packet:2:10"));
}

#[test]
fn every_documented_code_has_a_corpus_case() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("../docs/schema-language.md")).unwrap();
    let codes: Vec<String> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(' ').next())
        .filter(|c| {
            c.len() == 5
                && (c.starts_with('E') || c.starts_with('W'))
                && c[1..].chars().all(|d| d.is_ascii_digit())
        })
        .map(str::to_lowercase)
        .collect();
    assert!(codes.len() >= 19, "{codes:?}");
    let cases: Vec<String> = std::fs::read_dir(root.join("tests/bad"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for code in codes {
        assert!(
            cases.iter().any(|c| c.starts_with(&code)),
            "no corpus case for {code}"
        );
    }
}
