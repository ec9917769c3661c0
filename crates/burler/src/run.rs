//! The runner: from parsed arguments to discovery or a sync, then the exit code.
//!
//! Order of a sync: config → spec check → schemas → catalog and state → client → plan (selection,
//! replication, bookmarks) → streams in dependency order (up to N at once) → report. Anything wrong
//! with the input ends the run before the first RECORD, with one line on stderr.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

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
    pub(crate) start_date: Option<DateTime<Utc>>,
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
                let _ = sink.write_all(text.as_bytes()).and_then(|_| sink.flush());
            } else {
                eprintln!("{text}");
            }
            return outcome(code, None, None);
        }
    };
    if cli.version {
        let line = format!("{} {}\n", tap.name, tap.version);
        let _ = sink.write_all(line.as_bytes()).and_then(|_| sink.flush());
        return outcome(0, None, None);
    }
    if cli.about {
        let text = crate::about::render(&tap, cli.format);
        let _ = sink.write_all(text.as_bytes()).and_then(|_| sink.flush());
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
    let catalog = load_catalog(&cli, &discovered).map_err(no_report)?;
    let state = load_state(&cli).map_err(no_report)?;
    let client = (tap.client)(&config).map_err(|e| no_report(Error::Client(e)))?;
    let output = Output::new(sink, state, cli.out_file.clone());
    let plan = Plan::build(&tap, &catalog, &output, start_date);
    let run = Arc::new(RunShared {
        config,
        client,
        runtimes: plan.runtimes.clone(),
        start_date,
    });
    let fail_fast = tap.fail_fast || cli.fail_fast;
    let report = sync_all(run, plan, tap.max_concurrent_streams, fail_fast).await;
    if let Err(e) = output.flush() {
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
    let config = (tap.config_parse)(merged).map_err(|e| invalid(vec![e]))?;
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
                    crate::schema::resolve(v).map_err(|e| schema_error(Box::new(e)))
                }
                SchemaSource::File(path) => {
                    crate::schema::load_file(path).map_err(|e| schema_error(Box::new(e)))
                }
                SchemaSource::Dynamic(f) => {
                    let v = f(config).map_err(schema_error)?;
                    crate::schema::resolve(&v).map_err(|e| schema_error(Box::new(e)))
                }
            }
        })
        .collect()
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

fn load_state(cli: &Cli) -> Result<State, Error> {
    match &cli.state {
        None => Ok(State::default()),
        Some(path) => State::from_path(path).map_err(|e| Error::Input(e.to_string())),
    }
}

/// One stream of the plan.
struct PlannedStream<C, K> {
    name: String,
    runner: Option<Arc<dyn ErasedSync<C, K>>>,
    runs: bool,
    emits_to: Vec<String>,
    after: Vec<String>,
    start_bookmark: Option<Value>,
    metadata: burler_singer::Metadata,
    retry: Option<RetrySync>,
    full_table: bool,
    selected: bool,
}

/// What will run, in which order, with which runtimes.
struct Plan<C, K> {
    streams: Vec<PlannedStream<C, K>>,
    runtimes: HashMap<String, Arc<Mutex<StreamRuntime>>>,
    started: DateTime<Utc>,
    resume: Option<String>,
}

impl<C, K> Plan<C, K> {
    fn build(
        tap: &Tap<C, K>,
        catalog: &Catalog,
        output: &Output,
        start_date: Option<DateTime<Utc>>,
    ) -> Self {
        let started = Utc::now();
        let mut runtimes = HashMap::new();
        let mut streams = Vec::new();
        for def in &tap.streams {
            let spec = &def.spec;
            // A stream missing from a given catalog is simply not selected.
            let entry = catalog.get(&spec.name);
            let selected = entry.is_some_and(CatalogEntry::is_selected);
            let (runtime, planned) =
                plan_stream(tap, def, entry, selected, output, start_date, started);
            runtimes.insert(spec.name.clone(), Arc::new(Mutex::new(runtime)));
            streams.push(planned);
        }
        // A stream whose records are not wanted still runs when it feeds a selected stream.
        let feeds: HashSet<String> = streams
            .iter()
            .filter(|s| {
                s.emits_to
                    .iter()
                    .any(|t| runtimes.get(t).is_some_and(|rt| lock(rt).selected))
            })
            .map(|s| s.name.clone())
            .collect();
        for s in &mut streams {
            s.runs = s.runner.is_some() && (s.selected || feeds.contains(&s.name));
        }
        let resume = output.with_state(|st| st.currently_syncing().map(str::to_owned));
        Plan {
            streams,
            runtimes,
            started,
            resume,
        }
    }
}

