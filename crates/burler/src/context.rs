//! The sync context: everything a sync function may ask for, without globals.
//!
//! A [`SyncContext`] is handed to each run of a sync function. It gives the config, the client, the
//! bookmark the stream starts from, the stream's catalog metadata, and the `emit` family that writes
//! records. It is cheap to clone and can be moved into spawned tasks.

use std::sync::{Arc, Mutex, MutexGuard};

use burler_singer::Metadata;
use chrono::{DateTime, Utc};
use futures::{Stream as FutStream, StreamExt};
use serde::Serialize;
use serde_json::Value;

use crate::bookmark::{BookmarkValue, parse_datetime};
use crate::error::EmitError;
use crate::run::RunShared;
use crate::runtime::StreamRuntime;
use crate::stream::{BookmarkFn, ChildContextFn, Interleave};

/// Per-run facts about the stream a sync function is syncing.
pub(crate) struct StreamCtx<R> {
    pub(crate) name: String,
    pub(crate) runtime: Arc<Mutex<StreamRuntime>>,
    pub(crate) bookmark_fn: Option<BookmarkFn<R>>,
    pub(crate) emits_to: Vec<String>,
    pub(crate) start_bookmark: Option<Value>,
    pub(crate) metadata: Metadata,
    /// The partition (for-each value, or the parent's child context) this run syncs.
    pub(crate) partition: Option<Value>,
    /// Child streams to run for each record.
    pub(crate) children: Vec<String>,
    pub(crate) child_context: Option<ChildContextFn<R>>,
    pub(crate) interleave: Interleave,
    pub(crate) key_properties: Vec<String>,
    /// Child contexts of records emitted since the children last ran.
    pub(crate) pending_children: Mutex<Vec<Value>>,
}

/// What a sync function receives: config, client, bookmarks, metadata and the `emit` family.
///
/// `R` is the stream's record type; `C` and `K` are the tap's config and client types. Declaring a
/// local alias keeps signatures short: `type Ctx<R> = burler::SyncContext<R, Config, Api>;`.
pub struct SyncContext<R, C = Value, K = ()> {
    pub(crate) run: Arc<RunShared<C, K>>,
    pub(crate) stream: Arc<StreamCtx<R>>,
}

impl<R, C, K> Clone for SyncContext<R, C, K> {
    fn clone(&self) -> Self {
        Self {
            run: self.run.clone(),
            stream: self.stream.clone(),
        }
    }
}

impl<R, C, K> std::fmt::Debug for SyncContext<R, C, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncContext")
            .field("stream", &self.stream.name)
            .finish_non_exhaustive()
    }
}

pub(crate) fn lock(runtime: &Mutex<StreamRuntime>) -> MutexGuard<'_, StreamRuntime> {
    // Lines are written whole under this lock, so a panic elsewhere leaves nothing half-written.
    runtime.lock().unwrap_or_else(|p| p.into_inner())
}

