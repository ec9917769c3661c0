//! Erasing a stream's record type, so the tap can hold streams of different record types in one list.

use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use serde::Serialize;
use serde_json::Value;

use crate::context::{BookmarkFn, ChildContextFn, SyncContext, SyncRun};
use crate::error::{BoxError, SyncResult};
use crate::scope::{RunEnv, Scope};

/// A sync function.
pub(crate) type SyncFn<R, C, K> =
    Arc<dyn Fn(SyncContext<R, C, K>) -> BoxFuture<'static, SyncResult> + Send + Sync>;
/// A function listing a stream's for-each partitions.
pub(crate) type PartitionsFn<R, C, K> = Arc<
    dyn Fn(SyncContext<R, C, K>) -> BoxFuture<'static, Result<Vec<Value>, BoxError>> + Send + Sync,
>;

/// A sync function with its record type erased.
pub(crate) trait ErasedSync<C, K>: Send + Sync {
    /// Runs the sync function once, then the children of the records it emitted last.
    fn start(&self, env: Arc<RunEnv<C, K>>, scope: Scope) -> BoxFuture<'static, SyncResult>;

    /// True when the stream declares for-each partitions.
    fn has_partitions(&self) -> bool;

    /// Lists the stream's partitions, when it declares them.
    fn partitions(
        &self,
        env: Arc<RunEnv<C, K>>,
        scope: Scope,
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
    fn context(&self, env: Arc<RunEnv<C, K>>, scope: Scope) -> SyncContext<R, C, K> {
        SyncContext {
            env,
            run: Arc::new(SyncRun {
                scope,
                bookmark_fn: self.bookmark_fn.clone(),
                child_context: self.child_context.clone(),
                pending: Mutex::new(Vec::new()),
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
    fn start(&self, env: Arc<RunEnv<C, K>>, scope: Scope) -> BoxFuture<'static, SyncResult> {
        let ctx = self.context(env, scope);
        let sync = self.sync.clone();
        Box::pin(async move {
            let result = sync(ctx.clone()).await;
            // A sync the record limit of `--test` stopped ended cleanly, whatever its function
            // made of the error.
            if result.is_err() && !ctx.stopped_at_limit() {
                return result;
            }
            // Children of the records read last run before the parent's sync counts as done.
            ctx.run_children().await.map_err(Into::into)
        })
    }

    fn has_partitions(&self) -> bool {
        self.partitions.is_some()
    }

    fn partitions(
        &self,
        env: Arc<RunEnv<C, K>>,
        scope: Scope,
    ) -> Option<BoxFuture<'static, Result<Vec<Value>, BoxError>>> {
        let f = self.partitions.clone()?;
        Some(f(self.context(env, scope)))
    }
}
