//! Bulk exports: sources that answer a query with a job instead of rows. The tap submits the
//! job, polls it with a growing interval until it is done, then downloads its parts (CSV or JSON
//! Lines files) and streams their records. Parts are decoded as they arrive, so memory stays flat
//! whatever their size.
//!
//! The API's own shapes stay with the author: a submit function returns the job id, a poll
//! function says where the job is ([`JobState`]).
//!
//! ```no_run
//! use burler_http::export::{ExportJob, JobState, Part, PartFormat};
//! use burler_http::HttpClient;
//! use futures::TryStreamExt;
//! use serde_json::{Value, json};
//!
//! # async fn run(client: HttpClient) -> Result<(), burler_http::export::ExportError> {
//! let job = ExportJob::new(
//!     |c: HttpClient| async move {
//!         let answer: Value = c.post("exports").json_body(&json!({"object": "orders"})).json().await?;
//!         Ok(answer["id"].as_str().unwrap_or_default().to_owned())
//!     },
//!     |c: HttpClient, id: String| async move {
//!         let status: Value = c.get(&format!("exports/{id}")).json().await?;
//!         Ok(match status["state"].as_str() {
//!             Some("done") => JobState::Done(
//!                 status["files"].as_array().into_iter().flatten()
//!                     .filter_map(|f| Part::new(f.as_str()?, PartFormat::Csv).ok())
//!                     .collect(),
//!             ),
//!             Some("failed") => JobState::Failed(status["error"].to_string()),
//!             _ => JobState::Running,
//!         })
//!     },
//! );
//! let mut records = std::pin::pin!(job.records(&client));
//! while let Some(record) = records.try_next().await? {
//!     println!("{record:?}");
//! }
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{self, Stream, StreamExt, TryStreamExt};
use reqwest::Url;
use serde_json::{Map, Value};

use crate::client::{HttpClient, install_crypto_provider};
use crate::error::{HttpError, redact_url};

/// A record of a part: field name to value.
pub type Record = Map<String, Value>;

/// What an export job's status says.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    /// Not finished yet: poll again later.
    Running,
    /// Finished: its parts, in order.
    Done(Vec<Part>),
    /// Finished without a result: the API's reason.
    Failed(String),
}

/// How a part's file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartFormat {
    /// CSV with a header row; every value is a string, an empty field is null.
    Csv,
    /// One JSON object per line (blank lines are skipped).
    JsonLines,
}

/// One file of a finished export.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// Where to download it (often a pre-signed URL: fetched without the client's auth).
    pub url: Url,
    /// Its layout.
    pub format: PartFormat,
}

impl Part {
    /// A part at `url`.
    pub fn new(url: &str, format: PartFormat) -> Result<Part, HttpError> {
        let url = Url::parse(url)
            .map_err(|e| HttpError::config(format!("export part URL {url:?}: {e}")))?;
        Ok(Part { url, format })
    }
}

/// An error of an export: the HTTP error of a step, the job's failure, a wait that ran out, or a
/// part that does not decode.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A request of the export failed (submit, poll or download).
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The API says the job failed.
    #[error("export job {job}: failed: {reason}")]
    Failed {
        /// The job's id.
        job: String,
        /// The API's reason.
        reason: String,
    },
    /// The job was not done within the export's maximum wait.
    #[error("export job {job}: not done after {waited:?}")]
    TimedOut {
        /// The job's id.
        job: String,
        /// How long the tap waited.
        waited: Duration,
    },
    /// A part's content is not what its format says.
    #[error("export part {url}: record {record}: {message}")]
    Decode {
        /// The part's URL, secrets redacted.
        url: String,
        /// The record (1-based; the CSV header is record 1).
        record: u64,
        /// What is wrong.
        message: String,
    },
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, HttpError>> + Send>>;
type SubmitFn = Arc<dyn Fn(HttpClient) -> BoxFuture<String> + Send + Sync>;
type PollFn = Arc<dyn Fn(HttpClient, String) -> BoxFuture<JobState> + Send + Sync>;

/// An export job: how to submit it, how to poll it, how patiently.
#[derive(Clone)]
pub struct ExportJob {
    submit: SubmitFn,
    poll: PollFn,
    first_interval: Duration,
    max_interval: Duration,
    max_wait: Duration,
}

impl std::fmt::Debug for ExportJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportJob")
            .field("first_interval", &self.first_interval)
            .field("max_interval", &self.max_interval)
            .field("max_wait", &self.max_wait)
            .finish_non_exhaustive()
    }
}

