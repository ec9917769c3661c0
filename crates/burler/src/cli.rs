//! The command line every burler tap accepts, as the Singer spec and Meltano expect it.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};

/// Output format of `--about`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum AboutFormat {
    /// JSON, as Meltano reads it.
    #[default]
    Json,
    /// A Markdown page for a README.
    Markdown,
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
    /// Print the catalog of available streams and exit.
    #[arg(short = 'd', long)]
    pub(crate) discover: bool,
    /// Check the discovered catalog for metadata that must not be published (non-standard keys,
    /// `selected` set by discovery, dangling breadcrumbs, keys not in the schema), and that the
    /// given --catalog/--properties load; print every problem and exit (1 on an error).
    #[arg(long)]
    pub(crate) verify: bool,
    /// Print the tap's name, version, capabilities and settings, and exit.
    #[arg(long)]
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
    /// Stop at the first failing stream.
    #[arg(long = "fail-fast")]
    pub(crate) fail_fast: bool,
    /// Print the version and exit.
    #[arg(short = 'V', long, action = clap::ArgAction::SetTrue)]
    pub(crate) version: bool,
}

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
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let text = if e.use_stderr() {
                first_line(&e.to_string())
            } else {
                e.to_string()
            };
            return Parsed::Exit { text, code };
        }
    };
    match Cli::from_arg_matches(&matches) {
        Ok(cli) => Parsed::Run(Box::new(cli)),
        Err(e) => Parsed::Exit {
            text: first_line(&e.to_string()),
            code: 2,
        },
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_owned()
}
