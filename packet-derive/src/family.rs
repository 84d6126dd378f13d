//! The family impls (`packet_core::family`): `PacketFamily` for a derived
//! packet with an id, `PacketSetFamily` for a derived set, so generic
//! receivers (a server's `Router::on::<Chat>`) can name the type at each
//! frame's lifetime. Only for types with at most one lifetime and no type
//! or const parameters (the type at `'de` is then that one lifetime
//! replaced); others simply get no impl.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{DeriveInput, Lifetime, Path};

use crate::check::{Model, SetModel};

/// `impl<'a> #krate::family::#family for Name<'a> { type At<'__de> = Name<'__de>; }`
fn family(input: &DeriveInput, krate: &Path, family: &str) -> TokenStream {
    let g = &input.generics;
    let lifetimes: Vec<&Lifetime> = g.lifetimes().map(|l| &l.lifetime).collect();
    if g.type_params().next().is_some() || g.const_params().next().is_some() || lifetimes.len() > 1
    {
        return TokenStream::new();
    }
    let name = &input.ident;
    let family = syn::Ident::new(family, Span::call_site());
    let de = Lifetime::new("'__de", Span::call_site());
    let (impl_generics, ty_generics, where_clause) = g.split_for_impl();
    let at = if lifetimes.is_empty() {
        quote!(#name)
    } else {
        quote!(#name<#de>)
    };
    quote!(
        #[automatically_derived]
        impl #impl_generics #krate::family::#family for #name #ty_generics #where_clause {
            type At<#de> = #at;
        }
    )
}

pub fn packet(m: &Model<'_>) -> TokenStream {
    match m.id {
        Some(_) => family(m.input, &m.krate, "PacketFamily"),
        None => TokenStream::new(),
    }
}

pub fn set(m: &SetModel<'_>) -> TokenStream {
    family(m.input, &m.krate, "PacketSetFamily")
}
