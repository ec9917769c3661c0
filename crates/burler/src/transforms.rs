//! What the operator's config does to the records of any burler tap, with no code from the tap
//! author: singer-sdk's stream maps and flattening (`stream_maps`, `stream_map_config`,
//! `flattening_enabled`, `flattening_max_depth`, …, see `burler-maps`) and BATCH messages
//! (`batch_config`, see `burler-batch`). Compiled once, after the catalog is read and before the
//! first message: a bad expression or a bad `batch_config` is one startup error naming the
//! setting.

use std::collections::HashMap;

use burler_batch::BatchConfig;
use burler_maps::{SourceStream, StreamMapper, StreamMaps};
use serde_json::{Map, Value};
use tracing::warn;

use crate::error::Error;
use crate::plan::PlannedStream;
use crate::writer::{Route, RouteStream};

/// The compiled stream maps and BATCH settings of a run.
pub(crate) struct Transforms {
    tap: String,
    /// The mapper of every stream a map or flattening changes.
    mappers: HashMap<String, StreamMapper>,
    batch: Option<BatchConfig>,
    /// The config files, for errors.
    files: String,
}

impl Transforms {
    /// Compiles the settings of `config` for the selected streams of the plan.
    pub(crate) fn compile<C, K>(
        config: &Map<String, Value>,
        tap: &str,
        files: String,
        streams: &[PlannedStream<C, K>],
    ) -> Result<Self, Error> {
        let invalid = |problem: String| Error::InvalidConfig {
            source_files: files.clone(),
            problems: vec![problem],
        };
        let sources = streams.iter().filter(|s| s.selected).map(|s| SourceStream {
            name: &s.facts.name,
            schema: &s.writer.schema,
            key_properties: &s.facts.key_properties,
        });
        let maps = StreamMaps::compile(config, sources).map_err(|e| invalid(e.to_string()))?;
        for key in maps.unmatched_keys() {
            warn!("stream_maps: `{key}` matches no selected stream");
        }
        let mappers = if maps.is_inactive() {
            HashMap::new()
        } else {
            maps.into_mappers()
                .filter(|m| !m.is_identity())
                .map(|m| (m.source().to_owned(), m))
                .collect()
        };
        let batch = BatchConfig::from_config(config).map_err(|e| invalid(e.to_string()))?;
        Ok(Transforms {
            tap: tap.to_owned(),
            mappers,
            batch,
            files,
        })
    }

    /// The route of a stream's records (`None`: the writer's direct path), taking its mapper.
    pub(crate) fn route_for<C, K>(
        &mut self,
        planned: &PlannedStream<C, K>,
    ) -> Result<Option<Route>, Error> {
        let name = &planned.facts.name;
        let stream = RouteStream {
            tap: &self.tap,
            name,
            schema: &planned.writer.schema,
            key_properties: &planned.facts.key_properties,
            bookmark_properties: planned.policy.key.clone().map(|k| vec![k]),
        };
        let batch = self.batch.as_ref().filter(|_| planned.selected);
        Route::new(&stream, self.mappers.remove(name), batch).map_err(|e| Error::InvalidConfig {
            source_files: self.files.clone(),
            problems: vec![e.to_string()],
        })
    }
}
