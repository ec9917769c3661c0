//! The pass-through page path: which streams take it, and that a sync gives the same messages
//! through it as through the tree path, against the test API of `common`.

mod common;

use common::{ids, load, run, serve};
use serde_json::{Value, json};

/// A one-stream manifest (`stream` indented under `streams:`).
fn manifest(stream: &str) -> String {
    format!(
        "version: 1\nname: tap-test\nbase_url: \"{{{{ config.url }}}}\"\nstreams:\n  - name: items\n    schema: {{type: object}}\n    primary_key: [id]\n{stream}\n"
    )
}

fn loaded(yaml: &str) -> (tempfile::TempDir, burler_manifest::Manifest) {
    let (dir, manifest) = load(yaml, &[]);
    (dir, manifest.unwrap_or_else(|e| panic!("{e}")))
}

/// The messages without what differs between any two runs: the extraction time and the table
/// version (in RECORD, ACTIVATE_VERSION and STATE messages).
fn comparable(messages: Vec<Value>) -> Vec<Value> {
    fn strip(value: Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .filter(|(k, _)| k != "time_extracted")
                    .map(|(k, v)| {
                        if k == "version" {
                            (k, json!("V"))
                        } else {
                            (k, strip(v))
                        }
                    })
                    .collect(),
            ),
            other => other,
        }
    }
    messages.into_iter().map(strip).collect()
}

/// Runs `yaml` through both paths; asserts the pass-through one is planned for `passing` and
/// both give the same exit code and messages, which it returns.
fn same_both_ways(
    yaml: &str,
    config: &Value,
    state: Option<&Value>,
    passing: &[&str],
) -> (u8, Vec<Value>) {
    let (_dir, fast) = loaded(yaml);
    assert_eq!(fast.passthrough_streams(), passing, "{yaml}");
    let (code, messages) = run(fast, config, state, &[]);
    let (_dir, slow) = loaded(yaml);
    let slow = slow.without_passthrough();
    assert!(slow.passthrough_streams().is_empty());
    let (slow_code, slow_messages) = run(slow, config, state, &[]);
    assert_eq!(code, slow_code, "{yaml}");
    let messages = comparable(messages);
    assert_eq!(messages, comparable(slow_messages), "{yaml}");
    (code, messages)
}

#[test]
fn records_pass_through_unless_something_needs_the_tree() {
    let passes = [
        "    path: a\n    records: \"$.data[*]\"\n    paginator: {type: cursor, param: after, from: \"$.next\"}",
        "    path: a\n    records: $.data\n    paginator: {type: next_url, from: \"$.links.next\"}",
        "    path: a\n    paginator: {type: link_header}",
        "    path: a\n    records: \"$['result'].items[*]\"\n    paginator: {type: offset, param: offset, limit: 3}",
        "    path: a\n    records: \"$.data[*]\"\n    paginator: {type: cursor, param: after, value: \"{{ last_record.id }}\"}",
        "    path: a\n    records: \"$.data[*]\"\n    incremental: {cursor_field: updated_at, param: since, cursor_formats: [\"%Y-%m-%dT%H:%M:%SZ\"]}",
    ];
    for stream in passes {
        let (_dir, m) = loaded(&manifest(stream));
        assert_eq!(m.passthrough_streams(), ["items"], "{stream}");
    }
    let trees = [
        // The paginator reads the whole response.
        "    path: a\n    records: $.data\n    paginator: {type: cursor, param: after, value: \"{{ response.next }}\"}",
        // The records are not at a plain path.
        "    path: a\n    records: \"$..id\"",
        "    path: a\n    records: \"$.data[0]\"",
        "    path: a\n    records: \"$.data[*].items[*]\"",
        "    path: a\n    records: \"$.data[?@.id > 1]\"",
        // A filter reads each record.
        "    path: a\n    records: \"$.data[*]\"\n    filter: \"{{ record.id > 1 }}\"",
        // The cursor sits under the records.
        "    path: a\n    records: $.data\n    paginator: {type: cursor, param: after, from: \"$.data.next\"}",
    ];
    for stream in trees {
        let (_dir, m) = loaded(&manifest(stream));
        assert!(m.passthrough_streams().is_empty(), "{stream}");
    }
}

/// A one-stream Airbyte manifest reading `path` with the records at `field_path`, `more`
/// (YAML indented under `retriever:`) in its retriever and `stream` keys on the stream.
fn airbyte(path: &str, field_path: &str, more: &str, stream: &str) -> String {
    format!(
        "version: 6.0.0\ntype: DeclarativeSource\ncheck: {{type: CheckStream, stream_names: [items]}}\nstreams:\n  - type: DeclarativeStream\n    name: items\n    primary_key: id\n    schema_loader: {{type: InlineSchemaLoader, schema: {{type: object}}}}\n{stream}\n    retriever:\n      type: SimpleRetriever\n      requester: {{type: HttpRequester, url_base: \"{{{{ config['url'] }}}}\", path: {path}, http_method: GET}}\n      record_selector:\n        type: RecordSelector\n        extractor: {{type: DpathExtractor, field_path: {field_path}}}\n{more}\nspec:\n  type: Spec\n  connection_specification: {{type: object, properties: {{url: {{type: string}}}}}}\n"
    )
}

