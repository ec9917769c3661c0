//! The plan: what a sync will do, decided from the tap's definition and the checked inputs before
//! anything runs (no I/O).
//!
//! Per stream: whether it is selected or only needed (a parent driving a selected child, a feeder
//! of a selected stream), its replication method and key this run, its field selection and
//! schema, how the ledger keeps its bookmarks ([`Policy`]), whether it gets a table version, and
//! which of its children run. Then the order of the top-level streams.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use burler_schema::Conformer;
use burler_singer::{Catalog, CatalogEntry, FieldSelection, ReplicationMethod, State};
use serde_json::Value;
use tracing::{info, warn};

use crate::bookmark::BookmarkStrategy;
use crate::definition::TapDef;
use crate::ledger::{Keeps, Policy};
use crate::scope::StreamFacts;
use crate::shard::PartitionSelector;
use crate::stream::{BoxedStream, Replication, RetrySync};
use crate::sync::ErasedSync;
use crate::writer::RecordHook;

/// How one stream's records are written this run.
pub(crate) struct WriterPlan {
    pub(crate) schema: Value,
    pub(crate) selection: FieldSelection,
    /// Top-level fields the catalog's schema lacks: left out of records.
    pub(crate) leave_out: Vec<String>,
    pub(crate) hooks: Vec<RecordHook>,
    pub(crate) conformer: Option<Conformer>,
    pub(crate) strategy: BookmarkStrategy,
    pub(crate) sorted: bool,
}

/// One stream of the plan.
pub(crate) struct PlannedStream<C, K> {
    pub(crate) facts: Arc<StreamFacts>,
    pub(crate) runner: Option<Arc<dyn ErasedSync<C, K>>>,
    pub(crate) selected: bool,
    /// Runs this run: selected, or feeding or driving a selected stream.
    pub(crate) needed: bool,
    /// The first parent, for a sub-stream.
    pub(crate) parent: Option<String>,
    /// The top-level streams whose trees hold this stream (itself, for a top-level stream):
    /// several for a child of parents in different trees.
    pub(crate) roots: Vec<String>,
    pub(crate) after: Vec<String>,
    pub(crate) retry: Option<RetrySync>,
    /// How many of its partitions (for a sub-stream: parent records' syncs) run at once.
    pub(crate) max_concurrent_partitions: usize,
    /// For a top-level stream with partitions under `--partitions`: which of them this process
    /// syncs (the others are other workers').
    pub(crate) shard: Option<Arc<PartitionSelector>>,
    pub(crate) policy: Policy,
    /// FULL_TABLE for the whole table this run (a top-level stream, or a child whose ancestors are
    /// all FULL_TABLE): one table version, activated when the tree completes.
    pub(crate) versioned: bool,
    pub(crate) writer: WriterPlan,
}

/// What a sync will do.
pub(crate) struct Plan<C, K> {
    /// Every stream, in declaration order (parents before their children).
    pub(crate) streams: Vec<PlannedStream<C, K>>,
    /// The top-level streams to run, in dependency order.
    pub(crate) order: Vec<String>,
    /// The stream an interrupted run was syncing (it goes first).
    pub(crate) resume: Option<String>,
}

/// What the plan is built from besides the tap.
pub(crate) struct PlanInputs<'a> {
    pub(crate) catalog: &'a Catalog,
    pub(crate) state: &'a State,
    /// Per stream, top-level fields of the tap's schema the catalog's schema leaves out.
    pub(crate) missing: &'a HashMap<String, Vec<String>>,
    /// The top-level partitions this process syncs (`--partitions`); `None`: all of them.
    pub(crate) selector: Option<&'a PartitionSelector>,
}

