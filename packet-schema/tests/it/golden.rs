//! Golden outputs of the generator: each root schema under `tests/golden/`
//! generates exactly the committed `.rs` file next to it. Run with
//! `UPDATE_GOLDEN=1` to rewrite them after an intended change (and review
//! the diff).

use std::path::{Path, PathBuf};

use packet_schema::{Builder, format_str};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn check(root: &str, out: &str, builder: Builder) {
    // Run from the crate directory so file names in the header are relative.
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let schema = format!("tests/golden/{root}");
    let generated = builder
        .generate(&[&schema])
        .unwrap_or_else(|e| panic!("{e}"));
    let path = dir().join(out);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &generated.code).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == generated.code,
        "{out} differs from the generator's output (UPDATE_GOLDEN=1 rewrites it):\n{}",
        generated.code
    );
}

#[test]
fn game_borrowed() {
    check("game.packet", "game.rs", Builder::new().packet_set("Msg"));
}

#[test]
fn game_owned_with_reexported_core() {
    check(
        "game.packet",
        "game_owned.rs",
        Builder::new()
            .owned(true)
            .crate_path("crate::reexport::packet_core")
            .type_attribute("#[allow(dead_code)]"),
    );
}

#[test]
fn paths() {
    check(
        "paths.packet",
        "paths.rs",
        Builder::new().packet_set("Message"),
    );
}

#[test]
fn recursive() {
    check(
        "recursive.packet",
        "recursive.rs",
        Builder::new().owned(true),
    );
}

#[test]
fn inputs_list_imports() {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let g = Builder::new()
        .generate(&["tests/golden/game.packet"])
        .unwrap();
    let names: Vec<String> = g.inputs.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(
        names,
        ["tests/golden/game.packet", "tests/golden/common.packet"]
    );
    assert_eq!(g.name, "game");
}

#[test]
fn golden_schemas_are_canonically_formatted() {
    for entry in std::fs::read_dir(dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "packet") {
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(
                format_str("golden", &text).unwrap(),
                text,
                "{} is not canonical",
                path.display()
            );
        }
    }
}

#[test]
fn compile_writes_out_dir_once() {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let out = std::env::temp_dir().join(format!("packet-schema-golden-{}", std::process::id()));
    let b = Builder::new().out_dir(&out).cargo_directives(false);
    let path = b.compile(&["tests/golden/paths.packet"]).unwrap();
    assert_eq!(path, out.join("paths.rs"));
    let first = std::fs::metadata(&path).unwrap().modified().unwrap();
    b.compile(&["tests/golden/paths.packet"]).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        first,
        "unchanged output is not rewritten"
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn compile_prints_rerun_if_changed_for_every_input() {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let out = std::env::temp_dir().join(format!("packet-schema-directives-{}", std::process::id()));
    let mut directives = Vec::new();
    Builder::new()
        .out_dir(&out)
        .compile_with_directives(&["tests/golden/game.packet"], &mut directives)
        .unwrap();
    let text = String::from_utf8(directives).unwrap();
    let rerun: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("cargo:rerun-if-changed="))
        .collect();
    assert_eq!(
        rerun,
        [
            "cargo:rerun-if-changed=tests/golden/game.packet",
            "cargo:rerun-if-changed=tests/golden/common.packet",
        ]
    );
    // game.packet's option<string> may not fit: reported as cargo warnings.
    assert!(
        text.contains("cargo:warning=warning[W0001]: packet `Spawn` may not fit in a frame"),
        "{text}"
    );
    std::fs::remove_dir_all(&out).unwrap();

    // On error the inputs are still listed, so cargo reruns after the fix.
    let mut directives = Vec::new();
    let err = Builder::new()
        .out_dir(std::env::temp_dir())
        .compile_with_directives(&["tests/bad/e0002_error_in_import.packet"], &mut directives)
        .unwrap_err();
    assert!(
        err.to_string().contains("tests/bad/lib/broken.packet:3:5"),
        "{err}"
    );
    let text = String::from_utf8(directives).unwrap();
    assert!(
        text.contains("cargo:rerun-if-changed=tests/bad/lib/broken.packet"),
        "{text}"
    );
    assert!(
        format!("{err:?}").contains("error[E0002]"),
        "Debug shows the diagnostics for .unwrap()"
    );
}

#[test]
fn deny_warnings_turns_warnings_into_errors() {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let g = Builder::new()
        .generate(&["tests/golden/game.packet"])
        .unwrap();
    assert!(g.warnings.contains("warning[W0001]"), "{}", g.warnings);
    let err = Builder::new()
        .deny_warnings(true)
        .generate(&["tests/golden/game.packet"])
        .unwrap_err();
    assert!(
        err.message()
            .contains("warning[W0001]: packet `Spawn` may not fit"),
        "{err}"
    );
    // A larger frame limit: no warning, so nothing to deny.
    Builder::new()
        .deny_warnings(true)
        .max_frame_len(1 << 20)
        .generate(&["tests/golden/game.packet"])
        .unwrap();
}

/// Keywords as names become raw identifiers; names that are not Rust's
/// conventions get `#[allow(non_camel_case_types)]` /
/// `#[allow(non_snake_case)]` on their item (and only those). The output
/// compiles without warnings in `golden_compiles`.
#[test]
fn unconventional_names() {
    check(
        "names.packet",
        "names.rs",
        Builder::new().packet_set("all_packets"),
    );
}

