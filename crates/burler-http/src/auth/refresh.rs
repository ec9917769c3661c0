//! Credentials fetched by a function and renewed: periodically, on expiry, or after a `401`.

use super::Authenticator;
use super::fixed::{ApiKey, BasicAuth, BearerToken};
use crate::BoxFuture;
use crate::error::HttpError;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// A credential returned by a refresh function, with an optional lifetime.
#[derive(Clone)]
pub struct Credential {
    kind: Kind,
    expires_in: Option<Duration>,
}

#[derive(Clone)]
enum Kind {
    Bearer(BearerToken),
    ApiKey(ApiKey),
    Basic(BasicAuth),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

impl Credential {
    /// `Authorization: Bearer <token>`.
    pub fn bearer(token: impl Into<String>) -> Self {
        Self {
            kind: Kind::Bearer(BearerToken::new(token)),
            expires_in: None,
        }
    }

    /// A key in header `name`.
    pub fn header(name: &str, value: impl Into<String>) -> Self {
        Self {
            kind: Kind::ApiKey(ApiKey::header(name, value)),
            expires_in: None,
        }
    }

    /// A key in query parameter `name`.
    pub fn query(name: &str, value: impl Into<String>) -> Self {
        Self {
            kind: Kind::ApiKey(ApiKey::query(name, value)),
            expires_in: None,
        }
    }

    /// HTTP basic auth.
    pub fn basic(user: &str, password: &str) -> Self {
        Self {
            kind: Kind::Basic(BasicAuth::new(user, password)),
            expires_in: None,
        }
    }

    /// The credential stops working after `lifetime` (OAuth2 `expires_in`): it is renewed
    /// shortly before.
    pub fn expires_in(mut self, lifetime: Duration) -> Self {
        self.expires_in = Some(lifetime);
        self
    }

    fn apply(&self, request: &mut reqwest::Request) -> Result<(), HttpError> {
        match &self.kind {
            Kind::Bearer(token) => token.apply(request),
            Kind::ApiKey(key) => key.apply(request),
            Kind::Basic(basic) => basic.apply(request),
        }
    }
}

type FetchFn = dyn Fn() -> BoxFuture<'static, Result<Credential, HttpError>> + Send + Sync;

/// A credential from the author's async function, fetched at first use and renewed after a
/// `401`; [`Refresh::periodic`] also renews it on a schedule, and any credential with
/// [`Credential::expires_in`] is renewed before it expires.
pub struct Refresh {
    fetch: Arc<FetchFn>,
    period: Option<Duration>,
    current: Mutex<Option<(Credential, Instant)>>,
}

impl std::fmt::Debug for Refresh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refresh")
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

impl Refresh {
    /// Renews the credential every `period` (and after a `401`).
    pub fn periodic<F, Fut, E>(refresh_fn: F, period: Duration) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Credential, E>> + Send + 'static,
        E: std::fmt::Display,
    {
        Self {
            fetch: boxed(refresh_fn),
            period: Some(period),
            current: Mutex::new(None),
        }
    }

    /// Fetches the credential once, at first use; renewed only after a `401` or on expiry.
    pub fn one_time<F, Fut, E>(refresh_fn: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Credential, E>> + Send + 'static,
        E: std::fmt::Display,
    {
        Self {
            fetch: boxed(refresh_fn),
            period: None,
            current: Mutex::new(None),
        }
    }

    /// Built from an already boxed fetch function (used by OAuth2).
    pub(crate) fn from_fetch(fetch: Arc<FetchFn>) -> Self {
        Self {
            fetch,
            period: None,
            current: Mutex::new(None),
        }
    }

    fn is_stale(&self, credential: &Credential, fetched: Instant) -> bool {
        let age = fetched.elapsed();
        let expired = credential.expires_in.is_some_and(|lifetime| {
            let margin = (lifetime / 10).min(Duration::from_secs(60));
            age + margin >= lifetime
        });
        expired || self.period.is_some_and(|period| age >= period)
    }

    async fn renew(
        &self,
        slot: &mut Option<(Credential, Instant)>,
    ) -> Result<Credential, HttpError> {
        let credential = (self.fetch)().await?;
        *slot = Some((credential.clone(), Instant::now()));
        Ok(credential)
    }
}

fn boxed<F, Fut, E>(refresh_fn: F) -> Arc<FetchFn>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Credential, E>> + Send + 'static,
    E: std::fmt::Display,
{
    Arc::new(move || {
        let future = refresh_fn();
        Box::pin(async move {
            future.await.map_err(|err| HttpError::Auth {
                url: None,
                message: format!("credential refresh failed: {err}"),
            })
        })
    })
}

impl Authenticator for Refresh {
    fn authorize<'a>(
        &'a self,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), HttpError>> {
        Box::pin(async move {
            let mut slot = self.current.lock().await;
            let credential = match slot.as_ref() {
                Some((credential, fetched)) if !self.is_stale(credential, *fetched) => {
                    credential.clone()
                }
                _ => self.renew(&mut slot).await?,
            };
            drop(slot);
            credential.apply(request)
        })
    }

    fn can_refresh(&self) -> bool {
        true
    }

    fn refresh(&self) -> BoxFuture<'_, Result<bool, HttpError>> {
        Box::pin(async move {
            let mut slot = self.current.lock().await;
            self.renew(&mut slot).await.map(|_| true)
        })
    }
}
