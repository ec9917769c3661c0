//! Values crossing between a record (`serde_json`) and a CEL evaluation: records and config go
//! in borrowed (a string field is read in place, not copied), results come out as JSON.
//!
//! A JSON object (the record itself, or one nested in it) is an [`ObjectVal`]: a CEL map read
//! in place, a field converted only when an expression reads it, keys iterated in the record's
//! order, so an object that passes through an expression comes out as it went in.

use std::collections::HashMap;
use std::sync::OnceLock;

use cel::ExecutionError;
use cel::common::traits::{Container, Indexer, Iterable, Sizer};
use cel::common::types::{
    CelBool, CelDouble, CelDuration, CelInt, CelList, CelMap, CelMapKey, CelNull, CelOptional,
    CelString, CelTimestamp, CelUInt, MAP_TYPE, Type,
};
use cel::common::value::{CowVal, Val};
use serde_json::{Map, Number, Value};

/// A JSON value as a CEL value, borrowing its strings. `schema` is the value's JSON Schema
/// when known: a whole number in a `number` property becomes a CEL double, so that
/// `record['total'] * 100.0` works whether the source wrote `100` or `100.5` (CEL, unlike
/// Python, does not mix ints and doubles in arithmetic).
pub(crate) fn json_to_val<'a>(value: &'a Value, schema: Option<&'a Value>) -> Box<dyn Val + 'a> {
    match value {
        Value::Null => Box::new(CelNull),
        Value::Bool(b) => Box::new(CelBool::from(*b)),
        Value::Number(n) if schema.is_some_and(is_number_typed) => {
            Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN)))
        }
        Value::Number(n) => number_to_val(n),
        Value::String(s) => Box::new(CelString::from(s.as_str())),
        Value::Array(items) => {
            let item_schema = schema.and_then(|s| s.get("items"));
            Box::new(CelList::from(
                items
                    .iter()
                    .map(|i| json_to_val(i, item_schema))
                    .collect::<Vec<_>>(),
            ))
        }
        Value::Object(m) => Box::new(ObjectVal::new(m, schema_properties(schema))),
    }
}

/// The `properties` of an object schema.
pub(crate) fn schema_properties(schema: Option<&Value>) -> Option<&Map<String, Value>> {
    schema?.get("properties")?.as_object()
}

/// `number` among the types and `integer` not.
fn is_number_typed(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "number",
        Some(Value::Array(types)) => {
            types.iter().any(|t| t == "number") && !types.iter().any(|t| t == "integer")
        }
        _ => false,
    }
}

/// A JSON value as a CEL value that owns its data (`json.loads`, `stream_map_config`).
pub(crate) fn json_into_val(value: Value) -> Box<dyn Val + 'static> {
    match value {
        Value::String(s) => Box::new(CelString::from(s)),
        Value::Array(items) => Box::new(CelList::from(
            items.into_iter().map(json_into_val).collect::<Vec<_>>(),
        )),
        Value::Object(m) => {
            let entries: HashMap<CelMapKey<'static>, Box<dyn Val>> = m
                .into_iter()
                .map(|(k, v)| (CelMapKey::from(k), json_into_val(v)))
                .collect();
            Box::new(CelMap::from(entries))
        }
        Value::Null => Box::new(CelNull),
        Value::Bool(b) => Box::new(CelBool::from(b)),
        Value::Number(n) => number_to_val(&n),
    }
}

fn number_to_val(n: &Number) -> Box<dyn Val + 'static> {
    if let Some(i) = n.as_i64() {
        Box::new(CelInt::from(i))
    } else if let Some(u) = n.as_u64() {
        Box::new(CelUInt::from(u))
    } else {
        Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN)))
    }
}

