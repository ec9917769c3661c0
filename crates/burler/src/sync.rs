//! Erasing a stream's record type, so the tap can hold streams of different record types in one list.

use std::sync::{Arc, Mutex};

use burler_singer::Metadata;
use futures::future::BoxFuture;
use serde::Serialize;
use serde_json::Value;

use crate::context::{StreamCtx, SyncContext};
use crate::error::{BoxError, SyncResult};
use crate::run::RunShared;
use crate::runtime::StreamRuntime;
use crate::stream::{BookmarkFn, ChildContextFn, Interleave, PartitionsFn, SyncFn};

/// What one run of a sync function needs besides the run itself.
pub(crate) struct SyncStart {
    pub(crate) name: String,
    pub(crate) runtime: Arc<Mutex<StreamRuntime>>,
    pub(crate) emits_to: Vec<String>,
    pub(crate) start_bookmark: Option<Value>,
    pub(crate) metadata: Metadata,
    pub(crate) partition: Option<Value>,
    pub(crate) children: Vec<String>,
    pub(crate) interleave: Interleave,
    pub(crate) key_properties: Vec<String>,
}

/// A sync function with its record type erased.
pub(crate) trait ErasedSync<C, K>: Send + Sync {
    /// Runs the sync function once.
    fn start(&self, run: Arc<RunShared<C, K>>, start: SyncStart) -> BoxFuture<'static, SyncResult>;

    /// Lists the stream's partitions, when it declares them.
    fn partitions(
        &self,
        run: Arc<RunShared<C, K>>,
        start: SyncStart,
    ) -> Option<BoxFuture<'static, Result<Vec<Value>, BoxError>>>;
}

/// The typed functions of a `Stream<R, C, K>`.
pub(crate) struct TypedSync<R, C, K> {
    pub(crate) sync: SyncFn<R, C, K>,
    pub(crate) bookmark_fn: Option<BookmarkFn<R>>,
    pub(crate) partitions: Option<PartitionsFn<R, C, K>>,
    pub(crate) child_context: Option<ChildContextFn<R>>,
}

impl<R, C, K> TypedSync<R, C, K> {
    fn context(&self, run: Arc<RunShared<C, K>>, start: SyncStart) -> SyncContext<R, C, K> {
        SyncContext {
            run,
            stream: Arc::new(StreamCtx {
                name: start.name,
                runtime: start.runtime,
                bookmark_fn: self.bookmark_fn.clone(),
                emits_to: start.emits_to,
                start_bookmark: start.start_bookmark,
                metadata: start.metadata,
                partition: start.partition,
                children: start.children,
                child_context: self.child_context.clone(),
                interleave: start.interleave,
                key_properties: start.key_properties,
                pending_children: Mutex::new(Vec::new()),
            }),
        }
    }
}

impl<R, C, K> ErasedSync<C, K> for TypedSync<R, C, K>
where
    R: Serialize + Send + Sync + 'static,
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    fn start(&self, run: Arc<RunShared<C, K>>, start: SyncStart) -> BoxFuture<'static, SyncResult> {
        let ctx = self.context(run, start);
        let sync = self.sync.clone();
        Box::pin(async move {
            sync(ctx.clone()).await?;
            // Children of the records read last run before the parent's sync counts as done.
            ctx.run_children().await
        })
    }

    fn partitions(
        &self,
        run: Arc<RunShared<C, K>>,
        start: SyncStart,
    ) -> Option<BoxFuture<'static, Result<Vec<Value>, BoxError>>> {
        let f = self.partitions.clone()?;
        Some(f(self.context(run, start)))
    }
}
