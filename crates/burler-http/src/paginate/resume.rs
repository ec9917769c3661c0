//! Where a paginated read resumes: the position of the page after a fetched one, as the JSON a
//! sync checkpoints in its state ([`Page::resume_point`](super::Page::resume_point)), and the
//! first request of a read started from it ([`Paged::resume_at`](super::Paged::resume_at)).
//!
//! | strategy | resume point | a resumed read starts with |
//! |---|---|---|
//! | [`PageNumber`](super::PageNumber), [`OffsetLimit`](super::OffsetLimit) | `{"page_index": 3}` (0-based, the next page) | the URL of that page, computed from the first page's |
//! | [`Cursor`](super::Cursor), GraphQL connections | `{"cursor": "c2"}` | the first request with that cursor (query parameter, or the cursor variable) |
//! | [`LinkHeader`](super::LinkHeader), [`NextUrl`](super::NextUrl), an author's [`Paginator`](super::Paginator) | `{"url": "…"}`, with `"body"` (JSON) or `"body_base64"` for a POST paged by its body | that URL and body |
//!
//! Credentials never reach the state: a stored URL leaves out the query parameters the client's
//! middleware added or changed (an API key in the query), the request's own secret-named
//! parameters (`api_key`, …: see [`is_secret_param`](crate::error::is_secret_param)) where they
//! keep the first page's value, and any user name and password; a resumed read puts the
//! request's own back, and the middleware adds its own again. A resumed read starts afresh:
//! loop detection knows only the pages of this run. An offset or page index means the same rows
//! only while the data does not move, as for any read paged that way.

use std::collections::BTreeSet;

use base64::Engine;
use reqwest::Url;
use serde_json::{Map, Value, json};

use super::NextPage;
use crate::error::{HttpError, is_secret_param};

/// The key of a page index in a resume point.
const PAGE_INDEX: &str = "page_index";

/// The resume point of the page at `index` (0-based) of a predictable strategy.
pub(crate) fn index_point(index: u64) -> Value {
    json!({ PAGE_INDEX: index })
}

/// The page index a resume point of a predictable strategy holds.
pub(crate) fn read_index(first: &Url, point: &Value) -> Result<u64, HttpError> {
    point
        .get(PAGE_INDEX)
        .and_then(Value::as_u64)
        .ok_or_else(|| {
            HttpError::resume_point(
                first,
                point,
                "page numbers and offsets resume at {\"page_index\": n}",
            )
        })
}

/// The resume point of a cursor strategy: the cursor of the next page.
pub fn cursor_point(next: &NextPage) -> Value {
    json!({ "cursor": next.cursor })
}

/// The cursor a resume point of a cursor strategy holds.
pub fn read_cursor<'a>(first: &Url, point: &'a Value) -> Result<&'a str, HttpError> {
    point.get("cursor").and_then(Value::as_str).ok_or_else(|| {
        HttpError::resume_point(first, point, "a cursor resumes at {\"cursor\": \"…\"}")
    })
}

/// The default resume point: the next request's URL, its body (JSON as a value, other bytes
/// as base64) and its cursor, when it has them.
pub fn request_point(next: &NextPage) -> Value {
    let mut point = Map::new();
    point.insert("url".into(), Value::String(next.url.to_string()));
    if let Some(cursor) = &next.cursor {
        point.insert("cursor".into(), Value::String(cursor.clone()));
    }
    if let Some(body) = &next.body {
        match serde_json::from_slice::<Value>(body) {
            Ok(json) => point.insert("body".into(), json),
            Err(_) => point.insert(
                "body_base64".into(),
                Value::String(base64::engine::general_purpose::STANDARD.encode(body)),
            ),
        };
    }
    Value::Object(point)
}

/// The next page a default resume point ([`request_point`]) names.
pub fn read_request(first: &Url, point: &Value) -> Result<NextPage, HttpError> {
    let bad = |message: &str| HttpError::resume_point(first, point, message);
    let text = point
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("expected {\"url\": \"…\"}"))?;
    let url = Url::parse(text).map_err(|e| bad(&format!("the url is not a URL: {e}")))?;
    let mut next = NextPage::new(url);
    if let Some(cursor) = point.get("cursor").and_then(Value::as_str) {
        next = next.cursor(cursor);
    }
    if let Some(body) = point.get("body") {
        let bytes = serde_json::to_vec(body).map_err(|e| bad(&e.to_string()))?;
        next = next.body(bytes);
    } else if let Some(encoded) = point.get("body_base64").and_then(Value::as_str) {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| bad(&format!("body_base64 is not base64: {e}")))?;
        next = next.body(bytes);
    }
    Ok(next)
}

