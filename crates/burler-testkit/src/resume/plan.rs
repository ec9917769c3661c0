//! What the uninterrupted run wrote, reduced to what cutting needs (the lines, the STATEs, each
//! stream's primary keys and the line each first appears on), and the choice of cut points:
//! spread over the whole output, and always some inside the records of child streams and of
//! partitioned streams, where a bookmark committed too early loses records.

use std::collections::{BTreeMap, HashMap, HashSet};

use burler_singer::{Catalog, Message, RawMessage, RawRecord, keys, raw_messages};
use serde_json::{Map, Value};

use crate::bookmarks::partitioned_streams;

/// The primary keys one stream wrote: each key (as JSON text) with the line it first appeared on.
#[derive(Debug, Default)]
pub(crate) struct StreamKeys {
    pub(crate) first_line: HashMap<String, u64>,
    /// Keys in the order they first appeared.
    pub(crate) order: Vec<String>,
}

/// The uninterrupted run.
#[derive(Debug, Default)]
pub(crate) struct FullRun {
    /// Line numbers of the message lines, in order.
    pub(crate) lines: Vec<u64>,
    /// Every STATE: its line and value.
    pub(crate) states: Vec<(u64, Value)>,
    /// The key properties of each stream (its last SCHEMA); a stream without a SCHEMA or
    /// without keys is keyed by the whole record.
    pub(crate) key_properties: HashMap<String, Vec<String>>,
    /// Each stream's keys.
    pub(crate) keys: BTreeMap<String, StreamKeys>,
    /// The RECORD lines of each stream.
    pub(crate) record_lines: HashMap<String, Vec<u64>>,
}

impl FullRun {
    /// Reads the run's stdout. Lines that are not messages are left out (other checks report them).
    pub(crate) fn read(stdout: &[u8]) -> FullRun {
        let mut run = FullRun::default();
        for (line, message) in raw_messages(stdout) {
            let Ok(message) = message else { continue };
            run.lines.push(line);
            match message {
                RawMessage::Other(Message::Schema(s)) => {
                    run.key_properties.insert(s.stream, s.key_properties);
                }
                RawMessage::Other(Message::State(s)) => run.states.push((line, s.value)),
                RawMessage::Record(r) => {
                    let lines = run.record_lines.entry(r.stream.to_string()).or_default();
                    lines.push(line);
                }
                RawMessage::Other(_) => {}
            }
        }
        // Keys need every stream's key properties, which a misbehaving tap may send late.
        for (line, record) in records(stdout) {
            let props = run.key_properties.get(record.stream.as_ref());
            let Some(key) = record_key(&record, props.map_or(&[][..], Vec::as_slice)) else {
                continue;
            };
            let keys = run.keys.entry(record.stream.to_string()).or_default();
            if !keys.first_line.contains_key(&key) {
                keys.first_line.insert(key.clone(), line);
                keys.order.push(key);
            }
        }
        run
    }

    /// The last STATE at or before `line`.
    pub(crate) fn state_before(&self, line: u64) -> Option<&(u64, Value)> {
        let after = self.states.partition_point(|(l, _)| *l <= line);
        after.checked_sub(1).map(|i| &self.states[i])
    }

    /// The keys each stream of another run's stdout wrote, keyed as this run keys them.
    pub(crate) fn keys_of(&self, stdout: &[u8]) -> HashMap<String, HashSet<String>> {
        let mut out: HashMap<String, HashSet<String>> = HashMap::new();
        for (_, record) in records(stdout) {
            let props = self.key_properties.get(record.stream.as_ref());
            if let Some(key) = record_key(&record, props.map_or(&[][..], Vec::as_slice)) {
                out.entry(record.stream.to_string())
                    .or_default()
                    .insert(key);
            }
        }
        out
    }
}

/// The RECORDs of a stdout, with their lines.
fn records(stdout: &[u8]) -> impl Iterator<Item = (u64, RawRecord<'_>)> {
    raw_messages(stdout).filter_map(|(line, m)| match m {
        Ok(RawMessage::Record(r)) => Some((line, r)),
        _ => None,
    })
}

