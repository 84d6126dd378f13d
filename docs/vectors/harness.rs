// The Rust side of the vector files: reading them (README.md, "File
// format") and writing values and errors in their notation (README.md,
// "Value notation"). Shared by the two Rust tests that check the vectors,
// `packet-core/tests/it/vectors.rs` (hand-written packet types) and
// `examples/schema-demo/tests/it/vectors.rs` (the types generated from
// `vectors.packet`), each of which includes this file with `include!`, so
// both compare their values with the same text gen.py wrote.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use packet_core::error::{DecodeError, FrameError};

/// One `.hex` vector file.
#[derive(Debug, Default)]
pub struct Vector {
    pub path: PathBuf,
    pub description: Option<String>,
    pub type_id: Option<u16>,
    pub sequence: Option<u64>,
    pub body: Option<Vec<u8>>,
    pub packet: Option<String>,
    pub value: Option<String>,
    pub expect: Option<String>,
    pub mode: Option<String>,
    pub max_frame_len: Option<u32>,
    /// `hello`, `refusal` (wire-format 7.3, 11.5) or `notice` (§12),
    /// with its `token` (hello), `fingerprint` (a hello that carries one,
    /// a refusal), `reason` and `detail` (a close notice).
    pub session: Option<String>,
    pub token: Option<Vec<u8>>,
    pub fingerprint: Option<u64>,
    pub reason: Option<u16>,
    pub detail: Option<u16>,
    pub bytes: Vec<u8>,
}

impl Vector {
    pub fn name(&self) -> String {
        self.path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    pub fn config(&self) -> packet_core::frame::FrameConfig {
        match self.max_frame_len {
            Some(max) => packet_core::frame::FrameConfig::default().with_max_frame_len(max),
            None => packet_core::frame::FrameConfig::default(),
        }
    }
}

pub fn unhex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(digits.len().is_multiple_of(2), "odd number of hex digits");
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).expect("hex digit"))
        .collect()
}

pub fn parse_number<T: TryFrom<u64>>(text: &str) -> T
where
    T::Error: std::fmt::Debug,
{
    let n = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    }
    .expect("a number");
    T::try_from(n).expect("in range")
}

pub fn parse_vector(path: &Path) -> Vector {
    let text = std::fs::read_to_string(path).unwrap();
    let mut v = Vector {
        path: path.to_owned(),
        ..Vector::default()
    };
    let mut hex = String::new();
    for line in text.lines() {
        let Some(comment) = line.strip_prefix('#') else {
            hex.push_str(line);
            hex.push(' ');
            continue;
        };
        let Some((key, value)) = comment.trim().split_once(':') else {
            continue; // free text
        };
        let value = value.trim();
        match key.trim() {
            "description" => v.description = Some(value.to_owned()),
            "note" => {}
            "type_id" => v.type_id = Some(parse_number(value)),
            "sequence" => v.sequence = Some(parse_number(value)),
            "body" => v.body = Some(unhex(value)),
            "packet" => v.packet = Some(value.to_owned()),
            "value" => v.value = Some(value.to_owned()),
            "expect" => v.expect = Some(value.to_owned()),
            "mode" => v.mode = Some(value.to_owned()),
            "max_frame_len" => v.max_frame_len = Some(parse_number(value)),
            "session" => v.session = Some(value.to_owned()),
            "token" => v.token = Some(unhex(value)),
            "fingerprint" => v.fingerprint = Some(parse_number(value)),
            "reason" => v.reason = Some(parse_number(value)),
            "detail" => v.detail = Some(parse_number(value)),
            other => panic!("{}: unknown key {other:?}", path.display()),
        }
    }
    v.bytes = unhex(&hex);
    assert!(
        v.description.is_some(),
        "{}: no description",
        path.display()
    );
    v
}

/// The vectors directory (`docs/vectors`), from a crate `depth` levels
/// below the workspace root.
pub fn vectors_dir(manifest_dir: &str, depth: usize) -> PathBuf {
    let mut dir = PathBuf::from(manifest_dir);
    for _ in 0..depth {
        dir.push("..");
    }
    dir.join("docs/vectors")
}

/// Every `*.ext` file of `dir`, sorted by name.
pub fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    paths.sort();
    paths
}

