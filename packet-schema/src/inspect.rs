//! Frames decoded field by field from a schema, every value with its byte
//! range: what `packet-schema inspect` prints and what the generated
//! Wireshark dissector ([`crate::dissector`]) must show (its test compares
//! the two).
//!
//! The envelope is checked by `packet_core::frame` (the rules of
//! `docs/wire-format.md` §4, in their order); the body is walked from the
//! schema, with the codec's wire forms and its errors (§3), named as
//! `packet_core::DecodeError`'s variants. A sealed frame shows its header
//! and sequence only: its body is ciphertext. A plain frame of the
//! reserved type 0xFFFF shows as the session frame its body length makes
//! it (§7.3, §11.5, §12): `session hello (version 1)` (token), `session
//! hello` or `plaintext session hello` (token, fingerprint), `refusal`
//! (server fingerprint), `close notice` (reason, detail).
//!
//! Value notation (shared with the dissector): integers in decimal; floats
//! as `value (bits 0x...)`; `bool` as `true` / `false`; `char` as
//! `'c' (U+0063)`; strings quoted with `\"`, `\\` and `\xNN` for control
//! bytes; bytes as `N bytes: hex`; lists and arrays as `N items` with
//! children `[i]`; options as `none` / `some` with one child `some`;
//! structs as their type name with a child per field; enums as
//! `Variant (tag)` with their fields as children (positional ones named
//! `0`, `1`, ...); `box<T>` as `T`.
//!
//! Not here: reading hex dumps (the CLI) and Lua (the dissector).

use core::ops::Range;
use std::collections::HashMap;

use packet_core::FrameError;
use packet_core::frame::{self, FrameConfig};

use crate::ast::{self, LenWidth, Prim, SeqOpts, Type, TypeKind, VariantKind};
use crate::validate::{DefKind, Schema, TypeId, variant_tags};

/// Nesting of `list` and `box` values a decoder follows before refusing
/// (`packet_core::Reader::MAX_DEPTH`).
pub const MAX_DEPTH: u32 = 128;

/// One line of the decoded tree: a header field, a body field, an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// The field's name (`length`, `pos`, `[0]`, `some`, `0`).
    pub label: String,
    /// Its value in the module's notation (empty when it has none, e.g. a
    /// body whose type id the schema does not know).
    pub value: String,
    /// Bytes it occupies, as offsets into the whole input.
    pub range: Range<usize>,
    /// Nested fields, items or variant data.
    pub children: Vec<Node>,
}

impl Node {
    fn leaf(label: impl Into<String>, value: impl Into<String>, range: Range<usize>) -> Node {
        Node {
            label: label.into(),
            value: value.into(),
            range,
            children: Vec::new(),
        }
    }

    /// `label: value`, or `label` alone when there is no value.
    pub fn text(&self) -> String {
        if self.value.is_empty() {
            self.label.clone()
        } else {
            format!("{}: {}", self.label, self.value)
        }
    }
}

/// Why a frame is bad: the rule it breaks and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// `rule 12: CrcMismatch { expected: 0, computed: 257427876 }` for the
    /// envelope (wire-format §4, the error's `Debug` notation), `body:
    /// InvalidBool(2)` for the body (§3), `stream: UnexpectedEof { buffered:
    /// 5 }` for a stream that ends inside a frame (§5.2).
    pub rule: String,
    /// The offending bytes (offsets into the whole input).
    pub range: Range<usize>,
}

/// One frame (or the bytes where one should have been).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameReport {
    /// The frame's bytes in the input.
    pub range: Range<usize>,
    /// One-line summary: `Say (type 0x0102), sequence 7, 48 bytes`.
    pub summary: String,
    /// Header fields, body, padding, check, ending (those present).
    pub nodes: Vec<Node>,
    /// The rule the frame breaks, if any.
    pub problem: Option<Problem>,
}

/// Decodes frames against a checked schema.
pub struct Inspector<'s> {
    schema: &'s Schema,
    by_id: HashMap<u16, TypeId>,
    config: FrameConfig,
}

/// A failed body read: the error text and its bytes (relative offsets
/// are already absolute).
struct BodyError {
    rule: String,
    range: Range<usize>,
}

type Walk<T> = Result<T, (Vec<Node>, BodyError)>;

