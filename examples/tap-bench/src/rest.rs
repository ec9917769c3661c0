//! The REST benchmark tap, as a tap author would write it with burler-http: page numbers with a
//! total, records decoded straight from each page, the next pages fetched while the current one
//! is written. Two record types share it: typed owned records ([`ApiEvent`], bin
//! `tap-bench-rest`) and records passed through as the API sent them (`Box<RawValue>`, bin
//! `tap-bench-raw`), the tap a passthrough connector (tap-rest-api-msdk, a manifest) is.
//!
//! Config: `{"base_url": "http://127.0.0.1:8080", "prefetch": 2, "in_flight": 4}`. Without a
//! `base_url` the tap serves the benchmark API ([`crate::api`]) in-process, with `records`
//! records in pages of `page_size`.

use burler::prelude::*;
use burler_http::paginate::PageNumber;
use burler_http::{HttpClient, RetryMiddleware, RetryPolicy};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The tap's settings.
#[burler::config]
pub struct Config {
    /// API base URL; absent: the benchmark API is served in-process.
    pub base_url: Option<String>,
    /// Records per page the API serves (default 1,000).
    pub page_size: Option<u64>,
    /// Pages fetched ahead of the page being written (default 2; 0: one page at a time).
    pub prefetch: Option<usize>,
    /// Page requests in flight at once (default 1).
    pub in_flight: Option<usize>,
    /// In-process API only: how many records it holds (default 200,000).
    pub records: Option<u64>,
    /// In-process API only: milliseconds it waits before each page (default 0).
    pub latency_ms: Option<u64>,
}

/// A postal address, as the API serves it.
#[derive(Serialize, Deserialize, schemars::JsonSchema)]
pub struct ApiAddress {
    /// Street and number.
    pub street: String,
    /// City.
    pub city: String,
    /// Postal code.
    pub zip: String,
}

/// One `events` record, as the API serves it.
#[derive(Serialize, Deserialize, schemars::JsonSchema)]
pub struct ApiEvent {
    /// Increasing id.
    pub id: u64,
    /// A UUID-shaped string.
    pub uuid: String,
    /// A name.
    pub name: String,
    /// An email address.
    pub email: String,
    /// An amount with two decimals.
    pub amount: f64,
    /// A small count.
    pub quantity: u32,
    /// A flag.
    pub active: bool,
    /// When the event was created.
    #[schemars(extend("format" = "date-time"))]
    pub created_at: String,
    /// When it last changed: the replication key.
    #[schemars(extend("format" = "date-time"))]
    pub updated_at: String,
    /// Tags.
    pub tags: Vec<String>,
    /// The address.
    pub address: ApiAddress,
    /// A note, on every other event.
    pub note: Option<String>,
}

fn page_size(config: &Config) -> u64 {
    config.page_size.unwrap_or(1_000).max(1)
}

/// The client: the configured API, or the benchmark API served in-process.
fn client(config: &Config) -> Result<HttpClient, BoxError> {
    let base_url = match &config.base_url {
        Some(url) => url.clone(),
        None => crate::api::spawn(
            crate::api::ApiShape {
                records: config.records.unwrap_or(200_000),
                page_size: page_size(config),
                latency: Duration::from_millis(config.latency_ms.unwrap_or(0)),
            },
            0,
        )?,
    };
    let client = HttpClient::builder(&base_url)?
        .user_agent(concat!("tap-bench/", env!("CARGO_PKG_VERSION")))
        .with(RetryMiddleware::new(RetryPolicy::default()))
        .build()?;
    Ok(client)
}

/// Every event updated at or after the bookmark, in order, decoded as `R`.
async fn sync_events<R>(ctx: SyncContext<R, Config, HttpClient>) -> SyncResult
where
    R: DeserializeOwned + Serialize + Send + Sync + 'static,
{
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
        .records::<R>();
    ctx.emit_stream(records).await?;
    Ok(())
}

/// The tap named `name`, whose `events` records are decoded as `R` (the schema is
/// [`ApiEvent`]'s either way).
pub fn tap<R>(name: &str) -> Tap<Config, HttpClient>
where
    R: DeserializeOwned + Serialize + Send + Sync + 'static,
{
    Tap::new(name)
        .version(env!("CARGO_PKG_VERSION"))
        .description("The events benchmark workload from a paginated REST API")
        .config::<Config>()
        .client(client)
        .stream(
            Stream::<R, Config, HttpClient>::new("events")
                .schema(burler::schema::for_type::<ApiEvent>())
                .key(["id"])
                .incremental("updated_at")
                .bookmark_strategy(BookmarkStrategy::Records(10_000))
                .sync(sync_events::<R>),
        )
}
