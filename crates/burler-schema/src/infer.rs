//! A JSON Schema guessed from sample records, for writing a stream's first schema.
//!
//! Types seen are merged (`integer` widens to `number`), a field missing from some records or
//! null in some is nullable (`"null"` first), strings are `format: date-time` (RFC 3339) or
//! `format: date` (`YYYY-MM-DD`) when every one of them parses so, and nested objects and array
//! items are merged the same way. A field only ever null becomes `["null", "string"]`.

use chrono::DateTime;
use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use crate::conform::parse_ymd;

/// Accumulates records, then says what schema they fit.
///
/// ```
/// use burler_schema::Inferrer;
/// use serde_json::json;
///
/// let mut inferrer = Inferrer::new();
/// inferrer.observe(&json!({"id": 1, "at": "2024-01-02T03:04:05Z"}));
/// inferrer.observe(&json!({"id": 2.5}));
/// let schema = inferrer.finish();
/// assert_eq!(schema["properties"]["id"], json!({"type": "number"}));
/// assert_eq!(schema["properties"]["at"], json!({"type": ["null", "string"], "format": "date-time"}));
/// ```
#[derive(Debug, Default, Clone)]
pub struct Inferrer {
    root: Shape,
}

impl Inferrer {
    /// An inferrer that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one record (or any JSON value) into account.
    pub fn observe(&mut self, record: &Value) {
        self.root.observe(record);
    }

    /// The schema of everything observed (`{"type": "object", "properties": {}}` for nothing).
    pub fn finish(&self) -> Value {
        if self.root.seen == 0 {
            return json!({"type": "object", "properties": {}});
        }
        self.root.schema(false)
    }
}

/// What was seen at one place of the records.
#[derive(Debug, Default, Clone)]
struct Shape {
    seen: u64,
    nulls: u64,
    booleans: u64,
    integers: u64,
    numbers: u64,
    strings: u64,
    date_times: u64,
    dates: u64,
    objects: u64,
    properties: IndexMap<String, Shape>,
    arrays: u64,
    items: Option<Box<Shape>>,
}

impl Shape {
    fn observe(&mut self, value: &Value) {
        self.seen += 1;
        match value {
            Value::Null => self.nulls += 1,
            Value::Bool(_) => self.booleans += 1,
            Value::Number(n) if n.is_i64() || n.is_u64() => self.integers += 1,
            Value::Number(_) => self.numbers += 1,
            Value::String(s) => {
                self.strings += 1;
                if parse_ymd(s).is_some() {
                    self.dates += 1;
                } else if DateTime::parse_from_rfc3339(s).is_ok() {
                    self.date_times += 1;
                }
            }
            Value::Array(values) => {
                self.arrays += 1;
                let items = self.items.get_or_insert_with(Box::default);
                for v in values {
                    items.observe(v);
                }
            }
            Value::Object(obj) => {
                self.objects += 1;
                for (name, v) in obj {
                    self.properties.entry(name.clone()).or_default().observe(v);
                }
            }
        }
    }

    /// The schema; `missing_somewhere` when the parent object lacked this field at times.
    fn schema(&self, missing_somewhere: bool) -> Value {
        let mut types = Vec::new();
        let only_null = self.seen == self.nulls;
        if self.nulls > 0 || missing_somewhere {
            types.push("null");
        }
        if self.booleans > 0 {
            types.push("boolean");
        }
        if self.numbers > 0 {
            types.push("number");
        } else if self.integers > 0 {
            types.push("integer");
        }
        if self.strings > 0 || only_null {
            types.push("string");
        }
        if self.objects > 0 {
            types.push("object");
        }
        if self.arrays > 0 {
            types.push("array");
        }
        let mut out = Map::new();
        out.insert(
            "type".into(),
            match types.as_slice() {
                [one] => json!(one),
                many => json!(many),
            },
        );
        if self.strings > 0 && self.dates == self.strings {
            out.insert("format".into(), json!("date"));
        } else if self.strings > 0 && self.date_times == self.strings {
            out.insert("format".into(), json!("date-time"));
        }
        if self.objects > 0 {
            let properties: Map<String, Value> = self
                .properties
                .iter()
                .map(|(name, shape)| {
                    let present = shape.seen;
                    (name.clone(), shape.schema(present < self.objects))
                })
                .collect();
            out.insert("properties".into(), Value::Object(properties));
        }
        if self.arrays > 0 {
            let items = match &self.items {
                Some(items) if items.seen > 0 => items.schema(false),
                _ => json!({}),
            };
            out.insert("items".into(), items);
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_merge_and_missing_fields_are_nullable() {
        let mut inf = Inferrer::new();
        inf.observe(&json!({"id": 1, "name": "a", "tags": ["x"], "addr": {"zip": "1"}, "day": "2024-01-01", "n": null}));
        inf.observe(&json!({"id": 2, "name": null, "tags": [], "addr": {"zip": 2, "city": "c"}, "day": "2024-01-02", "n": null}));
        let s = inf.finish();
        assert_eq!(
            s,
            json!({"type": "object", "properties": {
                "id": {"type": "integer"},
                "name": {"type": ["null", "string"]},
                "tags": {"type": "array", "items": {"type": "string"}},
                "addr": {"type": "object", "properties": {
                    "zip": {"type": ["integer", "string"]},
                    "city": {"type": ["null", "string"]}}},
                "day": {"type": "string", "format": "date"},
                "n": {"type": ["null", "string"]}}})
        );
    }

    #[test]
    fn a_non_date_string_removes_the_format() {
        let mut inf = Inferrer::new();
        inf.observe(&json!({"at": "2024-01-01T00:00:00Z"}));
        inf.observe(&json!({"at": "soon"}));
        assert_eq!(inf.finish()["properties"]["at"], json!({"type": "string"}));
        assert_eq!(
            Inferrer::new().finish(),
            json!({"type": "object", "properties": {}})
        );
    }
}
