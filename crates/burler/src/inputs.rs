//! The run's inputs, all read and checked before the first message: config (merged files,
//! spec, `start_date`, the author's checks), schemas, the catalog, the state (each bookmark
//! against its stream's replication key) and the files the run writes. Every wrong input is
//! reported at once, not only the first.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use burler_singer::{Catalog, ReplicationMethod, State};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use tracing::warn;

use crate::bookmark::parse_datetime;
use crate::cli::Cli;
use crate::definition::TapDef;
use crate::error::{BoxError, Error};
use crate::plan::{Plan, PlanInputs};
use crate::stream::{BoxedStream, SchemaSource};

/// A config read and checked: the tap's type, its `start_date`, and the JSON it came from.
pub(crate) struct LoadedConfig<C> {
    pub(crate) config: C,
    pub(crate) start_date: Option<DateTime<Utc>>,
    /// For the settings every tap has (stream maps, BATCH).
    pub(crate) raw: Map<String, Value>,
}

/// Reads, merges and checks the config; returns it parsed, with its `start_date`.
pub(crate) fn load_config<C, K>(tap: &TapDef<C, K>, cli: &Cli) -> Result<LoadedConfig<C>, Error> {
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
    let mut problems = match &tap.config_schema {
        Some(schema) => crate::config::check_against_schema(schema, &raw),
        None => Vec::new(),
    };
    if !tap.typed_config {
        // An untyped config (or one from a sample) has no types: its `start_date` is checked by
        // name, as strictly as a typed `StartDate`.
        problems.extend(untyped_start_date_problem(&raw));
    }
    if !problems.is_empty() {
        return Err(invalid(problems));
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
    // The whole config, for what the operator turns on by key (stream maps, BATCH).
    let raw = match raw {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    Ok(LoadedConfig {
        config,
        start_date,
        raw,
    })
}

/// The problem with the `start_date` of an untyped config, if any (absent or null is fine): one
/// that does not read as a date-time (or is not a string) would be ignored without a word.
fn untyped_start_date_problem(config: &Value) -> Option<String> {
    let value = config.get("start_date").filter(|v| !v.is_null())?;
    let parsed = value
        .as_str()
        .and_then(crate::tap_config::parse_untyped_start_date);
    parsed.is_none().then(|| {
        format!(
            "key `start_date` must be {}",
            crate::tap_config::UNTYPED_DATE_TIME_EXPECTED
        )
    })
}

/// The inputs read before discovery: the config, and for a sync the catalog file, the state and
/// a check that the output files can be written.
pub(crate) struct Loaded<C> {
    pub(crate) config: C,
    pub(crate) start_date: Option<DateTime<Utc>>,
    /// The config as JSON, for the settings every tap has (stream maps, BATCH).
    pub(crate) raw_config: Map<String, Value>,
    /// `--catalog` (or `--properties`), read; `None`: sync the discovered catalog.
    pub(crate) catalog: Option<CatalogFile>,
    pub(crate) state: State,
}

/// A catalog file and what it holds.
pub(crate) struct CatalogFile {
    pub(crate) path: PathBuf,
    pub(crate) catalog: Catalog,
}

/// Reads every input the mode needs (a sync: config, catalog, state, output files) and reports
/// every one that is wrong in one error.
pub(crate) fn load<C, K>(tap: &TapDef<C, K>, cli: &Cli) -> Result<Loaded<C>, Error> {
    let config = load_config(tap, cli);
    if !cli.syncs() {
        return config.map(|c| Loaded {
            config: c.config,
            start_date: c.start_date,
            raw_config: c.raw,
            catalog: None,
            state: State::default(),
        });
    }
    let (catalog, state) = (read_catalog(cli), load_state(cli));
    let mut problems = check_writable(cli);
    match (config, catalog, state) {
        (Ok(c), Ok(catalog), Ok(state)) if problems.is_empty() => Ok(Loaded {
            config: c.config,
            start_date: c.start_date,
            raw_config: c.raw,
            catalog,
            state,
        }),
        (config, catalog, state) => {
            let read = [config.err(), catalog.err(), state.err()];
            problems.splice(0..0, read.into_iter().flatten());
            Err(Error::of_inputs(problems))
        }
    }
}

/// Checks that the files a sync writes can be written (`--out-file` at each STATE,
/// `--report-json` at the end) before the first message, so no stream fails midway over it.
fn check_writable(cli: &Cli) -> Vec<Error> {
    [
        ("--out-file", &cli.out_file),
        ("--report-json", &cli.report_json),
    ]
    .into_iter()
    .filter_map(|(what, path)| {
        let path = path.as_ref()?;
        let source = probe_writable(path).err()?;
        Some(Error::Unwritable {
            what,
            path: path.clone(),
            source,
        })
    })
    .collect()
}

/// Creates and removes a file next to `path` (where `--out-file` writes its temporary copy):
/// the directory must exist and take new files, and `path` must not be a directory.
fn probe_writable(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "is a directory",
        ));
    }
    let probe = crate::output::temporary_path(path);
    std::fs::File::create(&probe)?;
    std::fs::remove_file(&probe)
}

