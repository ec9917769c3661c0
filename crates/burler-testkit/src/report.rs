//! The report of a suite or `burler check` run: one line per check (`PASS` / `WARN` / `FAIL`),
//! details under it, a JSON form, and `assert_passes` for tests.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// The check holds.
    Pass,
    /// Suspicious, but not a failure.
    Warn,
    /// The check does not hold.
    Fail,
}

impl Status {
    /// `PASS`, `WARN` or `FAIL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        }
    }
}

/// One check and its verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// What was checked (`records match their schema`).
    pub name: String,
    /// The verdict.
    pub status: Status,
    /// One line: what was found.
    pub summary: String,
    /// The individual findings behind a WARN or FAIL (or facts behind a PASS).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

impl Check {
    /// A check with a verdict and a summary.
    pub fn new(name: impl Into<String>, status: Status, summary: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            status,
            summary: summary.into(),
            details: Vec::new(),
        }
    }

    /// Adds findings.
    pub fn with_details(mut self, details: Vec<String>) -> Self {
        self.details = details;
        self
    }
}

/// How far one stream's bookmark moved in a sync, and how fast.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BookmarkAdvance {
    /// The stream.
    pub stream: String,
    /// The bookmark in the state the sync started from.
    pub before: Option<Value>,
    /// The bookmark in the last STATE of the sync.
    pub after: Option<Value>,
    /// The smallest replication-key value among the records.
    pub min_seen: Option<Value>,
    /// The largest replication-key value among the records.
    pub max_seen: Option<Value>,
    /// Records of the stream in the sync.
    pub records: u64,
    /// Distance from `before` (or `min_seen` on a first run) to `after`, in `unit`s.
    pub span: Option<f64>,
    /// `seconds` for date-time bookmarks, `units` for numbers.
    pub unit: Option<&'static str>,
    /// `span` per second of run time.
    pub rate_per_second: Option<f64>,
    /// Wall time of the sync, in seconds.
    pub run_seconds: f64,
}

/// The version of [`Report::to_json`]'s shape; fields are only added with a new version.
pub const REPORT_VERSION: u32 = 1;

/// Everything a suite or `burler check` found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// The tap that was judged.
    pub tap: String,
    /// The checks, in the order they ran.
    pub checks: Vec<Check>,
    /// Bookmark advancement of each incremental stream in the first sync.
    pub bookmarks: Vec<BookmarkAdvance>,
    /// Records per stream in the first sync.
    pub records: Vec<(String, u64)>,
    /// The resume-anywhere check's cuts (`None` when it was skipped).
    pub resume: Option<crate::resume::ResumeReport>,
}

impl Report {
    /// Adds a check.
    pub fn push(&mut self, check: Check) {
        self.checks.push(check);
    }

    /// True when no check failed (warnings allowed).
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.status != Status::Fail)
    }

    /// How many checks ended with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    /// The check named `name`.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == Status::Fail)
    }

    /// The bookmark advancement of `stream`.
    pub fn bookmark(&self, stream: &str) -> Option<&BookmarkAdvance> {
        self.bookmarks.iter().find(|b| b.stream == stream)
    }

    /// The report as JSON, in the shape `burler check --json` documents (its
    /// `report.schema.json`), version [`REPORT_VERSION`].
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(obj) = v.as_object_mut() {
            obj.insert("report_version".into(), Value::from(REPORT_VERSION));
            obj.insert("passed".into(), Value::from(self.passed()));
            obj.insert(
                "summary".into(),
                serde_json::json!({"passed": self.count(Status::Pass),
                    "warnings": self.count(Status::Warn), "failed": self.count(Status::Fail)}),
            );
        }
        v
    }

    /// Panics with the whole report when a check failed.
    #[track_caller]
    pub fn assert_passes(&self) {
        assert!(self.passed(), "tap suite failed:\n{self}");
    }
}

/// Details shown under a check in the text form; the JSON form has them all.
const SHOWN_DETAILS: usize = 12;

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            writeln!(f, "{} {}: {}", c.status.as_str(), c.name, c.summary)?;
            for d in c.details.iter().take(SHOWN_DETAILS) {
                writeln!(f, "    {d}")?;
            }
            if c.details.len() > SHOWN_DETAILS {
                writeln!(f, "    … {} more", c.details.len() - SHOWN_DETAILS)?;
            }
        }
        write!(
            f,
            "{} passed, {}, {} failed",
            self.count(Status::Pass),
            crate::suite::plural(self.count(Status::Warn), "warning"),
            self.count(Status::Fail)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_has_one_line_per_check_and_a_tally() {
        let mut r = Report::default();
        r.push(Check::new("a", Status::Pass, "fine"));
        let many = (0..15).map(|i| format!("problem {i}")).collect();
        r.push(Check::new("b", Status::Fail, "bad").with_details(many));
        r.push(Check::new("c", Status::Warn, "hmm"));
        let text = r.to_string();
        assert!(
            text.starts_with("PASS a: fine\nFAIL b: bad\n    problem 0\n"),
            "{text}"
        );
        assert!(
            text.contains("    … 3 more\nWARN c: hmm\n1 passed, 1 warning, 1 failed"),
            "{text}"
        );
        assert!(!r.passed());
        assert_eq!(r.to_json()["summary"]["failed"], 1);
        assert_eq!(r.to_json()["checks"][1]["status"], "FAIL");
    }

    #[test]
    #[should_panic(expected = "FAIL b: bad")]
    fn assert_passes_panics_with_the_report() {
        let mut r = Report::default();
        r.push(Check::new("b", Status::Fail, "bad"));
        r.assert_passes();
    }
}
