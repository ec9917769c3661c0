//! Airbyte low-code components against the test API of `common`: paginators, authenticators,
//! the record filter, transformations, the datetime cursor, sub-streams, `$ref`, `*ref()` and
//! `$parameters`.

mod common;

use common::{ids, last_state, load, records, run, serve, sync};
use serde_json::{Value, json};

/// A one-stream Airbyte manifest whose retriever is `retriever` (YAML indented under
/// `retriever:`), with `more` keys on the stream.
fn manifest(retriever: &str, more: &str) -> String {
    format!(
        "version: 6.0.0\ntype: DeclarativeSource\ncheck: {{type: CheckStream, stream_names: [items]}}\ndefinitions:\n  requester:\n    type: HttpRequester\n    url_base: \"{{{{ config['url'] }}}}\"\n    http_method: GET\nstreams:\n  - type: DeclarativeStream\n    name: items\n    primary_key: id\n    schema_loader: {{type: InlineSchemaLoader, schema: {{type: object}}}}\n{more}\n    retriever:\n      type: SimpleRetriever\n{retriever}\nspec:\n  type: Spec\n  connection_specification:\n    type: object\n    properties:\n      url: {{type: string}}\n      token: {{type: string, airbyte_secret: true}}\n"
    )
}

fn requester(path: &str, extra: &str) -> String {
    format!(
        "      requester:\n        $ref: \"#/definitions/requester\"\n        path: {path}\n{extra}"
    )
}

fn selector(path: &str) -> String {
    format!(
        "      record_selector:\n        type: RecordSelector\n        extractor: {{type: DpathExtractor, field_path: {path}}}\n"
    )
}

fn config(url: &str) -> Value {
    json!({"url": url, "token": "T"})
}

#[test]
fn default_paginator_strategies() {
    let url = serve();
    let cursor = format!(
        "{}{}      paginator:\n        type: DefaultPaginator\n        page_token_option: {{type: RequestOption, inject_into: request_parameter, field_name: after}}\n        page_size_option: {{type: RequestOption, inject_into: request_parameter, field_name: limit}}\n        pagination_strategy:\n          type: CursorPagination\n          cursor_value: \"{{{{ response.next }}}}\"\n          stop_condition: \"{{{{ not response.next }}}}\"\n          page_size: 2\n",
        requester("/cursor/items", ""),
        selector("[results]")
    );
    let path = format!(
        "{}{}      paginator:\n        type: DefaultPaginator\n        page_token_option: {{type: RequestPath}}\n        pagination_strategy: {{type: CursorPagination, cursor_value: \"{{{{ response['links']['next'] }}}}\"}}\n",
        requester("/next/items", ""),
        selector("[items]")
    );
    let offset = format!(
        "{}{}      paginator:\n        type: DefaultPaginator\n        page_token_option: {{type: RequestOption, inject_into: request_parameter, field_name: offset}}\n        page_size_option: {{type: RequestOption, inject_into: request_parameter, field_name: limit}}\n        pagination_strategy: {{type: OffsetIncrement, page_size: 3}}\n",
        requester("/offset/items", ""),
        selector("[rows]")
    );
    let page = format!(
        "{}{}      paginator:\n        type: DefaultPaginator\n        page_token_option: {{type: RequestOption, inject_into: request_parameter, field_name: page}}\n        page_size_option: {{type: RequestOption, inject_into: request_parameter, field_name: per_page}}\n        pagination_strategy: {{type: PageIncrement, page_size: 2, start_from_page: 1, inject_on_first_request: true}}\n",
        requester("/page/items", ""),
        selector("[]")
    );
    for retriever in [cursor, path, offset, page] {
        assert_eq!(
            ids(&sync(&manifest(&retriever, ""), &config(&url)), "items"),
            [1, 2, 3, 4, 5, 6, 7],
            "{retriever}"
        );
    }
    let none = format!(
        "{}{}      paginator: {{type: NoPagination}}\n",
        requester("/cursor/items", ""),
        selector("[results]")
    );
    assert_eq!(
        ids(&sync(&manifest(&none, ""), &config(&url)), "items"),
        [1, 2, 3]
    );
}

#[test]
fn authenticators() {
    let url = serve();
    let cases = [
        (
            "/bearer/items",
            "type: BearerAuthenticator\n          api_token: \"{{ config['token'] }}\"",
        ),
        (
            "/basic/items",
            "type: BasicHttpAuthenticator\n          username: user\n          password: pw",
        ),
        (
            "/key/items",
            "type: ApiKeyAuthenticator\n          api_token: k\n          inject_into: {type: RequestOption, inject_into: header, field_name: X-Key}",
        ),
        (
            "/key/items",
            "type: ApiKeyAuthenticator\n          api_token: k\n          inject_into: {type: RequestOption, inject_into: request_parameter, field_name: api_key}",
        ),
        (
            "/oauth/items",
            "type: OAuthAuthenticator\n          token_refresh_endpoint: \"{{ config['url'] }}/oauth/token\"\n          client_id: cid\n          client_secret: csecret\n          grant_type: client_credentials",
        ),
    ];
    for (path, auth) in cases {
        let extra = format!("        authenticator:\n          {auth}\n");
        let retriever = format!("{}{}", requester(path, &extra), selector("[data]"));
        assert_eq!(
            ids(&sync(&manifest(&retriever, ""), &config(&url)), "items").len(),
            7,
            "{auth}"
        );
    }
}

