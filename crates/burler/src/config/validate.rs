//! Config validation by a real JSON Schema validator (the `jsonschema` crate): every keyword of
//! the spec is checked (types, `required`, `minimum`, `pattern`, `enum`, `oneOf`, formats, …) and
//! every problem is reported with its key path. Messages are built here from the kind of each
//! problem, never from the validator's text: that text quotes the value, and config files hold
//! secrets.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

/// Checks `config` against the spec `schema`; one message per problem (empty when valid). A spec
/// that is itself not a valid schema is one problem.
pub(crate) fn check_against_schema(schema: &Value, config: &Value) -> Vec<String> {
    let validator = match jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
    {
        Ok(v) => v,
        Err(e) => {
            return vec![format!(
                "the tap's config spec is not a valid JSON Schema: {e}"
            )];
        }
    };
    let mut problems: Vec<String> = validator
        .iter_errors(config)
        .map(|e| describe(&key_path(e.instance_path().as_str()), e.kind()))
        .collect();
    problems.dedup();
    problems
}

/// `/a/0/b` → `a[0].b`; the root is `config`.
fn key_path(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if segment.parse::<usize>().is_ok() && !out.is_empty() {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    out
}

/// One problem, naming the key and the rule, never the value.
fn describe(path: &str, kind: &ValidationErrorKind) -> String {
    let key = |p: &str| {
        if p.is_empty() {
            "the config".to_owned()
        } else {
            format!("key `{p}`")
        }
    };
    let join = |child: &str| match path {
        "" => child.to_owned(),
        _ => format!("{path}.{child}"),
    };
    let at = key(path);
    match kind {
        ValidationErrorKind::Required { property } => {
            let name = property
                .as_str()
                .map_or_else(|| property.to_string(), str::to_owned);
            format!("missing required key `{}`", join(&name))
        }
        ValidationErrorKind::Type { kind } => format!("{at} must be {}", types(kind)),
        ValidationErrorKind::Enum { options } => format!("{at} must be one of {options}"),
        ValidationErrorKind::Constant { expected_value } => {
            format!("{at} must be {expected_value}")
        }
        ValidationErrorKind::Format { format } => format_rule(&at, format),
        other => format!("{at} {}", bound(other)),
    }
}

/// The rules with a limit, a pattern or sub-schemas.
fn bound(kind: &ValidationErrorKind) -> String {
    use ValidationErrorKind as K;
    match kind {
        K::Minimum { limit } => format!("must be at least {limit}"),
        K::Maximum { limit } => format!("must be at most {limit}"),
        K::ExclusiveMinimum { limit } => format!("must be more than {limit}"),
        K::ExclusiveMaximum { limit } => format!("must be less than {limit}"),
        K::MultipleOf { .. } => "must be a multiple of the spec's `multipleOf`".into(),
        K::MinLength { limit } => format!("must have at least {limit} character(s)"),
        K::MaxLength { limit } => format!("must have at most {limit} character(s)"),
        K::Pattern { pattern } => format!("must match the pattern {pattern}"),
        K::MinItems { limit } => format!("must have at least {limit} item(s)"),
        K::MaxItems { limit } => format!("must have at most {limit} item(s)"),
        K::UniqueItems => "must not repeat an item".into(),
        K::MinProperties { limit } => format!("must have at least {limit} key(s)"),
        K::MaxProperties { limit } => format!("must have at most {limit} key(s)"),
        K::AdditionalProperties { unexpected } => {
            format!("must not have the key(s) {}", unexpected.join(", "))
        }
        K::AnyOf { .. } => "must match one of the spec's `anyOf` choices".into(),
        K::OneOfNotValid { .. } => "must match one of the spec's `oneOf` choices".into(),
        K::OneOfMultipleValid { .. } => {
            "must match exactly one of the spec's `oneOf` choices".into()
        }
        K::Not { .. } => "must not match the spec's `not` schema".into(),
        K::FalseSchema => "is not allowed".into(),
        _ => "does not satisfy the config spec".into(),
    }
}

fn format_rule(at: &str, format: &str) -> String {
    match format {
        "date-time" => format!("{at} must be {}", crate::tap_config::DATE_TIME_EXPECTED),
        "date" => format!("{at} must be a date, e.g. 2024-01-01"),
        other => format!("{at} must be in the `{other}` format"),
    }
}

fn types(kind: &TypeKind) -> String {
    let names: Vec<String> = match kind {
        TypeKind::Single(t) => vec![t.to_string()],
        TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect(),
    };
    let article = |t: &String| {
        let a = if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        format!("{a} {t}")
    };
    names.iter().map(article).collect::<Vec<_>>().join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_problem_is_named_with_its_key_path_and_no_value_is_printed() {
        let schema = json!({
            "type": "object",
            "required": ["api_key", "start_date", "limit"],
            "properties": {
                "api_key": {"type": "string"},
                "start_date": {"type": "string", "format": "date-time"},
                "limit": {"type": "integer", "minimum": 1},
                "requests_per_second": {"type": "integer", "minimum": 0},
                "mode": {"enum": ["a", "b"]},
                "host": {"type": "string", "pattern": "^[a-z.]+$"},
                "nested": {"type": "object", "required": ["x"], "properties": {"x": {"type": "boolean"}}},
                "items": {"type": "array", "items": {"type": "integer"}}
            }
        });
        let config = json!({"api_key": 12345, "start_date": "2024-01-01", "mode": "c",
            "requests_per_second": -3, "host": "EVIL_99", "nested": {}, "items": [1, "two"]});
        let problems = check_against_schema(&schema, &config);
        for want in [
            "missing required key `limit`",
            "key `api_key` must be a string",
            "key `start_date` must be an RFC 3339 date-time with an offset, e.g. 2024-01-01T00:00:00Z",
            "key `mode` must be one of [\"a\",\"b\"]",
            "key `requests_per_second` must be at least 0",
            "key `host` must match the pattern ^[a-z.]+$",
            "missing required key `nested.x`",
            "key `items[1]` must be an integer",
        ] {
            assert!(
                problems.iter().any(|p| p == want),
                "{want} not in {problems:#?}"
            );
        }
        let all = problems.join(" ");
        for value in ["12345", "-3", "EVIL_99", "two"] {
            assert!(!all.contains(value), "{value} printed: {all}");
        }
    }

    #[test]
    fn nullable_and_number_types_accept_matching_values() {
        let schema =
            json!({"properties": {"a": {"type": ["null", "string"]}, "n": {"type": "number"}}});
        assert!(check_against_schema(&schema, &json!({"a": null, "n": 3})).is_empty());
        assert_eq!(
            check_against_schema(&schema, &json!({"n": "3"})),
            vec!["key `n` must be a number"]
        );
    }

    #[test]
    fn one_of_and_nested_paths_are_named() {
        let schema = json!({"properties": {"auth": {"oneOf": [
            {"type": "object", "required": ["token"]},
            {"type": "object", "required": ["user", "password"]}
        ]}}});
        let problems = check_against_schema(&schema, &json!({"auth": {"user": "x"}}));
        assert_eq!(
            problems,
            vec!["key `auth` must match one of the spec's `oneOf` choices"]
        );
    }

    #[test]
    fn sample_keys_become_required() {
        let sample = json!({"token": "x", "records": 10, "flag": true});
        let schema = super::super::schema_from_sample(sample.as_object().unwrap());
        let problems = check_against_schema(&schema, &json!({"records": 2.5, "flag": "yes"}));
        assert_eq!(
            problems,
            vec![
                "missing required key `token`",
                "key `flag` must be a boolean"
            ]
        );
    }
}
