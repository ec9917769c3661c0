//! SQLite, the embedded default: a database file, no server.
//!
//! Types come from each column's declared type, by SQLite's own affinity rules refined by name
//! (`BOOLEAN`, `DATE`, `DATETIME`/`TIMESTAMP`, `TIME`, `JSON`, `UUID`, `DECIMAL`/`NUMERIC`); see
//! [`crate::types`]. SQLite is dynamically typed, so each value is written by what it holds:
//! an `INTEGER` in a `BOOLEAN` column is `true`/`false`, ISO 8601 text in a date-time column is
//! RFC 3339 UTC (no zone means UTC), a number in a date-time column is Unix seconds, text in a
//! `JSON` column is the document. A value of a class the column's type does not expect is written
//! as it is stored (text as a string, a blob as base64).
//!
//! Date-time replication keys are compared with `julianday()` (millisecond precision, whatever
//! the text layout); `>=` keeps rows of the same millisecond as the bookmark. Primary keys are
//! compared as stored.

use std::path::{Path, PathBuf};

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteRow, SqliteValueRef};
use sqlx::{Decode, Pool, Row as _, TypeInfo, ValueRef};

use crate::dialect::{Dialect, Role, quote};
use crate::encode::{self, Base64, DateText, Float, RawJson, TimeText, TimestampText};
use crate::error::SqlError;
use crate::table::{Column, Table};
use crate::tap::SourceConfig;
use crate::types::{DecimalMode, ValueKind};

/// The SQLite dialect.
#[derive(Debug, Clone, Copy)]
pub struct Sqlite;

/// Settings of a SQLite source.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
pub struct SqliteConfig {
    /// Path of the database file (opened read-only).
    pub database: PathBuf,
    /// Tables and views to sync, by name; empty or absent: all of them.
    #[serde(default)]
    pub tables: Vec<String>,
    /// How `NUMERIC`/`DECIMAL` columns are written: `number` (default) or `string`
    /// (`format: singer.decimal`).
    #[serde(default)]
    pub decimal: DecimalMode,
    /// INCREMENTAL streams on a date-time key start here on their first run (RFC 3339).
    #[serde(default)]
    #[schemars(extend("format" = "date-time"))]
    pub start_date: Option<burler::StartDate>,
}

impl burler::TapConfig for SqliteConfig {
    fn start_date(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.start_date.map(|d| d.get())
    }
}

impl SourceConfig<Sqlite> for SqliteConfig {
    fn source(&self) -> &SqliteConfig {
        self
    }
}

impl Dialect for Sqlite {
    type Db = sqlx::Sqlite;
    type Config = SqliteConfig;
    type Change = ();

    const NAME: &'static str = "SQLite";

    fn connect_options(config: &SqliteConfig) -> Result<SqliteConnectOptions, SqlError> {
        if !config.database.is_file() {
            return Err(SqlError::Config(format!(
                "database {}: no such file",
                config.database.display()
            )));
        }
        Ok(SqliteConnectOptions::new()
            .filename(&config.database)
            .read_only(true))
    }

    fn target(config: &SqliteConfig) -> String {
        config.database.display().to_string()
    }

    fn decimal_mode(config: &SqliteConfig) -> DecimalMode {
        config.decimal
    }

    fn discover<'a>(
        pool: &'a Pool<sqlx::Sqlite>,
        config: &'a SqliteConfig,
    ) -> BoxFuture<'a, Result<Vec<Table>, SqlError>> {
        Box::pin(async move {
            let database = database_name(&config.database);
            let error = |source| SqlError::Discover {
                database: config.database.display().to_string(),
                source,
            };
            let listed: Vec<(String, String)> = sqlx::query_as(
                "SELECT name, type FROM main.sqlite_master WHERE type IN ('table', 'view') \
                 AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
            )
            .fetch_all(pool)
            .await
            .map_err(error)?;
            let mut tables = Vec::new();
            for (name, kind) in listed {
                if !config.tables.is_empty() && !config.tables.contains(&name) {
                    continue;
                }
                tables.push(
                    describe(pool, &database, name, kind == "view")
                        .await
                        .map_err(error)?,
                );
            }
            Ok(tables)
        })
    }

    fn stream_name(table: &Table) -> String {
        table.name.clone()
    }

    fn fetch<'a>(
        pool: &'a Pool<sqlx::Sqlite>,
        sql: &'a str,
        params: Vec<String>,
    ) -> BoxStream<'a, Result<SqliteRow, sqlx::Error>> {
        let mut query = sqlx::query(sql);
        for p in params {
            query = query.bind(p);
        }
        query.fetch(pool).boxed()
    }

    fn order_expr(column: &Column, role: Role) -> String {
        match (role, column.kind.is_temporal()) {
            (Role::ReplicationKey, true) => format!("julianday({})", quote(&column.name)),
            _ => quote(&column.name),
        }
    }

    fn param_expr(column: &Column, n: usize, role: Role) -> String {
        match (role, &column.kind) {
            (Role::ReplicationKey, k) if k.is_temporal() => format!("julianday(?{n})"),
            (_, ValueKind::Integer | ValueKind::Boolean) => format!("CAST(?{n} AS INTEGER)"),
            (_, ValueKind::Float) => format!("CAST(?{n} AS REAL)"),
            (_, ValueKind::Decimal) => format!("CAST(?{n} AS NUMERIC)"),
            _ => format!("?{n}"),
        }
    }

    fn write_cell<S: Serializer>(
        column: &Column,
        decimal: DecimalMode,
        row: &SqliteRow,
        index: usize,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let value = row.try_get_raw(index).map_err(serde::ser::Error::custom)?;
        write_value(&column.kind, decimal, value, s)
    }

    fn key_value(_column: &Column, row: &SqliteRow, index: usize) -> Value {
        // Compared as stored: the value itself, not its JSON rendering.
        let Ok(value) = row.try_get_raw(index) else {
            return Value::Null;
        };
        if value.is_null() {
            return Value::Null;
        }
        match value.type_info().name() {
            "INTEGER" => decode::<i64>(value).map_or(Value::Null, Value::from),
            "REAL" => decode::<f64>(value).map_or(Value::Null, Value::from),
            "BLOB" => decode::<&[u8]>(value).map_or(Value::Null, |b| {
                Value::from(base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    b,
                ))
            }),
            _ => decode::<&str>(value).map_or(Value::Null, Value::from),
        }
    }
}

