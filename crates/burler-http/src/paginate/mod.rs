//! Pagination as reusable strategies, driven into an async stream of pages or records, with the
//! next pages fetched while the current one is being written.
//!
//! ```no_run
//! use burler_http::{HttpClient, paginate::{Cursor, PageNumber}};
//! use futures::TryStreamExt;
//!
//! #[derive(serde::Deserialize)]
//! struct Order { id: u64 }
//!
//! # async fn run(client: HttpClient) -> Result<(), burler_http::HttpError> {
//! // The next cursor is read while the page's records are decoded; the next page is requested as
//! // soon as it is known (one page ahead by default).
//! let orders: Vec<Order> = client
//!     .get("orders")
//!     .query(&[("limit", "100")])
//!     .paginate(Cursor::new("cursor", "meta.next_cursor"))
//!     .records_at("data")
//!     .records()
//!     .try_collect()
//!     .await?;
//! // Page numbers are known in advance: four requests at once, records still in page order.
//! let events: Vec<serde_json::Value> = client
//!     .get("events")
//!     .paginate(PageNumber::new("page").page_size("per_page", 1000))
//!     .records_at("data")
//!     .in_flight(4)
//!     .records()
//!     .try_collect()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! Each page's body is decoded in one pass by [`crate::decode::PageShape`]: the records straight
//! into the record type, and the values the strategy reads (a cursor, a next link, a total) on the
//! way. Pages are fetched and decoded off the caller's task, so the next request is in flight
//! while the caller writes the current page's records; [`Paged::prefetch`] bounds how far ahead
//! it runs, and [`Paged::in_flight`] lets strategies whose page URLs are known in advance
//! ([`PageNumber`], [`OffsetLimit`]) have several requests out at once. Records always reach the
//! caller in page order, and never a page after an error.
//!
//! The stream ends on an empty page, when the strategy finds no next page (a short page, no
//! cursor, the total reached), or at an error. A page URL requested before (a repeated cursor or
//! link), or a page whose bytes are the previous page's (an API ignoring the page parameter), ends
//! it with [`HttpError::PaginationLoop`]. Loops are found by comparing the page's bytes with the
//! previous page's, which stops at the first differing byte: a hash of every page would be a full
//! extra pass over each body.
//!
//! A read can be resumed: each page knows the position of the page after it
//! ([`Page::resume_point`], JSON for a checkpoint in the state), and [`Paged::resume_at`] starts
//! a read there. A FULL_TABLE sync checkpoints it after writing each page's records:
//!
//! ```no_run
//! # use burler_http::{HttpClient, HttpError, paginate::Cursor};
//! # use futures::StreamExt;
//! # async fn run(client: HttpClient, stored: Option<serde_json::Value>) -> Result<(), HttpError> {
//! let paged = client.get("orders").paginate(Cursor::new("cursor", "meta.next_cursor"));
//! let mut pages = std::pin::pin!(paged.records_at("data").resume_at(stored.as_ref()).pages::<serde_json::Value>());
//! while let Some(page) = pages.next().await {
//!     let page = page?;
//!     let resume = page.resume_point(); // None on the last page
//!     // write page.into_records(), then checkpoint `resume` (ctx.checkpoint in a burler tap)
//! }
//! # Ok(()) }
//! ```
//!
//! What a resume point holds for each strategy, and how credentials are kept out of it:
//! [`resume`].

pub mod json_path;
mod pipeline;
pub mod resume;
mod strategies;

pub use pipeline::{PageStream, Records};
pub use strategies::{
    Cursor, LinkHeader, NextUrl, OffsetLimit, PageNumber, next_link, set_query_param,
};

use crate::client::HttpClient;
use crate::decode::{PageShape, Values};
use crate::error::HttpError;
use crate::message::Request;
use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;

/// Finds the next page from the current one.
///
/// A strategy that reads the body names the values it needs in [`body_paths`](Self::body_paths);
/// they are read in the same pass as the records and handed over in [`PageInfo`].
pub trait Paginator: Send + Sync {
    /// The first page's URL (e.g. adds `page=1`); by default the request URL unchanged.
    fn first(&self, url: Url) -> Url {
        url
    }

    /// Dotted paths of the body values [`next`](Self::next) reads (`meta.next_cursor`).
    fn body_paths(&self) -> Vec<String> {
        Vec::new()
    }

