//! GraphQL over HTTP: `query` + `variables` POSTs, `errors` as a typed error, and cursor
//! pagination of connections (`pageInfo { hasNextPage endCursor }`).
//!
//! ```no_run
//! use burler_http::HttpClient;
//! use futures::TryStreamExt;
//! use serde_json::json;
//!
//! # async fn run(client: HttpClient) -> Result<(), burler_http::HttpError> {
//! const ORDERS: &str = "query($after: String) { orders(first: 100, after: $after) {
//!     nodes { id total } pageInfo { hasNextPage endCursor } } }";
//! let orders: Vec<serde_json::Value> = client
//!     .graphql("graphql")
//!     .paginate(ORDERS, json!({}), "orders")
//!     .nodes()
//!     .try_collect()
//!     .await?;
//! # Ok(()) }
//! ```

use crate::client::HttpClient;
use crate::decode::PageShape;
use crate::error::{HttpError, redact_url};
use crate::paginate::{NextPage, Page, PageInfo, PageStream, Paged, Paginator, Records, resume};
use reqwest::Url;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// A GraphQL endpoint of a client.
#[derive(Debug, Clone)]
pub struct GraphQl {
    client: HttpClient,
    path: String,
    endpoint: Option<String>,
}

impl HttpClient {
    /// The GraphQL endpoint at `path` (relative to the base URL).
    pub fn graphql(&self, path: &str) -> GraphQl {
        GraphQl {
            client: self.clone(),
            path: path.to_owned(),
            endpoint: None,
        }
    }
}

impl GraphQl {
    /// Names requests in metrics (default: the URL path).
    pub fn endpoint(mut self, name: &str) -> Self {
        self.endpoint = Some(name.to_owned());
        self
    }

    /// Runs a query and decodes its `data`. A non-empty `errors` array is an
    /// [`HttpError::GraphQl`].
    pub async fn query<T: DeserializeOwned>(
        &self,
        query: &str,
        variables: Value,
    ) -> Result<T, HttpError> {
        let data = self.data(query, &variables).await?;
        serde_json::from_value(data).map_err(|err| HttpError::Decode {
            method: reqwest::Method::POST,
            url: self.redacted_url(),
            message: format!("GraphQL data does not match the expected type: {err}"),
            body_excerpt: String::new(),
        })
    }

    /// The connection at `connection` (a path inside `data`, e.g. `orders` or
    /// `viewer.repositories`), page after page; the cursor goes in variable `after`.
    pub fn paginate(&self, query: &str, variables: Value, connection: &str) -> ConnectionPages {
        ConnectionPages {
            graphql: self.clone(),
            query: query.to_owned(),
            variables,
            connection: connection.to_owned(),
            cursor_variable: "after".to_owned(),
            prefetch: crate::paginate::DEFAULT_PREFETCH,
            resume: None,
        }
    }

    fn redacted_url(&self) -> String {
        self.client
            .url(&self.path)
            .map(|url| redact_url(&url))
            .unwrap_or_else(|_| self.path.clone())
    }

    async fn data(&self, query: &str, variables: &Value) -> Result<Value, HttpError> {
        let mut request = self
            .client
            .post(&self.path)
            .json_body(&json!({"query": query, "variables": variables}));
        if let Some(name) = &self.endpoint {
            request = request.endpoint(name);
        }
        let response = request.send().await?;
        let mut body: Value = response.json()?;
        if let Some(messages) = error_messages(&body) {
            return Err(HttpError::GraphQl {
                url: self.redacted_url(),
                messages,
            });
        }
        match body.get_mut("data").map(Value::take) {
            Some(data) if !data.is_null() => Ok(data),
            _ => Err(response.decode_error("GraphQL response has no data")),
        }
    }
}

/// The `errors` array of a body as one line: messages joined with `; `, each with its path.
fn error_messages(body: &Value) -> Option<String> {
    error_messages_of(body.get("errors")?)
}

