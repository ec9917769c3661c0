//! An in-process shop API for the demo and the tests: customers, orders (with their lines at
//! `/orders/{id}/lines`) and products behind bearer-token auth, with cursor pagination
//! (`?cursor=&limit=`, next cursor at `meta.next_cursor`) and `updated_since` filtering.
//!
//! The data is generated from a fixed seed, so every run serves the same shop.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use burler::chrono::{self, DateTime, Duration, TimeZone, Utc};
use burler::serde::Deserialize;
use burler::serde_json::{Value, json};
use std::sync::Arc;

/// How many of each resource the generated shop has.
pub const CUSTOMERS: usize = 40;
/// Number of orders.
pub const ORDERS: usize = 120;
/// Number of products.
pub const PRODUCTS: usize = 25;
/// Largest page the API serves.
const MAX_LIMIT: usize = 50;

/// The shop's records, as the API serves them.
#[derive(Debug, Clone)]
pub struct ShopData {
    /// Customers by id.
    pub customers: Vec<Value>,
    /// Orders sorted by `updated_at`.
    pub orders: Vec<Value>,
    /// Order lines, each with its `order_id`.
    pub lines: Vec<Value>,
    /// Products by id.
    pub products: Vec<Value>,
}

/// A small deterministic generator (64-bit LCG): the same shop on every run.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self, below: u64) -> u64 {
        self.0 =
            self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below.max(1)
    }
}

fn timestamp(base: DateTime<Utc>, minutes: u64) -> String {
    (base + Duration::minutes(minutes as i64)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Generates the shop.
pub fn generate() -> ShopData {
    const FIRST: [&str; 8] =
        ["Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances"];
    const LAST: [&str; 6] = ["Lovelace", "Hopper", "Torvalds", "Liskov", "Thompson", "Hamilton"];
    const COUNTRIES: [&str; 5] = ["DE", "FR", "US", "JP", "BR"];
    const STATUSES: [&str; 4] = ["pending", "paid", "shipped", "cancelled"];
    let base = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).single().unwrap_or_default();
    let mut rng = Seeded(42);
    let customers = (1..=CUSTOMERS)
        .map(|id| {
            let (first, last) = (FIRST[id % FIRST.len()], LAST[id % LAST.len()]);
            json!({
                "id": id,
                "name": format!("{first} {last}"),
                "email": format!("{}.{}{id}@example.com", first.to_lowercase(), last.to_lowercase()),
                "country": COUNTRIES[rng.next(5) as usize],
                "created_at": timestamp(base, id as u64 * 600),
            })
        })
        .collect();
    let products = (1..=PRODUCTS)
        .map(|id| json!({"id": id, "sku": format!("SKU-{id:04}"), "name": format!("Widget {id}"), "price": (rng.next(9_000) + 100) as f64 / 100.0}))
        .collect();
    let mut lines = Vec::new();
    let mut orders: Vec<Value> = (1..=ORDERS)
        .map(|id| {
            let count = rng.next(3) + 1;
            for line_no in 1..=count {
                let product_id = rng.next(PRODUCTS as u64) + 1;
                let quantity = rng.next(4) + 1;
                lines.push(json!({"order_id": id, "line_no": line_no, "product_id": product_id, "quantity": quantity}));
            }
            json!({
                "id": id,
                "customer_id": rng.next(CUSTOMERS as u64) + 1,
                "status": STATUSES[rng.next(4) as usize],
                "line_count": count,
                "updated_at": timestamp(base, 60 * 24 * 30 + rng.next(60 * 24 * 60)),
            })
        })
        .collect();
    orders.sort_by(|a, b| {
        (a["updated_at"].as_str(), a["id"].as_u64())
            .cmp(&(b["updated_at"].as_str(), b["id"].as_u64()))
    });
    ShopData { customers, orders, lines, products }
}

struct Shop {
    data: ShopData,
    token: String,
}

/// Query parameters of the list endpoints.
#[derive(Deserialize)]
#[serde(crate = "burler::serde")]
struct ListParams {
    cursor: Option<String>,
    limit: Option<usize>,
    updated_since: Option<String>,
}

/// The API's routes over `data`, requiring `Authorization: Bearer <token>`.
pub fn router(data: ShopData, token: &str) -> Router {
    let shop = Arc::new(Shop { data, token: token.to_owned() });
    Router::new()
        .route(
            "/v1/customers",
            get(|s: State<Arc<Shop>>, h: HeaderMap, q: Query<ListParams>| {
                list(s, h, q, |d| &d.customers)
            }),
        )
        .route(
            "/v1/products",
            get(|s: State<Arc<Shop>>, h: HeaderMap, q: Query<ListParams>| {
                list(s, h, q, |d| &d.products)
            }),
        )
        .route(
            "/v1/orders",
            get(|s: State<Arc<Shop>>, h: HeaderMap, q: Query<ListParams>| {
                list(s, h, q, |d| &d.orders)
            }),
        )
        .route("/v1/orders/{id}", get(order))
        .route("/v1/orders/{id}/lines", get(order_lines))
        .with_state(shop)
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({"error": "missing or invalid bearer token"})))
        .into_response()
}

fn authorized(shop: &Shop, headers: &HeaderMap) -> bool {
    let expected = format!("Bearer {}", shop.token);
    headers.get("authorization").is_some_and(|value| value.as_bytes() == expected.as_bytes())
}

