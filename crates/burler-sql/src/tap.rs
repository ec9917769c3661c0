//! [`SqlTap`]: a database tap in a few lines. It reads the config, discovers the database's
//! tables, makes one stream per table (with the replication the catalog asks for) and hands them
//! to the framework's [`Tap`], which does the rest (command line, catalog, selection, STATE,
//! versions, report).

use std::ffi::OsString;
use std::future::Future;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use burler::{BookmarkStrategy, BoxError, CaptureBuffer, RunOutcome, Stream, SyncResult, Tap};
use burler_singer::{Breadcrumb, Catalog, ReplicationMethod, State, keys};
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::pool::PoolOptions;
use sqlx::{ConnectOptions, Connection, Pool};
use tracing::info;

use crate::args::Scan;
use crate::dialect::Dialect;
use crate::error::SqlError;
use crate::plan::{DefaultReplication, Partition, TablePlan};
use crate::record::SqlRecord;
use crate::sync::{self, SqlContext};
use crate::table::Table;

/// A config a SQL tap can run with: the dialect's own settings, maybe inside an author's config
/// (`#[serde(flatten)] db: PostgresConfig`).
pub trait SourceConfig<D: Dialect>:
    DeserializeOwned + schemars::JsonSchema + burler::TapConfig + Send + Sync + 'static
{
    /// The dialect's settings.
    fn source(&self) -> &D::Config;
}

/// What every stream's sync shares: the connection pool and facts about the run.
pub struct SqlClient<D: Dialect> {
    /// The pool (connections are opened on first use).
    pub pool: Pool<D::Db>,
    #[cfg_attr(
        not(feature = "postgres"),
        expect(dead_code, reason = "only PostgreSQL has a change log")
    )]
    pub(crate) run: Arc<RunFacts>,
}

impl<D: Dialect> std::fmt::Debug for SqlClient<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlClient")
            .field("database", &D::NAME)
            .finish_non_exhaustive()
    }
}

/// Facts about the run, known before the framework starts.
#[derive(Debug, Default)]
#[cfg_attr(
    not(feature = "postgres"),
    expect(dead_code, reason = "only PostgreSQL has a change log")
)]
pub(crate) struct RunFacts {
    /// The tables (schema, name) the catalog syncs LOG_BASED.
    pub(crate) log_tables: Vec<(String, String)>,
    /// The input state's bookmarks of those streams (a log may be released only up to the
    /// smallest).
    pub(crate) log_bookmarks: Vec<Option<Value>>,
    /// Set by the first LOG_BASED stream once the log is ready for this run: the server's
    /// version number, or why the log cannot be read.
    pub(crate) log_ready: tokio::sync::OnceCell<Result<u32, String>>,
}

type FilterFn<C> = Arc<dyn Fn(&Table, &C) -> Option<String> + Send + Sync>;
type PartitionsFn<C> = Arc<dyn Fn(&Table, &C) -> Vec<Partition> + Send + Sync>;
type IncludeFn = Arc<dyn Fn(&Table) -> bool + Send + Sync>;
type PrepareFn<C> = Arc<dyn Fn(&C) -> BoxFuture<'static, Result<(), BoxError>> + Send + Sync>;
type TapFn<C, D> = Box<dyn FnOnce(Tap<C, SqlClient<D>>) -> Tap<C, SqlClient<D>>>;

/// A database tap: a name, a dialect, a config type, and optional hooks.
///
/// ```no_run
/// use burler_sql::{Sqlite, SqlTap};
///
/// fn main() -> std::process::ExitCode {
///     SqlTap::<Sqlite>::new("tap-mydb").version(env!("CARGO_PKG_VERSION")).run()
/// }
/// ```
pub struct SqlTap<D: Dialect, C = <D as Dialect>::Config> {
    name: String,
    version: String,
    description: Option<String>,
    filter: Option<FilterFn<C>>,
    partitions: Option<PartitionsFn<C>>,
    include: Option<IncludeFn>,
    prepare: Option<PrepareFn<C>>,
    defaults: Vec<(String, DefaultReplication)>,
    checkpoint_every: u64,
    customize: Vec<TapFn<C, D>>,
}

