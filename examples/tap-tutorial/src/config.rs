//! The tap's settings: the JSON Schema of this type validates `--config` and is what `--about`
//! (and so the README's settings table and Meltano's plugin definition) lists.

use burler::prelude::*;

/// The tap's settings.
#[burler::config]
pub struct Config {
    /// The API's base URL, e.g. `https://api.example.com/v1`.
    pub base_url: String,
    /// Bearer token for the API.
    pub api_token: String,
    /// Orders updated before this are not synced on a first run.
    pub start_date: Option<StartDate>,
    /// Most requests per second (default 10; 0: no limit).
    pub requests_per_second: Option<u32>,
}

/// Settings never printed, flagged secret in `--about`.
pub const SECRETS: [&str; 1] = ["api_token"];
