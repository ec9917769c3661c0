//! `--verify`: checks the discovered catalog for metadata that must not be published, that the
//! given catalog files load, alone and together, and that the given state file loads and fits the
//! tap's streams.

use std::io::Write;

use burler_singer::Catalog;

use crate::cli::Cli;
use crate::error::Error;

/// The lines `--verify` prints, and how many of them are errors.
#[derive(Default)]
struct Findings {
    lines: Vec<String>,
    errors: usize,
}

impl Findings {
    fn error(&mut self, line: String) {
        self.errors += 1;
        self.lines.push(format!("error: {line}"));
    }

    fn warning(&mut self, line: String) {
        self.lines.push(format!("warning: {line}"));
    }
}

/// `--verify`: prints every problem of the discovered catalog (and of the given catalog and state
/// files) on stdout, one per line, then a summary; fails when any problem is an error.
pub(crate) fn verify(cli: &Cli, discovered: &Catalog, sink: &mut dyn Write) -> Result<(), Error> {
    let mut found = Findings::default();
    for problem in burler_singer::verify_catalog(discovered) {
        found.errors += usize::from(problem.is_error());
        found.lines.push(problem.to_string());
    }
    // The published catalog must read back as the same catalog (what a target or Meltano parses).
    let published = serde_json::to_string(discovered).map_err(|e| Error::Output(e.into()))?;
    if Catalog::from_json_str(&published).ok().as_ref() != Some(discovered) {
        found.error("the discovered catalog does not read back as written".into());
    }
    let catalog = check_catalog_files(cli, discovered, &mut found);
    check_state_file(
        cli,
        catalog.as_ref().unwrap_or(discovered),
        discovered,
        &mut found,
    );
    let warnings = found.lines.len() - found.errors;
    found.lines.push(format!(
        "verify: {} stream(s), {} error(s), {warnings} warning(s)",
        discovered.streams.len(),
        found.errors
    ));
    let mut text = found.lines.join("\n");
    text.push('\n');
    sink.write_all(text.as_bytes())
        .and_then(|_| sink.flush())
        .map_err(Error::Output)?;
    if found.errors > 0 {
        return Err(Error::VerifyFailed {
            errors: found.errors,
        });
    }
    Ok(())
}

/// The catalog options must load, alone and together, without a crash (a catalog file with
/// unknown streams or a non-boolean `selected` is the user's error, reported as one). Returns the
/// catalog a sync would use, when it loads.
fn check_catalog_files(cli: &Cli, discovered: &Catalog, found: &mut Findings) -> Option<Catalog> {
    for (flag, path) in [
        ("--catalog", &cli.catalog),
        ("--properties", &cli.properties),
    ] {
        if let Some(path) = path {
            let alone = Cli {
                catalog: Some(path.clone()),
                properties: None,
                ..cli.clone()
            };
            if let Err(e) = crate::inputs::load_catalog(&alone, discovered) {
                // `e` names the file already.
                found.error(format!("{flag}: {e}"));
            }
        }
    }
    let both = cli.catalog.is_some() && cli.properties.is_some();
    match crate::inputs::load_catalog(cli, discovered) {
        Ok(catalog) => Some(catalog),
        Err(e) if both => {
            found.error(format!("--catalog with --properties: {e}"));
            None
        }
        Err(_) => None,
    }
}

/// `--state` must load and fit: bookmarks of streams the tap does not have or kept for another
/// replication key are warnings, a value that cannot be its key's is an error (as in a sync).
fn check_state_file(cli: &Cli, catalog: &Catalog, discovered: &Catalog, found: &mut Findings) {
    let Some(path) = &cli.state else {
        return;
    };
    let mut state = match crate::inputs::load_state(cli) {
        Ok(state) => state,
        Err(e) => return found.error(format!("--state: {e}")),
    };
    let keys = crate::inputs::incremental_keys(catalog);
    let keys = keys.iter().map(|(name, key)| (*name, key.as_str()));
    let state_found = crate::inputs::check_state(&mut state, keys, catalog, discovered);
    let at = format!("--state {}", path.display());
    for warning in state_found.warnings {
        found.warning(format!("{at}: {warning}"));
    }
    for error in state_found.errors {
        found.error(format!("{at}: {error}"));
    }
}
