//! Pipelined pages: prefetch, several pages in flight, records in page order, end of data,
//! errors in the middle, and borrowed records from raw pages.

use crate::support::*;
use burler_http::paginate::{Cursor, OffsetLimit, PageNumber};
use burler_http::{HttpClient, Page, RawPage};
use futures::{StreamExt, TryStreamExt};
use serde_json::Value;
use std::time::Duration;

#[derive(serde::Deserialize, Debug)]
struct Item {
    id: u64,
}

fn ids(items: &[Item]) -> Vec<u64> {
    items.iter().map(|i| i.id).collect()
}

/// Later pages answer sooner, so requests in flight complete out of order.
fn reversed_latency(page: u64) -> Duration {
    ms(5 * (12 - page.min(12)))
}

fn by_page_number(client: &HttpClient, size: usize) -> burler_http::Paged {
    client
        .get("events")
        .paginate(PageNumber::new("page").page_size("per_page", size))
        .records_at("data")
}

#[tokio::test]
async fn several_pages_in_flight_still_give_records_in_page_order() {
    let server = PageServer::start(250, 10, reversed_latency).await;
    let items: Vec<Item> = by_page_number(&client(&server.base), 10)
        .in_flight(4)
        .records()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&items), server.all_ids(), "every record once, in order");
    assert_eq!(server.peak(), 4, "four requests were answered at once");
    let mut requested = server.requests();
    requested.sort_unstable();
    requested.dedup();
    assert_eq!(requested.first(), Some(&1));
    assert!(
        requested.len() <= 25 + 4,
        "at most the window past the short page 26: {requested:?}"
    );
}

#[tokio::test]
async fn a_known_total_stops_requests_at_the_last_page() {
    let server = PageServer::start(95, 10, |_| ms(1)).await;
    let paged = client(&server.base)
        .get("events")
        .paginate(
            PageNumber::new("page")
                .page_size("per_page", 10)
                .total_at("total"),
        )
        .records_at("data")
        .in_flight(4);
    let items: Vec<Item> = paged.records().try_collect().await.unwrap();
    assert_eq!(ids(&items), server.all_ids());
    let mut requested = server.requests();
    requested.sort_unstable();
    assert_eq!(
        requested,
        (1..=10).collect::<Vec<_>>(),
        "no page past the total"
    );
}

#[tokio::test]
async fn offsets_in_flight_walk_every_record_in_order() {
    // The server pages by `page`; an offset maps onto it through `per_page`.
    let server = PageServer::start(64, 8, reversed_latency).await;
    let client = client(&server.base);
    let paged = client
        .get("events")
        .paginate(OffsetLimit::new("offset", "limit", 8).total_at("total"))
        .records_at("data")
        .in_flight(3);
    let pages: Vec<Page> = paged.pages().try_collect().await.unwrap();
    let offsets: Vec<String> = pages
        .iter()
        .map(|p| {
            p.url()
                .query_pairs()
                .find(|(k, _)| k == "offset")
                .unwrap()
                .1
                .into_owned()
        })
        .collect();
    assert_eq!(offsets, ["0", "8", "16", "24", "32", "40", "48", "56"]);
    assert!(
        pages
            .iter()
            .enumerate()
            .all(|(i, p)| p.number() == i as u64 + 1)
    );
}

#[tokio::test]
async fn prefetch_requests_the_next_page_while_the_caller_holds_this_one() {
    let server = PageServer::start(45, 10, |_| ms(1)).await;
    let client = client(&server.base);
    let mut pages = by_page_number(&client, 10).prefetch(2).pages::<Value>();
    let first = pages.next().await.unwrap().unwrap();
    assert_eq!(first.number(), 1);
    wait_for(|| server.requests().len() >= 3).await;
    tokio::time::sleep(ms(100)).await;
    assert_eq!(
        server.requests(),
        vec![1, 2, 3],
        "two pages ahead of the one held, no more"
    );
    let rest: Vec<Page> = pages.try_collect().await.unwrap();
    assert_eq!(rest.len(), 4);
}

