//! What a database must provide to be a burler SQL source: how to connect, how to discover its
//! tables, how to write its SQL, and how to write its values as JSON.
//!
//! The sync logic ([`crate::sync`]) is written once against this trait; [`crate::Sqlite`] and
//! [`crate::Postgres`] implement it. Everything that touches the driver's concrete types lives in
//! the implementations, so the generic code needs no sqlx trait bounds.

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use std::sync::Arc;

use burler::SyncResult;
use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};
use serde_json::Value;
use sqlx::{Connection, Database, Pool};

use crate::error::SqlError;
use crate::plan::TablePlan;
use crate::sync::SqlContext;
use crate::table::{Column, Table};
use crate::tap::SourceConfig;
use crate::types::DecimalMode;

/// A row of dialect `D`.
pub type Row<D> = <<D as Dialect>::Db as Database>::Row;

/// The connect options of dialect `D`.
pub type ConnectOptions<D> = <<<D as Dialect>::Db as Database>::Connection as Connection>::Options;

/// A database burler can sync from.
pub trait Dialect: Sized + Send + Sync + 'static {
    /// The sqlx database.
    type Db: Database;
    /// The dialect's own settings (connection, schemas, decimal mode, …).
    type Config: DeserializeOwned + schemars::JsonSchema + Send + Sync + 'static;
    /// A change read from the database's log (LOG_BASED), written as a record.
    type Change: Serialize + Send + Sync + 'static;

    /// The database's name in logs (`SQLite`, `PostgreSQL`).
    const NAME: &'static str;

    /// How to connect, from the config.
    fn connect_options(config: &Self::Config) -> Result<ConnectOptions<Self>, SqlError>;

    /// The database as errors name it (no password).
    fn target(config: &Self::Config) -> String;

    /// How many connections the sync may open at once.
    fn max_connections(config: &Self::Config) -> u32 {
        let _ = config;
        4
    }

    /// How `numeric`/`decimal` columns are written.
    fn decimal_mode(config: &Self::Config) -> DecimalMode;

    /// Whether discovered schemas carry the LOG_BASED fields (`_sdc_deleted_at`, `_sdc_lsn`).
    fn log_fields(config: &Self::Config) -> bool {
        let _ = config;
        false
    }

    /// Lists the tables and views the config asks for, with their columns and keys.
    fn discover<'a>(
        pool: &'a Pool<Self::Db>,
        config: &'a Self::Config,
    ) -> BoxFuture<'a, Result<Vec<Table>, SqlError>>;

    /// The stream name (`tap_stream_id`) of a table.
    fn stream_name(table: &Table) -> String {
        format!("{}-{}", table.schema, table.name)
    }

    /// Runs `sql` with `params` (each bound as text) and streams its rows.
    fn fetch<'a>(
        pool: &'a Pool<Self::Db>,
        sql: &'a str,
        params: Vec<String>,
    ) -> BoxStream<'a, Result<Row<Self>, sqlx::Error>>;

    /// The expression that reads `column` in a SELECT list (a cast where the driver's binary form
    /// is not decoded).
    fn select_expr(column: &Column) -> String {
        quote(&column.name)
    }

    /// The expression a column is ordered and compared by, as a primary key or as a replication
    /// key.
    fn order_expr(column: &Column, role: Role) -> String {
        let _ = role;
        quote(&column.name)
    }

    /// The expression of the `n`-th (1-based) parameter holding a value of `column` as text: a
    /// key value from [`key_value`](Self::key_value), or a bookmark (the value as records carry
    /// it), in the type `order_expr` compares with.
    fn param_expr(column: &Column, n: usize, role: Role) -> String;

    /// Writes the value of column `index` of `row` as JSON.
    fn write_cell<S: Serializer>(
        column: &Column,
        decimal: DecimalMode,
        row: &Row<Self>,
        index: usize,
        s: S,
    ) -> Result<S::Ok, S::Error>;

    /// Syncs a LOG_BASED stream; databases without a change log refuse.
    fn sync_log_based<C: SourceConfig<Self>>(
        ctx: SqlContext<Self, C>,
        plan: Arc<TablePlan>,
    ) -> BoxFuture<'static, SyncResult> {
        let _ = ctx;
        Box::pin(async move {
            Err(SqlError::Unsupported {
                stream: plan.stream.clone(),
                problem: format!("{} has no change log: LOG_BASED is not supported; use INCREMENTAL or FULL_TABLE", Self::NAME),
            }
            .into())
        })
    }

    /// A key value of `row` as the state keeps it: what `param_expr` reads back, exactly.
    fn key_value(column: &Column, row: &Row<Self>, index: usize) -> Value {
        match Self::write_cell(
            column,
            DecimalMode::String,
            row,
            index,
            serde_json::value::Serializer,
        ) {
            Ok(v) => v,
            Err(_) => Value::Null,
        }
    }
}

/// What a compared column is to the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A primary-key column (FULL_TABLE order, resume after a checkpoint): compared with values
    /// as [`Dialect::key_value`] stored them.
    Key,
    /// The replication key (INCREMENTAL): compared with the bookmark, a value as records carry it.
    ReplicationKey,
}

/// `name` as a quoted SQL identifier (`"my ""odd"" name"`): the same in PostgreSQL and SQLite.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A JSON bookmark or key value as the text a query parameter carries.
pub(crate) fn param_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_and_parameters_are_text() {
        assert_eq!(quote("id"), "\"id\"");
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(param_text(&Value::from("x y")), "x y");
        assert_eq!(param_text(&Value::from(12.5)), "12.5");
    }
}