impl<'s> Inspector<'s> {
    /// An inspector for `schema`'s packets, accepting frames up to
    /// `max_frame_len` bytes (rounded as `FrameConfig` rounds it).
    pub fn new(schema: &'s Schema, max_frame_len: u32) -> Self {
        let by_id = schema
            .types
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.packet_id().map(|id| (id, i)))
            .collect();
        Inspector {
            schema,
            by_id,
            config: FrameConfig::default().with_max_frame_len(max_frame_len),
        }
    }

    /// One datagram: exactly one frame (wire-format §5.1).
    pub fn datagram(&self, bytes: &[u8]) -> FrameReport {
        self.frame_at(bytes, 0, bytes.len())
    }

    /// A byte stream: frames back to back, up to the first bad one
    /// (wire-format §5.2; a stream that ends inside a frame is
    /// `UnexpectedEof`).
    pub fn stream(&self, bytes: &[u8]) -> Vec<FrameReport> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let rest = &bytes[at..];
            let length = match frame::check_prefix(rest, &self.config) {
                Ok(Some(len)) if (len as usize) <= rest.len() => len as usize,
                Ok(_) => {
                    let mut r = self.frame_at(bytes, at, bytes.len());
                    r.problem = Some(Problem {
                        rule: format!(
                            "stream: {:?}",
                            FrameError::UnexpectedEof {
                                buffered: rest.len()
                            }
                        ),
                        range: at..bytes.len(),
                    });
                    out.push(r);
                    break;
                }
                Err(_) => rest.len(),
            };
            let r = self.frame_at(bytes, at, at + length);
            let bad = r.problem.is_some();
            out.push(r);
            if bad {
                break;
            }
            at += length;
        }
        out
    }

    /// The frame in `input[start..end]`.
    fn frame_at(&self, input: &[u8], start: usize, end: usize) -> FrameReport {
        let bytes = &input[start..end];
        let mut report = FrameReport {
            range: start..end,
            summary: String::new(),
            nodes: header_nodes(bytes, start),
            problem: None,
        };
        let fail = |report: &mut FrameReport, e: FrameError| {
            let (rule, range) = rule_of(&e, bytes);
            report.summary = format!("malformed, {} bytes", bytes.len());
            report.problem = Some(Problem {
                rule: format!("rule {rule}: {e:?}"),
                range: start + range.start..start + range.end,
            });
        };
        // A stream's frame arrives here cut to its length field, so the
        // datagram rules 5 and 6 cannot fire for it.
        let f = match frame::decode_frame(bytes, &self.config) {
            Ok(f) => f,
            Err(FrameError::UnexpectedEncryption { sealed: true }) => {
                self.sealed(&mut report, bytes, start);
                return report;
            }
            Err(e) => {
                fail(&mut report, e);
                return report;
            }
        };
        let body_len = f.body().len();
        let padded = frame::padded_len(body_len);
        let body_start = start + frame::HEADER_LEN;
        let type_id = f.type_id();
        let session = session_frame(type_id, f.body(), body_start);
        let name = self
            .by_id
            .get(&type_id)
            .map(|&t| self.schema.types[t].full_name())
            .or_else(|| session.as_ref().map(|s| s.value.clone()));
        report.summary = format!(
            "{} (type 0x{type_id:04x}), sequence {}, {} bytes",
            name.as_deref().unwrap_or("unknown packet"),
            f.sequence(),
            bytes.len()
        );
        let body_range = body_start..body_start + body_len;
        let body = match self.by_id.get(&type_id) {
            None if session.is_some() => session.expect("checked"),
            None => Node::leaf(
                "body",
                format!("{}, type id not in the schema", count(body_len, "byte")),
                body_range,
            ),
            Some(&t) => {
                let mut r = Cursor {
                    bytes: f.body(),
                    pos: 0,
                    base: body_start,
                    depth: 0,
                };
                let mut node = Node::leaf("body", self.schema.types[t].full_name(), body_range);
                match self.walk_def(t, &mut r) {
                    Ok(children) if r.pos == body_len => node.children = children,
                    Ok(children) => {
                        node.children = children;
                        let extra = body_len - r.pos;
                        report.problem = Some(Problem {
                            rule: format!("body: TrailingBytes {{ extra: {extra} }}"),
                            range: body_start + r.pos..body_start + body_len,
                        });
                    }
                    Err((children, e)) => {
                        node.children = children;
                        report.problem = Some(Problem {
                            rule: e.rule,
                            range: e.range,
                        });
                    }
                }
                node
            }
        };
        report.nodes.push(body);
        if padded > body_len {
            report.nodes.push(Node::leaf(
                "padding",
                count(padded - body_len, "byte"),
                body_start + body_len..body_start + padded,
            ));
        }
        let check_at = frame::HEADER_LEN + padded;
        report.nodes.push(Node::leaf(
            "check",
            format!("0x{:08x} (correct)", u32_at(bytes, check_at)),
            start + check_at..start + check_at + 4,
        ));
        report.nodes.push(Node::leaf(
            "ending",
            "PK\\r\\n",
            start + check_at + 4..start + check_at + 8,
        ));
        if report.problem.is_some() {
            report.summary = format!("{}, malformed body", report.summary);
        }
        report
    }

    /// A sealed frame: the envelope rules a receiver without keys can
    /// check (§7.5 rules 1-11), then header, ciphertext, tag and ending.
    fn sealed(&self, report: &mut FrameReport, bytes: &[u8], start: usize) {
        let checked = frame::check_header(bytes, true).and_then(|h| {
            frame::check_ending(bytes)?;
            Ok(h)
        });
        let h = match checked {
            Ok(h) => h,
            Err(e) => {
                let (rule, range) = rule_of(&e, bytes);
                report.summary = format!("sealed, malformed, {} bytes", bytes.len());
                report.problem = Some(Problem {
                    rule: format!("rule {rule}: {e:?}"),
                    range: start + range.start..start + range.end,
                });
                return;
            }
        };
        let padded = frame::padded_len(h.body_len as usize);
        let ct = start + frame::HEADER_LEN;
        report.summary = format!(
            "sealed (type 0x{:04x}), sequence {}, {} bytes",
            h.type_id,
            h.sequence,
            bytes.len()
        );
        report.nodes.push(Node::leaf(
            "ciphertext",
            format!("{padded} bytes (sealed)"),
            ct..ct + padded,
        ));
        report.nodes.push(Node::leaf(
            "tag",
            "16 bytes (Poly1305, not verified)",
            ct + padded..ct + padded + 16,
        ));
        report.nodes.push(Node::leaf(
            "ending",
            "PK\\r\\n",
            ct + padded + 16..ct + padded + 20,
        ));
    }

    fn walk_def(&self, t: TypeId, r: &mut Cursor<'_>) -> Walk<Vec<Node>> {
        match &self.schema.types[t].kind {
            DefKind::Packet(p) => self.walk_fields(&p.body.fields, r),
            DefKind::Struct(s) => self.walk_fields(&s.body.fields, r),
            DefKind::Enum(_) => unreachable!("packets and structs only"),
        }
    }

    fn walk_fields(&self, fields: &[ast::Field], r: &mut Cursor<'_>) -> Walk<Vec<Node>> {
        let mut out = Vec::new();
        for f in fields {
            match self.walk(&f.name.name, &f.ty, r) {
                Ok(n) => out.push(n),
                Err((partial, e)) => {
                    out.extend(partial);
                    return Err((out, e));
                }
            }
        }
        Ok(out)
    }

    fn walk_tuple(&self, tys: &[Type], r: &mut Cursor<'_>) -> Walk<Vec<Node>> {
        let mut out = Vec::new();
        for (i, ty) in tys.iter().enumerate() {
            match self.walk(&i.to_string(), ty, r) {
                Ok(n) => out.push(n),
                Err((partial, e)) => {
                    out.extend(partial);
                    return Err((out, e));
                }
            }
        }
        Ok(out)
    }

    /// One value of type `ty`, labelled `label`. On failure, the nodes
    /// decoded so far (a partial node for a compound value) and the error.
    fn walk(&self, label: &str, ty: &Type, r: &mut Cursor<'_>) -> Walk<Node> {
        let start = r.pos;
        let node = |r: &Cursor<'_>, value: String, children: Vec<Node>| Node {
            label: label.to_string(),
            value,
            range: r.abs(start)..r.abs(r.pos),
            children,
        };
        let partial = |r: &Cursor<'_>, value: String, children: Vec<Node>, e: BodyError| {
            (
                vec![Node {
                    label: label.to_string(),
                    value,
                    range: r.abs(start)..r.abs(r.pos),
                    children,
                }],
                e,
            )
        };
        match &ty.kind {
            TypeKind::Prim(p) => {
                let v = r.take(p.size() as usize).map_err(|e| (vec![], e))?;
                let value = prim_value(*p, v).map_err(|rule| {
                    (
                        vec![],
                        BodyError {
                            rule,
                            range: r.abs(start)..r.abs(r.pos),
                        },
                    )
                })?;
                Ok(node(r, value, vec![]))
            }
            TypeKind::String(o) | TypeKind::Bytes(o) => {
                let len = r.prefix(o).map_err(|e| (vec![], e))?;
                let at = r.pos;
                let v = r.take(len).map_err(|e| (vec![], e))?;
                if matches!(ty.kind, TypeKind::Bytes(_)) {
                    return Ok(node(r, bytes_value(v), vec![]));
                }
                match std::str::from_utf8(v) {
                    Ok(s) => Ok(node(r, quote(s), vec![])),
                    Err(e) => Err((
                        vec![],
                        BodyError {
                            rule: format!(
                                "body: InvalidUtf8 {{ valid_up_to: {} }}",
                                e.valid_up_to()
                            ),
                            range: r.abs(at)..r.abs(r.pos),
                        },
                    )),
                }
            }
            TypeKind::List(inner, o) => {
                let n = r.prefix(o).map_err(|e| (vec![], e))?;
                let remaining = r.bytes.len() - r.pos;
                if n > remaining {
                    return Err((
                        vec![],
                        BodyError {
                            rule: format!(
                                "body: UnexpectedEnd {{ needed: {n}, remaining: {remaining} }}"
                            ),
                            range: r.abs(start)..r.abs(r.bytes.len()),
                        },
                    ));
                }
                r.enter().map_err(|e| (vec![], e))?;
                let items = self.walk_items(inner, n, r);
                r.depth -= 1;
                let value = count(n, "item");
                match items {
                    Ok(children) => Ok(node(r, value, children)),
                    Err((children, e)) => Err(partial(r, value, children, e)),
                }
            }
            TypeKind::Array(inner, n) => {
                let n = usize::try_from(n.value).unwrap_or(0);
                let value = count(n, "item");
                match self.walk_items(inner, n, r) {
                    Ok(children) => Ok(node(r, value, children)),
                    Err((children, e)) => Err(partial(r, value, children, e)),
                }
            }
            TypeKind::Option(inner) => {
                let tag = r.take(1).map_err(|e| (vec![], e))?[0];
                match tag {
                    0 => Ok(node(r, "none".into(), vec![])),
                    1 => match self.walk("some", inner, r) {
                        Ok(c) => Ok(node(r, "some".into(), vec![c])),
                        Err((c, e)) => Err(partial(r, "some".into(), c, e)),
                    },
                    t => Err((
                        vec![],
                        BodyError {
                            rule: format!("body: InvalidOptionTag({t})"),
                            range: r.abs(start)..r.abs(start + 1),
                        },
                    )),
                }
            }
            TypeKind::Box(inner) => {
                r.enter().map_err(|e| (vec![], e))?;
                let v = self.walk(label, inner, r);
                r.depth -= 1;
                v
            }
            TypeKind::Named(path) => {
                let t = self.schema.resolve(path).expect("a checked schema");
                let def = &self.schema.types[t];
                match &def.kind {
                    DefKind::Enum(e) => self.walk_enum(label, t, e, r),
                    _ => match self.walk_def(t, r) {
                        Ok(c) => Ok(node(r, def.name().to_string(), c)),
                        Err((c, e)) => Err(partial(r, def.name().to_string(), c, e)),
                    },
                }
            }
        }
    }

    fn walk_items(&self, inner: &Type, n: usize, r: &mut Cursor<'_>) -> Walk<Vec<Node>> {
        let mut out = Vec::new();
        for i in 0..n {
            match self.walk(&format!("[{i}]"), inner, r) {
                Ok(c) => out.push(c),
                Err((c, e)) => {
                    out.extend(c);
                    return Err((out, e));
                }
            }
        }
        Ok(out)
    }

    fn walk_enum(&self, label: &str, t: TypeId, e: &ast::Enum, r: &mut Cursor<'_>) -> Walk<Node> {
        let start = r.pos;
        let repr = e.repr.as_ref().map_or(Prim::U8, |p| p.value);
        let raw = r.take(repr.size() as usize).map_err(|e| (vec![], e))?;
        let tag = raw
            .iter()
            .rev()
            .fold(0u64, |acc, b| acc << 8 | u64::from(*b));
        let Some(v) = variant_tags(e)
            .find(|(_, t)| *t == i128::from(tag))
            .map(|(v, _)| v)
        else {
            return Err((
                vec![],
                BodyError {
                    rule: format!(
                        "body: UnknownDiscriminant {{ value: {tag}, type_name: {:?} }}",
                        self.schema.types[t].name()
                    ),
                    range: r.abs(start)..r.abs(r.pos),
                },
            ));
        };
        let value = format!("{} ({tag})", v.name.name);
        let fields = match &v.kind {
            VariantKind::Unit => Ok(Vec::new()),
            VariantKind::Tuple(tys) => self.walk_tuple(tys, r),
            VariantKind::Struct(f) => self.walk_fields(&f.fields, r),
        };
        let mk = |r: &Cursor<'_>, children| Node {
            label: label.to_string(),
            value: value.clone(),
            range: r.abs(start)..r.abs(r.pos),
            children,
        };
        match fields {
            Ok(c) => Ok(mk(r, c)),
            Err((c, e)) => Err((vec![mk(r, c)], e)),
        }
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: usize,
    depth: u32,
}