impl<C, K> Plan<C, K> {
    /// Plans a sync of `tap` with these inputs.
    pub(crate) fn build(tap: &TapDef<C, K>, inputs: &PlanInputs<'_>) -> Self {
        let selected: HashMap<&str, bool> = tap
            .streams
            .iter()
            .map(|d| {
                let name = d.spec.name.as_str();
                let on = inputs
                    .catalog
                    .get(name)
                    .is_some_and(CatalogEntry::is_selected);
                (name, on)
            })
            .collect();
        let needed = needed_streams(&tap.streams, &selected);
        let mut streams: Vec<PlannedStream<C, K>> = Vec::new();
        for def in &tap.streams {
            let planned = plan_stream(tap, def, inputs, &selected, &needed, &streams);
            streams.push(planned);
        }
        let roots: Vec<(&str, &[String])> = tap
            .streams
            .iter()
            .filter(|d| d.spec.parents().next().is_none())
            .map(|d| (d.spec.name.as_str(), d.spec.after.as_slice()))
            .collect();
        let resume = inputs.state.currently_syncing().map(str::to_owned);
        let order = run_order(&roots, resume.as_deref());
        Plan {
            streams,
            order,
            resume,
        }
    }

    /// The stream named `name`.
    #[cfg(test)]
    pub(crate) fn get(&self, name: &str) -> Option<&PlannedStream<C, K>> {
        self.streams.iter().find(|s| s.facts.name == name)
    }

    /// Each stream's bookmark policy, for the ledger.
    pub(crate) fn policies(&self) -> HashMap<String, Policy> {
        self.streams
            .iter()
            .map(|s| (s.facts.name.clone(), s.policy.clone()))
            .collect()
    }

    /// `(stream, replication key)` of every stream that syncs INCREMENTAL this run.
    pub(crate) fn incremental_keys(&self) -> impl Iterator<Item = (&str, &str)> {
        self.streams
            .iter()
            .filter_map(|s| Some((s.facts.name.as_str(), s.policy.key.as_deref()?)))
    }
}

/// Plans one stream; `earlier` holds the streams declared before it (its parent among them).
fn plan_stream<C, K>(
    tap: &TapDef<C, K>,
    def: &BoxedStream<C, K>,
    inputs: &PlanInputs<'_>,
    selected: &HashMap<&str, bool>,
    needed: &HashSet<&str>,
    earlier: &[PlannedStream<C, K>],
) -> PlannedStream<C, K> {
    let spec = &def.spec;
    let entry = inputs.catalog.get(&spec.name);
    let method = effective_method(&spec.replication, entry, &spec.name);
    let key = match method {
        ReplicationMethod::Incremental => {
            replication_key(spec.replication.key(), entry, &spec.name)
        }
        _ => None,
    };
    let children: Vec<String> = children_of(&tap.streams, &spec.name)
        .filter(|c| c.runner.is_some() && needed.contains(c.spec.name.as_str()))
        .map(|c| c.spec.name.clone())
        .collect();
    let parents: Vec<&PlannedStream<C, K>> = earlier
        .iter()
        .filter(|p| spec.parents().any(|n| *n == p.facts.name))
        .collect();
    let roots = roots_of(&spec.name, &parents);
    let wanted = def.runner.is_some() && needed.contains(spec.name.as_str());
    let (taken, shard) = shard_of(def, &parents, inputs.selector, wanted);
    // One version per run needs the whole table read in one tree (of this process), all of it
    // FULL_TABLE.
    let versioned = method == ReplicationMethod::FullTable
        && parents.iter().all(|p| p.versioned)
        && roots.len() == 1
        && shard.is_none();
    let writer = plan_writer(tap, def, entry, key.as_deref(), inputs.missing);
    let policy = Policy {
        keeps: keeps(def, method),
        datetime_key: key
            .as_deref()
            .is_some_and(|k| is_datetime_field(&writer.schema, k)),
        key,
        parents: spec.parents().cloned().collect(),
        lookback: spec.lookback,
        filter_older: spec.filter_older,
        gated: !children.is_empty(),
        rollup_from: rollup_children(tap, def),
    };
    PlannedStream {
        facts: Arc::new(StreamFacts {
            name: spec.name.clone(),
            metadata: entry.map(|e| e.metadata.clone()).unwrap_or_default(),
            method,
            emits_to: spec.emits_to.clone(),
            children,
            interleave: spec.interleave,
            key_properties: spec.key_properties.clone(),
        }),
        runner: def.runner.clone(),
        selected: selected.get(spec.name.as_str()).copied().unwrap_or(false),
        needed: wanted && taken,
        parent: spec.parents().next().cloned(),
        roots,
        after: spec.after.clone(),
        retry: spec.retry.clone(),
        max_concurrent_partitions: spec.max_concurrent_partitions,
        shard,
        policy,
        versioned,
        writer,
    }
}