impl ExportJob {
    /// A job submitted by `submit` (which returns its id) and polled by `poll`. Polls start 1 s
    /// after the submit, the interval doubling up to 60 s; the job may take up to an hour.
    pub fn new<S, SF, P, PF>(submit: S, poll: P) -> Self
    where
        S: Fn(HttpClient) -> SF + Send + Sync + 'static,
        SF: Future<Output = Result<String, HttpError>> + Send + 'static,
        P: Fn(HttpClient, String) -> PF + Send + Sync + 'static,
        PF: Future<Output = Result<JobState, HttpError>> + Send + 'static,
    {
        ExportJob {
            submit: Arc::new(move |c| Box::pin(submit(c))),
            poll: Arc::new(move |c, id| Box::pin(poll(c, id))),
            first_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(60),
            max_wait: Duration::from_secs(3600),
        }
    }

    /// The first poll interval and the longest one (each poll doubles it).
    pub fn poll_interval(mut self, first: Duration, max: Duration) -> Self {
        self.first_interval = first;
        self.max_interval = max.max(first);
        self
    }

    /// How long the job may take before the export fails with [`ExportError::TimedOut`].
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// Submits the job and polls it until it is done; returns its id and parts.
    pub async fn wait(&self, client: &HttpClient) -> Result<(String, Vec<Part>), ExportError> {
        let job = (self.submit)(client.clone()).await?;
        let started = Instant::now();
        let mut interval = self.first_interval;
        loop {
            let waited = started.elapsed();
            if waited >= self.max_wait {
                return Err(ExportError::TimedOut { job, waited });
            }
            tokio::time::sleep(interval.min(self.max_wait - waited)).await;
            match (self.poll)(client.clone(), job.clone()).await? {
                JobState::Running => interval = (interval * 2).min(self.max_interval),
                JobState::Done(parts) => return Ok((job, parts)),
                JobState::Failed(reason) => return Err(ExportError::Failed { job, reason }),
            }
        }
    }

    /// Runs the export and streams the records of every part, part after part.
    pub fn records<'a>(
        &'a self,
        client: &'a HttpClient,
    ) -> impl Stream<Item = Result<Record, ExportError>> + Send + 'a {
        stream::once(async move {
            let (_, parts) = self.wait(client).await?;
            let http = download_client()?;
            let streams = parts
                .into_iter()
                .map(move |part| part_records(http.clone(), part));
            Ok::<_, ExportError>(stream::iter(streams).flatten())
        })
        .try_flatten()
    }
}

/// A client for part downloads: no total timeout (parts may be large), but a connect and a
/// per-read timeout so a stalled download fails.
fn download_client() -> Result<reqwest::Client, HttpError> {
    install_crypto_provider();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(300))
        .build()
        .map_err(|e| HttpError::config(format!("cannot build HTTP client: {e}")))
}

/// Downloads one part and streams its records as the bytes arrive.
pub fn part_records(
    http: reqwest::Client,
    part: Part,
) -> impl Stream<Item = Result<Record, ExportError>> + Send {
    let url = redact_url(&part.url);
    let transport = |e: reqwest::Error, url: &str| HttpError::Transport {
        method: reqwest::Method::GET,
        url: url.to_owned(),
        kind: crate::error::TransportKind::Body,
        message: e.to_string(),
    };
    stream::once(async move {
        let response = http
            .get(part.url.clone())
            .send()
            .await
            .map_err(|e| transport(e, &url))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.bytes().await.unwrap_or_default();
            return Err(ExportError::Http(HttpError::Status {
                method: reqwest::Method::GET,
                url,
                status,
                body_excerpt: crate::error::body_excerpt(&body),
            }));
        }
        let chunks = response
            .bytes_stream()
            .map_err(move |e| transport(e, &url))
            .boxed();
        Ok(decode(
            chunks,
            Decoder::new(part.format),
            redact_url(&part.url),
        ))
    })
    .try_flatten()
}

/// Turns a stream of byte chunks into records.
fn decode<S, B>(
    chunks: S,
    decoder: Decoder,
    url: String,
) -> impl Stream<Item = Result<Record, ExportError>> + Send
where
    S: Stream<Item = Result<B, HttpError>> + Send + Unpin,
    B: AsRef<[u8]>,
{
    let state = Decode {
        chunks,
        decoder,
        ready: VecDeque::new(),
        ended: false,
        failed: None,
        url,
    };
    stream::unfold(Some(state), |state| async move {
        let mut st = state?;
        loop {
            // Records decoded before a failure are delivered first.
            if let Some(record) = st.ready.pop_front() {
                return Some((Ok(record), Some(st)));
            }
            if let Some(error) = st.failed.take() {
                return Some((Err(error), None));
            }
            if st.ended {
                return None;
            }
            let fed = match st.chunks.next().await {
                Some(Ok(chunk)) => st.decoder.feed(chunk.as_ref(), &mut st.ready),
                Some(Err(e)) => {
                    st.failed = Some(ExportError::Http(e));
                    Ok(())
                }
                None => {
                    st.ended = true;
                    st.decoder.finish(&mut st.ready)
                }
            };
            if let Err((record, message)) = fed {
                st.failed = Some(ExportError::Decode {
                    url: st.url.clone(),
                    record,
                    message,
                });
            }
        }
    })
}

