//! The per-stream machinery behind `emit`: selection, hooks, encoding, bookmarks and STATE commits.
//!
//! Hot path: when no hook or conformance is set and the catalog deselects only top-level fields
//! (or none), a typed record is serialized once, straight into the stream's buffer (no
//! `serde_json::Value`): deselected fields are skipped and the replication key is copied while the
//! record is written (no second pass over the line).

use std::fmt;
use std::time::{Duration, Instant};

use burler_schema::{ConformStats, Conformed, Conformer};
use burler_singer::{
    FieldSelection, Message, RecordEncoder, ReplicationMethod, SchemaMessage, format_time_extracted,
};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::bookmark::{BookmarkStrategy, BookmarkTracker, BookmarkValue};
use crate::error::EmitError;
use crate::output::{Output, STREAM_BUFFER_BYTES};
use crate::stream::RecordHook;

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

/// Everything needed to build a [`StreamRuntime`].
pub(crate) struct RuntimeSetup {
    pub(crate) name: String,
    pub(crate) selected: bool,
    pub(crate) schema: Value,
    pub(crate) key_properties: Vec<String>,
    pub(crate) selection: FieldSelection,
    pub(crate) hooks: Vec<RecordHook>,
    pub(crate) conformer: Option<Conformer>,
    pub(crate) method: ReplicationMethod,
    pub(crate) key: Option<String>,
    pub(crate) tracker: BookmarkTracker,
    pub(crate) strategy: BookmarkStrategy,
    pub(crate) sorted: bool,
    pub(crate) filter_older: bool,
    pub(crate) output: Output,
}

/// The state of one stream while the tap runs.
pub(crate) struct StreamRuntime {
    pub(crate) name: String,
    pub(crate) selected: bool,
    encoder: RecordEncoder,
    /// The replication key's JSON in the record being written (reused, never shrunk).
    key_json: Vec<u8>,
    selection: FieldSelection,
    fast_path: bool,
    /// Top-level fields the catalog deselected, left out while the record is written (fast path).
    skip: Vec<String>,
    hooks: Vec<RecordHook>,
    conformer: Option<Conformer>,
    pub(crate) method: ReplicationMethod,
    pub(crate) key: Option<String>,
    pub(crate) tracker: BookmarkTracker,
    strategy: BookmarkStrategy,
    sorted: bool,
    filter_older: bool,
    pub(crate) stats: StreamStats,
    buf: Vec<u8>,
    since_commit: u64,
    last_commit: Instant,
    time_extracted: String,
    time_extracted_at: Instant,
    /// `,"version":…,"time_extracted":…}\n`, pre-encoded for `tail_version` and `time_extracted`.
    tail: Vec<u8>,
    tail_version: Option<i64>,
    pub(crate) output: Output,
    schema_message: Message,
    schema_written: bool,
    pub(crate) version: Option<i64>,
    /// The partition (child context) being synced, whose bookmark commits go to `partitions`.
    pub(crate) partition: Option<Value>,
    last_metric: Instant,
    metric_interval: Duration,
}

