//! Partition contexts as keys, and the partition selector that splits a sync across processes.
//!
//! A context's key is its canonical JSON (object keys sorted, no spaces), so two contexts that
//! are the same JSON value are the same key whatever order their keys came in. The engine uses it
//! to sync a child once per distinct parent context, and the selector to place a partition.
//!
//! # Scale-out: `--partitions`
//!
//! `--partitions K/N` (or the `BURLER_PARTITIONS` environment variable, for orchestrators that
//! set the environment rather than the arguments; only a sync reads it, so `--discover` and
//! `--about` run in that environment unaffected) makes the process worker `K` of `N`
//! (1 ≤ K ≤ N): it syncs only the top-level partitions whose stable hash falls to it, so `N`
//! processes started with `1/N` … `N/N` and the same config, catalog and state sync every
//! partition exactly once between them. A top-level stream without partitions counts as one
//! partition whose context is `null` (one worker syncs it whole); sub-streams go with the
//! partition of the record that drives them. The hash is FNV-1a (64 bits) of
//! `<stream name>\n<canonical JSON of the context>`, and the partition goes to worker
//! `hash % N + 1`: the same in every process, version and platform. A hash and not the
//! partition's index in the list, so a partition keeps its worker when the list grows, shrinks
//! or comes in another order (only new partitions land somewhere new: each worker's bookmarks
//! stay its own from run to run), and an orchestrator can compute the assignment without asking
//! the tap.
//!
//! `--partitions '[{"account": 1}, {"account": 2}]'` (or `@FILE` holding such a list) syncs
//! exactly the listed partition contexts, of whichever top-level stream lists them (`null` in
//! the list: the streams without partitions too).
//!
//! Each worker's state then holds the bookmarks of its partitions; `burler state merge` joins
//! the workers' states into the one state every worker starts the next run from. A worker never
//! activates a table version of a partitioned stream (the table is split across workers: an
//! ACTIVATE_VERSION from one would delete the others' rows at the target), and the shared
//! bookmark of a sub-stream under split partitions does not move (no worker read it for every
//! parent).

use std::collections::HashSet;

use serde_json::Value;

/// Which top-level partitions this process syncs (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PartitionSelector {
    /// Worker `worker` (from 1) of `workers`.
    Shard { worker: u64, workers: u64 },
    /// These contexts, as canonical JSON.
    List(HashSet<String>),
}

impl PartitionSelector {
    /// Reads `K/N`, a JSON list of contexts, or `@FILE` holding one.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some(path) = text.strip_prefix('@') {
            let body =
                std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
            return Self::list(&body).map_err(|e| format!("{path}: {e}"));
        }
        if text.starts_with('[') {
            return Self::list(text);
        }
        let shard = text.split_once('/').and_then(|(k, n)| {
            let (k, n) = (k.trim().parse::<u64>().ok()?, n.trim().parse::<u64>().ok()?);
            (1..=n).contains(&k).then_some((k, n))
        });
        match shard {
            Some((worker, workers)) => Ok(PartitionSelector::Shard { worker, workers }),
            None => Err(
                "expected K/N (worker K of N, 1 <= K <= N, e.g. 3/8), a JSON list of partition contexts, or @FILE holding one"
                    .into(),
            ),
        }
    }

    fn list(text: &str) -> Result<Self, String> {
        let items: Vec<Value> = serde_json::from_str(text)
            .map_err(|e| format!("not a JSON list of partition contexts: {e}"))?;
        Ok(PartitionSelector::List(
            items.iter().map(canonical_json).collect(),
        ))
    }

    /// Under `K/N`: the worker (from 1) that syncs the partition `context` (`None`: a stream
    /// without partitions) of the top-level `stream`; `None` for a list.
    pub(crate) fn worker_for(&self, stream: &str, context: Option<&Value>) -> Option<u64> {
        match self {
            PartitionSelector::Shard { workers, .. } => Some(worker_of(
                stream,
                &canonical_json(context.unwrap_or(&Value::Null)),
                *workers,
            )),
            PartitionSelector::List(_) => None,
        }
    }

    /// True when this process syncs the partition `context` (`None`: a stream without
    /// partitions) of the top-level `stream`.
    pub(crate) fn takes(&self, stream: &str, context: Option<&Value>) -> bool {
        let key = canonical_json(context.unwrap_or(&Value::Null));
        match self {
            PartitionSelector::Shard { worker, workers } => {
                worker_of(stream, &key, *workers) == *worker
            }
            PartitionSelector::List(keys) => keys.contains(&key),
        }
    }
}

