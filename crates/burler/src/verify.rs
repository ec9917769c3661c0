//! `--verify`: checks the discovered catalog for metadata that must not be published and that the
//! given catalog files load, alone and together.

use std::io::Write;

use burler_singer::Catalog;

use crate::cli::Cli;
use crate::error::Error;

/// `--verify`: prints every problem of the discovered catalog (and of the given catalog files) on
/// stdout, one per line, then a summary; fails when any problem is an error.
pub(crate) fn verify(cli: &Cli, discovered: &Catalog, sink: &mut dyn Write) -> Result<(), Error> {
    let mut lines: Vec<String> = Vec::new();
    let mut errors = 0;
    for problem in burler_singer::verify_catalog(discovered) {
        errors += usize::from(problem.is_error());
        lines.push(problem.to_string());
    }
    // The published catalog must read back as the same catalog (what a target or Meltano parses).
    let published = serde_json::to_string(discovered).map_err(|e| Error::Output(e.into()))?;
    if Catalog::from_json_str(&published).ok().as_ref() != Some(discovered) {
        errors += 1;
        lines.push("error: the discovered catalog does not read back as written".into());
    }
    // The catalog options must load, alone and together, without a crash (a catalog file with
    // unknown streams is the user's error, reported as one).
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
                errors += 1;
                // `e` names the file already.
                lines.push(format!("error: {flag}: {e}"));
            }
        }
    }
    if cli.catalog.is_some() && cli.properties.is_some() {
        if let Err(e) = crate::inputs::load_catalog(cli, discovered) {
            errors += 1;
            lines.push(format!("error: --catalog with --properties: {e}"));
        }
    }
    let warnings = lines.len() - errors;
    lines.push(format!(
        "verify: {} stream(s), {errors} error(s), {warnings} warning(s)",
        discovered.streams.len()
    ));
    let mut text = lines.join("\n");
    text.push('\n');
    sink.write_all(text.as_bytes())
        .and_then(|_| sink.flush())
        .map_err(Error::Output)?;
    if errors > 0 {
        return Err(Error::VerifyFailed { errors });
    }
    Ok(())
}
