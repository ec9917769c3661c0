//! Syncing one top-level stream and its tree, and one partition of any stream: the book opened,
//! the sync function run with retries, the book given back.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::{Map, Value};
use tracing::{error, info, warn};

use super::{Done, Engine, Handle, error, label};
use crate::error::{BoxError, SyncResult};
use crate::report::StreamReport;
use crate::scope::{Scope, Tree, lock};
use crate::stream::RetryScope;
use crate::writer::Writer;

impl<C, K> Engine<C, K>
where
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    /// Syncs one top-level stream: `currently_syncing`, SCHEMAs and table versions of its tree,
    /// its partitions (each with its children), the streams it feeds, the versions activated
    /// when the whole tree succeeded, and the final STATE.
    pub(super) async fn sync_root(self: Arc<Self>, root: Arc<Handle<C, K>>) -> StreamReport {
        let started = Instant::now();
        let name = root.name().to_owned();
        let before = self.ledger.reported_bookmark(&name);
        info!(
            "Starting sync of stream {name} from bookmark {}",
            show(before.as_ref())
        );
        let tree = self.descendants(&name);
        let result = match self.begin_tree(&root, &tree) {
            Ok(()) => self.clone().run_partitions(&root).await,
            Err(e) => Err(e),
        };
        let result = result.and_then(|()| self.finish_tree(&root, &tree));
        if result.is_err() {
            self.mark_tree_failed(&root, &tree);
        }
        let elapsed = started.elapsed().as_secs_f64();
        self.log_end(&root, &result, elapsed, before.as_ref());
        super::report::of_root(&self, &root, result, elapsed, before)
    }

    /// Marks the root currently syncing and writes the SCHEMA of it, of the streams it feeds and
    /// of its tree (parents first), and starts the table versions of the tree.
    fn begin_tree(&self, root: &Handle<C, K>, tree: &[String]) -> SyncResult {
        self.ledger.begin_stream(root.name())?;
        let fed = root.plan.facts.emits_to.iter();
        for name in std::iter::once(&root.plan.facts.name)
            .chain(fed)
            .chain(tree)
        {
            if let Some(h) = self.handle(name) {
                lock(&h.writer).ensure_schema()?;
            }
        }
        for name in &root.plan.facts.emits_to {
            if let Some(h) = self.handle(name) {
                let book = self.ledger.open(name, None);
                lock(&h.writer).lend(book);
            }
        }
        for name in std::iter::once(&root.plan.facts.name).chain(tree) {
            if let Some(h) = self.handle(name).filter(|h| h.plan.versioned) {
                lock(&h.writer).begin_version()?;
            }
        }
        Ok(())
    }

    /// Runs the root once, or once per partition when it declares partitions (up to the stream's
    /// `max_concurrent_partitions` at once). A failing partition is collected; its siblings still
    /// run.
    async fn run_partitions(self: Arc<Self>, root: &Arc<Handle<C, K>>) -> SyncResult {
        let Some(runner) = root.plan.runner.clone() else {
            return Ok(());
        };
        let scope = self.scope(root, &root.writer, None, None);
        let Some(listing) = runner.partitions(self.env.clone(), scope) else {
            return self
                .clone()
                .run_partition(root.clone(), None)
                .await
                .map(|_| ());
        };
        let partitions = this_workers(root, listing.await?);
        self.clone().run_at_once(root, partitions).await?;
        let failed = root.outcome().failures.len();
        if failed > 0 {
            return Err(error(format!("{failed} partition(s) failed")));
        }
        Ok(())
    }

    /// Runs the partitions of `root`, in their order, up to its limit at once, each on its own
    /// task. With `--fail-fast` the first failure stops the others (their records not yet
    /// committed are not claimed by any STATE).
    async fn run_at_once(
        self: Arc<Self>,
        root: &Arc<Handle<C, K>>,
        partitions: Vec<Value>,
    ) -> SyncResult {
        let limit = root.plan.max_concurrent_partitions.max(1);
        let mut queue = partitions.into_iter();
        let mut running = tokio::task::JoinSet::new();
        let mut contexts = HashMap::new();
        loop {
            while running.len() < limit
                && let Some(partition) = queue.next()
            {
                let sync = self
                    .clone()
                    .run_partition(root.clone(), Some(partition.clone()));
                contexts.insert(running.spawn(sync).id(), partition);
            }
            let Some(joined) = running.join_next_with_id().await else {
                return Ok(());
            };
            let failure = match joined {
                Ok((id, result)) => {
                    contexts.remove(&id);
                    result.err()
                }
                Err(e) => {
                    let message = format!("the sync panicked: {e}");
                    let partition = contexts.remove(&e.id());
                    root.outcome().failures.push((partition, message.clone()));
                    Some(error(message))
                }
            };
            if let (Some(e), true) = (failure, self.options.fail_fast) {
                running.abort_all();
                return Err(e);
            }
        }
    }

    /// Syncs one partition (or the whole stream): its book, retries, then the book given back,
    /// through a writer of its own while other syncs of the stream run. A failure is recorded on
    /// the stream's outcome (and returned).
    pub(super) fn run_partition(
        self: Arc<Self>,
        handle: Arc<Handle<C, K>>,
        partition: Option<Value>,
    ) -> futures::future::BoxFuture<'static, Result<Done, BoxError>> {
        Box::pin(async move {
            handle.outcome().ran = true;
            let writer = handle.lanes.acquire(&handle.writer);
            let book = self.ledger.open(handle.name(), partition.as_ref());
            let emitted_before = {
                let mut w = lock(&writer);
                w.lend(book);
                w.stats().emitted
            };
            let result = self
                .run_with_retries(&handle, &writer, partition.clone())
                .await;
            let whole = matches!(result, Ok(Done::Whole));
            let sealed = self.seal_below(handle.name());
            let result = result.and_then(|done| sealed.map(|()| done).map_err(Into::into));
            let given_back = lock(&writer).give_back(result.is_ok(), whole);
            let result = result.and_then(|done| given_back.map(|()| done).map_err(Into::into));
            if let Some(p) = partition.as_ref().filter(|_| handle.plan.parent.is_none()) {
                count_partition(&writer, handle.name(), p, emitted_before);
            }
            handle.lanes.release(&handle.writer, writer);
            if let Err(e) = &result {
                handle
                    .outcome()
                    .failures
                    .push((partition.clone(), e.to_string()));
            }
            result
        })
    }

    /// Runs the sync function; on an error the stream's retry policy accepts, runs it again from
    /// the original start (or where the retry hook says).
    async fn run_with_retries(
        self: &Arc<Self>,
        handle: &Arc<Handle<C, K>>,
        writer: &Arc<Mutex<Writer>>,
        partition: Option<Value>,
    ) -> Result<Done, BoxError> {
        let Some(runner) = handle.plan.runner.clone() else {
            return Ok(Done::Whole);
        };
        let original = lock(writer).book().start_json().cloned();
        let mut attempt = 1;
        loop {
            let start = lock(writer).book().start_json().cloned();
            let scope = self.scope(handle, writer, partition.clone(), start);
            let incomplete = scope.incomplete.clone();
            let err = match runner.start(self.env.clone(), scope).await {
                Ok(()) if incomplete.load(Ordering::Relaxed) => return Ok(Done::Incomplete),
                Ok(()) => return Ok(Done::Whole),
                Err(e) => e,
            };
            let Some(retry) = &handle.plan.retry else {
                return Err(err);
            };
            if attempt >= retry.max_tries || !(retry.predicate)(&err) {
                return Err(err);
            }
            attempt += 1;
            let mut scope = RetryScope {
                attempt,
                error: err.to_string(),
                bookmark: original.clone(),
            };
            if let Some(setup) = &retry.setup {
                setup(&mut scope);
            }
            warn!(
                "{}: try {} failed: {err}; retrying from bookmark {}",
                label(handle.name(), partition.as_ref()),
                attempt - 1,
                show(scope.bookmark.as_ref())
            );
            let mut w = lock(writer);
            let next = self.ledger.restart(w.book(), scope.bookmark);
            w.flush()?;
            w.lend(next);
        }
    }

    /// The scope of one run of `handle`'s sync function.
    pub(super) fn scope(
        self: &Arc<Self>,
        handle: &Handle<C, K>,
        writer: &Arc<Mutex<Writer>>,
        partition: Option<Value>,
        start: Option<Value>,
    ) -> Scope {
        Scope {
            facts: handle.plan.facts.clone(),
            writer: writer.clone(),
            partition,
            start,
            tree: self.clone() as Arc<dyn Tree>,
            incomplete: Arc::new(AtomicBool::new(false)),
        }
    }

    /// After the root succeeded: commits the streams it fed, activates the table versions of
    /// the tree whose every sync succeeded, and lets the ledger finish the tree (the streams of it
    /// no other unfinished tree holds).
    fn finish_tree(&self, root: &Handle<C, K>, tree: &[String]) -> SyncResult {
        for name in &root.plan.facts.emits_to {
            if let Some(h) = self.handle(name) {
                let mut w = lock(&h.writer);
                w.checkpoint()?;
                w.give_back(true, true)?;
            }
        }
        for name in tree.iter().chain(std::iter::once(&root.plan.facts.name)) {
            let Some(h) = self.handle(name) else {
                continue;
            };
            let ok = h.outcome().failures.is_empty();
            // Every sync of the stream ended: its writers' BATCH files close before
            // ACTIVATE_VERSION and the STATE below.
            h.lanes.seal_idle()?;
            let mut w = lock(&h.writer);
            if h.plan.versioned && ok {
                w.finish_version()?;
            } else {
                w.abandon_version();
                w.seal_pending()?;
            }
        }
        root.outcome().tree_done = true;
        // A child in other trees too waits for the last of them (its shared bookmark then covers
        // every parent).
        let complete: Vec<String> = tree
            .iter()
            .filter(|c| self.trees_done(c))
            .cloned()
            .collect();
        self.ledger.finish_stream(root.name(), &complete)?;
        Ok(())
    }

    /// True when every tree holding `stream` has completed, each read whole by this process (no
    /// partitions left to other workers).
    fn trees_done(&self, stream: &str) -> bool {
        let whole = |root: &Handle<C, K>| root.outcome().tree_done && root.plan.shard.is_none();
        self.handle(stream).is_some_and(|h| {
            h.plan
                .roots
                .iter()
                .all(|r| self.handle(r).is_some_and(|r| whole(r)))
        })
    }

    /// The root failed: its sub-streams are reported as such; pending records are written, and a
    /// STATE carries what its finished partitions noted (never its failed ones).
    fn mark_tree_failed(&self, root: &Handle<C, K>, tree: &[String]) {
        let _ = lock(&root.writer).flush_state();
        for name in &root.plan.facts.emits_to {
            if let Some(h) = self.handle(name) {
                let _ = lock(&h.writer).give_back(false, false);
            }
        }
        for name in tree {
            if let Some(h) = self.handle(name) {
                h.outcome().parent_failed = true;
                let _ = h.lanes.seal_idle();
                let mut w = lock(&h.writer);
                w.abandon_version();
                let _ = w.seal_pending();
            }
        }
    }

    fn log_end(
        &self,
        root: &Handle<C, K>,
        result: &Result<(), BoxError>,
        elapsed: f64,
        before: Option<&Value>,
    ) {
        let name = root.name();
        let w = lock(&root.writer);
        w.log_record_count();
        let status = if result.is_ok() {
            "succeeded"
        } else {
            "failed"
        };
        let mut tags = Map::new();
        tags.insert("job_type".into(), Value::from("sync"));
        tags.insert("endpoint".into(), Value::from(name));
        tags.insert("status".into(), Value::from(status));
        burler_singer::metrics::Metric::timer("job_duration", elapsed, tags).emit();
        let after = self.ledger.reported_bookmark(name);
        match result {
            Ok(()) => info!(
                "Finished stream {name}: {} records in {elapsed:.2}s; bookmark {} -> {}",
                w.stats().emitted,
                show(before),
                show(after.as_ref()),
            ),
            Err(e) => error!(
                "stream {name} failed after {} records: {e}",
                w.stats().emitted
            ),
        }
    }
}

