//! The client: built once from config, holds the middleware stack, makes requests.

use crate::auth::{AuthMiddleware, Authenticator};
use crate::error::HttpError;
use crate::message::{Request, Response, parse_header};
use crate::metrics::MetricsMiddleware;
use crate::middleware::{
    EndpointName, FinalUrl, Middleware, ReadBody, RequestTimeout, TimeoutMiddleware, to_http_error,
};
use crate::paginate::{Paged, Paginator};
use reqwest::header::{HeaderMap, HeaderValue, USER_AGENT};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The HTTP part of a tap's config, ready to deserialize from the config file (and to
/// `#[serde(flatten)]` into a tap's own config; its JSON Schema comes with it).
///
/// ```
/// let config: burler_http::HttpConfig = serde_json::from_str(
///     r#"{"base_url": "https://api.example.com/v1", "timeout_secs": 30, "headers": {"x-team": "data"}}"#,
/// ).unwrap();
/// let client = config.builder("tap-shop", "0.1.0").unwrap().build().unwrap();
/// assert_eq!(client.base_url().as_str(), "https://api.example.com/v1/");
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HttpConfig {
    /// Base URL every request path is joined to.
    pub base_url: String,
    /// Headers sent with every request.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Total timeout of one request attempt, in seconds (default 300).
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// Timeout to open a connection, in seconds (default 30).
    #[serde(default)]
    pub connect_timeout_secs: Option<u64>,
    /// Overrides the `tap-name/version` user agent.
    #[serde(default)]
    pub user_agent: Option<String>,
}

impl HttpConfig {
    /// A builder with this config applied; `tap_name/version` is the default user agent.
    pub fn builder(&self, tap_name: &str, version: &str) -> Result<HttpClientBuilder, HttpError> {
        let mut builder = HttpClient::builder(&self.base_url)?;
        builder = builder.user_agent(
            self.user_agent
                .clone()
                .unwrap_or(format!("{tap_name}/{version}")),
        );
        for (name, value) in &self.headers {
            builder = builder.header(name, value)?;
        }
        if let Some(secs) = self.timeout_secs {
            builder = builder.timeout(Duration::from_secs(secs));
        }
        if let Some(secs) = self.connect_timeout_secs {
            builder = builder.connect_timeout(Duration::from_secs(secs));
        }
        Ok(builder)
    }
}

/// Builds an [`HttpClient`]: base URL, defaults, then middleware in order (first = outermost).
#[must_use]
pub struct HttpClientBuilder {
    base_url: Url,
    headers: HeaderMap,
    timeout: Duration,
    connect_timeout: Duration,
    middleware: Vec<Arc<dyn Middleware>>,
    metrics: Option<Arc<dyn Middleware>>,
}

impl std::fmt::Debug for HttpClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClientBuilder")
            .field("base_url", &self.base_url.as_str())
            .field("middleware", &self.middleware.len())
            .finish_non_exhaustive()
    }
}

impl HttpClientBuilder {
    /// Sets the `User-Agent` header (convention: `tap-name/version`).
    pub fn user_agent(mut self, agent: impl AsRef<str>) -> Self {
        if let Ok(value) = HeaderValue::from_str(agent.as_ref()) {
            self.headers.insert(USER_AGENT, value);
        }
        self
    }

    /// Adds a header sent with every request.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, HttpError> {
        let (name, value) = parse_header(name, value)?;
        self.headers.insert(name, value);
        Ok(self)
    }

    /// Total timeout of one attempt, body included (default 300 s): the duration of the
    /// innermost [`TimeoutMiddleware`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Timeout to open a connection (default 30 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Adds a middleware below the ones added before (the first added runs first): this
    /// crate's or any written for reqwest-middleware.
    ///
    /// Usual order: retry, rate limit, auth — so each retry waits for the limiter and
    /// carries a fresh credential.
    pub fn with(self, middleware: impl Middleware) -> Self {
        self.with_arc(Arc::new(middleware))
    }

    /// Adds a shared middleware (one instance in several clients, e.g. a rate limiter).
    pub fn with_arc(mut self, middleware: Arc<dyn Middleware>) -> Self {
        self.middleware.push(middleware);
        self
    }

    /// Adds an [`AuthMiddleware`] for `auth` at this position of the stack.
    pub fn auth(self, auth: impl Authenticator) -> Self {
        self.with(AuthMiddleware::new(auth))
    }

    /// Replaces the metrics middleware, which runs inside all the others (default:
    /// [`MetricsMiddleware::new`]).
    pub fn metrics(mut self, middleware: impl Middleware) -> Self {
        self.metrics = Some(Arc::new(middleware));
        self
    }

    /// Turns off `http_request_duration` metric lines.
    pub fn without_metrics(mut self) -> Self {
        self.metrics = None;
        self
    }

    /// Builds the client (installs the rustls `ring` crypto provider if none is installed).
    pub fn build(self) -> Result<HttpClient, HttpError> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .default_headers(self.headers)
            .connect_timeout(self.connect_timeout)
            .build()
            .map_err(|err| HttpError::config(format!("cannot build HTTP client: {err}")))?;
        let mut stack = self.middleware;
        let added = stack.len();
        stack.extend(self.metrics);
        stack.push(Arc::new(TimeoutMiddleware::new(self.timeout)));
        stack.push(Arc::new(ReadBody));
        Ok(HttpClient {
            inner: Arc::new(Inner {
                base_url: self.base_url,
                client: reqwest_middleware::ClientWithMiddleware::new(client, stack),
                added,
            }),
        })
    }
}

