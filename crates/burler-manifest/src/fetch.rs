//! Syncing one manifest stream: date windows, requests, pagination, record extraction and the
//! per-record steps (filter, added and removed fields), emitted through the engine as an async
//! stream so sub-streams interleave and bookmarks follow the state promise. A page is read
//! either as the records' text ([`crate::passthrough`], when the stream's plan allows it) or
//! parsed into a tree.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use burler::SyncResult;
use burler_http::reqwest::Method as HttpMethod;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::{StreamExt, TryStreamExt};
use minijinja::value::Value as MjValue;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::client::{Ctx, ManifestClient};
use crate::diagnostic::ManifestError;
use crate::passthrough::Record;
use crate::plan::*;
use crate::template::{mj, parse_datetime, strftime, value_text};

/// Names and values of a template context.
pub(crate) type Scope = BTreeMap<&'static str, MjValue>;

fn scope_value(scope: &Scope) -> MjValue {
    MjValue::from_iter(scope.iter().map(|(k, v)| (*k, v.clone())))
}

/// Syncs stream `index`: every window (or one pass), every page.
pub(crate) async fn sync(ctx: Ctx, index: usize) -> SyncResult {
    let client = ctx.client().clone();
    let sp = &client.plan.streams[index];
    let how = match sp.passthrough {
        Some(_) => "passed through as sent",
        None => "parsed into trees",
    };
    tracing::debug!("{}: records {how}", sp.name);
    let base = base_scope(&client, sp, &ctx);
    let Some(inc) = sp.incremental.as_ref().filter(|_| ctx.is_incremental()) else {
        emit_pages(&ctx, &client, index, base).await?;
        return Ok(());
    };
    let from = start_of(&client, sp, inc, &ctx, &base)?;
    let windowed = inc.step.is_some() || inc.end.is_some();
    match from {
        Some(Start::At(from)) if windowed => {
            let end = end_of(&client, sp, inc, &base)?;
            for window in split(from, end, inc.step, inc.granularity) {
                let scope = window_scope(&base, inc, &window);
                emit_pages(&ctx, &client, index, scope).await?;
                if inc.step.is_some() {
                    ctx.set_bookmark(rfc3339(&window.end.min(Utc::now())))?;
                }
            }
        }
        Some(Start::At(from)) => {
            let mut scope = base;
            scope.insert(
                "start",
                MjValue::from(strftime(&from, &inc.datetime_format)),
            );
            emit_pages(&ctx, &client, index, scope).await?;
        }
        Some(Start::Raw(value)) => {
            let mut scope = base;
            scope.insert("start", mj(&value));
            emit_pages(&ctx, &client, index, scope).await?;
        }
        None => emit_pages(&ctx, &client, index, base).await?,
    }
    Ok(())
}

async fn emit_pages(
    ctx: &Ctx,
    client: &Arc<ManifestClient>,
    index: usize,
    scope: Scope,
) -> SyncResult {
    ctx.emit_stream(records(client.clone(), index, scope))
        .await?;
    Ok(())
}

/// Every record of every page of one pass, as an async stream.
pub(crate) fn records(
    client: Arc<ManifestClient>,
    index: usize,
    scope: Scope,
) -> impl futures::Stream<Item = Result<Record, ManifestError>> + Send {
    let pager = Pager {
        client,
        index,
        scope,
        next: Next::First,
        seen: HashSet::new(),
        previous: None,
    };
    futures::stream::try_unfold(pager, |mut pager| async move {
        Ok(pager.next_page().await?.map(|records| (records, pager)))
    })
    .map_ok(|records| futures::stream::iter(records.into_iter().map(Ok)))
    .try_flatten()
}

/// Where a sync starts: a date-time, or a bookmark that is not one (an id).
enum Start {
    At(DateTime<Utc>),
    Raw(Value),
}

fn start_of(
    client: &ManifestClient,
    sp: &StreamPlan,
    inc: &IncrementalPlan,
    ctx: &Ctx,
    base: &Scope,
) -> Result<Option<Start>, ManifestError> {
    // The state's bookmark (minus the lookback), else the config's `start_date`.
    if let Some(start) = ctx.replication_start() {
        let parsed = match &start {
            Value::String(s) => parse_datetime(s, &inc.cursor_formats),
            _ => None,
        };
        return Ok(Some(match parsed {
            Some(at) => Start::At(at),
            None => Start::Raw(start),
        }));
    }
    if let Some((tmpl, formats)) = &inc.start_default {
        let text = client
            .plan
            .templates
            .text(tmpl, &scope_value(base), &sp.name)?;
        if !text.is_empty() {
            let at = parse_datetime(&text, formats).ok_or_else(|| ManifestError::Value {
                stream: sp.name.clone(),
                message: format!("start {text:?} is not a date-time"),
            })?;
            return Ok(Some(Start::At(at)));
        }
    }
    Ok(None)
}