fn plan_stream<C, K>(
    tap: &Tap<C, K>,
    def: &BoxedStream<C, K>,
    entry: Option<&CatalogEntry>,
    selected: bool,
    output: &Output,
    start_date: Option<DateTime<Utc>>,
    started: DateTime<Utc>,
) -> (StreamRuntime, PlannedStream<C, K>) {
    let spec = &def.spec;
    let method = effective_method(&spec.replication, entry, &spec.name);
    let key = match method {
        ReplicationMethod::Incremental => entry
            .and_then(CatalogEntry::replication_key)
            .or_else(|| spec.replication.key().map(str::to_owned)),
        _ => None,
    };
    let schema = entry.map(|e| e.schema.clone()).unwrap_or(Value::Null);
    let selection = field_selection(entry, &spec.key_properties, key.as_deref());
    let state_bookmark = output.with_state(|s| s.replication_key_value(&spec.name).cloned());
    let start_bookmark = match method {
        ReplicationMethod::Incremental | ReplicationMethod::LogBased => state_bookmark,
        ReplicationMethod::FullTable => None,
    };
    let tracker_start = start_bookmark
        .as_ref()
        .and_then(BookmarkValue::from_json)
        .or_else(|| {
            (method == ReplicationMethod::Incremental)
                .then(|| start_date.map(|d| BookmarkValue::DateTime(d.fixed_offset())))
                .flatten()
        });
    let mut hooks = spec.hooks.clone();
    hooks.extend(tap.hooks.iter().cloned());
    let mut runtime = StreamRuntime::new(RuntimeSetup {
        name: spec.name.clone(),
        selected,
        schema: selection.prune_schema(&schema),
        key_properties: spec.key_properties.clone(),
        selection,
        hooks,
        method,
        key,
        tracker: BookmarkTracker::new(tracker_start, started),
        strategy: spec.strategy,
        sorted: spec.sorted,
        filter_older: spec.filter_older,
        output: output.clone(),
    });
    runtime.set_metric_interval(tap.metric_interval);
    let planned = PlannedStream {
        name: spec.name.clone(),
        runner: def.runner.clone(),
        runs: false,
        emits_to: spec.emits_to.clone(),
        after: spec.after.clone(),
        start_bookmark,
        metadata: entry.map(|e| e.metadata.clone()).unwrap_or_default(),
        retry: spec.retry.clone(),
        full_table: method == ReplicationMethod::FullTable,
        selected,
    };
    (runtime, planned)
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

/// Runs every planned stream, in dependency order, up to `limit` at once.
async fn sync_all<C, K>(
    run: Arc<RunShared<C, K>>,
    plan: Plan<C, K>,
    limit: usize,
    fail_fast: bool,
) -> RunReport
where
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    let started = Instant::now();
    let order = crate::definition::run_order(
        &plan
            .streams
            .iter()
            .map(|s| (s.name.as_str(), s.after.as_slice()))
            .collect::<Vec<_>>(),
        plan.resume.as_deref(),
    );
    let selected_names: Vec<&str> = plan
        .streams
        .iter()
        .filter(|s| s.selected)
        .map(|s| s.name.as_str())
        .collect();
    info!(
        "Starting sync; selected streams: {}",
        if selected_names.is_empty() {
            "none".to_owned()
        } else {
            selected_names.join(", ")
        }
    );
    let fed_only: Vec<String> = plan
        .streams
        .iter()
        .filter(|s| s.runner.is_none())
        .map(|s| s.name.clone())
        .collect();
    let mut by_name: HashMap<String, PlannedStream<C, K>> = plan
        .streams
        .into_iter()
        .map(|s| (s.name.clone(), s))
        .collect();
    let mut pending: Vec<PlannedStream<C, K>> = order
        .iter()
        .filter_map(|name| by_name.remove(name))
        .filter(|s| s.runs)
        .collect();
    let mut done: HashSet<String> = by_name.keys().cloned().collect();
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
            let stream = pending.remove(i);
            let name = stream.name.clone();
            let handle = tasks.spawn(sync_stream(run.clone(), stream, plan.started));
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
        if report.error.is_some() && fail_fast {
            stop = true;
        }
        reports.push(report);
    }
    for s in pending {
        reports.push(skipped_report(&s.name));
    }
    reports.extend(fed_only.iter().filter_map(|name| fed_report(&run, name)));
    RunReport {
        streams: reports,
        duration_secs: started.elapsed().as_secs_f64(),
    }
}

