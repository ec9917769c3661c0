//! A metadata visitor: a function called for every node of a stream's schema with its breadcrumb,
//! writing metadata in context: a visitor is called with each node of the schema.
//!
//! ```
//! use burler_singer::{Metadata, visit_schema, Inclusion};
//! let schema = serde_json::json!({"properties": {"id": {"type": "integer"}, "blob": {"type": "string"}}});
//! let mut md = Metadata::new();
//! visit_schema(&schema, &mut md, |node, meta| match node.name {
//!     Some("id") => meta.inclusion(Inclusion::Automatic),
//!     Some("blob") => meta.inclusion(Inclusion::Unsupported),
//!     _ => {}
//! });
//! assert_eq!(md.get(&burler_singer::Breadcrumb::property("blob"), "inclusion").unwrap(), "unsupported");
//! ```

use serde_json::{Map, Value};

use crate::metadata::{Breadcrumb, Inclusion, Metadata, keys};

/// One node of a schema: the stream (level 0) or a field.
#[derive(Debug)]
pub struct SchemaNode<'a> {
    /// Where the node sits.
    pub breadcrumb: Breadcrumb,
    /// The field's name; `None` for the stream.
    pub name: Option<&'a str>,
    /// Field names from the top (`["address", "city"]`).
    pub path: Vec<&'a str>,
    /// 0 for the stream, 1 for top-level fields, …
    pub level: usize,
    /// The node's sub-schema.
    pub schema: &'a Value,
}

/// Writes metadata at one node's breadcrumb.
#[derive(Debug)]
pub struct NodeMetadata<'m> {
    metadata: &'m mut Metadata,
    breadcrumb: Breadcrumb,
}

impl NodeMetadata<'_> {
    /// Sets a key at this node.
    pub fn set(&mut self, key: &str, value: impl Into<Value>) {
        self.metadata.set(&self.breadcrumb, key, value);
    }

    /// Reads a key at this node.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.metadata.get(&self.breadcrumb, key)
    }

    /// Sets `inclusion`.
    pub fn inclusion(&mut self, inclusion: Inclusion) {
        self.set(keys::INCLUSION, inclusion.as_str());
    }

    /// `inclusion: automatic`.
    pub fn automatic(&mut self) {
        self.inclusion(Inclusion::Automatic);
    }

    /// `inclusion: available`.
    pub fn available(&mut self) {
        self.inclusion(Inclusion::Available);
    }

    /// `inclusion: unsupported`.
    pub fn unsupported(&mut self) {
        self.inclusion(Inclusion::Unsupported);
    }
}

/// Calls `f` for the stream node and every field, depth first, in schema order. Fields of nested
/// objects (also inside `anyOf`/`oneOf` branches and nullable object types) are visited; array
/// items are part of their array field.
pub fn visit_schema<F>(schema: &Value, metadata: &mut Metadata, mut f: F)
where
    F: FnMut(&SchemaNode<'_>, &mut NodeMetadata<'_>),
{
    walk(
        schema,
        None,
        Vec::new(),
        Breadcrumb::root(),
        metadata,
        &mut f,
    );
}

fn walk<'a, F>(
    schema: &'a Value,
    name: Option<&'a str>,
    path: Vec<&'a str>,
    breadcrumb: Breadcrumb,
    metadata: &mut Metadata,
    f: &mut F,
) where
    F: FnMut(&SchemaNode<'_>, &mut NodeMetadata<'_>),
{
    let node = SchemaNode {
        level: breadcrumb.level(),
        breadcrumb: breadcrumb.clone(),
        name,
        path: path.clone(),
        schema,
    };
    let mut meta = NodeMetadata {
        metadata,
        breadcrumb: breadcrumb.clone(),
    };
    f(&node, &mut meta);
    for (child, sub) in properties(schema) {
        let mut child_path = path.clone();
        child_path.push(child.as_str());
        walk(
            sub,
            Some(child.as_str()),
            child_path,
            breadcrumb.child(child),
            metadata,
            f,
        );
    }
}

/// The properties of an object schema, including those of `anyOf`/`oneOf`/`allOf` branches.
pub fn properties(schema: &Value) -> Vec<(&String, &Value)> {
    fn add<'a>(out: &mut Vec<(&'a String, &'a Value)>, props: Option<&'a Map<String, Value>>) {
        for (k, v) in props.into_iter().flatten() {
            if !out.iter().any(|(name, _)| *name == k) {
                out.push((k, v));
            }
        }
    }
    let mut out = Vec::new();
    add(
        &mut out,
        schema.get("properties").and_then(Value::as_object),
    );
    for combinator in ["anyOf", "oneOf", "allOf"] {
        for branch in schema
            .get(combinator)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            add(
                &mut out,
                branch.get("properties").and_then(Value::as_object),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn visits_every_node_with_breadcrumb_path_and_level() {
        let schema = json!({"type": "object", "properties": {
            "id": {"type": "integer"},
            "address": {"type": ["null", "object"], "properties": {"city": {"type": "string"}}},
            "choice": {"anyOf": [{"type": "null"}, {"type": "object", "properties": {"x": {}}}]}
        }});
        let mut seen = Vec::new();
        let mut md = Metadata::new();
        visit_schema(&schema, &mut md, |n, m| {
            seen.push((n.path.join("."), n.level, n.breadcrumb.0.len()));
            m.set("visited", true);
        });
        assert_eq!(
            seen,
            vec![
                ("".into(), 0, 0),
                ("id".into(), 1, 2),
                ("address".into(), 1, 2),
                ("address.city".into(), 2, 4),
                ("choice".into(), 1, 2),
                ("choice.x".into(), 2, 4)
            ]
        );
        assert_eq!(md.len(), 6);
    }
}