fn end_of(
    client: &ManifestClient,
    sp: &StreamPlan,
    inc: &IncrementalPlan,
    base: &Scope,
) -> Result<DateTime<Utc>, ManifestError> {
    let now = Utc::now();
    let Some((tmpl, formats)) = &inc.end else {
        return Ok(now);
    };
    let text = client
        .plan
        .templates
        .text(tmpl, &scope_value(base), &sp.name)?;
    if text.is_empty() {
        return Ok(now);
    }
    let at = parse_datetime(&text, formats).ok_or_else(|| ManifestError::Value {
        stream: sp.name.clone(),
        message: format!("end {text:?} is not a date-time"),
    })?;
    Ok(at.min(now))
}

/// A date window `[start, end)`.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

/// Windows from `from` to `end`: half-open `[start, end)` steps without a granularity; with
/// one (Airbyte's cursors), the CDK's slices `[start, min(start + step - granularity, end)]`,
/// the next starting one granularity later, until past `end`.
fn split(
    from: DateTime<Utc>,
    end: DateTime<Utc>,
    step: Option<Step>,
    granularity: chrono::Duration,
) -> Vec<Window> {
    let Some(step) = step else {
        return vec![Window {
            start: from,
            end: end.max(from),
        }];
    };
    let mut out = Vec::new();
    let mut at = from;
    while at < end || (!granularity.is_zero() && at == end) {
        let next = (step.add(at) - granularity).min(end);
        out.push(Window {
            start: at,
            end: next,
        });
        let following = next + granularity;
        if following <= at {
            break;
        }
        at = following;
    }
    out
}

fn window_scope(base: &Scope, inc: &IncrementalPlan, window: &Window) -> Scope {
    let format = |at: &DateTime<Utc>| MjValue::from(strftime(at, &inc.datetime_format));
    let mut scope = base.clone();
    scope.insert("start", format(&window.start));
    scope.insert(
        "window",
        MjValue::from_iter([
            ("start", format(&window.start)),
            ("end", format(&window.end)),
        ]),
    );
    let interval = [
        ("start_time", format(&window.start)),
        ("end_time", format(&window.end)),
    ];
    scope.insert("stream_interval", MjValue::from_iter(interval.clone()));
    let mut slice: BTreeMap<String, MjValue> = interval
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    if let Some(partition) = base.get("parent") {
        if let Ok(items) = partition.try_iter() {
            for key in items {
                if let (Some(name), Ok(value)) = (key.as_str(), partition.get_item(&key)) {
                    slice.insert(name.to_owned(), value);
                }
            }
        }
    }
    scope.insert("stream_slice", MjValue::from_iter(slice));
    scope
}

/// The context every request of a sync starts from.
fn base_scope(client: &ManifestClient, sp: &StreamPlan, ctx: &Ctx) -> Scope {
    let mut scope = Scope::new();
    scope.insert("config", client.config.clone());
    scope.insert("parameters", mj(&sp.parameters));
    let partition = ctx.partition().cloned().unwrap_or(Value::Null);
    scope.insert("parent", mj(&partition));
    scope.insert("stream_partition", mj(&partition));
    scope.insert("stream_slice", mj(&partition));
    let state = ctx.replication_start().unwrap_or(Value::Null);
    let cursor = sp
        .incremental
        .as_ref()
        .map(|i| i.cursor_field.clone())
        .unwrap_or_default();
    let mut stream_state = Map::new();
    if !state.is_null() {
        stream_state.insert(cursor, state.clone());
    }
    scope.insert("stream_state", mj(&Value::Object(stream_state)));
    scope.insert("state", mj(&state));
    scope
}

/// Where the next request goes.
#[derive(Debug, Clone)]
enum Next {
    First,
    Token(Value),
    Page(u64),
    Offset(u64),
    Url(String),
    Done,
}

struct Pager {
    client: Arc<ManifestClient>,
    index: usize,
    scope: Scope,
    next: Next,
    seen: HashSet<String>,
    /// The previous page: an API that ignores the page parameter serves the same page again,
    /// which ends the stream instead of looping.
    previous: Option<PageMark>,
}

/// What tells a page that repeats the previous one: its bytes (as burler-http's pages: the
/// comparison stops at the first differing byte), or, when only a token in the body moved, the
/// same number of records with the same first and last record. Cheaper than hashing every
/// record of every page, which a serialization per record made the largest cost of a sync.
struct PageMark {
    body: bytes::Bytes,
    count: usize,
    first: Record,
    last: Record,
}

