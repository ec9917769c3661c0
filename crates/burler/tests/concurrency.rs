//! Concurrent streams: whole lines, per-stream order, and STATE covering only written records.

mod common;

use std::time::Duration;

use burler::prelude::*;
use common::*;
use serde_json::Value;

fn paged(name: &str) -> Stream<Value, Value, ()> {
    Stream::new(name)
        .schema(event_schema())
        .key(["id"])
        .incremental("updated_at")
        .bookmark_strategy(BookmarkStrategy::Records(7))
        .sync(|ctx: SyncContext<Value>| async move {
            for page in events(60, 0).chunks(10) {
                tokio::time::sleep(Duration::from_millis(5)).await;
                ctx.emit_all(page.iter().cloned())?;
            }
            Ok(())
        })
}

#[test]
fn concurrent_streams_write_whole_ordered_lines_and_safe_states() {
    let f = Files::new();
    let names = ["s1", "s2", "s3", "s4"];
    let mut tap = Tap::new("t").max_concurrent_streams(4);
    for n in names {
        tap = tap.stream(paged(n));
    }
    let (out, msgs) = run(tap, &["--config", &f.empty_config()]);
    assert_eq!(out.exit_code, 0);
    for n in names {
        let recs = records(&msgs, n);
        let ids: Vec<u64> = recs.iter().map(|r| r["id"].as_u64().unwrap()).collect();
        assert_eq!(
            ids,
            (1..=60).collect::<Vec<_>>(),
            "stream {n} out of order or incomplete"
        );
        let mut max_written = String::new();
        for m in &msgs {
            if m["type"] == "RECORD" && m["stream"] == n {
                max_written = m["record"]["updated_at"].as_str().unwrap().to_owned();
            }
            if m["type"] == "STATE"
                && let Some(b) = m["value"]["bookmarks"][n]["replication_key_value"].as_str()
            {
                assert!(
                    b <= max_written.as_str(),
                    "STATE for {n} at {b} ahead of written {max_written}"
                );
            }
        }
    }
}
