//! The runner: from parsed arguments to discovery or a sync, then the exit code.
//!
//! Order of a sync: config → spec check → schemas → catalog and state → client → plan (selection,
//! replication, bookmarks) → streams in dependency order (up to N at once) → report. Anything wrong
//! with the input ends the run before the first RECORD, with one line on stderr.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burler_schema::Conformer;
use burler_singer::{Catalog, CatalogEntry, FieldSelection, ReplicationMethod, State};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use tracing::{error, info, warn};

use crate::bookmark::{BookmarkTracker, BookmarkValue, parse_datetime};
use crate::cli::{self, Cli, Parsed};
use crate::context::lock;
use crate::error::{BoxError, Error};
use crate::output::Output;
use crate::report::{RunReport, StreamReport};
use crate::runtime::{RuntimeSetup, StreamRuntime};
use crate::stream::{BoxedStream, Replication, RetryScope, RetrySync, SchemaSource};
use crate::sync::{ErasedSync, SyncStart};
use crate::tap::{RunOutcome, Tap};

/// What every sync function of a run shares.
pub(crate) struct RunShared<C, K> {
    pub(crate) config: C,
    pub(crate) client: K,
    pub(crate) runtimes: HashMap<String, Arc<Mutex<StreamRuntime>>>,
    pub(crate) execs: HashMap<String, Arc<StreamExec<C, K>>>,
    pub(crate) start_date: Option<DateTime<Utc>>,
    pub(crate) sync_started: DateTime<Utc>,
    pub(crate) output: Output,
}

/// Parses arguments, runs, prints the final error lines, and returns the outcome.
pub(crate) fn run_blocking<C, K, I, T>(
    tap: Tap<C, K>,
    args: I,
    mut sink: Box<dyn Write + Send>,
) -> RunOutcome
where
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match cli::parse(&tap.name, tap.description.as_deref(), args) {
        Parsed::Run(cli) => cli,
        Parsed::Exit { text, code } => {
            if code == 0 {
                if let Err(e) = sink.write_all(text.as_bytes()).and_then(|_| sink.flush()) {
                    return fail(Error::Output(e));
                }
            } else {
                eprintln!("{text}");
            }
            return outcome(code, None, None);
        }
    };
    if cli.version {
        let line = format!("{} {}\n", tap.name, tap.version);
        if let Err(e) = sink.write_all(line.as_bytes()).and_then(|_| sink.flush()) {
            return fail(Error::Output(e));
        }
        return outcome(0, None, None);
    }
    if cli.about {
        let text = crate::about::render(&tap, cli.format);
        if let Err(e) = sink.write_all(text.as_bytes()).and_then(|_| sink.flush()) {
            return fail(Error::Output(e));
        }
        return outcome(0, None, None);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(tap.max_concurrent_streams.clamp(2, 8))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(Error::Output(e)),
    };
    match runtime.block_on(execute(tap, *cli, sink)) {
        Ok(report) => outcome(0, report, None),
        Err((Error::StreamsFailed { failed }, report)) => {
            for (stream, err) in &failed {
                eprintln!("CRITICAL {stream}: {err}");
            }
            let text = format!("{} stream(s) failed", failed.len());
            outcome(1, report, Some(text))
        }
        Err((e, _)) => fail(e),
    }
}

fn fail(e: Error) -> RunOutcome {
    let code = if matches!(e, Error::Usage(_)) { 2 } else { 1 };
    eprintln!("CRITICAL {e}");
    outcome(code, None, Some(e.to_string()))
}

fn outcome(exit_code: u8, report: Option<RunReport>, error: Option<String>) -> RunOutcome {
    RunOutcome {
        exit_code,
        report,
        error,
    }
}

type Failure = (Error, Option<RunReport>);

