//! The standard suite: discover, verify the catalog, sync every stream, judge the messages, then
//! sync again from the final state. The same checks back `burler check`, so a tap author's
//! `cargo test` and a CI check of any tap binary say the same things.
//!
//! ```no_run
//! use burler_testkit::TapSuite;
//! use serde_json::json;
//! # fn my_tap() -> burler::Tap { burler::Tap::new("tap-x") }
//! TapSuite::new(my_tap, json!({"start_date": "2024-01-01T00:00:00Z"}))
//!     .min_bookmark_rate(3600.0) // each incremental stream covers ≥ 1 h of data per second
//!     .run()
//!     .assert_passes();
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use burler_singer::{Catalog, Message, ReadError, keys, parse_metric_line};
use serde_json::Value;

use crate::analysis::{Findings, SyncAnalysis, catalog_entry};
use crate::report::{Check, Report, Status};
use crate::resume::ResumeCheck;
use crate::runner::{BinaryTap, RunInput, TapOutput, TapRunner};
use crate::state_checks::{
    RateRule, bookmark_advance_check, older_than_bookmark_check, state_shape_check,
};
use crate::verify::verify_catalog;

/// The standard conformance suite of a tap.
pub struct TapSuite {
    runner: Box<dyn TapRunner>,
    config: Input,
    state: Option<Input>,
    catalog: Option<Input>,
    rates: Vec<RateRule>,
    second_run: bool,
    properties_check: bool,
    catalog_as_properties: bool,
    resume: Option<ResumeCheck>,
}

/// A JSON input given as a value or a file.
#[derive(Debug, Clone)]
enum Input {
    Value(Value),
    File(PathBuf),
}

impl Input {
    fn read(&self) -> Result<Value, String> {
        match self {
            Input::Value(v) => Ok(v.clone()),
            Input::File(p) => std::fs::read_to_string(p)
                .map_err(|e| format!("{}: {e}", p.display()))
                .and_then(|t| {
                    serde_json::from_str(&t)
                        .map_err(|e| format!("{}: not valid JSON: {e}", p.display()))
                }),
        }
    }
}

impl TapSuite {
    /// The suite for a burler tap run in-process; `factory` builds a fresh tap for each run.
    #[cfg(feature = "in-process")]
    pub fn new<F, C, K>(factory: F, config: Value) -> Self
    where
        F: Fn() -> burler::Tap<C, K> + 'static,
        C: Send + Sync + 'static,
        K: Send + Sync + 'static,
    {
        Self::with_runner(crate::runner::InProcessTap::new(factory), config)
    }

    /// The suite for a tap binary (e.g. `env!("CARGO_BIN_EXE_tap-x")`).
    pub fn binary(program: impl AsRef<Path>, config: Value) -> Self {
        Self::with_runner(BinaryTap::new([program.as_ref()]), config)
    }

    /// The suite for any runner, with the config as a value.
    pub fn with_runner(runner: impl TapRunner + 'static, config: Value) -> Self {
        Self::from_parts(Box::new(runner), Input::Value(config))
    }

    /// The suite for any runner, with the config in a file (as `burler check --config` gives it).
    pub fn with_config_file(runner: impl TapRunner + 'static, config: impl Into<PathBuf>) -> Self {
        Self::from_parts(Box::new(runner), Input::File(config.into()))
    }

    fn from_parts(runner: Box<dyn TapRunner>, config: Input) -> Self {
        TapSuite {
            runner,
            config,
            state: None,
            catalog: None,
            rates: Vec::new(),
            second_run: true,
            properties_check: true,
            catalog_as_properties: false,
            resume: Some(ResumeCheck::new()),
        }
    }

    /// Starts the first sync from this state (default: none).
    pub fn state(mut self, state: Value) -> Self {
        self.state = Some(Input::Value(state));
        self
    }

