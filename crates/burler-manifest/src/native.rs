//! burler manifests ([`crate::format`]) compiled into a [`Plan`]: structure checked against the
//! format's schema, then every template, JSONPath, duration and stream reference, all problems
//! collected with their positions.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use serde_json_path::JsonPath;

use crate::diagnostic::child;
use crate::format::{
    Auth, Defaults, HttpMethod, Incremental, ManifestFile, NumberOrTemplate, Paginator, StreamDef,
};
use crate::plan::*;
use crate::report::Reporter;
use crate::schema_check::shown;
use crate::template::{TemplateCompiler, Tmpl};

/// Default request format of date-times.
pub(crate) const DEFAULT_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// Compiles a parsed burler manifest; `None` when anything is wrong (all of it reported).
pub(crate) fn compile(doc: &Value, dir: &Path, r: &mut Reporter<'_>) -> Option<Plan> {
    crate::schema_check::check(doc, r);
    let mut c = Compiler {
        r,
        t: TemplateCompiler::new(),
        dir,
    };
    match serde_json::from_value::<ManifestFile>(doc.clone()) {
        Ok(file) => {
            let plan = c.tap(&file);
            (!c.r.has_errors()).then_some(plan)
        }
        Err(err) => {
            if !c.r.has_errors() {
                c.r.at("", format!("manifest: {err}"));
                return None;
            }
            // The schema check named the structural problems; without the nodes it named, the
            // rest is compiled too, so one run reports everything.
            let pruned = pruned(doc, &c.r.out.items);
            match serde_json::from_value::<ManifestFile>(pruned.clone()) {
                Ok(file) => {
                    c.tap(&file);
                }
                Err(_) => c.loose_streams(&pruned),
            }
            None
        }
    }
}

pub(crate) struct Compiler<'a, 'b> {
    pub(crate) r: &'a mut Reporter<'b>,
    pub(crate) t: TemplateCompiler,
    pub(crate) dir: &'a Path,
}

impl Compiler<'_, '_> {
    /// A template at `pointer`; a broken one is reported (and replaced by its text).
    pub(crate) fn tmpl(&mut self, pointer: &str, value: &Value) -> Tmpl {
        match self.t.compile(value) {
            Ok(t) => t,
            Err(e) => {
                self.r
                    .at(pointer, format!("{}: bad template: {e}", shown(pointer)));
                Tmpl::constant(value.clone())
            }
        }
    }

    pub(crate) fn tmpl_str(&mut self, pointer: &str, text: &str) -> Tmpl {
        self.tmpl(pointer, &Value::String(text.to_owned()))
    }

    pub(crate) fn condition(&mut self, pointer: &str, text: &str) -> Tmpl {
        match self.t.condition(text) {
            Ok(t) => t,
            Err(e) => {
                self.r
                    .at(pointer, format!("{}: bad condition: {e}", shown(pointer)));
                Tmpl::constant(true)
            }
        }
    }

    pub(crate) fn json_path(&mut self, pointer: &str, text: &str) -> Option<JsonPath> {
        match JsonPath::parse(text) {
            Ok(p) => Some(p),
            Err(e) => {
                self.r.at(
                    pointer,
                    format!(
                        "{}: bad JSONPath {text:?}: {} (at character {})",
                        shown(pointer),
                        e.message(),
                        e.position()
                    ),
                );
                None
            }
        }
    }

    pub(crate) fn step(&mut self, pointer: &str, text: &str) -> Option<Step> {
        let step = Step::parse(text);
        if step.is_none() {
            self.r.at(
                pointer,
                format!(
                    "{}: {text:?} is not an ISO 8601 duration (P1D, PT6H, P1M)",
                    shown(pointer)
                ),
            );
        }
        step
    }

    pub(crate) fn pairs(&mut self, pointer: &str, map: &Map<String, Value>) -> Vec<(String, Tmpl)> {
        map.iter()
            .map(|(k, v)| (k.clone(), self.tmpl(&child(pointer, k), v)))
            .collect()
    }

