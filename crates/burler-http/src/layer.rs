//! The middleware trait: a layer sees each request and decides how to pass it on.
//!
//! Retry, rate limit, auth and metrics are each a [`Layer`]; the client stacks them in the
//! order they were added (first added = outermost) around the transport. A layer calls
//! [`Next::run`] zero, one or several times (retry calls it again; a cache would not call it).
//!
//! ```
//! use burler_http::{BoxFuture, HttpError, Layer, Next, Request, Response};
//!
//! /// Adds a fixed header to every request.
//! struct ApiVersion;
//!
//! impl Layer for ApiVersion {
//!     fn handle<'a>(&'a self, mut req: Request, next: Next<'a>) -> BoxFuture<'a, Result<Response, HttpError>> {
//!         req.headers_mut().insert("x-api-version", "2024-01".parse().unwrap());
//!         Box::pin(next.run(req))
//!     }
//! }
//! ```

use crate::error::HttpError;
use crate::message::{Request, Response};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// A boxed, sendable future (what [`Layer::handle`] returns).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One behaviour wrapped around "send a request, get a response".
pub trait Layer: Send + Sync + 'static {
    /// Handles `request`, usually by passing it (possibly changed) to `next`.
    fn handle<'a>(
        &'a self,
        request: Request,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Response, HttpError>>;
}

/// The rest of the stack below a layer. Cheap to copy: call [`Next::run`] as often as needed.
#[derive(Clone, Copy)]
pub struct Next<'a> {
    layers: &'a [Arc<dyn Layer>],
    transport: &'a Transport,
}

impl std::fmt::Debug for Next<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Next")
            .field("layers_left", &self.layers.len())
            .finish()
    }
}

impl<'a> Next<'a> {
    pub(crate) fn new(layers: &'a [Arc<dyn Layer>], transport: &'a Transport) -> Self {
        Self { layers, transport }
    }

    /// Sends the request through the remaining layers and the transport.
    pub async fn run(self, request: Request) -> Result<Response, HttpError> {
        match self.layers.split_first() {
            Some((layer, rest)) => layer.handle(request, Next::new(rest, self.transport)).await,
            None => self.transport.send(request).await,
        }
    }
}

/// The bottom of the stack: reqwest sends the request and the whole body is read.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    pub(crate) client: reqwest::Client,
    pub(crate) timeout: Option<Duration>,
}

impl Transport {
    pub(crate) async fn send(&self, request: Request) -> Result<Response, HttpError> {
        let method = request.method().clone();
        let url = request.url().clone();
        let timeout = request.as_reqwest().timeout().copied().or(self.timeout);
        let to_error = |err| HttpError::from_reqwest(&method, &url, timeout, err);
        let response = self
            .client
            .execute(request.into_reqwest())
            .await
            .map_err(to_error)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(to_error)?;
        Ok(Response::new(
            method.clone(),
            url.clone(),
            status,
            headers,
            body.to_vec(),
        ))
    }
}
