//! Parsing of `#[packet(...)]` and `#[repr(...)]` attributes into plain
//! values. Every problem is recorded in a [`Ctxt`] and parsing goes on, so
//! one compile reports every misuse. Whether a parsed attribute makes sense
//! for its field or type is decided in `check.rs`, not here.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Lit, Path};

/// Collects every error of one derive invocation (serde_derive's `Ctxt`).
///
/// It must be consumed by [`Ctxt::finish`], which turns the errors, or the
/// model when there are none, into the derive's result: dropping a `Ctxt`
/// unchecked panics (a bug in this crate, reported loudly instead of an
/// expansion that silently loses errors), and `finish` without errors and
/// without a model is an error, never an empty expansion.
pub struct Ctxt {
    errors: Option<Vec<syn::Error>>,
}

impl Ctxt {
    /// An empty context.
    pub fn new() -> Self {
        Ctxt {
            errors: Some(Vec::new()),
        }
    }

    /// Records an error at `span`.
    pub fn error(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.push(syn::Error::new(span, msg));
    }

    /// Records an already built error.
    pub fn push(&mut self, err: syn::Error) {
        self.errors
            .as_mut()
            .expect("packet-derive: Ctxt used after finish")
            .push(err);
    }

    /// Takes the errors out, leaving the context checked.
    fn take(&mut self) -> Vec<syn::Error> {
        self.errors.take().unwrap_or_default()
    }

    /// All errors combined into one; with none, the model, which must then
    /// exist (a check that returned no model must have recorded why).
    pub fn finish<T>(mut self, model: Option<T>) -> Result<T, syn::Error> {
        let mut errors = self.take().into_iter();
        match errors.next() {
            Some(mut first) => {
                for e in errors {
                    first.combine(e);
                }
                Err(first)
            }
            None => model.ok_or_else(|| {
                syn::Error::new(
                    Span::call_site(),
                    "packet-derive found nothing to generate and reported no error: this is a bug in packet-derive, please report it",
                )
            }),
        }
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if self.errors.is_some() && !std::thread::panicking() {
            panic!(
                "packet-derive: a Ctxt was dropped without `finish`, so its errors were never reported"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_without_model_or_error_is_an_error() {
        let err = Ctxt::new().finish::<()>(None).unwrap_err();
        assert!(err.to_string().contains("bug in packet-derive"));
    }

    #[test]
    fn finish_reports_every_error() {
        let mut cx = Ctxt::new();
        cx.error(Span::call_site(), "one");
        cx.error(Span::call_site(), "two");
        let err = cx.finish(Some(())).unwrap_err();
        assert_eq!(err.into_iter().count(), 2);
    }

    #[test]
    #[should_panic(expected = "dropped without `finish`")]
    fn dropping_unchecked_panics() {
        let mut cx = Ctxt::new();
        cx.error(Span::call_site(), "lost");
    }
}

/// A length prefix or tag width. The signed widths come only from an
/// enum's `#[repr(i8|i16|i32)]`; `len` and `tag` take unsigned ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    U8,
    U16,
    U32,
    I8,
    I16,
    I32,
}

impl Width {
    /// The Rust type, as tokens.
    pub fn ty(self) -> proc_macro2::TokenStream {
        match self {
            Width::U8 => quote::quote!(::core::primitive::u8),
            Width::U16 => quote::quote!(::core::primitive::u16),
            Width::U32 => quote::quote!(::core::primitive::u32),
            Width::I8 => quote::quote!(::core::primitive::i8),
            Width::I16 => quote::quote!(::core::primitive::i16),
            Width::I32 => quote::quote!(::core::primitive::i32),
        }
    }

    /// The type's name.
    pub fn name(self) -> &'static str {
        match self {
            Width::U8 => "u8",
            Width::U16 => "u16",
            Width::U32 => "u32",
            Width::I8 => "i8",
            Width::I16 => "i16",
            Width::I32 => "i32",
        }
    }

    /// The largest value it can hold.
    pub fn max(self) -> u64 {
        match self {
            Width::U8 => u8::MAX.into(),
            Width::U16 => u16::MAX.into(),
            Width::U32 => u32::MAX.into(),
            Width::I8 => i8::MAX as u64,
            Width::I16 => i16::MAX as u64,
            Width::I32 => i32::MAX as u64,
        }
    }

    /// Bytes on the wire.
    pub fn size(self) -> usize {
        match self {
            Width::U8 => 1,
            Width::U16 => 2,
            Width::U32 | Width::I32 => 4,
            Width::I8 => 1,
            Width::I16 => 2,
        }
    }

    fn from_ident(name: &str) -> Option<Self> {
        match name {
            "u8" => Some(Width::U8),
            "u16" => Some(Width::U16),
            "u32" => Some(Width::U32),
            _ => None,
        }
    }

    fn from_repr(name: &str) -> Option<Self> {
        match name {
            "i8" => Some(Width::I8),
            "i16" => Some(Width::I16),
            "i32" => Some(Width::I32),
            other => Width::from_ident(other),
        }
    }
}

/// A value with the span of the attribute key that set it.
pub struct At<T> {
    pub value: T,
    pub span: Span,
}

/// Attributes of the deriving type.
#[derive(Default)]
pub struct Container {
    /// `id = EXPR`: the packet type id.
    pub id: Option<At<Expr>>,
    /// `crate = PATH`: where packet-core is.
    pub krate: Option<At<Path>>,
    /// `tag = u8|u16|u32`: a data enum's tag width.
    pub tag: Option<At<Width>>,
    /// `recursive`: the type is part of a cycle of types (possibly through
    /// others), so its size constants must not name its fields' types.
    pub recursive: Option<Span>,
    /// `pod`: the type's bytes in memory are its wire bytes (with
    /// zerocopy's traits derived), so runs of it are copied in one go.
    pub pod: Option<Span>,
}

/// Attributes of one field.
#[derive(Default)]
pub struct Field {
    /// `len = u8|u16|u32`.
    pub len: Option<At<Width>>,
    /// `max_len = EXPR`.
    pub max_len: Option<At<Expr>>,
    /// `skip`.
    pub skip: Option<Span>,
    /// `with = PATH`.
    pub with: Option<At<Path>>,
}

/// An integer repr found in `#[repr(...)]`.
pub struct Repr {
    pub width: Option<Width>,
}

const CONTAINER_KEYS: &str = "`id`, `crate`, `tag`, `recursive`, `pod`";
const FIELD_KEYS: &str = "`len`, `max_len`, `skip`, `with`";

fn set_once<T>(cx: &mut Ctxt, slot: &mut Option<At<T>>, value: T, span: Span, key: &str) {
    if slot.is_some() {
        cx.error(span, format!("duplicate packet attribute `{key}`"));
    } else {
        *slot = Some(At { value, span });
    }
}

/// Skips `= value` after an attribute key that was rejected, so the rest of
/// the list still parses.
fn skip_value(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _ = meta.parse_nested_meta(|inner| skip_value(&inner));
    }
    Ok(())
}