fn decode<'r, T: Decode<'r, sqlx::Sqlite>>(value: SqliteValueRef<'r>) -> Option<T> {
    T::decode(value).ok()
}

/// The file's stem: what `database-name` says.
fn database_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "main".into())
}

/// Columns, key and row count of one table or view.
async fn describe(
    pool: &Pool<sqlx::Sqlite>,
    database: &str,
    name: String,
    is_view: bool,
) -> Result<Table, sqlx::Error> {
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid",
    )
    .bind(&name)
    .fetch_all(pool)
    .await?;
    let mut keyed: Vec<(i64, String)> = rows
        .iter()
        .filter(|r| r.3 > 0)
        .map(|r| (r.3, r.0.clone()))
        .collect();
    keyed.sort();
    let columns = rows
        .into_iter()
        .map(|(col, declared, notnull, pk)| {
            let (kind, max_length) = kind_of(&declared);
            Column {
                name: col,
                sql_type: declared,
                kind,
                nullable: notnull == 0 && pk == 0,
                max_length,
            }
        })
        .collect();
    let row_count = if is_view {
        None
    } else {
        let sql = format!("SELECT count(*) FROM main.{}", quote(&name));
        Some(sqlx::query_scalar::<_, i64>(&sql).fetch_one(pool).await?)
    };
    Ok(Table {
        database: database.to_owned(),
        schema: "main".into(),
        name,
        is_view,
        row_count,
        columns,
        primary_key: keyed.into_iter().map(|(_, n)| n).collect(),
    })
}

/// The kind of a declared type: SQLite's affinity rules, refined by the common type names.
pub(crate) fn kind_of(declared: &str) -> (ValueKind, Option<u32>) {
    let t = declared.to_ascii_uppercase();
    let base = t.split('(').next().unwrap_or_default().trim();
    let kind = match base {
        _ if t.contains("BOOL") => ValueKind::Boolean,
        "DATE" => ValueKind::Date,
        "TIME" => ValueKind::Time,
        _ if t.contains("DATETIME") || t.contains("TIMESTAMP") => ValueKind::Timestamp,
        _ if t.contains("JSON") => ValueKind::Json,
        _ if t.contains("UUID") => ValueKind::Uuid,
        _ if t.contains("INT") => ValueKind::Integer,
        _ if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") => ValueKind::Text,
        _ if t.contains("BLOB") => ValueKind::Bytes,
        _ if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") => ValueKind::Float,
        _ if t.contains("DEC") || t.contains("NUMERIC") => ValueKind::Decimal,
        _ => ValueKind::Other,
    };
    let max_length = (kind == ValueKind::Text)
        .then(|| {
            t.split_once('(')?
                .1
                .trim_end_matches(')')
                .trim()
                .parse()
                .ok()
        })
        .flatten();
    (kind, max_length)
}

/// Writes one SQLite value of a column of `kind`, by the storage class it has.
fn write_value<S: Serializer>(
    kind: &ValueKind,
    decimal: DecimalMode,
    value: SqliteValueRef<'_>,
    s: S,
) -> Result<S::Ok, S::Error> {
    if value.is_null() {
        return s.serialize_none();
    }
    let class = value.type_info().name().to_owned();
    match class.as_str() {
        "INTEGER" => write_integer(kind, decimal, decode::<i64>(value).unwrap_or_default(), s),
        "REAL" => write_real(kind, decimal, decode::<f64>(value).unwrap_or_default(), s),
        "BLOB" => {
            let bytes = decode::<&[u8]>(value).unwrap_or_default();
            match (kind, std::str::from_utf8(bytes)) {
                (ValueKind::Text, Ok(text)) => s.serialize_str(text),
                _ => Base64(bytes).serialize(s),
            }
        }
        _ => write_text(kind, decimal, decode::<&str>(value).unwrap_or_default(), s),
    }
}

