//! # packet-schema
//!
//! A small schema language for *packet*, compiled to Rust that uses
//! `#[derive(Packet)]` — from `build.rs` with [`Builder`] (in the style of
//! prost-build), or with the `packet-schema` command-line tool (`check`,
//! `gen`, `fmt`, and the tools `dissector`, `inspect`, `compat`). The language is specified in `docs/schema-language.md`.
//!
//! ```text
//! //! Chat packets.
//! import "common.packet";
//!
//! module chat {
//!     /// A line of chat.
//!     packet Say = 0x0102 {
//!         room: u16,
//!         name: string(len = u8, max = 32),
//!         text: string(max = 200),
//!         color: option<Color>, // from common.packet
//!     }
//! }
//! ```
//!
//! ## From build.rs
//!
//! Depend on the library without the CLI (no clap):
//!
//! ```toml
//! [dependencies]
//! packet-core = { version = "0.1", features = ["derive"] }
//! [build-dependencies]
//! packet-schema = { version = "0.1", default-features = false }
//! ```
//!
//! `build.rs` compiles the schema into `OUT_DIR` and tells cargo to rerun
//! when the schema or any file it imports changes:
//!
//! ```no_run
//! fn main() {
//!     packet_schema::Builder::new()
//!         .include("schema")          // where imports are also looked up
//!         .max_frame_len(16 * 1024)   // the frame limit your peers use
//!         .compile(&["schema/game.packet"])
//!         .unwrap(); // on error: file:line:column, the line, a caret
//! }
//! ```
//!
//! and the crate includes the generated module with the runtime crate's
//! macro (like `prost::include_proto!`, so the crate itself does not depend
//! on the compiler):
//!
//! ```ignore
//! pub mod game {
//!     ::packet_core::include_schema!("game"); // $OUT_DIR/game.rs
//! }
//! ```
//!
//! The leading `::` names the crate: a schema with a module called
//! `packet_core` generates `game::packet_core`, and rustc would then find
//! the plain `packet_core::include_schema!` path ambiguous.
//!
//! The workspace's `examples/schema-demo` crate does exactly this, and its
//! tests prove the generated packets byte-identical to hand-derived ones.
//!
//! A game that depends on `packet-net` alone (which re-exports all of
//! packet-core) sets [`Builder::crate_path`]`("::packet_net")` and includes
//! with `::packet_net::include_schema!`; the generated code names
//! `::packet_core` otherwise, and rustc then reports "cannot find
//! `packet_core` in the crate root" in the generated file.
//!
//! ## In memory
//!
//! ```
//! use packet_schema::{compile_str, CodegenOptions, Options};
//!
//! let ok = compile_str("chat.packet", "packet Say = 1 { text: string(max = 200) }", &Options::default());
//! assert!(!ok.has_errors());
//! let rust = ok.generate(&CodegenOptions::default())?;
//! assert!(rust.contains("#[packet(id = 0x0001)]"));
//! assert!(rust.contains("#[packet(max_len = 200)]"));
//!
//! let bad = compile_str("chat.packet", "packet Say = 1 { text: Strng }", &Options::default());
//! let report = bad.render();
//! assert!(report.contains("error[E0102]: unknown type `Strng`"));
//! assert!(report.contains("chat.packet:1:24"));
//! # Ok::<(), packet_schema::CodegenError>(())
//! ```
//!
//! ## Pipeline
//!
//! lexer → parser (a syntax tree with spans and comments) → checker (a
//! resolved [`Schema`], sizes, [`Diagnostic`]s) → code generator (Rust
//! text); a formatter prints the tree back canonically ([`format_str`]).
//! The stages are private, as in prost-build, so they can change without
//! breaking users: the public surface is [`Builder`], [`compile_files`] /
//! [`compile_str`] and their [`Compiled`] result, the [`diagnostic`]
//! types, and the tools behind the CLI.
//!
//! ## Tools (`docs/tools.md`)
//!
//! - [`dissector`]: a Wireshark Lua dissector generated from the schema
//!   ([`Compiled::dissector`], `packet-schema dissector`);
//! - `inspect` (feature `cli`): frames decoded field by field with byte
//!   ranges, bad frames with the rule they break (`packet-schema inspect`);
//! - [`compat`]: every wire-incompatible change between two versions of a
//!   schema (`packet-schema compat OLD NEW`, exit 1 on a break).
//!
//! ## Features
//! - `cli` (default): the `packet-schema` binary and the `inspect` module
//!   (clap and packet-core).
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// docs.rs: each feature-gated item shows the feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]
// The build.rs example is a whole `fn main`, as build scripts are.
#![allow(clippy::needless_doctest_main)]

