//! What one sync wrote, judged message by message: order (SCHEMA before RECORD, ACTIVATE_VERSION
//! after SCHEMA), records against their stream's schema (each schema compiled once), key
//! properties present and unique, replication key present, STATE values (an object; a shape the
//! checks do not understand is a warning, see [`crate::bookmarks`]); plus per-stream facts
//! (record counts, replication-key range, observed schema) that later checks use.

use std::collections::{HashMap, HashSet};

use burler_singer::{Catalog, CatalogEntry, Message, ReplicationMethod, State, keys};
use serde_json::Value;

use crate::bookmarks::{Bookmark, currently_syncing, json_kind, read_bookmark};
use crate::compare::{KeyValue, compare_json};
use crate::observed::ObservedSchema;

/// At most this many findings are kept per kind (the count is always exact).
const KEEP: usize = 50;

/// Findings of one kind: the first few, and how many there were.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Findings {
    /// The first findings, one line each.
    pub lines: Vec<String>,
    /// How many there were.
    pub count: usize,
}

impl Findings {
    /// Adds a finding.
    pub fn push(&mut self, line: String) {
        self.count += 1;
        if self.lines.len() < KEEP {
            self.lines.push(line);
        }
    }

    /// True when nothing was found.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// What one stream wrote.
#[derive(Debug, Default)]
pub struct StreamFacts {
    /// A SCHEMA was written.
    pub schema_seen: bool,
    /// The schema of the last SCHEMA message.
    pub schema: Value,
    /// Key properties (SCHEMA message, else catalog).
    pub key_properties: Vec<String>,
    /// The replication key, for incremental streams.
    pub replication_key: Option<String>,
    /// The names a singer-python tap may keep the bookmark under: the replication key, the
    /// catalog's `replication-key` and `valid-replication-keys`, the SCHEMA's
    /// `bookmark_properties`.
    pub bookmark_keys: Vec<String>,
    /// RECORD messages.
    pub records: u64,
    /// Smallest replication-key value.
    pub min_key: Option<Value>,
    /// Largest replication-key value.
    pub max_key: Option<Value>,
    /// The schema of the records seen.
    pub observed: ObservedSchema,
    keys_seen: HashSet<String>,
    validator: Option<jsonschema::Validator>,
}

/// The judgement of one sync's messages.
#[derive(Debug, Default)]
pub struct SyncAnalysis {
    /// Per-stream facts, by stream name, in order of first appearance.
    pub streams: Vec<(String, StreamFacts)>,
    /// RECORD / ACTIVATE_VERSION / BATCH before the stream's SCHEMA.
    pub order: Findings,
    /// Schemas that do not compile.
    pub schemas: Findings,
    /// Records that do not validate.
    pub records: Findings,
    /// Missing or duplicate key properties.
    pub keys: Findings,
    /// Missing replication keys.
    pub replication_keys: Findings,
    /// STATE values that are not JSON objects.
    pub states: Findings,
    /// STATE values in a shape the checks do not understand, and `currently_syncing` naming no
    /// stream of the catalog.
    pub state_warnings: Findings,
    /// Number of STATE messages.
    pub state_count: usize,
    /// The last STATE value.
    pub last_state: Option<Value>,
}

impl SyncAnalysis {
    /// Judges `messages` (with their line numbers) of a sync run with `catalog`.
    pub fn new(messages: &[(u64, Message)], catalog: Option<&Catalog>) -> Self {
        let mut a = SyncAnalysis::default();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (line, message) in messages {
            a.message(*line, message, catalog, &mut index);
        }
        a
    }

    /// The facts of `stream`.
    pub fn stream(&self, stream: &str) -> Option<&StreamFacts> {
        self.streams
            .iter()
            .find(|(n, _)| n == stream)
            .map(|(_, f)| f)
    }

    fn facts(
        &mut self,
        stream: &str,
        catalog: Option<&Catalog>,
        index: &mut HashMap<String, usize>,
    ) -> usize {
        if let Some(&i) = index.get(stream) {
            return i;
        }
        let mut facts = StreamFacts::default();
        if let Some(entry) = catalog.and_then(|c| catalog_entry(c, stream)) {
            facts.key_properties = entry.key_properties.clone();
            facts.replication_key = catalog_replication_key(entry);
            let valid = entry
                .metadata
                .get(
                    &burler_singer::Breadcrumb::root(),
                    keys::VALID_REPLICATION_KEYS,
                )
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned);
            let names = facts.replication_key.clone().into_iter();
            let names = names.chain(entry.replication_key()).chain(valid);
            add_names(&mut facts.bookmark_keys, names);
        }
        self.streams.push((stream.to_owned(), facts));
        index.insert(stream.to_owned(), self.streams.len() - 1);
        self.streams.len() - 1
    }