impl<'a> Cursor<'a> {
    fn abs(&self, rel: usize) -> usize {
        self.base + rel
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], BodyError> {
        let remaining = self.bytes.len() - self.pos;
        if n > remaining {
            return Err(BodyError {
                rule: format!("body: UnexpectedEnd {{ needed: {n}, remaining: {remaining} }}"),
                range: self.abs(self.pos)..self.abs(self.bytes.len()),
            });
        }
        let v = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(v)
    }

    /// A length prefix, checked against `max` before anything is read for
    /// the items (wire-format §3).
    fn prefix(&mut self, o: &SeqOpts) -> Result<usize, BodyError> {
        let width = o.len.as_ref().map_or(LenWidth::U16, |l| l.value);
        let start = self.pos;
        let raw = self.take(width.size() as usize)?;
        let len = raw
            .iter()
            .rev()
            .fold(0usize, |acc, b| acc << 8 | usize::from(*b));
        if let Some(max) = &o.max {
            let max = usize::try_from(max.value).unwrap_or(usize::MAX);
            if len > max {
                return Err(BodyError {
                    rule: format!("body: LengthOverMax {{ len: {len}, max: {max} }}"),
                    range: self.abs(start)..self.abs(self.pos),
                });
            }
        }
        Ok(len)
    }