/// Whether `key` is followed by its `= value`; if not, records an error
/// saying what to write (syn alone says "expected `=`") and skips what
/// follows the key.
fn has_value(cx: &mut Ctxt, meta: &syn::meta::ParseNestedMeta<'_>, key: &str) -> syn::Result<bool> {
    if meta.input.peek(syn::Token![=]) {
        return Ok(true);
    }
    let example = match key {
        "id" => "0x0102",
        "max_len" => "200",
        "len" => "u8",
        "tag" => "u16",
        "crate" => "::packet_core",
        _ => "my_codec",
    };
    cx.error(
        meta.path.span(),
        format!("`{key}` needs a value: write `#[packet({key} = {example})]`"),
    );
    skip_value(meta)?;
    Ok(false)
}

fn key_name(path: &Path) -> String {
    quote::quote!(#path).to_string().replace(' ', "")
}

/// An integer-valued expression: literals must be integers.
fn parse_int_expr(
    cx: &mut Ctxt,
    meta: &syn::meta::ParseNestedMeta<'_>,
    key: &str,
) -> syn::Result<Option<Expr>> {
    if !has_value(cx, meta, key)? {
        return Ok(None);
    }
    let expr: Expr = meta.value()?.parse()?;
    let example = if key == "id" { "0x0102" } else { "200" };
    if let Expr::Lit(lit) = &expr
        && !matches!(lit.lit, Lit::Int(_))
    {
        cx.error(
            lit.span(),
            format!(
                "`{key}` expects an integer (a literal or a const expression), e.g. `{key} = {example}`"
            ),
        );
        return Ok(None);
    }
    // `max_len = -1` (meaning "no limit") otherwise gets four rustc
    // errors about negating a `usize`, none naming the attribute.
    if let Expr::Unary(u) = &expr
        && matches!(u.op, syn::UnOp::Neg(_))
        && matches!(&*u.expr, Expr::Lit(l) if matches!(l.lit, Lit::Int(_)))
    {
        let what = if key == "id" {
            "a type id from 0 to 0xFFFE"
        } else {
            "a count of items (bytes for strings); leave it out for no limit beyond the length prefix's"
        };
        cx.push(syn::Error::new_spanned(
            &expr,
            format!("`{key}` cannot be negative: expected {what}, e.g. `{key} = {example}`"),
        ));
        return Ok(None);
    }
    Ok(Some(expr))
}

fn parse_width(
    cx: &mut Ctxt,
    meta: &syn::meta::ParseNestedMeta<'_>,
    key: &str,
) -> syn::Result<Option<Width>> {
    if !has_value(cx, meta, key)? {
        return Ok(None);
    }
    let expr: Expr = meta.value()?.parse()?;
    let width = match &expr {
        Expr::Path(p) if p.qself.is_none() => p
            .path
            .get_ident()
            .and_then(|i| Width::from_ident(&i.to_string())),
        _ => None,
    };
    if width.is_none() {
        cx.error(expr.span(), format!("`{key}` expects `u8`, `u16` or `u32`"));
    }
    Ok(width)
}

fn parse_path(
    cx: &mut Ctxt,
    meta: &syn::meta::ParseNestedMeta<'_>,
    key: &str,
) -> syn::Result<Option<Path>> {
    if !has_value(cx, meta, key)? {
        return Ok(None);
    }
    let expr: Expr = meta.value()?.parse()?;
    match expr {
        Expr::Path(p) if p.qself.is_none() => Ok(Some(p.path)),
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => match s.parse::<Path>() {
            Ok(path) => Ok(Some(path)),
            Err(_) => {
                cx.error(s.span(), format!("`{key}` expects a path"));
                Ok(None)
            }
        },
        other => {
            cx.error(
                other.span(),
                format!("`{key}` expects a path, e.g. `{key} = my::path`"),
            );
            Ok(None)
        }
    }
}

/// Runs `f` on each item of every `#[packet(...)]` attribute.
fn for_each_packet_meta(
    cx: &mut Ctxt,
    attrs: &[Attribute],
    mut f: impl FnMut(&mut Ctxt, &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()>,
) {
    for attr in attrs.iter().filter(|a| a.path().is_ident("packet")) {
        if let syn::Meta::Path(_) = attr.meta {
            cx.error(attr.span(), "expected `#[packet(...)]`");
            continue;
        }
        let mut inner_errors = Vec::new();
        let result = attr.parse_nested_meta(|meta| {
            let mut local = Ctxt::new();
            let r = f(&mut local, &meta);
            inner_errors.extend(local.take());
            r
        });
        for e in inner_errors {
            cx.push(e);
        }
        if let Err(e) = result {
            cx.push(e);
        }
    }
}

/// Parses the container attributes of a `#[derive(Packet)]` type.
/// `allowed` narrows the keys (PacketSet accepts only `crate`).
pub fn container(cx: &mut Ctxt, attrs: &[Attribute], for_set: bool) -> Container {
    let mut out = Container::default();
    for_each_packet_meta(cx, attrs, |cx, meta| {
        let span = meta.path.span();
        if meta.path.is_ident("crate") {
            if let Some(p) = parse_path(cx, meta, "crate")? {
                set_once(cx, &mut out.krate, p, span, "crate");
            }
        } else if meta.path.is_ident("id") && !for_set {
            if let Some(e) = parse_int_expr(cx, meta, "id")? {
                set_once(cx, &mut out.id, e, span, "id");
            }
        } else if meta.path.is_ident("tag") && !for_set {
            if let Some(w) = parse_width(cx, meta, "tag")? {
                set_once(cx, &mut out.tag, w, span, "tag");
            }
        } else if (meta.path.is_ident("recursive") || meta.path.is_ident("pod")) && !for_set {
            let name = key_name(&meta.path);
            let slot = if name == "pod" {
                &mut out.pod
            } else {
                &mut out.recursive
            };
            if meta.input.peek(syn::Token![=]) || meta.input.peek(syn::token::Paren) {
                cx.error(
                    span,
                    format!("`{name}` takes no value: write `#[packet({name})]`"),
                );
                skip_value(meta)?;
            } else if slot.is_some() {
                cx.error(span, format!("duplicate packet attribute `{name}`"));
            } else {
                *slot = Some(span);
            }
        } else {
            let name = key_name(&meta.path);
            if for_set {
                cx.error(
                    span,
                    format!("unknown PacketSet attribute `{name}`; expected `crate` (ids come from each member's `#[packet(id = ...)]`)"),
                );
            } else if FIELD_KEYS.contains(&format!("`{name}`")) {
                cx.error(span, format!("`{name}` is a field attribute; on a type the packet attributes are {CONTAINER_KEYS}"));
            } else {
                cx.error(
                    span,
                    format!("unknown packet attribute `{name}`; expected one of {CONTAINER_KEYS}"),
                );
            }
            skip_value(meta)?;
        }
        Ok(())
    });
    out
}

/// Parses the attributes of one field.
pub fn field(cx: &mut Ctxt, attrs: &[Attribute]) -> Field {
    let mut out = Field::default();
    for_each_packet_meta(cx, attrs, |cx, meta| {
        let span = meta.path.span();
        if meta.path.is_ident("len") {
            if let Some(w) = parse_width(cx, meta, "len")? {
                set_once(cx, &mut out.len, w, span, "len");
            }
        } else if meta.path.is_ident("max_len") {
            if let Some(e) = parse_int_expr(cx, meta, "max_len")? {
                set_once(cx, &mut out.max_len, e, span, "max_len");
            }
        } else if meta.path.is_ident("skip") {
            if meta.input.peek(syn::Token![=]) || meta.input.peek(syn::token::Paren) {
                cx.error(span, "`skip` takes no value: write `#[packet(skip)]`");
                skip_value(meta)?;
            } else if out.skip.is_some() {
                cx.error(span, "duplicate packet attribute `skip`");
            } else {
                out.skip = Some(span);
            }
        } else if meta.path.is_ident("with") {
            if let Some(p) = parse_path(cx, meta, "with")? {
                set_once(cx, &mut out.with, p, span, "with");
            }
        } else {
            let name = key_name(&meta.path);
            if CONTAINER_KEYS.contains(&format!("`{name}`")) {
                cx.error(span, format!("`{name}` is a type attribute; on a field the packet attributes are {FIELD_KEYS}"));
            } else {
                cx.error(
                    span,
                    format!("unknown packet attribute `{name}`; expected one of {FIELD_KEYS}"),
                );
            }
            skip_value(meta)?;
        }
        Ok(())
    });
    out
}

/// Rejects any `#[packet(...)]` on an enum variant (none are defined).
pub fn variant(cx: &mut Ctxt, attrs: &[Attribute]) {
    for attr in attrs.iter().filter(|a| a.path().is_ident("packet")) {
        cx.error(
            attr.span(),
            "enum variants take no packet attributes; the tag is the variant's discriminant",
        );
    }
}

/// The integer repr of an enum, if any: `u8`/`u16`/`u32` and
/// `i8`/`i16`/`i32` are accepted,
/// other integer reprs are errors, non-integer reprs (`C`, `align`) are
/// ignored.
pub fn repr(cx: &mut Ctxt, attrs: &[Attribute]) -> Option<Repr> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("repr")) {
        let _ = attr.parse_nested_meta(|meta| {
            if let Some(ident) = meta.path.get_ident() {
                let name = ident.to_string();
                if let Some(w) = Width::from_repr(&name) {
                    found = Some(Repr { width: Some(w) });
                } else if matches!(
                    name.as_str(),
                    "u64" | "u128" | "usize" | "i64" | "i128" | "isize"
                ) {
                    cx.error(
                        ident.span(),
                        format!("`#[repr({name})]` is not supported by `#[derive(Packet)]`: tags are at most 32 bits; use `u8`, `u16`, `u32`, `i8`, `i16` or `i32`"),
                    );
                    found = Some(Repr { width: None });
                }
            }
            skip_value(&meta)
        });
    }
    found
}
