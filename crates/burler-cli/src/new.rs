//! `burler new tap-NAME --template rest|graphql|sql|files|manifest`: a new tap crate that
//! builds, passes its tests (the test kit's standard suite, resume check included, against a
//! fixture it brings: an in-process API, a SQLite file or sample files) and runs offline, with a
//! Meltano Hub style README, a `meltano.yml` and a CI script.
//!
//! The templates are files embedded in this binary ([`crate::templates`]) with `{{name}}`
//! placeholders filled by string replacement. The README's about section and the
//! `meltano.yml` extractor are not templates: they are rendered here by the framework itself,
//! from the template's config type (compiled into this binary too), so they say exactly what
//! the generated tap's `--about` will say.
//!
//! burler is not on crates.io, so the generated `Cargo.toml` needs a source for it:
//! `--burler-path DIR` (a burler checkout), `--burler-git URL` (with `--burler-rev`), or by
//! default the checkout this binary was built from when it still exists, else the project's
//! git repository. With a path source the checkout's `Cargo.lock` is copied in, so the new tap
//! starts on the dependency versions burler was tested with.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::templates::{self, Template};

/// `burler new` arguments.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The tap's name: `tap-` then lowercase letters, digits and `-` (e.g. `tap-shop`).
    name: String,
    /// What the tap reads.
    #[arg(long, value_enum, default_value_t = TemplateName::Rest)]
    template: TemplateName,
    /// The directory to create (default: `./NAME`); it must not exist.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The one-line description shown by `--about` (no quotes or backslashes).
    #[arg(long)]
    description: Option<String>,
    /// Take burler from this checkout (path dependencies).
    #[arg(long, value_name = "DIR", conflicts_with = "burler_git")]
    burler_path: Option<PathBuf>,
    /// Take burler from this git repository.
    #[arg(long, value_name = "URL")]
    burler_git: Option<String>,
    /// The commit, tag or branch of `--burler-git`.
    #[arg(long, value_name = "REV", requires = "burler_git")]
    burler_rev: Option<String>,
}

/// The templates, by the name `--template` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TemplateName {
    /// A REST API (burler-http: bearer token, cursor pagination, incremental, a sub-stream).
    Rest,
    /// A GraphQL API (burler-http: connections with `pageInfo`, incremental by a variable).
    Graphql,
    /// A SQLite database (burler-sql: discovery from the catalog, FULL_TABLE and INCREMENTAL).
    Sql,
    /// A directory of JSON Lines and CSV files.
    Files,
    /// A declarative manifest (burler-manifest: YAML, no Rust to write).
    Manifest,
}

/// Where the generated `Cargo.toml` takes burler from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A burler checkout: `path = "<dir>/crates/<crate>"`.
    Path(PathBuf),
    /// A git repository: `git = "<url>"`, with an optional `rev`.
    Git {
        /// The repository.
        url: String,
        /// The commit, tag or branch.
        rev: Option<String>,
    },
}

impl Source {
    /// The dependency's table body for `krate`, e.g. `path = "/src/burler/crates/burler-http"`.
    pub fn dependency(&self, krate: &str) -> String {
        match self {
            Source::Path(root) => {
                let path = root.join("crates").join(krate);
                format!("path = {}", toml_string(&path.to_string_lossy()))
            }
            Source::Git { url, rev: None } => format!("git = {}", toml_string(url)),
            Source::Git {
                url,
                rev: Some(rev),
            } => {
                format!("git = {}, rev = {}", toml_string(url), toml_string(rev))
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            Source::Path(root) => format!("burler from {}", root.display()),
            Source::Git { url, rev } => match rev {
                Some(rev) => format!("burler from {url} at {rev}"),
                None => format!("burler from {url}"),
            },
        }
    }
}

/// A TOML basic string (the same escapes as JSON).
fn toml_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// The checkout this binary was built from, if it is still there.
fn built_from() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().ok()?;
    root.join("crates/burler/Cargo.toml")
        .is_file()
        .then_some(root)
}

fn source(args: &NewArgs) -> Result<Source, String> {
    if let Some(url) = &args.burler_git {
        return Ok(Source::Git {
            url: url.clone(),
            rev: args.burler_rev.clone(),
        });
    }
    if let Some(dir) = &args.burler_path {
        let root = dir
            .canonicalize()
            .map_err(|e| format!("--burler-path {}: {e}", dir.display()))?;
        if !root.join("crates/burler/Cargo.toml").is_file() {
            return Err(format!(
                "--burler-path {}: not a burler checkout (no crates/burler/Cargo.toml)",
                dir.display()
            ));
        }
        return Ok(Source::Path(root));
    }
    Ok(built_from().map_or_else(
        || Source::Git {
            url: env!("CARGO_PKG_REPOSITORY").to_owned(),
            rev: None,
        },
        Source::Path,
    ))
}

/// Checks a tap name: `tap-` then lowercase ASCII letters, digits and single `-`.
pub fn check_name(name: &str) -> Result<(), String> {
    let rest = name.strip_prefix("tap-").unwrap_or("");
    let ok = !rest.is_empty()
        && rest.starts_with(|c: char| c.is_ascii_lowercase())
        && !rest.ends_with('-')
        && !rest.contains("--")
        && rest
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a tap name: `tap-` then lowercase letters, digits and `-` (e.g. tap-shop)"
        ))
    }
}

