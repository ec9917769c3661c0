//! Authentication: fixed credentials, refreshed credentials, OAuth2, and the layer that
//! applies them and refreshes once on `401 Unauthorized`.
//!
//! ```no_run
//! use burler_http::auth::{Credential, Refresh};
//! use burler_http::HttpClient;
//! use std::time::Duration;
//!
//! # fn main() -> Result<(), burler_http::HttpError> {
//! // A token fetched by the author's own code, renewed every 25 minutes and on a 401.
//! let auth = Refresh::periodic(
//!     || async { Ok::<_, std::io::Error>(Credential::bearer("fresh-token")) },
//!     Duration::from_secs(25 * 60),
//! );
//! let client = HttpClient::builder("https://api.example.com")?.auth(auth).build()?;
//! # Ok(()) }
//! ```

mod fixed;
mod oauth2;
mod refresh;

pub use fixed::{ApiKey, BasicAuth, BearerToken};
pub use oauth2::OAuth2;
pub use refresh::{Credential, Refresh};

use crate::error::HttpError;
use crate::layer::{BoxFuture, Layer, Next};
use crate::message::{Request, Response};
use reqwest::StatusCode;

/// Puts a credential on requests and, when asked, gets a new one.
pub trait Authenticator: Send + Sync + 'static {
    /// Adds the credential to the request (header or query parameter).
    fn authorize<'a>(&'a self, request: &'a mut Request) -> BoxFuture<'a, Result<(), HttpError>>;

    /// Gets a new credential after a `401`. `Ok(true)` means a retry may succeed;
    /// the default (fixed credentials) is `Ok(false)`.
    fn refresh(&self) -> BoxFuture<'_, Result<bool, HttpError>> {
        Box::pin(async { Ok(false) })
    }
}

/// Applies an [`Authenticator`]; on a `401` it refreshes once and retries once.
/// A second `401` is returned as is (and becomes an [`HttpError::Status`]).
#[derive(Debug)]
pub struct AuthLayer<A> {
    auth: A,
}

impl<A: Authenticator> AuthLayer<A> {
    /// A layer applying `auth`.
    pub fn new(auth: A) -> Self {
        Self { auth }
    }

    async fn run(&self, request: Request, next: Next<'_>) -> Result<Response, HttpError> {
        let spare = request.try_clone();
        let mut request = request;
        self.auth.authorize(&mut request).await?;
        let response = next.run(request).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let Some(mut request) = spare else {
            return Ok(response);
        };
        tracing::warn!(
            "{} {}: 401 Unauthorized, refreshing the credential",
            request.method(),
            request.redacted_url()
        );
        if !self.auth.refresh().await? {
            return Ok(response);
        }
        self.auth.authorize(&mut request).await?;
        next.run(request).await
    }
}

impl<A: Authenticator> Layer for AuthLayer<A> {
    fn handle<'a>(
        &'a self,
        request: Request,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Response, HttpError>> {
        Box::pin(self.run(request, next))
    }
}