/// Under `--partitions`: whether this process syncs the stream at all (a top-level stream without
/// partitions is one partition; a sub-stream goes with its parents' records, so it runs where one
/// of them runs), and for one with partitions the selector that picks them. `wanted`: the run
/// needs the stream (selected, or driving a selected child).
fn shard_of<C, K>(
    def: &BoxedStream<C, K>,
    parents: &[&PlannedStream<C, K>],
    selector: Option<&PartitionSelector>,
    wanted: bool,
) -> (bool, Option<Arc<PartitionSelector>>) {
    let Some(selector) = selector else {
        return (true, None);
    };
    if !parents.is_empty() {
        return (parents.iter().any(|p| p.needed), None);
    }
    if def.runner.as_ref().is_some_and(|r| r.has_partitions()) {
        return (true, Some(Arc::new(selector.clone())));
    }
    let name = &def.spec.name;
    let taken = selector.takes(name, None);
    let worker = selector.worker_for(name, None).map_or_else(
        || "a worker whose list holds null".to_owned(),
        |w| format!("worker {w}"),
    );
    let here = if taken { "this one" } else { "another" };
    if wanted {
        info!("stream {name}: no partitions, synced whole by {worker} ({here}, --partitions)");
    }
    (taken, None)
}

/// How the ledger keeps a stream's bookmarks.
fn keeps<C, K>(def: &BoxedStream<C, K>, method: ReplicationMethod) -> Keeps {
    let spec = &def.spec;
    let has_partitions = def.runner.as_ref().is_some_and(|r| r.has_partitions());
    match (method, spec.parents().next(), &spec.per_parent) {
        (ReplicationMethod::FullTable, _, _) => Keeps::Nothing,
        (_, None, _) if has_partitions => Keeps::Partitions,
        (_, None, _) => Keeps::Stream,
        (_, Some(_), Some(keys)) => Keeps::PerParent(keys.clone()),
        (_, Some(_), None) => Keeps::Shared,
    }
}

/// The incremental children whose bookmarks roll up into this stream, when it asks for it.
fn rollup_children<C, K>(tap: &TapDef<C, K>, def: &BoxedStream<C, K>) -> Vec<String> {
    if !def.spec.rollup {
        return Vec::new();
    }
    children_of(&tap.streams, &def.spec.name)
        .filter(|c| matches!(c.spec.replication, Replication::Incremental { .. }))
        .map(|c| c.spec.name.clone())
        .collect()
}

