//! Airbyte low-code manifests compiled into a [`Plan`]: the common subset of the declarative
//! component schema (listed in the crate docs). References are expanded first ([`refs`]);
//! `$parameters` flow down to nested components and fill fields those components leave out, as
//! in the Airbyte CDK. A component or key outside the subset is a problem at its position that
//! names it, never silently dropped.

pub(crate) mod refs;

use serde_json::{Map, Value};

use crate::diagnostic::child;
use crate::native::{Compiler, check_references, secrets_of};
use crate::plan::*;
use crate::schema_check::shown;
use crate::template::Tmpl;

/// Airbyte's default `datetime_format`.
const AIRBYTE_DATETIME: &str = "%Y-%m-%dT%H:%M:%S.%f%z";

/// The keys the Airbyte schema defines for each supported component (declarative component
/// schema of airbyte-python-cdk). A key outside this list is not Airbyte's either and is ignored
/// (as the CDK does, and `$parameters` put such keys everywhere); a key in it that this crate
/// does not read is reported as unsupported.
const AIRBYTE_KEYS: &[(&str, &[&str])] = &[
    (
        "DeclarativeSource",
        &[
            "api_budget",
            "check",
            "concurrency_level",
            "definitions",
            "description",
            "dynamic_streams",
            "max_concurrent_async_job_count",
            "metadata",
            "schemas",
            "spec",
            "stream_groups",
            "streams",
            "version",
        ],
    ),
    (
        "DeclarativeStream",
        &[
            "file_uploader",
            "incremental_sync",
            "name",
            "primary_key",
            "retriever",
            "schema_loader",
            "state_migrations",
            "transformations",
        ],
    ),
    (
        "SimpleRetriever",
        &[
            "decoder",
            "ignore_stream_slicer_parameters_on_paginated_requests",
            "pagination_reset",
            "paginator",
            "partition_router",
            "record_selector",
            "requester",
        ],
    ),
    (
        "HttpRequester",
        &[
            "authenticator",
            "error_handler",
            "fetch_properties_from_endpoint",
            "http_method",
            "path",
            "query_properties",
            "request_body",
            "request_body_data",
            "request_body_json",
            "request_headers",
            "request_parameters",
            "url",
            "url_base",
            "use_cache",
        ],
    ),
    (
        "ApiKeyAuthenticator",
        &["api_token", "header", "inject_into"],
    ),
    ("BearerAuthenticator", &["api_token"]),
    ("BasicHttpAuthenticator", &["password", "username"]),
    (
        "OAuthAuthenticator",
        &[
            "access_token_name",
            "access_token_value",
            "client_id",
            "client_id_name",
            "client_secret",
            "client_secret_name",
            "expires_in_name",
            "grant_type",
            "grant_type_name",
            "profile_assertion",
            "refresh_request_body",
            "refresh_request_headers",
            "refresh_token",
            "refresh_token_error_key",
            "refresh_token_error_status_codes",
            "refresh_token_error_values",
            "refresh_token_name",
            "refresh_token_updater",
            "scopes",
            "send_refresh_request_as_query_params",
            "token_expiry_date",
            "token_expiry_date_format",
            "token_refresh_endpoint",
            "use_profile_assertion",
        ],
    ),
    (
        "RecordSelector",
        &[
            "extractor",
            "record_filter",
            "schema_normalization",
            "transform_before_filtering",
        ],
    ),
    ("DpathExtractor", &["field_path", "record_expander"]),
    ("RecordFilter", &["condition"]),
    (
        "DefaultPaginator",
        &[
            "page_size_option",
            "page_token_option",
            "pagination_strategy",
        ],
    ),
    (
        "CursorPagination",
        &["cursor_value", "page_size", "stop_condition"],
    ),
    ("OffsetIncrement", &["inject_on_first_request", "page_size"]),
    (
        "PageIncrement",
        &["inject_on_first_request", "page_size", "start_from_page"],
    ),
    (
        "RequestOption",
        &["field_name", "field_path", "inject_into"],
    ),
    (
        "DatetimeBasedCursor",
        &[
            "allow_catalog_defined_cursor_field",
            "clamping",
            "cursor_datetime_formats",
            "cursor_field",
            "cursor_granularity",
            "datetime_format",
            "end_datetime",
            "end_time_option",
            "global_substream_cursor",
            "is_client_side_incremental",
            "is_compare_strictly",
            "is_data_feed",
            "lookback_window",
            "partition_field_end",
            "partition_field_start",
            "start_datetime",
            "start_time_option",
            "step",
        ],
    ),
    (
        "MinMaxDatetime",
        &[
            "datetime",
            "datetime_format",
            "max_datetime",
            "min_datetime",
        ],
    ),
    ("SubstreamPartitionRouter", &["parent_stream_configs"]),
    (
        "ParentStreamConfig",
        &[
            "extra_fields",
            "incremental_dependency",
            "lazy_read_pointer",
            "parent_key",
            "partition_field",
            "request_option",
            "stream",
        ],
    ),
    ("InlineSchemaLoader", &["schema"]),
    ("JsonFileSchemaLoader", &["file_path"]),
    ("AddFields", &["condition", "fields"]),
    ("AddedFieldDefinition", &["path", "value", "value_type"]),
    ("RemoveFields", &["condition", "field_pointers"]),
];