    fn enter(&mut self) -> Result<(), BodyError> {
        if self.depth >= MAX_DEPTH {
            return Err(BodyError {
                rule: format!("body: TooDeep {{ max: {MAX_DEPTH} }}"),
                range: self.abs(self.pos)..self.abs(self.pos),
            });
        }
        self.depth += 1;
        Ok(())
    }
}

/// The body of a session frame of type 0xFFFF (wire format §7.3, §11.5,
/// §12), by its length: the version-1 hello (16: token), the hello with a
/// fingerprint (24: token, u64 LE; a zero token is a plaintext
/// session's), the refusal (8: the server's fingerprint), the close
/// notice (4: reason and detail, u16 LE each). `None` for any other
/// frame.
fn session_frame(type_id: u16, body: &[u8], at: usize) -> Option<Node> {
    if type_id != 0xFFFF {
        return None;
    }
    let token = |t: &[u8]| {
        let hex: String = t.iter().map(|b| format!("{b:02x}")).collect();
        Node::leaf("token", hex, at..at + 16)
    };
    let fingerprint = |label: &str, b: &[u8], from: usize| {
        let v = u64::from_le_bytes(b.try_into().expect("8 bytes"));
        Node::leaf(label, format!("0x{v:016x}"), at + from..at + from + 8)
    };
    let (value, children) = match body.len() {
        16 => ("session hello (version 1)", vec![token(body)]),
        24 if body[..16].iter().all(|&b| b == 0) => (
            "plaintext session hello",
            vec![
                token(&body[..16]),
                fingerprint("fingerprint", &body[16..], 16),
            ],
        ),
        24 => (
            "session hello",
            vec![
                token(&body[..16]),
                fingerprint("fingerprint", &body[16..], 16),
            ],
        ),
        8 => ("refusal", vec![fingerprint("server fingerprint", body, 0)]),
        4 => {
            let reason = u16::from_le_bytes([body[0], body[1]]);
            let detail = u16::from_le_bytes([body[2], body[3]]);
            let shown = format!("{reason} ({})", close_reason(reason));
            (
                "close notice",
                vec![
                    Node::leaf("reason", shown, at..at + 2),
                    Node::leaf("detail", detail.to_string(), at + 2..at + 4),
                ],
            )
        }
        _ => return None,
    };
    let mut node = Node::leaf("body", value, at..at + body.len());
    node.children = children;
    Some(node)
}

