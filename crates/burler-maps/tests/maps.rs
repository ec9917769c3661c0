//! Stream maps through the public API: what burler does beyond (or instead of) singer-sdk, the
//! startup and record errors, and the engine-facing calls (outputs, apply, identity, children).

use burler_maps::{SourceStream, StreamMaps};
use serde_json::{Map, Value, json};

fn schema() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "integer"},
        "email": {"type": "string"},
        "status": {"type": ["string", "null"]},
        "total": {"type": "number"},
        "created_at": {"type": "string", "format": "date-time"},
        "lines": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}, "q": {"type": "integer"}}}}
    }})
}

fn record() -> Map<String, Value> {
    json!({"id": 7, "email": "Ann@Example.com", "status": "active", "total": 100,
           "created_at": "2024-03-04T05:06:07Z",
           "lines": [{"sku": "a", "q": 2}, {"sku": "b", "q": 3}]})
    .as_object()
    .cloned()
    .unwrap_or_default()
}

fn compile(config: Value) -> Result<StreamMaps, burler_maps::MapsError> {
    let schema = schema();
    let keys = ["id".to_owned()];
    let orders = json!({"type": "object", "properties": {"n": {"type": "integer"}}});
    StreamMaps::compile(
        config.as_object().expect("config object"),
        [
            SourceStream {
                name: "customers",
                schema: &schema,
                key_properties: &keys,
            },
            SourceStream {
                name: "orders",
                schema: &orders,
                key_properties: &[],
            },
        ],
    )
}

/// The customers record through the first output.
fn map_one(config: Value) -> Map<String, Value> {
    let maps = compile(config).expect("compiles");
    let mut out = Vec::new();
    maps.stream("customers")
        .expect("customers")
        .apply(record(), &mut out)
        .expect("applies");
    out.remove(0).expect("not filtered")
}

#[test]
fn a_bad_expression_is_one_line_naming_stream_and_key() {
    let err = compile(json!({"stream_maps": {"customers": {"email_hash": "md5(record['email'"}}}))
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("stream_maps.customers.email_hash: \"md5(record['email'\": "),
        "{text}"
    );
    assert!(!text.contains('\n'), "{text}");
}

#[test]
fn an_unknown_name_fails_at_startup_not_on_a_record() {
    let err = compile(json!({"stream_maps": {"customers": {"h": "md5(emial)"}}})).unwrap_err();
    assert!(err.to_string().contains("unknown name `emial`"), "{err}");
    let err =
        compile(json!({"stream_maps": {"customers": {"__filter__": "fake.first_name() != ''"}}}))
            .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("stream_maps.customers.__filter__:"),
        "{err}"
    );
    assert!(err.to_string().contains("Faker"), "{err}");
}

#[test]
fn an_expression_failing_on_a_record_names_stream_and_key() {
    let maps =
        compile(json!({"stream_maps": {"customers": {"x": "record['missing'] + 1"}}})).unwrap();
    let err = maps
        .stream("customers")
        .unwrap()
        .apply(record(), &mut Vec::new())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "stream_maps: stream customers, customers.x: \"record['missing'] + 1\" failed on a record: No such key: missing"
    );
}

#[test]
fn a_renamed_key_property_follows_its_rename() {
    for copy in ["id", "record['id']", "_['id']", "record.id"] {
        let maps =
            compile(json!({"stream_maps": {"customers": {"customer_id": copy, "id": null}}}))
                .unwrap();
        let out = &maps.stream("customers").unwrap().outputs()[0];
        assert_eq!(out.key_properties(), ["customer_id"], "{copy}");
        assert_eq!(
            out.schema()["properties"]["customer_id"],
            json!({"type": ["integer", "null"]})
        );
    }
    let err = compile(json!({"stream_maps": {"customers": {"id": null}}})).unwrap_err();
    assert!(err.to_string().contains("__key_properties__"), "{err}");
}

