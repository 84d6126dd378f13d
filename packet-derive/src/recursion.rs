//! Recursive types: finding, by how field types are *written*, the fields
//! that mention the deriving type, and size constants that never name a
//! type of the cycle.
//!
//! `MAX_SIZE` / `MIN_SIZE` are computed in `const` context from the
//! fields' own constants. For `struct Tree { children: Vec<Tree> }` that
//! would define `Tree::MAX_SIZE` in terms of itself, which rustc reports as
//! a cycle (E0391). So for a recursive type (a field on the wire mentions
//! the type's own name or `Self`, or the type carries `#[packet(recursive)]`)
//! `expand.rs` writes `MAX_SIZE = None` without naming any field type, and
//! takes each field's `MIN_SIZE` from [`Sizer::min`], which names a type's
//! constant only when that cannot lead back to the deriving type and
//! otherwise uses the indirection's own minimum (`Option` 1, `Vec` 2, ...)
//! or 0. What is generated from these decisions lives in `expand.rs`.

use proc_macro2::{Ident, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{GenericArgument, PathArguments, ReturnType, Type};

/// Whether `ty` names `name` or `Self` anywhere: in generic arguments,
/// references, tuples, slices and array elements (array lengths and const
/// arguments are not types and are not looked at).
pub fn mentions(ty: &Type, name: &Ident) -> bool {
    match ty {
        Type::Path(p) => {
            p.qself.as_ref().is_some_and(|q| mentions(&q.ty, name)) || path_mentions(&p.path, name)
        }
        Type::Reference(r) => mentions(&r.elem, name),
        Type::Ptr(r) => mentions(&r.elem, name),
        Type::Slice(s) => mentions(&s.elem, name),
        Type::Array(a) => mentions(&a.elem, name),
        Type::Paren(p) => mentions(&p.elem, name),
        Type::Group(g) => mentions(&g.elem, name),
        Type::Tuple(t) => t.elems.iter().any(|e| mentions(e, name)),
        Type::Never(_) | Type::Infer(_) => false,
        // Macros, trait objects, ...: any matching token counts.
        other => tokens_mention(other.to_token_stream(), name),
    }
}

/// A path names the type itself when it is `Self...`, `Name` or
/// `self::Name` (a longer path such as `other::Name` is taken to be another
/// type of the same name; if it is not, rustc reports the cycle and
/// `#[packet(recursive)]` fixes it). Generic arguments of every segment are
/// searched.
fn path_mentions(path: &syn::Path, name: &Ident) -> bool {
    let segs: Vec<&syn::PathSegment> = path.segments.iter().collect();
    let is_self = segs.first().is_some_and(|s| s.ident == "Self");
    let is_name = match segs.as_slice() {
        [only] => path.leading_colon.is_none() && only.ident == *name,
        [first, second] => first.ident == "self" && second.ident == *name,
        _ => false,
    };
    is_self
        || is_name
        || path.segments.iter().any(|seg| match &seg.arguments {
            PathArguments::None => false,
            PathArguments::AngleBracketed(a) => a.args.iter().any(|arg| match arg {
                GenericArgument::Type(t) => mentions(t, name),
                GenericArgument::AssocType(b) => mentions(&b.ty, name),
                _ => false,
            }),
            PathArguments::Parenthesized(p) => {
                p.inputs.iter().any(|t| mentions(t, name))
                    || matches!(&p.output, ReturnType::Type(_, t) if mentions(t, name))
            }
        })
}

fn tokens_mention(tokens: TokenStream, name: &Ident) -> bool {
    tokens.into_iter().any(|tt| match tt {
        TokenTree::Ident(i) => i == *name || i == "Self",
        TokenTree::Group(g) => tokens_mention(g.stream(), name),
        _ => false,
    })
}

/// Types whose `MIN_SIZE` is known not to depend on any user type.
const KNOWN: &[&str] = &[
    "u8", "u16", "u32", "u64", "u128", "i8", "i16", "i32", "i64", "i128", "f32", "f64", "bool",
    "char", "str", "String", "Option", "Vec", "Box",
];

/// Whether `ty` is built only from primitives and the standard containers
/// of [`KNOWN`], so its `MIN_SIZE` cannot reach a user type.
fn known(ty: &Type) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().is_some_and(|seg| {
            KNOWN.contains(&seg.ident.to_string().as_str())
                && match &seg.arguments {
                    PathArguments::None => true,
                    PathArguments::AngleBracketed(a) => a.args.iter().all(|arg| match arg {
                        GenericArgument::Type(t) => known(t),
                        GenericArgument::Lifetime(_) => true,
                        _ => false,
                    }),
                    PathArguments::Parenthesized(_) => false,
                }
        }),
        Type::Reference(r) => known(&r.elem),
        Type::Slice(s) => known(&s.elem),
        Type::Array(a) => known(&a.elem),
        Type::Paren(p) => known(&p.elem),
        Type::Group(g) => known(&g.elem),
        Type::Tuple(t) => t.elems.iter().all(known),
        _ => false,
    }
}

fn strip(ty: &Type) -> &Type {
    match ty {
        Type::Paren(t) => strip(&t.elem),
        Type::Group(t) => strip(&t.elem),
        _ => ty,
    }
}

fn is_ident(ty: &Type, name: &str) -> bool {
    matches!(strip(ty), Type::Path(p) if p.qself.is_none() && p.path.is_ident(name))
}

