//! The observed schema: a JSON Schema built from the records actually seen, and its drift from the
//! schema a stream declares (paths never seen, paths seen but not declared, types wider than
//! declared).
//!
//! ```
//! use burler_testkit::ObservedSchema;
//! use serde_json::json;
//! let declared = json!({"type": "object", "properties": {
//!     "id": {"type": "integer"}, "email": {"type": "string"}}});
//! let mut seen = ObservedSchema::new();
//! seen.observe(&json!({"id": 1.5, "phone": "555"}));
//! let drift = seen.drift(&declared);
//! assert_eq!(drift.never_seen, ["email"]);
//! assert_eq!(drift.undeclared, ["phone"]);
//! assert_eq!(drift.wider[0].to_string(), "id: declared [integer], seen [number]");
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value, json};

/// The JSON types a value can have (integers apart from other numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JsonType {
    /// `null`.
    Null,
    /// `true` / `false`.
    Boolean,
    /// A number without a fraction.
    Integer,
    /// Any other number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl JsonType {
    /// The type of a value.
    pub fn of(v: &Value) -> JsonType {
        match v {
            Value::Null => JsonType::Null,
            Value::Bool(_) => JsonType::Boolean,
            Value::Number(n) if n.is_i64() || n.is_u64() => JsonType::Integer,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::String,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        }
    }

    /// The JSON Schema name.
    pub fn as_str(self) -> &'static str {
        match self {
            JsonType::Null => "null",
            JsonType::Boolean => "boolean",
            JsonType::Integer => "integer",
            JsonType::Number => "number",
            JsonType::String => "string",
            JsonType::Array => "array",
            JsonType::Object => "object",
        }
    }

    fn parse(s: &str) -> Option<JsonType> {
        Some(match s {
            "null" => JsonType::Null,
            "boolean" => JsonType::Boolean,
            "integer" => JsonType::Integer,
            "number" => JsonType::Number,
            "string" => JsonType::String,
            "array" => JsonType::Array,
            "object" => JsonType::Object,
            _ => return None,
        })
    }
}

/// What was seen at one path.
#[derive(Debug, Clone, Default, PartialEq)]
struct Node {
    types: BTreeSet<JsonType>,
    properties: BTreeMap<String, Node>,
    items: Option<Box<Node>>,
}

impl Node {
    fn observe(&mut self, v: &Value) {
        self.types.insert(JsonType::of(v));
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    self.properties.entry(k.clone()).or_default().observe(v);
                }
            }
            Value::Array(items) => {
                let node = self.items.get_or_insert_with(Box::default);
                for item in items {
                    node.observe(item);
                }
            }
            _ => {}
        }
    }

    fn to_schema(&self) -> Value {
        let mut types: Vec<&str> = self.types.iter().map(|t| t.as_str()).collect();
        if self.types.contains(&JsonType::Integer) && self.types.contains(&JsonType::Number) {
            types.retain(|t| *t != "integer");
        }
        let mut out = Map::new();
        out.insert(
            "type".into(),
            match types.as_slice() {
                [one] => json!(one),
                _ => json!(types),
            },
        );
        if self.types.contains(&JsonType::Object) {
            let props: Map<String, Value> = self
                .properties
                .iter()
                .map(|(k, n)| (k.clone(), n.to_schema()))
                .collect();
            out.insert("properties".into(), Value::Object(props));
        }
        if let Some(items) = &self.items {
            out.insert("items".into(), items.to_schema());
        }
        Value::Object(out)
    }
}

/// A JSON Schema inferred from records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservedSchema {
    root: Node,
    records: u64,
}

impl ObservedSchema {
    /// Nothing seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds the schema of `records`.
    pub fn from_records<'a, I: IntoIterator<Item = &'a Value>>(records: I) -> Self {
        let mut s = Self::new();
        for r in records {
            s.observe(r);
        }
        s
    }

    /// Adds one record.
    pub fn observe(&mut self, record: &Value) {
        self.records += 1;
        self.root.observe(record);
    }

    /// How many records were seen.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// The inferred schema: `type` lists every type seen (`integer` folded into `number` when both
    /// were), `properties` every key seen, `items` the union of every array element.
    pub fn to_json_schema(&self) -> Value {
        self.root.to_schema()
    }

