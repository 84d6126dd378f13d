//! The generated Wireshark dissector, run in `tshark`, shows exactly what
//! the Rust decode shows (`packet_schema::inspect`: the envelope checked
//! by packet-core's frame rules, the body walked from the schema): every
//! field's name, value and byte range, every problem's rule and bytes.
//!
//! Frames: every test vector in `docs/vectors/{valid,invalid}` (datagram
//! vectors as UDP datagrams, stream vectors as one TCP connection), and a
//! demo session of the `examples/schema-demo` schema's packets encoded by
//! the generated Rust types (a multi-frame TCP stream cut into segments so
//! that frames span segments and several share one, plus UDP datagrams,
//! sealed ones among them). The session is generated here rather than
//! recorded from the `demo` binary, whose traffic is sealed (its bodies
//! would show as ciphertext) and made of raw echo bodies rather than the
//! schema's packets.
//!
//! That Rust decode is itself checked against the generated Rust types:
//! on the demo session and on every valid vector (the types generated from
//! `docs/vectors/vectors.packet` by examples/schema-demo), its tree printed
//! in `Debug` notation equals `{:?}` of the packet the derive decodes (this
//! part needs no tshark).
//!
//! `tshark` and `text2pcap` come from Debian's `tshark` package. Without
//! them the test prints a notice and passes, unless `PACKET_REQUIRE_TSHARK=1`
//! (set by `.ci/run`, which installs the package), where it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use packet_core::frame::{self, FrameConfig};
use packet_core::{Packet, PacketBuf, PacketSet};
use packet_schema::inspect::{FrameReport, Inspector, Node, parse_hex};
use packet_schema::{Compiled, Options, compile_files, dissector::DissectorOptions};

const PORT: u16 = 7777;
/// A port no dissector claims: frames there are found by the heuristic.
const HEURISTIC_PORT: u16 = 40123;

/// One line of a frame's tree: depth, text, offset from the frame's
/// start, length.
type Line = (usize, String, usize, usize);

