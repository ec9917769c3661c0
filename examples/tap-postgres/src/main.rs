//! tap-postgres: a burler database tap over PostgreSQL, in a few lines.
//!
//! Config: `url` (or `host`, `port`, `user`, `password`, `database`), `filter_schemas`,
//! `ssl_mode`, `decimal`, `start_date`; for LOG_BASED streams `replication_slot` and
//! `publication`. Every table and view of the chosen schemas is a stream; the catalog chooses
//! each one's replication (see `burler-sql`).

use std::process::ExitCode;

use burler_sql::{Postgres, SqlTap};

fn main() -> ExitCode {
    SqlTap::<Postgres>::new("tap-postgres")
        .version(env!("CARGO_PKG_VERSION"))
        .description(
            "PostgreSQL tables and views as Singer streams: FULL_TABLE, INCREMENTAL, LOG_BASED",
        )
        .run()
}
