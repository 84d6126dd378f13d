//! Code generation from a validated model (`check.rs`). Nothing is
//! validated here; every error a user can cause is reported before.
//!
//! What is generated for a `#[derive(Packet)]` type:
//! - `impl Encode`: `MAX_SIZE` / `MIN_SIZE` summed in `const` context from
//!   the fields (`codec::size`), `encoded_len`, and `encode`; for a
//!   recursive type `MAX_SIZE` is `None` and `MIN_SIZE` names no type of
//!   the cycle (`recursion.rs` decides which). Runs of
//!   consecutive fixed-size primitive fields (integers, floats, `bool`,
//!   `char`, small arrays of them, and an enum's tag) are written with one
//!   `Writer::reserve_array` and direct stores, and read with one
//!   `Reader::take` and fixed-size loads at constant offsets (field by
//!   field only on the short-input error path, for exact errors); other
//!   fields call their own impls.
//! - `impl Decode<'de>`: fields in order, borrowing where the fields do.
//! - with `#[packet(id = ..)]`, `impl Packet` whose `ID` carries the
//!   assertion that some transport can carry the packet's smallest frame
//!   (see the crate docs, "Compile-time size check"; whether it fits a
//!   given buffer or a datagram is asserted where that is chosen).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{GenericParam, Generics, Ident, Lifetime, Type};

use crate::attr::Width;
use crate::check::{Body, Field, Kind, Model, Prim, Seq, SetModel, seq_of, strip};
use crate::recursion::Sizer;

const ALLOWS: &str = "clippy::all, clippy::pedantic, unused_variables, unused_mut, unused_assignments, unreachable_patterns, non_upper_case_globals, non_snake_case";

