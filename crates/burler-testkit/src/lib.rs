//! burler-testkit: what tap authors test with.
//!
//! - [`TapSuite`]: the standard suite, enabled in one line (as singer-sdk's `get_tap_test_class`):
//!   discovery gives a valid, publishable catalog ([`verify`]); every stream syncs; SCHEMA comes
//!   before RECORD; every record validates against its stream's schema (compiled once per
//!   SCHEMA); key properties present and unique; replication key present; STATE parses; the
//!   bookmark advances (span and rate per stream, with a minimum the author sets); records match
//!   the declared schema (observed-schema drift); a second run from the final state sends no record
//!   older than the bookmark and no more records; `--properties` with `--catalog` does not crash.
//! - [`runner`]: run a burler tap in-process ([`runner::InProcessTap`], a factory because a run
//!   consumes the tap) or any tap binary ([`runner::BinaryTap`], with a timeout) and capture what it
//!   writes.
//! - Assertions usable on their own: [`ensure_ordering`] / [`ordered`] (a source keeps its
//!   declared sort order), [`ObservedSchema`] (schema of the records seen and its drift),
//!   [`verify::verify_catalog`] (unpublishable metadata).
//!
//! The checks work on `burler-singer` types only, so `burler check` judges any Singer tap with the
//! same code; the framework is needed only for the in-process runner (feature `in-process`, on by
//! default).
//!
//! ```
//! use burler::prelude::*;
//! use burler_testkit::{SortOrder, TapSuite, ensure_ordering};
//! use serde_json::{Value, json};
//!
//! fn my_tap() -> Tap {
//!     let schema = json!({"type": "object", "properties": {
//!         "id": {"type": "integer"}, "updated_at": {"type": "string", "format": "date-time"}}});
//!     Tap::new("tap-demo").stream(
//!         Stream::new("events").schema(schema).key(["id"]).incremental("updated_at")
//!             .filter_older_than_bookmark() // without it, the second-run check fails
//!             .sync(|ctx: SyncContext<Value>| async move {
//!                 let page = vec![json!({"id": 1, "updated_at": "2024-01-01T00:00:00Z"}),
//!                                 json!({"id": 2, "updated_at": "2024-01-02T00:00:00Z"})];
//!                 ctx.emit_all(ensure_ordering(page, "updated_at", SortOrder::Asc)?)?;
//!                 Ok(())
//!             }),
//!     )
//! }
//!
//! let report = TapSuite::new(my_tap, json!({})).min_bookmark_rate(3600.0).run();
//! report.assert_passes();
//! assert_eq!(report.bookmark("events").unwrap().after, Some(json!("2024-01-02T00:00:00Z")));
//! ```

pub mod analysis;
pub mod bookmarks;
pub mod compare;
pub mod observed;
pub mod ordering;
pub mod report;
pub mod resume;
pub mod runner;
mod state_checks;
pub mod suite;
/// Catalog verification, from the protocol crate (the framework's `--verify` flag uses it too).
pub use burler_singer::verify;

pub use observed::{JsonType, ObservedSchema, SchemaDrift, TypeDrift};
pub use ordering::{OrderingError, SortOrder, ensure_ordering, ordered};
pub use report::{BookmarkAdvance, Check, Report, Status};
pub use resume::{ResumeCheck, ResumeReport};
pub use suite::TapSuite;
pub use verify::{VerifyProblem, verify_catalog};