/// A CEL result as JSON, the way singer-sdk writes a Python value: timestamps as
/// `isoformat()`, NaN and infinities as `null` (`ignore_nan`). A map an expression builds has
/// no order in CEL: its keys come out as strings, sorted. (A value read from the record as it
/// is never gets here: the compiler copies it, order kept.)
pub(crate) fn val_to_json(val: &dyn Val) -> Result<Value, String> {
    if val.downcast_ref::<CelNull>().is_some() {
        return Ok(Value::Null);
    }
    if let Some(b) = val.downcast_ref::<CelBool>() {
        return Ok(Value::Bool(*b.inner()));
    }
    if let Some(i) = val.downcast_ref::<CelInt>() {
        return Ok(Value::from(*i.inner()));
    }
    if let Some(u) = val.downcast_ref::<CelUInt>() {
        return Ok(Value::from(*u.inner()));
    }
    if let Some(d) = val.downcast_ref::<CelDouble>() {
        return Ok(Number::from_f64(*d.inner()).map_or(Value::Null, Value::Number));
    }
    if let Some(s) = val.downcast_ref::<CelString>() {
        return Ok(Value::String(s.inner().to_owned()));
    }
    if let Some(t) = val.downcast_ref::<CelTimestamp>() {
        return Ok(Value::String(python_isoformat(t.inner())));
    }
    if let Some(d) = val.downcast_ref::<CelDuration>() {
        return Ok(Value::String(format!(
            "{}s",
            d.inner().num_milliseconds() as f64 / 1000.0
        )));
    }
    if let Some(o) = val.downcast_ref::<CelOptional>() {
        return o.inner().map_or(Ok(Value::Null), val_to_json);
    }
    if let Some(list) = val.downcast_ref::<CelList>() {
        return list
            .inner()
            .iter()
            .map(|v| val_to_json(v.as_ref()))
            .collect();
    }
    if let Some(map) = val.downcast_ref::<CelMap>() {
        return map_to_json(map);
    }
    if let (Some(keys), Some(values)) = (val.as_iterable(), val.as_indexer()) {
        if *val.get_type() == MAP_TYPE {
            return ordered_map_to_json(keys, values);
        }
    }
    Err(format!(
        "a {} cannot be written to JSON",
        val.get_type().name()
    ))
}

fn map_to_json(map: &CelMap<'_>) -> Result<Value, String> {
    let mut entries: Vec<(String, Value)> = Vec::with_capacity(map.len());
    for (key, value) in map.inner() {
        let key = match val_to_json(key.inner())? {
            Value::String(s) => s,
            other => other.to_string(),
        };
        entries.push((key, val_to_json(value.as_ref())?));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Value::Object(entries.into_iter().collect()))
}

/// A map that iterates its keys in order (an [`ObjectVal`]): written in that order.
fn ordered_map_to_json(keys: &dyn Iterable, values: &dyn Indexer) -> Result<Value, String> {
    let mut out = Map::new();
    let mut iter = keys.iter();
    while let Some(key) = iter.next() {
        let Some(name) = key.downcast_ref::<CelString>() else {
            return Err("a map key is not a string".to_owned());
        };
        let value = values.get(key).map_err(|e| e.to_string())?;
        out.insert(name.inner().to_owned(), val_to_json(value.as_ref())?);
    }
    Ok(Value::Object(out))
}

/// Python's `datetime.isoformat()`: microseconds only when not zero, the offset as `+HH:MM`.
pub(crate) fn python_isoformat(t: &chrono::DateTime<chrono::FixedOffset>) -> String {
    let micros = t.timestamp_subsec_micros();
    if micros == 0 {
        t.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.6f%:z").to_string()
    }
}

/// Python's truthiness, which singer-sdk applies to a `__filter__` result.
pub(crate) fn is_truthy(val: &dyn Val) -> bool {
    if let Some(b) = val.downcast_ref::<CelBool>() {
        return *b.inner();
    }
    if val.downcast_ref::<CelNull>().is_some() {
        return false;
    }
    if let Some(i) = val.downcast_ref::<CelInt>() {
        return *i.inner() != 0;
    }
    if let Some(u) = val.downcast_ref::<CelUInt>() {
        return *u.inner() != 0;
    }
    if let Some(d) = val.downcast_ref::<CelDouble>() {
        return *d.inner() != 0.0;
    }
    if let Some(s) = val.downcast_ref::<CelString>() {
        return !s.inner().is_empty();
    }
    if let Some(o) = val.downcast_ref::<CelOptional>() {
        return o.inner().is_some_and(is_truthy);
    }
    val.as_sizer().is_none_or(|s| *s.size().inner() != 0)
}

