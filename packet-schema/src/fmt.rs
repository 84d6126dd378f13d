//! Canonical formatting: prints an [`ast::File`](crate::ast::File) back as schema text.
//!
//! The rules (the `fmt` command applies them):
//! - four-space indentation, one item / field / variant per line, a
//!   trailing comma after every field and variant;
//! - one blank line between items, none between consecutive imports;
//! - `//` comments first, then `///` docs, in front of what they precede;
//!   same-line comments stay after their line; comments before a closing
//!   brace stay there;
//! - integers as written (`0x0102` stays hex);
//! - a struct-like variant's fields on one line unless any carries a
//!   comment.
//!
//! Formatting then parsing gives back an equal tree (a proptest checks it).
//! Nothing here reads files or checks meaning.

use crate::ast::{
    Enum, Field, Fields, File, Item, ItemKind, Leading, SeqOpts, Type, TypeKind, Variant,
    VariantKind,
};

/// Formats a whole file.
pub fn format_file(file: &File) -> String {
    let mut out = String::new();
    for d in &file.docs {
        line(&mut out, 0, &comment("//!", d));
    }
    if !file.docs.is_empty() && (!file.items.is_empty() || !file.end_comments.is_empty()) {
        out.push('\n');
    }
    items(&mut out, 0, &file.items);
    if !file.items.is_empty() && !file.end_comments.is_empty() {
        out.push('\n');
    }
    for c in &file.end_comments {
        line(&mut out, 0, &comment("//", c));
    }
    out
}

fn comment(prefix: &str, text: &str) -> String {
    if text.is_empty() {
        prefix.to_string()
    } else if prefix == "//" && text.starts_with("//") {
        // `//// four` lexes as the comment `// four`: written back as it
        // was, not as `// // four` (the same comment either way; a doc
        // comment never, whose text would start with one `/`).
        format!("{prefix}{text}")
    } else {
        format!("{prefix} {text}")
    }
}

fn line(out: &mut String, indent: usize, text: &str) {
    for _ in 0..indent {
        out.push_str("    ");
    }
    out.push_str(text);
    out.push('\n');
}

fn leading(out: &mut String, indent: usize, l: &Leading) {
    for c in &l.comments {
        line(out, indent, &comment("//", c));
    }
    for d in &l.docs {
        line(out, indent, &comment("///", d));
    }
}

fn with_trailing(text: String, trailing: &Option<String>) -> String {
    match trailing {
        Some(c) => format!("{text} {}", comment("//", c)),
        None => text,
    }
}

fn items(out: &mut String, indent: usize, items: &[Item]) {
    let mut prev_import = false;
    for (i, it) in items.iter().enumerate() {
        let is_import = matches!(it.kind, ItemKind::Import(_));
        if i > 0 && !(prev_import && is_import && it.leading == Leading::default()) {
            out.push('\n');
        }
        prev_import = is_import;
        item(out, indent, it);
    }
}

fn item(out: &mut String, indent: usize, it: &Item) {
    leading(out, indent, &it.leading);
    match &it.kind {
        ItemKind::Import(i) => {
            let text = format!("import {};", quote(&i.path.value));
            line(out, indent, &with_trailing(text, &it.trailing));
        }
        ItemKind::Module(m) => {
            if m.items.is_empty() && m.end_comments.is_empty() {
                let text = format!("module {} {{}}", m.name.name);
                line(out, indent, &with_trailing(text, &it.trailing));
            } else {
                line(out, indent, &format!("module {} {{", m.name.name));
                items(out, indent + 1, &m.items);
                if !m.items.is_empty() && !m.end_comments.is_empty() {
                    out.push('\n');
                }
                for c in &m.end_comments {
                    line(out, indent + 1, &comment("//", c));
                }
                line(out, indent, &with_trailing("}".into(), &it.trailing));
            }
        }
        ItemKind::Packet(p) => {
            let head = format!("packet {} = {}", p.name.name, p.id.text);
            fields_block(out, indent, head, &p.body, &it.trailing);
        }
        ItemKind::Struct(s) => {
            let head = format!("struct {}", s.name.name);
            fields_block(out, indent, head, &s.body, &it.trailing);
        }
        ItemKind::Enum(e) => enum_item(out, indent, e, &it.trailing),
    }
}

fn enum_item(out: &mut String, indent: usize, e: &Enum, trailing: &Option<String>) {
    braced(
        out,
        indent,
        enum_head(e),
        &e.variants,
        variant,
        &e.end_comments,
        trailing,
    );
}

