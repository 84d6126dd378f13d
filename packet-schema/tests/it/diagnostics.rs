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
        let mut compiled = compile_files(&[&path], &[], &Options::default());
        // `// packet-set: Msg` on the first line: checked as with
        // `check --packet-set Msg`.
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        if let Some(set) = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("// packet-set: "))
        {
            compiled.check_packet_set(set.trim());
        }
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

/// A schema may chain types as deep as its size allows (a packet may not
/// hold more than 16 of them, for its fingerprint's sake): validation walks
/// the chain without recursion (a 15,000-type chain overflowed the
/// 8 MiB main-thread stack in `check` before) and in linear time (the
/// borrow marking was quadratic: minutes for 30,000 types). Run on a
/// thread with a small stack, so a recursive walk fails here at any
/// optimization level.
#[test]
fn a_long_chain_of_types_validates_on_a_small_stack() {
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let n = 5_000;
            let mut text = String::new();
            for i in 0..n {
                // Direct and indirect links, so both walks go deep.
                text.push_str(&format!(
                    "struct S{i} {{ a: S{}, b: list<S{}>(len = u32) }}\n",
                    i + 1,
                    i + 1
                ));
            }
            text.push_str(&format!("struct S{n} {{ s: string(max = 8) }}\n"));
            text.push_str("packet P = 1 { s: list<S0>(max = 1) }\n");
            let compiled = packet_schema::compile_str("chain.packet", &text, &Options::default());
            let errors: Vec<_> = compiled
                .diagnostics
                .iter()
                .filter(|d| d.code.starts_with('E'))
                .map(|d| d.code)
                .collect();
            // Only the fingerprint's nesting limit (wire format §11.6),
            // checked last, refuses the packet.
            assert_eq!(errors, ["E0116"], "{}", compiled.render());
            // The string at the end of the chain makes every type borrow.
            assert!(compiled.schema.types.iter().all(|t| t.borrows));

            // A cycle at the end of the chain is still found.
            let cyclic = text.replace(
                &format!("struct S{n} {{ s: string(max = 8) }}"),
                &format!("struct S{n} {{ back: S{} }}", n - 3),
            );
            let compiled = packet_schema::compile_str("cycle.packet", &cyclic, &Options::default());
            assert!(
                compiled.diagnostics.iter().any(|d| d.code == "E0111"),
                "{}",
                compiled.render()
            );
        })
        .unwrap();
    handle.join().unwrap();
}

/// Runs `f` on a thread with a 256 KiB stack, so that a walk that recursed
/// once per nesting level would overflow it at any optimization level.
fn on_a_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

/// The codes of the errors (warnings left out).
fn codes(compiled: &packet_schema::Compiled) -> Vec<&'static str> {
    compiled
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code)
        .collect()
}

/// The protocol fingerprint's walk (wire format §11) is iterative and stops
/// at the nesting limit: a packet over a chain of 20,000 structs, each
/// holding the next (directly or through a list), gets E0116 (the derive
/// could not fingerprint it) instead of overflowing the stack, and the
/// library's fingerprint of that schema is an error, not a panic.
#[test]
fn a_20000_level_chain_is_refused_by_the_fingerprint_on_a_small_stack() {
    on_a_small_stack(|| {
        for link in ["S{}", "list<S{}>(max = 2)", "option<box<S{}>>"] {
            let n = 20_000;
            let mut text = String::from("packet P = 1 { s: S0 }\n");
            for i in 0..n {
                let ty = link.replace("{}", &(i + 1).to_string());
                text.push_str(&format!("struct S{i} {{ a: {ty} }}\n"));
            }
            text.push_str(&format!("struct S{n} {{ x: u8 }}\n"));
            let compiled = packet_schema::compile_str("chain.packet", &text, &Options::default());
            assert_eq!(codes(&compiled), ["E0116"], "{link}");
            let rendered = compiled.render();
            assert!(
                rendered.contains("the fields of `S15` lie inside 17 structs and enums"),
                "{rendered}"
            );
            let e = compiled.schema.fingerprint().unwrap_err();
            assert_eq!(e.packet_name, "P");
            assert!(e.to_string().contains("more than 16"), "{e}");
        }
    });
}

