//! The run's inputs, all read and checked before the first message: config (merged files,
//! spec, `start_date`, the author's checks), schemas, the catalog, and the state (each
//! bookmark against its stream's replication key).

use std::collections::{HashMap, HashSet};

use burler_singer::{Catalog, State};
use chrono::{DateTime, Utc};
use serde_json::Value;
use tracing::warn;

use crate::bookmark::parse_datetime;
use crate::cli::Cli;
use crate::definition::TapDef;
use crate::error::{BoxError, Error};
use crate::stream::{BoxedStream, SchemaSource};

/// Reads, merges and checks the config; returns it parsed, with its `start_date`.
pub(crate) fn load_config<C, K>(
    tap: &TapDef<C, K>,
    cli: &Cli,
) -> Result<(C, Option<DateTime<Utc>>), Error> {
    let merged = crate::config::load_merged(&cli.config)?;
    let files = cli
        .config
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let invalid = |problems: Vec<String>| Error::InvalidConfig {
        source_files: files.clone(),
        problems,
    };
    let raw = Value::Object(merged.clone());
    if let Some(schema) = &tap.config_schema {
        let problems = crate::config::check_against_schema(schema, &raw);
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
    }
    if !tap.typed_config
        && let Some(Value::String(s)) = merged.get("start_date")
        && parse_datetime(s).is_none()
    {
        // An untyped config has no types: its `start_date` is checked by name.
        let problem = "key `start_date` must be an RFC 3339 date-time, e.g. 2024-01-01T00:00:00Z";
        return Err(invalid(vec![problem.into()]));
    }
    let config =
        (tap.config_parse)(merged).map_err(|e| invalid(vec![crate::config::redact_quoted(&e)]))?;
    let problems: Vec<String> = tap
        .config_checks
        .iter()
        .filter_map(|check| check(&config).err())
        .flatten()
        .collect();
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    let start_date = (tap.start_date_of)(&config);
    Ok((config, start_date))
}

/// Produces each stream's schema, `$ref`s resolved.
pub(crate) fn resolve_schemas<C, K>(
    streams: &[BoxedStream<C, K>],
    config: &C,
) -> Result<Vec<Value>, Error> {
    streams
        .iter()
        .map(|s| {
            let schema_error = |source: BoxError| Error::Schema {
                stream: s.spec.name.clone(),
                source,
            };
            match &s.spec.schema {
                SchemaSource::Missing => Err(Error::Definition(format!(
                    "stream `{}` has no schema (use .schema, .schema_file, .schema_fn or .schema_from_type)",
                    s.spec.name
                ))),
                SchemaSource::Json(v) => {
                    burler_schema::resolve(v, None).map_err(|e| schema_error(Box::new(e)))
                }
                SchemaSource::File(path) => {
                    burler_schema::load_file(path).map_err(|e| schema_error(Box::new(e)))
                }
                SchemaSource::Dynamic(f) => {
                    let v = f(config).map_err(schema_error)?;
                    burler_schema::resolve(&v, None).map_err(|e| schema_error(Box::new(e)))
                }
            }
        })
        .collect()
}

