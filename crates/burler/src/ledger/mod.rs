//! The bookmark ledger: the one owner of the run's state and of every bookmark's lifecycle.
//!
//! It knows, per stream, how bookmarks are kept (the [`Policy`] the plan decided), opens a
//! [`Book`] when a stream or partition starts syncing (the start value: stored bookmark minus the
//! lookback, else `start_date`), restarts it for a retry, takes it back when the sync ends, rolls
//! child bookmarks up into a parent, keeps `currently_syncing` and table versions, and writes every
//! STATE message. Nothing else in the crate changes the state.
//!
//! # The commit rule
//!
//! 1. **A STATE never covers a record that has not been written.** A book's value reaches the
//!    state only in the same step that writes the records of the writer holding it
//!    ([`Ledger::checkpoint`], [`Ledger::close`]); a STATE line is always written after them.
//! 2. **A parent's bookmark never covers a parent record whose children (transitively) have not
//!    all been written.** A parent's book commits only the greatest key among records whose
//!    children are done ([`Book::settle`]), and never more than the key of a record whose children
//!    failed ([`Book::hold_at`]).
//!
//! Of the two ways to keep rule 2 — run children before the parent's bookmark that covers them
//! commits, or hold the parent's commit until they have run — burler does the first: a parent
//! hands the children of the records it has written so far over at its barriers (between chunks
//! of `emit_stream`, when its queue of child contexts is full, and when its sync returns), they run
//! to the end, and only then does the parent commit (when its cadence says so). The parent's
//! bookmark then lags by at most one chunk, the queue of child contexts stays bounded, and a
//! resumed run never needs to know which children of which parent were written.
//!
//! # Bounded state
//!
//! A sub-stream keeps one bookmark for all its parents by default ([`Keeps::Shared`]): the moment
//! the last run started that read the child for *every* parent (the whole tree above it read from
//! the beginning, every child sync succeeded), which is safe for every parent since any child
//! record changed later carries a later key. Children of an incremental parent therefore read
//! from `start_date` (or that moment) for every parent they are synced for. Per-parent bookmarks
//! are the author's opt-in ([`Keeps::PerParent`], compacted to the declared context keys).
//! A partition's value goes into the state when it ends without a STATE line of its own; the next
//! STATE carries it. So STATE lines follow each stream's cadence, and the state's size follows
//! the streams and partitions the author declares, not the number of parent records.

mod book;

pub(crate) use book::{Admit, Book, Target};

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use burler_singer::State;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::bookmark::{BookmarkValue, format_datetime, parse_datetime};
use crate::output::Output;
use book::Opening;

/// How a stream's bookmarks are kept this run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Keeps {
    /// No bookmark (FULL_TABLE).
    Nothing,
    /// One bookmark for the stream.
    Stream,
    /// One bookmark per for-each partition.
    Partitions,
    /// A sub-stream's bookmark per parent context, keyed by these keys of the context (all keys
    /// when empty).
    PerParent(Vec<String>),
    /// A sub-stream's one bookmark, safe for every parent (see the module docs).
    Shared,
}

/// What the plan decided about one stream's bookmarks.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    /// The replication key, when the stream syncs INCREMENTAL.
    pub(crate) key: Option<String>,
    /// How bookmarks are kept.
    pub(crate) keeps: Keeps,
    /// The parent streams, for a sub-stream (several for a child declared with `child_of`).
    pub(crate) parents: Vec<String>,
    /// How far before the stored bookmark a sync starts.
    pub(crate) lookback: Option<Duration>,
    /// Records older than the start are left out.
    pub(crate) filter_older: bool,
    /// The stream has children this run: its commits wait for them.
    pub(crate) gated: bool,
    /// The replication key holds date-times.
    pub(crate) datetime_key: bool,
    /// Incremental children whose bookmarks roll up into this stream's (empty: no roll-up).
    pub(crate) rollup_from: Vec<String>,
}

/// What happened to one stream's books this run.
#[derive(Debug, Default)]
struct Progress {
    /// Some book started from a bookmark or `start_date`: the stream was not read from the
    /// beginning.
    resumed: bool,
    /// Some sync of the stream failed.
    failed: bool,
    /// The smallest final value over the stream's books that have one (for roll-up).
    floor: Option<BookmarkValue>,
}