    /// Starts the first sync from the state in this file.
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state = Some(Input::File(path.into()));
        self
    }

    /// Syncs with this catalog instead of the discovered one with every stream selected.
    pub fn catalog(mut self, catalog: &Catalog) -> Self {
        self.catalog = Some(Input::Value(
            serde_json::to_value(catalog).unwrap_or_default(),
        ));
        self
    }

    /// Syncs with the catalog in this file.
    pub fn catalog_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.catalog = Some(Input::File(path.into()));
        self
    }

    /// Fails when an incremental stream's bookmark advances slower than `per_second` (seconds of
    /// data per second of run for date-times, units per second for numbers).
    pub fn min_bookmark_rate(mut self, per_second: f64) -> Self {
        self.rates.push(RateRule {
            stream: None,
            per_second,
            level: Status::Fail,
        });
        self
    }

    /// Warns (does not fail) below `per_second`.
    pub fn warn_bookmark_rate(mut self, per_second: f64) -> Self {
        self.rates.push(RateRule {
            stream: None,
            per_second,
            level: Status::Warn,
        });
        self
    }

    /// A minimum rate for one stream, failing (`Status::Fail`) or warning (`Status::Warn`).
    pub fn bookmark_rate_for(mut self, stream: &str, per_second: f64, level: Status) -> Self {
        self.rates.push(RateRule {
            stream: Some(stream.to_owned()),
            per_second,
            level,
        });
        self
    }

    /// Skips the second sync from the final state.
    pub fn skip_second_run(mut self) -> Self {
        self.second_run = false;
        self
    }

    /// Tries `n` cut points in the resume-anywhere check (default
    /// [`DEFAULT_CUTS`](crate::resume::DEFAULT_CUTS)); `0` turns it off.
    pub fn resume_cuts(mut self, n: usize) -> Self {
        self.resume = (n > 0).then(|| ResumeCheck::new().cuts(n));
        self
    }

    /// Runs this resume check (cut points of its own) instead of the default one.
    pub fn resume_check(mut self, check: ResumeCheck) -> Self {
        self.resume = Some(check);
        self
    }

    /// Skips the resume-anywhere check ([`ResumeCheck`]).
    pub fn skip_resume_check(mut self) -> Self {
        self.resume = None;
        self
    }

    /// Passes the catalog with the legacy `--properties` flag instead of `--catalog`, for older
    /// taps that read only that one.
    pub fn catalog_as_properties(mut self) -> Self {
        self.catalog_as_properties = true;
        self
    }

    /// Skips the run with both `--properties` and `--catalog`.
    pub fn skip_properties_check(mut self) -> Self {
        self.properties_check = false;
        self
    }

    /// Runs the suite. Never panics on a misbehaving tap: every problem is a check in the report.
    pub fn run(&self) -> Report {
        let mut report = Report {
            tap: self.runner.describe(),
            ..Report::default()
        };
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => {
                report.push(Check::new(
                    "setup",
                    Status::Fail,
                    format!("no temporary directory: {e}"),
                ));
                return report;
            }
        };
        let mut run = SuiteRun {
            suite: self,
            dir: dir.path(),
            report: &mut report,
        };
        run.all();
        report
    }
}

/// One execution of the suite.
struct SuiteRun<'a> {
    suite: &'a TapSuite,
    dir: &'a Path,
    report: &'a mut Report,
}