fn have_tshark() -> bool {
    let ok = |cmd: &str, arg: &str| {
        Command::new(cmd)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let found = ok("tshark", "-v") && ok("text2pcap", "-v");
    if !found {
        assert!(
            std::env::var("PACKET_REQUIRE_TSHARK").as_deref() != Ok("1"),
            "PACKET_REQUIRE_TSHARK=1 but tshark / text2pcap are not installed \
             (apt-get install tshark)"
        );
        // Straight to stderr, past the test harness's capture, so the skip
        // shows in a plain `cargo test` run.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "NOTICE: tshark or text2pcap not found: the dissector test is skipped \
             (apt-get install tshark; PACKET_REQUIRE_TSHARK=1 makes this a failure)"
        );
    }
    found
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn compile(schema: &Path) -> Compiled {
    let compiled = compile_files(&[schema], &[], &Options::default());
    assert!(!compiled.has_errors(), "{}", compiled.render());
    compiled
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("packet-tshark-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What travels: UDP datagrams or TCP segments of one connection.
enum Capture {
    Udp(Vec<Vec<u8>>),
    Tcp(Vec<Vec<u8>>),
}

/// Writes the capture with text2pcap, runs tshark with the dissector and
/// returns each packet-protocol tree in order (as lines).
fn run_tshark(
    dir: &Path,
    lua: &Path,
    capture: &Capture,
    port: u16,
    max_frame: u32,
) -> Vec<Vec<Line>> {
    let (packets, flag) = match capture {
        Capture::Udp(p) => (p, "-u"),
        Capture::Tcp(p) => (p, "-T"),
    };
    let mut dump = String::new();
    for p in packets {
        for (i, chunk) in p.chunks(16).enumerate() {
            let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
            dump.push_str(&format!("{:06x}  {}\n", i * 16, hex.join(" ")));
        }
    }
    let txt = dir.join("frames.txt");
    let pcap = dir.join("frames.pcap");
    std::fs::write(&txt, dump).unwrap();
    let out = Command::new("text2pcap")
        .args([flag, &format!("50000,{port}"), "-q"])
        .arg(&txt)
        .arg(&pcap)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "text2pcap: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("tshark")
        .arg("-X")
        .arg(format!("lua_script:{}", lua.display()))
        .args([
            "-o",
            &format!("packet.max_frame:{max_frame}"),
            "-T",
            "pdml",
            "-r",
        ])
        .arg(&pcap)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("Lua: Error"),
        "tshark failed: {stderr}"
    );
    let pdml = String::from_utf8_lossy(&out.stdout);
    assert!(!pdml.contains("Lua Error"), "the dissector failed:\n{pdml}");
    parse_pdml(&pdml)
}

/// The frame numbers of the last capture that `filter` matches.
fn tshark_filter(dir: &Path, lua: &Path, filter: &str) -> Vec<usize> {
    let out = Command::new("tshark")
        .arg("-X")
        .arg(format!("lua_script:{}", lua.display()))
        .args(["-Y", filter, "-T", "fields", "-e", "frame.number", "-r"])
        .arg(dir.join("frames.pcap"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{filter}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect()
}

fn attr(line: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = line.find(&key)? + key.len();
    let end = start + line[start..].find('"')?;
    Some(unescape(&line[start..end]))
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(';').map_or(rest.len(), |e| i + e);
        let entity = &rest[i + 1..end];
        match entity {
            "quot" => out.push('"'),
            "amp" => out.push('&'),
            "lt" => out.push('<'),
            "gt" => out.push('>'),
            "apos" => out.push('\''),
            e if e.starts_with("#x") => {
                let c = u32::from_str_radix(&e[2..], 16)
                    .ok()
                    .and_then(char::from_u32);
                out.push(c.unwrap_or('\u{fffd}'));
            }
            e if e.starts_with('#') => {
                let c = e[1..].parse().ok().and_then(char::from_u32);
                out.push(c.unwrap_or('\u{fffd}'));
            }
            e => out.push_str(&format!("&{e};")),
        }
        rest = &rest[(end + 1).min(rest.len())..];
    }
    out.push_str(rest);
    out
}

/// The `packet` protocol trees of a PDML document: one per frame, its
/// fields as lines (expert-info items left out).
fn parse_pdml(xml: &str) -> Vec<Vec<Line>> {
    let mut frames = Vec::new();
    let mut current: Option<(usize, usize, Vec<Line>)> = None; // (indent, base pos, lines)
    let mut skip_below: Option<usize> = None;
    for raw in xml.lines() {
        let indent = raw.len() - raw.trim_start().len();
        let line = raw.trim_start();
        if let Some((base_indent, base, lines)) = &mut current {
            if line.starts_with("</proto>") && indent == *base_indent {
                frames.push(std::mem::take(lines));
                current = None;
                continue;
            }
            if !line.starts_with("<field") {
                continue;
            }
            let depth = (indent - *base_indent) / 2 - 1;
            if let Some(d) = skip_below {
                if depth > d {
                    continue;
                }
                skip_below = None;
            }
            let name = attr(line, "name").unwrap_or_default();
            if name.starts_with("_ws.") {
                skip_below = Some(depth);
                continue;
            }
            let text = attr(line, "showname").unwrap_or_default();
            let pos: usize = attr(line, "pos").unwrap().parse().unwrap();
            let size: usize = attr(line, "size").unwrap().parse().unwrap();
            lines.push((depth, text, pos - *base, size));
        } else if line.starts_with("<proto name=\"packet\"") {
            let pos: usize = attr(line, "pos").unwrap().parse().unwrap();
            current = Some((indent, pos, Vec::new()));
        }
    }
    frames
}

/// The Rust decode of one frame as lines (the problem last, as the
/// dissector adds it).
fn expected(report: &FrameReport) -> Vec<Line> {
    fn walk(out: &mut Vec<Line>, n: &Node, depth: usize, base: usize) {
        out.push((depth, n.text(), n.range.start - base, n.range.len()));
        for c in &n.children {
            walk(out, c, depth + 1, base);
        }
    }
    let base = report.range.start;
    let mut out = Vec::new();
    for n in &report.nodes {
        walk(&mut out, n, 0, base);
    }
    if let Some(p) = &report.problem {
        out.push((
            0,
            format!("error: {}", p.rule),
            p.range.start - base,
            p.range.len(),
        ));
    }
    out
}

/// Floats are compared by their bits: Rust prints the shortest decimal
/// that round-trips, Lua `%.9g` / `%.17g`.
fn normalize(lines: Vec<Line>) -> Vec<Line> {
    lines
        .into_iter()
        .map(|(d, t, a, b)| {
            let t = match t.find(" (bits 0x") {
                Some(i) => {
                    let colon = t[..i].rfind(": ").map_or(0, |c| c + 2);
                    format!("{}{}", &t[..colon], &t[i + 1..])
                }
                None => t,
            };
            (d, t, a, b)
        })
        .collect()
}

fn compare(what: &str, got: Vec<Vec<Line>>, want: Vec<Vec<Line>>) {
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: tshark shows {} frames, Rust {}\ntshark: {got:#?}",
        got.len(),
        want.len()
    );
    for (i, (g, w)) in got.into_iter().zip(want).enumerate() {
        let (g, w) = (normalize(g), normalize(w));
        if g != w {
            let show = |v: &[Line]| {
                v.iter()
                    .map(|(d, t, a, n)| format!("{}{t}  [{a}+{n}]", "  ".repeat(*d)))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            panic!(
                "{what}, frame {i}: the dissector differs from the Rust decode\n--- tshark\n{}\n--- rust\n{}",
                show(&g),
                show(&w)
            );
        }
    }
}

struct Vector {
    name: String,
    bytes: Vec<u8>,
    stream: bool,
    max_frame: u32,
}

fn vectors() -> Vec<Vector> {
    let mut out = Vec::new();
    for dir in ["valid", "invalid"] {
        let path = root().join("docs/vectors").join(dir);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "hex"))
            .collect();
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let meta = |key: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(&format!("# {key}: ")))
                    .map(str::trim)
                    .map(str::to_string)
            };
            let bytes = parse_hex(&text, false).unwrap().remove(0);
            out.push(Vector {
                name: format!("{dir}/{}", path.file_name().unwrap().to_string_lossy()),
                bytes,
                stream: meta("mode").as_deref() == Some("stream"),
                max_frame: meta("max_frame_len").map_or(65536, |m| m.parse().unwrap()),
            });
        }
    }
    assert!(out.len() >= 40, "the vectors are missing");
    out
}

