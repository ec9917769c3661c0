//! Stream maps compiled for a catalog: for each input stream, the output streams it becomes
//! (0..n: itself, renamed, cloned, or none) with their rewritten SCHEMA, and the per-record work
//! to produce each output's record. Everything that can be decided from the config and the
//! schemas is decided here, once; applying a map to a record only evaluates.

use std::collections::HashMap;
use std::sync::Arc;

use cel::Env;
use cel::common::types::{CelMap, CelMapKey, CelString};
use cel::common::value::Val;
use serde_json::{Map, Value, json};

use crate::expression::{Bindings, Expression};
use crate::flatten::{flatten_record, flatten_schema};
use crate::glob::fnmatch;
use crate::infer::property_schema;
use crate::settings::{FlatteningOptions, MapDef, MapSettings, PropertyDef, StreamDef};
use crate::value::json_into_val;
use crate::{MapsError, RecordError};

/// A stream as the catalog gives it: the input of the maps.
#[derive(Debug, Clone, Copy)]
pub struct SourceStream<'a> {
    /// The stream name (`stream`, else `tap_stream_id`, as singer-sdk registers it).
    pub name: &'a str,
    /// Its JSON Schema, fields deselected in the catalog already removed.
    pub schema: &'a Value,
    /// Its key properties.
    pub key_properties: &'a [String],
}

/// The stream maps and flattening of a whole catalog, compiled once at startup.
///
/// ```
/// use burler_maps::{SourceStream, StreamMaps};
/// use serde_json::json;
///
/// let config = json!({"stream_maps": {"users": {
///     "email": null,
///     "email_hash": "md5(record['email'])",
///     "__filter__": "record['active']"}}});
/// let schema = json!({"type": "object", "properties": {
///     "id": {"type": "integer"}, "email": {"type": "string"}, "active": {"type": "boolean"}}});
/// let keys = ["id".to_owned()];
/// let maps = StreamMaps::compile(
///     config.as_object().unwrap(),
///     [SourceStream { name: "users", schema: &schema, key_properties: &keys }],
/// ).unwrap();
///
/// let users = maps.stream("users").unwrap();
/// assert_eq!(users.outputs()[0].schema()["properties"]["email_hash"],
///            json!({"type": ["string", "null"]}));
/// let mut out = Vec::new();
/// let record = json!({"id": 1, "email": "a@b.c", "active": true});
/// users.apply(record.as_object().unwrap().clone(), &mut out).unwrap();
/// assert_eq!(out[0].as_ref().unwrap()["email_hash"], "5d60d4e28066df254d5452f92c910092");
/// ```
#[derive(Debug)]
pub struct StreamMaps {
    streams: Vec<StreamMapper>,
    index: HashMap<String, usize>,
    unmatched: Vec<String>,
    inactive: bool,
}

/// What one input stream becomes.
#[derive(Debug)]
pub struct StreamMapper {
    source: String,
    outputs: Vec<OutputStream>,
    primary_removed: bool,
}

/// One stream the tap writes: its name, SCHEMA and keys, and how its records are made.
#[derive(Debug)]
pub struct OutputStream {
    name: String,
    schema: Value,
    key_properties: Vec<String>,
    transform: Transform,
}

#[derive(Debug)]
enum Transform {
    /// The record as it is.
    Identity,
    /// The record flattened (no map).
    Flatten(FlatteningOptions),
    Map(Box<CompiledMap>),
}

/// A compiled object entry of `stream_maps`.
struct CompiledMap {
    /// The `stream_maps` key, for errors.
    entry: String,
    bindings: Bindings,
    filter: Option<Expression>,
    include_by_default: bool,
    key_properties: Vec<String>,
    steps: Vec<(String, Option<Expression>)>,
    flatten: Option<FlatteningOptions>,
}

