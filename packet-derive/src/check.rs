//! Validation: turns a `DeriveInput` plus its parsed attributes into the
//! model `expand.rs` generates from, or into one `syn::Error` that combines
//! *every* problem found (each at its own token). No code is generated here.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Expr, Ident, Member, Path, Type};

use crate::attr::{self, Ctxt, Width};

/// A validated `#[derive(Packet)]` input.
pub struct Model<'a> {
    pub input: &'a DeriveInput,
    pub krate: Path,
    pub id: Option<Expr>,
    /// `#[packet(recursive)]`.
    pub in_cycle: bool,
    /// `#[packet(pod)]`.
    pub pod: bool,
    pub body: Body<'a>,
}

pub enum Body<'a> {
    Struct(Vec<Field<'a>>),
    Enum {
        tag: Width,
        variants: Vec<Variant<'a>>,
    },
}

pub struct Variant<'a> {
    pub ident: &'a Ident,
    /// The tag value: a `const` expression of the tag type.
    pub tag: TokenStream,
    pub fields: Vec<Field<'a>>,
}

pub struct Field<'a> {
    pub member: Member,
    pub ty: &'a Type,
    pub kind: Kind<'a>,
}

/// How a field is written.
pub enum Kind<'a> {
    /// Not on the wire; `Default` on read.
    Skip,
    /// A user module's `encode` / `decode` / `encoded_len` / `MAX_SIZE`.
    With(&'a Path),
    /// A sequence with an explicit prefix width and/or maximum length.
    Seq {
        seq: Seq<'a>,
        len: Width,
        max_len: Option<&'a Expr>,
    },
    /// A fixed-size primitive the derive writes with direct stores.
    Prim(Prim),
    /// Anything else: the type's own `Encode` / `Decode`.
    Plain,
}

/// The sequence shapes `len` / `max_len` apply to.
pub enum Seq<'a> {
    /// `&str`, `String`, `Box<str>`.
    Str,
    /// `&[u8]`.
    Bytes,
    /// `Vec<T>`, `Box<[T]>`.
    Items(&'a Type),
}

/// A fixed-size primitive recognised by name.
#[derive(Clone)]
pub enum Prim {
    /// Integers and floats: `to_le_bytes` / `from_le_bytes`.
    Num(Ident, usize),
    Bool,
    Char,
    Array(Box<Prim>, usize),
}

/// Arrays of primitives up to this many bytes are written with direct
/// stores; larger ones go through their `Encode` impl (already one copy).
const MAX_INLINE_ARRAY: usize = 64;

impl Prim {
    /// Whether decoding checks the bytes (`bool`, `char`): not plain data.
    pub fn has_validation(&self) -> bool {
        match self {
            Prim::Num(..) => false,
            Prim::Bool | Prim::Char => true,
            Prim::Array(p, _) => p.has_validation(),
        }
    }

    pub fn size(&self) -> usize {
        match self {
            Prim::Num(_, n) => *n,
            Prim::Bool => 1,
            Prim::Char => 4,
            Prim::Array(p, n) => p.size() * n,
        }
    }

    fn of(ty: &Type) -> Option<Prim> {
        match ty {
            Type::Paren(t) => Prim::of(&t.elem),
            Type::Group(t) => Prim::of(&t.elem),
            Type::Path(p) if p.qself.is_none() => {
                let ident = p.path.get_ident()?;
                let size = match ident.to_string().as_str() {
                    "u8" | "i8" => 1,
                    "u16" | "i16" => 2,
                    "u32" | "i32" | "f32" => 4,
                    "u64" | "i64" | "f64" => 8,
                    "u128" | "i128" => 16,
                    "bool" => return Some(Prim::Bool),
                    "char" => return Some(Prim::Char),
                    _ => return None,
                };
                Some(Prim::Num(ident.clone(), size))
            }
            Type::Array(a) => {
                let elem = Prim::of(&a.elem)?;
                let Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(n),
                    ..
                }) = &a.len
                else {
                    return None;
                };
                let n: usize = n.base10_parse().ok()?;
                (elem.size().checked_mul(n)? <= MAX_INLINE_ARRAY)
                    .then(|| Prim::Array(Box::new(elem), n))
            }
            _ => None,
        }
    }
}