/// Keeps this worker busy, never yielding to the runtime, until the server has seen `pages`
/// requests (or 5 s pass); the pages requested by then.
fn busy_until_requested(state: &PageState, pages: usize) -> Vec<u64> {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while state.requested().len() < pages && std::time::Instant::now() < deadline {
        std::thread::sleep(ms(1));
    }
    state.requested()
}

/// A caller busy with a page (a sync writing its records, never yielding in between) must not
/// hold up the request for the next page: taking a page wakes the driver, which must then run on
/// another worker, not wait behind the caller. The caller runs on a worker, as a tap's syncs do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_page_is_requested_while_a_busy_caller_holds_this_one() {
    let server = PageServer::start(30, 10, |_| ms(1)).await;
    let client = client(&server.base);
    let state = server.state.clone();
    let seen_while_busy = tokio::spawn(async move {
        let mut pages = by_page_number(&client, 10).prefetch(1).pages::<Value>();
        let first = pages.next().await.unwrap().unwrap();
        assert_eq!(first.number(), 1);
        let seen = busy_until_requested(&state, 2);
        let rest: Vec<Page> = pages.try_collect().await.unwrap();
        let records: usize = rest.iter().map(|page| page.records().len()).sum();
        assert_eq!(records, 20, "the pages after the first");
        seen
    })
    .await
    .unwrap();
    assert_eq!(
        seen_while_busy,
        vec![1, 2],
        "page 2 requested while page 1 was held"
    );
}

/// The server of [`the_next_request_goes_out_while_a_page_decodes`], for its records' decoder.
static DECODING_SERVER: std::sync::OnceLock<std::sync::Arc<PageState>> = std::sync::OnceLock::new();

/// A record whose decoding is slow: record 1 keeps its worker busy until the server has seen the
/// request for page 2 (or 5 s pass), and says whether it did.
struct SlowToDecode {
    saw_the_next_request: bool,
}

impl<'de> serde::Deserialize<'de> for SlowToDecode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let item = Item::deserialize(d)?;
        let Some(state) = DECODING_SERVER.get().filter(|_| item.id == 1) else {
            return Ok(Self {
                saw_the_next_request: false,
            });
        };
        Ok(Self {
            saw_the_next_request: busy_until_requested(state, 2).len() >= 2,
        })
    }
}