/// A record's primary key as JSON text (`{"id":1}`), or the whole record when the stream has no
/// key properties; a missing key property counts as `null`. `None` when the record is not JSON.
pub(crate) fn record_key(record: &RawRecord<'_>, props: &[String]) -> Option<String> {
    if props.is_empty() {
        let whole: Value = serde_json::from_str(record.record_json()).ok()?;
        return Some(whole.to_string());
    }
    let names: Vec<&str> = props.iter().map(String::as_str).collect();
    let values = record.fields(&names).ok()?;
    let mut key = Map::new();
    for (name, raw) in props.iter().zip(values) {
        let value = raw.map_or(Ok(Value::Null), |r| serde_json::from_str(r.get()));
        key.insert(name.clone(), value.ok()?);
    }
    Some(Value::Object(key).to_string())
}

/// One place to cut the output: after `line`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cut {
    pub(crate) line: u64,
    /// What the cut falls inside, when it is a child or partitioned stream's records.
    pub(crate) inside: Option<String>,
}

/// The child streams of a catalog (`parent-tap-stream-id` metadata), by stream name.
pub(crate) fn child_streams(catalog: Option<&Catalog>) -> HashMap<String, String> {
    let Some(catalog) = catalog else {
        return HashMap::new();
    };
    let root = burler_singer::Breadcrumb::root();
    catalog
        .streams
        .iter()
        .filter_map(|e| {
            let parent = e
                .metadata
                .get(&root, keys::PARENT_TAP_STREAM_ID)?
                .as_str()?;
            Some((e.stream.clone(), parent.to_owned()))
        })
        .collect()
}

/// The streams whose bookmarks hold partitions in some STATE of the run, by their ids and names.
fn partitioned(run: &FullRun, catalog: Option<&Catalog>) -> HashSet<String> {
    let names = |id: String| {
        let name = catalog.and_then(|c| c.get(&id)).map(|e| e.stream.clone());
        std::iter::once(id).chain(name)
    };
    run.states
        .iter()
        .flat_map(|(_, s)| partitioned_streams(s))
        .flat_map(names)
        .collect()
}

/// `k` items spread evenly over `items` (all of them when `k` is at least their number).
fn spread(items: &[u64], k: usize) -> Vec<u64> {
    if k >= items.len() {
        return items.to_vec();
    }
    (0..k)
        .map(|i| items[(2 * i + 1) * items.len() / (2 * k)])
        .collect()
}

/// Chooses about `cuts` cut points (fewer when the output is short), a quarter of them inside
/// child records and a quarter inside partitioned streams' records when there are any, plus the
/// `explicit` lines.
pub(crate) fn plan_cuts(
    run: &FullRun,
    catalog: Option<&Catalog>,
    cuts: usize,
    explicit: &[u64],
) -> Vec<Cut> {
    let children = child_streams(catalog);
    let partitioned = partitioned(run, catalog);
    let lines_of = |streams: &mut dyn Iterator<Item = &String>| {
        let mut lines: Vec<u64> = streams
            .filter_map(|s| run.record_lines.get(s))
            .flatten()
            .copied()
            .collect();
        lines.sort_unstable();
        lines
    };
    let child_lines = lines_of(&mut children.keys());
    let partition_lines = lines_of(&mut partitioned.iter());
    // Cutting after the last line cuts nothing.
    let all = &run.lines[..run.lines.len().saturating_sub(1)];
    let inner = if cuts == 0 { 0 } else { (cuts / 4).max(1) };
    let mut chosen: Vec<u64> = spread(&child_lines, inner);
    chosen.extend(spread(&partition_lines, inner));
    chosen.retain(|l| all.contains(l));
    let target = cuts.min(all.len());
    let mut picked = unique(&chosen);
    let mut k = target.saturating_sub(picked.len());
    while picked.len() < target {
        let mut more = chosen.clone();
        more.extend(spread(all, k));
        picked = unique(&more);
        if k >= all.len() {
            break;
        }
        k = (k + target.saturating_sub(picked.len())).min(all.len());
    }
    let mut chosen = picked;
    chosen.extend(explicit.iter().copied().filter(|l| *l >= 1));
    unique(&chosen)
        .into_iter()
        .map(|line| Cut {
            line,
            inside: inside(run, &children, &partitioned, line),
        })
        .collect()
}

