//! Dotted paths into JSON bodies: `data`, `meta.next_cursor`, `items.0.id`.

use serde_json::Value;

/// The value at a dotted path (`$` or `""` is the whole value; numbers index arrays).
pub fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let path = path.trim_start_matches('$').trim_start_matches('.');
    if path.is_empty() {
        return Some(value);
    }
    path.split('.')
        .try_fold(value, |current, segment| match current {
            Value::Object(map) => map.get(segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
}

/// Removes and returns the value at a dotted path (`Value::Null` when absent).
pub fn take(value: &mut Value, path: &str) -> Value {
    let path = path.trim_start_matches('$').trim_start_matches('.');
    if path.is_empty() {
        return value.take();
    }
    let mut current = value;
    for segment in path.split('.') {
        let next = match current {
            Value::Object(map) => map.get_mut(segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        };
        match next {
            Some(next) => current = next,
            None => return Value::Null,
        }
    }
    current.take()
}

/// A scalar at a path as text (strings as is, numbers printed); `None` for absent, null or `""`.
pub fn lookup_text(value: &Value, path: &str) -> Option<String> {
    match lookup(value, path)? {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn looks_up_and_takes_nested_values() {
        let mut body =
            json!({"meta": {"next_cursor": "c2", "n": 3}, "data": [{"id": 1}], "empty": ""});
        assert_eq!(lookup(&body, "meta.next_cursor"), Some(&json!("c2")));
        assert_eq!(lookup(&body, "data.0.id"), Some(&json!(1)));
        assert_eq!(lookup_text(&body, "meta.n").as_deref(), Some("3"));
        assert_eq!(lookup_text(&body, "empty"), None);
        assert_eq!(lookup(&body, "meta.missing"), None);
        assert_eq!(take(&mut body, "data"), json!([{"id": 1}]));
        assert_eq!(take(&mut body, "nope.deeper"), Value::Null);
    }
}
