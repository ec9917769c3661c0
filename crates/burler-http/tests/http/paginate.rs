//! Pagination strategies against a server holding 25 items.

use crate::support::*;
use axum::extract::Query;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use burler_http::paginate::{Cursor, LinkHeader, NextUrl, OffsetLimit, PageNumber};
use burler_http::{HttpError, Page};
use futures::TryStreamExt;
use serde_json::{Value, json};
use std::collections::HashMap;

pub(crate) const TOTAL: usize = 25;

type Params = Query<HashMap<String, String>>;

fn param(q: &HashMap<String, String>, name: &str, default: usize) -> usize {
    q.get(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn items(from: usize, count: usize) -> Vec<Value> {
    (from..(from + count).min(TOTAL))
        .map(|id| json!({"id": id}))
        .collect()
}

fn shop(base_for_links: String) -> Router {
    let link_base = base_for_links.clone();
    Router::new()
        .route(
            "/pages",
            get(|Query(q): Params| async move {
                let page = param(&q, "page", 1);
                let size = param(&q, "per_page", 10);
                Json(json!({"data": items((page - 1) * size, size)}))
            }),
        )
        .route(
            "/offset",
            get(|Query(q): Params| async move {
                Json(json!({"results": items(param(&q, "offset", 0), param(&q, "limit", 10))}))
            }),
        )
        .route(
            "/cursor",
            get(|Query(q): Params| async move {
                let from = param(&q, "cursor", 0);
                let next = if from + 10 < TOTAL {
                    json!((from + 10).to_string())
                } else {
                    Value::Null
                };
                Json(json!({"data": items(from, 10), "meta": {"next_cursor": next}}))
            }),
        )
        .route(
            "/stuck",
            get(|Query(q): Params| async move {
                let from = if q.contains_key("cursor") { 10 } else { 0 };
                Json(json!({"data": items(from, 10), "meta": {"next_cursor": "abc"}}))
            }),
        )
        .route(
            "/link",
            get(move |Query(q): Params| {
                let base = link_base.clone();
                async move {
                    let page = param(&q, "p", 1);
                    let mut headers = HeaderMap::new();
                    if page * 10 < TOTAL {
                        let link = format!(
                            "<{base}/link?p=1>; rel=\"first\", <{base}/link?p={}>; rel=\"next\"",
                            page + 1
                        );
                        headers.insert("link", link.parse().unwrap());
                    }
                    (headers, Json(items((page - 1) * 10, 10)))
                }
            }),
        )
        .route(
            "/next",
            get(|Query(q): Params| async move {
                let page = param(&q, "p", 1);
                let next = if page * 10 < TOTAL {
                    json!(format!("/next?p={}", page + 1))
                } else {
                    Value::Null
                };
                Json(json!({"items": items((page - 1) * 10, 10), "next": next}))
            }),
        )
        .route(
            "/ignores-page",
            get(|| async { Json(json!({"data": items(0, 10)})) }),
        )
        .route(
            "/empty",
            get(|| async { Json(json!({"data": [], "meta": {"next_cursor": "more"}})) }),
        )
        .route("/scalar", get(|| async { Json(json!({"data": "oops"})) }))
}

pub(crate) async fn shop_base() -> String {
    // Links need the server's own address: bind first, then build the router.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = shop(base.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

pub(crate) fn ids(records: &[Value]) -> Vec<u64> {
    records.iter().map(|r| r["id"].as_u64().unwrap()).collect()
}

fn all_ids() -> Vec<u64> {
    (0..TOTAL as u64).collect()
}

#[tokio::test]
async fn page_number_stops_on_short_page() {
    let base = shop_base().await;
    let pages: Vec<Page> = client(&base)
        .get("pages")
        .paginate(PageNumber::new("page").page_size("per_page", 10))
        .records_at("data")
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[2].url().query(), Some("page=3&per_page=10"));
    let records: Vec<Value> = pages.into_iter().flat_map(Page::into_records).collect();
    assert_eq!(ids(&records), all_ids());
}

#[tokio::test]
async fn page_number_without_size_stops_on_empty_page() {
    let base = shop_base().await;
    let records: Vec<Value> = client(&base)
        .get("pages")
        .paginate(PageNumber::new("page"))
        .records_at("data")
        .records()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&records), all_ids());
}

#[tokio::test]
async fn offset_limit_walks_all_records() {
    let base = shop_base().await;
    #[derive(serde::Deserialize)]
    struct Item {
        id: u64,
    }
    let records: Vec<Item> = client(&base)
        .get("offset")
        .paginate(OffsetLimit::new("offset", "limit", 10))
        .records_at("results")
        .records()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(records.iter().map(|i| i.id).collect::<Vec<_>>(), all_ids());
}

#[tokio::test]
async fn cursor_from_body_path() {
    let base = shop_base().await;
    let records: Vec<Value> = client(&base)
        .get("cursor")
        .paginate(Cursor::new("cursor", "meta.next_cursor"))
        .records_at("data")
        .records()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&records), all_ids());
}

#[tokio::test]
async fn link_header_and_next_url_in_body() {
    let base = shop_base().await;
    let client = client(&base);
    let linked: Vec<Value> = client
        .get("link")
        .paginate(LinkHeader::new())
        .records()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&linked), all_ids());
    let next: Vec<Value> = client
        .get("next")
        .paginate(NextUrl::new("next"))
        .records_at("items")
        .records()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&next), all_ids());
}

#[tokio::test]
async fn repeated_cursor_is_a_loop_error_naming_url_and_cursor() {
    let base = shop_base().await;
    let results: Vec<Result<Value, HttpError>> = client(&base)
        .get("stuck")
        .paginate(Cursor::new("cursor", "meta.next_cursor"))
        .records_at("data")
        .records()
        .collect::<Vec<_>>()
        .await;
    let (ok, err): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    assert_eq!(ok.len(), 20, "two pages are read before the loop shows");
    assert_eq!(err.len(), 1);
    let text = err[0].as_ref().unwrap_err().to_string();
    assert_eq!(
        text,
        format!(
            "pagination loop at {base}/stuck?cursor=abc: page already fetched (cursor \"abc\")"
        )
    );
}

#[tokio::test]
async fn api_ignoring_the_page_parameter_is_a_loop_error() {
    let base = shop_base().await;
    let err = client(&base)
        .get("ignores-page")
        .paginate(PageNumber::new("page"))
        .records_at("data")
        .records::<Value>()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("pagination loop at {base}/ignores-page?page=2: page already fetched")
    );
}

#[tokio::test]
async fn empty_first_page_ends_cleanly() {
    let base = shop_base().await;
    let pages: Vec<Page> = client(&base)
        .get("empty")
        .paginate(Cursor::new("cursor", "meta.next_cursor"))
        .records_at("data")
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 1);
    assert!(pages[0].records().is_empty());
}

#[tokio::test]
async fn records_path_that_is_not_a_list_is_an_error() {
    let base = shop_base().await;
    let err = client(&base)
        .get("scalar")
        .paginate(PageNumber::new("page"))
        .records_at("data")
        .records::<Value>()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "GET {base}/scalar?page=1: invalid response body: expected a list of records at \"data\", found a string at line 1 column 14: {{\"data\":\"oops\"}}"
        )
    );
}

use futures::StreamExt;