async fn execute<C, K>(
    tap: Tap<C, K>,
    cli: Cli,
    mut sink: Box<dyn Write + Send>,
) -> Result<Option<RunReport>, Failure>
where
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    let no_report = |e: Error| (e, None);
    if !tap.definition_errors.is_empty() {
        return Err(no_report(Error::Definition(
            tap.definition_errors.join("; "),
        )));
    }
    if cli.config.is_empty() {
        return Err(no_report(Error::Usage(
            "--config FILE is required (see --help)".into(),
        )));
    }
    let (config, start_date) = load_config(&tap, &cli).map_err(no_report)?;
    if !cli.discover {
        info!("Starting {} {}", tap.name, tap.version);
    }
    crate::definition::check(&tap.streams).map_err(no_report)?;
    let schemas = resolve_schemas(&tap.streams, &config).map_err(no_report)?;
    let discovered = crate::discover::catalog(&tap.streams, &schemas);
    if cli.discover {
        let mut text = serde_json::to_string_pretty(&discovered)
            .map_err(|e| no_report(Error::Output(e.into())))?;
        text.push('\n');
        sink.write_all(text.as_bytes())
            .and_then(|_| sink.flush())
            .map_err(|e| no_report(Error::Output(e)))?;
        return Ok(None);
    }
    if cli.verify {
        return verify(&cli, &discovered, sink.as_mut())
            .map(|()| None)
            .map_err(no_report);
    }
    let catalog = load_catalog(&cli, &discovered).map_err(no_report)?;
    let state = load_state(&cli).map_err(no_report)?;
    let client = (tap.client)(&config).map_err(|e| no_report(Error::Client(e)))?;
    let output = Output::new(sink, state, cli.out_file.clone());
    let missing = fields_missing_from(&catalog, &discovered);
    let plan = Plan::build(&tap, &catalog, &missing, &output, start_date);
    check_state_bookmarks(&plan.runtimes, &catalog, &output, cli.state.as_deref())
        .map_err(no_report)?;
    let run = Arc::new(RunShared {
        config,
        client,
        runtimes: plan.runtimes,
        execs: plan.execs,
        start_date,
        sync_started: plan.started,
        output: output.clone(),
    });
    let fail_fast = tap.fail_fast || cli.fail_fast;
    let report = sync_all(
        run,
        plan.order,
        plan.resume,
        tap.max_concurrent_streams,
        fail_fast,
    )
    .await;
    let flushed = output.flush();
    if output.is_broken() {
        return Err((Error::OutputClosed, Some(report)));
    }
    if let Err(e) = flushed {
        return Err((Error::Output(e), Some(report)));
    }
    eprint!("{}", report.to_table());
    if let Some(path) = &cli.report_json {
        let written = serde_json::to_vec_pretty(&report)
            .map_err(std::io::Error::from)
            .and_then(|bytes| std::fs::write(path, bytes));
        if let Err(e) = written {
            warn!("could not write the report to {}: {e}", path.display());
        }
    }
    let failed: Vec<(String, String)> = report
        .streams
        .iter()
        .filter_map(|s| Some((s.stream.clone(), s.error.clone()?)))
        .collect();
    if failed.is_empty() {
        Ok(Some(report))
    } else {
        Err((Error::StreamsFailed { failed }, Some(report)))
    }
}

/// Reads, merges and checks the config; returns it parsed, with its `start_date`.
fn load_config<C, K>(tap: &Tap<C, K>, cli: &Cli) -> Result<(C, Option<DateTime<Utc>>), Error> {
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
    let start_date = match merged.get("start_date") {
        Some(Value::String(s)) => Some(
            parse_datetime(s)
                .ok_or_else(|| {
                    invalid(vec![
                        "key `start_date` must be an RFC 3339 date-time".into(),
                    ])
                })?
                .with_timezone(&Utc),
        ),
        _ => None,
    };
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
    Ok((config, start_date))
}

