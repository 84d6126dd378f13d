//! The syntax tree of one schema file, exactly as written: every node
//! carries a [`Span`], comments and doc comments are kept so that
//! [`crate::fmt`] can print the file back canonically.
//!
//! Names are not resolved here (a [`TypeKind::Named`] is just a path) and
//! nothing is checked beyond syntax: that is [`crate::validate`]'s job.
//!
//! Equality ignores spans: two trees are equal when they say the same thing,
//! wherever it was written (see [`Span`]'s `PartialEq`).

use core::hash::{Hash, Hasher};
use core::ops::Range;

/// Index of a source file in a [`crate::diagnostic::SourceMap`].
pub type FileId = usize;

/// A byte range in one source file.
///
/// Spans are metadata: `==` on a `Span` is always `true` and it hashes to
/// nothing, so the derived equality of every node compares content only
/// (formatting then re-parsing a file gives an equal tree).
#[derive(Clone, Copy, Debug, Default)]
pub struct Span {
    /// The file the range is in.
    pub file: FileId,
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span over `range` in `file`.
    pub fn new(file: FileId, range: Range<usize>) -> Self {
        Span {
            file,
            start: range.start as u32,
            end: range.end as u32,
        }
    }

    /// The smallest span covering `self` and `other` (same file).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// The byte range.
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}
impl Eq for Span {}
impl Hash for Span {
    fn hash<H: Hasher>(&self, _: &mut H) {}
}

/// A value with the span it was written at.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

/// A name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ident {
    /// The text of the name.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A dotted type path: `Vec3` or `common.math.Vec3`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Path {
    /// The names between the dots, at least one.
    pub segments: Vec<Ident>,
    /// The whole path.
    pub span: Span,
}

impl Path {
    /// The path as written, `a.b.C`.
    pub fn to_text(&self) -> String {
        let names: Vec<&str> = self.segments.iter().map(|s| s.name.as_str()).collect();
        names.join(".")
    }
}

/// An integer literal: its value and its text as written (`0x0102`,
/// `1_000`, `-3`), so formatting keeps the author's radix.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IntLit {
    /// The value.
    pub value: i128,
    /// The text as written, sign included.
    pub text: String,
    /// Where it was written.
    pub span: Span,
}

/// Comments attached in front of a node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Leading {
    /// Plain `//` comments (text after the slashes), kept by the formatter,
    /// not emitted into Rust.
    pub comments: Vec<String>,
    /// `///` doc comments (text after the slashes), emitted as Rust docs.
    pub docs: Vec<String>,
}

/// A whole schema file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct File {
    /// `//!` comments at the top of the file.
    pub docs: Vec<String>,
    /// The items in order.
    pub items: Vec<Item>,
    /// Comments after the last item.
    pub end_comments: Vec<String>,
}

/// A top-level or module-level declaration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Item {
    /// Comments and docs in front.
    pub leading: Leading,
    /// What it declares.
    pub kind: ItemKind,
    /// A `//` comment on the same line after the item's end.
    pub trailing: Option<String>,
    /// The whole item.
    pub span: Span,
}

/// The kinds of item.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// `import "path";`
    Import(Import),
    /// `module name { ... }`
    Module(Module),
    /// `packet Name = ID { ... }`
    Packet(Packet),
    /// `struct Name { ... }`
    Struct(Struct),
    /// `enum Name: repr { ... }`
    Enum(Enum),
}

impl ItemKind {
    /// The declared name (`None` for imports).
    pub fn name(&self) -> Option<&Ident> {
        match self {
            ItemKind::Import(_) => None,
            ItemKind::Module(m) => Some(&m.name),
            ItemKind::Packet(p) => Some(&p.name),
            ItemKind::Struct(s) => Some(&s.name),
            ItemKind::Enum(e) => Some(&e.name),
        }
    }
}

/// `import "path";`: brings another schema file into the compilation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Import {
    /// The path as written (relative to the importing file, or to an
    /// include directory).
    pub path: Spanned<String>,
}

/// `module name { items }`: a namespace, a Rust `pub mod`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Module {
    /// The module's name.
    pub name: Ident,
    /// The items in order.
    pub items: Vec<Item>,
    /// Comments before the closing brace.
    pub end_comments: Vec<String>,
}

/// `packet Name = ID { fields }`: a top-level packet with a type id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Packet {
    /// The packet's name.
    pub name: Ident,
    /// The packet type id (a `u16`).
    pub id: IntLit,
    /// The fields.
    pub body: Fields,
}

/// `struct Name { fields }`: a body type without an id, nested in packets.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Struct {
    /// The struct's name.
    pub name: Ident,
    /// The fields.
    pub body: Fields,
}

/// A braced list of named fields.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fields {
    /// The fields in wire order.
    pub fields: Vec<Field>,
    /// Comments before the closing brace.
    pub end_comments: Vec<String>,
    /// From `{` to `}`.
    pub span: Span,
}

/// `name: type`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Field {
    /// Comments and docs in front.
    pub leading: Leading,
    /// The field's name.
    pub name: Ident,
    /// Its type.
    pub ty: Type,
    /// A `//` comment on the same line after the field.
    pub trailing: Option<String>,
    /// From the name to the end of the type.
    pub span: Span,
}

/// `enum Name: repr { variants }`: C-like when no variant has data.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Enum {
    /// The enum's name.
    pub name: Ident,
    /// The tag's integer type (`u8` when absent).
    pub repr: Option<Spanned<Prim>>,
    /// The variants in order.
    pub variants: Vec<Variant>,
    /// Comments before the closing brace.
    pub end_comments: Vec<String>,
}

