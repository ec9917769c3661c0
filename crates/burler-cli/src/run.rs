//! `burler run MANIFEST [TAP OPTIONS…]`: runs a declarative manifest (burler's format or an
//! Airbyte low-code manifest) as a Singer tap. Everything after the manifest goes to the tap's own
//! command line (`--config`, `--state`, `--catalog`, `--discover`, `--about`, …): the same
//! runner, flags, errors and state promise as a compiled burler tap, so Meltano can use
//! `burler run tap.yaml` as an extractor's executable.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

/// `burler run` arguments.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The manifest file (YAML).
    manifest: PathBuf,
    /// The tap's options: --config FILE, --state FILE, --catalog FILE, --discover, --about, ….
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "TAP OPTIONS"
    )]
    tap_args: Vec<OsString>,
}

/// Runs `burler run`.
pub fn run(args: RunArgs) -> ExitCode {
    let program = OsString::from(format!("burler run {}", args.manifest.display()));
    burler_manifest::run(
        &args.manifest,
        std::iter::once(program).chain(args.tap_args),
    )
}