/// Produces each stream's schema, `$ref`s resolved.
fn resolve_schemas<C, K>(streams: &[BoxedStream<C, K>], config: &C) -> Result<Vec<Value>, Error> {
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

/// `--verify`: prints every problem of the discovered catalog (and of the given catalog files) on
/// stdout, one per line, then a summary; fails when any problem is an error.
fn verify(cli: &Cli, discovered: &Catalog, sink: &mut dyn Write) -> Result<(), Error> {
    let mut lines: Vec<String> = Vec::new();
    let mut errors = 0;
    for problem in burler_singer::verify_catalog(discovered) {
        errors += usize::from(problem.is_error());
        lines.push(problem.to_string());
    }
    // The published catalog must read back as the same catalog (what a target or Meltano parses).
    let published = serde_json::to_string(discovered).map_err(|e| Error::Output(e.into()))?;
    if Catalog::from_json_str(&published).ok().as_ref() != Some(discovered) {
        errors += 1;
        lines.push("error: the discovered catalog does not read back as written".into());
    }
    // The catalog options must load, alone and together, without a crash (a catalog file with
    // unknown streams is the user's error, reported as one).
    for (flag, path) in [
        ("--catalog", &cli.catalog),
        ("--properties", &cli.properties),
    ] {
        if let Some(path) = path {
            let alone = Cli {
                catalog: Some(path.clone()),
                properties: None,
                ..cli.clone()
            };
            if let Err(e) = load_catalog(&alone, discovered) {
                errors += 1;
                // `e` names the file already.
                lines.push(format!("error: {flag}: {e}"));
            }
        }
    }
    if cli.catalog.is_some() && cli.properties.is_some() {
        if let Err(e) = load_catalog(cli, discovered) {
            errors += 1;
            lines.push(format!("error: --catalog with --properties: {e}"));
        }
    }
    let warnings = lines.len() - errors;
    lines.push(format!(
        "verify: {} stream(s), {errors} error(s), {warnings} warning(s)",
        discovered.streams.len()
    ));
    let mut text = lines.join("\n");
    text.push('\n');
    sink.write_all(text.as_bytes())
        .and_then(|_| sink.flush())
        .map_err(Error::Output)?;
    if errors > 0 {
        return Err(Error::VerifyFailed { errors });
    }
    Ok(())
}

/// The catalog to sync with: `--catalog` (preferred), `--properties`, or the discovered one.
fn load_catalog(cli: &Cli, discovered: &Catalog) -> Result<Catalog, Error> {
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
fn check_state_bookmarks(
    runtimes: &HashMap<String, Arc<Mutex<StreamRuntime>>>,
    catalog: &Catalog,
    output: &Output,
    path: Option<&std::path::Path>,
) -> Result<(), Error> {
    let Some(path) = path else {
        return Ok(());
    };
    let mut problems = Vec::new();
    for (name, runtime) in runtimes {
        let (method, key) = {
            let rt = lock(runtime);
            (rt.method, rt.key.clone())
        };
        let Some(key) = key.filter(|_| method == ReplicationMethod::Incremental) else {
            continue;
        };
        let Some(bookmark) = output.with_state(|s| s.bookmark(name).cloned()) else {
            continue;
        };
        if let Some(other) = bookmark.replication_key.as_deref().filter(|k| *k != key) {
            warn!(
                "state {}: stream {name}: the bookmark is for replication key {other}, not {key}: ignored",
                path.display()
            );
            output.update_state(|s| {
                let b = s.bookmark_mut(name);
                b.replication_key = None;
                b.replication_key_value = None;
            });
            continue;
        }
        let Some(value) = &bookmark.replication_key_value else {
            continue;
        };
        let schema = catalog
            .streams
            .iter()
            .find(|e| e.tap_stream_id == *name)
            .and_then(|e| e.schema.get("properties")?.get(&key).cloned());
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
fn fields_missing_from(catalog: &Catalog, discovered: &Catalog) -> HashMap<String, Vec<String>> {
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

fn load_state(cli: &Cli) -> Result<State, Error> {
    match &cli.state {
        None => Ok(State::default()),
        Some(path) => State::from_path(path).map_err(|e| Error::Input(e.to_string())),
    }
}

/// One stream of the plan: everything needed to run it, shared by the runs of its partitions.
pub(crate) struct StreamExec<C, K> {
    name: String,
    runner: Option<Arc<dyn ErasedSync<C, K>>>,
    /// Runs this run: selected, or feeding/driving a selected stream.
    needed: bool,
    selected: bool,
    emits_to: Vec<String>,
    after: Vec<String>,
    parent: Option<String>,
    children: Vec<String>,
    metadata: burler_singer::Metadata,
    retry: Option<RetrySync>,
    method: ReplicationMethod,
    key_properties: Vec<String>,
    interleave: crate::stream::Interleave,
    rollup: bool,
    lookback: Option<std::time::Duration>,
}

/// What will run, in which order, with which runtimes.
struct Plan<C, K> {
    execs: HashMap<String, Arc<StreamExec<C, K>>>,
    runtimes: HashMap<String, Arc<Mutex<StreamRuntime>>>,
    /// Top-level streams to run, in dependency order.
    order: Vec<String>,
    started: DateTime<Utc>,
    resume: Option<String>,
}

impl<C, K> Plan<C, K> {
    fn build(
        tap: &Tap<C, K>,
        catalog: &Catalog,
        missing: &HashMap<String, Vec<String>>,
        output: &Output,
        start_date: Option<DateTime<Utc>>,
    ) -> Self {
        let started = Utc::now();
        let selected: HashMap<&str, bool> = tap
            .streams
            .iter()
            .map(|d| {
                let name = d.spec.name.as_str();
                (
                    name,
                    catalog.get(name).is_some_and(CatalogEntry::is_selected),
                )
            })
            .collect();
        let needed = needed_streams(&tap.streams, &selected);
        let mut runtimes = HashMap::new();
        let mut execs = HashMap::new();
        for def in &tap.streams {
            let name = def.spec.name.clone();
            let entry = catalog.get(&name);
            let is_selected = selected.get(name.as_str()).copied().unwrap_or(false);
            let mut runtime =
                plan_runtime(tap, def, entry, is_selected, output, start_date, started);
            if let Some(fields) = missing.get(&name) {
                // Key properties and the replication key are always written.
                let spec = &def.spec;
                let fields: Vec<String> = fields
                    .iter()
                    .filter(|f| !spec.key_properties.contains(f) && runtime.key.as_ref() != Some(f))
                    .cloned()
                    .collect();
                runtime.leave_out(&fields);
            }
            let method = runtime.method;
            runtimes.insert(name.clone(), Arc::new(Mutex::new(runtime)));
            let spec = &def.spec;
            let exec = StreamExec {
                name: name.clone(),
                runner: def.runner.clone(),
                needed: def.runner.is_some() && needed.contains(name.as_str()),
                selected: is_selected,
                emits_to: spec.emits_to.clone(),
                after: spec.after.clone(),
                parent: spec.parent.clone(),
                children: spec.children.clone(),
                metadata: entry.map(|e| e.metadata.clone()).unwrap_or_default(),
                retry: spec.retry.clone(),
                method,
                key_properties: spec.key_properties.clone(),
                interleave: spec.interleave,
                rollup: spec.rollup,
                lookback: spec.lookback,
            };
            execs.insert(name, Arc::new(exec));
        }
        let roots: Vec<(&str, &[String])> = tap
            .streams
            .iter()
            .filter(|d| d.spec.parent.is_none())
            .map(|d| (d.spec.name.as_str(), d.spec.after.as_slice()))
            .collect();
        let resume = output.with_state(|st| st.currently_syncing().map(str::to_owned));
        let order = crate::definition::run_order(&roots, resume.as_deref());
        Plan {
            execs,
            runtimes,
            order,
            started,
            resume,
        }
    }
}

/// Streams that must run: selected ones, the parents of needed ones, and the feeders of selected ones.
fn needed_streams<'a, C, K>(
    streams: &'a [BoxedStream<C, K>],
    selected: &HashMap<&str, bool>,
) -> HashSet<&'a str> {
    let mut needed: HashSet<&str> = streams
        .iter()
        .map(|d| d.spec.name.as_str())
        .filter(|n| selected.get(n).copied().unwrap_or(false))
        .collect();
    loop {
        let before = needed.len();
        for d in streams {
            let name = d.spec.name.as_str();
            let feeds = d.spec.emits_to.iter().any(|t| needed.contains(t.as_str()));
            let drives = d.spec.children.iter().any(|c| needed.contains(c.as_str()));
            if feeds || drives {
                needed.insert(name);
            }
        }
        if needed.len() == before {
            return needed;
        }
    }
}

fn plan_runtime<C, K>(
    tap: &Tap<C, K>,
    def: &BoxedStream<C, K>,
    entry: Option<&CatalogEntry>,
    selected: bool,
    output: &Output,
    start_date: Option<DateTime<Utc>>,
    started: DateTime<Utc>,
) -> StreamRuntime {
    let spec = &def.spec;
    let method = effective_method(&spec.replication, entry, &spec.name);
    let key = match method {
        ReplicationMethod::Incremental => {
            replication_key(spec.replication.key(), entry, &spec.name)
        }
        _ => None,
    };
    let schema = entry.map(|e| e.schema.clone()).unwrap_or(Value::Null);
    let selection = field_selection(entry, &spec.key_properties, key.as_deref());
    let mut hooks = spec.hooks.clone();
    hooks.extend(tap.hooks.iter().cloned());
    let tracker = BookmarkTracker::new(default_start(method, start_date), started);
    let schema = selection.prune_schema(&schema);
    // Compiled once per stream, from the schema of the selected fields: unselected fields go too.
    let conformer = spec
        .conform
        .or(tap.conform)
        .map(|policy| Conformer::compile(&schema, policy));
    let mut runtime = StreamRuntime::new(RuntimeSetup {
        name: spec.name.clone(),
        selected,
        schema,
        key_properties: spec.key_properties.clone(),
        selection,
        hooks,
        conformer,
        method,
        key,
        tracker,
        strategy: spec.strategy,
        // A roll-up parent commits only the children's minimum, at the end.
        sorted: spec.sorted && !spec.rollup,
        filter_older: spec.filter_older,
        output: output.clone(),
    });
    runtime.set_metric_interval(tap.metric_interval);
    runtime
}

/// The catalog's replication key when it is the stream's (its one valid replication key), else
/// the declared one: a bookmark on another field would skip or repeat data.
fn replication_key(
    declared: Option<&str>,
    entry: Option<&CatalogEntry>,
    name: &str,
) -> Option<String> {
    match (entry.and_then(CatalogEntry::replication_key), declared) {
        (Some(asked), Some(valid)) if asked != valid => {
            warn!(
                "stream {name}: replication key {asked} is not a valid replication key (valid: {valid}); using {valid}"
            );
            Some(valid.to_owned())
        }
        (asked, declared) => asked.or_else(|| declared.map(str::to_owned)),
    }
}

/// Where an incremental sync starts without a bookmark: the config's `start_date`.
fn default_start(
    method: ReplicationMethod,
    start_date: Option<DateTime<Utc>>,
) -> Option<BookmarkValue> {
    (method == ReplicationMethod::Incremental)
        .then(|| start_date.map(|d| BookmarkValue::DateTime(d.fixed_offset())))
        .flatten()
}

/// The catalog's replication method where the stream supports it, else the declared one.
fn effective_method(
    declared: &Replication,
    entry: Option<&CatalogEntry>,
    name: &str,
) -> ReplicationMethod {
    let wanted = entry.and_then(CatalogEntry::replication_method);
    match (wanted, declared) {
        (None, d) => d.method(),
        (Some(ReplicationMethod::FullTable), _) => ReplicationMethod::FullTable,
        (Some(w), d) if w == d.method() => w,
        (Some(w), d) => {
            warn!(
                "stream {name}: replication method {w} is not supported, using {}",
                d.method()
            );
            d.method()
        }
    }
}

/// Field selection from the catalog entry, keeping key properties and the replication key.
fn field_selection(
    entry: Option<&CatalogEntry>,
    keys: &[String],
    rk: Option<&str>,
) -> FieldSelection {
    let Some(entry) = entry else {
        return FieldSelection::default();
    };
    let mut forced: Vec<String> = keys.to_vec();
    forced.extend(rk.map(str::to_owned));
    let (selection, warnings) = entry.field_selection_with(&forced);
    for w in warnings {
        warn!("stream {}: {w}", entry.tap_stream_id);
    }
    selection
}

/// Runs every top-level stream, in dependency order, up to `limit` at once.
async fn sync_all<C, K>(
    run: Arc<RunShared<C, K>>,
    order: Vec<String>,
    resume: Option<String>,
    limit: usize,
    fail_fast: bool,
) -> RunReport
where
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    let started = Instant::now();
    let mut selected_names: Vec<&str> = run
        .execs
        .values()
        .filter(|e| e.selected)
        .map(|e| e.name.as_str())
        .collect();
    selected_names.sort_unstable();
    info!(
        "Starting sync; selected streams: {}{}",
        if selected_names.is_empty() {
            "none".to_owned()
        } else {
            selected_names.join(", ")
        },
        resume
            .map(|r| format!("; resuming {r}"))
            .unwrap_or_default()
    );
    let mut pending: Vec<Arc<StreamExec<C, K>>> = order
        .iter()
        .filter_map(|name| run.execs.get(name).cloned())
        .filter(|e| e.needed)
        .collect();
    let mut done: HashSet<String> = run
        .execs
        .values()
        .filter(|e| !pending.iter().any(|p| p.name == e.name))
        .map(|e| e.name.clone())
        .collect();
    let mut reports: Vec<StreamReport> = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    let mut running: HashMap<tokio::task::Id, String> = HashMap::new();
    let mut stop = false;
    loop {
        while !stop && running.len() < limit {
            let Some(i) = pending
                .iter()
                .position(|s| s.after.iter().all(|d| done.contains(d)))
            else {
                break;
            };
            let exec = pending.remove(i);
            let name = exec.name.clone();
            let handle = tasks.spawn(sync_stream(run.clone(), exec));
            running.insert(handle.id(), name);
        }
        let Some(joined) = tasks.join_next_with_id().await else {
            break;
        };
        let report = match joined {
            Ok((id, report)) => {
                running.remove(&id);
                report
            }
            Err(e) => {
                let name = running.remove(&e.id()).unwrap_or_default();
                panicked_report(&name, &e)
            }
        };
        done.insert(report.stream.clone());
        if (report.error.is_some() && fail_fast) || run.output.is_broken() {
            stop = true;
        }
        reports.push(report);
    }
    for s in pending {
        reports.push(skipped_report(&s.name));
    }
    reports.extend(secondary_reports(&run, &reports));
    RunReport {
        streams: reports,
        duration_secs: started.elapsed().as_secs_f64(),
    }
}

/// Report rows of streams that did not run on their own: sub-streams and streams fed by `emit_to`.
fn secondary_reports<C, K>(run: &RunShared<C, K>, top: &[StreamReport]) -> Vec<StreamReport> {
    let mut names: Vec<&String> = run
        .execs
        .values()
        .filter(|e| e.parent.is_some() || e.runner.is_none())
        .filter(|e| !top.iter().any(|r| r.stream == e.name))
        .map(|e| &e.name)
        .collect();
    names.sort();
    names
        .into_iter()
        .filter_map(|name| {
            let rt = lock(run.runtimes.get(name)?);
            if rt.stats == Default::default() && !rt.selected {
                return None;
            }
            let mut r = skipped_report(name);
            r.status = if rt.selected {
                "succeeded"
            } else {
                "not selected"
            }
            .into();
            r.stats = rt.stats.clone();
            r.bookmark_after = rt
                .output
                .with_state(|s| s.replication_key_value(name).cloned());
            Some(r)
        })
        .collect()
}

fn panicked_report(name: &str, e: &tokio::task::JoinError) -> StreamReport {
    let mut r = skipped_report(name);
    r.status = "failed".into();
    r.errors = 1;
    r.error = Some(format!("sync panicked: {e}"));
    r
}

fn skipped_report(name: &str) -> StreamReport {
    StreamReport {
        stream: name.to_owned(),
        status: "skipped".into(),
        stats: Default::default(),
        errors: 0,
        duration_secs: 0.0,
        bookmark_before: None,
        bookmark_after: None,
        error: None,
    }
}

/// Syncs one top-level stream: currently_syncing, SCHEMAs, versions, its partitions (each with its
/// children), the final bookmark, metrics.
async fn sync_stream<C, K>(run: Arc<RunShared<C, K>>, exec: Arc<StreamExec<C, K>>) -> StreamReport
where
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    let started = Instant::now();
    let name = exec.name.clone();
    let Some(runtime) = run.runtimes.get(&name).cloned() else {
        return skipped_report(&name);
    };
    let before = lock(&runtime)
        .output
        .with_state(|s| s.replication_key_value(&name).cloned());
    info!(
        "Starting sync of stream {name} from bookmark {}",
        before.as_ref().map_or("none".to_owned(), |v| v.to_string())
    );
    let result = match start_stream(&run, &exec, &runtime) {
        Ok(()) => run_partitions(&run, &exec).await,
        Err(e) => Err(e),
    };
    let result = match result {
        Ok(()) => finish_stream(&run, &exec, &runtime),
        Err(e) => {
            flush_tree(&run, &exec);
            Err(e)
        }
    };
    let elapsed = started.elapsed().as_secs_f64();
    let rt = lock(&runtime);
    rt.log_record_count();
    let status = if result.is_ok() {
        "succeeded"
    } else {
        "failed"
    };
    let mut tags = Map::new();
    tags.insert("job_type".into(), Value::from("sync"));
    tags.insert("endpoint".into(), Value::from(name.clone()));
    tags.insert("status".into(), Value::from(status));
    burler_singer::metrics::Metric::timer("job_duration", elapsed, tags).emit();
    let after = rt
        .output
        .with_state(|s| s.replication_key_value(&name).cloned());
    match &result {
        Ok(()) => info!(
            "Finished stream {name}: {} records in {elapsed:.2}s; bookmark {} -> {}",
            rt.stats.emitted,
            before.as_ref().map_or("none".to_owned(), |v| v.to_string()),
            after.as_ref().map_or("none".to_owned(), |v| v.to_string()),
        ),
        Err(e) => error!(
            "stream {name} failed after {} records: {e}",
            rt.stats.emitted
        ),
    }
    StreamReport {
        stream: name,
        status: status.into(),
        stats: rt.stats.clone(),
        errors: u64::from(result.is_err()),
        duration_secs: elapsed,
        bookmark_before: before,
        bookmark_after: after,
        error: result.err().map(|e| e.to_string()),
    }
}

/// Marks the stream as currently syncing and writes the SCHEMA of it, of the streams it feeds and
/// of its sub-streams (parents first).
fn start_stream<C, K>(
    run: &RunShared<C, K>,
    exec: &StreamExec<C, K>,
    runtime: &Mutex<StreamRuntime>,
) -> Result<(), BoxError> {
    {
        let mut rt = lock(runtime);
        let name = exec.name.clone();
        rt.commit_with(|s| s.set_currently_syncing(Some(&name)))?;
    }
    write_schemas(run, exec)?;
    if exec.method == ReplicationMethod::FullTable && exec.parent.is_none() {
        lock(runtime).begin_full_table()?;
    }
    Ok(())
}

fn write_schemas<C, K>(run: &RunShared<C, K>, exec: &StreamExec<C, K>) -> Result<(), BoxError> {
    if let Some(rt) = run.runtimes.get(&exec.name) {
        lock(rt).ensure_schema()?;
    }
    for target in &exec.emits_to {
        if let Some(rt) = run.runtimes.get(target) {
            lock(rt).ensure_schema()?;
        }
    }
    for child in &exec.children {
        if let Some(child) = run.execs.get(child) {
            write_schemas(run, child)?;
        }
    }
    Ok(())
}

/// Runs the stream once, or once per partition when it declares partitions.
async fn run_partitions<C, K>(
    run: &Arc<RunShared<C, K>>,
    exec: &Arc<StreamExec<C, K>>,
) -> Result<(), BoxError>
where
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    let Some(runner) = &exec.runner else {
        return Ok(());
    };
    let Some(runtime) = run.runtimes.get(&exec.name) else {
        return Ok(());
    };
    let listing = runner.partitions(run.clone(), sync_start(exec, runtime, None, None));
    match listing {
        None => run_partition(run.clone(), exec.clone(), None).await,
        Some(list) => {
            let partitions = list.await?;
            info!("stream {}: {} partition(s)", exec.name, partitions.len());
            for partition in partitions {
                run_partition(run.clone(), exec.clone(), Some(partition)).await?;
            }
            Ok(())
        }
    }
}

