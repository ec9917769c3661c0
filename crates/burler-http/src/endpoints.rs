//! Declared endpoints: describe an API's endpoints once, get a typed client with async
//! methods that go through the client's layers (retry, rate limit, auth, metrics).
//!
//! ```no_run
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize)] pub struct Order { pub id: u64 }
//! #[derive(Serialize, Deserialize)] pub struct Note { pub text: String }
//!
//! burler_http::endpoints! {
//!     /// The shop API.
//!     pub struct ShopApi {
//!         get_order: GET "/orders/{id}" (id: u64) -> Order;
//!         list_orders: GET "/orders" query(since: String, limit: u32) -> Vec<Order>;
//!         order_lines: GET "/orders/{id}/lines" (id: u64) query(page: Option<u32>) -> Vec<serde_json::Value>;
//!         create_note: POST "/notes" body(Note) -> Note;
//!         delete_note: DELETE "/notes/{id}" (id: String) -> ();
//!     }
//! }
//!
//! # async fn run(client: burler_http::HttpClient) -> Result<(), burler_http::HttpError> {
//! let api = ShopApi::new(client);
//! let order = api.get_order(7).await?;
//! let recent = api.list_orders("2024-01-01".into(), 100).await?;
//! api.create_note(&Note { text: "hi".into() }).await?;
//! # Ok(()) }
//! ```
//!
//! Each method is named after its endpoint in `http_request_duration` metrics. Path
//! parameters are percent-encoded; query parameters whose value is `None` are left out.

use crate::error::HttpError;

/// Fills `{name}` placeholders of a path template with percent-encoded values.
///
/// ```
/// let path = burler_http::endpoints::render_path("/orders/{id}/lines", &[("id", "a/b c".to_string())]).unwrap();
/// assert_eq!(path, "/orders/a%2Fb%20c/lines");
/// ```
pub fn render_path(template: &str, params: &[(&str, String)]) -> Result<String, HttpError> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').ok_or_else(|| {
            HttpError::config(format!("unclosed {{ in path template {template:?}"))
        })?;
        let name = &rest[open + 1..open + close];
        let (_, value) = params
            .iter()
            .find(|(param, _)| *param == name)
            .ok_or_else(|| {
                HttpError::config(format!(
                    "no value for {{{name}}} in path template {template:?}"
                ))
            })?;
        out.push_str(&encode_path_segment(value));
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Percent-encodes everything but unreserved characters (`A-Z a-z 0-9 - . _ ~`).
pub fn encode_path_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Declares a typed API client; see the [module docs](mod@crate::endpoints).
///
/// Each line: `name: VERB "/path/{param}" (param: Type, ..) query(q: Type, ..) body(Type) -> Response;`
/// where the parameter list, `query(..)` and `body(..)` are optional, in that order.
#[macro_export]
macro_rules! endpoints {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[$method_meta:meta])*
                $method:ident : $verb:ident $path:literal
                    $( ( $($param:ident : $param_ty:ty),* $(,)? ) )?
                    $( query ( $($query:ident : $query_ty:ty),* $(,)? ) )?
                    $( body ( $body_ty:ty ) )?
                    -> $ret:ty;
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        $vis struct $name {
            client: $crate::HttpClient,
        }

        impl $name {
            /// Wraps a client; requests go through its layers.
            $vis fn new(client: $crate::HttpClient) -> Self {
                Self { client }
            }

            /// The underlying client.
            $vis fn client(&self) -> &$crate::HttpClient {
                &self.client
            }

            $(
                #[doc = concat!("`", stringify!($verb), " ", $path, "`")]
                $(#[$method_meta])*
                $vis async fn $method(
                    &self
                    $($(, $param: $param_ty)*)?
                    $($(, $query: $query_ty)*)?
                    $(, body: &$body_ty)?
                ) -> ::std::result::Result<$ret, $crate::HttpError> {
                    let path = $crate::endpoints::render_path(
                        $path,
                        &[$($((stringify!($param), ::std::string::ToString::to_string(&$param))),*)?],
                    )?;
                    #[allow(unused_mut)]
                    let mut request = self
                        .client
                        .request($crate::reqwest::Method::$verb, &path)
                        .endpoint(stringify!($method));
                    $($(request = request.query(&[(stringify!($query), &$query)]);)*)?
                    $(request = request.json_body::<$body_ty>(body);)?
                    request.json::<$ret>().await
                }
            )*
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_rejects_templates() {
        assert_eq!(
            render_path("/a/{x}/b/{y}", &[("x", "1".into()), ("y", "é".into())]).unwrap(),
            "/a/1/b/%C3%A9"
        );
        assert!(render_path("/a/{x", &[]).is_err());
        assert!(
            render_path("/a/{x}", &[])
                .unwrap_err()
                .to_string()
                .contains("{x}")
        );
    }
}
