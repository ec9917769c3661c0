//! The catalog: streams with schema and metadata, as `--discover` prints and `--catalog` /
//! `--properties` (legacy) read.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{ProtocolError, read_json_file};
use crate::metadata::{Breadcrumb, Metadata, keys};
use crate::selection::FieldSelection;

/// How a stream is replicated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReplicationMethod {
    /// Every row on every sync, with table versions.
    #[serde(rename = "FULL_TABLE")]
    FullTable,
    /// Rows at or after a bookmark.
    #[serde(rename = "INCREMENTAL")]
    Incremental,
    /// From a change log.
    #[serde(rename = "LOG_BASED")]
    LogBased,
}

impl ReplicationMethod {
    /// The Singer name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplicationMethod::FullTable => "FULL_TABLE",
            ReplicationMethod::Incremental => "INCREMENTAL",
            ReplicationMethod::LogBased => "LOG_BASED",
        }
    }
}

impl fmt::Display for ReplicationMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReplicationMethod {
    type Err = ProtocolError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "FULL_TABLE" => Ok(ReplicationMethod::FullTable),
            "INCREMENTAL" => Ok(ReplicationMethod::Incremental),
            "LOG_BASED" => Ok(ReplicationMethod::LogBased),
            _ => Err(ProtocolError::shape(
                "catalog",
                format!("unknown replication method {s:?}"),
            )),
        }
    }
}

/// A catalog: `{"streams": [...]}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Catalog {
    /// The streams.
    pub streams: Vec<CatalogEntry>,
}

/// One stream of a catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogEntry {
    /// The stream's id.
    pub tap_stream_id: String,
    /// The stream's name (defaults to the id).
    #[serde(default)]
    pub stream: String,
    /// The JSON Schema.
    #[serde(default)]
    pub schema: Value,
    /// Breadcrumb metadata.
    #[serde(default)]
    pub metadata: Metadata,
    /// Primary key fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_properties: Vec<String>,
    /// Replication key (legacy place).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_key: Option<String>,
    /// Replication method (legacy place).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_method: Option<ReplicationMethod>,
    /// Legacy stream-level selection (read, never written by discovery).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected: Option<bool>,
    /// Any other keys, kept for a lossless round-trip.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Catalog {
    /// Parses catalog JSON text.
    pub fn from_json_str(text: &str) -> Result<Catalog, ProtocolError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| ProtocolError::shape("catalog", format!("not valid JSON: {e}")))?;
        Catalog::from_value(value)
    }

    /// Reads a catalog from a JSON value.
    pub fn from_value(value: Value) -> Result<Catalog, ProtocolError> {
        match value.get("streams") {
            Some(Value::Array(_)) => {}
            Some(_) => {
                return Err(ProtocolError::shape(
                    "catalog",
                    "\"streams\" must be a list",
                ));
            }
            None => {
                return Err(ProtocolError::shape(
                    "catalog",
                    "must be an object with \"streams\"",
                ));
            }
        }
        let mut catalog: Catalog = serde_json::from_value(value)
            .map_err(|e| ProtocolError::shape("catalog", format!("wrong shape: {e}")))?;
        for entry in &mut catalog.streams {
            if entry.stream.is_empty() {
                entry.stream = entry.tap_stream_id.clone();
            }
        }
        let problems: Vec<String> = catalog
            .streams
            .iter()
            .flat_map(non_boolean_selection)
            .collect();
        if !problems.is_empty() {
            return Err(ProtocolError::shape("catalog", problems.join("; ")));
        }
        Ok(catalog)
    }

    /// Reads a catalog file; errors name the file.
    pub fn from_path(path: &Path) -> Result<Catalog, ProtocolError> {
        let value = read_json_file("catalog", path)?;
        Catalog::from_value(value).map_err(|e| e.in_file(path))
    }

    /// The stream with this id.
    pub fn get(&self, tap_stream_id: &str) -> Option<&CatalogEntry> {
        self.streams
            .iter()
            .find(|s| s.tap_stream_id == tap_stream_id)
    }

    /// The stream with this id, mutably.
    pub fn get_mut(&mut self, tap_stream_id: &str) -> Option<&mut CatalogEntry> {
        self.streams
            .iter_mut()
            .find(|s| s.tap_stream_id == tap_stream_id)
    }

    /// Selects every stream (root `selected: true`).
    pub fn select_all(&mut self) {
        for s in &mut self.streams {
            s.metadata.set(&Breadcrumb::root(), keys::SELECTED, true);
        }
    }
}

/// The `selected` / `selected-by-default` values of an entry that are not booleans: read as "not
/// set", a `"selected": "yes"` would leave the stream out without a word.
fn non_boolean_selection(entry: &CatalogEntry) -> Vec<String> {
    let mut problems = Vec::new();
    let mut check = |place: String, key: &str, value: Option<&Value>| {
        if let Some(v) = value.filter(|v| !v.is_boolean()) {
            problems.push(format!(
                "stream {}: `{key}` {place}must be true or false, not {v}",
                entry.tap_stream_id
            ));
        }
    };
    for (breadcrumb, meta) in entry.metadata.iter() {
        let place = match breadcrumb.field_path().join(".") {
            path if path.is_empty() => String::new(),
            path => format!("of field {path} "),
        };
        for key in [keys::SELECTED, keys::SELECTED_BY_DEFAULT] {
            check(place.clone(), key, meta.get(key));
        }
    }
    check(
        "in the schema ".into(),
        keys::SELECTED,
        entry.schema.get("selected"),
    );
    problems
}

