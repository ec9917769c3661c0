//! Discovery: the catalog a tap prints for `--discover`, with standard metadata.

use burler_singer::{
    Breadcrumb, Catalog, CatalogEntry, Metadata, ReplicationMethod, keys, visit_schema,
};
use serde_json::Value;

use crate::stream::BoxedStream;

/// Builds the catalog of every stream from its resolved schema.
pub(crate) fn catalog<C, K>(streams: &[BoxedStream<C, K>], schemas: &[Value]) -> Catalog {
    Catalog {
        streams: streams
            .iter()
            .zip(schemas)
            .map(|(s, schema)| entry(s, schema))
            .collect(),
    }
}

fn entry<C, K>(stream: &BoxedStream<C, K>, schema: &Value) -> CatalogEntry {
    let spec = &stream.spec;
    let method = spec.replication.method();
    let key = spec.replication.key().map(str::to_owned);
    let valid_keys: Vec<String> = key.iter().cloned().collect();
    // Only a stream that cannot be synced another way forces its method; an incremental stream may
    // still be synced FULL_TABLE by a user who asks for it.
    let forced = match method {
        ReplicationMethod::Incremental => None,
        other => Some(other),
    };
    let mut metadata = Metadata::standard(
        schema,
        &spec.key_properties,
        &valid_keys,
        forced,
        Some(spec.selected_by_default),
    );
    // The metadata names one parent: the first (a `child_of` child may have several).
    if let Some(parent) = spec.parents().next() {
        metadata.set(
            &Breadcrumb::root(),
            keys::PARENT_TAP_STREAM_ID,
            parent.as_str(),
        );
    }
    for visit in &spec.metadata {
        visit_schema(schema, &mut metadata, |node, meta| visit(node, meta));
    }
    CatalogEntry {
        tap_stream_id: spec.name.clone(),
        stream: spec.name.clone(),
        schema: schema.clone(),
        metadata,
        key_properties: spec.key_properties.clone(),
        replication_key: key,
        replication_method: Some(method),
        selected: None,
        extra: Default::default(),
    }
}
