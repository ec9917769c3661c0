//! Pagination as reusable strategies, driven into an async stream of pages or records.
//!
//! ```no_run
//! use burler_http::{HttpClient, paginate::Cursor};
//! use futures::TryStreamExt;
//!
//! # async fn run(client: HttpClient) -> Result<(), burler_http::HttpError> {
//! let orders: Vec<serde_json::Value> = client
//!     .get("orders")
//!     .query(&[("limit", "100")])
//!     .paginate(Cursor::new("cursor", "meta.next_cursor"))
//!     .records_at("data")
//!     .records()
//!     .try_collect()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! The stream ends on an empty page or when the strategy finds no next page. A page URL
//! seen before (a repeated cursor or link), or a page whose records repeat the previous
//! page's (an API ignoring the page parameter), ends it with [`HttpError::PaginationLoop`].

pub mod json_path;
mod strategies;

pub use strategies::{
    Cursor, LinkHeader, NextUrl, OffsetLimit, PageNumber, next_link, set_query_param,
};

use crate::client::HttpClient;
use crate::error::{HttpError, redact_url};
use crate::message::Request;
use futures::{Stream, StreamExt};
use reqwest::header::HeaderMap;
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashSet;

/// Finds the next page from the current one.
pub trait Paginator: Send + Sync {
    /// The first page's URL (e.g. adds `page=1`); by default the request URL unchanged.
    fn first(&self, url: Url) -> Url {
        url
    }

    /// The next page, or `None` when `page` was the last.
    fn next(&self, page: &Page) -> Result<Option<NextPage>, HttpError>;
}

/// Where the next page is: its URL and, for cursor strategies, the cursor (for messages).
#[derive(Debug, Clone)]
pub struct NextPage {
    url: Url,
    cursor: Option<String>,
}

impl NextPage {
    /// The next page is at `url`.
    pub fn new(url: Url) -> Self {
        Self { url, cursor: None }
    }

    /// Records the cursor that led to this page.
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }
}

/// One fetched page: its URL, headers, JSON body and the records extracted from it.
#[derive(Debug, Clone)]
pub struct Page {
    number: usize,
    url: Url,
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    records: Vec<Value>,
}

impl Page {
    /// 1 for the first page.
    pub fn number(&self) -> usize {
        self.number
    }

    /// The URL the page was fetched from.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The response status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The JSON body without the records (they were moved out).
    pub fn body(&self) -> &Value {
        &self.body
    }

    /// The records of this page.
    pub fn records(&self) -> &[Value] {
        &self.records
    }

    /// Takes the records.
    pub fn into_records(self) -> Vec<Value> {
        self.records
    }
}

/// A paginated request, ready to become a stream of [`Page`]s or records.
#[must_use]
pub struct Paged {
    client: HttpClient,
    request: Result<Request, HttpError>,
    paginator: Box<dyn Paginator>,
    records_path: String,
}

impl std::fmt::Debug for Paged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paged")
            .field("records_path", &self.records_path)
            .finish_non_exhaustive()
    }
}

impl Paged {
    pub(crate) fn new(
        client: HttpClient,
        request: Result<Request, HttpError>,
        paginator: Box<dyn Paginator>,
    ) -> Self {
        Self {
            client,
            request,
            paginator,
            records_path: String::new(),
        }
    }

    /// Where the records are in the body (`data`, `result.items`); default: the body is the list.
    pub fn records_at(mut self, path: &str) -> Self {
        self.records_path = path.to_owned();
        self
    }

    /// The pages, fetched one at a time as the stream is polled.
    pub fn pages(self) -> impl Stream<Item = Result<Page, HttpError>> + Send {
        let state = match self.request {
            Ok(template) => {
                let first = self.paginator.first(template.url().clone());
                Some(Driver {
                    client: self.client,
                    template,
                    paginator: self.paginator,
                    records_path: self.records_path,
                    next: Some(NextPage::new(first)),
                    seen: HashSet::new(),
                    fetched: 0,
                    previous_records: None,
                })
            }
            Err(err) => return futures::stream::once(async { Err(err) }).left_stream(),
        };
        futures::stream::unfold(state, |state| async move {
            let mut driver = state?;
            let result = driver.fetch_next().await.transpose()?;
            let keep_going = result.is_ok();
            Some((result, keep_going.then_some(driver)))
        })
        .right_stream()
    }

    /// The records of every page, decoded as `T`.
    pub fn records<T: DeserializeOwned + Send + 'static>(
        self,
    ) -> impl Stream<Item = Result<T, HttpError>> + Send {
        self.pages().flat_map(|page| {
            let items: Vec<Result<T, HttpError>> = match page {
                Ok(page) => decode_records(page),
                Err(err) => vec![Err(err)],
            };
            futures::stream::iter(items)
        })
    }
}

fn decode_records<T: DeserializeOwned>(page: Page) -> Vec<Result<T, HttpError>> {
    let url = redact_url(&page.url);
    page.records
        .into_iter()
        .map(|record| {
            serde_json::from_value(record).map_err(|err| HttpError::Decode {
                method: reqwest::Method::GET,
                url: url.clone(),
                message: format!("record does not match the expected type: {err}"),
                body_excerpt: String::new(),
            })
        })
        .collect()
}

struct Driver {
    client: HttpClient,
    template: Request,
    paginator: Box<dyn Paginator>,
    records_path: String,
    next: Option<NextPage>,
    seen: HashSet<String>,
    fetched: usize,
    previous_records: Option<u64>,
}

impl Driver {
    async fn fetch_next(&mut self) -> Result<Option<Page>, HttpError> {
        let Some(next) = self.next.take() else {
            return Ok(None);
        };
        if !self.seen.insert(next.url.to_string()) {
            return Err(HttpError::PaginationLoop {
                url: redact_url(&next.url),
                cursor: next.cursor,
            });
        }
        let mut request = self.template.try_clone().ok_or_else(|| {
            HttpError::config("a paginated request needs a body that can be sent again")
        })?;
        *request.url_mut() = next.url;
        let response = self.client.execute(request).await?.error_for_status()?;
        let mut body: Value = response.json()?;
        let records = match json_path::take(&mut body, &self.records_path) {
            Value::Array(records) => records,
            Value::Null => Vec::new(),
            other => {
                return Err(response.decode_error(format!(
                    "expected a list of records at {:?}, found {}",
                    self.records_path,
                    kind_of(&other)
                )));
            }
        };
        let cursor = next.cursor;
        if !records.is_empty() {
            let fingerprint = fingerprint(&records);
            if self.previous_records.replace(fingerprint) == Some(fingerprint) {
                return Err(HttpError::PaginationLoop {
                    url: redact_url(response.url()),
                    cursor,
                });
            }
        }
        self.fetched += 1;
        let page = Page {
            number: self.fetched,
            url: response.url().clone(),
            status: response.status(),
            headers: response.headers().clone(),
            body,
            records,
        };
        if !page.records.is_empty() {
            self.next = self.paginator.next(&page)?;
        }
        Ok(Some(page))
    }
}

/// A hash of a page's records, to notice an API that serves the same page again.
fn fingerprint(records: &[Value]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for record in records {
        record.to_string().hash(&mut hasher);
    }
    hasher.finish()
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
