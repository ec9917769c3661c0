//! A book: the bookmark of one stream or one partition while it syncs.
//!
//! The ledger opens a book when a (partition's) sync starts and takes it back when it ends; in
//! between the stream's writer holds it and tells it the replication key of every record it writes
//! (the hot path). Only the ledger decides what a book commits: every field that says where a sync
//! started, what was written and what may be committed is private to this module and the ledger.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use crate::bookmark::{BookmarkValue, is_canonical_utc_json};

/// Where a book's value goes in the state.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    /// `bookmarks.<stream>.replication_key_value`.
    Stream,
    /// `bookmarks.<stream>.partitions[context]`: a for-each partition, or a sub-stream that keeps
    /// a bookmark per parent.
    Partition(Value),
    /// Nowhere while the run goes on: a sub-stream's one bookmark, safe for every parent, which
    /// the ledger advances when the tree above it completes.
    Shared,
    /// Nowhere: the stream keeps no bookmark this run (FULL_TABLE).
    Nothing,
}

/// What became of a record's replication key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// The record stays; its key counts for the bookmark.
    Kept,
    /// The record is older than where the sync started and the stream filters such records.
    Older,
}

/// The greatest replication-key value among written records.
#[derive(Debug, Clone, Default)]
struct Seen {
    max: Option<BookmarkValue>,
    /// A canonical UTC date-time key (`"YYYY-MM-DDTHH:MM:SSZ"`, as JSON) newer than `max`, not
    /// parsed yet: keys of that one layout order as their bytes do, so a sorted stream pays a
    /// 22-byte compare per record and one parse per commit instead of a parse per record.
    pending: Vec<u8>,
}

impl Seen {
    #[inline]
    fn observe_canonical_json(&mut self, json: &[u8]) -> bool {
        if !is_canonical_utc_json(json) {
            return false;
        }
        if !self.pending.is_empty() {
            if json > self.pending.as_slice() {
                self.pending.clear();
                self.pending.extend_from_slice(json);
            }
            return true;
        }
        let Some(value) = BookmarkValue::from_json_bytes(json) else {
            return false;
        };
        if self.max.as_ref().is_none_or(|max| max.is_before(&value)) {
            self.pending.extend_from_slice(json);
        }
        true
    }

    fn settle(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        // Always parses: `is_canonical_utc_json` checked every field's range.
        if let Some(value) = BookmarkValue::from_json_bytes(&self.pending) {
            self.max = Some(value);
        }
        self.pending.clear();
    }

    fn observe(&mut self, value: BookmarkValue) {
        self.settle();
        if self.max.as_ref().is_none_or(|max| max.is_before(&value)) {
            self.max = Some(value);
        }
    }

    fn max(&mut self) -> Option<BookmarkValue> {
        self.settle();
        self.max.clone()
    }
}

/// The children gate of a parent stream: its bookmark may cover only records whose children
/// (transitively) have all been written.
#[derive(Debug, Clone, Default)]
struct Gate {
    /// Children of a parent record without a replication key failed: nothing more commits.
    frozen: bool,
    /// The greatest key among parent records whose children are done.
    settled: Option<BookmarkValue>,
    /// The smallest key among parent records whose children failed: the bookmark stays at or
    /// below it, so the next run reads that parent (and its children) again.
    ceiling: Option<BookmarkValue>,
}

/// The bookmark of one stream or partition during a sync (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct Book {
    pub(super) stream: Arc<str>,
    pub(super) target: Target,
    /// Where the sync started (stored bookmark minus lookback, else `start_date`).
    start: Option<BookmarkValue>,
    /// The same, as the sync function is given it.
    start_json: Option<Value>,
    /// The value the state holds.
    pub(super) committed: Option<BookmarkValue>,
    seen: Seen,
    gate: Option<Gate>,
    filter_older: bool,
    sync_started: DateTime<FixedOffset>,
}

