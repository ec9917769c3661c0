//! `burler new`, `burler run` and `burler manifest` in a build without the `framework` feature
//! (`cargo install --no-default-features`, for `burler check` without compiling the framework):
//! they stay known, so a user who reaches for them reads how to get them instead of clap's
//! "unrecognized subcommand".

use std::ffi::OsString;
use std::process::ExitCode;

/// Whatever follows the subcommand: not read.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<OsString>,
}

/// Says, in one line, that `burler <command>` is not in this build and how to get it; exit 2.
pub fn refuse(command: &str) -> ExitCode {
    eprintln!(
        "burler: `burler {command}` is not in this build (installed without the `framework` \
         feature): reinstall burler-cli with its default features"
    );
    ExitCode::from(2)
}