    fn message(
        &mut self,
        line: u64,
        message: &Message,
        catalog: Option<&Catalog>,
        index: &mut HashMap<String, usize>,
    ) {
        match message {
            Message::Schema(m) => {
                let i = self.facts(&m.stream, catalog, index);
                let in_catalog = catalog.is_some_and(|c| catalog_entry(c, &m.stream).is_some());
                let facts = &mut self.streams[i].1;
                facts.schema_seen = true;
                facts.schema = m.schema.clone();
                facts.key_properties = m.key_properties.clone();
                if !in_catalog
                    && let Some(first) = m.bookmark_properties.as_ref().and_then(|b| b.first())
                {
                    facts.replication_key = Some(first.clone());
                }
                let declared = facts.replication_key.clone().into_iter();
                let declared = declared.chain(m.bookmark_properties.iter().flatten().cloned());
                add_names(&mut facts.bookmark_keys, declared);
                match compile(&m.schema) {
                    Ok(v) => facts.validator = Some(v),
                    Err(e) => {
                        facts.validator = None;
                        self.schemas
                            .push(format!("line {line}: SCHEMA of {}: {e}", m.stream));
                    }
                }
            }
            Message::Record(m) => self.record(line, &m.stream, &m.record, catalog, index),
            Message::ActivateVersion(m) => {
                self.needs_schema(line, "ACTIVATE_VERSION", &m.stream, catalog, index)
            }
            Message::Batch(m) => self.needs_schema(line, "BATCH", &m.stream, catalog, index),
            Message::State(m) => self.state(line, &m.value, catalog),
        }
    }

    fn state(&mut self, line: u64, value: &Value, catalog: Option<&Catalog>) {
        self.state_count += 1;
        self.last_state = Some(value.clone());
        if !value.is_object() {
            self.states.push(format!(
                "line {line}: the value is {}, not a JSON object",
                json_kind(value)
            ));
            return;
        }
        if let Err(e) = State::from_value(value.clone()) {
            self.state_warnings
                .push(format!("line {line}: shape not understood: {e}"));
        }
        match currently_syncing(value) {
            Ok(Some(id)) if catalog.is_some_and(|c| c.get(id).is_none()) => {
                self.state_warnings.push(format!(
                    "line {line}: currently_syncing {id:?} is not a stream of the catalog"
                ))
            }
            Ok(_) => {}
            Err(e) => self.state_warnings.push(format!("line {line}: {e}")),
        }
    }

    fn needs_schema(
        &mut self,
        line: u64,
        what: &str,
        stream: &str,
        catalog: Option<&Catalog>,
        index: &mut HashMap<String, usize>,
    ) {
        let i = self.facts(stream, catalog, index);
        if !self.streams[i].1.schema_seen {
            self.order
                .push(format!("line {line}: {what} of {stream} before its SCHEMA"));
        }
    }

    fn record(
        &mut self,
        line: u64,
        stream: &str,
        record: &Value,
        catalog: Option<&Catalog>,
        index: &mut HashMap<String, usize>,
    ) {
        self.needs_schema(line, "RECORD", stream, catalog, index);
        let i = self.facts(stream, catalog, index);
        let facts = &mut self.streams[i].1;
        facts.records += 1;
        facts.observed.observe(record);
        if let Some(v) = &facts.validator {
            for error in v.iter_errors(record).take(3) {
                let at = error.instance_path().to_string();
                let at = if at.is_empty() { "/".to_owned() } else { at };
                self.records
                    .push(format!("{stream} line {line}: {at}: {error}"));
            }
        }
        key_check(stream, line, record, facts, &mut self.keys);
        if let Some(rk) = facts.replication_key.clone() {
            match record.get(&rk) {
                None | Some(Value::Null) => self.replication_keys.push(format!(
                    "{stream} line {line}: no value for replication key {rk:?}"
                )),
                Some(v) => track_range(facts, v),
            }
        }
    }
}