fn airbyte_keys(kind: &str) -> &'static [&'static str] {
    AIRBYTE_KEYS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(&[], |(_, keys)| keys)
}

/// The keys of DeclarativeSource read (or knowingly ignored).
const SOURCE_KEYS: &[&str] = &[
    "version",
    "check",
    "definitions",
    "streams",
    "spec",
    "metadata",
    "schemas",
    "description",
    "concurrency_level",
];
/// The keys of DeclarativeStream read (or knowingly ignored).
const STREAM_KEYS: &[&str] = &[
    "name",
    "primary_key",
    "retriever",
    "incremental_sync",
    "schema_loader",
    "transformations",
    "state_migrations",
];
/// The keys of SimpleRetriever read (or knowingly ignored).
const STREAM_RETRIEVER_KEYS: &[&str] = &[
    "requester",
    "record_selector",
    "paginator",
    "partition_router",
    "decoder",
    "name",
    "primary_key",
    "ignore_stream_slicer_parameters_on_paginated_requests",
];
/// The keys of HttpRequester read (or knowingly ignored).
const REQUESTER_KEYS: &[&str] = &[
    "url_base",
    "url",
    "path",
    "http_method",
    "request_parameters",
    "request_headers",
    "request_body_json",
    "authenticator",
    "error_handler",
    "use_cache",
    "name",
];
/// The authenticators supported.
const AUTHENTICATOR_SUPPORTED: &[&str] = &[
    "ApiKeyAuthenticator",
    "BearerAuthenticator",
    "BasicHttpAuthenticator",
    "OAuthAuthenticator",
    "NoAuth",
];
/// The keys of authenticators read (or knowingly ignored).
const AUTHENTICATOR_KEYS: &[&str] = &[
    "api_token",
    "header",
    "inject_into",
    "username",
    "password",
    "token_refresh_endpoint",
    "client_id",
    "client_secret",
    "refresh_token",
    "scopes",
    "grant_type",
    "token_expiry_date",
];
/// The keys of DefaultPaginator read (or knowingly ignored).
const PAGINATOR_KEYS: &[&str] = &[
    "pagination_strategy",
    "page_token_option",
    "page_size_option",
    "url_base",
];
/// Keys (or components) read by `paginator_keys7`.
const STRATEGY_KEYS: &[&str] = &[
    "cursor_value",
    "stop_condition",
    "page_size",
    "start_from_page",
    "inject_on_first_request",
    "decoder",
];
/// The keys of ParentStreamConfig read (or knowingly ignored).
const PARTITION_ROUTER_KEYS: &[&str] = &[
    "stream",
    "parent_key",
    "partition_field",
    "request_option",
    "incremental_dependency",
];
/// The keys of DatetimeBasedCursor read (or knowingly ignored).
const INCREMENTAL_KEYS: &[&str] = &[
    "cursor_field",
    "datetime_format",
    "cursor_datetime_formats",
    "start_datetime",
    "end_datetime",
    "step",
    "cursor_granularity",
    "lookback_window",
    "start_time_option",
    "end_time_option",
    "is_client_side_incremental",
    "is_compare_strictly",
    "global_substream_cursor",
];

/// A field `AddFields` sets: its path and value.
type AddedField = (Vec<String>, Tmpl);