mod ast;
mod codegen;
pub mod compat;
pub mod diagnostic;
pub mod dissector;
pub mod fingerprint;
mod fmt;
#[cfg(test)]
mod fmt_roundtrip;
#[cfg(feature = "cli")]
pub mod inspect;
mod lexer;
mod parse;
mod validate;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub use ast::{FileId, Span};
pub use codegen::{CodegenError, CodegenOptions};
pub use diagnostic::{Diagnostic, Severity, SourceMap};
pub use validate::{
    DEFAULT_MAX_FRAME_LEN, FRAME_OVERHEAD, Options, SEALED_FRAME_OVERHEAD, Schema, TypeDef,
    effective_max_frame_len,
};

/// Schema files loaded, parsed and checked together.
#[derive(Debug)]
pub struct Compiled {
    /// The text of every loaded file.
    pub sources: SourceMap,
    /// The parsed files (those that parsed), in load order: a file's
    /// imports come before it.
    pub(crate) parsed: Vec<(FileId, ast::File)>,
    /// The checked schema (meaningful when there is no error).
    pub schema: Schema,
    /// Errors and warnings, in the order found.
    pub diagnostics: Vec<Diagnostic>,
    /// Every file read or attempted (roots and imports), for
    /// `cargo:rerun-if-changed`.
    pub inputs: Vec<PathBuf>,
}

impl Compiled {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The diagnostics rendered as plain text.
    pub fn render(&self) -> String {
        self.sources.render(&self.diagnostics)
    }

    /// The Rust for the checked schema (call only when there is no error).
    pub fn generate(&self, opts: &CodegenOptions) -> Result<String, CodegenError> {
        let names: Vec<String> = self
            .sources
            .files()
            .iter()
            .map(|f| f.name.clone())
            .collect();
        codegen::generate(&self.schema, &names, opts)
    }

    /// A Wireshark Lua dissector for the checked schema's packets (call
    /// only when there is no error).
    pub fn dissector(&self, opts: &dissector::DissectorOptions) -> String {
        let names: Vec<String> = self
            .sources
            .files()
            .iter()
            .map(|f| f.name.clone())
            .collect();
        dissector::generate(&self.schema, &names, opts)
    }

