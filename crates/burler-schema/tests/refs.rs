//! `$ref` resolution of every variety, on files in `tests/fixtures/refs/<variety>/`: each
//! `schema.json` resolves to its `expected.json`.

use std::path::PathBuf;

use burler_schema::{Resolver, load_file, resolve};
use serde_json::Value;

fn dir(variety: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/refs")
        .join(variety)
}

fn expected(variety: &str) -> Value {
    let text = std::fs::read_to_string(dir(variety).join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn assert_resolves(variety: &str) {
    let resolved = load_file(&dir(variety).join("schema.json")).unwrap();
    assert_eq!(resolved, expected(variety), "{variety}");
    let text = resolved.to_string();
    for leftover in ["$ref", "\"definitions\"", "$defs", "$id", "$anchor"] {
        assert!(
            !text.contains(leftover),
            "{variety}: {leftover} left in {text}"
        );
    }
}

#[test]
fn local_definitions() {
    assert_resolves("local_definitions");
}

#[test]
fn local_dollar_defs() {
    assert_resolves("local_defs");
}

#[test]
fn json_pointers_with_escapes() {
    assert_resolves("pointer_escapes");
}

#[test]
fn whole_other_file() {
    assert_resolves("file_whole");
}

#[test]
fn pointer_into_other_file() {
    assert_resolves("file_fragment");
}

#[test]
fn refs_inside_referenced_files_are_relative_to_that_file() {
    assert_resolves("transitive");
}

#[test]
fn id_based_refs() {
    assert_resolves("id_ref");
}

#[test]
fn plain_name_anchors() {
    assert_resolves("anchors");
}

#[test]
fn shared_sub_schemas_in_several_places() {
    assert_resolves("shared");
}

#[test]
fn in_memory_schema_with_a_base_dir() {
    let schema: Value = serde_json::from_str(
        r#"{"type": "object", "properties": {"amount": {"$ref": "common.json#/definitions/money"}}}"#,
    )
    .unwrap();
    let resolved = resolve(&schema, Some(&dir("file_fragment"))).unwrap();
    assert_eq!(
        resolved["properties"]["amount"],
        expected("file_fragment")["properties"]["amount"]
    );
}

#[test]
fn a_cycle_is_an_error_naming_the_ref_the_path_and_the_file() {
    let path = dir("cycle").join("schema.json");
    let e = load_file(&path).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "recursive $ref \"#/definitions/category\" at #/properties/category/properties/parent in {}: \
             a Singer schema must be finite (allow a bounded expansion with Resolver::max_recursion)",
            path.display()
        )
    );
    assert_eq!(e.lines().count(), 1);
}

#[test]
fn a_cycle_across_files_is_an_error() {
    let e = load_file(&dir("cycle_across_files").join("a.json"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("recursive $ref \"a.json\" at #/properties/b/properties/a in "),
        "{e}"
    );
    assert!(e.contains("b.json"), "{e}");
}

#[test]
fn a_bounded_expansion_when_the_author_allows_it() {
    let resolved = Resolver::new()
        .max_recursion(2)
        .load_file(&dir("bounded").join("schema.json"))
        .unwrap();
    assert_eq!(resolved, expected("bounded"));
}

#[test]
fn a_missing_target_names_the_ref_and_the_file() {
    let path = dir("missing_target").join("schema.json");
    let e = load_file(&path).unwrap_err().to_string();
    let other = dir("missing_target").join("other.json");
    assert_eq!(
        e,
        format!(
            "unresolvable $ref \"other.json#/definitions/nowhere\" at #/properties/bad in {}: {} has nothing at #/definitions/nowhere",
            path.display(),
            other.display()
        )
    );
}

#[test]
fn a_missing_file_names_the_ref_and_the_file() {
    let path = dir("missing_file").join("schema.json");
    let e = load_file(&path).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "unresolvable $ref \"customers/missing.json\" at #/properties/customer in {}: cannot read ",
            path.display()
        )),
        "{e}"
    );
    assert!(e.contains("customers/missing.json"), "{e}");
    let e = load_file(&dir("missing_file").join("nope.json"))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("schema ") && e.contains("nope.json"), "{e}");
}
