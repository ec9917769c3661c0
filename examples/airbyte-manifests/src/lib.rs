//! Local servers that answer as the public APIs of the Airbyte manifests in this directory do:
//! the same paths, parameters, authentication and response shapes, with generated data. Used by
//! the tests to run the manifests offline.

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Duration, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Serves `router` on 127.0.0.1 (a free port) on a background thread; returns `http://127.0.0.1:PORT`.
pub fn spawn(router: Router) -> std::io::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let url = format!("http://{}", listener.local_addr()?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("api-fixture".into())
        .spawn(move || {
            runtime.block_on(async move {
                if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
                    let _ = axum::serve(listener, router).await;
                }
            });
        })?;
    Ok(url)
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": status.as_u16(), "message": message}})),
    )
        .into_response()
}

/// NASA's Astronomy Picture of the Day: `GET /planetary/apod?api_key=&start_date=[&end_date=]`
/// returns every day's entry from `start_date` to `end_date` (default today), oldest first.
pub mod nasa {
    use super::*;

    /// One day's entry.
    pub fn entry(date: NaiveDate) -> Value {
        json!({
            "date": date.format("%Y-%m-%d").to_string(),
            "title": format!("Picture of {date}"),
            "explanation": format!("What the sky showed on {date}."),
            "media_type": "image",
            "service_version": "v1",
            "url": format!("https://apod.nasa.gov/apod/image/{}.jpg", date.format("%y%m%d")),
        })
    }

    /// The API, accepting `api_key`.
    pub fn router(api_key: &str) -> Router {
        let key = api_key.to_owned();
        Router::new().route(
            "/planetary/apod",
            get(move |Query(q): Query<HashMap<String, String>>| {
                let key = key.clone();
                async move { apod(&key, &q) }
            }),
        )
    }

    fn apod(key: &str, q: &HashMap<String, String>) -> Response {
        if q.get("api_key").map(String::as_str) != Some(key) {
            return error(StatusCode::FORBIDDEN, "API_KEY_INVALID");
        }
        let day = |k: &str| {
            q.get(k)
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        };
        let today = Utc::now().date_naive();
        let (Some(start), end) = (day("start_date"), day("end_date").unwrap_or(today)) else {
            return Json(entry(today)).into_response();
        };
        if start > today {
            return error(
                StatusCode::BAD_REQUEST,
                "Date must be between Jun 16, 1995 and today",
            );
        }
        let days = (end.min(today) - start).num_days();
        Json(
            (0..=days)
                .map(|i| entry(start + Duration::days(i)))
                .collect::<Vec<_>>(),
        )
        .into_response()
    }
}

/// apilayer's exchange rates: `GET /exchangerates_data/latest` with header `apikey`, today's
/// rates against `base` (default EUR).
pub mod exchange_rates {
    use super::*;

    /// The API, accepting `api_key`.
    pub fn router(api_key: &str) -> Router {
        let key = api_key.to_owned();
        Router::new().route(
            "/exchangerates_data/latest",
            get(
                move |headers: HeaderMap, Query(q): Query<HashMap<String, String>>| {
                    let key = key.clone();
                    async move {
                        if headers.get("apikey").and_then(|v| v.to_str().ok()) != Some(key.as_str())
                        {
                            return (
                                StatusCode::UNAUTHORIZED,
                                Json(json!({"message": "No API key found in request"})),
                            )
                                .into_response();
                        }
                        let now = Utc::now();
                        let base = q.get("base").cloned().unwrap_or_else(|| "EUR".into());
                        Json(
                            json!({"success": true, "timestamp": now.timestamp(), "base": base,
                        "date": now.format("%Y-%m-%d").to_string(),
                        "rates": {"USD": 1.0841, "GBP": 0.8532, "JPY": 162.37, "CHF": 0.9512}}),
                        )
                        .into_response()
                    }
                },
            ),
        )
    }
}

/// The SpaceX API v4: lists at `/v4/{resource}`, single objects at `/v4/company`,
/// `/v4/roadster` and `/v4/launches/{id|latest|upcoming|past}`.
pub mod spacex {
    use super::*;

    /// The resources served as lists, with how many items each has.
    pub const LISTS: [(&str, usize); 10] = [
        ("capsules", 3),
        ("crew", 4),
        ("cores", 2),
        ("dragons", 2),
        ("landpads", 3),
        ("payloads", 5),
        ("history", 2),
        ("rockets", 4),
        ("ships", 3),
        ("starlink", 6),
    ];

    fn item(resource: &str, i: usize) -> Value {
        json!({"id": format!("5e9d0d95eda699{resource:.3}{i:04}"), "name": format!("{resource} {i}"), "status": "active"})
    }

    async fn list(Path(resource): Path<String>) -> Response {
        match LISTS.iter().find(|(r, _)| *r == resource) {
            Some((r, n)) => Json((1..=*n).map(|i| item(r, i)).collect::<Vec<_>>()).into_response(),
            None => match resource.as_str() {
                "company" => Json(
                    json!({"id": "5eb75edc42fea42237d7f3ed", "name": "SpaceX", "founded": 2002}),
                )
                .into_response(),
                "roadster" => Json(
                    json!({"id": "5eb75f0842fea42237d7f3f4", "name": "Elon Musk's Tesla Roadster"}),
                )
                .into_response(),
                _ => error(StatusCode::NOT_FOUND, "Not Found"),
            },
        }
    }

    async fn launch(Path(which): Path<String>) -> Response {
        match which.as_str() {
            "latest" => Json(
                json!({"id": "62dd70d5202306255024d139", "name": "Crew-5", "flight_number": 187}),
            )
            .into_response(),
            "past" | "upcoming" => {
                Json(vec![json!({"id": format!("{which}-1"), "name": which})]).into_response()
            }
            id => Json(json!({"id": id, "name": format!("launch {id}")})).into_response(),
        }
    }

    /// The API (no authentication).
    pub fn router() -> Router {
        Router::new()
            .route("/v4/launches/{which}", get(launch))
            .route("/v4/{resource}", get(list))
    }
}

/// PokeAPI: `GET /api/v2/pokemon/{name}`.
pub mod pokeapi {
    use super::*;

    #[derive(Deserialize)]
    struct Name {
        name: String,
    }

    /// The API (no authentication); knows a few Pokémon.
    pub fn router() -> Router {
        Router::new().route(
            "/api/v2/pokemon/{name}",
            get(|Path(Name { name }): Path<Name>| async move {
                let known = ["bulbasaur", "ivysaur", "pikachu", "ditto"];
                let ids = [1, 2, 25, 132];
                match known.iter().position(|k| *k == name) {
                    Some(i) => Json(json!({"id": ids[i], "name": name, "base_experience": 64,
                        "height": 7, "weight": 69, "is_default": true, "order": i + 1,
                        "abilities": [{"ability": {"name": "static", "url": "https://pokeapi.co/api/v2/ability/9/"}, "is_hidden": false, "slot": 1}]}))
                    .into_response(),
                    None => (StatusCode::NOT_FOUND, "Not Found").into_response(),
                }
            }),
        )
    }
}