/// A close notice's reason code as wire format §12 names it.
fn close_reason(code: u16) -> String {
    match code {
        1 => "server full".into(),
        2 => "server shutting down".into(),
        3 => "idle timeout".into(),
        4 => "protocol error".into(),
        5 => "server error".into(),
        6 => "closed by the application".into(),
        other => format!("other({other})"),
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// The header fields present in `bytes` (all five once 20 bytes are).
fn header_nodes(bytes: &[u8], start: usize) -> Vec<Node> {
    let mut out = Vec::new();
    let mut field = |at: usize, len: usize, label: &str, value: &dyn Fn(&[u8]) -> String| {
        if let Some(s) = bytes.get(at..at + len) {
            out.push(Node::leaf(label, value(s), start + at..start + at + len));
        }
    };
    let le = |s: &[u8]| s.iter().rev().fold(0u64, |acc, b| acc << 8 | u64::from(*b));
    field(0, 4, "length", &|s| le(s).to_string());
    field(4, 1, "version", &|s| s[0].to_string());
    field(5, 1, "flags", &|s| {
        let sealed = if s[0] & 1 == 1 { " (sealed)" } else { "" };
        format!("0x{:02x}{sealed}", s[0])
    });
    field(6, 2, "type_id", &|s| format!("0x{:04x}", le(s)));
    field(8, 4, "body_len", &|s| le(s).to_string());
    field(12, 8, "sequence", &|s| le(s).to_string());
    out
}

/// The §4 rule number of an envelope error, and the bytes it is about
/// (relative to the frame).
fn rule_of(e: &FrameError, bytes: &[u8]) -> (u32, Range<usize>) {
    let n = bytes.len();
    let length = u32_at(bytes, 0) as usize;
    let body_len = u32_at(bytes, 8) as usize;
    match *e {
        FrameError::Truncated { needed: 4, .. } => (1, 0..n),
        FrameError::LengthTooSmall { min, .. } if min > frame::MIN_FRAME_LEN => (10, 0..4),
        FrameError::LengthTooSmall { .. } => (2, 0..4),
        FrameError::LengthTooLarge { .. } => (3, 0..4),
        FrameError::Misaligned { .. } => (4, 0..4),
        FrameError::Truncated { .. } => (5, 0..n),
        FrameError::TrailingBytes { .. } => (6, length.min(n)..n),
        FrameError::BadVersion { .. } => (7, 4..5),
        FrameError::ReservedFlags { .. } | FrameError::UnexpectedEncryption { .. } => {
            let rule = if matches!(e, FrameError::ReservedFlags { .. }) {
                8
            } else {
                9
            };
            (rule, 5..6)
        }
        FrameError::BodyLengthMismatch { .. } => (10, 8..12),
        FrameError::BadEnding { .. } => (11, n.saturating_sub(4)..n),
        FrameError::CrcMismatch { .. } => {
            let at = frame::HEADER_LEN + frame::padded_len(body_len);
            (12, at..at + 4)
        }
        FrameError::NonZeroPadding { offset, .. } => (13, offset..offset + 1),
        _ => (0, 0..n),
    }
}

/// A scalar's value in the module's notation, or the decode error.
fn prim_value(p: Prim, v: &[u8]) -> Result<String, String> {
    let le = |v: &[u8]| {
        v.iter()
            .rev()
            .fold(0u128, |acc, b| acc << 8 | u128::from(*b))
    };
    let signed = |v: &[u8]| {
        let bits = v.len() * 8;
        let u = le(v);
        if bits < 128 && u >> (bits - 1) & 1 == 1 {
            (u as i128) - (1i128 << bits)
        } else {
            u as i128
        }
    };
    Ok(match p {
        Prim::U8 | Prim::U16 | Prim::U32 | Prim::U64 | Prim::U128 => le(v).to_string(),
        Prim::I8 | Prim::I16 | Prim::I32 | Prim::I64 | Prim::I128 => signed(v).to_string(),
        Prim::F32 => {
            let bits = le(v) as u32;
            format!("{:?} (bits 0x{bits:08x})", f32::from_bits(bits))
        }
        Prim::F64 => {
            let bits = le(v) as u64;
            format!("{:?} (bits 0x{bits:016x})", f64::from_bits(bits))
        }
        Prim::Bool => match v[0] {
            0 => "false".into(),
            1 => "true".into(),
            b => return Err(format!("body: InvalidBool({b})")),
        },
        Prim::Char => {
            let u = le(v) as u32;
            match char::from_u32(u) {
                Some(c) if !c.is_control() => format!("'{c}' (U+{u:04X})"),
                Some(_) => format!("U+{u:04X}"),
                None => return Err(format!("body: InvalidChar({u})")),
            }
        }
    })
}

/// A string quoted: `"`, `\` and control characters escaped (`\xNN`).
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `1 item`, `2 items`.
fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// `N bytes: hex` (the first 64 bytes, then `...`).
fn bytes_value(v: &[u8]) -> String {
    let hex: String = v.iter().take(64).map(|b| format!("{b:02x}")).collect();
    let more = if v.len() > 64 { "..." } else { "" };
    format!("{}: {hex}{more}", count(v.len(), "byte"))
}

/// Renders reports for a terminal: per frame a summary, then every node
/// with its byte range, indented by depth; for a bad frame the rule it
/// breaks and a hex dump of its bytes with carets under the offending
/// ones.
pub fn render(input: &[u8], reports: &[FrameReport]) -> String {
    let mut out = String::new();
    for (i, r) in reports.iter().enumerate() {
        out.push_str(&format!(
            "frame {i} [{}..{}): {}\n",
            r.range.start, r.range.end, r.summary
        ));
        fn range(n: &Node) -> String {
            format!("[{}..{})", n.range.start, n.range.end)
        }
        // The column fits the frame's widest range and a space: deep in
        // a long input `[3199992..3199996)` ran into its label.
        fn widest(n: &Node) -> usize {
            n.children
                .iter()
                .map(widest)
                .fold(range(n).len(), usize::max)
        }
        fn walk(out: &mut String, n: &Node, depth: usize, width: usize) {
            out.push_str(&format!(
                "  {:<width$}{}{}\n",
                range(n),
                "  ".repeat(depth),
                n.text()
            ));
            for c in &n.children {
                walk(out, c, depth + 1, width);
            }
        }
        let width = r.nodes.iter().map(|n| widest(n) + 1).fold(12, usize::max);
        for n in &r.nodes {
            walk(&mut out, n, 0, width);
        }
        if let Some(p) = &r.problem {
            out.push_str(&format!("  error: {}\n", p.rule));
            out.push_str(&caret_dump(input, r.range.clone(), p.range.clone()));
        }
    }
    out
}

/// A hex dump of `frame` (16 bytes a line, offsets into the input), with
/// a line of carets under the bytes of `bad` (one caret under an empty
/// range's position).
fn caret_dump(input: &[u8], frame: Range<usize>, bad: Range<usize>) -> String {
    let mut out = String::new();
    let bad = if bad.is_empty() {
        bad.start..bad.start + 1
    } else {
        bad
    };
    let end = frame.end.max(bad.end.min(frame.end + 1));
    let mut line = frame.start;
    while line < end {
        let stop = (line + 16).min(end);
        let mut hex = String::new();
        let mut marks = String::new();
        for at in line..stop {
            let cell = input
                .get(at)
                .map_or("  ".to_string(), |b| format!("{b:02x}"));
            hex.push_str(&cell);
            hex.push(' ');
            marks.push_str(if bad.contains(&at) { "^^ " } else { "   " });
        }
        out.push_str(&format!("    {line:06x}  {}\n", hex.trim_end()));
        if marks.contains('^') {
            out.push_str(&format!("            {}\n", marks.trim_end()));
        }
        line = stop;
    }
    out
}

/// The input as text, if it is text: valid UTF-8 without control
/// characters other than whitespace. `inspect` reads such an input as a
/// hex dump ([`parse_hex`]), anything else as raw bytes. Raw frames are
/// never text: every frame's version byte is 1 (a control character), and
/// its length's high bytes are 0 below 16 MiB.
pub fn as_text(input: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(input).ok()?;
    text.chars()
        .all(|c| !c.is_control() || c.is_whitespace())
        .then_some(text)
}

/// Where and why a hex dump does not read as one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HexError {
    /// The line, from 1.
    pub line: usize,
    /// The column in characters, from 1.
    pub column: usize,
    /// The byte offset in the input, from 0.
    pub offset: usize,
    /// What is wrong there.
    pub problem: String,
}

impl std::fmt::Display for HexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {} (byte {}): {}",
            self.line, self.column, self.offset, self.problem
        )
    }
}

