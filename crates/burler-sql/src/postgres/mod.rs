//! PostgreSQL: discovery from `pg_catalog`, rows decoded from the binary protocol, and LOG_BASED
//! replication by logical decoding ([`logical`]).
//!
//! Each session sets `DateStyle=ISO`, `TimeZone=UTC`, `IntervalStyle=iso_8601` and
//! `extra_float_digits=3`, so every value read as text has one layout (and floats their exact
//! digits). Integers, floats, booleans, text, dates, times and timestamps, and `bytea` are read in
//! their binary form and written straight into the record; numerics, arrays, JSON, UUIDs and every
//! other type are read as the server's text form (`::text`) and converted (see [`crate::types`]).
//! Domains are typed by their base type, enums are text.

mod binary;
pub mod logical;
mod pgoutput;
mod text;

use std::str::FromStr;

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use serde::{Deserialize, Serializer};
use sqlx::Pool;
use sqlx::postgres::{PgConnectOptions, PgRow, PgSslMode};

use crate::dialect::{Dialect, Role, quote};
use crate::error::SqlError;
use crate::table::{Column, Table};
use crate::tap::SourceConfig;
use crate::types::{DecimalMode, ValueKind};

/// The PostgreSQL dialect.
#[derive(Debug, Clone, Copy)]
pub struct Postgres;

/// Settings of a PostgreSQL source: a URL, or its parts.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
pub struct PostgresConfig {
    /// Connection URL (`postgres://user:password@host:5432/db?sslmode=require`); wins over the
    /// separate keys.
    #[serde(default)]
    #[schemars(extend("secret" = true))]
    pub url: Option<String>,
    /// Server host (default `localhost`, or `PGHOST`).
    #[serde(default)]
    pub host: Option<String>,
    /// Server port (default 5432).
    #[serde(default)]
    pub port: Option<u16>,
    /// User name.
    #[serde(default)]
    pub user: Option<String>,
    /// Password.
    #[serde(default)]
    #[schemars(extend("secret" = true))]
    pub password: Option<String>,
    /// Database name.
    #[serde(default)]
    pub database: Option<String>,
    /// TLS: `disable`, `prefer` (default), `require`, `verify-ca` or `verify-full`.
    #[serde(default)]
    pub ssl_mode: Option<String>,
    /// CA certificate file for `verify-ca` / `verify-full`.
    #[serde(default)]
    pub ssl_root_cert: Option<std::path::PathBuf>,
    /// Schemas to discover; empty or absent: every schema but the system ones.
    #[serde(default)]
    pub filter_schemas: Vec<String>,
    /// How `numeric` columns are written: `number` (default) or `string` (`format: singer.decimal`).
    #[serde(default)]
    pub decimal: DecimalMode,
    /// INCREMENTAL streams on a date or date-time key start here on their first run (RFC 3339).
    #[serde(default)]
    #[schemars(extend("format" = "date-time"))]
    pub start_date: Option<burler::StartDate>,
    /// Connections the sync may open at once (default 4).
    #[serde(default)]
    pub max_connections: Option<u32>,
    /// LOG_BASED: the logical replication slot (plugin `pgoutput`), created when missing. Setting
    /// it also adds `_sdc_deleted_at` and `_sdc_lsn` to the discovered schemas.
    #[serde(default)]
    pub replication_slot: Option<String>,
    /// LOG_BASED: the publication the slot reads (default `burler`), created `FOR TABLE` the
    /// LOG_BASED tables when missing, extended with the ones it lacks.
    #[serde(default)]
    pub publication: Option<String>,
}

impl burler::TapConfig for PostgresConfig {
    fn start_date(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.start_date.map(|d| d.get())
    }
}

impl SourceConfig<Postgres> for PostgresConfig {
    fn source(&self) -> &PostgresConfig {
        self
    }
}

impl PostgresConfig {
    fn base_options(&self) -> Result<PgConnectOptions, SqlError> {
        if let Some(url) = &self.url {
            return PgConnectOptions::from_str(url)
                .map_err(|e| SqlError::Config(format!("url: {e}")));
        }
        let mut o = PgConnectOptions::new();
        if let Some(h) = &self.host {
            o = o.host(h);
        }
        if let Some(p) = self.port {
            o = o.port(p);
        }
        if let Some(u) = &self.user {
            o = o.username(u);
        }
        if let Some(p) = &self.password {
            o = o.password(p);
        }
        if let Some(d) = &self.database {
            o = o.database(d);
        }
        Ok(o)
    }
}

impl Dialect for Postgres {
    type Db = sqlx::Postgres;
    type Config = PostgresConfig;
    type Change = logical::Change;

    const NAME: &'static str = "PostgreSQL";

