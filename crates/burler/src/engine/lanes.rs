//! What the syncs of one stream share when several run at once (parallel partitions, concurrent
//! child syncs): the stream's idle writers, each sync writing through its own (its own book and
//! buffer, so its records reach the output whole and its bookmark covers only its records).
//!
//! The stream's first writer is its main one: it keeps the stream's counters (a fork's are added
//! to it when its sync ends), its table version and the SCHEMA line. With one sync at a time it
//! is the only writer, as before parallel partitions.
//!
//! For a sub-stream, also the parent contexts it was synced for this run: a context's children
//! run once, and a later parent record with the same context (of the same parent or another)
//! waits for that sync and shares its outcome. Contexts are kept as 128-bit hashes of their
//! canonical JSON (16 bytes and a flag each, whatever the context's size).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::OnceCell;

use crate::scope::lock;
use crate::shard::canonical_json;
use crate::writer::Writer;

/// A sync of one context: running (waiters share its cell), or done (whether it was whole).
enum Slot {
    Syncing(Arc<OnceCell<bool>>),
    Synced(bool),
}

/// What the syncs of one stream share (see the module docs).
pub(crate) struct Lanes {
    idle: Mutex<Vec<Arc<Mutex<Writer>>>>,
    synced: Mutex<HashMap<u128, Slot>>,
}

/// Where a child sync for one context stands.
pub(super) enum Claim {
    /// Synced already this run; `true` when it and its tree completed.
    Done(bool),
    /// Run it through this cell (or wait for the sync running in it).
    Run(Arc<OnceCell<bool>>),
}

/// The key of a context: a 128-bit hash of its canonical JSON.
pub(super) fn context_key(context: &Value) -> u128 {
    let text = canonical_json(context);
    let half = |salt: u8| {
        let mut h = DefaultHasher::new();
        salt.hash(&mut h);
        text.hash(&mut h);
        h.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

impl Lanes {
    /// Lanes over the stream's main writer.
    pub(super) fn new(main: &Arc<Mutex<Writer>>) -> Self {
        Lanes {
            idle: Mutex::new(vec![main.clone()]),
            synced: Mutex::new(HashMap::new()),
        }
    }

    fn synced(&self) -> MutexGuard<'_, HashMap<u128, Slot>> {
        self.synced.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Where the sync for the context with `key` stands; the first caller gets a new cell.
    pub(super) fn claim(&self, key: u128) -> Claim {
        let mut synced = self.synced();
        match synced.get(&key) {
            Some(Slot::Synced(whole)) => Claim::Done(*whole),
            Some(Slot::Syncing(cell)) => Claim::Run(cell.clone()),
            None => {
                let cell = Arc::new(OnceCell::new());
                synced.insert(key, Slot::Syncing(cell.clone()));
                Claim::Run(cell)
            }
        }
    }

    /// The sync for `key` ended: only its outcome is kept.
    pub(super) fn settle(&self, key: u128, whole: bool) {
        self.synced().insert(key, Slot::Synced(whole));
    }

    /// A writer for one sync: an idle one, else a fork of the main writer.
    pub(super) fn acquire(&self, main: &Arc<Mutex<Writer>>) -> Arc<Mutex<Writer>> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        idle.unwrap_or_else(|| Arc::new(Mutex::new(lock(main).fork())))
    }

    /// Closes the BATCH files of every idle writer (their syncs ended): before a commit that
    /// covers their records, and at the end of the stream.
    pub(super) fn seal_idle(&self) -> std::io::Result<()> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        for writer in idle.iter() {
            lock(writer).seal_pending()?;
        }
        Ok(())
    }

    /// Gives a writer back once its sync ended (its book given back): a fork's counters go to
    /// the main writer.
    pub(super) fn release(&self, main: &Arc<Mutex<Writer>>, writer: Arc<Mutex<Writer>>) {
        if !Arc::ptr_eq(main, &writer) {
            let mut fork = lock(&writer);
            lock(main).absorb(&mut fork);
        }
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(writer);
    }
}