impl<R, C, K> SyncContext<R, C, K>
where
    R: Serialize,
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    /// The validated config.
    pub fn config(&self) -> &C {
        &self.run.config
    }

    /// The client built once from the config.
    pub fn client(&self) -> &K {
        &self.run.client
    }

    /// The stream being synced.
    pub fn stream_name(&self) -> &str {
        &self.stream.name
    }

    /// The bookmark this sync starts from (the state's `replication_key_value`), if any.
    pub fn bookmark(&self) -> Option<&Value> {
        self.stream.start_bookmark.as_ref()
    }

    /// The config's `start_date`, if set and a valid date-time.
    pub fn start_date(&self) -> Option<DateTime<Utc>> {
        self.run.start_date
    }

    /// True when the stream syncs INCREMENTAL this run (the catalog may ask for FULL_TABLE).
    pub fn is_incremental(&self) -> bool {
        lock(&self.stream.runtime).method == burler_singer::ReplicationMethod::Incremental
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
                .map(|d| Value::from(crate::bookmark::format_datetime(&d.fixed_offset())))
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
        self.stream.partition.as_ref()
    }

    /// For a sub-stream: the child context of the parent record being synced (same as
    /// [`partition`](Self::partition)).
    pub fn parent(&self) -> Option<&Value> {
        self.stream.partition.as_ref()
    }

    /// The stream's catalog metadata (from `--catalog`, or the discovered metadata).
    pub fn stream_metadata(&self) -> &Metadata {
        &self.stream.metadata
    }

    /// True when `stream` is selected in this run.
    pub fn is_selected(&self, stream: &str) -> bool {
        self.run
            .runtimes
            .get(stream)
            .is_some_and(|rt| lock(rt).selected)
    }

    /// Emits one record of this stream.
    pub fn emit(&self, record: R) -> Result<(), EmitError> {
        self.emit_ref(&record)
    }

    /// Emits one record of this stream, by reference.
    pub fn emit_ref(&self, record: &R) -> Result<(), EmitError> {
        let bookmark = self.stream.bookmark_fn.as_ref().map(|f| f(record));
        lock(&self.stream.runtime).emit(record, bookmark)?;
        self.queue_children(record)
    }

    /// Emits every record of an iterator, holding the stream lock once for the whole batch.
    pub fn emit_all<I: IntoIterator<Item = R>>(&self, records: I) -> Result<(), EmitError> {
        if !self.stream.children.is_empty() {
            return records.into_iter().try_for_each(|r| self.emit_ref(&r));
        }
        let mut rt = lock(&self.stream.runtime);
        for record in records {
            let bookmark = self.stream.bookmark_fn.as_ref().map(|f| f(&record));
            rt.emit(&record, bookmark)?;
        }
        Ok(())
    }

    /// Emits every record of an async stream of results, stopping at the first error.
    ///
    /// For a stream with sub-streams this is the time-boxed interleaving: the source is read in
    /// chunks bounded by [`Stream::interleave`](crate::Stream::interleave), and the children of each
    /// chunk's records run before the next chunk is read.
    pub async fn emit_stream<S, E>(&self, records: S) -> Result<u64, crate::BoxError>
    where
        S: FutStream<Item = Result<R, E>>,
        E: Into<crate::BoxError>,
    {
        let mut records = std::pin::pin!(records);
        let mut n = 0;
        let limits = self.stream.interleave;
        let mut chunk_start = std::time::Instant::now();
        let mut in_chunk = 0;
        while let Some(item) = records.next().await {
            self.emit(item.map_err(Into::into)?)?;
            n += 1;
            in_chunk += 1;
            if !self.stream.children.is_empty()
                && (in_chunk >= limits.max_records || chunk_start.elapsed() >= limits.max_time)
            {
                self.run_children().await?;
                chunk_start = std::time::Instant::now();
                in_chunk = 0;
            }
        }
        Ok(n)
    }

    /// Emits only the records at or after the bookmark the sync started from, and advances the
    /// bookmark (the full-request-incremental-emit pattern: for APIs that return everything).
    /// Returns how many were emitted; the others are counted as `filtered`.
    pub fn emit_newer<I: IntoIterator<Item = R>>(&self, records: I) -> Result<u64, EmitError> {
        let before = lock(&self.stream.runtime).stats.emitted;
        let was = lock(&self.stream.runtime).filter_older();
        lock(&self.stream.runtime).set_filter_older(true);
        let result = records.into_iter().try_for_each(|r| self.emit_ref(&r));
        let mut rt = lock(&self.stream.runtime);
        rt.set_filter_older(was);
        result.map(|()| rt.stats.emitted - before)
    }

    /// Remembers the child context of a record just emitted, for the sub-streams to run.
    fn queue_children(&self, record: &R) -> Result<(), EmitError> {
        if self.stream.children.is_empty() {
            return Ok(());
        }
        let context =
            match &self.stream.child_context {
                Some(f) => f(record),
                None => default_child_context(record, &self.stream.key_properties).map_err(
                    |source| EmitError::Serialize {
                        stream: self.stream.name.clone(),
                        source,
                    },
                )?,
            };
        self.stream
            .pending_children
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(context);
        Ok(())
    }

    /// Runs the sub-streams for every record emitted since they last ran. Called by the framework
    /// between chunks of [`emit_stream`](Self::emit_stream) and when the sync function returns;
    /// a sync function that emits with `emit` in a long loop may call it itself to bound memory.
    pub async fn run_children(&self) -> crate::SyncResult {
        let contexts = std::mem::take(
            &mut *self
                .stream
                .pending_children
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        if contexts.is_empty() {
            return Ok(());
        }
        // Parents reach the output before their children: targets with foreign keys like that.
        lock(&self.stream.runtime).flush()?;
        crate::run::run_children(self.run.clone(), &self.stream.children, contexts).await
    }

    /// Emits a record to another stream declared in [`Stream::emits_to`](crate::Stream::emits_to)
    /// (one sync function feeding several streams). Records for an unselected stream are dropped
    /// and counted; an unknown stream is an error.
    pub fn emit_to<T: Serialize + ?Sized>(
        &self,
        stream: &str,
        record: &T,
    ) -> Result<(), EmitError> {
        let Some(rt) = self.run.runtimes.get(stream) else {
            return Err(EmitError::UnknownStream(stream.to_owned()));
        };
        if stream != self.stream.name && !self.stream.emits_to.iter().any(|s| s == stream) {
            return Err(EmitError::Undeclared {
                from: self.stream.name.clone(),
                target: stream.to_owned(),
            });
        }
        lock(rt).emit(record, None)
    }

    /// Moves the stream's bookmark to `value` (never backwards) and commits it in a STATE now.
    /// Use when the bookmark is not a field of the records (log positions, cursors).
    pub fn set_bookmark(&self, value: impl Into<Value>) -> Result<(), EmitError> {
        let value = value.into();
        let mut rt = lock(&self.stream.runtime);
        if let Some(bv) = BookmarkValue::from_json(&value) {
            rt.tracker.set_explicit(bv);
        }
        rt.commit_bookmark()?;
        Ok(())
    }

    /// Reads a custom key of this stream's bookmark in the state (as the run started or since set).
    pub fn state_value(&self, key: &str) -> Option<Value> {
        let rt = lock(&self.stream.runtime);
        rt.output
            .with_state(|s| s.get_bookmark_value(&self.stream.name, key).cloned())
    }

    /// Writes a custom key of this stream's bookmark and commits a STATE (after pending records).
    pub fn set_state_value(&self, key: &str, value: impl Into<Value>) -> Result<(), EmitError> {
        let value = value.into();
        let name = self.stream.name.clone();
        lock(&self.stream.runtime).commit_with(|s| s.set_bookmark_value(&name, key, value))?;
        Ok(())
    }

    /// Starts a FULL_TABLE scope by hand (the seed's `with full_table():`): records emitted until
    /// [`FullTableScope::finish`] carry a table version, and finishing emits ACTIVATE_VERSION.
    /// Dropping the scope unfinished keeps the version in the state, so the next run resumes it.
    pub fn full_table(&self) -> Result<FullTableScope, EmitError> {
        let version = lock(&self.stream.runtime).begin_full_table()?;
        Ok(FullTableScope {
            runtime: self.stream.runtime.clone(),
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
    runtime: Arc<Mutex<StreamRuntime>>,
    version: i64,
}

impl FullTableScope {
    /// The table version records carry.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// Emits ACTIVATE_VERSION and clears the version from the state.
    pub fn finish(self) -> Result<(), EmitError> {
        lock(&self.runtime).finish_full_table()?;
        Ok(())
    }
}