/// The writer's part of the plan: schema of the selected fields, selection, hooks, conformance.
fn plan_writer<C, K>(
    tap: &TapDef<C, K>,
    def: &BoxedStream<C, K>,
    entry: Option<&CatalogEntry>,
    key: Option<&str>,
    missing: &HashMap<String, Vec<String>>,
) -> WriterPlan {
    let spec = &def.spec;
    let schema = entry.map(|e| e.schema.clone()).unwrap_or(Value::Null);
    let selection = field_selection(entry, &spec.key_properties, key);
    let mut hooks = spec.hooks.clone();
    hooks.extend(tap.hooks.iter().cloned());
    let schema = selection.prune_schema(&schema);
    // Compiled once per stream, from the schema of the selected fields: unselected fields go too.
    let conformer = spec
        .conform
        .or(tap.conform)
        .map(|policy| Conformer::compile(&schema, policy));
    // Key properties and the replication key are always written.
    let leave_out = missing
        .get(&spec.name)
        .map(|fields| {
            fields
                .iter()
                .filter(|f| !spec.key_properties.contains(f) && Some(f.as_str()) != key)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    WriterPlan {
        schema,
        selection,
        leave_out,
        hooks,
        conformer,
        strategy: spec.strategy,
        // A roll-up parent commits only the children's minimum, at the end.
        sorted: spec.sorted && !spec.rollup,
    }
}

/// True when the schema's top-level `field` is a date-time (or date) string.
fn is_datetime_field(schema: &Value, field: &str) -> bool {
    let format = schema
        .get("properties")
        .and_then(|p| p.get(field))
        .and_then(|f| f.get("format"))
        .and_then(Value::as_str);
    matches!(format, Some("date-time" | "date"))
}

/// Streams that must run: selected ones, the parents of needed ones, and the feeders of selected ones.
fn needed_streams<'a, C, K>(
    streams: &'a [BoxedStream<C, K>],
    selected: &HashMap<&str, bool>,
) -> HashSet<&'a str> {
    let mut needed: HashSet<&str> = streams
        .iter()
        .map(|d| d.spec.name.as_str())
        .filter(|n| selected.get(n).copied().unwrap_or(false))
        .collect();
    loop {
        let before = needed.len();
        for d in streams {
            let name = d.spec.name.as_str();
            let feeds = d.spec.emits_to.iter().any(|t| needed.contains(t.as_str()));
            let drives = children_of(streams, name).any(|c| needed.contains(c.spec.name.as_str()));
            if feeds || drives {
                needed.insert(name);
            }
        }
        if needed.len() == before {
            return needed;
        }
    }
}

/// The streams `parent` drives: its sub-streams and the streams declared `child_of` it.
fn children_of<'a, C, K>(
    streams: &'a [BoxedStream<C, K>],
    parent: &'a str,
) -> impl Iterator<Item = &'a BoxedStream<C, K>> {
    streams
        .iter()
        .filter(move |c| c.spec.parents().any(|p| p == parent))
}

/// The top-level streams above a stream with these (planned) parents.
fn roots_of<C, K>(name: &str, parents: &[&PlannedStream<C, K>]) -> Vec<String> {
    if parents.is_empty() {
        return vec![name.to_owned()];
    }
    let mut roots: Vec<String> = parents.iter().flat_map(|p| p.roots.clone()).collect();
    roots.sort_unstable();
    roots.dedup();
    roots
}

/// The catalog's replication key when it is the stream's (its one valid replication key), else
/// the declared one: a bookmark on another field would skip or repeat data.
fn replication_key(
    declared: Option<&str>,
    entry: Option<&CatalogEntry>,
    name: &str,
) -> Option<String> {
    match (entry.and_then(CatalogEntry::replication_key), declared) {
        (Some(asked), Some(valid)) if asked != valid => {
            warn!(
                "stream {name}: replication key {asked} is not a valid replication key (valid: {valid}); using {valid}"
            );
            Some(valid.to_owned())
        }
        (asked, declared) => asked.or_else(|| declared.map(str::to_owned)),
    }
}

/// The catalog's replication method where the stream supports it, else the declared one.
fn effective_method(
    declared: &Replication,
    entry: Option<&CatalogEntry>,
    name: &str,
) -> ReplicationMethod {
    let wanted = entry.and_then(CatalogEntry::replication_method);
    match (wanted, declared) {
        (None, d) => d.method(),
        (Some(ReplicationMethod::FullTable), _) => ReplicationMethod::FullTable,
        (Some(w), d) if w == d.method() => w,
        (Some(w), d) => {
            warn!(
                "stream {name}: replication method {w} is not supported, using {}",
                d.method()
            );
            d.method()
        }
    }
}

/// Field selection from the catalog entry, keeping key properties and the replication key.
fn field_selection(
    entry: Option<&CatalogEntry>,
    keys: &[String],
    rk: Option<&str>,
) -> FieldSelection {
    let Some(entry) = entry else {
        return FieldSelection::default();
    };
    let mut forced: Vec<String> = keys.to_vec();
    forced.extend(rk.map(str::to_owned));
    let (selection, warnings) = entry.field_selection_with(&forced);
    for w in warnings {
        warn!("stream {}: {w}", entry.tap_stream_id);
    }
    selection
}