/// Size constants of one deriving type.
pub struct Sizer<'a> {
    pub krate: &'a syn::Path,
    /// The deriving type's name.
    pub name: &'a Ident,
    /// `#[packet(recursive)]`: the type may be in a cycle through types
    /// whose names the derive cannot see, so no user type's constant is
    /// named at all.
    pub in_cycle: bool,
}

impl Sizer<'_> {
    /// Whether naming `<ty as Encode>::MIN_SIZE` cannot lead back to the
    /// deriving type.
    fn safe(&self, ty: &Type) -> bool {
        !mentions(ty, self.name) && (!self.in_cycle || known(ty))
    }

    /// Whether the type is recursive: marked so, or one of `types` (its
    /// fields on the wire) mentions it.
    pub fn recursive<'t>(&self, mut types: impl Iterator<Item = &'t Type>) -> bool {
        self.in_cycle || types.any(|t| mentions(t, self.name))
    }

    /// A lower bound on the encoded size of `ty` (a `const` `usize`
    /// expression) that names no constant of a type that may be in the
    /// cycle: such a type counts its indirection's own minimum (`Option`'s
    /// tag, a sequence's `u16` prefix) or 0.
    pub fn min(&self, ty: &Type) -> TokenStream {
        let krate = self.krate;
        if self.safe(ty) {
            return quote_spanned!(ty.span()=> <#ty as #krate::Encode>::MIN_SIZE);
        }
        let prefix = quote!(<#krate::codec::DefaultLen as #krate::codec::LenPrefix>::SIZE);
        match strip(ty) {
            Type::Reference(r) => match strip(&r.elem) {
                Type::Slice(_) => prefix,
                t if is_ident(t, "str") => prefix,
                t => self.min(t),
            },
            Type::Tuple(t) => {
                let parts = t.elems.iter().map(|e| self.min(e));
                quote!(0usize #(.saturating_add(#parts))*)
            }
            Type::Array(a) => {
                let elem = self.min(&a.elem);
                let len = &a.len;
                quote!((#elem).saturating_mul(#len))
            }
            Type::Path(p) if p.qself.is_none() => {
                let Some(seg) = p.path.segments.last() else {
                    return quote!(0usize);
                };
                let inner = match &seg.arguments {
                    PathArguments::AngleBracketed(a) if a.args.len() == 1 => match &a.args[0] {
                        GenericArgument::Type(t) => Some(t),
                        _ => None,
                    },
                    _ => None,
                };
                match (seg.ident.to_string().as_str(), inner) {
                    ("Option", Some(_)) => quote!(1usize),
                    ("Vec", Some(_)) => prefix,
                    ("Box", Some(inner)) => match strip(inner) {
                        Type::Slice(_) => prefix,
                        t if is_ident(t, "str") => prefix,
                        t => self.min(t),
                    },
                    // The type itself, or a type that may contain it.
                    _ => quote!(0usize),
                }
            }
            _ => quote!(0usize),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(s: &str) -> Type {
        syn::parse_str(s).expect("a type")
    }

    fn name() -> Ident {
        Ident::new("Tree", proc_macro2::Span::call_site())
    }

    #[test]
    fn finds_the_name_anywhere_in_a_type() {
        let n = name();
        for yes in [
            "Tree",
            "Vec<Tree>",
            "Option<Box<Tree>>",
            "Option<Box<Self>>",
            "Box<[Tree]>",
            "(u8, Vec<Tree<'a>>)",
            "[Option<Box<Tree>>; 2]",
            "&'a [Tree]",
            "self::Tree",
            "Vec<self::Tree>",
            "Wrapper<T, Item = Tree>",
            "<Tree as Trait>::Out",
            "my_macro!(Tree)",
        ] {
            assert!(mentions(&ty(yes), &n), "{yes}");
        }
        for no in [
            "u32",
            "Vec<Leaf>",
            "Option<Box<Trees>>",
            "other::Tree",
            "::Tree",
            "[u8; Tree::LEN]",
            "Array<u8, { Tree::N }>",
            "&'a str",
        ] {
            assert!(!mentions(&ty(no), &n), "{no}");
        }
    }

    #[test]
    fn knows_std_only_types() {
        for yes in [
            "u8",
            "Option<Vec<u32>>",
            "&'a str",
            "(bool, [u16; 4])",
            "Box<str>",
        ] {
            assert!(known(&ty(yes)), "{yes}");
        }
        for no in ["Leaf", "Option<Leaf>", "T", "Vec<(u8, Leaf)>", "fn()"] {
            assert!(!known(&ty(no)), "{no}");
        }
    }

    #[test]
    fn the_minimum_of_a_recursive_field_never_names_the_type() {
        let krate: syn::Path = syn::parse_quote!(::packet_core);
        let n = name();
        let sizer = Sizer {
            krate: &krate,
            name: &n,
            in_cycle: false,
        };
        for t in [
            "Option<Box<Tree>>",
            "Vec<Tree>",
            "Box<Tree>",
            "(u32, Box<Self>)",
            "[Box<Tree>; 2]",
            "Wrapper<Tree>",
        ] {
            let out = sizer.min(&ty(t)).to_string();
            assert!(!out.contains("Tree") && !out.contains("Self"), "{t}: {out}");
        }
        // Unrelated types keep their own constant.
        let out = sizer.min(&ty("Leaf")).to_string();
        assert!(out.contains("Leaf"), "{out}");
        // In a declared cycle, no user type is named.
        let cyclic = Sizer {
            in_cycle: true,
            ..sizer
        };
        let out = cyclic.min(&ty("(u32, Option<Leaf>, Leaf)")).to_string();
        assert!(!out.contains("Leaf") && out.contains("u32"), "{out}");
    }
}
