//! Templated values: Jinja (minijinja) compiled once at startup, rendered per request or record.
//!
//! A manifest string containing `{{` or `{%` is a template. A string that is exactly one
//! `{{ expression }}` is evaluated to a typed value (Airbyte's interpolation does the same: a
//! number stays a number, a condition is a boolean); any other template renders to text.
//!
//! Every template is added to one [`minijinja::Environment`] under a generated name while the
//! manifest is compiled, so syntax errors are found before anything runs and rendering only looks
//! the compiled template up. Each template also knows which context names it reads, so the
//! runtime builds only those (a whole response body is never converted for a template that does
//! not read `response`).
//!
//! Names in the context: `config`, `parameters` (a stream's Airbyte `$parameters`), `start`
//! (where an incremental sync starts), `state` (the stream's bookmark), `parent` / `stream_partition`
//! (the partition of a sub-stream), `window` / `stream_interval` (`start`, `end`, and Airbyte's
//! `start_time`, `end_time`), `stream_slice` (partition and window together), `next_page_token`,
//! `response`, `headers`, `last_record`, `last_page_size`, `record`.
//! Functions: `now_utc()`, `today_utc()`, `day_delta(days, format)`, `format_datetime(value,
//! format)`, `str_to_datetime(text)`, `timestamp(value)`, `max(...)`, `min(...)`, and the Python
//! string and dict methods (`.get`, `.items`, `.strip`, …); date-times have `.strftime(format)`.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use minijinja::value::{Object, Value as MjValue};
use minijinja::{Environment, Error as MjError, ErrorKind, State, UndefinedBehavior};
use serde_json::Value;

use crate::diagnostic::ManifestError;

/// A value from the manifest that may be a template.
#[derive(Debug, Clone)]
pub(crate) enum Tmpl {
    /// No template syntax: used as written.
    Const(Value),
    /// A compiled template in the shared environment.
    Compiled(Arc<Compiled>),
}

/// A compiled template: its name in the environment, its source and the names it reads.
#[derive(Debug)]
pub(crate) struct Compiled {
    name: String,
    source: String,
    typed: bool,
    reads: BTreeSet<String>,
}

impl Tmpl {
    /// A constant.
    pub(crate) fn constant(value: impl Into<Value>) -> Self {
        Tmpl::Const(value.into())
    }

    /// True when rendering reads context name `name`.
    pub(crate) fn reads(&self, name: &str) -> bool {
        match self {
            Tmpl::Const(_) => false,
            Tmpl::Compiled(c) => c.reads.contains(name),
        }
    }
}

/// Builds the environment while a manifest is compiled.
pub(crate) struct TemplateCompiler {
    env: Environment<'static>,
    count: usize,
}

impl TemplateCompiler {
    pub(crate) fn new() -> Self {
        TemplateCompiler {
            env: environment(),
            count: 0,
        }
    }

    /// Compiles `value`: strings with template syntax become templates, other values constants.
    /// The error is one line (minijinja's message and the position inside the template).
    pub(crate) fn compile(&mut self, value: &Value) -> Result<Tmpl, String> {
        let Value::String(text) = value else {
            return Ok(Tmpl::Const(value.clone()));
        };
        if !text.contains("{{") && !text.contains("{%") {
            return Ok(Tmpl::Const(value.clone()));
        }
        self.count += 1;
        let name = format!("t{}", self.count);
        let (source, typed) = match single_expression(text) {
            Some(expr) => (format!("{{% set __value = ({expr}) %}}"), true),
            None => (text.clone(), false),
        };
        self.env
            .add_template_owned(name.clone(), source)
            .map_err(|e| one_line(&e))?;
        let reads = self
            .env
            .get_template(&name)
            .map_err(|e| one_line(&e))?
            .undeclared_variables(false)
            .into_iter()
            .collect();
        Ok(Tmpl::Compiled(Arc::new(Compiled {
            name,
            source: text.clone(),
            typed,
            reads,
        })))
    }

