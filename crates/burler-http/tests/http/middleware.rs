//! The middleware stack: middleware written for reqwest-middleware plugs in, runs per attempt
//! inside retry, may answer without the network; timeouts are a middleware with a per-request
//! override; a foreign middleware error is one line naming the request.

use crate::support::*;
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use burler_http::middleware::{Extensions, Middleware, Next, Outcome, async_trait};
use burler_http::{HttpError, RetryMiddleware};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A middleware as a third party writes one for reqwest-middleware: tags each attempt.
#[derive(Default)]
struct TagAttempts(AtomicUsize);

#[async_trait]
impl Middleware for TagAttempts {
    async fn handle(
        &self,
        mut req: reqwest::Request,
        ext: &mut Extensions,
        next: Next<'_>,
    ) -> Outcome {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        req.headers_mut()
            .insert("x-attempt", n.to_string().parse().unwrap());
        next.run(req, ext).await
    }
}

/// Answers every request itself (as a cache would), never reaching the network.
struct Canned;

#[async_trait]
impl Middleware for Canned {
    async fn handle(
        &self,
        _req: reqwest::Request,
        _ext: &mut Extensions,
        _next: Next<'_>,
    ) -> Outcome {
        let response = axum::http::Response::builder()
            .status(200)
            .body("[7, 8]")
            .unwrap();
        Ok(reqwest::Response::from(response))
    }
}

/// Fails with an error type this crate does not know.
struct Refuses;

#[async_trait]
impl Middleware for Refuses {
    async fn handle(
        &self,
        _req: reqwest::Request,
        _ext: &mut Extensions,
        _next: Next<'_>,
    ) -> Outcome {
        Err(reqwest_middleware::Error::middleware(
            std::io::Error::other("signing key missing\nsee the docs"),
        ))
    }
}

/// Fails the first attempt with 503, then echoes the `x-attempt` header.
fn echo_attempt(counter: Counter) -> Router {
    Router::new().route(
        "/echo",
        get(move |headers: HeaderMap| {
            let first = counter.hit() == 1;
            async move {
                let attempt = headers
                    .get("x-attempt")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                if first {
                    (StatusCode::SERVICE_UNAVAILABLE, attempt)
                } else {
                    (StatusCode::OK, attempt)
                }
            }
        }),
    )
}

#[tokio::test]
async fn a_reqwest_middleware_runs_on_each_attempt_inside_retry() {
    let counter = Counter::default();
    let base = serve(echo_attempt(counter.clone())).await;
    let tags = Arc::new(TagAttempts::default());
    let client = builder(&base)
        .with(RetryMiddleware::new(fast_retry(3)))
        .with_arc(tags.clone())
        .build()
        .unwrap();
    let response = client.get("echo").send().await.unwrap();
    assert_eq!(
        response.text(),
        "2",
        "the second attempt carried the second tag"
    );
    assert_eq!((counter.get(), tags.0.load(Ordering::SeqCst)), (2, 2));
}

#[tokio::test]
async fn a_middleware_may_answer_without_the_network() {
    let client = builder("http://127.0.0.1:9").with(Canned).build().unwrap();
    let items: Vec<u32> = client.get("anything").json().await.unwrap();
    assert_eq!(items, vec![7, 8]);
}

#[tokio::test]
async fn a_foreign_middleware_error_is_one_line_naming_the_request() {
    let client = builder("http://127.0.0.1:9").with(Refuses).build().unwrap();
    let err = client.get("x?token=s3cret").send().await.unwrap_err();
    assert!(matches!(err, HttpError::Middleware { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "GET http://127.0.0.1:9/x?token=REDACTED: signing key missing see the docs"
    );
}

#[tokio::test]
async fn a_request_timeout_overrides_the_clients() {
    let router = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            "[]"
        }),
    );
    let base = serve(router).await;
    let client = builder(&base)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client
        .get("slow")
        .timeout(ms(100))
        .send()
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        err.to_string(),
        format!("GET {base}/slow: timed out after 100ms")
    );
    assert!(err.is_retryable());
}
