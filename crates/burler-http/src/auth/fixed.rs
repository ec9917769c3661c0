//! Credentials that never change: API key, bearer token, HTTP basic.

use super::Authenticator;
use crate::BoxFuture;
use crate::error::HttpError;
use base64::Engine;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};

/// A header value marked sensitive (never printed by reqwest's Debug).
pub(crate) fn secret_header(value: &str) -> Result<HeaderValue, HttpError> {
    let mut value = HeaderValue::from_str(value).map_err(|_| HttpError::Auth {
        url: None,
        message: "credential is not a valid header value".into(),
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// An API key sent in a header or a query parameter.
#[derive(Clone)]
pub struct ApiKey {
    name: String,
    value: String,
    in_query: bool,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("name", &self.name)
            .field("in_query", &self.in_query)
            .finish_non_exhaustive()
    }
}

impl ApiKey {
    /// Sends the key in header `name` (e.g. `x-api-key`).
    pub fn header(name: &str, value: impl Into<String>) -> Self {
        Self {
            name: name.to_owned(),
            value: value.into(),
            in_query: false,
        }
    }

    /// Sends the key as query parameter `name` (e.g. `api_key`; redacted in messages).
    pub fn query(name: &str, value: impl Into<String>) -> Self {
        Self {
            name: name.to_owned(),
            value: value.into(),
            in_query: true,
        }
    }

    pub(crate) fn apply(&self, request: &mut reqwest::Request) -> Result<(), HttpError> {
        if self.in_query {
            let url = request.url_mut();
            let kept: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, _)| k != &self.name[..])
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            url.query_pairs_mut()
                .clear()
                .extend_pairs(kept)
                .append_pair(&self.name, &self.value);
            return Ok(());
        }
        let name = HeaderName::from_bytes(self.name.as_bytes()).map_err(|_| HttpError::Auth {
            url: None,
            message: format!("invalid header name {:?}", self.name),
        })?;
        request
            .headers_mut()
            .insert(name, secret_header(&self.value)?);
        Ok(())
    }
}

impl Authenticator for ApiKey {
    fn authorize<'a>(
        &'a self,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), HttpError>> {
        Box::pin(async move { self.apply(request) })
    }
}

/// `Authorization: Bearer <token>`.
#[derive(Clone)]
pub struct BearerToken {
    token: String,
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(REDACTED)")
    }
}

impl BearerToken {
    /// A fixed bearer token.
    pub fn new(token: impl Into<String>) -> Self {
        Self {
            token: token.into(),
        }
    }

    pub(crate) fn apply(&self, request: &mut reqwest::Request) -> Result<(), HttpError> {
        request.headers_mut().insert(
            AUTHORIZATION,
            secret_header(&format!("Bearer {}", self.token))?,
        );
        Ok(())
    }
}

impl Authenticator for BearerToken {
    fn authorize<'a>(
        &'a self,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), HttpError>> {
        Box::pin(async move { self.apply(request) })
    }
}

/// HTTP basic auth: `Authorization: Basic base64(user:password)`.
#[derive(Clone)]
pub struct BasicAuth {
    header: String,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BasicAuth(REDACTED)")
    }
}

impl BasicAuth {
    /// User and password (an empty password is sent as `user:`).
    pub fn new(user: &str, password: &str) -> Self {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        Self {
            header: format!("Basic {encoded}"),
        }
    }

    pub(crate) fn apply(&self, request: &mut reqwest::Request) -> Result<(), HttpError> {
        request
            .headers_mut()
            .insert(AUTHORIZATION, secret_header(&self.header)?);
        Ok(())
    }
}

impl Authenticator for BasicAuth {
    fn authorize<'a>(
        &'a self,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), HttpError>> {
        Box::pin(async move { self.apply(request) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::{Method, Url};

    #[test]
    fn api_key_in_query_replaces_existing_and_basic_encodes() {
        let mut request = reqwest::Request::new(
            Method::GET,
            Url::parse("http://h/x?api_key=old&a=1").unwrap(),
        );
        ApiKey::query("api_key", "new").apply(&mut request).unwrap();
        assert_eq!(request.url().query(), Some("a=1&api_key=new"));
        BasicAuth::new("u", "p").apply(&mut request).unwrap();
        assert_eq!(request.headers()[AUTHORIZATION], "Basic dTpw");
        assert!(request.headers()[AUTHORIZATION].is_sensitive());
    }
}
