//! `burler check`: a modern `singer-check-tap`. Runs the tap's discovery, verifies the catalog,
//! syncs every stream (or the given catalog), judges the messages, the state shape, the metric
//! lines on stderr, resuming from the STATE before each of a spread of cut points, and a second
//! run from the final state, then prints one `PASS`/`WARN`/`FAIL` line per check (or JSON, see
//! `report.schema.json`) and exits 1 when a check failed.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use burler_testkit::TapSuite;
use burler_testkit::runner::BinaryTap;

/// Arguments of `burler check`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example: burler check --config config.json -- target/debug/tap-files")]
pub struct CheckArgs {
    /// The tap's config file.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Sync with this catalog (default: the discovered one with every stream selected).
    #[arg(long, value_name = "FILE")]
    catalog: Option<PathBuf>,
    /// Start the first sync from this state.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Stop a tap run after this many seconds (at least 1).
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = whole_seconds)]
    timeout: u64,
    /// Fail when an incremental bookmark advances slower than this (seconds of data, or units,
    /// per second of run).
    #[arg(long, value_name = "PER_SECOND")]
    min_bookmark_rate: Option<f64>,
    /// Skip the second sync from the final state.
    #[arg(long)]
    skip_second_run: bool,
    /// Skip the run with both --properties and --catalog.
    #[arg(long)]
    skip_properties: bool,
    /// Pass the catalog as --properties (the legacy flag) instead of --catalog, for older taps
    /// that read only that one.
    #[arg(long)]
    use_properties: bool,
    /// Cut the output at about N lines and resume from the STATE before each (0: skip).
    #[arg(long, value_name = "N", default_value_t = burler_testkit::resume::DEFAULT_CUTS)]
    cuts: usize,
    /// Skip the resume-anywhere check (same as --cuts 0).
    #[arg(long)]
    skip_resume: bool,
    /// The tap command: program and leading arguments (Singer flags are added after them).
    #[arg(last = true, required = true, num_args = 1.., value_name = "TAP COMMAND")]
    tap: Vec<OsString>,
}

/// A `--timeout`: whole seconds, at least 1 (0 would stop every run before it starts, and every
/// check would fail for a reason that is not the tap's).
fn whole_seconds(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => Err("must be at least 1 second".into()),
        Ok(seconds) => Ok(seconds),
        Err(_) => Err("must be a whole number of seconds".into()),
    }
}

/// Runs the check and prints the report; exit 1 when a check failed.
pub fn run(args: &CheckArgs) -> ExitCode {
    let tap = BinaryTap::new(args.tap.iter().cloned()).timeout(Duration::from_secs(args.timeout));
    let mut suite = TapSuite::with_config_file(tap, &args.config);
    if let Some(catalog) = &args.catalog {
        suite = suite.catalog_file(catalog);
    }
    if let Some(state) = &args.state {
        suite = suite.state_file(state);
    }
    if let Some(rate) = args.min_bookmark_rate {
        suite = suite.min_bookmark_rate(rate);
    }
    if args.skip_second_run {
        suite = suite.skip_second_run();
    }
    if args.skip_properties {
        suite = suite.skip_properties_check();
    }
    if args.use_properties {
        suite = suite.catalog_as_properties();
    }
    suite = if args.skip_resume {
        suite.skip_resume_check()
    } else {
        suite.resume_cuts(args.cuts)
    };
    let report = suite.run();
    if args.json {
        println!("{:#}", report.to_json());
    } else {
        println!("burler check: {}", report.tap);
        println!("{report}");
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
