//! tap-sqlite: an example burler database tap over a SQLite file.
//!
//! Every table and view of the database is a stream (see `burler-sql` for the type map and the
//! metadata). `orders` defaults to INCREMENTAL on `updated_at`; the other streams to FULL_TABLE,
//! resumable by primary key. With `"demo": true` the tap first creates its demo shop database
//! (`src/demo.rs`) at `database` when the file does not exist, so the example runs offline.

mod demo;

use std::process::ExitCode;

use burler_sql::{DefaultReplication, SourceConfig, SqlTap, Sqlite, SqliteConfig};

/// The tap's settings: the SQLite source's (with its `start_date`), and the demo switch.
#[burler::config]
struct Config {
    #[serde(flatten)]
    #[start_date]
    sqlite: SqliteConfig,
    /// Create and fill the demo shop database at `database` when the file does not exist.
    #[serde(default)]
    demo: bool,
}

impl SourceConfig<Sqlite> for Config {
    fn source(&self) -> &SqliteConfig {
        &self.sqlite
    }
}

fn main() -> ExitCode {
    SqlTap::<Sqlite>::new("tap-sqlite")
        .config::<Config>()
        .version(env!("CARGO_PKG_VERSION"))
        .description(
            "Example burler tap over a SQLite database (creates its demo shop with \"demo\": true)",
        )
        .prepare(|config: &Config| {
            let demo = config.demo.then(|| config.sqlite.database.clone());
            async move {
                if let Some(path) = demo {
                    demo::create_if_missing(&path).await?;
                }
                Ok(())
            }
        })
        .default_replication(
            "orders",
            DefaultReplication::Incremental("updated_at".into()),
        )
        .run()
}