fn sync_start<C, K>(
    exec: &StreamExec<C, K>,
    runtime: &Arc<Mutex<StreamRuntime>>,
    start_bookmark: Option<Value>,
    partition: Option<Value>,
) -> SyncStart {
    SyncStart {
        name: exec.name.clone(),
        runtime: runtime.clone(),
        emits_to: exec.emits_to.clone(),
        start_bookmark,
        metadata: exec.metadata.clone(),
        partition,
        children: exec.children.clone(),
        interleave: exec.interleave,
        key_properties: exec.key_properties.clone(),
    }
}

/// Runs the sub-streams `children` once for each parent context (called by a parent's context).
pub(crate) async fn run_children<C, K>(
    run: Arc<RunShared<C, K>>,
    children: &[String],
    contexts: Vec<Value>,
) -> Result<(), BoxError>
where
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    for context in contexts {
        for child in children {
            let Some(exec) = run.execs.get(child).cloned() else {
                continue;
            };
            if !exec.needed {
                continue;
            }
            run_partition(run.clone(), exec, Some(context.clone()))
                .await
                .map_err(|e| -> BoxError {
                    format!("sub-stream {child} ({context}): {e}").into()
                })?;
        }
    }
    Ok(())
}

/// Syncs one partition (or the whole stream): its own bookmark, retries, then its commit.
fn run_partition<C, K>(
    run: Arc<RunShared<C, K>>,
    exec: Arc<StreamExec<C, K>>,
    partition: Option<Value>,
) -> futures::future::BoxFuture<'static, Result<(), BoxError>>
where
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    Box::pin(async move {
        let Some(runtime) = run.runtimes.get(&exec.name).cloned() else {
            return Ok(());
        };
        let (stored, start) = begin_partition(&run, &exec, &runtime, partition.clone());
        let emitted_before = lock(&runtime).stats.emitted;
        run_with_retries(&run, &exec, &runtime, start, stored, partition.clone()).await?;
        let mut rt = lock(&runtime);
        if partition.is_some() {
            let mut tags = Map::new();
            tags.insert("endpoint".into(), Value::from(exec.name.clone()));
            tags.insert("context".into(), partition.clone().unwrap_or_default());
            let n = rt.stats.emitted - emitted_before;
            burler_singer::metrics::Metric::counter("record_count", n, tags).emit();
        }
        if exec.method == ReplicationMethod::FullTable || partition.is_none() {
            rt.flush()?;
        } else {
            rt.commit_bookmark()?;
            let name = exec.name.clone();
            rt.commit_with(|s| {
                s.bookmark_mut(&name)
                    .extra
                    .remove("currently_syncing_partition");
            })?;
        }
        Ok(())
    })
}

