//! Rate limits: token bucket spacing and pauses asked for by headers.

use crate::support::*;
use axum::Router;
use axum::routing::get;
use burler_http::{RateLimitHeaders, RateLimitMiddleware};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[tokio::test]
async fn token_bucket_spaces_requests() {
    let base = serve(Router::new().route("/x", get(|| async { "{}" }))).await;
    let client = builder(&base)
        .with(RateLimitMiddleware::with_burst(
            20,
            Duration::from_secs(1),
            1,
        ))
        .build()
        .unwrap();
    let started = Instant::now();
    for _ in 0..6 {
        client.get("x").send().await.unwrap();
    }
    // The first goes at once, then one every 50 ms.
    assert!(started.elapsed() >= ms(240), "{:?}", started.elapsed());
}

#[tokio::test]
async fn burst_goes_through_without_waiting() {
    let base = serve(Router::new().route("/x", get(|| async { "{}" }))).await;
    let client = builder(&base)
        .with(RateLimitMiddleware::per_minute(60))
        .build()
        .unwrap();
    let started = Instant::now();
    for _ in 0..5 {
        client.get("x").send().await.unwrap();
    }
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn exhausted_quota_pauses_until_reset() {
    let times: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let seen = times.clone();
    let router = Router::new().route(
        "/x",
        get(move || {
            let mut seen = seen.lock().unwrap();
            seen.push(Instant::now());
            let remaining = if seen.len() == 1 { "0" } else { "10" };
            async move {
                (
                    [("ratelimit-left", remaining), ("ratelimit-reset-in", "1")],
                    "{}",
                )
            }
        }),
    );
    let base = serve(router).await;
    let headers = RateLimitHeaders::new("ratelimit-left", "ratelimit-reset-in");
    let client = builder(&base)
        .with(RateLimitMiddleware::from_headers(headers))
        .build()
        .unwrap();
    client.get("x").send().await.unwrap();
    client.get("x").send().await.unwrap();
    client.get("x").send().await.unwrap();
    let times = times.lock().unwrap();
    assert!(times[1] - times[0] >= ms(950), "{:?}", times[1] - times[0]);
    assert!(times[2] - times[1] < ms(500), "no pause once quota is back");
}

#[tokio::test]
async fn clones_share_one_limiter_across_concurrent_tasks() {
    let base = serve(Router::new().route("/x", get(|| async { "{}" }))).await;
    let client = builder(&base)
        .with(RateLimitMiddleware::with_burst(
            20,
            Duration::from_secs(1),
            1,
        ))
        .build()
        .unwrap();
    let started = Instant::now();
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get("x").send().await.map(|_| ()) })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert!(started.elapsed() >= ms(240), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_rate_of_zero_means_no_limit() {
    for limiter in [
        RateLimitMiddleware::per_second(0),
        RateLimitMiddleware::per_minute(0),
        RateLimitMiddleware::with_burst(0, Duration::from_secs(1), 0),
        RateLimitMiddleware::new(5, Duration::ZERO),
    ] {
        assert!(!limiter.is_limited(), "{limiter:?}");
    }
    assert!(RateLimitMiddleware::per_second(1).is_limited());
    let base = serve(Router::new().route("/x", get(|| async { "{}" }))).await;
    let client = builder(&base)
        .with(RateLimitMiddleware::per_second(0))
        .build()
        .unwrap();
    let started = Instant::now();
    for _ in 0..10 {
        client.get("x").send().await.unwrap();
    }
    // One request a second (what 0 used to become) would take 9 s.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}
