//! A stream's writer, the machinery behind `emit`: selection, conformance, hooks and encoding of
//! each record into the stream's buffer; its replication key handed to the ledger's book; the
//! commit cadence. What a commit writes is the ledger's business.
//!
//! Hot path: when no hook or conformance is set and the catalog deselects only top-level fields
//! (or none), a typed record is serialized once, straight into the stream's buffer (no
//! `serde_json::Value`): deselected fields are skipped and the replication key is copied while the
//! record is written (no second pass over the line).
//!
//! When the operator's config maps, flattens or batches the stream's records, they go through
//! its [`Route`] instead (see [`route`]).

mod route;

pub(crate) use route::{Route, RouteStream};

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use burler_schema::{ConformStats, Conformed, Conformer};
use burler_singer::{FieldSelection, Message, RecordEncoder, SchemaMessage, format_time_extracted};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::bookmark::{BookmarkStrategy, BookmarkValue};
use crate::error::EmitError;
use crate::ledger::{Admit, Book, Ledger};
use crate::output::{Output, STREAM_BUFFER_BYTES};

/// A record hook: receives a record after field selection, returns it (changed or not) or `None` to drop it.
pub type RecordHook = Arc<dyn Fn(Map<String, Value>) -> Option<Map<String, Value>> + Send + Sync>;

/// Counters of one stream, for logs, metrics and the run report.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct StreamStats {
    /// Records written.
    pub emitted: u64,
    /// Records older than the starting bookmark, left out by `filter_older_than_bookmark`.
    pub filtered: u64,
    /// Records dropped: by a hook, by conformance (`ViolationPolicy::DropRecord`), or emitted to
    /// an unselected stream.
    pub dropped: u64,
    /// Values changed by conformance to fit the schema (a string parsed, a date-time normalised).
    pub coerced: u64,
    /// Values that could not conform, nulled or removed (`ViolationPolicy::WarnAndNull`).
    pub nulled: u64,
}

/// Everything needed to build a [`Writer`].
pub(crate) struct WriterSetup {
    pub(crate) name: String,
    pub(crate) selected: bool,
    pub(crate) schema: Value,
    pub(crate) key_properties: Vec<String>,
    pub(crate) selection: FieldSelection,
    pub(crate) hooks: Vec<RecordHook>,
    pub(crate) conformer: Option<Conformer>,
    pub(crate) key: Option<String>,
    pub(crate) strategy: BookmarkStrategy,
    pub(crate) sorted: bool,
    pub(crate) metric_interval: Duration,
    pub(crate) ledger: Arc<Ledger>,
    pub(crate) output: Output,
    /// Stream maps, flattening or BATCH files, when the config asks for them.
    pub(crate) route: Option<Route>,
    /// Records written before the sync stops (`--test`).
    pub(crate) record_limit: Option<u64>,
    /// The stream is a sub-stream: its ancestors close its BATCH files (see
    /// [`give_back`](Writer::give_back)).
    pub(crate) sub_stream: bool,
}

/// Where the replication key of a record went.
enum Key {
    /// The record has none (or the stream keeps no bookmark).
    None,
    /// Handed to the book as bytes (the canonical date-time shortcut).
    Tracked,
    /// Read; the book has not seen it yet.
    Value(BookmarkValue),
}

/// One stream's writer: records in, whole lines out (see the module docs).
pub(crate) struct Writer {
    name: String,
    selected: bool,
    encoder: RecordEncoder,
    /// The replication key's JSON in the record being written (reused, never shrunk).
    key_json: Vec<u8>,
    selection: FieldSelection,
    fast_path: bool,
    /// Top-level fields the catalog deselected, left out while the record is written (fast path).
    skip: Vec<String>,
    hooks: Vec<RecordHook>,
    conformer: Option<Conformer>,
    key: Option<String>,
    strategy: BookmarkStrategy,
    sorted: bool,
    /// The bookmark of the sync (or partition) being written, lent by the ledger.
    book: Book,
    ledger: Arc<Ledger>,
    output: Output,
    stats: StreamStats,
    buf: Vec<u8>,
    since_commit: u64,
    last_commit: Instant,
    time_extracted: String,
    time_extracted_at: Instant,
    /// `,"version":…,"time_extracted":…}\n`, pre-encoded for `tail_version` and `time_extracted`.
    tail: Vec<u8>,
    tail_version: Option<i64>,
    schema_message: Message,
    schema_written: bool,
    version: Option<i64>,
    last_metric: Instant,
    metric_interval: Duration,
    route: Option<Route>,
    record_limit: Option<u64>,
    /// The record limit stopped the sync.
    stopped: bool,
    /// The children of the record written last are synced (a stream map may say not).
    children: bool,
    sub_stream: bool,
}