#[test]
fn record_filter_transformations_and_parameters() {
    let url = serve();
    let retriever = format!(
        "{}      record_selector:\n        type: RecordSelector\n        extractor: {{type: DpathExtractor, field_path: [\"{{{{ parameters.root }}}}\", \"*\"]}}\n        record_filter: {{type: RecordFilter, condition: \"{{{{ record['group'] == 1 and parameters['root'] == 'data' }}}}\"}}\n",
        requester(
            "/key/items",
            "        request_parameters: {api_key: \"{{ parameters.key }}\"}\n"
        )
    );
    let more = "    $parameters: {root: data, key: k}\n    transformations:\n      - type: AddFields\n        fields:\n          - {type: AddedFieldDefinition, path: [meta, double], value: \"{{ record['id'] * 2 }}\"}\n          - {path: [source], value: \"{{ parameters.root }}\"}\n      - type: RemoveFields\n        field_pointers: [[updated_at]]\n";
    let messages = sync(&manifest(&retriever, more), &config(&url));
    let items = records(&messages, "items");
    assert_eq!(
        items
            .iter()
            .map(|r| r["id"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 3, 5, 7]
    );
    assert_eq!(items[1]["meta"]["double"], 6, "a typed value");
    assert_eq!(items[1]["source"], "data");
    assert!(items[1].get("updated_at").is_none());
}

#[test]
fn datetime_cursor_windows_and_state() {
    let url = serve();
    let retriever = format!("{}{}", requester("/updated/items", ""), selector("[data]"));
    let more = "    incremental_sync:\n      type: DatetimeBasedCursor\n      cursor_field: updated_at\n      datetime_format: \"%Y-%m-%dT%H:%M:%SZ\"\n      start_datetime: {type: MinMaxDatetime, datetime: \"{{ config['start'] }}\", datetime_format: \"%Y-%m-%d\"}\n      end_datetime: \"2024-01-06T00:00:00Z\"\n      step: P2D\n      cursor_granularity: PT1S\n      start_time_option: {type: RequestOption, inject_into: request_parameter, field_name: since}\n      end_time_option: {type: RequestOption, inject_into: request_parameter, field_name: until}\n";
    let mut cfg = config(&url);
    cfg["start"] = json!("2024-01-01");
    let yaml = manifest(&retriever, more);
    let messages = sync(&yaml, &cfg);
    // Slices [01-01, 01-02T23:59:59], [01-03, 01-04T23:59:59], [01-05, 01-06]: `until` is
    // exclusive at this API, so the widget of 01-06 is out.
    assert_eq!(ids(&messages, "items"), [1, 2, 3, 4, 5]);
    let state = last_state(&messages);
    assert_eq!(
        state["bookmarks"]["items"]["replication_key_value"],
        "2024-01-06T00:00:00Z"
    );
    let (_dir, m) = load(&yaml, &[]);
    let (code, again) = run(m.unwrap(), &cfg, Some(&state), &[]);
    assert_eq!(code, 0);
    assert!(ids(&again, "items").is_empty(), "nothing after the end");
}

#[test]
fn substream_partition_router() {
    let url = serve();
    let yaml = format!(
        "version: 6.0.0\ntype: DeclarativeSource\ndefinitions:\n  base: {{type: HttpRequester, url_base: \"{url}\"}}\n  groups:\n    type: DeclarativeStream\n    name: groups\n    primary_key: gid\n    schema_loader: {{type: InlineSchemaLoader, schema: {{type: object}}}}\n    retriever:\n      type: SimpleRetriever\n      requester: {{$ref: \"#/definitions/base\", path: /groups}}\n      record_selector: {{type: RecordSelector, extractor: {{type: DpathExtractor, field_path: []}}}}\nstreams:\n  - \"*ref(definitions.groups)\"\n  - type: DeclarativeStream\n    name: members\n    primary_key: [[id]]\n    schema_loader: {{type: InlineSchemaLoader, schema: {{type: object}}}}\n    retriever:\n      type: SimpleRetriever\n      requester:\n        $ref: \"#/definitions/base\"\n        path: \"/groups/{{{{ stream_partition.group_id }}}}/members\"\n      record_selector: {{type: RecordSelector, extractor: {{type: DpathExtractor, field_path: [data]}}}}\n      partition_router:\n        type: SubstreamPartitionRouter\n        parent_stream_configs:\n          - type: ParentStreamConfig\n            stream: {{$ref: \"#/definitions/groups\"}}\n            parent_key: label\n            partition_field: kind\n            request_option: {{type: RequestOption, inject_into: request_parameter, field_name: kind}}\n          \n"
    );
    // The partition's `kind` goes to the request; `group_id` is not a partition field here, so
    // the path uses the parent's key instead.
    let yaml = yaml.replace("stream_partition.group_id", "stream_partition.gid");
    let messages = sync(&yaml, &json!({}));
    assert_eq!(ids(&messages, "members"), [2, 4, 6, 1, 3, 5, 7]);
    let kinds: Vec<&str> = records(&messages, "members")
        .iter()
        .filter_map(|r| r["kind"].as_str())
        .collect();
    assert_eq!((kinds[0], kinds[6]), ("even", "odd"));
    assert_eq!(records(&messages, "groups").len(), 2);
}
