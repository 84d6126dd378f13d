//! The protocol fingerprint's generated half (wire format §11): a
//! `packet_core::layout::WireLayout<L>` impl for every derived type, and a
//! `packet_core::layout::Fingerprint<L>` impl for every `PacketSet`.
//!
//! Every impl is generic over the nesting level `L` and bounded by where
//! clauses on its fields, so it is only checked where a fingerprint is
//! actually asked for: a type with a field whose type has no layout
//! (a hand-written `Encode`) still derives, and only its set's
//! `FINGERPRINT` is unavailable. The layout's fields are named one level
//! down (`<L as Level>::Next`), which is what keeps recursive types' constants
//! free of cycles (see `packet_core::layout`). Nothing here is called at run
//! time: the fingerprint is a `const`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Ident, Type};

use crate::attr::Width;
use crate::check::{Body, Field, Kind, Model, Seq, SetModel};

/// The prefix width in bytes and the layout's kind name of a tag / prefix.
fn width_bytes(w: Width) -> u8 {
    match w {
        Width::U8 | Width::I8 => 1,
        Width::U16 | Width::I16 => 2,
        Width::U32 | Width::I32 => 4,
    }
}

fn tag_prim(w: Width) -> Ident {
    let name = match w {
        Width::U8 => "U8",
        Width::U16 => "U16",
        Width::U32 => "U32",
        Width::I8 => "I8",
        Width::I16 => "I16",
        Width::I32 => "I32",
    };
    Ident::new(name, proc_macro2::Span::call_site())
}

/// Collects the where-clause bounds while writing each field's layout.
struct Fields<'k> {
    krate: &'k syn::Path,
    bounds: Vec<TokenStream>,
}

impl Fields<'_> {
    /// The layout of a field type one level down, and its bound.
    fn pick(&mut self, ty: &Type) -> TokenStream {
        let krate = self.krate;
        let next = quote!(<__L as #krate::layout::Level>::Next);
        self.bounds.push(quote!(#next: #krate::layout::Pick<#ty>));
        quote!(<#next as #krate::layout::Pick<#ty>>::LAYOUT)
    }

    /// A layout written here rather than picked by type: a cut at level 0
    /// all the same, so that every field of a type entered there is one
    /// (the nesting limit counts fields, whatever their type). An inline
    /// `const`, so that it is a constant operand wherever it stands (a
    /// variant's fields are an argument of `by_tag`, where a borrow of a
    /// temporary would not live long enough).
    fn unpicked(&self, layout: TokenStream) -> TokenStream {
        let krate = self.krate;
        quote!(
            const {
                if <__L as #krate::layout::Level>::FIELDS {
                    #layout
                } else {
                    &#krate::layout::Layout::Cut
                }
            }
        )
    }

    /// The layouts of the fields on the wire, in order.
    fn list(&mut self, fields: &[Field<'_>]) -> Vec<TokenStream> {
        let krate = self.krate;
        let mut out = Vec::new();
        for f in fields {
            let layout = match &f.kind {
                Kind::Skip => continue,
                Kind::With(_) => self.unpicked(quote!(&#krate::layout::Layout::Opaque)),
                Kind::Prim(_) | Kind::Plain => self.pick(f.ty),
                Kind::Seq { seq, len, max_len } => {
                    let width = width_bytes(*len);
                    let l = len.ty();
                    let prefix_max = quote!(<#l as #krate::codec::LenPrefix>::MAX);
                    let max = match max_len {
                        Some(m) => quote!(
                            if ((#m) as ::core::primitive::usize) < #prefix_max {
                                (#m) as ::core::primitive::u32
                            } else {
                                #prefix_max as ::core::primitive::u32
                            }
                        ),
                        None => quote!(#prefix_max as ::core::primitive::u32),
                    };
                    match seq {
                        Seq::Str => self.unpicked(
                            quote!(&#krate::layout::Layout::Str { width: #width, max: #max }),
                        ),
                        Seq::Bytes => self.unpicked(quote!(&#krate::layout::Layout::List {
                            width: #width,
                            max: #max,
                            item: &#krate::layout::Layout::Prim(#krate::layout::Prim::U8),
                        })),
                        Seq::Items(item) => {
                            let item = self.pick(item);
                            quote!(&#krate::layout::Layout::List { width: #width, max: #max, item: #item })
                        }
                    }
                }
            };
            out.push(layout);
        }
        out
    }
}

/// `impl WireLayout<L>` for a derived struct or enum.
pub fn layout(m: &Model<'_>) -> TokenStream {
    let krate = &m.krate;
    let name = &m.input.ident;
    let mut generics = m.input.generics.clone();
    generics
        .params
        .push(syn::parse_quote!(__L: #krate::layout::Level));
    let (_, ty_generics, _) = m.input.generics.split_for_impl();
    let mut fields = Fields {
        krate,
        bounds: Vec::new(),
    };
    let key = quote!(#krate::layout::type_key(::core::module_path!(), ::core::stringify!(#name)));
    let layout = match &m.body {
        Body::Struct(fs) => {
            let list = fields.list(fs);
            quote!(&#krate::layout::Layout::Struct { key: #key, fields: &[#(#list),*] })
        }
        Body::Enum { tag, variants } => {
            let prim = tag_prim(*tag);
            let vs = variants.iter().map(|v| {
                let t = &v.tag;
                let list = fields.list(&v.fields);
                quote!(#krate::layout::Variant {
                    tag: (#t) as ::core::primitive::u32,
                    fields: &[#(#list),*],
                })
            });
            let vs: Vec<TokenStream> = vs.collect();
            quote!(&#krate::layout::Layout::Enum {
                key: #key,
                tag: #krate::layout::Prim::#prim,
                variants: &#krate::layout::by_tag([#(#vs),*]),
            })
        }
    };
    let wc = generics.make_where_clause();
    for b in &fields.bounds {
        wc.predicates.push(syn::parse_quote!(#b));
    }
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    quote!(
        #[automatically_derived]
        #[allow(clippy::all, clippy::pedantic)]
        impl #impl_generics #krate::layout::WireLayout<__L> for #name #ty_generics #where_clause {
            const LAYOUT: &'static #krate::layout::Layout = #layout;
        }
    )
}

/// `impl Fingerprint<L>` for a `#[derive(PacketSet)]` enum.
pub fn set(m: &SetModel<'_>) -> TokenStream {
    let krate = &m.krate;
    let name = &m.input.ident;
    let mut generics = m.input.generics.clone();
    generics
        .params
        .push(syn::parse_quote!(__L: #krate::layout::Level));
    let (_, ty_generics, _) = m.input.generics.split_for_impl();
    let tys: Vec<&Type> = m.members.iter().map(|(_, t)| *t).collect();
    let wc = generics.make_where_clause();
    for ty in &tys {
        wc.predicates.push(syn::parse_quote!(
            #ty: #krate::layout::Member<__L>
        ));
    }
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    quote!(
        #[automatically_derived]
        #[allow(clippy::all, clippy::pedantic)]
        impl #impl_generics #krate::layout::Fingerprint<__L> for #name #ty_generics #where_clause {
            const FINGERPRINT: ::core::primitive::u64 = #krate::layout::set_fingerprint(&#krate::layout::by_id([
                #(<#tys as #krate::layout::Member<__L>>::ENTRY),*
            ]));
        }
    )
}
