//! Stream definitions: what a stream is (schema, keys, replication) and how it syncs.
//!
//! A [`Stream`] is a value built with chained calls, then handed to [`Tap::stream`](crate::Tap::stream).
//! Its sync function is a plain async function (or closure) that receives a
//! [`SyncContext`] and emits records.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use burler_schema::ViolationPolicy;
use burler_singer::{NodeMetadata, ReplicationMethod, SchemaNode};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::bookmark::BookmarkStrategy;
use crate::context::{BookmarkFn, ChildContextFn, SyncContext};
use crate::error::{BoxError, SyncResult};
use crate::scope::Interleave;
use crate::sync::{PartitionsFn, SyncFn};
use crate::writer::RecordHook;

/// A metadata visitor: called at discovery for the stream node and every field of the schema.
pub(crate) type MetadataFn = Arc<dyn Fn(&SchemaNode<'_>, &mut NodeMetadata<'_>) + Send + Sync>;
pub(crate) type SchemaFn<C> = Arc<dyn Fn(&C) -> Result<Value, BoxError> + Send + Sync>;
pub(crate) type RetryPredicate = Arc<dyn Fn(&BoxError) -> bool + Send + Sync>;
pub(crate) type RetrySetup = Arc<dyn Fn(&mut RetryScope) + Send + Sync>;

/// Where a stream's JSON Schema comes from.
pub(crate) enum SchemaSource<C> {
    /// Not set yet: a definition error at startup.
    Missing,
    /// A literal schema.
    Json(Value),
    /// A JSON file, `$ref`s resolved relative to it.
    File(PathBuf),
    /// Computed at discovery time from the config (e.g. an API's describe endpoint).
    Dynamic(SchemaFn<C>),
}

/// How a stream replicates, as declared by the author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Replication {
    FullTable,
    Incremental { key: Option<String> },
    LogBased,
}

impl Replication {
    pub(crate) fn method(&self) -> ReplicationMethod {
        match self {
            Replication::FullTable => ReplicationMethod::FullTable,
            Replication::Incremental { .. } => ReplicationMethod::Incremental,
            Replication::LogBased => ReplicationMethod::LogBased,
        }
    }

    pub(crate) fn key(&self) -> Option<&str> {
        match self {
            Replication::Incremental { key } => key.as_deref(),
            _ => None,
        }
    }
}

/// What a retry-sync setup hook may change before the stream is synced again.
#[derive(Debug)]
pub struct RetryScope {
    /// The try about to start (2 for the first retry).
    pub attempt: u32,
    /// The error that ended the previous try, as text.
    pub error: String,
    /// The bookmark the retry starts from: the original one unless the hook overrides it.
    pub bookmark: Option<Value>,
}

/// Retry-sync settings of a stream.
#[derive(Clone)]
pub(crate) struct RetrySync {
    pub(crate) predicate: RetryPredicate,
    pub(crate) max_tries: u32,
    pub(crate) setup: Option<RetrySetup>,
}

/// The untyped part of a stream definition.
pub(crate) struct StreamSpec<C> {
    pub(crate) name: String,
    pub(crate) schema: SchemaSource<C>,
    pub(crate) key_properties: Vec<String>,
    pub(crate) replication: Replication,
    pub(crate) strategy: BookmarkStrategy,
    pub(crate) sorted: bool,
    pub(crate) filter_older: bool,
    pub(crate) emits_to: Vec<String>,
    pub(crate) after: Vec<String>,
    pub(crate) hooks: Vec<RecordHook>,
    pub(crate) conform: Option<ViolationPolicy>,
    pub(crate) metadata: Vec<MetadataFn>,
    pub(crate) retry: Option<RetrySync>,
    pub(crate) selected_by_default: bool,
    pub(crate) parent: Option<String>,
    /// More parents, by name (`child_of`): the child runs for the records of each.
    pub(crate) also_parents: Vec<String>,
    pub(crate) children: Vec<String>,
    pub(crate) interleave: Interleave,
    pub(crate) rollup: bool,
    pub(crate) lookback: Option<Duration>,
    /// `Some`: a sub-stream keeps a bookmark per parent, keyed by these context keys (all when
    /// empty); `None`: one bookmark safe for every parent.
    pub(crate) per_parent: Option<Vec<String>>,
    /// How many partitions (for a sub-stream: parent records' syncs) run at once.
    pub(crate) max_concurrent_partitions: usize,
    /// Declarations that do not fit together, reported at startup.
    pub(crate) errors: Vec<String>,
}

