//! A hand-written recursive-descent parser from [`crate::lexer`] tokens to
//! an [`ast::File`]. The grammar is in `docs/schema-language.md`.
//!
//! The parser stops at the first syntax error of a file and reports what it
//! expected there. It attaches comments: `//` and `///` lines in front of an
//! item, field or variant become its [`Leading`]; a `//` comment on the same
//! line after it becomes its `trailing` comment; comments before a closing
//! brace are kept as the block's `end_comments`. Nothing here resolves
//! names or checks meaning ([`crate::validate`] does).

use crate::ast::{
    self, Enum, Field, Fields, FileId, Ident, Import, IntLit, Item, ItemKind, Leading, LenWidth,
    Module, Packet, Path, Prim, SeqOpts, Span, Spanned, Struct, Type, TypeKind, Variant,
    VariantKind,
};
use crate::diagnostic::Diagnostic;
use crate::lexer::{Tok, Token, lex};

/// Nesting deeper than this (types in types, modules in modules) is
/// refused, so hostile input cannot overflow the stack.
pub const MAX_DEPTH: usize = 64;

/// At most this many syntax errors are reported per file.
pub const MAX_ERRORS: usize = 20;

/// Parses one file. On failure returns the errors found (at most
/// [`MAX_ERRORS`]): every lexical error if there is any, else one syntax
/// error per top-level item that fails to parse (the parser
/// resynchronises at the next item).
pub fn parse_file(src: &str, file: FileId) -> Result<ast::File, Vec<Diagnostic>> {
    let (tokens, errors) = lex(src, file);
    if !errors.is_empty() {
        // Syntax errors after a skipped character or a cut string are
        // mostly its echoes: report the lexical errors alone.
        let mut errors = errors;
        errors.truncate(MAX_ERRORS);
        return Err(errors);
    }
    let mut errors = Vec::new();
    let mut p = Parser {
        tokens,
        pos: 0,
        pending: Vec::new(),
        last_line: 0,
        last_end: None,
        open: Vec::new(),
        depth: 0,
    };
    let parsed = p.file(&mut errors);
    errors.truncate(MAX_ERRORS);
    match parsed {
        Some(f) if errors.is_empty() => Ok(f),
        _ => Err(errors),
    }
}

type PResult<T> = Result<T, Diagnostic>;

#[derive(Debug)]
enum Pending {
    /// A `//` comment and its line.
    Comment(String, u32),
    Doc(String, Span),
    Inner(Span),
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// Comments seen since the last node took them.
    pending: Vec<Pending>,
    /// Line of the last significant token consumed.
    last_line: u32,
    /// An empty span just after the last significant token consumed.
    last_end: Option<Span>,
    /// The `{` of each block being parsed, innermost last (for "unclosed
    /// `{`" at the end of the file).
    open: Vec<Span>,
    depth: usize,
}

impl Parser {
    /// The next significant token; comments before it move to `pending`.
    fn peek(&mut self) -> &Token {
        loop {
            let t = &self.tokens[self.pos];
            let p = match &t.tok {
                Tok::Comment(s) => Pending::Comment(s.clone(), t.line),
                Tok::Doc(s) => Pending::Doc(s.clone(), t.span),
                Tok::InnerDoc(_) => Pending::Inner(t.span),
                _ => break,
            };
            self.pending.push(p);
            self.pos += 1;
        }
        &self.tokens[self.pos]
    }

    fn bump(&mut self) -> Token {
        self.peek();
        let t = self.tokens[self.pos].clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        self.last_line = t.line;
        if t.tok != Tok::Eof {
            self.last_end = Some(Span {
                start: t.span.end,
                ..t.span
            });
        }
        t
    }

    /// Opens a block at its `{`.
    fn open_brace(&mut self, span: Span) {
        self.open.push(span);
    }

    /// Consumes the `}` closing the innermost block.
    fn close_brace(&mut self) -> Span {
        self.open.pop();
        self.bump().span
    }

    fn is_punct(&mut self, c: char) -> bool {
        self.peek().tok == Tok::Punct(c)
    }

