//! Authentication: fixed credentials, refreshed credentials, OAuth2, and the middleware that
//! applies them and, for credentials that can be renewed, refreshes once on `401 Unauthorized`.
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

use crate::BoxFuture;
use crate::error::HttpError;
use crate::middleware::{Extensions, Middleware, Next, Outcome, into_middleware_error};
use reqwest::StatusCode;

/// Puts a credential on requests and, when asked, gets a new one.
pub trait Authenticator: Send + Sync + 'static {
    /// Adds the credential to the request (header or query parameter).
    fn authorize<'a>(
        &'a self,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), HttpError>>;

    /// Whether [`refresh`](Self::refresh) can get a new credential (false for fixed ones, the
    /// default: a `401` is then returned as is, without a refresh attempt).
    fn can_refresh(&self) -> bool {
        false
    }

    /// Gets a new credential after a `401`. `Ok(true)` means a retry may succeed;
    /// the default (fixed credentials) is `Ok(false)`.
    fn refresh(&self) -> BoxFuture<'_, Result<bool, HttpError>> {
        Box::pin(async { Ok(false) })
    }
}

/// Applies an [`Authenticator`]; on a `401`, a credential that can be renewed is refreshed once
/// and the request sent once more. A second `401`, or a `401` with a fixed credential, is
/// returned as is (and becomes an [`HttpError::Status`]).
///
/// This crate's own OAuth2 and refresh code rather than the `oauth2` crate: the grants a tap
/// needs (client credentials, refresh token) are one form POST each, while `oauth2` would add 22
/// crates (a second `rand` and `thiserror` among them) and still leave the renewal (before
/// `expires_in`, after a `401`) to write.
#[derive(Debug)]
pub struct AuthMiddleware<A> {
    auth: A,
}

impl<A: Authenticator> AuthMiddleware<A> {
    /// A middleware applying `auth`.
    pub fn new(auth: A) -> Self {
        Self { auth }
    }
}

#[async_trait::async_trait]
impl<A: Authenticator> Middleware for AuthMiddleware<A> {
    async fn handle(
        &self,
        request: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> Outcome {
        let spare = self
            .auth
            .can_refresh()
            .then(|| request.try_clone())
            .flatten();
        let mut request = request;
        self.auth
            .authorize(&mut request)
            .await
            .map_err(into_middleware_error)?;
        let response = next.clone().run(request, extensions).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let Some(mut request) = spare else {
            return Ok(response);
        };
        tracing::warn!(
            "{} {}: 401 Unauthorized, refreshing the credential",
            request.method(),
            crate::error::redact_url(request.url())
        );
        if !self.auth.refresh().await.map_err(into_middleware_error)? {
            return Ok(response);
        }
        self.auth
            .authorize(&mut request)
            .await
            .map_err(into_middleware_error)?;
        next.run(request, extensions).await
    }
}
