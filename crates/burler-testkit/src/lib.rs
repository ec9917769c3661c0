//! burler-testkit: what tap authors test with.
pub mod analysis;
pub mod compare;
pub mod observed;
pub mod ordering;
pub mod report;
pub mod runner;
pub mod suite;
pub mod verify;

pub use observed::{JsonType, ObservedSchema, SchemaDrift, TypeDrift};
pub use ordering::{OrderingError, SortOrder, ensure_ordering, ordered};
pub use report::{BookmarkAdvance, Check, Report, Status};
pub use suite::TapSuite;