    fn connect_options(config: &PostgresConfig) -> Result<PgConnectOptions, SqlError> {
        let mut o = config.base_options()?;
        if let Some(mode) = &config.ssl_mode {
            let mode = PgSslMode::from_str(mode).map_err(|_| {
                SqlError::Config(format!(
                    "ssl_mode {mode:?}: expected disable, allow, prefer, require, verify-ca or verify-full"
                ))
            })?;
            o = o.ssl_mode(mode);
        }
        if let Some(cert) = &config.ssl_root_cert {
            o = o.ssl_root_cert(cert);
        }
        Ok(o.application_name("burler").options([
            ("DateStyle", "ISO"),
            ("TimeZone", "UTC"),
            ("IntervalStyle", "iso_8601"),
            ("extra_float_digits", "3"),
            // LOG_BASED's marker transaction must be on disk before the log is read.
            ("synchronous_commit", "on"),
        ]))
    }

    fn target(config: &PostgresConfig) -> String {
        match config.base_options() {
            Ok(o) => format!(
                "postgres://{}@{}:{}/{}",
                o.get_username(),
                o.get_host(),
                o.get_port(),
                o.get_database().unwrap_or_default()
            ),
            Err(_) => "postgres (unreadable url)".into(),
        }
    }

    fn max_connections(config: &PostgresConfig) -> u32 {
        config.max_connections.unwrap_or(4).max(1)
    }

    fn decimal_mode(config: &PostgresConfig) -> DecimalMode {
        config.decimal
    }

    fn log_fields(config: &PostgresConfig) -> bool {
        config.replication_slot.is_some()
    }

    fn discover<'a>(
        pool: &'a Pool<sqlx::Postgres>,
        config: &'a PostgresConfig,
    ) -> BoxFuture<'a, Result<Vec<Table>, SqlError>> {
        Box::pin(discover(pool, config))
    }

    fn fetch<'a>(
        pool: &'a Pool<sqlx::Postgres>,
        sql: &'a str,
        params: Vec<String>,
    ) -> BoxStream<'a, Result<PgRow, sqlx::Error>> {
        let mut query = sqlx::query(sql);
        for p in params {
            query = query.bind(p);
        }
        query.fetch(pool).boxed()
    }

    fn select_expr(column: &Column) -> String {
        let name = quote(&column.name);
        if column.sql_type == "oid" {
            return format!("{name}::int8");
        }
        if binary::reads_binary(&column.kind) {
            name
        } else {
            format!("{name}::text")
        }
    }

    fn param_expr(column: &Column, n: usize, _role: Role) -> String {
        match column.kind {
            ValueKind::Bytes => format!("decode(${n}, 'base64')"),
            _ => format!("CAST(${n} AS {})", column.sql_type),
        }
    }

    fn write_cell<S: Serializer>(
        column: &Column,
        decimal: DecimalMode,
        row: &PgRow,
        index: usize,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        binary::write_cell(column, decimal, row, index, s)
    }

    fn sync_log_based<C: SourceConfig<Self>>(
        ctx: crate::sync::SqlContext<Self, C>,
        plan: std::sync::Arc<crate::plan::TablePlan>,
    ) -> BoxFuture<'static, burler::SyncResult> {
        Box::pin(logical::sync(ctx, plan))
    }
}

/// A relation of `pg_class`, before its columns are known.
type Relation = (i64, String, String, String, f64);
/// A column of `pg_attribute` with its (base) type.
type AttributeRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    bool,
    Option<i32>,
);

const RELATIONS: &str =
    "SELECT c.oid::int8, n.nspname::text, c.relname::text, c.relkind::text, c.reltuples::float8
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  AND (cardinality($1::text[]) = 0 OR n.nspname = ANY($1::text[]))
  AND has_table_privilege(c.oid, 'SELECT')
ORDER BY n.nspname, c.relname";

const ATTRIBUTES: &str = "SELECT a.attrelid::int8, a.attname::text, format_type(a.atttypid, a.atttypmod),
  bt.typname::text, bt.typtype::text, bt.typcategory::text, et.typname::text, et.typtype::text,
  a.attnotnull, CASE WHEN bt.typname IN ('varchar', 'bpchar') AND a.atttypmod > 4 THEN a.atttypmod - 4 END
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_catalog.pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A'
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND (cardinality($1::text[]) = 0 OR n.nspname = ANY($1::text[]))
ORDER BY a.attrelid, a.attnum";

const PRIMARY_KEYS: &str = "SELECT con.conrelid::int8, a.attname::text
FROM pg_catalog.pg_constraint con
CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
WHERE con.contype = 'p'
ORDER BY con.conrelid, k.ord";