fn enum_head(e: &Enum) -> String {
    match &e.repr {
        Some(r) => format!("enum {}: {}", e.name.name, r.value.as_str()),
        None => format!("enum {}", e.name.name),
    }
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn fields_block(
    out: &mut String,
    indent: usize,
    head: String,
    body: &Fields,
    trailing: &Option<String>,
) {
    braced(
        out,
        indent,
        head,
        &body.fields,
        field,
        &body.end_comments,
        trailing,
    );
}

/// `head { items, end comments }`, or `head {}` when both are empty.
fn braced<T>(
    out: &mut String,
    indent: usize,
    head: String,
    items: &[T],
    item: fn(&mut String, usize, &T),
    end_comments: &[String],
    trailing: &Option<String>,
) {
    if items.is_empty() && end_comments.is_empty() {
        line(
            out,
            indent,
            &with_trailing(format!("{head} {{}}"), trailing),
        );
        return;
    }
    line(out, indent, &format!("{head} {{"));
    for i in items {
        item(out, indent + 1, i);
    }
    for c in end_comments {
        line(out, indent + 1, &comment("//", c));
    }
    line(out, indent, &with_trailing("}".into(), trailing));
}

fn field(out: &mut String, indent: usize, f: &Field) {
    leading(out, indent, &f.leading);
    let text = format!("{}: {},", f.name.name, ty(&f.ty));
    line(out, indent, &with_trailing(text, &f.trailing));
}

fn has_comments(fields: &Fields) -> bool {
    !fields.end_comments.is_empty()
        || fields
            .fields
            .iter()
            .any(|f| f.leading != Leading::default() || f.trailing.is_some())
}

fn variant(out: &mut String, indent: usize, v: &Variant) {
    leading(out, indent, &v.leading);
    let value = match &v.value {
        Some(n) => format!(" = {}", n.text),
        None => String::new(),
    };
    match &v.kind {
        VariantKind::Unit => {
            let text = format!("{}{value},", v.name.name);
            line(out, indent, &with_trailing(text, &v.trailing));
        }
        VariantKind::Tuple(tys) => {
            let list: Vec<String> = tys.iter().map(ty).collect();
            let text = format!("{}({}){value},", v.name.name, list.join(", "));
            line(out, indent, &with_trailing(text, &v.trailing));
        }
        VariantKind::Struct(fields)
            if fields.fields.is_empty() && fields.end_comments.is_empty() =>
        {
            let text = format!("{} {{}}{value},", v.name.name);
            line(out, indent, &with_trailing(text, &v.trailing));
        }
        VariantKind::Struct(fields) if !has_comments(fields) => {
            let list: Vec<String> = fields
                .fields
                .iter()
                .map(|f| format!("{}: {}", f.name.name, ty(&f.ty)))
                .collect();
            let text = format!("{} {{ {} }}{value},", v.name.name, list.join(", "));
            line(out, indent, &with_trailing(text, &v.trailing));
        }
        VariantKind::Struct(fields) => {
            line(out, indent, &format!("{} {{", v.name.name));
            for f in &fields.fields {
                field(out, indent + 1, f);
            }
            for c in &fields.end_comments {
                line(out, indent + 1, &comment("//", c));
            }
            line(
                out,
                indent,
                &with_trailing(format!("}}{value},"), &v.trailing),
            );
        }
    }
}

fn opts(o: &SeqOpts) -> String {
    let mut parts = Vec::new();
    if let Some(l) = &o.len {
        parts.push(format!("len = {}", l.value.as_str()));
    }
    if let Some(m) = &o.max {
        parts.push(format!("max = {}", m.text));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("({})", parts.join(", "))
    }
}

/// Formats a type as written in a schema.
pub fn ty(t: &Type) -> String {
    match &t.kind {
        TypeKind::Prim(p) => p.as_str().to_string(),
        TypeKind::String(o) => format!("string{}", opts(o)),
        TypeKind::Bytes(o) => format!("bytes{}", opts(o)),
        TypeKind::List(inner, o) => format!("list<{}>{}", ty(inner), opts(o)),
        TypeKind::Option(inner) => format!("option<{}>", ty(inner)),
        TypeKind::Box(inner) => format!("box<{}>", ty(inner)),
        TypeKind::Array(inner, n) => format!("[{}; {}]", ty(inner), n.text),
        TypeKind::Named(p) => p.to_text(),
    }
}
