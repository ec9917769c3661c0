//! What the engine hands a sync function's context: the run's shared values, the facts of the
//! stream being synced, its writer, and a handle back into the engine (for other streams and for
//! the children of a parent's records).
//!
//! The handle is a trait the engine implements ([`Tree`]), so the context reaches children without
//! importing the engine: data flows one way, inputs → plan → engine → context → writer → output.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use burler_singer::{Metadata, ReplicationMethod};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::Value;

use crate::bookmark::BookmarkValue;
use crate::error::BoxError;
use crate::writer::Writer;

/// How a parent stream's records are read in chunks so its children run in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interleave {
    /// Children run at least this often while the parent reads.
    pub max_time: Duration,
    /// Children run after at most this many parent records (also the bound of the queue of
    /// child contexts, whichever emit call feeds it).
    pub max_records: usize,
}

impl Default for Interleave {
    fn default() -> Self {
        Interleave {
            max_time: Duration::from_secs(1),
            max_records: 500,
        }
    }
}

/// What every sync function of a run shares.
pub(crate) struct RunEnv<C, K> {
    pub(crate) config: C,
    pub(crate) client: K,
    pub(crate) start_date: Option<DateTime<Utc>>,
    pub(crate) sync_started: DateTime<Utc>,
}

/// The facts of one stream a context needs, decided by the plan; shared, never copied.
#[derive(Debug, Clone)]
pub(crate) struct StreamFacts {
    pub(crate) name: String,
    pub(crate) metadata: Metadata,
    pub(crate) method: ReplicationMethod,
    pub(crate) emits_to: Vec<String>,
    /// The sub-streams that run for each record this run (selected, or driving selected ones).
    pub(crate) children: Vec<String>,
    pub(crate) interleave: Interleave,
    pub(crate) key_properties: Vec<String>,
}

/// The children of one parent record, handed to the engine.
#[derive(Debug, Clone)]
pub(crate) struct ChildTask {
    /// What the children receive as their partition (the parent record's child context).
    pub(crate) context: Value,
    /// The parent record's replication key, to hold the parent's bookmark below it if a child
    /// fails (`None`: the record has none).
    pub(crate) parent_key: Option<BookmarkValue>,
}

/// What became of a batch of children.
#[derive(Debug, Default)]
pub(crate) struct ChildrenDone {
    /// For each parent record whose children failed (or whose own tree is incomplete), its
    /// replication key.
    pub(crate) failed: Vec<Option<BookmarkValue>>,
}

/// The engine, as a sync context reaches it.
pub(crate) trait Tree: Send + Sync {
    /// The writer of `stream` (for `emit_to`).
    fn writer(&self, stream: &str) -> Option<Arc<Mutex<Writer>>>;

    /// Runs the children of `parent` for every task, each to its end (its own children included).
    /// A failing child is collected and reported; `Err` only when the run stops at the first
    /// failure (`--fail-fast`).
    fn run_children(
        self: Arc<Self>,
        parent: &str,
        tasks: Vec<ChildTask>,
    ) -> BoxFuture<'static, Result<ChildrenDone, BoxError>>;

    /// Closes the BATCH files of every stream below `parent`, before the parent commits a
    /// bookmark that covers their records.
    fn seal_below(&self, parent: &str) -> std::io::Result<()>;
}

/// One run of a sync function, as the engine starts it.
pub(crate) struct Scope {
    pub(crate) facts: Arc<StreamFacts>,
    pub(crate) writer: Arc<Mutex<Writer>>,
    /// The for-each partition or the parent record's context.
    pub(crate) partition: Option<Value>,
    /// Where the sync starts (the book's start), as the sync function sees it.
    pub(crate) start: Option<Value>,
    pub(crate) tree: Arc<dyn Tree>,
    /// Set when the children of some record failed: the sync wrote everything of its own, but
    /// its tree is incomplete (the streams above it must not count it as done).
    pub(crate) incomplete: Arc<AtomicBool>,
}

/// Locks a writer. Lines are written whole under this lock, so a panic elsewhere leaves nothing
/// half-written and a poisoned lock is still usable.
pub(crate) fn lock(writer: &Mutex<Writer>) -> MutexGuard<'_, Writer> {
    writer.lock().unwrap_or_else(|p| p.into_inner())
}