    /// Checks that a packet set enum named `name` (`Builder::packet_set`,
    /// `gen --packet-set`, `check --packet-set`) would compile next to the
    /// schema's types, and adds an E0118 error for each reason it would not:
    /// a name that is not a Rust identifier or is a Rust keyword, a name
    /// already taken by an item at the root of the schema (the enum is
    /// generated there), no packet at all, or two packets whose variants
    /// would share a name.
    /// Does nothing when the compilation already has errors.
    pub fn check_packet_set(&mut self, name: &str) {
        if self.has_errors() {
            return;
        }
        let help = "help: choose another name with `Builder::packet_set` or `--packet-set`";
        if codegen::RUST_KEYWORDS.contains(&name)
            || ["self", "Self", "super", "crate"].contains(&name)
        {
            let mut chars = name.chars();
            let upper: String = chars
                .next()
                .map(|c| c.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
                .collect();
            let suggestion = if upper == name || upper == "Self" {
                "`Msg`".to_string()
            } else {
                format!("`{upper}` or `Msg`")
            };
            self.diagnostics.push(
                Diagnostic::error(
                    "E0118",
                    format!("the packet set name `{name}` is a Rust keyword"),
                )
                .with_note(format!(
                    "note: the packet set is generated as `pub enum <name>`, and a keyword cannot name it (`pub enum {name}` does not compile)"
                ))
                .with_note(format!(
                    "help: choose another name with `Builder::packet_set` or `--packet-set`, such as {suggestion}"
                )),
            );
            return;
        }
        if syn::parse_str::<syn::Ident>(name).is_err() || name.starts_with("r#") {
            self.diagnostics.push(
                Diagnostic::error(
                    "E0118",
                    format!("the packet set name `{name}` is not a Rust identifier"),
                )
                .with_note("note: the packet set is generated as `pub enum <name>`")
                .with_note("help: use an UpperCamelCase name such as `Msg`"),
            );
            return;
        }
        if validate::RUST_PRIMITIVES.contains(&name) {
            self.diagnostics.push(
                Diagnostic::error(
                    "E0118",
                    format!(
                        "the packet set name `{name}` would shadow Rust's primitive type `{name}`"
                    ),
                )
                .with_note("help: use an UpperCamelCase name such as `Msg`"),
            );
            return;
        }
        for (_, file) in &self.parsed {
            for item in &file.items {
                let Some(id) = item.kind.name() else { continue };
                if id.name != name {
                    continue;
                }
                let what = match &item.kind {
                    ast::ItemKind::Module(_) => "module",
                    ast::ItemKind::Packet(_) => "packet",
                    ast::ItemKind::Struct(_) => "struct",
                    ast::ItemKind::Enum(_) => "enum",
                    ast::ItemKind::Import(_) => continue,
                };
                self.diagnostics.push(
                    Diagnostic::error(
                        "E0118",
                        format!("the packet set `{name}` has the name of the {what} `{name}`"),
                    )
                    .with_primary(id.span, format!("the {what} `{name}` is declared here"))
                    .with_note(format!(
                        "note: the packet set is generated as `pub enum {name}` at the root of the schema, next to this {what} (rustc: E0428)"
                    ))
                    .with_note(help),
                );
            }
        }
        let variants = codegen::packet_set_variants(&self.schema);
        if variants.is_empty() {
            let files: Vec<&str> = self
                .sources
                .files()
                .iter()
                .map(|f| f.name.as_str())
                .collect();
            self.diagnostics.push(
                Diagnostic::error(
                    "E0118",
                    format!("the packet set `{name}` has no member: no packet is declared in {}", files.join(", ")),
                )
                .with_note("note: `#[derive(PacketSet)]` needs at least one packet")
                .with_note("help: give the schema file that declares the packets, or generate without a packet set"),
            );
        }
        for (i, (t, v)) in variants.iter().enumerate() {
            if let Some((first, _)) = variants[..i].iter().find(|(_, w)| w == v) {
                let (a, b) = (&self.schema.types[*first], &self.schema.types[*t]);
                self.diagnostics.push(
                    Diagnostic::error(
                        "E0118",
                        format!(
                            "packet set `{name}`: the packets `{}` and `{}` both map to the variant `{v}`",
                            a.full_name(),
                            b.full_name()
                        ),
                    )
                    .with_primary(b.name.span, format!("this packet's variant is `{v}`"))
                    .with_secondary(a.name.span, "and so is this one's")
                    .with_note("note: a variant is named after its packet, prefixed with its modules (`ChatSay`) when two packets share a name")
                    .with_note("help: rename one of the packets or modules"),
                );
            }
        }
    }

    /// Each parsed file printed in the canonical format, in load order.
    pub fn formatted(&self) -> Vec<(FileId, String)> {
        self.parsed
            .iter()
            .map(|(id, f)| (*id, fmt::format_file(f)))
            .collect()
    }
}

/// Formats one schema file's text canonically (`packet-schema fmt`);
/// on a syntax error, the diagnostics (file id 0 in a one-file
/// [`SourceMap`] named `name`), rendered.
pub fn format_str(name: &str, text: &str) -> Result<String, Error> {
    match parse::parse_file(text, 0) {
        Ok(file) => Ok(fmt::format_file(&file)),
        Err(diags) => {
            let mut sources = SourceMap::new();
            sources.add(name, name, text.to_string());
            Err(Error::new(sources.render(&diags)))
        }
    }
}

/// Loads `roots` and every file they import (relative to the importing
/// file, then each of `includes`), parses and checks them as one
/// compilation.
pub fn compile_files(
    roots: &[impl AsRef<Path>],
    includes: &[PathBuf],
    opts: &validate::Options,
) -> Compiled {
    let mut loader = Loader {
        sources: SourceMap::new(),
        parsed: Vec::new(),
        diagnostics: Vec::new(),
        inputs: Vec::new(),
        seen: HashSet::new(),
        includes,
    };
    for root in roots {
        let root = root.as_ref();
        loader.load(root, root.display().to_string(), None);
    }
    // Checking a compilation with a missing or unparsable file would only
    // add "unknown type" noise for the types it declares.
    let schema = if loader.diagnostics.iter().any(Diagnostic::is_error) {
        Schema::default()
    } else {
        let refs: Vec<(FileId, &ast::File)> =
            loader.parsed.iter().map(|(id, f)| (*id, f)).collect();
        let (schema, diags) = validate::validate(&refs, opts);
        loader.diagnostics.extend(diags);
        schema
    };
    Compiled {
        sources: loader.sources,
        parsed: loader.parsed,
        schema,
        diagnostics: loader.diagnostics,
        inputs: loader.inputs,
    }
}

/// Parses and checks one schema given as text (no imports are followed:
/// an `import` is reported as not found). For tests and tools.
pub fn compile_str(name: &str, text: &str, opts: &validate::Options) -> Compiled {
    let mut sources = SourceMap::new();
    let id = sources.add(name, name, text.to_string());
    let mut diagnostics = Vec::new();
    let mut parsed = Vec::new();
    match parse::parse_file(text, id) {
        Ok(file) => {
            for item in &file.items {
                if let ast::ItemKind::Import(i) = &item.kind {
                    diagnostics.push(import_not_found(&i.path, &[]));
                }
            }
            parsed.push((id, file));
        }
        Err(ds) => diagnostics.extend(ds),
    }
    let schema = if diagnostics.is_empty() {
        let refs: Vec<(FileId, &ast::File)> = parsed.iter().map(|(id, f)| (*id, f)).collect();
        let (schema, diags) = validate::validate(&refs, opts);
        diagnostics.extend(diags);
        schema
    } else {
        Schema::default()
    };
    Compiled {
        sources,
        parsed,
        schema,
        diagnostics,
        inputs: Vec::new(),
    }
}

fn import_not_found(path: &ast::Spanned<String>, tried: &[PathBuf]) -> Diagnostic {
    let mut d = Diagnostic::error(
        "E0004",
        format!("cannot find the imported file `{}`", path.value),
    )
    .with_primary(
        path.span,
        "expected a schema file next to this one or in an include directory",
    );
    if !tried.is_empty() {
        let list: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
        d = d.with_note(format!("note: looked for {}", list.join(", ")));
    }
    d
}

struct Loader<'a> {
    sources: SourceMap,
    parsed: Vec<(FileId, ast::File)>,
    diagnostics: Vec<Diagnostic>,
    inputs: Vec<PathBuf>,
    seen: HashSet<PathBuf>,
    includes: &'a [PathBuf],
}