/// What the cut after `line` falls inside, when it is a child or partitioned stream's RECORD.
fn inside(
    run: &FullRun,
    children: &HashMap<String, String>,
    partitioned: &HashSet<String>,
    line: u64,
) -> Option<String> {
    let stream = run
        .record_lines
        .iter()
        .find(|(_, lines)| lines.binary_search(&line).is_ok())
        .map(|(s, _)| s)?;
    if let Some(parent) = children.get(stream) {
        Some(format!("the records of {stream}, child of {parent}"))
    } else if partitioned.contains(stream) {
        Some(format!("the records of {stream}, partitioned"))
    } else {
        None
    }
}

/// Sorted, without duplicates.
fn unique(lines: &[u64]) -> Vec<u64> {
    let mut out = lines.to_vec();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stdout(messages: &[Value]) -> Vec<u8> {
        let mut out = Vec::new();
        for m in messages {
            out.extend_from_slice(m.to_string().as_bytes());
            out.push(b'\n');
        }
        out
    }

    #[test]
    fn keys_are_the_key_properties_or_the_whole_record() {
        let out = stdout(&[
            json!({"type": "SCHEMA", "stream": "a", "schema": {}, "key_properties": ["id", "org"]}),
            json!({"type": "RECORD", "stream": "a", "record": {"org": "x", "id": 1, "n": 5}}),
            json!({"type": "RECORD", "stream": "a", "record": {"id": 1, "org": "x", "n": 6}}),
            json!({"type": "RECORD", "stream": "b", "record": {"v": 1}}),
            json!({"type": "SCHEMA", "stream": "c", "schema": {}, "key_properties": ["id"]}),
            json!({"type": "RECORD", "stream": "c", "record": {"name": "no id"}}),
            json!({"type": "STATE", "value": {"n": 1}}),
        ]);
        let run = FullRun::read(&out);
        assert_eq!(run.keys["a"].order, [r#"{"id":1,"org":"x"}"#]);
        assert_eq!(run.keys["a"].first_line[r#"{"id":1,"org":"x"}"#], 2);
        assert_eq!(run.keys["b"].order, [r#"{"v":1}"#]);
        assert_eq!(run.keys["c"].order, [r#"{"id":null}"#]);
        assert_eq!(run.state_before(6), None);
        assert_eq!(run.state_before(7).map(|(l, _)| *l), Some(7));
        assert_eq!(run.lines, [1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn cuts_spread_and_always_fall_inside_children_and_partitions() {
        let mut messages = vec![json!({"type": "SCHEMA", "stream": "p", "schema": {}})];
        for i in 0..40 {
            messages.push(json!({"type": "RECORD", "stream": "p", "record": {"id": i}}));
        }
        messages.push(json!({"type": "STATE", "value": {"bookmarks": {"e": {"partitions": []}}}}));
        for i in 0..3 {
            messages.push(json!({"type": "RECORD", "stream": "c", "record": {"id": i}}));
        }
        for i in 0..2 {
            messages.push(json!({"type": "RECORD", "stream": "e", "record": {"id": i}}));
        }
        messages.push(json!({"type": "STATE", "value": {}}));
        let run = FullRun::read(&stdout(&messages));
        let catalog = Catalog::from_value(json!({"streams": [
            {"tap_stream_id": "c", "stream": "c", "schema": {},
             "metadata": [{"breadcrumb": [], "metadata": {"parent-tap-stream-id": "p"}}]},
            {"tap_stream_id": "e", "stream": "e", "schema": {}, "metadata": []}]}))
        .unwrap();
        let cuts = plan_cuts(&run, Some(&catalog), 20, &[3, 999]);
        let lines: Vec<u64> = cuts.iter().map(|c| c.line).collect();
        assert!(lines.len() >= 20, "{lines:?}");
        assert!(lines.windows(2).all(|w| w[0] < w[1]), "sorted, unique");
        assert!(lines.contains(&3) && lines.contains(&999));
        assert!(!lines.contains(&48), "not after the last line: {lines:?}");
        let inside: Vec<&str> = cuts.iter().filter_map(|c| c.inside.as_deref()).collect();
        assert!(
            inside.contains(&"the records of c, child of p"),
            "{inside:?}"
        );
        assert!(
            inside.contains(&"the records of e, partitioned"),
            "{inside:?}"
        );
        let short = FullRun::read(&stdout(&messages[..3]));
        assert_eq!(
            plan_cuts(&short, None, 20, &[])
                .iter()
                .map(|c| c.line)
                .collect::<Vec<_>>(),
            [1, 2]
        );
        assert!(plan_cuts(&run, Some(&catalog), 0, &[]).is_empty());
    }
}
