//! A streaming reader of line-delimited Singer messages that knows the line number of each one.

use std::io::BufRead;
use std::path::Path;

use crate::error::ProtocolError;
use crate::message::Message;

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

impl<R: BufRead> Iterator for MessageReader<R> {
    type Item = Result<Message, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buf.clear();
            self.line += 1;
            match self.reader.read_line(&mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    return Some(Err(ReadError {
                        line: self.line,
                        problem: e.to_string(),
                    }));
                }
            }
            let text = self.buf.trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() {
                continue;
            }
            return Some(Message::parse(text).map_err(|e| ReadError {
                line: self.line,
                problem: match e {
                    ProtocolError::Shape { problem, .. } => problem,
                    other => other.to_string(),
                },
            }));
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
