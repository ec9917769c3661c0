//! A tap with three streams, two of which fail when the config asks them to: used by the runner's
//! binary tests (CRITICAL lines, exit code, metric lines, the run report).
//!
//! `cargo run -p burler --example three_streams -- --config c.json` with `{"fail": ["a", "c"]}`.

use burler::prelude::*;
use serde_json::{Value, json};

fn stream(name: &'static str) -> Stream<Value, Value, ()> {
    Stream::new(name)
        .schema(json!({"type": "object", "properties": {"id": {"type": "integer"}}}))
        .key(["id"])
        .sync(move |ctx: SyncContext<Value>| async move {
            for id in 0..10 {
                ctx.emit(json!({"id": id}))?;
            }
            let fail = ctx.config()["fail"].as_array().cloned().unwrap_or_default();
            if fail.iter().any(|f| f == name) {
                return Err(format!("source for {name} returned HTTP 503").into());
            }
            Ok(())
        })
}

fn main() -> std::process::ExitCode {
    Tap::new("tap-three")
        .version("1.2.3")
        .stream(stream("a"))
        .stream(stream("b"))
        .stream(stream("c"))
        .run()
}
