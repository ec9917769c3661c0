//! The one error type of this crate, and URL redaction for error messages and logs.

use reqwest::{Method, StatusCode, Url};
use std::time::Duration;

/// How many characters of a response body an error message keeps.
pub const BODY_EXCERPT_CHARS: usize = 200;

/// Query parameter names whose values never appear in messages (compared lowercase).
const SECRET_PARAMS: &[&str] = &[
    "api_key",
    "apikey",
    "api-key",
    "key",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "auth",
    "authorization",
    "secret",
    "client_secret",
    "password",
    "passwd",
    "pwd",
    "signature",
    "sig",
    "code",
    "session",
    "sessionid",
];

/// An error from an HTTP source. Every variant names the request (method and redacted URL)
/// and displays as one line.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The server answered with a status that is not a success (after any retries).
    #[error("{method} {url}: HTTP {status}{}", excerpt_suffix(.body_excerpt))]
    Status {
        /// Request method.
        method: Method,
        /// Request URL with secrets redacted.
        url: String,
        /// Response status.
        status: StatusCode,
        /// The first characters of the response body, on one line.
        body_excerpt: String,
    },
    /// The request did not complete within the client's timeout.
    #[error("{method} {url}: timed out after {after:?}")]
    Timeout {
        /// Request method.
        method: Method,
        /// Request URL with secrets redacted.
        url: String,
        /// The configured timeout.
        after: Duration,
    },
    /// The connection failed or broke (refused, reset, closed mid-body).
    #[error("{method} {url}: {kind}: {message}")]
    Transport {
        /// Request method.
        method: Method,
        /// Request URL with secrets redacted.
        url: String,
        /// What part of the exchange failed.
        kind: TransportKind,
        /// The underlying error, flattened to one line.
        message: String,
    },
    /// The response body could not be decoded as the expected JSON.
    #[error("{method} {url}: invalid response body: {message}{}", excerpt_suffix(.body_excerpt))]
    Decode {
        /// Request method.
        method: Method,
        /// Request URL with secrets redacted.
        url: String,
        /// What the decoder said.
        message: String,
        /// The first characters of the response body, on one line.
        body_excerpt: String,
    },
    /// A GraphQL response carried an `errors` array.
    #[error("POST {url}: GraphQL errors: {messages}")]
    GraphQl {
        /// Endpoint URL with secrets redacted.
        url: String,
        /// The error messages joined with `; `, each with its `path` when given.
        messages: String,
    },
    /// Pagination asked for a page it had already fetched: the API would loop forever.
    #[error("pagination loop at {url}: page already fetched{}", cursor_suffix(.cursor))]
    PaginationLoop {
        /// The repeated URL with secrets redacted.
        url: String,
        /// The repeated cursor, when the paginator used one.
        cursor: Option<String>,
    },
    /// A resume point (from a checkpoint in the state) this pagination cannot start from.
    #[error("cannot resume the pages of {url} at {point}: {message}")]
    ResumePoint {
        /// The first page's URL with secrets redacted.
        url: String,
        /// The resume point, as JSON.
        point: String,
        /// What is wrong with it.
        message: String,
    },
    /// The task fetching a page stopped without an answer (it panicked or was cancelled).
    #[error("fetching {url} stopped: {message}")]
    PageTask {
        /// The page URL with secrets redacted.
        url: String,
        /// Why the task stopped.
        message: String,
    },
    /// Obtaining or refreshing a credential failed.
    #[error("authentication failed{}: {message}", url_suffix(.url))]
    Auth {
        /// The token endpoint, when one was called (redacted).
        url: Option<String>,
        /// What went wrong.
        message: String,
    },
    /// A middleware that is not this crate's failed.
    #[error("{method} {url}: {message}")]
    Middleware {
        /// Request method.
        method: Method,
        /// Request URL with secrets redacted.
        url: String,
        /// The middleware's error and its causes, on one line.
        message: String,
    },
    /// The client or a request could not be built (bad base URL, header, path).
    #[error("invalid HTTP configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
}

/// Which part of an HTTP exchange failed at the transport level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// The connection could not be opened.
    Connect,
    /// The connection broke while the request was sent or before the response headers
    /// arrived (reset, closed by the server).
    Request,
    /// The connection broke while the body was read (reset, truncated).
    Body,
    /// Any other failure (a request reqwest cannot send, a redirect loop): not retried.
    Other,
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Connect => "connection failed",
            Self::Request => "connection broke before the response",
            Self::Body => "connection broke while reading the body",
            Self::Other => "request failed",
        })
    }
}

