//! `$ref` expansion of Airbyte manifests (`$ref: "#/definitions/x"` with sibling keys overriding
//! the referenced ones, and the older `"*ref(definitions.x)"` strings), remembering for every
//! node of the expanded document where it was written, so problems point into the file.

use serde_json::{Map, Value};

use crate::diagnostic::child;
use crate::yaml::Positions;

/// Deepest chain of references followed before a loop is assumed.
const MAX_DEPTH: usize = 64;

/// The document with every reference expanded; problems (pointer in the original, message).
pub(crate) fn resolve(doc: &Value, positions: &mut Positions) -> (Value, Vec<(String, String)>) {
    let original = positions.clone();
    let mut resolver = Resolver {
        doc,
        original: &original,
        positions,
        problems: Vec::new(),
    };
    let out = resolver.walk(doc, "", "", 0);
    (out, resolver.problems)
}

struct Resolver<'a> {
    doc: &'a Value,
    original: &'a Positions,
    positions: &'a mut Positions,
    problems: Vec<(String, String)>,
}

impl Resolver<'_> {
    fn walk(&mut self, node: &Value, from: &str, to: &str, depth: usize) -> Value {
        self.positions.alias(self.original, to, from);
        if depth > MAX_DEPTH {
            self.problems
                .push((from.to_owned(), "$ref: references loop".into()));
            return Value::Null;
        }
        match node {
            Value::Object(map) => match map.get("$ref").and_then(Value::as_str) {
                Some(reference) => self.referenced(map, reference, from, to, depth),
                None => Value::Object(
                    map.iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                self.walk(v, &child(from, k), &child(to, k), depth),
                            )
                        })
                        .collect(),
                ),
            },
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| self.walk(v, &format!("{from}/{i}"), &format!("{to}/{i}"), depth))
                    .collect(),
            ),
            Value::String(s) if s.starts_with("*ref(") && s.ends_with(')') => {
                let path = &s[5..s.len() - 1];
                let pointer = format!("/{}", path.replace('.', "/"));
                self.target(&pointer, s, from, to, depth)
            }
            other => other.clone(),
        }
    }

    fn referenced(
        &mut self,
        map: &Map<String, Value>,
        reference: &str,
        from: &str,
        to: &str,
        depth: usize,
    ) -> Value {
        let Some(pointer) = reference.strip_prefix('#') else {
            self.problems.push((
                child(from, "$ref"),
                format!(
                    "$ref {reference:?}: only references inside the manifest (#/…) are supported"
                ),
            ));
            return Value::Null;
        };
        let mut base = self.target(pointer, reference, &child(from, "$ref"), to, depth);
        if let Value::Object(out) = &mut base {
            for (k, v) in map.iter().filter(|(k, _)| *k != "$ref") {
                let value = self.walk(v, &child(from, k), &child(to, k), depth);
                out.insert(k.clone(), value);
            }
        }
        self.positions.alias(self.original, to, from);
        base
    }

    fn target(
        &mut self,
        pointer: &str,
        reference: &str,
        from: &str,
        to: &str,
        depth: usize,
    ) -> Value {
        match self.doc.pointer(pointer) {
            Some(target) => {
                let target = target.clone();
                self.walk(&target, pointer, to, depth + 1)
            }
            None => {
                self.problems.push((
                    from.to_owned(),
                    format!("$ref {reference:?}: nothing at that path"),
                ));
                Value::Null
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_expand_with_overrides_and_positions() {
        let text = "definitions:\n  base:\n    type: HttpRequester\n    url_base: https://x\n    path: a\nstreams:\n  - $ref: \"#/definitions/base\"\n    path: b\n  - \"*ref(definitions.base)\"\n  - $ref: \"#/nowhere\"\n";
        let (doc, mut positions) = crate::yaml::parse(text).unwrap();
        let (out, problems) = resolve(&doc, &mut positions);
        assert_eq!(out["streams"][0]["path"], "b");
        assert_eq!(out["streams"][0]["url_base"], "https://x");
        assert_eq!(out["streams"][1]["path"], "a");
        assert_eq!(positions.value("/streams/0/url_base").line, 4);
        assert_eq!(positions.value("/streams/0/path").line, 8);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].1.contains("nothing at that path"));
    }
}
