//! Error collection, fail-fast, retry-sync and stream dependencies through the real runner.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use burler::RetryScope;
use burler::prelude::*;
use common::*;
use serde_json::{Value, json};

fn schema() -> Value {
    json!({"type": "object", "properties": {"id": {"type": "integer"}}})
}

fn good(name: &str, n: i64) -> Stream<Value, Value, ()> {
    Stream::new(name)
        .schema(schema())
        .sync(move |ctx: SyncContext<Value>| async move {
            for i in 0..n {
                ctx.emit(json!({"id": i}))?;
            }
            Ok(())
        })
}

fn bad(name: &str, message: &'static str) -> Stream<Value, Value, ()> {
    Stream::new(name)
        .schema(schema())
        .sync(move |ctx: SyncContext<Value>| async move {
            ctx.emit(json!({"id": 1}))?;
            Err(message.into())
        })
}

#[test]
fn two_failing_streams_and_one_good() {
    let f = Files::new();
    let tap = Tap::new("t")
        .stream(bad("first", "HTTP 500 from /first"))
        .stream(good("fine", 25))
        .stream(bad("second", "disk full"));
    let (out, msgs) = run(tap, &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 1);
    assert_eq!(
        records(&msgs, "fine").len(),
        25,
        "the good stream ran to the end"
    );
    let report = out.report.unwrap();
    let failed: Vec<(&str, &str)> = report
        .streams
        .iter()
        .filter_map(|s| Some((s.stream.as_str(), s.error.as_deref()?)))
        .collect();
    assert_eq!(
        failed,
        vec![("first", "HTTP 500 from /first"), ("second", "disk full")]
    );
    assert_eq!(out.error.as_deref(), Some("2 stream(s) failed"));
}

#[test]
fn fail_fast_stops_after_the_first_failure() {
    let f = Files::new();
    let tap = Tap::new("t")
        .fail_fast(true)
        .stream(bad("first", "boom"))
        .stream(good("fine", 3));
    let (out, msgs) = run(tap, &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 1);
    assert!(records(&msgs, "fine").is_empty());
    let report = out.report.unwrap();
    assert_eq!(
        report
            .streams
            .iter()
            .find(|s| s.stream == "fine")
            .unwrap()
            .status,
        "skipped"
    );
}

#[test]
fn retry_sync_restarts_from_the_original_bookmark() {
    let f = Files::new();
    let tries = Arc::new(AtomicU32::new(0));
    let seen_bookmarks = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (t, seen) = (tries.clone(), seen_bookmarks.clone());
    let stream = Stream::new("files")
        .schema(event_schema())
        .incremental("updated_at")
        .retry_sync_on(|e| e.to_string().contains("404"), 3)
        .sync(move |ctx: SyncContext<Value>| {
            let (t, seen) = (t.clone(), seen.clone());
            async move {
                seen.lock().unwrap().push(ctx.replication_start());
                for r in events(4, 0) {
                    ctx.emit(r)?;
                }
                if t.fetch_add(1, Ordering::SeqCst) < 2 {
                    return Err("part file gone: 404".into());
                }
                Ok(())
            }
        });
    let st = f.json(
        "state.json",
        &json!({"bookmarks": {"files": {"replication_key_value": "2024-01-01T00:00:00Z"}}}),
    );
    let (out, msgs) = run(
        Tap::new("t").stream(stream),
        &["--config", &f.empty_config(), "--state", &st],
    );
    assert_eq!(out.exit_code, 0, "{:?}", out.error);
    assert_eq!(tries.load(Ordering::SeqCst), 3);
    let start = Some(json!("2024-01-01T00:00:00Z"));
    assert_eq!(
        *seen_bookmarks.lock().unwrap(),
        vec![start.clone(), start.clone(), start]
    );
    assert_eq!(
        records(&msgs, "files").len(),
        12,
        "each try's records are written (at-least-once)"
    );
}

#[test]
fn retry_sync_gives_up_after_max_tries_and_setup_can_reset_the_bookmark() {
    let f = Files::new();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = seen.clone();
    let stream = Stream::new("files")
        .schema(event_schema())
        .incremental("updated_at")
        .retry_sync_on(|_| true, 2)
        .on_retry(|scope| scope.bookmark = None)
        .sync(move |ctx: SyncContext<Value>| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push(ctx.replication_start());
                Err("still broken".into())
            }
        });
    let st = f.json(
        "state.json",
        &json!({"bookmarks": {"files": {"replication_key_value": "2024-01-01T00:00:00Z"}}}),
    );
    let (out, _) = run(
        Tap::new("t").stream(stream),
        &["--config", &f.empty_config(), "--state", &st],
    );
    assert_eq!(out.exit_code, 1);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![Some(json!("2024-01-01T00:00:00Z")), None]
    );
}

