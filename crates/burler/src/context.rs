//! The sync context: everything a sync function may ask for, without globals.
//!
//! A [`SyncContext`] is handed to each run of a sync function. It gives the config, the client, the
//! bookmark the stream starts from, the stream's catalog metadata, and the `emit` family that writes
//! records. It is cheap to clone and can be moved into spawned tasks.
//!
//! For a stream with sub-streams, every emitted record's child context is queued; the children of
//! the queued records run (through the engine's [`Tree`] handle) between chunks of
//! [`SyncContext::emit_stream`], when the queue is full, and when the sync function returns. The
//! parent's bookmark covers only records whose children have run (see the ledger's commit rule).

use std::sync::{Arc, Mutex, MutexGuard};

use burler_singer::Metadata;
use chrono::{DateTime, Utc};
use futures::{Stream as FutStream, StreamExt};
use serde::Serialize;
use serde_json::Value;

use crate::bookmark::{format_datetime, parse_datetime};
use crate::error::{BoxError, EmitError};
use crate::scope::{ChildTask, RunEnv, Scope, lock};
use crate::writer::Writer;

/// A bookmark function: the bookmark value of a record.
pub(crate) type BookmarkFn<R> = Arc<dyn Fn(&R) -> Value + Send + Sync>;
/// A child-context function: what a record's children receive.
pub(crate) type ChildContextFn<R> = Arc<dyn Fn(&R) -> Value + Send + Sync>;

/// One run of a sync function: the engine's scope plus the stream's typed functions.
pub(crate) struct SyncRun<R> {
    pub(crate) scope: Scope,
    pub(crate) bookmark_fn: Option<BookmarkFn<R>>,
    pub(crate) child_context: Option<ChildContextFn<R>>,
    /// Children of records emitted since the children last ran.
    pub(crate) pending: Mutex<Vec<ChildTask>>,
}

/// What a sync function receives: config, client, bookmarks, metadata and the `emit` family.
///
/// `R` is the stream's record type; `C` and `K` are the tap's config and client types. Declaring a
/// local alias keeps signatures short: `type Ctx<R> = burler::SyncContext<R, Config, Api>;`.
pub struct SyncContext<R, C = Value, K = ()> {
    pub(crate) env: Arc<RunEnv<C, K>>,
    pub(crate) run: Arc<SyncRun<R>>,
}

impl<R, C, K> Clone for SyncContext<R, C, K> {
    fn clone(&self) -> Self {
        Self {
            env: self.env.clone(),
            run: self.run.clone(),
        }
    }
}

impl<R, C, K> std::fmt::Debug for SyncContext<R, C, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncContext")
            .field("stream", &self.run.scope.facts.name)
            .finish_non_exhaustive()
    }
}