impl<D: Dialect> SqlTap<D, D::Config>
where
    D::Config: SourceConfig<D>,
{
    /// A tap named `name` whose config is the dialect's own settings.
    pub fn new(name: impl Into<String>) -> Self {
        SqlTap {
            name: name.into(),
            version: "0.0.0".into(),
            description: None,
            filter: None,
            partitions: None,
            include: None,
            prepare: None,
            defaults: Vec::new(),
            checkpoint_every: 10_000,
            customize: Vec::new(),
        }
    }
}

impl<D: Dialect, C: SourceConfig<D>> SqlTap<D, C> {
    /// Types the config as `C` (which holds the dialect's settings, see [`SourceConfig`]).
    /// Call it first: hooks typed by the old config are dropped.
    pub fn config<C2: SourceConfig<D>>(self) -> SqlTap<D, C2> {
        SqlTap {
            name: self.name,
            version: self.version,
            description: self.description,
            filter: None,
            partitions: None,
            include: self.include,
            prepare: None,
            defaults: self.defaults,
            checkpoint_every: self.checkpoint_every,
            customize: Vec::new(),
        }
    }

    /// The version `--version` and `--about` show.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// The one-line description `--about` shows.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Which tables become streams (after the config's own filters).
    pub fn include<F>(mut self, keep: F) -> Self
    where
        F: Fn(&Table) -> bool + Send + Sync + 'static,
    {
        self.include = Some(Arc::new(keep));
        self
    }

    /// An extra SQL condition for a table's queries (`deleted = false`), ANDed to the others;
    /// `None` reads the whole table. Trusted author SQL: never build it from untrusted input.
    pub fn filter<F>(mut self, condition: F) -> Self
    where
        F: Fn(&Table, &C) -> Option<String> + Send + Sync + 'static,
    {
        self.filter = Some(Arc::new(condition));
        self
    }

    /// Splits a table into partitions synced one after the other, each with its own bookmark
    /// (INCREMENTAL) or checkpoint (FULL_TABLE); an empty list leaves the table whole. LOG_BASED
    /// streams are not partitioned.
    pub fn partitions<F>(mut self, split: F) -> Self
    where
        F: Fn(&Table, &C) -> Vec<Partition> + Send + Sync + 'static,
    {
        self.partitions = Some(Arc::new(split));
        self
    }