/// How the ledger opens a book.
pub(super) struct Opening {
    pub(super) stream: Arc<str>,
    pub(super) target: Target,
    pub(super) start_json: Option<Value>,
    pub(super) committed: Option<BookmarkValue>,
    pub(super) gated: bool,
    pub(super) filter_older: bool,
    pub(super) sync_started: DateTime<FixedOffset>,
}

impl Book {
    pub(super) fn open(o: Opening) -> Self {
        Book {
            stream: o.stream,
            target: o.target,
            start: o.start_json.as_ref().and_then(BookmarkValue::from_json),
            start_json: o.start_json,
            committed: o.committed,
            seen: Seen::default(),
            gate: o.gated.then(Gate::default),
            filter_older: o.filter_older,
            sync_started: o.sync_started,
        }
    }

    /// A book that tracks nothing: for streams that keep no bookmark, before the ledger opens one.
    pub(crate) fn unbooked(stream: &str) -> Self {
        Book::open(Opening {
            stream: Arc::from(stream),
            target: Target::Nothing,
            start_json: None,
            committed: None,
            gated: false,
            filter_older: false,
            sync_started: chrono::Utc::now().fixed_offset(),
        })
    }

    /// The stream this book belongs to.
    pub(crate) fn stream(&self) -> &str {
        &self.stream
    }

    /// Where the sync starts, as the sync function sees it (`None`: from the beginning).
    pub(crate) fn start_json(&self) -> Option<&Value> {
        self.start_json.as_ref()
    }

    /// Turns the filter of older records on or off; returns the previous setting.
    pub(crate) fn set_filter_older(&mut self, on: bool) -> bool {
        std::mem::replace(&mut self.filter_older, on)
    }

    /// True when the book's value goes into the state at its close (a stream or partition
    /// bookmark), so a STATE may carry it before anything else happens.
    pub(crate) fn noted_at_close(&self) -> bool {
        matches!(self.target, Target::Stream | Target::Partition(_))
    }

    /// True for a parent's book: its commits wait for its children.
    #[inline]
    pub(crate) fn is_gated(&self) -> bool {
        self.gate.is_some()
    }

    /// True when the book must see every record's key parsed (filtering, or a children gate):
    /// the writer then skips the byte-compare shortcut.
    #[inline]
    pub(crate) fn wants_each_key(&self) -> bool {
        self.filter_older || self.gate.is_some()
    }

    /// Hot path: the key of a written record, as its JSON, when it is a canonical UTC date-time;
    /// `false` (nothing recorded) for any other value, which the caller parses and hands to
    /// [`admit`](Self::admit). Only for books that do not [want each key](Self::wants_each_key).
    #[inline]
    pub(crate) fn admit_canonical_json(&mut self, json: &[u8]) -> bool {
        self.seen.observe_canonical_json(json)
    }

    /// The key of a record about to be written.
    pub(crate) fn admit(&mut self, value: BookmarkValue) -> Admit {
        if self.filter_older && self.start.as_ref().is_some_and(|s| value.is_before(s)) {
            return Admit::Older;
        }
        self.seen.observe(value);
        Admit::Kept
    }

    /// An explicit bookmark (the author's `set_bookmark`): counts like a written record's key.
    pub(crate) fn set_explicit(&mut self, value: BookmarkValue) {
        self.seen.observe(value);
    }

    /// For a parent: the greatest key written so far, taken when the children of the records
    /// written so far are handed over; [`settle`](Self::settle) it once they are done.
    pub(crate) fn mark(&mut self) -> Option<BookmarkValue> {
        self.seen.max()
    }

    /// For a parent: the children of every record up to `mark` are written.
    pub(crate) fn settle(&mut self, mark: Option<BookmarkValue>) {
        if let (Some(gate), Some(mark)) = (&mut self.gate, mark)
            && gate.settled.as_ref().is_none_or(|s| s.is_before(&mark))
        {
            gate.settled = Some(mark);
        }
    }

    /// For a parent: the children of a record with key `key` failed; the bookmark stays at or
    /// below it for the rest of the run.
    pub(crate) fn hold_at(&mut self, key: BookmarkValue) {
        if let Some(gate) = &mut self.gate
            && gate.ceiling.as_ref().is_none_or(|c| key.is_before(c))
        {
            gate.ceiling = Some(key);
        }
    }