impl std::error::Error for HexError {}

/// Reads a hex dump: pairs of hex digits (a pair may straddle whitespace
/// but not a line), ignoring whitespace, `#` comment lines (the vector
/// files' metadata) and a `0x` / `0X` in front of a word. One datagram per
/// non-empty line when `per_line`, else one stream. Anything else is an
/// error at the offending character: a character that is not a hex digit,
/// or a line with an odd number of digits (at its last, unpaired one).
pub fn parse_hex(text: &str, per_line: bool) -> Result<Vec<Vec<u8>>, HexError> {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    let mut current = Vec::new();
    let mut line_start = 0;
    for (n, with_end) in text.split_inclusive('\n').enumerate() {
        let start = line_start;
        line_start += with_end.len();
        let line = with_end.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let error = |at: usize, problem: String| HexError {
            line: n + 1,
            column: line[..at].chars().count() + 1,
            offset: start + at,
            problem,
        };
        // The first digit of a pair and where it is.
        let mut high: Option<(u8, usize)> = None;
        let mut at = 0;
        while at < line.len() {
            let rest = &line[at..];
            let word = rest.find(char::is_whitespace).unwrap_or(rest.len());
            if word == 0 {
                at += rest.chars().next().map_or(1, char::len_utf8);
                continue;
            }
            let digits_from = if rest.starts_with("0x") || rest.starts_with("0X") {
                2
            } else {
                0
            };
            for (i, c) in rest[digits_from..word].char_indices() {
                let here = at + digits_from + i;
                let Some(d) = c.to_digit(16) else {
                    return Err(error(
                        here,
                        format!("`{}` is not a hex digit", c.escape_debug()),
                    ));
                };
                match high.take() {
                    None => high = Some((d as u8, here)),
                    Some((h, _)) => current.push(h << 4 | d as u8),
                }
            }
            at += word;
        }
        if let Some((_, here)) = high {
            return Err(error(
                here,
                "an odd number of hex digits on the line: this last one has no pair".to_string(),
            ));
        }
        if per_line {
            chunks.push(std::mem::take(&mut current));
        }
    }
    if !per_line {
        chunks.push(current);
    }
    Ok(chunks)
}