impl PageMark {
    fn new<R: PageRecord>(body: &bytes::Bytes, records: &[R]) -> Option<Self> {
        Some(Self {
            body: body.clone(),
            count: records.len(),
            first: records.first()?.mark(),
            last: records.last()?.mark(),
        })
    }

    fn repeats<R: PageRecord>(&self, body: &[u8], records: &[R]) -> bool {
        self.body.as_ref() == body
            || (self.count == records.len()
                && records.first().is_some_and(|r| r.is(&self.first))
                && records.last().is_some_and(|r| r.is(&self.last)))
    }
}

/// A record as a page holds it: a tree, or its text (pass-through streams).
trait PageRecord {
    /// The record, kept to recognize it on the next page.
    fn mark(&self) -> Record;
    /// Whether it is the record `mark` keeps.
    fn is(&self, mark: &Record) -> bool;
    /// The record as a tree (`last_record` of a cursor template).
    fn tree(&self) -> Value;
}

impl PageRecord for Value {
    fn mark(&self) -> Record {
        Record::Tree(self.clone())
    }

    fn is(&self, mark: &Record) -> bool {
        match mark {
            Record::Tree(value) => value == self,
            raw => raw.to_value() == *self,
        }
    }

    fn tree(&self) -> Value {
        self.clone()
    }
}

impl PageRecord for Box<RawValue> {
    fn mark(&self) -> Record {
        Record::Raw(self.clone())
    }

    fn is(&self, mark: &Record) -> bool {
        match mark {
            Record::Raw(raw) => raw.get() == self.get(),
            tree => tree.same(&Record::Raw(self.clone())),
        }
    }

    fn tree(&self) -> Value {
        Record::Raw(self.clone()).into_value()
    }
}

/// Where a cursor path is read: the body's tree, or the value the pass-through decode read.
enum Body<'a> {
    Tree(&'a Value),
    Read(Option<&'a Value>),
}

/// What pagination looks at after a page.
struct PageFacts<'a> {
    body: Body<'a>,
    response: Option<MjValue>,
    headers: &'a burler_http::reqwest::header::HeaderMap,
    count: usize,
    last_record: Option<Value>,
}

impl Pager {
    fn plan(&self) -> &StreamPlan {
        &self.client.plan.streams[self.index]
    }

    fn http_error(&self, source: burler_http::HttpError) -> ManifestError {
        ManifestError::Http {
            stream: self.plan().name.clone(),
            source,
        }
    }

    async fn next_page(&mut self) -> Result<Option<Vec<Record>>, ManifestError> {
        if matches!(self.next, Next::Done) {
            return Ok(None);
        }
        let request = self.request()?;
        tracing::debug!(
            "{}: {} {}",
            self.plan().name,
            request.method(),
            request.redacted_url()
        );
        self.check_new_request(&request)?;
        let response = self
            .client
            .http
            .execute(request)
            .await
            .and_then(|r| r.error_for_status());
        let response = response.map_err(|e| self.http_error(e))?;
        if let Some(records) = self.passed_through(&response)? {
            return Ok(Some(records));
        }
        let mut body: Value = if response.body().is_empty() {
            Value::Null
        } else {
            response.json().map_err(|e| self.http_error(e))?
        };
        let sp = self.plan();
        let reads_response = paginator_reads(&sp.paginator, "response");
        let response_mj = reads_response.then(|| mj(&body));
        let raw = extract(&self.client, sp, &mut body, &self.scope)?;
        self.check_not_repeated(&response, &raw)?;
        let facts = PageFacts {
            body: Body::Tree(&body),
            response: response_mj,
            headers: response.headers(),
            count: raw.len(),
            last_record: self.last_record(&raw),
        };
        let next = self.advance(&facts)?;
        let records = process(&self.client, self.plan(), &self.scope, raw)?;
        self.next = next;
        Ok(Some(records.into_iter().map(Record::Tree).collect()))
    }