/// The plan, after the last input checks: the catalog file's streams against the tap's, the
/// state's bookmarks against the plan's replication keys (every problem in one error).
pub(crate) fn checked_plan<C, K>(
    tap: &TapDef<C, K>,
    cli: &Cli,
    file: Option<CatalogFile>,
    state: &mut State,
    discovered: &Catalog,
) -> Result<Plan<C, K>, Error> {
    // A bad selector is a usage error, refused before any message.
    let selector = cli.selector()?;
    let mut problems = Vec::new();
    let catalog = match file {
        Some(file) => {
            problems.extend(unknown_streams(&file, discovered));
            file.catalog
        }
        None => discovered.clone(),
    };
    let missing = fields_missing_from(&catalog, discovered);
    let plan_inputs = PlanInputs {
        catalog: &catalog,
        state,
        missing: &missing,
        selector: selector.as_ref(),
    };
    let plan = Plan::build(tap, &plan_inputs);
    if let Some(path) = cli.state.as_deref() {
        let found = check_state(state, plan.incremental_keys(), &catalog, discovered);
        problems.extend(found.into_result(path).err());
    }
    if problems.is_empty() {
        Ok(plan)
    } else {
        Err(Error::of_inputs(problems))
    }
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
    let Some(file) = read_catalog(cli)? else {
        return Ok(discovered.clone());
    };
    match unknown_streams(&file, discovered) {
        Some(e) => Err(e),
        None => Ok(file.catalog),
    }
}

/// Reads `--catalog` (preferred) or `--properties`; `None` when neither is given.
pub(crate) fn read_catalog(cli: &Cli) -> Result<Option<CatalogFile>, Error> {
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
        return Ok(None);
    };
    let catalog = Catalog::from_path(path).map_err(|e| Error::Input(e.to_string()))?;
    Ok(Some(CatalogFile {
        path: path.clone(),
        catalog,
    }))
}

/// The catalog file's streams this tap does not provide, as an error naming them.
pub(crate) fn unknown_streams(file: &CatalogFile, discovered: &Catalog) -> Option<Error> {
    let known: HashSet<&str> = discovered
        .streams
        .iter()
        .map(|s| s.tap_stream_id.as_str())
        .collect();
    let unknown: Vec<&str> = file
        .catalog
        .streams
        .iter()
        .map(|s| s.tap_stream_id.as_str())
        .filter(|id| !known.contains(id))
        .collect();
    if !unknown.is_empty() {
        return Some(Error::Catalog {
            path: file.path.clone(),
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
    None
}

/// What the state check found: warnings (logged by a sync, printed by `--verify`) and errors.
#[derive(Debug, Default)]
pub(crate) struct StateFindings {
    pub(crate) warnings: Vec<String>,
    pub(crate) errors: Vec<String>,
}

impl StateFindings {
    /// For a sync: logs the warnings; the errors, if any, as one error naming the file.
    pub(crate) fn into_result(self, path: &Path) -> Result<(), Error> {
        for warning in &self.warnings {
            warn!("state {}: {warning}", path.display());
        }
        if self.errors.is_empty() {
            return Ok(());
        }
        Err(Error::Input(format!(
            "state {}: {}",
            path.display(),
            self.errors.join("; ")
        )))
    }
}

/// Checks the state's bookmarks against the tap before any message is written: a bookmark of a
/// stream the tap does not have is kept (a warning: a renamed stream starts over); one kept for
/// another replication key is dropped (a warning); a value that cannot be the key's (not a
/// date-time for a date-time key, not a number for a numeric one) is an error, since it would
/// otherwise be compared with nothing and resync silently forever. `keys` are the incremental
/// streams with their replication keys, `catalog` holds their schemas, `discovered` every stream.
pub(crate) fn check_state<'a>(
    state: &mut State,
    keys: impl Iterator<Item = (&'a str, &'a str)>,
    catalog: &Catalog,
    discovered: &Catalog,
) -> StateFindings {
    let mut found = StateFindings::default();
    for name in state.bookmarks.keys() {
        if discovered.get(name).is_none() {
            found.warnings.push(format!(
                "bookmark of stream {name}, which this tap does not have: ignored"
            ));
        }
    }
    for (name, key) in keys {
        let Some(bookmark) = state.bookmark(name).cloned() else {
            continue;
        };
        if let Some(other) = bookmark.replication_key.as_deref().filter(|k| *k != key) {
            found.warnings.push(format!(
                "stream {name}: the bookmark is for replication key {other}, not {key}: ignored"
            ));
            let b = state.bookmark_mut(name);
            b.replication_key = None;
            b.replication_key_value = None;
            continue;
        }
        let Some(value) = &bookmark.replication_key_value else {
            continue;
        };
        let schema = catalog
            .get(name)
            .and_then(|e| e.schema.get("properties")?.get(key).cloned());
        if let Some(expected) = schema.as_ref().and_then(|s| bookmark_mismatch(s, value)) {
            found.errors.push(format!("stream {name}: replication_key_value {value} is not {expected} (replication key {key})"));
        }
    }
    found.errors.sort();
    found
}

/// The incremental streams of a catalog with their replication keys (what `--verify` checks a
/// state against; a sync takes them from its plan).
pub(crate) fn incremental_keys(catalog: &Catalog) -> Vec<(&str, String)> {
    catalog
        .streams
        .iter()
        .filter(|e| e.replication_method() == Some(ReplicationMethod::Incremental))
        .filter_map(|e| Some((e.tap_stream_id.as_str(), e.replication_key()?)))
        .collect()
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
