//! The map from SQL types to JSON Schema: each column gets a [`ValueKind`], which decides both its
//! schema in the catalog and how its values are written into records.
//!
//! | kind | SQL types (PostgreSQL; SQLite by declared type) | JSON Schema | value written |
//! |---|---|---|---|
//! | `Integer` | `smallint`, `integer`, `bigint`, `serial`s, `oid`; SQLite `INT…` | `integer` | number |
//! | `Float` | `real`, `double precision`; SQLite `REAL`, `FLOA…`, `DOUB…` | `number` | number; NaN and ±Infinity are written `null` |
//! | `Decimal` | `numeric`, `decimal`; SQLite `NUMERIC`, `DECIMAL` | `number`, or `string` with `format: singer.decimal` when the config says `"decimal": "string"` | the exact digits (never through a float); NaN/Infinity `null` |
//! | `Text` | `text`, `varchar(n)`, `char(n)`, `name`, `citext`, enums; SQLite `…CHAR…`, `CLOB`, `TEXT` | `string` (`maxLength` n when declared) | string |
//! | `Boolean` | `boolean`; SQLite `BOOL…` (0/1) | `boolean` | `true`/`false` |
//! | `Date` | `date`; SQLite `DATE` | `string`, `format: date` | `2024-01-31` |
//! | `Time` | `time`; SQLite `TIME` | `string`, `format: time` | `13:45:00.25` |
//! | `TimeTz` | `time with time zone` | `string`, `format: time` | `13:45:00+02:00` |
//! | `Timestamp` | `timestamp`; SQLite `DATETIME`, `TIMESTAMP` | `string`, `format: date-time` | RFC 3339 in UTC: a value without a zone is read as UTC (`2024-01-31T13:45:00.123456Z`) |
//! | `TimestampTz` | `timestamp with time zone` | `string`, `format: date-time` | RFC 3339 in UTC |
//! | `Json` | `json`, `jsonb`; SQLite `JSON` | any JSON type (`object`, `array`, `string`, `number`, `boolean`, `null`) | the document itself, not a string |
//! | `Uuid` | `uuid`; SQLite `UUID` | `string`, `format: uuid` | `a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11` |
//! | `Bytes` | `bytea`; SQLite `BLOB` | `string`, `contentEncoding: base64` | standard base64 |
//! | `Array(k)` | any array, e.g. `integer[]`, `text[]` | `array` of `k`'s schema (elements nullable) | JSON array; multi-dimensional arrays nest |
//! | `Other` | anything else: `interval` (ISO 8601 durations), `money`, `inet`, `xml`, geometric, range, bit types, … | `string` | the server's text form of the value |
//!
//! Nullable columns get `["null", type]`; primary-key columns are never nullable. The exact SQL
//! type of every column is kept in the catalog metadata as `sql-datatype`, so a target (or an
//! author's metadata hook) can tell `Other` columns apart.

use serde::Deserialize;
use serde_json::{Value, json};

/// How `numeric`/`decimal` columns are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DecimalMode {
    /// As JSON numbers with the exact digits (targets may read them as floats).
    #[default]
    Number,
    /// As strings with `format: singer.decimal`: exact in every target that knows the format.
    String,
}

/// What a column holds, as far as JSON is concerned: decides its schema and its encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueKind {
    /// Whole numbers.
    Integer,
    /// Binary floating point.
    Float,
    /// Exact decimals.
    Decimal,
    /// Character strings.
    Text,
    /// Booleans.
    Boolean,
    /// Calendar dates.
    Date,
    /// Times of day without a zone.
    Time,
    /// Times of day with a zone offset.
    TimeTz,
    /// Date-times without a zone (read as UTC).
    Timestamp,
    /// Date-times with a zone (written in UTC).
    TimestampTz,
    /// JSON documents.
    Json,
    /// UUIDs.
    Uuid,
    /// Binary strings, written as base64.
    Bytes,
    /// Arrays of another kind.
    Array(Box<ValueKind>),
    /// Anything else, written as the server's text form.
    Other,
}

impl ValueKind {
    /// The column's JSON Schema; `max_length` is the declared length of a character column.
    pub fn json_schema(
        &self,
        nullable: bool,
        decimal: DecimalMode,
        max_length: Option<u32>,
    ) -> Value {
        let mut schema = match self {
            ValueKind::Integer => json!({"type": "integer"}),
            ValueKind::Float => json!({"type": "number"}),
            ValueKind::Decimal => match decimal {
                DecimalMode::Number => json!({"type": "number"}),
                DecimalMode::String => json!({"type": "string", "format": "singer.decimal"}),
            },
            ValueKind::Text | ValueKind::Other => json!({"type": "string"}),
            ValueKind::Boolean => json!({"type": "boolean"}),
            ValueKind::Date => json!({"type": "string", "format": "date"}),
            ValueKind::Time | ValueKind::TimeTz => json!({"type": "string", "format": "time"}),
            ValueKind::Timestamp | ValueKind::TimestampTz => {
                json!({"type": "string", "format": "date-time"})
            }
            // A JSON column may hold any JSON value, `null` included, whatever its constraint.
            ValueKind::Json => {
                return json!({"type": ["object", "array", "string", "number", "boolean", "null"]});
            }
            ValueKind::Uuid => json!({"type": "string", "format": "uuid"}),
            ValueKind::Bytes => json!({"type": "string", "contentEncoding": "base64"}),
            ValueKind::Array(element) => {
                json!({"type": "array", "items": element.json_schema(true, decimal, None)})
            }
        };
        if let (Some(n), ValueKind::Text) = (max_length, self) {
            schema["maxLength"] = Value::from(n);
        }
        if nullable {
            let kind = schema["type"].take();
            schema["type"] = json!(["null", kind]);
        }
        schema
    }

    /// Whether values of this kind are date-times or dates (a `start_date` applies to them).
    pub fn is_temporal(&self) -> bool {
        matches!(
            self,
            ValueKind::Date | ValueKind::Timestamp | ValueKind::TimestampTz
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_schema() {
        let n = DecimalMode::Number;
        let cases = [
            (ValueKind::Integer, json!({"type": "integer"})),
            (ValueKind::Float, json!({"type": "number"})),
            (ValueKind::Decimal, json!({"type": "number"})),
            (ValueKind::Boolean, json!({"type": "boolean"})),
            (ValueKind::Date, json!({"type": "string", "format": "date"})),
            (
                ValueKind::TimeTz,
                json!({"type": "string", "format": "time"}),
            ),
            (
                ValueKind::TimestampTz,
                json!({"type": "string", "format": "date-time"}),
            ),
            (ValueKind::Uuid, json!({"type": "string", "format": "uuid"})),
            (
                ValueKind::Bytes,
                json!({"type": "string", "contentEncoding": "base64"}),
            ),
            (ValueKind::Other, json!({"type": "string"})),
        ];
        for (kind, schema) in cases {
            assert_eq!(kind.json_schema(false, n, None), schema, "{kind:?}");
        }
        assert_eq!(
            ValueKind::Decimal.json_schema(true, DecimalMode::String, None),
            json!({"type": ["null", "string"], "format": "singer.decimal"})
        );
        assert_eq!(
            ValueKind::Text.json_schema(true, n, Some(20)),
            json!({"type": ["null", "string"], "maxLength": 20})
        );
        assert_eq!(
            ValueKind::Array(Box::new(ValueKind::Integer)).json_schema(false, n, None),
            json!({"type": "array", "items": {"type": ["null", "integer"]}})
        );
        assert_eq!(
            ValueKind::Json.json_schema(false, n, None)["type"][5],
            json!("null")
        );
    }
}