impl SuiteRun<'_> {
    fn fail(&mut self, name: &str, summary: String) {
        self.report.push(Check::new(name, Status::Fail, summary));
    }

    fn write(&self, name: &str, value: &Value) -> Result<PathBuf, String> {
        let path = self.dir.join(name);
        let text = serde_json::to_vec_pretty(value).map_err(|e| e.to_string())?;
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path)
    }

    fn input(&mut self, name: &str, input: &Input) -> Option<(PathBuf, Value)> {
        let result = input
            .read()
            .and_then(|v| Ok((self.write(&format!("{name}.json"), &v)?, v)));
        match result {
            Ok(pair) => Some(pair),
            Err(e) => {
                self.fail(name, format!("cannot read the {name}: {e}"));
                None
            }
        }
    }

    fn all(&mut self) {
        let Some((config, _)) = self.input("config", &self.suite.config.clone()) else {
            return;
        };
        let state = match self.suite.state.clone() {
            Some(s) => match self.input("state", &s) {
                Some(pair) => Some(pair),
                None => return,
            },
            None => None,
        };
        let Some(catalog) = self.catalog(&config) else {
            return;
        };
        let catalog_path = match self.write(
            "selected-catalog.json",
            &serde_json::to_value(&catalog).unwrap_or_default(),
        ) {
            Ok(p) => p,
            Err(e) => return self.fail("setup", e),
        };
        let mut input = self.sync_input(&config, &catalog_path);
        if let Some((path, _)) = &state {
            input = input.state(path);
        }
        let first = self.sync("sync", &input, &catalog, state.as_ref().map(|(_, v)| v));
        if let Some(first) = &first
            && let Some(resume) = &self.suite.resume
        {
            let outcome =
                resume.run_with_full(&*self.suite.runner, &input, &first.output, Some(&catalog));
            self.report.push(outcome.to_check());
            self.report.resume = Some(outcome);
        }
        if let Some(first) = first
            && self.suite.second_run
        {
            self.second_run(&config, &catalog_path, &catalog, &first);
        }
        if self.suite.properties_check {
            self.properties_and_catalog(&config, &catalog);
        }
    }

    /// A sync with `config` and the catalog in `catalog`, passed with the flag the tap reads.
    fn sync_input(&self, config: &Path, catalog: &Path) -> RunInput {
        let input = RunInput::sync(config);
        if self.suite.catalog_as_properties {
            input.properties(catalog)
        } else {
            input.catalog(catalog)
        }
    }

    /// Discovers, then the catalog to sync with: the given one, else the discovered one with
    /// every stream selected. `None` (with a failed check) when there is none.
    fn catalog(&mut self, config: &Path) -> Option<Catalog> {
        let discovered = self.discover(config);
        let Some(given) = self.suite.catalog.clone() else {
            let mut c = discovered?;
            c.select_all();
            return Some(c);
        };
        let (_, value) = self.input("catalog", &given)?;
        match Catalog::from_value(value) {
            Ok(c) => Some(c),
            Err(e) => {
                self.fail("catalog", format!("the given catalog does not parse: {e}"));
                None
            }
        }
    }

    /// Runs discovery and checks the catalog; `None` when there is no usable catalog.
    fn discover(&mut self, config: &Path) -> Option<Catalog> {
        let out = self.suite.runner.run(&RunInput::discover(config));
        if !out.succeeded() {
            self.report.push(
                Check::new(
                    "discover",
                    Status::Fail,
                    format!("--discover ended with {}", out.ending()),
                )
                .with_details(out.stderr_tail(5)),
            );
            return None;
        }
        let catalog = match Catalog::from_json_str(&out.stdout_text()) {
            Ok(c) => c,
            Err(e) => {
                self.fail("discover", format!("stdout is not a catalog: {e}"));
                return None;
            }
        };
        let names: Vec<&str> = catalog
            .streams
            .iter()
            .map(|s| s.tap_stream_id.as_str())
            .collect();
        let status = if names.is_empty() {
            Status::Fail
        } else {
            Status::Pass
        };
        self.report.push(Check::new(
            "discover",
            status,
            format!(
                "valid catalog with {}: {}",
                plural(names.len(), "stream"),
                names.join(", ")
            ),
        ));
        self.report.push(verify_check(&catalog));
        Some(catalog)
    }

    /// Runs one sync and every check of its messages; returns the analysis and output.
    fn sync(
        &mut self,
        name: &str,
        input: &RunInput,
        catalog: &Catalog,
        state: Option<&Value>,
    ) -> Option<FirstRun> {
        let out = self.suite.runner.run(input);
        let (messages, bad_lines) = out.messages_with_lines();
        let status = if out.succeeded() {
            Status::Pass
        } else {
            Status::Fail
        };
        self.report.push(
            Check::new(
                name,
                status,
                format!(
                    "{} in {:.2} s, {} messages",
                    out.ending(),
                    out.duration.as_secs_f64(),
                    messages.len()
                ),
            )
            .with_details(if out.succeeded() {
                Vec::new()
            } else {
                out.stderr_tail(5)
            }),
        );
        self.report
            .push(lines_check(&bad_lines, &out.stdout_text()));
        let analysis = SyncAnalysis::new(&messages, Some(catalog));
        self.message_checks(&analysis, catalog);
        if self.suite.runner.captures_stderr() {
            self.report.push(metrics_check(&out.stderr, &analysis));
        }
        let (check, advances) = bookmark_advance_check(
            &analysis,
            catalog,
            state,
            out.duration.as_secs_f64(),
            &self.suite.rates,
        );
        self.report.push(check);
        self.report.bookmarks = advances;
        self.report.push(drift_check(&analysis));
        self.report.records = analysis
            .streams
            .iter()
            .map(|(n, f)| (n.clone(), f.records))
            .collect();
        Some(FirstRun {
            analysis,
            output: out,
        })
    }

    fn message_checks(&mut self, a: &SyncAnalysis, catalog: &Catalog) {
        self.report.push(findings_check(
            "message order",
            &a.order,
            "SCHEMA precedes every RECORD and ACTIVATE_VERSION",
            Status::Fail,
        ));
        self.report.push(streams_check(a, catalog));
        let compiled = findings_check(
            "schemas compile",
            &a.schemas,
            "every SCHEMA is a valid JSON Schema",
            Status::Fail,
        );
        self.report.push(compiled);
        let total: u64 = a.streams.iter().map(|(_, f)| f.records).sum();
        self.report.push(findings_check(
            "records match their schema",
            &a.records,
            &format!("{total} records valid"),
            Status::Fail,
        ));
        self.report.push(findings_check(
            "key properties present and unique",
            &a.keys,
            "every record has a unique key",
            Status::Fail,
        ));
        self.report.push(findings_check(
            "replication key present",
            &a.replication_keys,
            "every incremental record has its replication key",
            Status::Fail,
        ));
        let state_check = if a.state_count == 0 {
            Check::new(
                "state messages parse",
                Status::Warn,
                "no STATE message: a re-run cannot resume",
            )
        } else {
            findings_check(
                "state messages parse",
                &a.states,
                &plural(a.state_count, "STATE message"),
                Status::Fail,
            )
        };
        self.report.push(state_check);
        if let Some(check) = state_shape_check(a, catalog) {
            self.report.push(check);
        }
    }

    fn second_run(
        &mut self,
        config: &Path,
        catalog_path: &Path,
        catalog: &Catalog,
        first: &FirstRun,
    ) {
        let Some(state) = first.analysis.last_state.clone() else {
            self.report.push(Check::new(
                "second run",
                Status::Warn,
                "skipped: the first sync wrote no STATE",
            ));
            return;
        };
        let state_path = match self.write("final-state.json", &state) {
            Ok(p) => p,
            Err(e) => return self.fail("second run", e),
        };
        let out = self
            .suite
            .runner
            .run(&self.sync_input(config, catalog_path).state(&state_path));
        let (messages, bad) = out.messages_with_lines();
        let ok = out.succeeded() && bad.is_empty();
        let mut check = Check::new(
            "second run",
            if ok { Status::Pass } else { Status::Fail },
            format!(
                "from the final state: {}, {} messages, {} bad lines",
                out.ending(),
                messages.len(),
                bad.len()
            ),
        );
        if !out.succeeded() {
            check = check.with_details(out.stderr_tail(5));
        }
        self.report.push(check);
        let second = SyncAnalysis::new(&messages, Some(catalog));
        self.report.push(older_than_bookmark_check(
            &messages, &second, &state, catalog,
        ));
        self.report
            .push(fewer_records_check(&first.analysis, &second));
    }

    fn properties_and_catalog(&mut self, config: &Path, catalog: &Catalog) {
        let mut deselected = catalog.clone();
        for s in &mut deselected.streams {
            s.metadata
                .set(&burler_singer::Breadcrumb::root(), keys::SELECTED, false);
            s.selected = None;
        }
        let paths = self
            .write(
                "properties.json",
                &serde_json::to_value(&deselected).unwrap_or_default(),
            )
            .and_then(|p| {
                Ok((
                    p,
                    self.write(
                        "catalog-wins.json",
                        &serde_json::to_value(catalog).unwrap_or_default(),
                    )?,
                ))
            });
        let (props, cat) = match paths {
            Ok(p) => p,
            Err(e) => return self.fail("--properties with --catalog", e),
        };
        let out = self
            .suite
            .runner
            .run(&RunInput::sync(config).properties(&props).catalog(&cat));
        let expected: u64 = self.report.records.iter().map(|(_, n)| *n).sum();
        let check = both_flags_check(&out, expected);
        self.report.push(check);
    }
}