fn write_integer<S: Serializer>(
    kind: &ValueKind,
    decimal: DecimalMode,
    v: i64,
    s: S,
) -> Result<S::Ok, S::Error> {
    match kind {
        ValueKind::Boolean => s.serialize_bool(v != 0),
        ValueKind::Decimal if decimal == DecimalMode::String => s.collect_str(&v),
        ValueKind::Timestamp | ValueKind::TimestampTz | ValueKind::Date => {
            write_unix(kind, v.checked_mul(1_000_000), s)
        }
        ValueKind::Text | ValueKind::Other | ValueKind::Uuid => s.collect_str(&v),
        _ => s.serialize_i64(v),
    }
}

fn write_real<S: Serializer>(
    kind: &ValueKind,
    decimal: DecimalMode,
    v: f64,
    s: S,
) -> Result<S::Ok, S::Error> {
    match kind {
        ValueKind::Decimal if decimal == DecimalMode::String && v.is_finite() => s.collect_str(&v),
        ValueKind::Timestamp | ValueKind::TimestampTz | ValueKind::Date => {
            let micros = (v * 1e6).round();
            let fits = micros.is_finite() && micros.abs() < 9.0e18;
            write_unix(kind, fits.then_some(micros as i64), s)
        }
        ValueKind::Text | ValueKind::Other => s.collect_str(&v),
        _ => Float(v).serialize(s),
    }
}

/// Unix microseconds as a date-time, or a date.
fn write_unix<S: Serializer>(
    kind: &ValueKind,
    micros: Option<i64>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let text = match (kind, micros) {
        (ValueKind::Date, Some(m)) => encode::format_date(m.div_euclid(86_400_000_000)),
        (_, Some(m)) => encode::format_timestamp(m),
        (_, None) => None,
    };
    match text {
        Some(t) => t.serialize(s),
        None => s.serialize_none(),
    }
}

fn write_text<S: Serializer>(
    kind: &ValueKind,
    decimal: DecimalMode,
    text: &str,
    s: S,
) -> Result<S::Ok, S::Error> {
    match kind {
        ValueKind::Timestamp | ValueKind::TimestampTz => TimestampText(text).serialize(s),
        ValueKind::Date => DateText(text).serialize(s),
        ValueKind::Time | ValueKind::TimeTz => TimeText(text).serialize(s),
        ValueKind::Json => RawJson(text).serialize(s),
        ValueKind::Decimal => encode::Decimal {
            text,
            as_string: decimal == DecimalMode::String,
        }
        .serialize(s),
        ValueKind::Integer | ValueKind::Float if encode::is_json_number(text.trim()) => {
            RawJson(text.trim()).serialize(s)
        }
        ValueKind::Boolean => match text.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "t" | "yes" => s.serialize_bool(true),
            "0" | "false" | "f" | "no" => s.serialize_bool(false),
            _ => s.serialize_str(text),
        },
        _ => s.serialize_str(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_map_by_name_then_affinity() {
        let k = |t: &str| kind_of(t).0;
        assert_eq!(k("INTEGER"), ValueKind::Integer);
        assert_eq!(k("BIGINT"), ValueKind::Integer);
        assert_eq!(k("BOOLEAN"), ValueKind::Boolean);
        assert_eq!(k("DATETIME"), ValueKind::Timestamp);
        assert_eq!(k("timestamp"), ValueKind::Timestamp);
        assert_eq!(k("DATE"), ValueKind::Date);
        assert_eq!(k("TIME"), ValueKind::Time);
        assert_eq!(k("JSON"), ValueKind::Json);
        assert_eq!(k("UUID"), ValueKind::Uuid);
        assert_eq!(k("BLOB"), ValueKind::Bytes);
        assert_eq!(k("DOUBLE PRECISION"), ValueKind::Float);
        assert_eq!(k("DECIMAL(10,2)"), ValueKind::Decimal);
        assert_eq!(k(""), ValueKind::Other);
        assert_eq!(k("MONEY"), ValueKind::Other);
        assert_eq!(kind_of("VARCHAR(40)"), (ValueKind::Text, Some(40)));
    }

    #[test]
    fn replication_keys_on_dates_compare_by_julian_day_and_keys_as_stored() {
        let c = |kind| Column {
            name: "at".into(),
            sql_type: String::new(),
            kind,
            nullable: true,
            max_length: None,
        };
        assert_eq!(
            Sqlite::order_expr(&c(ValueKind::Timestamp), Role::ReplicationKey),
            "julianday(\"at\")"
        );
        assert_eq!(
            Sqlite::param_expr(&c(ValueKind::Timestamp), 2, Role::ReplicationKey),
            "julianday(?2)"
        );
        assert_eq!(
            Sqlite::order_expr(&c(ValueKind::Timestamp), Role::Key),
            "\"at\""
        );
        assert_eq!(
            Sqlite::param_expr(&c(ValueKind::Integer), 1, Role::Key),
            "CAST(?1 AS INTEGER)"
        );
    }
}
