//! Erasing a stream's record type, so the tap can hold streams of different record types in one list.

use std::sync::{Arc, Mutex};

use burler_singer::Metadata;
use futures::future::BoxFuture;
use serde::Serialize;
use serde_json::Value;

use crate::context::{StreamCtx, SyncContext};
use crate::error::SyncResult;
use crate::run::RunShared;
use crate::runtime::StreamRuntime;
use crate::stream::{BookmarkFn, SyncFn};

/// What one run of a sync function needs besides the run itself.
pub(crate) struct SyncStart {
    pub(crate) name: String,
    pub(crate) runtime: Arc<Mutex<StreamRuntime>>,
    pub(crate) emits_to: Vec<String>,
    pub(crate) start_bookmark: Option<Value>,
    pub(crate) metadata: Metadata,
}

/// A sync function with its record type erased.
pub(crate) trait ErasedSync<C, K>: Send + Sync {
    fn start(&self, run: Arc<RunShared<C, K>>, start: SyncStart) -> BoxFuture<'static, SyncResult>;
}

/// The typed sync function and bookmark function of a `Stream<R, C, K>`.
pub(crate) struct TypedSync<R, C, K> {
    pub(crate) sync: SyncFn<R, C, K>,
    pub(crate) bookmark_fn: Option<BookmarkFn<R>>,
}

impl<R, C, K> ErasedSync<C, K> for TypedSync<R, C, K>
where
    R: Serialize + Send + Sync + 'static,
    C: Send + Sync + 'static,
    K: Send + Sync + 'static,
{
    fn start(&self, run: Arc<RunShared<C, K>>, start: SyncStart) -> BoxFuture<'static, SyncResult> {
        let ctx = SyncContext {
            run,
            stream: Arc::new(StreamCtx {
                name: start.name,
                runtime: start.runtime,
                bookmark_fn: self.bookmark_fn.clone(),
                emits_to: start.emits_to,
                start_bookmark: start.start_bookmark,
                metadata: start.metadata,
            }),
        };
        (self.sync)(ctx)
    }
}