pub fn strip(ty: &Type) -> &Type {
    match ty {
        Type::Paren(t) => strip(&t.elem),
        Type::Group(t) => strip(&t.elem),
        _ => ty,
    }
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match strip(ty) {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        _ => None,
    }
}

fn single_generic(seg: &syn::PathSegment) -> Option<&Type> {
    match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) if a.args.len() == 1 => match &a.args[0] {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

fn is_ident(ty: &Type, name: &str) -> bool {
    matches!(strip(ty), Type::Path(p) if p.qself.is_none() && p.path.is_ident(name))
}

/// Classifies a field type as a sequence, or explains why it is not one.
pub fn seq_of(ty: &Type) -> Result<Seq<'_>, String> {
    if let Type::Reference(r) = strip(ty) {
        return match strip(&r.elem) {
            t if is_ident(t, "str") => Ok(Seq::Str),
            Type::Slice(s) if is_ident(&s.elem, "u8") => Ok(Seq::Bytes),
            Type::Slice(_) => Err(
                "only `&[u8]` can be borrowed from the input; use `Vec<T>` for other items".into(),
            ),
            _ => Err(not_a_sequence(ty)),
        };
    }
    if let Some(seg) = last_segment(ty) {
        let name = seg.ident.to_string();
        match (name.as_str(), single_generic(seg)) {
            ("String", None) if seg.arguments.is_none() => return Ok(Seq::Str),
            ("Vec", Some(item)) => return Ok(Seq::Items(item)),
            ("Box", Some(inner)) => match strip(inner) {
                t if is_ident(t, "str") => return Ok(Seq::Str),
                Type::Slice(s) => return Ok(Seq::Items(&s.elem)),
                _ => {}
            },
            _ => {}
        }
    }
    Err(not_a_sequence(ty))
}

fn not_a_sequence(ty: &Type) -> String {
    format!(
        "`len` and `max_len` apply to sequence fields (`&str`, `&[u8]`, `String`, `Vec<T>`, `Box<str>`, `Box<[T]>`), not to `{}`",
        ty.to_token_stream()
            .to_string()
            .replace(" < ", "<")
            .replace(" >", ">")
            .replace("& ", "&")
    )
}

fn field_kind<'a>(cx: &mut Ctxt, ty: &'a Type, attrs: &'a attr::Field) -> Kind<'a> {
    if let Some(skip) = attrs.skip {
        for (present, key) in [
            (attrs.len.as_ref().map(|a| a.span), "len"),
            (attrs.max_len.as_ref().map(|a| a.span), "max_len"),
            (attrs.with.as_ref().map(|a| a.span), "with"),
        ] {
            if let Some(span) = present {
                cx.error(span, format!("`{key}` has no effect on a `skip` field"));
            }
        }
        let _ = skip;
        return Kind::Skip;
    }
    if let Some(with) = &attrs.with {
        for (present, key) in [
            (attrs.len.as_ref().map(|a| a.span), "len"),
            (attrs.max_len.as_ref().map(|a| a.span), "max_len"),
        ] {
            if let Some(span) = present {
                cx.error(span, format!("`{key}` cannot be combined with `with`: the custom codec writes the whole field"));
            }
        }
        return Kind::With(&with.value);
    }
    if attrs.len.is_some() || attrs.max_len.is_some() {
        let span = attrs
            .len
            .as_ref()
            .map(|a| a.span)
            .or(attrs.max_len.as_ref().map(|a| a.span));
        let len = attrs.len.as_ref().map_or(Width::U16, |a| a.value);
        if let Some(max) = &attrs.max_len {
            prefix_fits(cx, len, attrs.len.is_some(), max);
        }
        return match seq_of(ty) {
            Ok(seq) => Kind::Seq {
                seq,
                len,
                max_len: attrs.max_len.as_ref().map(|a| &a.value),
            },
            Err(msg) => {
                let span = span.unwrap_or_else(Span::call_site);
                cx.push(syn::Error::new(span, msg));
                Kind::Plain
            }
        };
    }
    match Prim::of(ty) {
        Some(p) => Kind::Prim(p),
        None => Kind::Plain,
    }
}