/// Points the stream's runtime at a partition: its stored bookmark (minus the lookback) is where
/// the sync starts. Returns the stored bookmark and the start bookmark.
fn begin_partition<C, K>(
    run: &RunShared<C, K>,
    exec: &StreamExec<C, K>,
    runtime: &Mutex<StreamRuntime>,
    partition: Option<Value>,
) -> (Option<Value>, Option<Value>) {
    let mut rt = lock(runtime);
    let name = exec.name.clone();
    let stored = match exec.method {
        ReplicationMethod::FullTable => None,
        _ => rt.output.with_state(|s| match &partition {
            Some(p) => s.partition_value(&name, p).cloned(),
            None => s.replication_key_value(&name).cloned(),
        }),
    };
    let start = match (&stored, exec.lookback) {
        (Some(Value::String(text)), Some(window)) => crate::bookmark::parse_datetime(text)
            .and_then(|dt| chrono::Duration::from_std(window).ok().map(|w| dt - w))
            .map(|dt| Value::from(crate::bookmark::format_datetime(&dt)))
            .or(stored.clone()),
        _ => stored.clone(),
    };
    let mut tracker = BookmarkTracker::new(
        start
            .as_ref()
            .and_then(BookmarkValue::from_json)
            .or_else(|| default_start(exec.method, run.start_date)),
        run.sync_started,
    );
    tracker.committed = stored.as_ref().and_then(BookmarkValue::from_json);
    if partition.is_some() || exec.parent.is_some() {
        rt.begin_partition(partition.clone(), tracker);
        if let Some(p) = &partition
            && exec.method != ReplicationMethod::FullTable
        {
            let p = p.clone();
            let _ = rt.commit_with(|s| {
                s.bookmark_mut(&name)
                    .extra
                    .insert("currently_syncing_partition".into(), p);
            });
        }
    } else {
        rt.tracker = tracker;
    }
    (stored, start)
}

