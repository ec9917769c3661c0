//! The benchmark REST API as a process of its own ([`tap_bench::api`]): prints its base URL on the
//! first line of stdout once it listens, then serves until killed.
//!
//! Usage: `bench-api [--records 200000] [--page-size 1000] [--latency-ms 0] [--port 0]`.

use std::time::Duration;
use tap_bench::api::ApiShape;

fn parse_args() -> Result<(ApiShape, u16), String> {
    let mut shape = ApiShape {
        records: 200_000,
        page_size: 1_000,
        latency: Duration::ZERO,
    };
    let mut port = 0;
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let [flag, value] = pair else {
            return Err(format!("{} needs a value", pair[0]));
        };
        let n: u64 = value
            .parse()
            .map_err(|_| format!("{flag}: {value:?} is not a number"))?;
        match flag.as_str() {
            "--records" => shape.records = n,
            "--page-size" => shape.page_size = n.max(1),
            "--latency-ms" => shape.latency = Duration::from_millis(n),
            "--port" => port = u16::try_from(n).map_err(|_| format!("--port {n}: too large"))?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok((shape, port))
}

fn main() -> Result<(), String> {
    let (shape, port) = parse_args()?;
    let base = tap_bench::api::spawn(shape, port).map_err(|e| format!("cannot serve: {e}"))?;
    println!("{base}");
    loop {
        std::thread::park();
    }
}
