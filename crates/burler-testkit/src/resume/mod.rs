//! Resume anywhere: the promise a Singer tap must keep is that a run interrupted at any line and
//! resumed from the last STATE it wrote loses no record. [`ResumeCheck`] runs the tap once
//! uninterrupted, then for a spread of cut points (at least 20 by default; always some inside the
//! records of child streams, which the catalog marks with `parent-tap-stream-id`, and some inside
//! the records of partitioned streams, whose bookmarks hold `partitions`) it cuts the output after
//! that line, takes the last STATE before the cut (or none), runs the tap again from it, and
//! requires that the records of the cut prefix plus the resumed run cover every primary key
//! (SCHEMA `key_properties`; the whole record for a stream without keys) the uninterrupted run
//! wrote, per stream.
//!
//! A resumed run depends only on its state, so the tap runs once per distinct state; cuts before
//! the first STATE resume from the run's own start and need no run. Each failure names the stream,
//! the cut line, the state used and a few of the missing keys. A misbehaving tap (crashing,
//! hanging, writing garbage) is reported, never a panic.
//!
//! ```
//! use burler::prelude::*;
//! use burler_testkit::ResumeCheck;
//! use burler_testkit::runner::{InProcessTap, RunInput};
//! use serde_json::{Value, json};
//!
//! let tap = InProcessTap::new(|| {
//!     Tap::new("tap-demo").stream(Stream::new("events")
//!         .schema(json!({"type": "object", "properties": {"id": {"type": "integer"}}}))
//!         .key(["id"]).bookmark_strategy(BookmarkStrategy::Records(2))
//!         .sync(|ctx: SyncContext<Value>| async move {
//!             for id in 1..=5 { ctx.emit(json!({"id": id}))?; }
//!             Ok(())
//!         }))
//! });
//! let dir = tempfile::tempdir().unwrap();
//! let config = dir.path().join("config.json");
//! std::fs::write(&config, "{}").unwrap();
//! let report = ResumeCheck::new().cuts(5).run(&tap, &RunInput::sync(&config));
//! report.assert_passes();
//! ```

mod plan;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use burler_singer::Catalog;
use serde::Serialize;
use serde_json::Value;

use crate::report::{Check, Status};
use crate::runner::{RunInput, TapOutput, TapRunner};
use crate::suite::plural;
use plan::{Cut, FullRun, plan_cuts};

/// How many cut points the check tries unless told otherwise.
pub const DEFAULT_CUTS: usize = 20;

/// Missing keys shown per stream and cut.
const EXAMPLES: usize = 5;

/// The resume-anywhere check (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct ResumeCheck {
    cuts: usize,
    explicit: Vec<u64>,
}

impl Default for ResumeCheck {
    fn default() -> Self {
        ResumeCheck {
            cuts: DEFAULT_CUTS,
            explicit: Vec::new(),
        }
    }
}

impl ResumeCheck {
    /// The check with [`DEFAULT_CUTS`] cut points.
    pub fn new() -> Self {
        Self::default()
    }

    /// Tries about `n` cut points spread over the output (fewer when the output is shorter;
    /// `0` tries only the lines given to [`cut_after`](Self::cut_after)).
    pub fn cuts(mut self, n: usize) -> Self {
        self.cuts = n;
        self
    }

    /// Also cuts after each of these 1-based lines (e.g. from a property test's random cuts).
    pub fn cut_after(mut self, lines: impl IntoIterator<Item = u64>) -> Self {
        self.explicit.extend(lines);
        self
    }

    /// Runs the tap once with `input` (uninterrupted), then resumes it at every cut point.
    /// Child streams are known from the catalog `input` names (`--catalog`, else
    /// `--properties`), when it has one.
    pub fn run(&self, runner: &dyn TapRunner, input: &RunInput) -> ResumeReport {
        let catalog = input
            .catalog
            .as_deref()
            .or(input.properties.as_deref())
            .and_then(|p| Catalog::from_path(p).ok());
        let full = runner.run(input);
        self.run_with_full(runner, input, &full, catalog.as_ref())
    }

