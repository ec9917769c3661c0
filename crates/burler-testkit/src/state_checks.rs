//! The checks of a sync's state: which shape each stream's bookmark has (and `currently_syncing`),
//! whether each incremental bookmark advanced and how fast, and whether a second run from the final
//! state sends nothing older than the bookmark. Bookmarks are read in every shape
//! [`crate::bookmarks`] knows; a shape it does not know is a warning, never a failure.

use burler_singer::{Catalog, Message};
use serde_json::Value;

use crate::analysis::{Findings, StreamFacts, SyncAnalysis, catalog_entry};
use crate::bookmarks::{Bookmark, currently_syncing, read_bookmark};
use crate::compare::{KeyValue, compare_json};
use crate::report::{BookmarkAdvance, Check, Status};
use crate::suite::{findings_check, plural};

/// A minimum bookmark rate (bookmark span per second of run time) for one stream or all.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RateRule {
    pub(crate) stream: Option<String>,
    pub(crate) per_second: f64,
    pub(crate) level: Status,
}

/// The `tap_stream_id` of the stream named `stream` (state is keyed by it).
pub(crate) fn stream_id<'a>(catalog: &'a Catalog, stream: &'a str) -> &'a str {
    catalog_entry(catalog, stream).map_or(stream, |e| e.tap_stream_id.as_str())
}

/// The bookmark of the stream `facts` describe, read with the names it may be kept under.
pub(crate) fn stream_bookmark(state: &Value, id: &str, facts: &StreamFacts) -> Bookmark {
    let keys: Vec<&str> = facts.bookmark_keys.iter().map(String::as_str).collect();
    read_bookmark(state, id, &keys)
}

/// Which shape each stream's bookmark has in the final state, and whether `currently_syncing`
/// was cleared: warnings only (a tap may keep its state as it likes). `None` without STATE.
pub(crate) fn state_shape_check(a: &SyncAnalysis, catalog: &Catalog) -> Option<Check> {
    let last = a.last_state.as_ref().filter(|s| s.is_object())?;
    let mut read = Vec::new();
    let mut warnings = Vec::new();
    for (stream, facts) in &a.streams {
        match stream_bookmark(last, stream_id(catalog, stream), facts) {
            Bookmark::Read(r) => {
                let value = if r.partitions > 0 {
                    format!("{} partitions, {} … {}", r.partitions, r.lowest, r.highest)
                } else {
                    r.highest.to_string()
                };
                read.push(format!("{stream}: {} at {} = {value}", r.shape, r.path));
            }
            Bookmark::Unreadable(why) => {
                warnings.push(format!("{stream}: bookmark not understood: {why}"))
            }
            Bookmark::None => {}
        }
    }
    if let Ok(Some(id)) = currently_syncing(last) {
        warnings.push(format!(
            "the final state still names {id:?} as currently_syncing: a run resumed from it starts there"
        ));
    }
    warnings.extend(a.state_warnings.lines.iter().cloned());
    let (status, summary) = if !warnings.is_empty() {
        let n = warnings.len().max(a.state_warnings.count);
        (
            Status::Warn,
            plural(n, "state detail").to_string() + " not understood or unfinished",
        )
    } else if read.is_empty() {
        (Status::Pass, "no stream keeps a bookmark".to_owned())
    } else {
        (
            Status::Pass,
            format!("{} read", plural(read.len(), "bookmark")),
        )
    };
    warnings.extend(read);
    Some(Check::new("state shape understood", status, summary).with_details(warnings))
}

/// The "bookmarks advance" check of a sync that started from `state`, and each incremental
/// stream's advance.
pub(crate) fn bookmark_advance_check(
    a: &SyncAnalysis,
    catalog: &Catalog,
    state: Option<&Value>,
    run_seconds: f64,
    rules: &[RateRule],
) -> (Check, Vec<BookmarkAdvance>) {
    let mut status = Status::Pass;
    let mut details = Vec::new();
    let mut advances = Vec::new();
    for (stream, facts) in a
        .streams
        .iter()
        .filter(|(_, f)| f.replication_key.is_some())
    {
        let id = stream_id(catalog, stream);
        let read = |s: Option<&Value>| s.map_or(Bookmark::None, |s| stream_bookmark(s, id, facts));
        let after = match read(a.last_state.as_ref()) {
            Bookmark::Unreadable(why) => {
                status = status.max(Status::Warn);
                details.push(format!(
                    "{stream}: not judged: the final state's bookmark is in a shape these checks cannot read ({why})"
                ));
                continue;
            }
            b => b.reading().map(|r| r.highest.clone()),
        };
        let before = read(state).reading().map(|r| r.highest.clone());
        let mut adv = BookmarkAdvance {
            stream: stream.clone(),
            before,
            after,
            min_seen: facts.min_key.clone(),
            max_seen: facts.max_key.clone(),
            records: facts.records,
            span: None,
            unit: None,
            rate_per_second: None,
            run_seconds,
        };
        let (verdict, line) = judge_advance(&mut adv, rules);
        status = status.max(verdict);
        details.push(format!("{stream}: {line}"));
        advances.push(adv);
    }
    let summary = match status {
        _ if details.is_empty() => "no incremental stream synced",
        Status::Pass => "every incremental bookmark moved forward",
        Status::Warn => "bookmarks moved, with warnings",
        Status::Fail => "a bookmark did not advance as it should",
    };
    let check = Check::new("bookmarks advance", status, summary).with_details(details);
    (check, advances)
}