impl std::fmt::Debug for CompiledMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let steps: Vec<(&str, Option<&str>)> = self
            .steps
            .iter()
            .map(|(k, e)| (k.as_str(), e.as_ref().map(Expression::source)))
            .collect();
        f.debug_struct("CompiledMap")
            .field("entry", &self.entry)
            .field("filter", &self.filter.as_ref().map(Expression::source))
            .field("include_by_default", &self.include_by_default)
            .field("steps", &steps)
            .finish_non_exhaustive()
    }
}

impl StreamMaps {
    /// Compiles `stream_maps`, `stream_map_config` and `flattening_*` from a tap's config for
    /// the catalog's streams. Every expression is parsed and checked here; a bad one is an
    /// error naming the stream map and the key.
    pub fn compile<'a>(
        config: &Map<String, Value>,
        streams: impl IntoIterator<Item = SourceStream<'a>>,
    ) -> Result<Self, MapsError> {
        let settings = MapSettings::from_config(config)?;
        let compiler = Compiler::new(&settings)?;
        let mut maps = StreamMaps {
            streams: Vec::new(),
            index: HashMap::new(),
            unmatched: Vec::new(),
            inactive: settings.is_inactive(),
        };
        let mut matched = vec![false; settings.streams.len()];
        for stream in streams {
            let mapper = compiler.stream(stream, &mut matched)?;
            maps.index
                .insert(stream.name.to_owned(), maps.streams.len());
            maps.streams.push(mapper);
        }
        maps.unmatched = settings
            .streams
            .iter()
            .zip(&matched)
            .filter(|(_, m)| !**m)
            .map(|(e, _)| e.key.clone())
            .collect();
        Ok(maps)
    }

    /// The mapper of an input stream (every stream given to [`compile`](Self::compile) has one).
    pub fn stream(&self, name: &str) -> Option<&StreamMapper> {
        self.index.get(name).map(|&i| &self.streams[i])
    }

    /// Every input stream's mapper, by value (a runner hands each to the writer of its stream).
    pub fn into_mappers(self) -> impl Iterator<Item = StreamMapper> {
        self.streams.into_iter()
    }

    /// True when the config maps and flattens nothing: every stream is its own single output,
    /// records untouched, so the engine can keep its direct path.
    pub fn is_inactive(&self) -> bool {
        self.inactive
    }

    /// `stream_maps` keys that matched no stream (singer-sdk ignores them silently; worth a
    /// warning).
    pub fn unmatched_keys(&self) -> &[String] {
        &self.unmatched
    }
}

impl StreamMapper {
    /// The input stream's name.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The streams written for this input, in singer-sdk's order (the stream itself or its
    /// alias first, then the `__source__` clones). Empty when the stream is removed.
    pub fn outputs(&self) -> &[OutputStream] {
        &self.outputs
    }

    /// True when the single output is the stream itself, unchanged (same name, schema, keys,
    /// records): the engine may skip [`apply`](Self::apply).
    pub fn is_identity(&self) -> bool {
        matches!(self.outputs.as_slice(), [o] if o.name == self.source && matches!(o.transform, Transform::Identity))
    }

    /// Whether singer-sdk would sync this record's child streams: it does unless the stream is
    /// removed or its primary map's `__filter__` rejects the record.
    pub fn syncs_children_of(&self, record: &Map<String, Value>) -> Result<bool, RecordError> {
        if self.primary_removed {
            return Ok(false);
        }
        match self.outputs.first().map(|o| (&o.name, &o.transform)) {
            Some((name, Transform::Map(map))) => map.passes_filter(name, record),
            _ => Ok(true),
        }
    }

    /// Maps one record: `out` is cleared and gets one entry per [`outputs`](Self::outputs)
    /// entry, `None` where the output's `__filter__` drops the record. The record is moved into
    /// the last output (no copy when there is one).
    pub fn apply(
        &self,
        record: Map<String, Value>,
        out: &mut Vec<Option<Map<String, Value>>>,
    ) -> Result<(), RecordError> {
        out.clear();
        let Some((last, others)) = self.outputs.split_last() else {
            return Ok(());
        };
        for output in others {
            out.push(output.apply(record.clone())?);
        }
        out.push(last.apply(record)?);
        Ok(())
    }
}