    /// Compiles a string (the common case).
    pub(crate) fn compile_str(&mut self, text: &str) -> Result<Tmpl, String> {
        self.compile(&Value::String(text.to_owned()))
    }

    /// Compiles a condition (Airbyte writes `"{{ record.x > 1 }}"`; a bare expression is also
    /// accepted).
    pub(crate) fn condition(&mut self, text: &str) -> Result<Tmpl, String> {
        if text.contains("{{") || text.contains("{%") {
            return self.compile_str(text);
        }
        self.compile_str(&format!("{{{{ {text} }}}}"))
    }

    pub(crate) fn finish(self) -> Templates {
        Templates {
            env: Arc::new(self.env),
        }
    }
}

/// `{{ expr }}` alone (with spaces around) → `expr`.
fn single_expression(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}") && !inner.contains("{%"))
        .then_some(inner.trim())
}

fn one_line(err: &MjError) -> String {
    let text = match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    };
    text.replace('\n', " ")
}

/// The compiled templates of one manifest, shared by every stream.
#[derive(Clone)]
pub(crate) struct Templates {
    env: Arc<Environment<'static>>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Templates")
    }
}

impl Templates {
    /// Evaluates `tmpl` in `ctx`: the typed value of a single expression, else the rendered text.
    pub(crate) fn eval(
        &self,
        tmpl: &Tmpl,
        ctx: &MjValue,
        stream: &str,
    ) -> Result<Value, ManifestError> {
        let compiled = match tmpl {
            Tmpl::Const(v) => return Ok(v.clone()),
            Tmpl::Compiled(c) => c,
        };
        let fail = |e: MjError| ManifestError::Template {
            stream: stream.to_owned(),
            template: compiled.source.clone(),
            message: one_line(&e),
        };
        let template = self.env.get_template(&compiled.name).map_err(fail)?;
        if compiled.typed {
            let captured = template.render_captured(ctx).map_err(fail)?;
            let value = captured.state().lookup("__value").unwrap_or_default();
            return Ok(to_json(&value));
        }
        template.render(ctx).map(Value::String).map_err(fail)
    }

    /// Evaluates to text: strings as they are, other values as JSON text, null as empty.
    pub(crate) fn text(
        &self,
        tmpl: &Tmpl,
        ctx: &MjValue,
        stream: &str,
    ) -> Result<String, ManifestError> {
        Ok(value_text(&self.eval(tmpl, ctx, stream)?))
    }

    /// Evaluates a condition: true unless false, null, empty, zero or the text `false`.
    pub(crate) fn truthy(
        &self,
        tmpl: &Tmpl,
        ctx: &MjValue,
        stream: &str,
    ) -> Result<bool, ManifestError> {
        Ok(match self.eval(tmpl, ctx, stream)? {
            Value::Null => false,
            Value::Bool(b) => b,
            Value::Number(n) => n.as_f64() != Some(0.0),
            Value::String(s) => {
                let s = s.trim();
                !(s.is_empty() || s.eq_ignore_ascii_case("false") || s == "0" || s == "None")
            }
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
        })
    }
}

/// A value as request text: strings unquoted, null empty, the rest as JSON.
pub(crate) fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A minijinja value as JSON (date-times become RFC 3339 text).
fn to_json(value: &MjValue) -> Value {
    if let Some(dt) = value.downcast_object_ref::<DateTimeValue>() {
        return Value::String(dt.to_string());
    }
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A JSON value for a template context.
pub(crate) fn mj(value: &Value) -> MjValue {
    MjValue::from_serialize(value)
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function("now_utc", || MjValue::from_object(DateTimeValue::now()));
    env.add_function("today_utc", || {
        MjValue::from_object(DateTimeValue::date(Utc::now().date_naive()))
    });
    env.add_function("day_delta", day_delta);
    env.add_function("format_datetime", format_datetime);
    env.add_function("str_to_datetime", str_to_datetime);
    env.add_function("timestamp", timestamp);
    env.add_function("max", |args: minijinja::value::Rest<MjValue>| {
        extreme(&args, true)
    });
    env.add_function("min", |args: minijinja::value::Rest<MjValue>| {
        extreme(&args, false)
    });
    env
}

/// A date-time (or a date) in a template, with Python's `strftime` and `isoformat`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DateTimeValue {
    at: DateTime<Utc>,
    date_only: bool,
}