impl fmt::Debug for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer")
            .field("name", &self.name)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Writer {
    pub(crate) fn new(setup: WriterSetup) -> Self {
        let encoder = RecordEncoder::new(&setup.name);
        let (fast_path, skip) =
            fast_path_of(&setup.selection, &setup.hooks, setup.conformer.as_ref());
        let fast_path = fast_path && setup.route.is_none();
        let schema_message = Message::Schema(SchemaMessage {
            stream: setup.name.clone(),
            schema: setup.schema,
            key_properties: setup.key_properties,
            bookmark_properties: setup.key.clone().map(|k| vec![k]),
        });
        let now = Instant::now();
        let time_extracted = format_time_extracted(chrono::Utc::now());
        let tail = RecordEncoder::line_tail(None, Some(&time_extracted));
        Writer {
            book: Book::unbooked(&setup.name),
            name: setup.name,
            selected: setup.selected,
            encoder,
            key_json: Vec::with_capacity(64),
            selection: setup.selection,
            fast_path,
            skip,
            hooks: setup.hooks,
            conformer: setup.conformer,
            key: setup.key,
            strategy: setup.strategy,
            sorted: setup.sorted,
            ledger: setup.ledger,
            output: setup.output,
            stats: StreamStats::default(),
            buf: Vec::with_capacity(STREAM_BUFFER_BYTES + 4096),
            since_commit: 0,
            last_commit: now,
            time_extracted,
            time_extracted_at: now,
            tail,
            tail_version: None,
            schema_message,
            schema_written: false,
            version: None,
            last_metric: now,
            metric_interval: setup.metric_interval,
            route: setup.route,
            record_limit: setup.record_limit,
            stopped: false,
            children: true,
            sub_stream: setup.sub_stream,
        }
    }

    /// True when the record limit of `--test` stopped the sync.
    pub(crate) fn stopped_at_limit(&self) -> bool {
        self.stopped
    }

    /// True unless a stream map says the children of the record written last are not synced.
    pub(crate) fn syncs_children_of_last(&self) -> bool {
        self.children
    }

    /// True when the stream is selected (records of an unselected stream are counted, not written).
    pub(crate) fn is_selected(&self) -> bool {
        self.selected
    }

    /// The counters so far.
    pub(crate) fn stats(&self) -> &StreamStats {
        &self.stats
    }

    /// Leaves the top-level `fields` out of every record (fields the catalog's schema lacks).
    pub(crate) fn leave_out(&mut self, fields: &[String]) {
        for field in fields {
            self.selection.deselect(field);
        }
        (self.fast_path, self.skip) =
            fast_path_of(&self.selection, &self.hooks, self.conformer.as_ref());
        self.fast_path &= self.route.is_none();
    }

    /// The book of the sync being written.
    pub(crate) fn book(&self) -> &Book {
        &self.book
    }

    /// The book of the sync being written, to settle a parent's children in.
    pub(crate) fn book_mut(&mut self) -> &mut Book {
        &mut self.book
    }

    /// Starts writing the sync (or partition) of `book`.
    pub(crate) fn lend(&mut self, book: Book) {
        self.book = book;
        self.since_commit = 0;
        self.last_commit = Instant::now();
    }

    /// Ends the sync of the lent book: pending records are written and the book goes back to the
    /// ledger with its final value (`ok`) or without it; `whole` says whether its tree of
    /// children is complete too.
    ///
    /// A sub-stream's BATCH files stay open across its syncs (one per parent record) unless its
    /// book's value goes into the state now: a sub-stream's records are covered by its parent's
    /// bookmark, and the parent seals them ([`seal_pending`](Self::seal_pending)) before it
    /// commits.
    pub(crate) fn give_back(&mut self, ok: bool, whole: bool) -> std::io::Result<()> {
        if !self.sub_stream || self.book.noted_at_close() {
            self.seal()?;
        }
        let book = std::mem::replace(&mut self.book, Book::unbooked(&self.name));
        self.ledger.close(book, &mut self.buf, ok, whole)
    }

    /// Another writer of the same stream, for a sync that runs beside this one (parallel
    /// partitions, concurrent child syncs): same plan, SCHEMA state and table version, its own
    /// book, buffer and counters.
    pub(crate) fn fork(&self) -> Writer {
        let now = Instant::now();
        Writer {
            name: self.name.clone(),
            selected: self.selected,
            encoder: RecordEncoder::new(&self.name),
            key_json: Vec::with_capacity(64),
            selection: self.selection.clone(),
            fast_path: self.fast_path,
            skip: self.skip.clone(),
            hooks: self.hooks.clone(),
            conformer: self.conformer.clone(),
            key: self.key.clone(),
            strategy: self.strategy,
            sorted: self.sorted,
            book: Book::unbooked(&self.name),
            ledger: self.ledger.clone(),
            output: self.output.clone(),
            stats: StreamStats::default(),
            buf: Vec::with_capacity(STREAM_BUFFER_BYTES + 4096),
            since_commit: 0,
            last_commit: now,
            time_extracted: self.time_extracted.clone(),
            time_extracted_at: self.time_extracted_at,
            tail: self.tail.clone(),
            tail_version: self.tail_version,
            schema_message: self.schema_message.clone(),
            schema_written: self.schema_written,
            version: self.version,
            last_metric: now,
            metric_interval: self.metric_interval,
            route: self.route.as_ref().map(Route::fork),
            record_limit: self.record_limit,
            stopped: false,
            children: true,
            sub_stream: self.sub_stream,
        }
    }

    /// Takes over the counters of a fork whose sync ended (the stream's totals live here).
    pub(crate) fn absorb(&mut self, fork: &mut Writer) {
        let s = std::mem::take(&mut fork.stats);
        self.stats.emitted += s.emitted;
        self.stats.filtered += s.filtered;
        self.stats.dropped += s.dropped;
        self.stats.coerced += s.coerced;
        self.stats.nulled += s.nulled;
    }

    /// Writes the stream's SCHEMA message once, before its first record.
    pub(crate) fn ensure_schema(&mut self) -> std::io::Result<()> {
        if self.schema_written || !self.selected {
            return Ok(());
        }
        match &self.route {
            Some(route) => {
                for message in route.schema_messages() {
                    self.output.write_message(&mut self.buf, message)?;
                }
            }
            None => self
                .output
                .write_message(&mut self.buf, &self.schema_message)?,
        }
        self.schema_written = true;
        Ok(())
    }

    /// Closes the open BATCH files and writes pending lines with their BATCH messages: before an
    /// ancestor's STATE covers the records in them.
    pub(crate) fn seal_pending(&mut self) -> std::io::Result<()> {
        self.seal()?;
        self.flush()
    }

    /// Closes the open BATCH files and writes their BATCH messages: before anything that may
    /// write a STATE.
    fn seal(&mut self) -> std::io::Result<()> {
        match &mut self.route {
            Some(route) => route
                .seal(&mut self.buf)
                .map_err(|e| std::io::Error::other(e.to_string())),
            None => Ok(()),
        }
    }

    /// Emits one record: selection, conformance, hooks, encoding, bookmark, cadence.
    pub(crate) fn emit<T: Serialize + ?Sized>(
        &mut self,
        record: &T,
        bookmark: Option<Value>,
    ) -> Result<(), EmitError> {
        self.write(record, bookmark, false).map(|_| ())
    }

    /// [`emit`](Self::emit), returning the record's replication key when it was read (a parent
    /// hands it to the record's children, so it can hold its bookmark below a parent whose
    /// children fail).
    pub(crate) fn emit_keyed<T: Serialize + ?Sized>(
        &mut self,
        record: &T,
        bookmark: Option<Value>,
    ) -> Result<Option<BookmarkValue>, EmitError> {
        self.write(record, bookmark, true)
    }

    /// The one body of `emit` and `emit_keyed`; inlined so the plain emit carries no key.
    #[inline(always)]
    fn write<T: Serialize + ?Sized>(
        &mut self,
        record: &T,
        bookmark: Option<Value>,
        want_key: bool,
    ) -> Result<Option<BookmarkValue>, EmitError> {
        if !self.selected {
            self.stats.dropped += 1;
            return Ok(None);
        }
        if self.record_limit.is_some_and(|n| self.stats.emitted >= n) {
            self.stopped = true;
            return Err(EmitError::LimitReached(self.name.clone()));
        }
        self.ensure_schema()?;
        if self.route.is_some() {
            return self.write_routed(record, bookmark, want_key);
        }
        let start = self.buf.len();
        let key = if self.fast_path {
            self.encode_fast(record, bookmark)?
        } else {
            match self.encode_slow(record, bookmark)? {
                Some(key) => key,
                None => return Ok(None),
            }
        };
        let kept = match key {
            Key::Value(value) => {
                let kept = want_key.then(|| value.clone());
                if self.book.admit(value) == Admit::Older {
                    self.buf.truncate(start);
                    self.stats.filtered += 1;
                    return Ok(None);
                }
                kept
            }
            Key::Tracked | Key::None => None,
        };
        self.stats.emitted += 1;
        self.since_commit += 1;
        self.after_record()?;
        Ok(kept)
    }

    /// The routed path (see [`route`]): the record as a `Map`, admitted by the book, then written
    /// to every output of the route.
    fn write_routed<T: Serialize + ?Sized>(
        &mut self,
        record: &T,
        bookmark: Option<Value>,
        want_key: bool,
    ) -> Result<Option<BookmarkValue>, EmitError> {
        self.children = true;
        let Some(map) = self.prepare_slow(record)? else {
            return Ok(None);
        };
        let key = bookmark.or_else(|| self.key.as_ref().and_then(|k| map.get(k).cloned()));
        let kept = match key_of(key.as_ref()) {
            Key::Value(value) => {
                let kept = want_key.then(|| value.clone());
                if self.book.admit(value) == Admit::Older {
                    self.stats.filtered += 1;
                    return Ok(None);
                }
                kept
            }
            Key::Tracked | Key::None => None,
        };
        self.refresh_tail();
        let Some(route) = self.route.as_mut() else {
            return Ok(None);
        };
        self.children = route.syncs_children_of(&map)?;
        route.write(map, &mut self.buf, &self.tail)?;
        self.stats.emitted += 1;
        self.since_commit += 1;
        self.after_record()?;
        Ok(kept)
    }

    /// The fast path: the record is serialized once, straight into the buffer; the replication key
    /// (unless the stream's bookmark function gave one) is copied while it is written.
    fn encode_fast<T: Serialize + ?Sized>(
        &mut self,
        record: &T,
        bookmark: Option<Value>,
    ) -> Result<Key, EmitError> {
        self.refresh_tail();
        let key = match (&bookmark, &self.key) {
            (None, Some(key)) => Some(key.as_str()),
            _ => None,
        };
        let found = self
            .encoder
            .encode_selected_with_tail(
                &mut self.buf,
                record,
                &self.tail,
                &self.skip,
                key,
                &mut self.key_json,
            )
            .map_err(|source| serialize_error(&self.name, source))?;
        if key.is_none() {
            return Ok(key_of(bookmark.as_ref()));
        }
        if !found {
            return Ok(Key::None);
        }
        // A canonical UTC date-time is tracked as bytes (parsed once per commit), unless the book
        // must see each key.
        if !self.book.wants_each_key() && self.book.admit_canonical_json(&self.key_json) {
            return Ok(Key::Tracked);
        }
        Ok(BookmarkValue::from_json_bytes(&self.key_json).map_or(Key::None, Key::Value))
    }

    /// The slow path: a `Map` to prune, conform and pass through hooks, then encoded. `None`: the
    /// record was dropped.
    fn encode_slow<T: Serialize + ?Sized>(
        &mut self,
        record: &T,
        bookmark: Option<Value>,
    ) -> Result<Option<Key>, EmitError> {
        let Some(map) = self.prepare_slow(record)? else {
            return Ok(None);
        };
        let key = bookmark.or_else(|| self.key.as_ref().and_then(|k| map.get(k).cloned()));
        self.refresh_tail();
        self.encoder
            .encode_with_tail(&mut self.buf, &map, &self.tail)
            .map_err(|source| serialize_error(&self.name, source))?;
        Ok(Some(key_of(key.as_ref())))
    }

    /// A `Map` pruned, conformed and passed through hooks. `None`: dropped.
    fn prepare_slow<T: Serialize + ?Sized>(
        &mut self,
        record: &T,
    ) -> Result<Option<Map<String, Value>>, EmitError> {
        let value =
            serde_json::to_value(record).map_err(|source| serialize_error(&self.name, source))?;
        let Value::Object(mut map) = value else {
            return Err(EmitError::Conform {
                stream: self.name.clone(),
                message: "a record must serialize to a JSON object".into(),
            });
        };
        self.selection.prune_record(&mut map);
        let Some(mut map) = self.conform(map)? else {
            self.stats.dropped += 1;
            return Ok(None);
        };
        for hook in &self.hooks {
            match hook(map) {
                Some(m) => map = m,
                None => {
                    self.stats.dropped += 1;
                    return Ok(None);
                }
            }
        }
        Ok(Some(map))
    }

    /// Conforms a record to the schema, when the stream asks for it. `None`: the policy dropped it.
    fn conform(
        &mut self,
        map: Map<String, Value>,
    ) -> Result<Option<Map<String, Value>>, EmitError> {
        let Some(conformer) = &self.conformer else {
            return Ok(Some(map));
        };
        let mut record = Value::Object(map);
        let mut delta = ConformStats::default();
        let outcome = conformer.conform(&mut record, &mut delta);
        self.stats.coerced += delta.coerced;
        let dropped_record = u64::from(matches!(outcome, Ok(Conformed::Dropped)));
        // ConformStats counts removed values and dropped records together; the report keeps
        // records in `dropped` and values in `nulled`.
        self.stats.nulled += delta.nulled + delta.dropped.saturating_sub(dropped_record);
        match outcome {
            Err(e) => Err(EmitError::Conform {
                stream: self.name.clone(),
                message: e.to_string(),
            }),
            Ok(Conformed::Dropped) => Ok(None),
            Ok(Conformed::Kept) => match record {
                Value::Object(map) => Ok(Some(map)),
                _ => Ok(None),
            },
        }
    }

    /// Hands full buffers to the output and checkpoints when the cadence says so. A parent's
    /// checkpoints wait for its children (see [`commit_if_due`](Self::commit_if_due)).
    fn after_record(&mut self) -> Result<(), EmitError> {
        if self.buf.len() >= STREAM_BUFFER_BYTES {
            self.output.write_lines(&mut self.buf)?;
            self.refresh_clock();
        }
        if !self.sorted && self.key.is_some() && self.cadence_due() {
            self.note_progress()?;
        }
        if !self.book.is_gated() {
            self.commit_if_due()?;
        }
        Ok(())
    }

    /// Checkpoints when the stream is sorted and its cadence says a commit is due.
    pub(crate) fn commit_if_due(&mut self) -> std::io::Result<()> {
        if self.commit_due() {
            self.checkpoint()?;
        }
        Ok(())
    }

    /// Re-encodes the line tail when the version changed (a FULL_TABLE sync began or ended).
    fn refresh_tail(&mut self) {
        if self.tail_version != self.version {
            self.tail = RecordEncoder::line_tail(self.version, Some(&self.time_extracted));
            self.tail_version = self.version;
        }
    }

    fn refresh_clock(&mut self) {
        let now = Instant::now();
        if now.duration_since(self.time_extracted_at) >= Duration::from_millis(500) {
            self.time_extracted = format_time_extracted(chrono::Utc::now());
            self.time_extracted_at = now;
            self.tail = RecordEncoder::line_tail(self.version, Some(&self.time_extracted));
            self.tail_version = self.version;
        }
        if now.duration_since(self.last_metric) >= self.metric_interval {
            self.log_record_count();
            self.last_metric = now;
        }
    }

    /// True when the stream is sorted and its cadence says a commit is due: for a parent, the
    /// moment to run the children of the records written so far, so the commit can follow.
    pub(crate) fn commit_due(&self) -> bool {
        self.sorted && self.cadence_due()
    }

    fn cadence_due(&self) -> bool {
        if let Some(route) = self.route.as_ref().filter(|r| r.batches()) {
            // A STATE after every BATCH message, as singer-sdk: files stay whole.
            return route.filled_a_file();
        }
        match self.strategy {
            BookmarkStrategy::EndOfSync => false,
            BookmarkStrategy::Records(n) => self.since_commit >= n.max(1),
            BookmarkStrategy::Interval(interval) => {
                self.since_commit > 0 && self.last_commit.elapsed() >= interval
            }
        }
    }

    /// An unsorted stream's cadence: pending records, then a STATE with its progress markers.
    fn note_progress(&mut self) -> std::io::Result<()> {
        self.seal()?;
        self.since_commit = 0;
        self.last_commit = Instant::now();
        self.ledger.note_progress(&mut self.book, &mut self.buf)
    }

    /// Writes pending records, then (when the bookmark moved) a STATE with it.
    pub(crate) fn checkpoint(&mut self) -> std::io::Result<()> {
        self.seal()?;
        self.since_commit = 0;
        self.last_commit = Instant::now();
        self.ledger.checkpoint(&mut self.book, &mut self.buf)
    }

    /// Writes pending records and a STATE line when the state changed.
    pub(crate) fn flush_state(&mut self) -> std::io::Result<()> {
        self.seal()?;
        self.ledger.flush_state(&mut self.buf)
    }

    /// Moves the bookmark to `value` (never backwards) and checkpoints.
    pub(crate) fn set_bookmark(&mut self, value: &Value) -> std::io::Result<()> {
        if let Some(bv) = BookmarkValue::from_json(value) {
            self.book.set_explicit(bv);
        }
        self.checkpoint()
    }

    /// Stores where this FULL_TABLE sync resumes after a crash (`position`), after the pending
    /// records and BATCH files: `false` when no table version is open (nothing to resume).
    pub(crate) fn set_resume_point(
        &mut self,
        partition: Option<&Value>,
        position: Value,
    ) -> std::io::Result<bool> {
        if self.version.is_none() {
            return Ok(false);
        }
        self.seal()?;
        self.since_commit = 0;
        self.last_commit = Instant::now();
        self.ledger
            .set_resume_point(&self.name, partition, position, &mut self.buf)?;
        Ok(true)
    }

    /// Where an interrupted FULL_TABLE sync resumes (see [`Ledger::resume_point`]).
    pub(crate) fn resume_point(&self, partition: Option<&Value>) -> Option<Value> {
        self.ledger.resume_point(&self.name, partition)
    }

    /// A custom key of the stream's bookmark in the state.
    pub(crate) fn ledger_value(&self, key: &str) -> Option<Value> {
        self.ledger.value(&self.name, key)
    }

    /// Sets a custom key of the stream's bookmark; a STATE follows the pending records.
    pub(crate) fn set_state_value(&mut self, key: &str, value: Value) -> std::io::Result<()> {
        self.seal()?;
        self.ledger.set_value(&self.name, key, value, &mut self.buf)
    }

    /// Writes pending records without a STATE.
    pub(crate) fn flush(&mut self) -> std::io::Result<()> {
        self.output.write_lines(&mut self.buf)
    }

    /// Starts a table version: the one kept in the state (an interrupted sync) or a new one; on
    /// the stream's first-ever sync ACTIVATE_VERSION goes out at once, so the table is visible
    /// early. Records carry the version until [`finish_version`](Self::finish_version).
    pub(crate) fn begin_version(&mut self) -> std::io::Result<i64> {
        let (version, first_ever) = self.ledger.begin_version(&self.name);
        self.version = Some(version);
        // A test run (`--test`) activates nothing: its one record is not the table.
        if first_ever && self.selected && self.record_limit.is_none() {
            self.ensure_schema()?;
            self.write_activate_version(version);
        }
        self.flush_state()?;
        Ok(version)
    }

    /// Ends the table version: pending records (and BATCH files) and ACTIVATE_VERSION are
    /// written, and the version leaves the state (the next STATE line says so).
    pub(crate) fn finish_version(&mut self) -> std::io::Result<()> {
        let Some(version) = self.version.take() else {
            return Ok(());
        };
        self.seal()?;
        if self.record_limit.is_some() {
            // A test run (`--test`) activates nothing: its records are not the table.
            return self.flush();
        }
        if self.selected {
            self.ensure_schema()?;
            self.write_activate_version(version);
        }
        self.ledger.end_version(&self.name, &mut self.buf)
    }

    /// ACTIVATE_VERSION for the stream, or for every output stream of its route.
    fn write_activate_version(&mut self, version: i64) {
        let names: Vec<String> = match &self.route {
            Some(route) => route.output_names().map(str::to_owned).collect(),
            None => vec![self.name.clone()],
        };
        for name in names {
            // A Message always serializes into a Vec.
            let _ = activate_version(&name, version).write_to(&mut self.buf);
        }
    }

    /// Stops writing the table version without activating it (the sync did not complete): the
    /// version stays in the state, so the next run resumes it.
    pub(crate) fn abandon_version(&mut self) {
        self.version = None;
    }

    /// Logs the singer-python `record_count` counter for this stream.
    pub(crate) fn log_record_count(&self) {
        let mut tags = Map::new();
        tags.insert("endpoint".into(), Value::from(self.name.clone()));
        burler_singer::metrics::Metric::counter("record_count", self.stats.emitted, tags).emit();
    }
}

