//! `inspect` on hostile input: arbitrary bytes and valid demo frames with
//! one byte changed (CRC repaired, so the body decoder sees the change)
//! never panic, and every reported range lies inside the input.

use packet_schema::inspect::{FrameReport, Inspector, Node};
use packet_schema::{Options, compile_files};
use proptest::prelude::*;

fn schema() -> packet_schema::Compiled {
    let root = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/schema-demo/schema/game.packet"
    );
    let c = compile_files(&[root], &[], &Options::default());
    assert!(!c.has_errors(), "{}", c.render());
    c
}

fn check_ranges(reports: &[FrameReport], len: usize) {
    fn node(n: &Node, len: usize) {
        assert!(n.range.start <= n.range.end && n.range.end <= len, "{n:?}");
        n.children.iter().for_each(|c| node(c, len));
    }
    for r in reports {
        assert!(r.range.end <= len);
        r.nodes.iter().for_each(|n| node(n, len));
        if let Some(p) = &r.problem {
            assert!(p.range.start <= p.range.end && p.range.end <= len, "{p:?}");
        }
    }
}

/// Valid demo frames (`chat::Say`, `Move`, `Events`, as in docs/tools.md).
const FRAMES: [&str; 3] = [
    "34000000010002011700000001000000000000000100036164610600676720e29c9301ff8000010700000000c40ea22e504b0d0a",
    "3c000000010000021e0000000200000000000000070000000000c03f00000000000010c000000000c3f51c4100000000010200005b78cbd6504b0d0a",
    "2c000000010000030e00000003000000000000002a0000000201000c0000000104000000207565a5504b0d0a",
];

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ if crc & 1 == 1 { 0xEDB8_8320 } else { 0 };
        }
    }
    !crc
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let c = schema();
        let i = Inspector::new(&c.schema, 65536);
        let r = i.datagram(&bytes);
        check_ranges(std::slice::from_ref(&r), bytes.len());
        check_ranges(&i.stream(&bytes), bytes.len());
    }

    #[test]
    fn a_changed_body_byte_never_panics(frame in 0..FRAMES.len(), at in 20usize..64, value in any::<u8>()) {
        let c = schema();
        let i = Inspector::new(&c.schema, 65536);
        let mut f: Vec<u8> = (0..FRAMES[frame].len()).step_by(2)
            .map(|k| u8::from_str_radix(&FRAMES[frame][k..k + 2], 16).unwrap())
            .collect();
        let body_len = u32::from_le_bytes([f[8], f[9], f[10], f[11]]) as usize;
        let check = 20 + body_len.div_ceil(4) * 4;
        let at = 20 + at % body_len;
        f[at] = value;
        let crc = crc32(&f[..check]);
        f[check..check + 4].copy_from_slice(&crc.to_le_bytes());
        let r = i.datagram(&f);
        check_ranges(std::slice::from_ref(&r), f.len());
        // The envelope is intact, so any problem is the body's.
        if let Some(p) = &r.problem {
            prop_assert!(p.rule.starts_with("body: "), "{}", p.rule);
        }
    }
}

/// Far into a long input the byte ranges are wider than their column:
/// `[1319968..1319972)check:` ran into its label. Every range is followed
/// by a space, and a frame's labels stay aligned.
#[test]
fn wide_ranges_keep_a_space_before_their_labels() {
    let c = schema();
    let frame: Vec<u8> = (0..FRAMES[2].len())
        .step_by(2)
        .map(|k| u8::from_str_radix(&FRAMES[2][k..k + 2], 16).unwrap())
        .collect();
    let input = frame.repeat(30_000);
    let reports = Inspector::new(&c.schema, 65536).stream(&input);
    assert_eq!(reports.len(), 30_000);
    let last = packet_schema::inspect::render(&input, &reports[reports.len() - 1..]);
    let nodes: Vec<&str> = last.lines().filter(|l| l.starts_with("  [")).collect();
    assert!(nodes.len() > 10, "{last}");
    for line in &nodes {
        let close = line.find(')').unwrap();
        assert_eq!(&line[close + 1..close + 2], " ", "{last}");
    }
    let column = |l: &str| l.find("length").or_else(|| l.find("ending"));
    assert_eq!(column(nodes[0]), column(nodes[nodes.len() - 1]), "{last}");
}