    /// The URL of page `index` (0 = the first) computed from the first page's URL alone, for
    /// strategies whose next token is predictable (page numbers, offsets). `Some` lets several
    /// pages be requested at once ([`Paged::in_flight`]); the default `None` means each page
    /// waits for the one before.
    fn page_url(&self, first: &Url, index: u64) -> Option<Url> {
        let _ = (first, index);
        None
    }

    /// How many pages there are in all, when this page says (a total): pages past it are not
    /// requested.
    fn page_count(&self, page: &PageInfo) -> Option<u64> {
        let _ = page;
        None
    }

    /// The next page, or `None` when `page` was the last. An empty page is always the last.
    fn next(&self, page: &PageInfo) -> Result<Option<NextPage>, HttpError>;

    /// The resume point of `next`, the page after a fetched one, for a checkpoint
    /// ([`Page::resume_point`]); its URL comes without credentials. By default the request:
    /// URL, cursor and body ([`resume::request_point`]). Strategies whose pages are known in
    /// advance ([`page_url`](Self::page_url)) are resumed by page index and not asked.
    fn resume_point(&self, next: &NextPage) -> Value {
        resume::request_point(next)
    }

    /// The first page of a read resumed at `point` (what [`resume_point`](Self::resume_point)
    /// stored); `first` is the first page's URL of a read from the start. By default the
    /// request `point` holds ([`resume::read_request`]).
    fn resume_at(&self, first: &Url, point: &Value) -> Result<NextPage, HttpError> {
        resume::read_request(first, point)
    }
}

/// Where the next page is: its URL, for cursor strategies the cursor (for messages and loop
/// detection), and for APIs paged by request body (GraphQL) the body to send.
#[derive(Debug, Clone)]
pub struct NextPage {
    pub(crate) url: Url,
    pub(crate) cursor: Option<String>,
    pub(crate) body: Option<Bytes>,
}

impl NextPage {
    /// The next page is at `url`.
    pub fn new(url: Url) -> Self {
        Self {
            url,
            cursor: None,
            body: None,
        }
    }

    /// Records the cursor that leads to this page.
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// Sends this body instead of the first request's (a POST paged by its body).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// The page's URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The cursor that leads to this page, if the strategy has one.
    pub fn cursor_text(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// The body sent for this page, when it is not the first request's.
    pub fn body_bytes(&self) -> Option<&Bytes> {
        self.body.as_ref()
    }

    /// What identifies the page for loop detection: the URL, and the cursor or body.
    pub(crate) fn key(&self) -> String {
        let mut key = self.url.to_string();
        if let Some(cursor) = &self.cursor {
            key.push('\u{0}');
            key.push_str(cursor);
        } else if let Some(body) = &self.body {
            key.push('\u{0}');
            key.push_str(&String::from_utf8_lossy(body));
        }
        key
    }
}

/// What a strategy sees of a fetched page: number, URL, status, headers, how many records it held
/// and the body values the strategy asked for.
#[derive(Debug, Clone)]
pub struct PageInfo {
    number: u64,
    method: Method,
    url: Url,
    status: StatusCode,
    headers: HeaderMap,
    values: Values,
    /// Where a read resumes after this page (set when the page is handed over).
    resume: Option<Value>,
}

impl PageInfo {
    /// 1 for the first page (see [`Page::number`]).
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The request method.
    pub fn method(&self) -> &Method {
        &self.method
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

    /// How many records the page held.
    pub fn record_count(&self) -> usize {
        self.values.record_count()
    }

    /// A body value the strategy asked for in [`Paginator::body_paths`] (a `null` is `Some`).
    pub fn value(&self, path: &str) -> Option<&Value> {
        self.values.value(path)
    }

    /// A body value as text (strings as is, numbers printed); `None` when absent, null or `""`.
    pub fn text(&self, path: &str) -> Option<String> {
        self.values.text(path)
    }

    /// Whether the body had a non-null value at `path` (one of the strategy's paths).
    pub fn contains(&self, path: &str) -> bool {
        self.values.contains(path)
    }

    /// Where a read resumes to fetch the pages after this one ([`Paged::resume_at`]): JSON to
    /// checkpoint once this page's records are written; `None` when this page is the last.
    pub fn resume_point(&self) -> Option<&Value> {
        self.resume.as_ref()
    }

    /// A decode error for this page's response.
    pub fn decode_error(&self, message: impl Into<String>) -> HttpError {
        HttpError::Decode {
            method: self.method.clone(),
            url: crate::error::redact_url(&self.url),
            message: message.into(),
            body_excerpt: String::new(),
        }
    }
}

/// One fetched page: what the strategy saw, and its records decoded as `T`.
#[derive(Debug, Clone)]
pub struct Page<T = Value> {
    info: PageInfo,
    records: Vec<T>,
}

impl<T> Page<T> {
    /// The page's number, URL, headers and values.
    pub fn info(&self) -> &PageInfo {
        &self.info
    }

