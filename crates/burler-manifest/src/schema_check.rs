//! Structural checks of a burler manifest against the format's JSON Schema, every violation
//! placed at its line and column (unknown keys at the key).

use std::sync::OnceLock;

use jsonschema::Validator;
use jsonschema::error::{ValidationError, ValidationErrorKind};
use serde_json::Value;

use crate::diagnostic::child;
use crate::report::Reporter;

fn validator() -> Option<&'static Validator> {
    static VALIDATOR: OnceLock<Option<Validator>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| jsonschema::validator_for(&crate::format::json_schema()).ok())
        .as_ref()
}

/// Reports every violation of the format's schema in `doc`.
pub(crate) fn check(doc: &Value, reporter: &mut Reporter<'_>) {
    let Some(validator) = validator() else {
        reporter.at(
            "",
            "internal: the manifest format's JSON Schema does not compile",
        );
        return;
    };
    for error in validator.iter_errors(doc) {
        report(&error, reporter);
    }
}

fn report(error: &ValidationError<'_>, reporter: &mut Reporter<'_>) {
    let pointer = error.instance_path().as_str().to_owned();
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            for key in unexpected {
                reporter.at_key(
                    &child(&pointer, key),
                    format!("{}: unknown key `{key}`", shown(&pointer)),
                );
            }
        }
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            one_of(&pointer, context, reporter);
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            reporter.at(
                &pointer,
                format!("{}: missing key `{name}`", shown(&pointer)),
            );
        }
        _ => reporter.at(&pointer, format!("{}: {error}", shown(&pointer))),
    }
}

/// A tagged choice (auth, paginator): an unknown `type` is named with the known ones; otherwise
/// the problems of the branch the `type` picks (the branch with the fewest problems).
fn one_of(pointer: &str, branches: &[Vec<ValidationError<'static>>], reporter: &mut Reporter<'_>) {
    let type_pointer = child(pointer, "type");
    let mut known = Vec::new();
    let mut best: Option<&Vec<ValidationError<'static>>> = None;
    for branch in branches {
        let tag = branch.iter().find_map(|e| match e.kind() {
            ValidationErrorKind::Constant { expected_value }
                if e.instance_path().as_str() == type_pointer =>
            {
                Some(expected_value.clone())
            }
            _ => None,
        });
        match tag {
            Some(tag) => known.extend(tag.as_str().map(str::to_owned)),
            None => {
                if best.is_none_or(|b| branch.len() < b.len()) {
                    best = Some(branch);
                }
            }
        }
    }
    match best {
        Some(branch) => branch.iter().for_each(|e| report(e, reporter)),
        None if !known.is_empty() => reporter.at(
            &type_pointer,
            format!(
                "{}: unknown type, expected one of: {}",
                shown(&type_pointer),
                known.join(", ")
            ),
        ),
        None => reporter.at(
            pointer,
            format!("{}: does not match any allowed form", shown(pointer)),
        ),
    }
}

/// A pointer as the reader sees it: `streams[0].records`, or `manifest` for the root.
pub(crate) fn shown(pointer: &str) -> String {
    if pointer.is_empty() {
        return "manifest".into();
    }
    let mut out = String::new();
    for part in pointer.trim_start_matches('/').split('/') {
        let part = part.replace("~1", "/").replace("~0", "~");
        if part.bytes().all(|b| b.is_ascii_digit()) && !part.is_empty() {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part);
        }
    }
    out
}
