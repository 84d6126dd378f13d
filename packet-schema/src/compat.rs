//! Wire compatibility between two versions of a schema
//! (`packet-schema compat OLD NEW`): every change that makes peers built
//! from the two versions misread each other, per packet, as diagnostics
//! pointing at the new schema (and at the old one in a secondary label).
//!
//! Bodies carry no field tags (`docs/wire-format.md` §6): a packet's wire
//! form is its type id and the sequence of its fields' wire forms. So a
//! change is incompatible when it changes that sequence: a field added,
//! removed, retyped or moved; a length prefix's width or a `max`; an array's
//! length; an enum's tag width, a variant's tag, a variant added or
//! removed; a packet removed, or its type id given to another layout.
//! Names are not on the wire: renaming a packet, a type or a field (same
//! place, same type) and wrapping a type in `box<T>` are compatible, and so
//! is adding a packet with a new type id.
//!
//! Not here: loading and checking the two schemas (the caller passes two
//! compilations without errors).

use std::collections::HashSet;

use crate::Compiled;
use crate::ast::{Field, Span, Type, TypeKind, VariantKind};
use crate::diagnostic::{Diagnostic, SourceMap};
use crate::validate::{DefKind, Schema, TypeId, variant_tags};

/// The outcome: the breaks found and the files they point into.
#[derive(Debug)]
pub struct Report {
    /// The old schema's files, then the new one's.
    pub sources: SourceMap,
    /// One error per incompatible change.
    pub diagnostics: Vec<Diagnostic>,
    /// How many packets (type ids) the two versions share.
    pub compared: usize,
}

impl Report {
    /// The breaks rendered (`file:line:col`, source lines, carets).
    pub fn render(&self) -> String {
        self.sources.render(&self.diagnostics)
    }
}

/// Compares two checked compilations (`old` first).
pub fn compare(old: &Compiled, new: &Compiled) -> Report {
    let mut sources = SourceMap::new();
    for f in old.sources.files() {
        sources.add(f.name.clone(), &f.path, f.text.clone());
    }
    let shift = old.sources.files().len();
    for f in new.sources.files() {
        sources.add(f.name.clone(), &f.path, f.text.clone());
    }
    let mut c = Cmp {
        old: &old.schema,
        new: &new.schema,
        shift,
        diags: Vec::new(),
        seen: HashSet::new(),
    };
    let mut compared = 0;
    for od in &old.schema.types {
        let Some(id) = od.packet_id() else { continue };
        let found = new
            .schema
            .types
            .iter()
            .position(|t| t.packet_id() == Some(id));
        let Some(nt) = found else {
            c.diags.push(
                Diagnostic::error(
                    "C0001",
                    format!(
                        "packet `{}` (type id 0x{id:04x}) was removed",
                        od.full_name()
                    ),
                )
                .with_primary(
                    od.name.span,
                    "declared here in the old schema; the new one has no packet with this id",
                )
                .with_note(
                    "note: old peers still send it, and new peers refuse it as an unknown type id",
                ),
            );
            continue;
        };
        compared += 1;
        let before = c.diags.len();
        let (DefKind::Packet(op), DefKind::Packet(np)) = (&od.kind, &new.schema.types[nt].kind)
        else {
            unreachable!("only packets have ids")
        };
        let what = format!("packet `{}` (0x{id:04x})", new.schema.types[nt].full_name());
        c.fields(
            &what,
            &op.body.fields,
            &np.body.fields,
            od.name.span,
            new.schema.types[nt].name.span,
        );
        let renamed = od.full_name() != new.schema.types[nt].full_name();
        if renamed && c.diags.len() > before {
            let nd = &new.schema.types[nt];
            let d = Diagnostic::error(
                "C0002",
                format!("type id 0x{id:04x} now names `{}` (was `{}`) with another layout", nd.full_name(), od.full_name()),
            )
            .with_primary(c.span_new(nd.name.span), "the id is reused here")
            .with_secondary(od.name.span, "the old packet with this id")
            .with_note("help: give a new layout a new type id, and keep the old id's layout until no peer sends it");
            c.diags.insert(before, d);
        }
    }
    Report {
        sources,
        diagnostics: c.diags,
        compared,
    }
}