/// The verdict of a run given both `--properties` (every stream deselected) and `--catalog`,
/// when the first sync wrote `expected` records.
fn both_flags_check(out: &TapOutput, expected: u64) -> Check {
    let name = "--properties with --catalog";
    let (messages, _) = out.messages_with_lines();
    let records = messages
        .iter()
        .filter(|(_, m)| matches!(m, Message::Record(_)))
        .count();
    if out.succeeded() && records > 0 {
        Check::new(
            name,
            Status::Pass,
            format!("ran with both, --catalog won ({records} records)"),
        )
    } else if out.succeeded() {
        let status = if expected == 0 {
            Status::Pass
        } else {
            Status::Warn
        };
        Check::new(
            name,
            status,
            "ran with both, but synced no record: --properties (all deselected) seems to win over --catalog",
        )
    } else if out.stderr.contains("properties") && !out.timed_out && out.exit_code.is_some() {
        Check::new(
            name,
            Status::Warn,
            format!(
                "the tap rejects the legacy --properties flag ({})",
                out.ending()
            ),
        )
        .with_details(out.stderr_tail(2))
    } else {
        Check::new(
            name,
            Status::Fail,
            format!("passing both crashed the tap: {}", out.ending()),
        )
        .with_details(out.stderr_tail(5))
    }
}

