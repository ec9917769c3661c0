//! Field selection: which fields of a stream a sync writes, by the rules of singer-spec §3.
//!
//! Checked from the top down (a field under a deselected object is out): `inclusion: unsupported`
//! never; `inclusion: automatic` always; else `selected` when present; else `selected-by-default`
//! when present; else the parent's selection — so a catalog that selects only streams syncs every
//! field. A field is never dropped just because it has no metadata.

use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::metadata::{Breadcrumb, Metadata, keys};
use crate::visitor::properties;

/// The selection of a field and of the fields below it.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSelection {
    selected: bool,
    children: IndexMap<String, FieldSelection>,
}

impl Default for FieldSelection {
    /// Everything selected.
    fn default() -> Self {
        FieldSelection {
            selected: true,
            children: IndexMap::new(),
        }
    }
}

impl FieldSelection {
    /// True when no field anywhere is deselected (the fast path: records pass untouched).
    pub fn all_selected(&self) -> bool {
        self.selected && self.children.values().all(FieldSelection::all_selected)
    }

    /// The deselected top-level fields, when no nested field is deselected: a record is then
    /// written with those fields skipped on the way, without a `Value`. `None` when a field inside
    /// a selected object is deselected, or the whole stream is.
    pub fn top_level_deselected(&self) -> Option<Vec<String>> {
        if !self.selected {
            return None;
        }
        let mut out = Vec::new();
        for (name, child) in &self.children {
            if !child.selected {
                out.push(name.clone());
            } else if !child.all_selected() {
                return None;
            }
        }
        Some(out)
    }

    /// Leaves out the top-level field `name` (e.g. one the catalog's schema does not have).
    pub fn deselect(&mut self, name: &str) {
        self.children.insert(
            name.to_owned(),
            FieldSelection {
                selected: false,
                children: IndexMap::new(),
            },
        );
    }

    /// Whether the field at `path` is selected (fields not in the schema count as selected).
    pub fn is_selected(&self, path: &[&str]) -> bool {
        let mut node = self;
        for name in path {
            if !node.selected {
                return false;
            }
            match node.children.get(*name) {
                Some(child) => node = child,
                None => return true,
            }
        }
        node.selected
    }

    /// The schema without unselected properties (nested too), also removed from `required`.
    pub fn prune_schema(&self, schema: &Value) -> Value {
        let mut out = schema.clone();
        self.prune_schema_in_place(&mut out);
        out
    }

    fn prune_schema_in_place(&self, schema: &mut Value) {
        let Value::Object(obj) = schema else {
            return;
        };
        let mut removed = Vec::new();
        if let Some(Value::Object(props)) = obj.get_mut("properties") {
            props.retain(|name, sub| match self.children.get(name) {
                Some(child) if !child.selected => {
                    removed.push(name.clone());
                    false
                }
                Some(child) => {
                    child.prune_schema_in_place(sub);
                    true
                }
                None => true,
            });
        }
        for combinator in ["anyOf", "oneOf", "allOf"] {
            if let Some(Value::Array(branches)) = obj.get_mut(combinator) {
                for b in branches {
                    self.prune_schema_in_place(b);
                }
            }
        }
        if let Some(Value::Array(required)) = obj.get_mut("required") {
            required.retain(|r| r.as_str().is_none_or(|r| !removed.iter().any(|x| x == r)));
        }
    }

    /// Removes unselected keys from a record (nested objects too); keys unknown to the schema stay.
    pub fn prune_record(&self, record: &mut Map<String, Value>) {
        if self.children.is_empty() {
            return;
        }
        record.retain(|name, value| match self.children.get(name) {
            Some(child) if !child.selected => false,
            Some(child) => {
                if let Value::Object(inner) = value {
                    child.prune_record(inner);
                }
                true
            }
            None => true,
        });
    }

    /// Dotted paths of every deselected field, for logs.
    pub fn deselected_paths(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_deselected("", &mut out);
        out
    }

    fn collect_deselected(&self, prefix: &str, out: &mut Vec<String>) {
        for (name, child) in &self.children {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            if child.selected {
                child.collect_deselected(&path, out);
            } else {
                out.push(path);
            }
        }
    }
}

/// Computes the selection of every field of `schema` from `metadata`, keeping `forced` top-level fields.
pub(crate) fn select_fields(
    schema: &Value,
    metadata: &Metadata,
    forced: &[String],
) -> (FieldSelection, Vec<String>) {
    let mut warnings = Vec::new();
    let children = select_children(
        schema,
        metadata,
        &Breadcrumb::root(),
        true,
        forced,
        &mut warnings,
    );
    (
        FieldSelection {
            selected: true,
            children,
        },
        warnings,
    )
}

fn select_children(
    schema: &Value,
    metadata: &Metadata,
    parent: &Breadcrumb,
    parent_selected: bool,
    forced: &[String],
    warnings: &mut Vec<String>,
) -> IndexMap<String, FieldSelection> {
    properties(schema)
        .into_iter()
        .map(|(name, sub)| {
            let bc = parent.child(name);
            let mut selected =
                parent_selected && field_rule(metadata, &bc, sub).unwrap_or(parent_selected);
            if !selected && parent.is_root() && forced.iter().any(|f| f == name) {
                warnings.push(format!(
                    "field `{name}` is a key or replication key: kept although deselected"
                ));
                selected = true;
            }
            let children = select_children(sub, metadata, &bc, selected, &[], warnings);
            (name.clone(), FieldSelection { selected, children })
        })
        .collect()
}