    fn tap(&mut self, file: &ManifestFile) -> Plan {
        let defaults = file.defaults.as_ref();
        let base_url = self.tmpl_str("/base_url", &file.base_url);
        let headers = self.pairs("/headers", &file.headers);
        let auth = file.auth.as_ref().map(|a| self.auth("/auth", a));
        let streams: Vec<StreamPlan> = file
            .streams
            .iter()
            .enumerate()
            .map(|(i, s)| self.stream(&format!("/streams/{i}"), s, defaults))
            .collect();
        check_references(&streams, self.r, |i| format!("/streams/{i}"));
        let config_schema = file.config.clone().map(Value::Object);
        Plan {
            name: file.name.clone(),
            version: file.tap_version.clone().unwrap_or_else(|| "0.1.0".into()),
            description: file.description.clone(),
            secrets: secrets_of(config_schema.as_ref()),
            config_schema,
            base_url,
            headers,
            auth,
            requests_per_second: file.requests_per_second.as_ref().map(|n| match n {
                NumberOrTemplate::Number(n) => Tmpl::constant(*n),
                NumberOrTemplate::Template(t) => self.tmpl_str("/requests_per_second", t),
            }),
            max_attempts: file.max_attempts,
            streams,
            templates: std::mem::replace(&mut self.t, TemplateCompiler::new()).finish(),
            config_defaults: Vec::new(),
            rebase: Vec::new(),
        }
    }

    /// Checks each stream that deserialises on its own (when the whole file does not).
    fn loose_streams(&mut self, doc: &Value) {
        let defaults = doc.get("defaults").and_then(from::<Defaults>);
        let Some(streams) = doc.get("streams").and_then(Value::as_array) else {
            return;
        };
        for (i, value) in streams.iter().enumerate() {
            if let Some(def) = from::<StreamDef>(value) {
                self.stream(&format!("/streams/{i}"), &def, defaults.as_ref());
            }
        }
    }

    fn auth(&mut self, p: &str, auth: &Auth) -> AuthPlan {
        match auth {
            Auth::Bearer { token } => AuthPlan::Bearer(self.tmpl_str(&child(p, "token"), token)),
            Auth::Basic { username, password } => AuthPlan::Basic {
                username: self.tmpl_str(&child(p, "username"), username),
                password: self.tmpl_str(&child(p, "password"), password.as_deref().unwrap_or("")),
            },
            Auth::ApiKey {
                header,
                query,
                value,
            } => {
                let (inject, name) = match (header, query) {
                    (Some(h), None) => (Inject::Header, h.clone()),
                    (None, Some(q)) => (Inject::Query, q.clone()),
                    _ => {
                        self.r.at(
                            p,
                            format!("{}: give exactly one of `header` and `query`", shown(p)),
                        );
                        (Inject::Header, String::new())
                    }
                };
                let value = self.tmpl_str(&child(p, "value"), value);
                AuthPlan::ApiKey {
                    inject,
                    name,
                    value,
                    prefix: None,
                }
            }
            Auth::Oauth2 {
                token_url,
                client_id,
                client_secret,
                refresh_token,
                scopes,
            } => AuthPlan::OAuth2 {
                token_url: self.tmpl_str(&child(p, "token_url"), token_url),
                client_id: self.tmpl_str(&child(p, "client_id"), client_id),
                client_secret: self.tmpl_str(&child(p, "client_secret"), client_secret),
                refresh_token: refresh_token
                    .as_ref()
                    .map(|t| self.tmpl_str(&child(p, "refresh_token"), t)),
                scopes: scopes.clone(),
            },
        }
    }

    fn stream(&mut self, p: &str, s: &StreamDef, defaults: Option<&Defaults>) -> StreamPlan {
        let request = self.request(p, s, defaults);
        let records = s
            .records
            .clone()
            .or_else(|| defaults.and_then(|d| d.records.clone()));
        let extract = match records {
            Some(path) => self.json_path(&child(p, "records"), &path),
            None => None,
        };
        let selector = Selector {
            extract: Extract::JsonPath(RecordPath::new(extract.unwrap_or_else(whole_body))),
            filter: s
                .filter
                .as_ref()
                .map(|f| self.condition(&child(p, "filter"), f)),
        };
        let paginator = s
            .paginator
            .clone()
            .or_else(|| defaults.and_then(|d| d.paginator.clone()));
        StreamPlan {
            name: s.name.clone(),
            primary_key: s.primary_key.clone(),
            schema: self.schema(p, s),
            request,
            selector,
            paginator: self.paginator(&child(p, "paginator"), paginator.as_ref()),
            incremental: s
                .incremental
                .as_ref()
                .map(|i| self.incremental(&child(p, "incremental"), i)),
            parent: s
                .parent
                .as_ref()
                .map(|parent| self.parent(&child(p, "parent"), parent)),
            bookmark_every: s.bookmark_every,
            add_fields: Vec::new(),
            remove_fields: Vec::new(),
            parameters: Value::Object(Map::new()),
            passthrough: None,
        }
    }