/// What the second run and the resume check compare against.
struct FirstRun {
    analysis: SyncAnalysis,
    output: TapOutput,
}

pub(crate) fn findings_check(name: &str, f: &Findings, ok: &str, level: Status) -> Check {
    if f.is_empty() {
        Check::new(name, Status::Pass, ok)
    } else {
        Check::new(name, level, plural(f.count, "problem")).with_details(f.lines.clone())
    }
}

/// The verify rules as one check: errors fail, warnings warn.
pub fn verify_check(catalog: &Catalog) -> Check {
    let problems = verify_catalog(catalog);
    let errors = problems.iter().filter(|p| p.is_error()).count();
    let warnings = problems.len() - errors;
    let status = if errors > 0 {
        Status::Fail
    } else if warnings > 0 {
        Status::Warn
    } else {
        Status::Pass
    };
    let summary = if problems.is_empty() {
        "publishable: standard keys, breadcrumbs match the schema, keys and replication keys declared".to_owned()
    } else {
        format!(
            "{}, {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        )
    };
    Check::new("catalog metadata", status, summary)
        .with_details(problems.iter().map(ToString::to_string).collect())
}

fn lines_check(bad: &[ReadError], stdout: &str) -> Check {
    let name = "stdout holds only Singer messages";
    if bad.is_empty() {
        return Check::new(name, Status::Pass, "every line parses");
    }
    let lines: Vec<&str> = stdout.split('\n').collect();
    let details = bad
        .iter()
        .take(50)
        .map(|e| {
            let text = usize::try_from(e.line)
                .ok()
                .and_then(|n| lines.get(n.wrapping_sub(1)))
                .copied()
                .unwrap_or_default();
            format!("{e}: {}", text.chars().take(120).collect::<String>())
        })
        .collect();
    let summary = format!("{} not Singer messages", plural(bad.len(), "line"));
    Check::new(name, Status::Fail, summary).with_details(details)
}

/// `1 stream`, `3 streams`.
pub(crate) fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn streams_check(a: &SyncAnalysis, catalog: &Catalog) -> Check {
    let mut status = Status::Pass;
    let mut details = Vec::new();
    for entry in catalog.streams.iter().filter(|e| e.is_selected()) {
        // Messages name a stream by its `stream`, or (PipelineWise) by its `tap_stream_id`.
        let written = [&entry.stream, &entry.tap_stream_id]
            .into_iter()
            .find_map(|name| Some((name, a.stream(name)?)));
        match written {
            Some((name, f)) if f.schema_seen && f.records > 0 => {
                details.push(format!("{name}: {} records", f.records))
            }
            Some((name, f)) if f.schema_seen => {
                status = status.max(Status::Warn);
                details.push(format!("{name}: SCHEMA but no record"));
            }
            _ => {
                status = Status::Fail;
                details.push(format!(
                    "{}: selected but no SCHEMA was written",
                    entry.stream
                ));
            }
        }
    }
    for (name, _) in &a.streams {
        if !catalog_entry(catalog, name).is_some_and(|e| e.is_selected()) {
            status = status.max(Status::Warn);
            details.push(format!("{name}: written but not selected in the catalog"));
        }
    }
    let summary = match status {
        Status::Pass => "every selected stream wrote its SCHEMA and records",
        Status::Warn => "every selected stream wrote its SCHEMA (some without records)",
        Status::Fail => "a selected stream did not sync",
    };
    Check::new("every selected stream syncs", status, summary).with_details(details)
}

fn metrics_check(stderr: &str, a: &SyncAnalysis) -> Check {
    let mut counts: Vec<(String, usize)> = Vec::new();
    let mut malformed = Vec::new();
    let mut record_counts: Vec<(String, f64)> = Vec::new();
    for line in stderr.lines().filter(|l| l.contains("METRIC:")) {
        let Some(m) = parse_metric_line(line) else {
            malformed.push(format!(
                "malformed metric line: {}",
                line.chars().take(200).collect::<String>()
            ));
            continue;
        };
        match counts.iter_mut().find(|(n, _)| *n == m.metric) {
            Some((_, c)) => *c += 1,
            None => counts.push((m.metric.clone(), 1)),
        }
        if m.metric == "record_count" {
            let stream = ["endpoint", "stream"]
                .iter()
                .find_map(|k| m.tags.get(*k).and_then(Value::as_str))
                .unwrap_or_default();
            let v = m.value.as_f64().unwrap_or_default();
            match record_counts.iter_mut().find(|(s, _)| s == stream) {
                Some((_, total)) => *total += v,
                None => record_counts.push((stream.to_owned(), v)),
            }
        }
    }
    let total: usize = counts.iter().map(|(_, c)| c).sum();
    let listed: Vec<String> = counts.iter().map(|(n, c)| format!("{n} ×{c}")).collect();
    let mut details = malformed;
    for (stream, counted) in &record_counts {
        if let Some(f) = a.stream(stream)
            && (*counted as u64) < f.records
        {
            details.push(format!(
                "record_count of {stream} sums to {counted}, but {} RECORDs were written",
                f.records
            ));
        }
    }
    let status = if details.is_empty() {
        Status::Pass
    } else {
        Status::Warn
    };
    let summary = if total == 0 {
        "no metric lines on stderr".to_owned()
    } else {
        format!("{}: {}", plural(total, "metric line"), listed.join(", "))
    };
    Check::new("metric lines", status, summary).with_details(details)
}

fn drift_check(a: &SyncAnalysis) -> Check {
    let mut status = Status::Pass;
    let mut details = Vec::new();
    for (stream, f) in &a.streams {
        if !f.schema_seen || f.records == 0 {
            continue;
        }
        let drift = f.observed.drift(&f.schema);
        if drift.is_breaking() {
            status = Status::Fail;
        }
        if !drift.is_empty() {
            status = status.max(Status::Warn);
            details.push(format!("{stream}: {drift}"));
        }
    }
    let summary = match status {
        Status::Pass => "records and schemas agree",
        Status::Warn => "some declared fields were never seen",
        Status::Fail => "records carry fields or types the schema does not declare",
    };
    Check::new("observed schema matches declared", status, summary).with_details(details)
}

fn fewer_records_check(first: &SyncAnalysis, second: &SyncAnalysis) -> Check {
    let mut status = Status::Pass;
    let mut details = Vec::new();
    for (stream, f2) in &second.streams {
        let n1 = first.stream(stream).map_or(0, |f| f.records);
        if f2.records > n1 {
            status = Status::Fail;
        }
        details.push(format!("{stream}: {n1} then {}", f2.records));
    }
    let summary = if status == Status::Pass {
        "no stream wrote more records than in the first run"
    } else {
        "a stream wrote more records from the final state than from scratch"
    };
    Check::new(
        "second run: no more records than the first",
        status,
        summary,
    )
    .with_details(details)
}

/// How long a binary tap run may take in `burler check` unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = crate::runner::DEFAULT_TIMEOUT;
