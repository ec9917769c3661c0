//! Retry: what is retried, Retry-After, budgets, custom predicates and backoff.

use crate::support::*;
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use burler_http::RetryMiddleware;
use burler_http::middleware::Outcome;
use std::time::{Duration, Instant};

fn flaky(counter: Counter, failures: usize, status: StatusCode) -> Router {
    Router::new().route(
        "/items",
        get(move || {
            let counter = counter.clone();
            async move {
                if counter.hit() <= failures {
                    (status, "try again".to_owned())
                } else {
                    (StatusCode::OK, "[1]".to_owned())
                }
            }
        }),
    )
}

#[tokio::test]
async fn burst_of_503_then_success_is_retried() {
    let counter = Counter::default();
    let base = serve(flaky(counter.clone(), 3, StatusCode::SERVICE_UNAVAILABLE)).await;
    let logs = capture_logs();
    let items: Vec<u32> = client(&base).get("items").json().await.unwrap();
    assert_eq!(items, vec![1]);
    assert_eq!(counter.get(), 4);
    let warnings = logs.lines_with(&base);
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(
        warnings
            .iter()
            .all(|l| l.contains("WARN") && l.contains(&format!("retrying GET {base}/items in "))),
        "{warnings:?}"
    );
    assert!(
        warnings[0].ends_with("(attempt 2 of 4): HTTP 503 Service Unavailable"),
        "{warnings:?}"
    );
}

#[tokio::test]
async fn persistent_500_gives_up_after_max_attempts_with_one_line_error() {
    let counter = Counter::default();
    let base = serve(flaky(
        counter.clone(),
        100,
        StatusCode::INTERNAL_SERVER_ERROR,
    ))
    .await;
    let err = client(&base)
        .get("items?api_key=hunter2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(counter.get(), 4);
    assert_eq!(
        err.status(),
        Some(reqwest::StatusCode::INTERNAL_SERVER_ERROR)
    );
    let text = err.to_string();
    assert_eq!(
        text,
        format!("GET {base}/items?api_key=REDACTED: HTTP 500 Internal Server Error: try again")
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn not_found_is_not_retried_and_names_url_without_secrets() {
    let counter = Counter::default();
    let base = serve(flaky(counter.clone(), 100, StatusCode::NOT_FOUND)).await;
    let err = client(&base)
        .get("items")
        .query(&[("token", "s3cret"), ("page", "2")])
        .header("authorization", "Bearer s3cret")
        .send()
        .await
        .unwrap_err();
    assert_eq!(counter.get(), 1);
    let text = err.to_string();
    assert!(!text.contains("s3cret"), "{text}");
    assert!(
        text.starts_with(&format!("GET {base}/items?token=REDACTED&page=2: HTTP 404")),
        "{text}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn too_many_requests_honours_retry_after_seconds() {
    let counter = Counter::default();
    let hits = counter.clone();
    let router = Router::new().route(
        "/items",
        get(move || {
            let hits = hits.clone();
            async move {
                let mut headers = HeaderMap::new();
                if hits.hit() == 1 {
                    headers.insert("retry-after", "1".parse().unwrap());
                    return (StatusCode::TOO_MANY_REQUESTS, headers, "slow down");
                }
                (StatusCode::OK, headers, "[]")
            }
        }),
    );
    let base = serve(router).await;
    let started = Instant::now();
    let items: Vec<u32> = client(&base).get("items").json().await.unwrap();
    assert!(items.is_empty());
    assert_eq!(counter.get(), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited only {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn retry_after_beyond_the_limit_ends_retries() {
    let counter = Counter::default();
    let hits = counter.clone();
    let router = Router::new().route(
        "/items",
        get(move || {
            hits.hit();
            async {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "3600")],
                    "quota",
                )
            }
        }),
    );
    let base = serve(router).await;
    let client = builder(&base)
        .with(RetryMiddleware::new(
            fast_retry(4).max_retry_after(Duration::from_secs(5)),
        ))
        .build()
        .unwrap();
    let err = client.get("items").send().await.unwrap_err();
    assert_eq!(err.status(), Some(reqwest::StatusCode::TOO_MANY_REQUESTS));
    assert_eq!(counter.get(), 1);
}

#[tokio::test]
async fn total_wait_budget_stops_retries_early() {
    let counter = Counter::default();
    let base = serve(flaky(counter.clone(), 100, StatusCode::BAD_GATEWAY)).await;
    let policy = fast_retry(10)
        .backoff(|_retry: u32| Duration::from_millis(40))
        .max_total_wait(Duration::from_millis(100));
    let client = builder(&base)
        .with(RetryMiddleware::new(policy))
        .build()
        .unwrap();
    let err = client.get("items").send().await.unwrap_err();
    assert_eq!(err.status(), Some(reqwest::StatusCode::BAD_GATEWAY));
    assert_eq!(
        counter.get(),
        3,
        "two waits of 40 ms fit in 100 ms, a third does not"
    );
}

#[tokio::test]
async fn custom_predicate_replaces_the_default() {
    let counter = Counter::default();
    let base = serve(flaky(counter.clone(), 2, StatusCode::CONFLICT)).await;
    let policy = fast_retry(5).retry_if(|outcome: &Outcome| {
        matches!(outcome, Ok(response) if response.status() == reqwest::StatusCode::CONFLICT)
    });
    let client = builder(&base)
        .with(RetryMiddleware::new(policy))
        .build()
        .unwrap();
    let items: Vec<u32> = client.get("items").json().await.unwrap();
    assert_eq!(items, vec![1]);
    assert_eq!(counter.get(), 3);
}
