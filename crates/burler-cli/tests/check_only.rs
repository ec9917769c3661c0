//! The check-only build (`cargo install --no-default-features`): `burler new`, `burler run` and
//! `burler manifest` say in one line that they are not in this build and how to get them;
//! `burler check`, `meltano`, `schema` and `state` are there. Built only without the
//! `framework` feature (`.ci/cli-features.sh`).
#![cfg(not(feature = "framework"))]

use assert_cmd::cargo::cargo_bin_cmd;

#[test]
fn new_run_and_manifest_name_the_missing_feature_in_one_line() {
    for args in [
        &["run", "tap.yaml", "--config", "c.json"][..],
        &["manifest", "check", "tap.yaml"],
        &["manifest", "schema"],
        &["new", "tap-x", "--template", "rest"],
    ] {
        let out = cargo_bin_cmd!("burler").args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(
            stderr,
            format!(
                "burler: `burler {}` is not in this build (installed without the `framework` \
                 feature): reinstall burler-cli with its default features\n",
                args[0]
            )
        );
    }
}

#[test]
fn check_meltano_and_schema_are_in_the_check_only_build() {
    let out = cargo_bin_cmd!("burler").arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for command in ["check", "meltano", "schema", "state"] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(command)),
            "{command} in {help}"
        );
    }
    for command in ["check", "meltano", "state"] {
        let out = cargo_bin_cmd!("burler")
            .args([command, "--help"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{command}");
        assert!(
            String::from_utf8(out.stdout)
                .unwrap()
                .contains("Usage: burler"),
            "{command}"
        );
    }
}