/// The order streams start in: declaration order, dependencies first, and the stream named by
/// `currently_syncing` (an interrupted run) as early as its dependencies allow.
pub(crate) fn run_order(streams: &[(&str, &[String])], resume: Option<&str>) -> Vec<String> {
    let mut order: Vec<&str> = streams.iter().map(|(n, _)| *n).collect();
    if let Some(pos) = resume.and_then(|r| order.iter().position(|n| *n == r)) {
        let first = order.remove(pos);
        order.insert(0, first);
    }
    let deps: HashMap<&str, &[String]> = streams.iter().copied().collect();
    let mut placed: Vec<String> = Vec::new();
    let mut done: HashSet<&str> = HashSet::new();
    while placed.len() < order.len() {
        let before = placed.len();
        for name in &order {
            if done.contains(name) {
                continue;
            }
            let ready = deps.get(name).is_none_or(|d| {
                d.iter()
                    .all(|x| done.contains(x.as_str()) || !deps.contains_key(x.as_str()))
            });
            if ready {
                done.insert(name);
                placed.push((*name).to_owned());
                break;
            }
        }
        if placed.len() == before {
            // A cycle: `check` rejects these at startup; keep the rest in declaration order.
            placed.extend(
                order
                    .iter()
                    .filter(|n| !done.contains(*n))
                    .map(|n| (*n).to_owned()),
            );
        }
    }
    placed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BoxedStream, Stream, SyncContext, Tap};
    use serde_json::json;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn dependencies_come_first_and_resume_goes_early() {
        let a = s(&[]);
        let b = s(&["c"]);
        let c = s(&[]);
        let streams = [
            ("a", a.as_slice()),
            ("b", b.as_slice()),
            ("c", c.as_slice()),
        ];
        assert_eq!(run_order(&streams, None), s(&["a", "c", "b"]));
        assert_eq!(run_order(&streams, Some("b")), s(&["a", "c", "b"]));
        assert_eq!(run_order(&streams, Some("c")), s(&["c", "a", "b"]));
    }

    fn stream(name: &str) -> Stream<Value, Value, ()> {
        Stream::new(name)
            .schema(json!({"type": "object", "properties": {
                "id": {"type": "integer"}, "updated_at": {"type": "string", "format": "date-time"}}}))
            .key(["id"])
            .sync(|_: SyncContext<Value>| async { Ok(()) })
    }

    fn tree() -> Tap {
        let ads = stream("ads").incremental("updated_at");
        let campaigns = stream("campaigns")
            .incremental("updated_at")
            .state_partitioning_keys(["id"])
            .substream(ads);
        let accounts = stream("accounts").substream(campaigns);
        let lines: BoxedStream<Value, ()> = stream("lines").into();
        Tap::new("t").stream(accounts).stream(lines)
    }

    fn plan_of(tap: &Tap, catalog: &Catalog) -> Plan<Value, ()> {
        let state = State::default();
        let missing = HashMap::new();
        Plan::build(
            &tap.def,
            &PlanInputs {
                catalog,
                state: &state,
                missing: &missing,
                selector: None,
            },
        )
    }

    fn catalog(tap: &Tap, selected: &[&str]) -> Catalog {
        let schemas: Vec<Value> = tap
            .def
            .streams
            .iter()
            .map(|s| match &s.spec.schema {
                crate::stream::SchemaSource::Json(v) => v.clone(),
                _ => Value::Null,
            })
            .collect();
        let mut catalog = crate::discover::catalog(&tap.def.streams, &schemas);
        for e in &mut catalog.streams {
            if selected.contains(&e.tap_stream_id.as_str()) {
                e.metadata.set(
                    &burler_singer::Breadcrumb::root(),
                    burler_singer::keys::SELECTED,
                    true,
                );
            } else {
                e.metadata.set(
                    &burler_singer::Breadcrumb::root(),
                    burler_singer::keys::SELECTED,
                    false,
                );
            }
        }
        catalog
    }

    #[test]
    fn a_selected_grandchild_drives_its_parents_and_their_bookmarks_are_planned() {
        let tap = tree();
        let plan = plan_of(&tap, &catalog(&tap, &["ads"]));
        let get = |n: &str| plan.get(n).unwrap();
        assert!(get("accounts").needed && !get("accounts").selected);
        assert!(get("campaigns").needed && get("ads").selected);
        assert!(!get("lines").needed);
        assert_eq!(get("accounts").facts.children, s(&["campaigns"]));
        assert!(get("accounts").policy.gated && !get("ads").policy.gated);
        assert_eq!(get("accounts").policy.keeps, Keeps::Nothing);
        assert_eq!(get("campaigns").policy.keeps, Keeps::PerParent(s(&["id"])));
        assert_eq!(get("ads").policy.keeps, Keeps::Shared);
        assert!(get("ads").policy.datetime_key);
        assert_eq!(plan.order, s(&["accounts", "lines"]));
    }

    #[test]
    fn only_full_table_chains_get_a_table_version() {
        let tap = tree();
        let plan = plan_of(
            &tap,
            &catalog(&tap, &["accounts", "campaigns", "ads", "lines"]),
        );
        let versioned = |n: &str| plan.get(n).unwrap().versioned;
        assert!(versioned("accounts") && versioned("lines"));
        assert!(!versioned("campaigns") && !versioned("ads"));

        let children_of_full = Tap::new("t")
            .stream(stream("parent").substream(stream("child").substream(stream("grandchild"))));
        let plan = plan_of(
            &children_of_full,
            &catalog(&children_of_full, &["grandchild"]),
        );
        assert!(plan.get("grandchild").unwrap().versioned);
    }

    #[test]
    fn a_child_of_two_parents_is_planned_under_both_trees() {
        let child = stream("c").child_of("a").child_of("b");
        let tap = Tap::new("t")
            .stream(stream("a"))
            .stream(stream("b").substream(stream("d").child_of("a")))
            .stream(child);
        let plan = plan_of(&tap, &catalog(&tap, &["c"]));
        let get = |n: &str| plan.get(n).unwrap();
        assert!(get("a").needed && get("b").needed && !get("a").selected);
        assert!(!get("d").needed, "d is not selected and drives nothing");
        assert_eq!(get("a").facts.children, s(&["c"]));
        assert_eq!(get("b").facts.children, s(&["c"]));
        assert_eq!(get("c").roots, s(&["a", "b"]));
        assert_eq!(get("c").policy.parents, s(&["a", "b"]));
        assert_eq!(get("c").parent.as_deref(), Some("a"));
        assert!(get("a").versioned && get("b").versioned);
        assert!(!get("c").versioned, "one version cannot span two trees");
        assert_eq!(get("d").policy.parents, s(&["b", "a"]));
        assert_eq!(get("d").roots, s(&["a", "b"]));
        assert_eq!(
            plan.order,
            s(&["a", "b"]),
            "children of several parents are no roots"
        );
    }

    #[test]
    fn the_catalog_may_ask_for_full_table_but_not_for_an_unsupported_method() {
        let tap = Tap::new("t").stream(stream("s").incremental("updated_at"));
        let mut cat = catalog(&tap, &["s"]);
        cat.streams[0].metadata.set(
            &burler_singer::Breadcrumb::root(),
            burler_singer::keys::REPLICATION_METHOD,
            "FULL_TABLE",
        );
        let plan = plan_of(&tap, &cat);
        let s = plan.get("s").unwrap();
        assert_eq!(s.facts.method, ReplicationMethod::FullTable);
        assert_eq!(
            (s.policy.key.clone(), s.policy.keeps.clone()),
            (None, Keeps::Nothing)
        );
        cat.streams[0].metadata.set(
            &burler_singer::Breadcrumb::root(),
            burler_singer::keys::REPLICATION_METHOD,
            "LOG_BASED",
        );
        let plan = plan_of(&tap, &cat);
        assert_eq!(
            plan.get("s").unwrap().facts.method,
            ReplicationMethod::Incremental
        );
    }
}