/// The catalog entry of the stream messages call `stream`: the entry with that `stream` name,
/// else the one with that `tap_stream_id` (PipelineWise taps name messages by their stream ids).
pub fn catalog_entry<'a>(catalog: &'a Catalog, stream: &str) -> Option<&'a CatalogEntry> {
    let by_name = catalog.streams.iter().find(|e| e.stream == stream);
    by_name.or_else(|| catalog.get(stream))
}

/// The replication key of an incremental catalog stream: `replication-key`, else the only valid one.
pub fn catalog_replication_key(entry: &CatalogEntry) -> Option<String> {
    let method = entry.replication_method();
    if !matches!(method, Some(ReplicationMethod::Incremental) | None) {
        return None;
    }
    entry.replication_key().or_else(|| {
        let valid = entry.metadata.get(
            &burler_singer::Breadcrumb::root(),
            keys::VALID_REPLICATION_KEYS,
        )?;
        match valid.as_array()?.as_slice() {
            [one] if method.is_some() => one.as_str().map(str::to_owned),
            _ => None,
        }
    })
}

fn key_check(stream: &str, line: u64, record: &Value, facts: &mut StreamFacts, out: &mut Findings) {
    if facts.key_properties.is_empty() {
        return;
    }
    let mut parts = Vec::with_capacity(facts.key_properties.len());
    for k in &facts.key_properties {
        match record.get(k) {
            None | Some(Value::Null) => {
                out.push(format!(
                    "{stream} line {line}: key property {k:?} missing or null"
                ));
                return;
            }
            Some(v) => parts.push(v.to_string()),
        }
    }
    let key = parts.join("|");
    if !facts.keys_seen.insert(key.clone()) {
        out.push(format!(
            "{stream} line {line}: duplicate key {key} in one run"
        ));
    }
}

fn track_range(facts: &mut StreamFacts, v: &Value) {
    if KeyValue::from_json(v).is_none() {
        return;
    }
    let smaller = |cur: &Option<Value>| {
        cur.as_ref()
            .is_none_or(|c| compare_json(v, c) == Some(std::cmp::Ordering::Less))
    };
    let larger = |cur: &Option<Value>| {
        cur.as_ref()
            .is_none_or(|c| compare_json(v, c) == Some(std::cmp::Ordering::Greater))
    };
    if smaller(&facts.min_key) {
        facts.min_key = Some(v.clone());
    }
    if larger(&facts.max_key) {
        facts.max_key = Some(v.clone());
    }
}

