//! Golden tests: catalogs, states and messages as singer-python and singer-sdk write them parse and
//! re-serialize without loss.

use std::path::{Path, PathBuf};

use burler_singer::{Breadcrumb, Catalog, Message, MessageReader, State, read_messages};
use serde_json::{Value, json};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn json_of(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
}

#[test]
fn a_singer_python_catalog_round_trips_losslessly() {
    let original = json_of("singer_python_catalog.json");
    let catalog = Catalog::from_path(&fixture("singer_python_catalog.json")).unwrap();
    let written = serde_json::to_value(&catalog).unwrap();
    // `key_properties: []` is the only thing written differently (omitted when empty).
    let mut expected = original.clone();
    expected["streams"][1]
        .as_object_mut()
        .unwrap()
        .remove("key_properties");
    assert_eq!(written, expected);
    let users = catalog.get("public-users").unwrap();
    assert_eq!(users.extra["table_name"], "users");
    assert!(users.is_selected());
    assert_eq!(users.replication_key().as_deref(), Some("updated_at"));
    let sel = users.field_selection();
    assert!(!sel.is_selected(&["email"]));
    assert!(sel.is_selected(&["profile", "bio"]));
    assert!(!catalog.get("public-audit").unwrap().is_selected());
    let md_order: Vec<Vec<String>> = users.metadata.iter().map(|(b, _)| b.0.clone()).collect();
    assert_eq!(
        md_order[2],
        Breadcrumb::property("email").0,
        "metadata order kept"
    );
}

#[test]
fn legacy_properties_selections_are_honoured() {
    let catalog = Catalog::from_path(&fixture("legacy_properties.json")).unwrap();
    let contacts = catalog.get("contacts").unwrap();
    assert!(contacts.is_selected(), "stream-level selected");
    assert_eq!(
        contacts.replication_key().as_deref(),
        Some("lastmodifieddate")
    );
    let sel = contacts.field_selection();
    assert!(!sel.is_selected(&["phone"]), "schema-level selected: false");
    assert!(sel.is_selected(&["email"]));
    assert!(
        catalog.get("deals").unwrap().is_selected(),
        "selected inside the schema root"
    );
    assert!(!catalog.get("owners").unwrap().is_selected());
    let written = serde_json::to_value(&catalog).unwrap();
    assert_eq!(written["streams"][0]["selected"], true);
    assert_eq!(
        written["streams"][0]["schema"]["properties"]["phone"]["selected"],
        false
    );
}

#[test]
fn states_of_both_sdks_round_trip() {
    for name in ["singer_python_state.json", "singer_sdk_state.json"] {
        let original = json_of(name);
        let state = State::from_path(&fixture(name)).unwrap();
        let mut written = state.to_value();
        // `currently_syncing` is always written (null when nobody syncs).
        if original.get("currently_syncing").is_none() {
            assert_eq!(
                written.as_object_mut().unwrap().remove("currently_syncing"),
                Some(Value::Null)
            );
        }
        assert_eq!(written, original, "{name}");
    }
    let sdk = State::from_path(&fixture("singer_sdk_state.json")).unwrap();
    assert_eq!(
        sdk.partition_value("issues", &json!({"org": "meltano", "repo": "sdk"})),
        Some(&json!("2024-03-01T10:20:30+00:00"))
    );
    let py = State::from_path(&fixture("singer_python_state.json")).unwrap();
    assert_eq!(py.version("deals"), Some(1_709_287_230_000));
    assert_eq!(
        py.get_bookmark_value("contacts", "offset"),
        Some(&json!({"vidOffset": 2400}))
    );
}

#[test]
fn messages_of_both_sdks_parse_and_rewrite_equal() {
    for name in ["singer_python_messages.jsonl", "singer_sdk_messages.jsonl"] {
        let text = std::fs::read_to_string(fixture(name)).unwrap();
        let messages = read_messages(&fixture(name)).unwrap();
        assert_eq!(messages.len(), text.lines().count());
        for (line, message) in text.lines().zip(&messages) {
            let original: Value = serde_json::from_str(line).unwrap();
            let rewritten: Value = serde_json::from_str(&message.to_line()).unwrap();
            let same_time = |v: &Value| {
                v.get("time_extracted")
                    .and_then(Value::as_str)
                    .map(|t| chrono::DateTime::parse_from_rfc3339(t).unwrap())
            };
            assert_eq!(
                same_time(&original),
                same_time(&rewritten),
                "{name}: {line}"
            );
            let strip = |mut v: Value| {
                v.as_object_mut().unwrap().remove("time_extracted");
                v
            };
            assert_eq!(strip(rewritten), strip(original), "{name}: {line}");
            assert_eq!(&Message::parse(&message.to_line()).unwrap(), message);
        }
    }
}

#[test]
fn the_reader_streams_a_fixture_with_line_numbers() {
    let file = std::fs::File::open(fixture("singer_python_messages.jsonl")).unwrap();
    let mut reader = MessageReader::new(std::io::BufReader::new(file));
    assert!(matches!(reader.next(), Some(Ok(Message::Schema(_)))));
    assert_eq!(reader.line(), 1);
    assert_eq!(reader.count(), 5);
}