impl fmt::Debug for StreamRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamRuntime")
            .field("name", &self.name)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl StreamRuntime {
    pub(crate) fn new(setup: RuntimeSetup) -> Self {
        let encoder = RecordEncoder::new(&setup.name);
        let (fast_path, skip) =
            fast_path_of(&setup.selection, &setup.hooks, setup.conformer.as_ref());
        let schema_message = Message::Schema(SchemaMessage {
            stream: setup.name.clone(),
            schema: setup.schema,
            key_properties: setup.key_properties,
            bookmark_properties: setup.key.clone().map(|k| vec![k]),
        });
        let now = Instant::now();
        let time_extracted = format_time_extracted(chrono::Utc::now());
        let tail = RecordEncoder::line_tail(None, Some(&time_extracted));
        StreamRuntime {
            name: setup.name,
            selected: setup.selected,
            encoder,
            key_json: Vec::with_capacity(64),
            selection: setup.selection,
            fast_path,
            skip,
            hooks: setup.hooks,
            conformer: setup.conformer,
            method: setup.method,
            key: setup.key,
            tracker: setup.tracker,
            strategy: setup.strategy,
            sorted: setup.sorted,
            filter_older: setup.filter_older,
            stats: StreamStats::default(),
            buf: Vec::with_capacity(STREAM_BUFFER_BYTES + 4096),
            since_commit: 0,
            last_commit: now,
            time_extracted,
            time_extracted_at: now,
            tail,
            tail_version: None,
            output: setup.output,
            schema_message,
            schema_written: false,
            version: None,
            partition: None,
            last_metric: now,
            metric_interval: Duration::from_secs(60),
        }
    }

    /// Leaves the top-level `fields` out of every record (fields the catalog's schema lacks).
    pub(crate) fn leave_out(&mut self, fields: &[String]) {
        for field in fields {
            self.selection.deselect(field);
        }
        (self.fast_path, self.skip) =
            fast_path_of(&self.selection, &self.hooks, self.conformer.as_ref());
    }

    /// Sets how often `record_count` metric lines are logged while the stream runs.
    pub(crate) fn set_metric_interval(&mut self, interval: Duration) {
        self.metric_interval = interval;
    }

    /// Writes the stream's SCHEMA message once, before its first record.
    pub(crate) fn ensure_schema(&mut self) -> std::io::Result<()> {
        if !self.schema_written && self.selected {
            self.output
                .write_message(&mut self.buf, &self.schema_message)?;
            self.schema_written = true;
        }
        Ok(())
    }

    /// Writes any other message (ACTIVATE_VERSION) after the stream's pending records.
    pub(crate) fn write_message(&mut self, message: &Message) -> std::io::Result<()> {
        self.output.write_message(&mut self.buf, message)
    }

    /// Emits one record: selection, conformance, hooks, encoding, bookmark tracking, STATE commits.
    pub(crate) fn emit<T: Serialize + ?Sized>(
        &mut self,
        record: &T,
        bookmark: Option<Value>,
    ) -> Result<(), EmitError> {
        if !self.selected {
            self.stats.dropped += 1;
            return Ok(());
        }
        self.ensure_schema()?;
        let start = self.buf.len();
        let value = if self.fast_path {
            self.encode_fast(record, bookmark)?
        } else {
            let Some(map) = self.prepare_slow(record)? else {
                return Ok(());
            };
            let value = bookmark.or_else(|| self.key.as_ref().and_then(|k| map.get(k).cloned()));
            self.refresh_tail();
            self.encoder
                .encode_with_tail(&mut self.buf, &map, &self.tail)
                .map_err(|source| self.serialize_error(source))?;
            value.as_ref().and_then(BookmarkValue::from_json)
        };
        if let Some(bv) = value {
            if self.filter_older && self.tracker.is_older_than_start(&bv) {
                self.buf.truncate(start);
                self.stats.filtered += 1;
                return Ok(());
            }
            self.tracker.observe(bv);
        }
        self.stats.emitted += 1;
        self.since_commit += 1;
        self.after_record()
    }

    /// The fast path: the record is serialized once, straight into the buffer; the replication key
    /// (unless the stream's bookmark function gave one) is copied while it is written.
    fn encode_fast<T: Serialize + ?Sized>(
        &mut self,
        record: &T,
        bookmark: Option<Value>,
    ) -> Result<Option<BookmarkValue>, EmitError> {
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
            return Ok(bookmark.as_ref().and_then(BookmarkValue::from_json));
        }
        if !found {
            return Ok(None);
        }
        // A canonical UTC date-time is tracked as bytes (parsed once per commit), unless each
        // record must be compared with the start bookmark.
        if !self.filter_older && self.tracker.observe_canonical_json(&self.key_json) {
            return Ok(None);
        }
        Ok(BookmarkValue::from_json_bytes(&self.key_json))
    }

    /// The slow path: a `Map` to prune, conform and pass through hooks. `None`: dropped.
    fn prepare_slow<T: Serialize + ?Sized>(
        &mut self,
        record: &T,
    ) -> Result<Option<Map<String, Value>>, EmitError> {
        let value = serde_json::to_value(record).map_err(|source| self.serialize_error(source))?;
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

    fn serialize_error(&self, source: serde_json::Error) -> EmitError {
        serialize_error(&self.name, source)
    }

    /// Hands full buffers to the output and commits the bookmark when the strategy says so.
    fn after_record(&mut self) -> Result<(), EmitError> {
        if self.buf.len() >= STREAM_BUFFER_BYTES {
            self.output.write_lines(&mut self.buf)?;
            self.refresh_clock();
        }
        if self.sorted && self.commit_due() {
            self.commit_bookmark()?;
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

    fn commit_due(&self) -> bool {
        match self.strategy {
            BookmarkStrategy::EndOfSync => false,
            BookmarkStrategy::EveryN(n) => self.since_commit >= n,
            BookmarkStrategy::Every(interval) => {
                self.since_commit > 0 && self.last_commit.elapsed() >= interval
            }
        }
    }

    /// Writes pending records, then a STATE with the bookmark if it moved.
    pub(crate) fn commit_bookmark(&mut self) -> std::io::Result<()> {
        self.since_commit = 0;
        self.last_commit = Instant::now();
        let Some(next) = self.tracker.next_commit() else {
            return self.output.write_lines(&mut self.buf);
        };
        let (name, key) = (self.name.clone(), self.key.clone());
        let json = next.to_json();
        let partition = self.partition.clone();
        self.output
            .commit_state(&mut self.buf, |state| match partition {
                Some(context) => {
                    if let Some(key) = key {
                        state.set_partition_value(
                            &name,
                            &context,
                            "replication_key",
                            Value::from(key),
                        );
                    }
                    state.set_partition_value(&name, &context, "replication_key_value", json);
                }
                None => {
                    let bookmark = state.bookmark_mut(&name);
                    if let Some(key) = key {
                        bookmark.replication_key = Some(key);
                    }
                    bookmark.replication_key_value = Some(json);
                }
            })?;
        self.tracker.mark_committed(next);
        Ok(())
    }

    /// Starts syncing one partition: its bookmark is tracked (and committed) on its own.
    pub(crate) fn begin_partition(&mut self, partition: Option<Value>, tracker: BookmarkTracker) {
        self.partition = partition;
        self.tracker = tracker;
        self.since_commit = 0;
    }

    /// Sets whether records older than the starting bookmark are left out.
    pub(crate) fn set_filter_older(&mut self, on: bool) {
        self.filter_older = on;
    }

    /// Whether records older than the starting bookmark are left out.
    pub(crate) fn filter_older(&self) -> bool {
        self.filter_older
    }

    /// Writes pending records and a STATE after applying `update` to the run state.
    pub(crate) fn commit_with(
        &mut self,
        update: impl FnOnce(&mut burler_singer::State),
    ) -> std::io::Result<()> {
        self.output.commit_state(&mut self.buf, update)
    }

    /// Writes pending records without a STATE.
    pub(crate) fn flush(&mut self) -> std::io::Result<()> {
        self.output.write_lines(&mut self.buf)
    }

    /// Starts a FULL_TABLE sync: resumes the version kept in the state (an interrupted sync) or picks
    /// a new one (epoch ms), stores it in the state, and on the first-ever sync of the stream emits
    /// ACTIVATE_VERSION at once so the table is visible early.
    pub(crate) fn begin_full_table(&mut self) -> std::io::Result<i64> {
        let name = self.name.clone();
        let (kept, first_ever) = self
            .output
            .with_state(|s| (s.version(&name), s.bookmark(&name).is_none()));
        let version = kept.unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
        self.version = Some(version);
        if first_ever && self.selected {
            self.ensure_schema()?;
            self.write_message(&activate_version(&name, version))?;
        }
        self.commit_with(|s| s.set_version(&name, version))?;
        Ok(version)
    }

    /// Ends a FULL_TABLE sync: writes pending records, ACTIVATE_VERSION, and a STATE without the version.
    pub(crate) fn finish_full_table(&mut self) -> std::io::Result<()> {
        let Some(version) = self.version.take() else {
            return Ok(());
        };
        let name = self.name.clone();
        if self.selected {
            self.ensure_schema()?;
            self.write_message(&activate_version(&name, version))?;
        }
        self.commit_with(|s| s.clear_version(&name))
    }

    /// Logs the singer-python `record_count` counter for this stream.
    pub(crate) fn log_record_count(&self) {
        let mut tags = Map::new();
        tags.insert("endpoint".into(), Value::from(self.name.clone()));
        burler_singer::metrics::Metric::counter("record_count", self.stats.emitted, tags).emit();
    }
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

    fn runtime(key: Option<&str>, sink: CaptureBuffer) -> StreamRuntime {
        StreamRuntime::new(RuntimeSetup {
            name: "my \"stream\"".into(),
            selected: true,
            schema: json!({"type": "object"}),
            key_properties: vec!["id".into()],
            selection: FieldSelection::default(),
            hooks: Vec::new(),
            conformer: None,
            method: ReplicationMethod::Incremental,
            key: key.map(str::to_owned),
            tracker: BookmarkTracker::new(None, chrono::Utc::now()),
            strategy: BookmarkStrategy::EndOfSync,
            sorted: true,
            filter_older: false,
            output: Output::new(Box::new(sink), burler_singer::State::default(), None),
        })
    }

    #[test]
    fn the_fast_path_reads_the_top_level_replication_key_only() {
        let sink = CaptureBuffer::new();
        let mut rt = runtime(Some("updated_at"), sink.clone());
        let record = json!({"a": {"updated_at": "2030-01-01T00:00:00Z"}, "updated_at": "2024-01-01T00:00:00Z"});
        rt.emit(&record, None).unwrap();
        rt.emit(&json!({"id": 2}), None).unwrap();
        rt.tracker.settle();
        assert_eq!(
            rt.tracker.max_seen,
            Some(BookmarkValue::from_text("2024-01-01T00:00:00Z"))
        );
        rt.flush().unwrap();
        let text = sink.text();
        assert!(
            text.contains(r#"{"type":"RECORD","stream":"my \"stream\"","record":{"a":"#),
            "{text}"
        );
        assert_eq!(text.lines().count(), 3, "SCHEMA and two RECORDs: {text}");
    }

    #[test]
    fn a_bookmark_function_wins_over_the_record_field() {
        let mut rt = runtime(Some("id"), CaptureBuffer::new());
        rt.emit(&json!({"id": 7}), Some(Value::from(3))).unwrap();
        assert_eq!(rt.tracker.max_seen, Some(BookmarkValue::Integer(3)));
        let mut no_key = runtime(None, CaptureBuffer::new());
        no_key.emit(&json!({"id": 7}), None).unwrap();
        assert_eq!(no_key.tracker.max_seen, None);
        assert_eq!(no_key.stats.emitted, 1);
    }
}
