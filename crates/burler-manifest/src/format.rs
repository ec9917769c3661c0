//! burler's manifest format: the Rust types that define it. The published JSON Schema
//! (`manifest.schema.json` at the crate root, for editor completion) is generated from these
//! types with schemars; a test keeps the file up to date.
//!
//! Strings may be templates (see [`crate::template`] for the names in scope).

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

/// A declarative tap: where the API is, how to authenticate, and its streams.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    /// The format version: 1.
    pub version: u32,
    /// The tap's name, e.g. `tap-shop`.
    pub name: String,
    /// The tap's version shown by `--about` (default 0.1.0).
    #[serde(default)]
    pub tap_version: Option<String>,
    /// One line shown by `--about`.
    #[serde(default)]
    pub description: Option<String>,
    /// JSON Schema of the config (validates `--config`, shown by `--about`). Properties with
    /// `"secret": true` (or `airbyte_secret`) are never printed.
    #[serde(default)]
    pub config: Option<Map<String, Value>>,
    /// Base URL of every request (template, e.g. `"{{ config.base_url }}"`).
    pub base_url: String,
    /// Headers sent with every request (values may be templates).
    #[serde(default)]
    pub headers: Map<String, Value>,
    /// How requests authenticate.
    #[serde(default)]
    pub auth: Option<Auth>,
    /// Most requests per second (default: no limit): a number or a template
    /// (`"{{ config.requests_per_second or 10 }}"`).
    #[serde(default)]
    pub requests_per_second: Option<NumberOrTemplate>,
    /// Tries per request for 429, 5xx and connection errors (default 5).
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Settings every stream starts from (a stream's own settings win).
    #[serde(default)]
    pub defaults: Option<Defaults>,
    /// The streams.
    pub streams: Vec<StreamDef>,
}

/// A number, or a template that renders to one.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum NumberOrTemplate {
    /// A number.
    Number(u64),
    /// A template.
    Template(String),
}

/// Authentication (burler-http's authenticators).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// The token (template).
        token: String,
    },
    /// HTTP basic auth.
    Basic {
        /// User name (template).
        username: String,
        /// Password (template).
        #[serde(default)]
        password: Option<String>,
    },
    /// An API key in a header or a query parameter.
    ApiKey {
        /// Header name (e.g. `X-Api-Key`); give this or `query`.
        #[serde(default)]
        header: Option<String>,
        /// Query parameter name; give this or `header`.
        #[serde(default)]
        query: Option<String>,
        /// The key (template).
        value: String,
    },
    /// OAuth2: client credentials, or a refresh token when given.
    Oauth2 {
        /// Token endpoint URL (template).
        token_url: String,
        /// Client id (template).
        client_id: String,
        /// Client secret (template).
        client_secret: String,
        /// Refresh token (template): the refresh-token grant instead of client credentials.
        #[serde(default)]
        refresh_token: Option<String>,
        /// Scopes asked for.
        #[serde(default)]
        scopes: Vec<String>,
    },
}

/// Defaults for every stream.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Query parameters.
    #[serde(default)]
    pub params: Map<String, Value>,
    /// Headers.
    #[serde(default)]
    pub headers: Map<String, Value>,
    /// Record selector (JSONPath).
    #[serde(default)]
    pub records: Option<String>,
    /// Pagination.
    #[serde(default)]
    pub paginator: Option<Paginator>,
}

/// One stream.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamDef {
    /// The stream's name (its `tap_stream_id`).
    pub name: String,
    /// Path of the request, relative to `base_url` (template: `orders/{{ parent.id }}/lines`).
    pub path: String,
    /// `GET` (default) or `POST`.
    #[serde(default)]
    pub method: Option<HttpMethod>,
    /// Query parameters (values may be templates; an empty rendered value is left out).
    #[serde(default)]
    pub params: Map<String, Value>,
    /// Headers (values may be templates).
    #[serde(default)]
    pub headers: Map<String, Value>,
    /// A JSON body (for `POST`): an object whose string values may be templates.
    #[serde(default)]
    pub body: Option<Map<String, Value>>,
    /// Where the records are: an RFC 9535 JSONPath (`$.data[*]`; a selected list stands for its
    /// items). Default: the body itself is the list (`$`).
    #[serde(default)]
    pub records: Option<String>,
    /// Keeps only records for which this condition (over `record`) is true.
    #[serde(default)]
    pub filter: Option<String>,
    /// Pagination (default: a single request).
    #[serde(default)]
    pub paginator: Option<Paginator>,
    /// Primary key fields.
    #[serde(default)]
    pub primary_key: Vec<String>,
    /// The JSON Schema of the records, inline.
    #[serde(default)]
    pub schema: Option<Map<String, Value>>,
    /// The JSON Schema of the records in a file (relative to the manifest).
    #[serde(default)]
    pub schema_file: Option<String>,
    /// Infer the schema at discovery from the first records the API returns.
    #[serde(default)]
    pub schema_infer: Option<InferSchema>,
    /// Incremental replication (default: FULL_TABLE).
    #[serde(default)]
    pub incremental: Option<Incremental>,
    /// Makes this a sub-stream: one sync per record of the parent.
    #[serde(default)]
    pub parent: Option<Parent>,
    /// Commit the bookmark in a STATE after every N records (default 10,000).
    #[serde(default)]
    pub bookmark_every: Option<u64>,
}

