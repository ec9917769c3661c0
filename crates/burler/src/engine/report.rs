//! The run report's rows, and the failure lines the run ends with.

use serde_json::Value;

use super::{Engine, Handle, label};
use crate::error::BoxError;
use crate::report::StreamReport;
use crate::scope::lock;

/// At most this many failure lines per stream; the rest are counted.
const MAX_FAILURE_LINES: usize = 20;

/// The row of a top-level stream that ran.
pub(super) fn of_root<C, K>(
    engine: &Engine<C, K>,
    root: &Handle<C, K>,
    result: Result<(), BoxError>,
    elapsed: f64,
    before: Option<Value>,
) -> StreamReport {
    let name = root.name();
    let stats = lock(&root.writer).stats().clone();
    StreamReport {
        stream: name.to_owned(),
        status: if result.is_ok() {
            "succeeded"
        } else {
            "failed"
        }
        .into(),
        stats,
        errors: root
            .outcome()
            .failures
            .len()
            .max(usize::from(result.is_err())) as u64,
        duration_secs: elapsed,
        bookmark_before: before,
        bookmark_after: engine.ledger.reported_bookmark(name),
        error: result.err().map(|e| e.to_string()),
    }
}

/// The row of a stream that did not run.
pub(super) fn skipped(name: &str) -> StreamReport {
    StreamReport {
        stream: name.to_owned(),
        status: "skipped".into(),
        stats: Default::default(),
        errors: 0,
        duration_secs: 0.0,
        bookmark_before: None,
        bookmark_after: None,
        error: None,
    }
}

/// The row of a top-level stream whose sync panicked.
pub(super) fn panicked(name: &str, e: &tokio::task::JoinError) -> StreamReport {
    let mut r = skipped(name);
    r.status = "failed".into();
    r.errors = 1;
    r.error = Some(format!("sync panicked: {e}"));
    r
}

impl<C, K> Engine<C, K> {
    /// Rows of streams that did not run on their own: sub-streams and streams fed by `emit_to`.
    pub(super) fn secondary_reports(&self, top: &[StreamReport]) -> Vec<StreamReport> {
        let mut names: Vec<&String> = self
            .streams
            .iter()
            .filter(|(_, h)| h.plan.parent.is_some() || h.plan.runner.is_none())
            .filter(|(n, _)| !top.iter().any(|r| &r.stream == *n))
            .map(|(n, _)| n)
            .collect();
        names.sort();
        names
            .into_iter()
            .filter_map(|name| self.secondary(self.handle(name)?))
            .collect()
    }

    fn secondary(&self, h: &Handle<C, K>) -> Option<StreamReport> {
        let stats = lock(&h.writer).stats().clone();
        let outcome = h.outcome();
        if stats == Default::default() && !h.plan.selected && outcome.failures.is_empty() {
            return None;
        }
        let mut r = skipped(h.name());
        r.status = match (
            &outcome.failures[..],
            outcome.parent_failed,
            h.plan.selected,
        ) {
            ([_, ..], _, _) => "failed",
            ([], true, _) if !outcome.ran => "skipped",
            ([], _, true) => "succeeded",
            ([], _, false) => "not selected",
        }
        .into();
        r.errors = outcome.failures.len() as u64;
        r.error = outcome.failures.first().map(|(partition, e)| {
            let more = outcome.failures.len() - 1;
            let first = format!("{}: {e}", label(h.name(), partition.as_ref()));
            match more {
                0 => first,
                n => format!("{first} (and {n} more)"),
            }
        });
        r.stats = stats;
        r.bookmark_after = self.ledger.reported_bookmark(h.name());
        Some(r)
    }

    /// One `(label, error)` per failed sync of every stream (`stream[partition]` for a partition
    /// or a parent context), at most [`MAX_FAILURE_LINES`] per stream, in the report's order.
    pub(crate) fn failure_lines(&self, report: &[StreamReport]) -> Vec<(String, String)> {
        let mut lines = Vec::new();
        for row in report {
            let Some(h) = self.handle(&row.stream) else {
                continue;
            };
            let outcome = h.outcome();
            if outcome.failures.is_empty() {
                if let Some(e) = &row.error {
                    lines.push((row.stream.clone(), e.clone()));
                }
                continue;
            }
            for (partition, e) in outcome.failures.iter().take(MAX_FAILURE_LINES) {
                lines.push((label(&row.stream, partition.as_ref()), e.clone()));
            }
            let more = outcome.failures.len().saturating_sub(MAX_FAILURE_LINES);
            if more > 0 {
                let e = format!("{more} more failed sync(s) not shown");
                lines.push((row.stream.clone(), e));
            }
        }
        lines
    }
}