/// A type used twice is described twice (wire format §11.2), so "diamonds"
/// double the description at every level. 40 levels of them stop at the
/// nesting limit (E0116); 15 levels fanning out eight ways stay within it
/// and stop where the description passes 131,072 bytes (E0117), instead of
/// describing 8^15 leaves. Both with the walk on a small stack.
#[test]
fn diamonds_are_refused_before_their_description_explodes() {
    on_a_small_stack(|| {
        let diamond = |levels: usize, fan: usize| {
            let fields = |t: String| -> String {
                (0..fan)
                    .map(|f| format!("f{f}: {t}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            // Through options, so that the smallest body stays small (no
            // E0113 first; the largest gets a W0001).
            let mut text = format!("packet P = 1 {{ {} }}\n", fields("option<D1>".into()));
            for i in 1..levels {
                let next = format!("option<D{}>", i + 1);
                text.push_str(&format!("struct D{i} {{ {} }}\n", fields(next)));
            }
            text.push_str(&format!("struct D{levels} {{ x: u8 }}\n"));
            packet_schema::compile_str("diamond.packet", &text, &Options::default())
        };
        let deep = diamond(40, 2);
        assert_eq!(codes(&deep), ["E0116"], "{}", deep.render());
        let wide = diamond(15, 8);
        assert_eq!(codes(&wide), ["E0117"], "{}", wide.render());
        assert!(wide.schema.packet_layouts().is_err());
        // Within both limits: 13 levels of two, a layout of 106,489 bytes
        // (5 per struct node, 1 per option, 1 per leaf's u8).
        let within = diamond(13, 2);
        assert!(!within.has_errors(), "{}", within.render());
        let layouts = within.schema.packet_layouts().unwrap();
        assert_eq!(layouts[0].1.len(), 106_489);
    });
}

/// The checker takes a frame limit as the runtime does
/// (`FrameConfig::with_max_frame_len`: rounded down to 4, at least 40).
#[test]
fn the_frame_limit_is_taken_as_frame_config_takes_it() {
    use packet_core::frame::FrameConfig;
    for len in [0, 1, 3, 4, 30, 39, 40, 41, 43, 44, 1027, 65_536, u32::MAX] {
        assert_eq!(
            packet_schema::effective_max_frame_len(len),
            FrameConfig::default()
                .with_max_frame_len(len)
                .max_frame_len(),
            "{len}"
        );
    }
}

/// A UTF-8 byte order mark at 1:1 is skipped (it was E0001, "a character
/// that starts no token", on an invisible character).
#[test]
fn a_byte_order_mark_is_skipped() {
    let text = "\u{feff}packet Say = 1 {\n    text: string(max = 200),\n}\n";
    let compiled = packet_schema::compile_str("bom.packet", text, &Options::default());
    assert!(!compiled.has_errors(), "{}", compiled.render());
    // `fmt` writes the file without it.
    assert_eq!(
        packet_schema::format_str("bom.packet", text).unwrap(),
        &text[3..]
    );
    // Only at the start.
    let inside = "packet Say = 1 {\u{feff}}\n";
    let compiled = packet_schema::compile_str("bom.packet", inside, &Options::default());
    assert!(compiled.has_errors());
    // Columns on the first line are counted as an editor shows them,
    // without the mark, and the line is shown without it (it said 1:20
    // for the `Q` at column 19).
    let text = "\u{feff}packet A = 1 { x: Q }\n";
    let rendered = packet_schema::compile_str("bom.packet", text, &Options::default()).render();
    assert!(rendered.contains("bom.packet:1:19"), "{rendered}");
    assert!(rendered.contains("1 │ packet A = 1 { x: Q }"), "{rendered}");
    assert!(!rendered.contains('\u{feff}'), "{rendered}");
    let caret = rendered.lines().find(|l| l.contains('^')).unwrap();
    assert_eq!(
        caret.find('^'),
        rendered
            .lines()
            .find(|l| l.starts_with("1 │"))
            .unwrap()
            .find('Q'),
        "{rendered}"
    );
}

/// E0117 caused by the number of packets, not by nesting: 9,000 packets of
/// three scalar fields (15 bytes each with the id) pass 131,072 bytes of
/// description. The notes say where the bytes come from (the packets'
/// own, not nested types) and the help fits that cause; they used to
/// discuss nested types only.
#[test]
fn e0117_from_the_number_of_packets_says_so() {
    let mut text = String::new();
    for i in 1..=9000 {
        text.push_str(&format!(
            "packet P{i} = {i} {{ name: string(max = 16), id: u32, x: f32 }}\n"
        ));
    }
    let compiled = packet_schema::compile_str("many.packet", &text, &Options::default());
    assert_eq!(codes(&compiled), ["E0117"]);
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("e0117_many_packets", compiled.render());
    });
}

/// A packet set named with a Rust keyword (`--packet-set fn`,
/// `Builder::packet_set("fn")`) is told so, with another name to use; it
/// was the generic "is not a Rust identifier".
#[test]
fn a_packet_set_named_with_a_keyword_is_told_so() {
    for (name, suggestion) in [("fn", "such as `Fn` or `Msg`"), ("Self", "such as `Msg`")] {
        let mut compiled = packet_schema::compile_str(
            "set.packet",
            "packet Say = 1 { text: string(max = 200) }\n",
            &Options::default(),
        );
        compiled.check_packet_set(name);
        assert_eq!(codes(&compiled), ["E0118"]);
        let rendered = compiled.render();
        assert!(rendered.contains(suggestion), "{rendered}");
        if name == "fn" {
            insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
                insta::assert_snapshot!("e0118_packet_set_keyword", rendered);
            });
        }
    }
}