/// A literal `max_len` that the field's length prefix cannot count is an
/// error at the `max_len` (as in packet-schema); a `const` expression is
/// checked by a `const` assertion in the generated code.
fn prefix_fits(cx: &mut Ctxt, len: Width, explicit: bool, max: &attr::At<Expr>) {
    let Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Int(lit),
        ..
    }) = &max.value
    else {
        return;
    };
    let Ok(value) = lit.base10_parse::<u64>() else {
        return;
    };
    if value > len.max() {
        let wider = if value > Width::U16.max() {
            "u32"
        } else {
            "u16"
        };
        let prefix = if explicit {
            format!("its `len = {}` prefix", len.name())
        } else {
            format!("its default `{}` prefix", len.name())
        };
        cx.error(
            max.span,
            format!(
                "`max_len = {value}` is more than {prefix} can count ({}); widen it with `len = {wider}` or lower `max_len`",
                len.max()
            ),
        );
    }
}

/// The first lifetime in `ty` (of a reference, or a generic argument)
/// that `wanted` accepts.
fn find_lifetime<'t>(
    ty: &'t Type,
    wanted: &dyn Fn(&syn::Lifetime) -> bool,
) -> Option<&'t syn::Lifetime> {
    let inner = |t: &'t Type| find_lifetime(t, wanted);
    match ty {
        Type::Reference(r) => r
            .lifetime
            .as_ref()
            .filter(|l| wanted(l))
            .or_else(|| inner(&r.elem)),
        Type::Paren(t) => inner(&t.elem),
        Type::Group(t) => inner(&t.elem),
        Type::Slice(t) => inner(&t.elem),
        Type::Array(t) => inner(&t.elem),
        Type::Tuple(t) => t.elems.iter().find_map(inner),
        Type::Path(p) => p.path.segments.iter().find_map(|seg| match &seg.arguments {
            syn::PathArguments::AngleBracketed(a) => a.args.iter().find_map(|arg| match arg {
                syn::GenericArgument::Lifetime(l) if wanted(l) => Some(l),
                syn::GenericArgument::Type(t) => inner(t),
                _ => None,
            }),
            _ => None,
        }),
        _ => None,
    }
}

/// A type with several lifetimes decodes at a `'__de` that outlives them
/// all, so only a top-level `&str` / `&[u8]` can borrow (packet.md,
/// "What `#[derive(Packet)]` implements"); a borrow inside another type
/// (`Option<&'b str>`, `Inner<'b>`) would fail with "lifetime may not live
/// long enough" and a bound (`'b: '__de`) nobody can write. Said here,
/// with what to write instead.
fn check_nested_borrows(cx: &mut Ctxt, input: &DeriveInput, parsed: &Parsed) {
    let fields: Vec<&syn::Field> = match &input.data {
        Data::Struct(s) => s.fields.iter().collect(),
        Data::Enum(e) => e.variants.iter().flat_map(|v| v.fields.iter()).collect(),
        Data::Union(_) => return,
    };
    for (f, a) in fields.into_iter().zip(parsed.fields.iter().flatten()) {
        if a.skip.is_some()
            || a.with.is_some()
            || matches!(seq_of(&f.ty), Ok(Seq::Str | Seq::Bytes))
        {
            continue;
        }
        if let Some(l) = find_lifetime(&f.ty, &|_| true)
            && l.ident != "static"
        {
            cx.error(
                l.span(),
                format!(
                    "a type with several lifetimes can borrow only in top-level `&str` and `&[u8]` fields, not inside `{}`; give the type one lifetime, shared by every borrowed field",
                    f.ty.to_token_stream().to_string().replace(" < ", "<").replace(" >", ">").replace("& ", "&")
                ),
            );
        }
    }
}

