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
use crate::error::{HttpError, redact_url};
use crate::paginate::json_path::lookup;
use futures::Stream;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::HashSet;

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

/// The `errors` array as one line: messages joined with `; `, each with its path.
fn error_messages(body: &Value) -> Option<String> {
    let errors = body
        .get("errors")?
        .as_array()
        .filter(|errors| !errors.is_empty())?;
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

/// Pages of one GraphQL connection.
#[must_use]
#[derive(Debug)]
pub struct ConnectionPages {
    graphql: GraphQl,
    query: String,
    variables: Value,
    connection: String,
    cursor_variable: String,
}

struct ConnectionState {
    pages: ConnectionPages,
    cursor: Option<String>,
    seen: HashSet<String>,
    done: bool,
}

impl ConnectionPages {
    /// The query variable that carries the cursor (default `after`).
    pub fn cursor_variable(mut self, name: &str) -> Self {
        self.cursor_variable = name.to_owned();
        self
    }

    /// The connection objects (with `nodes`/`edges` and `pageInfo`), one per page.
    pub fn pages(self) -> impl Stream<Item = Result<Value, HttpError>> + Send {
        let state = ConnectionState {
            pages: self,
            cursor: None,
            seen: HashSet::new(),
            done: false,
        };
        futures::stream::unfold(state, |mut state| async move {
            if state.done {
                return None;
            }
            let result = state.fetch().await;
            state.done = state.done || result.is_err();
            Some((result, state))
        })
    }

    /// The nodes of every page (`nodes`, or `edges[].node`), decoded as `T`.
    pub fn nodes<T: DeserializeOwned + Send + 'static>(
        self,
    ) -> impl Stream<Item = Result<T, HttpError>> + Send {
        use futures::StreamExt;
        let url = self.graphql.redacted_url();
        self.pages().flat_map(move |page| {
            let items: Vec<Result<T, HttpError>> = match page {
                Ok(page) => take_nodes(page)
                    .into_iter()
                    .map(|node| decode_node(node, &url))
                    .collect(),
                Err(err) => vec![Err(err)],
            };
            futures::stream::iter(items)
        })
    }
}

impl ConnectionState {
    async fn fetch(&mut self) -> Result<Value, HttpError> {
        let mut variables = self.pages.variables.clone();
        if let (Some(cursor), Value::Object(map)) = (&self.cursor, &mut variables) {
            map.insert(
                self.pages.cursor_variable.clone(),
                Value::String(cursor.clone()),
            );
        }
        let data = self
            .pages
            .graphql
            .data(&self.pages.query, &variables)
            .await?;
        let url = self.pages.graphql.redacted_url();
        let connection = lookup(&data, &self.pages.connection)
            .cloned()
            .ok_or_else(|| HttpError::Decode {
                method: reqwest::Method::POST,
                url: url.clone(),
                message: format!("no connection at data.{}", self.pages.connection),
                body_excerpt: String::new(),
            })?;
        let has_next = lookup(&connection, "pageInfo.hasNextPage")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let end_cursor = lookup(&connection, "pageInfo.endCursor")
            .and_then(Value::as_str)
            .map(str::to_owned);
        match end_cursor.filter(|_| has_next) {
            Some(cursor) if !self.seen.insert(cursor.clone()) => {
                return Err(HttpError::PaginationLoop {
                    url,
                    cursor: Some(cursor),
                });
            }
            Some(cursor) => self.cursor = Some(cursor),
            None => self.done = true,
        }
        Ok(connection)
    }
}

fn take_nodes(mut connection: Value) -> Vec<Value> {
    if let Some(Value::Array(nodes)) = connection.get_mut("nodes").map(Value::take) {
        return nodes;
    }
    match connection.get_mut("edges").map(Value::take) {
        Some(Value::Array(edges)) => edges
            .into_iter()
            .filter_map(|mut edge| edge.get_mut("node").map(Value::take))
            .collect(),
        _ => Vec::new(),
    }
}

fn decode_node<T: DeserializeOwned>(node: Value, url: &str) -> Result<T, HttpError> {
    serde_json::from_value(node).map_err(|err| HttpError::Decode {
        method: reqwest::Method::POST,
        url: url.to_owned(),
        message: format!("GraphQL node does not match the expected type: {err}"),
        body_excerpt: String::new(),
    })
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

    #[test]
    fn nodes_from_nodes_or_edges() {
        assert_eq!(
            take_nodes(json!({"nodes": [1, 2]})),
            vec![json!(1), json!(2)]
        );
        assert_eq!(take_nodes(json!({"edges": [{"node": 3}]})), vec![json!(3)]);
    }
}