    /// The page's records as the API sent them, when the stream passes records through and the
    /// body has its shape; `None`: the page is to be read as a tree (which reports a body that
    /// is not JSON as every tree page does).
    fn passed_through(
        &mut self,
        response: &burler_http::Response,
    ) -> Result<Option<Vec<Record>>, ManifestError> {
        let client = self.client.clone();
        let sp = &client.plan.streams[self.index];
        let Some(passthrough) = &sp.passthrough else {
            return Ok(None);
        };
        let page = match passthrough.shape.decode::<Box<RawValue>>(response.body()) {
            Ok(page) => page,
            Err(err) => {
                tracing::debug!("{}: page read as a tree: {err}", sp.name);
                return Ok(None);
            }
        };
        self.check_not_repeated(response, &page.records)?;
        let cursor = passthrough
            .cursor
            .as_deref()
            .and_then(|path| page.values.value(path));
        let facts = PageFacts {
            body: Body::Read(cursor),
            response: None,
            headers: response.headers(),
            count: page.records.len(),
            last_record: self.last_record(&page.records),
        };
        self.next = self.advance(&facts)?;
        // A pretty-printed body's line breaks stay in the text: the writer puts every record
        // passed through on one line.
        Ok(Some(page.records.into_iter().map(Record::Raw).collect()))
    }

    /// The page's last record, for a cursor paginator's templates.
    fn last_record<R: PageRecord>(&self, records: &[R]) -> Option<Value> {
        match self.plan().paginator {
            PaginatorPlan::Cursor { .. } => records.last().map(PageRecord::tree),
            _ => None,
        }
    }

    /// Ends the stream with a pagination loop when this request was made before.
    fn check_new_request(&mut self, request: &burler_http::Request) -> Result<(), ManifestError> {
        let identity = format!(
            "{} {:?}",
            request.url(),
            request.as_reqwest().body().and_then(|b| b.as_bytes())
        );
        if self.seen.insert(identity) {
            return Ok(());
        }
        let url = request.redacted_url();
        Err(self.http_error(burler_http::HttpError::PaginationLoop { url, cursor: None }))
    }

    /// Ends the stream with a pagination loop when this page repeats the previous one.
    fn check_not_repeated<R: PageRecord>(
        &mut self,
        response: &burler_http::Response,
        records: &[R],
    ) -> Result<(), ManifestError> {
        if let Some(mark) = &self.previous {
            if mark.repeats(response.body(), records) {
                let url = response.url().to_string();
                let loop_error = burler_http::HttpError::PaginationLoop { url, cursor: None };
                return Err(self.http_error(loop_error));
            }
        }
        self.previous = PageMark::new(response.bytes(), records);
        Ok(())
    }

    /// The request for `self.next`.
    fn request(&self) -> Result<burler_http::Request, ManifestError> {
        let sp = self.plan();
        let templates = &self.client.plan.templates;
        let mut scope = self.scope.clone();
        if let Next::Token(token) = &self.next {
            scope.insert(
                "next_page_token",
                MjValue::from_iter([("next_page_token", mj(token))]),
            );
        }
        let ctx = scope_value(&scope);
        let name = &sp.name;
        let mut parts = RequestParts::default();
        let url = match &self.next {
            Next::Url(url) => url.clone(),
            _ => {
                let path = templates.text(&sp.request.path, &ctx, name)?;
                for (key, tmpl) in &sp.request.params {
                    parts.put(Inject::Query, key, templates.eval(tmpl, &ctx, name)?);
                }
                match &sp.request.url_base {
                    Some(base) => join_url(&templates.text(base, &ctx, name)?, &path),
                    None => path,
                }
            }
        };
        for (key, tmpl) in &sp.request.headers {
            parts.put(Inject::Header, key, templates.eval(tmpl, &ctx, name)?);
        }
        if let Some(BodyPlan::Json(fields)) = &sp.request.body {
            for (key, tmpl) in fields {
                parts.put(Inject::Body, key, templates.eval(tmpl, &ctx, name)?);
            }
        }
        self.options(&mut parts, &scope, &ctx)?;
        let url = self.client.plan.rebased(url);
        parts
            .build(&self.client.http, sp, &url)
            .map_err(|e| self.http_error(e))
    }

    /// Incremental, partition and pagination values.
    fn options(
        &self,
        parts: &mut RequestParts,
        scope: &Scope,
        ctx: &MjValue,
    ) -> Result<(), ManifestError> {
        let sp = self.plan();
        if let Some(inc) = &sp.incremental {
            if let Some((option, value)) = &inc.start_option {
                let v = match value {
                    Some(t) => self.client.plan.templates.eval(t, ctx, &sp.name)?,
                    None => scope
                        .get("start")
                        .map(|s| serde_json::to_value(s).unwrap_or_default())
                        .unwrap_or_default(),
                };
                parts.put(option.inject, &option.name, v);
            }
            if let (Some(option), Some(interval)) = (&inc.end_option, scope.get("stream_interval"))
            {
                let end = interval
                    .get_attr("end_time")
                    .ok()
                    .map(|v| serde_json::to_value(v).unwrap_or_default());
                parts.put(option.inject, &option.name, end.unwrap_or_default());
            }
        }
        if let (Some(parent), Some(partition)) = (&sp.parent, scope.get("parent")) {
            for (name, option) in &parent.request_options {
                let value = partition
                    .get_attr(name)
                    .ok()
                    .map(|v| serde_json::to_value(v).unwrap_or_default());
                parts.put(option.inject, &option.name, value.unwrap_or_default());
            }
        }
        page_options(&sp.paginator, &self.next, parts);
        Ok(())
    }