/// Installs rustls' `ring` provider as the process default; a no-op if one is installed.
pub(crate) fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Another thread may win the race; either way a provider is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// A plain reqwest client with TLS ready, for side requests such as token endpoints.
pub(crate) fn plain_reqwest_client() -> Result<reqwest::Client, HttpError> {
    install_crypto_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|err| HttpError::config(format!("cannot build HTTP client: {err}")))
}

struct Inner {
    base_url: Url,
    client: reqwest_middleware::ClientWithMiddleware,
    /// How many middleware the author added (for Debug).
    added: usize,
}

/// An HTTP client for one source: base URL, default headers, timeouts and a middleware stack.
/// Cheap to clone (shared state: rate limiter, credentials).
///
/// ```no_run
/// use burler_http::{HttpClient, RetryMiddleware, RetryPolicy, RateLimitMiddleware, BearerToken};
/// use std::time::Duration;
///
/// # async fn run() -> Result<(), burler_http::HttpError> {
/// let client = HttpClient::builder("https://api.example.com/v1")?
///     .user_agent("tap-shop/0.1.0")
///     .timeout(Duration::from_secs(60))
///     .with(RetryMiddleware::new(RetryPolicy::default()))
///     .with(RateLimitMiddleware::per_second(10))
///     .auth(BearerToken::new("secret"))
///     .build()?;
/// let order: serde_json::Value = client.get("orders/1").json().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("base_url", &self.inner.base_url.as_str())
            .field("middleware", &self.inner.added)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Starts a builder. The base URL gets a trailing `/` so relative paths join below it.
    pub fn builder(base_url: &str) -> Result<HttpClientBuilder, HttpError> {
        let mut base_url = Url::parse(base_url)
            .map_err(|err| HttpError::config(format!("invalid base URL {base_url:?}: {err}")))?;
        if !base_url.path().ends_with('/') {
            let path = format!("{}/", base_url.path());
            base_url.set_path(&path);
        }
        Ok(HttpClientBuilder {
            base_url,
            headers: HeaderMap::new(),
            timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(30),
            middleware: Vec::new(),
            metrics: Some(Arc::new(MetricsMiddleware::new())),
        })
    }

    /// The base URL (always ending in `/`).
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// Resolves a path (`orders`, `/v1/orders`) or absolute URL against the base URL.
    /// A leading `/` is kept relative to the base URL's path, which is what API paths mean.
    pub fn url(&self, path: &str) -> Result<Url, HttpError> {
        if path.starts_with("http://") || path.starts_with("https://") {
            return Url::parse(path)
                .map_err(|err| HttpError::config(format!("invalid URL {path:?}: {err}")));
        }
        self.inner
            .base_url
            .join(path.trim_start_matches('/'))
            .map_err(|err| HttpError::config(format!("invalid path {path:?}: {err}")))
    }

    /// Sends a request through the middleware; any status comes back as a [`Response`] with
    /// its whole body.
    pub async fn execute(&self, request: Request) -> Result<Response, HttpError> {
        let (request, mut extensions) = request.into_parts();
        let (method, url) = (request.method().clone(), request.url().clone());
        let response = self
            .inner
            .client
            .execute_with_extensions(request, &mut extensions)
            .await
            .map_err(|err| to_http_error(err, &method, &url))?;
        let url = response
            .extensions()
            .get::<FinalUrl>()
            .map_or(url, |at| at.0.clone());
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response
            .bytes()
            .await
            .map_err(|err| HttpError::from_reqwest(&method, &url, None, err))?;
        Ok(Response::new(method, url, status, headers, body))
    }

    /// Starts a request with any method.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self.url(path).map(|url| Request::new(method, url));
        RequestBuilder {
            client: self.clone(),
            request,
        }
    }

    /// Starts a GET request.
    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    /// Starts a POST request.
    pub fn post(&self, path: &str) -> RequestBuilder {
        self.request(Method::POST, path)
    }

    /// Starts a PUT request.
    pub fn put(&self, path: &str) -> RequestBuilder {
        self.request(Method::PUT, path)
    }

    /// Starts a PATCH request.
    pub fn patch(&self, path: &str) -> RequestBuilder {
        self.request(Method::PATCH, path)
    }

    /// Starts a DELETE request.
    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.request(Method::DELETE, path)
    }
}

/// One request being assembled; errors are kept until it is sent.
#[must_use]
#[derive(Debug)]
pub struct RequestBuilder {
    client: HttpClient,
    request: Result<Request, HttpError>,
}

impl RequestBuilder {
    fn map(mut self, f: impl FnOnce(&mut Request) -> Result<(), HttpError>) -> Self {
        if let Ok(request) = &mut self.request {
            if let Err(err) = f(request) {
                self.request = Err(err);
            }
        }
        self
    }

