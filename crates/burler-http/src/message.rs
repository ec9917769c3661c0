//! The request and response values that flow through the layers.
//!
//! A [`Response`] holds its whole body: the transport reads it before any layer sees the
//! response, so a connection that breaks mid-body is a transport error that retry can see.

use crate::error::{HttpError, body_excerpt, redact_url};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// An outgoing request: a [`reqwest::Request`] plus the endpoint name used in metrics.
#[derive(Debug)]
pub struct Request {
    inner: reqwest::Request,
    endpoint: Option<Arc<str>>,
}

impl Request {
    /// A request without body or headers.
    pub fn new(method: Method, url: Url) -> Self {
        Self {
            inner: reqwest::Request::new(method, url),
            endpoint: None,
        }
    }

    /// Wraps a request built with reqwest.
    pub fn from_reqwest(inner: reqwest::Request) -> Self {
        Self {
            inner,
            endpoint: None,
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
        self.endpoint.as_deref()
    }

    /// Sets the metrics endpoint name (a stream or declared endpoint name).
    pub fn set_endpoint(&mut self, name: impl Into<Arc<str>>) {
        self.endpoint = Some(name.into());
    }

    /// A copy for a retry; `None` when the body is a stream that cannot be replayed.
    pub fn try_clone(&self) -> Option<Self> {
        Some(Self {
            inner: self.inner.try_clone()?,
            endpoint: self.endpoint.clone(),
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

    pub(crate) fn into_reqwest(self) -> reqwest::Request {
        self.inner
    }
}

/// A response whose body has been read completely.
#[derive(Debug, Clone)]
pub struct Response {
    method: Method,
    url: Url,
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Response {
    /// Builds a response (the transport does this; tests and custom layers may too).
    pub fn new(
        method: Method,
        url: Url,
        status: StatusCode,
        headers: HeaderMap,
        body: Vec<u8>,
    ) -> Self {
        Self {
            method,
            url,
            status,
            headers,
            body,
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
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body bytes.
    pub fn body(&self) -> &[u8] {
        &self.body
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