    fn advance(&self, page: &PageFacts<'_>) -> Result<Next, ManifestError> {
        let sp = self.plan();
        Ok(match &sp.paginator {
            PaginatorPlan::None => Next::Done,
            _ if page.count == 0 => Next::Done,
            PaginatorPlan::LinkHeader => page
                .headers
                .get("link")
                .and_then(|v| v.to_str().ok())
                .and_then(burler_http::paginate::next_link)
                .map_or(Next::Done, |url| Next::Url(url.to_owned())),
            PaginatorPlan::Cursor {
                value, stop, token, ..
            } => self.cursor(page, value, stop.as_ref(), token)?,
            PaginatorPlan::Page { start, size, .. } => {
                if size.is_some_and(|s| (page.count as u64) < s) {
                    return Ok(Next::Done);
                }
                let current = match self.next {
                    Next::Page(n) => n,
                    _ => *start,
                };
                Next::Page(current + 1)
            }
            PaginatorPlan::Offset { limit, .. } => {
                if (page.count as u64) < *limit {
                    return Ok(Next::Done);
                }
                let current = match self.next {
                    Next::Offset(n) => n,
                    _ => 0,
                };
                Next::Offset(current + page.count as u64)
            }
        })
    }

    fn cursor(
        &self,
        page: &PageFacts<'_>,
        value: &CursorValue,
        stop: Option<&Tmpl>,
        token: &TokenTarget,
    ) -> Result<Next, ManifestError> {
        let sp = self.plan();
        let templates = &self.client.plan.templates;
        let mut scope = self.scope.clone();
        scope.insert("response", page.response.clone().unwrap_or_default());
        scope.insert("headers", headers_value(page.headers));
        scope.insert(
            "last_record",
            page.last_record.as_ref().map(mj).unwrap_or_default(),
        );
        scope.insert("last_page_size", MjValue::from(page.count));
        let ctx = scope_value(&scope);
        if let Some(stop) = stop {
            if templates.truthy(stop, &ctx, &sp.name)? {
                return Ok(Next::Done);
            }
        }
        let token_value = match (value, &page.body) {
            (CursorValue::Path(path), Body::Tree(body)) => {
                path.query(body).first().cloned().unwrap_or(Value::Null)
            }
            (CursorValue::Path(_), Body::Read(read)) => read.cloned().unwrap_or(Value::Null),
            (CursorValue::Template(t), _) => templates.eval(t, &ctx, &sp.name)?,
        };
        if value_text(&token_value).is_empty()
            || token_value == Value::Bool(false)
            || token_value.as_object().is_some_and(Map::is_empty)
        {
            return Ok(Next::Done);
        }
        Ok(match token {
            TokenTarget::Url => Next::Url(value_text(&token_value)),
            TokenTarget::Option(_) => Next::Token(token_value),
        })
    }
}

use crate::template::Tmpl;

fn paginator_reads(paginator: &PaginatorPlan, name: &str) -> bool {
    match paginator {
        PaginatorPlan::Cursor { value, stop, .. } => {
            matches!(value, CursorValue::Template(t) if t.reads(name))
                || stop.as_ref().is_some_and(|s| s.reads(name))
        }
        _ => false,
    }
}

fn headers_value(headers: &burler_http::reqwest::header::HeaderMap) -> MjValue {
    MjValue::from_iter(
        headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned()))),
    )
}