impl OutputStream {
    /// The stream name written on SCHEMA and RECORD messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The rewritten JSON Schema.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// The key properties (after `__key_properties__` and renames).
    pub fn key_properties(&self) -> &[String] {
        &self.key_properties
    }

    /// The SCHEMA message of this output; `bookmark_properties` are the input stream's
    /// (singer-sdk writes them unchanged on every output).
    pub fn schema_message(
        &self,
        bookmark_properties: Option<Vec<String>>,
    ) -> burler_singer::SchemaMessage {
        burler_singer::SchemaMessage {
            stream: self.name.clone(),
            schema: self.schema.clone(),
            key_properties: self.key_properties.clone(),
            bookmark_properties,
        }
    }

    /// This output's record, or `None` when its filter drops it.
    pub fn apply(
        &self,
        record: Map<String, Value>,
    ) -> Result<Option<Map<String, Value>>, RecordError> {
        match &self.transform {
            Transform::Identity => Ok(Some(record)),
            Transform::Flatten(opts) => Ok(Some(flatten_record(record, &self.schema, opts))),
            Transform::Map(map) => map.apply(&self.name, &self.schema, record),
        }
    }
}

impl CompiledMap {
    fn record_error(
        &self,
        stream: &str,
        key: &str,
        expression: &Expression,
        problem: String,
    ) -> RecordError {
        RecordError {
            stream: stream.to_owned(),
            key: format!("{}.{key}", self.entry),
            expression: expression.source().to_owned(),
            problem,
        }
    }

    fn passes_filter(
        &self,
        stream: &str,
        record: &Map<String, Value>,
    ) -> Result<bool, RecordError> {
        let Some(filter) = &self.filter else {
            return Ok(true);
        };
        filter
            .eval_filter(&self.bindings, record)
            .map_err(|problem| self.record_error(stream, "__filter__", filter, problem))
    }

    fn apply(
        &self,
        stream: &str,
        schema: &Value,
        record: Map<String, Value>,
    ) -> Result<Option<Map<String, Value>>, RecordError> {
        if !self.passes_filter(stream, &record)? {
            return Ok(None);
        }
        // Every expression sees the record as it came in, so compute first, then rewrite.
        let mut computed = Vec::with_capacity(self.steps.len());
        for (key, expression) in &self.steps {
            if let Some(expression) = expression {
                let value = expression
                    .eval(&self.bindings, &record, Some(key))
                    .map_err(|problem| self.record_error(stream, key, expression, problem))?;
                computed.push(value);
            }
        }
        let mut result = if self.include_by_default {
            record
        } else {
            let mut record = record;
            let mut keys = Map::new();
            for key in &self.key_properties {
                if let Some(v) = record.remove(key) {
                    keys.insert(key.clone(), v);
                }
            }
            keys
        };
        let mut computed = computed.into_iter();
        for (key, expression) in &self.steps {
            match expression.as_ref().and_then(|_| computed.next()) {
                Some(value) => {
                    result.insert(key.clone(), value);
                }
                None => {
                    result.shift_remove(key);
                }
            }
        }
        Ok(Some(match &self.flatten {
            Some(opts) => flatten_record(result, schema, opts),
            None => result,
        }))
    }
}

/// What compiling every stream shares.
struct Compiler<'s> {
    settings: &'s MapSettings,
    env: Arc<Env>,
    config: CelMap<'static>,
}

impl<'s> Compiler<'s> {
    fn new(settings: &'s MapSettings) -> Result<Self, MapsError> {
        let env = crate::functions::environment()
            .map_err(|e| MapsError::setting("stream_maps", format!("expression functions: {e}")))?;
        let config: HashMap<CelMapKey<'static>, Box<dyn Val>> = settings
            .map_config
            .iter()
            .map(|(k, v)| (CelMapKey::from(k.clone()), json_into_val(v.clone())))
            .collect();
        Ok(Compiler {
            settings,
            env: Arc::new(env),
            config: CelMap::from(config),
        })
    }