    /// Work to do before the tap connects (create a demo database, open a tunnel).
    pub fn prepare<F, Fut>(mut self, work: F) -> Self
    where
        F: Fn(&C) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        self.prepare = Some(Arc::new(move |c| Box::pin(work(c))));
        self
    }

    /// The replication of `stream` when the catalog does not choose one (and in `--discover`).
    pub fn default_replication(
        mut self,
        stream: impl Into<String>,
        replication: DefaultReplication,
    ) -> Self {
        self.defaults.push((stream.into(), replication));
        self
    }

    /// Rows between two FULL_TABLE checkpoints (and INCREMENTAL bookmarks); default 10,000.
    pub fn checkpoint_every(mut self, rows: u64) -> Self {
        self.checkpoint_every = rows.max(1);
        self
    }

    /// Sets framework options on the tap (`.secret(..)`, `.max_concurrent_streams(..)`, …).
    pub fn tap<F>(mut self, f: F) -> Self
    where
        F: FnOnce(Tap<C, SqlClient<D>>) -> Tap<C, SqlClient<D>> + 'static,
    {
        self.customize.push(Box::new(f));
        self
    }

    /// Parses the process's command line, runs, and returns the exit code.
    pub fn run(self) -> ExitCode {
        burler::init_logging();
        let stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout());
        let outcome = self.run_with(std::env::args_os(), Box::new(stdout));
        ExitCode::from(outcome.exit_code)
    }

    /// Runs with these arguments (the first is the program name) and output, in-process (tests).
    pub fn run_with<I, T>(self, args: I, sink: Box<dyn Write + Send>) -> RunOutcome
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString>,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let scan = Scan::of(&args);
        let config = (!scan.no_database).then(|| scan.config::<C>()).flatten();
        let Some(config) = config else {
            // Nothing to discover: the framework prints help, version, about, or the config error.
            return self
                .framework_tap(Vec::new(), Arc::default())
                .run_with(args, sink);
        };
        let tables = match self.discover(&config) {
            Ok(tables) => tables,
            Err(e) => {
                eprintln!("CRITICAL {e}");
                return RunOutcome::failed(1, e.to_string());
            }
        };
        let catalog = scan.catalog_file().and_then(|p| Catalog::from_path(p).ok());
        let plans = self.plans(tables, catalog.as_ref(), &config);
        let facts = Arc::new(run_facts(&plans, scan.state.as_deref()));
        let streams = plans
            .into_iter()
            .map(|p| stream_of::<D, C>(p).boxed())
            .collect();
        let tap = self.framework_tap(streams, facts);
        if scan.discover {
            discover_into(tap, args, sink)
        } else {
            tap.run_with(args, sink)
        }
    }

    /// Runs the prepare hook, connects, and lists the tables.
    fn discover(&self, config: &C) -> Result<Vec<Table>, SqlError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| SqlError::Config(format!("cannot start the async runtime: {e}")))?;
        runtime.block_on(async {
            if let Some(prepare) = &self.prepare {
                prepare(config)
                    .await
                    .map_err(|e| SqlError::Config(format!("prepare: {e}")))?;
            }
            let source = config.source();
            let options = D::connect_options(source)?.disable_statement_logging();
            let unreachable = |e| SqlError::Connect {
                target: D::target(source),
                source: e,
            };
            // One attempt first: an unreachable server fails at once (a pool retries until its
            // acquire timeout).
            let probe = <D::Db as sqlx::Database>::Connection::connect_with(&options)
                .await
                .map_err(unreachable)?;
            let _ = probe.close().await;
            let pool = PoolOptions::<D::Db>::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .map_err(unreachable)?;
            let tables = D::discover(&pool, source).await;
            pool.close().await;
            let tables = tables?;
            info!(
                "{} {}: {} table(s) and view(s)",
                D::NAME,
                D::target(source),
                tables.len()
            );
            Ok(tables)
        })
    }

    /// One plan per included table.
    fn plans(&self, tables: Vec<Table>, catalog: Option<&Catalog>, config: &C) -> Vec<TablePlan> {
        let decimal = D::decimal_mode(config.source());
        tables
            .into_iter()
            .filter(|t| self.include.as_ref().is_none_or(|keep| keep(t)))
            .map(|table| {
                let stream = D::stream_name(&table);
                let default = self
                    .defaults
                    .iter()
                    .find(|(s, _)| *s == stream)
                    .map_or(DefaultReplication::FullTable, |(_, d)| d.clone());
                let entry = catalog.and_then(|c| c.get(&stream));
                let mut plan = TablePlan::new(table, stream, entry, &default, decimal);
                plan.filter = self.filter.as_ref().and_then(|f| f(&plan.table, config));
                if plan.method != ReplicationMethod::LogBased {
                    plan.partitions = self
                        .partitions
                        .as_ref()
                        .map(|f| f(&plan.table, config))
                        .unwrap_or_default();
                }
                plan.checkpoint_every = self.checkpoint_every;
                plan.log_schema = D::log_fields(config.source()) && !plan.table.is_view;
                plan
            })
            .collect()
    }

    /// The framework's tap with these streams.
    fn framework_tap(
        self,
        streams: Vec<burler::BoxedStream<C, SqlClient<D>>>,
        facts: Arc<RunFacts>,
    ) -> Tap<C, SqlClient<D>> {
        let mut tap = Tap::new(self.name).version(self.version);
        if let Some(d) = self.description {
            tap = tap.description(d);
        }
        let mut tap = tap
            .config::<C>()
            .client(move |config: &C| connect_lazy::<D, C>(config, facts.clone()))
            .streams(streams);
        for customize in self.customize {
            tap = customize(tap);
        }
        tap
    }
}

/// The pool of the sync: no connection is made until a stream needs one.
fn connect_lazy<D: Dialect, C: SourceConfig<D>>(
    config: &C,
    run: Arc<RunFacts>,
) -> Result<SqlClient<D>, SqlError> {
    let source = config.source();
    let options = D::connect_options(source)?.disable_statement_logging();
    let pool = PoolOptions::<D::Db>::new()
        .max_connections(D::max_connections(source))
        .connect_lazy_with(options);
    Ok(SqlClient { pool, run })
}