    /// For a parent: the children of a record without a replication key failed; the bookmark
    /// stays where it is for the rest of the run.
    pub(crate) fn freeze(&mut self) {
        if let Some(gate) = &mut self.gate {
            gate.frozen = true;
        }
    }

    /// The value to commit now, by the commit rule: the greatest written key (for a parent: the
    /// greatest whose children are done, and no higher than a record whose children failed),
    /// capped at the sync start for date-times, never behind what was committed. `None` when
    /// nothing would change.
    pub(super) fn next_commit(&mut self) -> Option<BookmarkValue> {
        let seen = self.seen.max();
        let candidate = match &self.gate {
            None => seen,
            Some(gate) if gate.frozen => None,
            Some(gate) => lowest(gate.settled.clone(), gate.ceiling.clone()),
        }?;
        let candidate = match &candidate {
            BookmarkValue::DateTime(dt) if *dt > self.sync_started => {
                BookmarkValue::DateTime(self.sync_started)
            }
            _ => candidate,
        };
        match &self.committed {
            Some(done) if !done.is_before(&candidate) => None,
            _ => Some(candidate),
        }
    }

    /// The value the book would end with: the next commit, or what is committed.
    pub(super) fn final_value(&mut self) -> Option<BookmarkValue> {
        self.next_commit().or_else(|| self.committed.clone())
    }

    /// A book for another try of the same sync, starting at `start_json` (the original start
    /// unless a retry hook moved it); what is committed stays.
    pub(super) fn restart(&self, start_json: Option<Value>) -> Book {
        Book::open(Opening {
            stream: self.stream.clone(),
            target: self.target.clone(),
            start_json,
            committed: self.committed.clone(),
            gated: self.gate.is_some(),
            filter_older: self.filter_older,
            sync_started: self.sync_started,
        })
    }

    /// Forces a value into the gate's ceiling and settled watermark (roll-up of children).
    pub(super) fn replace_seen(&mut self, value: Option<BookmarkValue>) {
        let ceiling = self.gate.as_ref().and_then(|g| g.ceiling.clone());
        self.seen = Seen::default();
        if let Some(v) = value {
            self.seen.observe(v.clone());
            if let Some(gate) = &mut self.gate {
                gate.settled = Some(v);
                gate.ceiling = ceiling;
            }
        }
    }
}

