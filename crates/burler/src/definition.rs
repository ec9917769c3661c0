//! Checks of a tap's definition at startup (names, dependencies) and the order streams run in.

use std::collections::{HashMap, HashSet};

use crate::error::Error;
use crate::stream::BoxedStream;

/// Checks stream names are unique and every `after`/`emits_to` names a stream, without cycles.
pub(crate) fn check<C, K>(streams: &[BoxedStream<C, K>]) -> Result<(), Error> {
    let mut names = HashSet::new();
    for s in streams {
        if !names.insert(s.spec.name.as_str()) {
            return Err(Error::Definition(format!(
                "stream `{}` is declared twice",
                s.spec.name
            )));
        }
    }
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

    #[test]
    fn cycles_are_found_and_named() {
        let a = s(&["b"]);
        let b = s(&["a"]);
        let cycle = find_cycle(&[("a", a.as_slice()), ("b", b.as_slice())]).unwrap();
        assert_eq!(cycle, s(&["a", "b", "a"]));
    }
}