    /// singer-sdk's `register_raw_stream_schema`: the same-named map first (a match on the
    /// stream's name or a glob replaces it), `__source__` clones appended in config order.
    fn stream(
        &self,
        stream: SourceStream<'_>,
        matched: &mut [bool],
    ) -> Result<StreamMapper, MapsError> {
        let mut slots: Vec<Option<(String, &MapDef)>> = if self.settings.drop_unmapped_streams {
            vec![None]
        } else {
            vec![Some((stream.name.to_owned(), &IDENTITY))]
        };
        for (i, entry) in self.settings.streams.iter().enumerate() {
            let (source, mut alias, primary) = match &entry.def {
                StreamDef::Map(def) if def.source.is_some() => (
                    def.source.clone().unwrap_or_default(),
                    entry.key.clone(),
                    false,
                ),
                StreamDef::Map(MapDef {
                    alias: Some(alias), ..
                }) => (
                    entry.key.clone(),
                    self.alias(&entry.key, alias, stream.name)?,
                    true,
                ),
                _ => (entry.key.clone(), entry.key.clone(), true),
            };
            if stream.name != source {
                if !fnmatch(stream.name, &source) {
                    continue;
                }
                if alias == source {
                    alias = stream.name.to_owned();
                }
            }
            matched[i] = true;
            let slot = match &entry.def {
                StreamDef::Map(def) => Some((alias, def)),
                StreamDef::Remove => None,
            };
            if primary {
                slots[0] = slot;
            } else {
                slots.push(slot);
            }
        }
        self.outputs(stream, slots)
    }

    fn outputs(
        &self,
        stream: SourceStream<'_>,
        slots: Vec<Option<(String, &MapDef)>>,
    ) -> Result<StreamMapper, MapsError> {
        let primary_removed = slots[0].is_none();
        let mut outputs = Vec::new();
        for (alias, def) in slots.into_iter().flatten() {
            outputs.push(if std::ptr::eq(def, &IDENTITY) {
                self.plain(stream)?
            } else {
                self.custom(stream, alias, def)?
            });
        }
        Ok(StreamMapper {
            source: stream.name.to_owned(),
            outputs,
            primary_removed,
        })
    }

    /// singer-sdk's `SameRecordTransform`: the stream as it is, flattened if asked.
    fn plain(&self, stream: SourceStream<'_>) -> Result<OutputStream, MapsError> {
        let (schema, transform) = match &self.settings.flattening {
            Some(opts) => (
                self.flatten(stream.name, stream.schema)?,
                Transform::Flatten(opts.clone()),
            ),
            None => (stream.schema.clone(), Transform::Identity),
        };
        Ok(OutputStream {
            name: stream.name.to_owned(),
            schema,
            key_properties: stream.key_properties.to_vec(),
            transform,
        })
    }

    fn flatten(&self, stream: &str, schema: &Value) -> Result<Value, MapsError> {
        match &self.settings.flattening {
            Some(opts) => flatten_schema(schema, opts).map_err(|problem| MapsError::Flattening {
                stream: stream.to_owned(),
                problem,
            }),
            None => Ok(schema.clone()),
        }
    }

    /// singer-sdk evaluates `__alias__` with `__stream_name__` bound; an expression naming
    /// anything else is taken as the literal name.
    fn alias(&self, entry: &str, alias: &str, stream: &str) -> Result<String, MapsError> {
        let error = |problem: String| MapsError::Expression {
            stream: entry.to_owned(),
            key: "__alias__".to_owned(),
            expression: alias.to_owned(),
            problem,
        };
        let expression = Expression::compile(&self.env, alias, None).map_err(error)?;
        let bindings = self.bindings(stream, stream, Value::Null);
        match expression.eval(&bindings, &Map::new(), None) {
            Ok(Value::String(name)) => Ok(name),
            Ok(other) => Err(error(format!("gives {other}, not a stream name"))),
            Err(problem) if problem.contains("Undeclared reference") => Ok(alias.to_owned()),
            Err(problem) => Err(error(problem)),
        }
    }

