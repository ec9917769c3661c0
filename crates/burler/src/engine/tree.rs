//! The engine as sync contexts reach it: other streams' writers, and the children of a parent's
//! records, each run to its end before the parent's bookmark may cover its record.

use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use tracing::warn;

use super::{Done, Engine, label};
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
        Box::pin(async move {
            let mut done = ChildrenDone::default();
            for task in tasks {
                let mut failed = false;
                for child in &children {
                    let context = Some(task.context.clone());
                    let e = match self.clone().run_partition(child.clone(), context).await {
                        Ok(Done::Whole) => continue,
                        Ok(Done::Incomplete) => {
                            failed = true;
                            continue;
                        }
                        Err(e) => e,
                    };
                    warn!("{}: {e}", label(child.name(), Some(&task.context)));
                    if self.options.fail_fast {
                        return Err(e);
                    }
                    failed = true;
                }
                if failed {
                    done.failed.push(task.parent_key.clone());
                }
            }
            Ok(done)
        })
    }
}