impl CatalogEntry {
    /// Whether the stream is selected: root `selected`, else the legacy stream-level or schema-level
    /// `selected`, else `selected-by-default`.
    pub fn is_selected(&self) -> bool {
        let root = Breadcrumb::root();
        self.metadata
            .get_bool(&root, keys::SELECTED)
            .or(self.selected)
            .or_else(|| self.schema.get("selected").and_then(Value::as_bool))
            .or_else(|| self.metadata.get_bool(&root, keys::SELECTED_BY_DEFAULT))
            .unwrap_or(false)
    }

    /// The replication method: user `replication-method`, else `forced-replication-method`, else the
    /// entry's own field.
    pub fn replication_method(&self) -> Option<ReplicationMethod> {
        let root = Breadcrumb::root();
        [keys::REPLICATION_METHOD, keys::FORCED_REPLICATION_METHOD]
            .iter()
            .find_map(|k| self.metadata.get(&root, k).and_then(Value::as_str))
            .and_then(|s| s.parse().ok())
            .or(self.replication_method)
    }

    /// The replication key: `replication-key` metadata, else the entry's own field.
    pub fn replication_key(&self) -> Option<String> {
        self.metadata
            .get(&Breadcrumb::root(), keys::REPLICATION_KEY)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| self.replication_key.clone())
    }

    /// Which fields are selected.
    pub fn field_selection(&self) -> FieldSelection {
        self.field_selection_with(&[]).0
    }

    /// Which fields are selected, keeping `forced` top-level fields (keys, replication key) even when
    /// the catalog deselects them; returns a warning for each one kept that way.
    pub fn field_selection_with(&self, forced: &[String]) -> (FieldSelection, Vec<String>) {
        crate::selection::select_fields(&self.schema, &self.metadata, forced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stream_selection_follows_metadata_then_legacy_then_default() {
        let mk = |md: Value, extra: Value| {
            let mut v = json!({"tap_stream_id": "s", "schema": {}, "metadata": md});
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            serde_json::from_value::<CatalogEntry>(v).unwrap()
        };
        let root = |m: Value| json!([{"breadcrumb": [], "metadata": m}]);
        assert!(mk(root(json!({"selected": true})), json!({})).is_selected());
        assert!(!mk(root(json!({"selected": false})), json!({"selected": true})).is_selected());
        assert!(mk(root(json!({})), json!({"selected": true})).is_selected());
        assert!(mk(json!([]), json!({"schema": {"selected": true}})).is_selected());
        assert!(mk(root(json!({"selected-by-default": true})), json!({})).is_selected());
        assert!(
            !mk(
                root(json!({"selected-by-default": true})),
                json!({"selected": false})
            )
            .is_selected()
        );
        assert!(!mk(json!([]), json!({})).is_selected());
    }

    #[test]
    fn a_selection_that_is_not_a_boolean_is_refused_with_its_place() {
        let catalog = |md: Value, schema: Value| {
            Catalog::from_value(json!({"streams": [
                {"tap_stream_id": "orders", "schema": schema, "metadata": md}]}))
        };
        let e = catalog(
            json!([{"breadcrumb": [], "metadata": {"selected": "yes"}},
                {"breadcrumb": ["properties", "a"], "metadata": {"selected-by-default": 1}}]),
            json!({}),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "catalog: stream orders: `selected` must be true or false, not \"yes\"; \
             stream orders: `selected-by-default` of field a must be true or false, not 1"
        );
        let legacy = catalog(json!([]), json!({"selected": "true"})).unwrap_err();
        assert!(
            legacy
                .to_string()
                .contains("`selected` in the schema must be true or false")
        );
        let on = catalog(
            json!([{"breadcrumb": [], "metadata": {"selected": true}}]),
            json!({}),
        );
        assert!(on.unwrap().streams[0].is_selected());
    }

    #[test]
    fn replication_method_precedence() {
        let e: CatalogEntry = serde_json::from_value(json!({"tap_stream_id": "s", "replication_method": "LOG_BASED",
            "metadata": [{"breadcrumb": [], "metadata": {"forced-replication-method": "FULL_TABLE"}}]})).unwrap();
        assert_eq!(e.replication_method(), Some(ReplicationMethod::FullTable));
        let mut e2 = e.clone();
        e2.metadata
            .set(&Breadcrumb::root(), keys::REPLICATION_METHOD, "INCREMENTAL");
        e2.metadata
            .set(&Breadcrumb::root(), keys::REPLICATION_KEY, "updated_at");
        assert_eq!(
            e2.replication_method(),
            Some(ReplicationMethod::Incremental)
        );
        assert_eq!(e2.replication_key().as_deref(), Some("updated_at"));
    }

    #[test]
    fn bad_catalogs_are_named() {
        assert!(
            Catalog::from_json_str("[]")
                .unwrap_err()
                .to_string()
                .contains("\"streams\"")
        );
        assert!(
            Catalog::from_json_str("{\"streams\": 3}")
                .unwrap_err()
                .to_string()
                .contains("must be a list")
        );
        assert!(
            Catalog::from_json_str("{")
                .unwrap_err()
                .to_string()
                .contains("not valid JSON")
        );
        let e = Catalog::from_path(Path::new("/nonexistent/c.json"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("catalog /nonexistent/c.json:"), "{e}");
    }
}