/// A JSON object as a lazy CEL map: fields converted when read, keys in the object's order.
#[derive(Debug)]
pub(crate) struct ObjectVal<'a> {
    map: &'a Map<String, Value>,
    /// The object's property schemas, when known.
    properties: Option<&'a Map<String, Value>>,
    /// The keys as CEL strings, made the first time the object is iterated.
    keys: OnceLock<Vec<CelString<'a>>>,
}

impl<'a> ObjectVal<'a> {
    pub(crate) fn new(
        map: &'a Map<String, Value>,
        properties: Option<&'a Map<String, Value>>,
    ) -> Self {
        ObjectVal {
            map,
            properties,
            keys: OnceLock::new(),
        }
    }

    /// A field as a CEL value.
    pub(crate) fn field(&self, key: &str) -> Option<Box<dyn Val + 'a>> {
        let value = self.map.get(key)?;
        Some(json_to_val(value, self.properties.and_then(|p| p.get(key))))
    }

    fn key(idx: &dyn Val) -> Result<&str, ExecutionError> {
        idx.downcast_ref::<CelString>()
            .map(CelString::inner)
            .ok_or_else(|| ExecutionError::UnexpectedType {
                got: idx.get_type().name().to_owned(),
                want: "map key".to_owned(),
            })
    }
}

impl Val for ObjectVal<'_> {
    fn get_type(&self) -> &Type {
        &MAP_TYPE
    }

    fn cel_type() -> &'static Type {
        &MAP_TYPE
    }

    fn as_indexer<'b, 'v>(&'b self) -> Option<&'b (dyn Indexer + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }

    fn as_container(&self) -> Option<&dyn Container> {
        Some(self)
    }

    fn as_sizer(&self) -> Option<&dyn Sizer> {
        Some(self)
    }

    fn as_iterable<'b, 'v>(&'b self) -> Option<&'b (dyn Iterable + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }

    fn equals(&self, other: &dyn Val) -> bool {
        let (Some(size), Some(index)) = (other.as_sizer(), other.as_indexer()) else {
            return false;
        };
        *other.get_type() == MAP_TYPE
            && usize::try_from(*size.size().inner()) == Ok(self.map.len())
            && self.map.iter().all(|(k, v)| {
                index
                    .get(&CelString::from(k.as_str()))
                    .is_ok_and(|theirs| json_to_val(v, None).equals(theirs.as_ref()))
            })
    }

    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v>
    where
        Self: 'v,
    {
        Box::new(ObjectVal::new(self.map, self.properties))
    }
}

impl Indexer for ObjectVal<'_> {
    fn get<'b, 'v>(&'b self, idx: &dyn Val) -> Result<CowVal<'b, 'v>, ExecutionError>
    where
        Self: 'v,
    {
        let key = Self::key(idx)?;
        self.field(key)
            .map(CowVal::Owned)
            .ok_or_else(|| ExecutionError::no_such_key(key))
    }

    fn steal<'v>(self: Box<Self>, idx: &dyn Val) -> Result<Box<dyn Val + 'v>, ExecutionError>
    where
        Self: 'v,
    {
        self.get(idx).map(CowVal::into_owned)
    }
}

impl Container for ObjectVal<'_> {
    fn contains(&self, value: &dyn Val) -> Result<bool, ExecutionError> {
        Ok(value
            .downcast_ref::<CelString>()
            .is_some_and(|k| self.map.contains_key(k.inner())))
    }
}

impl Sizer for ObjectVal<'_> {
    fn size(&self) -> CelInt {
        CelInt::from(i64::try_from(self.map.len()).unwrap_or(i64::MAX))
    }
}

impl Iterable for ObjectVal<'_> {
    fn iter<'b, 'v>(&'b self) -> Box<dyn cel::common::traits::Iterator<'b, 'v> + 'b>
    where
        Self: 'v,
    {
        let keys = self.keys.get_or_init(|| {
            self.map
                .keys()
                .map(|k| CelString::from(k.as_str()))
                .collect()
        });
        Box::new(KeyIter(keys.iter()))
    }
}

struct KeyIter<'b, 'a>(std::slice::Iter<'b, CelString<'a>>);

impl<'b, 'a: 'v, 'v> cel::common::traits::Iterator<'b, 'v> for KeyIter<'b, 'a> {
    fn next(&mut self) -> Option<&'b (dyn Val + 'v)> {
        self.0.next().map(|k| k as &(dyn Val + 'v))
    }
}