impl<R, C, K> SyncContext<R, C, K>
where
    R: Serialize,
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    /// The validated config.
    pub fn config(&self) -> &C {
        &self.env.config
    }

    /// The client built once from the config.
    pub fn client(&self) -> &K {
        &self.env.client
    }

    /// The stream being synced.
    pub fn stream_name(&self) -> &str {
        &self.run.scope.facts.name
    }

    fn writer(&self) -> MutexGuard<'_, Writer> {
        lock(&self.run.scope.writer)
    }

    /// The moment the sync started: date-time bookmarks never pass it.
    /// True when the record limit of `--test` stopped this stream.
    pub(crate) fn stopped_at_limit(&self) -> bool {
        self.writer().stopped_at_limit()
    }

    pub(crate) fn sync_started(&self) -> DateTime<Utc> {
        self.env.sync_started
    }

    /// True when the stream syncs INCREMENTAL this run (the catalog may ask for FULL_TABLE).
    pub fn is_incremental(&self) -> bool {
        self.run.scope.facts.method == burler_singer::ReplicationMethod::Incremental
    }

    /// Where this sync starts: the stream's bookmark in the state (minus its lookback; for a
    /// LOG_BASED stream, its log position), else, on a first INCREMENTAL run, the config's
    /// `start_date` ([`TapConfig`](crate::TapConfig)). `None` when there is neither, and always when
    /// the stream syncs FULL_TABLE this run: a full table is the whole table (a target may delete
    /// what a FULL_TABLE version does not hold).
    pub fn replication_start(&self) -> Option<Value> {
        if self.run.scope.facts.method == burler_singer::ReplicationMethod::FullTable {
            return None;
        }
        let start_date = || {
            self.env
                .start_date
                .filter(|_| self.is_incremental())
                .map(|d| Value::from(format_datetime(&d.fixed_offset())))
        };
        self.run.scope.start.clone().or_else(start_date)
    }

    /// [`replication_start`](Self::replication_start) as a date-time, when it is one.
    pub fn replication_start_datetime(&self) -> Option<DateTime<Utc>> {
        if !self.is_incremental() {
            return None;
        }
        match &self.run.scope.start {
            Some(Value::String(s)) => parse_datetime(s).map(|d| d.with_timezone(&Utc)),
            Some(_) => None,
            None => self.env.start_date,
        }
    }

    /// The partition this run syncs: a value from [`Stream::partitions`](crate::Stream::partitions),
    /// or, for a sub-stream, the parent record's child context
    /// ([`Stream::child_context`](crate::Stream::child_context); by default its key properties,
    /// e.g. `{"id": 7}`).
    pub fn partition(&self) -> Option<&Value> {
        self.run.scope.partition.as_ref()
    }

    /// The stream's catalog metadata (from `--catalog`, or the discovered metadata).
    pub fn metadata(&self) -> &Metadata {
        &self.run.scope.facts.metadata
    }

    /// True when `stream` is selected in this run.
    pub fn is_selected(&self, stream: &str) -> bool {
        self.run
            .scope
            .tree
            .writer(stream)
            .is_some_and(|w| lock(&w).is_selected())
    }

    /// Emits one record of this stream. For a stream with sub-streams, the children of the
    /// records emitted so far run here when their queue is full (see
    /// [`Stream::interleave`](crate::Stream::interleave)).
    pub fn emit(&self, record: R) -> Result<(), EmitError> {
        self.emit_ref(&record)
    }

    fn emit_ref(&self, record: &R) -> Result<(), EmitError> {
        if self.run.scope.facts.children.is_empty() {
            let bookmark = self.run.bookmark_fn.as_ref().map(|f| f(record));
            return self.writer().emit(record, bookmark);
        }
        if self.emit_queueing(record)? {
            self.run_children_blocking()?;
        }
        Ok(())
    }

    /// Emits one record; for a parent, queues its children in the same step (so the parent's
    /// bookmark mark never covers a record whose children are not queued). `true` when the queue
    /// of child contexts is full.
    fn emit_queueing(&self, record: &R) -> Result<bool, EmitError> {
        let bookmark = self.run.bookmark_fn.as_ref().map(|f| f(record));
        let mut writer = self.writer();
        let parent_key = writer.emit_keyed(record, bookmark)?;
        let facts = &self.run.scope.facts;
        if facts.children.is_empty() || !writer.syncs_children_of_last() {
            return Ok(false);
        }
        let context = match &self.run.child_context {
            Some(f) => f(record),
            None => default_child_context(record, &facts.key_properties).map_err(|source| {
                EmitError::Serialize {
                    stream: facts.name.clone(),
                    source,
                }
            })?,
        };
        let mut pending = self.pending();
        pending.push(ChildTask {
            context,
            parent_key,
        });
        let full = pending.len() >= facts.interleave.max_records || writer.commit_due();
        drop(writer);
        Ok(full)
    }

    fn pending(&self) -> MutexGuard<'_, Vec<ChildTask>> {
        self.run.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Emits every record of an iterator, by value or by reference (`ctx.emit_all(&records)`),
    /// holding the stream lock once for the whole batch.
    pub fn emit_all<I>(&self, records: I) -> Result<(), EmitError>
    where
        I: IntoIterator,
        I::Item: std::borrow::Borrow<R>,
    {
        use std::borrow::Borrow;
        if !self.run.scope.facts.children.is_empty() {
            return records
                .into_iter()
                .try_for_each(|r| self.emit_ref(r.borrow()));
        }
        let mut writer = self.writer();
        for record in records {
            let record = record.borrow();
            let bookmark = self.run.bookmark_fn.as_ref().map(|f| f(record));
            writer.emit(record, bookmark)?;
        }
        Ok(())
    }

    /// Emits every record of an async stream of results, stopping at the first error.
    ///
    /// For a stream with sub-streams this is the time-boxed interleaving: the source is read in
    /// chunks bounded by [`Stream::interleave`](crate::Stream::interleave), and the children of each
    /// chunk's records run before the next chunk is read.
    /// Returns how many records were read; a failure of the source is
    /// [`EmitError::Source`].
    pub async fn emit_stream<S, E>(&self, records: S) -> Result<u64, EmitError>
    where
        S: FutStream<Item = Result<R, E>>,
        E: Into<BoxError>,
    {
        let mut records = std::pin::pin!(records);
        let mut n = 0;
        let limits = self.run.scope.facts.interleave;
        let mut chunk_start = std::time::Instant::now();
        while let Some(item) = records.next().await {
            let record = item.map_err(|e| EmitError::Source(e.into()))?;
            let full = self.emit_queueing(&record)?;
            n += 1;
            if full || (self.has_pending() && chunk_start.elapsed() >= limits.max_time) {
                self.run_children().await?;
                chunk_start = std::time::Instant::now();
            }
        }
        Ok(n)
    }

    fn has_pending(&self) -> bool {
        !self.pending().is_empty()
    }

    /// Like [`emit_stream`](Self::emit_stream), emitting only the records at or after where the
    /// sync started ([`replication_start`](Self::replication_start): the bookmark, or on a first
    /// run the config's `start_date`) and advancing the bookmark: the
    /// full-request-incremental-emit pattern, for APIs that return everything (burler-http's
    /// record streams plug straight in). Returns how many were emitted; the others are counted as
    /// `filtered`. A stream whose every sync filters so declares
    /// [`Stream::filter_older_than_bookmark`](crate::Stream::filter_older_than_bookmark) instead.
    pub async fn emit_newer<S, E>(&self, records: S) -> Result<u64, EmitError>
    where
        S: FutStream<Item = Result<R, E>>,
        E: Into<BoxError>,
    {
        let (before, was) = {
            let mut w = self.writer();
            (w.stats().emitted, w.book_mut().set_filter_older(true))
        };
        let result = self.emit_stream(records).await;
        let mut w = self.writer();
        w.book_mut().set_filter_older(was);
        result.map(|_| w.stats().emitted - before)
    }

    /// Runs the sub-streams for every record emitted since they last ran. Called by the framework
    /// between chunks of [`emit_stream`](Self::emit_stream), when the queue of child contexts is
    /// full, and when the sync function returns.
    pub async fn run_children(&self) -> Result<(), EmitError> {
        let (tasks, mark) = {
            let mut writer = self.writer();
            let tasks = std::mem::take(&mut *self.pending());
            if tasks.is_empty() {
                return Ok(());
            }
            // Parents reach the output before their children: targets with foreign keys like that.
            writer.flush()?;
            (tasks, writer.book_mut().mark())
        };
        let done = self
            .run
            .scope
            .tree
            .clone()
            .run_children(&self.run.scope.facts.name, tasks)
            .await
            .map_err(|e| EmitError::Children {
                stream: self.stream_name().to_owned(),
                message: e.to_string(),
            })?;
        if !done.failed.is_empty() {
            self.run
                .scope
                .incomplete
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let mut writer = self.writer();
        for key in done.failed {
            match key {
                Some(key) => writer.book_mut().hold_at(key),
                None => writer.book_mut().freeze(),
            }
        }
        writer.book_mut().settle(mark);
        if writer.commit_due() {
            drop(writer);
            self.run.scope.tree.seal_below(&self.run.scope.facts.name)?;
            self.writer().checkpoint()?;
        }
        Ok(())
    }

    /// Runs the children of a full queue from a plain `emit`, which cannot await: the worker
    /// thread runs them to the end while the runtime's other tasks move on.
    fn run_children_blocking(&self) -> Result<(), EmitError> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| EmitError::Children {
            stream: self.stream_name().to_owned(),
            message: "sub-streams run only inside the tap's runtime".into(),
        })?;
        if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
            return Err(EmitError::Children {
                stream: self.stream_name().to_owned(),
                message: "use emit_stream: emit cannot run sub-streams on this runtime".into(),
            });
        }
        tokio::task::block_in_place(|| handle.block_on(self.run_children()))
    }

    /// Emits a record to another stream declared in [`Stream::emits_to`](crate::Stream::emits_to)
    /// (one sync function feeding several streams). Records for an unselected stream are dropped
    /// and counted; an unknown stream is an error.
    pub fn emit_to<T: Serialize + ?Sized>(
        &self,
        stream: &str,
        record: &T,
    ) -> Result<(), EmitError> {
        let facts = &self.run.scope.facts;
        let Some(writer) = self.run.scope.tree.writer(stream) else {
            return Err(EmitError::UnknownStream(stream.to_owned()));
        };
        if stream != facts.name && !facts.emits_to.iter().any(|s| s == stream) {
            return Err(EmitError::Undeclared {
                from: facts.name.clone(),
                target: stream.to_owned(),
            });
        }
        lock(&writer).emit(record, None).map(|_| ())
    }

    /// Where an interrupted FULL_TABLE sync of this stream (or partition) left off: the position
    /// its last [`checkpoint`](Self::checkpoint) stored, while that sync's table version is still
    /// open. `None` on a fresh start: read from the beginning.
    pub fn resume_point(&self) -> Option<Value> {
        self.writer().resume_point(self.partition())
    }

    /// Makes a FULL_TABLE sync resumable: the records emitted so far (and the sub-streams of
    /// them) are written, then a STATE stores `position` (a page token, a cursor, the last key
    /// read, in the order the source is read). After a crash the next run gets it back from
    /// [`resume_point`](Self::resume_point) and goes on under the same table version;
    /// ACTIVATE_VERSION goes out only once the whole table is read, and the position leaves the
    /// state with it.
    ///
    /// ```
    /// # use burler::prelude::*;
    /// # #[burler::record] struct Row { id: u64 }
    /// # async fn fetch_after(_after: Option<u64>) -> Vec<Row> { Vec::new() }
    /// async fn sync_rows(ctx: SyncContext<Row>) -> SyncResult {
    ///     let mut after = ctx.resume_point().and_then(|v| v.as_u64());
    ///     loop {
    ///         let rows = fetch_after(after).await;
    ///         let Some(last) = rows.last().map(|r| r.id) else { return Ok(()) };
    ///         ctx.emit_all(&rows)?;
    ///         ctx.checkpoint(last).await?;
    ///         after = Some(last);
    ///     }
    /// }
    /// let rows = Stream::new("rows").schema_from_type().key(["id"]).full_table().sync(sync_rows);
    /// ```
    ///
    /// A stream that is not FULL_TABLE has no table version to resume: its position is its
    /// bookmark, and `checkpoint` is an error.
    pub async fn checkpoint(&self, position: impl Into<Value>) -> Result<(), EmitError> {
        self.run_children().await?;
        self.run.scope.tree.seal_below(self.stream_name())?;
        if self
            .run
            .scope
            .incomplete
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            // Children of some record failed: resuming past it would lose them.
            return Ok(());
        }
        let stored = self
            .writer()
            .set_resume_point(self.partition(), position.into())?;
        if stored {
            Ok(())
        } else {
            Err(EmitError::NotFullTable(self.stream_name().to_owned()))
        }
    }

    /// Moves the stream's bookmark to `value` (never backwards) and commits it in a STATE now.
    /// Use when the bookmark is not a field of the records (log positions, cursors).
    pub fn set_bookmark(&self, value: impl Into<Value>) -> Result<(), EmitError> {
        self.writer().set_bookmark(&value.into())?;
        Ok(())
    }

    /// Reads a custom key of this stream's bookmark in the state (as the run started or since set).
    pub fn state_value(&self, key: &str) -> Option<Value> {
        self.writer().ledger_value(key)
    }

    /// Writes a custom key of this stream's bookmark and commits a STATE (after pending records).
    pub fn set_state_value(&self, key: &str, value: impl Into<Value>) -> Result<(), EmitError> {
        self.writer().set_state_value(key, value.into())?;
        Ok(())
    }

    /// Starts a table version by hand, for a sync that drives its own versions (a stream declared
    /// `.full_table()` gets one per run without this): records emitted until
    /// [`TableVersion::finish`] carry it, and finishing emits ACTIVATE_VERSION. Dropping it
    /// unfinished keeps the version in the state, so the next run resumes it.
    pub fn begin_table_version(&self) -> Result<TableVersion, EmitError> {
        let version = self.writer().begin_version()?;
        Ok(TableVersion {
            writer: self.run.scope.writer.clone(),
            version,
        })
    }
}

/// The default child context: the record's key properties, or the whole record without keys.
fn default_child_context<R: Serialize>(
    record: &R,
    keys: &[String],
) -> Result<Value, serde_json::Error> {
    let value = serde_json::to_value(record)?;
    if keys.is_empty() {
        return Ok(value);
    }
    Ok(Value::Object(
        keys.iter()
            .map(|k| (k.clone(), value.get(k).cloned().unwrap_or(Value::Null)))
            .collect(),
    ))
}

/// A table version in progress, started with [`SyncContext::begin_table_version`].
#[derive(Debug)]
#[must_use = "call finish() once every record is emitted, or the version stays open"]
pub struct TableVersion {
    writer: Arc<Mutex<Writer>>,
    version: i64,
}

impl TableVersion {
    /// The table version records carry.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// Emits ACTIVATE_VERSION and clears the version from the state (a STATE says so).
    pub fn finish(self) -> Result<(), EmitError> {
        let mut writer = lock(&self.writer);
        writer.finish_version()?;
        writer.flush_state()?;
        Ok(())
    }
}
