//! HTTP sources for burler taps: a client built from config, with retry and backoff, rate
//! limiting, auth and credential refresh, a timeout per attempt, pagination that decodes each
//! page in one pass and fetches the next pages while the current one is written, GraphQL and
//! declared endpoints.
//!
//! Behaviour is added as middleware around "send a request, get a response"
//! ([`middleware`]): each policy is a value the author stacks, replaces or writes, and any
//! middleware written for reqwest-middleware fits in the same stack.
//!
//! ```no_run
//! use burler_http::{HttpClient, RetryMiddleware, RetryPolicy, RateLimitMiddleware, BearerToken, paginate::Cursor};
//! use futures::TryStreamExt;
//! use std::time::Duration;
//!
//! # async fn run() -> Result<(), burler_http::HttpError> {
//! let client = HttpClient::builder("https://api.example.com/v1")?
//!     .user_agent("tap-shop/0.1.0")
//!     .timeout(Duration::from_secs(60))
//!     .with(RetryMiddleware::new(RetryPolicy::default().max_attempts(5)))
//!     .with(RateLimitMiddleware::per_second(10))
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
//! # Pages
//! A page's body is read once into [`bytes::Bytes`] (never copied into a `Vec`) and decoded in
//! one pass by [`decode::PageShape`]: records go straight into the record type, with no
//! `serde_json::Value` in between unless `Value` is the record type (streams whose schema is
//! known only at run time); the values a strategy needs (cursor, next link, total) are read on
//! the way. A driver task fetches pages ahead of the caller ([`Paged::prefetch`], default 2) and,
//! for page numbers and offsets, several at once ([`Paged::in_flight`]); records reach the caller
//! in page order only, so a bookmark taken from written records never passes a page that is not
//! written. `cargo bench -p burler-http --bench decode` measures the decoder against the old
//! path (whole body to `Value`, records re-serialized for loop detection, then `from_value`).
//! Each page knows where a read resumes after it ([`Page::resume_point`]: a page index, a
//! cursor or the next request, credentials left out) and [`Paged::resume_at`] starts there,
//! so a FULL_TABLE sync that checkpoints it after each page goes on where a cut run stopped
//! ([`paginate::resume`]).
//!
//! # Middleware: what comes from crates and what is this crate's
//! Measured with `bench/middleware-cost.sh` on the project's 2-core machine (load average 9 to
//! 12 from other builds, so read compile seconds as relative): the crates each one adds to
//! burler-http's tree (a second major version counts), the seconds cargo spent compiling those
//! (debug, sum of their build units), and what it adds to a small stripped release binary.
//!
//! | crate | crates it adds | their compile time | stripped binary | used? |
//! |---|---:|---:|---:|---|
//! | reqwest-middleware 0.5 | 3 (anyhow, async-trait) | 10.0 s | +16 KiB | yes: the [`Middleware`] trait |
//! | reqwest-retry 0.9 | 7 more (a second `rand` and `getrandom`) | 10.5 s more | +47 KiB more | no: [`RetryMiddleware`] |
//! | governor 0.10 | 12 (parking_lot, futures-timer, …) | 21.0 s | +58 KiB | no: [`RateLimitMiddleware`] |
//! | backon 1.6 | 2 (fastrand) | 2.0 s | +11 KiB | no: [`ExponentialBackoff`] |
//! | oauth2 5.0 | 15 (sha2, a second `rand` and `thiserror`) | 39.7 s | +280 KiB | no: [`OAuth2`] |
//!
//! - **reqwest-middleware** is adopted for its trait: taps can plug in the middleware already
//!   written for it (reqwest-tracing spans, http-cache-reqwest, request signing) with
//!   [`HttpClientBuilder::with`], and the cost is three small crates. Before, this crate had its
//!   own `Layer` trait, named like tower's `Layer` but working like reqwest-middleware, with
//!   nothing else able to plug in.
//! - **Retry stays ours**: reqwest-retry does not honour `Retry-After`, has no bound on the total
//!   wait, and would add a second `rand` (0.10) and `getrandom`. [`RetryMiddleware`] reads
//!   `Retry-After` (seconds or HTTP date, capped), stops at a wait budget, and sits above the
//!   client's body reader, so a body cut short is retried like a reset.
//! - **Backoff stays ours**: backon's strength is wrapping any future in retries; inside a retry
//!   middleware only the delays are wanted, and a [`Backoff`] is a function of the retry number
//!   (any closure is one) so a `Retry-After` can replace a single wait. backon is cheap, but adds
//!   nothing the policy lacks.
//! - **Rate limit stays ours**: governor's GCRA is excellent at high rates; a tap makes a few
//!   requests a second, which a ~50-line token bucket serves in arrival order, and governor
//!   would add its dependencies, a timer thread (futures-timer) and still not read the API's
//!   `X-RateLimit-*` headers, which [`RateLimitMiddleware::adaptive`] does.
//! - **OAuth2 stays ours**: the grants taps use (client credentials, refresh token) are one form
//!   POST each; the oauth2 crate would add the most (a second `rand` and `thiserror`, sha2,
//!   chrono) and still leave the renewal (before `expires_in`, after a `401`, rotated refresh
//!   tokens) to [`Refresh`].
//!
//! The timeout is the innermost [`TimeoutMiddleware`] (per attempt, the body included), no longer
//! a reqwest client setting, and header parsing lives in one place ([`parse_header`],
//! [`header_text`]).
//!
//! # TLS
//! HTTPS is rustls (`reqwest/rustls-no-provider`) with the `ring` crypto provider, installed
//! as the process default when the first client is built (an application that installed
//! another provider keeps it). reqwest's default `rustls` feature would pull `aws-lc-rs`,
//! whose C build script alone takes ~45 s on a 2-core machine against ~2 s for `ring`.

pub mod auth;
mod client;
pub mod decode;
pub mod endpoints;
pub mod error;
pub mod export;
pub mod graphql;
mod message;
pub mod metrics;
pub mod middleware;
pub mod paginate;
pub mod rate_limit;
pub mod retry;

pub use auth::{
    ApiKey, AuthMiddleware, Authenticator, BasicAuth, BearerToken, Credential, OAuth2, Refresh,
};
pub use client::{HttpClient, HttpClientBuilder, HttpConfig, RequestBuilder};
pub use error::HttpError;
pub use message::{Request, Response, header_text, parse_header};
pub use metrics::MetricsMiddleware;
pub use middleware::{Middleware, Next, TimeoutMiddleware};
pub use paginate::{Page, PageInfo, PageStream, Paged, Paginator, RawPage, Records};
pub use rate_limit::{RateLimitHeaders, RateLimitMiddleware};
pub use retry::{Backoff, ExponentialBackoff, RetryMiddleware, RetryPolicy};

/// A boxed, sendable future (what [`Authenticator`] methods return).
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// reqwest, re-exported for its `Method`, `StatusCode`, `Url` and `header` types.
pub use reqwest;
