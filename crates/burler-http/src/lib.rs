//! HTTP sources for burler taps: a client built from config, with retry and backoff, rate
//! limiting, auth and credential refresh, pagination, GraphQL and declared endpoints.
//!
//! Behaviour is added as [`Layer`]s around "send a request, get a response", like tower:
//! each policy is a value the author stacks, replaces or writes.
//!
//! ```no_run
//! use burler_http::{HttpClient, RetryLayer, RetryPolicy, RateLimitLayer, BearerToken, paginate::Cursor};
//! use futures::TryStreamExt;
//! use std::time::Duration;
//!
//! # async fn run() -> Result<(), burler_http::HttpError> {
//! let client = HttpClient::builder("https://api.example.com/v1")?
//!     .user_agent("tap-shop/0.1.0")
//!     .timeout(Duration::from_secs(60))
//!     .layer(RetryLayer::new(RetryPolicy::default().max_attempts(5)))
//!     .layer(RateLimitLayer::per_second(10))
//!     .auth(BearerToken::new("secret"))
//!     .build()?;
//! let orders: Vec<serde_json::Value> = client
//!     .get("orders")
//!     .endpoint("orders")
//!     .paginate(Cursor::new("cursor", "meta.next_cursor"))
//!     .records_at("data")
//!     .records()
//!     .try_collect()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! # TLS
//! HTTPS is rustls (`reqwest/rustls-no-provider`) with the `ring` crypto provider, installed
//! as the process default when the first client is built (an application that installed
//! another provider keeps it). reqwest's default `rustls` feature would pull `aws-lc-rs`,
//! whose C build script alone takes ~45 s on a 2-core machine against ~2 s for `ring`.

pub mod auth;
mod client;
pub mod endpoints;
pub mod error;
pub mod export;
pub mod graphql;
mod layer;
mod message;
pub mod metrics;
pub mod paginate;
pub mod rate_limit;
pub mod retry;

pub use auth::{
    ApiKey, AuthLayer, Authenticator, BasicAuth, BearerToken, Credential, OAuth2, Refresh,
};
pub use client::{HttpClient, HttpClientBuilder, HttpConfig, RequestBuilder};
pub use error::HttpError;
pub use layer::{BoxFuture, Layer, Next};
pub use message::{Request, Response};
pub use metrics::MetricsLayer;
pub use paginate::{Page, Paged, Paginator};
pub use rate_limit::{RateLimitHeaders, RateLimitLayer};
pub use retry::{Backoff, ExponentialBackoff, RetryLayer, RetryPolicy};

/// reqwest, re-exported for its `Method`, `StatusCode`, `Url` and `header` types.
pub use reqwest;
