//! Every feature of burler's manifest format, against the test API of `common`.

mod common;

use common::{ids, last_state, load, records, run, serve, sync};
use serde_json::{Value, json};

/// A one-stream manifest: `stream` is the stream's YAML (indented under `streams:`), `top` more
/// top-level keys.
fn manifest(top: &str, stream: &str) -> String {
    format!(
        "version: 1\nname: tap-test\nbase_url: \"{{{{ config.url }}}}\"\n{top}\nstreams:\n  - name: items\n    schema: {{type: object}}\n    primary_key: [id]\n{stream}\n"
    )
}

fn config(url: &str) -> Value {
    json!({"url": url})
}

#[test]
fn bearer_basic_api_key_and_oauth2() {
    let url = serve();
    let cases = [
        (
            "auth: {type: bearer, token: \"{{ config.token }}\"}",
            "bearer",
            json!({"token": "T"}),
        ),
        (
            "auth: {type: basic, username: user, password: \"{{ config.pw }}\"}",
            "basic",
            json!({"pw": "pw"}),
        ),
        (
            "auth: {type: api_key, header: X-Key, value: k}",
            "key",
            json!({}),
        ),
        (
            "auth: {type: api_key, query: api_key, value: k}",
            "key",
            json!({}),
        ),
        (
            "auth: {type: oauth2, token_url: \"{{ config.url }}/oauth/token\", client_id: cid, client_secret: csecret}",
            "oauth",
            json!({}),
        ),
    ];
    for (auth, route, extra) in cases {
        let yaml = manifest(
            auth,
            &format!("    path: {route}/items\n    records: \"$.data[*]\""),
        );
        let mut cfg = config(&url);
        cfg.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        assert_eq!(
            ids(&sync(&yaml, &cfg), "items"),
            [1, 2, 3, 4, 5, 6, 7],
            "{auth}"
        );
    }
    // A wrong credential fails the stream with the status.
    let yaml = manifest(
        "auth: {type: bearer, token: wrong}",
        "    path: bearer/items",
    );
    let (_dir, m) = load(&yaml, &[]);
    let (code, _) = run(m.unwrap(), &config(&url), None, &[]);
    assert_eq!(code, 1);
}

#[test]
fn every_paginator() {
    let url = serve();
    let cases = [
        (
            "    path: cursor/items\n    params: {limit: 3}\n    records: \"$.results[*]\"\n    paginator: {type: cursor, param: after, from: \"$.next\"}",
            3,
        ),
        (
            "    path: cursor/items\n    params: {limit: 2}\n    records: $.results\n    paginator: {type: cursor, param: after, value: \"{{ response.next }}\"}",
            4,
        ),
        (
            "    path: next/items\n    records: \"$.items[*]\"\n    paginator: {type: next_url, from: \"$.links.next\"}",
            3,
        ),
        (
            "    path: link/items\n    paginator: {type: link_header}",
            3,
        ),
        (
            "    path: page/items\n    paginator: {type: page, param: page, size: 3, size_param: per_page}",
            3,
        ),
        (
            "    path: page/items\n    paginator: {type: page, param: page, start: 1, size: 2, size_param: per_page}",
            4,
        ),
        (
            "    path: offset/items\n    records: \"$.rows[*]\"\n    paginator: {type: offset, param: offset, limit: 3, limit_param: limit}",
            3,
        ),
    ];
    for (stream, _pages) in cases {
        let messages = sync(&manifest("", stream), &config(&url));
        assert_eq!(ids(&messages, "items"), [1, 2, 3, 4, 5, 6, 7], "{stream}");
    }
    // No paginator: one request (the cursor API's first page only).
    let messages = sync(
        &manifest("", "    path: cursor/items\n    records: \"$.results[*]\""),
        &config(&url),
    );
    assert_eq!(ids(&messages, "items"), [1, 2, 3]);
}

#[test]
fn a_page_repeating_the_previous_one_ends_the_sync_with_one_error() {
    let url = serve();
    let cases = [
        // The page parameter is ignored: the same bytes again.
        "    path: stuck/items\n    records: \"$.data[*]\"\n    paginator: {type: page, param: page, size: 3, size_param: per_page}",
        // A new cursor each time over the same records: the bytes differ, the records do not.
        "    path: drifting/items\n    records: \"$.data[*]\"\n    paginator: {type: cursor, param: after, from: \"$.next\"}",
    ];
    for stream in cases {
        let (_dir, manifest) = load(&manifest("", stream), &[]);
        let (code, messages) = run(manifest.unwrap(), &config(&url), None, &[]);
        assert_eq!(code, 1, "{stream}");
        assert_eq!(ids(&messages, "items"), [1, 2, 3], "{stream}");
    }
}

