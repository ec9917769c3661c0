//! Catalog verification: what a discovered catalog must not contain to be publishable.
//!
//! Pure functions over [`Catalog`](crate::Catalog): no framework, no I/O. The framework's
//! `--verify` flag, `burler check` and burler-testkit's `TapSuite` all call [`verify_catalog`].
//!
//! ```
//! use burler_singer::Catalog;
//! use burler_singer::verify::{verify_catalog, ProblemKind};
//! let catalog = Catalog::from_json_str(r#"{"streams": [{"tap_stream_id": "users",
//!     "schema": {"type": "object", "properties": {"id": {"type": "integer"}}},
//!     "key_properties": ["uid"],
//!     "metadata": [{"breadcrumb": [], "metadata": {"selected": true, "my-key": 1}}]}]}"#).unwrap();
//! let kinds: Vec<_> = verify_catalog(&catalog).into_iter().map(|p| p.kind).collect();
//! assert!(kinds.contains(&ProblemKind::NonStandardKey));
//! assert!(kinds.contains(&ProblemKind::SelectedByDiscovery));
//! assert!(kinds.contains(&ProblemKind::KeyPropertyNotInSchema));
//! ```

use std::collections::HashSet;
use std::fmt;

use crate::{Breadcrumb, Catalog, CatalogEntry, Metadata, ReplicationMethod, keys};
use serde::Serialize;
use serde_json::Value;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The catalog breaks the Singer conventions orchestrators rely on.
    Error,
    /// Tolerated by orchestrators (singer-sdk does it), but not what the spec asks.
    Warning,
}

/// What kind of problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// A metadata key outside the Singer standard set ([`keys::ALL`]).
    NonStandardKey,
    /// Discovery set `selected` (the user or orchestrator selects, not the tap).
    SelectedByDiscovery,
    /// A metadata breadcrumb that points at no path of the schema.
    DanglingBreadcrumb,
    /// A field marked `inclusion: automatic` that the schema does not have.
    AutomaticNotInSchema,
    /// A key property or replication key whose metadata is not `inclusion: automatic`.
    KeyNotAutomatic,
    /// A replication key that is not listed in `valid-replication-keys`.
    ReplicationKeyNotValid,
    /// A replication key (or valid replication key) that is not a field of the schema.
    ReplicationKeyNotInSchema,
    /// A key property that is not a field of the schema.
    KeyPropertyNotInSchema,
    /// `key_properties` and `table-key-properties` disagree.
    KeyPropertiesDisagree,
    /// A standard key holding a value of the wrong kind (`inclusion: "maybe"`).
    InvalidValue,
    /// Two streams with the same `tap_stream_id`.
    DuplicateStream,
    /// The stream's schema is not a JSON Schema object with `properties`.
    SchemaNotObject,
    /// The stream has no stream-level (`[]`) metadata.
    MissingStreamMetadata,
}

/// One problem of a catalog.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyProblem {
    /// The stream (`tap_stream_id`).
    pub stream: String,
    /// Where in the metadata, when the problem sits at one breadcrumb.
    pub breadcrumb: Option<Breadcrumb>,
    /// What kind of problem.
    pub kind: ProblemKind,
    /// How bad.
    pub severity: Severity,
    /// One line saying what is wrong.
    pub message: String,
}

