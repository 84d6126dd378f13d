//! The `packet-schema` command: `check`, `gen` and `fmt` for schema files,
//! and the tools `dissector`, `inspect` and `compat` (`docs/tools.md`).
//!
//! ```text
//! packet-schema check game.packet            # diagnostics; exit 1 on error
//! packet-schema gen game.packet -o src/gen   # write src/gen/game.rs
//! packet-schema fmt game.packet              # rewrite canonically
//! packet-schema fmt --check game.packet      # exit 1 if not canonical
//! packet-schema dissector game.packet > game.lua           # Wireshark
//! packet-schema inspect --schema game.packet frames.hex    # field by field
//! packet-schema compat old/game.packet game.packet         # exit 1 on a break
//! ```
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use packet_schema::{Builder, DEFAULT_MAX_FRAME_LEN, Options, compile_files, format_str};

/// Checks, formats and compiles packet schema files.
#[derive(Parser)]
#[command(name = "packet-schema", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Reports errors and warnings; exits with 1 if there is an error.
    Check {
        #[command(flatten)]
        common: Common,
        /// Treat warnings as errors.
        #[arg(long)]
        deny_warnings: bool,
        /// Also check that a packet set enum of this name (`gen
        /// --packet-set`, `Builder::packet_set`) would compile.
        #[arg(long)]
        packet_set: Option<String>,
    },
    /// Prints the protocol fingerprint (wire format §11) of every packet
    /// of the schema: the number `<Set as Fingerprint>::FINGERPRINT` of a
    /// `#[derive(PacketSet)]` over the generated packets.
    Fingerprint {
        #[command(flatten)]
        common: Common,
        /// Also print each packet's canonical layout bytes (hex).
        #[arg(long)]
        layouts: bool,
    },
    /// Writes the generated Rust to a folder (`<out>/<name>.rs`).
    Gen {
        #[command(flatten)]
        common: Common,
        /// The folder to write into (created if missing).
        #[arg(short, long)]
        out: PathBuf,
        /// The output's file stem (default: the first file's stem).
        #[arg(long)]
        name: Option<String>,
        /// Path to packet_core in the generated code.
        #[arg(long, default_value = "::packet_core")]
        crate_path: String,
        /// Generate String / Vec<u8> instead of &str / &[u8].
        #[arg(long)]
        owned: bool,
        /// Also generate an enum of this name over every packet
        /// (`#[derive(PacketSet)]`).
        #[arg(long)]
        packet_set: Option<String>,
    },
    /// Lists every wire-incompatible change between two versions of a
    /// schema, per packet; exits with 1 if there is one.
    Compat {
        /// The old version's root schema file.
        old: PathBuf,
        /// The new version's root schema file.
        new: PathBuf,
        /// A directory to look for imports in (repeatable, both versions,
        /// after each version's own).
        #[arg(short = 'I', long = "include")]
        includes: Vec<PathBuf>,
        /// A directory to look for the old version's imports in
        /// (repeatable, before `-I`).
        #[arg(long = "old-include")]
        old_includes: Vec<PathBuf>,
        /// A directory to look for the new version's imports in
        /// (repeatable, before `-I`).
        #[arg(long = "new-include")]
        new_includes: Vec<PathBuf>,
    },
    /// Writes a Wireshark Lua dissector for the schema's packets to stdout.
    Dissector {
        /// Schema files (their imports are loaded too).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// A directory to look for imports in (repeatable).
        #[arg(short = 'I', long = "include")]
        includes: Vec<PathBuf>,
        /// The largest frame in bytes that peers accept.
        #[arg(long, default_value_t = DEFAULT_MAX_FRAME_LEN)]
        max_frame: u32,
        /// The TCP and UDP port the dissector claims (0: heuristic only).
        #[arg(long, default_value_t = packet_schema::dissector::DEFAULT_PORT)]
        port: u16,
    },
    /// Pretty-prints frames: header, every field with its byte range and
    /// value, and for a bad frame the rule it breaks with a caret under
    /// the bytes.
    Inspect {
        /// The schema whose packets the bodies are (repeatable; without
        /// one, bodies are shown as bytes).
        #[arg(long)]
        schema: Vec<PathBuf>,
        /// A directory to look for imports in (repeatable).
        #[arg(short = 'I', long = "include")]
        includes: Vec<PathBuf>,
        /// The largest frame in bytes that the receiver accepts.
        #[arg(long, default_value_t = DEFAULT_MAX_FRAME_LEN)]
        max_frame: u32,
        /// One datagram per line of hex (default: one byte stream).
        #[arg(long)]
        datagrams: bool,
        /// The input is raw bytes, even if it is text (default: text is a
        /// hex dump, and malformed hex an error; anything else raw bytes).
        #[arg(long)]
        raw: bool,
        /// The input file (`-` or absent: stdin). A hex dump: pairs of hex
        /// digits, whitespace, `0x` and `#` lines ignored (the vector files
        /// read as they are).
        input: Option<PathBuf>,
    },
    /// Rewrites schema files in the canonical format.
    Fmt {
        /// Schema files (`-`: read stdin, write the result to stdout).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Do not write: list files that are not formatted, exit 1 if any.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Args)]
struct Common {
    /// Schema files (their imports are loaded too).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// A directory to look for imports in (repeatable).
    #[arg(short = 'I', long = "include")]
    includes: Vec<PathBuf>,
    /// The largest frame in bytes that peers accept.
    #[arg(long, default_value_t = DEFAULT_MAX_FRAME_LEN)]
    max_frame: u32,
    /// Size-check against sealed (encrypted) frames: 12 bytes less body.
    #[arg(long)]
    sealed: bool,
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Check {
            common,
            deny_warnings,
            packet_set,
        } => {
            let opts = Options {
                max_frame_len: common.max_frame,
                sealed: common.sealed,
            };
            let mut compiled = compile_files(&common.files, &common.includes, &opts);
            if let Some(set) = &packet_set {
                compiled.check_packet_set(set);
            }
            compiled.sources.eprint(&compiled.diagnostics);
            let errors = compiled.diagnostics.iter().filter(|d| d.is_error()).count();
            let warnings = compiled.diagnostics.len() - errors;
            if errors + warnings > 0 {
                let plural =
                    |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
                eprintln!(
                    "{}, {}",
                    plural(errors, "error"),
                    plural(warnings, "warning")
                );
            }
            let denied = !compiled.has_errors() && deny_warnings && warnings > 0;
            if denied {
                eprintln!("error: warnings denied (--deny-warnings)");
            }
            if compiled.has_errors() || denied {
                ExitCode::FAILURE
            } else {
                println!("{}", check_summary(&compiled, warnings));
                ExitCode::SUCCESS
            }
        }
        Command::Fingerprint { common, layouts } => {
            let opts = Options {
                max_frame_len: common.max_frame,
                sealed: common.sealed,
            };
            let compiled = compile_files(&common.files, &common.includes, &opts);
            compiled.sources.eprint(&compiled.diagnostics);
            if compiled.has_errors() {
                return ExitCode::FAILURE;
            }
            // Validation refuses what has no fingerprint (E0116, E0117), so
            // this error is a checker bug, reported rather than a panic.
            let sorted = match compiled.schema.packet_layouts() {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
            // `#[derive(PacketSet)]` and `gen --packet-set` refuse an empty
            // set, so no peer can have the fingerprint of no packets: the
            // files are likely the shared types without the packets.
            if sorted.is_empty() {
                eprintln!(
                    "error: no packet declared in {}: a protocol fingerprint identifies a set of packets (wire format §11), and a set needs at least one",
                    files_list(&compiled)
                );
                return ExitCode::FAILURE;
            }
            if layouts {
                for (id, bytes) in &sorted {
                    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                    println!("packet 0x{id:04x} {hex}");
                }
            }
            println!(
                "fingerprint 0x{:016x}",
                packet_schema::fingerprint::fingerprint_of(&sorted)
            );
            ExitCode::SUCCESS
        }
        Command::Gen {
            common,
            out,
            name,
            crate_path,
            owned,
            packet_set,
        } => {
            let mut b = Builder::new()
                .max_frame_len(common.max_frame)
                .sealed_frames(common.sealed)
                .crate_path(crate_path)
                .owned(owned);
            for inc in &common.includes {
                b = b.include(inc);
            }
            if let Some(n) = name {
                b = b.output_name(n);
            }
            if let Some(set) = packet_set {
                b = b.packet_set(set);
            }
            let g = match b.generate(&common.files) {
                Ok(g) => g,
                Err(e) => {
                    eprint!("{e}");
                    return ExitCode::FAILURE;
                }
            };
            eprint!("{}", g.warnings);
            let path = out.join(format!("{}.rs", g.name));
            let written =
                std::fs::create_dir_all(&out).and_then(|()| std::fs::write(&path, &g.code));
            match written {
                Ok(()) => {
                    println!("wrote {}", path.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: cannot write {}: {e}", path.display());
                    ExitCode::FAILURE
                }
            }
        }
        Command::Compat {
            old,
            new,
            includes,
            old_includes,
            new_includes,
        } => {
            let opts = Options::default();
            let with_shared = |own: Vec<PathBuf>| -> Vec<PathBuf> {
                own.into_iter().chain(includes.iter().cloned()).collect()
            };
            let (a, b) = (
                compile_files(&[&old], &with_shared(old_includes), &opts),
                compile_files(&[&new], &with_shared(new_includes), &opts),
            );
            for c in [&a, &b] {
                if c.has_errors() {
                    c.sources.eprint(&c.diagnostics);
                    return ExitCode::FAILURE;
                }
            }
            // An old import found in a directory both versions search (a
            // copy of the old root without its imports, `-I` at the new
            // tree) is the new version's own file: whatever changed in it
            // is compared with itself and goes unseen.
            let canon = |p: &PathBuf| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
            let new_files: Vec<PathBuf> = b.inputs.iter().map(canon).collect();
            for input in a.inputs.iter().skip(1) {
                if new_files.contains(&canon(input)) {
                    eprintln!(
                        "warning: the old version's import {} is the very file the new version loads: changes in it cannot be seen\n  = help: give the old version its own copy, next to its root or with `--old-include DIR`",
                        input.display()
                    );
                }
            }
            let report = packet_schema::compat::compare(&a, &b);
            // The fingerprint (wire format §11) is stricter than compat: any
            // layout change, an added packet included, changes it.
            let (fa, fb) = (fingerprint_text(&a), fingerprint_text(&b));
            if fa == fb {
                println!("fingerprint: {fa} (unchanged)");
            } else {
                println!(
                    "fingerprint: old {fa}, new {fb} (changed: peers built from the two versions refuse each other at the hello)"
                );
            }
            if report.diagnostics.is_empty() {
                println!(
                    "ok: no wire-incompatible change ({} packets compared)",
                    report.compared
                );
                ExitCode::SUCCESS
            } else {
                report.sources.eprint(&report.diagnostics);
                let n = report.diagnostics.len();
                eprintln!(
                    "{n} wire-incompatible change{}",
                    if n == 1 { "" } else { "s" }
                );
                ExitCode::FAILURE
            }
        }
        Command::Dissector {
            files,
            includes,
            max_frame,
            port,
        } => {
            let opts = Options {
                max_frame_len: max_frame,
                sealed: false,
            };
            let compiled = compile_files(&files, &includes, &opts);
            compiled.sources.eprint(&compiled.diagnostics);
            if compiled.has_errors() {
                return ExitCode::FAILURE;
            }
            print!(
                "{}",
                compiled.dissector(&packet_schema::dissector::DissectorOptions {
                    port,
                    max_frame_len: max_frame,
                })
            );
            ExitCode::SUCCESS
        }
        Command::Inspect {
            schema,
            includes,
            max_frame,
            datagrams,
            raw,
            input,
        } => inspect(&schema, &includes, max_frame, datagrams, raw, input),
        Command::Fmt { files, check } => {
            let mut code = ExitCode::SUCCESS;
            for path in files {
                let stdin = path.as_os_str() == "-";
                let read = if stdin {
                    let mut v = Vec::new();
                    std::io::Read::read_to_end(&mut std::io::stdin(), &mut v).map(|_| v)
                } else {
                    std::fs::read(&path)
                };
                let text = match read.map(String::from_utf8) {
                    Ok(Ok(t)) => t,
                    Ok(Err(e)) => {
                        // As `check` says it (E0004): where the first bad byte is.
                        let at = e.utf8_error().valid_up_to();
                        let before = &e.as_bytes()[..at];
                        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
                        let line_start = before
                            .iter()
                            .rposition(|&b| b == b'\n')
                            .map_or(0, |p| p + 1);
                        // A byte order mark is no column (as `check` counts).
                        let shown = before[line_start..]
                            .strip_prefix(b"\xef\xbb\xbf".as_slice())
                            .filter(|_| line_start == 0)
                            .unwrap_or(&before[line_start..]);
                        let col = String::from_utf8_lossy(shown).chars().count() + 1;
                        eprintln!(
                            "error: cannot read {}: not UTF-8 at line {line}, column {col} (byte {at})",
                            path.display()
                        );
                        code = ExitCode::FAILURE;
                        continue;
                    }
                    Err(e) => {
                        eprintln!("error: cannot read {}: {e}", path.display());
                        code = ExitCode::FAILURE;
                        continue;
                    }
                };
                let formatted = match format_str(&path.display().to_string(), &text) {
                    Ok(f) => f,
                    Err(e) => {
                        eprint!("{e}");
                        code = ExitCode::FAILURE;
                        continue;
                    }
                };
                if stdin && !check {
                    print!("{formatted}");
                    continue;
                }
                if formatted == text {
                    continue;
                }
                if check {
                    // Where, as rustfmt's check says it: the first line
                    // that differs, as it is and as `fmt` writes it.
                    let (line, found, wanted) = first_difference(&text, &formatted);
                    println!(
                        "{}:{line}: is not formatted\n  found:   {found}\n  `fmt`:   {wanted}",
                        path.display()
                    );
                    code = ExitCode::FAILURE;
                } else if let Err(e) = std::fs::write(&path, formatted) {
                    eprintln!("error: cannot write {}: {e}", path.display());
                    code = ExitCode::FAILURE;
                }
            }
            code
        }
    }
}

/// The files of a compilation, as `check` lists them: `a.packet, b.packet`.
fn files_list(compiled: &packet_schema::Compiled) -> String {
    let files: Vec<&str> = compiled
        .sources
        .files()
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    files.join(", ")
}

/// A checked schema's fingerprint as `compat` prints it: `0x` and 16 hex
/// digits, or why there is none (no packet; an error validation missed).
fn fingerprint_text(compiled: &packet_schema::Compiled) -> String {
    let has_packets = compiled
        .schema
        .types
        .iter()
        .any(|t| t.packet_id().is_some());
    match compiled.schema.fingerprint() {
        Ok(_) if !has_packets => "none (no packet)".to_string(),
        Ok(f) => format!("0x{f:016x}"),
        Err(e) => format!("none ({e})"),
    }
}

/// What a successful `check` checked: `ok: 2 files (a.packet, b.packet),
/// 9 types (7 packets), 0 warnings`.
fn check_summary(compiled: &packet_schema::Compiled, warnings: usize) -> String {
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    let types = &compiled.schema.types;
    let packets = types.iter().filter(|t| t.packet_id().is_some()).count();
    format!(
        "ok: {} ({}), {} ({}), {}",
        plural(compiled.sources.files().len(), "file"),
        files_list(compiled),
        plural(types.len(), "type"),
        plural(packets, "packet"),
        plural(warnings, "warning"),
    )
}

fn inspect(
    schema: &[PathBuf],
    includes: &[PathBuf],
    max_frame: u32,
    datagrams: bool,
    raw: bool,
    input: Option<PathBuf>,
) -> ExitCode {
    use packet_schema::inspect::{Inspector, as_text, parse_hex, render};
    use std::io::Read;
    let opts = Options {
        max_frame_len: max_frame,
        sealed: false,
    };
    let compiled = compile_files(schema, includes, &opts);
    if compiled.has_errors() {
        compiled.sources.eprint(&compiled.diagnostics);
        return ExitCode::FAILURE;
    }
    let bytes = match &input {
        Some(p) if p.as_os_str() != "-" => std::fs::read(p),
        _ => {
            let mut v = Vec::new();
            std::io::stdin().read_to_end(&mut v).map(|_| v)
        }
    };
    let bytes = match bytes {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read the input: {e}");
            return ExitCode::FAILURE;
        }
    };
    // A capture file is not frames: say how to get them out of it.
    if !raw && let Some(kind) = capture_kind(&bytes) {
        eprintln!(
            "error: the input is a {kind} capture file; inspect does not read captures\n  = help: extract the payloads as hex with tshark, e.g.\n        tshark -r capture.pcap -Y 'tcp.dstport==7777 && tcp.len>0' -T fields -e tcp.payload | packet-schema inspect --schema game.packet\n    (one stream direction, port as used; `-e udp.payload` and `--datagrams` for UDP)"
        );
        return ExitCode::FAILURE;
    }
    // Text is a hex dump, and a malformed one an error (not raw bytes by
    // surprise); raw frames are never text (`as_text`), and `--raw` says
    // so for text too.
    let bytes_len = bytes.len();
    let text = if raw { None } else { as_text(&bytes) };
    let chunks = match text {
        Some(t) => match parse_hex(t, datagrams) {
            Ok(c) => c,
            Err(e) => {
                let name = input
                    .as_ref()
                    .filter(|p| p.as_os_str() != "-")
                    .map_or("stdin".to_string(), |p| p.display().to_string());
                eprintln!(
                    "error: {name}: not a hex dump: {e}\n  (text input is read as hex digit pairs; `--raw` reads it as raw bytes)"
                );
                return ExitCode::FAILURE;
            }
        },
        None if datagrams && !raw => {
            eprintln!("error: --datagrams reads a hex dump, one datagram per line");
            return ExitCode::FAILURE;
        }
        None => vec![bytes],
    };
    // Nothing to show (an empty file, or a capture filter that matched
    // nothing) printed nothing and succeeded, as if every frame were fine.
    if chunks.iter().all(Vec::is_empty) {
        let what = if bytes_len == 0 {
            "the input is empty"
        } else {
            "the input holds no hex digits, only whitespace and comments"
        };
        eprintln!("warning: {what}: no frame to inspect");
        return ExitCode::SUCCESS;
    }
    let inspector = Inspector::new(&compiled.schema, max_frame);
    let mut bad = false;
    for (i, chunk) in chunks.iter().enumerate() {
        let reports = if datagrams {
            println!("datagram {i} ({} bytes)", chunk.len());
            vec![inspector.datagram(chunk)]
        } else {
            inspector.stream(chunk)
        };
        bad |= reports.iter().any(|r| r.problem.is_some());
        print!("{}", render(chunk, &reports));
    }
    if bad {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `pcap` or `pcapng` when `bytes` start with a capture file's magic
/// number (pcap in either byte order, microsecond or nanosecond; the
/// pcapng section header block).
fn capture_kind(bytes: &[u8]) -> Option<&'static str> {
    match bytes.get(..4)? {
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xd4, 0xc3, 0xb2, 0xa1] => Some("pcap"),
        [0xa1, 0xb2, 0x3c, 0x4d] | [0x4d, 0x3c, 0xb2, 0xa1] => Some("pcap"),
        [0x0a, 0x0d, 0x0d, 0x0a] => Some("pcapng"),
        _ => None,
    }
}

/// The first line (1-based) where `text` and `formatted` differ, with the
/// two lines as they are (`<end of file>` past either's end; where every
/// line agrees, the line endings or the final newline differ: the first
/// line ending in CRLF, else the last line). A long line is shown as the
/// part around its first difference (a one-line schema was echoed whole,
/// 13 MB for a 10 MB file).
fn first_difference(text: &str, formatted: &str) -> (usize, String, String) {
    let (mut a, mut b) = (text.lines(), formatted.lines());
    let mut line = 1;
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => line += 1,
            // The lines agree: the line endings (CRLF) or the final
            // newline do not.
            (None, None) => {
                let line = match text.find("\r\n") {
                    Some(at) => text[..at].matches('\n').count() + 1,
                    None => text.lines().count().max(1),
                };
                return (
                    line,
                    "<line endings or the final newline>".into(),
                    "<LF, one final newline>".into(),
                );
            }
            (x, y) => {
                let end = "<end of file>";
                let (x, y) = (x.unwrap_or(end), y.unwrap_or(end));
                // The mark `fmt` drops is invisible: the two lines
                // looked the same.
                if let Some(rest) = x.strip_prefix('\u{feff}') {
                    let same = rest
                        .chars()
                        .zip(y.chars())
                        .take_while(|(p, q)| p == q)
                        .count();
                    return (
                        line,
                        format!("<byte order mark>{}", around(rest, same)),
                        around(y, same),
                    );
                }
                let same = x.chars().zip(y.chars()).take_while(|(p, q)| p == q).count();
                return (line, around(x, same), around(y, same));
            }
        }
    }
}

/// `line`, or of a line longer than [`SHOWN`] characters the part from a
/// little before character `at` (0-based), `...` marking what is cut.
fn around(line: &str, at: usize) -> String {
    const SHOWN: usize = 120;
    let len = line.chars().count();
    if len <= SHOWN {
        return line.to_owned();
    }
    let from = at.saturating_sub(SHOWN / 4).min(len - SHOWN);
    let part: String = line.chars().skip(from).take(SHOWN).collect();
    let before = if from > 0 { "..." } else { "" };
    let after = if from + SHOWN < len { "..." } else { "" };
    format!("{before}{part}{after}")
}