#[test]
fn retry_predicate_false_fails_at_once() {
    let f = Files::new();
    let tries = Arc::new(AtomicU32::new(0));
    let t = tries.clone();
    let stream = Stream::new("a")
        .schema(schema())
        .retry_sync_on(|e| e.to_string().contains("404"), 5)
        .sync(move |_ctx: SyncContext<Value>| {
            let t = t.clone();
            async move {
                t.fetch_add(1, Ordering::SeqCst);
                Err("500".into())
            }
        });
    let (out, _) = run(
        Tap::new("t").stream(stream),
        &["--config", &f.empty_config()],
    );
    assert_eq!((out.exit_code, tries.load(Ordering::SeqCst)), (1, 1));
}

#[test]
fn after_orders_streams_and_bad_dependencies_are_startup_errors() {
    let f = Files::new();
    let tap = Tap::new("t")
        .stream(good("b", 1).after("c"))
        .stream(good("a", 1))
        .stream(good("c", 1));
    let (_, msgs) = run(tap, &["--config", &f.empty_config()]);
    let order: Vec<&str> = of_type(&msgs, "SCHEMA")
        .iter()
        .map(|m| m["stream"].as_str().unwrap())
        .collect();
    assert_eq!(order, vec!["a", "c", "b"]);

    let cyclic = Tap::new("t")
        .stream(good("a", 1).after("b"))
        .stream(good("b", 1).after("a"));
    let (out, msgs) = run(cyclic, &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 1);
    assert!(msgs.is_empty());
    assert!(out.error.unwrap().contains("cycle: a -> b -> a"));

    let unknown = Tap::new("t").stream(good("a", 1).after("zzz"));
    let (out, _) = run(unknown, &["--config", &f.empty_config()]);
    assert!(out.error.unwrap().contains("unknown stream `zzz`"));
}

/// A sink that is always full (`> /dev/full`).
struct Full;

impl std::io::Write for Full {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("no space left"))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn about_version_and_help_fail_when_their_output_cannot_be_written() {
    for flag in ["--about", "--version", "--help"] {
        let out = Tap::new("t").run_with(["t", flag], Box::new(Full));
        assert_eq!(out.exit_code, 1, "{flag}");
        assert!(out.error.unwrap().contains("no space left"), "{flag}");
    }
}

#[test]
fn help_without_a_description_names_the_tap() {
    let buf = burler::CaptureBuffer::new();
    let out = Tap::new("tap-x").run_with(["tap-x", "--help"], Box::new(buf.clone()));
    assert_eq!(out.exit_code, 0);
    assert!(
        buf.text().starts_with("tap-x: a Singer tap\n"),
        "{}",
        buf.text()
    );
}

fn retrying(setup_first: bool, calls: Arc<AtomicUsize>) -> Stream<Value, Value, ()> {
    let s = Stream::new("flaky")
        .schema(schema())
        .key(["id"])
        .incremental("id");
    let predicate = |_: &BoxError| true;
    let setup = |scope: &mut RetryScope| scope.bookmark = Some(json!(0));
    let s = if setup_first {
        s.on_retry(setup).retry_sync_on(predicate, 2)
    } else {
        s.retry_sync_on(predicate, 2).on_retry(setup)
    };
    s.sync(move |ctx: SyncContext<Value>| {
        let calls = calls.clone();
        async move {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            if n == 0 {
                return Err("first try fails".into());
            }
            assert_eq!(
                ctx.replication_start(),
                Some(json!(0)),
                "the hook's bookmark"
            );
            Ok(())
        }
    })
}

#[test]
fn retry_settings_work_in_either_order() {
    for setup_first in [true, false] {
        let f = Files::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let tap = Tap::new("t").stream(retrying(setup_first, calls.clone()));
        let (out, _) = run(tap, &["--config", &f.empty_config()]);
        assert_eq!(out.exit_code, 0, "{:?}", out.error);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}

#[test]
fn declarations_that_do_not_fit_together_fail_loudly_at_startup() {
    let f = Files::new();
    let full_table_with_bookmark = Stream::new("a")
        .schema(schema())
        .bookmark(|r: &Value| r["id"].clone())
        .sync(|_: SyncContext<Value>| async { Ok(()) });
    let retry_hook_alone = Stream::new("b")
        .schema(schema())
        .on_retry(|_| {})
        .sync(|_: SyncContext<Value>| async { Ok(()) });
    let tap = Tap::new("t")
        .stream(full_table_with_bookmark)
        .stream(retry_hook_alone);
    let (out, msgs) = run(tap, &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 1);
    let e = out.error.unwrap();
    assert!(e.contains(".bookmark(f) needs .incremental(key)"), "{e}");
    assert!(e.contains(".on_retry(f) needs .retry_sync_on"), "{e}");
    assert!(msgs.is_empty());

    #[burler::config]
    struct Config {
        #[allow(dead_code)]
        n: u32,
    }
    let checks_first = Tap::new("t")
        .validate_config(|_: &Value| Ok(()))
        .config::<Config>()
        .stream(
            Stream::new("s")
                .schema(schema())
                .sync(|_: SyncContext<Value, Config>| async { Ok(()) }),
        );
    let (out, _) = run(checks_first, &["--config", &f.config(json!({"n": 1}))]);
    assert_eq!(out.exit_code, 1);
    assert!(
        out.error
            .unwrap()
            .contains(".validate_config must come after .config()")
    );
}
