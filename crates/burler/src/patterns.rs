//! Reusable sync patterns: date windowing, and (on the context) full-request-incremental-emit.
//!
//! Date windowing walks from the bookmark (or `start_date`) to now in fixed steps, runs the author's
//! function for each window and commits the window's end as the bookmark once the window is done, so
//! an interrupted run resumes at the first unfinished window.
//!
//! ```
//! use burler::date_windows;
//! use burler::chrono::{TimeZone, Utc};
//! let start = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
//! let end = Utc.with_ymd_and_hms(2024, 1, 3, 12, 0, 0).unwrap();
//! let windows = date_windows(start, end, burler::chrono::Duration::days(1));
//! assert_eq!(windows.len(), 3);
//! assert_eq!(windows[2].end, end);
//! ```

use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::context::SyncContext;
use crate::error::{BoxError, SyncResult};

/// A half-open time window `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
}

/// Splits `[start, end)` into windows of `step` (the last one shorter); empty when `start >= end`.
pub fn date_windows(start: DateTime<Utc>, end: DateTime<Utc>, step: Duration) -> Vec<Window> {
    let step = if step <= Duration::zero() {
        Duration::days(1)
    } else {
        step
    };
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        let next = (at + step).min(end);
        out.push(Window {
            start: at,
            end: next,
        });
        at = next;
    }
    out
}

/// Settings of [`sync_windows`].
#[derive(Debug, Clone, Copy)]
pub struct WindowOptions {
    /// Width of each window.
    pub step: Duration,
    /// How far before the bookmark the first window starts (late changes).
    pub lookback: Duration,
    /// Where to start without bookmark or `start_date`.
    pub default_start: DateTime<Utc>,
}

/// Runs `fetch` for each window from the bookmark (minus `lookback`; else `start_date`, else
/// `default_start`) up to the moment the sync started, committing each window's end as the bookmark
/// after the window's records are written.
pub async fn sync_windows<R, C, K, F, Fut>(
    ctx: &SyncContext<R, C, K>,
    options: WindowOptions,
    mut fetch: F,
) -> SyncResult
where
    R: Serialize,
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
    F: FnMut(Window) -> Fut,
    Fut: Future<Output = Result<(), BoxError>>,
{
    let from = ctx
        .replication_start_datetime()
        .map(|d| d - options.lookback)
        .unwrap_or(options.default_start);
    let until = ctx.sync_started();
    for window in date_windows(from, until, options.step) {
        fetch(window).await?;
        ctx.set_bookmark(crate::bookmark::format_datetime(&window.end.fixed_offset()))?;
    }
    Ok(())
}
