//! A compiled manifest as a [`burler::Tap`]: the client built once from the validated config,
//! one burler stream per manifest stream (sub-streams under their parents), each synced by
//! [`crate::fetch`]. Records are JSON as the API sent it, or `serde_json::Value` trees
//! ([`crate::passthrough::Record`]): the schema is known only at run time.

use std::sync::Arc;

use burler::prelude::*;
use serde_json::Value;

use crate::client::{Ctx, ManifestClient, ManifestStream};
use crate::passthrough::Record;
use crate::plan::{Plan, SchemaPlan, StreamPlan};

/// The tap of a compiled plan.
pub(crate) fn tap(plan: Plan) -> Tap<Value, Arc<ManifestClient>> {
    let plan = Arc::new(plan);
    let mut tap = Tap::new(plan.name.clone()).version(plan.version.clone());
    if let Some(description) = &plan.description {
        tap = tap.description(description.clone());
    }
    if let Some(schema) = &plan.config_schema {
        tap = tap.config_schema(schema.clone());
    }
    let tap = tap.secret(plan.secrets.clone());
    let for_client = plan.clone();
    let tap = tap.client(move |config: &Value| {
        ManifestClient::build(for_client.clone(), config).map(Arc::new)
    });
    let roots: Vec<_> = (0..plan.streams.len())
        .filter(|i| plan.streams[*i].parent.is_none())
        .map(|i| tree(&plan, i))
        .collect();
    tap.streams(roots)
}

/// Stream `index` with its sub-streams under it.
fn tree(plan: &Arc<Plan>, index: usize) -> burler::BoxedStream<Value, Arc<ManifestClient>> {
    let mut stream = stream(plan, index);
    let name = &plan.streams[index].name;
    let children: Vec<usize> = (0..plan.streams.len())
        .filter(|i| {
            plan.streams[*i]
                .parent
                .as_ref()
                .is_some_and(|p| &p.stream == name)
        })
        .collect();
    if children.iter().any(|c| {
        plan.streams[*c]
            .parent
            .as_ref()
            .is_some_and(|p| !p.partition.is_empty())
    }) {
        let for_context = plan.clone();
        let kids = children.clone();
        stream = stream.child_context(move |record| {
            crate::fetch::child_context(&for_context, index, &kids, record)
        });
    }
    for child in children {
        stream = stream.substream(tree(plan, child));
    }
    stream.boxed()
}

/// One manifest stream as a burler stream (without its children).
fn stream(plan: &Arc<Plan>, index: usize) -> ManifestStream {
    let sp: &StreamPlan = &plan.streams[index];
    let mut stream = Stream::new(sp.name.clone()).key(sp.primary_key.clone());
    stream = match &sp.schema {
        SchemaPlan::Inline(schema) => stream.schema(schema.clone()),
        SchemaPlan::File(path) => stream.schema_file(path.clone()),
        SchemaPlan::Infer { records } => {
            let (plan, records) = (plan.clone(), *records);
            stream.schema_fn(move |config: &Value| {
                crate::fetch::infer_schema(&plan, index, config, records)
            })
        }
    };
    if let Some(inc) = &sp.incremental {
        stream = stream.incremental(inc.cursor_field.clone());
        if crate::fetch::normalises_bookmarks(inc) {
            let (plan, field) = (plan.clone(), inc.cursor_field.clone());
            stream = stream.bookmark(move |record: &Record| {
                crate::fetch::bookmark_of(&plan, index, &field, record)
            });
        }
        if !inc.sorted {
            stream = stream.unsorted();
        }
        if let Some(lookback) = inc.lookback.and_then(|l| l.to_std().ok()) {
            stream = stream.lookback(lookback);
        }
    }
    if let Some(n) = sp.bookmark_every {
        stream = stream.bookmark_strategy(burler::BookmarkStrategy::Records(n));
    }
    if sp.parent.as_ref().is_some_and(|p| p.state_per_parent) {
        stream = stream.state_partitioning_keys(Vec::<String>::new());
    }
    stream.sync(move |ctx: Ctx| crate::fetch::sync(ctx, index))
}