/// What a retriever gives a stream.
struct Retrieved {
    requester: Requester,
    selector: Selector,
    paginator: PaginatorPlan,
    parent: Option<ParentPlan>,
}

/// What a stream's requester gives besides its request.
struct Requester {
    request: RequestPlan,
    url_base: Option<Tmpl>,
    auth: Option<(Value, String, Option<AuthPlan>)>,
}

/// Compiles an expanded Airbyte manifest named `name`.
pub(crate) fn compile(doc: &Value, name: &str, c: &mut Compiler<'_, '_>) -> Option<Plan> {
    let mut a = Airbyte {
        c,
        auth: None,
        base_url: None,
    };
    a.source(doc, name)
}

struct Airbyte<'x, 'a, 'b> {
    c: &'x mut Compiler<'a, 'b>,
    /// The tap's authenticator: (its JSON, where it is, plan); every stream must use the same.
    auth: Option<(Value, String, Option<AuthPlan>)>,
    base_url: Option<Tmpl>,
}

/// `$parameters` of `v` over the inherited ones.
fn params_of(v: &Value, inherited: &Map<String, Value>) -> Map<String, Value> {
    let mut params = inherited.clone();
    if let Some(own) = v.get("$parameters").and_then(Value::as_object) {
        params.extend(own.clone());
    }
    params
}

/// A field of a component, else the same-named parameter.
fn field<'v>(v: &'v Value, params: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    v.get(key).or_else(|| params.get(key))
}