#[test]
fn airbyte_streams_pass_through_with_constant_field_paths_and_no_transformations() {
    let url = serve();
    let config = json!({"url": url});
    let offset = "      paginator:\n        type: DefaultPaginator\n        page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: offset}\n        page_size_option: {type: RequestOption, inject_into: request_parameter, field_name: limit}\n        pagination_strategy: {type: OffsetIncrement, page_size: 3}";
    let page = "      paginator:\n        type: DefaultPaginator\n        page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: page}\n        page_size_option: {type: RequestOption, inject_into: request_parameter, field_name: per_page}\n        pagination_strategy: {type: PageIncrement, page_size: 2, start_from_page: 1, inject_on_first_request: true}";
    for yaml in [
        airbyte("/offset/items", "[rows]", offset, ""),
        airbyte("/page/items", "[]", page, ""),
    ] {
        let (code, messages) = same_both_ways(&yaml, &config, None, &["items"]);
        assert_eq!(
            (code, ids(&messages, "items")),
            (0, vec![1, 2, 3, 4, 5, 6, 7])
        );
    }
    let add = "    transformations:\n      - type: AddFields\n        fields: [{path: [source], value: api}]";
    let filter = "        record_filter: {type: RecordFilter, condition: \"{{ record.id > 1 }}\"}";
    for yaml in [
        airbyte("/offset/items", "[rows]", offset, add),
        airbyte(
            "/offset/items",
            "[rows]",
            &format!("{filter}\n{offset}"),
            "",
        ),
        airbyte("/offset/items", "[\"{{ 'rows' }}\"]", offset, ""),
    ] {
        let (code, _) = same_both_ways(&yaml, &config, None, &[]);
        assert_eq!(code, 0, "{yaml}");
    }
    let (_dir, starred) = loaded(&airbyte("/offset/items", "[rows, \"*\"]", "", ""));
    assert!(starred.passthrough_streams().is_empty());
}

#[test]
fn every_paginator_gives_the_same_messages_both_ways() {
    let url = serve();
    let config = json!({"url": url});
    let cases = [
        "    path: cursor/items\n    params: {limit: 3}\n    records: \"$.results[*]\"\n    paginator: {type: cursor, param: after, from: \"$.next\"}",
        "    path: cursor/items\n    params: {limit: 2}\n    records: $.results\n    paginator: {type: cursor, param: after, value: \"{{ last_record.id if last_page_size == 2 else '' }}\"}",
        "    path: next/items\n    records: \"$.items[*]\"\n    paginator: {type: next_url, from: \"$.links.next\"}",
        "    path: link/items\n    paginator: {type: link_header}",
        "    path: page/items\n    paginator: {type: page, param: page, size: 3, size_param: per_page}",
        "    path: offset/items\n    records: \"$.rows[*]\"\n    paginator: {type: offset, param: offset, limit: 3, limit_param: limit}",
        "    path: search\n    method: POST\n    body: {q: widget}\n    records: \"$.hits[*]\"",
    ];
    for stream in cases {
        let (code, messages) = same_both_ways(&manifest(stream), &config, None, &["items"]);
        assert_eq!(code, 0, "{stream}");
        assert!(!ids(&messages, "items").is_empty(), "{stream}");
    }
}

#[test]
fn a_repeated_page_ends_the_sync_both_ways() {
    let url = serve();
    for stream in [
        "    path: stuck/items\n    records: \"$.data[*]\"\n    paginator: {type: page, param: page, size: 3, size_param: per_page}",
        "    path: drifting/items\n    records: \"$.data[*]\"\n    paginator: {type: cursor, param: after, from: \"$.next\"}",
    ] {
        let (code, messages) =
            same_both_ways(&manifest(stream), &json!({"url": url}), None, &["items"]);
        assert_eq!(code, 1, "{stream}");
        assert_eq!(ids(&messages, "items"), [1, 2, 3], "{stream}");
    }
}

