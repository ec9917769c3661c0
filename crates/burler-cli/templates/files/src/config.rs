//! The tap's settings: the JSON Schema of this type validates `--config` and is what `--about`
//! (and so the README's settings table and Meltano's plugin definition) lists.

use burler::prelude::*;

/// The tap's settings.
#[burler::config]
pub struct Config {
    /// Directory holding `orders.jsonl` and `customers.csv`.
    pub data_dir: std::path::PathBuf,
    /// Orders updated before this are not synced on a first run.
    pub start_date: Option<StartDate>,
}

/// Settings never printed, flagged secret in `--about`.
pub const SECRETS: [&str; 0] = [];
