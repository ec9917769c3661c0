//! The middleware stack: [reqwest-middleware](https://docs.rs/reqwest-middleware)'s
//! [`Middleware`] trait, so any middleware written for it (tracing spans, HTTP caching, request
//! signing) plugs into a burler client next to the ones this crate brings (retry, rate limit,
//! auth, metrics, timeout).
//!
//! The client stacks middleware in the order it was added (first added = outermost), then its
//! own innermost three: [`MetricsMiddleware`](crate::MetricsMiddleware) (one timer per attempt),
//! [`TimeoutMiddleware`] (per attempt, body included) and the body reader, which reads the whole
//! body before any middleware sees the response. A connection that breaks mid-body is therefore
//! an error that retry sees, and every middleware gets a response whose body is in memory.
//!
//! ```
//! use burler_http::middleware::{Extensions, Middleware, Next, Outcome, async_trait};
//!
//! /// Adds a fixed header to every request.
//! struct ApiVersion;
//!
//! #[async_trait]
//! impl Middleware for ApiVersion {
//!     async fn handle(&self, mut req: reqwest::Request, ext: &mut Extensions, next: Next<'_>) -> Outcome {
//!         req.headers_mut().insert("x-api-version", reqwest::header::HeaderValue::from_static("2024-01"));
//!         next.run(req, ext).await
//!     }
//! }
//!
//! let client = burler_http::HttpClient::builder("https://api.example.com")?.with(ApiVersion).build()?;
//! # Ok::<(), burler_http::HttpError>(())
//! ```
//!
//! Errors cross the stack as [`reqwest_middleware::Error`]: transport errors as
//! `Error::Reqwest`, this crate's errors as an [`HttpError`] inside `Error::Middleware`
//! ([`into_middleware_error`]); the client turns them back into one [`HttpError`].

use crate::error::HttpError;
use bytes::Bytes;
use reqwest::Url;
use std::sync::Arc;
use std::time::Duration;

pub use async_trait::async_trait;
pub use http::Extensions;
pub use reqwest_middleware::{Middleware, Next};

/// The outcome of one attempt as middleware sees it.
pub type Outcome = reqwest_middleware::Result<reqwest::Response>;

/// Request extension: the name the request is reported under in `http_request_duration`
/// metrics (a stream or endpoint name; set by [`RequestBuilder::endpoint`](crate::RequestBuilder::endpoint)).
#[derive(Debug, Clone)]
pub struct EndpointName(pub Arc<str>);

/// Request extension: a timeout for this request's attempts instead of the client's (set by
/// [`RequestBuilder::timeout`](crate::RequestBuilder::timeout)).
#[derive(Debug, Clone, Copy)]
pub struct RequestTimeout(pub Duration);

/// Response extension: the URL the response came from (after redirects).
#[derive(Debug, Clone)]
pub(crate) struct FinalUrl(pub(crate) Url);

/// Wraps one of this crate's errors for the stack.
pub fn into_middleware_error(err: HttpError) -> reqwest_middleware::Error {
    reqwest_middleware::Error::middleware(err)
}

/// The [`HttpError`] inside a stack error, if it is one of this crate's.
pub fn http_error(err: &reqwest_middleware::Error) -> Option<&HttpError> {
    match err {
        reqwest_middleware::Error::Middleware(inner) => inner.downcast_ref::<HttpError>(),
        reqwest_middleware::Error::Reqwest(_) => None,
    }
}

/// A stack error as an [`HttpError`] naming the request.
pub(crate) fn to_http_error(
    err: reqwest_middleware::Error,
    method: &reqwest::Method,
    url: &Url,
) -> HttpError {
    match err {
        reqwest_middleware::Error::Reqwest(err) => HttpError::from_reqwest(method, url, None, err),
        reqwest_middleware::Error::Middleware(inner) => match inner.downcast::<HttpError>() {
            Ok(err) => err,
            Err(other) => HttpError::Middleware {
                method: method.clone(),
                url: crate::error::redact_url(url),
                message: format!("{other:#}").replace('\n', " "),
            },
        },
    }
}

/// Times out each attempt (body included) after the client's timeout, or the request's
/// [`RequestTimeout`]. The client puts one innermost; its duration is
/// [`HttpClientBuilder::timeout`](crate::HttpClientBuilder::timeout).
#[derive(Debug, Clone, Copy)]
pub struct TimeoutMiddleware {
    timeout: Duration,
}

impl TimeoutMiddleware {
    /// Attempts time out after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        Self { timeout }
    }
}

#[async_trait::async_trait]
impl Middleware for TimeoutMiddleware {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> Outcome {
        let after = extensions
            .get::<RequestTimeout>()
            .map_or(self.timeout, |t| t.0);
        let (method, url) = (req.method().clone(), req.url().clone());
        match tokio::time::timeout(after, next.run(req, extensions)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(into_middleware_error(HttpError::Timeout {
                method,
                url: crate::error::redact_url(&url),
                after,
            })),
        }
    }
}

/// The innermost middleware: reads the whole body, so the middleware above sees a response in
/// memory and a broken body as an error.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadBody;

#[async_trait::async_trait]
impl Middleware for ReadBody {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> Outcome {
        let response = next.run(req, extensions).await?;
        let url = response.url().clone();
        let mut head = http::Response::builder()
            .status(response.status())
            .version(response.version());
        if let Some(headers) = head.headers_mut() {
            *headers = response.headers().clone();
        }
        let body: Bytes = response.bytes().await?;
        let rebuilt = head.extension(FinalUrl(url)).body(body).map_err(|err| {
            into_middleware_error(HttpError::config(format!(
                "cannot rebuild a response: {err}"
            )))
        })?;
        Ok(reqwest::Response::from(rebuilt))
    }
}