#[cfg(test)]
mod hex_tests {
    use super::*;

    #[test]
    fn hex_dumps_read_with_comments_prefixes_and_split_pairs() {
        let text = "# a comment\n0x1c 00 0000\n\n  0X01 0 0\r\n";
        assert_eq!(parse_hex(text, false).unwrap(), [vec![0x1c, 0, 0, 0, 1, 0]]);
        assert_eq!(
            parse_hex(text, true).unwrap(),
            [vec![0x1c, 0, 0, 0], vec![1, 0]]
        );
        assert_eq!(parse_hex("", false).unwrap(), [Vec::<u8>::new()]);
    }

    #[test]
    fn malformed_hex_says_where() {
        let e = parse_hex("# header\n1c00 00\n01 0g 00\n", false).unwrap_err();
        assert_eq!(
            (e.line, e.column, e.offset),
            (3, 5, 21),
            "the `g` of line 3: {e}"
        );
        assert_eq!(
            e.to_string(),
            "line 3, column 5 (byte 21): `g` is not a hex digit"
        );
        let e = parse_hex("1c 00 0\n", false).unwrap_err();
        assert_eq!((e.line, e.column, e.offset), (1, 7, 6), "{e}");
        assert!(e.problem.contains("odd number of hex digits"), "{e}");
        // Columns count characters, offsets bytes.
        let e = parse_hex("é 00", false).unwrap_err();
        assert_eq!((e.column, e.offset), (1, 0), "{e}");
        let e = parse_hex("00 ✓ 00", false).unwrap_err();
        assert_eq!((e.column, e.offset), (4, 3), "{e}");
        // A pair does not straddle lines.
        assert!(parse_hex("1\nc\n", false).is_err());
    }

