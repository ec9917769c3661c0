//! burler: a framework for writing Singer taps.
//!
//! A tap author declares streams (schema, keys, replication, a sync function) and burler does the
//! rest: command line (`--config`, `--state`, `--catalog`, `--properties`, `--discover`, `--about`),
//! config validation, catalog and metadata, field selection, bookmarks and STATE, table versions,
//! logging, metrics, error collection and a run report.
//!
//! What singer-sdk users turn on without the tap author writing anything, in every burler tap:
//! stream maps and flattening (`stream_maps`, `stream_map_config`, `flattening_enabled`,
//! `flattening_max_depth` in the config; see `burler-maps`), BATCH files instead of RECORD lines
//! (`batch_config`; JSON lines with gzip, Parquet with this crate's `parquet` feature; see
//! `burler-batch`), `--test` (one record per stream, no STATE) and `--test=schema`, and
//! singer-sdk's `progress_markers` for unsorted streams. A FULL_TABLE sync that reads in a stable
//! order resumes where it was cut with [`SyncContext::checkpoint`] and
//! [`SyncContext::resume_point`]. A sync splits across processes or machines with
//! `--partitions K/N` (or `BURLER_PARTITIONS`): each worker syncs the top-level partitions a
//! stable hash gives it, and `burler state merge` joins their states (see the README's
//! scale-out section).
//!
//! Records are any `Serialize` type. A tap that passes records through as its source sent them
//! emits `Box<RawValue>` (`burler::serde_json::value::RawValue`, read by serde_json or
//! burler-http): the text is written into the RECORD line as it is, the replication key read
//! from it, and catalog selection, stream maps, hooks and sub-streams see the same fields a
//! `Value` record has.
//!
//! Cargo features: `parquet` (BATCH files in Parquet) and `release-max-level-debug` (TRACE
//! events, burler's and its dependencies', compiled out of release and dist builds for a smaller
//! binary to ship; DEBUG and above stay).
//!
//! ```no_run
//! use burler::prelude::*;
//!
//! #[burler::config]
//! struct Config { start_date: Option<StartDate> }
//!
//! #[burler::record]
//! struct Order { id: u64, updated_at: String }
//!
//! type Ctx<R> = SyncContext<R, Config>;
//!
//! async fn sync_orders(ctx: Ctx<Order>) -> SyncResult {
//!     // A real tap reads from its source here, starting at ctx.replication_start().
//!     ctx.emit(Order { id: 1, updated_at: "2024-01-01T00:00:00Z".into() })?;
//!     Ok(())
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     Tap::new("tap-shop")
//!         .version(env!("CARGO_PKG_VERSION"))
//!         .config::<Config>()
//!         .stream(
//!             Stream::new("orders")
//!                 .schema_from_type()
//!                 .key(["id"])
//!                 .incremental("updated_at")
//!                 .sync(sync_orders),
//!         )
//!         .run()
//! }
//! ```

mod about;
mod bookmark;
mod cli;
mod config;
mod context;
mod definition;
mod discover;
mod engine;
mod error;
mod inputs;
mod ledger;
mod logging;
mod output;
mod patterns;
mod plan;
mod report;
mod runner;
mod scope;
mod shard;
mod stream;
mod sync;
mod tap;
mod tap_config;
mod transforms;
mod verify;
mod writer;

pub use about::CAPABILITIES;
pub use bookmark::{BookmarkStrategy, BookmarkValue};
pub use burler_macros::{config, record};
pub use cli::AboutFormat;
pub use context::{SyncContext, TableVersion};
pub use error::{BoxError, EmitError, Error, SyncResult};
pub use logging::init as init_logging;
pub use output::CaptureBuffer;
pub use patterns::{Window, WindowOptions, date_windows, sync_windows};
pub use report::{RunOutcome, RunReport, StreamReport};
pub use scope::Interleave;
pub use stream::{BoxedStream, RetryScope, Stream};
pub use tap::Tap;
pub use tap_config::{IntoStartDate, StartDate, TapConfig};
pub use writer::{RecordHook, StreamStats};

/// The protocol crate, re-exported for authors who need messages, catalogs or state directly.
pub use burler_singer as singer;

/// The schema crate, re-exported: `$ref` resolution, schemas from Rust types and WSDL/XSD,
/// record conformance, schema inference.
pub use burler_schema as schema;

/// serde, as burler uses it: `#[burler::record]` and `#[burler::config]` derive through it, so a
/// tap's `Cargo.toml` needs only `burler`.
pub use serde;

/// serde_json, as burler uses it (`Value`, `json!`).
pub use serde_json;

/// schemars, as burler uses it (record and config schemas).
pub use schemars;

/// chrono, as burler uses it (date-time fields and bookmarks).
pub use chrono;

/// futures, as burler uses it (`emit_stream` takes a `futures::Stream`).
pub use futures;

/// What a tap author needs, in one import: `use burler::prelude::*;`.
pub mod prelude {
    pub use crate::{
        BookmarkStrategy, BoxError, BoxedStream, EmitError, StartDate, Stream, SyncContext,
        SyncResult, Tap, TapConfig,
    };
    pub use burler_schema::ViolationPolicy;
    pub use burler_singer::{Inclusion, NodeMetadata, SchemaNode};
}

/// The absolute path of a file in the calling crate, for [`Stream::schema_file`]: a schema path
/// relative to the tap's crate that works from any working directory (the tap's own tests, CI,
/// `cargo run` from the workspace root). A tap shipped without its source tree should embed its
/// schemas instead (`.schema(serde_json::from_str(include_str!(...))?)`).
///
/// ```
/// let path = burler::crate_file!("Cargo.toml");
/// assert!(std::path::Path::new(path).is_absolute() && std::path::Path::new(path).exists());
/// ```
#[macro_export]
macro_rules! crate_file {
    ($path:literal) => {
        concat!(env!("CARGO_MANIFEST_DIR"), "/", $path)
    };
}