#[test]
fn incremental_windows_and_sub_streams_give_the_same_messages_both_ways() {
    let url = serve();
    let config = json!({"url": url, "start_date": "2024-01-03T00:00:00Z"});
    // Bookmarks parsed from the cursor's format (read from each record's text when passed
    // through).
    let formatted = manifest(
        "    path: updated/items\n    records: \"$.data[*]\"\n    incremental: {cursor_field: updated_at, param: since, cursor_formats: [\"%Y-%m-%dT%H:%M:%SZ\"]}\n    bookmark_every: 2",
    );
    let (code, messages) = same_both_ways(&formatted, &config, None, &["items"]);
    assert_eq!((code, ids(&messages, "items")), (0, vec![3, 4, 5, 6, 7]));
    // Airbyte's datetime cursor: date windows, a bookmark per window.
    let cursor = "    incremental_sync:\n      type: DatetimeBasedCursor\n      cursor_field: updated_at\n      datetime_format: \"%Y-%m-%dT%H:%M:%SZ\"\n      start_datetime: {type: MinMaxDatetime, datetime: \"{{ config['start'] }}\", datetime_format: \"%Y-%m-%d\"}\n      end_datetime: \"2024-01-06T00:00:00Z\"\n      step: P2D\n      cursor_granularity: PT1S\n      start_time_option: {type: RequestOption, inject_into: request_parameter, field_name: since}\n      end_time_option: {type: RequestOption, inject_into: request_parameter, field_name: until}";
    let airbyte_config = json!({"url": url, "start": "2024-01-01"});
    let windowed = airbyte("/updated/items", "[data]", "", cursor);
    let (code, messages) = same_both_ways(&windowed, &airbyte_config, None, &["items"]);
    assert_eq!((code, ids(&messages, "items")), (0, vec![1, 2, 3, 4, 5]));
    let state = json!({"bookmarks": {"items": {"replication_key": "updated_at", "replication_key_value": "2024-01-05T00:00:00Z"}}});
    let plain = manifest(
        "    path: updated/items\n    records: \"$.data[*]\"\n    incremental: {cursor_field: updated_at, param: since}",
    );
    let (code, messages) = same_both_ways(&plain, &config, Some(&state), &["items"]);
    assert_eq!((code, ids(&messages, "items")), (0, vec![5, 6, 7]));
    let tree = "version: 1\nname: tap-test\nbase_url: \"{{ config.url }}\"\nstreams:\n  - name: groups\n    path: groups\n    primary_key: [gid]\n    schema: {type: object}\n  - name: members\n    path: \"groups/{{ parent.group }}/members\"\n    parent:\n      stream: groups\n      partition: {group: \"{{ record.gid }}\", kind: \"{{ record.label }}\"}\n      params: {kind: kind}\n    records: \"$.data[*]\"\n    primary_key: [id]\n    schema: {type: object}\n";
    let (code, messages) = same_both_ways(tree, &config, None, &["groups", "members"]);
    assert_eq!(
        (code, ids(&messages, "members")),
        (0, vec![2, 4, 6, 1, 3, 5, 7])
    );
}

#[test]
fn a_page_whose_records_are_not_a_list_is_read_as_a_tree() {
    let url = serve();
    // `$.data[*]` over an object: its values, as JSONPath selects them.
    let (code, messages) = same_both_ways(
        &manifest("    path: keyed/items\n    records: \"$.data[*]\""),
        &json!({"url": url}),
        None,
        &["items"],
    );
    assert_eq!(
        (code, ids(&messages, "items")),
        (0, vec![1, 2, 3, 4, 5, 6, 7])
    );
}

#[test]
fn a_pretty_printed_body_gives_one_line_a_record() {
    let url = serve();
    // `run` parses every output line as one message: a record's line break would fail it.
    let (code, messages) = same_both_ways(
        &manifest("    path: pretty/items\n    records: \"$.data[*]\""),
        &json!({"url": url}),
        None,
        &["items"],
    );
    assert_eq!(
        (code, ids(&messages, "items")),
        (0, vec![1, 2, 3, 4, 5, 6, 7])
    );
}

#[test]
fn passed_through_records_are_written_as_the_api_sent_them() {
    let url = serve();
    let yaml = manifest(
        "    path: spaced/items\n    records: \"$.data[*]\"\n    paginator: {type: cursor, param: after, from: \"$.meta.next\"}",
    );
    let text = |manifest: burler_manifest::Manifest| {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.json");
        std::fs::write(&config, json!({"url": url}).to_string()).unwrap();
        let sink = burler::CaptureBuffer::new();
        let args = ["tap", "--config", config.to_str().unwrap()];
        let outcome = manifest.into_tap().run_with(args, Box::new(sink.clone()));
        assert_eq!(outcome.exit_code, 0);
        sink.text()
    };
    let fast = text(loaded(&yaml).1);
    assert!(
        fast.contains(r#""record":{"id": 1, "name": "w\u0031"}"#),
        "{fast}"
    );
    assert!(
        fast.contains(r#""record":{"id": 2, "name": "w2"}"#),
        "{fast}"
    );
    let slow = text(loaded(&yaml).1.without_passthrough());
    assert!(slow.contains(r#""record":{"id":1,"name":"w1"}"#), "{slow}");
}
