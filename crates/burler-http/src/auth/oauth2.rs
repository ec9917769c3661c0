//! OAuth2 token flows: client credentials and refresh token, against a token endpoint.

use super::Authenticator;
use super::refresh::{Credential, Refresh};
use crate::BoxFuture;
use crate::error::{HttpError, body_excerpt, redact_url};
use reqwest::Url;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// An OAuth2 access token obtained from a token endpoint (form POST), renewed before
/// `expires_in` runs out and after a `401`. A rotated `refresh_token` is kept.
///
/// ```no_run
/// use burler_http::{HttpClient, OAuth2};
/// # fn main() -> Result<(), burler_http::HttpError> {
/// let auth = OAuth2::refresh_token("https://auth.example.com/token", "id", "secret", "refresh-me")?;
/// let client = HttpClient::builder("https://api.example.com")?.auth(auth).build()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct OAuth2 {
    refresh: Refresh,
}

struct Flow {
    client: reqwest::Client,
    token_url: Url,
    client_id: String,
    client_secret: String,
    scope: Option<String>,
    refresh_token: Option<Mutex<String>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<f64>,
    #[serde(default)]
    refresh_token: Option<String>,
}

impl OAuth2 {
    /// The client-credentials grant.
    pub fn client_credentials(
        token_url: &str,
        client_id: &str,
        client_secret: &str,
    ) -> Result<Self, HttpError> {
        Self::with_flow(token_url, client_id, client_secret, None, None)
    }

    /// The client-credentials grant with a `scope`.
    pub fn client_credentials_with_scope(
        token_url: &str,
        client_id: &str,
        client_secret: &str,
        scope: &str,
    ) -> Result<Self, HttpError> {
        Self::with_flow(
            token_url,
            client_id,
            client_secret,
            Some(scope.to_owned()),
            None,
        )
    }

    /// The refresh-token grant.
    pub fn refresh_token(
        token_url: &str,
        client_id: &str,
        client_secret: &str,
        refresh_token: &str,
    ) -> Result<Self, HttpError> {
        Self::with_flow(
            token_url,
            client_id,
            client_secret,
            None,
            Some(refresh_token.to_owned()),
        )
    }

    fn with_flow(
        token_url: &str,
        client_id: &str,
        client_secret: &str,
        scope: Option<String>,
        refresh_token: Option<String>,
    ) -> Result<Self, HttpError> {
        let token_url = Url::parse(token_url)
            .map_err(|err| HttpError::config(format!("invalid token URL {token_url:?}: {err}")))?;
        let flow = Arc::new(Flow {
            client: crate::client::plain_reqwest_client()?,
            token_url,
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            scope,
            refresh_token: refresh_token.map(Mutex::new),
        });
        let refresh = Refresh::from_fetch(Arc::new(move || {
            let flow = flow.clone();
            Box::pin(async move { flow.fetch().await })
        }));
        Ok(Self { refresh })
    }
}

impl Flow {
    async fn fetch(&self) -> Result<Credential, HttpError> {
        let url = redact_url(&self.token_url);
        let auth_error = |message: String| HttpError::Auth {
            url: Some(url.clone()),
            message,
        };
        let mut form = vec![
            ("client_id", self.client_id.clone()),
            ("client_secret", self.client_secret.clone()),
        ];
        let mut stored = match &self.refresh_token {
            Some(token) => Some(token.lock().await),
            None => None,
        };
        match &stored {
            Some(token) => {
                form.push(("grant_type", "refresh_token".into()));
                form.push(("refresh_token", token.to_string()));
            }
            None => form.push(("grant_type", "client_credentials".into())),
        }
        if let Some(scope) = &self.scope {
            form.push(("scope", scope.clone()));
        }
        let response = self
            .client
            .post(self.token_url.clone())
            .form(&form)
            .send()
            .await
            .map_err(|err| auth_error(format!("token request failed: {err}")))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|err| auth_error(format!("token response broke: {err}")))?;
        if !status.is_success() {
            return Err(auth_error(format!(
                "token endpoint answered HTTP {status}: {}",
                body_excerpt(&body)
            )));
        }
        let token: TokenResponse = serde_json::from_slice(&body).map_err(|err| {
            auth_error(format!(
                "token response is not a token: {err}: {}",
                body_excerpt(&body)
            ))
        })?;
        if let (Some(slot), Some(rotated)) = (stored.as_mut(), token.refresh_token) {
            **slot = rotated;
        }
        let mut credential = Credential::bearer(token.access_token);
        if let Some(seconds) = token.expires_in.filter(|s| s.is_finite() && *s > 0.0) {
            credential = credential.expires_in(Duration::from_secs_f64(seconds));
        }
        Ok(credential)
    }
}

impl Authenticator for OAuth2 {
    fn authorize<'a>(
        &'a self,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), HttpError>> {
        self.refresh.authorize(request)
    }

    fn can_refresh(&self) -> bool {
        true
    }

    fn refresh(&self) -> BoxFuture<'_, Result<bool, HttpError>> {
        Authenticator::refresh(&self.refresh)
    }
}
