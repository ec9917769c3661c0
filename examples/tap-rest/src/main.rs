//! tap-rest: an example burler tap over a REST shop API (bearer token, cursor pagination):
//! `customers` and `products` FULL_TABLE, `orders` INCREMENTAL on `updated_at` with its
//! sub-stream `order_lines`. Without a `base_url` (or with `"embedded"`) it serves the demo
//! shop of [`tap_rest::fixture`] on 127.0.0.1 itself, so it runs without network.

use burler::chrono::{DateTime, SecondsFormat, Utc};
use burler::futures::StreamExt;
use burler::prelude::*;
use burler::schemars::JsonSchema;
use burler::serde::{Serialize, de::DeserializeOwned};
use burler_http::paginate::{Cursor, Paged};
use burler_http::{
    BearerToken, HttpClient, HttpError, RateLimitMiddleware, RetryMiddleware, RetryPolicy,
};
use std::time::Duration;

/// The tap's settings.
#[burler::config]
struct Config {
    /// API base URL, e.g. `https://shop.example.com/v1`; absent or `"embedded"` serves the demo shop.
    base_url: Option<String>,
    /// Bearer token for the API.
    api_token: String,
    /// Orders updated before this are not synced on a first run.
    start_date: Option<StartDate>,
    /// Most requests per second (default 10; 0: no limit).
    requests_per_second: Option<u32>,
    /// Records per page of a list endpoint (default 50, the API's most).
    page_size: Option<u32>,
}

#[burler::record]
struct Customer {
    id: u64,
    name: String,
    email: String,
    country: String,
    created_at: DateTime<Utc>,
}

#[burler::record]
struct Order {
    id: u64,
    customer_id: u64,
    status: String,
    line_count: u32,
    updated_at: DateTime<Utc>,
}

#[burler::record]
struct OrderLine {
    order_id: u64,
    line_no: u32,
    product_id: u64,
    quantity: u32,
}

#[burler::record]
struct Product {
    id: u64,
    sku: String,
    name: String,
    price: f64,
}

/// The client every stream shares: retry, rate limit and the bearer token as layers.
fn client(config: &Config) -> Result<HttpClient, BoxError> {
    let base_url = match config.base_url.as_deref() {
        None | Some("embedded") => tap_rest::fixture::spawn(&config.api_token)?,
        Some(url) => url.to_owned(),
    };
    let client = HttpClient::builder(&base_url)?
        .user_agent(concat!("tap-rest/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_secs(60))
        .with(RetryMiddleware::new(RetryPolicy::default()))
        .with(RateLimitMiddleware::per_second(config.requests_per_second.unwrap_or(10)))
        .auth(BearerToken::new(config.api_token.as_str()))
        .build()?;
    Ok(client)
}

type Ctx<R> = SyncContext<R, Config, HttpClient>;

/// The pages of a list endpoint, `page_size` records each; `ctx`'s stream names the requests in
/// metrics.
fn client_request<R: Serialize>(ctx: &Ctx<R>, path: &str, extra: &[(&str, String)]) -> Paged {
    let limit = ctx.config().page_size.unwrap_or(50).to_string();
    let request = ctx.client().get(path).endpoint(ctx.stream_name());
    let request = request.query(&[("limit", limit)]).query(extra);
    request.paginate(Cursor::new("cursor", "meta.next_cursor")).records_at("data")
}

/// Every record of a list endpoint, page by page.
fn list<R: Serialize + DeserializeOwned + Send + 'static>(
    ctx: &Ctx<R>,
    path: &str,
    extra: &[(&str, String)],
) -> impl burler::futures::Stream<Item = Result<R, HttpError>> + Send + use<R> {
    client_request(ctx, path, extra).records()
}

/// A FULL_TABLE stream: every record of the list endpoint named like the stream.
fn full_table<R: Serialize + DeserializeOwned + JsonSchema + Send + Sync + 'static>(
    name: &str,
) -> Stream<R, Config, HttpClient> {
    Stream::new(name).schema_from_type().key(["id"]).full_table().sync(sync_table)
}

/// A whole table, page by page; after each page the position of the next one is checkpointed
/// (`Page::resume_point`), so a run cut short resumes there under the same table version.
async fn sync_table<R: Serialize + DeserializeOwned + Send + Sync + 'static>(
    ctx: Ctx<R>,
) -> SyncResult {
    let name = ctx.stream_name().to_owned();
    let request = client_request(&ctx, &name, &[]);
    let mut pages = std::pin::pin!(request.resume_at(ctx.resume_point().as_ref()).pages::<R>());
    while let Some(page) = pages.next().await {
        let page = page?;
        let resume = page.resume_point();
        ctx.emit_all(page.into_records())?;
        if let Some(resume) = resume {
            ctx.checkpoint(resume).await?;
        }
    }
    Ok(())
}

/// Orders updated at or after the bookmark (or `start_date`); the API returns them sorted.
async fn sync_orders(ctx: Ctx<Order>) -> SyncResult {
    let start = ctx.replication_start_datetime();
    let since = start.map(|s| ("updated_since", s.to_rfc3339_opts(SecondsFormat::Secs, true)));
    ctx.emit_stream(list(&ctx, "orders", since.as_slice())).await?;
    Ok(())
}

/// The lines of the order being synced (`ctx.partition()` is `{"id": <order id>}`).
async fn sync_order_lines(ctx: Ctx<OrderLine>) -> SyncResult {
    let order = ctx.partition().and_then(|p| p["id"].as_u64()).ok_or("needs a parent order")?;
    let lines = list(&ctx, &format!("orders/{order}/lines"), &[]);
    ctx.emit_stream(lines).await?;
    Ok(())
}

fn main() -> std::process::ExitCode {
    let order_lines = Stream::new("order_lines")
        .schema_from_type()
        .key(["order_id", "line_no"])
        .sync(sync_order_lines);
    let orders = Stream::new("orders").schema_from_type().key(["id"]).incremental("updated_at");
    Tap::new("tap-rest")
        .version(env!("CARGO_PKG_VERSION"))
        .description("Customers, orders with their lines, and products from a REST shop API")
        .config::<Config>()
        .secret(["api_token"])
        .client(client)
        .stream(full_table::<Customer>("customers"))
        .stream(full_table::<Product>("products"))
        .stream(
            orders
                .bookmark_strategy(BookmarkStrategy::Records(50))
                .sync(sync_orders)
                .substream(order_lines),
        )
        .run()
}