/// The field's own rule, or `None` to inherit. Metadata first; legacy schema keys as a fallback.
fn field_rule(metadata: &Metadata, bc: &Breadcrumb, schema: &Value) -> Option<bool> {
    let lookup = |key: &str| metadata.get(bc, key).or_else(|| schema.get(key));
    match lookup(keys::INCLUSION).and_then(Value::as_str) {
        Some("unsupported") => return Some(false),
        Some("automatic") => return Some(true),
        _ => {}
    }
    lookup(keys::SELECTED)
        .and_then(Value::as_bool)
        .or_else(|| lookup(keys::SELECTED_BY_DEFAULT).and_then(Value::as_bool))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "required": ["id", "b"], "properties": {
            "id": {"type": "integer"},
            "a": {"type": "string"},
            "b": {"type": "string"},
            "u": {"type": "string"},
            "d": {"type": "string"},
            "obj": {"type": "object", "properties": {"x": {"type": "string"}, "y": {"type": "string"}}},
            "gone": {"type": "object", "properties": {"auto": {"type": "string"}}}
        }})
    }

    fn md(entries: Value) -> Metadata {
        Metadata::from_list(&entries).unwrap()
    }

    #[test]
    fn every_rule_of_the_spec() {
        let md = md(json!([
            {"breadcrumb": [], "metadata": {"selected": true}},
            {"breadcrumb": ["properties", "id"], "metadata": {"inclusion": "automatic", "selected": false}},
            {"breadcrumb": ["properties", "a"], "metadata": {"inclusion": "available", "selected": true}},
            {"breadcrumb": ["properties", "b"], "metadata": {"inclusion": "available", "selected": false}},
            {"breadcrumb": ["properties", "u"], "metadata": {"inclusion": "unsupported", "selected": true}},
            {"breadcrumb": ["properties", "d"], "metadata": {"selected-by-default": false}},
            {"breadcrumb": ["properties", "obj", "properties", "y"], "metadata": {"selected": false}},
            {"breadcrumb": ["properties", "gone"], "metadata": {"selected": false}},
            {"breadcrumb": ["properties", "gone", "properties", "auto"], "metadata": {"inclusion": "automatic"}}
        ]));
        let (sel, warnings) = select_fields(&schema(), &md, &[]);
        assert!(warnings.is_empty());
        assert!(sel.is_selected(&["id"]), "automatic always");
        assert!(sel.is_selected(&["a"]));
        assert!(!sel.is_selected(&["b"]));
        assert!(!sel.is_selected(&["u"]), "unsupported never");
        assert!(
            !sel.is_selected(&["d"]),
            "selected-by-default when no selected"
        );
        assert!(sel.is_selected(&["obj"]), "no metadata: inherit");
        assert!(sel.is_selected(&["obj", "x"]));
        assert!(!sel.is_selected(&["obj", "y"]));
        assert!(
            !sel.is_selected(&["gone", "auto"]),
            "a field under a deselected object is out"
        );
        assert!(sel.is_selected(&["not_in_schema"]));
        assert!(!sel.all_selected());
        assert_eq!(sel.deselected_paths(), vec!["b", "u", "d", "obj.y", "gone"]);

        let pruned = sel.prune_schema(&schema());
        let props = pruned["properties"].as_object().unwrap();
        assert_eq!(props.keys().collect::<Vec<_>>(), vec!["id", "a", "obj"]);
        assert_eq!(
            pruned["properties"]["obj"]["properties"]
                .as_object()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(pruned["required"], json!(["id"]));

        let mut rec =
            json!({"id": 1, "a": "x", "b": "y", "u": 1, "obj": {"x": 1, "y": 2}, "extra": true});
        sel.prune_record(rec.as_object_mut().unwrap());
        assert_eq!(
            rec,
            json!({"id": 1, "a": "x", "obj": {"x": 1}, "extra": true})
        );
    }

    #[test]
    fn a_catalog_selecting_only_the_stream_syncs_every_field() {
        let md = md(json!([{"breadcrumb": [], "metadata": {"selected": true}}]));
        let (sel, _) = select_fields(&schema(), &md, &[]);
        assert!(sel.all_selected());
    }

    #[test]
    fn deselected_keys_are_kept_with_a_warning() {
        let md = md(json!([{"breadcrumb": ["properties", "id"], "metadata": {"selected": false}}]));
        let (sel, warnings) = select_fields(&schema(), &md, &["id".into()]);
        assert!(sel.is_selected(&["id"]));
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn legacy_schema_level_keys_are_honoured() {
        let schema = json!({"properties": {"a": {"type": "string", "selected": false}, "k": {"inclusion": "automatic", "selected": false}}});
        let (sel, _) = select_fields(&schema, &Metadata::new(), &[]);
        assert!(!sel.is_selected(&["a"]));
        assert!(sel.is_selected(&["k"]));
    }

    #[test]
    fn top_level_deselections_are_listed_and_nested_ones_are_not_fast() {
        let sel = |entries: Value| select_fields(&schema(), &md(entries), &[]).0;
        let top = sel(json!([
            {"breadcrumb": [], "metadata": {"selected": true}},
            {"breadcrumb": ["properties", "a"], "metadata": {"selected": false}},
            {"breadcrumb": ["properties", "obj"], "metadata": {"selected": false}}
        ]));
        assert_eq!(
            top.top_level_deselected(),
            Some(vec!["a".to_owned(), "obj".to_owned()])
        );
        let all = sel(json!([{"breadcrumb": [], "metadata": {"selected": true}}]));
        assert_eq!(all.top_level_deselected(), Some(vec![]));
        let nested = sel(json!([
            {"breadcrumb": [], "metadata": {"selected": true}},
            {"breadcrumb": ["properties", "obj", "properties", "y"], "metadata": {"selected": false}}
        ]));
        assert_eq!(nested.top_level_deselected(), None);
    }
}