/// `{"a","b"}`: a text array literal of `names`, bound as one text parameter.
fn text_array(names: &[String]) -> String {
    let quoted: Vec<String> = names
        .iter()
        .map(|n| format!("\"{}\"", n.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{{{}}}", quoted.join(","))
}

async fn discover(
    pool: &Pool<sqlx::Postgres>,
    config: &PostgresConfig,
) -> Result<Vec<Table>, SqlError> {
    let error = |source| SqlError::Discover {
        database: Postgres::target(config),
        source,
    };
    let schemas = text_array(&config.filter_schemas);
    let database: String = sqlx::query_scalar("SELECT current_database()::text")
        .fetch_one(pool)
        .await
        .map_err(error)?;
    let relations: Vec<Relation> = sqlx::query_as(RELATIONS)
        .bind(&schemas)
        .fetch_all(pool)
        .await
        .map_err(error)?;
    let attributes: Vec<AttributeRow> = sqlx::query_as(ATTRIBUTES)
        .bind(&schemas)
        .fetch_all(pool)
        .await
        .map_err(error)?;
    let keys: Vec<(i64, String)> = sqlx::query_as(PRIMARY_KEYS)
        .fetch_all(pool)
        .await
        .map_err(error)?;
    Ok(relations
        .into_iter()
        .map(|(oid, schema, name, kind, tuples)| Table {
            database: database.clone(),
            schema,
            name,
            is_view: kind == "v" || kind == "m",
            row_count: (tuples >= 0.0 && kind != "v").then_some(tuples.round() as i64),
            columns: attributes
                .iter()
                .filter(|a| a.0 == oid)
                .map(column_of)
                .collect(),
            primary_key: keys
                .iter()
                .filter(|k| k.0 == oid)
                .map(|k| k.1.clone())
                .collect(),
        })
        .collect())
}

fn column_of(a: &AttributeRow) -> Column {
    let (_, name, sql_type, base, typtype, category, elem, elem_type, not_null, max_length) = a;
    let kind = if category == "A" {
        ValueKind::Array(Box::new(kind_of(
            elem.as_deref().unwrap_or_default(),
            elem_type.as_deref().unwrap_or_default(),
        )))
    } else {
        kind_of(base, typtype)
    };
    Column {
        name: name.clone(),
        sql_type: sql_type.clone(),
        kind,
        nullable: !not_null,
        max_length: max_length.and_then(|n| u32::try_from(n).ok()),
    }
}

/// The kind of a (base) type, by its `pg_type` name and `typtype`.
pub(crate) fn kind_of(typname: &str, typtype: &str) -> ValueKind {
    match typname {
        "int2" | "int4" | "int8" | "oid" => ValueKind::Integer,
        "float4" | "float8" => ValueKind::Float,
        "numeric" => ValueKind::Decimal,
        "text" | "varchar" | "bpchar" | "name" | "citext" | "char" => ValueKind::Text,
        "bool" => ValueKind::Boolean,
        "date" => ValueKind::Date,
        "time" => ValueKind::Time,
        "timetz" => ValueKind::TimeTz,
        "timestamp" => ValueKind::Timestamp,
        "timestamptz" => ValueKind::TimestampTz,
        "json" | "jsonb" => ValueKind::Json,
        "uuid" => ValueKind::Uuid,
        "bytea" => ValueKind::Bytes,
        _ if typtype == "e" => ValueKind::Text,
        _ => ValueKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_types_map_to_kinds() {
        assert_eq!(kind_of("int8", "b"), ValueKind::Integer);
        assert_eq!(kind_of("numeric", "b"), ValueKind::Decimal);
        assert_eq!(kind_of("timestamptz", "b"), ValueKind::TimestampTz);
        assert_eq!(kind_of("mood", "e"), ValueKind::Text);
        assert_eq!(kind_of("interval", "b"), ValueKind::Other);
        assert_eq!(text_array(&["a".into(), "b\"c".into()]), r#"{"a","b\"c"}"#);
    }

    #[test]
    fn binary_columns_are_read_as_they_are_and_the_others_as_text() {
        let col = |kind, sql: &str| Column {
            name: "c".into(),
            sql_type: sql.into(),
            kind,
            nullable: true,
            max_length: None,
        };
        assert_eq!(
            Postgres::select_expr(&col(ValueKind::Integer, "integer")),
            "\"c\""
        );
        assert_eq!(
            Postgres::select_expr(&col(ValueKind::Integer, "oid")),
            "\"c\"::int8"
        );
        assert_eq!(
            Postgres::select_expr(&col(ValueKind::Decimal, "numeric(10,2)")),
            "\"c\"::text"
        );
        assert_eq!(
            Postgres::param_expr(
                &col(ValueKind::TimestampTz, "timestamp with time zone"),
                2,
                Role::Key
            ),
            "CAST($2 AS timestamp with time zone)"
        );
        assert_eq!(
            Postgres::param_expr(&col(ValueKind::Bytes, "bytea"), 1, Role::Key),
            "decode($1, 'base64')"
        );
    }
}
