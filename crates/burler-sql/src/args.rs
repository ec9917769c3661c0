//! A first look at the command line, before the framework parses it: a database tap's streams are
//! the database's tables, so the tap must read the config (and the catalog, and the state) to
//! know its streams before it can hand them to the framework.
//!
//! Only the files are read here; every check and every error message stays the framework's: when
//! anything here cannot be read, the tap is built without streams and the framework reports the
//! problem as it always does.

use std::ffi::OsString;
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The options that decide which streams the tap has.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Scan {
    pub(crate) configs: Vec<PathBuf>,
    pub(crate) catalog: Option<PathBuf>,
    pub(crate) properties: Option<PathBuf>,
    pub(crate) state: Option<PathBuf>,
    pub(crate) discover: bool,
    /// `--help`, `--version` or `--about`: no database needed.
    pub(crate) no_database: bool,
}

impl Scan {
    /// Reads the arguments (the first is the program name) as the framework's command line does.
    pub(crate) fn of(args: &[OsString]) -> Scan {
        let mut scan = Scan::default();
        let mut it = args
            .iter()
            .skip(1)
            .map(|a| a.to_string_lossy().into_owned());
        while let Some(arg) = it.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
                _ => split_short(&arg),
            };
            let mut value = || inline.clone().or_else(|| it.next()).map(PathBuf::from);
            match flag.as_str() {
                "-c" | "--config" => scan.configs.extend(value()),
                "--catalog" => scan.catalog = value(),
                "-p" | "--properties" => scan.properties = value(),
                "-s" | "--state" => scan.state = value(),
                "-d" | "--discover" => scan.discover = true,
                "-h" | "--help" | "-V" | "--version" | "--about" => scan.no_database = true,
                _ => {}
            }
        }
        scan
    }

    /// The catalog file the framework will use (`--catalog` wins over `--properties`).
    pub(crate) fn catalog_file(&self) -> Option<&PathBuf> {
        self.catalog.as_ref().or(self.properties.as_ref())
    }

    /// The merged config (later files win, key by key), parsed; `None` when a file cannot be read
    /// or the result does not parse (the framework then says why).
    pub(crate) fn config<C: DeserializeOwned>(&self) -> Option<C> {
        let mut merged = Map::new();
        for path in &self.configs {
            let text = std::fs::read_to_string(path).ok()?;
            let Value::Object(map) = serde_json::from_str(&text).ok()? else {
                return None;
            };
            merged.extend(map);
        }
        serde_json::from_value(Value::Object(merged)).ok()
    }
}

/// `-cFILE` → (`-c`, `FILE`); anything else unchanged.
fn split_short(arg: &str) -> (String, Option<String>) {
    let b = arg.as_bytes();
    if b.len() > 2 && b[0] == b'-' && b[1] != b'-' && matches!(b[1], b'c' | b'p' | b's') {
        return (arg[..2].to_owned(), Some(arg[2..].to_owned()));
    }
    (arg.to_owned(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(args: &[&str]) -> Scan {
        let args: Vec<OsString> = std::iter::once("tap")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        Scan::of(&args)
    }

    #[test]
    fn every_spelling_of_the_file_options_is_read() {
        let s = scan(&[
            "--config",
            "a.json",
            "-cb.json",
            "--config=c.json",
            "-p",
            "p.json",
            "--state=s.json",
            "--discover",
        ]);
        assert_eq!(s.configs, ["a.json", "b.json", "c.json"].map(PathBuf::from));
        assert_eq!(s.catalog_file(), Some(&PathBuf::from("p.json")));
        assert_eq!(s.state, Some(PathBuf::from("s.json")));
        assert!(s.discover && !s.no_database);
        let both = scan(&["--properties", "p.json", "--catalog", "c.json", "--about"]);
        assert_eq!(both.catalog_file(), Some(&PathBuf::from("c.json")));
        assert!(both.no_database);
    }

    #[test]
    fn later_config_files_win_key_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
        std::fs::write(&a, r#"{"x": 1, "y": 1}"#).unwrap();
        std::fs::write(&b, r#"{"y": 2}"#).unwrap();
        let s = Scan {
            configs: vec![a.clone(), b],
            ..Scan::default()
        };
        assert_eq!(
            s.config::<Value>(),
            Some(serde_json::json!({"x": 1, "y": 2}))
        );
        std::fs::write(&a, "[1]").unwrap();
        assert_eq!(s.config::<Value>(), None);
    }
}
