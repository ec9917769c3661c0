//! The request a client sends and the response it returns, and header parsing shared by
//! everything that reads or sets headers.
//!
//! A [`Response`] holds its whole body: it is read inside the middleware stack, so a connection
//! that breaks mid-body is an error that retry can see.

use crate::error::{HttpError, body_excerpt, redact_url};
use crate::middleware::EndpointName;
use bytes::Bytes;
use http::Extensions;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;

/// A header name and value from text, or a [`HttpError::Config`] naming the header.
pub fn parse_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), HttpError> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| HttpError::config(format!("invalid header name {name:?}")))?;
    let value = HeaderValue::from_str(value)
        .map_err(|_| HttpError::config(format!("invalid value for header {name}")))?;
    Ok((name, value))
}

/// A header's value as text, if present and visible ASCII.
pub fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// An outgoing request: a [`reqwest::Request`] plus the extensions the middleware reads
/// (endpoint name for metrics, timeout).
#[derive(Debug)]
pub struct Request {
    inner: reqwest::Request,
    extensions: Extensions,
}

impl Request {
    /// A request without body or headers.
    pub fn new(method: Method, url: Url) -> Self {
        Self::from_reqwest(reqwest::Request::new(method, url))
    }

    /// Wraps a request built with reqwest.
    pub fn from_reqwest(inner: reqwest::Request) -> Self {
        Self {
            inner,
            extensions: Extensions::new(),
        }
    }

    /// The method.
    pub fn method(&self) -> &Method {
        self.inner.method()
    }

    /// The URL.
    pub fn url(&self) -> &Url {
        self.inner.url()
    }

    /// The URL, to change (auth layers add query parameters here).
    pub fn url_mut(&mut self) -> &mut Url {
        self.inner.url_mut()
    }

    /// The URL with secrets redacted, for messages.
    pub fn redacted_url(&self) -> String {
        redact_url(self.inner.url())
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// The headers, to change.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        self.inner.headers_mut()
    }

    /// The name this request is reported under in `http_request_duration` metrics, if set.
    pub fn endpoint(&self) -> Option<&str> {
        self.extensions.get::<EndpointName>().map(|name| &*name.0)
    }

    /// Sets the metrics endpoint name (a stream or declared endpoint name).
    pub fn set_endpoint(&mut self, name: &str) {
        self.extensions.insert(EndpointName(name.into()));
    }

    /// The extensions the middleware reads.
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// The extensions, to change.
    pub fn extensions_mut(&mut self) -> &mut Extensions {
        &mut self.extensions
    }

    /// A copy, to send again; `None` when the body is a stream that cannot be replayed.
    pub fn try_clone(&self) -> Option<Self> {
        Some(Self {
            inner: self.inner.try_clone()?,
            extensions: self.extensions.clone(),
        })
    }

    /// The wrapped reqwest request.
    pub fn as_reqwest(&self) -> &reqwest::Request {
        &self.inner
    }

    /// The wrapped reqwest request, to change (body, timeout).
    pub fn as_reqwest_mut(&mut self) -> &mut reqwest::Request {
        &mut self.inner
    }

    /// The reqwest request and the extensions, as the middleware stack takes them.
    pub fn into_parts(self) -> (reqwest::Request, Extensions) {
        (self.inner, self.extensions)
    }
}

/// A response whose body has been read completely.
#[derive(Debug, Clone)]
pub struct Response {
    method: Method,
    url: Url,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Response {
    /// Builds a response (the transport does this; tests and custom layers may too).
    pub fn new(
        method: Method,
        url: Url,
        status: StatusCode,
        headers: HeaderMap,
        body: impl Into<Bytes>,
    ) -> Self {
        Self {
            method,
            url,
            status,
            headers,
            body: body.into(),
        }
    }

    /// The method of the request this answers.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The URL of the request this answers.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A header's value as text, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_text(&self.headers, name)
    }

    /// The body bytes.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body as shared bytes (cloning it copies no data).
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// Splits the response into its URL, status, headers and body.
    pub fn into_parts(self) -> (Url, StatusCode, HeaderMap, Bytes) {
        (self.url, self.status, self.headers, self.body)
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// Decodes the JSON body. An empty body decodes as `null` (so `()` and `Option` work).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        let body: &[u8] = if self.body.iter().all(u8::is_ascii_whitespace) {
            b"null"
        } else {
            &self.body
        };
        serde_json::from_slice(body).map_err(|err| self.decode_error(err.to_string()))
    }

    /// A [`HttpError::Decode`] for this response.
    pub fn decode_error(&self, message: impl Into<String>) -> HttpError {
        HttpError::Decode {
            method: self.method.clone(),
            url: redact_url(&self.url),
            message: message.into(),
            body_excerpt: body_excerpt(&self.body),
        }
    }

    /// `Ok(self)` for 2xx/3xx, else a [`HttpError::Status`] naming the request.
    pub fn error_for_status(self) -> Result<Self, HttpError> {
        if self.status.is_client_error() || self.status.is_server_error() {
            return Err(HttpError::Status {
                method: self.method,
                url: redact_url(&self.url),
                status: self.status,
                body_excerpt: body_excerpt(&self.body),
            });
        }
        Ok(self)
    }
}
