//! burler-sql: database taps on sqlx. A database tap is a connection string and a few lines:
//!
//! ```no_run
//! use burler_sql::{Sqlite, SqlTap};
//!
//! fn main() -> std::process::ExitCode {
//!     SqlTap::<Sqlite>::new("tap-mydb").version(env!("CARGO_PKG_VERSION")).run()
//! }
//! ```
//!
//! With `{"database": "shop.db"}` as config, `--discover` lists one stream per table and view,
//! and a sync reads the ones the catalog selects.
//!
//! # Discovery
//!
//! Tables, views (and PostgreSQL materialized views and partitioned tables) become streams named
//! `<schema>-<table>` (SQLite: `<table>`), with one schema property per column typed by the map in
//! [`types`], and the standard metadata of database taps: `database-name`, `schema-name`,
//! `is-view`, `row-count` (PostgreSQL: the planner's estimate), `table-key-properties` (the
//! primary key), `valid-replication-keys` (dates, date-times and whole-number key
//! columns) on the stream, and `sql-datatype` and `inclusion` on each column. Discovery does
//! not force a replication method: the catalog chooses, with `replication-method` and
//! `replication-key` metadata (an author may set a stream's default with
//! [`SqlTap::default_replication`]).
//!
//! # Sync
//!
//! Only the selected columns are read (keys and the replication key always). Rows are streamed
//! from the driver and written one by one straight from the row into the record line (no
//! `serde_json::Value`), so memory stays flat whatever the table's size.
//!
//! - **FULL_TABLE** reads the table ordered by its primary key (a view by the catalog's
//!   `view-key-properties`) within one table version, and after every chunk of
//!   [`SqlTap::checkpoint_every`] rows checkpoints the last key through the framework
//!   (`SyncContext::checkpoint`, kept as the stream's `resume_point`): an interrupted sync
//!   resumes after that key with the same version, and ACTIVATE_VERSION comes only when the
//!   table is done ([`resume`]). A table without a key is read in one pass and restarts from
//!   the beginning.
//! - **INCREMENTAL** reads the rows whose replication key is `>=` the bookmark (else the config's
//!   `start_date`, for date keys), ordered by it: rows that share the bookmark's value are sent
//!   again, never skipped. Each stream keeps its own bookmark.
//! - **LOG_BASED** (PostgreSQL, see [`postgres::logical`]): an initial FULL_TABLE sync, then the
//!   changes of a logical replication slot, with LSN bookmarks and deletes flagged by
//!   `_sdc_deleted_at`. SQLite has no change log and refuses it.
//!
//! Authors narrow or split the reads with [`SqlTap::filter`] (an extra `WHERE` condition) and
//! [`SqlTap::partitions`] (slices synced one after the other, each with its own bookmark).
//!
//! # Dialects
//!
//! | dialect | feature | driver |
//! |---|---|---|
//! | [`Sqlite`] | `sqlite` | sqlx's SQLite driver with the bundled SQLite (no system library) |
//! | [`Postgres`] | `postgres` | sqlx's PostgreSQL driver; TLS by rustls with ring and the webpki roots |
//!
//! Both are on by default; a tap that needs one database turns the other off
//! (`default-features = false, features = ["sqlite"]`).

mod args;
pub mod dialect;
mod encode;
pub mod error;
pub mod plan;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod record;
pub mod resume;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod sync;
pub mod table;
pub mod tap;
pub mod types;

pub use dialect::{Dialect, Role, quote};
pub use error::SqlError;
pub use plan::{DefaultReplication, Partition, TablePlan};
#[cfg(feature = "postgres")]
pub use postgres::{Postgres, PostgresConfig};
pub use record::SqlRecord;
#[cfg(feature = "sqlite")]
pub use sqlite::{Sqlite, SqliteConfig};
pub use sync::SqlContext;
pub use table::{Column, Table};
pub use tap::{SourceConfig, SqlClient, SqlTap};
pub use types::{DecimalMode, ValueKind};

/// The sqlx crate, re-exported for authors who open their own connections (fixtures, hooks).
pub use sqlx;