/// The report row of a stream without a sync function of its own, fed by `emit_to`.
fn fed_report<C, K>(run: &RunShared<C, K>, name: &str) -> Option<StreamReport> {
    let rt = lock(run.runtimes.get(name)?);
    let mut r = skipped_report(name);
    if rt.stats == Default::default() && !rt.selected {
        return None;
    }
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

/// Syncs one stream: currently_syncing, SCHEMA, versions, the sync function with retries, the final
/// bookmark, metrics.
async fn sync_stream<C, K>(
    run: Arc<RunShared<C, K>>,
    stream: PlannedStream<C, K>,
    sync_started: DateTime<Utc>,
) -> StreamReport
where
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    let started = Instant::now();
    let name = stream.name.clone();
    let Some(runtime) = run.runtimes.get(&name).cloned() else {
        return skipped_report(&name);
    };
    let before = stream.start_bookmark.clone();
    info!(
        "Starting sync of stream {name} from bookmark {}",
        before.as_ref().map_or("none".to_owned(), |v| v.to_string())
    );
    let result = match start_stream(&run, &stream, &runtime).await {
        Ok(()) => run_with_retries(&run, &stream, &runtime, sync_started).await,
        Err(e) => Err(e),
    };
    let result = match result {
        Ok(()) => finish_stream(&run, &stream, &runtime),
        Err(e) => {
            let _ = lock(&runtime).flush();
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

/// Marks the stream as currently syncing and writes the SCHEMA of it and of the streams it feeds.
async fn start_stream<C, K>(
    run: &RunShared<C, K>,
    stream: &PlannedStream<C, K>,
    runtime: &Mutex<StreamRuntime>,
) -> Result<(), BoxError> {
    {
        let mut rt = lock(runtime);
        let name = stream.name.clone();
        rt.commit_with(|s| s.set_currently_syncing(Some(&name)))?;
        rt.ensure_schema()?;
    }
    for target in &stream.emits_to {
        if let Some(rt) = run.runtimes.get(target) {
            lock(rt).ensure_schema()?;
        }
    }
    if stream.full_table {
        lock(runtime).begin_full_table()?;
    }
    Ok(())
}

/// Runs the sync function; on an error the stream's retry policy accepts, runs it again.
async fn run_with_retries<C, K>(
    run: &Arc<RunShared<C, K>>,
    stream: &PlannedStream<C, K>,
    runtime: &Arc<Mutex<StreamRuntime>>,
    sync_started: DateTime<Utc>,
) -> Result<(), BoxError>
where
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    let Some(runner) = &stream.runner else {
        return Ok(());
    };
    let mut bookmark = stream.start_bookmark.clone();
    let mut attempt = 1;
    loop {
        let start = SyncStart {
            name: stream.name.clone(),
            runtime: runtime.clone(),
            emits_to: stream.emits_to.clone(),
            start_bookmark: bookmark.clone(),
            metadata: stream.metadata.clone(),
        };
        let err = match runner.start(run.clone(), start).await {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        let Some(retry) = &stream.retry else {
            return Err(err);
        };
        if attempt >= retry.max_tries || !(retry.predicate)(&err) {
            return Err(err);
        }
        attempt += 1;
        let mut scope = RetryScope {
            attempt,
            error: err.to_string(),
            bookmark: stream.start_bookmark.clone(),
        };
        if let Some(setup) = &retry.setup {
            setup(&mut scope);
        }
        warn!(
            "stream {}: try {} failed: {err}; retrying from bookmark {}",
            stream.name,
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
            bookmark.as_ref().and_then(BookmarkValue::from_json),
            sync_started,
        );
        rt.tracker.committed = kept;
    }
}

/// Commits the final bookmark (or ACTIVATE_VERSION) of the stream and the streams it fed, and clears
/// `currently_syncing`.
fn finish_stream<C, K>(
    run: &RunShared<C, K>,
    stream: &PlannedStream<C, K>,
    runtime: &Mutex<StreamRuntime>,
) -> Result<(), BoxError> {
    for target in &stream.emits_to {
        if let Some(rt) = run.runtimes.get(target) {
            let mut rt = lock(rt);
            if rt.method == ReplicationMethod::Incremental {
                rt.commit_bookmark()?;
            } else {
                rt.flush()?;
            }
        }
    }
    let mut rt = lock(runtime);
    if stream.full_table {
        rt.finish_full_table()?;
    } else {
        rt.commit_bookmark()?;
    }
    let name = stream.name.clone();
    rt.commit_with(|s| {
        if s.currently_syncing() == Some(name.as_str()) {
            s.set_currently_syncing(None);
        }
    })?;
    Ok(())
}
