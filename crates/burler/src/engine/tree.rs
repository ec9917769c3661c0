//! The engine as sync contexts reach it: other streams' writers, and the children of a parent's
//! records, each run to its end before the parent's bookmark may cover its record (the children
//! of up to the sub-stream's `max_concurrent_partitions` parent records at once), once per
//! distinct parent context per run (see [`Lanes`](super::lanes::Lanes)).

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use futures::future::BoxFuture;
use serde_json::Value;
use tracing::warn;

use super::lanes::{Claim, context_key};
use super::{Done, Engine, Handle, label};
use crate::error::BoxError;
use crate::scope::{ChildTask, ChildrenDone, Tree};
use crate::writer::Writer;

impl<C, K> Tree for Engine<C, K>
where
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    fn writer(&self, stream: &str) -> Option<Arc<Mutex<Writer>>> {
        self.handle(stream).map(|h| h.writer.clone())
    }

    fn seal_below(&self, parent: &str) -> std::io::Result<()> {
        for name in self.descendants(parent) {
            if let Some(h) = self.handle(&name) {
                h.lanes.seal_idle()?;
            }
        }
        Ok(())
    }

    fn run_children(
        self: Arc<Self>,
        parent: &str,
        tasks: Vec<ChildTask>,
    ) -> BoxFuture<'static, Result<ChildrenDone, BoxError>> {
        let children: Vec<_> = self
            .handle(parent)
            .map(|h| h.plan.facts.children.clone())
            .unwrap_or_default()
            .iter()
            .filter_map(|c| self.handle(c).cloned())
            .collect();
        let limit = children
            .iter()
            .map(|c| c.plan.max_concurrent_partitions)
            .min()
            .unwrap_or(1)
            .max(1);
        Box::pin(async move {
            let children = &children;
            let engine = &self;
            let mut runs = futures::stream::iter(tasks)
                .map(|task| async move {
                    let whole = engine.clone().children_of(children, &task.context).await;
                    whole.map(|whole| (!whole).then_some(task.parent_key))
                })
                .buffer_unordered(limit);
            let mut done = ChildrenDone::default();
            while let Some(run) = runs.next().await {
                done.failed.extend(run?);
            }
            Ok(done)
        })
    }
}

impl<C, K> Engine<C, K>
where
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    /// Runs every child stream for one parent record's `context`, one after another. `true` when
    /// each child and its own tree completed; `Err` only with `--fail-fast`.
    async fn children_of(
        self: Arc<Self>,
        children: &[Arc<Handle<C, K>>],
        context: &Value,
    ) -> Result<bool, BoxError> {
        let mut whole = true;
        for child in children {
            whole &= self.clone().sync_child(child, context).await?;
        }
        Ok(whole)
    }

    /// Syncs `child` for `context` once per run: a context synced already gives that sync's
    /// outcome; one syncing now (for another parent record, on another task) is waited for, so
    /// the parent's bookmark still covers its record only once the child's records are written.
    async fn sync_child(
        self: Arc<Self>,
        child: &Arc<Handle<C, K>>,
        context: &Value,
    ) -> Result<bool, BoxError> {
        let key = context_key(context);
        let cell = match child.lanes.claim(key) {
            Claim::Done(whole) => return Ok(whole),
            Claim::Run(cell) => cell,
        };
        let sync = || self.clone().sync_once(child.clone(), context.clone());
        let whole = *cell.get_or_try_init(sync).await?;
        child.lanes.settle(key, whole);
        Ok(whole)
    }

    /// One sync of `child` for `context`: `true` when it and its tree completed. A failure is
    /// logged (the engine reports it at the end); `Err` only with `--fail-fast`.
    async fn sync_once(
        self: Arc<Self>,
        child: Arc<Handle<C, K>>,
        context: Value,
    ) -> Result<bool, BoxError> {
        match self
            .clone()
            .run_partition(child.clone(), Some(context.clone()))
            .await
        {
            Ok(Done::Whole) => Ok(true),
            Ok(Done::Incomplete) => Ok(false),
            Err(e) => {
                warn!("{}: {e}", label(child.name(), Some(&context)));
                if self.options.fail_fast {
                    return Err(e);
                }
                Ok(false)
            }
        }
    }
}
