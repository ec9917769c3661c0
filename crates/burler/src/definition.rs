//! A tap's definition as its builder leaves it, and the checks of it at startup (names,
//! dependencies).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use burler_schema::ViolationPolicy;
use serde_json::{Map, Value};

use crate::error::{BoxError, Error};
use crate::stream::BoxedStream;
use crate::writer::RecordHook;

pub(crate) type ConfigParse<C> = Arc<dyn Fn(Map<String, Value>) -> Result<C, String> + Send + Sync>;
pub(crate) type ConfigCheck<C> = Arc<dyn Fn(&C) -> Result<(), Vec<String>> + Send + Sync>;
pub(crate) type ClientFactory<C, K> = Arc<dyn Fn(&C) -> Result<K, BoxError> + Send + Sync>;
pub(crate) type StartDateOf<C> =
    Arc<dyn Fn(&C) -> Option<chrono::DateTime<chrono::Utc>> + Send + Sync>;

/// Everything a [`Tap`](crate::Tap) declares: what the runner runs.
pub(crate) struct TapDef<C, K> {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) description: Option<String>,
    pub(crate) config_schema: Option<Value>,
    pub(crate) secrets: Vec<String>,
    pub(crate) config_parse: ConfigParse<C>,
    /// The config's `start_date` (its [`TapConfig`](crate::TapConfig) impl).
    pub(crate) start_date_of: StartDateOf<C>,
    /// The config is a typed struct (else an untyped `Value`).
    pub(crate) typed_config: bool,
    pub(crate) config_checks: Vec<ConfigCheck<C>>,
    pub(crate) client: ClientFactory<C, K>,
    /// Every stream, sub-streams after their parents, each knowing its parent.
    pub(crate) streams: Vec<BoxedStream<C, K>>,
    pub(crate) hooks: Vec<RecordHook>,
    pub(crate) conform: Option<ViolationPolicy>,
    pub(crate) max_concurrent_streams: usize,
    pub(crate) fail_fast: bool,
    pub(crate) metric_interval: Duration,
    pub(crate) definition_errors: Vec<String>,
}

/// Checks stream names are unique and every `after`/`emits_to` names a stream, without cycles.
pub(crate) fn check<C, K>(streams: &[BoxedStream<C, K>]) -> Result<(), Error> {
    let declared: Vec<&str> = streams
        .iter()
        .flat_map(|s| s.spec.errors.iter().map(String::as_str))
        .collect();
    if !declared.is_empty() {
        return Err(Error::Definition(declared.join("; ")));
    }
    let mut names = HashSet::new();
    for s in streams {
        if !names.insert(s.spec.name.as_str()) {
            return Err(Error::Definition(format!(
                "stream `{}` is declared twice",
                s.spec.name
            )));
        }
    }
    check_parents(streams)?;
    let mut fed = HashSet::new();
    for s in streams {
        for dep in s.spec.after.iter().chain(&s.spec.emits_to) {
            if !names.contains(dep.as_str()) {
                return Err(Error::Definition(format!(
                    "stream `{}` refers to unknown stream `{dep}`",
                    s.spec.name
                )));
            }
        }
        fed.extend(s.spec.emits_to.iter().map(String::as_str));
    }
    for s in streams {
        if s.runner.is_none() && !fed.contains(s.spec.name.as_str()) {
            return Err(Error::Definition(format!(
                "stream `{}` has no sync function and no stream emits to it",
                s.spec.name
            )));
        }
    }
    let deps: Vec<(&str, &[String])> = streams
        .iter()
        .map(|s| (s.spec.name.as_str(), s.spec.after.as_slice()))
        .collect();
    if let Some(cycle) = find_cycle(&deps) {
        return Err(Error::Definition(format!(
            "stream dependencies form a cycle: {}",
            cycle.join(" -> ")
        )));
    }
    Ok(())
}

/// Each parent named with `child_of` is another stream declared before the child (so the tree
/// has no cycle, and parents are planned before their children).
fn check_parents<C, K>(streams: &[BoxedStream<C, K>]) -> Result<(), Error> {
    for (at, s) in streams.iter().enumerate() {
        for parent in &s.spec.also_parents {
            let problem = match streams.iter().position(|p| &p.spec.name == parent) {
                None => "there is no such stream",
                Some(p) if p >= at => "a parent must be declared before its child",
                Some(_) if s.spec.parent.as_ref() == Some(parent) => "it is its parent already",
                Some(_) => continue,
            };
            return Err(Error::Definition(format!(
                "stream `{}`: child_of(\"{parent}\"): {problem}",
                s.spec.name
            )));
        }
    }
    Ok(())
}

fn find_cycle(deps: &[(&str, &[String])]) -> Option<Vec<String>> {
    let map: HashMap<&str, &[String]> = deps.iter().copied().collect();
    fn visit<'a>(
        node: &'a str,
        map: &HashMap<&'a str, &'a [String]>,
        path: &mut Vec<&'a str>,
        finished: &mut HashSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(pos) = path.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = path[pos..].iter().map(|s| (*s).to_owned()).collect();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if finished.contains(node) {
            return None;
        }
        path.push(node);
        for dep in map.get(node).copied().unwrap_or_default() {
            if let Some(c) = visit(dep, map, path, finished) {
                return Some(c);
            }
        }
        path.pop();
        finished.insert(node);
        None
    }
    let mut finished = HashSet::new();
    for (name, _) in deps {
        if let Some(c) = visit(name, &map, &mut Vec::new(), &mut finished) {
            return Some(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn cycles_are_found_and_named() {
        let a = s(&["b"]);
        let b = s(&["a"]);
        let cycle = find_cycle(&[("a", a.as_slice()), ("b", b.as_slice())]).unwrap();
        assert_eq!(cycle, s(&["a", "b", "a"]));
    }
}