    /// Like [`run`](Self::run), with the uninterrupted run already made (`full`, from `input`).
    pub fn run_with_full(
        &self,
        runner: &dyn TapRunner,
        input: &RunInput,
        full: &TapOutput,
        catalog: Option<&Catalog>,
    ) -> ResumeReport {
        if !full.succeeded() {
            return ResumeReport::skipped(format!(
                "the uninterrupted run ended with {}",
                full.ending()
            ));
        }
        let run = FullRun::read(&full.stdout);
        let cuts = plan_cuts(&run, catalog, self.cuts, &self.explicit);
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => return ResumeReport::skipped(format!("no temporary directory: {e}")),
        };
        let mut report = ResumeReport {
            lines: run.lines.len() as u64,
            ..ResumeReport::default()
        };
        let resumer = Resumer {
            runner,
            input,
            dir: dir.path(),
            run: &run,
        };
        for (state_line, group) in by_state(&run, cuts) {
            report
                .cuts
                .extend(resumer.cuts_from(state_line, group, &mut report.resumed_runs));
        }
        report.cuts.sort_by_key(|c| c.line);
        report
    }
}

/// Groups cuts by the line of the STATE they resume from (`None`: before the first STATE).
fn by_state(run: &FullRun, cuts: Vec<Cut>) -> Vec<(Option<u64>, Vec<Cut>)> {
    let mut groups: Vec<(Option<u64>, Vec<Cut>)> = Vec::new();
    for cut in cuts {
        let state_line = run.state_before(cut.line).map(|(l, _)| *l);
        match groups.iter_mut().find(|(l, _)| *l == state_line) {
            Some((_, group)) => group.push(cut),
            None => groups.push((state_line, vec![cut])),
        }
    }
    groups
}

/// Resumes the tap from one state and judges the cuts that resume from it.
struct Resumer<'a> {
    runner: &'a dyn TapRunner,
    input: &'a RunInput,
    dir: &'a Path,
    run: &'a FullRun,
}

impl Resumer<'_> {
    fn cuts_from(
        &self,
        state_line: Option<u64>,
        cuts: Vec<Cut>,
        runs: &mut usize,
    ) -> Vec<CutOutcome> {
        let outcome = |cut: Cut| CutOutcome {
            line: cut.line,
            inside: cut.inside,
            state_line,
            state: None,
            run_error: None,
            missing: Vec::new(),
        };
        let Some((_, state)) = state_line.and_then(|l| self.run.state_before(l)) else {
            // Before the first STATE a resumed run starts where the uninterrupted one did.
            return cuts.into_iter().map(outcome).collect();
        };
        *runs += 1;
        let resumed = self.resume(state);
        cuts.into_iter()
            .map(|cut| {
                let mut o = outcome(cut);
                match &resumed {
                    Ok(keys) => o.missing = self.missing(o.line, keys),
                    Err(e) => o.run_error = Some(e.clone()),
                }
                if !o.passed() {
                    o.state = Some(state.clone());
                }
                o
            })
            .collect()
    }

    /// Runs the tap from `state`; the keys it wrote, per stream.
    fn resume(&self, state: &Value) -> Result<HashMap<String, HashSet<String>>, String> {
        let path = self.dir.join("resume-state.json");
        std::fs::write(&path, state.to_string())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let out = self.runner.run(&self.input.clone().state(&path));
        if !out.succeeded() {
            let tail = out.stderr_tail(2).join("; ");
            return Err(format!("the resumed run ended with {}{}", out.ending(), {
                if tail.is_empty() {
                    String::new()
                } else {
                    format!(" ({tail})")
                }
            }));
        }
        Ok(self.run.keys_of(&out.stdout))
    }

    /// The keys of the uninterrupted run neither the prefix up to `line` nor `resumed` wrote.
    fn missing(&self, line: u64, resumed: &HashMap<String, HashSet<String>>) -> Vec<MissingKeys> {
        let none = HashSet::new();
        self.run
            .keys
            .iter()
            .filter_map(|(stream, keys)| {
                let resumed = resumed.get(stream).unwrap_or(&none);
                let lost: Vec<&String> = keys
                    .order
                    .iter()
                    .filter(|k| keys.first_line.get(*k).is_some_and(|l| *l > line))
                    .filter(|k| !resumed.contains(*k))
                    .collect();
                (!lost.is_empty()).then(|| MissingKeys {
                    stream: stream.clone(),
                    missing: lost.len(),
                    of: keys.order.len(),
                    examples: lost
                        .iter()
                        .take(EXAMPLES)
                        .map(|k| serde_json::from_str(k).unwrap_or(Value::Null))
                        .collect(),
                })
            })
            .collect()
    }
}

/// What the resume check found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ResumeReport {
    /// Message lines of the uninterrupted run.
    pub lines: u64,
    /// How many times the tap was resumed (once per distinct state).
    pub resumed_runs: usize,
    /// Every cut tried, in line order.
    pub cuts: Vec<CutOutcome>,
    /// Why the check could not run (the uninterrupted run failed, …).
    pub skipped: Option<String>,
}

