//! The engine: runs a [`Plan`] — top-level streams in dependency order (up to N at once), each
//! with its partitions, retries and tree of sub-streams — over one map from stream name to a
//! shared [`Handle`] (the plan of the stream, its sync function, its writer, what happened to it).
//!
//! Bookmarks are the ledger's: the engine only opens a book when a sync starts and gives it back
//! when it ends. Sync contexts reach the engine through the [`Tree`] handle it implements (other
//! streams' writers, the children of a parent's records).

mod lanes;
mod partition;
mod report;
mod tree;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tracing::info;

use crate::error::BoxError;
use crate::ledger::Ledger;
use crate::output::Output;
use crate::plan::{Plan, PlannedStream};
use crate::report::RunReport;
use crate::scope::RunEnv;
use crate::writer::{Route, Writer, WriterSetup};

/// How a sync that succeeded ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Done {
    /// Its records and its whole tree of children are written.
    Whole,
    /// Its records are written, but the children of some of them failed.
    Incomplete,
}

/// What happened to one stream this run.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// At least one sync of it started.
    ran: bool,
    /// Each failed sync: the partition (parent context) it was for, and the error.
    failures: Vec<(Option<serde_json::Value>, String)>,
    /// The tree above it failed or stopped before it could run (sub-streams only).
    parent_failed: bool,
    /// Its tree completed (top-level streams only).
    tree_done: bool,
}

/// One stream, shared by the engine and every sync of it.
pub(crate) struct Handle<C, K> {
    pub(crate) plan: PlannedStream<C, K>,
    pub(crate) writer: Arc<Mutex<Writer>>,
    /// Idle writers for syncs of the stream that run at once.
    lanes: lanes::Lanes,
    outcome: Mutex<Outcome>,
}

impl<C, K> Handle<C, K> {
    fn name(&self) -> &str {
        &self.plan.facts.name
    }

    fn outcome(&self) -> MutexGuard<'_, Outcome> {
        self.outcome.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Run options the engine needs.
pub(crate) struct EngineOptions {
    pub(crate) max_concurrent_streams: usize,
    pub(crate) fail_fast: bool,
    pub(crate) metric_interval: std::time::Duration,
    /// Records each stream writes before its sync stops (`--test`).
    pub(crate) record_limit: Option<u64>,
}

/// The engine of one sync (see the module docs).
pub(crate) struct Engine<C, K> {
    env: Arc<RunEnv<C, K>>,
    ledger: Arc<Ledger>,
    output: Output,
    streams: HashMap<String, Arc<Handle<C, K>>>,
    order: Vec<String>,
    resume: Option<String>,
    options: EngineOptions,
}

impl<C, K> Engine<C, K>
where
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    /// An engine for `plan`, writing through `ledger` and `output`.
    pub(crate) fn new(
        plan: Plan<C, K>,
        env: Arc<RunEnv<C, K>>,
        ledger: Arc<Ledger>,
        output: Output,
        options: EngineOptions,
        mut routes: HashMap<String, Route>,
    ) -> Arc<Self> {
        let streams = plan
            .streams
            .into_iter()
            .map(|planned| {
                let route = routes.remove(&planned.facts.name);
                let handle = handle_of(planned, route, &ledger, &output, &options);
                (handle.name().to_owned(), Arc::new(handle))
            })
            .collect();
        Arc::new(Engine {
            env,
            ledger,
            output,
            streams,
            order: plan.order,
            resume: plan.resume,
            options,
        })
    }