struct Inner {
    state: State,
    /// The state changed since the last STATE line.
    dirty: bool,
    policies: HashMap<String, Policy>,
    progress: HashMap<String, Progress>,
}

/// The owner of the run's state (see the module docs).
pub(crate) struct Ledger {
    inner: Mutex<Inner>,
    output: Output,
    sync_started: DateTime<Utc>,
    start_date: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").finish_non_exhaustive()
    }
}

impl Ledger {
    /// A ledger over the state the run starts from, with each stream's policy.
    pub(crate) fn new(
        state: State,
        policies: HashMap<String, Policy>,
        output: Output,
        sync_started: DateTime<Utc>,
        start_date: Option<DateTime<Utc>>,
    ) -> Arc<Self> {
        Arc::new(Ledger {
            inner: Mutex::new(Inner {
                state,
                dirty: false,
                policies,
                progress: HashMap::new(),
            }),
            output,
            sync_started,
            start_date,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every change below is one assignment after the output is written: a panic elsewhere
        // cannot leave the state half-changed.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens the book of `stream` (of one partition or parent context, when given).
    pub(crate) fn open(&self, stream: &str, partition: Option<&Value>) -> Book {
        let mut inner = self.lock();
        let Some(policy) = inner.policies.get(stream).cloned() else {
            return Book::unbooked(stream);
        };
        let target = target_of(&policy, partition);
        let stored = stored_value(&inner.state, stream, &target, partition);
        let start_json = self.start_of(&policy, stored.as_ref());
        inner.progress.entry(stream.to_owned()).or_default().resumed |= start_json.is_some();
        Book::open(Opening {
            stream: Arc::from(stream),
            target,
            committed: stored.as_ref().and_then(BookmarkValue::from_json),
            start_json,
            gated: policy.gated,
            filter_older: policy.filter_older,
            sync_started: self.sync_started.fixed_offset(),
        })
    }

    /// Where a sync starts: the stored value minus the lookback, else `start_date` for an
    /// incremental stream.
    fn start_of(&self, policy: &Policy, stored: Option<&Value>) -> Option<Value> {
        if policy.keeps == Keeps::Nothing {
            return None;
        }
        match (stored, policy.lookback) {
            (Some(Value::String(text)), Some(window)) => Some(
                parse_datetime(text)
                    .zip(chrono::Duration::from_std(window).ok())
                    .map(|(dt, w)| Value::from(format_datetime(&(dt - w))))
                    .unwrap_or_else(|| Value::from(text.as_str())),
            ),
            (Some(stored), _) => Some(stored.clone()),
            (None, _) => policy
                .key
                .as_ref()
                .and(self.start_date)
                .map(|d| Value::from(format_datetime(&d.fixed_offset()))),
        }
    }

    /// A book for another try of the sync `book` was opened for, from `start` (the original start
    /// unless a retry hook moved it).
    pub(crate) fn restart(&self, book: &Book, start: Option<Value>) -> Book {
        book.restart(start)
    }

    /// Writes `pending` records and, when the book's bookmark moved, puts it into the state and
    /// writes a STATE line.
    pub(crate) fn checkpoint(&self, book: &mut Book, pending: &mut Vec<u8>) -> io::Result<()> {
        let Some(value) = book.next_commit() else {
            return self.output.write_lines(pending);
        };
        let mut inner = self.lock();
        if !self.record_value(&mut inner, book, &value) {
            drop(inner);
            return self.output.write_lines(pending);
        }
        book.committed = Some(value);
        self.write_state(&mut inner, pending)
    }

    /// Writes `pending` records and a STATE with the progress of an unsorted stream's sync
    /// (singer-sdk's `progress_markers`: the greatest key written so far, not a bookmark, since
    /// older records may follow); the bookmark itself moves only when the sync completes.
    pub(crate) fn note_progress(&self, book: &mut Book, pending: &mut Vec<u8>) -> io::Result<()> {
        let Some(value) = book.mark() else {
            return self.output.write_lines(pending);
        };
        let mut inner = self.lock();
        let key = inner
            .policies
            .get(book.stream())
            .and_then(|p| p.key.clone());
        let context = match &book.target {
            Target::Stream => None,
            Target::Partition(context) => Some(context),
            Target::Shared | Target::Nothing => {
                drop(inner);
                return self.output.write_lines(pending);
            }
        };
        inner
            .state
            .set_progress_markers(book.stream(), context, key.as_deref(), value.to_json());
        self.write_state(&mut inner, pending)
    }

    /// Takes a book back when its sync ended: writes `pending` records, then puts the final value
    /// into the state (the next STATE line carries it) and notes what the tree above needs:
    /// whether the sync succeeded (`ok`) and whether its tree of children is complete (`whole`).
    pub(crate) fn close(
        &self,
        mut book: Book,
        pending: &mut Vec<u8>,
        ok: bool,
        whole: bool,
    ) -> io::Result<()> {
        self.output.write_lines(pending)?;
        let mut inner = self.lock();
        let rollup = inner
            .policies
            .get(book.stream())
            .map(|p| p.rollup_from.clone())
            .unwrap_or_default();
        if ok && !rollup.is_empty() {
            let floor = rollup
                .iter()
                .filter_map(|c| inner.progress.get(c).and_then(|p| p.floor.clone()))
                .reduce(|a, b| if b.is_before(&a) { b } else { a });
            book.replace_seen(floor);
        }
        let value = if ok { book.final_value() } else { None };
        let progress = inner.progress.entry(book.stream().to_owned()).or_default();
        progress.failed |= !ok || !whole;
        if let Some(v) = &value
            && progress.floor.as_ref().is_none_or(|f| v.is_before(f))
        {
            progress.floor = Some(v.clone());
        }
        if let Some(v) = value.filter(|v| Some(v) != book.committed.as_ref()) {
            self.record_value(&mut inner, &book, &v);
        }
        let context = match &book.target {
            Target::Partition(context) => Some(context),
            _ => None,
        };
        // Progress markers end with the sync: promoted to the bookmark above, or, after a
        // failure, not resumable.
        inner.dirty |= inner.state.clear_progress_markers(book.stream(), context);
        Ok(())
    }

    /// Puts `value` where the book's target says. `false` when the target keeps nothing.
    fn record_value(&self, inner: &mut Inner, book: &Book, value: &BookmarkValue) -> bool {
        let key = inner
            .policies
            .get(book.stream())
            .and_then(|p| p.key.clone());
        let json = value.to_json();
        match &book.target {
            Target::Stream => inner
                .state
                .set_bookmark(book.stream(), key.as_deref(), json),
            Target::Partition(context) => {
                inner
                    .state
                    .set_partition_bookmark(book.stream(), context, key.as_deref(), json)
            }
            Target::Shared | Target::Nothing => return false,
        }
        inner.dirty = true;
        true
    }

    /// Writes `pending` records, then a STATE line with the whole state, then flushes.
    fn write_state(&self, inner: &mut Inner, pending: &mut Vec<u8>) -> io::Result<()> {
        inner.dirty = false;
        self.output.write_state(pending, &inner.state)
    }

    /// Writes a STATE line (after `pending` records) when the state changed since the last one.
    pub(crate) fn flush_state(&self, pending: &mut Vec<u8>) -> io::Result<()> {
        let mut inner = self.lock();
        if !inner.dirty {
            drop(inner);
            return self.output.write_lines(pending);
        }
        self.write_state(&mut inner, pending)
    }

    /// A top-level stream starts: it becomes `currently_syncing` (a resumed run starts with it).
    pub(crate) fn begin_stream(&self, stream: &str) -> io::Result<()> {
        let mut inner = self.lock();
        inner.state.set_currently_syncing(Some(stream));
        self.write_state(&mut inner, &mut Vec::new())
    }

    /// A top-level stream and its tree ended: shared sub-stream bookmarks advance where the tree
    /// above them was read whole, `currently_syncing` clears, and a STATE line is written.
    pub(crate) fn finish_stream(&self, stream: &str, tree: &[String]) -> io::Result<()> {
        let mut inner = self.lock();
        for child in tree {
            self.advance_shared(&mut inner, child);
        }
        if inner.state.currently_syncing() == Some(stream) {
            inner.state.set_currently_syncing(None);
        }
        self.write_state(&mut inner, &mut Vec::new())
    }

    /// Advances a shared sub-stream bookmark to the sync start when the child was read for every
    /// parent: no stream above it (through any of its parents) resumed from a bookmark and none
    /// of its syncs failed. The engine asks once every tree holding the child has finished.
    fn advance_shared(&self, inner: &mut Inner, child: &str) {
        let Some(policy) = inner.policies.get(child) else {
            return;
        };
        if policy.keeps != Keeps::Shared || !policy.datetime_key {
            return;
        }
        // Every stream above the child, through each of its parents.
        let mut ancestors = vec![child.to_owned()];
        let mut at = 0;
        while at < ancestors.len() {
            let above = inner
                .policies
                .get(&ancestors[at])
                .map(|x| x.parents.clone());
            for p in above.unwrap_or_default() {
                if !ancestors.contains(&p) {
                    ancestors.push(p);
                }
            }
            at += 1;
        }
        let whole = ancestors.iter().all(|s| {
            inner.progress.get(s).is_some_and(|p| !p.failed)
                && inner
                    .progress
                    .get(s)
                    .is_none_or(|p| !p.resumed || s == child)
        });
        if !whole {
            return;
        }
        let key = policy.key.clone();
        let value = BookmarkValue::DateTime(self.sync_started.fixed_offset());
        let newer = inner
            .state
            .replication_key_value(child)
            .and_then(BookmarkValue::from_json)
            .is_none_or(|old| old.is_before(&value));
        if newer {
            inner
                .state
                .set_bookmark(child, key.as_deref(), value.to_json());
            inner.state.clear_partitions(child);
            inner.dirty = true;
        }
    }

    /// Starts a table version for `stream`: the one kept in the state (an interrupted sync) or a
    /// new one (epoch ms), stored in the state. Returns it, and whether the stream was never
    /// synced before (its first ACTIVATE_VERSION then goes out at once).
    pub(crate) fn begin_version(&self, stream: &str) -> (i64, bool) {
        let mut inner = self.lock();
        let first_ever = inner.state.bookmark(stream).is_none();
        let version = inner
            .state
            .version(stream)
            .unwrap_or_else(|| Utc::now().timestamp_millis());
        inner.state.set_version(stream, version);
        inner.dirty = true;
        (version, first_ever)
    }

    /// Ends a table version: writes `pending` (which ends with the ACTIVATE_VERSION line), then
    /// clears the version from the state (the next STATE line carries it).
    pub(crate) fn end_version(&self, stream: &str, pending: &mut Vec<u8>) -> io::Result<()> {
        self.output.write_lines(pending)?;
        let mut inner = self.lock();
        inner.state.clear_version(stream);
        clear_resume_points(&mut inner.state, stream);
        inner.dirty = true;
        Ok(())
    }

    /// Where an interrupted FULL_TABLE sync of `stream` (of one partition) resumes: the position
    /// its last checkpoint stored, while its table version is still open in the state.
    pub(crate) fn resume_point(&self, stream: &str, partition: Option<&Value>) -> Option<Value> {
        let inner = self.lock();
        inner.state.version(stream)?;
        match partition {
            Some(context) => inner.state.partition(stream, context)?.get(RESUME_POINT),
            None => inner.state.get_bookmark_value(stream, RESUME_POINT),
        }
        .filter(|v| !v.is_null())
        .cloned()
    }

    /// Stores where a FULL_TABLE sync of `stream` (of one partition) resumes after a crash, and
    /// writes `pending` records, then a STATE line with it. The table version stays open.
    pub(crate) fn set_resume_point(
        &self,
        stream: &str,
        partition: Option<&Value>,
        position: Value,
        pending: &mut Vec<u8>,
    ) -> io::Result<()> {
        let mut inner = self.lock();
        match partition {
            Some(context) => {
                inner
                    .state
                    .set_partition_value(stream, context, RESUME_POINT, position)
            }
            None => inner
                .state
                .set_bookmark_value(stream, RESUME_POINT, position),
        }
        self.write_state(&mut inner, pending)
    }

    /// A custom key of `stream`'s bookmark (as the run started or since set).
    pub(crate) fn value(&self, stream: &str, key: &str) -> Option<Value> {
        self.lock().state.get_bookmark_value(stream, key).cloned()
    }

    /// Sets a custom key of `stream`'s bookmark and writes a STATE line after `pending`.
    pub(crate) fn set_value(
        &self,
        stream: &str,
        key: &str,
        value: Value,
        pending: &mut Vec<u8>,
    ) -> io::Result<()> {
        let mut inner = self.lock();
        inner.state.set_bookmark_value(stream, key, value);
        self.write_state(&mut inner, pending)
    }

    /// The bookmark of `stream` for the run report: its value, or per partition.
    pub(crate) fn reported_bookmark(&self, stream: &str) -> Option<Value> {
        let inner = self.lock();
        let bookmark = inner.state.bookmark(stream)?;
        if let Some(v) = &bookmark.replication_key_value {
            return Some(v.clone());
        }
        let parts: Vec<Value> = bookmark
            .partitions
            .as_ref()?
            .iter()
            .filter_map(|p| p.get("replication_key_value").cloned())
            .collect();
        (!parts.is_empty()).then(|| Value::Array(parts))
    }
}

/// The key of a FULL_TABLE sync's resume position in a stream's (or partition's) bookmark.
const RESUME_POINT: &str = "resume_point";

/// Removes the resume positions of `stream` (the whole table was read): from its bookmark and
/// its partitions, dropping partitions left with nothing but their context.
fn clear_resume_points(state: &mut State, stream: &str) {
    let Some(bookmark) = state.bookmarks.get_mut(stream) else {
        return;
    };
    bookmark.extra.remove(RESUME_POINT);
    if let Some(partitions) = &mut bookmark.partitions {
        for p in partitions.iter_mut().filter_map(Value::as_object_mut) {
            p.remove(RESUME_POINT);
        }
        partitions.retain(|p| p.as_object().is_none_or(|p| p.len() > 1));
        if partitions.is_empty() {
            bookmark.partitions = None;
        }
    }
}

/// Where the book of `partition` of a stream with `policy` goes.
fn target_of(policy: &Policy, partition: Option<&Value>) -> Target {
    match (&policy.keeps, partition) {
        (Keeps::Nothing, _) => Target::Nothing,
        (Keeps::Shared, _) => Target::Shared,
        (Keeps::PerParent(keys), Some(context)) => Target::Partition(project(context, keys)),
        (Keeps::Partitions, Some(context)) => Target::Partition(context.clone()),
        _ => Target::Stream,
    }
}

/// The context reduced to `keys` (all of it when `keys` is empty or it is not an object).
fn project(context: &Value, keys: &[String]) -> Value {
    match context {
        Value::Object(map) if !keys.is_empty() => Value::Object(
            keys.iter()
                .filter_map(|k| map.get(k).map(|v| (k.clone(), v.clone())))
                .collect::<Map<String, Value>>(),
        ),
        other => other.clone(),
    }
}

/// The stored bookmark a book starts from. A shared sub-stream bookmark reads a per-parent value
/// an older version of the tap left in the state, when there is one for this parent.
fn stored_value(
    state: &State,
    stream: &str,
    target: &Target,
    partition: Option<&Value>,
) -> Option<Value> {
    match target {
        Target::Nothing => None,
        Target::Stream => state.replication_key_value(stream).cloned(),
        Target::Partition(p) => state.partition_value(stream, p).cloned(),
        Target::Shared => partition
            .and_then(|p| state.partition_value(stream, p))
            .or_else(|| state.replication_key_value(stream))
            .cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::CaptureBuffer;
    use serde_json::json;

    fn policy(keeps: Keeps, gated: bool) -> Policy {
        Policy {
            key: Some("updated_at".into()),
            keeps,
            parents: Vec::new(),
            lookback: None,
            filter_older: false,
            gated,
            datetime_key: true,
            rollup_from: Vec::new(),
        }
    }

    fn new_ledger(state: Value, policies: Vec<(&str, Policy)>) -> (Arc<Ledger>, CaptureBuffer) {
        let sink = CaptureBuffer::new();
        let output = Output::new(Box::new(sink.clone()), None);
        let policies = policies
            .into_iter()
            .map(|(n, p)| (n.to_owned(), p))
            .collect();
        let started = "2030-01-01T00:00:00Z".parse().unwrap();
        let state = State::from_value(state).unwrap();
        (Ledger::new(state, policies, output, started, None), sink)
    }

    fn states(sink: &CaptureBuffer) -> Vec<Value> {
        sink.text()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|m| m["type"] == "STATE")
            .map(|m| m["value"].clone())
            .collect()
    }

    fn dt(s: &str) -> BookmarkValue {
        BookmarkValue::from_text(s)
    }

    #[test]
    fn a_checkpoint_writes_the_records_before_the_state_that_covers_them() {
        let (ledger, sink) = new_ledger(json!({}), vec![("s", policy(Keeps::Stream, false))]);
        let mut book = ledger.open("s", None);
        book.admit(dt("2024-01-01T00:00:00Z"));
        let mut pending = b"{\"type\":\"RECORD\"}\n".to_vec();
        ledger.checkpoint(&mut book, &mut pending).unwrap();
        let text = sink.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains("RECORD") && lines[1].contains("STATE"));
        assert!(pending.is_empty());
        ledger.checkpoint(&mut book, &mut Vec::new()).unwrap();
        assert_eq!(states(&sink).len(), 1, "nothing moved: no second STATE");
    }

    #[test]
    fn a_start_is_the_stored_bookmark_minus_the_lookback() {
        let mut p = policy(Keeps::Stream, false);
        p.lookback = Some(Duration::from_secs(3600));
        let state = json!({"bookmarks": {"s": {"replication_key_value": "2024-01-01T10:00:00Z"}}});
        let (ledger, _) = new_ledger(state, vec![("s", p)]);
        let book = ledger.open("s", None);
        assert_eq!(book.start_json(), Some(&json!("2024-01-01T09:00:00Z")));
    }

    #[test]
    fn partitions_are_noted_at_close_and_go_out_with_the_next_state() {
        let (ledger, sink) = new_ledger(json!({}), vec![("s", policy(Keeps::Partitions, false))]);
        for account in 1..=3 {
            let mut book = ledger.open("s", Some(&json!({"account": account})));
            book.admit(dt(&format!("2024-01-0{account}T00:00:00Z")));
            ledger.close(book, &mut Vec::new(), true, true).unwrap();
        }
        assert!(states(&sink).is_empty(), "no STATE per partition");
        ledger.finish_stream("s", &[]).unwrap();
        let last = states(&sink).pop().unwrap();
        assert_eq!(
            last["bookmarks"]["s"]["partitions"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
    }

    #[test]
    fn a_shared_child_advances_only_when_the_tree_was_read_whole() {
        let mut child = policy(Keeps::Shared, false);
        child.parents = vec!["p".into()];
        let (ledger, sink) = new_ledger(
            json!({}),
            vec![("p", policy(Keeps::Stream, true)), ("c", child.clone())],
        );
        for id in 1..=2 {
            let book = ledger.open("c", Some(&json!({"id": id})));
            ledger.close(book, &mut Vec::new(), true, true).unwrap();
        }
        let parent = ledger.open("p", None);
        ledger.close(parent, &mut Vec::new(), true, true).unwrap();
        ledger.finish_stream("p", &["c".into()]).unwrap();
        let last = states(&sink).pop().unwrap();
        assert_eq!(
            last["bookmarks"]["c"]["replication_key_value"],
            "2030-01-01T00:00:00Z"
        );

        // The parent resumed from a bookmark: its children were not read for every parent.
        let state = json!({"bookmarks": {"p": {"replication_key_value": "2024-01-01T00:00:00Z"}}});
        let (ledger, sink) = new_ledger(
            state,
            vec![("p", policy(Keeps::Stream, true)), ("c", child)],
        );
        let book = ledger.open("c", Some(&json!({"id": 1})));
        ledger.close(book, &mut Vec::new(), true, true).unwrap();
        let parent = ledger.open("p", None);
        ledger.close(parent, &mut Vec::new(), true, true).unwrap();
        ledger.finish_stream("p", &["c".into()]).unwrap();
        assert!(states(&sink).pop().unwrap()["bookmarks"].get("c").is_none());
    }

    #[test]
    fn per_parent_bookmarks_are_keyed_by_the_declared_context_keys() {
        let mut child = policy(Keeps::PerParent(vec!["account".into()]), false);
        child.parents = vec!["p".into()];
        let (ledger, sink) = new_ledger(json!({}), vec![("c", child)]);
        for campaign in 1..=4 {
            let ctx = json!({"account": campaign % 2, "campaign": campaign});
            let mut book = ledger.open("c", Some(&ctx));
            book.admit(dt(&format!("2024-01-0{campaign}T00:00:00Z")));
            ledger.close(book, &mut Vec::new(), true, true).unwrap();
        }
        ledger.flush_state(&mut Vec::new()).unwrap();
        let parts = states(&sink).pop().unwrap()["bookmarks"]["c"]["partitions"].clone();
        assert_eq!(parts.as_array().unwrap().len(), 2, "{parts}");
    }
}
