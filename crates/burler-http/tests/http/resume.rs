//! Resumable reads: every strategy's resume point, a read started from it, credentials kept out
//! of it, and points a strategy cannot read.

use crate::paginate::{TOTAL, ids, shop_base};
use crate::support::*;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use burler_http::paginate::{Cursor, LinkHeader, NextUrl, OffsetLimit, PageNumber};
use burler_http::{ApiKey, HttpError, Page, Paged, RawPage};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Every page of a read: its ids and its resume point.
async fn read(paged: Paged) -> Vec<(Vec<u64>, Option<Value>)> {
    let pages: Vec<Page> = paged.pages().try_collect().await.unwrap();
    pages
        .iter()
        .map(|p| (ids(p.records()), p.resume_point()))
        .collect()
}

/// Reads once, then resumes at each page's point: each resumed read gets exactly the pages
/// after that page (ids and resume points). Returns the resume points of the whole read.
async fn resumes_after_every_page(make: impl Fn() -> Paged) -> Vec<Option<Value>> {
    let whole = read(make()).await;
    let all: Vec<u64> = whole.iter().flat_map(|(ids, _)| ids.clone()).collect();
    assert_eq!(all, (0..TOTAL as u64).collect::<Vec<_>>());
    assert_eq!(
        whole.last().map(|(_, p)| p.clone()),
        Some(None),
        "the last page has none"
    );
    for (k, (_, point)) in whole.iter().enumerate().take(whole.len() - 1) {
        let point = point
            .clone()
            .expect("every page but the last has a resume point");
        let rest = read(make().resume_at(Some(&point))).await;
        assert_eq!(rest, whole[k + 1..], "resumed at {point}");
    }
    assert_eq!(
        read(make().resume_at(None)).await,
        whole,
        "None: from the start"
    );
    whole.into_iter().map(|(_, p)| p).collect()
}

#[tokio::test]
async fn page_numbers_resume_at_the_stored_page_index_also_with_requests_in_flight() {
    let base = shop_base().await;
    let client = client(&base);
    let pages = |in_flight| {
        client
            .get("pages")
            .paginate(PageNumber::new("page").page_size("per_page", 10))
            .records_at("data")
            .in_flight(in_flight)
    };
    let points = resumes_after_every_page(|| pages(1)).await;
    assert_eq!(
        points,
        [
            Some(json!({"page_index": 1})),
            Some(json!({"page_index": 2})),
            None
        ]
    );
    assert_eq!(resumes_after_every_page(|| pages(3)).await, points);
    let resumed: Vec<Page> = pages(1)
        .resume_at(Some(&json!({"page_index": 2})))
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(resumed[0].number(), 3, "numbered in the whole read");
    assert_eq!(resumed[0].url().query(), Some("page=3&per_page=10"));
}

#[tokio::test]
async fn offsets_resume_at_the_stored_page_index() {
    let base = shop_base().await;
    let client = client(&base);
    let points = resumes_after_every_page(|| {
        client
            .get("offset")
            .paginate(OffsetLimit::new("offset", "limit", 10))
            .records_at("results")
    })
    .await;
    assert_eq!(
        points,
        [
            Some(json!({"page_index": 1})),
            Some(json!({"page_index": 2})),
            None
        ]
    );
}

#[tokio::test]
async fn a_cursor_resumes_at_the_stored_cursor() {
    let base = shop_base().await;
    let client = client(&base);
    let points = resumes_after_every_page(|| {
        client
            .get("cursor")
            .query(&[("limit", "10")])
            .paginate(Cursor::new("cursor", "meta.next_cursor"))
            .records_at("data")
    })
    .await;
    assert_eq!(
        points,
        [
            Some(json!({"cursor": "10"})),
            Some(json!({"cursor": "20"})),
            None
        ]
    );
    let raw: Vec<RawPage> = client
        .get("cursor")
        .paginate(Cursor::new("cursor", "meta.next_cursor"))
        .records_at("data")
        .resume_at(points[0].as_ref())
        .raw_pages()
        .try_collect()
        .await
        .unwrap();
    let raw_points: Vec<Option<Value>> = raw.iter().map(RawPage::resume_point).collect();
    assert_eq!(raw_points, points[1..], "raw pages know theirs too");
}

#[tokio::test]
async fn links_resume_at_the_stored_url() {
    let base = shop_base().await;
    let client = client(&base);
    let points = resumes_after_every_page(|| client.get("link").paginate(LinkHeader::new())).await;
    assert_eq!(
        points,
        [
            Some(json!({"url": format!("{base}/link?p=2")})),
            Some(json!({"url": format!("{base}/link?p=3")})),
            None
        ]
    );
    let points = resumes_after_every_page(|| {
        client
            .get("next")
            .paginate(NextUrl::new("next"))
            .records_at("items")
    })
    .await;
    assert_eq!(points[0], Some(json!({"url": format!("{base}/next?p=2")})));
}

/// 25 items in pages of 10 behind `api_key=secret`; next links repeat the key, as some APIs do.
fn keyed() -> Router {
    Router::new().route(
        "/keyed",
        get(|Query(q): Query<HashMap<String, String>>| async move {
            if q.get("api_key").map(String::as_str) != Some("secret") {
                return StatusCode::UNAUTHORIZED.into_response();
            }
            let page: usize = q.get("p").and_then(|p| p.parse().ok()).unwrap_or(1);
            let mut headers = HeaderMap::new();
            if page * 10 < TOTAL {
                let link = format!("</keyed?p={}&api_key=secret>; rel=\"next\"", page + 1);
                headers.insert("link", link.parse().unwrap());
            }
            let items: Vec<Value> = ((page - 1) * 10..(page * 10).min(TOTAL))
                .map(|id| json!({"id": id}))
                .collect();
            (headers, Json(items)).into_response()
        }),
    )
}

#[tokio::test]
async fn credentials_stay_out_of_resume_points_and_come_back_on_resume() {
    let base = serve(keyed()).await;
    let by_middleware = builder(&base)
        .auth(ApiKey::query("api_key", "secret"))
        .build()
        .unwrap();
    let points =
        resumes_after_every_page(|| by_middleware.get("keyed").paginate(LinkHeader::new())).await;
    assert_eq!(
        points[0],
        Some(json!({"url": format!("{base}/keyed?p=2")})),
        "the middleware's key left out"
    );
    let plain = client(&base);
    let points = resumes_after_every_page(|| {
        plain
            .get("keyed")
            .query(&[("api_key", "secret")])
            .paginate(LinkHeader::new())
    })
    .await;
    assert_eq!(
        points[1],
        Some(json!({"url": format!("{base}/keyed?p=3")})),
        "the request's own key left out"
    );
}

#[tokio::test]
async fn a_point_the_strategy_cannot_read_is_the_streams_only_item() {
    let base = shop_base().await;
    let client = client(&base);
    let cursor = client
        .get("cursor")
        .paginate(Cursor::new("cursor", "meta.next_cursor"))
        .resume_at(Some(&json!({"page_index": 1})));
    let items: Vec<Result<Page, HttpError>> = cursor.pages().collect().await;
    assert_eq!(items.len(), 1);
    let err = items.into_iter().next().unwrap().unwrap_err();
    assert!(matches!(err, HttpError::ResumePoint { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "cannot resume the pages of {base}/cursor at {{\"page_index\":1}}: a cursor resumes at {{\"cursor\": \"…\"}}"
        )
    );
    let pages = client
        .get("pages")
        .paginate(PageNumber::new("page"))
        .resume_at(Some(&json!({"cursor": "10"})));
    let err = pages
        .pages::<Value>()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("page_index"), "{err}");
}