impl DateTimeValue {
    fn now() -> Self {
        DateTimeValue {
            at: Utc::now(),
            date_only: false,
        }
    }

    fn date(date: NaiveDate) -> Self {
        DateTimeValue {
            at: date.and_time(chrono::NaiveTime::MIN).and_utc(),
            date_only: true,
        }
    }
}

impl std::fmt::Display for DateTimeValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.date_only {
            write!(f, "{}", self.at.format("%Y-%m-%d"))
        } else {
            f.write_str(&self.at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        }
    }
}

impl Object for DateTimeValue {
    fn repr(self: &Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Plain
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&**self, f)
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &State<'_, '_>,
        method: &str,
        args: &[MjValue],
    ) -> Result<MjValue, MjError> {
        match method {
            "strftime" => {
                let format = args.first().and_then(|a| a.as_str()).unwrap_or("%Y-%m-%d");
                Ok(MjValue::from(strftime(&self.at, format)))
            }
            "isoformat" => Ok(MjValue::from(self.to_string())),
            "timestamp" => Ok(MjValue::from(self.at.timestamp())),
            _ => Err(MjError::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// Formats like Python's `strftime`, plus Airbyte's `%s` (epoch seconds) and `%ms` (epoch
/// milliseconds); `%f` is microseconds as in Python.
pub(crate) fn strftime(at: &DateTime<Utc>, format: &str) -> String {
    match format {
        "%s" => return at.timestamp().to_string(),
        "%ms" => return at.timestamp_millis().to_string(),
        _ => {}
    }
    let format = format.replace("%f", "%6f");
    let mut out = String::new();
    use std::fmt::Write;
    if write!(out, "{}", at.format(&format)).is_err() {
        return at.to_rfc3339_opts(SecondsFormat::Secs, true);
    }
    out
}

/// Parses a date-time in one of `formats` (Python strftime syntax; `%s` epoch seconds), else as
/// RFC 3339 or a plain date.
pub(crate) fn parse_datetime(text: &str, formats: &[String]) -> Option<DateTime<Utc>> {
    for format in formats {
        if format == "%s" {
            if let Ok(secs) = text.parse::<i64>() {
                return DateTime::from_timestamp(secs, 0);
            }
            continue;
        }
        if format == "%ms" {
            if let Ok(ms) = text.parse::<i64>() {
                return DateTime::from_timestamp_millis(ms);
            }
            continue;
        }
        let format = format.replace("%f", "%6f");
        if let Ok(dt) = DateTime::parse_from_str(text, &format) {
            return Some(dt.with_timezone(&Utc));
        }
        if let Ok(dt) = NaiveDateTime::parse_from_str(text, &format) {
            return Some(dt.and_utc());
        }
        if let Ok(d) = NaiveDate::parse_from_str(text, &format) {
            return Some(d.and_time(chrono::NaiveTime::MIN).and_utc());
        }
    }
    parse_any(text)
}

/// RFC 3339, `YYYY-MM-DD HH:MM:SS`, or a plain date.
pub(crate) fn parse_any(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
        if let Ok(dt) = DateTime::parse_from_str(text, format) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(text, format) {
            return Some(dt.and_utc());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
}

fn as_datetime(value: &MjValue) -> Option<DateTime<Utc>> {
    if let Some(dt) = value.downcast_object_ref::<DateTimeValue>() {
        return Some(dt.at);
    }
    if let Some(n) = value.as_i64() {
        return DateTime::from_timestamp(n, 0);
    }
    value.as_str().and_then(parse_any)
}

fn bad(message: &str) -> MjError {
    MjError::new(ErrorKind::InvalidOperation, message.to_owned())
}

/// Airbyte's `day_delta(days, format)`: now plus `days`, formatted.
fn day_delta(days: f64, format: Option<String>) -> String {
    let at = Utc::now() + chrono::Duration::seconds((days * 86_400.0) as i64);
    strftime(&at, format.as_deref().unwrap_or("%Y-%m-%dT%H:%M:%S.%f%z"))
}

fn format_datetime(value: MjValue, format: String) -> Result<String, MjError> {
    let at = as_datetime(&value).ok_or_else(|| bad("format_datetime: not a date-time"))?;
    Ok(strftime(&at, &format))
}

fn str_to_datetime(text: String) -> Result<MjValue, MjError> {
    let at = parse_any(&text).ok_or_else(|| bad("str_to_datetime: not a date-time"))?;
    Ok(MjValue::from_object(DateTimeValue {
        at,
        date_only: false,
    }))
}

fn timestamp(value: MjValue) -> Result<i64, MjError> {
    as_datetime(&value)
        .map(|at| at.timestamp())
        .ok_or_else(|| bad("timestamp: not a date-time"))
}

fn extreme(args: &[MjValue], largest: bool) -> MjValue {
    let mut best: Option<&MjValue> = None;
    for arg in args.iter().filter(|a| !a.is_none() && !a.is_undefined()) {
        best = match best {
            Some(b) if (arg > b) != largest || arg == b => Some(b),
            _ => Some(arg),
        };
    }
    best.cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(source: &str, ctx: Value) -> Value {
        let mut compiler = TemplateCompiler::new();
        let tmpl = compiler.compile_str(source).unwrap();
        compiler.finish().eval(&tmpl, &mj(&ctx), "s").unwrap()
    }

    #[test]
    fn single_expressions_keep_their_type_and_text_templates_render() {
        let ctx = serde_json::json!({"config": {"n": 5, "name": "x"}, "response": {"next": null}});
        assert_eq!(
            eval("{{ config['n'] + 1 }}", ctx.clone()),
            serde_json::json!(6)
        );
        assert_eq!(
            eval("{{ not response.get('next') }}", ctx.clone()),
            serde_json::json!(true)
        );
        assert_eq!(
            eval("items/{{ config.name }}", ctx.clone()),
            serde_json::json!("items/x")
        );
        assert_eq!(eval("plain", ctx), serde_json::json!("plain"));
    }

    #[test]
    fn dates_and_reads() {
        let ctx = serde_json::json!({});
        let today = eval("{{ today_utc() }}", ctx.clone());
        assert_eq!(
            today,
            Value::String(Utc::now().format("%Y-%m-%d").to_string())
        );
        let text = eval("{{ now_utc().strftime('%Y') }}", ctx.clone());
        assert_eq!(text, Value::String(Utc::now().format("%Y").to_string()));
        assert_eq!(
            eval(
                "{{ format_datetime('2024-01-02T03:04:05Z', '%Y/%m/%d') }}",
                ctx
            ),
            serde_json::json!("2024/01/02")
        );
        let mut compiler = TemplateCompiler::new();
        let tmpl = compiler.compile_str("{{ response.next }}").unwrap();
        assert!(tmpl.reads("response") && !tmpl.reads("config"));
        assert!(compiler.compile_str("{{ unclosed").is_err());
    }

    #[test]
    fn parse_formats() {
        let at = parse_datetime("2024-03-05", &["%Y-%m-%d".into()]).unwrap();
        assert_eq!(strftime(&at, "%Y-%m-%dT%H:%M:%SZ"), "2024-03-05T00:00:00Z");
        assert_eq!(strftime(&at, "%s"), at.timestamp().to_string());
        assert!(parse_datetime("nope", &[]).is_none());
    }
}