/// Every vector of `valid/` or `invalid/`.
pub fn read_vectors(vectors_dir: &Path, kind: &str) -> Vec<Vector> {
    files(&vectors_dir.join(kind), "hex")
        .iter()
        .map(|p| parse_vector(p))
        .collect()
}

// ------------------------------------------------------ value notation

/// A value written in the vectors' notation: JSON as Python's
/// `json.dumps(value, ensure_ascii=False)` writes it.
pub trait Show {
    fn show(&self, out: &mut String);
}

/// The notation of `value`.
pub fn notation(value: &dyn Show) -> String {
    let mut out = String::new();
    value.show(&mut out);
    out
}

macro_rules! show_integers {
    ($($t:ty),*) => {$(
        impl Show for $t {
            fn show(&self, out: &mut String) {
                write!(out, "{self}").unwrap();
            }
        }
    )*};
}
show_integers!(u8, u16, u32, u64, u128, i8, i16, i32, i64, i128, usize);

impl Show for f32 {
    fn show(&self, out: &mut String) {
        write!(out, "\"0x{:08x}\"", self.to_bits()).unwrap();
    }
}

impl Show for f64 {
    fn show(&self, out: &mut String) {
        write!(out, "\"0x{:016x}\"", self.to_bits()).unwrap();
    }
}

impl Show for bool {
    fn show(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

/// A JSON string, escaped as Python's `json.dumps(.., ensure_ascii=False)`.
fn show_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32).unwrap(),
            c => out.push(c),
        }
    }
    out.push('"');
}

impl Show for char {
    fn show(&self, out: &mut String) {
        show_string(self.encode_utf8(&mut [0; 4]), out);
    }
}

impl Show for str {
    fn show(&self, out: &mut String) {
        show_string(self, out);
    }
}

impl Show for String {
    fn show(&self, out: &mut String) {
        show_string(self, out);
    }
}

impl<T: Show + ?Sized> Show for &T {
    fn show(&self, out: &mut String) {
        (**self).show(out);
    }
}

impl<T: Show + ?Sized> Show for Box<T> {
    fn show(&self, out: &mut String) {
        (**self).show(out);
    }
}

/// `null`, or `{"some": value}`.
impl<T: Show> Show for Option<T> {
    fn show(&self, out: &mut String) {
        match self {
            None => out.push_str("null"),
            Some(value) => Object(&[("some", value)]).show(out),
        }
    }
}

/// A list or an array (of anything but `u8`: see [`Hex`]).
impl<T: Show> Show for [T] {
    fn show(&self, out: &mut String) {
        out.push('[');
        for (i, item) in self.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            item.show(out);
        }
        out.push(']');
    }
}

impl<T: Show> Show for Vec<T> {
    fn show(&self, out: &mut String) {
        self.as_slice().show(out);
    }
}

impl<T: Show, const N: usize> Show for [T; N] {
    fn show(&self, out: &mut String) {
        self.as_slice().show(out);
    }
}

/// A byte string or a `u8` array: lowercase hex digits in a string.
pub struct Hex<'a>(pub &'a [u8]);

impl Show for Hex<'_> {
    fn show(&self, out: &mut String) {
        out.push('"');
        for byte in self.0 {
            write!(out, "{byte:02x}").unwrap();
        }
        out.push('"');
    }
}

/// A struct (or a variant's named fields): `{"name": value, ...}` in
/// declaration order.
pub struct Object<'a>(pub &'a [(&'a str, &'a dyn Show)]);

impl Show for Object<'_> {
    fn show(&self, out: &mut String) {
        out.push('{');
        for (i, (name, value)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            show_string(name, out);
            out.push_str(": ");
            value.show(out);
        }
        out.push('}');
    }
}