fn check_description(description: &str) -> Result<(), String> {
    if description.contains(['"', '\\', '\n', '\r']) {
        Err("--description: no quotes, backslashes or line breaks (it goes into Rust, TOML and YAML strings)".into())
    } else {
        Ok(())
    }
}

/// Runs `burler new`.
pub fn run(args: &NewArgs) -> ExitCode {
    match generate(args) {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("burler new: {message}");
            ExitCode::from(1)
        }
    }
}

fn generate(args: &NewArgs) -> Result<String, String> {
    check_name(&args.name)?;
    let template = templates::template(args.template);
    let description = args
        .description
        .clone()
        .unwrap_or_else(|| template.description.to_owned());
    check_description(&description)?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    if dir.exists() {
        return Err(format!(
            "{} already exists: nothing written (choose another --dir or remove it)",
            dir.display()
        ));
    }
    let source = source(args)?;
    let tap = NewTap {
        name: args.name.clone(),
        description,
        source,
    };
    write_tap(&dir, &template, &tap).inspect_err(|_| {
        // Leave nothing half-written behind.
        let _ = std::fs::remove_dir_all(&dir);
    })?;
    Ok(format!(
        "created {} ({} template, {}) in {}\nnext: cd {} && ./ci.sh",
        tap.name,
        template.name,
        tap.source.describe(),
        dir.display(),
        dir.display()
    ))
}

/// What the placeholders are filled with.
#[derive(Debug, Clone)]
pub struct NewTap {
    /// `tap-shop`.
    pub name: String,
    /// The `--about` description.
    pub description: String,
    /// Where burler comes from.
    pub source: Source,
}

impl NewTap {
    /// `text` with every placeholder filled in.
    pub fn fill(&self, text: &str) -> String {
        let mut out = text
            .replace("{{tap_name}}", &self.name)
            .replace("{{crate_name}}", &self.name.replace('-', "_"))
            .replace("{{description}}", &self.description);
        for krate in [
            "burler",
            "burler-http",
            "burler-sql",
            "burler-testkit",
            "burler-manifest",
        ] {
            out = out.replace(
                &format!("{{{{source:{krate}}}}}"),
                &self.source.dependency(krate),
            );
        }
        out
    }
}

fn write_file(dir: &Path, relative: &str, contents: &str) -> Result<(), String> {
    let path = dir.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(&path, contents).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes the template's files, then the README and `meltano.yml` rendered from the tap's about.
fn write_tap(dir: &Path, template: &Template, tap: &NewTap) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (relative, contents) in template.files {
        write_file(dir, &tap.fill(relative), &tap.fill(contents))?;
    }
    make_executable(&dir.join("ci.sh"))?;
    if let Source::Path(root) = &tap.source {
        // The versions burler was tested with; cargo drops what the tap does not use.
        if let Ok(lock) = std::fs::read_to_string(root.join("Cargo.lock")) {
            write_file(dir, "Cargo.lock", &lock)?;
        }
    }
    let about_markdown = (template.about)(dir, tap, "markdown")?;
    let about_json = (template.about)(dir, tap, "json")?;
    let readme = tap
        .fill(templates::README)
        .replace("{{usage}}", &tap.fill(&template.usage))
        .replace("{{tests}}", &tap.fill(template.tests))
        .replace("{{about}}", &about_markdown);
    write_file(dir, "README.md", &readme)?;
    let meltano = templates::meltano_yml(tap, &about_json, template.sample_config)?;
    write_file(dir, "meltano.yml", &meltano)
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tap_names_are_checked() {
        for good in ["tap-shop", "tap-my-api2"] {
            assert_eq!(check_name(good), Ok(()));
        }
        for bad in [
            "shop", "tap-", "tap-Shop", "tap-2x", "tap-a--b", "tap-a-", "tap-a_b",
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sources_become_dependency_tables() {
        let path = Source::Path(PathBuf::from("/src/burler"));
        assert_eq!(
            path.dependency("burler-http"),
            r#"path = "/src/burler/crates/burler-http""#
        );
        let git = Source::Git {
            url: "https://example.com/burler".into(),
            rev: Some("v0.1.0".into()),
        };
        assert_eq!(
            git.dependency("burler"),
            r#"git = "https://example.com/burler", rev = "v0.1.0""#
        );
    }

    #[test]
    fn placeholders_are_filled() {
        let tap = NewTap {
            name: "tap-shop".into(),
            description: "Orders".into(),
            source: Source::Git {
                url: "u".into(),
                rev: None,
            },
        };
        assert_eq!(
            tap.fill("{{tap_name}} {{crate_name}} {{description}} { {{source:burler-sql}} } {{ parent.id }}"),
            r#"tap-shop tap_shop Orders { git = "u" } {{ parent.id }}"#
        );
    }

    #[test]
    fn descriptions_that_would_break_strings_are_refused() {
        assert!(check_description("Orders and \"customers\"").is_err());
        assert!(check_description("Orders, customers").is_ok());
    }
}
