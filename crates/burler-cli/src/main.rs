//! `burler`: tools around Singer taps. `burler check` judges the conformance of any tap command
//! (Rust or Python): discovery, catalog metadata, a full sync checked message by message, metric
//! lines, and a second run from the final state. `burler new` creates a tap crate from a
//! template; `burler meltano` prints a tap's Meltano plugin definition; `burler state merge`
//! joins the states of tap processes that split a sync with `--partitions K/N`.
//!
//! `burler new`, `burler run` and `burler manifest` run on the framework and come with the default
//! `framework` feature; without it (`cargo install --no-default-features`) the binary is
//! `burler check`, `burler meltano`, `burler schema` and `burler state`, and does not compile the
//! framework.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod check;
#[cfg(feature = "framework")]
mod manifest;
mod meltano;
#[cfg(feature = "framework")]
mod new;
#[cfg(feature = "framework")]
mod run;
mod schema;
mod state;
#[cfg(feature = "framework")]
mod templates;
#[cfg(not(feature = "framework"))]
mod without_framework;
mod yaml;

/// Tools around Singer taps.
#[derive(Debug, Parser)]
#[command(name = "burler", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Judge the Singer conformance of any tap: `burler check --config FILE -- <tap command...>`.
    Check(check::CheckArgs),
    /// Schema tools: `resolve FILE` ($refs followed), `wsdl FILE` (SOAP types), `infer` (from records).
    Schema(schema::SchemaArgs),
    /// Run a declarative manifest as a Singer tap: `burler run MANIFEST --config FILE [...]`.
    #[cfg(feature = "framework")]
    Run(run::RunArgs),
    /// Manifest tools: `check MANIFEST...` (every problem with its position), `schema`.
    #[cfg(feature = "framework")]
    Manifest(manifest::ManifestArgs),
    /// Create a tap crate: `burler new tap-NAME --template rest|graphql|sql|files|manifest`.
    #[cfg(feature = "framework")]
    New(new::NewArgs),
    /// Run a declarative manifest (not in this build: installed without the `framework` feature).
    #[cfg(not(feature = "framework"))]
    Run(without_framework::Args),
    /// Manifest tools (not in this build: installed without the `framework` feature).
    #[cfg(not(feature = "framework"))]
    Manifest(without_framework::Args),
    /// Create a tap crate (not in this build: installed without the `framework` feature).
    #[cfg(not(feature = "framework"))]
    New(without_framework::Args),
    /// Print a tap's Meltano plugin definition (Hub `*.yml`): `burler meltano -- <tap command...>`.
    Meltano(meltano::MeltanoArgs),
    /// State tools: `merge [--base FILE] FILE...` joins the states of `--partitions K/N` workers.
    State(state::StateArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Check(args) => check::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Meltano(args) => meltano::run(args),
        #[cfg(feature = "framework")]
        Command::Run(args) => run::run(args),
        #[cfg(feature = "framework")]
        Command::Manifest(args) => manifest::run(&args),
        #[cfg(feature = "framework")]
        Command::New(args) => new::run(&args),
        Command::State(args) => state::run(&args),
        #[cfg(not(feature = "framework"))]
        Command::Run(_) => without_framework::refuse("run"),
        #[cfg(not(feature = "framework"))]
        Command::Manifest(_) => without_framework::refuse("manifest"),
        #[cfg(not(feature = "framework"))]
        Command::New(_) => without_framework::refuse("new"),
    }
}
