//! burler: a framework for writing Singer taps.
//!
//! A tap author declares streams (schema, keys, replication, a sync function) and burler does the
//! rest: command line (`--config`, `--state`, `--catalog`, `--properties`, `--discover`, `--about`),
//! config validation, catalog and metadata, field selection, bookmarks and STATE, table versions,
//! logging, metrics, error collection and a run report.
//!
//! ```no_run
//! use burler::prelude::*;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize, schemars::JsonSchema)]
//! struct Config { start_date: Option<String> }
//!
//! #[derive(Serialize, schemars::JsonSchema)]
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

pub mod about;
pub mod bookmark;
pub mod cli;
mod config;
pub mod context;
mod definition;
mod discover;
mod engine;
pub mod error;
mod inputs;
mod ledger;
pub mod logging;
mod output;
pub mod patterns;
mod plan;
pub mod report;
mod runner;
mod scope;
pub mod stream;
mod sync;
pub mod tap;
mod verify;
mod writer;

pub use bookmark::{BookmarkStrategy, BookmarkValue};
pub use cli::AboutFormat;
pub use context::{FullTableScope, SyncContext};
pub use error::{BoxError, EmitError, Error, SyncResult};
pub use output::CaptureBuffer;
pub use report::{RunOutcome, RunReport, StreamReport};
pub use scope::Interleave;
pub use stream::{BoxedStream, RetryScope, Stream};
pub use tap::Tap;
pub use writer::{RecordHook, StreamStats};

/// The protocol crate, re-exported for authors who need messages, catalogs or state directly.
pub use burler_singer as singer;

/// The schema crate, re-exported: `$ref` resolution, schemas from Rust types and WSDL/XSD,
/// record conformance, schema inference.
pub use burler_schema as schema;

/// What a tap author needs, in one import: `use burler::prelude::*;`.
pub mod prelude {
    pub use crate::{
        BookmarkStrategy, BoxError, BoxedStream, EmitError, Stream, SyncContext, SyncResult, Tap,
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