impl<C> StreamSpec<C> {
    /// Every parent of the stream: the one it is a sub-stream of, then those of `child_of`.
    pub(crate) fn parents(&self) -> impl Iterator<Item = &String> {
        self.parent.iter().chain(&self.also_parents)
    }
}

/// A stream: its schema, keys, replication, and the function that syncs it.
///
/// `R` is the record type the sync function emits (any `Serialize` type; `serde_json::Value` for
/// schemas known only at run time), `C` the config type and `K` the client type of the tap.
///
/// ```
/// use burler::prelude::*;
///
/// #[derive(serde::Serialize, schemars::JsonSchema)]
/// struct Order { id: u64, updated_at: String }
///
/// async fn sync_orders(ctx: SyncContext<Order>) -> SyncResult {
///     ctx.emit(Order { id: 1, updated_at: "2024-01-01T00:00:00Z".into() })?;
///     Ok(())
/// }
///
/// let orders = Stream::new("orders")
///     .schema_from_type()
///     .key(["id"])
///     .incremental("updated_at")
///     .sync(sync_orders);
/// # let _ = Tap::new("tap-x").stream(orders);
/// ```
pub struct Stream<R, C, K> {
    pub(crate) spec: StreamSpec<C>,
    pub(crate) bookmark_fn: Option<BookmarkFn<R>>,
    pub(crate) sync: Option<SyncFn<R, C, K>>,
    pub(crate) partitions: Option<PartitionsFn<R, C, K>>,
    pub(crate) child_context: Option<ChildContextFn<R>>,
    pub(crate) children: Vec<BoxedStream<C, K>>,
}