/// Compiles a stream schema once. Formats are not asserted (Singer targets do not either); a
/// schema without `$schema` that does not compile under the newest draft is tried as draft 4, the
/// draft Singer schemas are written in.
pub fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    let newest = jsonschema::options()
        .should_validate_formats(false)
        .build(schema);
    match newest {
        Ok(v) => Ok(v),
        Err(first) if schema.get("$schema").is_none() => jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(false)
            .build(schema)
            .map_err(|_| first.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Adds the names not yet in `list`, keeping their order.
fn add_names(list: &mut Vec<String>, names: impl Iterator<Item = String>) {
    for name in names {
        if !list.contains(&name) {
            list.push(name);
        }
    }
}

/// The bookmark range `(lowest, highest)` of `stream` in a state, in any shape
/// [`read_bookmark`] reads; `keys` are the names a singer-python tap may use (see
/// [`StreamFacts::bookmark_keys`]). `None` when there is no readable value.
pub fn bookmark_range(state: &Value, stream: &str, keys: &[&str]) -> Option<(Value, Value)> {
    match read_bookmark(state, stream, keys) {
        Bookmark::Read(r) => Some((r.lowest, r.highest)),
        Bookmark::None | Bookmark::Unreadable(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(lines: &[Value]) -> Vec<(u64, Message)> {
        lines
            .iter()
            .enumerate()
            .map(|(i, v)| (i as u64 + 1, Message::parse(&v.to_string()).unwrap()))
            .collect()
    }

    fn schema_msg() -> Value {
        json!({"type": "SCHEMA", "stream": "s", "key_properties": ["id"], "bookmark_properties": ["at"],
               "schema": {"type": "object", "properties": {"id": {"type": "integer"}, "at": {"type": "string"}}}})
    }

    #[test]
    fn a_clean_sync_has_no_findings() {
        let a = SyncAnalysis::new(
            &parse(&[
                schema_msg(),
                json!({"type": "RECORD", "stream": "s", "record": {"id": 1, "at": "2024-01-02"}}),
                json!({"type": "RECORD", "stream": "s", "record": {"id": 2, "at": "2024-01-01"}}),
                json!({"type": "STATE", "value": {"bookmarks": {"s": {"replication_key_value": "2024-01-02"}}}}),
            ]),
            None,
        );
        for f in [
            &a.order,
            &a.schemas,
            &a.records,
            &a.keys,
            &a.replication_keys,
            &a.states,
        ] {
            assert!(f.is_empty(), "{f:?}");
        }
        let s = a.stream("s").unwrap();
        assert_eq!(
            (s.records, s.min_key.clone(), s.max_key.clone()),
            (2, Some(json!("2024-01-01")), Some(json!("2024-01-02")))
        );
        assert_eq!(
            bookmark_range(a.last_state.as_ref().unwrap(), "s", &[]),
            Some((json!("2024-01-02"), json!("2024-01-02")))
        );
    }

    #[test]
    fn every_kind_of_fault_is_found_with_its_line() {
        let a = SyncAnalysis::new(
            &parse(&[
                json!({"type": "RECORD", "stream": "s", "record": {"id": 1, "at": "x"}}),
                schema_msg(),
                json!({"type": "RECORD", "stream": "s", "record": {"id": "two", "at": "y"}}),
                json!({"type": "RECORD", "stream": "s", "record": {"id": 1}}),
                json!({"type": "RECORD", "stream": "s", "record": {"at": "z"}}),
                json!({"type": "ACTIVATE_VERSION", "stream": "t", "version": 1}),
                json!({"type": "STATE", "value": {"bookmarks": []}}),
                json!({"type": "STATE", "value": [1]}),
            ]),
            None,
        );
        assert_eq!(
            a.order.lines,
            [
                "line 1: RECORD of s before its SCHEMA",
                "line 6: ACTIVATE_VERSION of t before its SCHEMA"
            ]
        );
        assert_eq!(a.records.count, 1);
        assert!(
            a.records.lines[0].starts_with("s line 3: /id: \"two\" is not of type \"integer\""),
            "{:?}",
            a.records.lines
        );
        assert_eq!(
            a.keys.lines,
            ["s line 5: key property \"id\" missing or null"]
        );
        assert_eq!(
            a.replication_keys.lines,
            ["s line 4: no value for replication key \"at\""]
        );
        assert_eq!(
            a.states.lines,
            ["line 8: the value is an array, not a JSON object"]
        );
        assert_eq!(a.state_warnings.count, 1);
        assert!(
            a.state_warnings.lines[0].starts_with("line 7: shape not understood"),
            "{:?}",
            a.state_warnings
        );
        assert_eq!(
            a.stream("s").unwrap().bookmark_keys,
            ["at"],
            "from bookmark_properties"
        );
    }

    #[test]
    fn duplicate_keys_and_bad_schemas_are_found() {
        let a = SyncAnalysis::new(
            &parse(&[
                json!({"type": "SCHEMA", "stream": "s", "key_properties": ["id"], "schema": {"type": 5}}),
                json!({"type": "RECORD", "stream": "s", "record": {"id": 1}}),
                json!({"type": "RECORD", "stream": "s", "record": {"id": 1}}),
            ]),
            None,
        );
        assert_eq!(a.schemas.count, 1);
        assert_eq!(a.keys.lines, ["s line 3: duplicate key 1 in one run"]);
    }

    #[test]
    fn partition_bookmarks_give_a_range() {
        let state = json!({"bookmarks": {"e": {"partitions": [
            {"context": {"f": "a"}, "replication_key_value": "2024-02-03T00:00:00Z"},
            {"context": {"f": "b"}, "replication_key_value": "2024-02-01T00:00:00Z"}]}}});
        assert_eq!(
            bookmark_range(&state, "e", &[]),
            Some((json!("2024-02-01T00:00:00Z"), json!("2024-02-03T00:00:00Z")))
        );
        assert_eq!(bookmark_range(&state, "x", &[]), None);
    }
}