    /// 1 for the first page (of the whole read for page numbers and offsets, also when
    /// resumed; of this read for cursors and links).
    pub fn number(&self) -> u64 {
        self.info.number
    }

    /// The URL the page was fetched from.
    pub fn url(&self) -> &Url {
        &self.info.url
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.info.header(name)
    }

    /// Where a read resumes to fetch the pages after this one ([`Paged::resume_at`]): JSON to
    /// checkpoint once this page's records are written; `None` when this page is the last.
    pub fn resume_point(&self) -> Option<Value> {
        self.info.resume.clone()
    }

    /// The records of this page.
    pub fn records(&self) -> &[T] {
        &self.records
    }

    /// Takes the records.
    pub fn into_records(self) -> Vec<T> {
        self.records
    }
}

/// One fetched page whose records are not decoded yet: decode them with a type that borrows
/// from the body ([`RawPage::decode`]) so strings are not copied.
#[derive(Debug, Clone)]
pub struct RawPage {
    info: PageInfo,
    body: Bytes,
    shape: Arc<PageShape>,
}

impl RawPage {
    /// The page's number, URL, headers, record count and values.
    pub fn info(&self) -> &PageInfo {
        &self.info
    }

    /// Where a read resumes after this page (see [`Page::resume_point`]).
    pub fn resume_point(&self) -> Option<Value> {
        self.info.resume.clone()
    }

    /// The response body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The records, decoded as `T`, which may borrow from this page's body.
    pub fn decode<'a, T: Deserialize<'a>>(&'a self) -> Result<Vec<T>, HttpError> {
        self.shape
            .decode(&self.body)
            .map(|decoded| decoded.records)
            .map_err(|err| self.error(&err))
    }

    /// Hands each record to `each` as it is decoded (nothing is collected); stops at the first
    /// error of `each`.
    pub fn for_each<'a, T, E, F>(&'a self, each: F) -> Result<(), crate::decode::EachError<E>>
    where
        T: Deserialize<'a>,
        F: FnMut(T) -> Result<(), E>,
    {
        self.shape.for_each(&self.body, each).map(|_| ())
    }

    /// A decode error naming this page.
    pub fn error(&self, err: &crate::decode::DecodeError) -> HttpError {
        HttpError::Decode {
            method: self.info.method.clone(),
            url: crate::error::redact_url(&self.info.url),
            message: err.to_string(),
            body_excerpt: crate::error::body_excerpt(&self.body),
        }
    }
}

/// A paginated request, ready to become a stream of [`Page`]s, [`RawPage`]s or records.
#[must_use]
pub struct Paged {
    client: HttpClient,
    request: Result<Request, HttpError>,
    paginator: Arc<dyn Paginator>,
    shape: Option<PageShape>,
    records_path: String,
    prefetch: usize,
    in_flight: usize,
    refetch_truncated: u32,
    resume: Option<Value>,
}

impl std::fmt::Debug for Paged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paged")
            .field("records_path", &self.records_path)
            .field("prefetch", &self.prefetch)
            .field("in_flight", &self.in_flight)
            .field("resume", &self.resume)
            .finish_non_exhaustive()
    }
}

/// Pages fetched ahead of the one being read, by default: two, so that one page can decode
/// while the next one's request is on the network (for strategies that know page URLs in
/// advance) or waits for the caller (for the others), with one request at a time. Memory stays at
/// three pages' bodies and records at most; `prefetch(1)` keeps two, `prefetch(0)` one.
pub const DEFAULT_PREFETCH: usize = 2;

impl Paged {
    pub(crate) fn new(
        client: HttpClient,
        request: Result<Request, HttpError>,
        paginator: Arc<dyn Paginator>,
    ) -> Self {
        Self {
            client,
            request,
            paginator,
            shape: None,
            records_path: String::new(),
            prefetch: DEFAULT_PREFETCH,
            in_flight: 1,
            refetch_truncated: 2,
            resume: None,
        }
    }

