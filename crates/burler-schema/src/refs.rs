//! `$ref` resolution, since Singer targets do not resolve references themselves.
//!
//! Every variety is followed: local pointers (`#/definitions/x`, `#/$defs/x`, any JSON pointer with
//! `~0`/`~1` and `%xx` escapes), plain-name anchors (`#name` from `"$id": "#name"` or `$anchor`),
//! other files relative to the file holding the `$ref` (`other.json`, `other.json#/definitions/x`,
//! transitively, each relative to its own file), and `$id`s declared anywhere in the documents
//! read so far (absolute, or relative to the root `$id`). Keywords written beside a `$ref` are kept
//! and win over the target's. The output has no `$ref`, `definitions`, `$defs`, `$id` or `$anchor`
//! left.
//!
//! A recursive reference is an error naming where it was found, unless the caller allows a
//! bounded expansion ([`Resolver::max_recursion`]): then the recursion is unrolled that many times
//! and its innermost occurrence becomes `{}` (any value).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde_json::{Map, Value};

use crate::SchemaError;
use crate::walk::{Role, role};

/// Reads a schema file and resolves all its `$ref`s (file references relative to the file).
pub fn load_file(path: &Path) -> Result<Value, SchemaError> {
    Resolver::new().load_file(path)
}

/// Resolves all `$ref`s of an in-memory schema; file references are relative to `base_dir`
/// (without one, a file reference is an error).
pub fn resolve(schema: &Value, base_dir: Option<&Path>) -> Result<Value, SchemaError> {
    Resolver::new().resolve(schema, base_dir)
}

/// `$ref` resolution with options.
#[derive(Debug, Clone, Default)]
pub struct Resolver {
    max_recursion: Option<usize>,
}

impl Resolver {
    /// A resolver that treats a recursive reference as an error.
    pub fn new() -> Self {
        Self::default()
    }

    /// Allows recursive schemas: a reference already being expanded `depth` times becomes `{}`
    /// (any value) instead of an error. `depth` 0 is taken as 1.
    pub fn max_recursion(mut self, depth: usize) -> Self {
        self.max_recursion = Some(depth.max(1));
        self
    }

    /// Reads a schema file and resolves all its `$ref`s.
    pub fn load_file(&self, path: &Path) -> Result<Value, SchemaError> {
        let mut session = Session::new(self);
        let doc = session.read_doc(path)?;
        session.run(&doc)
    }

    /// Resolves all `$ref`s of an in-memory schema; file references are relative to `base_dir`.
    pub fn resolve(&self, schema: &Value, base_dir: Option<&Path>) -> Result<Value, SchemaError> {
        let mut session = Session::new(self);
        let doc = session.add_doc(Doc {
            value: schema.clone(),
            name: IN_MEMORY.to_owned(),
            dir: base_dir.map(Path::to_owned),
            base: None,
            anchors: HashMap::new(),
        });
        session.run(&doc)
    }
}

const IN_MEMORY: &str = "the given schema";

/// One schema document: a file, or the in-memory schema.
struct Doc {
    value: Value,
    /// The file's path as given, or [`IN_MEMORY`].
    name: String,
    /// Where relative file references of this document start.
    dir: Option<PathBuf>,
    /// The root `$id`, against which relative `$id` references are joined.
    base: Option<String>,
    /// Plain-name fragments (`#name`) → JSON pointer.
    anchors: HashMap<String, String>,
}

/// The state of one resolution: documents read so far and the `$id`s they declare.
struct Session<'r> {
    resolver: &'r Resolver,
    files: HashMap<PathBuf, Rc<Doc>>,
    ids: HashMap<String, (Rc<Doc>, String)>,
}

/// Where a reference leads.
struct Target {
    doc: Rc<Doc>,
    pointer: String,
}

impl<'r> Session<'r> {
    fn new(resolver: &'r Resolver) -> Self {
        Self {
            resolver,
            files: HashMap::new(),
            ids: HashMap::new(),
        }
    }

    fn run(&mut self, doc: &Rc<Doc>) -> Result<Value, SchemaError> {
        let mut at = String::from("#");
        let mut stack = vec![format!("{}#", doc.name)];
        self.expand(&doc.value, doc, &mut at, &mut stack)
    }