    fn is_ident(&mut self, word: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(s) if s == word)
    }

    fn error_here(&mut self, expected: &str) -> Diagnostic {
        let t = self.peek().clone();
        if t.tok == Tok::Eof
            && let Some(&open) = self.open.last()
        {
            // What is expected matters less than the brace left open:
            // point at it, and at the end of the text rather than at an
            // empty last line.
            return Diagnostic::error("E0002", "unclosed `{`: the file ends inside a block")
                .with_primary(
                    self.last_end.unwrap_or(t.span),
                    format!("expected {expected} before the end of the file"),
                )
                .with_secondary(open, "this `{` is never closed");
        }
        Diagnostic::error(
            "E0002",
            format!("expected {expected}, found {}", t.tok.describe()),
        )
        .with_primary(t.span, format!("expected {expected}"))
    }

    fn expect_punct(&mut self, c: char, expected: &str) -> PResult<Span> {
        if self.is_punct(c) {
            Ok(self.bump().span)
        } else {
            Err(self.error_here(expected))
        }
    }

    /// Any identifier (a field name may be a schema keyword).
    fn ident(&mut self, expected: &str) -> PResult<Ident> {
        match self.peek().tok.clone() {
            Tok::Ident(name) => {
                let span = self.bump().span;
                Ok(Ident { name, span })
            }
            _ => Err(self.error_here(expected)),
        }
    }

    /// A declared name: not a keyword or built-in type.
    fn decl_name(&mut self, what: &str) -> PResult<Ident> {
        let id = self.ident(what)?;
        if ast::is_reserved(&id.name) {
            return Err(Diagnostic::error(
                "E0002",
                format!("expected {what}, found keyword `{}`", id.name),
            )
            .with_primary(
                id.span,
                format!(
                    "expected a name; `{}` is reserved by the schema language",
                    id.name
                ),
            ));
        }
        Ok(id)
    }

    fn int(&mut self, expected: &str) -> PResult<IntLit> {
        let neg = if self.is_punct('-') {
            Some(self.bump().span)
        } else {
            None
        };
        let t = self.peek().clone();
        let Tok::Int(text) = &t.tok else {
            return Err(self.error_here(expected));
        };
        self.bump();
        let digits = text.replace('_', "");
        let (radix, body) = if let Some(h) = digits.strip_prefix("0x") {
            (16, h)
        } else if let Some(b) = digits.strip_prefix("0b") {
            (2, b)
        } else {
            (10, digits.as_str())
        };
        let value = u64::from_str_radix(body, radix).map_err(|_| {
            Diagnostic::error("E0003", format!("invalid integer `{text}`")).with_primary(
                t.span,
                "expected a decimal, `0x` hex or `0b` binary integer that fits in 64 bits",
            )
        })?;
        let mut value = i128::from(value);
        let mut span = t.span;
        let mut full = text.clone();
        if let Some(ns) = neg {
            value = -value;
            span = ns.to(t.span);
            full = format!("-{text}");
        }
        Ok(IntLit {
            value,
            text: full,
            span,
        })
    }

    fn enter(&mut self, span: Span) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Diagnostic::error("E0002", "nesting too deep").with_primary(
                span,
                format!("expected at most {MAX_DEPTH} levels of nesting"),
            ));
        }
        Ok(())
    }

    /// Takes the pending comments as a node's leading comments.
    fn leading(&mut self) -> PResult<Leading> {
        let mut out = Leading::default();
        for p in self.pending.drain(..) {
            match p {
                Pending::Comment(s, _) => out.comments.push(s),
                Pending::Doc(s, _) => out.docs.push(s),
                Pending::Inner(span) => {
                    return Err(Diagnostic::error(
                        "E0002",
                        "inner doc comment `//!` in the wrong place",
                    )
                    .with_primary(
                        span,
                        "expected `//!` only at the top of the file; use `///` to document an item",
                    ));
                }
            }
        }
        Ok(out)
    }

    /// Takes the pending comments before a closing brace or end of file;
    /// doc comments there document nothing.
    fn end_comments(&mut self, closing: &str) -> PResult<Vec<String>> {
        let mut out = Vec::new();
        for p in self.pending.drain(..) {
            match p {
                Pending::Comment(s, _) => out.push(s),
                Pending::Doc(_, span) => {
                    return Err(Diagnostic::error("E0002", "doc comment documents nothing")
                        .with_primary(span, format!("expected an item, field or variant after this doc comment, found {closing}")));
                }
                Pending::Inner(span) => {
                    return Err(Diagnostic::error(
                        "E0002",
                        "inner doc comment `//!` in the wrong place",
                    )
                    .with_primary(span, "expected `//!` only at the top of the file"));
                }
            }
        }
        Ok(out)
    }

    /// A `//` comment on the line of the last consumed token: the next
    /// token, or the first pending comment when a look at the next
    /// significant token (is there a `=`, a `(`?) already moved it there
    /// (the last variant or field without a comma, `Died // died` before
    /// `}`).
    fn trailing(&mut self) -> Option<String> {
        if let Some(Pending::Comment(_, line)) = self.pending.first()
            && *line == self.last_line
        {
            let Pending::Comment(s, _) = self.pending.remove(0) else {
                unreachable!("matched above")
            };
            return Some(s);
        }
        if !self.pending.is_empty() {
            return None;
        }
        let t = &self.tokens[self.pos];
        if let Tok::Comment(s) = &t.tok
            && t.line == self.last_line
        {
            let s = s.clone();
            self.pos += 1;
            return Some(s);
        }
        None
    }

    /// After a field or variant: an optional `,` and a same-line comment
    /// (before or after the comma).
    fn comma_and_trailing(&mut self) -> (bool, Option<String>) {
        let mut trailing = self.trailing();
        let more = self.is_punct(',');
        if more {
            self.bump();
            if trailing.is_none() {
                trailing = self.trailing();
            }
        }
        (more, trailing)
    }

    /// The whole file; syntax errors go to `errors` and parsing resumes
    /// at the next top-level item.
    fn file(&mut self, errors: &mut Vec<Diagnostic>) -> Option<ast::File> {
        let mut docs = Vec::new();
        // `//!` lines lead the file, before any other comment.
        while let Tok::InnerDoc(s) = &self.tokens[self.pos].tok {
            docs.push(s.clone());
            self.pos += 1;
        }
        let mut items = Vec::new();
        loop {
            if self.peek().tok == Tok::Eof || errors.len() >= MAX_ERRORS {
                break;
            }
            let start = self.pos;
            match self.item(true) {
                Ok(item) => items.push(item),
                Err(d) => {
                    errors.push(d);
                    self.recover(start);
                }
            }
        }
        match self.end_comments("end of file") {
            Ok(end_comments) => Some(ast::File {
                docs,
                items,
                end_comments,
            }),
            Err(d) => {
                errors.push(d);
                None
            }
        }
    }

    /// Skips the item that started at token `start`: to the end of its
    /// outermost braces, past a `;` outside braces, or to the next item
    /// keyword outside braces. Always moves past `start`.
    fn recover(&mut self, start: usize) {
        self.pending.clear();
        self.depth = 0;
        self.open.clear();
        let mut pos = start;
        let mut depth = 0usize;
        let mut first = true;
        loop {
            match &self.tokens[pos].tok {
                Tok::Eof => break,
                Tok::Punct('{') => depth += 1,
                Tok::Punct('}') if depth > 0 => {
                    depth -= 1;
                    if depth == 0 {
                        pos += 1;
                        break;
                    }
                }
                Tok::Punct(';') if depth == 0 => {
                    pos += 1;
                    break;
                }
                Tok::Ident(w)
                    if depth == 0
                        && !first
                        && matches!(
                            w.as_str(),
                            "packet" | "struct" | "enum" | "module" | "import"
                        ) =>
                {
                    break;
                }
                _ => {}
            }
            first = false;
            pos += 1;
        }
        self.pos = pos.max(start + 1).min(self.tokens.len() - 1);
    }

    /// An item; `top`: at the top level of the file, where imports go.
    fn item(&mut self, top: bool) -> PResult<Item> {
        let start = self.peek().span;
        let first_doc = self.pending.iter().find_map(|p| match p {
            Pending::Doc(_, span) => Some(*span),
            _ => None,
        });
        let leading = self.leading()?;
        let kind = if self.is_ident("import") {
            if !top {
                return Err(Diagnostic::error("E0002", "`import` inside a module")
                    .with_primary(start, "expected `packet`, `struct`, `enum` or `module`; imports go at the top level of a file"));
            }
            // An import generates nothing a doc comment could go on.
            if let Some(span) = first_doc {
                return Err(Diagnostic::error("E0002", "doc comment documents nothing")
                    .with_primary(span, "expected an item, field or variant after this doc comment, found `import`")
                    .with_note("help: use `//` for a comment about the import, or `//!` at the top of the file to document the file"));
            }
            self.bump();
            let t = self.peek().clone();
            let Tok::Str(path) = t.tok else {
                return Err(self.error_here("a file path in quotes after `import`"));
            };
            self.bump();
            self.expect_punct(';', "`;` after the import")?;
            ItemKind::Import(Import {
                path: Spanned {
                    value: path,
                    span: t.span,
                },
            })
        } else if self.is_ident("module") {
            self.bump();
            let name = self.decl_name("a module name")?;
            let open = self.expect_punct('{', "`{` to open the module")?;
            self.enter(open)?;
            self.open_brace(open);
            let mut items = Vec::new();
            while !self.is_punct('}') {
                if self.peek().tok == Tok::Eof {
                    return Err(self.error_here("an item or `}` to close the module"));
                }
                items.push(self.item(false)?);
            }
            let end_comments = self.end_comments("`}`")?;
            self.close_brace();
            self.depth -= 1;
            ItemKind::Module(Module {
                name,
                items,
                end_comments,
            })
        } else if self.is_ident("packet") {
            self.bump();
            let name = self.decl_name("a packet name")?;
            self.expect_punct('=', "`=` and the packet id after the packet name")?;
            let id = self.int("the packet id (an integer, e.g. `0x0102`)")?;
            let body = self.fields()?;
            ItemKind::Packet(Packet { name, id, body })
        } else if self.is_ident("struct") {
            self.bump();
            let name = self.decl_name("a struct name")?;
            let body = self.fields()?;
            ItemKind::Struct(Struct { name, body })
        } else if self.is_ident("enum") {
            self.bump();
            self.enum_body()?
        } else {
            let mut d = self.error_here("`packet`, `struct`, `enum`, `module` or `import`");
            if let Tok::Ident(word) = &self.peek().tok
                && let Some(kw) = crate::diagnostic::closest(
                    word,
                    ["packet", "struct", "enum", "module", "import"],
                )
            {
                d = d.with_note(format!("help: did you mean `{kw}`?"));
            }
            return Err(d);
        };
        let end = self.tokens[self.pos.saturating_sub(1)].span;
        let trailing = self.trailing();
        Ok(Item {
            leading,
            kind,
            trailing,
            span: start.to(end),
        })
    }

    fn enum_body(&mut self) -> PResult<ItemKind> {
        let name = self.decl_name("an enum name")?;
        let repr = if self.is_punct(':') {
            self.bump();
            let id = self.ident("the tag type (`u8`, `u16` or `u32`)")?;
            match Prim::from_name(&id.name).filter(|p| p.repr_range().is_some()) {
                Some(p) => Some(Spanned {
                    value: p,
                    span: id.span,
                }),
                None => {
                    return Err(Diagnostic::error(
                        "E0002",
                        format!("`{}` cannot be an enum's tag type", id.name),
                    )
                    .with_primary(
                        id.span,
                        "expected `u8`, `u16` or `u32` (the tag widths the derive writes)",
                    ));
                }
            }
        } else {
            None
        };
        let open = self.expect_punct('{', "`{` to open the enum (or `:` and a tag type)")?;
        self.open_brace(open);
        let mut variants = Vec::new();
        loop {
            if self.is_punct('}') {
                break;
            }
            let start = self.peek().span;
            let leading = self.leading()?;
            let vname = self.decl_name("a variant name or `}`")?;
            let kind = if self.is_punct('(') {
                let open = self.bump().span;
                self.enter(open)?;
                let mut tys = Vec::new();
                while !self.is_punct(')') {
                    tys.push(self.ty()?);
                    if !self.is_punct(')') {
                        self.expect_punct(',', "`,` or `)` after the type")?;
                    }
                }
                self.bump();
                self.depth -= 1;
                VariantKind::Tuple(tys)
            } else if self.is_punct('{') {
                VariantKind::Struct(self.fields()?)
            } else {
                VariantKind::Unit
            };
            let value = if self.is_punct('=') {
                self.bump();
                Some(self.int("the variant's tag value (an integer)")?)
            } else {
                None
            };
            let end = self.tokens[self.pos.saturating_sub(1)].span;
            let (more, trailing) = self.comma_and_trailing();
            variants.push(Variant {
                leading,
                name: vname,
                kind,
                value,
                trailing,
                span: start.to(end),
            });
            if !more && !self.is_punct('}') {
                return Err(self.error_here("`,` or `}` after the variant"));
            }
        }
        let end_comments = self.end_comments("`}`")?;
        self.close_brace();
        Ok(ItemKind::Enum(Enum {
            name,
            repr,
            variants,
            end_comments,
        }))
    }

    fn fields(&mut self) -> PResult<Fields> {
        let open = self.expect_punct('{', "`{` to open the fields")?;
        self.enter(open)?;
        self.open_brace(open);
        let mut fields = Vec::new();
        loop {
            if self.is_punct('}') {
                break;
            }
            let start = self.peek().span;
            let leading = self.leading()?;
            let name = self.ident("a field name or `}`")?;
            self.expect_punct(':', "`:` and a type after the field name")?;
            let ty = self.ty()?;
            let (more, trailing) = self.comma_and_trailing();
            fields.push(Field {
                leading,
                span: start.to(ty.span),
                name,
                ty,
                trailing,
            });
            if !more && !self.is_punct('}') {
                let err = self.error_here("`,` or `}` after the field");
                if self.peek().tok == Tok::Eof {
                    return Err(err);
                }
                let prev = fields.last().map_or(open, |f: &Field| f.span);
                return Err(err.with_secondary(prev, "a `,` may be missing after this field"));
            }
        }
        let end_comments = self.end_comments("`}`")?;
        let close = self.close_brace();
        self.depth -= 1;
        Ok(Fields {
            fields,
            end_comments,
            span: open.to(close),
        })
    }

    fn ty(&mut self) -> PResult<Type> {
        let start = self.peek().span;
        self.enter(start)?;
        let ty = self.ty_inner(start)?;
        self.depth -= 1;
        if self.is_punct('(') {
            return Err(self.options_on_optionless(&ty));
        }
        Ok(ty)
    }

    /// `(` after a type that takes no options (`u8(max = 3)`,
    /// `option<u8>(max = 3)`): only the length-prefixed types do, which
    /// the "missing `,`" the parser would otherwise expect hides.
    fn options_on_optionless(&mut self, ty: &Type) -> Diagnostic {
        let paren = self.peek().span;
        let (name, inner) = match &ty.kind {
            TypeKind::Prim(p) => (format!("`{}`", p.as_str()), None),
            TypeKind::Option(t) => ("`option<T>`".to_string(), Some(t)),
            TypeKind::Box(t) => ("`box<T>`".to_string(), Some(t)),
            TypeKind::Array(t, _) => ("an array `[T; N]`".to_string(), Some(t)),
            // The others take options, or are refused before this.
            _ => ("this type".to_string(), None),
        };
        let mut d = Diagnostic::error("E0002", format!("{name} takes no options"))
            .with_primary(
                paren,
                "`max` and `len` apply to `string`, `bytes` and `list<T>` only",
            )
            .with_secondary(ty.span, format!("{name} takes no `(len = .., max = ..)`"));
        if let Some(inner) = inner
            && matches!(
                inner.kind,
                TypeKind::String(_) | TypeKind::Bytes(_) | TypeKind::List(..)
            )
        {
            d = d.with_note(
                "help: options bound a field's own type only; to bound the value inside, wrap it in a struct with one field carrying the options",
            );
        } else if matches!(ty.kind, TypeKind::Prim(_)) {
            d = d.with_note("help: a scalar has a fixed size; remove the `(..)`");
        }
        d
    }

    fn ty_inner(&mut self, start: Span) -> PResult<Type> {
        const EXPECTED: &str = "a type (a scalar such as `u32`, `string`, `bytes`, `list<T>`, `option<T>`, `box<T>`, `[T; N]` or a type name)";
        if self.is_punct('[') {
            self.bump();
            let elem = self.ty()?;
            self.expect_punct(';', "`;` and a length in the array type `[T; N]`")?;
            let n = self.int("the array length (an integer)")?;
            let close = self.expect_punct(']', "`]` to close the array type")?;
            return Ok(Type {
                kind: TypeKind::Array(Box::new(elem), n),
                span: start.to(close),
            });
        }
        let Tok::Ident(word) = self.peek().tok.clone() else {
            return Err(self.error_here(EXPECTED));
        };
        let first = self.ident(EXPECTED)?;
        if let Some(p) = Prim::from_name(&word) {
            return Ok(Type {
                kind: TypeKind::Prim(p),
                span: first.span,
            });
        }
        let generic = |p: &mut Parser, what: &str| -> PResult<(Type, Span)> {
            p.expect_punct('<', &format!("`<` after `{what}`: `{what}<T>`"))?;
            let inner = p.ty()?;
            let close = p.expect_punct('>', &format!("`>` to close `{what}<...>`"))?;
            Ok((inner, close))
        };
        let (kind, end) = match word.as_str() {
            "string" => {
                let (o, end) = self.seq_opts(first.span, "string")?;
                (TypeKind::String(o), end)
            }
            "bytes" => {
                let (o, end) = self.seq_opts(first.span, "bytes")?;
                (TypeKind::Bytes(o), end)
            }
            "list" => {
                let (inner, close) = generic(self, "list")?;
                let (o, end) = self.seq_opts(close, "list")?;
                (TypeKind::List(Box::new(inner), o), end)
            }
            "option" => {
                let (inner, close) = generic(self, "option")?;
                (TypeKind::Option(Box::new(inner)), close)
            }
            "box" => {
                let (inner, close) = generic(self, "box")?;
                (TypeKind::Box(Box::new(inner)), close)
            }
            _ if ast::is_reserved(&word) => {
                return Err(Diagnostic::error(
                    "E0002",
                    format!("expected a type, found keyword `{word}`"),
                )
                .with_primary(first.span, EXPECTED));
            }
            _ => {
                let mut segments = vec![first];
                while self.is_punct('.') {
                    self.bump();
                    segments.push(self.decl_name("a name after `.` in the type path")?);
                }
                let span = segments[0].span.to(segments[segments.len() - 1].span);
                if let Some(d) = self.rust_path(&segments) {
                    return Err(d);
                }
                if self.is_punct('(') || self.is_punct('<') {
                    let angle = self.is_punct('<');
                    return Err(options_on_named(&segments, span, angle));
                }
                (TypeKind::Named(Path { segments, span }), span)
            }
        };
        Ok(Type {
            kind,
            span: start.to(end),
        })
    }

    /// `::` right after a type name (`chat::Say`): a Rust path, where the
    /// schema separates names with `.`.
    fn rust_path(&mut self, segments: &[Ident]) -> Option<Diagnostic> {
        if !self.is_punct(':') {
            return None;
        }
        let at = self.pos;
        let colons = |i: usize| -> Option<Span> {
            let (a, b) = (self.tokens.get(i)?, self.tokens.get(i + 1)?);
            (a.tok == Tok::Punct(':') && b.tok == Tok::Punct(':') && a.span.end == b.span.start)
                .then(|| a.span.to(b.span))
        };
        let first = colons(at)?;
        let mut names: Vec<&str> = segments.iter().map(|s| s.name.as_str()).collect();
        let mut i = at;
        while colons(i).is_some() {
            match &self.tokens.get(i + 2).map(|t| &t.tok) {
                Some(Tok::Ident(n)) => names.push(n),
                _ => break,
            }
            i += 3;
        }
        let mut d = Diagnostic::error("E0002", "schema paths use `.`, not `::`")
            .with_primary(first, "expected `.` between the names of a type path");
        if names.len() == segments.len() {
            return Some(d);
        }
        let last = names[names.len() - 1];
        match names[0] {
            // Rust's own types are not schema types: say which one is.
            "std" | "core" | "alloc" => {
                d = d.with_note(format!(
                    "note: schema types are the built-in types and the types declared in schemas, not Rust's `{}`",
                    names.join("::")
                ));
                if let Some(help) = crate::diagnostic::foreign_type_help(last) {
                    d = d.with_note(help);
                } else if let Some(b) =
                    crate::diagnostic::closest(last, crate::validate::BUILTIN_TYPES.iter().copied())
                {
                    d = d.with_note(format!("help: did you mean the built-in type `{b}`?"));
                }
            }
            // Paths are looked up from the innermost module outwards.
            "crate" | "self" | "super" if names.len() > 1 => {
                d = d.with_note(format!("help: did you mean `{}`?", names[1..].join(".")));
            }
            _ => d = d.with_note(format!("help: did you mean `{}`?", names.join("."))),
        }
        Some(d)
    }

    /// `(len = u8, max = 32)` after `string`, `bytes` or `list<T>`.
    fn seq_opts(&mut self, end: Span, what: &str) -> PResult<(SeqOpts, Span)> {
        let mut opts = SeqOpts::default();
        if !self.is_punct('(') {
            return Ok((opts, end));
        }
        self.bump();
        loop {
            if self.is_punct(')') {
                break;
            }
            let key = self.ident(&format!("`len` or `max` in the options of `{what}`"))?;
            self.expect_punct('=', &format!("`=` after `{}`", key.name))?;
            match key.name.as_str() {
                "len" if opts.len.is_none() => {
                    let w = self.ident("the prefix width `u8`, `u16` or `u32`")?;
                    let value = match w.name.as_str() {
                        "u8" => LenWidth::U8,
                        "u16" => LenWidth::U16,
                        "u32" => LenWidth::U32,
                        _ => {
                            return Err(Diagnostic::error(
                                "E0002",
                                format!("`{}` is not a length prefix width", w.name),
                            )
                            .with_primary(w.span, "expected `u8`, `u16` or `u32`"));
                        }
                    };
                    opts.len = Some(Spanned {
                        value,
                        span: w.span,
                    });
                }
                "max" if opts.max.is_none() => {
                    let n = self.int("the maximum length (an integer)")?;
                    opts.max = Some(n);
                }
                "len" | "max" => {
                    return Err(
                        Diagnostic::error("E0002", format!("`{}` given twice", key.name))
                            .with_primary(key.span, "expected each option at most once"),
                    );
                }
                other => {
                    return Err(Diagnostic::error(
                        "E0002",
                        format!("unknown option `{other}` for `{what}`"),
                    )
                    .with_primary(key.span, "expected `len` or `max`"));
                }
            }
            if !self.is_punct(')') {
                self.expect_punct(',', "`,` or `)` after the option")?;
            }
        }
        let close = self.bump().span;
        Ok((opts, close))
    }
}

