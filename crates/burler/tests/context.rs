//! The sync context and run-level behaviour: config, client, metadata, currently_syncing, resume.

mod common;

use burler::prelude::*;
use common::*;
use serde_json::{Value, json};

#[burler::config]
struct Config {
    region: String,
    page_size: u32,
}

struct Client {
    base: String,
}

type Ctx<R> = SyncContext<R, Config, Client>;

async fn sync_regions(ctx: Ctx<Value>) -> SyncResult {
    let meta_selected = ctx
        .metadata()
        .root()
        .and_then(|m| m.get("selected"))
        .cloned()
        .unwrap_or(Value::Null);
    ctx.emit(json!({
        "id": 1,
        "url": format!("{}/{}", ctx.client().base, ctx.config().region),
        "page_size": ctx.config().page_size,
        "selected_md": meta_selected,
        "stream": ctx.stream_name(),
    }))?;
    Ok(())
}

fn typed_tap() -> Tap<Config, Client> {
    Tap::new("t")
        .config::<Config>()
        .client(|c: &Config| {
            Ok::<_, std::io::Error>(Client {
                base: format!("https://{}.example", c.region),
            })
        })
        .stream(
            Stream::new("regions")
                .schema(json!({"type": "object"}))
                .sync(sync_regions),
        )
}

#[test]
fn config_files_merge_and_the_client_is_built_from_them() {
    let f = Files::new();
    let a = f.json("a.json", &json!({"region": "eu", "page_size": 10}));
    let b = f.json("b.json", &json!({"page_size": 50}));
    let (out, msgs) = run(typed_tap(), &["--config", &a, "--config", &b]);
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    let rec = records(&msgs, "regions")[0];
    assert_eq!(rec["url"], "https://eu.example/eu");
    assert_eq!(rec["page_size"], 50, "later config file wins");
    assert_eq!(rec["stream"], "regions");
}

#[test]
fn an_invalid_typed_config_names_every_problem() {
    let f = Files::new();
    let cfg = f.json("bad.json", &json!({"page_size": "ten"}));
    let (out, msgs) = run(typed_tap(), &["--config", &cfg]);
    assert_eq!(out.exit_code, 1);
    assert!(msgs.is_empty());
    let err = out.error.unwrap();
    assert!(err.contains("missing required key `region`"), "{err}");
    assert!(err.contains("`page_size` must be an integer"), "{err}");
}