struct Cmp<'a> {
    old: &'a Schema,
    new: &'a Schema,
    /// Added to a new-schema span's file id (the old files come first).
    shift: usize,
    diags: Vec<Diagnostic>,
    /// Pairs of named types already compared (recursion, shared types).
    seen: HashSet<(TypeId, TypeId)>,
}

/// The fields of a packet or struct.
fn body_fields(kind: &DefKind) -> &[Field] {
    match kind {
        DefKind::Packet(p) => &p.body.fields,
        DefKind::Struct(s) => &s.body.fields,
        DefKind::Enum(_) => &[],
    }
}

/// The index of `fields[i]` among the fields whose name `other` also has.
fn rank(fields: &[Field], other: &[Field], i: usize) -> usize {
    fields[..i]
        .iter()
        .filter(|f| other.iter().any(|o| o.name.name == f.name.name))
        .count()
}

/// `box<T>` is `T` on the wire.
fn unbox(t: &Type) -> &Type {
    match &t.kind {
        TypeKind::Box(inner) => unbox(inner),
        _ => t,
    }
}

impl Cmp<'_> {
    fn span_new(&self, s: Span) -> Span {
        Span {
            file: s.file + self.shift,
            ..s
        }
    }

    fn err(
        &mut self,
        code: &'static str,
        message: String,
        new: Span,
        new_label: &str,
        old: Span,
        old_label: &str,
    ) {
        let d = Diagnostic::error(code, message)
            .with_primary(self.span_new(new), new_label)
            .with_secondary(old, old_label);
        self.diags.push(d);
    }

    /// Two field lists (a packet's, a struct's, a variant's). Fields are
    /// matched by name to say what happened; renaming a field in place
    /// keeps the wire form and is not reported.
    fn fields(&mut self, what: &str, old: &[Field], new: &[Field], old_at: Span, new_at: Span) {
        let renamed_in_place = |i: usize| {
            old.get(i).zip(new.get(i)).is_some_and(|(o, n)| {
                o.name.name != n.name.name
                    && !new.iter().any(|f| f.name.name == o.name.name)
                    && !old.iter().any(|f| f.name.name == n.name.name)
            })
        };
        for (i, o) in old.iter().enumerate() {
            if renamed_in_place(i) {
                self.ty(
                    &format!("{what}, field `{}`", new[i].name.name),
                    &o.ty,
                    &new[i].ty,
                );
                continue;
            }
            match new.iter().position(|n| n.name.name == o.name.name) {
                None => self.err(
                    "C0003",
                    format!("{what}: field `{}` was removed", o.name.name),
                    new_at,
                    "the new layout has no such field",
                    o.span,
                    "the removed field",
                ),
                Some(j) => {
                    let n = &new[j];
                    // Moved: its place among the fields both versions have
                    // changed (an added or removed field is reported as
                    // such, not as moving the fields after it).
                    if rank(old, new, i) != rank(new, old, j) {
                        self.err(
                            "C0004",
                            format!(
                                "{what}: field `{}` moved from position {} to {}",
                                o.name.name,
                                i + 1,
                                j + 1
                            ),
                            n.span,
                            "now here",
                            o.span,
                            "was here",
                        );
                    }
                    self.ty(&format!("{what}, field `{}`", n.name.name), &o.ty, &n.ty);
                }
            }
        }
        for (j, n) in new.iter().enumerate() {
            if !renamed_in_place(j) && !old.iter().any(|o| o.name.name == n.name.name) {
                self.err(
                    "C0005",
                    format!("{what}: field `{}` was added", n.name.name),
                    n.span,
                    "the added field",
                    old_at,
                    "the old layout has no such field",
                );
            }
        }
    }

    fn ty(&mut self, what: &str, old: &Type, new: &Type) {
        let (o, n) = (unbox(old), unbox(new));
        let retyped = |c: &mut Self| {
            c.err(
                "C0006",
                format!(
                    "{what} changed type from `{}` to `{}`",
                    crate::fmt::ty(o),
                    crate::fmt::ty(n)
                ),
                n.span,
                "the new type",
                o.span,
                "the old type",
            );
        };
        match (&o.kind, &n.kind) {
            (TypeKind::Prim(a), TypeKind::Prim(b)) if a == b => {}
            (TypeKind::String(a), TypeKind::String(b))
            | (TypeKind::Bytes(a), TypeKind::Bytes(b)) => {
                self.opts(what, a, b, o.span, n.span);
            }
            (TypeKind::List(ai, a), TypeKind::List(bi, b)) => {
                self.opts(what, a, b, o.span, n.span);
                self.ty(&format!("{what}, items"), ai, bi);
            }
            (TypeKind::Option(a), TypeKind::Option(b)) => self.ty(what, a, b),
            (TypeKind::Array(ai, a), TypeKind::Array(bi, b)) => {
                if a.value != b.value {
                    self.err(
                        "C0007",
                        format!(
                            "{what}: array length changed from {} to {}",
                            a.value, b.value
                        ),
                        b.span,
                        "the new length",
                        a.span,
                        "the old length",
                    );
                }
                self.ty(&format!("{what}, items"), ai, bi);
            }
            (TypeKind::Named(a), TypeKind::Named(b)) => {
                let (ta, tb) = (self.old.resolve(a), self.new.resolve(b));
                if let (Some(ta), Some(tb)) = (ta, tb) {
                    self.named(what, ta, tb, &retyped);
                }
            }
            _ => retyped(self),
        }
    }

    fn opts(
        &mut self,
        what: &str,
        a: &crate::ast::SeqOpts,
        b: &crate::ast::SeqOpts,
        oa: Span,
        nb: Span,
    ) {
        let width = |o: &crate::ast::SeqOpts| o.len.as_ref().map_or("u16", |l| l.value.as_str());
        if width(a) != width(b) {
            self.err(
                "C0008",
                format!(
                    "{what}: length prefix changed from `{}` to `{}`",
                    width(a),
                    width(b)
                ),
                nb,
                "the new prefix width",
                oa,
                "the old prefix width",
            );
        }
        // The effective bound, as the codec and the fingerprint see it: no
        // `max` is the prefix's own maximum, so `string` and
        // `string(max = 65535)` are the same on the wire and to peers.
        let max = |o: &crate::ast::SeqOpts| {
            let w = o
                .len
                .as_ref()
                .map_or(crate::ast::LenWidth::U16, |l| l.value);
            o.max
                .as_ref()
                .map_or(w.max(), |m| (m.value.max(0) as u64).min(w.max()))
        };
        if max(a) != max(b) {
            let show = |o: &crate::ast::SeqOpts| match &o.max {
                Some(_) => max(o).to_string(),
                None => format!("{} (no `max`: the prefix's maximum)", max(o)),
            };
            let d = Diagnostic::error("C0009", format!("{what}: `max` changed from {} to {}", show(a), show(b)))
                .with_primary(self.span_new(nb), "the new bound")
                .with_secondary(oa, "the old bound")
                .with_note("note: a peer with the smaller `max` refuses longer values (LengthOverMax), a peer with the larger one sends them");
            self.diags.push(d);
        }
    }

    fn named(&mut self, what: &str, ta: TypeId, tb: TypeId, retyped: &dyn Fn(&mut Self)) {
        if !self.seen.insert((ta, tb)) {
            return;
        }
        let (da, db) = (&self.old.types[ta], &self.new.types[tb]);
        let inner = format!("{what} (`{}`)", db.full_name());
        match (&da.kind, &db.kind) {
            (DefKind::Struct(_) | DefKind::Packet(_), DefKind::Struct(_) | DefKind::Packet(_)) => {
                let (a, b) = (body_fields(&da.kind), body_fields(&db.kind));
                self.fields(&inner, a, b, da.name.span, db.name.span);
            }
            (DefKind::Enum(a), DefKind::Enum(b)) => {
                let wa = a.repr.as_ref().map_or("u8", |r| r.value.as_str());
                let wb = b.repr.as_ref().map_or("u8", |r| r.value.as_str());
                if wa != wb {
                    self.err(
                        "C0010",
                        format!("{inner}: enum tag type changed from `{wa}` to `{wb}`"),
                        db.name.span,
                        "the new enum",
                        da.name.span,
                        "the old enum",
                    );
                }
                let old_tags: Vec<_> = variant_tags(a).collect();
                let new_tags: Vec<_> = variant_tags(b).collect();
                for (ov, ot) in &old_tags {
                    match new_tags.iter().find(|(nv, _)| nv.name.name == ov.name.name) {
                        None => {
                            if let Some((nv, _)) = new_tags.iter().find(|(_, nt)| nt == ot) {
                                // Renamed in place: same tag; compare the data.
                                self.variant(&inner, ov, nv);
                            } else {
                                self.err(
                                    "C0011",
                                    format!(
                                        "{inner}: variant `{}` (tag {ot}) was removed",
                                        ov.name.name
                                    ),
                                    db.name.span,
                                    "the new enum has no variant with this tag",
                                    ov.span,
                                    "the removed variant",
                                );
                            }
                        }
                        Some((nv, nt)) => {
                            if nt != ot {
                                self.err(
                                    "C0012",
                                    format!(
                                        "{inner}: variant `{}` changed tag from {ot} to {nt}",
                                        nv.name.name
                                    ),
                                    nv.span,
                                    "the new tag",
                                    ov.span,
                                    "the old tag",
                                );
                            }
                            self.variant(&inner, ov, nv);
                        }
                    }
                }
                for (nv, nt) in &new_tags {
                    let known = old_tags
                        .iter()
                        .any(|(ov, ot)| ov.name.name == nv.name.name || ot == nt);
                    if !known {
                        self.err(
                            "C0013",
                            format!("{inner}: variant `{}` (tag {nt}) was added", nv.name.name),
                            nv.span,
                            "old peers refuse this tag (UnknownDiscriminant)",
                            da.name.span,
                            "the old enum",
                        );
                    }
                }
            }
            _ => retyped(self),
        }
    }

    fn variant(&mut self, what: &str, o: &crate::ast::Variant, n: &crate::ast::Variant) {
        let inner = format!("{what}, variant `{}`", n.name.name);
        match (&o.kind, &n.kind) {
            (VariantKind::Unit, VariantKind::Unit) => {}
            (VariantKind::Tuple(a), VariantKind::Tuple(b)) if a.len() == b.len() => {
                for (i, (x, y)) in a.iter().zip(b).enumerate() {
                    self.ty(&format!("{inner}, field {i}"), x, y);
                }
            }
            (VariantKind::Struct(a), VariantKind::Struct(b)) => {
                self.fields(&inner, &a.fields, &b.fields, o.span, n.span);
            }
            // Names are not on the wire: positional and named fields of the
            // same types in the same order are the same bytes.
            (VariantKind::Tuple(a), VariantKind::Struct(b)) if a.len() == b.fields.len() => {
                for (i, (x, y)) in a.iter().zip(&b.fields).enumerate() {
                    self.ty(&format!("{inner}, field {i}"), x, &y.ty);
                }
            }
            (VariantKind::Struct(a), VariantKind::Tuple(b)) if a.fields.len() == b.len() => {
                for (i, (x, y)) in a.fields.iter().zip(b).enumerate() {
                    self.ty(&format!("{inner}, field {i}"), &x.ty, y);
                }
            }
            _ => self.err(
                "C0014",
                format!("{inner}: its data changed shape"),
                n.span,
                "the new variant",
                o.span,
                "the old variant",
            ),
        }
    }
}