/// Runs the sync function; on an error the stream's retry policy accepts, runs it again.
async fn run_with_retries<C, K>(
    run: &Arc<RunShared<C, K>>,
    exec: &StreamExec<C, K>,
    runtime: &Arc<Mutex<StreamRuntime>>,
    start: Option<Value>,
    stored: Option<Value>,
    partition: Option<Value>,
) -> Result<(), BoxError>
where
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    let Some(runner) = &exec.runner else {
        return Ok(());
    };
    let mut bookmark = start.clone();
    let mut attempt = 1;
    loop {
        let begin = sync_start(exec, runtime, bookmark.clone(), partition.clone());
        let err = match runner.start(run.clone(), begin).await {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        let Some(retry) = &exec.retry else {
            return Err(err);
        };
        if attempt >= retry.max_tries || !(retry.predicate)(&err) {
            return Err(err);
        }
        attempt += 1;
        let mut scope = RetryScope {
            attempt,
            error: err.to_string(),
            bookmark: start.clone(),
        };
        if let Some(setup) = &retry.setup {
            setup(&mut scope);
        }
        warn!(
            "stream {}: try {} failed: {err}; retrying from bookmark {}",
            exec.name,
            attempt - 1,
            scope
                .bookmark
                .as_ref()
                .map_or("none".to_owned(), |v| v.to_string())
        );
        bookmark = scope.bookmark;
        let mut rt = lock(runtime);
        let kept = rt.tracker.committed.clone();
        rt.tracker = BookmarkTracker::new(
            bookmark
                .as_ref()
                .and_then(BookmarkValue::from_json)
                .or_else(|| default_start(exec.method, run.start_date)),
            run.sync_started,
        );
        rt.tracker.committed = kept.or_else(|| stored.as_ref().and_then(BookmarkValue::from_json));
    }
}