/// The LOG_BASED bookmarks of the input state.
fn run_facts(plans: &[TablePlan], state: Option<&std::path::Path>) -> RunFacts {
    let state = state
        .and_then(|p| State::from_path(p).ok())
        .unwrap_or_default();
    let logged: Vec<&TablePlan> = plans
        .iter()
        .filter(|p| p.method == ReplicationMethod::LogBased)
        .collect();
    RunFacts {
        log_tables: logged
            .iter()
            .map(|p| (p.table.schema.clone(), p.table.name.clone()))
            .collect(),
        log_bookmarks: logged
            .iter()
            .map(|p| state.replication_key_value(&p.stream).cloned())
            .collect(),
        log_ready: tokio::sync::OnceCell::new(),
    }
}

/// The framework stream of one table.
fn stream_of<D: Dialect, C: SourceConfig<D>>(
    plan: TablePlan,
) -> Stream<SqlRecord<D>, C, SqlClient<D>> {
    let plan = Arc::new(plan);
    let schema = plan.table.json_schema(plan.decimal, plan.log_schema);
    let table = plan.table.clone();
    let rk = plan.replication_key.clone();
    let mut stream = Stream::new(plan.stream.clone())
        .schema(schema)
        // The primary key; for a view, the catalog's `view-key-properties`.
        .key(plan.key.clone())
        .bookmark_strategy(BookmarkStrategy::Records(plan.checkpoint_every))
        .metadata(move |node, meta| {
            table.write_metadata(node, meta);
            if let (0, Some(rk)) = (node.level, &rk) {
                let mut valid = table.replication_key_candidates();
                if !valid.contains(rk) {
                    valid.push(rk.clone());
                }
                meta.set(keys::VALID_REPLICATION_KEYS, valid);
            }
        });
    stream = match (&plan.method, &plan.replication_key) {
        (ReplicationMethod::Incremental, Some(key)) => stream.incremental(key.clone()),
        (ReplicationMethod::LogBased, _) => stream.log_based(),
        _ => stream.full_table(),
    };
    if !plan.partitions.is_empty() {
        let contexts: Vec<Value> = plan.partitions.iter().map(|p| p.context.clone()).collect();
        stream = stream.partitions(move |_ctx| {
            let contexts = contexts.clone();
            async move { Ok(contexts) }
        });
    }
    stream.sync(move |ctx| sync_stream::<D, C>(ctx, plan.clone()))
}

async fn sync_stream<D: Dialect, C: SourceConfig<D>>(
    ctx: SqlContext<D, C>,
    plan: Arc<TablePlan>,
) -> SyncResult {
    match plan.method {
        ReplicationMethod::FullTable => sync::full_table(ctx, plan, false).await,
        ReplicationMethod::Incremental => sync::incremental(ctx, plan).await,
        ReplicationMethod::LogBased => D::sync_log_based(ctx, plan).await,
    }
}

/// `--discover`: the framework's catalog without `forced-replication-method`, since a table can
/// be synced FULL_TABLE, INCREMENTAL or (where the database has a log) LOG_BASED.
fn discover_into<C, K>(
    tap: Tap<C, K>,
    args: Vec<OsString>,
    mut sink: Box<dyn Write + Send>,
) -> RunOutcome
where
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    let captured = CaptureBuffer::new();
    let outcome = tap.run_with(args, Box::new(captured.clone()));
    let text = captured.text();
    let rewritten = Catalog::from_json_str(&text).ok().map(|mut catalog| {
        for entry in &mut catalog.streams {
            entry
                .metadata
                .remove(&Breadcrumb::root(), keys::FORCED_REPLICATION_METHOD);
        }
        serde_json::to_string_pretty(&catalog).map(|mut t| {
            t.push('\n');
            t
        })
    });
    let text = match rewritten {
        Some(Ok(t)) => t,
        _ => text,
    };
    if let Err(e) = sink.write_all(text.as_bytes()).and_then(|()| sink.flush()) {
        eprintln!("CRITICAL writing output: {e}");
        return RunOutcome::failed(1, e.to_string());
    }
    outcome
}