/// Fills the span and rate of `adv` and says whether the bookmark advanced as it should.
fn judge_advance(adv: &mut BookmarkAdvance, rules: &[RateRule]) -> (Status, String) {
    let moved = format!(
        "{} → {} ({} records)",
        show(&adv.before),
        show(&adv.after),
        adv.records
    );
    if adv.records == 0 {
        return (
            Status::Pass,
            format!("{moved}: no records, nothing to advance"),
        );
    }
    let Some(after) = adv.after.clone() else {
        return (
            Status::Fail,
            format!("{moved}: records were written but the final state has no bookmark"),
        );
    };
    if let Some(why) = wrong_direction(adv, &after) {
        return (Status::Fail, format!("{moved}: {why}"));
    }
    let mut verdict = Status::Pass;
    let mut line = moved;
    if older(&after, &adv.max_seen) {
        verdict = Status::Warn;
        line.push_str(&format!(
            ": behind the newest record {} (the next run re-reads them)",
            show(&adv.max_seen)
        ));
    }
    let (rate_verdict, rate_line) = judge_rate(adv, &after, rules);
    line.push_str(&rate_line);
    (verdict.max(rate_verdict), line)
}

/// `none` or the value's JSON.
fn show(v: &Option<Value>) -> String {
    v.as_ref().map_or("none".to_owned(), ToString::to_string)
}

/// True when `a` sorts before `b` (false without `b`).
fn older(a: &Value, b: &Option<Value>) -> bool {
    b.as_ref()
        .is_some_and(|b| compare_json(a, b) == Some(std::cmp::Ordering::Less))
}

/// Why a final bookmark `after` moved the wrong way (backwards, not at all, or behind every record).
fn wrong_direction(adv: &BookmarkAdvance, after: &Value) -> Option<String> {
    if older(after, &adv.before) {
        return Some("the bookmark went backwards".to_owned());
    }
    let newer_than_before = adv.before.as_ref().is_none_or(|b| {
        adv.max_seen
            .as_ref()
            .is_some_and(|m| compare_json(m, b) == Some(std::cmp::Ordering::Greater))
    });
    if adv.before.is_some()
        && newer_than_before
        && !older(adv.before.as_ref().unwrap_or(after), &Some(after.clone()))
    {
        return Some(format!(
            "did not advance although records up to {} were written",
            show(&adv.max_seen)
        ));
    }
    if adv.before.is_none() && older(after, &adv.min_seen) {
        return Some(format!(
            "the bookmark is older than every record written (oldest {})",
            show(&adv.min_seen)
        ));
    }
    None
}

/// Fills the span and rate of `adv` and judges them against the minimum rates of `rules`.
fn judge_rate(adv: &mut BookmarkAdvance, after: &Value, rules: &[RateRule]) -> (Status, String) {
    let start = adv.before.clone().or_else(|| adv.min_seen.clone());
    let span = start.as_ref().and_then(|s| {
        crate::compare::span_since(&KeyValue::from_json(after)?, &KeyValue::from_json(s)?)
    });
    let mut rules = rules
        .iter()
        .filter(|r| r.stream.as_ref().is_none_or(|s| *s == adv.stream))
        .peekable();
    let Some(span) = span else {
        if rules.peek().is_some() {
            let why = ", rate not measurable (bookmark is neither a number nor a date-time)";
            return (Status::Warn, why.to_owned());
        }
        return (Status::Pass, String::new());
    };
    let rate = span.amount() / adv.run_seconds.max(1e-6);
    adv.span = Some(span.amount());
    adv.unit = Some(match span {
        crate::compare::Span::Seconds(_) => "seconds",
        crate::compare::Span::Units(_) => "units",
    });
    adv.rate_per_second = Some(rate);
    let mut verdict = Status::Pass;
    let mut line = format!(", span {span} in {:.2} s: {rate:.3e}/s", adv.run_seconds);
    for rule in rules.filter(|r| rate < r.per_second) {
        verdict = verdict.max(rule.level);
        line.push_str(&format!(" (below the minimum {:.3e}/s)", rule.per_second));
    }
    (verdict, line)
}

/// Records of the second run (`messages`, judged as `second`) older than the lowest bookmark
/// of the state it started from.
pub(crate) fn older_than_bookmark_check(
    messages: &[(u64, Message)],
    second: &SyncAnalysis,
    state: &Value,
    catalog: &Catalog,
) -> Check {
    let mut findings = Findings::default();
    let mut checked = 0;
    for (line, m) in messages {
        let Message::Record(r) = m else { continue };
        let Some(facts) = second.stream(&r.stream) else {
            continue;
        };
        let Some(rk) = facts.replication_key.clone() else {
            continue;
        };
        let bookmark = stream_bookmark(state, stream_id(catalog, &r.stream), facts);
        let Some(lowest) = bookmark.reading().map(|b| b.lowest.clone()) else {
            continue;
        };
        checked += 1;
        if let Some(v) = r.record.get(&rk)
            && compare_json(v, &lowest) == Some(std::cmp::Ordering::Less)
        {
            findings.push(format!(
                "{} line {line}: {rk} {v} is older than the bookmark {lowest}",
                r.stream
            ));
        }
    }
    findings_check(
        "second run: no record older than the bookmark",
        &findings,
        &format!(
            "{} at or after their bookmark",
            plural(checked, "incremental record")
        ),
        Status::Fail,
    )
}