/// Commits the final bookmark (or ACTIVATE_VERSION) of the stream and the streams it fed, and clears
/// `currently_syncing`.
fn finish_stream<C, K>(
    run: &RunShared<C, K>,
    exec: &StreamExec<C, K>,
    runtime: &Mutex<StreamRuntime>,
) -> Result<(), BoxError> {
    for target in &exec.emits_to {
        if let Some(rt) = run.runtimes.get(target) {
            let mut rt = lock(rt);
            if rt.method == ReplicationMethod::Incremental {
                rt.commit_bookmark()?;
            } else {
                rt.flush()?;
            }
        }
    }
    flush_tree(run, exec);
    let rollup = exec.rollup.then(|| children_minimum(run, exec)).flatten();
    let mut rt = lock(runtime);
    if exec.method == ReplicationMethod::FullTable {
        rt.finish_full_table()?;
    } else {
        if exec.rollup {
            rt.tracker.settle();
            rt.tracker.max_seen = rollup;
        }
        rt.commit_bookmark()?;
    }
    let name = exec.name.clone();
    rt.commit_with(|s| {
        if s.currently_syncing() == Some(name.as_str()) {
            s.set_currently_syncing(None);
        }
    })?;
    Ok(())
}

/// Writes the pending records of every sub-stream below `exec`.
fn flush_tree<C, K>(run: &RunShared<C, K>, exec: &StreamExec<C, K>) {
    if let Some(rt) = run.runtimes.get(&exec.name) {
        let _ = lock(rt).flush();
    }
    for child in &exec.children {
        if let Some(child) = run.execs.get(child) {
            flush_tree(run, child);
        }
    }
}

/// The smallest bookmark over the partitions of the parent's incremental children.
fn children_minimum<C, K>(run: &RunShared<C, K>, exec: &StreamExec<C, K>) -> Option<BookmarkValue> {
    let rt = lock(run.runtimes.get(&exec.name)?);
    rt.output.with_state(|state| {
        exec.children
            .iter()
            .filter(|c| {
                run.execs
                    .get(*c)
                    .is_some_and(|e| e.method == ReplicationMethod::Incremental)
            })
            .flat_map(|c| {
                state
                    .bookmark(c)
                    .and_then(|b| b.partitions.clone())
                    .unwrap_or_default()
            })
            .filter_map(|p| {
                p.get("replication_key_value")
                    .and_then(BookmarkValue::from_json)
            })
            .reduce(|a, b| if b.is_before(&a) { b } else { a })
    })
}
