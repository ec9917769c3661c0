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
use crate::error::{BoxError, EmitError, SyncResult};
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

    /// The bookmark this sync starts from (the state's bookmark minus the stream's lookback), if
    /// any.
    pub fn bookmark(&self) -> Option<&Value> {
        self.run.scope.start.as_ref()
    }

    /// The config's `start_date`, if set and a valid date-time.
    pub fn start_date(&self) -> Option<DateTime<Utc>> {
        self.env.start_date
    }

    /// The moment the sync started: date-time bookmarks never pass it.
    pub(crate) fn sync_started(&self) -> DateTime<Utc> {
        self.env.sync_started
    }

    /// True when the stream syncs INCREMENTAL this run (the catalog may ask for FULL_TABLE).
    pub fn is_incremental(&self) -> bool {
        self.run.scope.facts.method == burler_singer::ReplicationMethod::Incremental
    }

    /// Where an incremental sync should start: the bookmark, else `start_date`. `None` when the
    /// stream syncs FULL_TABLE this run: a full table is the whole table (a target may delete what
    /// a FULL_TABLE version does not hold).
    pub fn replication_start(&self) -> Option<Value> {
        if !self.is_incremental() {
            return None;
        }
        self.bookmark().cloned().or_else(|| {
            self.start_date()
                .map(|d| Value::from(format_datetime(&d.fixed_offset())))
        })
    }

    /// [`replication_start`](Self::replication_start) as a date-time, when it is one.
    pub fn replication_start_datetime(&self) -> Option<DateTime<Utc>> {
        if !self.is_incremental() {
            return None;
        }
        match self.bookmark() {
            Some(Value::String(s)) => parse_datetime(s).map(|d| d.with_timezone(&Utc)),
            Some(_) => None,
            None => self.start_date(),
        }
    }

    /// The partition this run syncs: a value from [`Stream::partitions`](crate::Stream::partitions),
    /// or, for a sub-stream, the parent record's child context.
    pub fn partition(&self) -> Option<&Value> {
        self.run.scope.partition.as_ref()
    }

    /// For a sub-stream: the child context of the parent record being synced (same as
    /// [`partition`](Self::partition)).
    pub fn parent(&self) -> Option<&Value> {
        self.partition()
    }

    /// The stream's catalog metadata (from `--catalog`, or the discovered metadata).
    pub fn stream_metadata(&self) -> &Metadata {
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

    /// Emits one record of this stream.
    pub fn emit(&self, record: R) -> Result<(), EmitError> {
        self.emit_ref(&record)
    }

    /// Emits one record of this stream, by reference.
    pub fn emit_ref(&self, record: &R) -> Result<(), EmitError> {
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
        let parent_key = writer.emit(record, bookmark)?;
        let facts = &self.run.scope.facts;
        if facts.children.is_empty() {
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

    /// Emits every record of an iterator, holding the stream lock once for the whole batch.
    pub fn emit_all<I: IntoIterator<Item = R>>(&self, records: I) -> Result<(), EmitError> {
        if !self.run.scope.facts.children.is_empty() {
            return records.into_iter().try_for_each(|r| self.emit_ref(&r));
        }
        let mut writer = self.writer();
        for record in records {
            let bookmark = self.run.bookmark_fn.as_ref().map(|f| f(&record));
            writer.emit(&record, bookmark)?;
        }
        Ok(())
    }

    /// Emits every record of an async stream of results, stopping at the first error.
    ///
    /// For a stream with sub-streams this is the time-boxed interleaving: the source is read in
    /// chunks bounded by [`Stream::interleave`](crate::Stream::interleave), and the children of each
    /// chunk's records run before the next chunk is read.
    pub async fn emit_stream<S, E>(&self, records: S) -> Result<u64, BoxError>
    where
        S: FutStream<Item = Result<R, E>>,
        E: Into<BoxError>,
    {
        let mut records = std::pin::pin!(records);
        let mut n = 0;
        let limits = self.run.scope.facts.interleave;
        let mut chunk_start = std::time::Instant::now();
        while let Some(item) = records.next().await {
            let full = self.emit_queueing(&item.map_err(Into::into)?)?;
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

    /// Emits only the records at or after the bookmark the sync started from, and advances the
    /// bookmark (the full-request-incremental-emit pattern: for APIs that return everything).
    /// Returns how many were emitted; the others are counted as `filtered`.
    pub fn emit_newer<I: IntoIterator<Item = R>>(&self, records: I) -> Result<u64, EmitError> {
        let (before, was) = {
            let mut w = self.writer();
            (w.stats().emitted, w.book_mut().set_filter_older(true))
        };
        let result = records.into_iter().try_for_each(|r| self.emit_ref(&r));
        let mut w = self.writer();
        w.book_mut().set_filter_older(was);
        result.map(|()| w.stats().emitted - before)
    }

    /// Runs the sub-streams for every record emitted since they last ran. Called by the framework
    /// between chunks of [`emit_stream`](Self::emit_stream), when the queue of child contexts is
    /// full, and when the sync function returns.
    pub async fn run_children(&self) -> SyncResult {
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
            .await?;
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
        writer.commit_if_due()?;
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
        tokio::task::block_in_place(|| handle.block_on(self.run_children())).map_err(|e| {
            EmitError::Children {
                stream: self.stream_name().to_owned(),
                message: e.to_string(),
            }
        })
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

    /// Starts a FULL_TABLE scope by hand (`with full_table():`): records emitted until
    /// [`FullTableScope::finish`] carry a table version, and finishing emits ACTIVATE_VERSION.
    /// Dropping the scope unfinished keeps the version in the state, so the next run resumes it.
    pub fn full_table(&self) -> Result<FullTableScope, EmitError> {
        let version = self.writer().begin_version()?;
        Ok(FullTableScope {
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

/// A FULL_TABLE sync in progress, started with [`SyncContext::full_table`].
#[derive(Debug)]
#[must_use = "call finish() once every record is emitted, or the version stays open"]
pub struct FullTableScope {
    writer: Arc<Mutex<Writer>>,
    version: i64,
}

impl FullTableScope {
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