/// The state of one part's decoding.
struct Decode<S> {
    chunks: S,
    decoder: Decoder,
    ready: VecDeque<Record>,
    ended: bool,
    failed: Option<ExportError>,
    url: String,
}

/// A part decoder: bytes in, records out. Errors carry the record number.
enum Decoder {
    Csv(Box<CsvDecoder>),
    JsonLines(JsonLinesDecoder),
}

type DecodeResult = Result<(), (u64, String)>;

impl Decoder {
    fn new(format: PartFormat) -> Self {
        match format {
            PartFormat::Csv => Decoder::Csv(Box::default()),
            PartFormat::JsonLines => Decoder::JsonLines(JsonLinesDecoder::default()),
        }
    }

    fn feed(&mut self, chunk: &[u8], out: &mut VecDeque<Record>) -> DecodeResult {
        match self {
            Decoder::Csv(d) => d.feed(chunk, out),
            Decoder::JsonLines(d) => d.feed(chunk, out),
        }
    }

    fn finish(&mut self, out: &mut VecDeque<Record>) -> DecodeResult {
        match self {
            Decoder::Csv(d) => d.feed(&[], out),
            Decoder::JsonLines(d) => d.finish(out),
        }
    }
}

/// CSV by `csv-core`'s push parser: a record may span chunks.
struct CsvDecoder {
    reader: csv_core::Reader,
    header: Option<Vec<String>>,
    fields: Vec<u8>,
    ends: Vec<usize>,
    used: (usize, usize),
    records: u64,
}

impl Default for CsvDecoder {
    fn default() -> Self {
        CsvDecoder {
            reader: csv_core::Reader::new(),
            header: None,
            fields: vec![0; 4096],
            ends: vec![0; 64],
            used: (0, 0),
            records: 0,
        }
    }
}

impl CsvDecoder {
    /// Feeds a chunk (an empty one at the end of the part).
    fn feed(&mut self, mut input: &[u8], out: &mut VecDeque<Record>) -> DecodeResult {
        use csv_core::ReadRecordResult::*;
        loop {
            let (outlen, endlen) = self.used;
            let (result, nin, nout, nend) = self.reader.read_record(
                input,
                &mut self.fields[outlen..],
                &mut self.ends[endlen..],
            );
            input = &input[nin..];
            self.used = (outlen + nout, endlen + nend);
            match result {
                InputEmpty => return Ok(()),
                OutputFull => self.fields.resize(self.fields.len() * 2, 0),
                OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                Record => self.record(out)?,
                End => return Ok(()),
            }
        }
    }

    fn record(&mut self, out: &mut VecDeque<Record>) -> DecodeResult {
        self.records += 1;
        let (_, count) = std::mem::take(&mut self.used);
        let mut start = 0;
        let mut values = Vec::with_capacity(count);
        for &end in &self.ends[..count] {
            let text = std::str::from_utf8(&self.fields[start..end])
                .map_err(|e| (self.records, format!("not UTF-8: {e}")))?;
            values.push(text.to_owned());
            start = end;
        }
        let Some(header) = &self.header else {
            self.header = Some(values);
            return Ok(());
        };
        if values.len() != header.len() {
            return Err((
                self.records,
                format!("{} fields, the header has {}", values.len(), header.len()),
            ));
        }
        let record = header
            .iter()
            .zip(values)
            .map(|(k, v)| {
                (
                    k.clone(),
                    if v.is_empty() {
                        Value::Null
                    } else {
                        Value::String(v)
                    },
                )
            })
            .collect();
        out.push_back(record);
        Ok(())
    }
}

/// JSON Lines: complete lines are parsed as they arrive; a line may span chunks.
#[derive(Default)]
struct JsonLinesDecoder {
    pending: Vec<u8>,
    records: u64,
}

impl JsonLinesDecoder {
    fn feed(&mut self, chunk: &[u8], out: &mut VecDeque<Record>) -> DecodeResult {
        self.pending.extend_from_slice(chunk);
        let Some(last) = self.pending.iter().rposition(|b| *b == b'\n') else {
            return Ok(());
        };
        let complete: Vec<u8> = self.pending.drain(..=last).collect();
        complete
            .split(|b| *b == b'\n')
            .try_for_each(|line| self.line(line, out))
    }

    fn finish(&mut self, out: &mut VecDeque<Record>) -> DecodeResult {
        let rest = std::mem::take(&mut self.pending);
        self.line(&rest, out)
    }

    fn line(&mut self, line: &[u8], out: &mut VecDeque<Record>) -> DecodeResult {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        self.records += 1;
        match serde_json::from_slice::<Value>(line) {
            Ok(Value::Object(record)) => {
                out.push_back(record);
                Ok(())
            }
            Ok(other) => Err((
                self.records,
                format!("a JSON {} where an object belongs", type_name(&other)),
            )),
            Err(e) => Err((self.records, format!("not JSON: {e}"))),
        }
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
