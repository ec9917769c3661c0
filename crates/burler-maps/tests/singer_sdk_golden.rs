//! Every case of `tests/data/cases.json` compiled by burler and compared with what singer-sdk's
//! own mapper made of it (`tests/data/expected.json`, see `tests/data/README.md`): output stream
//! names, SCHEMA (key order included), key properties and every record, byte for byte.

use burler_maps::{SourceStream, StreamMaps};
use serde_json::{Map, Value};

fn load(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

struct Stream {
    name: String,
    schema: Value,
    keys: Vec<String>,
}

fn streams(case: &Value) -> Vec<Stream> {
    case["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .map(|s| Stream {
            name: s["name"].as_str().expect("name").to_owned(),
            schema: s["schema"].clone(),
            keys: serde_json::from_value(s["key_properties"].clone()).expect("keys"),
        })
        .collect()
}

fn compile(case: &Value, streams: &[Stream]) -> Result<StreamMaps, burler_maps::MapsError> {
    let config = case.get("burler_config").unwrap_or(&case["config"]);
    StreamMaps::compile(
        config.as_object().expect("config is an object"),
        streams.iter().map(|s| SourceStream {
            name: &s.name,
            schema: &s.schema,
            key_properties: &s.keys,
        }),
    )
}

/// The mapped records of one input stream, one list per output.
fn mapped(maps: &StreamMaps, stream: &str, records: &[Value]) -> Vec<Vec<Value>> {
    let mapper = maps
        .stream(stream)
        .expect("every catalog stream has a mapper");
    let mut per_output = vec![Vec::new(); mapper.outputs().len()];
    let mut out = Vec::new();
    for record in records {
        mapper
            .apply(record.as_object().expect("record").clone(), &mut out)
            .expect("record maps");
        for (i, r) in out.drain(..).enumerate() {
            per_output[i].push(r.map_or(Value::Null, Value::Object));
        }
    }
    per_output
}

fn check_case(name: &str, case: &Value, expected: &Value) {
    let streams = streams(case);
    let compiled = compile(case, &streams);
    if let Some(error) = expected.get("error") {
        let err = compiled
            .err()
            .unwrap_or_else(|| panic!("{name}: singer-sdk fails ({error}), burler compiles"));
        assert!(!err.to_string().contains('\n'), "{name}: one line: {err}");
        return;
    }
    let maps = compiled.unwrap_or_else(|e| panic!("{name}: {e}"));
    let empty = Vec::new();
    for stream in &streams {
        let want = expected["outputs"][&stream.name]
            .as_array()
            .expect("outputs");
        let mapper = maps.stream(&stream.name).expect("mapper");
        let names: Vec<&str> = mapper.outputs().iter().map(|o| o.name()).collect();
        let want_names: Vec<&str> = want
            .iter()
            .map(|o| o["stream"].as_str().expect("stream"))
            .collect();
        assert_eq!(names, want_names, "{name}: outputs of {}", stream.name);
        let records = case["records"]
            .get(&stream.name)
            .and_then(Value::as_array)
            .unwrap_or(&empty);
        let got_records = mapped(&maps, &stream.name, records);
        for ((output, want), got_records) in mapper.outputs().iter().zip(want).zip(got_records) {
            let at = format!("{name}: {}", output.name());
            assert_eq!(
                output.schema().to_string(),
                want["schema"].to_string(),
                "{at}: schema"
            );
            let want_keys: Vec<String> =
                serde_json::from_value(want["key_properties"].clone()).unwrap_or_default();
            assert_eq!(
                output.key_properties(),
                want_keys.as_slice(),
                "{at}: key properties"
            );
            let want_records = want["records"].as_array().expect("records");
            assert_eq!(got_records.len(), want_records.len(), "{at}: record count");
            for (i, (got, want)) in got_records.iter().zip(want_records).enumerate() {
                assert_eq!(got.to_string(), want.to_string(), "{at}: record {i}");
            }
        }
    }
}

#[test]
fn every_case_matches_singer_sdk() {
    let cases = load("cases.json");
    let expected = load("expected.json");
    let mut checked = 0;
    for case in cases.as_array().expect("a list of cases") {
        let name = case["name"].as_str().expect("case name");
        let want = &expected["cases"][name];
        assert!(
            !want.is_null(),
            "{name}: not in expected.json (regenerate it)"
        );
        check_case(name, case, want);
        checked += 1;
    }
    assert_eq!(checked, expected["cases"].as_object().map_or(0, Map::len));
}