/// The schema of the vectors' packet types, beside the vectors.
fn vectors_schema() -> PathBuf {
    root().join("docs/vectors/vectors.packet")
}

#[test]
fn dissector_agrees_with_the_rust_decode_on_every_vector() {
    if !have_tshark() {
        return;
    }
    let compiled = compile(&vectors_schema());
    let dir = scratch("vectors");
    let lua = dir.join("vectors.lua");
    std::fs::write(&lua, compiled.dissector(&DissectorOptions::default())).unwrap();
    let all = vectors();
    let mut maxes: Vec<u32> = all.iter().map(|v| v.max_frame).collect();
    maxes.sort();
    maxes.dedup();
    let mut compared = 0;
    for max in maxes {
        let inspector = Inspector::new(&compiled.schema, max);
        // Datagram vectors: one UDP datagram each (an empty datagram
        // carries nothing a dissector is called for).
        let datagrams: Vec<&Vector> = all
            .iter()
            .filter(|v| !v.stream && v.max_frame == max && !v.bytes.is_empty())
            .collect();
        let want: Vec<Vec<Line>> = datagrams
            .iter()
            .map(|v| expected(&inspector.datagram(&v.bytes)))
            .collect();
        let capture = Capture::Udp(datagrams.iter().map(|v| v.bytes.clone()).collect());
        let got = run_tshark(&dir, &lua, &capture, PORT, max);
        compared += want.len();
        compare(&format!("datagram vectors (max {max})"), got, want);
        // The session frames' fields filter (wire-format §11.5).
        let number = |name: &str| {
            datagrams
                .iter()
                .position(|v| v.name.contains(name))
                .map(|i| i + 1)
        };
        if let Some(refusal) = number("18-refusal") {
            let fields = |f| tshark_filter(&dir, &lua, f);
            assert_eq!(
                fields("packet.fingerprint == 0xf22aecbf92d2d7d6"),
                [refusal]
            );
            let hellos: Vec<usize> = ["13-session-hello", "16-fingerprint-hello", "17-plaintext"]
                .iter()
                .map(|n| number(n).expect("a hello vector"))
                .collect();
            assert_eq!(fields("packet.hello.token"), hellos);
            // The close notices (wire-format §12).
            let notices: Vec<usize> = ["19-close-notice", "20-close-notice-full"]
                .iter()
                .map(|n| number(n).expect("a close notice vector"))
                .collect();
            assert_eq!(fields("packet.close.reason"), notices);
            assert_eq!(fields("packet.close.reason == 1"), notices[1..]);
        }
        // Stream vectors: each its own TCP connection. A stream that ends
        // inside a frame (UnexpectedEof) leaves Wireshark waiting for the
        // rest, so that last report has no tree to compare.
        for v in all.iter().filter(|v| v.stream && v.max_frame == max) {
            let mut want: Vec<Vec<Line>> = inspector
                .stream(&v.bytes)
                .iter()
                .filter(|r| {
                    !r.problem
                        .as_ref()
                        .is_some_and(|p| p.rule.starts_with("stream:"))
                })
                .map(expected)
                .collect();
            let got = run_tshark(&dir, &lua, &Capture::Tcp(vec![v.bytes.clone()]), PORT, max);
            want.truncate(got.len().max(want.len()));
            compared += want.len();
            compare(&v.name, got, want);
        }
    }
    assert!(compared >= 40, "compared only {compared} frames");
    std::fs::remove_dir_all(&dir).unwrap();
}