impl VerifyProblem {
    /// True for [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for VerifyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{level}: stream {}", self.stream)?;
        if let Some(bc) = &self.breadcrumb {
            write!(f, " {}", serde_json::to_string(&bc.0).unwrap_or_default())?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Checks a discovered catalog for metadata that must not be published: non-standard keys,
/// `selected` set by discovery, breadcrumbs that point at no schema path, automatic fields not in
/// the schema, replication keys not in `valid-replication-keys`, key properties and replication
/// keys not in the schema. Returns every problem found, errors and warnings, in catalog order.
pub fn verify_catalog(catalog: &Catalog) -> Vec<VerifyProblem> {
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for entry in &catalog.streams {
        let mut out = Problems {
            stream: &entry.tap_stream_id,
            list: &mut problems,
        };
        if !seen.insert(entry.tap_stream_id.as_str()) {
            out.error(
                None,
                ProblemKind::DuplicateStream,
                "another stream has the same tap_stream_id".into(),
            );
        }
        verify_entry(entry, &mut out);
    }
    problems
}

/// Collects problems of one stream.
struct Problems<'a> {
    stream: &'a str,
    list: &'a mut Vec<VerifyProblem>,
}

impl Problems<'_> {
    fn push(&mut self, bc: Option<&Breadcrumb>, kind: ProblemKind, sev: Severity, msg: String) {
        self.list.push(VerifyProblem {
            stream: self.stream.to_owned(),
            breadcrumb: bc.cloned(),
            kind,
            severity: sev,
            message: msg,
        });
    }

    fn error(&mut self, bc: Option<&Breadcrumb>, kind: ProblemKind, msg: String) {
        self.push(bc, kind, Severity::Error, msg);
    }

    fn warning(&mut self, bc: Option<&Breadcrumb>, kind: ProblemKind, msg: String) {
        self.push(bc, kind, Severity::Warning, msg);
    }
}

fn verify_entry(entry: &CatalogEntry, out: &mut Problems<'_>) {
    if !entry.schema.get("properties").is_some_and(Value::is_object) {
        out.error(
            None,
            ProblemKind::SchemaNotObject,
            "schema has no \"properties\" object".into(),
        );
    }
    let paths = schema_paths(&entry.schema);
    if entry.metadata.root().is_none() {
        out.warning(
            None,
            ProblemKind::MissingStreamMetadata,
            "no stream-level metadata (breadcrumb [])".into(),
        );
    }
    if entry.selected.is_some() {
        out.warning(
            None,
            ProblemKind::SelectedByDiscovery,
            "discovery set \"selected\" on the stream object".into(),
        );
    }
    for (bc, map) in entry.metadata.iter() {
        verify_metadata_entry(bc, map, &paths, out);
    }
    verify_keys(entry, &paths, out);
    verify_replication_key(entry, &paths, out);
}

/// Every breadcrumb of the schema: the stream and each (nested) field.
fn schema_paths(schema: &Value) -> HashSet<Breadcrumb> {
    let mut paths = HashSet::new();
    let mut scratch = Metadata::new();
    crate::visit_schema(schema, &mut scratch, |node, _| {
        paths.insert(node.breadcrumb.clone());
    });
    paths
}

fn verify_metadata_entry(
    bc: &Breadcrumb,
    map: &serde_json::Map<String, Value>,
    paths: &HashSet<Breadcrumb>,
    out: &mut Problems<'_>,
) {
    let automatic = map.get(keys::INCLUSION).and_then(Value::as_str) == Some("automatic");
    if !paths.contains(bc) {
        if automatic {
            out.error(
                Some(bc),
                ProblemKind::AutomaticNotInSchema,
                "field is marked inclusion: automatic but the schema has no such field".into(),
            );
        } else {
            out.error(
                Some(bc),
                ProblemKind::DanglingBreadcrumb,
                "breadcrumb points at no path of the schema".into(),
            );
        }
    }
    for (key, value) in map {
        if !keys::ALL.contains(&key.as_str()) {
            out.error(
                Some(bc),
                ProblemKind::NonStandardKey,
                format!("non-standard metadata key {key:?}"),
            );
        }
        if key == keys::SELECTED {
            out.warning(
                Some(bc),
                ProblemKind::SelectedByDiscovery,
                "discovery set \"selected\" (selection is the user's choice)".into(),
            );
        }
        if let Some(why) = invalid_value(key, value) {
            out.error(Some(bc), ProblemKind::InvalidValue, why);
        }
    }
}

