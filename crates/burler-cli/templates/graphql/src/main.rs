//! {{tap_name}}: a Singer tap for a GraphQL API, built with burler and burler-http.
//!
//! `customers` is FULL_TABLE, `orders` INCREMENTAL on `updated_at` (the `since` variable).
//! Each is a connection read page by page: `first`/`after` variables, `nodes` and
//! `pageInfo { hasNextPage endCursor }`; a response with `errors` fails the stream with their
//! messages. Change the queries and record types to your API's.

mod config;

use std::process::ExitCode;
use std::time::Duration;

use burler::chrono::{DateTime, SecondsFormat, Utc};
use burler::prelude::*;
use burler::serde_json::json;
use burler_http::{BearerToken, HttpClient, RetryMiddleware, RetryPolicy};

use config::{Config, SECRETS};

/// A customer.
#[burler::record]
struct Customer {
    id: u64,
    name: String,
    email: String,
}

/// An order; the API lists them sorted by `updated_at`.
#[burler::record]
struct Order {
    id: u64,
    customer_id: u64,
    total: f64,
    updated_at: DateTime<Utc>,
}

const CUSTOMERS: &str = "query($after: String) {
  customers(first: 50, after: $after) {
    nodes { id name email }
    pageInfo { hasNextPage endCursor }
  }
}";

const ORDERS: &str = "query($after: String, $since: String) {
  orders(first: 50, after: $after, updatedSince: $since) {
    nodes { id customer_id total updated_at }
    pageInfo { hasNextPage endCursor }
  }
}";

type Ctx<R> = SyncContext<R, Config, HttpClient>;

/// The client every stream shares: retry and the bearer token as middleware.
fn client(config: &Config) -> Result<HttpClient, BoxError> {
    let client = HttpClient::builder(&config.base_url)?
        .user_agent(concat!("{{tap_name}}/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_secs(60))
        .with(RetryMiddleware::new(RetryPolicy::default()))
        .auth(BearerToken::new(config.api_token.as_str()))
        .build()?;
    Ok(client)
}

async fn sync_customers(ctx: Ctx<Customer>) -> SyncResult {
    let graphql = ctx.client().graphql("graphql").endpoint("customers");
    let nodes = graphql.paginate(CUSTOMERS, json!({}), "customers").nodes();
    ctx.emit_stream(nodes).await?;
    Ok(())
}

/// Orders updated at or after the bookmark (on a first run: `start_date`).
async fn sync_orders(ctx: Ctx<Order>) -> SyncResult {
    let since = ctx
        .replication_start_datetime()
        .map(|start| start.to_rfc3339_opts(SecondsFormat::Secs, true));
    let graphql = ctx.client().graphql("graphql").endpoint("orders");
    let nodes = graphql
        .paginate(ORDERS, json!({"since": since}), "orders")
        .nodes();
    ctx.emit_stream(nodes).await?;
    Ok(())
}

fn main() -> ExitCode {
    Tap::new("{{tap_name}}")
        .version(env!("CARGO_PKG_VERSION"))
        .description("{{description}}")
        .config::<Config>()
        .secret(SECRETS)
        .client(client)
        .stream(
            Stream::new("customers")
                .schema_from_type()
                .key(["id"])
                .sync(sync_customers),
        )
        .stream(
            Stream::new("orders")
                .schema_from_type()
                .key(["id"])
                .incremental("updated_at")
                .bookmark_strategy(BookmarkStrategy::Records(50))
                .sync(sync_orders),
        )
        .run()
}