#[test]
fn validation_functions_and_sample_specs_report_problems() {
    let f = Files::new();
    let tap = Tap::new("t")
        .config_sample_json(r#"{"token": "x", "records": 10}"#)
        .validate_config(|c: &Value| {
            if c["records"].as_f64().is_some_and(|n| n < 0.0) {
                Err(vec!["`records` must not be negative".into()])
            } else {
                Ok(())
            }
        })
        .stream(
            Stream::new("a")
                .schema(json!({}))
                .sync(|_ctx: SyncContext<Value>| async { Ok(()) }),
        );
    let cfg = f.json("c.json", &json!({"records": -1, "token": "t"}));
    let (out, _) = run(tap, &["--config", &cfg]);
    assert!(
        out.error
            .unwrap()
            .contains("`records` must not be negative")
    );
}

#[test]
fn currently_syncing_is_set_while_a_stream_runs_and_cleared_after() {
    let f = Files::new();
    let tap = Tap::new("t").stream(Stream::new("a").schema(json!({})).sync(
        |ctx: SyncContext<Value>| async move {
            ctx.emit(json!({"id": 1}))?;
            Ok(())
        },
    ));
    let (_, msgs) = run(tap, &["--config", &f.empty_config()]);
    let states = of_type(&msgs, "STATE");
    assert_eq!(states[0]["value"]["currently_syncing"], "a");
    assert_eq!(
        states.last().unwrap()["value"]["currently_syncing"],
        Value::Null
    );
}

#[test]
fn a_run_resumes_the_currently_syncing_stream_first_and_keeps_other_bookmarks() {
    let f = Files::new();
    let mk = |name: &str| {
        Stream::new(name)
            .schema(json!({}))
            .sync(|ctx: SyncContext<Value>| async move {
                ctx.emit(json!({"id": 1}))?;
                Ok(())
            })
    };
    let tap = Tap::new("t")
        .stream(mk("a"))
        .stream(mk("b"))
        .stream(mk("c"));
    let st = f.json(
        "s.json",
        &json!({"currently_syncing": "c", "bookmarks": {"x": {"cursor": 5}}}),
    );
    let (_, msgs) = run(tap, &["--config", &f.empty_config(), "--state", &st]);
    let order: Vec<&str> = of_type(&msgs, "SCHEMA")
        .iter()
        .map(|m| m["stream"].as_str().unwrap())
        .collect();
    assert_eq!(order, vec!["c", "a", "b"]);
    assert_eq!(
        last_state(&msgs)["bookmarks"]["x"]["cursor"],
        5,
        "unknown bookmarks are kept"
    );
}

#[test]
fn stream_metadata_comes_from_the_catalog() {
    let f = Files::new();
    let cfg = f.json("c.json", &json!({"region": "us", "page_size": 1}));
    let cat = f.json("cat.json", &json!({"streams": [{"tap_stream_id": "regions", "stream": "regions",
        "schema": {"type": "object"}, "metadata": [{"breadcrumb": [], "metadata": {"selected": true, "custom": 1}}]}]}));
    let (out, msgs) = run(typed_tap(), &["--config", &cfg, "--catalog", &cat]);
    assert_eq!(out.exit_code, 0);
    assert_eq!(records(&msgs, "regions")[0]["selected_md"], true);
}

#[test]
fn custom_state_values_and_explicit_bookmarks() {
    let f = Files::new();
    let tap = Tap::new("t").stream(Stream::new("log").schema(json!({})).log_based().sync(
        |ctx: SyncContext<Value>| async move {
            let pos = ctx.state_value("lsn").and_then(|v| v.as_i64()).unwrap_or(0);
            ctx.emit(json!({"id": pos}))?;
            ctx.set_state_value("lsn", pos + 100)?;
            ctx.set_bookmark(pos + 100)?;
            Ok(())
        },
    ));
    let (_, msgs) = run(tap, &["--config", &f.empty_config()]);
    let state = last_state(&msgs);
    assert_eq!(state["bookmarks"]["log"]["lsn"], 100);
    assert_eq!(state["bookmarks"]["log"]["replication_key_value"], 100);
    let st = f.json("s.json", &state);
    let tap2 = Tap::new("t").stream(Stream::new("log").schema(json!({})).log_based().sync(
        |ctx: SyncContext<Value>| async move {
            assert_eq!(ctx.replication_start(), Some(json!(100)));
            Ok(())
        },
    ));
    let (out, _) = run(tap2, &["--config", &f.empty_config(), "--state", &st]);
    assert_eq!(out.exit_code, 0);
}

/// Streams loaded from a module: a function returning boxed streams of any record type.
mod registry {
    use burler::prelude::*;
    use serde_json::json;

    #[derive(serde::Serialize)]
    pub struct Typed {
        pub n: u32,
    }

    pub fn streams() -> Vec<BoxedStream<serde_json::Value, ()>> {
        vec![
            Stream::new("typed")
                .schema(json!({"type": "object", "properties": {"n": {"type": "integer"}}}))
                .sync(|ctx: SyncContext<Typed>| async move {
                    ctx.emit(Typed { n: 1 })?;
                    Ok(())
                })
                .boxed(),
            Stream::new("dynamic")
                .schema(json!({"type": "object"}))
                .sync(|ctx: SyncContext<serde_json::Value>| async move {
                    ctx.emit(json!({"any": "thing"}))?;
                    Ok(())
                })
                .boxed(),
        ]
    }
}

#[test]
fn streams_registered_from_a_module_list_all_run() {
    let f = Files::new();
    let (out, msgs) = run(
        Tap::new("t").streams(registry::streams()),
        &["--config", &f.empty_config()],
    );
    assert_eq!(out.exit_code, 0);
    assert_eq!(records(&msgs, "typed")[0]["n"], 1);
    assert_eq!(records(&msgs, "dynamic")[0]["any"], "thing");
}