impl HttpError {
    /// Whether retrying the same request may succeed: connect/reset errors, timeouts,
    /// 429 and 5xx (except 501).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Status { status, .. } => is_retryable_status(*status),
            Self::Timeout { .. } => true,
            Self::Transport { kind, .. } => *kind != TransportKind::Other,
            _ => false,
        }
    }

    /// The HTTP status, for errors caused by a response.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Builds a [`HttpError::Config`].
    pub fn config(message: impl Into<String>) -> Self {
        Self::Config {
            message: message.into(),
        }
    }

    /// Builds a [`HttpError::ResumePoint`]: `point` cannot resume the pages that start at `first`.
    pub fn resume_point(
        first: &Url,
        point: &serde_json::Value,
        message: impl Into<String>,
    ) -> Self {
        Self::ResumePoint {
            url: redact_url(first),
            point: point.to_string(),
            message: message.into(),
        }
    }

    /// Maps a reqwest error to a variant that names the request.
    pub(crate) fn from_reqwest(
        method: &Method,
        url: &Url,
        timeout: Option<Duration>,
        err: reqwest::Error,
    ) -> Self {
        let url = redact_url(url);
        let method = method.clone();
        if err.is_timeout() && !err.is_connect() {
            return Self::Timeout {
                method,
                url,
                after: timeout.unwrap_or_default(),
            };
        }
        Self::Transport {
            method,
            url,
            kind: TransportKind::of(&err),
            message: causes(err),
        }
    }
}

impl TransportKind {
    /// Which part of the exchange a reqwest error comes from.
    pub fn of(err: &reqwest::Error) -> Self {
        if err.is_connect() {
            Self::Connect
        } else if err.is_body() || err.is_decode() {
            Self::Body
        } else if err.is_request() || err.is_timeout() {
            Self::Request
        } else {
            Self::Other
        }
    }
}

/// Whether a status is worth retrying: 429 and 5xx except 501 Not Implemented.
pub fn is_retryable_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || (status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED)
}

/// The URL as text with secret query values and any password replaced by `REDACTED`.
pub fn redact_url(url: &Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        let _ = url.set_password(Some("REDACTED"));
    }
    if url.query().is_none() {
        return url.to_string();
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let value = if is_secret_param(&k) {
                "REDACTED".to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), value)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.to_string()
}

/// Whether a query parameter name looks like it carries a secret.
pub fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_PARAMS.contains(&name.as_str())
        || ["_token", "_key", "_secret", "password", "signature"]
            .iter()
            .any(|s| name.ends_with(s))
}

/// The first [`BODY_EXCERPT_CHARS`] characters of a body, whitespace collapsed to one line.
pub fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out = String::new();
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        if out.chars().count() >= BODY_EXCERPT_CHARS {
            let cut: String = out.chars().take(BODY_EXCERPT_CHARS).collect();
            return cut + "…";
        }
    }
    out
}

/// What went wrong below reqwest, on one line. reqwest's own message repeats the URL
/// unredacted, so it is dropped when there is a cause to show.
fn causes(err: reqwest::Error) -> String {
    let err = err.without_url();
    match std::error::Error::source(&err) {
        Some(cause) => error_chain(cause),
        None => error_chain(&err),
    }
}

/// A transport error as the log shows it: what failed and why (`connection failed: ...`),
/// without the URL reqwest would print unredacted.
pub(crate) fn transport_text(err: &reqwest::Error) -> String {
    let kind = TransportKind::of(err);
    match std::error::Error::source(err) {
        Some(cause) => format!("{kind}: {}", error_chain(cause)),
        None => kind.to_string(),
    }
}

/// An error and its sources on one line.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = inner.source();
    }
    message.replace('\n', " ")
}

fn excerpt_suffix(excerpt: &str) -> String {
    if excerpt.is_empty() {
        String::new()
    } else {
        format!(": {excerpt}")
    }
}

fn cursor_suffix(cursor: &Option<String>) -> String {
    cursor
        .as_ref()
        .map(|c| format!(" (cursor {c:?})"))
        .unwrap_or_default()
}

fn url_suffix(url: &Option<String>) -> String {
    url.as_ref().map(|u| format!(" at {u}")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_secret_query_values_and_passwords() {
        let url =
            Url::parse("https://u:pw@api.test/x?api_key=abc&page=2&access_token=t&my_secret=s")
                .unwrap();
        let text = redact_url(&url);
        assert!(
            !text.contains("abc") && !text.contains("=t&") && !text.contains("pw@"),
            "{text}"
        );
        assert!(text.contains("page=2"), "{text}");
        assert_eq!(text.matches("REDACTED").count(), 4, "{text}");
    }

    #[test]
    fn excerpt_is_one_line_and_bounded() {
        let body = format!("<html>\n<body>{}</body>", "x".repeat(500));
        let excerpt = body_excerpt(body.as_bytes());
        assert!(!excerpt.contains('\n'));
        assert!(excerpt.chars().count() <= BODY_EXCERPT_CHARS + 1);
    }

    #[test]
    fn status_error_is_one_line_with_method_url_and_excerpt() {
        let err = HttpError::Status {
            method: Method::GET,
            url: "http://h/x".into(),
            status: StatusCode::NOT_FOUND,
            body_excerpt: "no such order".into(),
        };
        assert_eq!(
            err.to_string(),
            "GET http://h/x: HTTP 404 Not Found: no such order"
        );
        assert!(!err.is_retryable());
        assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    }
}
