//! Property tests: any record and state survive a write/parse round trip (owned and raw), and the record hot path
//! writes exactly what the message writer writes.

use burler_singer::{Message, RawMessage, RecordEncoder, RecordMessage, StateMessage};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1.0e12f64..1.0e12).prop_map(Value::from),
        "[ -~é\u{1F600}\"\\\\\n]{0,12}".prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Value> {
    prop::collection::btree_map("[a-z_\"]{1,8}", json_value(), 0..6)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn records_round_trip(record in json_object(), stream in "[a-z_\"é]{1,10}", version in proptest::option::of(any::<i64>())) {
        let m = Message::Record(RecordMessage { stream: stream.clone(), record: record.clone(), version, time_extracted: None });
        prop_assert_eq!(Message::parse(&m.to_line()).unwrap(), m.clone());
        prop_assert_eq!(RawMessage::parse(&m.to_line()).unwrap().into_message().unwrap(), m.clone());
        let mut fast = Vec::new();
        RecordEncoder::new(&stream).encode(&mut fast, &record, version, None).unwrap();
        prop_assert_eq!(String::from_utf8(fast).unwrap(), format!("{}\n", m.to_line()));
    }

    #[test]
    fn states_round_trip(value in json_object()) {
        let m = Message::State(StateMessage { value });
        prop_assert_eq!(Message::parse(&m.to_line()).unwrap(), m);
    }
}
