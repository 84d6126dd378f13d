//! Semantic checks and the resolved [`Schema`] that code generation reads.
//!
//! All files of a compilation (the roots and everything they import) share
//! one namespace; `module` blocks of the same name merge. This module:
//! - collects every declaration into a module tree (duplicate names are
//!   errors);
//! - resolves type paths from the innermost module outwards (unknown types
//!   are errors, with a hint when the name exists elsewhere);
//! - checks packet ids (range, duplicates), enum tags (range of the tag
//!   type, duplicates), array lengths, `max` against the prefix width, and
//!   that length options sit on a field's own type (where
//!   `#[packet(len, max_len)]` can express them);
//! - rejects recursive types without indirection (`box<T>` or `list<T>`:
//!   infinite size) and types with no finite value; recursion through
//!   indirection is allowed, and every type of such a cycle is marked
//!   [`TypeDef::recursive`] (generated with `#[packet(recursive)]`);
//! - computes each type's smallest and largest encoding from the codec's
//!   wire forms (`packet-core/src/codec.rs`) and rejects a packet whose
//!   smallest body cannot fit the largest frame, warning when its largest
//!   body may not;
//! - once everything else holds, requires every packet to have a protocol
//!   fingerprint (wire format §11.6, the derive's limits): no field inside
//!   more than 16 structs and enums (E0116), and a canonical description of
//!   all the packets of at most 128 KiB (E0117). The bytes themselves are
//!   [`crate::fingerprint`]'s; this module only turns its refusals into
//!   diagnostics.
//!
//! Syntax is [`crate::parse`]'s business, Rust text [`crate::codegen`]'s.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::ast::{self, FileId, Ident, LenWidth, Prim, SeqOpts, Span, Type, TypeKind};
use crate::diagnostic::Diagnostic;

/// Bytes of a plaintext frame that are not body: header 20, CRC 4, ending 4
/// (`docs/wire-format.md`).
pub const FRAME_OVERHEAD: u64 = 28;

/// Bytes of a sealed (encrypted) frame that are not body: header 20,
/// Poly1305 tag 16, ending 4.
pub const SEALED_FRAME_OVERHEAD: u64 = 40;

/// The default largest frame, as `packet_core::FrameConfig::DEFAULT_MAX_FRAME_LEN`.
pub const DEFAULT_MAX_FRAME_LEN: u32 = 64 * 1024;

/// The frame limit a receiver really has when configured with `len`, as
/// `packet_core::FrameConfig::with_max_frame_len` makes it: rounded down
/// to a multiple of 4, and raised to at least 40 (the smallest sealed
/// frame, `MIN_SEALED_FRAME_LEN`).
pub fn effective_max_frame_len(len: u32) -> u32 {
    (len & !3).max(SEALED_FRAME_OVERHEAD as u32)
}

/// Index of a type in [`Schema::types`].
pub type TypeId = usize;

/// Checking options.
#[derive(Clone, Debug)]
pub struct Options {
    /// The largest frame the peers accept (bytes, as in `FrameConfig`).
    pub max_frame_len: u32,
    /// Whether packets travel in sealed (encrypted) frames, whose 16-byte
    /// tag leaves 12 bytes less room for the body.
    pub sealed: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            sealed: false,
        }
    }
}

/// What a declared type is.
#[derive(Clone, Debug)]
pub enum DefKind {
    /// A packet with an id.
    Packet(ast::Packet),
    /// A plain struct.
    Struct(ast::Struct),
    /// An enum.
    Enum(ast::Enum),
}

/// A declared type with what validation learned about it.
#[derive(Clone, Debug)]
pub struct TypeDef {
    /// Module path from the root (`["game", "chat"]`).
    pub module: Vec<String>,
    /// The type's name.
    pub(crate) name: Ident,
    /// Its doc comments.
    pub docs: Vec<String>,
    /// Its declaration.
    pub(crate) kind: DefKind,
    /// The file it is declared in.
    pub file: FileId,
    /// Whether it holds borrowed data (`&'a str` / `&'a [u8]` when strings
    /// and bytes are borrowed), so needs a lifetime.
    pub borrows: bool,
    /// Smallest encoding in bytes; `None` if the type has no finite value.
    pub min_size: Option<u64>,
    /// Largest encoding in bytes; `None` if unbounded (recursive).
    pub max_size: Option<u64>,
    /// Whether the type is part of a cycle of types (through `box` or
    /// `list`), so the derive must not size it from its fields' constants:
    /// generated with `#[packet(recursive)]`.
    pub recursive: bool,
}

impl TypeDef {
    /// The type's name, without its module.
    pub fn name(&self) -> &str {
        &self.name.name
    }

    /// The packet type id, for a packet.
    pub fn packet_id(&self) -> Option<u16> {
        match &self.kind {
            DefKind::Packet(p) => u16::try_from(p.id.value).ok(),
            _ => None,
        }
    }

    /// `a.b.Name`.
    pub fn full_name(&self) -> String {
        let mut parts = self.module.clone();
        parts.push(self.name.name.clone());
        parts.join(".")
    }
}

/// A module of the merged tree.
#[derive(Clone, Debug, Default)]
pub struct ModuleNode {
    /// Its name (empty for the root).
    pub name: String,
    /// Docs from its `///` comments (of every declaration, merged).
    pub docs: Vec<String>,
    /// Children in declaration order.
    pub children: Vec<Node>,
}

/// A child of a module.
#[derive(Clone, Debug)]
pub enum Node {
    /// A nested module.
    Module(ModuleNode),
    /// A declared type.
    Type(TypeId),
}

/// A checked compilation: the module tree, the types, and where each type
/// path points.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    /// Every declared type.
    pub types: Vec<TypeDef>,
    /// The merged module tree.
    pub(crate) root: ModuleNode,
    /// `//!` docs of each file, in load order.
    pub(crate) file_docs: Vec<(FileId, Vec<String>)>,
    resolved: HashMap<(FileId, u32, u32), TypeId>,
}

impl Schema {
    /// The type a path in the source resolved to.
    pub(crate) fn resolve(&self, path: &ast::Path) -> Option<TypeId> {
        self.resolved
            .get(&(path.span.file, path.span.start, path.span.end))
            .copied()
    }