impl<R, C, K> Stream<R, C, K>
where
    R: Serialize + Send + Sync + 'static,
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    /// A new stream named `name` (its `tap_stream_id` and stream name), FULL_TABLE until told otherwise.
    pub fn new(name: impl Into<String>) -> Self {
        Stream {
            spec: StreamSpec {
                name: name.into(),
                schema: SchemaSource::Missing,
                key_properties: Vec::new(),
                replication: Replication::FullTable,
                strategy: BookmarkStrategy::default(),
                sorted: true,
                filter_older: false,
                emits_to: Vec::new(),
                after: Vec::new(),
                hooks: Vec::new(),
                conform: None,
                metadata: Vec::new(),
                retry: None,
                selected_by_default: true,
                parent: None,
                also_parents: Vec::new(),
                children: Vec::new(),
                interleave: Interleave::default(),
                rollup: false,
                lookback: None,
                per_parent: None,
                max_concurrent_partitions: 1,
                errors: Vec::new(),
            },
            bookmark_fn: None,
            sync: None,
            partitions: None,
            child_context: None,
            children: Vec::new(),
        }
    }

    /// Uses `schema` (a JSON Schema object) as the stream's schema.
    pub fn schema(mut self, schema: Value) -> Self {
        self.spec.schema = SchemaSource::Json(schema);
        self
    }

    /// Reads the schema from a JSON file at discovery/sync time, resolving its `$ref`s.
    ///
    /// `$ref`s to other files are relative to the file holding them. A relative `path` is tried
    /// against the working directory; [`crate_file!("schemas/x.json")`](crate::crate_file!)
    /// gives a path relative to the tap's crate that works from anywhere.
    pub fn schema_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.spec.schema = SchemaSource::File(path.into());
        self
    }

    /// Computes the schema at discovery time from the config (e.g. from an API's describe call).
    pub fn schema_fn<F, E>(mut self, f: F) -> Self
    where
        F: Fn(&C) -> Result<Value, E> + Send + Sync + 'static,
        E: Into<BoxError>,
    {
        self.spec.schema = SchemaSource::Dynamic(Arc::new(move |c| f(c).map_err(Into::into)));
        self
    }

    /// Sets the key properties (primary key) of the stream.
    pub fn key<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.spec.key_properties = keys.into_iter().map(Into::into).collect();
        self
    }

    /// INCREMENTAL replication on the replication key `field` (a top-level field of the record).
    pub fn incremental(mut self, field: impl Into<String>) -> Self {
        self.spec.replication = Replication::Incremental {
            key: Some(field.into()),
        };
        self
    }

    /// Computes each record's bookmark value from the record, instead of reading the replication
    /// key field. Only for a stream declared [`incremental`](Self::incremental) (the key still
    /// names the field in the catalog) or [`log_based`](Self::log_based); on any other stream it is
    /// a startup error, since a FULL_TABLE stream keeps no bookmark.
    pub fn bookmark<F, V>(mut self, f: F) -> Self
    where
        F: Fn(&R) -> V + Send + Sync + 'static,
        V: Into<Value>,
    {
        self.bookmark_fn = Some(Arc::new(move |r| f(r).into()));
        self
    }

    /// FULL_TABLE replication with table versions and ACTIVATE_VERSION (the default).
    pub fn full_table(mut self) -> Self {
        self.spec.replication = Replication::FullTable;
        self
    }

    /// LOG_BASED replication: the sync function manages its own position with `set_bookmark`.
    pub fn log_based(mut self) -> Self {
        self.spec.replication = Replication::LogBased;
        self
    }

    /// When the bookmark is written into a STATE: every `n` records (the default, 10,000), at
    /// most once per interval, or only at the end.
    ///
    /// ```
    /// use burler::prelude::*;
    /// let s: Stream<burler::serde_json::Value, burler::serde_json::Value, ()> =
    ///     Stream::new("orders").incremental("updated_at").bookmark_strategy(BookmarkStrategy::Records(500));
    /// # let _ = s;
    /// ```
    pub fn bookmark_strategy(mut self, strategy: BookmarkStrategy) -> Self {
        self.spec.strategy = strategy;
        self
    }

    /// Declares that the source does not return records in replication-key order: the bookmark is
    /// then committed only at the end of the sync (the max seen), never in the middle.
    pub fn unsorted(mut self) -> Self {
        self.spec.sorted = false;
        self
    }

    /// Drops records older than where the sync started — the bookmark, or on a first run the
    /// config's `start_date` — (the default emits them: at-least-once). Dropped records are
    /// counted as `filtered` in the run report.
    pub fn filter_older_than_bookmark(mut self) -> Self {
        self.spec.filter_older = true;
        self
    }

    /// Declares the other streams this sync function feeds with `ctx.emit_to(..)`.
    pub fn emits_to<I, S>(mut self, streams: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.spec
            .emits_to
            .extend(streams.into_iter().map(Into::into));
        self
    }

    /// Syncs this stream only after `stream` has finished.
    pub fn after(mut self, stream: impl Into<String>) -> Self {
        self.spec.after.push(stream.into());
        self
    }

    /// Adds a post-transform hook, run on each record after field selection; `None` drops the record.
    pub fn post_transform<F>(mut self, hook: F) -> Self
    where
        F: Fn(Map<String, Value>) -> Option<Map<String, Value>> + Send + Sync + 'static,
    {
        self.spec.hooks.push(Arc::new(hook));
        self
    }

    /// Conforms each record to the stream's schema before it is written (singer-python's
    /// `Transformer`): strings become integers, numbers or booleans where safe, date-times are
    /// normalised to RFC 3339 UTC, fields the schema does not name are dropped. A value that cannot
    /// be made to conform is handled by `policy`; the run report counts values coerced and nulled,
    /// and records dropped. Records then leave the no-`Value` fast path.
    ///
    /// ```
    /// use burler::prelude::*;
    /// let s: Stream<serde_json::Value, serde_json::Value, ()> = Stream::new("users")
    ///     .schema(serde_json::json!({"type": "object", "properties": {"id": {"type": "integer"}}}))
    ///     .conform(ViolationPolicy::WarnAndNull);
    /// # let _ = Tap::new("t").stream(s.sync(|_ctx| async { Ok(()) }));
    /// ```
    pub fn conform(mut self, policy: ViolationPolicy) -> Self {
        self.spec.conform = Some(policy);
        self
    }

    /// Writes discovery metadata: `visit` is called for the stream node (level 0) and every field
    /// (nested objects too) with its breadcrumb, name, path and sub-schema, after the standard
    /// metadata (key properties and the replication key are already `inclusion: automatic`, other
    /// fields `available`). May be called several times; visitors run in order.
    ///
    /// ```
    /// use burler::prelude::*;
    /// let s: Stream<serde_json::Value, serde_json::Value, ()> = Stream::new("files")
    ///     .schema(serde_json::json!({"type": "object", "properties": {
    ///         "id": {"type": "integer"}, "blob": {"type": "string", "contentEncoding": "base64"}}}))
    ///     .metadata(|node, meta| {
    ///         if node.schema.get("contentEncoding").is_some() {
    ///             meta.unsupported();
    ///         }
    ///     });
    /// # let _ = Tap::new("t").stream(s.sync(|_ctx| async { Ok(()) }));
    /// ```
    pub fn metadata<F>(mut self, visit: F) -> Self
    where
        F: Fn(&SchemaNode<'_>, &mut NodeMetadata<'_>) + Send + Sync + 'static,
    {
        self.spec.metadata.push(Arc::new(visit));
        self
    }

    /// Restarts the stream's sync (up to `max_tries` tries in all) when `predicate` says the error is
    /// one to retry, from the bookmark the stream started with.
    pub fn retry_sync_on<F>(mut self, predicate: F, max_tries: u32) -> Self
    where
        F: Fn(&BoxError) -> bool + Send + Sync + 'static,
    {
        let setup = self.spec.retry.take().and_then(|r| r.setup);
        self.spec.retry = Some(RetrySync {
            predicate: Arc::new(predicate),
            max_tries: max_tries.max(1),
            setup,
        });
        self
    }

    /// A hook run before each retry of [`retry_sync_on`](Self::retry_sync_on) (declared before or
    /// after it): it may override the bookmark the retry starts from (e.g. reset it). Without
    /// `retry_sync_on` it is a startup error.
    pub fn on_retry<F>(mut self, setup: F) -> Self
    where
        F: Fn(&mut RetryScope) + Send + Sync + 'static,
    {
        let retry = self.spec.retry.get_or_insert_with(|| RetrySync {
            predicate: Arc::new(|_| false),
            max_tries: 0,
            setup: None,
        });
        retry.setup = Some(Arc::new(setup));
        self
    }

    /// Leaves the stream out of syncs without a catalog, and marks it `selected-by-default: false`.
    pub fn not_selected_by_default(mut self) -> Self {
        self.spec.selected_by_default = false;
        self
    }

    /// Adds a child stream: for every record of
    /// this stream, the child's sync runs with [`SyncContext::parent`] set to the record's child
    /// context (see [`child_context`](Self::child_context)). The children of the records read so far
    /// run before this stream's bookmark moves past them, so a resumed run loses no child. The child
    /// keeps one bookmark safe for every parent unless it declares
    /// [`state_partitioning_keys`](Self::state_partitioning_keys). The child runs once per
    /// distinct context per run (two records giving the same context sync it once; see
    /// [`child_of`](Self::child_of) for children of several parents).
    ///
    /// Selecting only the child still runs this stream to drive it (meltano/sdk#216 asks for
    /// the child alone): its records are read for their child contexts, never written — no
    /// SCHEMA, RECORD or bookmark of it — so it reads from its start (`start_date`) every run
    /// and the child's own bookmark decides what the child reads.
    pub fn substream(mut self, child: impl Into<BoxedStream<C, K>>) -> Self {
        self.children.push(child.into());
        self
    }

    /// Makes this stream a child of `parent` too (a stream declared earlier in the tap, by name),
    /// besides the parent it is a [`substream`](Self::substream) of, if any: it then runs for
    /// the records of each of its parents (singer-sdk users asked for this in meltano/sdk#2290).
    /// A stream declared at the top level with `child_of` is a sub-stream of those parents only.
    ///
    /// A child runs **once per distinct context per run**: when two parent records — of one
    /// parent or of different parents — give the same [`child_context`](Self::child_context),
    /// the second waits for the first one's sync and shares its outcome, so contexts that mean
    /// different things must differ (e.g. `{"country": "fr"}` and `{"category": "books"}`, not
    /// `{"id": 7}` from both). Either parent's bookmark covers a record only once that record's
    /// children are written. A child one sync of which holds several trees never gets a table
    /// version (ACTIVATE_VERSION after one tree would delete the other trees' rows at the target),
    /// and its shared bookmark moves only once every tree holding it completed whole.
    ///
    /// ```
    /// use burler::prelude::*;
    /// use serde_json::{Value, json};
    /// let stream = |name: &str| -> Stream<Value, Value, ()> {
    ///     Stream::new(name).schema(json!({"type": "object"})).key(["id"])
    /// };
    /// let events = stream("events")
    ///     .child_of("countries")
    ///     .child_of("categories")
    ///     .sync(|ctx: SyncContext<Value>| async move {
    ///         let _which = ctx.partition(); // {"country": ..} or {"category": ..}
    ///         Ok(())
    ///     });
    /// let countries = stream("countries")
    ///     .child_context(|r| json!({"country": r["id"]}))
    ///     .sync(|_ctx| async { Ok(()) });
    /// let categories = stream("categories")
    ///     .child_context(|r| json!({"category": r["id"]}))
    ///     .sync(|_ctx| async { Ok(()) });
    /// let _tap = Tap::new("tap-events").stream(countries).stream(categories).stream(events);
    /// ```
    pub fn child_of(mut self, parent: impl Into<String>) -> Self {
        self.spec.also_parents.push(parent.into());
        self
    }

    /// What a child stream receives from each record of this stream (default: the record's key
    /// properties, e.g. `{"id": 7}`; the whole record when the stream has no key).
    pub fn child_context<F>(mut self, f: F) -> Self
    where
        F: Fn(&R) -> Value + Send + Sync + 'static,
    {
        self.child_context = Some(Arc::new(f));
        self
    }

    /// How long (and for how many records) this parent reads before its children run
    /// (default 1 s / 500 records): no part of a tree starves, and memory stays bounded.
    pub fn interleave(mut self, max_time: Duration, max_records: usize) -> Self {
        self.spec.interleave = Interleave {
            max_time,
            max_records: max_records.max(1),
        };
        self
    }

    /// For-each partitions: `f` lists the partitions (e.g. accounts, from config or an API call),
    /// and the sync function runs once per partition with [`SyncContext::partition`] set. Each
    /// partition keeps its own bookmark in the state.
    pub fn partitions<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(SyncContext<R, C, K>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<Value>, BoxError>> + Send + 'static,
    {
        self.partitions = Some(Arc::new(move |ctx| Box::pin(f(ctx))));
        self
    }

    /// Syncs up to `n` partitions of this stream at once (default 1: one after another): for a
    /// stream with [`partitions`](Self::partitions), that many partitions; for a sub-stream, the
    /// children of that many parent records of one batch (with several sub-streams under one
    /// parent, the smallest of their limits). Each sync writes through its own buffer and
    /// bookmark: records reach stdout as whole lines, each partition's in its order, and a STATE
    /// covers only records already written, so a resumed run picks each partition up at its own
    /// bookmark. Worth it when the source is latency-bound (an API answering each request in tens
    /// of milliseconds); `0` is taken as 1.
    ///
    /// ```
    /// use burler::prelude::*;
    /// let s: Stream<burler::serde_json::Value, burler::serde_json::Value, ()> = Stream::new("usage")
    ///     .incremental("day")
    ///     .partitions(|_ctx| async { Ok(vec![serde_json::json!({"account": 1}), serde_json::json!({"account": 2})]) })
    ///     .max_concurrent_partitions(4);
    /// # let _ = s;
    /// ```
    pub fn max_concurrent_partitions(mut self, n: usize) -> Self {
        self.spec.max_concurrent_partitions = n.max(1);
        self
    }

    /// For a sub-stream: keeps a bookmark per parent, keyed by these keys of the parent's child
    /// context (all of it when `keys` is empty), instead of the default one bookmark safe for
    /// every parent. Like singer-sdk's `state_partitioning_keys`: the state then grows with the
    /// number of distinct parents, so use it when the child's source filters by the bookmark per
    /// parent and that saves real work. Contexts with the same keys share one bookmark: declare
    /// only keys that decide what the child reads.
    pub fn state_partitioning_keys<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.spec.per_parent = Some(keys.into_iter().map(Into::into).collect());
        self
    }

    /// Opt-in bookmark roll-up: when this parent finishes, its bookmark is raised to the minimum of
    /// its incremental children's bookmarks (over their partitions), never moved backwards.
    pub fn rollup_child_bookmarks(mut self) -> Self {
        self.spec.rollup = true;
        self
    }

    /// Starts each (partition's) sync this much before the stored date-time bookmark, to catch
    /// changes made while the previous run was reading.
    pub fn lookback(mut self, window: Duration) -> Self {
        self.spec.lookback = Some(window);
        self
    }

    /// Sets the sync function.
    pub fn sync<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(SyncContext<R, C, K>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = SyncResult> + Send + 'static,
    {
        self.sync = Some(Arc::new(move |ctx| Box::pin(f(ctx))));
        self
    }
}

