//! tap-shop: a Singer tap for a REST API, built with burler and burler-http.
//!
//! `customers` is FULL_TABLE, `orders` INCREMENTAL on `updated_at` with the sub-stream
//! `order_lines` (one request per order). Every list endpoint is read page by page: `limit` and
//! `cursor` query parameters, records at `data`, the next cursor at `next_cursor`. Change the
//! record types, paths and paginator to your API's (`burler_http::paginate` has page numbers,
//! offsets, Link headers and next-page URLs too).

mod config;

use std::process::ExitCode;
use std::time::Duration;

use burler::chrono::{DateTime, SecondsFormat, Utc};
use burler::prelude::*;
use burler::serde::de::DeserializeOwned;
use burler_http::paginate::Cursor;
use burler_http::{
    BearerToken, HttpClient, HttpError, RateLimitMiddleware, RetryMiddleware, RetryPolicy,
};

use config::{Config, SECRETS};

/// A customer.
#[burler::record]
struct Customer {
    id: u64,
    name: String,
    email: String,
    created_at: DateTime<Utc>,
}

/// An order; the API lists them sorted by `updated_at`.
#[burler::record]
struct Order {
    id: u64,
    customer_id: u64,
    status: String,
    total: f64,
    updated_at: DateTime<Utc>,
}

/// A line of an order, read from `orders/{id}/lines`.
#[burler::record]
struct OrderLine {
    order_id: u64,
    line_no: u32,
    sku: String,
    quantity: u32,
}

type Ctx<R> = SyncContext<R, Config, HttpClient>;

/// The client every stream shares: retry, rate limit and the bearer token as middleware.
fn client(config: &Config) -> Result<HttpClient, BoxError> {
    let client = HttpClient::builder(&config.base_url)?
        .user_agent(concat!("tap-shop/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_secs(60))
        .with(RetryMiddleware::new(RetryPolicy::default()))
        .with(RateLimitMiddleware::per_second(
            config.requests_per_second.unwrap_or(10),
        ))
        .auth(BearerToken::new(config.api_token.as_str()))
        .build()?;
    Ok(client)
}

/// Every record of a list endpoint, page after page (`endpoint` names the requests in metrics).
fn list<R: DeserializeOwned + Send + 'static>(
    client: &HttpClient,
    endpoint: &str,
    path: &str,
    query: &[(&str, String)],
) -> impl burler::futures::Stream<Item = Result<R, HttpError>> + Send + use<R> {
    client
        .get(path)
        .endpoint(endpoint)
        .query(&[("limit", "100")])
        .query(query)
        .paginate(Cursor::new("cursor", "next_cursor"))
        .records_at("data")
        .records()
}

async fn sync_customers(ctx: Ctx<Customer>) -> SyncResult {
    ctx.emit_stream(list(ctx.client(), "customers", "customers", &[]))
        .await?;
    Ok(())
}

/// Orders updated at or after the bookmark (on a first run: `start_date`).
async fn sync_orders(ctx: Ctx<Order>) -> SyncResult {
    let since = ctx.replication_start_datetime().map(|start| {
        (
            "updated_since",
            start.to_rfc3339_opts(SecondsFormat::Secs, true),
        )
    });
    ctx.emit_stream(list(ctx.client(), "orders", "orders", since.as_slice()))
        .await?;
    Ok(())
}

/// The lines of one order: `ctx.partition()` is the parent's key, `{"id": <order id>}`.
async fn sync_order_lines(ctx: Ctx<OrderLine>) -> SyncResult {
    let order = ctx
        .partition()
        .and_then(|parent| parent["id"].as_u64())
        .ok_or("order_lines runs for one order")?;
    let path = format!("orders/{order}/lines");
    ctx.emit_stream(list(ctx.client(), "order_lines", &path, &[]))
        .await?;
    Ok(())
}

fn main() -> ExitCode {
    let order_lines = Stream::new("order_lines")
        .schema_from_type()
        .key(["order_id", "line_no"])
        .sync(sync_order_lines);
    let orders = Stream::new("orders")
        .schema_from_type()
        .key(["id"])
        .incremental("updated_at")
        .bookmark_strategy(BookmarkStrategy::Records(100))
        .sync(sync_orders)
        .substream(order_lines);
    Tap::new("tap-shop")
        .version(env!("CARGO_PKG_VERSION"))
        .description("Customers, orders and their lines from a REST API")
        .config::<Config>()
        .secret(SECRETS)
        .client(client)
        .stream(
            Stream::new("customers")
                .schema_from_type()
                .key(["id"])
                .sync(sync_customers),
        )
        .stream(orders)
        .run()
}
