//! One stream-map expression, compiled once (a plain reference such as `name` or
//! `record['a']['b']` becomes a copy, no CEL at all), and its evaluation against one record.

use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};

use cel::common::ast::operators;
use cel::common::ast::{Expr, IdedExpr, LiteralValue};
use cel::common::types::{CelBool, CelMap, CelNull, CelString};
use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use cel::{Context, Env, Program};
use serde_json::{Map, Value};

use crate::value::{ObjectVal, is_truthy, json_to_val, schema_properties, val_to_json};

/// Names an expression can use besides the record's properties.
const RECORD_NAMES: [&str; 2] = ["record", "_"];
const RESERVED: [&str; 9] = [
    "config",
    "self",
    "__stream_name__",
    "__original_stream_name__",
    "True",
    "False",
    "None",
    "datetime",
    "json",
];

/// A compiled expression.
pub(crate) struct Expression {
    source: String,
    kind: Kind,
}

enum Kind {
    /// A plain reference (`name`, `record['a']['b']`, `self`): the value is copied from the
    /// record, order and number form kept, without running CEL.
    Copy {
        root: Root,
        path: Vec<String>,
    },
    Program(Program),
}

enum Root {
    Record,
    SelfValue,
    Field(String),
}

/// What a stream's expressions see besides the record, built once per output stream.
pub(crate) struct Bindings {
    pub env: Arc<Env>,
    /// The input stream's schema: says which numbers are doubles.
    pub record_schema: Value,
    pub config: CelMap<'static>,
    pub stream_name: CelString<'static>,
    pub original_stream_name: CelString<'static>,
}

impl Expression {
    /// Compiles `source`; `properties` are the input stream's property names, which bare names
    /// must be (so a typo fails at startup, not on the first record).
    pub fn compile(
        env: &Env,
        source: &str,
        properties: Option<&Map<String, Value>>,
    ) -> Result<Self, String> {
        let program = env.compile(source).map_err(|e| one_line(&e.to_string()))?;
        let mut facts = Facts::default();
        scan(program.expression(), &mut Vec::new(), &mut facts);
        if let Some(name) = facts
            .bare_names
            .iter()
            .find(|n| properties.is_some_and(|p| !p.contains_key(*n)))
        {
            return Err(unknown_name(name));
        }
        let kind = match copy_path(program.expression()) {
            Some((root, path)) => Kind::Copy { root, path },
            None => Kind::Program(program),
        };
        Ok(Expression {
            source: source.to_owned(),
            kind,
        })
    }

