//! {{tap_name}}: the manifest `{{tap_name}}.yaml` compiled into a Singer tap binary, so the tap
//! ships as one file (`burler run {{tap_name}}.yaml` runs the same manifest without compiling).

use std::path::Path;
use std::process::ExitCode;

/// The manifest, next to this crate's Cargo.toml.
const MANIFEST: &str = include_str!("../{{tap_name}}.yaml");

fn main() -> ExitCode {
    match burler_manifest::Manifest::from_text(MANIFEST, Path::new("{{tap_name}}.yaml")) {
        Ok(manifest) => manifest.into_tap().run(),
        Err(err) => {
            for line in err.to_string().lines() {
                eprintln!("CRITICAL {line}");
            }
            ExitCode::from(1)
        }
    }
}