    fn bindings(&self, stream: &str, original: &str, record_schema: Value) -> Bindings {
        Bindings {
            env: Arc::clone(&self.env),
            record_schema,
            config: self.config.clone(),
            stream_name: CelString::from(stream.to_owned()),
            original_stream_name: CelString::from(original.to_owned()),
        }
    }
}

/// Stands for "the stream as it is" among the slots of [`Compiler::stream`].
static IDENTITY: MapDef = MapDef {
    source: None,
    alias: None,
    filter: None,
    key_properties: None,
    else_null: false,
    properties: Vec::new(),
};

/// The schema `__else__: null` starts from (singer-sdk's `PropertiesList().to_dict()`).
fn empty_schema() -> Value {
    json!({"type": "object", "properties": {}, "$schema": "https://json-schema.org/draft/2020-12/schema"})
}

impl Compiler<'_> {
    /// singer-sdk's `CustomStreamMap`: the schema rewritten step by step, every expression
    /// compiled.
    fn custom(
        &self,
        stream: SourceStream<'_>,
        alias: String,
        def: &MapDef,
    ) -> Result<OutputStream, MapsError> {
        let raw_properties = stream.schema.get("properties").and_then(Value::as_object);
        let compile = |key: &str, text: &str| {
            Expression::compile(&self.env, text, raw_properties).map_err(|problem| {
                MapsError::Expression {
                    stream: alias.clone(),
                    key: key.to_owned(),
                    expression: text.to_owned(),
                    problem,
                }
            })
        };
        let filter = def
            .filter
            .as_deref()
            .map(|f| compile("__filter__", f))
            .transpose()?;
        let mut steps = Vec::with_capacity(def.properties.len());
        for (key, property) in &def.properties {
            steps.push(match property {
                PropertyDef::Remove => (key.clone(), None),
                PropertyDef::Compute { expression, .. } => {
                    (key.clone(), Some(compile(key, expression)?))
                }
            });
        }
        let key_properties = key_properties(&alias, stream, def, &steps)?;
        let schema = self.custom_schema(&alias, stream, def, &steps, &key_properties)?;
        let map = CompiledMap {
            entry: alias.clone(),
            bindings: self.bindings(&alias, stream.name, stream.schema.clone()),
            filter,
            include_by_default: !def.else_null,
            key_properties: key_properties.clone(),
            steps,
            flatten: self.settings.flattening.clone(),
        };
        Ok(OutputStream {
            name: alias,
            schema,
            key_properties,
            transform: Transform::Map(Box::new(map)),
        })
    }

    /// The rewritten schema (`_init_functions_and_schema`), then flattened.
    fn custom_schema(
        &self,
        alias: &str,
        stream: SourceStream<'_>,
        def: &MapDef,
        steps: &[(String, Option<Expression>)],
        keys: &[String],
    ) -> Result<Value, MapsError> {
        let mut schema = if def.else_null {
            empty_schema()
        } else {
            stream.schema.clone()
        };
        let raw_properties = stream
            .schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut properties = match schema.get_mut("properties").map(Value::take) {
            Some(Value::Object(p)) => p,
            _ => Map::new(),
        };
        if def.else_null {
            // The keys stay, as singer-sdk's documentation promises (its code raises instead).
            for key in keys {
                if let Some(s) = raw_properties.get(key) {
                    properties.insert(key.clone(), s.clone());
                }
            }
        }
        rewrite_properties(&mut schema, &mut properties, def, steps, stream.schema);
        if let Some(missing) = keys.iter().find(|k| !properties.contains_key(*k)) {
            return Err(MapsError::KeyProperties {
                stream: alias.to_owned(),
                problem: format!(
                    "key property {missing:?} is not in the mapped schema (set __key_properties__)"
                ),
            });
        }
        if let Some(obj) = schema.as_object_mut() {
            obj.insert("properties".into(), Value::Object(properties));
        }
        self.flatten(alias, &schema)
    }
}

