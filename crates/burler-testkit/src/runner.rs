//! Running a tap and capturing what it writes: a binary (any Singer tap, Rust or Python) with a
//! timeout, or a burler [`Tap`](burler::Tap) in-process (feature `in-process`).
//!
//! ```no_run
//! use burler_testkit::runner::{BinaryTap, RunInput, TapRunner};
//! let tap = BinaryTap::new(["tap-files"]);
//! let out = tap.run(&RunInput::discover("config.json"));
//! assert_eq!(out.exit_code, Some(0));
//! let catalog = burler_singer::Catalog::from_json_str(&out.stdout_text()).unwrap();
//! ```

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use burler_singer::{Message, MessageReader, ReadError};

/// Default limit of one tap run.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// The Singer arguments of one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunInput {
    /// `--discover`.
    pub discover: bool,
    /// `--config FILE`.
    pub config: PathBuf,
    /// `--state FILE`.
    pub state: Option<PathBuf>,
    /// `--catalog FILE`.
    pub catalog: Option<PathBuf>,
    /// `--properties FILE` (legacy catalog flag).
    pub properties: Option<PathBuf>,
}

impl RunInput {
    /// `--config FILE --discover`.
    pub fn discover(config: impl Into<PathBuf>) -> Self {
        RunInput {
            discover: true,
            config: config.into(),
            ..Self::default()
        }
    }

    /// `--config FILE` (a sync of the default streams).
    pub fn sync(config: impl Into<PathBuf>) -> Self {
        RunInput {
            config: config.into(),
            ..Self::default()
        }
    }

    /// Adds `--catalog FILE`.
    pub fn catalog(mut self, path: impl Into<PathBuf>) -> Self {
        self.catalog = Some(path.into());
        self
    }

    /// Adds `--state FILE`.
    pub fn state(mut self, path: impl Into<PathBuf>) -> Self {
        self.state = Some(path.into());
        self
    }

    /// Adds `--properties FILE`.
    pub fn properties(mut self, path: impl Into<PathBuf>) -> Self {
        self.properties = Some(path.into());
        self
    }

    /// The command-line arguments.
    pub fn args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["--config".into(), self.config.clone().into()];
        let mut file = |flag: &str, path: &Option<PathBuf>| {
            if let Some(p) = path {
                args.push(flag.into());
                args.push(p.clone().into());
            }
        };
        file("--state", &self.state);
        file("--properties", &self.properties);
        file("--catalog", &self.catalog);
        if self.discover {
            args.push("--discover".into());
        }
        args
    }
}

/// What one run wrote, and how it ended.
#[derive(Debug, Clone, Default)]
pub struct TapOutput {
    /// The exit code; `None` when the tap was killed (timeout, signal) or did not start.
    pub exit_code: Option<i32>,
    /// Everything written to stdout.
    pub stdout: Vec<u8>,
    /// Everything written to stderr (empty in-process: logs go to the test's stderr), plus the
    /// error that ended an in-process run.
    pub stderr: String,
    /// Wall time of the run.
    pub duration: Duration,
    /// True when the run was stopped at the timeout.
    pub timed_out: bool,
    /// Why the tap could not be started, or how it crashed.
    pub failure: Option<String>,
}

impl TapOutput {
    /// True when the tap exited 0.
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// stdout as text.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// The messages on stdout, with the lines that are not Singer messages.
    pub fn messages(&self) -> (Vec<Message>, Vec<ReadError>) {
        let (lines, errors) = self.messages_with_lines();
        (lines.into_iter().map(|(_, m)| m).collect(), errors)
    }

    /// The messages on stdout with their 1-based line numbers, and the lines that are not Singer
    /// messages.
    pub fn messages_with_lines(&self) -> (Vec<(u64, Message)>, Vec<ReadError>) {
        let mut messages = Vec::new();
        let mut errors = Vec::new();
        let mut reader = MessageReader::new(self.stdout.as_slice());
        while let Some(item) = reader.next() {
            match item {
                Ok(m) => messages.push((reader.line(), m)),
                Err(e) => errors.push(e),
            }
        }
        (messages, errors)
    }