impl Loader<'_> {
    fn load(&mut self, path: &Path, name: String, from: Option<&ast::Spanned<String>>) {
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if !self.seen.insert(key) {
            return; // already loaded, or being loaded (an import cycle)
        }
        self.inputs.push(path.to_path_buf());
        let text = match std::fs::read(path).map(String::from_utf8) {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => {
                // Point at the first byte that is not UTF-8, in the text
                // shown with replacement characters (the same up to there).
                let at = e.utf8_error().valid_up_to();
                let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let end = lossy[at..].chars().next().map_or(at, |c| at + c.len_utf8());
                let id = self.sources.add(name.clone(), path, lossy);
                let (line, col) = self.sources.line_col(Span::new(id, at..end));
                let mut d = Diagnostic::error(
                    "E0004",
                    format!(
                        "cannot read `{name}`: not UTF-8 at line {line}, column {col} (byte {at})"
                    ),
                )
                .with_primary(
                    Span::new(id, at..end),
                    "expected UTF-8 text; this byte is not",
                )
                .with_note("help: save the file as UTF-8");
                if let Some(from) = from {
                    d = d.with_secondary(from.span, "imported here");
                }
                self.diagnostics.push(d);
                return;
            }
            Err(e) => {
                let mut d = Diagnostic::error("E0004", format!("cannot read `{name}`: {e}"));
                if let Some(from) = from {
                    d = d.with_primary(from.span, "imported here");
                }
                self.diagnostics.push(d);
                return;
            }
        };
        let id = self.sources.add(name, path, text);
        let file = match parse::parse_file(&self.sources.get(id).text, id) {
            Ok(f) => f,
            Err(ds) => {
                self.diagnostics.extend(ds);
                return;
            }
        };
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let imports: Vec<ast::Spanned<String>> = file
            .items
            .iter()
            .filter_map(|i| match &i.kind {
                ast::ItemKind::Import(imp) => Some(imp.path.clone()),
                _ => None,
            })
            .collect();
        for imp in imports {
            let mut tried = vec![dir.join(&imp.value)];
            tried.extend(self.includes.iter().map(|inc| inc.join(&imp.value)));
            match tried.iter().find(|p| p.is_file()) {
                Some(found) => {
                    let found = found.clone();
                    self.load(&found, found.display().to_string(), Some(&imp));
                }
                None => self.diagnostics.push(import_not_found(&imp, &tried)),
            }
        }
        self.parsed.push((id, file));
    }
}