/// HTTP methods.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// GET.
    Get,
    /// POST.
    Post,
}

/// Schema inference settings.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InferSchema {
    /// How many records to look at (default 100).
    #[serde(default)]
    pub records: Option<usize>,
}

/// Pagination strategies.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Paginator {
    /// One request.
    None,
    /// A cursor from the response sent back in a query parameter; stops when absent or empty.
    Cursor {
        /// The query parameter of the next request.
        param: String,
        /// JSONPath of the cursor in the response body; give this or `value`.
        #[serde(default)]
        from: Option<String>,
        /// Template of the cursor (`response`, `headers`, `last_record`); give this or `from`.
        #[serde(default)]
        value: Option<String>,
    },
    /// The next page's URL in the response body (JSONPath), absolute or relative.
    NextUrl {
        /// JSONPath of the URL.
        from: String,
    },
    /// The `Link: <…>; rel="next"` header.
    LinkHeader,
    /// Page numbers: `?page=1`, `?page=2`, … until a page is empty or short.
    Page {
        /// The page-number parameter.
        param: String,
        /// The first page (default 1).
        #[serde(default)]
        start: Option<u64>,
        /// Page size; with it, a shorter page is the last.
        #[serde(default)]
        size: Option<u64>,
        /// The page-size parameter.
        #[serde(default)]
        size_param: Option<String>,
    },
    /// Offsets: `?offset=0&limit=100`, … until a page is shorter than `limit`.
    Offset {
        /// The offset parameter.
        param: String,
        /// Records per page.
        limit: u64,
        /// The limit parameter.
        #[serde(default)]
        limit_param: Option<String>,
    },
}

/// Incremental replication.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Incremental {
    /// The record field holding the replication key (the bookmark).
    pub cursor_field: String,
    /// The query parameter that asks for records at or after the start.
    #[serde(default)]
    pub param: Option<String>,
    /// The value sent in `param` (template; default `{{ start }}`: the bookmark, else the
    /// config's `start_date`, written in `format`).
    #[serde(default)]
    pub value: Option<String>,
    /// Python strftime format of date-times sent in requests (default `%Y-%m-%dT%H:%M:%SZ`).
    #[serde(default)]
    pub format: Option<String>,
    /// Formats the cursor field's values are in (default RFC 3339); with them, bookmarks are
    /// written as RFC 3339.
    #[serde(default)]
    pub cursor_formats: Vec<String>,
    /// Date windows: one pass per window of this width (ISO 8601 duration: `P1D`, `PT6H`, `P1M`).
    #[serde(default)]
    pub window: Option<String>,
    /// With `window`: the parameters that carry each window's start and end.
    #[serde(default)]
    pub window_params: Option<WindowParams>,
    /// Start this much before the bookmark (ISO 8601 duration), for late changes.
    #[serde(default)]
    pub lookback: Option<String>,
    /// The API returns records sorted by the cursor field (default true); when false the
    /// bookmark is committed only at the end.
    #[serde(default)]
    pub sorted: Option<bool>,
}

/// The query parameters of a date window's bounds.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowParams {
    /// Parameter of the window's start.
    pub start: String,
    /// Parameter of the window's end.
    #[serde(default)]
    pub end: Option<String>,
}

/// A sub-stream's parent.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Parent {
    /// The parent stream's name.
    pub stream: String,
    /// The partition each parent record gives (`parent` in this stream's templates): names and
    /// templates over the parent `record`. Default: the parent's primary key fields.
    #[serde(default)]
    pub partition: Map<String, Value>,
    /// Partition values also sent as query parameters: parameter name → partition name.
    #[serde(default)]
    pub params: Map<String, Value>,
    /// Keep a bookmark per parent record (default: one safe for all parents).
    #[serde(default)]
    pub state_per_parent: bool,
}

/// The JSON Schema of the format (for editors), as published in `manifest.schema.json`.
pub fn json_schema() -> Value {
    let schema = schemars::schema_for!(ManifestFile);
    serde_json::to_value(schema).unwrap_or(Value::Null)
}