    /// Appends query parameters (any `Serialize` list of pairs or struct).
    pub fn query<Q: Serialize + ?Sized>(self, query: &Q) -> Self {
        self.map(|request| {
            let encoded = serde_urlencoded_pairs(query)?;
            request.url_mut().query_pairs_mut().extend_pairs(encoded);
            Ok(())
        })
    }

    /// Adds a header.
    pub fn header(self, name: &str, value: &str) -> Self {
        self.map(|request| {
            let (name, value) = parse_header(name, value)?;
            request.headers_mut().insert(name, value);
            Ok(())
        })
    }

    /// Sets a JSON body.
    pub fn json_body<B: Serialize + ?Sized>(self, body: &B) -> Self {
        self.map(|request| {
            let bytes = serde_json::to_vec(body)
                .map_err(|err| HttpError::config(format!("cannot encode request body: {err}")))?;
            request.headers_mut().insert(
                reqwest::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            *request.as_reqwest_mut().body_mut() = Some(bytes.into());
            Ok(())
        })
    }

    /// A timeout for this request's attempts (overrides the client's).
    pub fn timeout(self, timeout: Duration) -> Self {
        self.extension(RequestTimeout(timeout))
    }

    /// Names the request in metrics (stream or endpoint name); default: the URL path.
    pub fn endpoint(self, name: &str) -> Self {
        self.extension(EndpointName(name.into()))
    }

    /// Attaches a value the middleware can read from the request's extensions.
    pub fn extension<T: Clone + Send + Sync + 'static>(self, value: T) -> Self {
        self.map(move |request| {
            request.extensions_mut().insert(value);
            Ok(())
        })
    }

    /// The request as built so far.
    pub fn build(self) -> Result<Request, HttpError> {
        self.request
    }

    /// Sends it; a non-success status is an [`HttpError::Status`].
    pub async fn send(self) -> Result<Response, HttpError> {
        self.client.execute(self.request?).await?.error_for_status()
    }

    /// Sends it and decodes the JSON body.
    pub async fn json<T: DeserializeOwned>(self) -> Result<T, HttpError> {
        self.send().await?.json()
    }

    /// Turns this (GET) request into a page stream driven by `paginator`.
    pub fn paginate(self, paginator: impl Paginator + 'static) -> Paged {
        Paged::new(self.client, self.request, Arc::new(paginator))
    }
}

/// Encodes a `Serialize` query into pairs (strings, numbers, booleans; `None` skipped).
fn serde_urlencoded_pairs<Q: Serialize + ?Sized>(
    query: &Q,
) -> Result<Vec<(String, String)>, HttpError> {
    let value = serde_json::to_value(query)
        .map_err(|err| HttpError::config(format!("cannot encode query: {err}")))?;
    let mut pairs = Vec::new();
    let mut push = |key: String, value: &serde_json::Value| {
        if let Some(text) = query_text(value) {
            pairs.push((key, text));
        }
    };
    match &value {
        serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| push(k.clone(), v)),
        serde_json::Value::Array(items) => {
            for item in items {
                match item.as_array().map(Vec::as_slice) {
                    Some([k, v]) => push(query_text(k).unwrap_or_default(), v),
                    _ => return Err(HttpError::config("query must be pairs or a struct")),
                }
            }
        }
        serde_json::Value::Null => {}
        _ => return Err(HttpError::config("query must be pairs or a struct")),
    }
    Ok(pairs)
}

/// A query value as text; `None` for null (the parameter is left out).
pub(crate) fn query_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_below_the_base_path() {
        let client = HttpClient::builder("https://api.test/v1")
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(
            client.url("/orders/7").unwrap().as_str(),
            "https://api.test/v1/orders/7"
        );
        assert_eq!(
            client.url("orders?x=1").unwrap().as_str(),
            "https://api.test/v1/orders?x=1"
        );
        assert_eq!(
            client.url("https://other.test/a").unwrap().as_str(),
            "https://other.test/a"
        );
        assert!(
            rustls::crypto::CryptoProvider::get_default().is_some(),
            "building installs a TLS provider"
        );
    }

    #[test]
    fn config_sets_user_agent_and_rejects_bad_values() {
        let config = HttpConfig {
            base_url: "not a url".into(),
            ..HttpConfig::default()
        };
        assert!(
            config
                .builder("tap-x", "1.0")
                .unwrap_err()
                .to_string()
                .contains("invalid base URL")
        );
        let mut config = HttpConfig {
            base_url: "http://h".into(),
            ..HttpConfig::default()
        };
        config.headers.insert("bad header".into(), "v".into());
        assert!(config.builder("tap-x", "1.0").is_err());
    }

    #[test]
    fn query_encoding_skips_none_and_prints_numbers() {
        let pairs =
            serde_urlencoded_pairs(&[("a", serde_json::json!(1)), ("b", serde_json::Value::Null)])
                .unwrap();
        assert_eq!(pairs, vec![("a".to_owned(), "1".to_owned())]);
    }
}