    /// The property a plain reference copies (`name`, `record['name']`), for key renames.
    pub fn copied_field(&self) -> Option<&str> {
        match &self.kind {
            Kind::Copy {
                root: Root::Field(name),
                path,
            } if path.is_empty() => Some(name),
            Kind::Copy {
                root: Root::Record,
                path,
            } if path.len() == 1 => Some(&path[0]),
            _ => None,
        }
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates against one record; `self_key` is the property being computed (`self`).
    pub fn eval(
        &self,
        bindings: &Bindings,
        record: &Map<String, Value>,
        self_key: Option<&str>,
    ) -> Result<Value, String> {
        match &self.kind {
            Kind::Copy {
                root: Root::Record,
                path,
            } if path.is_empty() => Ok(Value::Object(record.clone())),
            Kind::Copy { root, path } => copy_value(root, path, record, self_key).cloned(),
            Kind::Program(program) => {
                let scope = Scope::new(bindings, record, self_key);
                let mut ctx = Context::with_env(Arc::clone(&bindings.env));
                ctx.set_variable_resolver(&scope);
                let val = cel::Value::resolve_val(program.expression(), &ctx)
                    .map_err(|e| one_line(&e.to_string()))?;
                val_to_json(val.as_ref())
            }
        }
    }

    /// Evaluates a `__filter__`: Python's truthiness of the result, as singer-sdk applies it.
    pub fn eval_filter(
        &self,
        bindings: &Bindings,
        record: &Map<String, Value>,
    ) -> Result<bool, String> {
        match &self.kind {
            Kind::Copy {
                root: Root::Record,
                path,
            } if path.is_empty() => Ok(!record.is_empty()),
            Kind::Copy { root, path } => {
                let value = copy_value(root, path, record, None)?;
                Ok(is_truthy(json_to_val(value, None).as_ref()))
            }
            Kind::Program(program) => {
                let scope = Scope::new(bindings, record, None);
                let mut ctx = Context::with_env(Arc::clone(&bindings.env));
                ctx.set_variable_resolver(&scope);
                let val = cel::Value::resolve_val(program.expression(), &ctx)
                    .map_err(|e| one_line(&e.to_string()))?;
                Ok(is_truthy(val.as_ref()))
            }
        }
    }
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn unknown_name(name: &str) -> String {
    if name == "fake" {
        "`fake` (Faker) is not available in burler's stream maps".to_owned()
    } else {
        format!(
            "unknown name `{name}`: not a property of the stream (nor config, record, self, __stream_name__)"
        )
    }
}

/// What a compiled program reads.
#[derive(Default)]
struct Facts {
    /// Names that must be record properties.
    bare_names: BTreeSet<String>,
}

/// Walks the program; `bound` holds the comprehension variables in scope.
fn scan(e: &IdedExpr, bound: &mut Vec<String>, facts: &mut Facts) {
    match &e.expr {
        Expr::Ident(name) if bound.contains(name) => {}
        Expr::Ident(name)
            if RECORD_NAMES.contains(&name.as_str()) || RESERVED.contains(&name.as_str()) => {}
        Expr::Ident(name) => {
            facts.bare_names.insert(name.clone());
        }
        Expr::Call(c) => {
            c.target.iter().for_each(|t| scan(t, bound, facts));
            c.args.iter().for_each(|a| scan(a, bound, facts));
        }
        Expr::Select(s) => scan(&s.operand, bound, facts),
        Expr::Comprehension(c) => {
            scan(&c.iter_range, bound, facts);
            let vars = [Some(&c.iter_var), c.iter_var2.as_ref(), Some(&c.accu_var)];
            let pushed = vars
                .iter()
                .flatten()
                .map(|v| bound.push((*v).clone()))
                .count();
            for part in [&c.accu_init, &c.loop_cond, &c.loop_step, &c.result] {
                scan(part, bound, facts);
            }
            bound.truncate(bound.len() - pushed);
        }
        Expr::List(l) => l.elements.iter().for_each(|x| scan(x, bound, facts)),
        Expr::Map(m) => m.entries.iter().for_each(|x| scan_entry(x, bound, facts)),
        Expr::Struct(s) => s.entries.iter().for_each(|x| scan_entry(x, bound, facts)),
        Expr::Literal(_) | Expr::Unspecified => {}
    }
}

fn scan_entry(entry: &cel::common::ast::IdedEntryExpr, bound: &mut Vec<String>, facts: &mut Facts) {
    match &entry.expr {
        cel::common::ast::EntryExpr::MapEntry(m) => {
            scan(&m.key, bound, facts);
            scan(&m.value, bound, facts);
        }
        cel::common::ast::EntryExpr::StructField(f) => scan(&f.value, bound, facts),
    }
}

/// `name`, `self`, `record`, and chains of `.field` / `['key']` on them.
fn copy_path(e: &IdedExpr) -> Option<(Root, Vec<String>)> {
    match &e.expr {
        Expr::Ident(n) if RECORD_NAMES.contains(&n.as_str()) => Some((Root::Record, Vec::new())),
        Expr::Ident(n) if n == "self" => Some((Root::SelfValue, Vec::new())),
        Expr::Ident(n) if RESERVED.contains(&n.as_str()) => None,
        Expr::Ident(n) => Some((Root::Field(n.clone()), Vec::new())),
        Expr::Select(s) if !s.test => {
            let (root, mut path) = copy_path(&s.operand)?;
            path.push(s.field.clone());
            Some((root, path))
        }
        Expr::Call(c)
            if c.func_name == operators::INDEX && c.args.len() == 2 && c.target.is_none() =>
        {
            let Expr::Literal(LiteralValue::String(key)) = &c.args[1].expr else {
                return None;
            };
            let (root, mut path) = copy_path(&c.args[0])?;
            path.push(key.inner().to_owned());
            Some((root, path))
        }
        _ => None,
    }
}

fn copy_value<'r>(
    root: &Root,
    path: &[String],
    record: &'r Map<String, Value>,
    self_key: Option<&str>,
) -> Result<&'r Value, String> {
    let no_key = |k: &str| format!("No such key: {k}");
    let (mut value, rest) = match root {
        Root::Record => match path.split_first() {
            Some((first, rest)) => (record.get(first).ok_or_else(|| no_key(first))?, rest),
            None => return Err("the whole record cannot be copied here".to_owned()),
        },
        Root::SelfValue => {
            let key = self_key.ok_or("`self` is only defined for a property")?;
            (
                record.get(key).ok_or("Undeclared reference to 'self'")?,
                path,
            )
        }
        Root::Field(name) => (
            record
                .get(name)
                .ok_or_else(|| format!("Undeclared reference to '{name}'"))?,
            path,
        ),
    };
    for key in rest {
        value = value.get(key.as_str()).ok_or_else(|| no_key(key))?;
    }
    Ok(value)
}

/// What names resolve to during one evaluation.
struct Scope<'a> {
    bindings: &'a Bindings,
    record_val: ObjectVal<'a>,
    self_key: Option<&'a str>,
}

// Python's spellings of the constants, bound as names.
static TRUE: LazyLock<CelBool> = LazyLock::new(|| CelBool::from(true));
static FALSE: LazyLock<CelBool> = LazyLock::new(|| CelBool::from(false));
static NONE: CelNull = CelNull;

impl<'a> Scope<'a> {
    fn new(
        bindings: &'a Bindings,
        record: &'a Map<String, Value>,
        self_key: Option<&'a str>,
    ) -> Self {
        Scope {
            bindings,
            record_val: ObjectVal::new(record, schema_properties(Some(&bindings.record_schema))),
            self_key,
        }
    }
}

impl VariableResolver for Scope<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        let borrowed = |v: &'b (dyn Val + 'b)| Some(CowVal::Borrowed(v));
        match variable {
            "record" | "_" => borrowed(&self.record_val),
            "config" => borrowed(&self.bindings.config),
            "self" => self
                .self_key
                .and_then(|k| self.record_val.field(k))
                .map(CowVal::Owned),
            "__stream_name__" => borrowed(&self.bindings.stream_name),
            "__original_stream_name__" => borrowed(&self.bindings.original_stream_name),
            "True" => borrowed(&*TRUE),
            "False" => borrowed(&*FALSE),
            "None" => borrowed(&NONE),
            field => self.record_val.field(field).map(CowVal::Owned),
        }
    }
}