/// A key given as JSON (by a bookmark function, or read from a `Map`).
fn key_of(value: Option<&Value>) -> Key {
    value
        .and_then(BookmarkValue::from_json)
        .map_or(Key::None, Key::Value)
}

/// Whether records can take the fast path, and the top-level fields it skips: deselected
/// top-level fields are skipped while writing; nested ones, hooks and conformance need a `Value`.
fn fast_path_of(
    selection: &FieldSelection,
    hooks: &[RecordHook],
    conformer: Option<&Conformer>,
) -> (bool, Vec<String>) {
    match selection.top_level_deselected() {
        Some(skip) => (hooks.is_empty() && conformer.is_none(), skip),
        None => (false, Vec::new()),
    }
}

fn serialize_error(stream: &str, source: serde_json::Error) -> EmitError {
    EmitError::Serialize {
        stream: stream.to_owned(),
        source,
    }
}

fn activate_version(stream: &str, version: i64) -> Message {
    Message::ActivateVersion(burler_singer::ActivateVersionMessage {
        stream: stream.to_owned(),
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::CaptureBuffer;
    use serde_json::json;

    fn writer(key: Option<&str>, sink: CaptureBuffer) -> Writer {
        let output = Output::new(Box::new(sink), None);
        let policy = crate::ledger::Policy {
            key: key.map(str::to_owned),
            keeps: crate::ledger::Keeps::Stream,
            parents: Vec::new(),
            lookback: None,
            filter_older: false,
            gated: false,
            datetime_key: false,
            rollup_from: Vec::new(),
        };
        let name = "my \"stream\"";
        let ledger = Ledger::new(
            burler_singer::State::default(),
            [(name.to_owned(), policy)].into(),
            output.clone(),
            chrono::Utc::now(),
            None,
        );
        let mut w = Writer::new(WriterSetup {
            name: name.into(),
            selected: true,
            schema: json!({"type": "object"}),
            key_properties: vec!["id".into()],
            selection: FieldSelection::default(),
            hooks: Vec::new(),
            conformer: None,
            key: key.map(str::to_owned),
            strategy: BookmarkStrategy::EndOfSync,
            sorted: true,
            metric_interval: Duration::from_secs(60),
            ledger: ledger.clone(),
            output,
            route: None,
            record_limit: None,
            sub_stream: false,
        });
        w.lend(ledger.open(name, None));
        w
    }

    #[test]
    fn the_fast_path_reads_the_top_level_replication_key_only() {
        let sink = CaptureBuffer::new();
        let mut w = writer(Some("updated_at"), sink.clone());
        let record = json!({"a": {"updated_at": "2030-01-01T00:00:00Z"}, "updated_at": "2024-01-01T00:00:00Z"});
        w.emit(&record, None).unwrap();
        w.emit(&json!({"id": 2}), None).unwrap();
        assert_eq!(
            w.book_mut().mark(),
            Some(BookmarkValue::from_text("2024-01-01T00:00:00Z"))
        );
        w.flush().unwrap();
        let text = sink.text();
        assert!(
            text.contains(r#"{"type":"RECORD","stream":"my \"stream\"","record":{"a":"#),
            "{text}"
        );
        assert_eq!(text.lines().count(), 3, "SCHEMA and two RECORDs: {text}");
    }

    #[test]
    fn a_bookmark_function_wins_over_the_record_field() {
        let mut w = writer(Some("id"), CaptureBuffer::new());
        w.emit(&json!({"id": 7}), Some(Value::from(3))).unwrap();
        assert_eq!(w.book_mut().mark(), Some(BookmarkValue::Integer(3)));
        let mut no_key = writer(None, CaptureBuffer::new());
        no_key.emit(&json!({"id": 7}), None).unwrap();
        assert_eq!(no_key.book_mut().mark(), None);
        assert_eq!(no_key.stats().emitted, 1);
    }
}