    fn read_doc(&mut self, path: &Path) -> Result<Rc<Doc>, SchemaError> {
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        if let Some(doc) = self.files.get(&key) {
            return Ok(doc.clone());
        }
        let text = std::fs::read_to_string(path).map_err(|source| SchemaError::Read {
            path: path.to_owned(),
            source,
        })?;
        let value: Value = serde_json::from_str(&text).map_err(|source| SchemaError::Json {
            path: path.to_owned(),
            source,
        })?;
        let doc = self.add_doc(Doc {
            value,
            name: path.display().to_string(),
            dir: Some(path.parent().map(Path::to_owned).unwrap_or_default()),
            base: None,
            anchors: HashMap::new(),
        });
        self.files.insert(key, doc.clone());
        Ok(doc)
    }

    /// Indexes the document's `$id`s and anchors and keeps it.
    fn add_doc(&mut self, mut doc: Doc) -> Rc<Doc> {
        doc.base = doc
            .value
            .get("$id")
            .and_then(Value::as_str)
            .map(|id| id.trim_end_matches('#').to_owned());
        let mut ids = Vec::new();
        collect_ids(&doc.value, &mut String::new(), &mut ids);
        for (id, pointer) in &ids {
            if let Some(name) = id.strip_prefix('#') {
                doc.anchors.insert(name.to_owned(), pointer.clone());
            }
        }
        let doc = Rc::new(doc);
        for (id, pointer) in ids.into_iter().filter(|(id, _)| !id.starts_with('#')) {
            if let Some(base) = &doc.base {
                let joined = join_uri(base, &id);
                self.ids
                    .entry(joined)
                    .or_insert_with(|| (doc.clone(), pointer.clone()));
            }
            self.ids.entry(id).or_insert_with(|| (doc.clone(), pointer));
        }
        doc
    }

