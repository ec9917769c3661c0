//! Catalog metadata: a map from breadcrumbs to key/value maps, read and written in Singer's list form
//! `[{"breadcrumb": [...], "metadata": {...}}]` with its order kept.

use indexmap::IndexMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::catalog::ReplicationMethod;
use crate::error::ProtocolError;

/// The standard metadata keys.
pub mod keys {
    /// `automatic`, `available` or `unsupported`.
    pub const INCLUSION: &str = "inclusion";
    /// The user's (or orchestrator's) selection.
    pub const SELECTED: &str = "selected";
    /// The tap's suggested selection.
    pub const SELECTED_BY_DEFAULT: &str = "selected-by-default";
    /// Primary key fields.
    pub const TABLE_KEY_PROPERTIES: &str = "table-key-properties";
    /// Fields that may serve as replication key.
    pub const VALID_REPLICATION_KEYS: &str = "valid-replication-keys";
    /// The only replication method the stream supports.
    pub const FORCED_REPLICATION_METHOD: &str = "forced-replication-method";
    /// The user's replication method.
    pub const REPLICATION_METHOD: &str = "replication-method";
    /// The user's replication key.
    pub const REPLICATION_KEY: &str = "replication-key";
    /// Key properties of a view.
    pub const VIEW_KEY_PROPERTIES: &str = "view-key-properties";
    /// Whether the stream is a database view.
    pub const IS_VIEW: &str = "is-view";
    /// Approximate row count.
    pub const ROW_COUNT: &str = "row-count";
    /// Database name.
    pub const DATABASE_NAME: &str = "database-name";
    /// Schema name.
    pub const SCHEMA_NAME: &str = "schema-name";
    /// The SQL type of a column.
    pub const SQL_DATATYPE: &str = "sql-datatype";
    /// The parent stream of a child stream.
    pub const PARENT_TAP_STREAM_ID: &str = "parent-tap-stream-id";
    /// Every standard key.
    pub const ALL: [&str; 15] = [
        INCLUSION,
        SELECTED,
        SELECTED_BY_DEFAULT,
        TABLE_KEY_PROPERTIES,
        VALID_REPLICATION_KEYS,
        FORCED_REPLICATION_METHOD,
        REPLICATION_METHOD,
        REPLICATION_KEY,
        VIEW_KEY_PROPERTIES,
        IS_VIEW,
        ROW_COUNT,
        DATABASE_NAME,
        SCHEMA_NAME,
        SQL_DATATYPE,
        PARENT_TAP_STREAM_ID,
    ];
}

/// A path into a stream's schema: `[]` for the stream, `["properties", "a", "properties", "b"]` for `a.b`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Breadcrumb(pub Vec<String>);

impl Breadcrumb {
    /// The stream's breadcrumb, `[]`.
    pub fn root() -> Self {
        Breadcrumb(Vec::new())
    }

    /// A top-level field, `["properties", name]`.
    pub fn property(name: &str) -> Self {
        Breadcrumb(vec!["properties".into(), name.into()])
    }

    /// A field nested under this one.
    pub fn child(&self, name: &str) -> Self {
        let mut path = self.0.clone();
        path.push("properties".into());
        path.push(name.into());
        Breadcrumb(path)
    }

    /// A field at a path of names (`["a", "b"]` → `["properties","a","properties","b"]`).
    pub fn field(path: &[&str]) -> Self {
        path.iter().fold(Breadcrumb::root(), |b, n| b.child(n))
    }

    /// The field names along the path (every element after a `properties`).
    pub fn field_path(&self) -> Vec<&str> {
        self.0
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 2 == 1)
            .map(|(_, s)| s.as_str())
            .collect()
    }

    /// Nesting level: 0 for the stream, 1 for top-level fields.
    pub fn level(&self) -> usize {
        self.0.len() / 2
    }

    /// True for the stream's breadcrumb.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The breadcrumb of the enclosing field (or the stream); `None` for the root.
    pub fn parent(&self) -> Option<Breadcrumb> {
        (!self.0.is_empty()).then(|| Breadcrumb(self.0[..self.0.len().saturating_sub(2)].to_vec()))
    }
}

