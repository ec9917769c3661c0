//! The one place Singer messages leave the tap: a buffered sink shared by every stream.
//!
//! Streams encode whole lines into their own buffers and hand them over in one piece, so lines of
//! concurrent streams never interleave. A STATE line (the ledger's) is written right after the
//! pending lines of the writer that commits it, and the sink is flushed after it: a target never
//! sees a STATE before the records it covers.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use burler_singer::{Message, State, StateMessage};

/// Where messages go: stdout in production, a shared buffer in tests.
pub(crate) type SinkWriter = Box<dyn Write + Send>;

/// Size of the per-stream buffer before it is handed to the sink.
pub(crate) const STREAM_BUFFER_BYTES: usize = 64 * 1024;

/// The shared sink and the optional `--out-file`.
#[derive(Clone)]
pub(crate) struct Output {
    inner: Arc<Mutex<OutputInner>>,
    /// Set once the reader (the target) has gone away: nothing more can be delivered.
    broken: Arc<AtomicBool>,
    /// STATE lines are left out (a `--test` run moves no bookmark).
    no_states: Arc<AtomicBool>,
}

struct OutputInner {
    sink: SinkWriter,
    out_file: Option<PathBuf>,
    /// Scratch buffer for STATE lines, reused.
    line: Vec<u8>,
}

impl Output {
    pub(crate) fn new(sink: SinkWriter, out_file: Option<PathBuf>) -> Self {
        Self {
            inner: Arc::new(Mutex::new(OutputInner {
                sink,
                out_file,
                line: Vec::with_capacity(1024),
            })),
            broken: Arc::new(AtomicBool::new(false)),
            no_states: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Leaves every STATE line out from now on: for a run whose state must not be kept.
    pub(crate) fn leave_states_out(&self) {
        self.no_states.store(true, Ordering::Relaxed);
    }

    /// True once a write failed because the reader closed the pipe.
    pub(crate) fn is_broken(&self) -> bool {
        self.broken.load(Ordering::Relaxed)
    }

    /// Notes a broken pipe, and passes the error on.
    fn note(&self, e: io::Error) -> io::Error {
        if e.kind() == io::ErrorKind::BrokenPipe {
            self.broken.store(true, Ordering::Relaxed);
        }
        e
    }

    fn lock(&self) -> MutexGuard<'_, OutputInner> {
        // A panic while holding the lock cannot leave half a line in the sink (lines are written
        // whole), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes whole lines from a stream buffer and clears it.
    pub(crate) fn write_lines(&self, buf: &mut Vec<u8>) -> io::Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let mut inner = self.lock();
        inner.sink.write_all(buf).map_err(|e| self.note(e))?;
        buf.clear();
        Ok(())
    }

    /// Writes a non-record message (SCHEMA, ACTIVATE_VERSION) after the stream's pending lines.
    pub(crate) fn write_message(&self, pending: &mut Vec<u8>, message: &Message) -> io::Result<()> {
        let mut inner = self.lock();
        inner.sink.write_all(pending).map_err(|e| self.note(e))?;
        pending.clear();
        message.write_to(&mut inner.sink).map_err(|e| self.note(e))
    }

    /// Writes a writer's pending lines, then a STATE line holding `state`, then flushes the sink
    /// (and writes `--out-file`). Only the ledger calls it.
    pub(crate) fn write_state(&self, pending: &mut Vec<u8>, state: &State) -> io::Result<()> {
        let mut guard = self.lock();
        let inner = &mut *guard;
        inner.sink.write_all(pending).map_err(|e| self.note(e))?;
        pending.clear();
        if self.no_states.load(Ordering::Relaxed) {
            return inner.sink.flush().map_err(|e| self.note(e));
        }
        let message = Message::State(StateMessage {
            value: state.to_value(),
        });
        inner.line.clear();
        message.write_to(&mut inner.line)?;
        inner
            .sink
            .write_all(&inner.line)
            .map_err(|e| self.note(e))?;
        inner.sink.flush().map_err(|e| self.note(e))?;
        if let (Some(path), Message::State(m)) = (&inner.out_file, &message) {
            write_atomically(path, &m.value).map_err(|e| {
                io::Error::new(e.kind(), format!("--out-file {}: {e}", path.display()))
            })?;
        }
        Ok(())
    }

    /// Flushes the sink.
    pub(crate) fn flush(&self) -> io::Result<()> {
        self.lock().sink.flush().map_err(|e| self.note(e))
    }
}

/// Writes the state to `path` via a temporary file and a rename, so a reader never sees half a file.
fn write_atomically(path: &std::path::Path, value: &serde_json::Value) -> io::Result<()> {
    let tmp = temporary_path(path);
    {
        let mut file = std::fs::File::create(&tmp)?;
        serde_json::to_writer(&mut file, value)?;
        file.write_all(b"\n")?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// Where [`write_atomically`] writes before the rename (the runner probes it before the sync).
pub(crate) fn temporary_path(path: &std::path::Path) -> PathBuf {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    PathBuf::from(tmp)
}

/// A sink that appends to a shared buffer: used to run a tap in-process and capture its messages.
#[derive(Clone, Default, Debug)]
pub struct CaptureBuffer(Arc<Mutex<Vec<u8>>>);

impl CaptureBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.contents()).into_owned()
    }
}

impl Write for CaptureBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