/// A failed [`Builder`] run: the rendered diagnostics (or an I/O error).
/// `Debug` shows the same text as `Display`, so `.unwrap()` in build.rs
/// prints readable diagnostics.
pub struct Error {
    message: String,
}

impl Error {
    fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
        }
    }

    /// The message: rendered diagnostics, `file:line:column` and all.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.message)
    }
}

impl core::fmt::Debug for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "\n{}", self.message)
    }
}

impl std::error::Error for Error {}

/// Why `name` cannot be [`Builder::output_name`]'s file stem, if it cannot.
fn bad_output_name(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("the name is empty (the file would be `.rs`)")
    } else if name.contains(['/', '\\']) || name == "." || name == ".." {
        Some("a file stem, not a path (the file goes into `OUT_DIR` or `Builder::out_dir`)")
    } else if name.ends_with(".rs") {
        Some("`.rs` is added to the name (the file would be `<name>.rs.rs`)")
    } else {
        None
    }
}

/// Rust generated by [`Builder::generate`].
#[derive(Clone, Debug)]
pub struct Generated {
    /// The file name stem (`game` for `game.rs`).
    pub name: String,
    /// The formatted Rust source.
    pub code: String,
    /// Every schema file read (roots and imports).
    pub inputs: Vec<PathBuf>,
    /// Rendered warnings (empty when none).
    pub warnings: String,
}

/// Compiles schema files to Rust, for build.rs (prost-build style).
///
/// [`Builder::compile`] writes `$OUT_DIR/<name>.rs`, prints
/// `cargo:rerun-if-changed` for every input (imports included) and
/// `cargo:warning` for each warning line; include the result with
/// `::packet_core::include_schema!` (defined in the runtime crate, like
/// `prost::include_proto!`, so a crate using the generated code needs
/// packet-schema only as a build-dependency).
#[derive(Clone, Debug)]
pub struct Builder {
    includes: Vec<PathBuf>,
    out_dir: Option<PathBuf>,
    output_name: Option<String>,
    validate: validate::Options,
    codegen: CodegenOptions,
    deny_warnings: bool,
    cargo_directives: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    /// Defaults: 64 KiB frames, borrowed strings, `::packet_core`, output in
    /// `OUT_DIR`, cargo directives printed.
    pub fn new() -> Self {
        Builder {
            includes: Vec::new(),
            out_dir: None,
            output_name: None,
            validate: validate::Options::default(),
            codegen: CodegenOptions::default(),
            deny_warnings: false,
            cargo_directives: true,
        }
    }

    /// Adds a directory where imports are looked up (after the importing
    /// file's own directory).
    pub fn include(mut self, dir: impl AsRef<Path>) -> Self {
        self.includes.push(dir.as_ref().to_path_buf());
        self
    }

