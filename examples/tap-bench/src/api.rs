//! The benchmark REST API: the `events` workload served page by page from bytes rendered once at
//! start, so the server costs as little as possible next to the readers being measured.
//!
//! `GET /events?page=N` (from 1) answers `{"data": [...], "next_page": N+1, "total": T}` with
//! `next_page: null` on the last page, and the header `x-next-page` (absent on the last page) so
//! a reader can page without parsing the body. `?updated_since=<RFC 3339>` starts at the first
//! record updated at or after it (rendered per request: tests and resumed runs, not benchmarks).
//! Each answer waits `latency` first (simulated network latency).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::serve::ListenerExt;
use serde::Deserialize;

use crate::Event;

/// What the API serves.
#[derive(Debug, Clone, Copy)]
pub struct ApiShape {
    /// Records in all (ids 1..=records).
    pub records: u64,
    /// Records per page.
    pub page_size: u64,
    /// Wait before each answer.
    pub latency: Duration,
}

/// The pages, rendered once.
struct Pages {
    shape: ApiShape,
    rendered: Vec<Bytes>,
}

impl Pages {
    fn render(shape: ApiShape) -> Self {
        let pages = shape.records.div_ceil(shape.page_size.max(1));
        let rendered = (1..=pages.max(1))
            .map(|page| Bytes::from(render_page(shape, 1, page)))
            .collect();
        Self { shape, rendered }
    }

    fn page_count(&self, first_id: u64) -> u64 {
        let left = self.shape.records.saturating_sub(first_id - 1);
        left.div_ceil(self.shape.page_size.max(1))
    }
}

/// The body of page `page` of the records from `first_id` on.
pub fn render_page(shape: ApiShape, first_id: u64, page: u64) -> Vec<u8> {
    let size = shape.page_size.max(1);
    let start = first_id + (page.max(1) - 1) * size;
    let end = (start + size).min(shape.records + 1);
    let mut body = Vec::with_capacity((end.saturating_sub(start) as usize) * 400 + 64);
    body.extend_from_slice(b"{\"data\":[");
    for id in start..end {
        if id > start {
            body.push(b',');
        }
        // Writing to a Vec cannot fail, and an Event always serializes.
        let _ = serde_json::to_writer(&mut body, &Event::new(id));
    }
    let pages = shape.records.saturating_sub(first_id - 1).div_ceil(size);
    let next = if page < pages {
        (page + 1).to_string()
    } else {
        "null".to_owned()
    };
    let total = shape.records.saturating_sub(first_id - 1);
    body.extend_from_slice(format!("],\"next_page\":{next},\"total\":{total}}}").as_bytes());
    body
}

#[derive(Deserialize)]
struct EventsQuery {
    page: Option<u64>,
    updated_since: Option<String>,
}

async fn events(
    State(pages): State<Arc<Pages>>,
    Query(q): Query<EventsQuery>,
) -> impl IntoResponse {
    if !pages.shape.latency.is_zero() {
        // Even a zero sleep waits for the timer's next millisecond tick.
        tokio::time::sleep(pages.shape.latency).await;
    }
    let page = q.page.unwrap_or(1).max(1);
    let first_id = q
        .updated_since
        .as_deref()
        .and_then(Event::first_id_at_or_after)
        .unwrap_or(1);
    let body = if first_id == 1 {
        match pages.rendered.get((page - 1) as usize) {
            Some(bytes) => bytes.clone(),
            None => Bytes::from(render_page(pages.shape, 1, page)),
        }
    } else {
        Bytes::from(render_page(pages.shape, first_id, page))
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if page < pages.page_count(first_id)
        && let Ok(next) = HeaderValue::from_str(&(page + 1).to_string())
    {
        headers.insert("x-next-page", next);
    }
    (headers, body)
}

/// The API's routes, pages rendered now.
pub fn router(shape: ApiShape) -> Router {
    Router::new()
        .route("/events", get(events))
        .with_state(Arc::new(Pages::render(shape)))
}

/// Binds 127.0.0.1:`port` (0: any free port) and serves the API on a thread of its own with a
/// single-threaded runtime, so the server never takes more than one core from the reader.
/// Returns the base URL once the pages are rendered and the port is listening.
pub fn spawn(shape: ApiShape, port: u16) -> std::io::Result<String> {
    let listener = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let app = router(shape);
    std::thread::spawn(move || {
        runtime.block_on(async move {
            if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
                // Without TCP_NODELAY the last segment of each page waits for the reader's
                // delayed ACK: a few milliseconds of idle per page on loopback.
                let listener = listener.tap_io(|tcp| {
                    let _ = tcp.set_nodelay(true);
                });
                let _ = axum::serve(listener, app).await;
            }
        });
    });
    Ok(format!("http://{addr}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_hold_the_workload_and_say_what_comes_next() {
        let shape = ApiShape {
            records: 25,
            page_size: 10,
            latency: Duration::ZERO,
        };
        let body: serde_json::Value = serde_json::from_slice(&render_page(shape, 1, 3)).unwrap();
        let ids: Vec<u64> = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_u64().unwrap())
            .collect();
        assert_eq!(ids, (21..=25).collect::<Vec<_>>());
        assert_eq!(body["next_page"], serde_json::Value::Null);
        assert_eq!(body["total"], 25);
        let first: serde_json::Value = serde_json::from_slice(&render_page(shape, 1, 1)).unwrap();
        assert_eq!(first["next_page"], 2);
        assert_eq!(
            first["data"][0],
            serde_json::to_value(Event::new(1)).unwrap()
        );
        let resumed: serde_json::Value =
            serde_json::from_slice(&render_page(shape, 20, 1)).unwrap();
        assert_eq!(resumed["data"][0]["id"], 20);
        assert_eq!(resumed["total"], 6);
        let past: serde_json::Value = serde_json::from_slice(&render_page(shape, 1, 9)).unwrap();
        assert_eq!(past["data"], serde_json::json!([]));
    }
}
