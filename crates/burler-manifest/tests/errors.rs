//! Bad manifests: every problem found at once, each at its line and column, before any request.

mod common;

use common::problems;

fn has(found: &[String], expected: &str) {
    assert!(
        found.iter().any(|p| p.starts_with(expected)),
        "no `{expected}` in {found:#?}"
    );
}

#[test]
fn structure_problems_of_a_burler_manifest() {
    let yaml = "\
version: 1
name: tap-bad
base_url: 42
auth: {type: token, value: x}
streams:
  - name: a
    path: a
    schema: {type: object}
    primary_key: id
    paginator: {type: cursor, param: after, form: $.next}
    bookmark_every: lots
  - path: b
    schema: {type: object}
";
    let found = problems(yaml);
    has(&found, "3:11: base_url: 42 is not of type \"string\"");
    has(
        &found,
        "4:14: auth.type: unknown type, expected one of: bearer, basic, api_key, oauth2",
    );
    has(
        &found,
        "9:18: streams[0].primary_key: \"id\" is not of type \"array\"",
    );
    has(&found, "10:45: streams[0].paginator: unknown key `form`");
    has(
        &found,
        "11:21: streams[0].bookmark_every: \"lots\" is not of types \"null\", \"integer\"",
    );
    has(
        &found,
        "10:16: streams[0].paginator: give exactly one of `from` and `value`",
    );
    has(&found, "12:5: streams[1]: missing key `name`");
    assert_eq!(found.len(), 7, "{found:#?}");
}

#[test]
fn semantic_problems_are_all_reported_even_beside_structural_ones() {
    let yaml = "\
version: 1
name: tap-bad
base_url: \"{{ config.url }\"
colour: red
streams:
  - name: a
    path: \"a/{% if x %}\"
    records: \"$[?(@.x ==)]\"
    schema: {type: object}
    incremental: {cursor_field: t, param: since, window: one day}
  - name: a
    path: b
    schema_file: missing.json
    parent: {stream: c}
  - name: d
    path: d
    filter: \"record.x >\"
";
    let found = problems(yaml);
    has(&found, "3:11: base_url: bad template");
    has(&found, "4:1: manifest: unknown key `colour`");
    has(&found, "7:11: streams[0].path: bad template");
    has(&found, "8:14: streams[0].records: bad JSONPath");
    has(
        &found,
        "10:58: streams[0].incremental.window: \"one day\" is not an ISO 8601 duration",
    );
    has(
        &found,
        "11:11: streams[1].name: stream `a` is defined twice",
    );
    has(&found, "13:18: streams[1].schema_file: no such file");
    has(
        &found,
        "14:22: streams[1].parent.stream: unknown stream `c`",
    );
    has(
        &found,
        "15:5: streams[2]: give exactly one of `schema`, `schema_file` and `schema_infer`",
    );
    has(&found, "17:13: streams[2].filter: bad condition");
    assert_eq!(found.len(), 10, "{found:#?}");
}

#[test]
fn yaml_syntax_errors_have_a_position() {
    let found = problems("version: 1\nstreams: [a, b\nname: x\n");
    assert_eq!(found.len(), 1);
    assert!(found[0].contains("YAML syntax"), "{found:?}");
}

#[test]
fn unsupported_airbyte_components_are_named_at_their_position() {
    let yaml = "\
version: 6.0.0
type: DeclarativeSource
definitions:
  requester:
    type: HttpRequester
    url_base: https://example.com
    request_body_data: {a: b}
streams:
  - type: DeclarativeStream
    name: a
    retriever:
      type: SimpleRetriever
      requester: {$ref: \"#/definitions/requester\", path: /a}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: []}}
      paginator:
        type: DefaultPaginator
        pagination_strategy: {type: CustomPaginationStrategy, class_name: x.Y}
  - type: AsyncRetrieverStream
    name: b
  - $ref: \"#/definitions/nowhere\"
  - type: DeclarativeStream
    name: c
    retriever:
      type: SimpleRetriever
      requester: {$ref: \"#/definitions/requester\", path: \"{{ broken\"}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: []}}
    incremental_sync: {type: DatetimeBasedCursor, cursor_field: t, start_datetime: \"2024\", datetime_format: \"%Y\", is_data_feed: true}
";
    let found = problems(yaml);
    has(
        &found,
        "7:5: streams[0].retriever.requester.request_body_data: `request_body_data` of HttpRequester is not supported",
    );
    has(
        &found,
        "17:37: streams[0].retriever.paginator.pagination_strategy.type: unsupported Airbyte component `CustomPaginationStrategy`",
    );
    has(
        &found,
        "18:11: streams[1].type: unsupported Airbyte component `AsyncRetrieverStream`",
    );
    has(
        &found,
        "20:11: streams[2].$ref: $ref \"#/definitions/nowhere\": nothing at that path",
    );
    has(
        &found,
        "25:58: streams[3].retriever.requester.path: bad template",
    );
    has(
        &found,
        "27:115: streams[3].incremental_sync.is_data_feed: `is_data_feed` of DatetimeBasedCursor is not supported",
    );
    assert_eq!(
        found.len(),
        6,
        "a problem in a shared definition is reported once: {found:#?}"
    );
}
