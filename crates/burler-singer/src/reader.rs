//! Readers of line-delimited Singer messages that know the line number of each one: a streaming
//! [`MessageReader`] over any `BufRead`, and [`raw_messages`] over a buffer already in memory,
//! which lends [`RawMessage`]s (records not built into trees) straight from the buffer.

use std::io::BufRead;
use std::path::Path;

use crate::error::ProtocolError;
use crate::message::{Message, RawMessage};

/// A line that could not be read or parsed.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct ReadError {
    /// 1-based line number.
    pub line: u64,
    /// What went wrong.
    pub problem: String,
}

/// Iterates over the messages of a line-delimited input; blank lines are skipped but counted.
///
/// ```
/// use burler_singer::MessageReader;
/// let input = "{\"type\":\"STATE\",\"value\":{}}\n\nnot json\n";
/// let results: Vec<_> = MessageReader::new(input.as_bytes()).collect();
/// assert!(results[0].is_ok());
/// assert_eq!(results[1].as_ref().unwrap_err().line, 3);
/// ```
#[derive(Debug)]
pub struct MessageReader<R> {
    reader: R,
    line: u64,
    buf: String,
}

impl<R: BufRead> MessageReader<R> {
    /// Reads from `reader`.
    pub fn new(reader: R) -> Self {
        MessageReader {
            reader,
            line: 0,
            buf: String::with_capacity(1024),
        }
    }

    /// The number of the last line read.
    pub fn line(&self) -> u64 {
        self.line
    }
}

impl<R: BufRead> MessageReader<R> {
    /// Reads the next non-blank line into the buffer: its number and text; `None` at the end.
    fn next_line(&mut self) -> Option<Result<(u64, &str), ReadError>> {
        loop {
            self.buf.clear();
            self.line += 1;
            match self.reader.read_line(&mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(read_error(self.line, e.to_string()))),
            }
            if !self.buf.trim().is_empty() {
                return Some(Ok((self.line, self.buf.trim_end_matches(['\n', '\r']))));
            }
        }
    }

    /// The next message read raw (its record not built into a tree), borrowing the reader's line
    /// buffer: the fast way through a large output when records are not needed as trees.
    ///
    /// ```
    /// use burler_singer::{MessageReader, RawMessage};
    /// let input = "{\"type\":\"RECORD\",\"stream\":\"s\",\"record\":{\"id\":1}}\n";
    /// let mut reader = MessageReader::new(input.as_bytes());
    /// let Some(Ok(RawMessage::Record(r))) = reader.next_raw() else { unreachable!() };
    /// assert_eq!(r.record_json(), "{\"id\":1}");
    /// assert!(reader.next_raw().is_none());
    /// ```
    pub fn next_raw(&mut self) -> Option<Result<RawMessage<'_>, ReadError>> {
        Some(match self.next_line()? {
            Ok((line, text)) => RawMessage::parse(text).map_err(|e| parse_error(line, e)),
            Err(e) => Err(e),
        })
    }
}

impl<R: BufRead> Iterator for MessageReader<R> {
    type Item = Result<Message, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(match self.next_line()? {
            Ok((line, text)) => Message::parse(text).map_err(|e| parse_error(line, e)),
            Err(e) => Err(e),
        })
    }
}

fn read_error(line: u64, problem: String) -> ReadError {
    ReadError { line, problem }
}

/// A parse error at `line`, in the reader's words (no "message" prefix).
fn parse_error(line: u64, e: ProtocolError) -> ReadError {
    read_error(
        line,
        match e {
            ProtocolError::Shape { problem, .. } => problem,
            other => other.to_string(),
        },
    )
}

/// The messages of a buffer in memory, read raw, with their 1-based line numbers; blank lines are
/// skipped but counted. Nothing is copied: each message borrows from `input`.
///
/// ```
/// use burler_singer::{RawMessage, raw_messages};
/// let out = b"{\"type\":\"STATE\",\"value\":{}}\n\nnot json\n";
/// let read: Vec<_> = raw_messages(out).collect();
/// assert_eq!(read.len(), 2);
/// assert!(matches!(read[0], (1, Ok(RawMessage::Other(_)))));
/// assert_eq!(read[1].1.as_ref().unwrap_err().line, 3);
/// ```
pub fn raw_messages(input: &[u8]) -> RawLines<'_> {
    RawLines {
        rest: input,
        line: 0,
    }
}