    fn expand(
        &mut self,
        node: &Value,
        doc: &Rc<Doc>,
        at: &mut String,
        stack: &mut Vec<String>,
    ) -> Result<Value, SchemaError> {
        match node {
            Value::Object(obj) => match obj.get("$ref") {
                Some(Value::String(reference)) => self.expand_ref(reference, obj, doc, at, stack),
                _ => self.expand_object(obj, doc, at, stack),
            },
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(self.nested(item, doc, at, &i.to_string(), stack)?);
                }
                Ok(Value::Array(out))
            }
            other => Ok(other.clone()),
        }
    }

    fn nested(
        &mut self,
        node: &Value,
        doc: &Rc<Doc>,
        at: &mut String,
        segment: &str,
        stack: &mut Vec<String>,
    ) -> Result<Value, SchemaError> {
        let len = at.len();
        at.push('/');
        at.push_str(&segment.replace('~', "~0").replace('/', "~1"));
        let out = self.expand(node, doc, at, stack);
        at.truncate(len);
        out
    }

    fn expand_object(
        &mut self,
        obj: &Map<String, Value>,
        doc: &Rc<Doc>,
        at: &mut String,
        stack: &mut Vec<String>,
    ) -> Result<Value, SchemaError> {
        let mut out = Map::with_capacity(obj.len());
        for (key, value) in obj {
            match (key.as_str(), role(key)) {
                ("definitions" | "$defs" | "$id" | "$anchor", _) => {}
                (_, Role::Data) => {
                    out.insert(key.clone(), value.clone());
                }
                (_, Role::Schema) => {
                    let expanded = self.nested(value, doc, at, key, stack)?;
                    out.insert(key.clone(), expanded);
                }
                (_, Role::Map) => {
                    let expanded = match value {
                        Value::Object(map) => {
                            let len = at.len();
                            at.push('/');
                            at.push_str(key);
                            let mut names = Map::with_capacity(map.len());
                            for (name, schema) in map {
                                match self.nested(schema, doc, at, name, stack) {
                                    Ok(v) => names.insert(name.clone(), v),
                                    Err(e) => {
                                        at.truncate(len);
                                        return Err(e);
                                    }
                                };
                            }
                            at.truncate(len);
                            Value::Object(names)
                        }
                        other => other.clone(),
                    };
                    out.insert(key.clone(), expanded);
                }
            }
        }
        Ok(Value::Object(out))
    }

    fn expand_ref(
        &mut self,
        reference: &str,
        obj: &Map<String, Value>,
        doc: &Rc<Doc>,
        at: &mut String,
        stack: &mut Vec<String>,
    ) -> Result<Value, SchemaError> {
        let target = self.locate(reference, doc, at)?;
        let identity = format!("{}#{}", target.doc.name, target.pointer);
        let depth = stack.iter().filter(|seen| **seen == identity).count();
        if depth > 0 {
            match self.resolver.max_recursion {
                Some(limit) if depth >= limit => return Ok(Value::Object(Map::new())),
                Some(_) => {}
                None => {
                    return Err(SchemaError::Cycle {
                        reference: reference.to_owned(),
                        at: at.clone(),
                        file: doc.name.clone(),
                    });
                }
            }
        }
        let target_doc = target.doc.clone();
        let Some(node) = target_doc.value.pointer(&target.pointer) else {
            return Err(missing(reference, doc, at, "the target vanished"));
        };
        stack.push(identity);
        let expanded = self.expand(node, &target_doc, at, stack);
        stack.pop();
        let mut expanded = expanded?;
        let siblings: Map<String, Value> = obj
            .iter()
            .filter(|(k, _)| k.as_str() != "$ref")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let (Value::Object(out), false) = (&mut expanded, siblings.is_empty())
            && let Value::Object(extra) = self.expand_object(&siblings, doc, at, stack)?
        {
            out.extend(extra);
        }
        Ok(expanded)
    }

    /// Finds the document and pointer a reference leads to.
    fn locate(&mut self, reference: &str, doc: &Rc<Doc>, at: &str) -> Result<Target, SchemaError> {
        let (uri, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let (target_doc, base_pointer) = if uri.is_empty() {
            (doc.clone(), String::new())
        } else if let Some((d, p)) = self.lookup_id(uri, doc) {
            (d, p)
        } else if uri.contains("://") && !uri.starts_with("file://") {
            return Err(missing(
                reference,
                doc,
                at,
                "no schema read so far declares this $id, and remote schemas are not fetched",
            ));
        } else {
            let Some(dir) = &doc.dir else {
                return Err(missing(
                    reference,
                    doc,
                    at,
                    "a file reference needs a base directory",
                ));
            };
            let path = dir.join(uri.trim_start_matches("file://"));
            let loaded = self.read_doc(&path).map_err(|e| {
                let reason = match e {
                    SchemaError::Read { source, .. } => {
                        format!("cannot read {}: {source}", path.display())
                    }
                    SchemaError::Json { source, .. } => {
                        format!("{} is not valid JSON: {source}", path.display())
                    }
                    other => other.to_string(),
                };
                missing(reference, doc, at, &reason)
            })?;
            (loaded, String::new())
        };
        let fragment = percent_decode(fragment);
        let pointer = if fragment.is_empty() || fragment.starts_with('/') {
            base_pointer + &fragment
        } else if let Some(p) = target_doc.anchors.get(&fragment) {
            p.clone()
        } else {
            let reason = format!("{} declares no anchor #{fragment}", target_doc.name);
            return Err(missing(reference, doc, at, &reason));
        };
        if target_doc.value.pointer(&pointer).is_none() {
            let reason = format!("{} has nothing at #{pointer}", target_doc.name);
            return Err(missing(reference, doc, at, &reason));
        }
        Ok(Target {
            doc: target_doc,
            pointer,
        })
    }

    fn lookup_id(&self, uri: &str, doc: &Doc) -> Option<(Rc<Doc>, String)> {
        let uri = uri.trim_end_matches('#');
        if let Some(hit) = self.ids.get(uri) {
            return Some(hit.clone());
        }
        let base = doc.base.as_deref()?;
        self.ids.get(&join_uri(base, uri)).cloned()
    }
}

fn missing(reference: &str, doc: &Doc, at: &str, reason: &str) -> SchemaError {
    SchemaError::MissingRef {
        reference: reference.to_owned(),
        at: at.to_owned(),
        file: doc.name.clone(),
        reason: reason.to_owned(),
    }
}