/// The catalog to sync with: `--catalog` (preferred), `--properties`, or the discovered one.
pub(crate) fn load_catalog(cli: &Cli, discovered: &Catalog) -> Result<Catalog, Error> {
    let path = match (&cli.catalog, &cli.properties) {
        (Some(c), Some(_)) => {
            warn!(
                "both --catalog and --properties were given: using --catalog {}",
                c.display()
            );
            Some(c)
        }
        (Some(c), None) => Some(c),
        (None, Some(p)) => Some(p),
        (None, None) => None,
    };
    let Some(path) = path else {
        return Ok(discovered.clone());
    };
    let catalog = Catalog::from_path(path).map_err(|e| Error::Input(e.to_string()))?;
    let known: HashSet<&str> = discovered
        .streams
        .iter()
        .map(|s| s.tap_stream_id.as_str())
        .collect();
    let unknown: Vec<&str> = catalog
        .streams
        .iter()
        .map(|s| s.tap_stream_id.as_str())
        .filter(|id| !known.contains(id))
        .collect();
    if !unknown.is_empty() {
        return Err(Error::Catalog {
            path: path.clone(),
            problem: format!(
                "stream(s) {} not provided by this tap (available: {})",
                unknown.join(", "),
                discovered
                    .streams
                    .iter()
                    .map(|s| s.tap_stream_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    Ok(catalog)
}

/// Checks each incremental stream's bookmark in the state against the stream before any message
/// is written: a bookmark kept for another replication key is dropped (with a warning), and a value
/// that cannot be the key's (not a date-time for a date-time key, not a number for a numeric one)
/// ends the run, since it would otherwise be compared with nothing and resync silently forever.
pub(crate) fn check_state_bookmarks<'a>(
    keys: impl Iterator<Item = (&'a str, &'a str)>,
    catalog: &Catalog,
    state: &mut State,
    path: Option<&std::path::Path>,
) -> Result<(), Error> {
    let Some(path) = path else {
        return Ok(());
    };
    let mut problems = Vec::new();
    for (name, key) in keys {
        let Some(bookmark) = state.bookmark(name).cloned() else {
            continue;
        };
        if let Some(other) = bookmark.replication_key.as_deref().filter(|k| *k != key) {
            warn!(
                "state {}: stream {name}: the bookmark is for replication key {other}, not {key}: ignored",
                path.display()
            );
            let b = state.bookmark_mut(name);
            b.replication_key = None;
            b.replication_key_value = None;
            continue;
        }
        let Some(value) = &bookmark.replication_key_value else {
            continue;
        };
        let schema = catalog
            .streams
            .iter()
            .find(|e| e.tap_stream_id == *name)
            .and_then(|e| e.schema.get("properties")?.get(key).cloned());
        if let Some(expected) = schema.as_ref().and_then(|s| bookmark_mismatch(s, value)) {
            problems.push(format!("stream {name}: replication_key_value {value} is not {expected} (replication key {key})"));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    problems.sort();
    Err(Error::Input(format!(
        "state {}: {}",
        path.display(),
        problems.join("; ")
    )))
}

/// What a bookmark value should be for the key's schema, when it is not.
fn bookmark_mismatch(key_schema: &Value, value: &Value) -> Option<&'static str> {
    let types: Vec<&str> = match key_schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return None,
    };
    let is_date_time = matches!(
        key_schema.get("format").and_then(Value::as_str),
        Some("date-time" | "date")
    );
    if types.contains(&"string") && is_date_time {
        let parsed = value.as_str().and_then(parse_datetime);
        return parsed.is_none().then_some("a date-time");
    }
    if (types.contains(&"integer") || types.contains(&"number")) && !types.contains(&"string") {
        return (!value.is_number()).then_some("a number");
    }
    None
}

/// Per stream, the top-level fields of the tap's schema that the catalog's schema leaves out: a
/// record must not carry fields its SCHEMA message does not declare.
pub(crate) fn fields_missing_from(
    catalog: &Catalog,
    discovered: &Catalog,
) -> HashMap<String, Vec<String>> {
    let names = |schema: &Value| -> Vec<String> {
        schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut missing = HashMap::new();
    for entry in &catalog.streams {
        let Some(ours) = discovered.get(&entry.tap_stream_id) else {
            continue;
        };
        let theirs = names(&entry.schema);
        let gone: Vec<String> = names(&ours.schema)
            .into_iter()
            .filter(|f| !theirs.contains(f))
            .collect();
        if !gone.is_empty() && entry.schema.get("properties").is_some() {
            warn!(
                "stream {}: field(s) {} not in the catalog's schema: left out",
                entry.tap_stream_id,
                gone.join(", ")
            );
            missing.insert(entry.tap_stream_id.clone(), gone);
        }
    }
    missing
}

/// Reads `--state` (an empty state without it).
pub(crate) fn load_state(cli: &Cli) -> Result<State, Error> {
    match &cli.state {
        None => Ok(State::default()),
        Some(path) => State::from_path(path).map_err(|e| Error::Input(e.to_string())),
    }
}
