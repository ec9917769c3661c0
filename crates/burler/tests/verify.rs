//! `--verify`: the discovered catalog is checked for unpublishable metadata, and the catalog
//! options load alone and together.

mod common;

use burler::CaptureBuffer;
use burler::prelude::*;
use common::*;
use serde_json::{Value, json};

fn users() -> Stream<Value, Value, ()> {
    Stream::new("users")
        .schema(json!({"type": "object", "properties": {
            "id": {"type": "integer"}, "updated_at": {"type": "string", "format": "date-time"}}}))
        .key(["id"])
        .incremental("updated_at")
        .sync(|_ctx: SyncContext<Value>| async move { Ok(()) })
}

fn text(args: &[&str], tap: Tap<Value, ()>) -> (u8, String) {
    let buf = CaptureBuffer::new();
    let mut full = vec!["tap-test"];
    full.extend_from_slice(args);
    let outcome = tap.run_with(full, Box::new(buf.clone()));
    (outcome.exit_code, buf.text())
}

#[test]
fn a_clean_tap_verifies_with_exit_zero() {
    let f = Files::new();
    let (code, out) = text(
        &["--config", &f.empty_config(), "--verify"],
        Tap::new("t").stream(users()),
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "verify: 1 stream(s), 0 error(s), 0 warning(s)\n");
}

#[test]
fn a_key_missing_from_the_schema_fails_verify() {
    let f = Files::new();
    let broken = Stream::new("orders")
        .schema(json!({"type": "object", "properties": {"id": {"type": "integer"}}}))
        .key(["order_id"])
        .sync(|_ctx: SyncContext<Value>| async move { Ok(()) });
    let (code, out) = text(
        &["--config", &f.empty_config(), "--verify"],
        Tap::new("t").stream(users()).stream(broken),
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("error: stream orders") && l.contains("order_id")),
        "{out}"
    );
    assert!(
        out.ends_with("verify: 2 stream(s), 1 error(s), 0 warning(s)\n"),
        "{out}"
    );
}

#[test]
fn catalog_and_properties_together_load_without_a_crash() {
    let f = Files::new();
    let catalog = f.json(
        "catalog.json",
        &json!({"streams": [{"tap_stream_id": "users", "stream": "users",
            "schema": {"type": "object", "properties": {"id": {"type": "integer"}}},
            "metadata": [{"breadcrumb": [], "metadata": {"selected": true}}]}]}),
    );
    let args = [
        "--config",
        &f.empty_config(),
        "--verify",
        "--catalog",
        &catalog,
        "--properties",
        &catalog,
    ];
    let (code, out) = text(&args, Tap::new("t").stream(users()));
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_catalog_naming_an_unknown_stream_is_reported_not_a_crash() {
    let f = Files::new();
    let catalog = f.json(
        "catalog.json",
        &json!({"streams": [{"tap_stream_id": "nope", "stream": "nope",
            "schema": {"type": "object", "properties": {}}, "metadata": []}]}),
    );
    let args = [
        "--config",
        &f.empty_config(),
        "--verify",
        "--properties",
        &catalog,
    ];
    let (code, out) = text(&args, Tap::new("t").stream(users()));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("error: --properties") && l.contains("nope")),
        "{out}"
    );
}