/// Every `type_attribute("...")` example of the docs (schema-language.md
/// §7, the rustdoc) is one the compiled golden output `game_owned.rs`
/// uses, on a schema with every kind of item: `#[derive(Eq)]`, the old
/// example, is rustc's E0119 on the C-like enums, which already derive
/// `Eq`.
#[test]
fn the_documented_type_attribute_example_compiles_on_every_kind_of_item() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let owned = std::fs::read_to_string(dir().join("game_owned.rs")).unwrap();
    for kind in [
        "Copy, PartialEq, Eq, Hash", // a C-like enum
        "pub enum Event",            // an enum with data
        "#[packet(id = ",            // a packet
        "pub struct Color",          // a struct
    ] {
        assert!(owned.contains(kind), "{kind}");
    }
    let mut examples = 0;
    for doc in ["../docs/schema-language.md", "src/lib.rs", "src/codegen.rs"] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        for (i, _) in text.match_indices("type_attribute(\"") {
            let rest = &text[i + "type_attribute(\"".len()..];
            let attr = &rest[..rest.find("\")").unwrap()];
            assert_eq!(attr, "#[allow(dead_code)]", "{doc}");
            assert!(owned.contains(attr));
            examples += 1;
        }
    }
    assert!(examples >= 2, "{examples}");
}

/// Code blocks in schema doc comments would be doctests in the user's
/// crate (`cargo test --doc` compiled a schema example as Rust and
/// failed): the generated docs fence them as `text`, unlabelled fences and
/// indented blocks alike. Every fence opened in the generated docs has a
/// language rustdoc does not test.
#[test]
fn doc_comment_code_blocks_are_not_doctests() {
    let schema = "/// A chat line, e.g.\n///\n///     Say { text: \"hi\" }\n///\n/// or:\n///\n/// ```\n/// packet Say = 1 {}\n/// ```\n\
                  packet Say = 1 {\n    /// ```\n    /// <= 200 bytes\n    /// ```\n    text: string(max = 200),\n}\n\
                  /// A module.\n///\n///     diagram\nmodule m {\n    /// ~~~\n    /// tick\n    /// ~~~\n    enum E { A }\n}\n";
    let compiled =
        packet_schema::compile_str("docs.packet", schema, &packet_schema::Options::default());
    assert!(!compiled.has_errors(), "{}", compiled.render());
    let code = compiled
        .generate(&packet_schema::CodegenOptions::default())
        .unwrap();
    let docs: Vec<&str> = code
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("///"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    let mut open = false;
    let mut fences = 0;
    for l in &docs {
        assert!(
            !l.starts_with("    "),
            "an indented code block is left: {l:?}\n{code}"
        );
        if l.starts_with("```") || l.starts_with("~~~") {
            if !open {
                let lang = l.trim_start_matches(['`', '~']);
                assert_eq!(lang, "text", "{code}");
                fences += 1;
            }
            open = !open;
        }
    }
    assert!(!open, "{code}");
    assert_eq!(fences, 5, "{code}");
}

/// `Builder::deny_warnings` says why it fails after the warnings.
#[test]
fn denied_warnings_say_so() {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let e = Builder::new()
        .deny_warnings(true)
        .generate(&["tests/bad/w0001_packet_may_not_fit.packet"])
        .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("warning[W0001]"), "{text}");
    assert!(
        text.ends_with("error: warnings denied (Builder::deny_warnings)\n"),
        "{text}"
    );
}

/// An empty list of roots (a glob that matched nothing) and an output name
/// that is not a file stem are errors saying what to pass; they wrote
/// `schema.rs` with no types, `.rs` or `game.rs.rs`.
#[test]
fn builder_refuses_no_roots_and_bad_output_names() {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let out = std::env::temp_dir().join(format!("packet-schema-names-{}", std::process::id()));
    let b = Builder::new().out_dir(&out).cargo_directives(false);
    let err = b.compile(&[] as &[&str]).unwrap_err().to_string();
    assert!(err.contains("no schema file given"), "{err}");
    assert!(err.contains(r#"compile(&["schema/game.packet"])"#), "{err}");
    for (name, why) in [
        ("", "is empty"),
        ("game.rs", "`.rs` is added"),
        ("gen/game", "not a path"),
        ("..", "not a path"),
    ] {
        let err = b
            .clone()
            .output_name(name)
            .compile(&["tests/golden/paths.packet"])
            .unwrap_err()
            .to_string();
        assert!(err.contains(why), "{name:?}: {err}");
        assert!(err.contains(r#"include_schema!("game")"#), "{err}");
    }
    assert!(!out.exists(), "nothing written");
    let path = b
        .clone()
        .output_name("v2")
        .compile(&["tests/golden/paths.packet"])
        .unwrap();
    assert_eq!(path, out.join("v2.rs"));
    // A root named `.packet` has no stem: the default name, not `.rs`.
    let root = out.join(".packet");
    std::fs::copy("tests/golden/paths.packet", &root).unwrap();
    assert_eq!(b.clone().compile(&[&root]).unwrap(), out.join("schema.rs"));
    std::fs::remove_dir_all(&out).unwrap();
}