    /// Writes into `dir` instead of `$OUT_DIR`.
    pub fn out_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.out_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Names the output `<name>.rs` (default: the first schema's stem).
    /// A name that is empty, a path, or ends in `.rs` is an error of
    /// [`Builder::generate`] and [`Builder::compile`].
    pub fn output_name(mut self, name: impl Into<String>) -> Self {
        self.output_name = Some(name.into());
        self
    }

    /// The largest frame peers accept (default 64 KiB), taken as
    /// `FrameConfig::with_max_frame_len` takes it ([`effective_max_frame_len`]);
    /// packets that can never fit are errors, packets that may not fit are
    /// warnings.
    pub fn max_frame_len(mut self, len: u32) -> Self {
        self.validate.max_frame_len = len;
        self
    }

    /// Whether the packets travel in sealed (encrypted) frames, which leave
    /// 12 bytes less room for the body (default false).
    pub fn sealed_frames(mut self, sealed: bool) -> Self {
        self.validate.sealed = sealed;
        self
    }

    /// The path to `packet_core` in generated code (default
    /// `::packet_core`), for crates that reach it through a re-export:
    /// `"::packet_net"` for a game that depends on packet-net alone,
    /// `"my_crate::packet_core"` for a crate of its own.
    pub fn crate_path(mut self, path: impl Into<String>) -> Self {
        self.codegen.crate_path = path.into();
        self
    }

    /// Generates owned `String` / `Vec<u8>` instead of borrowed `&'a str` /
    /// `&'a [u8]` (no lifetimes, one allocation per field on decode).
    pub fn owned(mut self, owned: bool) -> Self {
        self.codegen.owned = owned;
        self
    }

    /// Also generates `pub enum <name>` over every packet with
    /// `#[derive(PacketSet)]`, so a receiver decodes any frame by its id:
    /// `Msg::decode_frame(&frame)?`. A name the enum cannot have (not an
    /// identifier, a Rust keyword, or taken by a type or module at the
    /// schema's root) is
    /// an E0118 diagnostic, as [`Compiled::check_packet_set`] reports it.
    pub fn packet_set(mut self, name: impl Into<String>) -> Self {
        self.codegen.packet_set = Some(name.into());
        self
    }

    /// Adds an outer attribute to every generated type (the packet set
    /// included), e.g. `type_attribute("#[allow(dead_code)]")`.
    ///
    /// The generator already derives `Debug, Clone, PartialEq, Packet` on
    /// packets, structs and enums with data, `Debug, Clone, Copy,
    /// PartialEq, Eq, Hash, Packet` on C-like enums, and `Debug, Clone,
    /// PartialEq, PacketSet` on the packet set: deriving one of these again
    /// is rustc's E0119 (`#[derive(Eq)]` fails on any schema with a C-like
    /// enum), and deriving a trait a field type lacks (`Eq` with an `f32`)
    /// fails on the schemas that have one.
    pub fn type_attribute(mut self, attr: impl Into<String>) -> Self {
        self.codegen.type_attributes.push(attr.into());
        self
    }

    /// Treats warnings as errors.
    pub fn deny_warnings(mut self, deny: bool) -> Self {
        self.deny_warnings = deny;
        self
    }

    /// Whether [`Builder::compile`] prints `cargo:` directives (default
    /// true; turn off outside build scripts).
    pub fn cargo_directives(mut self, on: bool) -> Self {
        self.cargo_directives = on;
        self
    }

    /// Loads, checks and generates without writing anything.
    pub fn generate(&self, roots: &[impl AsRef<Path>]) -> Result<Generated, Error> {
        let compiled = compile_files(roots, &self.includes, &self.validate);
        self.finish(compiled, roots)
    }

    fn finish(
        &self,
        mut compiled: Compiled,
        roots: &[impl AsRef<Path>],
    ) -> Result<Generated, Error> {
        // A list that came out empty (a glob that matched nothing) wrote
        // `schema.rs` with no types, and the build failed later on the
        // names the crate uses.
        if roots.is_empty() {
            return Err(Error::new(
                "error: no schema file given: pass the root schema files, e.g. `compile(&[\"schema/game.packet\"])` (their imports are found from them)\n",
            ));
        }
        if let Some(n) = &self.output_name
            && let Some(why) = bad_output_name(n)
        {
            return Err(Error::new(format!(
                "error: `Builder::output_name({n:?})`: {why}; expected a file stem such as \"game\" (written as `game.rs` and included with `include_schema!(\"game\")`)\n"
            )));
        }
        if let Some(set) = &self.codegen.packet_set {
            compiled.check_packet_set(set);
        }
        let warnings: Vec<Diagnostic> = compiled
            .diagnostics
            .iter()
            .filter(|d| !d.is_error())
            .cloned()
            .collect();
        if compiled.has_errors() {
            return Err(Error::new(compiled.render()));
        }
        if self.deny_warnings && !warnings.is_empty() {
            return Err(Error::new(format!(
                "{}error: warnings denied (Builder::deny_warnings)\n",
                compiled.render()
            )));
        }
        let sources: Vec<String> = compiled
            .sources
            .files()
            .iter()
            .map(|f| f.name.clone())
            .collect();
        let code = codegen::generate(&compiled.schema, &sources, &self.codegen).map_err(|e| {
            let d = Diagnostic::error("E0119", e.to_string())
                .with_note("note: a code generation option (`Builder` or `gen`) is not valid Rust");
            Error::new(compiled.sources.render(&[d]))
        })?;
        let name = match &self.output_name {
            Some(n) => n.clone(),
            None => roots
                .first()
                .and_then(|r| r.as_ref().file_name())
                .map(|s| {
                    let s = s.to_string_lossy();
                    s.split('.').next().unwrap_or_default().to_string()
                })
                // A root named `.packet` has no stem: not `.rs`.
                .filter(|stem| !stem.is_empty())
                .unwrap_or_else(|| "schema".to_string()),
        };
        Ok(Generated {
            name,
            code,
            inputs: compiled.inputs,
            warnings: compiled.sources.render(&warnings),
        })
    }

    /// Compiles `roots` into `<out_dir>/<name>.rs` and returns its path.
    /// The file is rewritten only when its content changes.
    pub fn compile(&self, roots: &[impl AsRef<Path>]) -> Result<PathBuf, Error> {
        self.compile_with_directives(roots, &mut std::io::stdout().lock())
    }

    /// [`Builder::compile`], writing the `cargo:` directives to `out`
    /// instead of stdout (for tests and tools that drive cargo themselves).
    pub fn compile_with_directives(
        &self,
        roots: &[impl AsRef<Path>],
        out: &mut dyn std::io::Write,
    ) -> Result<PathBuf, Error> {
        let io = |e: std::io::Error| Error::new(format!("cannot write cargo directives: {e}"));
        let compiled = compile_files(roots, &self.includes, &self.validate);
        if self.cargo_directives {
            // Every input, imports included, and the roots even when they
            // could not be read: cargo reruns once they appear.
            for input in &compiled.inputs {
                writeln!(out, "cargo:rerun-if-changed={}", input.display()).map_err(io)?;
            }
            for r in roots {
                let r = r.as_ref();
                if !compiled.inputs.iter().any(|i| i == r) {
                    writeln!(out, "cargo:rerun-if-changed={}", r.display()).map_err(io)?;
                }
            }
        }
        let generated = self.finish(compiled, roots)?;
        if self.cargo_directives {
            for line in generated.warnings.lines().filter(|l| !l.trim().is_empty()) {
                writeln!(out, "cargo:warning={line}").map_err(io)?;
            }
        }
        let dir = match &self.out_dir {
            Some(d) => d.clone(),
            None => PathBuf::from(std::env::var_os("OUT_DIR").ok_or_else(|| {
                Error::new("OUT_DIR is not set: call from build.rs or set Builder::out_dir")
            })?),
        };
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::new(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join(format!("{}.rs", generated.name));
        let unchanged = std::fs::read_to_string(&path).is_ok_and(|old| old == generated.code);
        if !unchanged {
            std::fs::write(&path, &generated.code)
                .map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))?;
        }
        Ok(path)
    }
}

// The crate README's examples, run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