/// An `errors` array as one line; `None` when it is empty or not an array.
fn error_messages_of(errors: &Value) -> Option<String> {
    let errors = errors.as_array().filter(|errors| !errors.is_empty())?;
    let messages: Vec<String> = errors
        .iter()
        .map(|error| {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("unknown error");
            let path = error.get("path").and_then(Value::as_array).map(|segments| {
                segments
                    .iter()
                    .map(|s| s.as_str().map_or_else(|| s.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(".")
            });
            match path {
                Some(path) if !path.is_empty() => format!("{message} (at {path})"),
                _ => message.to_owned(),
            }
        })
        .collect();
    Some(messages.join("; "))
}

/// Pages of one GraphQL connection: `nodes` (or `edges[].node`) decoded straight from the body,
/// `pageInfo { hasNextPage endCursor }` and `errors` read in the same pass.
#[must_use]
#[derive(Debug)]
pub struct ConnectionPages {
    graphql: GraphQl,
    query: String,
    variables: Value,
    connection: String,
    cursor_variable: String,
    prefetch: usize,
    resume: Option<Value>,
}

impl ConnectionPages {
    /// The query variable that carries the cursor (default `after`).
    pub fn cursor_variable(mut self, name: &str) -> Self {
        self.cursor_variable = name.to_owned();
        self
    }

    /// How many pages may be fetched ahead of the page being read (default
    /// [`DEFAULT_PREFETCH`](crate::paginate::DEFAULT_PREFETCH); `0`: on demand).
    pub fn prefetch(mut self, pages: usize) -> Self {
        self.prefetch = pages;
        self
    }

    /// Starts at `point`, a [`Page::resume_point`] checkpointed by a previous read
    /// (`{"cursor": "…"}`; `None`: from the first page). See [`Paged::resume_at`].
    pub fn resume_at(mut self, point: Option<&Value>) -> Self {
        self.resume = point.cloned();
        self
    }

    fn paged(self) -> Paged {
        let connection = format!("data.{}", self.connection);
        let shape = PageShape::records_at(&format!("{connection}.nodes"))
            .records_each(&format!("{connection}.edges"), "node");
        let url = self.graphql.redacted_url();
        let mut request = self
            .graphql
            .client
            .post(&self.graphql.path)
            .json_body(&json!({"query": &self.query, "variables": &self.variables}));
        if let Some(name) = &self.graphql.endpoint {
            request = request.endpoint(name);
        }
        let paginator = ConnectionPaginator {
            url,
            query: self.query,
            variables: self.variables,
            cursor_variable: self.cursor_variable,
            has_next: format!("{connection}.pageInfo.hasNextPage"),
            end_cursor: format!("{connection}.pageInfo.endCursor"),
            connection,
        };
        request
            .paginate(paginator)
            .with_shape(shape)
            .prefetch(self.prefetch)
            .resume_at(self.resume.as_ref())
    }

    /// The pages, their nodes decoded as `T`.
    pub fn pages<T: DeserializeOwned + Send + 'static>(self) -> PageStream<Page<T>> {
        self.paged().pages()
    }

    /// The nodes of every page, decoded as `T`, in page order.
    pub fn nodes<T: DeserializeOwned + Send + 'static>(self) -> Records<T> {
        self.paged().records()
    }
}

/// Reads `pageInfo` and `errors`, and sends the end cursor back in the query variables.
struct ConnectionPaginator {
    url: String,
    query: String,
    variables: Value,
    cursor_variable: String,
    connection: String,
    has_next: String,
    end_cursor: String,
}

impl Paginator for ConnectionPaginator {
    fn body_paths(&self) -> Vec<String> {
        vec![
            "errors".to_owned(),
            "data".to_owned(),
            self.connection.clone(),
            self.has_next.clone(),
            self.end_cursor.clone(),
        ]
    }

    fn next(&self, page: &PageInfo) -> Result<Option<NextPage>, HttpError> {
        if let Some(messages) = page.value("errors").and_then(error_messages_of) {
            return Err(HttpError::GraphQl {
                url: self.url.clone(),
                messages,
            });
        }
        if !page.contains("data") {
            return Err(page.decode_error("GraphQL response has no data"));
        }
        if !page.contains(&self.connection) {
            return Err(page.decode_error(format!("no connection at {}", self.connection)));
        }
        let has_next = page.value(&self.has_next).and_then(Value::as_bool) == Some(true);
        let Some(cursor) = page.text(&self.end_cursor).filter(|_| has_next) else {
            return Ok(None);
        };
        self.page_after(page.url(), cursor).map(Some)
    }

    /// `{"cursor": "…"}`: a resumed read sends the query with it, so a query changed since
    /// the checkpoint is sent as it is now.
    fn resume_point(&self, next: &NextPage) -> Value {
        resume::cursor_point(next)
    }

    fn resume_at(&self, first: &Url, point: &Value) -> Result<NextPage, HttpError> {
        let cursor = resume::read_cursor(first, point)?;
        self.page_after(first, cursor.to_owned())
    }
}

impl ConnectionPaginator {
    /// The request of the page after `cursor`: the query with the cursor variable set.
    fn page_after(&self, url: &Url, cursor: String) -> Result<NextPage, HttpError> {
        let mut variables = self.variables.clone();
        if let Value::Object(map) = &mut variables {
            map.insert(self.cursor_variable.clone(), Value::String(cursor.clone()));
        }
        let body = serde_json::to_vec(&json!({"query": &self.query, "variables": variables}))
            .map_err(|err| HttpError::config(format!("cannot encode GraphQL variables: {err}")))?;
        Ok(NextPage::new(url.clone()).cursor(cursor).body(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_joined_with_paths() {
        let body = json!({"errors": [
            {"message": "not allowed", "path": ["orders", 0, "customer"]},
            {"message": "rate limited"}
        ]});
        assert_eq!(
            error_messages(&body).unwrap(),
            "not allowed (at orders.0.customer); rate limited"
        );
        assert_eq!(error_messages(&json!({"errors": [], "data": {}})), None);
    }
}
