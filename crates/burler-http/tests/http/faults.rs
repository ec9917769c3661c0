//! Broken servers: resets, truncated bodies, HTML where JSON was expected, slow answers; and the
//! same faults injected into pipelined pagination, where every record must still arrive.

use crate::support::*;
use axum::Router;
use axum::routing::get;
use burler_http::error::TransportKind;
use burler_http::paginate::PageNumber;
use burler_http::{HttpError, RetryMiddleware};
use futures::TryStreamExt;
use std::time::{Duration, Instant};

const GOOD: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\nConnection: close\r\n\r\n{\"data\": [1,2]}";
const CUT_MID_BODY: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\nConnection: close\r\n\r\n{\"data\": [1,";

#[derive(serde::Deserialize, Debug)]
struct Data {
    data: Vec<u32>,
}

#[tokio::test]
async fn connection_closed_mid_body_is_retried() {
    let (base, connections) = raw_server(vec![CUT_MID_BODY, CUT_MID_BODY, GOOD]).await;
    let data: Data = client(&base).get("x").json().await.unwrap();
    assert_eq!(data.data, vec![1, 2]);
    assert_eq!(connections.get(), 3);
}

#[tokio::test]
async fn connection_closed_before_any_response_is_retried() {
    let (base, connections) = raw_server(vec!["", GOOD]).await;
    let data: Data = client(&base).get("x").json().await.unwrap();
    assert_eq!(data.data, vec![1, 2]);
    assert_eq!(connections.get(), 2);
}

#[tokio::test]
async fn unsupported_scheme_is_not_retried() {
    let err = client("http://127.0.0.1:9")
        .get("ftp://127.0.0.1:9/x")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            HttpError::Transport {
                kind: TransportKind::Other,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert!(
        err.to_string()
            .starts_with("GET ftp://127.0.0.1:9/x: request failed"),
        "{err}"
    );
}

#[tokio::test]
async fn connection_always_cut_ends_in_a_one_line_body_error() {
    let (base, connections) = raw_server(vec![CUT_MID_BODY]).await;
    let err = client(&base).get("x").send().await.unwrap_err();
    assert_eq!(connections.get(), 4);
    assert!(
        matches!(
            err,
            HttpError::Transport {
                kind: TransportKind::Body,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("GET {base}/x: connection broke")),
        "{text}"
    );
    assert!(!text.contains('\n'));
}

#[tokio::test]
async fn truncated_json_with_correct_length_is_a_decode_error_naming_the_url() {
    let truncated = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\nConnection: close\r\n\r\n{\"data\": [1,";
    let (base, _) = raw_server(vec![truncated]).await;
    let err = client(&base).get("x").json::<Data>().await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, HttpError::Decode { .. }));
    assert!(
        text.starts_with(&format!("GET {base}/x: invalid response body: EOF")),
        "{text}"
    );
    assert!(text.ends_with(r#": {"data": [1,"#), "{text}");
}

#[tokio::test]
async fn html_error_page_gives_status_error_with_excerpt() {
    let page = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body>\n</html>";
    let router = Router::new()
        .route(
            "/gone",
            get(move || async move { (axum::http::StatusCode::GONE, axum::response::Html(page)) }),
        )
        .route(
            "/ok-html",
            get(move || async move { axum::response::Html(page) }),
        );
    let base = serve(router).await;
    let client = client(&base);
    let err = client.get("gone").send().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "GET {base}/gone: HTTP 410 Gone: <html> <head><title>502 Bad Gateway</title></head> <body>nginx</body> </html>"
        )
    );
    let err = client.get("ok-html").json::<Data>().await.unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "GET {base}/ok-html: invalid response body: expected value"
        )),
        "{err}"
    );
}

#[tokio::test]
async fn slow_response_times_out_then_recovers() {
    let counter = Counter::default();
    let hits = counter.clone();
    let router = Router::new().route(
        "/slow",
        get(move || {
            let first = hits.hit() == 1;
            async move {
                if first {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                "[]"
            }
        }),
    );
    let base = serve(router).await;
    let client = builder(&base)
        .timeout(ms(150))
        .with(RetryMiddleware::new(fast_retry(3)))
        .build()
        .unwrap();
    let items: Vec<u32> = client.get("slow").json().await.unwrap();
    assert!(items.is_empty());
    assert_eq!(counter.get(), 2);
}

#[tokio::test]
async fn always_slow_ends_in_timeout_error_naming_the_url() {
    let router = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            "[]"
        }),
    );
    let base = serve(router).await;
    let client = builder(&base)
        .timeout(ms(100))
        .with(RetryMiddleware::new(fast_retry(2)))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.get("slow").send().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        err.to_string(),
        format!("GET {base}/slow: timed out after 100ms")
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn connection_refused_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = client(&base).get("x").send().await.unwrap_err();
    assert!(
        matches!(
            err,
            HttpError::Transport {
                kind: TransportKind::Connect,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("GET {base}/x: connection failed")),
        "{err}"
    );
}

