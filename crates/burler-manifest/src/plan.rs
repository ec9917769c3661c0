//! The compiled form of a manifest, shared by both front ends (burler's format and Airbyte's
//! low-code manifests): every template and JSONPath already compiled, every reference resolved.
//! The runtime only reads it.

use std::path::PathBuf;

use serde_json::Value;
use serde_json_path::JsonPath;

use crate::template::{Templates, Tmpl};

/// A whole tap.
pub(crate) struct Plan {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) description: Option<String>,
    pub(crate) config_schema: Option<Value>,
    pub(crate) secrets: Vec<String>,
    pub(crate) base_url: Tmpl,
    pub(crate) headers: Vec<(String, Tmpl)>,
    pub(crate) auth: Option<AuthPlan>,
    pub(crate) requests_per_second: Option<Tmpl>,
    pub(crate) max_attempts: Option<u32>,
    pub(crate) streams: Vec<StreamPlan>,
    pub(crate) templates: Templates,
    /// Config values computed when the config lacks them (e.g. the base URL of an API the
    /// program serves itself).
    pub(crate) config_defaults: Vec<(String, ConfigDefault)>,
    /// URL prefixes replaced in every request (`(from, to)`): a manifest written for a public
    /// API run against a local server or a proxy.
    pub(crate) rebase: Vec<(String, String)>,
}

impl Plan {
    /// `url` with the first matching rebase prefix replaced.
    pub(crate) fn rebased(&self, url: String) -> String {
        for (from, to) in &self.rebase {
            if let Some(rest) = url.strip_prefix(from.as_str()) {
                return format!("{to}{rest}");
            }
        }
        url
    }
}

/// Computes a config value from the config.
pub(crate) type ConfigDefault =
    std::sync::Arc<dyn Fn(&Value) -> Result<Value, String> + Send + Sync>;

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("name", &self.name)
            .field("streams", &self.streams)
            .finish_non_exhaustive()
    }
}

/// How requests authenticate (burler-http's authenticators).
#[derive(Debug)]
pub(crate) enum AuthPlan {
    Bearer(Tmpl),
    Basic {
        username: Tmpl,
        password: Tmpl,
    },
    ApiKey {
        inject: Inject,
        name: String,
        value: Tmpl,
        prefix: Option<Tmpl>,
    },
    OAuth2 {
        token_url: Tmpl,
        client_id: Tmpl,
        client_secret: Tmpl,
        refresh_token: Option<Tmpl>,
        scopes: Vec<String>,
    },
}

/// Where a value goes in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inject {
    Query,
    Header,
    /// A field of the JSON body.
    Body,
}

/// A value put into each request.
#[derive(Debug)]
pub(crate) struct RequestOption {
    pub(crate) inject: Inject,
    pub(crate) name: String,
}

/// One stream.
#[derive(Debug)]
pub(crate) struct StreamPlan {
    pub(crate) name: String,
    pub(crate) primary_key: Vec<String>,
    pub(crate) schema: SchemaPlan,
    pub(crate) request: RequestPlan,
    pub(crate) selector: Selector,
    pub(crate) paginator: PaginatorPlan,
    pub(crate) incremental: Option<IncrementalPlan>,
    pub(crate) parent: Option<ParentPlan>,
    pub(crate) bookmark_every: Option<u64>,
    /// Fields added to (or replaced in) every record: path and value template (`record` in scope).
    pub(crate) add_fields: Vec<(Vec<String>, Tmpl)>,
    pub(crate) remove_fields: Vec<Vec<String>>,
    /// The stream's Airbyte `$parameters` (empty for burler manifests).
    pub(crate) parameters: Value,
    /// How pages are read when the records are passed through as the API sent them (see
    /// [`crate::passthrough`]); `None`: every page is parsed into a tree.
    pub(crate) passthrough: Option<Passthrough>,
}

/// A pass-through stream's page shape: where the records are, and the cursor pagination reads.
#[derive(Debug)]
pub(crate) struct Passthrough {
    /// The records path and the cursor path, read in one pass over the body.
    pub(crate) shape: burler_http::decode::PageShape,
    /// The cursor's dotted path (a [`CursorValue::Path`] of names only).
    pub(crate) cursor: Option<String>,
}