/// Every `$id` (and `$anchor`, as `#name`) in schema positions, with its JSON pointer.
fn collect_ids(node: &Value, pointer: &mut String, out: &mut Vec<(String, String)>) {
    match node {
        Value::Object(obj) => {
            if let Some(Value::String(id)) = obj.get("$id") {
                out.push((id.clone(), pointer.clone()));
            }
            if let Some(Value::String(anchor)) = obj.get("$anchor") {
                out.push((format!("#{anchor}"), pointer.clone()));
            }
            for (key, value) in obj {
                let len = pointer.len();
                push_segment(pointer, key);
                match role(key) {
                    Role::Schema => collect_ids(value, pointer, out),
                    Role::Map => {
                        if let Value::Object(map) = value {
                            for (name, child) in map {
                                let inner = pointer.len();
                                push_segment(pointer, name);
                                collect_ids(child, pointer, out);
                                pointer.truncate(inner);
                            }
                        }
                    }
                    Role::Data => {}
                }
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = pointer.len();
                push_segment(pointer, &i.to_string());
                collect_ids(item, pointer, out);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

fn push_segment(pointer: &mut String, segment: &str) {
    pointer.push('/');
    pointer.push_str(&segment.replace('~', "~0").replace('/', "~1"));
}

/// `base` with its last path segment replaced by `relative` (absolute `relative`s win).
fn join_uri(base: &str, relative: &str) -> String {
    if relative.contains("://") {
        return relative.to_owned();
    }
    match base.rfind('/') {
        Some(i) => format!("{}{relative}", &base[..=i]),
        None => relative.to_owned(),
    }
}

/// Decodes `%xx` escapes of a URI fragment (`%24defs` → `$defs`); malformed escapes are kept.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn local_refs_resolve_with_escapes_and_siblings() {
        let s = json!({"definitions": {"a": {"type": "string"}}, "$defs": {"b/c": {"type": "integer"}},
            "properties": {"x": {"$ref": "#/definitions/a", "description": "kept"}, "y": {"$ref": "#/%24defs/b~1c"},
            "definitions": {"type": "string"}}});
        let r = resolve(&s, None).unwrap();
        assert_eq!(
            r,
            json!({"properties": {"x": {"type": "string", "description": "kept"}, "y": {"type": "integer"},
                "definitions": {"type": "string"}}})
        );
    }

    #[test]
    fn cycles_and_missing_targets_are_named() {
        let cyclic = json!({"definitions": {"n": {"properties": {"next": {"$ref": "#/definitions/n"}}}},
            "properties": {"root": {"$ref": "#/definitions/n"}}});
        let e = resolve(&cyclic, None).unwrap_err().to_string();
        assert!(
            e.starts_with(
                "recursive $ref \"#/definitions/n\" at #/properties/root/properties/next"
            ),
            "{e}"
        );
        let missing = json!({"properties": {"x": {"$ref": "#/definitions/zzz"}}});
        let e = resolve(&missing, None).unwrap_err().to_string();
        assert!(e.contains("\"#/definitions/zzz\" at #/properties/x"), "{e}");
        let file = json!({"properties": {"x": {"$ref": "other.json"}}});
        let e = resolve(&file, None).unwrap_err().to_string();
        assert!(e.contains("needs a base directory"), "{e}");
    }

    #[test]
    fn bounded_recursion_unrolls_then_stops() {
        let cyclic = json!({"definitions": {"n": {"type": "object", "properties": {"next": {"$ref": "#/definitions/n"}}}},
            "$ref": "#/definitions/n"});
        let r = Resolver::new()
            .max_recursion(2)
            .resolve(&cyclic, None)
            .unwrap();
        assert_eq!(
            r,
            json!({"type": "object", "properties": {"next": {"type": "object", "properties": {"next": {}}}}})
        );
    }

    #[test]
    fn percent_decoding_and_uri_joining() {
        assert_eq!(percent_decode("/%24defs/a%2"), "/$defs/a%2");
        assert_eq!(
            join_uri("http://x.org/s/root.json", "item.json"),
            "http://x.org/s/item.json"
        );
    }
}