#[test]
fn else_null_keeps_the_key_properties_even_when_not_listed() {
    let maps = compile(json!({"stream_maps": {"customers": {"email": "email", "__else__": null}}}))
        .unwrap();
    let out = &maps.stream("customers").unwrap().outputs()[0];
    let props: Vec<&String> = out.schema()["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(props, ["id", "email"]);
    assert_eq!(out.key_properties(), ["id"]);
    let mapped =
        map_one(json!({"stream_maps": {"customers": {"email": "email", "__else__": null}}}));
    assert_eq!(
        Value::Object(mapped),
        json!({"id": 7, "email": "Ann@Example.com"})
    );
}

#[test]
fn a_declared_schema_replaces_the_guess() {
    let maps = compile(json!({"stream_maps": {"customers": {"cents": {
        "expression": "int(record['total'] * 100.0)", "schema": {"type": "integer", "minimum": 0}}}}}))
    .unwrap();
    let out = &maps.stream("customers").unwrap().outputs()[0];
    assert_eq!(
        out.schema()["properties"]["cents"],
        json!({"type": "integer", "minimum": 0})
    );
}

#[test]
fn cel_and_the_python_spellings_both_work() {
    let mapped = map_one(json!({"stream_maps": {"customers": {
        "lower": "record['email'].lower()",
        "lower_ascii": "email.lowerAscii()",
        "is_active": "status == 'active' && total > 50.0 ? True : False",
        "no_status": "record.status == None",
        "has_email": "has(record.email) && 'email' in record",
        "maybe": "record.?nope.orValue('none')",
        "cents": "int(total * 100.0)",
        "skus": "lines.map(l, l.sku)",
        "units": "lines.map(l, l.q).exists(q, q > 2)",
        "year": "timestamp(created_at).getFullYear()",
        "day": "datetime.datetime.fromisoformat(created_at).date()",
        "as_text": "str(True) + str(None) + str(1.0) + str(2)",
        "parsed": "json.loads('{\"b\": 1, \"a\": [true]}')",
        "size": "size(record)",
        "keys_ok": "record.all(k, k != '')",
        "whole": "json.dumps(record['lines'][0])"
    }}}));
    let want = json!({
        "lower": "ann@example.com", "lower_ascii": "ann@example.com", "is_active": true,
        "no_status": false, "has_email": true, "maybe": "none", "cents": 10000,
        "skus": ["a", "b"], "units": true, "year": 2024, "day": "2024-03-04",
        "as_text": "TrueNone1.02", "parsed": {"a": [true], "b": 1}, "size": 6, "keys_ok": true,
        "whole": "{\"sku\": \"a\", \"q\": 2}"
    });
    for (key, value) in want.as_object().unwrap() {
        assert_eq!(&mapped[key], value, "{key}");
    }
}

#[test]
fn inferred_types_cover_the_cel_spellings_too() {
    let maps = compile(json!({"stream_maps": {"customers": {
        "a": "double(id)", "b": "string(id)", "c": "timestamp(created_at)"}}}))
    .unwrap();
    let props = &maps.stream("customers").unwrap().outputs()[0].schema()["properties"];
    assert_eq!(props["a"], json!({"type": ["number", "null"]}));
    assert_eq!(props["b"], json!({"type": ["string", "null"]}));
    assert_eq!(
        props["c"],
        json!({"type": ["string", "null"], "format": "date-time"})
    );
}

#[test]
fn apply_fills_one_slot_per_output_and_the_last_takes_the_record() {
    let maps = compile(json!({"stream_maps": {
        "customers": {"email": null},
        "vip": {"__source__": "customers", "__filter__": "total > 500.0"},
        "copy": {"__source__": "customers"}}}))
    .unwrap();
    let mapper = maps.stream("customers").unwrap();
    let names: Vec<&str> = mapper.outputs().iter().map(|o| o.name()).collect();
    assert_eq!(names, ["customers", "vip", "copy"]);
    let mut out = vec![None; 9];
    mapper.apply(record(), &mut out).unwrap();
    assert_eq!(out.len(), 3);
    assert!(!out[0].as_ref().unwrap().contains_key("email"));
    assert!(out[1].is_none(), "filtered");
    assert_eq!(out[2].as_ref().unwrap(), &record());
}

#[test]
fn identity_removal_and_children() {
    let maps = compile(json!({})).unwrap();
    assert!(maps.is_inactive());
    assert!(maps.stream("customers").unwrap().is_identity());

    let maps = compile(
        json!({"stream_maps": {"orders": null, "customers": {"__filter__": "status == 'gone'"}}}),
    )
    .unwrap();
    assert!(!maps.is_inactive());
    let orders = maps.stream("orders").unwrap();
    assert!(orders.outputs().is_empty());
    assert!(
        !orders.syncs_children_of(&Map::new()).unwrap(),
        "a removed stream's children are not synced"
    );
    let customers = maps.stream("customers").unwrap();
    assert!(!customers.is_identity());
    assert!(
        !customers.syncs_children_of(&record()).unwrap(),
        "the primary filter drops it"
    );

    let flattened =
        compile(json!({"flattening_enabled": true, "flattening_max_depth": 1})).unwrap();
    assert!(!flattened.stream("orders").unwrap().is_identity());
}

#[test]
fn unmatched_keys_are_reported() {
    let maps = compile(json!({"stream_maps": {"custmers": {"a": "'x'"}, "ord*": {}}})).unwrap();
    assert_eq!(maps.unmatched_keys(), ["custmers"]);
}

#[test]
fn schema_message_carries_the_output() {
    let maps = compile(json!({"stream_maps": {"customers": {"__alias__": "clients"}}})).unwrap();
    let message = maps.stream("customers").unwrap().outputs()[0]
        .schema_message(Some(vec!["created_at".into()]));
    assert_eq!(message.stream, "clients");
    assert_eq!(message.key_properties, ["id"]);
    assert_eq!(
        message.bookmark_properties.as_deref(),
        Some(&["created_at".to_owned()][..])
    );
}