/// Where a stream's schema comes from.
#[derive(Debug)]
pub(crate) enum SchemaPlan {
    Inline(Value),
    File(PathBuf),
    /// Inferred at discovery from the first `records` records the API returns.
    Infer {
        records: usize,
    },
}

/// The HTTP request of a stream (before pagination and incremental values).
#[derive(Debug)]
pub(crate) struct RequestPlan {
    pub(crate) method: Method,
    /// Overrides the tap's base URL.
    pub(crate) url_base: Option<Tmpl>,
    pub(crate) path: Tmpl,
    pub(crate) params: Vec<(String, Tmpl)>,
    pub(crate) headers: Vec<(String, Tmpl)>,
    pub(crate) body: Option<BodyPlan>,
}

/// A request body.
#[derive(Debug)]
pub(crate) enum BodyPlan {
    /// A JSON object whose string values may be templates.
    Json(Vec<(String, Tmpl)>),
}

/// GET or POST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
}

/// Where the records are in a response, and which to keep.
#[derive(Debug)]
pub(crate) struct Selector {
    pub(crate) extract: Extract,
    /// A condition on `record`; records for which it is false are dropped.
    pub(crate) filter: Option<Tmpl>,
}

/// How records are taken out of a response body.
#[derive(Debug)]
pub(crate) enum Extract {
    /// An RFC 9535 JSONPath: every node it selects is a record; a selected list's items are
    /// records (so `$.data` and `$.data[*]` both work).
    JsonPath(RecordPath),
    /// Airbyte's `field_path` (dpath): keys, `*` for every key or item; empty: the whole body.
    FieldPath(Vec<Tmpl>),
}

/// A record selector's JSONPath, with the list it walks when it ends in a wildcard.
#[derive(Debug)]
pub(crate) struct RecordPath {
    pub(crate) path: JsonPath,
    /// `$.data` for `$.data[*]`: when it selects one list, the records are that list's items,
    /// taken whole instead of located one by one (a JSON pointer built and followed per record).
    pub(crate) list: Option<JsonPath>,
}

impl RecordPath {
    /// The selector `path`, with its list found when it ends in `[*]` or `.*`.
    pub(crate) fn new(path: JsonPath) -> Self {
        let text = path.to_string();
        let list = ["[*]", ".*"]
            .iter()
            .find_map(|wildcard| text.strip_suffix(wildcard))
            .and_then(|prefix| JsonPath::parse(prefix).ok());
        Self { path, list }
    }
}

/// How the next page is found.
#[derive(Debug)]
pub(crate) enum PaginatorPlan {
    None,
    /// A token from the response sent back with the next request.
    Cursor {
        value: CursorValue,
        stop: Option<Tmpl>,
        token: TokenTarget,
        page_size: Option<(RequestOption, u64)>,
    },
    /// Page numbers.
    Page {
        start: u64,
        size: Option<u64>,
        token: TokenTarget,
        size_option: Option<RequestOption>,
        inject_on_first: bool,
    },
    /// Record offsets.
    Offset {
        limit: u64,
        token: TokenTarget,
        limit_option: Option<RequestOption>,
        inject_on_first: bool,
    },
    /// The `Link: <…>; rel="next"` header.
    LinkHeader,
}

/// Where a cursor comes from.
#[derive(Debug)]
pub(crate) enum CursorValue {
    /// A JSONPath into the response body (the first node).
    Path(JsonPath),
    /// A template over `response`, `headers`, `last_record`, `last_page_size`.
    Template(Tmpl),
}

/// Where a page token goes.
#[derive(Debug)]
pub(crate) enum TokenTarget {
    Option(RequestOption),
    /// The token is the next page's full URL (or a path relative to the base).
    Url,
}