/// The iterator of [`raw_messages`].
#[derive(Debug, Clone)]
pub struct RawLines<'a> {
    rest: &'a [u8],
    line: u64,
}

impl<'a> Iterator for RawLines<'a> {
    type Item = (u64, Result<RawMessage<'a>, ReadError>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            self.line += 1;
            let end = memchr::memchr(b'\n', self.rest);
            let (line, rest) = match end {
                Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
                None => (self.rest, &[][..]),
            };
            self.rest = rest;
            let text = match std::str::from_utf8(line) {
                Ok(t) => t.trim_end_matches('\r'),
                Err(e) => return Some((self.line, Err(read_error(self.line, e.to_string())))),
            };
            if text.trim().is_empty() {
                continue;
            }
            let parsed = RawMessage::parse(text).map_err(|e| parse_error(self.line, e));
            return Some((self.line, parsed));
        }
    }
}

/// Reads every message of a file; the error names the file and the line.
pub fn read_messages(path: &Path) -> Result<Vec<Message>, ProtocolError> {
    let file = std::fs::File::open(path).map_err(|source| ProtocolError::Io {
        what: "messages",
        path: path.to_owned(),
        source,
    })?;
    MessageReader::new(std::io::BufReader::new(file))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ProtocolError::File {
            what: "messages",
            path: path.to_owned(),
            problem: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_line_of_a_bad_message() {
        let input =
            "{\"type\":\"STATE\",\"value\":{}}\n\n\r\n{\"type\":\"RECORD\",\"stream\":\"s\"}\n";
        let results: Vec<_> = MessageReader::new(input.as_bytes()).collect();
        assert_eq!(results.len(), 2);
        let err = results[1].as_ref().unwrap_err();
        assert_eq!(err.line, 4);
        assert!(
            err.to_string()
                .starts_with("line 4: missing field `record`"),
            "{err}"
        );
    }

    #[test]
    fn raw_readers_see_the_same_messages_and_lines_as_the_owned_one() {
        let input = "{\"type\":\"SCHEMA\",\"stream\":\"s\",\"schema\":{}}\n\n\
            {\"type\":\"RECORD\",\"stream\":\"s\",\"record\":{\"id\":1}}\r\n\
            not json\n\
            {\"type\":\"STATE\",\"value\":{}}";
        let owned: Vec<(u64, String)> = {
            let mut reader = MessageReader::new(input.as_bytes());
            let mut out = Vec::new();
            while let Some(m) = reader.next() {
                out.push((reader.line(), format!("{:?}", m.map_err(|e| e.to_string()))));
            }
            out
        };
        let mut streamed = Vec::new();
        let mut reader = MessageReader::new(input.as_bytes());
        while let Some(m) = reader.next_raw() {
            let m = m.and_then(|m| m.into_message().map_err(|e| read_error(0, e.to_string())));
            streamed.push(format!("{:?}", m.map_err(|e| e.to_string())));
        }
        let in_memory: Vec<(u64, String)> = raw_messages(input.as_bytes())
            .map(|(line, m)| {
                let m = m.and_then(|m| m.into_message().map_err(|e| read_error(0, e.to_string())));
                (line, format!("{:?}", m.map_err(|e| e.to_string())))
            })
            .collect();
        assert_eq!(
            owned.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
            [1, 3, 4, 5]
        );
        assert_eq!(in_memory, owned);
        assert_eq!(
            streamed,
            owned.into_iter().map(|(_, m)| m).collect::<Vec<_>>()
        );
        let bad_utf8: Vec<_> = raw_messages(b"\n\xff\n").collect();
        assert_eq!(bad_utf8.len(), 1);
        assert_eq!(bad_utf8[0].0, 2);
        assert!(bad_utf8[0].1.is_err());
    }

    #[test]
    fn reports_io_errors_with_the_line() {
        struct Broken;
        impl std::io::Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk on fire"))
            }
        }
        let mut reader = MessageReader::new(std::io::BufReader::new(Broken));
        let err = reader.next().unwrap().unwrap_err();
        assert_eq!((err.line, err.problem.as_str()), (1, "disk on fire"));
    }
}