/// One cut point and what resuming from it lost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CutOutcome {
    /// The output was cut after this 1-based line.
    pub line: u64,
    /// What the cut falls inside (`the records of order_lines, child of orders`).
    pub inside: Option<String>,
    /// The line of the STATE resumed from; `None`: no STATE before the cut.
    pub state_line: Option<u64>,
    /// That state, kept when the cut failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<Value>,
    /// How the resumed run failed, when it did.
    pub run_error: Option<String>,
    /// The streams that lost keys.
    pub missing: Vec<MissingKeys>,
}

impl CutOutcome {
    /// True when nothing was lost and the resumed run succeeded.
    pub fn passed(&self) -> bool {
        self.run_error.is_none() && self.missing.is_empty()
    }

    /// One line per problem, each naming the stream, the cut and the state.
    fn describe(&self) -> Vec<String> {
        let at = format!(
            "cut after line {}{}, resumed from {}",
            self.line,
            self.inside
                .as_ref()
                .map_or(String::new(), |i| format!(" (inside {i})")),
            self.state_line
                .map_or("no state".to_owned(), |l| format!("the STATE of line {l}"))
        );
        let state = self.state.as_ref().map_or(String::new(), |s| {
            format!("; state {}", shorten(&s.to_string(), 300))
        });
        let mut lines: Vec<String> = self
            .run_error
            .iter()
            .map(|e| format!("{at}: {e}{state}"))
            .collect();
        for m in &self.missing {
            let examples: Vec<String> = m.examples.iter().map(Value::to_string).collect();
            lines.push(format!(
                "{}: {at}: {} of {} keys missing, e.g. {}{state}",
                m.stream,
                m.missing,
                m.of,
                examples.join(", ")
            ));
        }
        lines
    }
}

/// Keys one stream lost at one cut.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissingKeys {
    /// The stream.
    pub stream: String,
    /// How many of its keys neither the prefix nor the resumed run wrote.
    pub missing: usize,
    /// How many keys the uninterrupted run wrote.
    pub of: usize,
    /// A few of the missing keys (`{"id": 1}`; the whole record for a stream without keys).
    pub examples: Vec<Value>,
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

impl ResumeReport {
    fn skipped(why: String) -> Self {
        ResumeReport {
            skipped: Some(why),
            ..ResumeReport::default()
        }
    }

    /// The cuts that lost records or whose resumed run failed.
    pub fn failures(&self) -> impl Iterator<Item = &CutOutcome> {
        self.cuts.iter().filter(|c| !c.passed())
    }

    /// `Fail` when a cut lost records, `Warn` when the check could not run, else `Pass`.
    pub fn status(&self) -> Status {
        if self.failures().next().is_some() {
            Status::Fail
        } else if self.skipped.is_some() {
            Status::Warn
        } else {
            Status::Pass
        }
    }

    /// True when the check ran and no cut lost a record.
    pub fn passed(&self) -> bool {
        self.status() == Status::Pass
    }

    /// The check as a report line (`resume from any cut`).
    pub fn to_check(&self) -> Check {
        let name = "resume from any cut";
        if let Some(why) = &self.skipped {
            return Check::new(name, Status::Warn, format!("not run: {why}"));
        }
        let failed: Vec<&CutOutcome> = self.failures().collect();
        let tried = format!(
            "{} of {} lines, {}",
            plural(self.cuts.len(), "cut"),
            self.lines,
            plural(self.resumed_runs, "resumed run")
        );
        if failed.is_empty() {
            return Check::new(
                name,
                Status::Pass,
                format!("{tried}: every key of the uninterrupted run covered"),
            );
        }
        let mut streams: Vec<&str> = failed
            .iter()
            .flat_map(|c| c.missing.iter().map(|m| m.stream.as_str()))
            .collect();
        streams.sort_unstable();
        streams.dedup();
        let lost = if streams.is_empty() {
            "fail to resume".to_owned()
        } else {
            format!("lose records of {}", streams.join(", "))
        };
        let summary = format!("{} of {} {lost} ({tried})", failed.len(), self.cuts.len());
        let details = failed.iter().flat_map(|c| c.describe()).collect();
        Check::new(name, Status::Fail, summary).with_details(details)
    }

    /// Panics with every failure when the check did not pass.
    #[track_caller]
    pub fn assert_passes(&self) {
        let check = self.to_check();
        assert!(
            self.passed(),
            "resume check failed: {}\n{}",
            check.summary,
            check.details.join("\n")
        );
    }
}