/// One page of a list: records after `cursor` (an opaque offset), optionally only those
/// updated at or after `updated_since`.
async fn list(
    State(shop): State<Arc<Shop>>,
    headers: HeaderMap,
    Query(params): Query<ListParams>,
    pick: fn(&ShopData) -> &Vec<Value>,
) -> Response {
    if !authorized(&shop, &headers) {
        return unauthorized();
    }
    let records: Vec<&Value> = pick(&shop.data)
        .iter()
        .filter(|r| {
            params
                .updated_since
                .as_deref()
                .is_none_or(|since| r["updated_at"].as_str().is_some_and(|u| u >= since))
        })
        .collect();
    let offset = match params.cursor.as_deref().map(decode_cursor) {
        None => 0,
        Some(Some(offset)) => offset,
        Some(None) => {
            return (StatusCode::BAD_REQUEST, Json(json!({"error": "bad cursor"}))).into_response();
        }
    };
    let limit = params.limit.unwrap_or(20).clamp(1, MAX_LIMIT);
    let page: Vec<&Value> = records.iter().skip(offset).take(limit).copied().collect();
    let end = offset + page.len();
    let next = (end < records.len()).then(|| format!("c{end}"));
    Json(json!({"data": page, "meta": {"next_cursor": next, "total": records.len()}}))
        .into_response()
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    cursor.strip_prefix('c')?.parse().ok()
}

async fn order(State(shop): State<Arc<Shop>>, headers: HeaderMap, Path(id): Path<u64>) -> Response {
    if !authorized(&shop, &headers) {
        return unauthorized();
    }
    match shop.data.orders.iter().find(|o| o["id"].as_u64() == Some(id)) {
        Some(order) => Json(order.clone()).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": format!("no order {id}")})))
            .into_response(),
    }
}

/// The lines of one order (one page: an order has a few).
async fn order_lines(
    State(shop): State<Arc<Shop>>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> Response {
    if !authorized(&shop, &headers) {
        return unauthorized();
    }
    let lines: Vec<&Value> =
        shop.data.lines.iter().filter(|l| l["order_id"].as_u64() == Some(id)).collect();
    if lines.is_empty() {
        return (StatusCode::NOT_FOUND, Json(json!({"error": format!("no order {id}")})))
            .into_response();
    }
    Json(json!({"data": lines, "meta": {"next_cursor": null}})).into_response()
}

/// Starts the API on 127.0.0.1 (a free port) on a background thread; returns its base URL
/// (`http://127.0.0.1:PORT/v1`). The server lives as long as the process.
pub fn spawn(token: &str) -> std::io::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let base_url = format!("http://{}/v1", listener.local_addr()?);
    let router = router(generate(), token);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    std::thread::Builder::new().name("shop-fixture".into()).spawn(move || {
        runtime.block_on(async move {
            match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => {
                    if let Err(err) = axum::serve(listener, router).await {
                        eprintln!("shop fixture stopped: {err}");
                    }
                }
                Err(err) => eprintln!("shop fixture cannot listen: {err}"),
            }
        });
    })?;
    Ok(base_url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burler::futures::TryStreamExt;
    use burler_http::paginate::Cursor;
    use burler_http::{BearerToken, HttpClient};

    fn client(base: &str, token: &str) -> HttpClient {
        HttpClient::builder(base)
            .unwrap()
            .auth(BearerToken::new(token))
            .without_metrics()
            .build()
            .unwrap()
    }

    async fn all(client: &HttpClient, path: &str) -> Vec<Value> {
        client
            .get(path)
            .query(&[("limit", "15")])
            .paginate(Cursor::new("cursor", "meta.next_cursor"))
            .records_at("data")
            .records()
            .try_collect()
            .await
            .unwrap()
    }

    #[test]
    fn generation_is_deterministic_and_orders_are_sorted() {
        let (a, b) = (generate(), generate());
        assert_eq!(a.orders, b.orders);
        assert_eq!(
            (a.customers.len(), a.orders.len(), a.products.len()),
            (CUSTOMERS, ORDERS, PRODUCTS)
        );
        assert!(
            a.orders.windows(2).all(|w| w[0]["updated_at"].as_str() <= w[1]["updated_at"].as_str())
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn cursor_pages_cover_every_record_and_filter_by_update() {
        let base = spawn("tok").unwrap();
        let client = client(&base, "tok");
        assert_eq!(all(&client, "customers").await.len(), CUSTOMERS);
        assert_eq!(all(&client, "products").await.len(), PRODUCTS);
        let orders = all(&client, "orders").await;
        assert_eq!(orders.len(), ORDERS);
        let since = orders[100]["updated_at"].as_str().unwrap().to_owned();
        let recent = all(&client, &format!("orders?updated_since={since}")).await;
        assert!(recent.len() >= 20 && recent.len() < ORDERS, "{}", recent.len());
        let one: Value = client.get("orders/7").json().await.unwrap();
        assert_eq!(one["id"], 7);
        let lines = all(&client, "orders/7/lines").await;
        assert_eq!(lines.len() as u64, one["line_count"].as_u64().unwrap());
        assert!(lines.iter().all(|l| l["order_id"] == 7));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn wrong_token_is_401() {
        let base = spawn("tok").unwrap();
        let err = client(&base, "nope").get("customers").send().await.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    }
}
