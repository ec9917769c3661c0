//! GraphQL: queries, errors, connection pagination.

use crate::support::*;
use axum::routing::post;
use axum::{Json, Router};
use futures::TryStreamExt;
use serde_json::{Value, json};

/// Orders 0..5 in pages of 2; `broken` fields give GraphQL errors; cursor "loop" repeats.
fn api() -> Router {
    Router::new().route(
        "/graphql",
        post(|Json(body): Json<Value>| async move {
            let query = body["query"].as_str().unwrap_or("");
            if query.contains("broken") {
                return Json(json!({"data": null, "errors": [
                    {"message": "Field 'broken' doesn't exist", "path": ["orders", "broken"]},
                    {"message": "Access denied"}
                ]}));
            }
            let after: usize = body["variables"]["after"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
            if query.contains("stuck") {
                return Json(json!({"data": {"orders": {"nodes": [{"id": 1}], "pageInfo": {"hasNextPage": true, "endCursor": "7"}}}}));
            }
            let nodes: Vec<Value> = (after..(after + 2).min(5)).map(|id| json!({"node": {"id": id}})).collect();
            let end = after + nodes.len();
            Json(json!({"data": {"shop": {"orders": {"edges": nodes, "pageInfo": {"hasNextPage": end < 5, "endCursor": end.to_string()}}}}}))
        }),
    )
}

#[tokio::test]
async fn connection_pages_follow_end_cursor() {
    let base = serve(api()).await;
    #[derive(serde::Deserialize)]
    struct Order {
        id: u64,
    }
    let orders: Vec<Order> = client(&base)
        .graphql("graphql")
        .paginate(
            "query($after: String) { shop { orders(after: $after) { edges { node { id } } } } }",
            json!({}),
            "shop.orders",
        )
        .nodes()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        orders.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4]
    );
}

#[tokio::test]
async fn single_query_returns_data() {
    let base = serve(api()).await;
    let data: Value = client(&base)
        .graphql("graphql")
        .query("{ shop { orders { id } } }", json!({"after": "3"}))
        .await
        .unwrap();
    assert_eq!(data["shop"]["orders"]["edges"][1]["node"]["id"], 4);
}

#[tokio::test]
async fn errors_array_becomes_one_typed_error() {
    let base = serve(api()).await;
    let err = client(&base)
        .graphql("graphql")
        .query::<Value>("{ orders { broken } }", json!({}))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "POST {base}/graphql: GraphQL errors: Field 'broken' doesn't exist (at orders.broken); Access denied"
        )
    );
}

/// The error that ends paginating `connection` with `query`, and the server's base URL.
async fn pagination_error(query: &str, connection: &str) -> (String, String) {
    let base = serve(api()).await;
    let err = client(&base)
        .graphql("graphql")
        .paginate(query, json!({}), connection)
        .nodes::<Value>()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    (err.to_string(), base)
}

#[tokio::test]
async fn repeated_end_cursor_is_a_loop_error() {
    let (err, base) = pagination_error(
        "query stuck($after: String) { orders { nodes { id } } }",
        "orders",
    )
    .await;
    assert_eq!(
        err,
        format!("pagination loop at {base}/graphql: page already fetched (cursor \"7\")")
    );
}

#[tokio::test]
async fn errors_on_a_page_end_the_connection_with_the_typed_error() {
    let (err, base) = pagination_error("query { orders { broken } }", "orders").await;
    assert_eq!(
        err,
        format!(
            "POST {base}/graphql: GraphQL errors: Field 'broken' doesn't exist (at orders.broken); Access denied"
        )
    );
}

#[tokio::test]
async fn a_missing_connection_is_a_decode_error_naming_it() {
    let (err, base) =
        pagination_error("query($after: String) { shop { orders { id } } }", "nope").await;
    assert_eq!(
        err,
        format!("POST {base}/graphql: invalid response body: no connection at data.nope")
    );
}

#[tokio::test]
async fn connection_pages_resume_at_the_stored_cursor() {
    let base = serve(api()).await;
    let client = client(&base);
    let query =
        "query($after: String) { shop { orders(after: $after) { edges { node { id } } } } }";
    let pages = |point: Option<&Value>| {
        client
            .graphql("graphql")
            .paginate(query, json!({}), "shop.orders")
            .resume_at(point)
            .pages::<Value>()
    };
    let whole: Vec<_> = pages(None).try_collect().await.unwrap();
    let points: Vec<Option<Value>> = whole.iter().map(|p| p.resume_point()).collect();
    assert_eq!(
        points,
        [
            Some(json!({"cursor": "2"})),
            Some(json!({"cursor": "4"})),
            None
        ]
    );
    let rest: Vec<_> = pages(points[0].as_ref()).try_collect().await.unwrap();
    let ids: Vec<u64> = rest
        .iter()
        .flat_map(|p| p.records().iter().map(|r| r["id"].as_u64().unwrap()))
        .collect();
    assert_eq!(ids, [2, 3, 4], "the query sent with the stored cursor");
    assert_eq!(rest[0].resume_point(), points[1]);
}
