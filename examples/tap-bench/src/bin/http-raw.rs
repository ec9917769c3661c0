//! The raw-transfer limit: every page of the benchmark API fetched one after another through the
//! same client a tap uses (reqwest under burler-http, keep-alive), bodies read and dropped, nothing
//! parsed (the next page comes from the `x-next-page` header). Prints `pages bytes seconds`.
//!
//! Usage: `http-raw BASE_URL`.

use burler_http::HttpClient;
use std::time::Instant;

async fn transfer(base: &str) -> Result<(u64, u64), burler_http::HttpError> {
    let client = HttpClient::builder(base)?.without_metrics().build()?;
    let (mut pages, mut bytes) = (0u64, 0u64);
    let mut next = Some("1".to_owned());
    while let Some(page) = next.take() {
        let response = client
            .get("events")
            .query(&[("page", &page)])
            .send()
            .await?;
        pages += 1;
        bytes += response.body().len() as u64;
        next = response.header("x-next-page").map(str::to_owned);
    }
    Ok((pages, bytes))
}

fn main() -> Result<(), String> {
    let base = std::env::args().nth(1).ok_or("usage: http-raw BASE_URL")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let started = Instant::now();
    let (pages, bytes) = runtime
        .block_on(transfer(&base))
        .map_err(|e| e.to_string())?;
    println!("{pages} {bytes} {:.6}", started.elapsed().as_secs_f64());
    Ok(())
}
