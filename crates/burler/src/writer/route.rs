//! Where a stream's records go when the operator's config changes them: through the stream maps
//! and flattening (`stream_maps`, `flattening_enabled`, …) into one record per output stream, and
//! each output either as RECORD lines or into BATCH files (`batch_config`).
//!
//! A writer without a route keeps its direct path (one serialization per record, straight into
//! the buffer). With one, the record is a `Map` (it has to be, for the expressions), and:
//!
//! - the writer reads the replication key and lets the book admit the record *before* the route
//!   writes it, since a line in a BATCH file cannot be taken back;
//! - the bookmark follows the input record, as singer-sdk's does: a record a map filters out or
//!   a stream map removes still moves it;
//! - a BATCH file that holds records a STATE is about to cover is closed, and its BATCH message
//!   written, first ([`Route::seal`]): a STATE never covers records in a file the target cannot
//!   see yet.

use std::sync::Arc;

use burler_batch::{BatchConfig, BatchError, BatchWriter};
use burler_maps::StreamMapper;
use burler_singer::{Message, RecordEncoder, SchemaMessage};
use serde_json::{Map, Value};

use crate::error::EmitError;

/// One output stream of a route.
struct Sink {
    name: String,
    encoder: RecordEncoder,
    schema: Message,
    batch: Option<BatchWriter>,
}

/// What the writer of one stream sends its records through (see the module docs).
pub(crate) struct Route {
    stream: String,
    /// The stream maps and flattening of the stream (shared by the writers of its parallel
    /// syncs); `None`: the records as they are (BATCH only).
    mapper: Option<Arc<StreamMapper>>,
    sinks: Vec<Sink>,
    slots: Vec<Option<Map<String, Value>>>,
    /// A record's JSON text, for its BATCH file (reused).
    scratch: Vec<u8>,
    /// A BATCH file was closed since the last commit (a commit is due: singer-sdk writes a STATE
    /// after every BATCH message).
    sealed: bool,
}

/// The stream a route is built for.
pub(crate) struct RouteStream<'a> {
    pub(crate) tap: &'a str,
    pub(crate) name: &'a str,
    pub(crate) schema: &'a Value,
    pub(crate) key_properties: &'a [String],
    pub(crate) bookmark_properties: Option<Vec<String>>,
}

impl Route {
    /// The route of `stream`: `None` when neither a map nor BATCH changes its records.
    pub(crate) fn new(
        stream: &RouteStream<'_>,
        mapper: Option<StreamMapper>,
        batch: Option<&BatchConfig>,
    ) -> Result<Option<Self>, BatchError> {
        let mapper = mapper.filter(|m| !m.is_identity());
        if mapper.is_none() && batch.is_none() {
            return Ok(None);
        }
        let outputs: Vec<(String, SchemaMessage)> = match &mapper {
            Some(m) => m
                .outputs()
                .iter()
                .map(|o| {
                    let message = o.schema_message(stream.bookmark_properties.clone());
                    (o.name().to_owned(), message)
                })
                .collect(),
            None => vec![(
                stream.name.to_owned(),
                SchemaMessage {
                    stream: stream.name.to_owned(),
                    schema: stream.schema.clone(),
                    key_properties: stream.key_properties.to_vec(),
                    bookmark_properties: stream.bookmark_properties.clone(),
                },
            )],
        };
        let sinks = outputs
            .into_iter()
            .map(|(name, schema)| {
                let batch = batch
                    .map(|b| BatchWriter::new(b, stream.tap, &name, &schema.schema))
                    .transpose()?;
                Ok(Sink {
                    encoder: RecordEncoder::new(&name),
                    schema: Message::Schema(schema),
                    name,
                    batch,
                })
            })
            .collect::<Result<_, BatchError>>()?;
        Ok(Some(Route {
            stream: stream.name.to_owned(),
            mapper: mapper.map(Arc::new),
            sinks,
            slots: Vec::new(),
            scratch: Vec::with_capacity(1024),
            sealed: false,
        }))
    }

