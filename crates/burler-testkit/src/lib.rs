//! burler-testkit: what tap authors test with.
pub mod compare;
pub mod observed;
pub mod ordering;
pub mod verify;

pub use observed::{JsonType, ObservedSchema, SchemaDrift, TypeDrift};
pub use ordering::{OrderingError, SortOrder, ensure_ordering, ordered};
