//! Bookmark strategies: when a stream's bookmark is committed. (Comparable bookmark values and the
//! date-time parser are the protocol crate's: [`BookmarkValue`], [`burler_singer::datetime`].)
//!
//! A bookmark is committed (written into a STATE) only after every record it covers is written,
//! never moves backwards, and for date-time keys never passes the moment the sync started: records
//! changed while the sync ran are read again by the next run instead of being skipped.

use std::time::Duration;

pub use burler_singer::BookmarkValue;
pub(crate) use burler_singer::datetime::{
    format as format_datetime, is_canonical_utc_json, parse as parse_datetime,
};

/// When a stream writes its bookmark into a STATE message
/// ([`Stream::bookmark_strategy`](crate::Stream::bookmark_strategy)). A parent stream commits at
/// the same cadence, once the children of the records it covers are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookmarkStrategy {
    /// After every `n` records (and at the end). The default is every 10,000.
    Records(u64),
    /// At most once per interval (and at the end).
    Interval(Duration),
    /// Only once the stream has finished.
    EndOfSync,
}

impl Default for BookmarkStrategy {
    fn default() -> Self {
        BookmarkStrategy::Records(10_000)
    }
}