/// The worker (from 1) of `workers` that syncs the partition with canonical context `key`.
fn worker_of(stream: &str, key: &str, workers: u64) -> u64 {
    fnv1a(&[stream.as_bytes(), b"\n", key.as_bytes()]) % workers.max(1) + 1
}

/// FNV-1a, 64 bits: simple, stable everywhere, and reproducible by any orchestrator.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parts.iter().flat_map(|p| p.iter()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The canonical JSON text of `value`: object keys sorted (by their UTF-8 bytes), compact.
pub(crate) fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                // A string always serializes.
                out.push_str(&serde_json::to_string(key).unwrap_or_default());
                out.push(':');
                write_canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_change_the_canonical_text() {
        let a: Value =
            serde_json::from_str(r#"{"b": [1, {"y": 2, "x": "é"}], "a": null}"#).unwrap();
        let b: Value =
            serde_json::from_str(r#"{"a": null, "b": [1, {"x": "é", "y": 2}]}"#).unwrap();
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(canonical_json(&a), r#"{"a":null,"b":[1,{"x":"é","y":2}]}"#);
        assert_ne!(
            canonical_json(&json!({"id": 1})),
            canonical_json(&json!({"id": "1"}))
        );
    }

    #[test]
    fn the_hash_is_fnv1a_and_fixed() {
        // The published FNV-1a test vectors; a change here moves partitions between workers.
        assert_eq!(fnv1a(&[b""]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(&[b"a"]), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(&[b"foo", b"bar"]), fnv1a(&[b"foobar"]));
        assert_eq!(fnv1a(&[b"foobar"]), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn workers_split_partitions_exactly_and_evenly() {
        let workers: Vec<PartitionSelector> = (1..=8)
            .map(|k| PartitionSelector::parse(&format!("{k}/8")).unwrap())
            .collect();
        let mut per_worker = [0usize; 8];
        for account in 0..4000 {
            let ctx = json!({"account": account});
            let takers: Vec<usize> = (0..8)
                .filter(|w| workers[*w].takes("usage", Some(&ctx)))
                .collect();
            assert_eq!(takers.len(), 1, "{ctx} taken by {takers:?}");
            per_worker[takers[0]] += 1;
        }
        assert!(
            per_worker.iter().all(|n| (400..600).contains(n)),
            "{per_worker:?}"
        );
        let whole = (0..8).filter(|w| workers[*w].takes("orders", None)).count();
        assert_eq!(whole, 1, "a stream without partitions goes to one worker");
    }

    #[test]
    fn a_list_takes_exactly_its_contexts() {
        let sel = PartitionSelector::parse(r#"[{"b": 2, "a": 1}, null]"#).unwrap();
        assert!(sel.takes("s", Some(&json!({"a": 1, "b": 2}))));
        assert!(!sel.takes("s", Some(&json!({"a": 1}))));
        assert!(sel.takes("s", None), "null: streams without partitions");
    }

    #[test]
    fn bad_selectors_say_what_is_expected() {
        for bad in ["0/4", "5/4", "3", "a/b", "3/8/1"] {
            let e = PartitionSelector::parse(bad).unwrap_err();
            assert!(e.starts_with("expected K/N"), "{bad}: {e}");
        }
        let e = PartitionSelector::parse("[1,").unwrap_err();
        assert!(
            e.starts_with("not a JSON list of partition contexts"),
            "{e}"
        );
        let e = PartitionSelector::parse("@/no/such/file").unwrap_err();
        assert!(e.starts_with("cannot read /no/such/file: "), "{e}");
        assert_eq!(
            PartitionSelector::parse(" 3/8 "),
            Ok(PartitionSelector::Shard {
                worker: 3,
                workers: 8
            })
        );
    }
}
