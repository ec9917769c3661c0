//! `burler`: tools around Singer taps. `burler check` judges the conformance of any tap command
//! (Rust or Python): discovery, catalog metadata, a full sync checked message by message, metric
//! lines, and a second run from the final state. `burler new` creates a tap crate from a
//! template; `burler meltano` prints a tap's Meltano plugin definition; `burler state merge`
//! joins the states of tap processes that split a sync with `--partitions K/N`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod check;
mod manifest;
mod meltano;
mod new;
mod run;
mod schema;
mod state;
mod templates;
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
    Run(run::RunArgs),
    /// Manifest tools: `check MANIFEST...` (every problem with its position), `schema`.
    Manifest(manifest::ManifestArgs),
    /// Create a tap crate: `burler new tap-NAME --template rest|graphql|sql|files|manifest`.
    New(new::NewArgs),
    /// Print a tap's Meltano plugin definition (Hub `*.yml`): `burler meltano -- <tap command...>`.
    Meltano(meltano::MeltanoArgs),
    /// State tools: `merge [--base FILE] FILE...` joins the states of `--partitions K/N` workers.
    State(state::StateArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Check(args) => check::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Run(args) => run::run(args),
        Command::Manifest(args) => manifest::run(&args),
        Command::Meltano(args) => meltano::run(args),
        Command::New(args) => new::run(&args),
        Command::State(args) => state::run(&args),
    }
}
