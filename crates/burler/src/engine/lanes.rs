//! What the syncs of one stream share when several run at once (parallel partitions, concurrent
//! child syncs): the stream's idle writers, each sync writing through its own (its own book and
//! buffer, so its records reach the output whole and its bookmark covers only its records).
//!
//! The stream's first writer is its main one: it keeps the stream's counters (a fork's are added
//! to it when its sync ends), its table version and the SCHEMA line. With one sync at a time it
//! is the only writer, as before parallel partitions.

use std::sync::{Arc, Mutex};

use crate::scope::lock;
use crate::writer::Writer;

/// The idle writers of one stream (see the module docs).
pub(crate) struct Lanes {
    idle: Mutex<Vec<Arc<Mutex<Writer>>>>,
}

impl Lanes {
    /// Lanes over the stream's main writer.
    pub(super) fn new(main: &Arc<Mutex<Writer>>) -> Self {
        Lanes {
            idle: Mutex::new(vec![main.clone()]),
        }
    }

    /// A writer for one sync: an idle one, else a fork of the main writer.
    pub(super) fn acquire(&self, main: &Arc<Mutex<Writer>>) -> Arc<Mutex<Writer>> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        idle.unwrap_or_else(|| Arc::new(Mutex::new(lock(main).fork())))
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