mod demo {
    pub use packet_schema_example::game::*;
}

/// A demo session: every packet type of the demo schema, with borders
/// (empty lists, `None`, extremes, non-ASCII text, recursion).
fn demo_frames() -> Vec<Vec<u8>> {
    use demo::*;
    let mut frames = Vec::new();
    let mut seq = 0;
    let mut push = |frames: &mut Vec<Vec<u8>>, p: &dyn Fn(&mut PacketBuf<8192>, u64) -> Vec<u8>| {
        let mut buf = PacketBuf::<8192>::new();
        frames.push(p(&mut buf, seq));
        seq += 1;
    };
    fn enc<P: Packet>(buf: &mut PacketBuf<8192>, p: &P, seq: u64) -> Vec<u8> {
        buf.encode(p, seq).unwrap().to_vec()
    }
    let v = |x: f32| Vec3 { x, y: -x, z: 0.5 };
    for tick in 0..3u32 {
        push(&mut frames, &|b, s| {
            enc(
                b,
                &Move {
                    entity: 7 + tick,
                    position: v(tick as f32 * 1.25),
                    velocity: [0.0, -0.0, f32::INFINITY],
                    on_ground: tick % 2 == 0,
                    team: if tick == 2 {
                        Team::Spectator
                    } else {
                        Team::Red
                    },
                },
                s,
            )
        });
    }
    push(&mut frames, &|b, s| {
        enc(
            b,
            &chat::Say {
                room: 0,
                name: "ada",
                text: "héllo \"wörld\" \\ ✓",
                color: Some(Color { r: 255, g: 0, b: 7 }),
                mentions: vec![1, 2, u32::MAX],
            },
            s,
        )
    });
    push(&mut frames, &|b, s| {
        enc(
            b,
            &chat::Say {
                room: 65535,
                name: "",
                text: "",
                color: None,
                mentions: vec![],
            },
            s,
        )
    });
    push(&mut frames, &|b, s| {
        enc(
            b,
            &chat::Refused {
                reason: chat::Reason::Flood,
                retry_after_ms: Some(1500),
            },
            s,
        )
    });
    push(&mut frames, &|b, s| {
        enc(
            b,
            &chat::Refused {
                reason: chat::Reason::Muted,
                retry_after_ms: None,
            },
            s,
        )
    });
    push(&mut frames, &|b, s| {
        enc(
            b,
            &Spawn {
                entity: u64::MAX,
                skin: &[0xde, 0xad, 0xbe, 0xef],
                checksum: [0xab; 16],
                trail: vec![v(1.0), v(f32::NAN), v(-1e-40)],
                nick: "ナナ",
                title: Some(Title {
                    name: "champion",
                    level: 3,
                }),
                initial: 'é',
                score: i64::MIN,
                big: u128::MAX,
                delta: -2,
                mass: std::f64::consts::PI,
            },
            s,
        )
    });
    push(&mut frames, &|b, s| {
        enc(
            b,
            &Events {
                tick: 99,
                events: vec![
                    Event::Hit {
                        amount: 12,
                        critical: true,
                    },
                    Event::Say("gg", 4),
                    Event::Moved(v(2.0)),
                    Event::Died,
                ],
            },
            s,
        )
    });
    push(&mut frames, &|b, s| enc(b, &Ping {}, s));
    push(&mut frames, &|b, s| {
        enc(
            b,
            &ui::Show {
                menu: ui::Menu {
                    label: "main",
                    children: vec![
                        ui::Menu {
                            label: "play",
                            children: vec![],
                        },
                        ui::Menu {
                            label: "options",
                            children: vec![ui::Menu {
                                label: "sound",
                                children: vec![],
                            }],
                        },
                    ],
                },
                root: ui::Folder {
                    name: "root",
                    entries: vec![
                        ui::Entry {
                            id: 1,
                            folder: None,
                        },
                        ui::Entry {
                            id: 2,
                            folder: Some(Box::new(ui::Folder {
                                name: "sub",
                                entries: vec![],
                            })),
                        },
                    ],
                },
            },
            s,
        )
    });
    // Every frame is valid and decodes with the generated Rust types.
    for f in &frames {
        let frame = frame::decode_frame(f, &FrameConfig::default()).unwrap();
        Msg::decode_frame(&frame).unwrap();
    }
    frames
}