    /// Pages with a shape set by the caller (GraphQL: nodes or edges of a connection).
    pub(crate) fn with_shape(mut self, shape: PageShape) -> Self {
        self.shape = Some(shape);
        self
    }

    /// Where the records are in the body (`data`, `result.items`); default: the body is the list.
    pub fn records_at(mut self, path: &str) -> Self {
        self.records_path = path.to_owned();
        self
    }

    /// How many pages may be fetched ahead of the page being read (default
    /// [`DEFAULT_PREFETCH`]). `0` fetches each page only when the caller asks for it.
    pub fn prefetch(mut self, pages: usize) -> Self {
        self.prefetch = pages;
        self
    }

    /// Up to `requests` pages in flight at once when the strategy knows page URLs in advance
    /// ([`PageNumber`], [`OffsetLimit`]; default 1). Records still come in page order; the
    /// window of pages fetched ahead grows to `requests` if [`prefetch`](Self::prefetch) is
    /// smaller. Other strategies need each page before the next, and ignore this.
    pub fn in_flight(mut self, requests: usize) -> Self {
        self.in_flight = requests.max(1);
        self
    }

    /// How often a page whose JSON ends early is requested again (default 2). A body cut short
    /// with a consistent `Content-Length` (a proxy, a server crash mid-write) reaches the decoder
    /// as truncated JSON, which no HTTP-level retry can see.
    pub fn refetch_truncated(mut self, times: u32) -> Self {
        self.refetch_truncated = times;
        self
    }

    /// Starts the read at `point`, a [`Page::resume_point`] a previous read checkpointed
    /// (`None`: from the first page). Page numbers and offsets resume at the stored page
    /// index, cursors and links at the stored request; loop detection starts afresh. A point
    /// this strategy cannot read is the stream's only item, an [`HttpError::ResumePoint`].
    pub fn resume_at(mut self, point: Option<&Value>) -> Self {
        self.resume = point.cloned();
        self
    }

    fn plan(self) -> Result<pipeline::Plan, HttpError> {
        let template = self.request?;
        let mut shape = self
            .shape
            .unwrap_or_else(|| PageShape::records_at(&self.records_path));
        for path in self.paginator.body_paths() {
            shape = shape.value_at(&path);
        }
        let first = self.paginator.first(template.url().clone());
        let predictable = self.paginator.page_url(&first, 1).is_some();
        let (start, start_index) = match &self.resume {
            None => (NextPage::new(first.clone()), 0),
            Some(point) if predictable => (
                NextPage::new(first.clone()),
                resume::read_index(&first, point)?,
            ),
            Some(point) => {
                let mut start = self.paginator.resume_at(&first, point)?;
                resume::Credentials::new(&first).restore(&mut start.url);
                (start, 0)
            }
        };
        Ok(pipeline::Plan {
            client: self.client,
            template,
            first,
            start,
            start_index,
            predictable,
            paginator: self.paginator,
            shape: Arc::new(shape),
            prefetch: self.prefetch,
            in_flight: self.in_flight,
            refetch_truncated: self.refetch_truncated,
        })
    }

    /// The pages, their records decoded as `T` (`serde_json::Value` when the schema is only known
    /// at run time).
    pub fn pages<T: DeserializeOwned + Send + 'static>(self) -> PageStream<Page<T>> {
        PageStream::new(self.plan())
    }

    /// The pages with their bodies, records not decoded: for record types that borrow from the
    /// body ([`RawPage::decode`]). Records are counted while the next token is read.
    pub fn raw_pages(self) -> PageStream<RawPage> {
        PageStream::new(self.plan())
    }

    /// The records of every page, decoded as `T`, in page order.
    ///
    /// A tap that passes records through as the API sent them (its schema declared, not derived
    /// from a type) reads them as `Box<serde_json::value::RawValue>`: each record is checked as
    /// JSON and kept as its text, with no field copied into a string of its own, and burler
    /// writes that text into the RECORD line as it is (reading only the replication key from
    /// it). About twice the records a second of a typed owned record on the same API
    /// (BENCHMARKS.md).
    pub fn records<T: DeserializeOwned + Send + 'static>(self) -> Records<T> {
        Records::new(self.pages())
    }
}
