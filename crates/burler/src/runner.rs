//! The runner: from the command line to a mode (`--version`, `--about`, `--discover`,
//! `--verify`, a sync) and then the exit code, with one `CRITICAL` line per failure.
//!
//! A sync goes inputs (all checked before the first message) → plan (no I/O) → ledger and engine
//! → report.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use burler_singer::Catalog;
use chrono::Utc;
use tracing::{info, warn};

use crate::cli::{self, Cli, Parsed, TestMode};
use crate::definition::TapDef;
use crate::engine::{Engine, EngineOptions};
use crate::error::Error;
use crate::inputs;
use crate::ledger::Ledger;
use crate::output::Output;
use crate::report::{RunOutcome, RunReport};
use crate::scope::RunEnv;
use crate::transforms::Transforms;
use crate::writer::Route;

/// Parses arguments, runs, prints the final error lines, and returns the outcome.
pub(crate) fn run<C, K, I, T>(
    tap: TapDef<C, K>,
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
        Parsed::Exit { text, code } => return print_and_exit(&mut sink, &text, code),
    };
    if cli.version {
        let line = format!("{} {}\n", tap.name, tap.version);
        return print_and_exit(&mut sink, &line, 0);
    }
    if cli.about {
        let text = crate::about::render(&tap, cli.format);
        return print_and_exit(&mut sink, &text, 0);
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
            let lines: Vec<String> = failed.iter().map(|(s, e)| format!("{s}: {e}")).collect();
            for line in &lines {
                eprintln!("CRITICAL {line}");
            }
            let streams: std::collections::HashSet<&str> = failed
                .iter()
                .map(|(label, _)| label.split('[').next().unwrap_or(label))
                .collect();
            let text = format!("{} stream(s) failed", streams.len());
            RunOutcome {
                failures: lines,
                ..outcome(1, report, Some(text))
            }
        }
        Err((e, _)) => fail(e),
    }
}

/// Prints text to stdout (exit code 0) or stderr (a usage error) and ends the run.
fn print_and_exit(sink: &mut Box<dyn Write + Send>, text: &str, code: u8) -> RunOutcome {
    if code != 0 {
        eprintln!("{text}");
    } else if let Err(e) = sink.write_all(text.as_bytes()).and_then(|_| sink.flush()) {
        return fail(Error::Output(e));
    }
    outcome(code, None, None)
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
        failures: error.iter().cloned().collect(),
        error,
    }
}

type Failure = (Error, Option<RunReport>);

fn no_report(e: Error) -> Failure {
    (e, None)
}

/// Checks the definition and the config, discovers, then runs the mode asked for.
async fn execute<C, K>(
    tap: TapDef<C, K>,
    cli: Cli,
    mut sink: Box<dyn Write + Send>,
) -> Result<Option<RunReport>, Failure>
where
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    if !tap.definition_errors.is_empty() {
        let errors = tap.definition_errors.join("; ");
        return Err(no_report(Error::Definition(errors)));
    }
    if cli.config.is_empty() {
        let usage = "--config FILE is required (see --help)".into();
        return Err(no_report(Error::Usage(usage)));
    }
    let loaded = inputs::load(&tap, &cli).map_err(no_report)?;
    if !cli.discover {
        info!("Starting {} {}", tap.name, tap.version);
    }
    crate::definition::check(&tap.streams).map_err(no_report)?;
    let schemas = inputs::resolve_schemas(&tap.streams, &loaded.config).map_err(no_report)?;
    let discovered = crate::discover::catalog(&tap.streams, &schemas);
    if cli.discover {
        return print_catalog(&discovered, sink.as_mut()).map(|()| None);
    }
    if cli.verify {
        let verified = crate::verify::verify(&cli, &discovered, sink.as_mut());
        return verified.map(|()| None).map_err(no_report);
    }
    sync(tap, cli, Configured { loaded, discovered }, sink).await
}

/// What a sync starts from: the inputs read and the discovered catalog.
struct Configured<C> {
    loaded: inputs::Loaded<C>,
    discovered: Catalog,
}

fn print_catalog(catalog: &Catalog, sink: &mut dyn Write) -> Result<(), Failure> {
    let mut text =
        serde_json::to_string_pretty(catalog).map_err(|e| no_report(Error::Output(e.into())))?;
    text.push('\n');
    sink.write_all(text.as_bytes())
        .and_then(|_| sink.flush())
        .map_err(|e| no_report(Error::Output(e)))
}

/// A sync: catalog and state checked, the plan, the client, then the engine; the report on
/// stderr (and in `--report-json`).
async fn sync<C, K>(
    tap: TapDef<C, K>,
    cli: Cli,
    configured: Configured<C>,
    sink: Box<dyn Write + Send>,
) -> Result<Option<RunReport>, Failure>
where
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    let Configured { loaded, discovered } = configured;
    let inputs::Loaded {
        config,
        raw_config,
        start_date,
        catalog,
        mut state,
    } = loaded;
    let plan = inputs::checked_plan(&tap, &cli, catalog, &mut state, &discovered);
    let plan = plan.map_err(no_report)?;
    let routes = routes_of(&tap, &cli, &raw_config, &plan).map_err(no_report)?;
    let client = (tap.client)(&config).map_err(|e| no_report(Error::Client(e)))?;
    let sync_started = Utc::now();
    let output = Output::new(sink, cli.out_file.clone());
    if cli.test.is_some() {
        output.leave_states_out();
    }
    let ledger = Ledger::new(
        state,
        plan.policies(),
        output.clone(),
        sync_started,
        start_date,
    );
    let env = Arc::new(RunEnv {
        config,
        client,
        start_date,
        sync_started,
    });
    let options = EngineOptions {
        max_concurrent_streams: tap.max_concurrent_streams,
        fail_fast: tap.fail_fast || cli.fail_fast,
        metric_interval: tap.metric_interval,
        record_limit: (cli.test == Some(TestMode::All)).then_some(1),
    };
    let engine = Engine::new(plan, env, ledger, output.clone(), options, routes);
    if cli.test == Some(TestMode::Schema) {
        return engine
            .write_schemas()
            .map(|()| None)
            .map_err(|e| no_report(Error::Output(e)));
    }
    let report = engine.clone().run().await;
    finish(&engine, &cli, &output, report)
}

/// The route of every stream the config's stream maps, flattening or BATCH settings change.
fn routes_of<C, K>(
    tap: &TapDef<C, K>,
    cli: &Cli,
    raw_config: &serde_json::Map<String, serde_json::Value>,
    plan: &crate::plan::Plan<C, K>,
) -> Result<HashMap<String, Route>, Error> {
    let files = cli
        .config
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let mut transforms = Transforms::compile(raw_config, &tap.name, files, &plan.streams)?;
    let mut routes = HashMap::new();
    for planned in &plan.streams {
        if let Some(route) = transforms.route_for(planned)? {
            routes.insert(planned.facts.name.clone(), route);
        }
    }
    Ok(routes)
}

/// Flushes the output, prints the report, and turns failures into the run's error.
fn finish<C, K>(
    engine: &Engine<C, K>,
    cli: &Cli,
    output: &Output,
    report: RunReport,
) -> Result<Option<RunReport>, Failure>
where
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
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
    let failed = engine.failure_lines(&report.streams);
    if failed.is_empty() {
        Ok(Some(report))
    } else {
        Err((Error::StreamsFailed { failed }, Some(report)))
    }
}