/// A long source line is shown as a window around the labels, with a
/// note saying which columns: a one-line schema nested 100,000 levels
/// deep echoed its 700 KB line (and as many spaces under it) per error.
/// The position and the caret stay those of the whole line.
#[test]
fn a_long_line_is_shown_around_its_labels() {
    let text = format!(
        "packet A = 1 {{ x: {}u8{} }}\n",
        "list<".repeat(100_000),
        ">".repeat(100_000)
    );
    let rendered = packet_schema::compile_str("deep.packet", &text, &Options::default()).render();
    assert!(rendered.len() < 2_000, "{} bytes", rendered.len());
    assert!(rendered.contains("nesting too deep"), "{rendered}");
    assert!(rendered.contains("deep.packet:1:334"), "{rendered}");
    assert!(
        rendered.contains("note: line 1 is 600022 characters long: columns 274 to 397 shown"),
        "{rendered}"
    );
    // The caret is under the 65th `list`, at column 334 of the line.
    let lines: Vec<&str> = rendered.lines().collect();
    let source = lines.iter().position(|l| l.starts_with("1 │")).unwrap();
    let caret = lines[source + 1].find('^').unwrap();
    assert_eq!(&lines[source][caret..caret + 4], "list", "{rendered}");
    assert_eq!(
        lines[source][..caret].chars().count() - "1 │ ".chars().count(),
        334 - 274
    );

    // Labels too far apart for one window: the primary one is shown, the
    // other is a note with its position (it was cut to the window's edge).
    let fields: Vec<String> = (0..100).map(|i| format!("h{i}: u8,")).collect();
    let text = format!("struct C {{ {} h1: u8 }}\n", fields.join(" "));
    let rendered = packet_schema::compile_str("wide.packet", &text, &Options::default()).render();
    assert!(rendered.contains("wide.packet:1:902"), "{rendered}");
    assert!(rendered.contains("h99: u8, h1: u8 }"), "{rendered}");
    assert!(
        rendered.contains("note: at 1:20: first declared here"),
        "{rendered}"
    );
    assert!(rendered.len() < 1_000, "{rendered}");
}

/// Found by the third review: on a long last line with no newline, the
/// primary label at the end of the file ("expected `,` or `}` ... before
/// the end of the file") was not counted on its line, so it became a
/// note and the window showed only the secondary label; and the note's
/// line length and last column counted the line's `\n` or `\r\n`.
#[test]
fn a_long_lines_label_at_the_end_of_the_file_is_shown() {
    let fields: Vec<String> = (0..100).map(|i| format!("h{i}: u8,")).collect();
    let text = format!("struct C {{ {} h100: u8", fields.join(" "));
    let rendered = packet_schema::compile_str("eof.packet", &text, &Options::default()).render();
    assert!(rendered.contains("eof.packet:1:910"), "{rendered}");
    assert!(rendered.contains("h99: u8, h100: u8"), "{rendered}");
    assert!(
        rendered.contains("^ expected `,` or `}` after the field"),
        "{rendered}"
    );
    assert!(
        !rendered.contains("note: at 1:910"),
        "the primary label is shown, not a note: {rendered}"
    );
    assert!(
        rendered.contains("note: line 1 is 909 characters long: columns 850 to 909 shown"),
        "{rendered}"
    );
    assert!(
        rendered.contains("note: at 1:10: this `{` is never closed"),
        "{rendered}"
    );

    // The line's end is not a character of it.
    for end in ["\n", "\r\n"] {
        let text = format!("struct C {{ {} h1: u8 }}{end}", fields.join(" "));
        let rendered =
            packet_schema::compile_str("wide.packet", &text, &Options::default()).render();
        assert!(
            rendered.contains("note: line 1 is 909 characters long: columns 842 to 909 shown"),
            "{end:?}: {rendered}"
        );
    }
}