impl<R, C, K> Stream<R, C, K>
where
    R: Serialize + schemars::JsonSchema + Send + Sync + 'static,
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    /// Derives the schema from the record type (schemars), in Singer's dialect
    /// (nullable as `["null", T]`, `format: date-time`, no `$ref`).
    pub fn schema_from_type(mut self) -> Self {
        self.spec.schema = SchemaSource::Json(burler_schema::for_type::<R>());
        self
    }
}

/// A stream with its record type erased, as the tap stores it.
pub struct BoxedStream<C, K> {
    pub(crate) spec: StreamSpec<C>,
    pub(crate) runner: Option<Arc<dyn crate::sync::ErasedSync<C, K>>>,
    pub(crate) children: Vec<BoxedStream<C, K>>,
}

impl<R, C, K> From<Stream<R, C, K>> for BoxedStream<C, K>
where
    R: Serialize + Send + Sync + 'static,
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    fn from(stream: Stream<R, C, K>) -> Self {
        let mut spec = stream.spec;
        let name = spec.name.clone();
        if stream.bookmark_fn.is_some() && spec.replication == Replication::FullTable {
            let e =
                format!("stream `{name}`: .bookmark(f) needs .incremental(key) or .log_based()");
            spec.errors.push(e);
        }
        if spec.retry.as_ref().is_some_and(|r| r.max_tries == 0) {
            let e = format!("stream `{name}`: .on_retry(f) needs .retry_sync_on(predicate, tries)");
            spec.errors.push(e);
        }
        spec.children = stream
            .children
            .iter()
            .map(|c| c.spec.name.clone())
            .collect();
        let runner = stream.sync.map(|sync| {
            Arc::new(crate::sync::TypedSync {
                sync,
                bookmark_fn: stream.bookmark_fn,
                partitions: stream.partitions,
                child_context: stream.child_context,
            }) as Arc<dyn crate::sync::ErasedSync<C, K>>
        });
        BoxedStream {
            spec,
            runner,
            children: stream.children,
        }
    }
}

impl<R, C, K> Stream<R, C, K>
where
    R: Serialize + Send + Sync + 'static,
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    /// Erases the record type, so streams of different record types fit in one list
    /// (to load streams from a module: `pub fn streams() -> Vec<BoxedStream<C, K>>`).
    pub fn boxed(self) -> BoxedStream<C, K> {
        self.into()
    }
}
