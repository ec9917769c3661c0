//! The client every sync of a manifest tap shares: the HTTP client (base URL, headers, retry,
//! rate limit and credentials rendered from the config once) and the compiled plan.

use std::sync::Arc;
use std::time::Duration;

use burler::prelude::*;
use burler_http::{
    ApiKey, BasicAuth, BearerToken, HttpClient, OAuth2, RateLimitMiddleware, RetryMiddleware,
    RetryPolicy,
};
use minijinja::value::Value as MjValue;
use serde_json::Value;

use crate::diagnostic::ManifestError;
use crate::passthrough::Record;
use crate::plan::{AuthPlan, Inject, Plan};
use crate::template::{Tmpl, mj};

/// What every sync of a manifest tap shares: the HTTP client, the config, and the plan.
#[derive(Debug)]
pub struct ManifestClient {
    pub(crate) http: HttpClient,
    pub(crate) config: MjValue,
    pub(crate) plan: Arc<Plan>,
}

/// The burler stream type of manifest taps.
pub(crate) type ManifestStream = Stream<Record, Value, Arc<ManifestClient>>;
/// The sync context of manifest streams.
pub(crate) type Ctx = SyncContext<Record, Value, Arc<ManifestClient>>;

impl ManifestClient {
    /// Builds the client: base URL, headers and credentials rendered from the config.
    pub(crate) fn build(plan: Arc<Plan>, config: &Value) -> Result<Self, ManifestError> {
        let mut config = config.clone();
        if let Value::Object(map) = &mut config {
            for (key, compute) in &plan.config_defaults {
                if !map.contains_key(key) {
                    let value = compute(&Value::Object(map.clone())).map_err(|message| {
                        ManifestError::Value {
                            stream: "tap".into(),
                            message: format!("config {key}: {message}"),
                        }
                    })?;
                    map.insert(key.clone(), value);
                }
            }
        }
        let config_mj = mj(&config);
        let scope = MjValue::from_iter([("config", config_mj.clone())]);
        let text = |t: &Tmpl| plan.templates.text(t, &scope, "tap");
        let base_url = plan.rebased(text(&plan.base_url)?);
        let http_error = |source| ManifestError::Http {
            stream: "tap".into(),
            source,
        };
        let mut builder = HttpClient::builder(&base_url)
            .map_err(http_error)?
            .user_agent(format!("{}/{}", plan.name, plan.version))
            .timeout(Duration::from_secs(300))
            .with(RetryMiddleware::new(
                RetryPolicy::default().max_attempts(plan.max_attempts.unwrap_or(5)),
            ));
        if let Some(rps) = &plan.requests_per_second {
            let value = plan.templates.eval(rps, &scope, "tap")?;
            let rps = value
                .as_u64()
                .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()));
            let rps = rps.ok_or_else(|| ManifestError::Value {
                stream: "tap".into(),
                message: format!("requests_per_second: {value} is not a whole number"),
            })?;
            builder = builder.with(RateLimitMiddleware::per_second(
                u32::try_from(rps).unwrap_or(u32::MAX).max(1),
            ));
        }
        for (name, value) in &plan.headers {
            builder = builder.header(name, &text(value)?).map_err(http_error)?;
        }
        builder = match &plan.auth {
            Some(auth) => add_auth(builder, auth, &text)?,
            None => builder,
        };
        let http = builder.build().map_err(http_error)?;
        Ok(ManifestClient {
            http,
            config: config_mj,
            plan,
        })
    }
}

fn add_auth(
    builder: burler_http::HttpClientBuilder,
    auth: &AuthPlan,
    text: &dyn Fn(&Tmpl) -> Result<String, ManifestError>,
) -> Result<burler_http::HttpClientBuilder, ManifestError> {
    Ok(match auth {
        AuthPlan::Bearer(token) => builder.auth(BearerToken::new(text(token)?)),
        AuthPlan::Basic { username, password } => {
            builder.auth(BasicAuth::new(&text(username)?, &text(password)?))
        }
        AuthPlan::ApiKey {
            inject,
            name,
            value,
            prefix,
        } => {
            let prefix = match prefix {
                Some(p) => format!("{} ", text(p)?),
                None => String::new(),
            };
            let value = format!("{prefix}{}", text(value)?);
            match inject {
                Inject::Query => builder.auth(ApiKey::query(name, value)),
                _ => builder.auth(ApiKey::header(name, value)),
            }
        }
        AuthPlan::OAuth2 {
            token_url,
            client_id,
            client_secret,
            refresh_token,
            scopes,
        } => {
            let (url, id, secret) = (text(token_url)?, text(client_id)?, text(client_secret)?);
            let flow = match refresh_token {
                Some(token) => OAuth2::refresh_token(&url, &id, &secret, &text(token)?),
                None if scopes.is_empty() => OAuth2::client_credentials(&url, &id, &secret),
                None => {
                    OAuth2::client_credentials_with_scope(&url, &id, &secret, &scopes.join(" "))
                }
            };
            builder.auth(flow.map_err(|source| ManifestError::Http {
                stream: "tap".into(),
                source,
            })?)
        }
    })
}