    /// Runs every needed top-level stream, in dependency order, up to the limit at once, and
    /// reports on every stream.
    pub(crate) async fn run(self: Arc<Self>) -> RunReport {
        let started = Instant::now();
        self.log_start();
        let mut pending: Vec<Arc<Handle<C, K>>> = self
            .order
            .iter()
            .filter_map(|name| self.handle(name).cloned())
            .filter(|h| h.plan.needed)
            .collect();
        let mut done: HashSet<String> = self
            .streams
            .keys()
            .filter(|n| !pending.iter().any(|p| p.name() == n.as_str()))
            .cloned()
            .collect();
        let mut tasks = tokio::task::JoinSet::new();
        let mut running: HashMap<tokio::task::Id, String> = HashMap::new();
        let mut reports = Vec::new();
        let mut stop = false;
        loop {
            while !stop && running.len() < self.options.max_concurrent_streams {
                let Some(i) = pending
                    .iter()
                    .position(|s| s.plan.after.iter().all(|d| done.contains(d)))
                else {
                    break;
                };
                let handle = pending.remove(i);
                let name = handle.name().to_owned();
                let id = tasks.spawn(self.clone().sync_root(handle)).id();
                running.insert(id, name);
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
                    report::panicked(&name, &e)
                }
            };
            done.insert(report.stream.clone());
            stop |= (report.error.is_some() && self.options.fail_fast) || self.output.is_broken();
            reports.push(report);
        }
        reports.extend(pending.iter().map(|s| report::skipped(s.name())));
        reports.extend(self.secondary_reports(&reports));
        RunReport {
            streams: reports,
            duration_secs: started.elapsed().as_secs_f64(),
        }
    }

    /// Writes the SCHEMA of every selected stream (after any stream map) and nothing else:
    /// `--test=schema`.
    pub(crate) fn write_schemas(&self) -> std::io::Result<()> {
        for root in &self.order {
            let Some(handle) = self.handle(root) else {
                continue;
            };
            let fed = handle.plan.facts.emits_to.iter().cloned();
            for name in std::iter::once(root.clone())
                .chain(fed)
                .chain(self.descendants(root))
            {
                if let Some(h) = self.handle(&name) {
                    let mut w = crate::scope::lock(&h.writer);
                    w.ensure_schema()?;
                    w.flush()?;
                }
            }
        }
        self.output.flush()
    }

    fn log_start(&self) {
        let mut selected: Vec<&str> = self
            .streams
            .values()
            .filter(|h| h.plan.selected)
            .map(|h| h.name())
            .collect();
        selected.sort_unstable();
        let names = if selected.is_empty() {
            "none".to_owned()
        } else {
            selected.join(", ")
        };
        let resume = self
            .resume
            .as_ref()
            .map(|r| format!("; resuming {r}"))
            .unwrap_or_default();
        info!("Starting sync; selected streams: {names}{resume}");
    }
}

impl<C, K> Engine<C, K> {
    fn handle(&self, name: &str) -> Option<&Arc<Handle<C, K>>> {
        self.streams.get(name)
    }

    /// The streams below `name` (children, grandchildren, …), parents first, each once (a
    /// child of several parents is reached more than once).
    fn descendants(&self, name: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut queue = vec![name.to_owned()];
        while let Some(next) = queue.pop() {
            if let Some(h) = self.handle(&next) {
                for child in &h.plan.facts.children {
                    if out.contains(child) {
                        continue;
                    }
                    out.push(child.clone());
                    queue.push(child.clone());
                }
            }
        }
        out
    }
}

/// The handle of a planned stream: its writer built from the plan.
fn handle_of<C, K>(
    planned: PlannedStream<C, K>,
    route: Option<Route>,
    ledger: &Arc<Ledger>,
    output: &Output,
    options: &EngineOptions,
) -> Handle<C, K> {
    let plan = &planned.writer;
    let mut writer = Writer::new(WriterSetup {
        name: planned.facts.name.clone(),
        selected: planned.selected,
        schema: plan.schema.clone(),
        key_properties: planned.facts.key_properties.clone(),
        selection: plan.selection.clone(),
        hooks: plan.hooks.clone(),
        conformer: plan.conformer.clone(),
        key: planned.policy.key.clone(),
        strategy: plan.strategy,
        sorted: plan.sorted,
        metric_interval: options.metric_interval,
        ledger: ledger.clone(),
        output: output.clone(),
        route,
        record_limit: options.record_limit,
        sub_stream: planned.parent.is_some(),
    });
    writer.leave_out(&plan.leave_out);
    let writer = Arc::new(Mutex::new(writer));
    Handle {
        plan: planned,
        lanes: lanes::Lanes::new(&writer),
        writer,
        outcome: Mutex::new(Outcome::default()),
    }
}

/// A failure label: `stream[partition]`, or the stream alone.
fn label(stream: &str, partition: Option<&serde_json::Value>) -> String {
    match partition {
        Some(p) => format!("{stream}[{p}]"),
        None => stream.to_owned(),
    }
}

/// Makes a sync error from a message.
fn error(message: String) -> BoxError {
    message.into()
}
