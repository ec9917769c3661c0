//! The "limit" program: the same records serialized as Singer RECORD lines with serde_json to a
//! buffered stdout, and nothing else. Usage: `limit N`.

use std::io::{BufWriter, Write};

use serde::Serialize;
use tap_bench::Event;

#[derive(Serialize)]
struct Record<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    stream: &'static str,
    record: &'a Event,
}

fn main() -> std::io::Result<()> {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut out = BufWriter::with_capacity(256 * 1024, std::io::stdout().lock());
    for id in 1..=n {
        let event = Event::new(id);
        serde_json::to_writer(
            &mut out,
            &Record {
                kind: "RECORD",
                stream: "events",
                record: &event,
            },
        )?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