/// The page token and page size of the request for `next`.
fn page_options(paginator: &PaginatorPlan, next: &Next, parts: &mut RequestParts) {
    match paginator {
        PaginatorPlan::Cursor {
            token: TokenTarget::Option(option),
            page_size,
            ..
        } => {
            if let Next::Token(token) = next {
                parts.put(option.inject, &option.name, token.clone());
            }
            if let Some((option, size)) = page_size {
                parts.put(option.inject, &option.name, Value::from(*size));
            }
        }
        PaginatorPlan::Cursor {
            page_size: Some((option, size)),
            ..
        } if !matches!(next, Next::Url(_)) => {
            parts.put(option.inject, &option.name, Value::from(*size));
        }
        PaginatorPlan::Page {
            start,
            size,
            token,
            size_option,
            inject_on_first,
        } => {
            let page = match next {
                Next::Page(n) => Some(*n),
                _ if *inject_on_first => Some(*start),
                _ => None,
            };
            if let (TokenTarget::Option(option), Some(page)) = (token, page) {
                parts.put(option.inject, &option.name, Value::from(page));
            }
            if let (Some(option), Some(size)) = (size_option, size) {
                parts.put(option.inject, &option.name, Value::from(*size));
            }
        }
        PaginatorPlan::Offset {
            limit,
            token,
            limit_option,
            inject_on_first,
        } => {
            let offset = match next {
                Next::Offset(n) => Some(*n),
                _ if *inject_on_first => Some(0),
                _ => None,
            };
            if let (TokenTarget::Option(option), Some(offset)) = (token, offset) {
                parts.put(option.inject, &option.name, Value::from(offset));
            }
            if let Some(option) = limit_option {
                parts.put(option.inject, &option.name, Value::from(*limit));
            }
        }
        _ => {}
    }
}

/// Query parameters, headers and body fields of one request; a later value for a name wins,
/// null and empty values are left out.
#[derive(Default)]
struct RequestParts {
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Map<String, Value>,
}

impl RequestParts {
    fn put(&mut self, inject: Inject, name: &str, value: Value) {
        if value.is_null() || value.as_str() == Some("") {
            return;
        }
        match inject {
            Inject::Query => put_pair(&mut self.query, name, value_text(&value)),
            Inject::Header => put_pair(&mut self.headers, name, value_text(&value)),
            Inject::Body => {
                self.body.insert(name.to_owned(), value);
            }
        }
    }

    fn build(
        self,
        http: &burler_http::HttpClient,
        sp: &StreamPlan,
        url: &str,
    ) -> Result<burler_http::Request, burler_http::HttpError> {
        let method = match sp.request.method {
            Method::Get => HttpMethod::GET,
            Method::Post => HttpMethod::POST,
        };
        let mut builder = http.request(method, url).endpoint(&sp.name);
        if !self.query.is_empty() {
            builder = builder.query(&self.query);
        }
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        if sp.request.body.is_some() || !self.body.is_empty() {
            builder = builder.json_body(&self.body);
        }
        builder.build()
    }
}

fn put_pair(pairs: &mut Vec<(String, String)>, name: &str, value: String) {
    match pairs.iter_mut().find(|(k, _)| k == name) {
        Some(pair) => pair.1 = value,
        None => pairs.push((name.to_owned(), value)),
    }
}

fn join_url(base: &str, path: &str) -> String {
    if path.starts_with("http://") || path.starts_with("https://") {
        return path.to_owned();
    }
    match (base.trim_end_matches('/'), path.trim_start_matches('/')) {
        (base, "") => base.to_owned(),
        (base, path) => format!("{base}/{path}"),
    }
}

/// Takes the records out of a response body (moved, not copied, where the path allows).
fn extract(
    client: &ManifestClient,
    sp: &StreamPlan,
    body: &mut Value,
    scope: &Scope,
) -> Result<Vec<Value>, ManifestError> {
    match &sp.selector.extract {
        Extract::JsonPath(path) => Ok(select(path, body)),
        Extract::FieldPath(parts) => {
            let ctx = scope_value(scope);
            let keys = parts
                .iter()
                .map(|t| client.plan.templates.text(t, &ctx, &sp.name))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(dpath(body, &keys))
        }
    }
}

/// The records `path` selects in `body`, taken out of it.
fn select(path: &RecordPath, body: &mut Value) -> Vec<Value> {
    if let Some(list) = &path.list {
        if let [only] = locate(list, body).as_slice() {
            if let Some(Value::Array(items)) = body.pointer_mut(only) {
                return std::mem::take(items);
            }
        }
    }
    let pointers = locate(&path.path, body);
    if let [only] = pointers.as_slice() {
        let node = body.pointer_mut(only).map(Value::take).unwrap_or_default();
        return items_of(node);
    }
    let nested = pointers
        .windows(2)
        .any(|w| w[1].starts_with(&format!("{}/", w[0])));
    pointers
        .iter()
        .filter_map(|p| {
            if nested {
                body.pointer(p).cloned()
            } else {
                body.pointer_mut(p).map(Value::take)
            }
        })
        .collect()
}

/// The JSON pointers of the nodes `path` selects.
fn locate(path: &serde_json_path::JsonPath, body: &Value) -> Vec<String> {
    path.query_located(body)
        .locations()
        .map(|l| l.to_json_pointer())
        .collect()
}

