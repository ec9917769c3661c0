//! Declared endpoints: typed methods through the client's layers.

use crate::support::*;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Deserialize, PartialEq)]
pub struct Order {
    id: String,
    status: String,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Note {
    text: String,
}

burler_http::endpoints! {
    /// A test shop.
    pub struct ShopApi {
        get_order: GET "/orders/{id}" (id: String) -> Order;
        list_orders: GET "/orders" query(status: String, limit: Option<u32>) -> Vec<Order>;
        create_note: POST "/orders/{id}/notes" (id: u64) body(Note) -> Note;
        replace_note: PUT "/notes/{id}" (id: u64) body(Note) -> Note;
        patch_note: PATCH "/notes/{id}" (id: u64) body(Note) -> Note;
        delete_note: DELETE "/notes/{id}" (id: u64) -> ();
    }
}

fn shop(flaky: Counter) -> Router {
    Router::new()
        .route(
            "/orders/{id}",
            get(move |Path(id): Path<String>| {
                let attempt = flaky.hit();
                async move {
                    if attempt == 1 {
                        return Err(StatusCode::SERVICE_UNAVAILABLE);
                    }
                    Ok(Json(serde_json::json!({"id": id, "status": "open"})))
                }
            }),
        )
        .route(
            "/orders",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                let mut keys: Vec<_> = q.keys().cloned().collect();
                keys.sort();
                Json(serde_json::json!([{"id": keys.join(","), "status": q["status"]}]))
            }),
        )
        .route(
            "/orders/{id}/notes",
            axum::routing::post(|Path(id): Path<u64>, Json(note): Json<Note>| async move {
                Json(Note {
                    text: format!("{id}: {}", note.text),
                })
            }),
        )
        .route(
            "/notes/{id}",
            axum::routing::put(|Json(note): Json<Note>| async move {
                Json(Note {
                    text: format!("put {}", note.text),
                })
            })
            .patch(|Json(note): Json<Note>| async move {
                Json(Note {
                    text: format!("patch {}", note.text),
                })
            })
            .delete(|| async { StatusCode::NO_CONTENT }),
        )
}

#[tokio::test]
async fn typed_methods_cover_verbs_params_and_bodies() {
    let flaky = Counter::default();
    let base = serve(shop(flaky.clone())).await;
    let api = ShopApi::new(client(&base));
    let order = api.get_order("a/b c".into()).await.unwrap();
    assert_eq!(
        order,
        Order {
            id: "a/b c".into(),
            status: "open".into()
        }
    );
    assert_eq!(
        flaky.get(),
        2,
        "the 503 was retried by the client's retry layer"
    );
    let listed = api.list_orders("open".into(), None).await.unwrap();
    assert_eq!(
        listed,
        vec![Order {
            id: "status".into(),
            status: "open".into()
        }]
    );
    let listed = api.list_orders("open".into(), Some(5)).await.unwrap();
    assert_eq!(listed[0].id, "limit,status");
    let note = Note { text: "hi".into() };
    assert_eq!(api.create_note(9, &note).await.unwrap().text, "9: hi");
    assert_eq!(api.replace_note(1, &note).await.unwrap().text, "put hi");
    assert_eq!(api.patch_note(1, &note).await.unwrap().text, "patch hi");
    api.delete_note(1).await.unwrap();
}

#[tokio::test]
async fn endpoint_errors_name_the_url() {
    let base = serve(Router::new()).await;
    let api = ShopApi::new(client(&base));
    let err = api.delete_note(3).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("DELETE {base}/notes/3: HTTP 404 Not Found")
    );
}