    /// A stream's request: the defaults' parameters and headers under its own.
    fn request(&mut self, p: &str, s: &StreamDef, defaults: Option<&Defaults>) -> RequestPlan {
        let mut params = defaults.map(|d| d.params.clone()).unwrap_or_default();
        params.extend(s.params.clone());
        let mut headers = defaults.map(|d| d.headers.clone()).unwrap_or_default();
        headers.extend(s.headers.clone());
        RequestPlan {
            method: match s.method {
                Some(HttpMethod::Post) => Method::Post,
                _ => Method::Get,
            },
            url_base: None,
            path: self.tmpl_str(&child(p, "path"), &s.path),
            params: self.pairs(&child(p, "params"), &params),
            headers: self.pairs(&child(p, "headers"), &headers),
            body: s
                .body
                .as_ref()
                .map(|b| BodyPlan::Json(self.pairs(&child(p, "body"), b))),
        }
    }

    fn parent(&mut self, pp: &str, parent: &crate::format::Parent) -> ParentPlan {
        let query = |param: &String| RequestOption {
            inject: Inject::Query,
            name: param.clone(),
        };
        ParentPlan {
            stream: parent.stream.clone(),
            partition: self.pairs(&child(pp, "partition"), &parent.partition),
            request_options: parent
                .params
                .iter()
                .map(|(param, name)| (name.as_str().unwrap_or_default().to_owned(), query(param)))
                .collect(),
            state_per_parent: parent.state_per_parent,
        }
    }

    fn schema(&mut self, p: &str, s: &StreamDef) -> SchemaPlan {
        let given = [
            s.schema.is_some(),
            s.schema_file.is_some(),
            s.schema_infer.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            self.r.at(
                p,
                format!(
                    "{}: give exactly one of `schema`, `schema_file` and `schema_infer`",
                    shown(p)
                ),
            );
        }
        if let Some(schema) = &s.schema {
            return SchemaPlan::Inline(Value::Object(schema.clone()));
        }
        if let Some(file) = &s.schema_file {
            let path = self.dir.join(file);
            if !path.is_file() {
                let at = child(p, "schema_file");
                self.r.at(
                    &at,
                    format!("{}: no such file {}", shown(&at), path.display()),
                );
            }
            return SchemaPlan::File(path);
        }
        let records = s
            .schema_infer
            .as_ref()
            .and_then(|i| i.records)
            .unwrap_or(100);
        SchemaPlan::Infer {
            records: records.max(1),
        }
    }

    fn paginator(&mut self, p: &str, paginator: Option<&Paginator>) -> PaginatorPlan {
        let query = |name: &str| RequestOption {
            inject: Inject::Query,
            name: name.to_owned(),
        };
        match paginator {
            None | Some(Paginator::None) => PaginatorPlan::None,
            Some(Paginator::Cursor { param, from, value }) => PaginatorPlan::Cursor {
                value: self.cursor_value(p, from.as_deref(), value.as_deref()),
                stop: None,
                token: TokenTarget::Option(query(param)),
                page_size: None,
            },
            Some(Paginator::NextUrl { from }) => {
                let path = self.json_path(&child(p, "from"), from);
                let value = path
                    .map(CursorValue::Path)
                    .unwrap_or_else(|| CursorValue::Template(Tmpl::constant(Value::Null)));
                PaginatorPlan::Cursor {
                    value,
                    stop: None,
                    token: TokenTarget::Url,
                    page_size: None,
                }
            }
            Some(Paginator::LinkHeader) => PaginatorPlan::LinkHeader,
            Some(Paginator::Page {
                param,
                start,
                size,
                size_param,
            }) => PaginatorPlan::Page {
                start: start.unwrap_or(1),
                size: *size,
                token: TokenTarget::Option(query(param)),
                size_option: size_param.as_deref().map(query),
                inject_on_first: true,
            },
            Some(Paginator::Offset {
                param,
                limit,
                limit_param,
            }) => PaginatorPlan::Offset {
                limit: (*limit).max(1),
                token: TokenTarget::Option(query(param)),
                limit_option: limit_param.as_deref().map(query),
                inject_on_first: true,
            },
        }
    }

    /// A cursor from a JSONPath (`from`) or a template (`value`).
    fn cursor_value(&mut self, p: &str, from: Option<&str>, value: Option<&str>) -> CursorValue {
        let value = match (from, value) {
            (Some(path), None) => self
                .json_path(&child(p, "from"), path)
                .map(CursorValue::Path),
            (None, Some(t)) => Some(CursorValue::Template(self.tmpl_str(&child(p, "value"), t))),
            _ => {
                let message = format!("{}: give exactly one of `from` and `value`", shown(p));
                self.r.at(p, message);
                None
            }
        };
        value.unwrap_or_else(|| CursorValue::Template(Tmpl::constant(Value::Null)))
    }

