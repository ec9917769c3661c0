//! The end-of-run report: one row per stream, printed as a table on stderr, or written as JSON.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::writer::StreamStats;

/// What happened to one stream.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StreamReport {
    /// The stream.
    pub stream: String,
    /// `succeeded`, `failed`, or `skipped` (not selected, or not run after a fail-fast stop).
    pub status: String,
    /// Record counters.
    #[serde(flatten)]
    pub stats: StreamStats,
    /// Errors (0 or 1: a stream stops at its first error).
    pub errors: u64,
    /// Wall time of the stream's sync, in seconds.
    pub duration_secs: f64,
    /// The bookmark in the state when the run started.
    pub bookmark_before: Option<Value>,
    /// The bookmark in the state when the stream ended.
    pub bookmark_after: Option<Value>,
    /// The error, when the stream failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What happened in a run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunReport {
    /// One row per stream that was selected.
    pub streams: Vec<StreamReport>,
    /// Wall time of the whole sync, in seconds.
    pub duration_secs: f64,
}

impl RunReport {
    /// The report as a text table.
    pub fn to_table(&self) -> String {
        let header = [
            "stream",
            "status",
            "records",
            "filtered",
            "dropped",
            "coerced",
            "nulled",
            "errors",
            "seconds",
            "bookmark before",
            "bookmark after",
        ];
        let rows: Vec<[String; 11]> = self
            .streams
            .iter()
            .map(|s| {
                [
                    s.stream.clone(),
                    s.status.clone(),
                    s.stats.emitted.to_string(),
                    s.stats.filtered.to_string(),
                    s.stats.dropped.to_string(),
                    s.stats.coerced.to_string(),
                    s.stats.nulled.to_string(),
                    s.errors.to_string(),
                    format!("{:.2}", s.duration_secs),
                    show(&s.bookmark_before),
                    show(&s.bookmark_after),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let mut line = |cells: &[String]| {
            let parts: Vec<String> = cells
                .iter()
                .zip(widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            let _ = writeln!(out, "{}", parts.join("  ").trim_end());
        };
        line(&header.map(String::from));
        line(&widths.map(|w| "-".repeat(w)));
        for row in &rows {
            line(row);
        }
        out
    }

    /// Total records written.
    pub fn total_emitted(&self) -> u64 {
        self.streams.iter().map(|s| s.stats.emitted).sum()
    }
}

fn show(value: &Option<Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns_and_shows_missing_bookmarks_as_dash() {
        let report = RunReport {
            streams: vec![StreamReport {
                stream: "orders".into(),
                status: "succeeded".into(),
                stats: StreamStats {
                    emitted: 12,
                    filtered: 1,
                    coerced: 3,
                    ..Default::default()
                },
                errors: 0,
                duration_secs: 0.5,
                bookmark_before: None,
                bookmark_after: Some(Value::from("2024-01-01T00:00:00Z")),
                error: None,
            }],
            duration_secs: 0.6,
        };
        let table = report.to_table();
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("stream  status"));
        let cells: Vec<&str> = lines[2]
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(
            cells,
            [
                "orders",
                "succeeded",
                "12",
                "1",
                "0",
                "3",
                "0",
                "0",
                "0.50",
                "-",
                "2024-01-01T00:00:00Z"
            ]
        );
        assert_eq!(
            lines[1].len(),
            lines[2].len(),
            "the rule spans the widest row"
        );
        assert_eq!(report.total_emitted(), 12);
    }
}

/// The result of a run: the exit code, and the report when a sync ran.
#[derive(Debug)]
pub struct RunOutcome {
    /// 0 on success; 1 on failure; 2 on a usage error.
    pub exit_code: u8,
    /// The run report, when a sync ran.
    pub report: Option<RunReport>,
    /// The error that ended the run, as printed.
    pub error: Option<String>,
    /// Each failure the run ended with, as printed after `CRITICAL ` (`stream: error`, or
    /// `stream[partition]: error` for one partition or parent context of a stream).
    pub failures: Vec<String>,
}

impl RunOutcome {
    /// The outcome of a run that ended with one error before any sync (printed as one
    /// `CRITICAL` line by whoever ends the run).
    pub fn failed(exit_code: u8, error: impl Into<String>) -> Self {
        let error = error.into();
        RunOutcome {
            exit_code,
            report: None,
            failures: vec![error.clone()],
            error: Some(error),
        }
    }
}
