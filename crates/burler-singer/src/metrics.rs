//! Singer metric lines, byte-for-byte as singer-python logs them:
//! `INFO METRIC: {"type": "counter", "metric": "record_count", "value": 10, "tags": {"endpoint": "users"}}`.

use serde_json::{Map, Number, Value};

/// Counter or timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// A count.
    Counter,
    /// A duration in seconds.
    Timer,
}

impl MetricKind {
    fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Timer => "timer",
        }
    }
}

/// One metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// Counter or timer.
    pub kind: MetricKind,
    /// `record_count`, `http_request_duration`, `job_duration`, …
    pub metric: String,
    /// The value.
    pub value: Number,
    /// Tags such as `endpoint`, `http_status_code`, `status`.
    pub tags: Map<String, Value>,
}

impl Metric {
    /// A counter.
    pub fn counter(name: &str, value: u64, tags: Map<String, Value>) -> Self {
        Metric {
            kind: MetricKind::Counter,
            metric: name.to_owned(),
            value: Number::from(value),
            tags,
        }
    }

    /// A timer, in seconds.
    pub fn timer(name: &str, seconds: f64, tags: Map<String, Value>) -> Self {
        Metric {
            kind: MetricKind::Timer,
            metric: name.to_owned(),
            value: Number::from_f64(seconds).unwrap_or_else(|| Number::from(0)),
            tags,
        }
    }

    /// The JSON as Python's `json.dumps` writes it (`", "` and `": "` separators).
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(128);
        out.push_str("{\"type\": \"");
        out.push_str(self.kind.as_str());
        out.push_str("\", \"metric\": ");
        push_python(&mut out, &Value::String(self.metric.clone()));
        out.push_str(", \"value\": ");
        push_python(&mut out, &Value::Number(self.value.clone()));
        out.push_str(", \"tags\": ");
        push_python(&mut out, &Value::Object(self.tags.clone()));
        out.push('}');
        out
    }

    /// Logs the metric at INFO (`METRIC: {...}`), target `burler::metric`.
    pub fn emit(&self) {
        tracing::info!(target: "burler::metric", "METRIC: {}", self.to_json());
    }
}

/// Writes a value the way Python's `json.dumps` does with default separators.
fn push_python(out: &mut String, v: &Value) {
    match v {
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_python(out, &Value::String(k.clone()));
                out.push_str(": ");
                push_python(out, v);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_python(out, v);
            }
            out.push(']');
        }
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or_default();
            // Python prints floats with the shortest repr, always with a '.' or exponent.
            let s = format!("{f:?}");
            out.push_str(&s);
        }
        Value::String(s) => {
            // Python escapes non-ASCII by default (ensure_ascii=True).
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                        let mut buf = [0u16; 2];
                        for unit in c.encode_utf16(&mut buf) {
                            out.push_str(&format!("\\u{unit:04x}"));
                        }
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Recognises a metric log line (`INFO METRIC: {...}`, with or without the level) and parses it.
pub fn parse_metric_line(line: &str) -> Option<Metric> {
    let json = line.split_once("METRIC: ")?.1;
    let v: Value = serde_json::from_str(json.trim()).ok()?;
    let kind = match v.get("type")?.as_str()? {
        "counter" => MetricKind::Counter,
        "timer" => MetricKind::Timer,
        _ => return None,
    };
    Some(Metric {
        kind,
        metric: v.get("metric")?.as_str()?.to_owned(),
        value: v.get("value")?.as_number()?.clone(),
        tags: v
            .get("tags")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tags(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn lines_match_python_json_dumps() {
        // Expected strings are what `python3 -c 'import json; print(json.dumps({...}))'` prints.
        let c = Metric::counter("record_count", 1000, tags(json!({"endpoint": "users"})));
        assert_eq!(
            c.to_json(),
            r#"{"type": "counter", "metric": "record_count", "value": 1000, "tags": {"endpoint": "users"}}"#
        );
        let t = Metric::timer(
            "http_request_duration",
            0.231,
            tags(json!({"endpoint": "users", "http_status_code": 200, "status": "succeeded"})),
        );
        assert_eq!(
            t.to_json(),
            r#"{"type": "timer", "metric": "http_request_duration", "value": 0.231, "tags": {"endpoint": "users", "http_status_code": 200, "status": "succeeded"}}"#
        );
        let whole = Metric::timer(
            "job_duration",
            12.0,
            tags(json!({"a": ["x", null, true], "é": "ü"})),
        );
        assert_eq!(
            whole.to_json(),
            r#"{"type": "timer", "metric": "job_duration", "value": 12.0, "tags": {"a": ["x", null, true], "\u00e9": "\u00fc"}}"#
        );
    }

    #[test]
    fn metric_lines_parse_back() {
        let c = Metric::counter("record_count", 5, tags(json!({"endpoint": "e"})));
        let line = format!("INFO METRIC: {}", c.to_json());
        assert_eq!(parse_metric_line(&line), Some(c));
        assert_eq!(parse_metric_line("INFO hello"), None);
    }
}