/// How a field is included in a sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Inclusion {
    /// Always synced (keys, replication key).
    Automatic,
    /// Synced when selected.
    Available,
    /// Never synced.
    Unsupported,
}

impl Inclusion {
    /// The metadata string.
    pub fn as_str(self) -> &'static str {
        match self {
            Inclusion::Automatic => "automatic",
            Inclusion::Available => "available",
            Inclusion::Unsupported => "unsupported",
        }
    }
}

/// Breadcrumb-indexed metadata of one stream.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Metadata {
    entries: IndexMap<Breadcrumb, Map<String, Value>>,
}

impl Metadata {
    /// Empty metadata.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of `key` at `bc`.
    pub fn get(&self, bc: &Breadcrumb, key: &str) -> Option<&Value> {
        self.entries.get(bc)?.get(key)
    }

    /// Sets `key` at `bc`, creating the entry.
    pub fn set(&mut self, bc: &Breadcrumb, key: &str, value: impl Into<Value>) {
        self.entries
            .entry(bc.clone())
            .or_default()
            .insert(key.to_owned(), value.into());
    }

    /// Removes `key` at `bc`.
    pub fn remove(&mut self, bc: &Breadcrumb, key: &str) -> Option<Value> {
        self.entries.get_mut(bc)?.shift_remove(key)
    }

    /// The whole map at `bc`.
    pub fn entry(&self, bc: &Breadcrumb) -> Option<&Map<String, Value>> {
        self.entries.get(bc)
    }

    /// The stream-level map.
    pub fn root(&self) -> Option<&Map<String, Value>> {
        self.entries.get(&Breadcrumb::root())
    }

    /// Every entry, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Breadcrumb, &Map<String, Value>)> {
        self.entries.iter()
    }

    /// Number of breadcrumbs.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A boolean at `bc`.
    pub fn get_bool(&self, bc: &Breadcrumb, key: &str) -> Option<bool> {
        self.get(bc, key).and_then(Value::as_bool)
    }

    /// The list form.
    pub fn to_list(&self) -> Value {
        Value::Array(
            self.entries
                .iter()
                .map(|(bc, md)| serde_json::json!({"breadcrumb": bc.0, "metadata": md}))
                .collect(),
        )
    }

    /// Reads the list form; entries with the same breadcrumb are merged, later keys win.
    pub fn from_list(v: &Value) -> Result<Self, ProtocolError> {
        let Value::Array(items) = v else {
            return Err(ProtocolError::shape("metadata", "must be a list"));
        };
        let mut md = Metadata::new();
        for (i, item) in items.iter().enumerate() {
            let bc = match item.get("breadcrumb") {
                Some(Value::Array(parts)) => Breadcrumb(
                    parts
                        .iter()
                        .map(|p| p.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| {
                            ProtocolError::shape(
                                "metadata",
                                format!("entry {i}: breadcrumb must hold strings"),
                            )
                        })?,
                ),
                _ => {
                    return Err(ProtocolError::shape(
                        "metadata",
                        format!("entry {i}: \"breadcrumb\" must be a list"),
                    ));
                }
            };
            let map = match item.get("metadata") {
                Some(Value::Object(m)) => m.clone(),
                None | Some(Value::Null) => Map::new(),
                _ => {
                    return Err(ProtocolError::shape(
                        "metadata",
                        format!("entry {i}: \"metadata\" must be an object"),
                    ));
                }
            };
            md.entries.entry(bc).or_default().extend(map);
        }
        Ok(md)
    }

    /// singer-python's `get_standard_metadata`, extended to nested fields: the stream gets
    /// `inclusion: available`, `table-key-properties`, `valid-replication-keys` (if any),
    /// `forced-replication-method` and `selected-by-default` (if given); every field gets
    /// `inclusion: automatic` for key properties and replication keys, else `available`.
    /// Never sets `selected`.
    pub fn standard(
        schema: &Value,
        key_properties: &[String],
        valid_replication_keys: &[String],
        forced_replication_method: Option<ReplicationMethod>,
        selected_by_default: Option<bool>,
    ) -> Self {
        let mut md = Metadata::new();
        let root = Breadcrumb::root();
        md.set(&root, keys::INCLUSION, "available");
        md.set(&root, keys::TABLE_KEY_PROPERTIES, key_properties.to_vec());
        if !valid_replication_keys.is_empty() {
            md.set(
                &root,
                keys::VALID_REPLICATION_KEYS,
                valid_replication_keys.to_vec(),
            );
        }
        if let Some(method) = forced_replication_method {
            md.set(&root, keys::FORCED_REPLICATION_METHOD, method.as_str());
        }
        if let Some(sel) = selected_by_default {
            md.set(&root, keys::SELECTED_BY_DEFAULT, sel);
        }
        crate::visitor::visit_schema(schema, &mut md, |node, meta| {
            if node.level == 0 {
                return;
            }
            let top = node.level == 1
                && node.name.is_some_and(|n| {
                    key_properties.iter().any(|k| k == n)
                        || valid_replication_keys.iter().any(|k| k == n)
                });
            if top {
                meta.inclusion(Inclusion::Automatic);
            } else {
                meta.inclusion(Inclusion::Available);
            }
        });
        md
    }
}