/// What a stored URL leaves out: the credentials of the requests of one paginated read.
#[derive(Debug, Clone)]
pub(crate) struct Credentials {
    /// Query parameters the middleware added or changed on some page.
    added: BTreeSet<String>,
    /// The first page's own secret-named query parameters.
    own: Vec<(String, String)>,
    /// The first page's origin, user name and password.
    origin: url::Origin,
    user: (String, Option<String>),
}

impl Credentials {
    /// The credentials of a read whose first page (before any middleware) is `first`.
    pub(crate) fn new(first: &Url) -> Self {
        let own = first
            .query_pairs()
            .filter(|(k, _)| is_secret_param(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Self {
            added: BTreeSet::new(),
            own,
            origin: first.origin(),
            user: (
                first.username().to_owned(),
                first.password().map(str::to_owned),
            ),
        }
    }

    /// Learns the query parameters the middleware set on a request sent for `asked` that was
    /// answered from `answered`.
    pub(crate) fn learn(&mut self, asked: &Url, answered: &Url) {
        if asked.query() == answered.query() {
            return;
        }
        let before: Vec<(String, String)> = pairs(asked);
        for (k, v) in pairs(answered) {
            if !before.iter().any(|(bk, bv)| *bk == k && *bv == v) {
                self.added.insert(k);
            }
        }
    }

    /// `url` without credentials.
    pub(crate) fn strip(&self, url: &Url) -> Url {
        let mut url = url.clone();
        let _ = url.set_username("");
        let _ = url.set_password(None);
        if url.query().is_none() {
            return url;
        }
        let kept: Vec<(String, String)> = pairs(&url)
            .into_iter()
            .filter(|(k, v)| {
                !self.added.contains(k) && !self.own.iter().any(|(ok, ov)| ok == k && ov == v)
            })
            .collect();
        set_pairs(&mut url, kept);
        url
    }

    /// Puts the first page's own credentials back on `url` (a resumed read's first request).
    pub(crate) fn restore(&self, url: &mut Url) {
        let mut all = pairs(url);
        let missing: Vec<(String, String)> = self
            .own
            .iter()
            .filter(|(k, _)| !all.iter().any(|(ak, _)| ak == k))
            .cloned()
            .collect();
        if !missing.is_empty() {
            all.extend(missing);
            set_pairs(url, all);
        }
        if url.origin() == self.origin && url.username().is_empty() {
            let _ = url.set_username(&self.user.0);
            let _ = url.set_password(self.user.1.as_deref());
        }
    }
}

fn pairs(url: &Url) -> Vec<(String, String)> {
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn set_pairs(url: &mut Url, pairs: Vec<(String, String)>) {
    if pairs.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn a_stored_url_leaves_out_the_middlewares_and_the_requests_own_credentials() {
        let first = url("https://u:pw@api.test/items?limit=5&api_key=mine");
        let mut credentials = Credentials::new(&first);
        credentials.learn(
            &first,
            &url("https://api.test/items?limit=5&api_key=mine&sig=s1"),
        );
        let next = url("https://u:pw@api.test/items?limit=5&api_key=mine&sig=s1&page_token=t2");
        let stored = credentials.strip(&next);
        assert_eq!(
            stored.as_str(),
            "https://api.test/items?limit=5&page_token=t2"
        );
        let mut resumed = stored.clone();
        credentials.restore(&mut resumed);
        assert_eq!(
            resumed.as_str(),
            "https://u:pw@api.test/items?limit=5&page_token=t2&api_key=mine",
            "the request's own key back; the middleware adds its own"
        );
        let elsewhere = credentials.strip(&url("https://cdn.test/x?api_key=other"));
        assert_eq!(
            elsewhere.query(),
            Some("api_key=other"),
            "another value is no credential of this read"
        );
    }

    #[test]
    fn a_request_point_keeps_url_cursor_and_body() {
        let first = url("https://api.test/graphql");
        let next = NextPage::new(first.clone())
            .cursor("c2")
            .body(r#"{"after":"c2"}"#);
        let point = request_point(&next);
        assert_eq!(
            point,
            json!({"url": "https://api.test/graphql", "cursor": "c2", "body": {"after": "c2"}})
        );
        let back = read_request(&first, &point).unwrap();
        assert_eq!(back.key(), next.key());
        let binary = NextPage::new(first.clone()).body(vec![0xff, 0x00]);
        let back = read_request(&first, &request_point(&binary)).unwrap();
        assert_eq!(back.body.as_deref(), Some(&[0xff, 0x00][..]));
        let e = read_request(&first, &json!({"page_index": 2}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("https://api.test/graphql") && e.contains("page_index"),
            "{e}"
        );
        assert!(read_index(&first, &json!({"url": "x"})).is_err());
        assert_eq!(read_index(&first, &index_point(4)).unwrap(), 4);
    }
}