/// The first `'static` lifetime in a field's type (`&'static str`,
/// `Vec<&'static str>`, `Name<'static>`), if any.
fn static_lifetime(ty: &Type) -> Option<&syn::Lifetime> {
    find_lifetime(ty, &|l| l.ident == "static")
}

fn fields<'a>(cx: &mut Ctxt, fields: &'a syn::Fields, attrs: &'a [attr::Field]) -> Vec<Field<'a>> {
    // A decoded field borrows the receive buffer: a `'static` one cannot
    // (rustc would say only "lifetime may not live long enough" about the
    // derive's hidden `'__de`). Skipped fields and custom codecs are not
    // decoded by the derive.
    for (f, a) in fields.iter().zip(attrs) {
        if a.skip.is_some() || a.with.is_some() {
            continue;
        }
        if let Some(l) = static_lifetime(&f.ty) {
            cx.error(
                l.span(),
                "a decoded field cannot borrow for `'static`: it borrows the receive buffer; give the type a lifetime (`struct Chat<'a> { text: &'a str }`) or own the data (`String`, `Vec<u8>`)",
            );
        }
    }
    fields
        .iter()
        .zip(attrs)
        .enumerate()
        .map(|(i, (f, a))| Field {
            member: match &f.ident {
                Some(ident) => Member::Named(ident.clone()),
                None => Member::Unnamed(syn::Index {
                    index: i as u32,
                    span: f.ty.span(),
                }),
            },
            ty: &f.ty,
            kind: field_kind(cx, &f.ty, a),
        })
        .collect()
}