    /// One line saying how the run ended (`exit 0`, `exit 1`, `timed out after 300 s`).
    pub fn ending(&self) -> String {
        if let Some(why) = &self.failure {
            return why.clone();
        }
        if self.timed_out {
            return format!("timed out after {:.0} s", self.duration.as_secs_f64());
        }
        match self.exit_code {
            Some(code) => format!("exit {code}"),
            None => "killed by a signal".into(),
        }
    }

    /// The last `n` non-empty lines of stderr, for a report.
    pub fn stderr_tail(&self, n: usize) -> Vec<String> {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        lines[lines.len().saturating_sub(n)..]
            .iter()
            .map(|l| format!("stderr: {}", truncate(l, 300)))
            .collect()
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// Something that runs a tap with Singer arguments.
pub trait TapRunner {
    /// A name for reports (the command line, or the tap's name).
    fn describe(&self) -> String;

    /// Runs the tap once.
    fn run(&self, input: &RunInput) -> TapOutput;

    /// True when stderr is captured (so metric lines can be checked).
    fn captures_stderr(&self) -> bool;
}

/// A tap binary: program, leading arguments (e.g. a script for `python3`), and a timeout.
#[derive(Debug, Clone)]
pub struct BinaryTap {
    command: Vec<OsString>,
    timeout: Duration,
    dir: Option<PathBuf>,
}

impl BinaryTap {
    /// A command line whose first item is the program; the Singer arguments go after the rest.
    pub fn new<I, S>(command: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        BinaryTap {
            command: command.into_iter().map(Into::into).collect(),
            timeout: DEFAULT_TIMEOUT,
            dir: None,
        }
    }

    /// Stops a run after `timeout` (default 300 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs the tap in `dir`.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.dir = Some(dir.as_ref().to_owned());
        self
    }
}

impl TapRunner for BinaryTap {
    fn describe(&self) -> String {
        self.command
            .iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn run(&self, input: &RunInput) -> TapOutput {
        let Some((program, lead)) = self.command.split_first() else {
            return TapOutput {
                failure: Some("no tap command given".into()),
                ..TapOutput::default()
            };
        };
        let mut cmd = Command::new(program);
        cmd.args(lead).args(input.args());
        if let Some(dir) = &self.dir {
            cmd.current_dir(dir);
        }
        run_with_timeout(cmd, self.timeout, &self.describe())
    }

    fn captures_stderr(&self) -> bool {
        true
    }
}

fn run_with_timeout(mut cmd: Command, timeout: Duration, what: &str) -> TapOutput {
    let start = Instant::now();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Its own process group, so a timeout also stops what the tap started (a shell's children).
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return TapOutput {
                failure: Some(format!("cannot start {what}: {e}")),
                ..TapOutput::default()
            };
        }
    };
    // Read both pipes on their own threads so a chatty tap never blocks on a full pipe.
    let stdout = Pipe::read(child.stdout.take());
    let stderr = Pipe::read(child.stderr.take());
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() >= timeout => {
                timed_out = true;
                kill_group(&mut child);
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break None,
        }
    };
    // A descendant may still hold the pipes open: wait a little for the rest, then take what came.
    let grace = Instant::now() + Duration::from_secs(2);
    TapOutput {
        exit_code: if timed_out {
            None
        } else {
            status.and_then(|s| s.code())
        },
        stdout: stdout.finish(grace),
        stderr: String::from_utf8_lossy(&stderr.finish(grace)).into_owned(),
        duration: start.elapsed(),
        timed_out,
        failure: None,
    }
}

fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        let group = format!("-{}", child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
}