/// An enum variant: `"Name"` without fields, `{"Name": {fields}}` with
/// named fields, `{"Name": [fields]}` with positional ones.
pub enum Variant<'a> {
    Unit(&'a str),
    Named(&'a str, &'a [(&'a str, &'a dyn Show)]),
    Positional(&'a str, &'a [&'a dyn Show]),
}

impl Show for Variant<'_> {
    fn show(&self, out: &mut String) {
        match self {
            Variant::Unit(name) => show_string(name, out),
            Variant::Named(name, fields) => Object(&[(name, &Object(fields))]).show(out),
            Variant::Positional(name, fields) => Object(&[(name, &Positional(fields))]).show(out),
        }
    }
}

struct Positional<'a>(&'a [&'a dyn Show]);

impl Show for Positional<'_> {
    fn show(&self, out: &mut String) {
        self.0.show(out);
    }
}

// ------------------------------------------------------ error notation

/// `family.Variant {fields}`, the notation of an expected error.
pub fn error_notation(family: &str, variant: &str, fields: &[(&str, &dyn Show)]) -> String {
    format!("{family}.{variant} {}", notation(&Object(fields)))
}

/// A frame (envelope) error, family `frame` (wire-format §4).
pub fn frame_error(e: &FrameError) -> String {
    let f = |variant, fields: &[(&str, &dyn Show)]| error_notation("frame", variant, fields);
    match e {
        FrameError::Truncated { available, needed } => {
            f("Truncated", &[("available", available), ("needed", needed)])
        }
        FrameError::LengthTooSmall { length, min } => {
            f("LengthTooSmall", &[("length", length), ("min", min)])
        }
        FrameError::LengthTooLarge { length, max } => {
            f("LengthTooLarge", &[("length", length), ("max", max)])
        }
        FrameError::Misaligned { length } => f("Misaligned", &[("length", length)]),
        FrameError::TrailingBytes { length, extra } => {
            f("TrailingBytes", &[("length", length), ("extra", extra)])
        }
        FrameError::BadVersion { found, expected } => {
            f("BadVersion", &[("found", found), ("expected", expected)])
        }
        FrameError::ReservedFlags { flags } => f("ReservedFlags", &[("flags", flags)]),
        FrameError::UnexpectedEncryption { sealed } => {
            f("UnexpectedEncryption", &[("sealed", sealed)])
        }
        FrameError::BodyLengthMismatch { body_len, length } => f(
            "BodyLengthMismatch",
            &[("body_len", body_len), ("length", length)],
        ),
        FrameError::BadEnding { found } => f("BadEnding", &[("found", &Hex(found))]),
        FrameError::CrcMismatch { expected, computed } => f(
            "CrcMismatch",
            &[("expected", expected), ("computed", computed)],
        ),
        FrameError::NonZeroPadding { offset, value } => {
            f("NonZeroPadding", &[("offset", offset), ("value", value)])
        }
        FrameError::UnexpectedEof { buffered } => f("UnexpectedEof", &[("buffered", buffered)]),
        other => panic!("no notation for {other:?}"),
    }
}

/// A body error, family `body` (wire-format §3).
pub fn body_error(e: &DecodeError) -> String {
    let f = |variant, fields: &[(&str, &dyn Show)]| error_notation("body", variant, fields);
    match e {
        DecodeError::UnexpectedEnd { needed, remaining } => f(
            "UnexpectedEnd",
            &[("needed", needed), ("remaining", remaining)],
        ),
        DecodeError::TrailingBytes { extra } => f("TrailingBytes", &[("extra", extra)]),
        DecodeError::InvalidBool(byte) => f("InvalidBool", &[("byte", byte)]),
        DecodeError::InvalidChar(value) => f("InvalidChar", &[("value", value)]),
        DecodeError::InvalidUtf8 { valid_up_to } => {
            f("InvalidUtf8", &[("valid_up_to", valid_up_to)])
        }
        DecodeError::InvalidOptionTag(tag) => f("InvalidOptionTag", &[("tag", tag)]),
        DecodeError::LengthOverMax { len, max } => {
            f("LengthOverMax", &[("len", len), ("max", max)])
        }
        DecodeError::UnknownDiscriminant { value, type_name } => f(
            "UnknownDiscriminant",
            &[("value", value), ("type_name", type_name)],
        ),
        DecodeError::WrongPacketId { expected, found } => {
            f("WrongPacketId", &[("expected", expected), ("found", found)])
        }
        DecodeError::UnknownPacketId { id } => f("UnknownPacketId", &[("id", id)]),
        DecodeError::TooDeep { max } => f("TooDeep", &[("max", max)]),
        other => panic!("no notation for {other:?}"),
    }
}

/// Any decoding error of a vector: `frame.*` or `body.*`.
pub fn any_error(e: &packet_core::Error) -> String {
    match e {
        packet_core::Error::Frame(e) => frame_error(e),
        packet_core::Error::Decode(e) => body_error(e),
        other => panic!("not a decoding error: {other:?}"),
    }
}