/// `Name(...)` or `Name<...>` in a type: options or a type parameter on
/// a type that takes none. A name close to a built-in that does is a
/// misspelt built-in (`sting(max = 200)`, `lst<u8>`), reported as the
/// unknown type it is rather than as the missing comma the parser would
/// otherwise expect.
fn options_on_named(segments: &[Ident], span: Span, angle: bool) -> Diagnostic {
    let name = segments
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(".");
    let builtins: &[&str] = if angle {
        &["list", "option", "box"]
    } else {
        &["string", "bytes", "list"]
    };
    let typo = (segments.len() == 1)
        .then(|| crate::diagnostic::closest(&name, builtins.iter().copied()))
        .flatten();
    let what = if angle {
        "a type parameter `<T>`"
    } else {
        "`(len = .., max = ..)`"
    };
    // `Vec<u8>`, `str(max = 8)`: another language's name for a built-in.
    if let Some(help) = (segments.len() == 1 && typo.is_none())
        .then(|| crate::diagnostic::foreign_type_help(&name))
        .flatten()
    {
        return Diagnostic::error("E0102", format!("unknown type `{name}`"))
            .with_primary(span, format!("expected a built-in type that takes {what}"))
            .with_note(help);
    }
    match typo {
        Some(t) => {
            let shape = if t == "list" || angle {
                format!("{t}<T>")
            } else {
                t.to_string()
            };
            Diagnostic::error("E0102", format!("unknown type `{name}`"))
                .with_primary(span, format!("expected a built-in type that takes {what}"))
                .with_note(format!("help: did you mean `{shape}`?"))
        }
        None => {
            let takers = if angle {
                "`list<T>`, `option<T>` and `box<T>`"
            } else {
                "`string`, `bytes` and `list<T>`"
            };
            Diagnostic::error(
                "E0002",
                format!(
                    "`{name}` takes no {}",
                    if angle { "type parameter" } else { "options" }
                ),
            )
            .with_primary(span, "expected a field type followed by `,` or `}`")
            .with_note(format!("note: only {takers} take {what}"))
        }
    }
}
