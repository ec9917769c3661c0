//! Loopback servers, fast retry policies and log capture shared by the tests.

use axum::Router;
use burler_http::{HttpClient, HttpClientBuilder, RetryMiddleware, RetryPolicy};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves `router` on 127.0.0.1:0 and returns its base URL.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

pub fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// Retries with millisecond backoffs so fault tests stay fast.
pub fn fast_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(attempts)
        .exponential(ms(2), ms(20))
}

pub fn builder(base: &str) -> HttpClientBuilder {
    HttpClient::builder(base)
        .unwrap()
        .user_agent("tap-test/0.0.1")
}

/// A client with fast retries (4 attempts).
pub fn client(base: &str) -> HttpClient {
    builder(base)
        .with(RetryMiddleware::new(fast_retry(4)))
        .build()
        .unwrap()
}

/// A shared request counter for handlers.
#[derive(Clone, Default)]
pub struct Counter(Arc<AtomicUsize>);

impl Counter {
    /// Increments and returns the new count (1 for the first call).
    pub fn hit(&self) -> usize {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }

    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// A raw TCP server answering connection N with `responses[N]` (the last one repeats),
/// then closing. For faults axum will not produce (truncated bodies, resets).
pub async fn raw_server(responses: Vec<&'static str>) -> (String, Counter) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let counter = Counter::default();
    let connections = counter.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let n = connections.hit();
            let response = responses[(n - 1).min(responses.len() - 1)];
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut read = Vec::new();
                while !read.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => read.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (format!("http://{addr}"), counter)
}

/// Everything logged by any test (one global subscriber: per-thread subscribers miss
/// events when tests run in parallel). Tests filter the lines by their own server's port or
/// endpoint names, and read only what was logged after their `capture_logs()` (a port is reused
/// by a later test once an earlier test's server is gone).
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>, usize);

impl Logs {
    /// The lines logged since this capture began that contain `marker`.
    pub fn lines_with(&self, marker: &str) -> Vec<String> {
        let since = self.0.lock().unwrap()[self.1..].to_vec();
        let text = String::from_utf8(since).unwrap();
        text.lines()
            .filter(|line| line.contains(marker))
            .map(str::to_owned)
            .collect()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn capture_logs() -> Logs {
    static LOGS: std::sync::OnceLock<Logs> = std::sync::OnceLock::new();
    let logs = LOGS.get_or_init(|| {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    });
    // Lines are whole when written (the formatter writes one event at a time), so the current
    // length is a line boundary.
    let start = logs.0.lock().unwrap().len();
    Logs(logs.0.clone(), start)
}

/// A fault a [`PageServer`] injects into one answer.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// This status, with this `Retry-After` value if any.
    Status(u16, Option<&'static str>),
    /// The connection is reset (RST) after the request is read, without an answer.
    Reset,
    /// The headers promise the whole page, half of it is sent, then the connection closes.
    CutBody,
    /// Half the page with a `Content-Length` that matches it: valid HTTP, truncated JSON.
    CutJson,
}

/// The state of a [`PageServer`]: pages of `{"id": n}` records, `?page=N` (from 1), a `total`
/// in each body, per-page latency and faults, and a log of what was asked.
pub struct PageState {
    pub total: u64,
    pub per_page: u64,
    delay: Box<dyn Fn(u64) -> Duration + Send + Sync>,
    faults: Mutex<std::collections::HashMap<u64, std::collections::VecDeque<Fault>>>,
    requests: Mutex<Vec<u64>>,
    active: AtomicUsize,
    peak: AtomicUsize,
}

/// A keep-alive HTTP/1.1 server written on raw TCP, so it can reset connections and cut bodies
/// (axum cannot), serving numbered pages.
pub struct PageServer {
    pub base: String,
    pub state: Arc<PageState>,
}

impl PageServer {
    /// `total` records in pages of `per_page`; `delay` is the latency of each page by number.
    pub async fn start(
        total: u64,
        per_page: u64,
        delay: impl Fn(u64) -> Duration + Send + Sync + 'static,
    ) -> Self {
        let state = Arc::new(PageState {
            total,
            per_page,
            delay: Box::new(delay),
            faults: Mutex::default(),
            requests: Mutex::default(),
            active: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve_connection(socket, shared.clone()));
            }
        });
        Self { base, state }
    }