fn allows() -> TokenStream {
    let lints: TokenStream = ALLOWS.parse().unwrap_or_default();
    quote!(#[allow(#lints)])
}

fn bind(i: usize) -> Ident {
    format_ident!("__f{}", i)
}

/// `{ member: __f0, .. }`, skipped fields bound to `_`.
fn pattern(fields: &[Field<'_>]) -> TokenStream {
    let items = fields.iter().enumerate().map(|(i, f)| {
        let m = &f.member;
        if matches!(f.kind, Kind::Skip) {
            quote!(#m: _)
        } else {
            let b = bind(i);
            quote!(#m: #b)
        }
    });
    quote!({ #(#items,)* })
}

/// `{ member: __f0, .. }` for construction.
fn construct(fields: &[Field<'_>]) -> TokenStream {
    let items = fields.iter().enumerate().map(|(i, f)| {
        let m = &f.member;
        let b = bind(i);
        quote!(#m: #b)
    });
    quote!({ #(#items,)* })
}

fn prefix_ty(len: Width) -> TokenStream {
    len.ty()
}

/// The field's `MAX_SIZE` contribution (`Option<usize>`).
fn field_max(krate: &syn::Path, f: &Field<'_>) -> TokenStream {
    let ty = f.ty;
    match &f.kind {
        Kind::Skip => quote!(::core::option::Option::Some(0usize)),
        Kind::With(path) => quote!(#path::MAX_SIZE),
        Kind::Seq { seq, len, max_len } => {
            let l = prefix_ty(*len);
            let item = match seq {
                Seq::Str | Seq::Bytes => quote!(::core::option::Option::Some(1usize)),
                Seq::Items(t) => quote!(<#t as #krate::Encode>::MAX_SIZE),
            };
            let max = max_len.map_or_else(|| quote!(::core::primitive::usize::MAX), |e| quote!(#e));
            quote!(#krate::codec::seq_max_size::<#l>(#item, #max))
        }
        Kind::Prim(_) | Kind::Plain => {
            quote_spanned!(ty.span()=> <#ty as #krate::Encode>::MAX_SIZE)
        }
    }
}

/// The field's `MIN_SIZE` contribution (`usize`); never names a type that
/// may lead back to the deriving one (see `recursion.rs`).
fn field_min(sizer: &Sizer<'_>, f: &Field<'_>) -> TokenStream {
    match &f.kind {
        Kind::Skip | Kind::With(_) => quote!(0usize),
        Kind::Seq { len, .. } => {
            let n = len.size();
            quote!(#n)
        }
        Kind::Prim(p) => {
            let n = p.size();
            quote!(#n)
        }
        Kind::Plain => sizer.min(f.ty),
    }
}

/// The types of the fields whose own impls the generated code uses (not
/// `skip`, whose type is not on the wire, nor `with`, whose module is):
/// only these can make the type's constants cycle.
fn wire_types<'a>(fields: &'a [Field<'a>]) -> impl Iterator<Item = &'a Type> {
    fields
        .iter()
        .filter(|f| matches!(f.kind, Kind::Seq { .. } | Kind::Plain))
        .map(|f| f.ty)
}

fn fields_max(krate: &syn::Path, fields: &[Field<'_>]) -> TokenStream {
    let parts = fields.iter().map(|f| field_max(krate, f));
    quote!({
        let __total = ::core::option::Option::Some(0usize);
        #(let __total = #krate::codec::size::add(__total, #parts);)*
        __total
    })
}

fn fields_min(sizer: &Sizer<'_>, fields: &[Field<'_>]) -> TokenStream {
    let parts = fields.iter().map(|f| field_min(sizer, f));
    quote!(0usize #(.saturating_add(#parts))*)
}

/// `encoded_len` of bound fields, saturating: a sequence longer than its
/// prefix or `max_len` allows counts `usize::MAX`, as `encode` refuses it.
///
/// `nested`: the body of `nested_len` (see `nested_fns`), each field's
/// size found `__depth` levels deep.
fn fields_len(krate: &syn::Path, fields: &[Field<'_>], nested: bool) -> TokenStream {
    let parts = fields.iter().enumerate().map(|(i, f)| {
        let b = bind(i);
        match &f.kind {
            Kind::Skip => quote!(0usize),
            Kind::With(path) => quote!(#path::encoded_len(#b)),
            Kind::Seq { seq, len, max_len } => {
                let l = prefix_ty(*len);
                let max =
                    max_len.map_or_else(|| quote!(::core::primitive::usize::MAX), |e| quote!(#e));
                if let (true, Seq::Items(t)) = (nested, seq) {
                    return quote!(#krate::codec::seq_nested_len::<#l, #t>(&#b[..], #max, __depth));
                }
                let payload = match seq {
                    Seq::Str | Seq::Bytes => quote!(#b.len()),
                    Seq::Items(t) => quote!(<#t as #krate::Encode>::slice_encoded_len(&#b[..])),
                };
                quote!(#krate::codec::prefixed_len::<#l>(#b.len(), #max, #payload))
            }
            Kind::Prim(p) => {
                let n = p.size();
                quote!(#n)
            }
            Kind::Plain if nested => {
                // Only the path spanned at the type: `__depth` keeps the
                // derive's hygiene when the type comes from a macro.
                let ty = f.ty;
                let call = quote_spanned!(ty.span()=> <#ty as #krate::Encode>::nested_len);
                quote!(#call(#b, __depth))
            }
            Kind::Plain => {
                let ty = f.ty;
                quote_spanned!(ty.span()=> <#ty as #krate::Encode>::encoded_len(#b))
            }
        }
    });
    quote!(0usize #(.saturating_add(#parts))*)
}

/// Whether a field type may have a fixed wire size, judged by how it is
/// written: references, slices, sequences, `Option` and `Box` never do.
fn maybe_fixed(ty: &Type) -> bool {
    match strip(ty) {
        Type::Reference(_) | Type::Slice(_) | Type::TraitObject(_) | Type::ImplTrait(_) => false,
        Type::Path(p) => p.path.segments.last().is_none_or(|seg| {
            !matches!(
                seg.ident.to_string().as_str(),
                "Vec"
                    | "String"
                    | "Option"
                    | "Box"
                    | "str"
                    | "VecDeque"
                    | "HashMap"
                    | "BTreeMap"
                    | "HashSet"
                    | "BTreeSet"
            )
        }),
        _ => true,
    }
}

/// A field that can join a fixed-size group: a primitive, or a plain field
/// whose type may be fixed-size (decided by its constants at compile time).
fn groupable(f: &Field<'_>) -> bool {
    match f.kind {
        Kind::Prim(_) => true,
        Kind::Plain => maybe_fixed(f.ty),
        _ => false,
    }
}

/// How the fields of one struct or variant are split for generation.
enum Piece {
    /// Fields generated one by one (primitive runs still share a check).
    Each(Vec<usize>),
    /// Consecutive primitives and maybe-fixed nested types: when all are
    /// fixed-size (known in `const` context), one check for the whole
    /// group and direct stores / loads; otherwise as `Each`.
    Group(Vec<usize>),
}

fn pieces(fields: &[Field<'_>]) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    let mut i = 0;
    while i < fields.len() {
        let start = i;
        if groupable(&fields[i]) {
            while i < fields.len() && groupable(&fields[i]) {
                i += 1;
            }
            if fields[start..i]
                .iter()
                .any(|f| matches!(f.kind, Kind::Plain))
            {
                out.push(Piece::Group((start..i).collect()));
                continue;
            }
        } else {
            i += 1;
        }
        match out.last_mut() {
            Some(Piece::Each(v)) => v.extend(start..i),
            _ => out.push(Piece::Each((start..i).collect())),
        }
    }
    out
}

/// Where a derived type's fields come from, for generated error messages
/// and for the choice of size constants.
pub struct Owner<'a> {
    pub krate: &'a syn::Path,
    /// `Type` or `Type::Variant`.
    pub path: String,
    /// The type has type parameters: its `Decode` impl cannot name the
    /// fields' `Encode` constants.
    pub generic: bool,
}

/// What to change when a sequence field is too long, or `None` for a
/// field that is not a sequence (a nested type names its own field).
fn too_long_fix(f: &Field<'_>) -> Option<String> {
    match &f.kind {
        Kind::Seq { len, max_len, .. } => Some(match (len, max_len) {
            (_, Some(_)) => format!(
                "raise its `#[packet(max_len = ..)]`, a schema's `max = ..` (its `{}` prefix counts at most {})",
                len.name(),
                len.max()
            ),
            (Width::U8, None) => "widen its prefix: `#[packet(len = u16)]` or `len = u32`".into(),
            (Width::U32, None) => {
                "its `u32` prefix is the widest: split the data across fields or packets".into()
            }
            _ => "widen its prefix: `#[packet(len = u32)]`".into(),
        }),
        Kind::Plain if seq_of(f.ty).is_ok() => Some(
            "its default `u16` prefix counts at most 65535: give it `#[packet(len = u32)]`".into(),
        ),
        _ => None,
    }
}

/// `?` that names the field on a too-long sequence.
fn named_try(owner: &Owner<'_>, f: &Field<'_>) -> TokenStream {
    match too_long_fix(f) {
        Some(fix) => {
            let field = format!("{}.{}", owner.path, member_name(&f.member));
            quote!(.map_err(|__e| __e.in_field(#field, #fix))?)
        }
        None => quote!(?),
    }
}

fn member_name(m: &syn::Member) -> String {
    match m {
        syn::Member::Named(i) => i.to_string(),
        syn::Member::Unnamed(i) => i.index.to_string(),
    }
}

/// The `Option<usize>` fixed size of a groupable field: on encode its
/// `Encode::FIXED_SIZE`; on decode the same constant where the impl can
/// name it (no type parameters), else `Decode::FIXED_WIRE_SIZE`.
fn fixed_size(owner: &Owner<'_>, f: &Field<'_>, decode: Option<&Lifetime>) -> TokenStream {
    let krate = owner.krate;
    let ty = f.ty;
    match (&f.kind, decode) {
        (Kind::Prim(p), _) => {
            let n = p.size();
            quote!(::core::option::Option::Some(#n))
        }
        (_, Some(de)) if owner.generic => {
            quote!(<#ty as #krate::Decode<#de>>::FIXED_WIRE_SIZE)
        }
        _ => quote!(<#ty as #krate::Encode>::FIXED_SIZE),
    }
}

fn sum_fixed(krate: &syn::Path, parts: impl Iterator<Item = TokenStream>) -> TokenStream {
    quote!({
        let __t = ::core::option::Option::Some(0usize);
        #(let __t = #krate::codec::size::add(__t, #parts);)*
        __t
    })
}

/// Stores the bound fields `idx` (all fixed-size) into `__rest`, a slice
/// of exactly their total size.
fn encode_fixed_fields(owner: &Owner<'_>, fields: &[Field<'_>], idx: &[usize]) -> TokenStream {
    let krate = owner.krate;
    let wire: Vec<usize> = idx
        .iter()
        .copied()
        .filter(|&i| !matches!(fields[i].kind, Kind::Skip))
        .collect();
    let mut out = TokenStream::new();
    let mut n = 0usize;
    let mut k = 0;
    while k < wire.len() {
        let i = wire[k];
        if let Kind::Prim(_) = fields[i].kind {
            // A run of primitives: bytes assembled in registers, stored
            // into their slot with one array store.
            let mut stmts = TokenStream::new();
            let mut bytes: Vec<Ident> = Vec::new();
            while k < wire.len() {
                let Kind::Prim(p) = &fields[wire[k]].kind else {
                    break;
                };
                let b = bind(wire[k]);
                prim_to_bytes(p, quote!(*#b), &mut n, &mut stmts, &mut bytes);
                k += 1;
            }
            let count = bytes.len();
            out.extend(quote!({
                #stmts
                let (__c, __rest2) = #krate::codec::split_fixed_mut(__rest, #count)?;
                __rest = __rest2;
                if let ::core::option::Option::Some(__c) = __c.first_chunk_mut::<#count>() {
                    *__c = [#(#bytes),*];
                }
            }));
            continue;
        }
        let f = &fields[i];
        let b = bind(i);
        let ty = f.ty;
        let size = fixed_size(owner, f, None);
        out.extend(quote!(
            let (__c, __rest2) = #krate::codec::split_fixed_mut(
                __rest,
                match #size { ::core::option::Option::Some(__n) => __n, ::core::option::Option::None => 0 },
            )?;
            __rest = __rest2;
            <#ty as #krate::Encode>::encode_fixed(#b, __c)?;
        ));
        k += 1;
    }
    quote!(let mut __rest = __rest; #out)
}

/// Loads the fields `idx` (all fixed-size) from `__rest`, binding `__fN`.
fn decode_fixed_fields(
    owner: &Owner<'_>,
    fields: &[Field<'_>],
    idx: &[usize],
    de: &Lifetime,
) -> TokenStream {
    let krate = owner.krate;
    let mut out = TokenStream::new();
    let mut n = 0usize;
    let mut k = 0;
    while k < idx.len() {
        let i = idx[k];
        let f = &fields[i];
        let b = bind(i);
        let ty = f.ty;
        match &f.kind {
            Kind::Skip => {
                out.extend(quote!(let #b: #ty = ::core::default::Default::default();));
                k += 1;
            }
            Kind::Prim(_) => {
                // A run of primitives: loads at constant offsets of one
                // array, as in the field-by-field path.
                let start = k;
                while k < idx.len() && matches!(fields[idx[k]].kind, Kind::Prim(_)) {
                    k += 1;
                }
                let run = &idx[start..k];
                let size: usize = run
                    .iter()
                    .map(|&i| match &fields[i].kind {
                        Kind::Prim(p) => p.size(),
                        _ => 0,
                    })
                    .sum();
                let bytes = format_ident!("__a{}", run[0]);
                out.extend(quote!(
                    let (__c, __rest) = #krate::codec::split_fixed(__rest, ::core::option::Option::Some(#size))?;
                    let ::core::option::Option::Some(#bytes) = __c.first_chunk::<#size>() else {
                        return ::core::result::Result::Err(#krate::DecodeError::UnexpectedEnd {
                            needed: #size,
                            remaining: __c.len(),
                        });
                    };
                ));
                let mut off = 0usize;
                for &i in run {
                    if let Kind::Prim(p) = &fields[i].kind {
                        let v = prim_from_bytes(krate, p, &bytes, &mut off, &mut n, &mut out);
                        let b = bind(i);
                        out.extend(quote!(let #b = #v;));
                    }
                }
            }
            _ => {
                let size = fixed_size(owner, f, Some(de));
                out.extend(quote!(
                    let (__c, __rest) = #krate::codec::split_fixed(__rest, #size)?;
                    let #b: #ty = <#ty as #krate::Decode<#de>>::decode_fixed(__c)?;
                ));
                k += 1;
            }
        }
    }
    out
}

/// Statements turning the primitive `value` into byte variables.
fn prim_to_bytes(
    p: &Prim,
    value: TokenStream,
    n: &mut usize,
    stmts: &mut TokenStream,
    bytes: &mut Vec<Ident>,
) {
    let fresh = |count: usize, n: &mut usize| -> Vec<Ident> {
        (0..count)
            .map(|_| {
                *n += 1;
                format_ident!("__b{}", *n)
            })
            .collect()
    };
    match p {
        Prim::Num(ty, size) => {
            let ids = fresh(*size, n);
            stmts.extend(quote!(let [#(#ids),*] = ::core::primitive::#ty::to_le_bytes(#value);));
            bytes.extend(ids);
        }
        Prim::Bool => {
            let ids = fresh(1, n);
            stmts.extend(quote!(let #(#ids)* = ::core::primitive::u8::from(#value);));
            bytes.extend(ids);
        }
        Prim::Char => {
            let ids = fresh(4, n);
            stmts.extend(
                quote!(let [#(#ids),*] = ::core::primitive::u32::from(#value).to_le_bytes();),
            );
            bytes.extend(ids);
        }
        Prim::Array(elem, len) => {
            let elems: Vec<Ident> = (0..*len)
                .map(|_| {
                    *n += 1;
                    format_ident!("__e{}", *n)
                })
                .collect();
            stmts.extend(quote!(let [#(#elems),*] = #value;));
            for e in elems {
                prim_to_bytes(elem, quote!(#e), n, stmts, bytes);
            }
        }
    }
}

/// Statements reading the primitive from byte variables; returns the
/// variable holding the value.
fn prim_from_bytes(
    krate: &syn::Path,
    p: &Prim,
    bytes: &Ident,
    off: &mut usize,
    n: &mut usize,
    stmts: &mut TokenStream,
) -> Ident {
    *n += 1;
    let out = format_ident!("__v{}", *n);
    // Each value is loaded from its constant offset in the run's borrowed
    // bytes with a fixed-size copy (one load), not assembled from one
    // binding per byte, which LLVM rebuilds with shifts and ors.
    let at = |off: &mut usize, size: usize| {
        let start = *off;
        *off += size;
        quote!({
            let mut __b = [0u8; #size];
            __b.copy_from_slice(&#bytes[#start..#start + #size]);
            __b
        })
    };
    match p {
        Prim::Num(ty, size) => {
            let load = at(off, *size);
            stmts.extend(quote!(let #out = ::core::primitive::#ty::from_le_bytes(#load);));
        }
        Prim::Bool => {
            let b = {
                let k = *off;
                *off += 1;
                quote!(#bytes[#k])
            };
            stmts.extend(quote!(
                let #out = match #b {
                    0 => false,
                    1 => true,
                    __bad => return ::core::result::Result::Err(#krate::DecodeError::InvalidBool(__bad)),
                };
            ));
        }
        Prim::Char => {
            let load = at(off, 4);
            stmts.extend(quote!(
                let #out = {
                    let __raw = ::core::primitive::u32::from_le_bytes(#load);
                    match ::core::primitive::char::from_u32(__raw) {
                        ::core::option::Option::Some(__c) => __c,
                        ::core::option::Option::None => return ::core::result::Result::Err(#krate::DecodeError::InvalidChar(__raw)),
                    }
                };
            ));
        }
        Prim::Array(elem, len) => {
            let elems: Vec<Ident> = (0..*len)
                .map(|_| prim_from_bytes(krate, elem, bytes, off, n, stmts))
                .collect();
            stmts.extend(quote!(let #out = [#(#elems),*];));
        }
    }
    out
}

/// `encode` statements for bound fields, optionally led by a tag.
fn encode_fields(
    owner: &Owner<'_>,
    fields: &[Field<'_>],
    tag: Option<(Width, &TokenStream)>,
) -> TokenStream {
    let krate = owner.krate;
    let mut out = TokenStream::new();
    let mut tag = tag;
    for (k, piece) in pieces(fields).into_iter().enumerate() {
        match piece {
            Piece::Each(idx) => out.extend(encode_each(owner, fields, &idx, tag.take(), false)),
            Piece::Group(idx) => {
                out.extend(encode_each(owner, fields, &[], tag.take(), false));
                let label = Lifetime::new(&format!("'__g{k}"), Span::call_site());
                let total = sum_fixed(
                    krate,
                    idx.iter().map(|&i| fixed_size(owner, &fields[i], None)),
                );
                let fast = encode_fixed_fields(owner, fields, &idx);
                let slow = encode_each(owner, fields, &idx, None, false);
                // A fixed-size group that does not fit is written field by
                // field (the error names the field that ran out) out of
                // line, on a copy of the writer: the hot path's writer
                // keeps to registers. A group that is not fixed-size after
                // all is written field by field inline.
                out.extend(quote!(
                    #label: {
                        if let ::core::option::Option::Some(__n) = #total {
                            if let ::core::option::Option::Some(__rest) = __w.try_reserve(__n) {
                                #fast
                                break #label;
                            }
                            __w.cold_path(|__w| -> ::core::result::Result<(), #krate::EncodeError> {
                                #slow
                                ::core::result::Result::Ok(())
                            })?;
                            break #label;
                        }
                        #slow
                    }
                ));
            }
        }
    }
    // A variant without fields still writes its tag.
    out.extend(encode_each(owner, fields, &[], tag, false));
    out
}

/// `encode_nested` statements for bound fields, optionally led by a tag:
/// field by field (runs of primitives still share one store), every
/// sequence and nested type counting its nesting levels in the writer.
fn encode_fields_nested(
    owner: &Owner<'_>,
    fields: &[Field<'_>],
    tag: Option<(Width, &TokenStream)>,
) -> TokenStream {
    let all: Vec<usize> = (0..fields.len()).collect();
    encode_each(owner, fields, &all, tag, true)
}

/// Whether a field's encoding may hold a nesting level the decoder
/// counts (a `Box` or a `Vec`): a sequence of items or a nested type.
fn may_nest(f: &Field<'_>) -> bool {
    matches!(
        f.kind,
        Kind::Plain
            | Kind::Seq {
                seq: Seq::Items(_),
                ..
            }
    )
}

/// Field-by-field `encode` statements for the bound fields `idx`; runs of
/// primitives (led by the tag, if any) share one `reserve_array`. With
/// `nested`, sequences and nested types count nesting levels
/// (`encode_nested`).
fn encode_each(
    owner: &Owner<'_>,
    fields: &[Field<'_>],
    idx: &[usize],
    tag: Option<(Width, &TokenStream)>,
    nested: bool,
) -> TokenStream {
    let krate = owner.krate;
    let mut out = TokenStream::new();
    let mut run_stmts = TokenStream::new();
    let mut run_bytes: Vec<Ident> = Vec::new();
    let mut n = 0usize;
    let flush = |out: &mut TokenStream, stmts: &mut TokenStream, bytes: &mut Vec<Ident>| {
        if bytes.is_empty() {
            return;
        }
        let count = bytes.len();
        let s = std::mem::take(stmts);
        out.extend(quote!({
            #s
            *__w.reserve_array::<#count>()? = [#(#bytes),*];
        }));
        bytes.clear();
    };
    if let Some((width, value)) = tag {
        let ident = format_ident!("{}", width.name());
        let size = width.size();
        prim_to_bytes(
            &Prim::Num(ident, size),
            quote!(#value),
            &mut n,
            &mut run_stmts,
            &mut run_bytes,
        );
    }
    for &i in idx {
        let f = &fields[i];
        let b = bind(i);
        match &f.kind {
            Kind::Prim(p) => prim_to_bytes(p, quote!(*#b), &mut n, &mut run_stmts, &mut run_bytes),
            Kind::Skip => {}
            other => {
                flush(&mut out, &mut run_stmts, &mut run_bytes);
                let tried = named_try(owner, f);
                out.extend(match other {
                    Kind::With(path) => {
                        let call = quote_spanned!(path.span()=> #path::encode);
                        quote!(#call(#b, __w)?;)
                    }
                    Kind::Seq { seq, len, max_len } => {
                        let l = prefix_ty(*len);
                        let max = max_len
                            .map_or_else(|| quote!(::core::primitive::usize::MAX), |e| quote!(#e));
                        match seq {
                            Seq::Str => quote!(#krate::codec::encode_str::<#l>(#b, #max, __w)#tried;),
                            Seq::Bytes => {
                                quote!(#krate::codec::encode_bytes::<#l>(#b, #max, __w)#tried;)
                            }
                            Seq::Items(t) if nested => {
                                quote!(#krate::codec::encode_seq_nested::<#l, #t>(&#b[..], #max, __w, __depth)#tried;)
                            }
                            Seq::Items(t) => {
                                quote!(#krate::codec::encode_seq::<#l, #t>(&#b[..], #max, __w)#tried;)
                            }
                        }
                    }
                    _ if nested => {
                        let ty = f.ty;
                        let call =
                            quote_spanned!(ty.span()=> <#ty as #krate::Encode>::encode_nested);
                        quote!(#call(#b, __w, __depth)#tried;)
                    }
                    _ => {
                        let ty = f.ty;
                        let call = quote_spanned!(ty.span()=> <#ty as #krate::Encode>::encode);
                        quote!(#call(#b, __w)#tried;)
                    }
                });
            }
        }
    }
    flush(&mut out, &mut run_stmts, &mut run_bytes);
    out
}

/// Replaces a top-level reference's lifetime with the decode lifetime, so
/// a `&'a str` field of a multi-lifetime type decodes as `&'de str` and
/// coerces.
fn decode_ty(ty: &Type, de: &Lifetime) -> TokenStream {
    match ty {
        Type::Reference(r) if r.mutability.is_none() => {
            let elem = &r.elem;
            quote!(&#de #elem)
        }
        _ => quote!(#ty),
    }
}

/// `decode` statements binding `__f0..` for `fields`.
fn decode_fields(owner: &Owner<'_>, fields: &[Field<'_>], de: &Lifetime) -> TokenStream {
    let krate = owner.krate;
    let mut out = TokenStream::new();
    for (k, piece) in pieces(fields).into_iter().enumerate() {
        match piece {
            Piece::Each(idx) => out.extend(decode_each(krate, fields, &idx, de)),
            Piece::Group(idx) => {
                let label = Lifetime::new(&format!("'__g{k}"), Span::call_site());
                let binds: Vec<Ident> = idx.iter().map(|&i| bind(i)).collect();
                let total = sum_fixed(
                    krate,
                    idx.iter().map(|&i| fixed_size(owner, &fields[i], Some(de))),
                );
                let fast = decode_fixed_fields(owner, fields, &idx, de);
                let slow = decode_each(krate, fields, &idx, de);
                out.extend(quote!(
                    let (#(#binds,)*) = #label: {
                        if let ::core::option::Option::Some(__n) = #total {
                            if let ::core::result::Result::Ok(__rest) = __r.take(__n) {
                                #fast
                                break #label (#(#binds,)*);
                            }
                            // Short input: field by field, out of line.
                            let (__back, __res) = #krate::codec::cold_decode(
                                ::core::clone::Clone::clone(__r),
                                |__r: &mut #krate::Reader<#de>| {
                                    #slow
                                    ::core::result::Result::Ok((#(#binds,)*))
                                },
                            );
                            *__r = __back;
                            break #label __res?;
                        }
                        #slow
                        (#(#binds,)*)
                    };
                ));
            }
        }
    }
    out
}

/// Field-by-field `decode` statements for the fields `idx`; runs of
/// primitives share one bounds check.
fn decode_each(krate: &syn::Path, all: &[Field<'_>], idx: &[usize], de: &Lifetime) -> TokenStream {
    let mut out = TokenStream::new();
    let mut n = 0usize;
    let mut k = 0;
    while k < idx.len() {
        let i = idx[k];
        if let Kind::Prim(_) = all[i].kind {
            // A run of primitives: one bounds check, then loads.
            let start = k;
            while k < idx.len() && matches!(all[idx[k]].kind, Kind::Prim(_)) {
                k += 1;
            }
            let run: Vec<usize> = idx[start..k].to_vec();
            let size: usize = run
                .iter()
                .map(|&i| match &all[i].kind {
                    Kind::Prim(p) => p.size(),
                    _ => 0,
                })
                .sum();
            let bytes = format_ident!("__r{}", run[0]);
            // Short input: decode the run field by field, so the error
            // names the field that ran out (`needed` = its width, as the
            // wire format specifies), then give up.
            let slow = run.iter().map(|&i| {
                let ty = all[i].ty;
                quote!(let _ = <#ty as #krate::Decode<#de>>::decode(__r)?;)
            });
            let take_run = quote!(
                match __r.take(#size) {
                    ::core::result::Result::Ok(__run) => __run,
                    ::core::result::Result::Err(__err) => {
                        let (__back, __res) = #krate::codec::cold_decode(
                            ::core::clone::Clone::clone(__r),
                            |__r: &mut #krate::Reader<#de>| {
                                #(#slow)*
                                ::core::result::Result::Ok(__err)
                            },
                        );
                        *__r = __back;
                        return ::core::result::Result::Err(match __res {
                            ::core::result::Result::Ok(__e)
                            | ::core::result::Result::Err(__e) => __e,
                        });
                    }
                }
            );
            // One string field right after the primitives (an item's id
            // after its count and slot): its length prefix joins the run's
            // bounds check. Short input falls back to the two checks, so
            // every error is the one that path reports.
            let fused = idx.get(k).and_then(|&j| {
                let single = idx
                    .get(k + 1)
                    .is_none_or(|&x| str_prefix(&all[x]).is_none());
                str_prefix(&all[j])
                    .filter(|_| single)
                    .map(|(w, max)| (j, w, max))
            });
            if let Some((j, w, max)) = fused {
                let b = bind(j);
                let ty = all[j].ty;
                let field = decode_field(krate, &all[j], b.clone(), de);
                out.extend(quote!(
                    let (#bytes, #b): (&[u8], #ty) = match __r.take(#size + #w) {
                        ::core::result::Result::Ok(__run) => (
                            __run,
                            ::core::convert::Into::into(
                                #krate::codec::take_str_after::<#w>(__run, #max, __r)?,
                            ),
                        ),
                        ::core::result::Result::Err(_) => {
                            let __run: &[u8] = #take_run;
                            #field
                            (__run, #b)
                        }
                    };
                ));
                k += 1;
            } else {
                out.extend(quote!(let #bytes: &[u8] = #take_run;));
            }
            let mut off = 0usize;
            for &i in &run {
                if let Kind::Prim(p) = &all[i].kind {
                    let v = prim_from_bytes(krate, p, &bytes, &mut off, &mut n, &mut out);
                    let b = bind(i);
                    out.extend(quote!(let #b = #v;));
                }
            }
            continue;
        }
        // A run of two or more string fields: one UTF-8 validation for the
        // run when it qualifies (`codec::decode_str_run`), else field by field.
        let strings = idx[k..]
            .iter()
            .take_while(|&&i| str_prefix(&all[i]).is_some())
            .count();
        if strings >= 2 {
            let run = &idx[k..k + strings];
            out.extend(decode_str_run(krate, all, run, de));
            k += strings;
            continue;
        }
        let f = &all[i];
        // A string that floats follow: validated alone, no window ahead.
        if let Some((l, max)) = str_decode_prefix(krate, f)
            && all[i + 1..]
                .iter()
                .find(|g| !matches!(g.kind, Kind::Skip))
                .is_some_and(|g| starts_with_float(g.ty))
        {
            let (b, ty) = (bind(i), f.ty);
            out.extend(quote!(
                let #b: #ty = ::core::convert::Into::into(
                    #krate::codec::decode_str_alone::<#l>(#max, __r)?,
                );
            ));
            k += 1;
            continue;
        }
        out.extend(decode_field(krate, f, bind(i), de));
        k += 1;
    }
    out
}

/// The prefix type and `max_len` of a string field, else `None`.
fn str_decode_prefix(krate: &syn::Path, f: &Field<'_>) -> Option<(TokenStream, TokenStream)> {
    let (len, max) = str_field(f)?;
    let prefix = len.map_or_else(|| quote!(#krate::codec::DefaultLen), prefix_ty);
    Some((prefix, max))
}

/// Whether the wire bytes of `ty` start with an `f32` or `f64` (a float,
/// or a tuple or array of them first): bytes that nearly always end a
/// UTF-8 window at once.
fn starts_with_float(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.qself.is_none() && (p.path.is_ident("f32") || p.path.is_ident("f64")),
        Type::Tuple(t) => t.elems.first().is_some_and(starts_with_float),
        Type::Array(a) => starts_with_float(&a.elem),
        Type::Paren(p) => starts_with_float(&p.elem),
        Type::Group(g) => starts_with_float(&g.elem),
        _ => false,
    }
}

/// For a struct shaped like an inventory item (at most four fields, every
/// one a primitive, skipped, or a length-prefixed string): how many strings
/// it holds; `None` for any other struct. Both the encode and the decode
/// expansion inline such small structs into their `Vec` loops.
fn item_strings(fields: &[Field<'_>]) -> Option<usize> {
    let mut strings = 0;
    for f in fields {
        if matches!(f.kind, Kind::Prim(_) | Kind::Skip) {
            continue;
        }
        str_prefix(f)?;
        strings += 1;
    }
    (fields.len() <= 4).then_some(strings)
}

/// `(prefix width, max_len)` of a string field (`&str`, `String`,
/// `Box<str>`, with or without `len` / `max_len`), or `None`.
fn str_prefix(f: &Field<'_>) -> Option<(usize, TokenStream)> {
    let (len, max) = str_field(f)?;
    Some((len.map_or(2, Width::size), max))
}

/// A string field's prefix (`None`: the default, a `u16`) and `max_len`
/// (`usize::MAX` when unset), or `None` for any other field: the one place
/// that decides which fields the string paths take.
fn str_field(f: &Field<'_>) -> Option<(Option<Width>, TokenStream)> {
    match &f.kind {
        Kind::Seq {
            seq: Seq::Str,
            len,
            max_len,
        } => Some((
            Some(*len),
            max_len.map_or_else(|| quote!(::core::primitive::usize::MAX), |e| quote!(#e)),
        )),
        Kind::Plain if matches!(seq_of(f.ty), Ok(Seq::Str)) => {
            Some((None, quote!(::core::primitive::usize::MAX)))
        }
        _ => None,
    }
}

/// Consecutive string fields `run`: validated as one span when the run
/// qualifies, else decoded one by one (the exact errors of that path).
fn decode_str_run(
    krate: &syn::Path,
    all: &[Field<'_>],
    run: &[usize],
    de: &Lifetime,
) -> TokenStream {
    let count = run.len();
    let binds: Vec<Ident> = run.iter().map(|&i| bind(i)).collect();
    let tys: Vec<&Type> = run.iter().map(|&i| all[i].ty).collect();
    let strs: Vec<Ident> = (0..count).map(|j| format_ident!("__s{}", j)).collect();
    let prefixes = run.iter().map(|&i| {
        let (width, max) = str_prefix(&all[i]).unwrap_or((2, quote!(0)));
        quote!((#width, #max))
    });
    let slow: TokenStream = run
        .iter()
        .map(|&i| decode_field(krate, &all[i], bind(i), de))
        .collect();
    // Fields that own their strings copy them right away: the run may then
    // be validated in an aligned scratch copy (`codec::decode_owned_str_run`).
    if !tys.iter().any(|t| matches!(strip(t), Type::Reference(_))) {
        return quote!(
            let mut __scratch: #krate::codec::OwnedStrScratch = ::core::option::Option::None;
            let (#(#binds,)*): (#(#tys,)*) = match #krate::codec::decode_owned_str_run::<#count>(__r, [#(#prefixes),*], &mut __scratch) {
                ::core::option::Option::Some([#(#strs),*]) => (#(::core::convert::Into::into(#strs),)*),
                ::core::option::Option::None => {
                    #slow
                    (#(#binds,)*)
                }
            };
        );
    }
    quote!(
        let (#(#binds,)*): (#(#tys,)*) = match #krate::codec::decode_str_run::<#count>(__r, [#(#prefixes),*]) {
            ::core::option::Option::Some([#(#strs),*]) => (#(::core::convert::Into::into(#strs),)*),
            ::core::option::Option::None => {
                #slow
                (#(#binds,)*)
            }
        };
    )
}

/// The most fields a struct may have for its `Vec` to be decoded with
/// `codec::decode_vec_in_place` (measured: helps `updates`' 8-field
/// contacts, hurts the save game's 30-field players).
const IN_PLACE_FIELDS: usize = 16;

/// For a struct whose fields are primitives followed by one string (an
/// inventory item: count, slot, id), a `decode_vec` that cuts the
/// elements from the reader's validated UTF-8 in one pass and builds each
/// in place (`codec::decode_fixed_str_vec`), decoding element by element
/// (with its errors) from the first that does not qualify; `None` for any
/// other struct.
fn fixed_str_vec(owner: &Owner<'_>, fields: &[Field<'_>], de: &Lifetime) -> Option<TokenStream> {
    let krate = owner.krate;
    let (last, prims) = fields.split_last()?;
    let (width, max) = str_prefix(last)?;
    let mut size = 0usize;
    for f in prims {
        match &f.kind {
            // Numbers only: every byte pattern is a value, so building an
            // element cannot fail.
            Kind::Prim(p @ Prim::Num(..)) => size += p.size(),
            _ => return None,
        }
    }
    let bytes = format_ident!("__a");
    // The string first: its allocation is a call, and the fixed fields
    // read after it are loads from the input (whose address the loop
    // keeps anyway) instead of values spilled around the call.
    let s = bind(prims.len());
    let mut stmts = quote!(let #s = ::core::convert::Into::into(__s););
    let (mut off, mut n) = (0usize, 0usize);
    for (i, f) in prims.iter().enumerate() {
        if let Kind::Prim(p) = &f.kind {
            let v = prim_from_bytes(krate, p, &bytes, &mut off, &mut n, &mut stmts);
            let b = bind(i);
            stmts.extend(quote!(let #b = #v;));
        }
    }
    let cons = construct(fields);
    Some(quote!(
        #krate::__if_alloc! {
            const VEC_SCANS_RUN: bool = true;
            #[inline]
            fn decode_vec(__r: &mut #krate::Reader<#de>, __n: ::core::primitive::usize) -> ::core::result::Result<#krate::__Vec<Self>, #krate::DecodeError> {
                #krate::codec::decode_fixed_str_vec::<Self, #size, #width>(
                    __r,
                    __n,
                    #max,
                    |#bytes: &[::core::primitive::u8; #size], __s: &#de ::core::primitive::str| {
                        #stmts
                        Self #cons
                    },
                )
            }
        }
    ))
}

/// For a struct whose fields are fixed-size fields, a run of two or more
/// owned strings and fixed-size fields (a log record: address, four
/// strings, status, size), a `decode_vec` that validates the string runs
/// of consecutive elements together (`codec::decode_str_run_vec`); `None`
/// for any other struct.
fn str_run_vec(owner: &Owner<'_>, fields: &[Field<'_>], de: &Lifetime) -> Option<TokenStream> {
    let krate = owner.krate;
    let first = fields.iter().position(|f| str_prefix(f).is_some())?;
    let count = fields[first..]
        .iter()
        .take_while(|f| str_prefix(f).is_some())
        .count();
    let (head, rest) = fields.split_at(first);
    let (run, tail) = rest.split_at(count);
    let owned = run
        .iter()
        .all(|f| !matches!(strip(f.ty), Type::Reference(_)));
    if count < 2 || !owned || !head.iter().chain(tail).all(groupable) {
        return None;
    }
    let head_idx: Vec<usize> = (0..first).collect();
    let run_idx: Vec<usize> = (first..first + count).collect();
    let tail_idx: Vec<usize> = (first + count..fields.len()).collect();
    let size = |idx: &[usize]| {
        sum_fixed(
            krate,
            idx.iter().map(|&i| fixed_size(owner, &fields[i], Some(de))),
        )
    };
    let (head_size, tail_size) = (size(&head_idx), size(&tail_idx));
    let head_fixed = decode_fixed_fields(owner, fields, &head_idx, de);
    let tail_fixed = decode_fixed_fields(owner, fields, &tail_idx, de);
    let prefixes = run.iter().map(|f| {
        let (width, max) = str_prefix(f).unwrap_or((2, quote!(0)));
        quote!((#width, #max))
    });
    let strs: Vec<Ident> = (0..count).map(|j| format_ident!("__s{}", j)).collect();
    let binds: Vec<Ident> = run_idx.iter().map(|&i| bind(i)).collect();
    let tys = run.iter().map(|f| f.ty);
    let cons = construct(fields);
    Some(quote!(
        #krate::__if_alloc! {
            const VEC_SCANS_RUN: bool = true;
            #[inline]
            fn decode_vec(__r: &mut #krate::Reader<#de>, __n: ::core::primitive::usize) -> ::core::result::Result<#krate::__Vec<Self>, #krate::DecodeError> {
                #krate::codec::decode_str_run_vec::<Self, #count>(
                    __r,
                    __n,
                    #head_size,
                    [#(#prefixes),*],
                    #tail_size,
                    |__h: &#de [::core::primitive::u8], __s: [&::core::primitive::str; #count], __t: &#de [::core::primitive::u8], __items: &mut #krate::__Vec<Self>| {
                        // The strings first (each an allocation call),
                        // then the fixed fields: loads from the input
                        // after the calls, not values spilled around them.
                        let [#(#strs),*] = __s;
                        #(let #binds: #tys = ::core::convert::Into::into(#strs);)*
                        let __rest = __h;
                        #head_fixed
                        let __rest = __t;
                        #tail_fixed
                        #krate::codec::push_decoded(__items, Self #cons);
                        ::core::result::Result::Ok(())
                    },
                )
            }
        }
    ))
}

/// The `decode` statement binding `b` for one field that is not part of a
/// run.
fn decode_field(krate: &syn::Path, f: &Field<'_>, b: Ident, de: &Lifetime) -> TokenStream {
    let ty = f.ty;
    match &f.kind {
        Kind::Skip => {
            quote_spanned!(ty.span()=> let #b: #ty = ::core::default::Default::default();)
        }
        Kind::With(path) => {
            let call = quote_spanned!(path.span()=> #path::decode);
            quote!(let #b: #ty = #call(__r)?;)
        }
        Kind::Seq { seq, len, max_len } => {
            let l = prefix_ty(*len);
            let max = max_len.map_or_else(|| quote!(::core::primitive::usize::MAX), |e| quote!(#e));
            let call = match seq {
                Seq::Str => quote!(#krate::codec::decode_str::<#l>(#max, __r)?),
                Seq::Bytes => quote!(#krate::codec::decode_bytes::<#l>(#max, __r)?),
                Seq::Items(t) => quote!(#krate::codec::decode_vec::<#l, #t>(#max, __r)?),
            };
            quote!(let #b: #ty = ::core::convert::Into::into(#call);)
        }
        _ => {
            let dty = decode_ty(ty, de);
            let call = quote_spanned!(ty.span()=> <#dty as #krate::Decode<#de>>::decode);
            quote!(let #b: #ty = #call(__r)?;)
        }
    }
}

/// Type parameters of `generics`.
fn type_params(generics: &Generics) -> Vec<Ident> {
    generics.type_params().map(|t| t.ident.clone()).collect()
}

fn with_bounds(generics: &Generics, bound: TokenStream) -> Generics {
    let mut g = generics.clone();
    let params = type_params(generics);
    let wc = g.make_where_clause();
    for p in params {
        wc.predicates.push(syn::parse_quote!(#p: #bound));
    }
    g
}

/// The decode lifetime and the generics of the `Decode` impl: a type with
/// one lifetime decodes with it (so nested borrows like `Vec<&'a str>`
/// work); otherwise a fresh `'__de` that outlives every lifetime.
fn decode_generics(generics: &Generics, krate: &syn::Path) -> (Lifetime, Generics) {
    let lifetimes: Vec<Lifetime> = generics.lifetimes().map(|l| l.lifetime.clone()).collect();
    if lifetimes.len() == 1 {
        let de = lifetimes[0].clone();
        let g = with_bounds(generics, quote!(#krate::Decode<#de>));
        return (de, g);
    }
    let de = Lifetime::new("'__de", Span::call_site());
    let mut g = with_bounds(generics, quote!(#krate::Decode<#de>));
    let mut param = syn::LifetimeParam::new(de.clone());
    for l in lifetimes {
        param.bounds.push(l);
    }
    g.params.insert(0, GenericParam::Lifetime(param));
    (de, g)
}

/// `Name<'static, ..>` when the type has no type or const parameters, for
/// an eager `const` check; `None` otherwise.
fn static_instance(input: &syn::DeriveInput) -> Option<TokenStream> {
    if input.generics.type_params().next().is_some()
        || input.generics.const_params().next().is_some()
    {
        return None;
    }
    let name = &input.ident;
    let lts = input.generics.lifetimes().map(|_| quote!('static));
    Some(quote!(#name<#(#lts),*>))
}

pub fn packet(m: &Model<'_>) -> TokenStream {
    let krate = &m.krate;
    let input = m.input;
    let name = &input.ident;
    let name_str = name.to_string();
    let (_, ty_generics, _) = input.generics.split_for_impl();
    let enc_generics = with_bounds(&input.generics, quote!(#krate::Encode));
    let (enc_impl, _, enc_where) = enc_generics.split_for_impl();
    let (de, dec_generics) = decode_generics(&input.generics, krate);
    let (dec_impl, _, dec_where) = dec_generics.split_for_impl();
    let allow = allows();
    let sizer = Sizer {
        krate,
        name,
        in_cycle: m.in_cycle,
    };
    // A recursive type is unbounded; its MAX_SIZE names no field type, so
    // that rustc never evaluates the type's own constant while computing it.
    let recursive = match &m.body {
        Body::Struct(fields) => sizer.recursive(wire_types(fields)),
        Body::Enum { variants, .. } => {
            sizer.recursive(variants.iter().flat_map(|v| wire_types(&v.fields)))
        }
    };

    let generic = input.generics.type_params().next().is_some();
    let owner = |path: String| Owner {
        krate,
        path,
        generic,
    };
    let mut fixed_fns = TokenStream::new();
    let mut fixed_decode_fn = TokenStream::new();
    let mut pod_consts = TokenStream::new();
    let mut pod_decode = TokenStream::new();
    let mut pod_check = TokenStream::new();
    // The bodies of `nested_len` and `encode_nested`: every nesting level
    // counted (see `depth_fns` below).
    let nested_len_body;
    let nested_enc_body;
    let (max_size, min_size, len_body, enc_body, dec_body) = match &m.body {
        Body::Struct(fields) => {
            let owner = owner(name_str.clone());
            let pat = pattern(fields);
            let cons = construct(fields);
            let len = fields_len(krate, fields, false);
            let enc = encode_fields(&owner, fields, None);
            let nested_len = fields_len(krate, fields, true);
            let nested_enc = encode_fields_nested(&owner, fields, None);
            nested_len_body = quote!(match self { Self #pat => #nested_len });
            nested_enc_body = quote!(match self { Self #pat => { #nested_enc } });
            let dec = decode_fields(&owner, fields, &de);
            // A struct whose fields may all be fixed-size stores and loads
            // them straight into a slot its container (a parent struct, a
            // `Vec`, an array) reserved once for the whole run.
            if m.pod {
                let tys = fields.iter().map(|f| f.ty);
                pod_consts = quote!(
                    const MEMORY_IS_WIRE: ::core::primitive::bool = true
                        #(&& <#tys as #krate::Encode>::MEMORY_IS_WIRE)*
                        && ::core::matches!(
                            <Self as #krate::Encode>::FIXED_SIZE,
                            ::core::option::Option::Some(__n) if __n == ::core::mem::size_of::<Self>()
                        );
                    #[inline]
                    fn encode_slice(__items: &[Self], __w: &mut #krate::Writer<'_>) -> ::core::result::Result<(), #krate::EncodeError> {
                        #krate::codec::encode_pod_slice(__items, __w)
                    }
                    #[inline]
                    fn encode_fixed_run(__items: &[Self], __out: &mut [::core::primitive::u8]) -> ::core::result::Result<(), #krate::EncodeError> {
                        #krate::codec::encode_pod_run(__items, __out)
                    }
                );
                pod_decode = quote!(
                    #krate::__if_alloc! {
                        #[inline]
                        fn decode_vec(__r: &mut #krate::Reader<#de>, __n: ::core::primitive::usize) -> ::core::result::Result<#krate::__Vec<Self>, #krate::DecodeError> {
                            #krate::codec::decode_pod_vec(__r, __n)
                        }
                    }
                );
                if !generic {
                    let msg = format!(
                        "`#[packet(pod)]` on `{name_str}`: its bytes in memory are not its wire bytes (a field is not plain little-endian data or a `pod` struct, or there is padding)"
                    );
                    pod_check = quote!(
                        const _: () = ::core::assert!(
                            <#name as #krate::Encode>::MEMORY_IS_WIRE || !::core::cfg!(target_endian = "little"),
                            #msg
                        );
                    );
                }
            }
            let all_fixed = fields
                .iter()
                .all(|f| groupable(f) || matches!(f.kind, Kind::Skip));
            let nested = fields.iter().any(|f| matches!(f.kind, Kind::Plain));
            if all_fixed && nested && !m.pod && !generic {
                // Nested fixed-size structs: a `Vec` of them is read with one
                // bounds check for the run and each element from its slot
                // (measured 2x faster than element by element on the mesh
                // without `pod`). A struct of primitives only keeps the
                // element-by-element loop (its `decode` is already one check
                // and loads; measured faster on `snapshot100`).
                pod_decode = quote!(
                    #krate::__if_alloc! {
                        #[inline]
                        fn decode_vec(__r: &mut #krate::Reader<#de>, __n: ::core::primitive::usize) -> ::core::result::Result<#krate::__Vec<Self>, #krate::DecodeError> {
                            #krate::codec::decode_vec_chunks(__r, __n)
                        }
                    }
                );
            }
            if let Some(vec_decode) = fixed_str_vec(&owner, fields, &de)
                && !m.pod
                && !generic
            {
                pod_decode = vec_decode;
            } else if let Some(vec_decode) = str_run_vec(&owner, fields, &de)
                && !m.pod
                && !generic
            {
                pod_decode = vec_decode;
            } else if !all_fixed && !m.pod && !generic && fields.len() <= IN_PLACE_FIELDS {
                // Any other struct of a few fields: each element decoded
                // straight into its reserved slot (a returned `Result` made
                // elements go through the stack and a copy; `updates`
                // -1.4 % instructions). Not for large structs: the save
                // game's 30-field player moved its nested decodes out of
                // line (+0.5 %).
                pod_decode = quote!(
                    #krate::__if_alloc! {
                        #[inline]
                        fn decode_vec(__r: &mut #krate::Reader<#de>, __n: ::core::primitive::usize) -> ::core::result::Result<#krate::__Vec<Self>, #krate::DecodeError> {
                            #krate::codec::decode_vec_in_place(__r, __n, |__r: &mut #krate::Reader<#de>, __items: &mut #krate::__Vec<Self>| {
                                #dec
                                #krate::codec::push_decoded(__items, Self #cons);
                                ::core::result::Result::Ok(())
                            })
                        }
                    }
                );
            }
            if all_fixed {
                let all: Vec<usize> = (0..fields.len()).collect();
                let enc_fixed = encode_fixed_fields(&owner, fields, &all);
                fixed_fns = quote!(
                    #[inline(always)]
                    fn encode_fixed(&self, __out: &mut [::core::primitive::u8]) -> ::core::result::Result<(), #krate::EncodeError> {
                        let __rest = __out;
                        match self { Self #pat => { #enc_fixed } }
                        ::core::result::Result::Ok(())
                    }
                );
                if !generic {
                    let dec_fixed = decode_fixed_fields(&owner, fields, &all, &de);
                    fixed_decode_fn = quote!(
                        #[inline(always)]
                        fn decode_fixed(__bytes: &#de [::core::primitive::u8]) -> ::core::result::Result<Self, #krate::DecodeError> {
                            let __rest = __bytes;
                            #dec_fixed
                            ::core::result::Result::Ok(Self #cons)
                        }
                    );
                }
            }
            (
                fields_max(krate, fields),
                fields_min(&sizer, fields),
                quote!(match self { Self #pat => #len }),
                quote!(match self { Self #pat => { #enc } }),
                quote!(#dec ::core::result::Result::Ok(Self #cons)),
            )
        }
        Body::Enum { tag, variants } => {
            let tag_ty = tag.ty();
            let tag_size = tag.size();
            let maxes = variants.iter().map(|v| fields_max(krate, &v.fields));
            let mins = variants.iter().map(|v| fields_min(&sizer, &v.fields));
            let max_size = quote!(#krate::codec::size::add(
                ::core::option::Option::Some(#tag_size),
                {
                    let __m = ::core::option::Option::Some(0usize);
                    #(let __m = #krate::codec::size::max(__m, #maxes);)*
                    __m
                }
            ));
            let min_size = quote!({
                let __m = ::core::primitive::usize::MAX;
                #(let __m = { let __v = #mins; if __v < __m { __v } else { __m } };)*
                #tag_size + if __m == ::core::primitive::usize::MAX { 0 } else { __m }
            });
            let tag_consts: Vec<Ident> = (0..variants.len())
                .map(|i| format_ident!("__TAG{}", i))
                .collect();
            let tag_values: Vec<&TokenStream> = variants.iter().map(|v| &v.tag).collect();
            let consts = quote!(#(const #tag_consts: #tag_ty = #tag_values;)*);
            let len_arms = variants.iter().map(|v| {
                let ident = v.ident;
                let pat = pattern(&v.fields);
                let len = fields_len(krate, &v.fields, false);
                quote!(Self::#ident #pat => (#len).saturating_add(#tag_size),)
            });
            let nested_len_arms = variants.iter().map(|v| {
                let ident = v.ident;
                let pat = pattern(&v.fields);
                let len = fields_len(krate, &v.fields, true);
                quote!(Self::#ident #pat => (#len).saturating_add(#tag_size),)
            });
            nested_len_body = quote!(match self { #(#nested_len_arms)* });
            let nested_enc_arms = variants.iter().zip(&tag_consts).map(|(v, c)| {
                let ident = v.ident;
                let pat = pattern(&v.fields);
                let tag_value = quote!(#c);
                let owner = owner(format!("{name_str}::{ident}"));
                let enc = encode_fields_nested(&owner, &v.fields, Some((*tag, &tag_value)));
                quote!(Self::#ident #pat => { #enc })
            });
            nested_enc_body = quote!(#consts match self { #(#nested_enc_arms)* });
            let enc_arms = variants.iter().zip(&tag_consts).map(|(v, c)| {
                let ident = v.ident;
                let pat = pattern(&v.fields);
                let tag_value = quote!(#c);
                let owner = owner(format!("{name_str}::{ident}"));
                let enc = encode_fields(&owner, &v.fields, Some((*tag, &tag_value)));
                quote!(Self::#ident #pat => { #enc })
            });
            let dec_arms = variants.iter().zip(&tag_consts).map(|(v, c)| {
                let ident = v.ident;
                let cons = construct(&v.fields);
                let owner = owner(format!("{name_str}::{ident}"));
                let dec = decode_fields(&owner, &v.fields, &de);
                quote!(#c => { #dec ::core::result::Result::Ok(Self::#ident #cons) })
            });
            // Variants without wire fields: the tag is a value picked by
            // the match (a lookup or the discriminant itself), written with
            // one store, and stored straight into a slot a container
            // reserved (`Option<Kind>`, `Vec<Kind>`). Writing the tag in each
            // arm compiled to an indirect jump per value, mispredicted on
            // mixed kinds, and `encode_fixed` went through a `Writer` call.
            let tag_only = !variants.is_empty()
                && variants
                    .iter()
                    .all(|v| v.fields.iter().all(|f| matches!(f.kind, Kind::Skip)));
            let enc_body = if tag_only {
                let tag_arms = variants.iter().zip(&tag_consts).map(|(v, c)| {
                    let ident = v.ident;
                    let pat = pattern(&v.fields);
                    quote!(Self::#ident #pat => #c,)
                });
                let tag_value = quote!({
                    #consts
                    let __tag: #tag_ty = match self { #(#tag_arms)* };
                    <#tag_ty>::to_le_bytes(__tag)
                });
                fixed_fns = quote!(
                    #[inline(always)]
                    fn encode_fixed(&self, __out: &mut [::core::primitive::u8]) -> ::core::result::Result<(), #krate::EncodeError> {
                        let __remaining = __out.len();
                        let ::core::option::Option::Some(__slot) = __out.first_chunk_mut::<#tag_size>() else {
                            return ::core::result::Result::Err(#krate::EncodeError::BufferFull {
                                needed: #tag_size,
                                remaining: __remaining,
                            });
                        };
                        *__slot = #tag_value;
                        ::core::result::Result::Ok(())
                    }
                );
                quote!(*__w.reserve_array::<#tag_size>()? = #tag_value;)
            } else {
                quote!(#consts match self { #(#enc_arms)* })
            };
            (
                max_size,
                min_size,
                quote!(match self { #(#len_arms)* }),
                enc_body,
                quote!(
                    #consts
                    let __tag = <#tag_ty as #krate::Decode<#de>>::decode(__r)?;
                    match __tag {
                        #(#dec_arms)*
                        __other => ::core::result::Result::Err(#krate::DecodeError::UnknownDiscriminant {
                            value: __other as ::core::primitive::u32,
                            type_name: #name_str,
                        }),
                    }
                ),
            )
        }
    };

    let packet_impl = m.id.as_ref().map(|id| {
        let msg = format!(
            "packet `{name_str}` can never be sent: its smallest frame is larger than any frame can be (0xFFFF_FFFC bytes, wire format §2.6)"
        );
        let reserved = format!(
            "packet `{name_str}` uses type id 0xFFFF, which is reserved for the session control frames: the hellos, the refusal and the close notice (docs/wire-format.md §2.2, §7.3, §11.5, §12)"
        );
        let eager = static_instance(input).map(|inst| {
            quote!(const _: () = { let _ = <#inst as #krate::Packet>::ID; };)
        });
        // Spanned at the `id` value, so that a failing assertion (what the
        // derive could not see at expansion) is reported at the attribute.
        let value = quote_spanned!(id.span()=> {
            match #krate::frame::max_frame_len_for(<Self as #krate::Encode>::MIN_SIZE) {
                ::core::option::Option::Some(__n) if __n <= #krate::frame::MAX_WIRE_FRAME_LEN as ::core::primitive::usize => {}
                _ => ::core::panic!(#msg),
            }
            let __id: ::core::primitive::u16 = #id;
            if __id == 0xFFFF {
                ::core::panic!(#reserved);
            }
            __id
        });
        quote!(
            #[automatically_derived]
            #allow
            impl #enc_impl #krate::Packet for #name #ty_generics #enc_where {
                const ID: ::core::primitive::u16 = #value;
            }
            #eager
        )
    });

    // Without type parameters the `Decode` impl can name the type's own
    // `Encode` constants (the wire form is the same both ways); a generic
    // type keeps the always-correct defaults.
    let wire_consts = if generic {
        TokenStream::new()
    } else {
        quote!(
            const FIXED_WIRE_SIZE: ::core::option::Option<::core::primitive::usize> =
                <Self as #krate::Encode>::FIXED_SIZE;
            const MIN_WIRE_SIZE: ::core::primitive::usize = <Self as #krate::Encode>::MIN_SIZE;
        )
    };
    let prefix_checks = if generic {
        TokenStream::new()
    } else {
        prefix_checks(m)
    };

    // A struct of primitives decodes in one bounds check and a few loads:
    // always inlined, so that a `Vec` of it does not pay a call and a
    // `Result` passed through memory per element (measured on
    // `snapshot100`: the call and its store-forwarding stalls cost 2x-4x).
    let decode_inline = match &m.body {
        Body::Struct(fields)
            if !fields.is_empty()
                && fields
                    .iter()
                    .all(|f| matches!(f.kind, Kind::Prim(_) | Kind::Skip)) =>
        {
            quote!(#[inline(always)])
        }
        // A few primitives and one string (an inventory item: count, slot,
        // id): inlined into the `Vec` loop too, instead of a call per
        // element returning its `Result` through memory.
        Body::Struct(fields) if item_strings(fields) == Some(1) => {
            quote!(#[inline(always)])
        }
        _ => quote!(#[inline]),
    };

    let max_size = if recursive {
        quote!(::core::option::Option::None)
    } else {
        max_size
    };

    // Nesting depth (`Encode::RECURSIVE`, `encode_nested`, `nested_len`):
    // a recursive type always counts the `Box` and `Vec` levels the
    // decoder counts, so that a value deeper than the decoder's limit is
    // refused (`EncodeError::TooDeep`) before the stack is at risk. A type
    // with nested types or sequences of items counts them only when one
    // of its field types is recursive (a `const` test that folds away, so
    // its `encode` is otherwise the code it always was), and gets the
    // counting bodies for when it is itself inside a recursive type. A
    // type of primitives and strings has no level: it is `FLAT`.
    let field_list: Vec<&Field<'_>> = match &m.body {
        Body::Struct(fields) => fields.iter().collect(),
        Body::Enum { variants, .. } => variants.iter().flat_map(|v| &v.fields).collect(),
    };
    let nests = field_list.iter().any(|f| may_nest(f));
    let depth_fns = quote!(
        #[inline]
        fn encode_nested(&self, __w: &mut #krate::Writer<'_>, __depth: ::core::primitive::u32) -> ::core::result::Result<(), #krate::EncodeError> {
            #nested_enc_body
            ::core::result::Result::Ok(())
        }
        #[inline]
        fn nested_len(&self, __depth: ::core::primitive::u32) -> ::core::primitive::usize {
            #nested_len_body
        }
    );
    let (depth_consts, len_body, enc_body, depth_fns) = if recursive {
        (
            quote!(
                const RECURSIVE: ::core::primitive::bool = true;
            ),
            quote!(<Self as #krate::Encode>::nested_len(self, 0)),
            quote!(<Self as #krate::Encode>::encode_nested(self, __w, 0)?;),
            depth_fns,
        )
    } else if nests {
        let rec = field_list.iter().filter_map(|f| match &f.kind {
            Kind::Plain => Some(f.ty),
            Kind::Seq {
                seq: Seq::Items(t), ..
            } => Some(*t),
            _ => None,
        });
        let flat = if field_list.iter().any(|f| {
            matches!(
                f.kind,
                Kind::Seq {
                    seq: Seq::Items(_),
                    ..
                }
            )
        }) {
            TokenStream::new()
        } else {
            let plain = field_list
                .iter()
                .filter(|f| matches!(f.kind, Kind::Plain))
                .map(|f| f.ty);
            quote!(const FLAT: ::core::primitive::bool = true #(&& <#plain as #krate::Encode>::FLAT)*;)
        };
        (
            quote!(
                const RECURSIVE: ::core::primitive::bool = false #(|| <#rec as #krate::Encode>::RECURSIVE)*;
                #flat
            ),
            quote!(
                if <Self as #krate::Encode>::RECURSIVE {
                    return <Self as #krate::Encode>::nested_len(self, 0);
                }
                #len_body
            ),
            quote!(
                if <Self as #krate::Encode>::RECURSIVE {
                    return <Self as #krate::Encode>::encode_nested(self, __w, 0);
                }
                #enc_body
            ),
            depth_fns,
        )
    } else {
        (
            quote!(
                const FLAT: ::core::primitive::bool = true;
            ),
            len_body,
            enc_body,
            TokenStream::new(),
        )
    };

    // A few primitives and at most one string (an inventory item: count,
    // slot, id) encode in a handful of stores: always inlined, so a `Vec`
    // of them is one loop with the writer in registers, not a call per
    // element (measured on the save game's items, where LLVM outlined it).
    let encode_inline = match &m.body {
        Body::Struct(fields) if item_strings(fields).is_some_and(|n| n <= 1) => {
            quote!(#[inline(always)])
        }
        _ => quote!(#[inline]),
    };

    quote!(
        #[automatically_derived]
        #allow
        impl #enc_impl #krate::Encode for #name #ty_generics #enc_where {
            const MAX_SIZE: ::core::option::Option<::core::primitive::usize> = #max_size;
            const MIN_SIZE: ::core::primitive::usize = #min_size;
            #depth_consts
            #[inline]
            fn encoded_len(&self) -> ::core::primitive::usize {
                #len_body
            }
            #encode_inline
            fn encode(&self, __w: &mut #krate::Writer<'_>) -> ::core::result::Result<(), #krate::EncodeError> {
                #enc_body
                ::core::result::Result::Ok(())
            }
            #depth_fns
            #fixed_fns
            #pod_consts
        }

        #[automatically_derived]
        #allow
        impl #dec_impl #krate::Decode<#de> for #name #ty_generics #dec_where {
            #wire_consts
            #fixed_decode_fn
            #pod_decode
            #decode_inline
            fn decode(__r: &mut #krate::Reader<#de>) -> ::core::result::Result<Self, #krate::DecodeError> {
                #dec_body
            }
        }

        #packet_impl
        #prefix_checks
        #pod_check
    )
}

/// Whether `tokens` name one of `idents` anywhere (in a path, a generic
/// argument, an array length).
fn names_any(tokens: TokenStream, idents: &[String]) -> bool {
    tokens.into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => idents.iter().any(|n| i == n),
        proc_macro2::TokenTree::Group(g) => names_any(g.stream(), idents),
        _ => false,
    })
}

/// `const` assertions that a `max_len` given as a `const` expression fits
/// its field's length prefix (a literal is checked by the derive itself),
/// and that no array field holds items that take no bytes.
fn prefix_checks(m: &Model<'_>) -> TokenStream {
    let krate = &m.krate;
    let name = m.input.ident.to_string();
    let mut out = TokenStream::new();
    // The type's own parameters (and `Self`): a `const` item outside the
    // type cannot name them (a length `N` of `struct S<const N: usize>`
    // was "can't use generic parameters from outer item").
    let params: Vec<String> = (m.input.generics.type_params().map(|p| p.ident.to_string()))
        .chain(m.input.generics.const_params().map(|p| p.ident.to_string()))
        .chain(["Self".to_string()])
        .collect();
    let mut check = |path: String, fields: &[Field<'_>]| {
        for f in fields {
            // An array of items that take no bytes (`[Empty; N]`, N > 0)
            // would decode N times from no input, its items built on the
            // stack: refused, as the schema compiler's E0120 refuses it.
            // An array naming a lifetime or a parameter of the type cannot
            // be named in a `const` item; the codec's own check covers it.
            if let Type::Array(array) = f.ty
                && !matches!(f.kind, Kind::Skip | Kind::With(_))
                && !names_any(quote!(#array), &params)
                && !quote!(#array).to_string().contains('\'')
            {
                let (elem, n) = (&array.elem, &array.len);
                let msg = format!(
                    "field `{path}.{}`: an array of items that take no bytes on the wire (`{}`); decoding it would loop over no input: give the item a field, or drop the array (the schema compiler refuses the same, E0120)",
                    member_name(&f.member),
                    quote!(#array).to_string().replace(" ;", ";"),
                );
                out.extend(quote_spanned!(array.span()=>
                    const _: () = if (#n) > 0usize
                        && ::core::matches!(
                            <#elem as #krate::Decode<'static>>::FIXED_WIRE_SIZE,
                            ::core::option::Option::Some(0)
                        )
                    {
                        ::core::panic!(#msg)
                    };
                ));
            }
            if let Kind::Seq {
                len,
                max_len: Some(max),
                ..
            } = &f.kind
            {
                if matches!(max, syn::Expr::Lit(_)) {
                    continue;
                }
                let l = prefix_ty(*len);
                let msg = format!(
                    "field `{path}.{}`: its `max_len` is more than its `{}` length prefix can count ({}); widen it with `#[packet(len = u32)]` or lower `max_len`",
                    member_name(&f.member),
                    len.name(),
                    len.max()
                );
                out.extend(quote_spanned!(max.span()=>
                    const _: () = if (#max) > <#l as #krate::codec::LenPrefix>::MAX {
                        ::core::panic!(#msg)
                    };
                ));
            }
        }
    };
    match &m.body {
        Body::Struct(fields) => check(name.clone(), fields),
        Body::Enum { variants, .. } => {
            for v in variants {
                check(format!("{name}::{}", v.ident), &v.fields);
            }
        }
    }
    out
}

pub fn packet_set(m: &SetModel<'_>) -> TokenStream {
    let krate = &m.krate;
    let input = m.input;
    let name = &input.ident;
    let name_str = name.to_string();
    let (_, ty_generics, _) = input.generics.split_for_impl();
    let (de, mut generics) = {
        let lifetimes: Vec<Lifetime> = input
            .generics
            .lifetimes()
            .map(|l| l.lifetime.clone())
            .collect();
        if lifetimes.len() == 1 {
            (lifetimes[0].clone(), input.generics.clone())
        } else {
            let de = Lifetime::new("'__de", Span::call_site());
            let mut g = input.generics.clone();
            let mut param = syn::LifetimeParam::new(de.clone());
            for l in lifetimes {
                param.bounds.push(l);
            }
            g.params.insert(0, GenericParam::Lifetime(param));
            (de, g)
        }
    };
    // A generic set needs its members' bounds on the impl; a concrete one
    // does not, and then a member that is not a packet is reported at its
    // own type (the spanned uses below) rather than at the derive.
    if input.generics.type_params().next().is_some() {
        let wc = generics.make_where_clause();
        for (_, ty) in &m.members {
            wc.predicates.push(
                syn::parse_quote_spanned!(ty.span()=> #ty: #krate::Packet + #krate::Decode<#de>),
            );
        }
    }
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    let idents: Vec<&Ident> = m.members.iter().map(|(i, _)| *i).collect();
    let tys: Vec<&Type> = m.members.iter().map(|(_, t)| *t).collect();
    let ids: Vec<TokenStream> = tys
        .iter()
        .map(|ty| quote_spanned!(ty.span()=> <#ty as #krate::Packet>::ID))
        .collect();
    let encodes: Vec<TokenStream> = tys
        .iter()
        .map(|ty| {
            let call = quote_spanned!(ty.span()=> #krate::frame::encode_packet::<#ty>);
            quote!(#call(__p, __sequence, __out))
        })
        .collect();
    let decodes: Vec<TokenStream> = tys
        .iter()
        .map(|ty| {
            let call = quote_spanned!(ty.span()=> decode_body::<#ty>);
            quote!(__frame.#call())
        })
        .collect();

    let mut clashes = TokenStream::new();
    for i in 0..tys.len() {
        for j in i + 1..tys.len() {
            let (a, b) = (tys[i], tys[j]);
            let msg = format!(
                "duplicate packet id in PacketSet `{name_str}`: variants `{}` and `{}` have the same `Packet::ID`",
                idents[i], idents[j]
            );
            clashes.extend(quote!(
                if <#a as #krate::Packet>::ID == <#b as #krate::Packet>::ID {
                    ::core::panic!(#msg);
                }
            ));
        }
    }
    let eager = static_instance(input)
        .map(|inst| quote!(const _: () = { let _ = <#inst as #krate::PacketSet<'static>>::IDS; };));
    let allow = allows();
    quote!(
        #[automatically_derived]
        #allow
        impl #impl_generics #krate::PacketSet<#de> for #name #ty_generics #where_clause {
            const IDS: &'static [::core::primitive::u16] = {
                #clashes
                &[#(#ids),*]
            };

            #[inline]
            fn decode_frame(__frame: &#krate::Frame<#de>) -> ::core::result::Result<Self, #krate::DecodeError> {
                let _ = <Self as #krate::PacketSet<#de>>::IDS;
                match __frame.type_id() {
                    #(__id if __id == #ids => #decodes.map(Self::#idents),)*
                    __id => ::core::result::Result::Err(#krate::DecodeError::UnknownPacketId { id: __id }),
                }
            }

            #[inline]
            fn encode_frame(&self, __sequence: ::core::primitive::u64, __out: &mut [::core::primitive::u8]) -> ::core::result::Result<::core::primitive::usize, #krate::EncodeError> {
                let _ = <Self as #krate::PacketSet<#de>>::IDS;
                match self {
                    #(Self::#idents(__p) => #encodes,)*
                }
            }

            #[inline]
            fn id(&self) -> ::core::primitive::u16 {
                match self {
                    #(Self::#idents(_) => #ids,)*
                }
            }
        }
        #eager
    )
}
