//! tap-bench-rest: the `events` workload read from a REST API, as a tap author would write it with
//! burler-http: page numbers with a total, typed records decoded straight from each page, the
//! next pages fetched while the current one is written.
//!
//! Config: `{"base_url": "http://127.0.0.1:8080", "prefetch": 1, "in_flight": 4}`. Without a
//! `base_url` the tap serves the benchmark API ([`tap_bench::api`]) in-process, with `records`
//! records in pages of `page_size`.

use burler::prelude::*;
use burler_http::paginate::PageNumber;
use burler_http::{HttpClient, RetryMiddleware, RetryPolicy};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The tap's settings.
#[burler::config]
struct Config {
    /// API base URL; absent: the benchmark API is served in-process.
    base_url: Option<String>,
    /// Records per page the API serves (default 1,000).
    page_size: Option<u64>,
    /// Pages fetched ahead of the page being written (default 1; 0: one page at a time).
    prefetch: Option<usize>,
    /// Page requests in flight at once (default 1).
    in_flight: Option<usize>,
    /// In-process API only: how many records it holds (default 200,000).
    records: Option<u64>,
    /// In-process API only: milliseconds it waits before each page (default 0).
    latency_ms: Option<u64>,
}

/// A postal address.
#[derive(Serialize, Deserialize, schemars::JsonSchema)]
struct Address {
    street: String,
    city: String,
    zip: String,
}

/// One `events` record, as the API serves it.
#[derive(Serialize, Deserialize, schemars::JsonSchema)]
struct Event {
    id: u64,
    uuid: String,
    name: String,
    email: String,
    amount: f64,
    quantity: u32,
    active: bool,
    #[schemars(extend("format" = "date-time"))]
    created_at: String,
    #[schemars(extend("format" = "date-time"))]
    updated_at: String,
    tags: Vec<String>,
    address: Address,
    note: Option<String>,
}

fn page_size(config: &Config) -> u64 {
    config.page_size.unwrap_or(1_000).max(1)
}

/// The client: the configured API, or the benchmark API served in-process.
fn client(config: &Config) -> Result<HttpClient, BoxError> {
    let base_url = match &config.base_url {
        Some(url) => url.clone(),
        None => tap_bench::api::spawn(
            tap_bench::api::ApiShape {
                records: config.records.unwrap_or(200_000),
                page_size: page_size(config),
                latency: Duration::from_millis(config.latency_ms.unwrap_or(0)),
            },
            0,
        )?,
    };
    let client = HttpClient::builder(&base_url)?
        .user_agent(concat!("tap-bench-rest/", env!("CARGO_PKG_VERSION")))
        .with(RetryMiddleware::new(RetryPolicy::default()))
        .build()?;
    Ok(client)
}

type Ctx = SyncContext<Event, Config, HttpClient>;

/// Every event updated at or after the bookmark, in order.
async fn sync_events(ctx: Ctx) -> SyncResult {
    let config = ctx.config();
    let mut request = ctx.client().get("events").endpoint("events");
    if let Some(since) = ctx.replication_start() {
        request = request.query(&[("updated_since", since)]);
    }
    let pages = PageNumber::new("page")
        .page_size("per_page", page_size(config) as usize)
        .total_at("total");
    let records = request
        .paginate(pages)
        .records_at("data")
        .prefetch(
            config
                .prefetch
                .unwrap_or(burler_http::paginate::DEFAULT_PREFETCH),
        )
        .in_flight(config.in_flight.unwrap_or(1))
        .records::<Event>();
    ctx.emit_stream(records).await?;
    Ok(())
}

fn main() -> std::process::ExitCode {
    Tap::new("tap-bench-rest")
        .version(env!("CARGO_PKG_VERSION"))
        .description("The events benchmark workload from a paginated REST API")
        .config::<Config>()
        .client(client)
        .stream(
            Stream::new("events")
                .schema_from_type()
                .key(["id"])
                .incremental("updated_at")
                .bookmark_strategy(BookmarkStrategy::Records(10_000))
                .sync(sync_events),
        )
        .run()
}