/// The path generated code names the runtime by, unless `#[packet(crate =
/// ..)]` says otherwise: `packet-core` where the deriving crate depends on it
/// (under whatever name it was renamed to), else `packet-net`, which
/// re-exports all of packet-core, so a networked game needs one dependency.
fn default_crate() -> Path {
    use proc_macro_crate::{FoundCrate, crate_name};
    let named = |name: &str| -> Path {
        let ident = syn::Ident::new(name, proc_macro2::Span::call_site());
        syn::parse_quote!(::#ident)
    };
    match (crate_name("packet-core"), crate_name("packet-net")) {
        (Ok(FoundCrate::Name(name)), _) => named(&name),
        (Err(_), Ok(FoundCrate::Name(name))) => named(&name),
        (Err(_), Ok(FoundCrate::Itself)) => syn::parse_quote!(::packet_net),
        // packet-core itself (its tests and doctests), or no manifest to read.
        _ => syn::parse_quote!(::packet_core),
    }
}

/// Field attributes are parsed up front so that the model can borrow them.
pub struct Parsed {
    pub container: attr::Container,
    pub repr: Option<attr::Repr>,
    /// One list per struct / per variant.
    pub fields: Vec<Vec<attr::Field>>,
}

/// Parses every attribute of a `#[derive(Packet)]` input.
pub fn parse_packet(cx: &mut Ctxt, input: &DeriveInput) -> Parsed {
    let container = attr::container(cx, &input.attrs, false);
    let repr = attr::repr(cx, &input.attrs);
    let fields = match &input.data {
        Data::Struct(s) => vec![s.fields.iter().map(|f| attr::field(cx, &f.attrs)).collect()],
        Data::Enum(e) => e
            .variants
            .iter()
            .map(|v| {
                attr::variant(cx, &v.attrs);
                v.fields.iter().map(|f| attr::field(cx, &f.attrs)).collect()
            })
            .collect(),
        Data::Union(_) => Vec::new(),
    };
    Parsed {
        container,
        repr,
        fields,
    }
}

/// Validates a `#[derive(Packet)]` input.
pub fn packet<'a>(cx: &mut Ctxt, input: &'a DeriveInput, parsed: &'a Parsed) -> Option<Model<'a>> {
    let krate = parsed
        .container
        .krate
        .as_ref()
        .map_or_else(default_crate, |k| k.value.clone());
    let id = parsed.container.id.as_ref().map(|i| i.value.clone());
    let body = match &input.data {
        Data::Union(u) => {
            cx.error(
                u.union_token.span,
                "`#[derive(Packet)]` does not support unions: their wire form would depend on which field is live; use an enum",
            );
            return None;
        }
        Data::Struct(s) => {
            if let Some(tag) = &parsed.container.tag {
                cx.error(tag.span, "`tag` applies to enums only");
            }
            Body::Struct(fields(cx, &s.fields, &parsed.fields[0]))
        }
        Data::Enum(e) => {
            if e.variants.is_empty() {
                cx.error(
                    input.ident.span(),
                    "`#[derive(Packet)]` needs at least one variant: an empty enum has no value to encode",
                );
                return None;
            }
            let tag = match (&parsed.repr, &parsed.container.tag) {
                (Some(_), Some(tag)) => {
                    cx.error(
                        tag.span,
                        "`tag` conflicts with `#[repr]`: the tag of an enum with an integer repr is written as that repr",
                    );
                    Width::U8
                }
                (Some(repr), None) => repr.width.unwrap_or(Width::U8),
                (None, Some(tag)) => tag.value,
                (None, None) => Width::U8,
            };
            // Tags follow Rust's discriminant rule: explicit, or the
            // previous one plus one, starting from 0.
            let mut base: Option<&Expr> = None;
            let mut offset: u64 = 0;
            // The value of a literal base (`= 300`, `= -1`): without an
            // integer repr rustc types the discriminants as `isize`, so
            // only the derive can tell that the tag cannot hold them.
            let mut literal: Option<i128> = None;
            let mut variants = Vec::new();
            for (v, attrs) in e.variants.iter().zip(&parsed.fields) {
                if let Some((_, expr)) = &v.discriminant {
                    base = Some(expr);
                    offset = 0;
                    literal = literal_discriminant(expr);
                }
                if let (None, Some(value)) = (&parsed.repr, literal) {
                    let span = match &v.discriminant {
                        Some((_, expr)) => expr.span(),
                        None => v.ident.span(),
                    };
                    discriminant_fits(
                        cx,
                        tag,
                        parsed.container.tag.is_some(),
                        &v.ident,
                        value.saturating_add(i128::from(offset)),
                        span,
                    );
                }
                let ty = tag.ty();
                let tag_tokens = match base {
                    Some(expr) if offset == 0 => quote!((#expr) as #ty),
                    Some(expr) => quote!(((#expr) as #ty) + #offset as #ty),
                    None => {
                        if offset > tag.max() {
                            cx.error(
                                v.ident.span(),
                                format!(
                                    "tag {offset} of variant `{}` does not fit the `{}` tag; widen it with `#[packet(tag = u16)]`",
                                    v.ident,
                                    tag.name()
                                ),
                            );
                        }
                        let lit = syn::LitInt::new(&offset.to_string(), v.ident.span());
                        quote!(#lit)
                    }
                };
                offset += 1;
                variants.push(Variant {
                    ident: &v.ident,
                    tag: tag_tokens,
                    fields: fields(cx, &v.fields, attrs),
                });
            }
            Body::Enum { tag, variants }
        }
    };
    if input.generics.lifetimes().count() > 1 {
        check_nested_borrows(cx, input, parsed);
    }
    if let Some(at) = &parsed.container.id {
        check_id(cx, input, at, &body);
    }
    if let Some(span) = parsed.container.pod {
        check_pod(cx, input, span, &body);
    }
    Some(Model {
        input,
        krate,
        id,
        in_cycle: parsed.container.recursive.is_some(),
        pod: parsed.container.pod.is_some(),
        body,
    })
}

/// The value of a discriminant written as an integer literal (`300`,
/// `-1`, `(7)`); `None` for any other expression (a `const`).
fn literal_discriminant(expr: &Expr) -> Option<i128> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(lit),
            ..
        }) => lit.base10_parse::<i128>().ok(),
        Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => literal_discriminant(expr).map(|v| -v),
        Expr::Paren(p) => literal_discriminant(&p.expr),
        Expr::Group(g) => literal_discriminant(&g.expr),
        _ => None,
    }
}

/// A literal discriminant of an enum without an integer repr must fit its
/// tag (`u8` by default, or `#[packet(tag = ..)]`): otherwise rustc would
/// report "literal out of range for `u8`" (or "cannot apply unary operator
/// `-`") in generated code without saying which attribute to write.
fn discriminant_fits(
    cx: &mut Ctxt,
    tag: Width,
    explicit: bool,
    variant: &syn::Ident,
    value: i128,
    span: Span,
) {
    let fits = |w: Width| match w {
        Width::I8 | Width::I16 | Width::I32 => {
            value >= -(w.max() as i128) - 1 && value <= w.max() as i128
        }
        _ => value >= 0 && value <= w.max() as i128,
    };
    if fits(tag) {
        return;
    }
    let tag_is = if explicit {
        format!("its `#[packet(tag = {})]`", tag.name())
    } else {
        "its default `u8` tag (the enum has no integer `#[repr]`)".to_string()
    };
    let fix = if value < 0 {
        match [Width::I8, Width::I16, Width::I32]
            .into_iter()
            .find(|&w| fits(w))
        {
            Some(w) => format!(
                "a negative tag needs a signed repr: add `#[repr({})]`",
                w.name()
            ),
            None => "tags are at most 32 bits".to_string(),
        }
    } else {
        match [Width::U16, Width::U32].into_iter().find(|&w| fits(w)) {
            Some(w) => format!(
                "widen it: add `#[repr({0})]` or `#[packet(tag = {0})]`",
                w.name()
            ),
            None => "tags are at most 32 bits".to_string(),
        }
    };
    cx.error(
        span,
        format!("discriminant {value} of variant `{variant}` does not fit {tag_is}; {fix}"),
    );
}

/// `#[packet(pod)]` needs a struct laid out in declaration order
/// (`#[repr(C)]` or `#[repr(transparent)]`) whose fields are all plain
/// data: numbers, arrays of them, or nested `pod` types (checked in `const`
/// context), with no length prefixes, custom codecs or skipped fields.
fn check_pod(cx: &mut Ctxt, input: &DeriveInput, span: Span, body: &Body<'_>) {
    let Body::Struct(fields) = body else {
        cx.error(
            span,
            "`pod` applies to structs: an enum's bytes in memory are not its wire form",
        );
        return;
    };
    let mut ordered = false;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("repr")) {
        let _ = attr.parse_nested_meta(|meta| {
            ordered |= meta.path.is_ident("C") || meta.path.is_ident("transparent");
            Ok(())
        });
    }
    if !ordered {
        cx.error(
            span,
            "`pod` needs `#[repr(C)]` (or `#[repr(transparent)]`): the fields must lie in memory in wire order",
        );
    }
    for f in fields {
        let bad = match &f.kind {
            Kind::Prim(p) => p.has_validation(),
            Kind::Plain => false,
            Kind::Skip | Kind::With(_) | Kind::Seq { .. } => true,
        };
        if bad {
            cx.error(
                f.ty.span(),
                "a `pod` struct holds only numbers, arrays of them and nested `pod` structs: this field's bytes in memory are not its wire bytes",
            );
        }
    }
}

/// The largest frame any transport carries (packet-core's
/// `frame::MAX_WIRE_FRAME_LEN`, `u32::MAX` rounded down to 4) and the
/// plaintext frame overhead (header 20, CRC 4, ending 4), as in packet-core.
const MAX_WIRE_FRAME_LEN: usize = 0xFFFF_FFFC;
const FRAME_OVERHEAD: usize = 28;

/// Checks what the derive can see of a packet's id at expansion time, at
/// the `id` attribute: a literal reserved id, and a smallest frame (from
/// the fields whose sizes are written out) that no transport carries.
/// Whether a packet fits a given buffer or a datagram is checked where the
/// buffer or transport is chosen (packet-core's `PacketBuf::encode`,
/// packet-net's UDP sockets), not here: a packet too big for a default
/// buffer is still fine over TCP. What only `const` evaluation can know is
/// asserted in the generated code.
fn check_id(cx: &mut Ctxt, input: &DeriveInput, at: &attr::At<Expr>, body: &Body<'_>) {
    if let Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Int(lit),
        ..
    }) = &at.value
        && lit.base10_parse::<u64>().ok() == Some(0xFFFF)
    {
        cx.error(
            lit.span(),
            format!(
                "packet `{}` uses type id 0xFFFF, which is reserved for the session control frames: the hellos, the refusal and the close notice (docs/wire-format.md §2.2, §7.3, §11.5, §12)",
                input.ident
            ),
        );
    }
    let (min, widest) = match body {
        Body::Struct(fields) => fields_min_literal(fields),
        Body::Enum { tag, variants } => {
            let smallest = variants
                .iter()
                .map(|v| fields_min_literal(&v.fields))
                .min_by_key(|(n, _)| *n)
                .unwrap_or((0, None));
            (smallest.0.saturating_add(tag.size()), smallest.1)
        }
    };
    let frame = (min.saturating_add(3) & !3).saturating_add(FRAME_OVERHEAD);
    if frame > MAX_WIRE_FRAME_LEN {
        let field = widest
            .map(|(name, n)| format!("; field `{name}` alone takes {n} bytes"))
            .unwrap_or_default();
        cx.error(
            at.span,
            format!(
                "packet `{}` can never be sent: its smallest frame is {frame} bytes, more than any frame can be (0xFFFF_FFFC bytes, wire format §2.6){field}",
                input.ident
            ),
        );
    }
}

