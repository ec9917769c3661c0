//! The command line every burler tap accepts, as the Singer spec and Meltano expect it.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};

use crate::error::Error;
use crate::shard::PartitionSelector;

/// Output format of `--about`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum AboutFormat {
    /// JSON, as Meltano reads it.
    #[default]
    Json,
    /// A Markdown page for a README.
    Markdown,
}

/// What `--test` runs, as singer-sdk's option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TestMode {
    /// Every selected stream (and sub-stream) writes at most one record, then the run ends.
    All,
    /// Only the SCHEMA messages of the selected streams.
    Schema,
}

/// Parsed command-line arguments of a tap.
#[derive(Debug, Clone, Parser)]
#[command(disable_version_flag = true)]
pub(crate) struct Cli {
    /// Config file (JSON object); may be given several times, later files override earlier keys.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub(crate) config: Vec<PathBuf>,
    /// State file from a previous run's last STATE message.
    #[arg(short = 's', long, value_name = "FILE")]
    pub(crate) state: Option<PathBuf>,
    /// Catalog file selecting streams and fields to sync.
    #[arg(long, value_name = "FILE")]
    pub(crate) catalog: Option<PathBuf>,
    /// Legacy name of --catalog (older orchestrators); --catalog wins when both are given.
    #[arg(short = 'p', long, value_name = "FILE")]
    pub(crate) properties: Option<PathBuf>,
    /// Print the catalog of available streams and exit (a --state or --catalog given too is not
    /// read: Meltano passes the files of its previous run).
    #[arg(short = 'd', long, conflicts_with_all = DISCOVER_REFUSES)]
    pub(crate) discover: bool,
    /// Check the discovered catalog for metadata that must not be published (non-standard keys,
    /// `selected` set by discovery, dangling breadcrumbs, keys not in the schema), and that the
    /// given --catalog/--properties and --state load and fit; print every problem and exit (1 on
    /// an error).
    #[arg(long, conflicts_with_all = ["discover", "out_file", "report_json", "fail_fast", "test", "partitions"])]
    pub(crate) verify: bool,
    /// Print the tap's name, version, capabilities and settings, and exit.
    #[arg(long, conflicts_with_all = ["discover", "verify"], conflicts_with_all = SYNC_ONLY)]
    pub(crate) about: bool,
    /// Format of --about.
    #[arg(long, value_enum, default_value_t = AboutFormat::Json, requires = "about")]
    pub(crate) format: AboutFormat,
    /// Also write each STATE, atomically, to this file.
    #[arg(short = 'o', long = "out-file", value_name = "PATH")]
    pub(crate) out_file: Option<PathBuf>,
    /// Write the end-of-run report as JSON to this file.
    #[arg(long = "report-json", value_name = "PATH")]
    pub(crate) report_json: Option<PathBuf>,
    /// Test the connection: each selected stream syncs one record (`--test`, `--test=all`), or
    /// only SCHEMA messages are written (`--test=schema`). A test run writes no STATE and
    /// activates no table version.
    #[arg(long, value_enum, value_name = "WHAT", num_args = 0..=1, require_equals = true,
          default_missing_value = "all")]
    pub(crate) test: Option<TestMode>,
    /// Stop at the first failing stream.
    #[arg(long = "fail-fast")]
    pub(crate) fail_fast: bool,
    /// Sync only some top-level partitions, one process per worker: `K/N` (worker K of N, 1-based;
    /// each partition goes to the worker a stable hash of its stream and context picks, a stream
    /// without partitions counts as one), a JSON list of partition contexts, or `@FILE` holding
    /// one. Without the flag a sync reads the `BURLER_PARTITIONS` environment variable (for
    /// orchestrators such as Meltano). Join the workers' states with `burler state merge`.
    #[arg(long, value_name = "SELECTOR")]
    pub(crate) partitions: Option<String>,
    /// Print the version and exit.
    #[arg(short = 'V', long, action = clap::ArgAction::SetTrue,
        conflicts_with_all = ["discover", "verify", "about"])]
    pub(crate) version: bool,
}

/// The options of a sync that `--discover` refuses: a mistyped command line fails instead of doing
/// something else. `--state`, `--catalog` and `--properties` are not among them: Meltano's
/// discovery passes whichever of them its previous run left (as singer-sdk taps accept them).
const DISCOVER_REFUSES: [&str; 5] = ["test", "partitions", "out_file", "report_json", "fail_fast"];

/// The options that only a sync reads: refused next to `--about`, which would ignore them.
const SYNC_ONLY: [&str; 8] = [
    "test",
    "partitions",
    "state",
    "catalog",
    "properties",
    "out_file",
    "report_json",
    "fail_fast",
];

impl Cli {
    /// True when the arguments ask for a sync (no other mode).
    pub(crate) fn syncs(&self) -> bool {
        !(self.discover || self.verify || self.about || self.version)
    }

    /// The partition selector of a sync: `--partitions`, else a non-empty `BURLER_PARTITIONS`.
    /// The variable is read only here, for a sync: an orchestrator that sets it for a worker also
    /// runs `--discover` and `--about` in that environment, and those must not fail over it.
    pub(crate) fn selector(&self) -> Result<Option<PartitionSelector>, Error> {
        let (source, text) = match &self.partitions {
            Some(text) => ("--partitions ".to_owned(), text.clone()),
            None => match std::env::var(PARTITIONS_ENV) {
                Ok(text) if !text.trim().is_empty() => (format!("{PARTITIONS_ENV}="), text),
                _ => return Ok(None),
            },
        };
        PartitionSelector::parse(&text)
            .map(Some)
            .map_err(|why| Error::Usage(format!("{source}{text}: {why}")))
    }
}

/// The environment variable a sync reads its partition selector from when `--partitions` is not
/// given.
pub(crate) const PARTITIONS_ENV: &str = "BURLER_PARTITIONS";

/// How parsing ended: arguments to run with, or text to print and an exit code.
pub(crate) enum Parsed {
    Run(Box<Cli>),
    Exit { text: String, code: u8 },
}

/// Parses `args` for the tap `name`.
pub(crate) fn parse<I, T>(name: &str, description: Option<&str>, args: I) -> Parsed
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut command = Cli::command().name(name.to_owned());
    // Without a description the tap still says what it is (not this struct's doc comment).
    let about = description.map_or_else(|| format!("{name}: a Singer tap"), str::to_owned);
    command = command.about(about).long_about(None);
    let matches = match command.try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) if !e.use_stderr() => {
            // --help: the whole text, on stdout.
            return Parsed::Exit {
                text: e.to_string(),
                code: 0,
            };
        }
        Err(e) => return usage_error(&e),
    };
    match Cli::from_arg_matches(&matches) {
        Ok(cli) => Parsed::Run(Box::new(cli)),
        Err(e) => usage_error(&e),
    }
}

/// A usage error, exit code 2: clap's message with its details (the possible values, the missing
/// arguments, a "similar argument" tip), without the usage block and the `--help` hint that follow
/// it, so a simple mistake (a conflict, an unknown flag) stays one line.
fn usage_error(e: &clap::Error) -> Parsed {
    let rendered = e.to_string();
    let text = rendered
        .split("\n\n")
        .map(str::trim_end)
        .filter(|part| {
            !part.is_empty()
                && !part.starts_with("Usage:")
                && !part.starts_with("For more information")
        })
        .collect::<Vec<_>>()
        .join("\n");
    Parsed::Exit { text, code: 2 }
}