#[test]
fn record_selection_and_filter() {
    let url = serve();
    let select = |records: &str, filter: &str| {
        let stream = format!("    path: bearer/items\n    records: \"{records}\"\n{filter}");
        let yaml = manifest("auth: {type: bearer, token: T}", &stream);
        ids(&sync(&yaml, &config(&url)), "items")
    };
    assert_eq!(select("$.data[*]", ""), [1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(
        select("$.data", ""),
        [1, 2, 3, 4, 5, 6, 7],
        "a selected list stands for its items"
    );
    assert_eq!(
        select("$.data[?@.group == 1]", ""),
        [1, 3, 5, 7],
        "RFC 9535 filter selector"
    );
    assert_eq!(select("$.data[-2:]", ""), [6, 7]);
    assert_eq!(
        select(
            "$.data[*]",
            "    filter: \"{{ record.id > 4 and config.url != '' }}\""
        ),
        [5, 6, 7]
    );
    assert_eq!(
        select("$.data[*]", "    filter: record.id is even"),
        [2, 4, 6],
        "a bare condition"
    );
}

#[test]
fn incremental_param_bookmark_and_resume() {
    let url = serve();
    let stream = "    path: updated/items\n    records: \"$.data[*]\"\n    incremental: {cursor_field: updated_at, param: since}\n    bookmark_every: 2";
    let yaml = manifest("", stream);
    let mut cfg = config(&url);
    cfg["start_date"] = json!("2024-01-03T00:00:00Z");
    let first = sync(&yaml, &cfg);
    assert_eq!(
        ids(&first, "items"),
        [3, 4, 5, 6, 7],
        "start_date is the first start"
    );
    let state = last_state(&first);
    assert_eq!(
        state["bookmarks"]["items"]["replication_key_value"],
        "2024-01-07T00:00:00Z"
    );
    let states = first.iter().filter(|m| m["type"] == "STATE").count();
    assert!(states >= 3, "a STATE every 2 records: {states}");
    let (_dir, m) = load(&yaml, &[]);
    let (code, second) = run(m.unwrap(), &cfg, Some(&state), &[]);
    assert_eq!(code, 0);
    assert_eq!(
        ids(&second, "items"),
        [7],
        "the bookmark is the next start (inclusive)"
    );
}

#[test]
fn incremental_value_template_and_format() {
    let url = serve();
    let stream = "    path: updated/items\n    records: \"$.data[*]\"\n    incremental:\n      cursor_field: updated_at\n      param: since\n      format: \"%Y-%m-%d\"\n      value: \"{{ start }}T00:00:00Z\"";
    let mut cfg = config(&url);
    cfg["start_date"] = json!("2024-01-05T13:00:00Z");
    assert_eq!(ids(&sync(&manifest("", stream), &cfg), "items"), [5, 6, 7]);
}

#[test]
fn date_windows_with_a_bookmark_per_window() {
    let url = serve();
    let stream = "    path: updated/items\n    records: \"$.data[*]\"\n    incremental:\n      cursor_field: updated_at\n      window: P2D\n      window_params: {start: since, end: until}";
    let mut cfg = config(&url);
    cfg["start_date"] = json!("2024-01-01T00:00:00Z");
    let messages = sync(&manifest("", stream), &cfg);
    assert_eq!(
        ids(&messages, "items"),
        [1, 2, 3, 4, 5, 6, 7],
        "windows cover every record once"
    );
    let bookmarks: Vec<String> = messages
        .iter()
        .filter(|m| m["type"] == "STATE")
        .filter_map(|m| {
            m["value"]["bookmarks"]["items"]["replication_key_value"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    for end in [
        "2024-01-03T00:00:00Z",
        "2024-01-05T00:00:00Z",
        "2024-01-07T00:00:00Z",
    ] {
        assert!(
            bookmarks.iter().any(|b| b == end),
            "window end {end} committed: {bookmarks:?}"
        );
    }
}

#[test]
fn lookback_starts_before_the_bookmark() {
    let url = serve();
    let stream = "    path: updated/items\n    records: \"$.data[*]\"\n    incremental: {cursor_field: updated_at, param: since, lookback: P2D}";
    let state = json!({"bookmarks": {"items": {"replication_key": "updated_at", "replication_key_value": "2024-01-06T00:00:00Z"}}});
    let (_dir, m) = load(&manifest("", stream), &[]);
    let (code, messages) = run(m.unwrap(), &config(&url), Some(&state), &[]);
    assert_eq!(code, 0);
    assert_eq!(ids(&messages, "items"), [4, 5, 6, 7]);
}

#[test]
fn parent_partitions_request_params_and_state_per_parent() {
    let url = serve();
    let yaml = format!(
        "version: 1\nname: tap-test\nbase_url: \"{url}\"\nstreams:\n  - name: groups\n    path: groups\n    primary_key: [gid]\n    schema: {{type: object}}\n  - name: members\n    path: \"groups/{{{{ parent.group }}}}/members\"\n    parent:\n      stream: groups\n      partition: {{group: \"{{{{ record.gid }}}}\", kind: \"{{{{ record.label }}}}\"}}\n      params: {{kind: kind}}\n      state_per_parent: true\n    records: \"$.data[*]\"\n    primary_key: [id]\n    schema: {{type: object}}\n"
    );
    let messages = sync(&yaml, &json!({}));
    assert_eq!(ids(&messages, "members"), [2, 4, 6, 1, 3, 5, 7]);
    let kinds: Vec<&str> = records(&messages, "members")
        .iter()
        .filter_map(|r| r["kind"].as_str())
        .collect();
    assert_eq!(kinds[0], "even");
    assert_eq!(kinds[6], "odd", "partition values reach the request");
    assert_eq!(records(&messages, "groups").len(), 2);
}

#[test]
fn post_body_headers_and_defaults() {
    let url = serve();
    let yaml = format!(
        "version: 1\nname: tap-test\nbase_url: \"{url}\"\nheaders: {{X-Tap: \"{{{{ config.name }}}}\"}}\ndefaults:\n  records: \"$.hits[*]\"\nstreams:\n  - name: hits\n    path: search\n    method: POST\n    body: {{q: \"{{{{ config.q }}}}\"}}\n    primary_key: [id]\n    schema: {{type: object}}\n"
    );
    let messages = sync(&yaml, &json!({"q": "widget", "name": "t"}));
    assert_eq!(ids(&messages, "hits").len(), 2);
}

#[test]
fn schema_inline_from_a_file_and_inferred() {
    let url = serve();
    let schema = r#"{"type": "object", "properties": {"id": {"type": "integer"}, "name": {"$ref": "defs.json#/name"}}}"#;
    let defs = r#"{"name": {"type": "string"}}"#;
    let yaml = format!(
        "version: 1\nname: tap-test\nbase_url: \"{url}\"\nauth: {{type: bearer, token: T}}\nstreams:\n  - name: filed\n    path: bearer/items\n    records: \"$.data[*]\"\n    schema_file: items.json\n  - name: guessed\n    path: bearer/items\n    records: \"$.data[*]\"\n    schema_infer: {{records: 3}}\n"
    );
    let (_dir, m) = load(&yaml, &[("items.json", schema), ("defs.json", defs)]);
    let (code, messages) = run(m.unwrap(), &json!({}), None, &["--discover"]);
    assert_eq!(code, 0);
    let catalog = &messages[0];
    let stream = |name: &str| {
        catalog["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stream"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(
        stream("filed")["schema"]["properties"]["name"]["type"],
        "string",
        "file $refs resolved"
    );
    let guessed = stream("guessed")["schema"]["properties"].clone();
    assert!(
        guessed["id"]["type"].to_string().contains("integer"),
        "{guessed}"
    );
    assert!(
        guessed["updated_at"]["type"].to_string().contains("string"),
        "{guessed}"
    );
}

#[test]
fn templates_read_config_and_requests_per_second() {
    let url = serve();
    let yaml = manifest(
        "requests_per_second: \"{{ config.rps }}\"\nmax_attempts: 2",
        "    path: \"{{ config.kind }}/items\"\n    params: {limit: \"{{ config.limit }}\", empty: \"\"}\n    records: \"$.results[*]\"",
    );
    let mut cfg = config(&url);
    cfg.as_object_mut().unwrap().extend(
        json!({"rps": 50, "kind": "cursor", "limit": 5})
            .as_object()
            .unwrap()
            .clone(),
    );
    assert_eq!(ids(&sync(&yaml, &cfg), "items"), [1, 2, 3, 4, 5]);
}

#[test]
fn config_is_validated_against_the_config_schema() {
    let url = serve();
    let yaml = manifest(
        "config:\n  type: object\n  required: [url, token]\n  properties:\n    url: {type: string}\n    token: {type: string, secret: true}",
        "    path: bearer/items",
    );
    let (_dir, m) = load(&yaml, &[]);
    let (code, messages) = run(m.unwrap(), &config(&url), None, &[]);
    assert_eq!(code, 1, "the token is required");
    assert!(messages.is_empty(), "no message before the config is valid");
    let (_dir, m) = load(&yaml, &[]);
    let (code, messages) = run(
        m.unwrap(),
        &json!({}),
        None,
        &["--about", "--format", "json"],
    );
    assert_eq!(code, 0);
    let about = messages[0].to_string();
    assert!(about.contains("token"), "{about}");
}

#[test]
fn an_api_that_repeats_its_page_ends_the_stream_with_an_error() {
    let url = serve();
    // The search reads its page from the body: a page number in the query brings the same page.
    let yaml = format!(
        "version: 1\nname: tap-test\nbase_url: \"{url}\"\nstreams:\n  - name: hits\n    path: search\n    method: POST\n    body: {{q: widget}}\n    records: \"$.hits[*]\"\n    paginator: {{type: page, param: page}}\n    schema: {{type: object}}\n"
    );
    let (_dir, m) = load(&yaml, &[]);
    let (code, messages) = run(m.unwrap(), &json!({}), None, &[]);
    assert_eq!(code, 1);
    assert_eq!(ids(&messages, "hits").len(), 2, "the first page is kept");
}
