//! `burler state merge [--base FILE] FILE...`: joins the states of tap processes that split one
//! sync between them (`--partitions K/N`, one process per worker) into the one state they all
//! start the next run from, printed on stdout as one JSON line. The rules are
//! [`burler_singer::merge`]'s; this module reads the files and prints the result. A file holds a
//! state, a tap's STATE message line, or Meltano's wrapper (`{"singer_state": {...}}`, as
//! `meltano state get` prints it), which is written back when the first worker's file had it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use burler_singer::merge::{MergeConflict, merge_states};
use clap::{Args, Subcommand};
use serde_json::{Map, Value};

/// `burler state` arguments.
#[derive(Debug, Args)]
pub struct StateArgs {
    #[command(subcommand)]
    command: StateCommand,
}

#[derive(Debug, Subcommand)]
enum StateCommand {
    /// Join the states of workers that ran with --partitions K/N into one, on stdout.
    Merge {
        /// The state every worker started from (entries no worker changed are kept from it).
        #[arg(long, value_name = "FILE")]
        base: Option<PathBuf>,
        /// The workers' final states (a tap's last STATE value, or `meltano state get` output).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

/// Why states could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A file could not be read.
    #[error("{file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A file is not one JSON object with an object of bookmarks.
    #[error("{file}: not a Singer state: {why}")]
    NotState {
        /// The file.
        file: String,
        /// What is wrong with it.
        why: String,
    },
    /// Workers changed one entry differently.
    #[error(transparent)]
    Conflict(#[from] MergeConflict),
}

/// Runs `burler state ...`.
pub fn run(args: &StateArgs) -> ExitCode {
    let StateCommand::Merge { base, files } = &args.command;
    match merge_files(base.as_deref(), files) {
        Ok(merged) => {
            println!("{merged}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("burler: {}", e.to_string().replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

/// A state read from a file, unwrapped from Meltano's `singer_state` when it had one.
struct Loaded {
    file: String,
    state: Map<String, Value>,
    wrapped: bool,
}

fn load(path: &Path) -> Result<Loaded, MergeError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| MergeError::Read {
        file: file.clone(),
        source,
    })?;
    let not_state = |why: String| MergeError::NotState {
        file: file.clone(),
        why,
    };
    let value: Value = serde_json::from_str(&text).map_err(|e| not_state(e.to_string()))?;
    let Value::Object(mut top) = value else {
        return Err(not_state("expected a JSON object".into()));
    };
    // A tap's STATE message line, as its last line of output holds it.
    if top.get("type").is_some_and(|t| t == "STATE") {
        match top.remove("value") {
            Some(Value::Object(value)) => top = value,
            _ => {
                return Err(not_state(
                    "a STATE message without an object `value`".into(),
                ));
            }
        }
    }
    let wrapped = top.contains_key("singer_state");
    let state = match top.remove("singer_state") {
        Some(Value::Object(state)) => state,
        Some(_) => return Err(not_state("`singer_state` must be an object".into())),
        None => top,
    };
    if state.get("bookmarks").is_some_and(|b| !b.is_object()) {
        return Err(not_state("`bookmarks` must be an object".into()));
    }
    Ok(Loaded {
        file,
        state,
        wrapped,
    })
}

/// Reads and merges the files (see the module docs).
fn merge_files(base: Option<&Path>, files: &[PathBuf]) -> Result<Value, MergeError> {
    let base = base.map(load).transpose()?;
    let loaded = files
        .iter()
        .map(|f| load(f))
        .collect::<Result<Vec<_>, _>>()?;
    let wrapped = loaded.first().is_some_and(|l| l.wrapped);
    let workers: Vec<(&str, &Map<String, Value>)> =
        loaded.iter().map(|l| (l.file.as_str(), &l.state)).collect();
    let merged = Value::Object(merge_states(base.as_ref().map(|b| &b.state), &workers)?);
    Ok(if wrapped {
        serde_json::json!({ "singer_state": merged })
    } else {
        merged
    })
}