/// A sealed frame as it travels: the plain frame's header with the
/// ENCRYPTED flag and a 16-byte tag (the dissector has no keys, so the
/// ciphertext's content does not matter).
fn sealed_like(type_id: u16, sequence: u64, body_len: usize) -> Vec<u8> {
    let p = frame::padded_len(body_len);
    let mut f = Vec::new();
    f.extend_from_slice(&((40 + p) as u32).to_le_bytes());
    f.extend_from_slice(&[1, 1]);
    f.extend_from_slice(&type_id.to_le_bytes());
    f.extend_from_slice(&(body_len as u32).to_le_bytes());
    f.extend_from_slice(&sequence.to_le_bytes());
    f.extend((0..p + 16).map(|i| (i * 37) as u8));
    f.extend_from_slice(b"PK\r\n");
    f
}

#[test]
fn dissector_agrees_with_the_rust_decode_on_a_demo_session() {
    if !have_tshark() {
        return;
    }
    let compiled = compile(&root().join("examples/schema-demo/schema/game.packet"));
    let dir = scratch("demo");
    let lua = dir.join("game.lua");
    std::fs::write(&lua, compiled.dissector(&DissectorOptions::default())).unwrap();
    let inspector = Inspector::new(&compiled.schema, 65536);
    let frames = demo_frames();

    // TCP: the session as one byte stream, cut into 50-byte segments, so
    // frames span segments and several end in one.
    let stream: Vec<u8> = frames.concat();
    let want: Vec<Vec<Line>> = inspector.stream(&stream).iter().map(expected).collect();
    assert_eq!(want.len(), frames.len());
    assert!(
        want.iter()
            .all(|f| !f.iter().any(|l| l.1.starts_with("error:")))
    );
    let segments: Vec<Vec<u8>> = stream.chunks(50).map(<[u8]>::to_vec).collect();
    for port in [PORT, HEURISTIC_PORT] {
        let got = run_tshark(&dir, &lua, &Capture::Tcp(segments.clone()), port, 65536);
        compare(
            &format!("demo TCP stream on port {port}"),
            got,
            want.clone(),
        );
    }

    // UDP: one datagram per frame, with sealed frames and a corrupted one
    // among them.
    let mut datagrams = frames.clone();
    datagrams.push(sealed_like(0x0102, 42, 13));
    let mut corrupt = frames[3].clone();
    corrupt[24] ^= 0x01; // a body byte: the CRC no longer matches
    datagrams.push(corrupt);
    let want: Vec<Vec<Line>> = datagrams
        .iter()
        .map(|d| expected(&inspector.datagram(d)))
        .collect();
    for port in [PORT, HEURISTIC_PORT] {
        let got = run_tshark(&dir, &lua, &Capture::Udp(datagrams.clone()), port, 65536);
        compare(
            &format!("demo UDP datagrams on port {port}"),
            got,
            want.clone(),
        );
        // Every schema field is a display-filter field of its own.
        let filters: [(&str, &[usize]); 7] = [
            ("packet.Move.entity == 8", &[2]),
            ("packet.Move.team == 10", &[3]),
            ("packet.chat.Say.text contains \"wörld\"", &[4]),
            (
                "packet.Spawn.big == \"340282366920938463463374607431768211455\"",
                &[8],
            ),
            (
                "packet.Event.Hit.amount == 12 && packet.Event.Hit.critical",
                &[9],
            ),
            (
                "packet.name == \"ui.Show\" && packet.ui.Menu.label == \"sound\"",
                &[11],
            ),
            ("packet.malformed", &[13]),
        ];
        for (filter, frames) in filters {
            assert_eq!(tshark_filter(&dir, &lua, filter), frames, "{filter}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A decoded tree in Rust's `Debug` notation, as `#[derive(Debug)]` prints
/// the generated types (box is transparent, `&[u8]` a list of numbers).
fn debug_of(n: &Node) -> String {
    let v = n.value.as_str();
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let list = |n: &Node| {
        let items: Vec<String> = n.children.iter().map(debug_of).collect();
        format!("[{}]", items.join(", "))
    };
    let fields = |name: &str, n: &Node| {
        if n.children.is_empty() {
            return name.to_string();
        }
        if n.children[0].label == "0" {
            let items: Vec<String> = n.children.iter().map(debug_of).collect();
            return format!("{name}({})", items.join(", "));
        }
        let items: Vec<String> = n
            .children
            .iter()
            .map(|c| format!("{}: {}", c.label, debug_of(c)))
            .collect();
        format!("{name} {{ {} }}", items.join(", "))
    };
    if v == "none" {
        "None".into()
    } else if v == "some" {
        format!("Some({})", debug_of(&n.children[0]))
    } else if v
        .strip_suffix(" items")
        .or(v.strip_suffix(" item"))
        .is_some_and(all_digits)
    {
        list(n)
    } else if let Some((_, hex)) = v.split_once(" bytes: ").or(v.split_once(" byte: ")) {
        let bytes: Vec<String> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap().to_string())
            .collect();
        format!("[{}]", bytes.join(", "))
    } else if let Some(i) = v.find(" (bits 0x") {
        v[..i].to_string()
    } else if v.starts_with('\'') {
        v[..v.rfind(" (U+").unwrap()].to_string()
    } else if v.starts_with('"')
        || v == "true"
        || v == "false"
        || all_digits(v.trim_start_matches('-'))
    {
        v.to_string()
    } else if let Some((variant, tag)) = v.split_once(" (") {
        assert!(tag.ends_with(')'), "{v}");
        fields(variant, n)
    } else {
        fields(v.rsplit('.').next().unwrap(), n)
    }
}

#[test]
fn inspect_agrees_with_the_generated_types_on_the_demo_session() {
    let compiled = compile(&root().join("examples/schema-demo/schema/game.packet"));
    let inspector = Inspector::new(&compiled.schema, 65536);
    for f in demo_frames() {
        let report = inspector.datagram(&f);
        assert!(report.problem.is_none(), "{report:?}");
        let body = report.nodes.iter().find(|n| n.label == "body").unwrap();
        let frame = frame::decode_frame(&f, &FrameConfig::default()).unwrap();
        let msg = format!("{:?}", demo::Msg::decode_frame(&frame).unwrap());
        // `Variant(Packet { .. })`: the packet inside the dispatch enum.
        let packet = &msg[msg.find('(').unwrap() + 1..msg.len() - 1];
        assert_eq!(debug_of(body), packet);
    }
}

/// The Debug text of the packet in `frame` decoded with the vectors'
/// generated type for its id (`None` for an id the schema lacks).
fn vector_debug(frame: &packet_core::Frame<'_>) -> Option<String> {
    use packet_schema_example::vectors as v;
    fn show<'a, P: Packet + packet_core::Decode<'a> + std::fmt::Debug>(
        f: &packet_core::Frame<'a>,
    ) -> String {
        format!("{:?}", f.decode_packet::<P>().unwrap())
    }
    macro_rules! by_id {
        ($($t:ty),*) => {
            match frame.type_id() {
                $(id if id == <$t as Packet>::ID => Some(show::<$t>(frame)),)*
                _ => None,
            }
        };
    }
    by_id!(
        v::Empty,
        v::OneByte,
        v::Blob36,
        v::Ints,
        v::Floats,
        v::BoolChar,
        v::Strings,
        v::Composite,
        v::Nested,
        v::Position,
        v::Extremes,
        v::Bounded
    )
}

#[test]
fn inspect_agrees_with_the_generated_types_on_every_valid_vector() {
    let compiled = compile(&vectors_schema());
    let mut compared = 0;
    for v in vectors().iter().filter(|v| v.name.starts_with("valid/")) {
        let report = Inspector::new(&compiled.schema, v.max_frame).datagram(&v.bytes);
        assert!(report.problem.is_none(), "{}: {report:?}", v.name);
        let config = FrameConfig::default().with_max_frame_len(v.max_frame);
        let frame = frame::decode_frame(&v.bytes, &config).unwrap();
        let Some(want) = vector_debug(&frame) else {
            continue; // the session hello, an id outside the schema
        };
        let body = report.nodes.iter().find(|n| n.label == "body").unwrap();
        assert_eq!(debug_of(body), want, "{}", v.name);
        compared += 1;
    }
    assert!(compared >= 12, "compared only {compared} vectors");
}