/// A fixed 50 ms between attempts: the backoff part of the time a fault may cost.
const BACKOFF: Duration = Duration::from_millis(50);

/// Slack for scheduling on a busy machine; the bounds below are the API's ask plus backoff.
const SLACK: Duration = Duration::from_millis(400);

/// Syncs 200 records (20 pages) with 4 pages in flight, `faults` injected; returns the ids in
/// the order they arrived and the time taken.
async fn paged_sync(faults: &[(u64, Fault)]) -> (Vec<u64>, PageServer, Duration) {
    let server = PageServer::start(200, 10, |_| ms(2)).await;
    for (page, fault) in faults {
        server.fault(*page, &[*fault]);
    }
    let client = builder(&server.base)
        .with(RetryMiddleware::new(
            burler_http::RetryPolicy::default()
                .max_attempts(4)
                .backoff(|_retry: u32| BACKOFF),
        ))
        .build()
        .unwrap();
    let started = Instant::now();
    let records: Vec<serde_json::Value> = client
        .get("events")
        .paginate(PageNumber::new("page").page_size("per_page", 10))
        .records_at("data")
        .in_flight(4)
        .records()
        .try_collect()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let ids = records.iter().map(|r| r["id"].as_u64().unwrap()).collect();
    (ids, server, elapsed)
}

/// Runs the sync clean and with `faults`; asserts every record arrives in order and the faulted
/// run took at most `allowed` longer. Returns the faulted run's time.
async fn assert_recovers(faults: &[(u64, Fault)], allowed: Duration) -> Duration {
    let (_, _, clean) = paged_sync(&[]).await;
    let (ids, server, faulted) = paged_sync(faults).await;
    assert_eq!(ids, server.all_ids(), "every record, once, in order");
    for (page, _) in faults {
        let asked = server.requests().iter().filter(|&p| p == page).count();
        let injected = faults.iter().filter(|(p, _)| p == page).count();
        assert_eq!(
            asked,
            injected + 1,
            "page {page}: each fault cost one more request"
        );
    }
    assert!(
        faulted <= clean + allowed + SLACK,
        "lost {:?} (clean {clean:?}, faulted {faulted:?}), allowed {allowed:?}",
        faulted.saturating_sub(clean)
    );
    faulted
}

#[tokio::test]
async fn pipelined_pages_survive_429_with_retry_after_losing_only_the_wait_asked() {
    let faulted = assert_recovers(
        &[(5, Fault::Status(429, Some("1")))],
        Duration::from_secs(1),
    )
    .await;
    assert!(
        faulted >= Duration::from_millis(950),
        "Retry-After honoured: {faulted:?}"
    );
}

#[tokio::test]
async fn pipelined_pages_survive_500s_losing_only_the_backoff() {
    let fault = Fault::Status(500, None);
    assert_recovers(&[(3, fault), (3, fault), (11, fault)], BACKOFF * 3).await;
}

#[tokio::test]
async fn pipelined_pages_survive_a_connection_reset() {
    assert_recovers(&[(4, Fault::Reset), (12, Fault::Reset)], BACKOFF * 2).await;
}

#[tokio::test]
async fn pipelined_pages_survive_a_body_cut_short() {
    assert_recovers(&[(6, Fault::CutBody)], BACKOFF).await;
}

#[tokio::test]
async fn pipelined_pages_refetch_truncated_json_with_a_consistent_length() {
    let logs = capture_logs();
    assert_recovers(&[(7, Fault::CutJson), (7, Fault::CutJson)], Duration::ZERO).await;
    assert!(
        logs.lines_with("the body ended early")
            .iter()
            .any(|l| l.contains("page=7")),
        "the refetch is logged"
    );
}

#[tokio::test]
async fn every_fault_at_once_still_delivers_every_record() {
    let faults = [
        (2, Fault::Status(429, Some("1"))),
        (5, Fault::Status(503, None)),
        (9, Fault::Reset),
        (13, Fault::CutBody),
        (17, Fault::CutJson),
    ];
    assert_recovers(&faults, Duration::from_secs(1) + BACKOFF * 3).await;
}

#[tokio::test]
async fn json_cut_more_often_than_the_refetch_budget_is_a_decode_error() {
    let server = PageServer::start(30, 10, |_| ms(1)).await;
    server.fault(2, &[Fault::CutJson, Fault::CutJson, Fault::CutJson]);
    let err = client(&server.base)
        .get("events")
        .paginate(PageNumber::new("page").page_size("per_page", 10))
        .records_at("data")
        .records::<serde_json::Value>()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(err, HttpError::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("EOF while parsing"), "{err}");
    assert_eq!(server.requests().iter().filter(|&&p| p == 2).count(), 3);
}