/// Incremental replication of a stream.
#[derive(Debug)]
pub(crate) struct IncrementalPlan {
    pub(crate) cursor_field: String,
    /// Formats the record's cursor values are in (Python strftime); empty: as they are.
    pub(crate) cursor_formats: Vec<String>,
    /// How the start and window bounds are written in requests (Python strftime).
    pub(crate) datetime_format: String,
    /// The request value of the start (`start` in scope); `None` with `start_option`: the
    /// formatted start.
    pub(crate) start_option: Option<(RequestOption, Option<Tmpl>)>,
    pub(crate) end_option: Option<RequestOption>,
    /// Where a first sync starts without state (else the config's `start_date`).
    pub(crate) start_default: Option<(Tmpl, Vec<String>)>,
    pub(crate) end: Option<(Tmpl, Vec<String>)>,
    pub(crate) step: Option<Step>,
    pub(crate) granularity: chrono::Duration,
    pub(crate) lookback: Option<chrono::Duration>,
    /// The source returns records in cursor order (bookmarks may be committed mid-stream).
    pub(crate) sorted: bool,
}

/// A date window's width.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Step {
    Months(u32),
    Fixed(chrono::Duration),
}

/// A sub-stream's parent.
#[derive(Debug)]
pub(crate) struct ParentPlan {
    pub(crate) stream: String,
    /// The partition each parent record gives: names and values (`record` is the parent
    /// record); empty: the parent's primary key fields.
    pub(crate) partition: Vec<(String, Tmpl)>,
    /// Partition values also sent with each request.
    pub(crate) request_options: Vec<(String, RequestOption)>,
    /// Keep a bookmark per parent instead of one for all.
    pub(crate) state_per_parent: bool,
}

impl Step {
    /// Parses an ISO 8601 duration (`P1D`, `PT6H`, `P1M`, `P1W`, `PT0.000001S`). Months and
    /// years step by calendar months and cannot mix with other units.
    pub(crate) fn parse(text: &str) -> Option<Step> {
        let rest = text.trim().strip_prefix('P')?;
        let (date, time) = match rest.split_once('T') {
            Some((d, t)) => (d, Some(t)),
            None => (rest, None),
        };
        let mut months = 0u32;
        let mut total = chrono::Duration::zero();
        for (amount, unit) in units(date)? {
            match unit {
                'Y' => months += (amount * 12.0) as u32,
                'M' => months += amount as u32,
                'W' => total += seconds(amount * 7.0 * 86_400.0),
                'D' => total += seconds(amount * 86_400.0),
                _ => return None,
            }
        }
        for (amount, unit) in units(time.unwrap_or(""))? {
            total += match unit {
                'H' => seconds(amount * 3_600.0),
                'M' => seconds(amount * 60.0),
                'S' => seconds(amount),
                _ => return None,
            };
        }
        match (months, total.is_zero()) {
            (0, _) => Some(Step::Fixed(total)),
            (m, true) => Some(Step::Months(m)),
            _ => None,
        }
    }

    /// `at` plus one step.
    pub(crate) fn add(&self, at: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        match self {
            Step::Months(m) => at
                .checked_add_months(chrono::Months::new(*m))
                .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC),
            Step::Fixed(d) => at
                .checked_add_signed(*d)
                .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC),
        }
    }

    /// A fixed length (months count 30 days), for lookbacks and granularity.
    pub(crate) fn approximate(&self) -> chrono::Duration {
        match self {
            Step::Months(m) => chrono::Duration::days(30 * i64::from(*m)),
            Step::Fixed(d) => *d,
        }
    }
}

fn seconds(amount: f64) -> chrono::Duration {
    chrono::Duration::microseconds((amount * 1_000_000.0).round() as i64)
}

/// `1D2H` → [(1, 'D'), (2, 'H')]; `None` when malformed.
fn units(text: &str) -> Option<Vec<(f64, char)>> {
    let mut out = Vec::new();
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() || c == '.' || c == ',' {
            number.push(if c == ',' { '.' } else { c });
        } else {
            out.push((number.parse().ok()?, c));
            number.clear();
        }
    }
    number.is_empty().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_durations() {
        assert!(
            matches!(Step::parse("P1D"), Some(Step::Fixed(d)) if d == chrono::Duration::days(1))
        );
        assert!(matches!(Step::parse("P1M"), Some(Step::Months(1))));
        assert!(
            matches!(Step::parse("PT0.000001S"), Some(Step::Fixed(d)) if d == chrono::Duration::microseconds(1))
        );
        assert!(
            matches!(Step::parse("P1DT12H"), Some(Step::Fixed(d)) if d == chrono::Duration::hours(36))
        );
        assert!(Step::parse("1 day").is_none());
        assert!(Step::parse("P1M1D").is_none());
    }
}