    /// Whether every value of `ty` encodes to no bytes: an empty struct
    /// (or one of such), an array of such, or of length 0 (E0120 refuses
    /// arrays of them). Needs the sizes computed.
    pub(crate) fn takes_no_bytes(&self, ty: &ast::Type) -> bool {
        match &ty.kind {
            ast::TypeKind::Array(inner, n) => n.value == 0 || self.takes_no_bytes(inner),
            ast::TypeKind::Box(inner) => self.takes_no_bytes(inner),
            ast::TypeKind::Named(path) => self
                .resolve(path)
                .is_some_and(|t| self.types[t].max_size == Some(0)),
            _ => false,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Entry {
    Module(Span),
    Type(TypeId),
}

/// Checks `files` (already parsed) together and builds the [`Schema`].
/// The schema is usable for code generation only when no returned
/// diagnostic is an error.
pub fn validate(files: &[(FileId, &ast::File)], opts: &Options) -> (Schema, Vec<Diagnostic>) {
    let mut v = Validator {
        schema: Schema::default(),
        names: HashMap::new(),
        diags: Vec::new(),
        opts: opts.clone(),
        bad_bounds: 0,
        bad_bound_defs: Vec::new(),
    };
    v.names.insert(Vec::new(), BTreeMap::new());
    for (id, file) in files {
        v.schema.file_docs.push((*id, file.docs.clone()));
        let mut root = std::mem::take(&mut v.schema.root);
        v.collect(*id, &file.items, &mut Vec::new(), &mut root);
        v.schema.root = root;
    }
    v.resolve_all();
    v.check_defs();
    let recursion_ok = v.check_recursion();
    v.compute_borrows();
    if recursion_ok {
        v.compute_sizes();
        v.check_sizes();
        v.check_empty_items();
    }
    // The walk needs every path resolved; one error at a time otherwise.
    if !v.diags.iter().any(Diagnostic::is_error) {
        v.check_fingerprint();
    }
    (v.schema, v.diags)
}

struct Validator {
    schema: Schema,
    /// Module path -> names declared directly in it.
    names: HashMap<Vec<String>, BTreeMap<String, Entry>>,
    diags: Vec<Diagnostic>,
    opts: Options,
    /// How many E0108 / E0109 / E0110 (a length or bound reported invalid)
    /// so far.
    bad_bounds: usize,
    /// Per type: whether one of its own fields has such an invalid bound.
    /// Sizes computed from it are not reported again (E0113, W0001): one
    /// error per mistake.
    bad_bound_defs: Vec<bool>,
}

fn entry_span(types: &[TypeDef], e: Entry) -> Span {
    match e {
        Entry::Module(s) => s,
        Entry::Type(t) => types[t].name.span,
    }
}

/// The built-in type names, for "did you mean" hints.
pub(crate) const BUILTIN_TYPES: &[&str] = &[
    "u8", "u16", "u32", "u64", "u128", "i8", "i16", "i32", "i64", "i128", "f32", "f64", "bool",
    "char", "string", "bytes", "list", "option", "box",
];

/// `str` → `Str`, for a suggested rename.
fn codegen_camel(name: &str) -> String {
    let mut c = name.chars();
    c.next()
        .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

/// Names Rust cannot take even as raw identifiers.
const UNUSABLE: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Rust's primitive types. The generated code names them unqualified
/// (`&'a str`, `u8`), because `#[derive(Packet)]` recognizes strings, byte
/// slices and scalars by how they are spelled (`::core::primitive::str`
/// would not be a string to it), so a type or module of one of these
/// names would shadow them. The schema language reserves the ones it has
/// itself (`u8`, `bool`...); `str`, `usize` and `isize` are left.
pub(crate) const RUST_PRIMITIVES: &[&str] = &[
    "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64",
    "i128", "isize", "f32", "f64",
];

impl Validator {
    fn check_name(&mut self, id: &Ident, what: &str) {
        if what == "type or module" && RUST_PRIMITIVES.contains(&id.name.as_str()) {
            self.diags.push(
                Diagnostic::error("E0105", format!("`{}` cannot be a {what} name", id.name))
                    .with_primary(id.span, format!("this would shadow Rust's primitive type `{}`", id.name))
                    .with_note(format!("note: the generated Rust names Rust's `{}` unqualified (`&'a str` for `string`, `u8`...), and `#[derive(Packet)]` recognizes those types by name", id.name))
                    .with_note(format!("help: rename it, e.g. `{}`", codegen_camel(&id.name))),
            );
        }
        if UNUSABLE.contains(&id.name.as_str()) {
            self.diags.push(
                Diagnostic::error("E0105", format!("`{}` cannot be a {what} name", id.name))
                    .with_primary(id.span, "expected a name that is not a reserved Rust path keyword")
                    .with_note("note: `self`, `Self`, `super`, `crate` and `_` cannot name anything in the generated Rust"),
            );
        }
    }

    fn collect(
        &mut self,
        file: FileId,
        items: &[ast::Item],
        path: &mut Vec<String>,
        node: &mut ModuleNode,
    ) {
        for item in items {
            let Some(name) = item.kind.name() else {
                continue; // imports were followed by the loader
            };
            self.check_name(name, "type or module");
            let existing = self
                .names
                .get(path.as_slice())
                .and_then(|m| m.get(&name.name))
                .copied();
            match &item.kind {
                ast::ItemKind::Module(m) => {
                    match existing {
                        Some(Entry::Type(t)) => {
                            self.duplicate(
                                name,
                                entry_span(&self.schema.types, Entry::Type(t)),
                                path,
                            );
                            continue;
                        }
                        Some(Entry::Module(_)) => {}
                        None => {
                            self.names
                                .get_mut(path.as_slice())
                                .expect("scope exists")
                                .insert(name.name.clone(), Entry::Module(name.span));
                            node.children.push(Node::Module(ModuleNode {
                                name: name.name.clone(),
                                ..ModuleNode::default()
                            }));
                        }
                    }
                    path.push(name.name.clone());
                    self.names.entry(path.clone()).or_default();
                    let child = node
                        .children
                        .iter_mut()
                        .find_map(|c| match c {
                            Node::Module(cm) if cm.name == name.name => Some(cm),
                            _ => None,
                        })
                        .expect("module node exists");
                    child.docs.extend(item.leading.docs.iter().cloned());
                    self.collect(file, &m.items, path, child);
                    path.pop();
                }
                kind => {
                    if let Some(e) = existing {
                        self.duplicate(name, entry_span(&self.schema.types, e), path);
                        continue;
                    }
                    let kind = match kind {
                        ast::ItemKind::Packet(p) => DefKind::Packet(p.clone()),
                        ast::ItemKind::Struct(s) => DefKind::Struct(s.clone()),
                        ast::ItemKind::Enum(e) => DefKind::Enum(e.clone()),
                        _ => unreachable!("imports and modules handled above"),
                    };
                    let id = self.schema.types.len();
                    self.schema.types.push(TypeDef {
                        module: path.clone(),
                        name: name.clone(),
                        docs: item.leading.docs.clone(),
                        kind,
                        file,
                        borrows: false,
                        min_size: Some(0),
                        max_size: Some(0),
                        recursive: false,
                    });
                    self.names
                        .get_mut(path.as_slice())
                        .expect("scope exists")
                        .insert(name.name.clone(), Entry::Type(id));
                    node.children.push(Node::Type(id));
                }
            }
        }
    }

    fn duplicate(&mut self, name: &Ident, first: Span, path: &[String]) {
        let scope = if path.is_empty() {
            "the root namespace".to_string()
        } else {
            format!("module `{}`", path.join("."))
        };
        self.diags.push(
            Diagnostic::error(
                "E0101",
                format!(
                    "the name `{}` is defined more than once in {scope}",
                    name.name
                ),
            )
            .with_primary(
                name.span,
                "defined again here; expected a name not yet used in this namespace",
            )
            .with_secondary(first, "first defined here")
            .with_note("help: rename one of them (all files of a compilation share one namespace)"),
        );
    }

    /// Every type of every field, with whether it is a field's own type.
    fn field_types(def: &DefKind) -> Vec<&Type> {
        let mut out = Vec::new();
        match def {
            DefKind::Packet(p) => out.extend(p.body.fields.iter().map(|f| &f.ty)),
            DefKind::Struct(s) => out.extend(s.body.fields.iter().map(|f| &f.ty)),
            DefKind::Enum(e) => {
                for v in &e.variants {
                    match &v.kind {
                        ast::VariantKind::Unit => {}
                        ast::VariantKind::Tuple(tys) => out.extend(tys.iter()),
                        ast::VariantKind::Struct(f) => out.extend(f.fields.iter().map(|f| &f.ty)),
                    }
                }
            }
        }
        out
    }

    fn lookup(&self, scope: &[String], path: &ast::Path) -> Option<TypeId> {
        for k in (0..=scope.len()).rev() {
            let mut base: Vec<String> = scope[..k].to_vec();
            let (last, mods) = path.segments.split_last().expect("paths are non-empty");
            let mut ok = true;
            for m in mods {
                match self.names.get(&base).and_then(|n| n.get(&m.name)) {
                    Some(Entry::Module(_)) => base.push(m.name.clone()),
                    _ => {
                        ok = false;
                        break;
                    }
                }
            }
            if !ok {
                continue;
            }
            if let Some(Entry::Type(t)) = self.names.get(&base).and_then(|n| n.get(&last.name)) {
                return Some(*t);
            }
        }
        None
    }

    fn resolve_all(&mut self) {
        let mut found = Vec::new();
        for (id, def) in self.schema.types.iter().enumerate() {
            for ty in Self::field_types(&def.kind) {
                visit_named(ty, &mut |p| found.push((id, p.clone())));
            }
        }
        for (id, path) in found {
            let scope = self.schema.types[id].module.clone();
            match self.lookup(&scope, &path) {
                Some(t) => {
                    self.schema
                        .resolved
                        .insert((path.span.file, path.span.start, path.span.end), t);
                }
                None => {
                    let last = &path.segments[path.segments.len() - 1].name;
                    let mut d = Diagnostic::error("E0102", format!("unknown type `{}`", path.to_text()))
                        .with_primary(path.span, "expected the name of a struct, packet or enum declared in a schema of this compilation");
                    let elsewhere: Vec<String> = self
                        .schema
                        .types
                        .iter()
                        .filter(|t| &t.name.name == last)
                        .map(TypeDef::full_name)
                        .collect();
                    let typo = crate::diagnostic::closest(
                        last,
                        self.schema.types.iter().map(|t| t.name.name.as_str()),
                    );
                    // A misspelt built-in (`u31`, `sting`) is likelier than
                    // a misspelt declaration when the built-in is closer.
                    let builtin = (path.segments.len() == 1 && elsewhere.is_empty())
                        .then(|| crate::diagnostic::closest(last, BUILTIN_TYPES.iter().copied()))
                        .flatten()
                        .filter(|b| {
                            typo.is_none_or(|t| {
                                crate::diagnostic::edit_distance(last, b)
                                    <= crate::diagnostic::edit_distance(last, t)
                            })
                        });
                    let foreign = (path.segments.len() == 1 && elsewhere.is_empty())
                        .then(|| crate::diagnostic::foreign_type_help(last))
                        .flatten();
                    if let Some(help) = foreign {
                        d = d.with_note(help);
                    } else if let Some(b) = builtin {
                        let shape = match b {
                            "list" | "option" | "box" => format!("{b}<T>"),
                            _ => b.to_string(),
                        };
                        d = d.with_note(format!("help: did you mean the built-in type `{shape}`?"));
                    } else if let (true, Some(typo)) = (elsewhere.is_empty(), typo) {
                        let full: Vec<String> = self
                            .schema
                            .types
                            .iter()
                            .filter(|t| t.name.name == typo)
                            .map(TypeDef::full_name)
                            .collect();
                        d = d.with_note(format!(
                            "help: did you mean {}?",
                            full.iter()
                                .map(|n| format!("`{n}`"))
                                .collect::<Vec<_>>()
                                .join(" or ")
                        ));
                    } else if elsewhere.is_empty() {
                        d = d.with_note("help: declare it, or `import` the file that does");
                    } else {
                        d = d.with_note(format!(
                            "help: a type of that name exists as {}; write its path from an enclosing module",
                            elsewhere.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                        ));
                    }
                    self.diags.push(d);
                }
            }
        }
    }

    fn check_defs(&mut self) {
        let mut ids: HashMap<i128, (String, Span)> = HashMap::new();
        let types = self.schema.types.clone();
        for def in &types {
            let bad_before = self.bad_bounds;
            self.check_def(def, &mut ids);
            self.bad_bound_defs.push(self.bad_bounds > bad_before);
        }
    }

    fn check_def(&mut self, def: &TypeDef, ids: &mut HashMap<i128, (String, Span)>) {
        match &def.kind {
            DefKind::Packet(p) => {
                if !(0..=0xFFFF).contains(&p.id.value) {
                    self.diags.push(
                            Diagnostic::error(
                                "E0103",
                                format!("packet id `{}` is out of range", p.id.text),
                            )
                            .with_primary(
                                p.id.span,
                                "expected an id from 0 to 0xFFFE (the header's type_id is a u16, and 0xFFFF is reserved)",
                            ),
                        );
                } else if p.id.value == 0xFFFF {
                    self.diags.push(
                            Diagnostic::error(
                                "E0115",
                                format!("packet id `{}` is reserved", p.id.text),
                            )
                            .with_primary(
                                p.id.span,
                                "expected an id from 0 to 0xFFFE: 0xFFFF carries the session control frames",
                            )
                            .with_note(
                                "note: type id 0xFFFF is reserved for the session control frames: the hellos, the refusal and the close notice (docs/wire-format.md §2.2, §7.3, §11.5, §12); #[derive(Packet)] refuses it too",
                            ),
                        );
                } else if let Some((other, span)) = ids.get(&p.id.value) {
                    self.diags.push(
                        Diagnostic::error(
                            "E0104",
                            format!("packet id {:#06x} is used twice", p.id.value),
                        )
                        .with_primary(
                            p.id.span,
                            format!(
                                "`{}` uses it here; expected an id no other packet uses",
                                def.name.name
                            ),
                        )
                        .with_secondary(*span, format!("`{other}` already uses it here"))
                        .with_note("help: every packet needs its own id: receivers dispatch on it"),
                    );
                } else {
                    ids.insert(p.id.value, (def.name.name.clone(), p.id.span));
                }
                self.check_fields(&p.body);
            }
            DefKind::Struct(s) => self.check_fields(&s.body),
            DefKind::Enum(e) => self.check_enum(def, e),
        }
    }

    fn check_fields(&mut self, fields: &ast::Fields) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for f in &fields.fields {
            self.check_name(&f.name, "field");
            if let Some(first) = seen.get(f.name.name.as_str()) {
                self.diags.push(
                    Diagnostic::error(
                        "E0101",
                        format!("the field `{}` is declared more than once", f.name.name),
                    )
                    .with_primary(
                        f.name.span,
                        "declared again here; expected a name not yet used by a field",
                    )
                    .with_secondary(*first, "first declared here"),
                );
            } else {
                seen.insert(&f.name.name, f.name.span);
            }
            self.check_type(&f.ty, true);
        }
    }

    fn check_enum(&mut self, def: &TypeDef, e: &ast::Enum) {
        if e.variants.is_empty() {
            self.diags.push(
                Diagnostic::error("E0112", format!("enum `{}` has no variants", def.name.name))
                    .with_primary(
                        def.name.span,
                        "expected at least one variant: an empty enum has no value to send",
                    ),
            );
        }
        let repr = e.repr.as_ref().map_or(Prim::U8, |r| r.value);
        let (lo, hi) = repr
            .repr_range()
            .expect("the parser only accepts integer reprs");
        let mut names: HashMap<&str, Span> = HashMap::new();
        let mut tags: HashMap<i128, (&str, Span)> = HashMap::new();
        let mut next: i128 = 0;
        for v in &e.variants {
            self.check_name(&v.name, "variant");
            if let Some(first) = names.get(v.name.name.as_str()) {
                self.diags.push(
                    Diagnostic::error(
                        "E0101",
                        format!("the variant `{}` is declared more than once", v.name.name),
                    )
                    .with_primary(
                        v.name.span,
                        "declared again here; expected a name not yet used by a variant",
                    )
                    .with_secondary(*first, "first declared here"),
                );
            } else {
                names.insert(&v.name.name, v.name.span);
            }
            let (tag, span) = match &v.value {
                Some(lit) => (lit.value, lit.span),
                None => (next, v.name.span),
            };
            next = tag + 1;
            if !(lo..=hi).contains(&tag) {
                self.diags.push(
                    Diagnostic::error(
                        "E0106",
                        format!(
                            "tag {tag} of variant `{}` does not fit the tag type `{}`",
                            v.name.name,
                            repr.as_str()
                        ),
                    )
                    .with_primary(span, format!("expected a value from {lo} to {hi}"))
                    .with_note("help: widen the tag type, e.g. `enum Name: u16 { ... }`"),
                );
            } else if let Some((other, first)) = tags.get(&tag) {
                self.diags.push(
                    Diagnostic::error("E0107", format!("tag {tag} is used by two variants"))
                        .with_primary(
                            span,
                            format!(
                                "`{}` has tag {tag}; expected a tag no other variant uses",
                                v.name.name
                            ),
                        )
                        .with_secondary(*first, format!("`{other}` already has it"))
                        .with_note("note: a variant without `= N` takes the previous tag plus one"),
                );
            } else {
                tags.insert(tag, (&v.name.name, span));
            }
            match &v.kind {
                ast::VariantKind::Unit => {}
                ast::VariantKind::Tuple(tys) => {
                    for t in tys {
                        self.check_type(t, true);
                    }
                }
                ast::VariantKind::Struct(f) => self.check_fields(f),
            }
        }
    }

    /// `top`: the type is a field's own type (where `#[packet(len, max_len)]`
    /// applies).
    fn check_type(&mut self, ty: &Type, top: bool) {
        let check_opts = |this: &mut Validator, opts: &SeqOpts, what: &str| {
            if !top && !opts.is_empty() {
                this.bad_bounds += 1;
                this.diags.push(
                    Diagnostic::error("E0110", format!("length options on a nested `{what}`"))
                        .with_primary(ty.span, "expected `len` / `max` only on a field's own type")
                        .with_note("note: the derive's `#[packet(len = .., max_len = ..)]` applies to the field, not to items inside it")
                        .with_note("help: wrap the inner value in a struct with one field carrying the options"),
                );
            }
            let width = opts.len.as_ref().map_or(LenWidth::U16, |l| l.value);
            if let Some(max) = &opts.max
                && !(0..=i128::from(width.max())).contains(&max.value)
            {
                // The help depends on what is wrong: a negative count, a
                // maximum a wider prefix can carry (the narrowest one that
                // does, as the derive says), or one no prefix can.
                let (message, help) = if max.value < 0 {
                    (
                        format!("`max = {}` is negative", max.text),
                        "help: `max` counts bytes or items: write 0 or more".to_string(),
                    )
                } else {
                    let wider = [LenWidth::U8, LenWidth::U16, LenWidth::U32]
                        .into_iter()
                        .find(|w| i128::from(w.max()) >= max.value);
                    let help = match wider {
                        Some(w) => format!(
                            "help: widen the prefix with `len = {}`, or choose a smaller maximum",
                            w.as_str()
                        ),
                        None => format!(
                            "help: no length prefix counts more than {} (`len = u32`): choose a smaller maximum",
                            LenWidth::U32.max()
                        ),
                    };
                    (
                        format!(
                            "`max = {}` does not fit a `{}` length prefix",
                            max.text,
                            width.as_str()
                        ),
                        help,
                    )
                };
                this.bad_bounds += 1;
                this.diags.push(
                    Diagnostic::error("E0109", message)
                        .with_primary(
                            max.span,
                            format!("expected a maximum from 0 to {}", width.max()),
                        )
                        .with_note(help),
                );
            }
        };
        match &ty.kind {
            TypeKind::Prim(_) | TypeKind::Named(_) => {}
            TypeKind::String(o) => check_opts(self, o, "string"),
            TypeKind::Bytes(o) => check_opts(self, o, "bytes"),
            TypeKind::List(inner, o) => {
                check_opts(self, o, "list");
                self.check_type(inner, false);
            }
            TypeKind::Option(inner) | TypeKind::Box(inner) => self.check_type(inner, false),
            TypeKind::Array(inner, n) => {
                if !(0..=i128::from(u32::MAX)).contains(&n.value) {
                    self.bad_bounds += 1;
                    self.diags.push(
                        Diagnostic::error(
                            "E0108",
                            format!("array length `{}` is out of range", n.text),
                        )
                        .with_primary(n.span, format!("expected a length from 0 to {}", u32::MAX)),
                    );
                }
                self.check_type(inner, false);
            }
        }
    }

    /// Types reached from `ty`, and whether through indirection.
    fn refs(&self, ty: &Type, indirect: bool, out: &mut Vec<(TypeId, bool, Span)>) {
        match &ty.kind {
            TypeKind::Prim(_) | TypeKind::String(_) | TypeKind::Bytes(_) => {}
            TypeKind::List(inner, _) | TypeKind::Box(inner) => self.refs(inner, true, out),
            TypeKind::Option(inner) | TypeKind::Array(inner, _) => self.refs(inner, indirect, out),
            TypeKind::Named(p) => {
                if let Some(t) = self.schema.resolve(p) {
                    out.push((t, indirect, ty.span));
                }
            }
        }
    }

    fn edges(&self, id: TypeId) -> Vec<(TypeId, bool, Span)> {
        let mut out = Vec::new();
        for ty in Self::field_types(&self.schema.types[id].kind) {
            self.refs(ty, false, &mut out);
        }
        out
    }

    /// Reports cycles of direct containment; returns whether there were none.
    fn check_recursion(&mut self) -> bool {
        let n = self.schema.types.len();
        // 0 = unvisited, 1 = on the stack, 2 = done.
        let mut state = vec![0u8; n];
        let mut stack: Vec<(TypeId, Span)> = Vec::new();
        let mut reported: HashSet<Vec<TypeId>> = HashSet::new();
        let mut ok = true;
        for start in 0..n {
            if state[start] == 0 {
                self.dfs(start, &mut state, &mut stack, &mut reported, &mut ok);
            }
        }
        ok
    }

    /// Depth-first from `start` over direct containment, with the path
    /// in `stack` (each type on it with the span of the field that leads
    /// on). Iterative, with its own stack of frames: a schema may chain
    /// types as deep as its size allows, and recursion would overflow
    /// the thread's stack on a long chain.
    fn dfs(
        &mut self,
        start: TypeId,
        state: &mut [u8],
        stack: &mut Vec<(TypeId, Span)>,
        reported: &mut HashSet<Vec<TypeId>>,
        ok: &mut bool,
    ) {
        // Each frame: a type on the path, its edges, the next edge.
        type Frame = (TypeId, Vec<(TypeId, bool, Span)>, usize);
        let mut frames: Vec<Frame> = vec![(start, self.edges(start), 0)];
        state[start] = 1;
        while let Some(frame) = frames.last_mut() {
            let t = frame.0;
            let Some(&(u, indirect, span)) = frame.1.get(frame.2) else {
                state[t] = 2;
                frames.pop();
                if !frames.is_empty() {
                    stack.pop();
                }
                continue;
            };
            frame.2 += 1;
            if indirect {
                continue;
            }
            if state[u] == 1 {
                self.report_cycle(stack, t, u, span, reported, ok);
            } else if state[u] == 0 {
                stack.push((t, span));
                state[u] = 1;
                frames.push((u, self.edges(u), 0));
            }
        }
    }

    /// E0111 for the cycle `u .. t` on the path, closed by `span` (once
    /// per set of types).
    fn report_cycle(
        &mut self,
        stack: &[(TypeId, Span)],
        t: TypeId,
        u: TypeId,
        span: Span,
        reported: &mut HashSet<Vec<TypeId>>,
        ok: &mut bool,
    ) {
        let pos = stack
            .iter()
            .position(|(x, _)| *x == u)
            .unwrap_or(stack.len());
        let mut cycle: Vec<TypeId> = stack[pos..].iter().map(|(x, _)| *x).collect();
        cycle.push(t);
        let mut key = cycle.clone();
        key.sort_unstable();
        if reported.insert(key) {
            *ok = false;
            let names: Vec<String> = cycle
                .iter()
                .chain(std::iter::once(&u))
                .map(|&x| format!("`{}`", self.schema.types[x].name.name))
                .collect();
            let ty_name = &self.schema.types[u].name;
            self.diags.push(
                Diagnostic::error("E0111", format!("recursive type `{}` has infinite size", ty_name.name))
                    .with_primary(span, "this field contains the type again; expected a type that does not contain itself")
                    .with_secondary(ty_name.span, "recursive type declared here")
                    .with_note(format!("note: cycle: {}", names.join(" contains ")))
                    .with_note(format!("help: a value cannot contain itself; put the field behind indirection: `option<box<{0}>>` or `list<{0}>`", ty_name.name)),
            );
        }
    }

    /// Marks every type that borrows from the input (holds a `string` or
    /// `bytes`, or a type that does, through any wrapper): the types that
    /// hold one themselves, then, through the reverse edges, every type
    /// that refers to a marked one. Linear in types and fields (a fixpoint
    /// over every type was quadratic on a long chain of types).
    fn compute_borrows(&mut self) {
        let n = self.schema.types.len();
        let mut referrers: Vec<Vec<TypeId>> = vec![Vec::new(); n];
        let mut queue: Vec<TypeId> = Vec::new();
        for id in 0..n {
            for (u, _, _) in self.edges(id) {
                referrers[u].push(id);
            }
            let holds = Self::field_types(&self.schema.types[id].kind)
                .into_iter()
                .any(holds_bytes);
            if holds {
                self.schema.types[id].borrows = true;
                queue.push(id);
            }
        }
        while let Some(u) = queue.pop() {
            for &r in &referrers[u] {
                if !self.schema.types[r].borrows {
                    self.schema.types[r].borrows = true;
                    queue.push(r);
                }
            }
        }
    }

    /// (min, max) of a type expression from the current tables; `None` min
    /// is "no finite value", `None` max is "unbounded".
    fn size_of(&self, ty: &Type) -> (Option<u64>, Option<u64>) {
        let seq = |opts: &SeqOpts, item: (Option<u64>, Option<u64>)| {
            let width = opts.len.as_ref().map_or(LenWidth::U16, |l| l.value);
            let cap = opts.max.as_ref().map_or(width.max(), |m| {
                u64::try_from(m.value).unwrap_or(0).min(width.max())
            });
            let max = if cap == 0 {
                Some(width.size())
            } else {
                item.1
                    .map(|m| width.size().saturating_add(m.saturating_mul(cap)))
            };
            (Some(width.size()), max)
        };
        match &ty.kind {
            TypeKind::Prim(p) => (Some(p.size()), Some(p.size())),
            TypeKind::String(o) | TypeKind::Bytes(o) => seq(o, (Some(1), Some(1))),
            TypeKind::List(inner, o) => seq(o, self.size_of(inner)),
            TypeKind::Option(inner) => {
                let (_, max) = self.size_of(inner);
                (Some(1), max.map(|m| m.saturating_add(1)))
            }
            TypeKind::Box(inner) => self.size_of(inner),
            TypeKind::Array(inner, n) => {
                let n = u64::try_from(n.value).unwrap_or(0);
                if n == 0 {
                    return (Some(0), Some(0));
                }
                let (min, max) = self.size_of(inner);
                (
                    min.map(|m| m.saturating_mul(n)),
                    max.map(|m| m.saturating_mul(n)),
                )
            }
            TypeKind::Named(p) => match self.schema.resolve(p) {
                Some(t) => (self.schema.types[t].min_size, self.schema.types[t].max_size),
                None => (Some(0), Some(0)),
            },
        }
    }

    fn def_size(&self, id: TypeId) -> (Option<u64>, Option<u64>) {
        let sum = |tys: &mut dyn Iterator<Item = &Type>| {
            let mut min = Some(0u64);
            let mut max = Some(0u64);
            for t in tys {
                let (a, b) = self.size_of(t);
                min = min.zip(a).map(|(x, y)| x.saturating_add(y));
                max = max.zip(b).map(|(x, y)| x.saturating_add(y));
            }
            (min, max)
        };
        match &self.schema.types[id].kind {
            DefKind::Packet(p) => sum(&mut p.body.fields.iter().map(|f| &f.ty)),
            DefKind::Struct(s) => sum(&mut s.body.fields.iter().map(|f| &f.ty)),
            DefKind::Enum(e) => {
                let tag = e.repr.as_ref().map_or(1, |r| r.value.size());
                let mut min: Option<u64> = None;
                let mut max: Option<u64> = Some(0);
                for v in &e.variants {
                    let (a, b) = match &v.kind {
                        ast::VariantKind::Unit => (Some(0), Some(0)),
                        ast::VariantKind::Tuple(tys) => sum(&mut tys.iter()),
                        ast::VariantKind::Struct(f) => sum(&mut f.fields.iter().map(|f| &f.ty)),
                    };
                    min = match (min, a) {
                        (Some(x), Some(y)) => Some(x.min(y)),
                        (x, y) => x.or(y),
                    };
                    max = max.zip(b).map(|(x, y)| x.max(y));
                }
                (
                    min.map(|m| m.saturating_add(tag)),
                    max.map(|m| m.saturating_add(tag)),
                )
            }
        }
    }

    /// Strongly connected components in reverse topological order
    /// (Tarjan): every component comes after the ones it reaches.
    fn sccs(&self, edges: Vec<Vec<TypeId>>) -> Vec<Vec<TypeId>> {
        struct T {
            index: Vec<Option<usize>>,
            low: Vec<usize>,
            on: Vec<bool>,
            stack: Vec<TypeId>,
            next: usize,
            out: Vec<Vec<TypeId>>,
            edges: Vec<Vec<TypeId>>,
        }
        // Tarjan's algorithm, iterative (a call stack of (type, next
        // edge)): a long chain of types must not overflow the stack.
        fn open(t: &mut T, v: TypeId) {
            t.index[v] = Some(t.next);
            t.low[v] = t.next;
            t.next += 1;
            t.stack.push(v);
            t.on[v] = true;
        }
        fn visit(t: &mut T, root: TypeId) {
            open(t, root);
            let mut calls: Vec<(TypeId, usize)> = vec![(root, 0)];
            while let Some(call) = calls.last_mut() {
                let v = call.0;
                if let Some(&w) = t.edges[v].get(call.1) {
                    call.1 += 1;
                    match t.index[w] {
                        None => {
                            open(t, w);
                            calls.push((w, 0));
                        }
                        Some(iw) if t.on[w] => t.low[v] = t.low[v].min(iw),
                        Some(_) => {}
                    }
                    continue;
                }
                calls.pop();
                if Some(t.low[v]) == t.index[v] {
                    let mut comp = Vec::new();
                    while let Some(w) = t.stack.pop() {
                        t.on[w] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    t.out.push(comp);
                }
                if let Some(&(parent, _)) = calls.last() {
                    t.low[parent] = t.low[parent].min(t.low[v]);
                }
            }
        }
        let n = self.schema.types.len();
        let mut t = T {
            index: vec![None; n],
            low: vec![0; n],
            on: vec![false; n],
            stack: Vec::new(),
            next: 0,
            out: Vec::new(),
            edges,
        };
        for v in 0..n {
            if t.index[v].is_none() {
                visit(&mut t, v);
            }
        }
        t.out
    }

    fn compute_sizes(&mut self) {
        let n = self.schema.types.len();
        let all = (0..n)
            .map(|i| self.edges(i).into_iter().map(|e| e.0).collect())
            .collect();
        for comp in self.sccs(all) {
            let cyclic = comp.len() > 1 || self.edges(comp[0]).iter().any(|e| e.0 == comp[0]);
            if !cyclic {
                let (min, max) = self.def_size(comp[0]);
                self.schema.types[comp[0]].min_size = min;
                self.schema.types[comp[0]].max_size = max;
                continue;
            }
            // Recursive (through indirection): unbounded; the smallest value
            // is found by iterating down from "no finite value".
            for &id in &comp {
                self.schema.types[id].min_size = None;
                self.schema.types[id].max_size = None;
                self.schema.types[id].recursive = true;
            }
            for _ in 0..(2 * comp.len() + 4) {
                let mut changed = false;
                for &id in &comp {
                    let (min, _) = self.def_size(id);
                    if min != self.schema.types[id].min_size {
                        self.schema.types[id].min_size = min;
                        changed = true;
                    }
                }
                if !changed {
                    break;
                }
            }
        }
    }

    /// Per type: whether it holds, itself or through the types it
    /// contains, a length or bound reported invalid (`bad_bound_defs`).
    fn reaches_bad_bounds(&self) -> Vec<bool> {
        let n = self.schema.types.len();
        let mut users: Vec<Vec<TypeId>> = vec![Vec::new(); n];
        for id in 0..n {
            for (t, _, _) in self.edges(id) {
                users[t].push(id);
            }
        }
        let mut bad = self.bad_bound_defs.clone();
        bad.resize(n, false);
        let mut stack: Vec<TypeId> = (0..n).filter(|&i| bad[i]).collect();
        while let Some(t) = stack.pop() {
            for &u in &users[t] {
                if !bad[u] {
                    bad[u] = true;
                    stack.push(u);
                }
            }
        }
        bad
    }

    /// E0120: an array (of length > 0) whose items take no bytes. It
    /// carries nothing, and the generated decoder builds it through a
    /// temporary of one byte per item on the stack: `[E; 4294967295]` of
    /// an empty struct `E` passed every other check, and any frame of its
    /// packet, 28 bytes, overflowed the receiver's stack.
    fn check_empty_items(&mut self) {
        fn arrays<'a>(ty: &'a Type, out: &mut Vec<&'a Type>) {
            match &ty.kind {
                TypeKind::Prim(_) | TypeKind::String(_) | TypeKind::Bytes(_) => {}
                TypeKind::Named(_) => {}
                TypeKind::List(inner, _) | TypeKind::Option(inner) | TypeKind::Box(inner) => {
                    arrays(inner, out)
                }
                TypeKind::Array(inner, _) => {
                    out.push(ty);
                    arrays(inner, out);
                }
            }
        }
        let mut found = Vec::new();
        for def in &self.schema.types {
            let mut tys = Vec::new();
            for ty in Self::field_types(&def.kind) {
                arrays(ty, &mut tys);
            }
            for ty in tys {
                let TypeKind::Array(inner, n) = &ty.kind else {
                    continue;
                };
                if n.value > 0 && self.schema.takes_no_bytes(inner) {
                    found.push((n.span, inner.span, n.text.clone()));
                }
            }
        }
        for (span, item, n) in found {
            self.diags.push(
                Diagnostic::error("E0120", "an array of items that take no bytes")
                    .with_primary(
                        span,
                        format!(
                            "{n} {}; expected items that carry data",
                            if n == "1" { "item" } else { "items" }
                        ),
                    )
                    .with_secondary(item, "every value of this type is 0 bytes on the wire")
                    .with_note(
                        "note: the array carries nothing, and decoding it in Rust takes a byte of stack per item",
                    )
                    .with_note("help: remove the field, or give the item type a field"),
            );
        }
    }

    fn check_sizes(&mut self) {
        let overhead = if self.opts.sealed {
            SEALED_FRAME_OVERHEAD
        } else {
            FRAME_OVERHEAD
        };
        let kind = if self.opts.sealed {
            "sealed frame"
        } else {
            "frame"
        };
        let given = self.opts.max_frame_len;
        let frame = effective_max_frame_len(given);
        let max_body = u64::from(frame).saturating_sub(overhead);
        // Said in every note that names the limit when it is not the one
        // given, as the runtime changes it too.
        let adjusted = (frame != given).then(|| {
            format!(
                "note: a frame limit of {given} bytes is taken as {frame}, as `FrameConfig::with_max_frame_len` takes it (rounded down to a multiple of 4, at least 40)"
            )
        });
        let bad_bounds = self.reaches_bad_bounds();
        for (id, def) in self.schema.types.iter().enumerate() {
            let Some(min) = def.min_size else {
                if matches!(&def.kind, DefKind::Enum(e) if e.variants.is_empty()) {
                    continue; // reported as E0112
                }
                self.diags.push(
                    Diagnostic::error(
                        "E0114",
                        format!("type `{}` has no finite value", def.name.name),
                    )
                    .with_primary(
                        def.name.span,
                        "every value of this type would contain another one forever; expected a type with a finite value",
                    )
                    .with_note("help: remove the field through which the type contains itself"),
                );
                continue;
            };
            let DefKind::Packet(_) = def.kind else {
                continue;
            };
            if bad_bounds[id] {
                // Its sizes come from a length or bound already reported.
                continue;
            }
            if min > max_body {
                let mut d = Diagnostic::error("E0113", format!("packet `{}` can never fit in a frame", def.name.name))
                    .with_primary(def.name.span, format!("its smallest body is {min} bytes; expected at most {max_body}"))
                    .with_note(format!("note: a {kind} of at most {frame} bytes carries at most {max_body} bytes of body ({overhead} bytes are header, check and ending)"));
                if let Some(n) = &adjusted {
                    d = d.with_note(n.clone());
                }
                self.diags.push(d.with_note("help: shrink the fixed-size fields (arrays), or raise the frame limit (`--max-frame` / `Builder::max_frame_len`)"));
                continue;
            }
            // Unbounded only through recursion: no `max` can bound a
            // value's depth, so a warning could never be fixed (nor pass
            // `deny_warnings`); decoders bound the depth instead.
            let too_big = match def.max_size {
                None => None,
                Some(max) if max > max_body => Some(format!("its body can reach {max} bytes")),
                Some(_) => None,
            };
            if let Some(label) = too_big {
                let mut d = Diagnostic::warning("W0001", format!("packet `{}` may not fit in a frame", def.name.name))
                    .with_primary(def.name.span, label)
                    .with_note(format!("note: a {kind} of at most {frame} bytes carries at most {max_body} bytes of body; larger values fail to encode"));
                if let Some(n) = &adjusted {
                    d = d.with_note(n.clone());
                }
                let DefKind::Packet(p) = &def.kind else {
                    continue;
                };
                // The field that can grow the most is the one to fix.
                let biggest = p
                    .body
                    .fields
                    .iter()
                    .filter_map(|f| self.size_of(&f.ty).1.map(|m| (m, f)))
                    .max_by_key(|(m, _)| *m);
                if let Some((max, f)) = biggest {
                    d = d
                        .with_secondary(
                            f.ty.span,
                            format!("`{}` alone can reach {max} bytes", f.name.name),
                        )
                        .with_note(self.w0001_help(f));
                }
                self.diags.push(d);
            }
        }
    }
}

impl Validator {
    /// E0116 / E0117: every packet must have a protocol fingerprint, since
    /// every packet can be a member of a `#[derive(PacketSet)]` (`gen
    /// --packet-set` puts them all in one) and the derive refuses at
    /// compile time what is over the limits; and the schema's fingerprint
    /// (`packet-schema fingerprint`, `compat`) is that of all its packets.
    fn check_fingerprint(&mut self) {
        use crate::fingerprint::{MAX_DESCRIPTION_LEN, MAX_NESTING, Problem, check_packets};
        let (_, errors) = check_packets(&self.schema);
        for e in errors {
            let types = &self.schema.types;
            let packet = &types[e.packet];
            let name = &packet.name;
            let d = match &e.problem {
                Problem::TooDeep { chain } => {
                    let deepest = &types[*chain.last().expect("the packet at least")];
                    let path: Vec<String> = chain.iter().map(|t| types[*t].full_name()).collect();
                    Diagnostic::error(
                        "E0116",
                        format!("packet `{}` nests its types too deep for a protocol fingerprint", name.name),
                    )
                    .with_primary(
                        name.span,
                        format!(
                            "the fields of `{}` lie inside {} structs and enums; expected at most {MAX_NESTING}, this packet counted",
                            deepest.full_name(),
                            chain.len()
                        ),
                    )
                    .with_secondary(
                        deepest.name.span,
                        format!("`{}` is the type nested {} levels deep, and has fields", deepest.full_name(), chain.len() - 1),
                    )
                    .with_note(format!("note: the chain of types: {}", path.join(" → ")))
                    .with_note("note: `#[derive(PacketSet)]` computes the fingerprint (wire format §11.6) at compile time and refuses such a packet; a type nested that deep may only have no fields (a C-like enum)")
                    .with_note("help: flatten a level: put the fields of a nested struct into the struct that holds it")
                }
                Problem::TooLong {
                    before,
                    packets,
                    described,
                    nested,
                    largest,
                } => {
                    let label = format!(
                        "the description passes {MAX_DESCRIPTION_LEN} bytes in this packet's layout ({before} bytes before it: the magic, the packet count, the type ids and the packets with smaller ids)"
                    );
                    let own = described.saturating_sub(*nested);
                    let plural = if *packets == 1 { "" } else { "s" };
                    let d = Diagnostic::error(
                        "E0117",
                        format!("the packets' protocol fingerprint description is longer than {MAX_DESCRIPTION_LEN} bytes"),
                    )
                    .with_primary(name.span, label)
                    .with_note(format!(
                        "note: of the {described} bytes described ({packets} packet{plural}, by ascending id), {own} are the packets' own (the magic and count, each packet's id, node and fields) and {nested} the structs and enums they hold"
                    ));
                    let derive = "note: `#[derive(PacketSet)]` computes the fingerprint (wire format §11.6) at compile time and refuses a longer description";
                    if *nested >= own {
                        let longest: Vec<String> = largest
                            .iter()
                            .map(|(t, len)| {
                                let more = if *t == e.packet {
                                    " up to the limit"
                                } else {
                                    ""
                                };
                                format!("`{}` ({len} bytes{more})", types[*t].full_name())
                            })
                            .collect();
                        let d = if *packets > 1 {
                            d.with_note(format!(
                                "note: the longest packet layouts: {}",
                                longest.join(", ")
                            ))
                        } else {
                            d
                        };
                        d.with_note("note: a struct or enum is described again at every use (wire format §11.2), so types that each hold the next one several times (`A { x: B, y: B }`, `B { x: C, y: C }`, ...) double the description at every level")
                            .with_note(derive)
                            .with_note("help: hold a repeated type once (e.g. `[B; 2]` or a `list<B>` in place of several `B` fields)")
                    } else {
                        let longest = largest.first().map_or(0, |(_, len)| *len);
                        d.with_note(format!(
                            "note: the number of packets is the cause: each adds its 2-byte id and its layout (5 bytes, and more with each field), {} bytes on average here, and no layout is longer than {longest} bytes",
                            described / packets.max(&1)
                        ))
                        .with_note(derive)
                        .with_note("help: split the packets into several schemas compiled separately (each gets its own packet set and fingerprint)")
                    }
                }
                // The walk resolves what validation resolved.
                Problem::Unresolved => continue,
            };
            self.diags.push(d);
        }
    }

    /// What to do about the field that makes a packet too large: bound
    /// it, lower a bound it already has, or bound what is inside it.
    fn w0001_help(&self, f: &ast::Field) -> String {
        let name = &f.name.name;
        let raise = "or raise the frame limit (`--max-frame` / `Builder::max_frame_len`)";
        // A list's items: their largest size, and whether it varies (a
        // string, bytes or list inside: bounding those shrinks it).
        let (opts, unit, item, varies) = match &f.ty.kind {
            TypeKind::String(o) | TypeKind::Bytes(o) => (o, "bytes", None, false),
            TypeKind::List(inner, o) => {
                let (min, max) = self.size_of(inner);
                (o, "items", max, min != max)
            }
            _ => {
                return format!(
                    "help: bound the strings, bytes and lists inside `{name}`'s type with `max = N` (through a struct with a bounded field inside `option<...>` or `list<...>`), {raise}"
                );
            }
        };
        match &opts.max {
            None => format!("help: bound `{name}` with `max = N`, {raise}"),
            Some(m) => {
                let each = item.map_or(String::new(), |s| format!(" of up to {s} bytes each"));
                // Items of a varying size: what is unbounded may be inside
                // them, and with `max = 1` nothing else is left to lower.
                let bound_items = "bound its items (a `string`, `bytes` or `list` inside them with `max = N`; for a `list<string>`, a list of a struct with a `string(max = N)` field)";
                match item {
                    Some(s) if varies && m.value <= 1 => format!(
                        "help: `{name}` holds at most {} item, but one item can reach {s} bytes: {bound_items}, {raise}",
                        m.text
                    ),
                    _ if varies => format!(
                        "help: `{name}` is already bounded (`max = {}`), but {} {unit}{each} are too many: lower its `max` or {bound_items}, {raise}",
                        m.text, m.text
                    ),
                    _ => format!(
                        "help: `{name}` is already bounded (`max = {}`), but {} {unit}{each} are too many: lower its `max`, {raise}",
                        m.text, m.text
                    ),
                }
            }
        }
    }
}

/// Whether a type expression holds a `string` or `bytes` itself (named
/// types aside), through any wrapper.
fn holds_bytes(ty: &Type) -> bool {
    match &ty.kind {
        TypeKind::String(_) | TypeKind::Bytes(_) => true,
        TypeKind::Prim(_) | TypeKind::Named(_) => false,
        TypeKind::List(inner, _)
        | TypeKind::Option(inner)
        | TypeKind::Box(inner)
        | TypeKind::Array(inner, _) => holds_bytes(inner),
    }
}

/// Each variant with its tag: its `= N`, or the previous tag plus one
/// (the first defaults to 0), as Rust discriminants count.
pub(crate) fn variant_tags(e: &ast::Enum) -> impl Iterator<Item = (&ast::Variant, i128)> {
    let mut next = 0i128;
    e.variants.iter().map(move |v| {
        let tag = v.value.as_ref().map_or(next, |l| l.value);
        next = tag + 1;
        (v, tag)
    })
}

/// Calls `f` on every named path inside `ty`.
pub fn visit_named<'a>(ty: &'a Type, f: &mut impl FnMut(&'a ast::Path)) {
    match &ty.kind {
        TypeKind::Prim(_) | TypeKind::String(_) | TypeKind::Bytes(_) => {}
        TypeKind::List(inner, _)
        | TypeKind::Option(inner)
        | TypeKind::Box(inner)
        | TypeKind::Array(inner, _) => visit_named(inner, f),
        TypeKind::Named(p) => f(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(src: &str) -> HashMap<String, (Option<u64>, Option<u64>)> {
        let compiled = crate::compile_str("t.packet", src, &Options::default());
        assert!(!compiled.has_errors(), "{}", compiled.render());
        compiled
            .schema
            .types
            .iter()
            .map(|t| (t.full_name(), (t.min_size, t.max_size)))
            .collect()
    }

    #[test]
    fn sizes_follow_the_codec_wire_forms() {
        let s = sizes(
            "struct Color { r: u8, g: u8, b: u8 }
             packet Say = 1 {
                 room: u16,
                 name: string(len = u8, max = 32),
                 text: string(max = 200),
                 color: option<Color>,
                 mentions: list<u32>(len = u8, max = 8),
             }
             struct Scalars { a: u128, b: i64, c: f64, d: char, e: bool, f: [i16; 3] }
             enum Reason: u16 { TooLong = 1, Muted }
             enum Event: u16 { Hit { amount: u32, critical: bool } = 1, Say(string(max = 100), u8), Died }
             struct Blob { b: bytes(len = u32) }",
        );
        assert_eq!(s["Color"], (Some(3), Some(3)));
        // 2 + (1..=1+32) + (2..=2+200) + (1..=1+3) + (1..=1+8*4)
        assert_eq!(s["Say"], (Some(7), Some(274)));
        assert_eq!(s["Scalars"], (Some(16 + 8 + 8 + 4 + 1 + 6), Some(43)));
        assert_eq!(s["Reason"], (Some(2), Some(2)));
        // tag 2 + the largest variant: Say = 2 + 100 + 1
        assert_eq!(s["Event"], (Some(2), Some(105)));
        assert_eq!(s["Blob"], (Some(4), Some(4 + u64::from(u32::MAX))));
    }

    #[test]
    fn recursive_types_are_unbounded_with_a_finite_minimum() {
        let compiled = crate::compile_str(
            "t.packet",
            "struct Node { value: i32, next: option<box<Node>> }
             struct Tree { children: list<Tree>(len = u8) }
             struct Holder { n: Node, x: u8 }",
            &Options::default(),
        );
        assert!(compiled.diagnostics.is_empty(), "{}", compiled.render());
        let s: HashMap<String, (Option<u64>, Option<u64>)> = compiled
            .schema
            .types
            .iter()
            .map(|t| (t.full_name(), (t.min_size, t.max_size)))
            .collect();
        assert_eq!(s["Node"], (Some(5), None));
        assert_eq!(s["Tree"], (Some(1), None));
        assert_eq!(s["Holder"], (Some(6), None));
        let recursive: Vec<&str> = compiled
            .schema
            .types
            .iter()
            .filter(|t| t.recursive)
            .map(|t| t.name.name.as_str())
            .collect();
        assert_eq!(recursive, ["Node", "Tree"], "Holder only contains one");
    }

    #[test]
    fn mutual_recursion_marks_every_type_of_the_cycle() {
        let compiled = crate::compile_str(
            "t.packet",
            "struct A { b: option<box<B>>, x: u8 }
             enum B { Leaf(u8), Node(A) }
             struct C { a: list<A> }
             struct D { d: [option<D>; 2] }",
            &Options::default(),
        );
        // D contains itself without indirection: E0111, the others are fine.
        let codes: Vec<&str> = compiled.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["E0111"], "{}", compiled.render());
        let compiled = crate::compile_str(
            "t.packet",
            "struct A { b: option<box<B>>, x: u8 }
             enum B { Leaf(u8), Node(A) }
             struct C { a: list<A> }
             packet P = 1 { c: C }",
            &Options::default(),
        );
        // Unbounded through recursion only: not a W0001.
        assert!(compiled.diagnostics.is_empty(), "{}", compiled.render());
        let flags: Vec<(&str, bool)> = compiled
            .schema
            .types
            .iter()
            .map(|t| (t.name.name.as_str(), t.recursive))
            .collect();
        assert_eq!(
            flags,
            [("A", true), ("B", true), ("C", false), ("P", false)]
        );
    }

    #[test]
    fn frame_limit_is_configurable() {
        let src = "packet Blob = 1 { data: [u8; 1000] }";
        let small = Options {
            max_frame_len: 1028,
            ..Options::default()
        }; // 20 + 1000 + 4 + 4
        let ok = crate::compile_str("t.packet", src, &small);
        assert!(!ok.has_errors(), "{}", ok.render());
        let tiny = Options {
            max_frame_len: 1024,
            ..Options::default()
        };
        let err = crate::compile_str("t.packet", src, &tiny);
        assert!(err.render().contains("E0113"), "{}", err.render());
        // Sealed frames carry 12 bytes less: 1028 is no longer enough.
        let sealed = Options {
            max_frame_len: 1028,
            sealed: true,
        };
        let err = crate::compile_str("t.packet", src, &sealed);
        assert!(
            err.render()
                .contains("a sealed frame of at most 1028 bytes carries at most 988"),
            "{}",
            err.render()
        );
    }

    /// `--max-frame 30` or `0` is taken as the runtime takes it: at least
    /// 40 bytes (E0113 said "a frame of at most 30 bytes carries at most 0
    /// bytes of body"), and the note says so.
    #[test]
    fn frame_limit_is_clamped_and_rounded_as_the_runtime_does() {
        let src = "packet A = 1 { a: [u8; 12] }";
        for (given, frame) in [(30, 40), (0, 40), (41, 40), (39, 40)] {
            let opts = Options {
                max_frame_len: given,
                ..Options::default()
            };
            let c = crate::compile_str("t.packet", src, &opts);
            assert!(!c.has_errors(), "{given}: {}", c.render());
            let sealed = Options {
                max_frame_len: given,
                sealed: true,
            };
            let c = crate::compile_str("t.packet", src, &sealed);
            let text = c.render();
            assert!(
                text.contains(&format!(
                    "a sealed frame of at most {frame} bytes carries at most 0 bytes of body"
                )),
                "{given}: {text}"
            );
            assert!(
                text.contains(&format!(
                    "a frame limit of {given} bytes is taken as {frame}, as `FrameConfig::with_max_frame_len` takes it"
                )),
                "{given}: {text}"
            );
        }
        // An effective limit says nothing more.
        let c = crate::compile_str(
            "t.packet",
            "packet A = 1 { a: [u8; 20] }",
            &Options {
                max_frame_len: 44,
                sealed: true,
            },
        );
        let text = c.render();
        assert!(
            text.contains("at most 44 bytes carries at most 4"),
            "{text}"
        );
        assert!(!text.contains("is taken as"), "{text}");
    }

    #[test]
    fn paths_resolve_from_the_innermost_module() {
        let compiled = crate::compile_str(
            "t.packet",
            "struct P { x: u8 }
             module a { struct P { y: u16 } module b { struct Q { p: P, q: a.P, r: b.R } struct R {} } }",
            &Options::default(),
        );
        assert!(!compiled.has_errors(), "{}", compiled.render());
        let s = &compiled.schema;
        let q = s.types.iter().find(|t| t.name.name == "Q").unwrap();
        let DefKind::Struct(st) = &q.kind else {
            panic!()
        };
        let targets: Vec<String> = st
            .body
            .fields
            .iter()
            .map(|f| {
                let TypeKind::Named(p) = &f.ty.kind else {
                    panic!()
                };
                s.types[s.resolve(p).unwrap()].full_name()
            })
            .collect();
        assert_eq!(targets, ["a.P", "a.P", "a.b.R"]);
    }
}