/// Why a standard key's value is malformed, if it is.
fn invalid_value(key: &str, value: &Value) -> Option<String> {
    let ok = match key {
        keys::INCLUSION => matches!(
            value.as_str(),
            Some("automatic" | "available" | "unsupported")
        ),
        keys::SELECTED | keys::SELECTED_BY_DEFAULT | keys::IS_VIEW => value.is_boolean(),
        keys::TABLE_KEY_PROPERTIES | keys::VALID_REPLICATION_KEYS | keys::VIEW_KEY_PROPERTIES => {
            value
                .as_array()
                .is_some_and(|items| items.iter().all(Value::is_string))
        }
        keys::FORCED_REPLICATION_METHOD | keys::REPLICATION_METHOD => value
            .as_str()
            .is_some_and(|s| s.parse::<ReplicationMethod>().is_ok()),
        keys::ROW_COUNT => value.is_u64() || value.is_null(),
        _ => true,
    };
    (!ok).then(|| format!("{key} has an invalid value {value}"))
}

fn string_list(md: &Metadata, key: &str) -> Vec<String> {
    md.get(&Breadcrumb::root(), key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn verify_keys(entry: &CatalogEntry, paths: &HashSet<Breadcrumb>, out: &mut Problems<'_>) {
    let table_keys = string_list(&entry.metadata, keys::TABLE_KEY_PROPERTIES);
    if !entry.key_properties.is_empty()
        && entry
            .metadata
            .get(&Breadcrumb::root(), keys::TABLE_KEY_PROPERTIES)
            .is_some()
        && table_keys != entry.key_properties
    {
        out.warning(
            None,
            ProblemKind::KeyPropertiesDisagree,
            format!(
                "key_properties {:?} differ from table-key-properties {:?}",
                entry.key_properties, table_keys
            ),
        );
    }
    let mut all: Vec<&String> = entry.key_properties.iter().collect();
    all.extend(
        table_keys
            .iter()
            .filter(|k| !entry.key_properties.contains(k)),
    );
    for key in all {
        let bc = Breadcrumb::property(key);
        if !paths.contains(&bc) {
            out.error(
                None,
                ProblemKind::KeyPropertyNotInSchema,
                format!("key property {key:?} is not a field of the schema"),
            );
        } else {
            check_automatic(entry, &bc, "key property", key, out);
        }
    }
}

fn check_automatic(
    entry: &CatalogEntry,
    bc: &Breadcrumb,
    what: &str,
    field: &str,
    out: &mut Problems<'_>,
) {
    let inclusion = entry
        .metadata
        .get(bc, keys::INCLUSION)
        .and_then(Value::as_str);
    if let Some(inclusion) = inclusion
        && inclusion != "automatic"
    {
        out.warning(
            Some(bc),
            ProblemKind::KeyNotAutomatic,
            format!("{what} {field:?} has inclusion {inclusion:?}, expected \"automatic\""),
        );
    }
}

fn verify_replication_key(
    entry: &CatalogEntry,
    paths: &HashSet<Breadcrumb>,
    out: &mut Problems<'_>,
) {
    let valid = string_list(&entry.metadata, keys::VALID_REPLICATION_KEYS);
    for key in &valid {
        let bc = Breadcrumb::property(key);
        if !paths.contains(&bc) {
            out.error(
                None,
                ProblemKind::ReplicationKeyNotInSchema,
                format!("valid replication key {key:?} is not a field of the schema"),
            );
        } else {
            check_automatic(entry, &bc, "replication key", key, out);
        }
    }
    let Some(key) = entry.replication_key() else {
        return;
    };
    if !valid.contains(&key) {
        out.error(
            None,
            ProblemKind::ReplicationKeyNotValid,
            format!("replication key {key:?} is not in valid-replication-keys {valid:?}"),
        );
    }
    if !valid.contains(&key) && !paths.contains(&Breadcrumb::property(&key)) {
        out.error(
            None,
            ProblemKind::ReplicationKeyNotInSchema,
            format!("replication key {key:?} is not a field of the schema"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn catalog(entry: Value) -> Catalog {
        Catalog::from_value(json!({ "streams": [entry] })).unwrap()
    }

    fn good_entry() -> Value {
        let schema = json!({"type": "object", "properties": {
            "id": {"type": "integer"}, "updated_at": {"type": "string"},
            "address": {"type": ["null", "object"], "properties": {"city": {"type": "string"}}}}});
        let md = Metadata::standard(
            &schema,
            &["id".into()],
            &["updated_at".into()],
            Some(ReplicationMethod::Incremental),
            Some(true),
        );
        json!({"tap_stream_id": "users", "schema": schema, "key_properties": ["id"],
               "replication_key": "updated_at", "metadata": md.to_list()})
    }

    fn kinds(entry: Value) -> Vec<(ProblemKind, Severity)> {
        verify_catalog(&catalog(entry))
            .into_iter()
            .map(|p| (p.kind, p.severity))
            .collect()
    }

    #[test]
    fn standard_metadata_is_publishable() {
        assert_eq!(verify_catalog(&catalog(good_entry())), vec![]);
    }

    #[test]
    fn each_rule_names_its_problem() {
        let mut e = good_entry();
        e["metadata"].as_array_mut().unwrap().extend([
            json!({"breadcrumb": ["properties", "gone"], "metadata": {"inclusion": "available"}}),
            json!({"breadcrumb": ["properties", "ghost"], "metadata": {"inclusion": "automatic"}}),
            json!({"breadcrumb": ["properties", "address", "properties", "city"],
                   "metadata": {"selected": false, "x-custom": 1, "inclusion": "maybe"}}),
        ]);
        e["key_properties"] = json!(["uid"]);
        e["replication_key"] = json!("created_at");
        let found = kinds(e);
        for expected in [
            (ProblemKind::DanglingBreadcrumb, Severity::Error),
            (ProblemKind::AutomaticNotInSchema, Severity::Error),
            (ProblemKind::SelectedByDiscovery, Severity::Warning),
            (ProblemKind::NonStandardKey, Severity::Error),
            (ProblemKind::InvalidValue, Severity::Error),
            (ProblemKind::KeyPropertyNotInSchema, Severity::Error),
            (ProblemKind::KeyPropertiesDisagree, Severity::Warning),
            (ProblemKind::ReplicationKeyNotValid, Severity::Error),
            (ProblemKind::ReplicationKeyNotInSchema, Severity::Error),
        ] {
            assert!(found.contains(&expected), "{expected:?} not in {found:?}");
        }
    }

    #[test]
    fn keys_must_be_automatic_and_streams_unique() {
        let mut e = good_entry();
        let md = e["metadata"].as_array_mut().unwrap();
        md.push(
            json!({"breadcrumb": ["properties", "id"], "metadata": {"inclusion": "available"}}),
        );
        let c = Catalog::from_value(json!({"streams": [e.clone(), e]})).unwrap();
        let problems = verify_catalog(&c);
        assert!(
            problems
                .iter()
                .any(|p| p.kind == ProblemKind::KeyNotAutomatic)
        );
        let dup = problems
            .iter()
            .find(|p| p.kind == ProblemKind::DuplicateStream)
            .unwrap();
        assert_eq!(
            dup.to_string(),
            "error: stream users: another stream has the same tap_stream_id"
        );
    }

    #[test]
    fn a_schema_without_properties_is_an_error() {
        let found = kinds(json!({"tap_stream_id": "s", "schema": {"type": "string"}}));
        assert!(found.contains(&(ProblemKind::SchemaNotObject, Severity::Error)));
        assert!(found.contains(&(ProblemKind::MissingStreamMetadata, Severity::Warning)));
    }
}
