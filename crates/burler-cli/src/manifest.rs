//! `burler manifest …`: tools for declarative manifests.
//!
//! - `check MANIFEST…`: reads and compiles each manifest without making a request, and prints
//!   every problem as `FILE:LINE:COLUMN: message` (unknown keys, wrong types, bad JSONPaths and
//!   templates, unknown streams, unsupported Airbyte components); exit 1 when any has one.
//! - `schema`: prints the JSON Schema of burler manifests (for editors).

use std::path::PathBuf;
use std::process::ExitCode;

use burler_manifest::{Flavor, Manifest, ManifestError};
use clap::{Args, Subcommand};

/// `burler manifest` arguments.
#[derive(Debug, Args)]
pub struct ManifestArgs {
    #[command(subcommand)]
    command: ManifestCommand,
}

#[derive(Debug, Subcommand)]
enum ManifestCommand {
    /// Check manifests: every problem with its line and column, before any request.
    Check {
        /// The manifest files.
        #[arg(required = true)]
        manifests: Vec<PathBuf>,
    },
    /// Print the JSON Schema of burler manifests.
    Schema,
}

/// Runs `burler manifest …`.
pub fn run(args: &ManifestArgs) -> ExitCode {
    match &args.command {
        ManifestCommand::Check { manifests } => check(manifests),
        ManifestCommand::Schema => {
            match serde_json::to_string_pretty(&burler_manifest::json_schema()) {
                Ok(text) => {
                    println!("{text}");
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("burler manifest schema: {err}");
                    ExitCode::from(1)
                }
            }
        }
    }
}

fn check(manifests: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    for path in manifests {
        match Manifest::load(path) {
            Ok(manifest) => {
                let flavor = match manifest.flavor() {
                    Flavor::Burler => "burler manifest",
                    Flavor::Airbyte => "Airbyte manifest",
                };
                let streams = manifest.stream_names();
                println!(
                    "{}: ok: {flavor} {}, {} streams ({})",
                    path.display(),
                    manifest.name(),
                    streams.len(),
                    streams.join(", ")
                );
            }
            Err(ManifestError::Invalid(diagnostics)) => {
                failed = true;
                println!("{diagnostics}");
                let n = diagnostics.items.len();
                println!(
                    "{}: {n} problem{}",
                    path.display(),
                    if n == 1 { "" } else { "s" }
                );
            }
            Err(err) => {
                failed = true;
                println!("{err}");
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
