//! singer-sdk's inline stream maps and schema flattening, for a Singer tap: the operator turns
//! them on in the tap's config (`stream_maps`, `stream_map_config`, `flattening_enabled`,
//! `flattening_max_depth`, `flattening_max_key_length`, `flattening_separator`) and the tap
//! author writes nothing. This crate knows nothing of the burler runner: it takes the config and
//! the catalog's streams, and gives back, per input stream, the output streams with their
//! rewritten SCHEMA and a function from a record to each output's record.
//!
//! # Calling it
//!
//! Compile once, after the config and catalog are read, and fail the run on an error (one line,
//! naming the setting):
//!
//! ```
//! use burler_maps::{SourceStream, StreamMaps};
//! use serde_json::json;
//!
//! let config = json!({"stream_maps": {"users": {"__alias__": "people", "email": "__NULL__"}},
//!                     "flattening_enabled": true, "flattening_max_depth": 1});
//! let schema = json!({"properties": {"id": {"type": "integer"}, "email": {"type": "string"},
//!     "address": {"type": "object", "properties": {"city": {"type": "string"}}}}});
//! let keys = vec!["id".to_owned()];
//! let maps = StreamMaps::compile(
//!     config.as_object().unwrap(),
//!     [SourceStream { name: "users", schema: &schema, key_properties: &keys }],
//! )?;
//!
//! let users = maps.stream("users").unwrap();
//! // One SCHEMA per output (none when the stream is removed).
//! for output in users.outputs() {
//!     assert_eq!(output.name(), "people");
//!     let schema_message = output.schema_message(None);
//!     assert!(schema_message.schema["properties"].get("address__city").is_some());
//! }
//! // Per record: one slot per output, `None` where a `__filter__` drops it.
//! let mut out = Vec::new();
//! let record = json!({"id": 1, "email": "a@b.c", "address": {"city": "Lima"}});
//! users.apply(record.as_object().unwrap().clone(), &mut out)?;
//! assert_eq!(out[0].as_ref().unwrap(), json!({"id": 1, "address__city": "Lima"}).as_object().unwrap());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`StreamMaps::is_inactive`] (nothing configured) and [`StreamMapper::is_identity`] (this
//! stream unchanged) let the runner keep its direct path. [`StreamMapper::syncs_children_of`]
//! says whether singer-sdk would sync a record's child streams (not for a removed stream, nor for
//! a record the primary map's `__filter__` drops). [`about`] has the `--about` settings and
//! capability names.
//!
//! # Stream maps
//!
//! As singer-sdk: per stream (a name or a glob such as `"*"`), a property set to an expression
//! is added or replaced, set to `null`/`"__NULL__"` it is dropped; `__alias__` renames the stream
//! (an expression over `__stream_name__`, or a plain name), `__filter__` keeps the records it is
//! true for (Python truthiness of the result), `"new": {"__source__": "old", …}` clones a stream,
//! `__else__: null` keeps only the listed properties (and the keys), `__key_properties__`
//! replaces the keys, a stream set to `null` is removed, a top-level `__else__: null` removes
//! every stream not named. Several outputs of one stream come in singer-sdk's order: the stream
//! (or its alias) first, then the clones.
//!
//! The SCHEMA is rewritten the way singer-sdk does it: a computed property's type is guessed
//! from the expression's text (`int(` → integer, `float(` → number, `str(` → string, `bool(` →
//! boolean, `datetime.datetime.` → date-time, `datetime.date.`/`….date()` → date, a quoted
//! literal → string, else the type the property had or the type of the property the expression
//! names, else string), made nullable; a dropped property leaves `required`. Where burler
//! differs from singer-sdk:
//!
//! - a key property renamed by copy-and-drop (`"customer_id": "id", "id": null`) stays a key
//!   under its new name (singer-sdk raises and asks for `__key_properties__`); dropping a key
//!   otherwise is an error, as in singer-sdk;
//! - with `__else__: null` the keys are kept in the SCHEMA too, as singer-sdk's documentation
//!   says (its code raises unless the keys are listed);
//! - a copy written `record['x']` (or `_['x']`, `record.x`) is typed as `x`, like a bare `x`
//!   (singer-sdk types it as a string);
//! - a property may be `{"expression": "…", "schema": {…}}` to declare its JSON Schema;
//! - `__source__` and `__alias__` together are an error (singer-sdk would treat `__alias__` as
//!   a property).
//!
//! singer-sdk's quirks that change what a target sees are kept: a property dropped earlier in a
//! map is not found when a later one copies it (typed string), `anyOf` gets a `"null"` string
//! appended when made nullable.
//!
//! # Expressions
//!
//! Expressions are [CEL](https://cel.dev) (the `cel` crate): no statements, no I/O, no way to
//! run anything but the functions below; each is parsed and checked once, at compile time, and a
//! name that is neither a property of the stream nor one of the names below is an error then,
//! not on the first record. A plain reference (`name`, `record['a']['b']`, `self`) is not run
//! through CEL at all: the value is copied, exactly.
//!
//! Names: the record's properties by name, `record` and `_` (the record), `self` (the property's
//! current value), `config` (`stream_map_config`), `__stream_name__` (the output stream) and
//! `__original_stream_name__` (the input stream), and `True`, `False`, `None`.
//!
//! Functions: CEL's standard library and strings extension (`size`, `contains`, `startsWith`,
//! `matches`, `lowerAscii`, `replace`, `split`, `substring`, `int`, `double`, `string`,
//! `timestamp`, `duration`, macros `has`, `all`, `exists`, `map`, `filter`, …) and, with
//! singer-sdk's names: `md5(s)`, `sha256(s)` (hex digests of the UTF-8 text), `str(x)`
//! (Python's: `True`, `None`, `1.0`), `float(x)`, `int(x)` (also of a bool), `bool(x)` (also
//! Python truthiness of numbers, null, lists and maps), `json.dumps(x)` (Python's spacing),
//! `json.loads(s)`, `datetime.datetime.now()`/`utcnow()`/`fromisoformat(s)` (timestamps),
//! `datetime.date.today()`/`fromisoformat(s)` and `t.date()` (`YYYY-MM-DD` strings),
//! `t.isoformat()`, `t.timestamp()`, and the string methods `lower()`, `upper()`, `strip()`,
//! `startswith(s)`, `endswith(s)`.
//!
//! singer-sdk's expressions are Python (simpleeval). The common ones read the same in CEL:
//! `record['x']`, `config['y']`, `md5(config['seed'] + email)`, `str(id)`, `int(total * 100.0)`,
//! `'a' + b`, comparisons, `'x' in record`, `record['email'].lower()`. What differs:
//!
//! | Python (singer-sdk)               | CEL (burler)                                   |
//! |-----------------------------------|------------------------------------------------|
//! | `a and b`, `a or b`, `not a`      | `a && b`, `a \|\| b`, `!a`                     |
//! | `x if cond else y`                | `cond ? x : y`                                 |
//! | `record.get('x')`                 | `record.?x.orValue(null)`                      |
//! | `s[-1]`, `s[1:3]`, `s.split('@')[-1]` | `s.substring(1, 3)`; no negative index     |
//! | `[f(x) for x in xs if p(x)]`      | `xs.filter(x, p(x)).map(x, f(x))`              |
//! | `1 + 1.5` (mixed int and float)   | an error, except that a whole number in a `number` property is read as a double |
//! | `bool('false')` is `True`         | CEL's `bool('false')` parses it: `false`       |
//! | `fake.…` (Faker)                  | not available                                  |
//! | `dt.year`, `datetime.timedelta`   | `t.getFullYear()`, `duration('24h')`           |
//! | naive `datetime.datetime.now()`   | timestamps are UTC; a string without an offset is read as UTC |
//! | `json.dumps(x, default=str)`      | `json.dumps(x)` (no keyword arguments)         |
//!
//! A map an expression builds (`{'a': 1}`, `json.loads`) comes out with its keys sorted; an
//! object read from the record keeps its order.
//!
//! # Flattening
//!
//! A port of singer-sdk's `_flattening.py`: objects with `properties` become `parent__child`
//! properties down to `flattening_max_depth`, deeper objects and all arrays become JSON text
//! (compact, non-ASCII escaped, as singer-sdk writes it), keys longer than
//! `flattening_max_key_length` are abbreviated the same way, and flattening runs after the map.
//! `tests/data/` holds the golden outputs generated from singer-sdk that every case is checked
//! against. One difference: `required` keeps only the properties left after flattening
//! (singer-sdk leaves a flattened-away object in it, so a validating target such as
//! target-jsonl rejects every record of a stream that requires one).

pub mod about;
mod error;
mod expression;
mod flatten;
mod functions;
mod glob;
mod infer;
mod json_text;
mod mapper;
mod settings;
mod value;

pub use error::{MapsError, RecordError};
pub use mapper::{OutputStream, SourceStream, StreamMapper, StreamMaps};