/// With page URLs known in advance and room for two pages ahead, the request for page 2 goes
/// out as soon as page 1's body is read, while page 1 is still decoding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_request_goes_out_while_a_page_decodes() {
    let server = PageServer::start(30, 10, |_| ms(1)).await;
    DECODING_SERVER.set(server.state.clone()).ok().unwrap();
    let client = client(&server.base);
    let records: Vec<SlowToDecode> = tokio::spawn(async move {
        by_page_number(&client, 10)
            .prefetch(2)
            .records::<SlowToDecode>()
            .try_collect()
            .await
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(records.len(), 30);
    assert!(
        records[0].saw_the_next_request,
        "page 2 requested while page 1 decoded"
    );
}

#[tokio::test]
async fn no_prefetch_fetches_each_page_only_when_asked() {
    let server = PageServer::start(30, 10, |_| ms(1)).await;
    let client = client(&server.base);
    let mut pages = by_page_number(&client, 10).prefetch(0).pages::<Value>();
    pages.next().await.unwrap().unwrap();
    tokio::time::sleep(ms(150)).await;
    assert_eq!(server.requests(), vec![1]);
    pages.next().await.unwrap().unwrap();
    assert_eq!(server.requests(), vec![1, 2]);
}

#[tokio::test]
async fn an_error_mid_stream_comes_after_every_earlier_record_and_nothing_later() {
    let server = PageServer::start(100, 10, reversed_latency).await;
    server.fault(4, &[Fault::Status(404, None)]);
    let results: Vec<Result<Item, burler_http::HttpError>> =
        by_page_number(&client(&server.base), 10)
            .in_flight(4)
            .records()
            .collect()
            .await;
    let (ok, err): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    let ok: Vec<Item> = ok.into_iter().map(Result::unwrap).collect();
    assert_eq!(ids(&ok), (1..=30).collect::<Vec<_>>());
    assert_eq!(err.len(), 1);
    let text = err[0].as_ref().unwrap_err().to_string();
    assert!(
        text.contains("page=4") && text.contains("HTTP 404"),
        "{text}"
    );
}

#[tokio::test]
async fn dropping_the_stream_stops_the_requests() {
    let server = PageServer::start(1_000, 10, |_| ms(20)).await;
    let client = client(&server.base);
    let mut records = by_page_number(&client, 10).in_flight(4).records::<Item>();
    assert_eq!(records.next().await.unwrap().unwrap().id, 1);
    drop(records);
    tokio::time::sleep(ms(100)).await;
    let seen = server.requests().len();
    tokio::time::sleep(ms(150)).await;
    assert_eq!(server.requests().len(), seen, "no request after the drop");
    assert!(seen <= 8, "{seen}");
}

#[tokio::test]
async fn a_cursor_page_is_fetched_ahead_too() {
    let server = PageServer::start(40, 10, |_| ms(1)).await;
    let client = client(&server.base);
    let mut pages = client
        .get("events")
        .paginate(Cursor::new("page", "next"))
        .records_at("data")
        .pages::<Value>();
    pages.next().await.unwrap().unwrap();
    wait_for(|| server.requests().len() >= 2).await;
    let rest: Vec<Page> = pages.try_collect().await.unwrap();
    assert_eq!(rest.len(), 3);
    assert_eq!(server.requests(), vec![1, 2, 3, 4]);
}

#[derive(serde::Deserialize, Debug)]
struct Borrowed<'a> {
    id: u64,
    name: &'a str,
}

#[tokio::test]
async fn raw_pages_decode_records_that_borrow_from_the_body() {
    let server = PageServer::start(25, 10, |_| ms(1)).await;
    let pages: Vec<RawPage> = by_page_number(&client(&server.base), 10)
        .in_flight(2)
        .raw_pages()
        .try_collect()
        .await
        .unwrap();
    let counts: Vec<usize> = pages.iter().map(|p| p.info().record_count()).collect();
    assert_eq!(counts, [10, 10, 5]);
    let mut ids = Vec::new();
    for page in &pages {
        let records: Vec<Borrowed<'_>> = page.decode().unwrap();
        for record in &records {
            assert_eq!(record.name, format!("record {}", record.id));
            let body = page.body().as_ptr_range();
            assert!(
                body.contains(&record.name.as_ptr()),
                "the name points into the body"
            );
            ids.push(record.id);
        }
    }
    assert_eq!(ids, server.all_ids());
}

/// Polls `done` until it holds (at most 5 s: the condition, not the wait, is what is tested).
async fn wait_for(done: impl Fn() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(ms(10)).await;
    }
    panic!("condition not reached in 5 s");
}

#[tokio::test]
async fn several_page_streams_run_at_once_on_one_client() {
    // What a tap syncing partitions or children in parallel does: one client, several streams.
    let server = PageServer::start(120, 10, |_| ms(5)).await;
    let client = client(&server.base);
    let streams = (0..3).map(|i| {
        let records = by_page_number(&client, 10)
            .in_flight(i + 1)
            .records::<Item>();
        tokio::spawn(records.try_collect::<Vec<Item>>())
    });
    for joined in futures::future::join_all(streams).await {
        let items = joined.unwrap().unwrap();
        assert_eq!(ids(&items), server.all_ids());
    }
    assert!(
        server.peak() >= 3,
        "the streams overlapped: peak {}",
        server.peak()
    );
}