    /// The route of another writer of the stream (a sync beside this one): the same maps, BATCH
    /// files of its own.
    pub(crate) fn fork(&self) -> Route {
        Route {
            stream: self.stream.clone(),
            mapper: self.mapper.clone(),
            sinks: self
                .sinks
                .iter()
                .map(|s| Sink {
                    name: s.name.clone(),
                    encoder: RecordEncoder::new(&s.name),
                    schema: s.schema.clone(),
                    batch: s.batch.as_ref().map(BatchWriter::fork),
                })
                .collect(),
            slots: Vec::new(),
            scratch: Vec::with_capacity(1024),
            sealed: false,
        }
    }

    /// The output streams' names (for ACTIVATE_VERSION), in order.
    pub(crate) fn output_names(&self) -> impl Iterator<Item = &str> {
        self.sinks.iter().map(|s| s.name.as_str())
    }

    /// The output streams' SCHEMA messages, in order (none when a map removes the stream).
    pub(crate) fn schema_messages(&self) -> impl Iterator<Item = &Message> {
        self.sinks.iter().map(|s| &s.schema)
    }

    /// Whether the children of `record` are synced: not when a map removes the stream or its
    /// primary map's `__filter__` rejects the record (as singer-sdk).
    pub(crate) fn syncs_children_of(&self, record: &Map<String, Value>) -> Result<bool, EmitError> {
        match &self.mapper {
            Some(m) => m.syncs_children_of(record).map_err(|e| self.map_error(e)),
            None => Ok(true),
        }
    }

    /// Writes one record to every output: as a RECORD line into `buf` (ending with `tail`), or
    /// into the output's BATCH file, whose BATCH message goes into `buf` when the record fills it.
    pub(crate) fn write(
        &mut self,
        record: Map<String, Value>,
        buf: &mut Vec<u8>,
        tail: &[u8],
    ) -> Result<(), EmitError> {
        match &self.mapper {
            Some(m) => m
                .apply(record, &mut self.slots)
                .map_err(|e| map_error(&self.stream, e))?,
            None => {
                self.slots.clear();
                self.slots.push(Some(record));
            }
        }
        for (sink, slot) in self.sinks.iter_mut().zip(self.slots.drain(..)) {
            let Some(record) = slot else { continue };
            let Some(batch) = &mut sink.batch else {
                sink.encoder
                    .encode_with_tail(buf, &record, tail)
                    .map_err(|source| EmitError::Serialize {
                        stream: sink.name.clone(),
                        source,
                    })?;
                continue;
            };
            self.scratch.clear();
            serde_json::to_writer(&mut self.scratch, &record).map_err(|source| {
                EmitError::Serialize {
                    stream: sink.name.clone(),
                    source,
                }
            })?;
            if let Some(message) = batch.write_json(&self.scratch).map_err(batch_error)? {
                write_batch(buf, message);
                self.sealed = true;
            }
        }
        Ok(())
    }

    /// Closes every open BATCH file and writes its BATCH message into `buf`: before a STATE that
    /// covers the records in it.
    pub(crate) fn seal(&mut self, buf: &mut Vec<u8>) -> Result<(), BatchError> {
        for sink in &mut self.sinks {
            let Some(batch) = &mut sink.batch else {
                continue;
            };
            if let Some(message) = batch.close_file()? {
                write_batch(buf, message);
            }
        }
        self.sealed = false;
        Ok(())
    }

    /// True when a BATCH file filled up since the last [`seal`](Self::seal): a commit is due.
    pub(crate) fn filled_a_file(&self) -> bool {
        self.sealed
    }

    /// True when records go to BATCH files.
    pub(crate) fn batches(&self) -> bool {
        self.sinks.iter().any(|s| s.batch.is_some())
    }

    fn map_error(&self, e: burler_maps::RecordError) -> EmitError {
        map_error(&self.stream, e)
    }
}

fn write_batch(buf: &mut Vec<u8>, message: burler_singer::BatchMessage) {
    // A Message always serializes into a Vec.
    let _ = Message::Batch(message).write_to(buf);
}

fn map_error(stream: &str, e: burler_maps::RecordError) -> EmitError {
    EmitError::Map {
        stream: stream.to_owned(),
        message: e.to_string(),
    }
}

fn batch_error(e: BatchError) -> EmitError {
    EmitError::Batch(e.to_string())
}