fn items_of(node: Value) -> Vec<Value> {
    match node {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// Airbyte's dpath extraction: keys, `*` for every key or item.
fn dpath(body: &mut Value, keys: &[String]) -> Vec<Value> {
    if !keys.iter().any(|k| k == "*") {
        let mut at = body;
        for key in keys {
            let next = match at {
                Value::Object(map) => map.get_mut(key.as_str()),
                Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
                _ => None,
            };
            match next {
                Some(n) => at = n,
                None => return Vec::new(),
            }
        }
        return items_of(at.take());
    }
    let mut nodes: Vec<&Value> = vec![body];
    for key in keys {
        nodes = nodes
            .into_iter()
            .flat_map(|n| -> Vec<&Value> {
                match (n, key.as_str()) {
                    (Value::Object(m), "*") => m.values().collect(),
                    (Value::Array(a), "*") => a.iter().collect(),
                    (Value::Object(m), k) => m.get(k).into_iter().collect(),
                    (Value::Array(a), k) => k
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| a.get(i))
                        .into_iter()
                        .collect(),
                    _ => Vec::new(),
                }
            })
            .collect();
    }
    nodes
        .into_iter()
        .flat_map(|n| items_of(n.clone()))
        .collect()
}

/// Filter, added and removed fields, record by record.
fn process(
    client: &ManifestClient,
    sp: &StreamPlan,
    scope: &Scope,
    records: Vec<Value>,
) -> Result<Vec<Value>, ManifestError> {
    if sp.selector.filter.is_none() && sp.add_fields.is_empty() && sp.remove_fields.is_empty() {
        return Ok(records);
    }
    let templates = &client.plan.templates;
    let mut out = Vec::with_capacity(records.len());
    for mut record in records {
        let mut scope = scope.clone();
        scope.insert("record", mj(&record));
        let ctx = scope_value(&scope);
        if let Some(filter) = &sp.selector.filter {
            if !templates.truthy(filter, &ctx, &sp.name)? {
                continue;
            }
        }
        for (path, tmpl) in &sp.add_fields {
            let value = templates.eval(tmpl, &ctx, &sp.name)?;
            set_path(&mut record, path, value);
        }
        for path in &sp.remove_fields {
            remove_path(&mut record, path);
        }
        out.push(record);
    }
    Ok(out)
}

fn set_path(record: &mut Value, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = record;
    for key in parents {
        if !at.get(key).is_some_and(Value::is_object) {
            if let Value::Object(map) = at {
                map.insert(key.clone(), Value::Object(Map::new()));
            }
        }
        match at.get_mut(key) {
            Some(next) => at = next,
            None => return,
        }
    }
    if let Value::Object(map) = at {
        map.insert(last.clone(), value);
    }
}

fn remove_path(record: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = record;
    for key in parents {
        match at.get_mut(key) {
            Some(next) => at = next,
            None => return,
        }
    }
    if let Value::Object(map) = at {
        map.shift_remove(last);
    }
}

/// What a parent record gives its children: its primary key fields and every child's
/// partition values.
pub(crate) fn child_context(
    plan: &Plan,
    parent: usize,
    children: &[usize],
    record: &Record,
) -> Value {
    let parsed;
    let record = match record {
        Record::Tree(value) => value,
        Record::Raw(_) => {
            parsed = record.to_value();
            &parsed
        }
    };
    let mut context = Map::new();
    for key in &plan.streams[parent].primary_key {
        context.insert(key.clone(), record.get(key).cloned().unwrap_or(Value::Null));
    }
    let scope = MjValue::from_iter([("record", mj(record))]);
    for child in children {
        let Some(p) = &plan.streams[*child].parent else {
            continue;
        };
        for (name, tmpl) in &p.partition {
            // A value that fails to render is left null; the child's request names the problem.
            let value = plan
                .templates
                .eval(tmpl, &scope, &plan.streams[*child].name)
                .unwrap_or(Value::Null);
            context.insert(name.clone(), value);
        }
    }
    Value::Object(context)
}

/// True when bookmarks are parsed from the cursor's format and kept as RFC 3339.
pub(crate) fn normalises_bookmarks(inc: &IncrementalPlan) -> bool {
    !inc.cursor_formats.is_empty() || inc.step.is_some() || inc.end.is_some()
}

/// A record's bookmark: its cursor value as RFC 3339 when it parses, else as it is.
pub(crate) fn bookmark_of(plan: &Plan, index: usize, field: &str, record: &Record) -> Value {
    let value = record.field(field).unwrap_or(Value::Null);
    let formats = plan.streams[index]
        .incremental
        .as_ref()
        .map(|i| i.cursor_formats.as_slice())
        .unwrap_or(&[]);
    match &value {
        Value::String(s) => {
            parse_datetime(s, formats).map_or(value.clone(), |at| Value::String(rfc3339(&at)))
        }
        Value::Number(n) if formats.iter().any(|f| f == "%s") => n
            .as_i64()
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .map_or(value.clone(), |at| Value::String(rfc3339(&at))),
        _ => value,
    }
}

fn rfc3339(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Infers stream `index`'s schema from its first `limit` records (discovery): a client of its
/// own on a runtime of its own, as discovery may run inside the tap's runtime.
pub(crate) fn infer_schema(
    plan: &Arc<Plan>,
    index: usize,
    config: &Value,
    limit: usize,
) -> Result<Value, ManifestError> {
    let (plan, config) = (plan.clone(), config.clone());
    let name = plan.streams[index].name.clone();
    let failed = |message: String| ManifestError::Value {
        stream: name.clone(),
        message,
    };
    let worker = std::thread::spawn(move || -> Result<Value, ManifestError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ManifestError::Value {
                stream: "tap".into(),
                message: format!("schema inference: {e}"),
            })?;
        runtime.block_on(async move {
            let client = Arc::new(ManifestClient::build(plan.clone(), &config)?);
            let mut scope = Scope::new();
            scope.insert("config", client.config.clone());
            scope.insert("parameters", mj(&plan.streams[index].parameters));
            let sample: Vec<Value> = records(client, index, scope)
                .take(limit)
                .map_ok(Record::into_value)
                .try_collect()
                .await?;
            let mut inferrer = burler_schema::Inferrer::new();
            sample.iter().for_each(|r| inferrer.observe(r));
            Ok(inferrer.finish())
        })
    });
    worker
        .join()
        .map_err(|_| failed("schema inference stopped unexpectedly".into()))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(text: &str) -> RecordPath {
        RecordPath::new(serde_json_path::JsonPath::parse(text).unwrap())
    }

    #[test]
    fn a_wildcard_path_takes_its_list_whole_and_selects_as_the_generic_query() {
        assert!(path("$.data[*]").list.is_some());
        assert!(path("$.data.*").list.is_some());
        assert!(path("$..id").list.is_none());
        assert!(path("$.data[?@.id > 1]").list.is_none());
        let body = json!({"data": [{"id": 1}, {"id": 2}], "meta": {"a": 1, "b": [2]}});
        for (text, expected) in [
            ("$.data[*]", json!([{"id": 1}, {"id": 2}])),
            ("$.data", json!([{"id": 1}, {"id": 2}])),
            // Not a list: the wildcard selects the object's values, as the query does.
            ("$.meta[*]", json!([1, [2]])),
            ("$.data[?@.id > 1]", json!([{"id": 2}])),
            ("$.missing[*]", json!([])),
        ] {
            let selected = select(&path(text), &mut body.clone());
            assert_eq!(Value::Array(selected), expected, "{text}");
        }
    }

    #[test]
    fn a_repeated_page_is_its_bytes_or_its_first_and_last_records() {
        let records = [json!({"id": 1}), json!({"id": 2})];
        let body = bytes::Bytes::from_static(b"{\"data\":[{\"id\":1},{\"id\":2}],\"next\":2}");
        let mark = PageMark::new(&body, &records).unwrap();
        assert!(mark.repeats(&body, &records));
        assert!(mark.repeats(b"{\"next\":3}", &records));
        assert!(!mark.repeats(b"{}", &records[..1]));
        assert!(!mark.repeats(b"{}", &[json!({"id": 2}), json!({"id": 3})]));
        assert!(PageMark::new::<Value>(&body, &[]).is_none());
    }

    #[test]
    fn a_repeated_page_of_raw_records_is_the_same_text() {
        let raw = |t: &str| RawValue::from_string(t.to_owned()).unwrap();
        let records = [raw(r#"{"id": 1}"#), raw(r#"{"id": 2}"#)];
        let body = bytes::Bytes::from_static(b"{\"data\":[{\"id\": 1},{\"id\": 2}],\"next\":2}");
        let mark = PageMark::new(&body, &records).unwrap();
        assert!(mark.repeats(b"{\"next\":3}", &records));
        assert!(!mark.repeats(b"{}", &[raw(r#"{"id": 1}"#), raw(r#"{"id": 3}"#)]));
        // A page read as a tree after one read as text (or the other way) is compared as trees.
        assert!(mark.repeats(b"{}", &[json!({"id": 1}), json!({"id": 2})]));
        let tree_mark = PageMark::new(&body, &[json!({"id": 1}), json!({"id": 2})]).unwrap();
        assert!(tree_mark.repeats(b"{}", &records));
    }
}