/// One output pipe read to the end on its own thread.
struct Pipe {
    buf: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Pipe {
    fn read<R: Read + Send + 'static>(source: Option<R>) -> Pipe {
        let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let thread = source.map(|mut r| {
            let buf = buf.clone();
            std::thread::spawn(move || {
                let mut chunk = [0u8; 64 * 1024];
                while let Ok(n) = r.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    buf.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .extend_from_slice(&chunk[..n]);
                }
            })
        });
        Pipe { buf, thread }
    }

    /// Everything read, once the pipe closed or `deadline` passed.
    fn finish(self, deadline: Instant) -> Vec<u8> {
        if let Some(t) = self.thread {
            while !t.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
        std::mem::take(&mut *self.buf.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

#[cfg(feature = "in-process")]
pub use in_process::InProcessTap;

#[cfg(feature = "in-process")]
mod in_process {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::time::Instant;

    use burler::{CaptureBuffer, Tap};

    use super::{RunInput, TapOutput, TapRunner};

    /// A burler tap run in-process: a factory builds a fresh [`Tap`] for each run (a run consumes
    /// it). Logs go to the test's stderr, so metric lines are not checked; there is no timeout.
    pub struct InProcessTap<F> {
        factory: F,
        name: String,
    }

    impl<F, C, K> InProcessTap<F>
    where
        F: Fn() -> Tap<C, K>,
        C: Send + Sync + 'static,
        K: Send + Sync + 'static,
    {
        /// Runs the taps `factory` builds.
        pub fn new(factory: F) -> Self {
            InProcessTap {
                factory,
                name: "tap (in-process)".into(),
            }
        }

        /// Names the tap in reports.
        pub fn named(mut self, name: impl Into<String>) -> Self {
            self.name = name.into();
            self
        }
    }

    /// What the run would have ended with on stderr: one CRITICAL line per failed stream and
    /// the error that ended the run.
    fn outcome_lines(outcome: &burler::RunOutcome) -> String {
        let mut lines = Vec::new();
        for s in outcome.report.iter().flat_map(|r| &r.streams) {
            if let Some(e) = &s.error {
                lines.push(format!("CRITICAL {}: {e}", s.stream));
            }
        }
        lines.extend(outcome.error.clone());
        lines.join("\n")
    }

    impl<F, C, K> TapRunner for InProcessTap<F>
    where
        F: Fn() -> Tap<C, K>,
        C: Send + Sync + 'static,
        K: Send + Sync + 'static,
    {
        fn describe(&self) -> String {
            self.name.clone()
        }

        fn run(&self, input: &RunInput) -> TapOutput {
            let start = Instant::now();
            let buf = CaptureBuffer::new();
            let mut args = vec![std::ffi::OsString::from("tap")];
            args.extend(input.args());
            let sink = Box::new(buf.clone());
            let result = catch_unwind(AssertUnwindSafe(|| (self.factory)().run_with(args, sink)));
            let mut out = TapOutput {
                stdout: buf.contents(),
                duration: start.elapsed(),
                ..TapOutput::default()
            };
            match result {
                Ok(outcome) => {
                    out.exit_code = Some(i32::from(outcome.exit_code));
                    out.stderr = outcome_lines(&outcome);
                }
                Err(panic) => {
                    let why = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_default();
                    out.failure = Some(format!("the tap panicked: {why}"));
                }
            }
            out
        }

        fn captures_stderr(&self) -> bool {
            false
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_binary_run_captures_both_streams_and_the_exit_code() {
        let tap = BinaryTap::new([
            "sh",
            "-c",
            "echo '{\"type\":\"STATE\",\"value\":{}}'; echo oops >&2; exit 3",
            "sh",
        ]);
        let out = tap.run(&RunInput::sync("c.json"));
        assert_eq!(out.exit_code, Some(3));
        assert_eq!(out.stderr, "oops\n");
        let (messages, errors) = out.messages();
        assert_eq!((messages.len(), errors.len()), (1, 0));
        assert_eq!(out.ending(), "exit 3");
    }

    #[test]
    fn a_slow_tap_is_stopped_at_the_timeout() {
        let tap = BinaryTap::new(["sh", "-c", "sleep 5", "sh"]).timeout(Duration::from_millis(200));
        let out = tap.run(&RunInput::sync("c.json"));
        assert!(out.timed_out);
        assert!(out.duration < Duration::from_secs(4));
        assert!(out.ending().starts_with("timed out"), "{}", out.ending());
    }

    #[test]
    fn a_missing_program_is_named() {
        let out = BinaryTap::new(["/nonexistent/tap"]).run(&RunInput::sync("c.json"));
        assert!(
            out.ending().starts_with("cannot start /nonexistent/tap"),
            "{}",
            out.ending()
        );
    }

    #[test]
    fn arguments_follow_the_singer_spelling() {
        let input = RunInput::sync("c.json")
            .state("s.json")
            .catalog("k.json")
            .properties("p.json");
        let args: Vec<String> = input
            .args()
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "--config",
                "c.json",
                "--state",
                "s.json",
                "--properties",
                "p.json",
                "--catalog",
                "k.json"
            ]
        );
        assert!(
            RunInput::discover("c.json")
                .args()
                .iter()
                .any(|a| a == "--discover")
        );
    }
}