    /// Answers the next requests for `page` with these faults, in order, then normally.
    pub fn fault(&self, page: u64, faults: &[Fault]) {
        self.state
            .faults
            .lock()
            .unwrap()
            .entry(page)
            .or_default()
            .extend(faults.iter().copied());
    }

    /// The page numbers asked for, in arrival order.
    pub fn requests(&self) -> Vec<u64> {
        self.state.requested()
    }

    /// The most requests the server was answering at once.
    pub fn peak(&self) -> usize {
        self.state.peak.load(Ordering::SeqCst)
    }

    /// The ids the server holds, in order.
    pub fn all_ids(&self) -> Vec<u64> {
        (1..=self.state.total).collect()
    }
}

impl PageState {
    /// The page numbers asked for, in arrival order.
    pub fn requested(&self) -> Vec<u64> {
        self.requests.lock().unwrap().clone()
    }

    /// The body of page `page` (from 1): its records, the total, and `next` while pages remain.
    pub fn body(&self, page: u64) -> String {
        let first = (page.max(1) - 1) * self.per_page + 1;
        let last = (first + self.per_page - 1).min(self.total);
        let records: Vec<String> = (first..=last)
            .map(|id| format!(r#"{{"id":{id},"name":"record {id}"}}"#))
            .collect();
        let next = if last < self.total {
            format!("\"{}\"", page + 1)
        } else {
            "null".to_owned()
        };
        format!(
            r#"{{"data":[{}],"total":{},"next":{next}}}"#,
            records.join(","),
            self.total
        )
    }

    fn take_fault(&self, page: u64) -> Option<Fault> {
        self.faults.lock().unwrap().get_mut(&page)?.pop_front()
    }
}

/// Reads one request head; `None` when the client closed the connection.
async fn read_head(socket: &mut tokio::net::TcpStream, pending: &mut Vec<u8>) -> Option<String> {
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head: Vec<u8> = pending.drain(..end + 4).collect();
            return Some(String::from_utf8_lossy(&head).into_owned());
        }
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
    }
}

/// The page asked for: `?page=N`, or `?offset=K` in pages of the server's size.
fn page_of(head: &str, per_page: u64) -> u64 {
    let target = head.split_whitespace().nth(1).unwrap_or("/");
    let url = url::Url::parse(&format!("http://h{target}")).unwrap();
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse::<u64>().ok())
    };
    param("page")
        .or_else(|| param("offset").map(|offset| offset / per_page + 1))
        .unwrap_or(1)
}

async fn serve_connection(mut socket: tokio::net::TcpStream, state: Arc<PageState>) {
    let mut pending = Vec::new();
    while let Some(head) = read_head(&mut socket, &mut pending).await {
        let page = page_of(&head, state.per_page);
        state.requests.lock().unwrap().push(page);
        let now = state.active.fetch_add(1, Ordering::SeqCst) + 1;
        state.peak.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep((state.delay)(page)).await;
        let keep_going = answer(&mut socket, &state, page).await;
        state.active.fetch_sub(1, Ordering::SeqCst);
        if !keep_going {
            return;
        }
    }
}

/// Writes the answer for `page`; false when the connection is closed after it.
async fn answer(socket: &mut tokio::net::TcpStream, state: &PageState, page: u64) -> bool {
    let body = state.body(page);
    let half = &body[..body.len() / 2];
    let (head, payload, close) = match state.take_fault(page) {
        None => (ok_head(body.len(), ""), body.as_str(), false),
        Some(Fault::Status(code, retry_after)) => {
            let extra = retry_after
                .map(|r| format!("Retry-After: {r}\r\n"))
                .unwrap_or_default();
            let head = format!(
                "HTTP/1.1 {code} Injected\r\nContent-Type: text/plain\r\nContent-Length: 8\r\n{extra}\r\n"
            );
            (head, "injected", false)
        }
        Some(Fault::Reset) => {
            let _ = socket.set_zero_linger();
            return false;
        }
        Some(Fault::CutBody) => (ok_head(body.len(), ""), half, true),
        Some(Fault::CutJson) => (ok_head(half.len(), "Connection: close\r\n"), half, true),
    };
    let written = socket.write_all(head.as_bytes()).await.is_ok()
        && socket.write_all(payload.as_bytes()).await.is_ok();
    if close {
        let _ = socket.shutdown().await;
    }
    written && !close
}

fn ok_head(length: usize, extra: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n{extra}\r\n"
    )
}