/// A lower bound on the fields' smallest encoding from their written
/// types (unknown types count 0), and the field contributing most.
fn fields_min_literal(fields: &[Field<'_>]) -> (usize, Option<(String, usize)>) {
    let mut total = 0usize;
    let mut widest: Option<(String, usize)> = None;
    for f in fields {
        let n = match &f.kind {
            Kind::Skip | Kind::With(_) => 0,
            Kind::Seq { len, .. } => len.size(),
            Kind::Prim(p) => p.size(),
            Kind::Plain => literal_size(f.ty).unwrap_or(0),
        };
        total = total.saturating_add(n);
        if widest.as_ref().is_none_or(|(_, w)| n > *w) && n > 0 {
            let name = match &f.member {
                Member::Named(i) => i.to_string(),
                Member::Unnamed(i) => i.index.to_string(),
            };
            widest = Some((name, n));
        }
    }
    (total, widest)
}

/// The wire size of a type made of primitives, arrays with literal lengths
/// and tuples of them, as written; `None` for anything else.
fn literal_size(ty: &Type) -> Option<usize> {
    match strip(ty) {
        Type::Array(a) => {
            let Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(n),
                ..
            }) = &a.len
            else {
                return None;
            };
            literal_size(&a.elem)?.checked_mul(n.base10_parse().ok()?)
        }
        Type::Tuple(t) => t
            .elems
            .iter()
            .try_fold(0usize, |acc, e| acc.checked_add(literal_size(e)?)),
        t => Prim::of(t).map(|p| p.size()),
    }
}