/// The smaller of two optional values; `None` only when `a` is `None` (a ceiling alone does not
/// make a value to commit).
fn lowest(a: Option<BookmarkValue>, b: Option<BookmarkValue>) -> Option<BookmarkValue> {
    match (a, b) {
        (Some(a), Some(b)) if b.is_before(&a) => Some(b),
        (a, _) => a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn dt(s: &str) -> BookmarkValue {
        BookmarkValue::from_text(s)
    }

    fn book(start: Option<&str>, gated: bool, started: &str) -> Book {
        Book::open(Opening {
            stream: Arc::from("s"),
            target: Target::Stream,
            start_json: start.map(Value::from),
            committed: start.map(dt),
            gated,
            filter_older: false,
            sync_started: DateTime::parse_from_rfc3339(started).unwrap(),
        })
    }

    fn json(s: &str) -> Vec<u8> {
        serde_json::to_vec(s).unwrap()
    }

    #[test]
    fn commit_never_passes_sync_start_nor_goes_backwards() {
        let mut b = book(Some("2024-05-01T00:00:00Z"), false, "2024-06-01T00:00:00Z");
        b.admit(dt("2024-05-02T00:00:00Z"));
        assert_eq!(b.next_commit(), Some(dt("2024-05-02T00:00:00Z")));
        b.committed = Some(dt("2024-05-02T00:00:00Z"));
        assert_eq!(b.next_commit(), None, "nothing new to commit");
        b.admit(dt("2024-07-01T00:00:00Z"));
        assert_eq!(b.next_commit(), Some(dt("2024-06-01T00:00:00Z")));
        let mut back = book(Some("2024-05-10T00:00:00Z"), false, "2024-06-01T00:00:00Z");
        back.admit(dt("2024-05-03T00:00:00Z"));
        assert_eq!(back.next_commit(), None, "never backwards");
    }

    #[test]
    fn older_records_are_refused_only_when_filtering() {
        let mut b = book(Some("2024-05-10T00:00:00Z"), false, "2024-06-01T00:00:00Z");
        assert_eq!(b.admit(dt("2024-05-03T00:00:00Z")), Admit::Kept);
        b.set_filter_older(true);
        assert_eq!(b.admit(dt("2024-05-03T00:00:00Z")), Admit::Older);
        assert_eq!(
            b.admit(dt("2024-05-10T00:00:00Z")),
            Admit::Kept,
            "equal is kept"
        );
    }

    #[test]
    fn a_parent_commits_only_what_its_children_settled() {
        let mut b = book(None, true, "2030-01-01T00:00:00Z");
        b.admit(dt("2024-01-01T00:00:00Z"));
        b.admit(dt("2024-01-02T00:00:00Z"));
        assert_eq!(
            b.next_commit(),
            None,
            "children of both records still to run"
        );
        let mark = b.mark();
        b.admit(dt("2024-01-03T00:00:00Z"));
        b.settle(mark);
        assert_eq!(b.next_commit(), Some(dt("2024-01-02T00:00:00Z")));
        b.hold_at(dt("2024-01-02T12:00:00Z"));
        let mark = b.mark();
        b.settle(mark);
        assert_eq!(
            b.next_commit(),
            Some(dt("2024-01-02T12:00:00Z")),
            "held below the parent whose children failed"
        );
    }

    #[test]
    fn canonical_keys_are_tracked_as_bytes_and_agree_with_parsed_ones() {
        let keys = [
            "2024-01-02T03:04:05Z",
            "2024-01-02T03:04:06Z",
            "2023-12-31T23:59:59Z",
            "2024-02-29T00:00:00Z",
            "2024-02-28T23:59:59Z",
        ];
        let started = Utc::now().fixed_offset().to_rfc3339();
        let (mut fast, mut slow) = (book(None, false, &started), book(None, false, &started));
        for (i, k) in keys.iter().enumerate() {
            assert!(fast.admit_canonical_json(&json(k)), "{k}");
            slow.admit(dt(k));
            if i % 2 == 1 {
                assert_eq!(fast.next_commit(), slow.next_commit(), "after {k}");
            }
        }
        assert_eq!(fast.mark(), Some(dt("2024-02-29T00:00:00Z")));
        assert_eq!(fast.mark(), slow.mark());
    }

    #[test]
    fn a_pending_key_gives_way_to_a_newer_parsed_one_and_never_goes_back() {
        let mut b = book(None, false, &Utc::now().fixed_offset().to_rfc3339());
        assert!(b.admit_canonical_json(&json("2024-01-02T00:00:00Z")));
        b.admit(dt("2024-01-02T00:00:00.5Z"));
        assert!(
            b.admit_canonical_json(&json("2024-01-01T00:00:00Z")),
            "older: ignored"
        );
        assert_eq!(b.next_commit(), Some(dt("2024-01-02T00:00:00.5Z")));
    }

    #[test]
    fn only_valid_canonical_utc_strings_take_the_byte_path() {
        let mut b = book(None, false, &Utc::now().fixed_offset().to_rfc3339());
        for other in [
            "2024-01-02T03:04:05.1Z",
            "2024-01-02T03:04:05+00:00",
            "2024-01-02 03:04:05Z",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-04-31T00:00:00Z",
            "x024-01-01T00:00:00Z",
        ] {
            assert!(!b.admit_canonical_json(&json(other)), "{other}");
        }
        assert!(!b.admit_canonical_json(b"20240101"), "not a string");
        assert!(b.admit_canonical_json(&json("2000-02-29T00:00:00Z")));
        assert!(!b.admit_canonical_json(&json("1900-02-29T00:00:00Z")));
    }
}
