//! The `packet-schema` binary: exit codes and outputs of `check`, `gen`
//! and `fmt`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_packet-schema"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("packet-schema-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn check_accepts_a_good_schema() {
    let out = run(&["check", "tests/golden/paths.packet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
    // Success says what was checked.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ok: 1 file (tests/golden/paths.packet), 5 types (2 packets), 0 warnings\n"
    );
}

#[test]
fn check_fails_with_located_diagnostics() {
    let out = run(&["check", "tests/bad/e0102_unknown_type.packet"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error[E0102]: unknown type `Vec3`"), "{err}");
    assert!(
        err.contains("tests/bad/e0102_unknown_type.packet:2:10"),
        "{err}"
    );
    assert!(err.contains("^^^^"), "{err}");
    assert!(
        !err.contains('\u{1b}'),
        "no colour when stderr is not a terminal"
    );
    assert!(err.ends_with("1 error, 0 warnings\n"), "{err}");
}

#[test]
fn warnings_pass_unless_denied() {
    let file = "tests/bad/w0001_packet_may_not_fit.packet";
    assert!(run(&["check", file]).status.success());
    let out = run(&["check", "--deny-warnings", file]);
    assert_eq!(out.status.code(), Some(1));
    // The failure says why, after the warnings.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.ends_with("0 errors, 1 warning\nerror: warnings denied (--deny-warnings)\n"),
        "{err}"
    );
    // A larger frame limit makes the warning go away.
    let out = run(&["check", "--deny-warnings", "--max-frame", "131072", file]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A body of up to 65 537 bytes fits a 65 572-byte plain frame (28 bytes
    // of overhead) but not a sealed one (40).
    let out = run(&["check", "--deny-warnings", "--max-frame", "65572", file]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&[
        "check",
        "--deny-warnings",
        "--sealed",
        "--max-frame",
        "65572",
        file,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("a sealed frame of at most 65572 bytes"),
        "{err}"
    );
}

#[test]
fn gen_writes_the_golden_output() {
    let dir = scratch("gen");
    let out = run(&[
        "gen",
        "tests/golden/paths.packet",
        "-o",
        dir.to_str().unwrap(),
        "--packet-set",
        "Message",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(dir.join("paths.rs")).unwrap();
    let golden = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/paths.rs"),
    )
    .unwrap();
    assert_eq!(written, golden);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn gen_refuses_a_bad_schema() {
    let dir = scratch("gen-bad");
    let out = run(&[
        "gen",
        "tests/bad/e0111_recursive_direct.packet",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("E0111"));
    assert!(
        std::fs::read_dir(&dir).unwrap().next().is_none(),
        "nothing written"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn fmt_rewrites_and_check_reports() {
    let dir = scratch("fmt");
    let file = dir.join("messy.packet");
    std::fs::write(
        &file,
        "packet   Ping=1{x:u8 , // c\n/// d\ny : list<u8>(max=3)}\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let out = run(&["fmt", "--check", f]);
    assert_eq!(out.status.code(), Some(1));
    // Where: the first line that differs, as it is and as `fmt` writes it.
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("messy.packet:1: is not formatted"), "{said}");
    assert!(
        said.contains("found:   packet   Ping=1{x:u8 , // c"),
        "{said}"
    );
    assert!(said.contains("`fmt`:   packet Ping = 1 {"), "{said}");
    assert!(run(&["fmt", f]).status.success());
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "packet Ping = 1 {\n    x: u8, // c\n    /// d\n    y: list<u8>(max = 3),\n}\n"
    );
    assert!(run(&["fmt", "--check", f]).status.success());
    // Only the line endings differ.
    std::fs::write(&file, "packet Ping = 1 {\r\n    x: u8,\r\n}\r\n").unwrap();
    let out = run(&["fmt", "--check", f]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("line endings or the final newline"), "{said}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Found by the third review: `fmt --check` echoed the first differing
/// line whole (13 MB for a 10 MB one-line schema, twice counting `fmt`'s
/// line), and of a CRLF file named a line past its end (4 of 3); of a
/// file differing only by its byte order mark, showed two lines that
/// look the same.
#[test]
fn fmt_check_shows_a_part_of_a_long_line_and_the_crlf_line() {
    let dir = scratch("fmt-long");
    let file = dir.join("one.packet");
    let fields: Vec<String> = (0..20_000).map(|i| format!("h{i}: u8,")).collect();
    std::fs::write(&file, format!("struct C {{ {} }}\n", fields.join(" "))).unwrap();
    let f = file.to_str().unwrap();
    let out = run(&["fmt", "--check", f]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.len() < 600, "{} bytes: {said:.600}", said.len());
    assert!(said.contains("one.packet:1: is not formatted"), "{said}");
    assert!(
        said.contains("found:   struct C { h0: u8, h1: u8,"),
        "{said}"
    );
    assert!(said.contains("..."), "{said}");
    assert!(said.contains("`fmt`:   struct C {\n"), "{said}");

    std::fs::write(&file, "struct C {\n    a: u8,\r\n}\r\n").unwrap();
    let said = String::from_utf8_lossy(&run(&["fmt", "--check", f]).stdout).into_owned();
    assert!(said.contains("one.packet:2: is not formatted"), "{said}");
    std::fs::write(&file, "struct C {\n    a: u8,\n}").unwrap();
    let said = String::from_utf8_lossy(&run(&["fmt", "--check", f]).stdout).into_owned();
    assert!(said.contains("one.packet:3: is not formatted"), "{said}");
    assert!(said.contains("line endings or the final newline"), "{said}");
    // Only a byte order mark (which `fmt` drops): the two lines looked
    // the same.
    std::fs::write(&file, "\u{feff}struct C {\n    a: u8,\n}\n").unwrap();
    let said = String::from_utf8_lossy(&run(&["fmt", "--check", f]).stdout).into_owned();
    assert!(said.contains("one.packet:1: is not formatted"), "{said}");
    assert!(
        said.contains("found:   <byte order mark>struct C {"),
        "{said}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn fmt_reports_syntax_errors() {
    let out = run(&["fmt", "--check", "tests/bad/e0002_missing_colon.packet"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[E0002]"));
}

#[test]
fn fmt_filters_stdin_to_stdout() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_packet-schema"))
        .args(["fmt", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"struct A{x:u8}")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "struct A {\n    x: u8,\n}\n"
    );
}

#[test]
fn compat_exits_1_on_a_break_and_0_without() {
    let out = run(&[
        "compat",
        "tests/compat/old.packet",
        "tests/compat/new.packet",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error[C0006]"), "{err}");
    assert!(err.contains("tests/compat/new.packet:4:11"), "{err}");
    assert!(err.ends_with("11 wire-incompatible changes\n"), "{err}");
    let out = run(&[
        "compat",
        "tests/compat/old.packet",
        "tests/compat/old.packet",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("fingerprint: 0x") && text.contains(" (unchanged)\n"),
        "{text}"
    );
    assert!(
        text.ends_with("ok: no wire-incompatible change (4 packets compared)\n"),
        "{text}"
    );
}

#[test]
fn compat_reports_the_fingerprint_which_an_added_packet_changes() {
    let dir = std::env::temp_dir().join(format!("packet-schema-compat-fp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (old, new) = (dir.join("old.packet"), dir.join("new.packet"));
    std::fs::write(&old, "packet A = 1 {\n    x: u8,\n}\n").unwrap();
    std::fs::write(
        &new,
        "packet A = 1 {\n    x: u8,\n}\n\npacket B = 2 {\n    y: u16,\n}\n",
    )
    .unwrap();
    let out = run(&["compat", old.to_str().unwrap(), new.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    // Compatible on the wire (no packet changed), yet a different protocol.
    assert!(out.status.success(), "{text}");
    assert!(text.contains("fingerprint: old 0x"), "{text}");
    assert!(text.contains("(changed: "), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn inspect_shows_fields_with_ranges_and_the_broken_rule_with_carets() {
    let good = run(&[
        "inspect",
        "--schema",
        "../docs/vectors/vectors.packet",
        "../docs/vectors/valid/09-nested-enums.hex",
    ]);
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let text = String::from_utf8_lossy(&good.stdout);
    assert!(
        text.contains("frame 0 [0..72): Nested (type 0x0015), sequence 8, 72 bytes"),
        "{text}"
    );
    assert!(text.contains("  [37..43)      hit: Hit (1)\n"), "{text}");
    assert!(text.contains("  [39..43)        dmg: 500\n"), "{text}");
    let bad = run(&[
        "inspect",
        "--schema",
        "../docs/vectors/vectors.packet",
        "../docs/vectors/invalid/20-crc-mismatch.hex",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    let text = String::from_utf8_lossy(&bad.stdout);
    assert!(
        text.contains("  error: rule 12: CrcMismatch { expected: "),
        "{text}"
    );
    assert!(text.contains("            ^^ ^^ ^^ ^^"), "{text}");
    // One datagram per line.
    let dir = scratch("inspect");
    let input = dir.join("datagrams.txt");
    std::fs::write(
        &input,
        "1c000000 01000100 00000000 00000000 00000000 a47d420f 504b0d0a\n00\n",
    )
    .unwrap();
    let out = run(&["inspect", "--datagrams", input.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("body: 0 bytes, type id not in the schema"),
        "{text}"
    );
    assert!(
        text.contains("error: rule 1: Truncated { available: 1, needed: 4 }"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dissector_writes_lua_for_the_schema() {
    let out = run(&["dissector", "--port", "9000", "tests/golden/paths.packet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lua = String::from_utf8_lossy(&out.stdout);
    assert!(lua.starts_with("-- Wireshark dissector for the packet protocol"));
    assert!(lua.contains("local DEFAULT_PORT = 9000\n"));
    assert!(lua.contains("proto:register_heuristic(\"tcp\", heur_tcp)"));
}

#[test]
fn fingerprint_prints_the_vectors_number_and_layouts() {
    // The number and bytes of docs/vectors/fingerprint/05-vectors-packet.txt
    // (written by docs/vectors/fingerprint.py).
    let expected =
        std::fs::read_to_string("../docs/vectors/fingerprint/05-vectors-packet.txt").unwrap();
    let out = run(&["fingerprint", "--layouts", "../docs/vectors/vectors.packet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let want: Vec<String> = expected
        .lines()
        .filter_map(|l| {
            if let Some(rest) = l.strip_prefix("packet ") {
                let p: Vec<&str> = rest.split(' ').collect();
                Some(format!("packet {} {}", p[0], p[2]))
            } else {
                l.starts_with("fingerprint ").then(|| l.to_string())
            }
        })
        .collect();
    assert_eq!(stdout.lines().collect::<Vec<_>>(), want);
}

#[test]
fn inspect_names_the_close_notice_and_its_reason() {
    let inspect = |vector: &str| {
        let out = run(&[
            "inspect",
            "--schema",
            "../docs/vectors/vectors.packet",
            &format!("../docs/vectors/valid/{vector}.hex"),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let kick = inspect("19-close-notice");
    assert!(
        kick.contains("frame 0 [0..32): close notice (type 0xffff)"),
        "{kick}"
    );
    assert!(
        kick.contains("  [20..22)      reason: 6 (closed by the application)\n"),
        "{kick}"
    );
    assert!(kick.contains("  [22..24)      detail: 7\n"), "{kick}");
    let full = inspect("20-close-notice-full");
    assert!(full.contains("reason: 1 (server full)"), "{full}");
}

#[test]
fn inspect_refuses_malformed_hex_unless_raw() {
    let dir = scratch("inspect-hex");
    // Clearly hex, but with a typo on line 3 and an odd digit count on
    // line 2 of the other file.
    let typo = dir.join("typo.hex");
    std::fs::write(&typo, "# a frame\n1c000000 01000100\n00000000 0000000g\n").unwrap();
    let odd = dir.join("odd.hex");
    std::fs::write(&odd, "1c000000\n0100010\n").unwrap();
    for (file, at, what) in [
        (
            &typo,
            "line 3, column 17 (byte 44)",
            "`g` is not a hex digit",
        ),
        (
            &odd,
            "line 2, column 7 (byte 15)",
            "an odd number of hex digits",
        ),
    ] {
        for mode in [&[][..], &["--datagrams"][..]] {
            let mut args = vec!["inspect"];
            args.extend_from_slice(mode);
            args.push(file.to_str().unwrap());
            let out = run(&args);
            assert_eq!(out.status.code(), Some(1), "{args:?}");
            assert!(out.stdout.is_empty(), "nothing inspected: {args:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains(&format!("not a hex dump: {at}: {what}")),
                "{err}"
            );
            assert!(err.contains("`--raw`"), "{err}");
        }
    }
    // Asked for raw, the same text is bytes: a frame whose length field is
    // `# a ` (0x61206123), far over the maximum.
    let out = run(&["inspect", "--raw", typo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("error: rule "), "{text}");
    // Bytes that are not text are raw without being told: a valid frame.
    let frame = dir.join("frame.bin");
    std::fs::write(
        &frame,
        [
            0x1c, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xa4, 0x7d, 0x42, 0x0f,
            b'P', b'K', b'\r', b'\n',
        ],
    )
    .unwrap();
    let out = run(&["inspect", frame.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("frame 0 [0..28)"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fingerprint_of_a_schema_without_packets_is_an_error() {
    let dir = scratch("fingerprint-empty");
    let file = dir.join("types.packet");
    std::fs::write(&file, "struct Vec3 { x: f32, y: f32, z: f32 }\n").unwrap();
    let out = run(&["fingerprint", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "no number printed");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: no packet declared in "), "{err}");
    assert!(err.contains("types.packet"), "{err}");
    // `compat` says there is none rather than printing the hash of nothing.
    let out = run(&["compat", file.to_str().unwrap(), file.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("fingerprint: none (no packet) (unchanged)\n"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A schema over the fingerprint's limits (wire format §11.6) fails every
/// command with the diagnostic, at once: the commands that print the
/// fingerprint, and those whose output would not compile (`gen
/// --packet-set`) or describe a protocol that has none.
#[test]
fn every_command_refuses_a_schema_without_a_fingerprint() {
    let dir = scratch("no-fingerprint");
    let out_dir = dir.to_str().unwrap();
    for (file, code) in [
        ("tests/bad/e0116_nested_too_deep.packet", "error[E0116]"),
        (
            "tests/bad/e0117_description_too_long.packet",
            "error[E0117]",
        ),
    ] {
        for args in [
            vec!["check", file],
            vec!["fingerprint", file],
            vec!["fingerprint", "--layouts", file],
            vec!["gen", file, "-o", out_dir, "--packet-set", "Msg"],
            vec!["dissector", file],
            vec!["compat", file, file],
            vec![
                "inspect",
                "--schema",
                file,
                "../docs/vectors/valid/01-empty-body.hex",
            ],
        ] {
            let out = run(&args);
            assert_eq!(out.status.code(), Some(1), "{args:?}");
            assert!(out.stdout.is_empty(), "{args:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains(code), "{args:?}: {err}");
        }
    }
    assert!(
        std::fs::read_dir(&dir).unwrap().next().is_none(),
        "nothing generated"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Packet set problems are diagnostics like the rest (`error[E0118]`,
/// located when an item is at fault, a newline at the end), from `gen` and
/// from `check --packet-set`; a bad crate path is `error[E0119]`.
#[test]
fn packet_set_and_codegen_option_errors_are_diagnostics() {
    let dir = scratch("packet-set");
    let out_dir = dir.display().to_string();
    let clash = "tests/bad/e0118_packet_set_named_like_a_packet.packet";
    for args in [
        vec!["gen", clash, "-o", &out_dir, "--packet-set", "Msg"],
        vec!["check", clash, "--packet-set", "Msg"],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("error[E0118]: the packet set `Msg` has the name of the packet `Msg`"),
            "{err}"
        );
        assert!(err.contains(&format!("┌─ {clash}:2:8")), "{err}");
        assert!(err.ends_with('\n'), "{err:?}");
    }
    // Without the set name, `check` has nothing to object to.
    assert!(run(&["check", clash]).status.success());
    let good = "tests/golden/paths.packet";
    let types_only = "tests/golden/common.packet";
    for (args, expected) in [
        (
            vec!["gen", good, "-o", &out_dir, "--packet-set", "my-set"],
            "error[E0118]: the packet set name `my-set` is not a Rust identifier",
        ),
        (
            vec!["check", good, "--packet-set", "my-set"],
            "error[E0118]: the packet set name `my-set` is not a Rust identifier",
        ),
        (
            vec!["gen", good, "-o", &out_dir, "--packet-set", "fn"],
            "error[E0118]: the packet set name `fn` is a Rust keyword",
        ),
        (
            vec!["check", good, "--packet-set", "fn"],
            "error[E0118]: the packet set name `fn` is a Rust keyword",
        ),
        (
            vec!["gen", types_only, "-o", &out_dir, "--packet-set", "Msg"],
            "error[E0118]: the packet set `Msg` has no member",
        ),
        (
            vec!["gen", good, "-o", &out_dir, "--crate-path", "a b"],
            "error[E0119]: invalid crate path `a b`",
        ),
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with(expected), "{args:?}: {err}");
        assert!(err.ends_with('\n'), "{err:?}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// `compat` with the old version's imports missing: `-I` at the new tree
/// used to load them from there silently, so a break in them passed. Each
/// version gets its own include directories, and an old import that is the
/// new version's own file is warned about.
#[test]
fn compat_gives_each_version_its_own_includes() {
    let dir = scratch("compat-includes");
    for v in ["old", "new", "old-lib"] {
        std::fs::create_dir_all(dir.join(v)).unwrap();
    }
    let root = "import \"common.packet\";\n\npacket A = 1 {\n    c: C,\n}\n";
    std::fs::write(dir.join("old/game.packet"), root).unwrap();
    std::fs::write(dir.join("new/game.packet"), root).unwrap();
    std::fs::write(
        dir.join("old-lib/common.packet"),
        "struct C {\n    x: u8,\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("new/common.packet"),
        "struct C {\n    x: u16,\n}\n",
    )
    .unwrap();
    let p = |s: &str| dir.join(s).display().to_string();
    // The trap: `-I new` serves the old root's import from the new tree.
    let out = run(&[
        "compat",
        &p("old/game.packet"),
        &p("new/game.packet"),
        "-I",
        &p("new"),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: the old version's import ")
            && err.contains("is the very file the new version loads"),
        "{err}"
    );
    assert!(err.contains("--old-include"), "{err}");
    // Its own include directory: the break is found.
    let out = run(&[
        "compat",
        &p("old/game.packet"),
        &p("new/game.packet"),
        "--old-include",
        &p("old-lib"),
        "--new-include",
        &p("new"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error[C0006]"), "{err}");
    assert!(!err.contains("warning:"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A capture file given to `inspect` is named as one, with the tshark
/// command that extracts the payloads, instead of being read as frames.
#[test]
fn inspect_points_captures_to_tshark() {
    let dir = scratch("pcap");
    for (name, magic) in [
        ("le.pcap", [0xd4, 0xc3, 0xb2, 0xa1]),
        ("be.pcap", [0xa1, 0xb2, 0xc3, 0xd4]),
        ("x.pcapng", [0x0a, 0x0d, 0x0d, 0x0a]),
    ] {
        let path = dir.join(name);
        let mut bytes = magic.to_vec();
        bytes.extend([0u8; 20]);
        std::fs::write(&path, bytes).unwrap();
        let out = run(&["inspect", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("capture file; inspect does not read captures"),
            "{err}"
        );
        assert!(
            err.contains("tshark -r capture.pcap -Y 'tcp.dstport==7777 && tcp.len>0' -T fields -e tcp.payload"),
            "{err}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// tools.md's example of a filter field in a module is the name the
/// dissector gives it: the module path is part of it.
#[test]
fn dissector_field_names_include_the_module_path_as_documented() {
    let out = run(&["dissector", "../examples/schema-demo/schema/game.packet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lua = String::from_utf8_lossy(&out.stdout);
    assert!(lua.contains("\"packet.chat.Say.room\""), "{lua}");
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/tools.md")).unwrap();
    assert!(doc.contains("`packet.chat.Say.room`"));
}

/// `fmt` and `check` locate the first byte that is not UTF-8.
#[test]
fn non_utf8_files_are_located() {
    let file = "tests/bad/e0004_not_utf8.packet";
    let out = run(&["fmt", "--check", file]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err,
        format!("error: cannot read {file}: not UTF-8 at line 2, column 11 (byte 27)\n")
    );
    let out = run(&["check", file]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not UTF-8 at line 2, column 11 (byte 27)"),
        "{err}"
    );
    assert!(err.contains(&format!("┌─ {file}:2:11")), "{err}");

    // After a byte order mark, on the first line: the mark is no column.
    let dir = std::env::temp_dir().join(format!("packet-schema-bom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bom = dir.join("bom.packet");
    std::fs::write(&bom, b"\xef\xbb\xbfpacket A = 1 { x: \xff }\n").unwrap();
    let bom = bom.to_str().unwrap();
    let expected = "not UTF-8 at line 1, column 19 (byte 21)";
    let err = String::from_utf8_lossy(&run(&["fmt", "--check", bom]).stderr).into_owned();
    assert!(err.contains(expected), "{err}");
    let err = String::from_utf8_lossy(&run(&["check", bom]).stderr).into_owned();
    assert!(err.contains(expected), "{err}");
    assert!(err.contains(&format!("┌─ {bom}:1:19")), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An input with nothing to inspect (an empty file, a capture filter that
/// matched nothing) says so on stderr; it printed nothing and exited 0,
/// as if every frame had been fine.
#[test]
fn inspect_says_when_the_input_holds_nothing() {
    let dir = scratch("inspect-empty");
    let empty = dir.join("empty.hex");
    std::fs::write(&empty, "").unwrap();
    let comments = dir.join("comments.hex");
    std::fs::write(&comments, "# nothing captured\n\n").unwrap();
    for (file, said) in [
        (&empty, "warning: the input is empty: no frame to inspect"),
        (&comments, "warning: the input holds no hex digits"),
    ] {
        for datagrams in [false, true] {
            let mut args = vec!["inspect", file.to_str().unwrap()];
            if datagrams {
                args.push("--datagrams");
            }
            let out = run(&args);
            assert!(out.status.success());
            assert!(
                out.stdout.is_empty(),
                "{}",
                String::from_utf8_lossy(&out.stdout)
            );
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains(said), "{args:?}: {err}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