/// A validated `#[derive(PacketSet)]` input.
pub struct SetModel<'a> {
    pub input: &'a DeriveInput,
    pub krate: Path,
    pub members: Vec<(&'a Ident, &'a Type)>,
}

/// Validates a `#[derive(PacketSet)]` input: an enum whose variants each
/// hold exactly one packet type.
/// What a PacketSet member's type wraps its packet in, when it is a
/// reference or a standard container (`Box<Ping>`, `&Ping`).
fn wrapper_of(ty: &Type) -> Option<(&'static str, &Type)> {
    match ty {
        Type::Reference(r) => Some(("a reference", &r.elem)),
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            let inner = args.args.iter().find_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })?;
            let wrapper = match last.ident.to_string().as_str() {
                "Box" => "a `Box`",
                "Rc" | "Arc" => "a shared pointer",
                "Option" => "an `Option`",
                "Vec" => "a `Vec`",
                _ => return None,
            };
            Some((wrapper, inner))
        }
        _ => None,
    }
}

pub fn packet_set<'a>(cx: &mut Ctxt, input: &'a DeriveInput) -> Option<SetModel<'a>> {
    let container = attr::container(cx, &input.attrs, true);
    let krate = container.krate.map_or_else(default_crate, |k| k.value);
    let e = match &input.data {
        Data::Enum(e) => e,
        Data::Struct(s) => {
            cx.error(
                s.struct_token.span,
                "`#[derive(PacketSet)]` applies to enums whose variants each hold one packet",
            );
            return None;
        }
        Data::Union(u) => {
            cx.error(
                u.union_token.span,
                "`#[derive(PacketSet)]` applies to enums whose variants each hold one packet",
            );
            return None;
        }
    };
    if e.variants.is_empty() {
        cx.error(
            input.ident.span(),
            "`#[derive(PacketSet)]` needs at least one member",
        );
    }
    let mut members = Vec::new();
    for v in &e.variants {
        for attr in v.attrs.iter().filter(|a| a.path().is_ident("packet")) {
            cx.error(
                attr.span(),
                "PacketSet members take no attributes: the id is the member type's `Packet::ID`",
            );
        }
        match &v.fields {
            syn::Fields::Unnamed(f) if f.unnamed.len() == 1 => {
                let ty = &f.unnamed[0].ty;
                // `Say<'static>` is decoded from a frame that lives less
                // (rustc said only "borrowed data escapes outside of
                // associated function", at the derive).
                if let Some(l) = static_lifetime(ty) {
                    cx.error(
                        l.span(),
                        "a PacketSet member cannot borrow for `'static`: `decode_frame` borrows the frame; give the enum a lifetime (`enum Msg<'a> { Say(Say<'a>) }`) or make the packet own its data (`String`, `Vec<u8>`; a schema's `Builder::owned(true)`)",
                    );
                }
                // `Box<Ping>`: rustc said "`Box<Ping>` is not a packet"
                // and to derive `Packet` for it.
                if let Some((wrapper, inner)) = wrapper_of(ty) {
                    let inner = inner
                        .to_token_stream()
                        .to_string()
                        .replace(" < ", "<")
                        .replace(" >", ">")
                        .replace("& ", "&");
                    cx.push(syn::Error::new_spanned(
                        ty,
                        format!(
                            "a PacketSet member is the packet type itself, not {wrapper}: write `{}({inner})`; the set's enum holds the decoded packet by value",
                            v.ident
                        ),
                    ));
                }
                members.push((&v.ident, ty));
            }
            _ => cx.error(
                v.span(),
                format!(
                    "PacketSet variant `{}` must hold exactly one packet, like `{}(MyPacket)`",
                    v.ident, v.ident
                ),
            ),
        }
        if let Some((eq, _)) = &v.discriminant {
            cx.error(
                eq.span,
                "PacketSet variants take no discriminant: dispatch uses each packet's id",
            );
        }
    }
    Some(SetModel {
        input,
        krate,
        members,
    })
}
