//! burler-testkit: what tap authors test with.
pub mod verify;
