//! Attribute macros of burler, used as `#[burler::record]` and `#[burler::config]`.
//!
//! They add serde's and schemars' derives with the paths set to burler's re-exports
//! (`burler::serde`, `burler::schemars`), so a tap's `Cargo.toml` needs only `burler`: no guessing
//! which versions and features of serde and schemars the framework was built with.
//!
//! This crate is an implementation detail of `burler`; depend on `burler` and use the macros
//! through it.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::{Data, DeriveInput, Fields, Ident, parse_macro_input};

/// Makes a record type: derives `Serialize`, `Deserialize` and `JsonSchema` through burler's
/// re-exports. Other `#[serde(..)]` and `#[schemars(..)]` attributes keep working.
#[proc_macro_attribute]
pub fn record(attr: TokenStream, item: TokenStream) -> TokenStream {
    if let Some(error) = no_arguments("record", attr) {
        return error;
    }
    let item = Tokens::from(item);
    quote! {
        #[derive(::burler::serde::Serialize, ::burler::serde::Deserialize, ::burler::schemars::JsonSchema)]
        #[serde(crate = "::burler::serde")]
        #[schemars(crate = "::burler::schemars")]
        #item
    }
    .into()
}

/// Makes a tap's config type: derives `Deserialize` and `JsonSchema` through burler's
/// re-exports and implements `burler::TapConfig`, whose `start_date` is the field marked
/// `#[start_date]` (or, when none is marked, the field named `start_date`), of type
/// `burler::StartDate`, `chrono::DateTime<Utc>` or an `Option` of either.
#[proc_macro_attribute]
pub fn config(attr: TokenStream, item: TokenStream) -> TokenStream {
    if let Some(error) = no_arguments("config", attr) {
        return error;
    }
    let mut input = parse_macro_input!(item as DeriveInput);
    let start_date = match start_date_field(&mut input) {
        Ok(field) => field,
        Err(e) => return e.to_compile_error().into(),
    };
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let body = match start_date {
        Some(field) => quote! {
            ::burler::IntoStartDate::as_start_date(&self.#field)
        },
        None => quote! { ::core::option::Option::None },
    };
    quote! {
        #[derive(::burler::serde::Deserialize, ::burler::schemars::JsonSchema)]
        #[serde(crate = "::burler::serde")]
        #[schemars(crate = "::burler::schemars")]
        #input

        impl #impl_generics ::burler::TapConfig for #name #ty_generics #where_clause {
            fn start_date(&self) -> ::core::option::Option<::burler::chrono::DateTime<::burler::chrono::Utc>> {
                #body
            }
        }
    }
    .into()
}

/// The `start_date` field of a struct: the one marked `#[start_date]` (the marker is removed), else
/// the one named `start_date`. Two marked fields, or a marker outside a struct with named fields,
/// are errors.
fn start_date_field(input: &mut DeriveInput) -> syn::Result<Option<Ident>> {
    let Data::Struct(data) = &mut input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "#[burler::config] goes on a struct",
        ));
    };
    let Fields::Named(fields) = &mut data.fields else {
        return Ok(None);
    };
    let mut marked: Option<Ident> = None;
    for field in fields.named.iter_mut() {
        let before = field.attrs.len();
        field.attrs.retain(|a| !a.path().is_ident("start_date"));
        if field.attrs.len() == before {
            continue;
        }
        if marked.is_some() {
            return Err(syn::Error::new_spanned(
                &field.ident,
                "only one field can be #[start_date]",
            ));
        }
        marked = field.ident.clone();
    }
    Ok(marked.or_else(|| {
        fields
            .named
            .iter()
            .filter_map(|f| f.ident.clone())
            .find(|i| i == "start_date")
    }))
}

/// A compile error when the attribute was given arguments.
fn no_arguments(name: &str, attr: TokenStream) -> Option<TokenStream> {
    if attr.is_empty() {
        return None;
    }
    let message = format!("#[burler::{name}] takes no arguments");
    Some(
        syn::Error::new(proc_macro2::Span::call_site(), message)
            .to_compile_error()
            .into(),
    )
}