impl Serialize for Metadata {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_list().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Metadata {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Metadata::from_list(&v).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn list_form_round_trips_in_order() {
        let list = json!([
            {"breadcrumb": ["properties", "b"], "metadata": {"inclusion": "available", "selected": false}},
            {"breadcrumb": [], "metadata": {"selected": true, "custom-key": [1, 2]}},
            {"breadcrumb": ["properties", "a", "properties", "x"], "metadata": {"inclusion": "automatic"}}
        ]);
        let md = Metadata::from_list(&list).unwrap();
        assert_eq!(md.to_list(), list);
        assert_eq!(md.get_bool(&Breadcrumb::root(), "selected"), Some(true));
        assert_eq!(
            md.get(&Breadcrumb::field(&["a", "x"]), "inclusion"),
            Some(&json!("automatic"))
        );
    }

    #[test]
    fn bad_lists_are_named() {
        assert!(
            Metadata::from_list(&json!({}))
                .unwrap_err()
                .to_string()
                .contains("must be a list")
        );
        let e = Metadata::from_list(&json!([{"breadcrumb": "x"}]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("entry 0"), "{e}");
    }

    #[test]
    fn breadcrumbs_know_their_place() {
        let bc = Breadcrumb::property("a").child("b");
        assert_eq!(bc.0, vec!["properties", "a", "properties", "b"]);
        assert_eq!(bc.field_path(), vec!["a", "b"]);
        assert_eq!(bc.level(), 2);
        assert_eq!(bc.parent(), Some(Breadcrumb::property("a")));
        assert_eq!(Breadcrumb::root().parent(), None);
    }

    #[test]
    fn standard_metadata_marks_keys_automatic_and_never_selects() {
        let schema = json!({"type": "object", "properties": {
            "id": {"type": "integer"}, "updated_at": {"type": "string"},
            "address": {"type": "object", "properties": {"city": {"type": "string"}}}}});
        let md = Metadata::standard(
            &schema,
            &["id".into()],
            &["updated_at".into()],
            None,
            Some(true),
        );
        let root = md.root().unwrap();
        assert_eq!(root["table-key-properties"], json!(["id"]));
        assert_eq!(root["valid-replication-keys"], json!(["updated_at"]));
        assert_eq!(root["selected-by-default"], json!(true));
        assert!(root.get("selected").is_none());
        assert_eq!(
            md.get(&Breadcrumb::property("id"), "inclusion"),
            Some(&json!("automatic"))
        );
        assert_eq!(
            md.get(&Breadcrumb::property("updated_at"), "inclusion"),
            Some(&json!("automatic"))
        );
        assert_eq!(
            md.get(&Breadcrumb::field(&["address", "city"]), "inclusion"),
            Some(&json!("available"))
        );
    }
}