    /// Compares what was seen with the `declared` schema.
    pub fn drift(&self, declared: &Value) -> SchemaDrift {
        let mut drift = SchemaDrift::default();
        if self.records > 0 {
            compare(&self.root, &Declared::from_schema(declared), "", &mut drift);
        }
        drift
    }
}

/// The differences between the records seen and the declared schema. Paths are dotted
/// (`address.city`); array elements are `[]` (`items[].sku`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SchemaDrift {
    /// Declared paths that no record had (removed at the source, or never filled).
    pub never_seen: Vec<String>,
    /// Paths records had that the schema does not declare (added at the source).
    pub undeclared: Vec<String>,
    /// Paths whose values had types the schema does not allow.
    pub wider: Vec<TypeDrift>,
}

impl SchemaDrift {
    /// True when records and schema agree.
    pub fn is_empty(&self) -> bool {
        self.never_seen.is_empty() && self.undeclared.is_empty() && self.wider.is_empty()
    }

    /// True when records carry data the schema does not describe (undeclared paths or wider
    /// types): a target may drop or reject it.
    pub fn is_breaking(&self) -> bool {
        !self.undeclared.is_empty() || !self.wider.is_empty()
    }
}

impl fmt::Display for SchemaDrift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if !self.wider.is_empty() {
            let w: Vec<String> = self.wider.iter().map(ToString::to_string).collect();
            parts.push(format!("types wider than declared: {}", w.join("; ")));
        }
        if !self.undeclared.is_empty() {
            parts.push(format!(
                "seen but not declared: {}",
                self.undeclared.join(", ")
            ));
        }
        if !self.never_seen.is_empty() {
            parts.push(format!(
                "declared but never seen: {}",
                self.never_seen.join(", ")
            ));
        }
        if parts.is_empty() {
            f.write_str("no drift")
        } else {
            f.write_str(&parts.join("; "))
        }
    }
}

/// A path whose values were of types the schema does not allow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypeDrift {
    /// The dotted path.
    pub path: String,
    /// The declared types.
    pub declared: Vec<JsonType>,
    /// The types seen that the declaration does not allow.
    pub observed: Vec<JsonType>,
}

impl fmt::Display for TypeDrift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |ts: &[JsonType]| ts.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ");
        write!(
            f,
            "{}: declared [{}], seen [{}]",
            self.path,
            names(&self.declared),
            names(&self.observed)
        )
    }
}

/// The declared schema, reduced to types and nesting (`anyOf`/`oneOf`/`allOf` branches merged).
#[derive(Debug, Default)]
struct Declared {
    /// `None`: any type.
    types: Option<BTreeSet<JsonType>>,
    /// `None`: properties not described (free-form object).
    properties: Option<BTreeMap<String, Declared>>,
    items: Option<Box<Declared>>,
    /// Some branch places no type constraint: every type is allowed.
    any: bool,
}

impl Declared {
    fn from_schema(schema: &Value) -> Declared {
        let mut d = Declared::default();
        d.merge(schema);
        d
    }

    fn merge(&mut self, schema: &Value) {
        let Some(obj) = schema.as_object() else {
            return;
        };
        let mut typed = false;
        match obj.get("type") {
            Some(Value::String(t)) => {
                typed = true;
                self.add_types([t.as_str()]);
            }
            Some(Value::Array(ts)) => {
                typed = true;
                self.add_types(ts.iter().filter_map(Value::as_str));
            }
            _ => {}
        }
        if let Some(Value::Object(props)) = obj.get("properties") {
            let mine = self.properties.get_or_insert_with(BTreeMap::new);
            for (k, v) in props {
                mine.entry(k.clone()).or_default().merge(v);
            }
            if !typed {
                typed = true;
                self.add_types(["object"]);
            }
        }
        if let Some(items) = obj.get("items") {
            self.items.get_or_insert_with(Box::default).merge(items);
        }
        for combinator in ["anyOf", "oneOf", "allOf"] {
            if let Some(Value::Array(branches)) = obj.get(combinator) {
                typed = true;
                for b in branches {
                    self.merge(b);
                }
            }
        }
        if !typed {
            // No type constraint here (`{}`, `$ref`, `format` only): anything goes.
            self.types = None;
            self.any = true;
        }
    }