/// The partitions of `root` this process syncs: all of them, or under `--partitions` those that
/// fall to this worker.
fn this_workers<C, K>(root: &Handle<C, K>, listed: Vec<Value>) -> Vec<Value> {
    let Some(shard) = &root.plan.shard else {
        info!("stream {}: {} partition(s)", root.name(), listed.len());
        return listed;
    };
    let total = listed.len();
    let mine: Vec<Value> = listed
        .into_iter()
        .filter(|p| shard.takes(root.name(), Some(p)))
        .collect();
    info!(
        "stream {}: {} of {total} partition(s) on this worker (--partitions)",
        root.name(),
        mine.len()
    );
    mine
}

/// The `record_count` of one partition's sync (`writer` wrote it).
fn count_partition(writer: &Mutex<Writer>, stream: &str, partition: &Value, emitted_before: u64) {
    let emitted = lock(writer).stats().emitted;
    let mut tags = Map::new();
    tags.insert("endpoint".into(), Value::from(stream));
    tags.insert("context".into(), partition.clone());
    let n = emitted - emitted_before;
    burler_singer::metrics::Metric::counter("record_count", n, tags).emit();
}

/// A bookmark for logs.
pub(super) fn show(value: Option<&Value>) -> String {
    value.map_or("none".to_owned(), |v| v.to_string())
}