    #[test]
    fn frames_are_never_text() {
        // The smallest frame: a version byte of 1 and zero length bytes.
        let frame = [
            0x1c, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xa4, 0x7d, 0x42, 0x0f,
            b'P', b'K', b'\r', b'\n',
        ];
        assert_eq!(as_text(&frame), None);
        assert_eq!(as_text(b"1c 00\r\n\t01"), Some("1c 00\r\n\t01"));
        assert_eq!(as_text(b"\xff\xfe"), None);
    }
}

/// The close reasons' names are written three times, in three places that
/// cannot share code: `close_reason` here, the Wireshark dissector's
/// `CLOSE_REASONS` (Lua) and packet-net's `CloseReason` `Display` (which
/// packet-net's `close_notice` test compares with the same Lua table).
#[cfg(test)]
mod close_reason_tests {
    use super::*;

    /// The dissector's `CLOSE_REASONS` table: `[code] = "name"` pairs.
    fn lua_close_reasons() -> Vec<(u16, String)> {
        let lua = include_str!("dissector/runtime.lua");
        let start = lua
            .find("local CLOSE_REASONS = {")
            .expect("runtime.lua declares CLOSE_REASONS");
        let table = &lua[start..];
        let table = &table[table.find('{').unwrap() + 1..table.find('}').unwrap()];
        table
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                let (code, name) = entry
                    .split_once('=')
                    .unwrap_or_else(|| panic!("`[code] = \"name\"`, found {entry:?}"));
                let code = code.trim().trim_start_matches('[').trim_end_matches(']');
                let name = name
                    .trim()
                    .strip_prefix('"')
                    .and_then(|n| n.strip_suffix('"'));
                (
                    code.parse()
                        .unwrap_or_else(|_| panic!("a code, found {code:?}")),
                    name.unwrap_or_else(|| panic!("a quoted name in {entry:?}"))
                        .to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn inspect_and_the_dissector_name_close_reasons_alike() {
        let lua = lua_close_reasons();
        let codes: Vec<u16> = lua.iter().map(|(code, _)| *code).collect();
        assert_eq!(
            codes,
            [1, 2, 3, 4, 5, 6],
            "wire format §12's reasons, in order"
        );
        for (code, name) in &lua {
            assert_eq!(&close_reason(*code), name, "reason {code}");
        }
        // A code neither knows reads the same in both.
        assert_eq!(close_reason(7), "other(7)");
        assert!(
            include_str!("dissector/runtime.lua")
                .contains(r#"CLOSE_REASONS[reason] or string.format("other(%d)", reason)"#)
        );
    }
}