    fn add_types<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        if self.any {
            return;
        }
        let set = self.types.get_or_insert_with(BTreeSet::new);
        set.extend(names.into_iter().filter_map(JsonType::parse));
    }

    fn allows(&self, t: JsonType) -> bool {
        match &self.types {
            None => true,
            Some(set) => {
                set.contains(&t) || (t == JsonType::Integer && set.contains(&JsonType::Number))
            }
        }
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

fn compare(seen: &Node, declared: &Declared, path: &str, drift: &mut SchemaDrift) {
    let not_allowed: Vec<JsonType> = seen
        .types
        .iter()
        .copied()
        .filter(|t| !declared.allows(*t))
        .collect();
    if !not_allowed.is_empty() && !path.is_empty() {
        drift.wider.push(TypeDrift {
            path: path.to_owned(),
            declared: declared.types.iter().flatten().copied().collect(),
            observed: not_allowed,
        });
    }
    if let Some(props) = &declared.properties {
        if seen.types.contains(&JsonType::Object) {
            for (name, d) in props {
                match seen.properties.get(name) {
                    Some(node) => compare(node, d, &join(path, name), drift),
                    None => drift.never_seen.push(join(path, name)),
                }
            }
        }
        for name in seen.properties.keys().filter(|k| !props.contains_key(*k)) {
            drift.undeclared.push(join(path, name));
        }
    }
    if let (Some(items_seen), Some(items_declared)) = (&seen.items, &declared.items) {
        compare(items_seen, items_declared, &format!("{path}[]"), drift);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inferred_schema_lists_every_type_and_key() {
        let s = ObservedSchema::from_records(&[
            json!({"id": 1, "tags": ["a"], "addr": {"city": "X"}}),
            json!({"id": 2.5, "tags": [], "addr": null, "note": null}),
        ]);
        assert_eq!(s.records(), 2);
        assert_eq!(
            s.to_json_schema(),
            json!({"type": "object", "properties": {
                "addr": {"type": ["null", "object"], "properties": {"city": {"type": "string"}}},
                "id": {"type": "number"},
                "note": {"type": "null"},
                "tags": {"type": "array", "items": {"type": "string"}}}})
        );
    }

    #[test]
    fn agreeing_records_have_no_drift() {
        let declared = json!({"type": ["null", "object"], "properties": {
            "id": {"type": "number"}, "when": {"type": "string", "format": "date-time"},
            "any": {}, "u": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "items": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}}}}}});
        let s = ObservedSchema::from_records(&[json!({"id": 3, "when": "2024-01-01", "any": [1],
            "u": null, "items": [{"sku": "a"}]})]);
        let drift = s.drift(&declared);
        assert!(drift.is_empty(), "{drift}");
        assert_eq!(drift.to_string(), "no drift");
    }

    #[test]
    fn nested_drift_is_named_by_path() {
        let declared = json!({"type": "object", "properties": {
            "addr": {"type": "object", "properties": {"city": {"type": "string"}, "zip": {"type": "string"}}},
            "items": {"type": "array", "items": {"type": "object", "properties": {"qty": {"type": "integer"}}}}}});
        let s = ObservedSchema::from_records(&[json!({"addr": {"city": null, "street": "x"},
            "items": [{"qty": "3"}]})]);
        let drift = s.drift(&declared);
        assert_eq!(drift.never_seen, ["addr.zip"]);
        assert_eq!(drift.undeclared, ["addr.street"]);
        let wider: Vec<String> = drift.wider.iter().map(ToString::to_string).collect();
        assert_eq!(
            wider,
            [
                "addr.city: declared [string], seen [null]",
                "items[].qty: declared [integer], seen [string]"
            ]
        );
        assert!(drift.is_breaking());
    }

    #[test]
    fn nothing_seen_means_nothing_to_say() {
        assert!(
            ObservedSchema::new()
                .drift(&json!({"properties": {"a": {}}}))
                .is_empty()
        );
    }
}
