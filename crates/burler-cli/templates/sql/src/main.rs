//! {{tap_name}}: a Singer tap for a SQLite database, built with burler-sql.
//!
//! Every table and view is a stream, discovered with the standard database metadata; the
//! catalog chooses each stream's replication (`replication-method`, `replication-key`).
//! FULL_TABLE syncs resume by primary key after an interruption; `orders` defaults to
//! INCREMENTAL on `updated_at`. For PostgreSQL, turn on burler-sql's `postgres` feature and use
//! `SqlTap::<Postgres>` (its settings are a connection's).

use std::process::ExitCode;

use burler_sql::{DefaultReplication, SqlTap, Sqlite};

fn main() -> ExitCode {
    SqlTap::<Sqlite>::new("{{tap_name}}")
        .version(env!("CARGO_PKG_VERSION"))
        .description("{{description}}")
        .default_replication(
            "orders",
            DefaultReplication::Incremental("updated_at".into()),
        )
        .run()
}