impl Airbyte<'_, '_, '_> {
    fn problem(&mut self, pointer: &str, message: impl Into<String>) {
        let message = message.into();
        self.c
            .r
            .at(pointer, format!("{}: {message}", shown(pointer)));
    }

    /// Checks that `v` is one of the `supported` components and uses none of Airbyte's keys
    /// beyond `keys`; its type.
    fn component(
        &mut self,
        p: &str,
        v: &Value,
        supported: &[&str],
        keys: &[&str],
    ) -> Option<String> {
        let Some(map) = v.as_object() else {
            // Null is what a broken `$ref` leaves, already reported.
            if !v.is_null() {
                self.problem(
                    p,
                    format!("expected a component ({})", supported.join(", ")),
                );
            }
            return None;
        };
        let kind = match map.get("type").and_then(Value::as_str) {
            Some(kind) => kind.to_owned(),
            None if supported.len() == 1 => supported[0].to_owned(),
            None => {
                self.problem(p, format!("missing `type` ({})", supported.join(", ")));
                return None;
            }
        };
        if !supported.contains(&kind.as_str()) {
            let at = child(p, "type");
            self.problem(
                &at,
                format!(
                    "unsupported Airbyte component `{kind}` (supported here: {})",
                    supported.join(", ")
                ),
            );
            return None;
        }
        for key in map.keys() {
            if airbyte_keys(&kind).contains(&key.as_str()) && !keys.contains(&key.as_str()) {
                let at = child(p, key);
                self.c.r.at_key(
                    &at,
                    format!("{}: `{key}` of {kind} is not supported", shown(&at)),
                );
            }
        }
        Some(kind)
    }

    fn string(&mut self, p: &str, v: Option<&Value>, what: &str) -> Option<String> {
        match v {
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.problem(p, format!("`{what}` must be a string"));
                None
            }
            None => {
                self.problem(p, format!("missing `{what}`"));
                None
            }
        }
    }

    fn source(&mut self, doc: &Value, name: &str) -> Option<Plan> {
        let keys = SOURCE_KEYS;
        self.component("", doc, &["DeclarativeSource"], keys)?;
        let Some(list) = doc.get("streams").and_then(Value::as_array) else {
            self.problem("", "missing `streams`");
            return None;
        };
        let streams: Vec<StreamPlan> = list
            .iter()
            .enumerate()
            .filter_map(|(i, s)| self.stream(&format!("/streams/{i}"), s, &Map::new()))
            .collect();
        check_references(&streams, self.c.r, |i| format!("/streams/{i}"));
        let config_schema = doc.pointer("/spec/connection_specification").cloned();
        let auth = self.auth.take().and_then(|(_, _, plan)| plan);
        let base_url = self
            .base_url
            .take()
            .unwrap_or_else(|| Tmpl::constant("http://127.0.0.1/"));
        Some(Plan {
            name: name.to_owned(),
            version: doc
                .get("version")
                .and_then(Value::as_str)
                .unwrap_or("0.1.0")
                .to_owned(),
            description: doc
                .get("description")
                .and_then(Value::as_str)
                .map(|d| d.lines().next().unwrap_or_default().to_owned()),
            secrets: secrets_of(config_schema.as_ref()),
            config_schema,
            base_url,
            headers: Vec::new(),
            auth,
            requests_per_second: None,
            max_attempts: None,
            streams,
            templates: std::mem::replace(&mut self.c.t, crate::template::TemplateCompiler::new())
                .finish(),
            config_defaults: Vec::new(),
            rebase: Vec::new(),
        })
    }

    fn stream(&mut self, p: &str, v: &Value, inherited: &Map<String, Value>) -> Option<StreamPlan> {
        self.component(p, v, &["DeclarativeStream"], STREAM_KEYS)?;
        let params = params_of(v, inherited);
        let name = self.string(p, field(v, &params, "name"), "name")?;
        let retrieved = self.retriever(&child(p, "retriever"), v.get("retriever"), &params)?;
        let incremental = v
            .get("incremental_sync")
            .and_then(|i| self.incremental(&child(p, "incremental_sync"), i, &params));
        let (add_fields, remove_fields) = self.transformations(
            &child(p, "transformations"),
            v.get("transformations"),
            &params,
        );
        let schema = self.schema_loader(
            &child(p, "schema_loader"),
            v.get("schema_loader"),
            &name,
            &params,
        );
        let Retrieved {
            requester,
            selector,
            paginator,
            parent,
        } = retrieved;
        self.adopt_requester(requester.url_base.clone(), requester.auth);
        let mut request = requester.request;
        request.url_base = requester.url_base;
        Some(StreamPlan {
            name,
            primary_key: primary_key(field(v, &params, "primary_key")),
            schema,
            request,
            selector,
            paginator,
            incremental,
            parent,
            bookmark_every: None,
            add_fields,
            remove_fields,
            parameters: Value::Object(params),
            passthrough: None,
        })
    }

    /// A `SimpleRetriever`: requester, selector, paginator and partition router.
    fn retriever(
        &mut self,
        rp: &str,
        v: Option<&Value>,
        params: &Map<String, Value>,
    ) -> Option<Retrieved> {
        let retriever = v.unwrap_or(&Value::Null);
        self.component(rp, retriever, &["SimpleRetriever"], STREAM_RETRIEVER_KEYS)?;
        let rparams = params_of(retriever, params);
        let requester = retriever.get("requester").unwrap_or(&Value::Null);
        let requester = self.requester(&child(rp, "requester"), requester, &rparams)?;
        if let Some(decoder) = retriever.get("decoder") {
            self.component(&child(rp, "decoder"), decoder, &["JsonDecoder"], &[]);
        }
        let selector = self.selector(
            &child(rp, "record_selector"),
            retriever.get("record_selector"),
            &rparams,
        );
        let paginator = match retriever.get("paginator") {
            Some(pg) => self.paginator(&child(rp, "paginator"), pg, &rparams),
            None => PaginatorPlan::None,
        };
        let parent = retriever
            .get("partition_router")
            .and_then(|r| self.partition_router(&child(rp, "partition_router"), r, &rparams));
        Some(Retrieved {
            requester,
            selector,
            paginator,
            parent,
        })
    }

    /// The tap's base URL and authenticator come from the first stream; later streams must use
    /// the same authenticator.
    fn adopt_requester(
        &mut self,
        url_base: Option<Tmpl>,
        auth: Option<(Value, String, Option<AuthPlan>)>,
    ) {
        if self.base_url.is_none() {
            self.base_url = url_base;
        }
        match (&self.auth, auth) {
            (None, auth) => self.auth = auth,
            (Some((first, first_at, _)), Some((json, at, _))) if *first != json => {
                let message = format!(
                    "every stream must use the same authenticator (the first is at {})",
                    shown(first_at)
                );
                self.problem(&at, message);
            }
            _ => {}
        }
    }

    fn requester(
        &mut self,
        p: &str,
        v: &Value,
        inherited: &Map<String, Value>,
    ) -> Option<Requester> {
        let keys = REQUESTER_KEYS;
        self.component(p, v, &["HttpRequester"], keys)?;
        let params = params_of(v, inherited);
        let url_base = field(v, &params, "url_base").or_else(|| field(v, &params, "url"));
        let url_base = url_base.map(|u| self.c.tmpl(&child(p, "url_base"), u));
        let path = field(v, &params, "path")
            .cloned()
            .unwrap_or(Value::String(String::new()));
        let method = match field(v, &params, "http_method")
            .and_then(Value::as_str)
            .unwrap_or("GET")
        {
            "GET" => Method::Get,
            "POST" => Method::Post,
            other => {
                self.problem(
                    &child(p, "http_method"),
                    format!("HTTP method {other} is not supported (GET, POST)"),
                );
                Method::Get
            }
        };
        let params_map = |key: &str| {
            v.get(key)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let request = RequestPlan {
            method,
            url_base: None,
            path: self.c.tmpl(&child(p, "path"), &path),
            params: self.c.pairs(
                &child(p, "request_parameters"),
                &params_map("request_parameters"),
            ),
            headers: self
                .c
                .pairs(&child(p, "request_headers"), &params_map("request_headers")),
            body: v
                .get("request_body_json")
                .and_then(Value::as_object)
                .map(|b| BodyPlan::Json(self.c.pairs(&child(p, "request_body_json"), b))),
        };
        let auth = v.get("authenticator").map(|a| {
            let at = child(p, "authenticator");
            (a.clone(), at.clone(), self.authenticator(&at, a, &params))
        });
        Some(Requester {
            request,
            url_base,
            auth,
        })
    }

    fn authenticator(
        &mut self,
        p: &str,
        v: &Value,
        inherited: &Map<String, Value>,
    ) -> Option<AuthPlan> {
        let supported = AUTHENTICATOR_SUPPORTED;
        let keys = AUTHENTICATOR_KEYS;
        let kind = self.component(p, v, supported, keys)?;
        let params = params_of(v, inherited);
        let mut text = |key: &str| field(v, &params, key).map(|t| self.c.tmpl(&child(p, key), t));
        Some(match kind.as_str() {
            "NoAuth" => return None,
            "BearerAuthenticator" => AuthPlan::Bearer(text("api_token")?),
            "BasicHttpAuthenticator" => AuthPlan::Basic {
                username: text("username")?,
                password: text("password").unwrap_or_else(|| Tmpl::constant("")),
            },
            "OAuthAuthenticator" => AuthPlan::OAuth2 {
                token_url: text("token_refresh_endpoint")?,
                client_id: text("client_id")?,
                client_secret: text("client_secret")?,
                refresh_token: if v.get("grant_type").and_then(Value::as_str)
                    == Some("client_credentials")
                {
                    None
                } else {
                    text("refresh_token")
                },
                scopes: strings(v.get("scopes").unwrap_or(&Value::Null)),
            },
            _ => {
                let value = text("api_token")?;
                return self.api_key(p, v, value);
            }
        })
    }

    /// An `ApiKeyAuthenticator` sending `value`.
    fn api_key(&mut self, p: &str, v: &Value, value: Tmpl) -> Option<AuthPlan> {
        let option = match (
            v.get("inject_into"),
            v.get("header").and_then(Value::as_str),
        ) {
            (Some(o), _) => self.request_option(&child(p, "inject_into"), o)?,
            (None, Some(h)) => RequestOption {
                inject: Inject::Header,
                name: h.to_owned(),
            },
            (None, None) => {
                self.problem(p, "ApiKeyAuthenticator needs `inject_into`");
                return None;
            }
        };
        if option.inject == Inject::Body {
            let at = child(p, "inject_into");
            self.problem(
                &at,
                "an API key in the body is not supported (header, request_parameter)",
            );
        }
        Some(AuthPlan::ApiKey {
            inject: option.inject,
            name: option.name,
            value,
            prefix: None,
        })
    }

    fn request_option(&mut self, p: &str, v: &Value) -> Option<RequestOption> {
        self.component(
            p,
            v,
            &["RequestOption"],
            &["inject_into", "field_name", "field_path"],
        )?;
        let inject = match v.get("inject_into").and_then(Value::as_str) {
            Some("request_parameter") => Inject::Query,
            Some("header") => Inject::Header,
            Some("body_json") | Some("body_data") => Inject::Body,
            other => {
                self.problem(&child(p, "inject_into"), format!("inject_into {other:?} is not supported (request_parameter, header, body_json)"));
                return None;
            }
        };
        let name = match (
            v.get("field_name"),
            v.get("field_path").and_then(Value::as_array),
        ) {
            (Some(Value::String(n)), _) => n.clone(),
            (None, Some(path)) if path.len() == 1 => {
                path[0].as_str().unwrap_or_default().to_owned()
            }
            _ => {
                self.problem(p, "RequestOption needs a `field_name`");
                return None;
            }
        };
        Some(RequestOption { inject, name })
    }

    fn selector(&mut self, p: &str, v: Option<&Value>, inherited: &Map<String, Value>) -> Selector {
        let all = Selector {
            extract: Extract::FieldPath(Vec::new()),
            filter: None,
        };
        let Some(v) = v else { return all };
        if self
            .component(
                p,
                v,
                &["RecordSelector"],
                &["extractor", "record_filter", "schema_normalization"],
            )
            .is_none()
        {
            return all;
        }
        let params = params_of(v, inherited);
        let mut selector = all;
        if let Some(extractor) = v.get("extractor") {
            let ep = child(p, "extractor");
            if self
                .component(&ep, extractor, &["DpathExtractor"], &["field_path"])
                .is_some()
            {
                let eparams = params_of(extractor, &params);
                let path = field(extractor, &eparams, "field_path")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let parts = path
                    .iter()
                    .enumerate()
                    .map(|(i, k)| self.c.tmpl(&format!("{ep}/field_path/{i}"), k))
                    .collect();
                selector.extract = Extract::FieldPath(parts);
            }
        }
        if let Some(filter) = v.get("record_filter") {
            let fp = child(p, "record_filter");
            if self
                .component(&fp, filter, &["RecordFilter"], &["condition"])
                .is_some()
            {
                let condition = filter
                    .get("condition")
                    .and_then(Value::as_str)
                    .unwrap_or("{{ True }}");
                selector.filter = Some(self.c.condition(&child(&fp, "condition"), condition));
            }
        }
        selector
    }

    fn paginator(&mut self, p: &str, v: &Value, inherited: &Map<String, Value>) -> PaginatorPlan {
        let keys = PAGINATOR_KEYS;
        let Some(kind) = self.component(p, v, &["DefaultPaginator", "NoPagination"], keys) else {
            return PaginatorPlan::None;
        };
        if kind == "NoPagination" {
            return PaginatorPlan::None;
        }
        let params = params_of(v, inherited);
        let token = match v.get("page_token_option") {
            Some(option) => self.token_option(&child(p, "page_token_option"), option),
            None => TokenTarget::Url,
        };
        let size_option = v
            .get("page_size_option")
            .and_then(|o| self.request_option(&child(p, "page_size_option"), o));
        let strategy = v.get("pagination_strategy").unwrap_or(&Value::Null);
        let sp = child(p, "pagination_strategy");
        self.strategy(&sp, strategy, &params, token, size_option)
    }

    /// A pagination strategy, with where its token and page size go.
    fn strategy(
        &mut self,
        sp: &str,
        strategy: &Value,
        params: &Map<String, Value>,
        token: TokenTarget,
        size_option: Option<RequestOption>,
    ) -> PaginatorPlan {
        let supported = ["CursorPagination", "OffsetIncrement", "PageIncrement"];
        let Some(kind) = self.component(sp, strategy, &supported, STRATEGY_KEYS) else {
            return PaginatorPlan::None;
        };
        let sparams = params_of(strategy, params);
        let size = field(strategy, &sparams, "page_size").and_then(|s| {
            s.as_u64()
                .or_else(|| s.as_str().and_then(|t| t.parse().ok()))
        });
        let first = strategy
            .get("inject_on_first_request")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        match kind.as_str() {
            "CursorPagination" => {
                let value = field(strategy, &sparams, "cursor_value")
                    .cloned()
                    .unwrap_or(Value::Null);
                let value = CursorValue::Template(self.c.tmpl(&child(sp, "cursor_value"), &value));
                let stop = strategy
                    .get("stop_condition")
                    .and_then(Value::as_str)
                    .map(|s| self.c.condition(&child(sp, "stop_condition"), s));
                let page_size = size_option.zip(size);
                PaginatorPlan::Cursor {
                    value,
                    stop,
                    token,
                    page_size,
                }
            }
            "OffsetIncrement" => PaginatorPlan::Offset {
                limit: size.unwrap_or(u64::MAX).max(1),
                token,
                limit_option: size_option,
                inject_on_first: first,
            },
            _ => PaginatorPlan::Page {
                start: strategy
                    .get("start_from_page")
                    .and_then(Value::as_u64)
                    .unwrap_or(1),
                size,
                token,
                size_option,
                inject_on_first: first,
            },
        }
    }

    fn token_option(&mut self, p: &str, v: &Value) -> TokenTarget {
        if v.get("type").and_then(Value::as_str) == Some("RequestPath") {
            self.component(p, v, &["RequestPath"], &[]);
            return TokenTarget::Url;
        }
        match self.request_option(p, v) {
            Some(option) => TokenTarget::Option(option),
            None => TokenTarget::Url,
        }
    }

    fn partition_router(
        &mut self,
        p: &str,
        v: &Value,
        inherited: &Map<String, Value>,
    ) -> Option<ParentPlan> {
        self.component(
            p,
            v,
            &["SubstreamPartitionRouter"],
            &["parent_stream_configs"],
        )?;
        let params = params_of(v, inherited);
        let configs = v
            .get("parent_stream_configs")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if configs.len() != 1 {
            self.problem(p, "exactly one parent stream config is supported");
            return None;
        }
        let cp = format!("{p}/parent_stream_configs/0");
        let config = &configs[0];
        let keys = PARTITION_ROUTER_KEYS;
        self.component(&cp, config, &["ParentStreamConfig"], keys)?;
        let cparams = params_of(config, &params);
        let parent = config.get("stream").unwrap_or(&Value::Null);
        let parent_params = params_of(parent, &cparams);
        let stream = self.string(
            &child(&cp, "stream"),
            field(parent, &parent_params, "name"),
            "name",
        )?;
        let parent_key = self.string(&cp, field(config, &cparams, "parent_key"), "parent_key")?;
        let partition_field = self.string(
            &cp,
            field(config, &cparams, "partition_field"),
            "partition_field",
        )?;
        let expression = format!("{{{{ record[{}] }}}}", Value::String(parent_key));
        let value = self.c.tmpl_str(&child(&cp, "parent_key"), &expression);
        let request_options = match config.get("request_option") {
            Some(o) => self
                .request_option(&child(&cp, "request_option"), o)
                .map(|o| vec![(partition_field.clone(), o)])
                .unwrap_or_default(),
            None => Vec::new(),
        };
        Some(ParentPlan {
            stream,
            partition: vec![(partition_field, value)],
            request_options,
            state_per_parent: false,
        })
    }

    fn incremental(
        &mut self,
        p: &str,
        v: &Value,
        inherited: &Map<String, Value>,
    ) -> Option<IncrementalPlan> {
        let keys = INCREMENTAL_KEYS;
        self.component(p, v, &["DatetimeBasedCursor"], keys)?;
        let params = params_of(v, inherited);
        let cursor_field = self.string(p, field(v, &params, "cursor_field"), "cursor_field")?;
        let format = field(v, &params, "datetime_format")
            .and_then(Value::as_str)
            .unwrap_or(AIRBYTE_DATETIME)
            .to_owned();
        let mut cursor_formats = strings(v.get("cursor_datetime_formats").unwrap_or(&Value::Null));
        if cursor_formats.is_empty() {
            cursor_formats.push(format.clone());
        }
        let start_default = self.min_max(
            &child(p, "start_datetime"),
            v.get("start_datetime"),
            &format,
        );
        let end = self
            .min_max(&child(p, "end_datetime"), v.get("end_datetime"), &format)
            .or_else(|| Some((Tmpl::constant(""), Vec::new())));
        let duration = |a: &mut Self, key: &str| {
            v.get(key)
                .and_then(Value::as_str)
                .and_then(|s| a.c.step(&child(p, key), s))
        };
        let step = duration(self, "step");
        let granularity = duration(self, "cursor_granularity")
            .map(|s| s.approximate())
            .unwrap_or_else(chrono::Duration::zero);
        let lookback = duration(self, "lookback_window").map(|s| s.approximate());
        if step.is_some() != v.get("cursor_granularity").is_some() {
            self.problem(p, "`step` and `cursor_granularity` go together");
        }
        let option =
            |a: &mut Self, key: &str| v.get(key).and_then(|o| a.request_option(&child(p, key), o));
        Some(IncrementalPlan {
            cursor_field,
            cursor_formats,
            datetime_format: format,
            start_option: option(self, "start_time_option").map(|o| (o, None)),
            end_option: option(self, "end_time_option"),
            start_default,
            end,
            step,
            granularity,
            lookback,
            sorted: false,
        })
    }

    /// A date-time setting: a template, or a `MinMaxDatetime` (min/max bounds not supported).
    fn min_max(
        &mut self,
        p: &str,
        v: Option<&Value>,
        default_format: &str,
    ) -> Option<(Tmpl, Vec<String>)> {
        match v? {
            Value::String(s) => Some((self.c.tmpl_str(p, s), vec![default_format.to_owned()])),
            other => {
                self.component(
                    p,
                    other,
                    &["MinMaxDatetime"],
                    &["datetime", "datetime_format"],
                )?;
                let text = other
                    .get("datetime")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let format = other
                    .get("datetime_format")
                    .and_then(Value::as_str)
                    .unwrap_or(default_format);
                Some((
                    self.c.tmpl_str(&child(p, "datetime"), text),
                    vec![format.to_owned()],
                ))
            }
        }
    }

    fn transformations(
        &mut self,
        p: &str,
        v: Option<&Value>,
        inherited: &Map<String, Value>,
    ) -> (Vec<AddedField>, Vec<Vec<String>>) {
        let (mut add, mut remove) = (Vec::new(), Vec::new());
        let list = v.and_then(Value::as_array).cloned().unwrap_or_default();
        for (i, t) in list.iter().enumerate() {
            let tp = format!("{p}/{i}");
            let Some(kind) = self.component(
                &tp,
                t,
                &["AddFields", "RemoveFields"],
                &["fields", "field_pointers"],
            ) else {
                continue;
            };
            let _ = params_of(t, inherited);
            if kind == "RemoveFields" {
                let pointers = t
                    .get("field_pointers")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                remove.extend(pointers.iter().map(strings));
                continue;
            }
            for (j, f) in t
                .get("fields")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                let fp = format!("{tp}/fields/{j}");
                if self
                    .component(
                        &fp,
                        f,
                        &["AddedFieldDefinition"],
                        &["path", "value", "value_type"],
                    )
                    .is_some()
                {
                    let value = self
                        .c
                        .tmpl(&child(&fp, "value"), f.get("value").unwrap_or(&Value::Null));
                    add.push((strings(f.get("path").unwrap_or(&Value::Null)), value));
                }
            }
        }
        (add, remove)
    }

    fn schema_loader(
        &mut self,
        p: &str,
        v: Option<&Value>,
        name: &str,
        inherited: &Map<String, Value>,
    ) -> SchemaPlan {
        let Some(v) = v else {
            return SchemaPlan::File(self.c.dir.join("schemas").join(format!("{name}.json")));
        };
        let Some(kind) = self.component(
            p,
            v,
            &["InlineSchemaLoader", "JsonFileSchemaLoader"],
            &["schema", "file_path", "name"],
        ) else {
            return SchemaPlan::Inline(Value::Object(Map::new()));
        };
        let params = params_of(v, inherited);
        if kind == "InlineSchemaLoader" {
            return SchemaPlan::Inline(
                v.get("schema")
                    .cloned()
                    .unwrap_or_else(|| Value::Object(Map::new())),
            );
        }
        let file = field(v, &params, "file_path")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("./schemas/{name}.json"));
        let path = self.c.dir.join(
            file.replace("{{ parameters['name'] }}", name)
                .replace("{{ parameters.name }}", name),
        );
        if !path.is_file() {
            self.problem(
                &child(p, "file_path"),
                format!("no such schema file {}", path.display()),
            );
        }
        SchemaPlan::File(path)
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// `id`, `[id]` or `[[id], [other]]` → key fields (the first of each nested path).
fn primary_key(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| match i {
                Value::String(s) => Some(s.clone()),
                Value::Array(path) => path.first().and_then(Value::as_str).map(str::to_owned),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}