/// Applies a map's property entries to the schema, in order (singer-sdk's loop over the map).
fn rewrite_properties(
    schema: &mut Value,
    properties: &mut Map<String, Value>,
    def: &MapDef,
    steps: &[(String, Option<Expression>)],
    raw_schema: &Value,
) {
    let raw_properties = raw_schema
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for ((key, property), (_, compiled)) in def.properties.iter().zip(steps) {
        match property {
            PropertyDef::Remove => {
                properties.shift_remove(key);
                if let Some(Value::Array(required)) = schema.get_mut("required") {
                    required.retain(|r| r != key);
                }
            }
            PropertyDef::Compute {
                expression,
                schema: declared,
            } => {
                let copied = compiled.as_ref().and_then(Expression::copied_field);
                let computed = declared.clone().unwrap_or_else(|| {
                    let source = Source {
                        expression,
                        copied,
                        else_null: def.else_null,
                    };
                    computed_schema(&source, key, properties, &raw_properties, raw_schema)
                });
                properties.insert(key.clone(), computed);
            }
        }
    }
}

/// A computed property's expression, as the schema guess needs it.
struct Source<'e> {
    expression: &'e str,
    /// The property a plain copy reads (`x`, `record['x']`).
    copied: Option<&'e str>,
    else_null: bool,
}

/// The schema singer-sdk gives a computed property. It looks the existing type up in the schema
/// as rewritten so far (singer-sdk edits the stream schema in place, so a property dropped
/// earlier in the map is no longer found), unless `__else__: null` started a new schema. A copy
/// written `record['x']` finds `x` as the bare `x` does (singer-sdk only knows the bare form).
fn computed_schema(
    source: &Source<'_>,
    key: &str,
    properties: &Map<String, Value>,
    raw_properties: &Map<String, Value>,
    raw_schema: &Value,
) -> Value {
    let lookup = if source.else_null {
        raw_properties
    } else {
        properties
    };
    let non_empty = |v: &&Value| v.as_object().is_some_and(|o| !o.is_empty());
    let existing = properties.get(key).filter(non_empty).or_else(|| {
        lookup
            .get(source.copied.unwrap_or(source.expression))
            .filter(non_empty)
    });
    let mut record_schema = raw_schema.clone();
    if !source.else_null
        && let Some(obj) = record_schema.as_object_mut()
    {
        obj.insert("properties".into(), Value::Object(properties.clone()));
    }
    property_schema(source.expression, existing, &record_schema)
}

/// `__key_properties__` if set; else the stream's keys, a key renamed by copy-and-drop
/// (`new: old`, `old: null`) replaced by its new name. Dropping a key otherwise is an error,
/// as in singer-sdk.
fn key_properties(
    alias: &str,
    stream: SourceStream<'_>,
    def: &MapDef,
    steps: &[(String, Option<Expression>)],
) -> Result<Vec<String>, MapsError> {
    if let Some(keys) = &def.key_properties {
        return Ok(keys.clone());
    }
    let mut keys = stream.key_properties.to_vec();
    for key in &mut keys {
        if !steps.iter().any(|(k, e)| k == key && e.is_none()) {
            continue;
        }
        let renamed: Vec<&str> = steps
            .iter()
            .filter(|(_, e)| e.as_ref().and_then(Expression::copied_field) == Some(key.as_str()))
            .map(|(k, _)| k.as_str())
            .collect();
        match renamed.as_slice() {
            [new] => *key = (*new).to_owned(),
            _ => {
                return Err(MapsError::KeyProperties {
                    stream: alias.to_owned(),
                    problem: format!(
                        "removing key property {key:?} is not permitted; rename it (`new_name: {key}`) or set __key_properties__ (a list, or null for none)"
                    ),
                });
            }
        }
    }
    Ok(keys)
}