/// One enum variant: `A`, `A = 3`, `Say(string) = 2`, `Hit { dmg: u32 }`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Variant {
    /// Comments and docs in front.
    pub leading: Leading,
    /// The variant's name.
    pub name: Ident,
    /// Its data.
    pub kind: VariantKind,
    /// An explicit tag value.
    pub value: Option<IntLit>,
    /// A `//` comment on the same line after the variant.
    pub trailing: Option<String>,
    /// The whole variant.
    pub span: Span,
}

/// A variant's data.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum VariantKind {
    /// No data.
    Unit,
    /// Positional fields: `Say(string, u8)`.
    Tuple(Vec<Type>),
    /// Named fields: `Hit { dmg: u32 }`.
    Struct(Fields),
}

/// A field type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Type {
    /// What type.
    pub kind: TypeKind,
    /// Where it was written.
    pub span: Span,
}

/// The field types.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TypeKind {
    /// A fixed-size scalar.
    Prim(Prim),
    /// `string` / `string(len = u8, max = 32)`: UTF-8 behind a length prefix.
    String(SeqOpts),
    /// `bytes` / `bytes(len = u32, max = 4096)`: raw bytes behind a length prefix.
    Bytes(SeqOpts),
    /// `list<T>` / `list<T>(len = u8, max = 16)`: items behind a count prefix.
    List(Box<Type>, SeqOpts),
    /// `option<T>`: a 0/1 tag byte then `T`.
    Option(Box<Type>),
    /// `box<T>`: `T` on the wire, behind a pointer in Rust (for recursion).
    Box(Box<Type>),
    /// `[T; N]`: exactly `N` items, no prefix.
    Array(Box<Type>, IntLit),
    /// A struct, packet or enum declared in a schema.
    Named(Path),
}

/// The options of a length-prefixed type.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeqOpts {
    /// `len = u8|u16|u32`: the prefix width (`u16` when absent).
    pub len: Option<Spanned<LenWidth>>,
    /// `max = N`: the most bytes (string, bytes) or items (list).
    pub max: Option<IntLit>,
}

impl SeqOpts {
    /// Whether no option is given.
    pub fn is_empty(&self) -> bool {
        self.len.is_none() && self.max.is_none()
    }
}

/// Width of a length prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LenWidth {
    /// One byte (at most 255).
    U8,
    /// Two bytes (at most 65 535), the default.
    U16,
    /// Four bytes.
    U32,
}

impl LenWidth {
    /// Bytes of the prefix.
    pub fn size(self) -> u64 {
        match self {
            LenWidth::U8 => 1,
            LenWidth::U16 => 2,
            LenWidth::U32 => 4,
        }
    }

    /// The largest length the prefix can carry.
    pub fn max(self) -> u64 {
        match self {
            LenWidth::U8 => u8::MAX as u64,
            LenWidth::U16 => u16::MAX as u64,
            LenWidth::U32 => u32::MAX as u64,
        }
    }

    /// The keyword, `u8`.
    pub fn as_str(self) -> &'static str {
        match self {
            LenWidth::U8 => "u8",
            LenWidth::U16 => "u16",
            LenWidth::U32 => "u32",
        }
    }
}

/// The fixed-size scalar types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Prim {
    U8,
    U16,
    U32,
    U64,
    U128,
    I8,
    I16,
    I32,
    I64,
    I128,
    F32,
    F64,
    Bool,
    Char,
}

impl Prim {
    /// Every scalar, for parsing and tests.
    pub const ALL: [Prim; 14] = [
        Prim::U8,
        Prim::U16,
        Prim::U32,
        Prim::U64,
        Prim::U128,
        Prim::I8,
        Prim::I16,
        Prim::I32,
        Prim::I64,
        Prim::I128,
        Prim::F32,
        Prim::F64,
        Prim::Bool,
        Prim::Char,
    ];

    /// The keyword (also the Rust type): `u8`, `f32`, `bool`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Prim::U8 => "u8",
            Prim::U16 => "u16",
            Prim::U32 => "u32",
            Prim::U64 => "u64",
            Prim::U128 => "u128",
            Prim::I8 => "i8",
            Prim::I16 => "i16",
            Prim::I32 => "i32",
            Prim::I64 => "i64",
            Prim::I128 => "i128",
            Prim::F32 => "f32",
            Prim::F64 => "f64",
            Prim::Bool => "bool",
            Prim::Char => "char",
        }
    }

    /// The scalar named `s`.
    pub fn from_name(s: &str) -> Option<Prim> {
        Prim::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Encoded size in bytes (the codec's wire form).
    pub fn size(self) -> u64 {
        match self {
            Prim::U8 | Prim::I8 | Prim::Bool => 1,
            Prim::U16 | Prim::I16 => 2,
            Prim::U32 | Prim::I32 | Prim::F32 | Prim::Char => 4,
            Prim::U64 | Prim::I64 | Prim::F64 => 8,
            Prim::U128 | Prim::I128 => 16,
        }
    }

    /// The range of tag values, for the types usable as an enum's tag
    /// (`u8`, `u16`, `u32`: the derive's tag widths); `None` for the others.
    pub fn repr_range(self) -> Option<(i128, i128)> {
        Some(match self {
            Prim::U8 => (0, u8::MAX.into()),
            Prim::U16 => (0, u16::MAX.into()),
            Prim::U32 => (0, u32::MAX.into()),
            _ => return None,
        })
    }
}

/// Words that cannot name a type, module, field or variant: the schema's
/// keywords and built-in type names.
pub const RESERVED: &[&str] = &[
    "import", "module", "packet", "struct", "enum", "string", "bytes", "list", "option", "box",
];

/// Whether `name` is reserved in the schema language (keywords, built-in
/// type names, scalars).
pub fn is_reserved(name: &str) -> bool {
    RESERVED.contains(&name) || Prim::from_name(name).is_some()
}