    fn incremental(&mut self, p: &str, i: &Incremental) -> IncrementalPlan {
        let query = |name: &str| RequestOption {
            inject: Inject::Query,
            name: name.to_owned(),
        };
        let step = i
            .window
            .as_ref()
            .and_then(|w| self.step(&child(p, "window"), w));
        let lookback = i
            .lookback
            .as_ref()
            .and_then(|l| self.step(&child(p, "lookback"), l))
            .map(|s| s.approximate());
        let value = i
            .value
            .as_ref()
            .map(|v| self.tmpl_str(&child(p, "value"), v));
        let (start_option, end_option) = match (&i.window_params, &i.param) {
            (Some(w), _) => (Some((query(&w.start), value)), w.end.as_deref().map(query)),
            (None, Some(param)) => (Some((query(param), value)), None),
            (None, None) => {
                if value.is_some() {
                    let at = child(p, "value");
                    self.r
                        .at(&at, format!("{}: `value` needs `param`", shown(&at)));
                }
                (None, None)
            }
        };
        if i.window_params.is_some() && step.is_none() && i.window.is_none() {
            let at = child(p, "window_params");
            self.r.at(&at, format!("{}: needs `window`", shown(&at)));
        }
        IncrementalPlan {
            cursor_field: i.cursor_field.clone(),
            cursor_formats: i.cursor_formats.clone(),
            datetime_format: i.format.clone().unwrap_or_else(|| DEFAULT_FORMAT.into()),
            start_option,
            end_option,
            start_default: None,
            end: None,
            step,
            granularity: chrono::Duration::zero(),
            lookback,
            sorted: i.sorted.unwrap_or(true),
        }
    }
}

/// `doc` without the nodes the problems are about.
fn pruned(doc: &Value, problems: &[crate::diagnostic::Diagnostic]) -> Value {
    let mut doc = doc.clone();
    for problem in problems {
        let Some((parent, key)) = problem.pointer.rsplit_once('/') else {
            continue;
        };
        let key = key.replace("~1", "/").replace("~0", "~");
        match doc.pointer_mut(parent) {
            Some(Value::Object(map)) => {
                map.shift_remove(&key);
            }
            Some(Value::Array(items)) => {
                if let Ok(i) = key.parse::<usize>() {
                    if i < items.len() {
                        items[i] = Value::Null;
                    }
                }
            }
            _ => {}
        }
    }
    doc
}

/// `$`: the body itself is the list of records (or the one record).
fn whole_body() -> JsonPath {
    JsonPath::parse("$").unwrap_or_default()
}

fn from<T: DeserializeOwned>(value: &Value) -> Option<T> {
    serde_json::from_value(value.clone()).ok()
}

/// Config keys flagged `secret` or `airbyte_secret` in the config schema's properties.
pub(crate) fn secrets_of(schema: Option<&Value>) -> Vec<String> {
    let Some(props) = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    props
        .iter()
        .filter(|(_, p)| {
            p.get("secret").and_then(Value::as_bool) == Some(true)
                || p.get("airbyte_secret").and_then(Value::as_bool) == Some(true)
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// Duplicate names, unknown parents and parent cycles.
pub(crate) fn check_references(
    streams: &[StreamPlan],
    r: &mut Reporter<'_>,
    at: impl Fn(usize) -> String,
) {
    for (i, s) in streams.iter().enumerate() {
        if streams[..i].iter().any(|o| o.name == s.name) {
            let p = child(&at(i), "name");
            r.at(
                &p,
                format!("{}: stream `{}` is defined twice", shown(&p), s.name),
            );
        }
        let Some(parent) = &s.parent else { continue };
        let p = child(&child(&at(i), "parent"), "stream");
        if !streams.iter().any(|o| o.name == parent.stream) {
            let known: Vec<&str> = streams.iter().map(|o| o.name.as_str()).collect();
            r.at(
                &p,
                format!(
                    "{}: unknown stream `{}` (streams: {})",
                    shown(&p),
                    parent.stream,
                    known.join(", ")
                ),
            );
        } else if has_cycle(streams, i) {
            r.at(
                &p,
                format!("{}: parent chain of `{}` loops", shown(&p), s.name),
            );
        }
    }
}

fn has_cycle(streams: &[StreamPlan], start: usize) -> bool {
    let mut at = start;
    for _ in 0..=streams.len() {
        let Some(parent) = &streams[at].parent else {
            return false;
        };
        match streams.iter().position(|o| o.name == parent.stream) {
            Some(next) if next == start => return true,
            Some(next) => at = next,
            None => return false,
        }
    }
    true
}
