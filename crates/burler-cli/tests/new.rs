//! `burler new`: every template writes its files with the placeholders filled, a README whose
//! about section is the tap's `--about --format markdown`, and a `meltano.yml` with the
//! extractor; an existing directory, a bad name or a bad description is refused with one line.
//! (`.ci/newtap.sh` builds, tests and runs the generated taps under Meltano.)
//!
//! Built with the default `framework` feature only (the command is not in a build without it).
#![cfg(feature = "framework")]

use assert_cmd::Command;
use std::path::Path;

fn burler() -> Command {
    Command::cargo_bin("burler").unwrap()
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn every_template_writes_a_complete_crate() {
    let cases = [
        (
            "rest",
            "src/main.rs",
            "| `api_token` | yes | string |  | yes |",
        ),
        (
            "graphql",
            "tests/fixture/mod.rs",
            "| `base_url` | yes | string |",
        ),
        (
            "sql",
            "examples/fixture.rs",
            "| `database` | yes | string |",
        ),
        (
            "files",
            "data/orders.jsonl",
            "| `data_dir` | yes | string |",
        ),
        (
            "manifest",
            "tap-shop.yaml",
            "| `api_token` | yes | string |  | yes |",
        ),
    ];
    for (template, own_file, setting_row) in cases {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("tap-shop");
        let out = burler()
            .args(["new", "tap-shop", "--template", template, "--dir"])
            .arg(&dir)
            .args([
                "--burler-git",
                "https://example.com/burler.git",
                "--burler-rev",
                "abc123",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{template}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for file in [
            "Cargo.toml",
            "src/main.rs",
            "tests/suite.rs",
            "ci.sh",
            ".gitignore",
            own_file,
        ] {
            assert!(dir.join(file).is_file(), "{template}: no {file}");
        }
        let every_file = walk(&dir);
        for (file, text) in &every_file {
            assert!(
                !text.contains("{{tap_name}}") && !text.contains("{{source:"),
                "{template}: {file}"
            );
        }
        let cargo = read(&dir, "Cargo.toml");
        assert!(cargo.contains("name = \"tap-shop\""), "{cargo}");
        assert!(
            cargo.contains(r#"git = "https://example.com/burler.git", rev = "abc123""#),
            "{cargo}"
        );
        assert!(
            !dir.join("Cargo.lock").exists(),
            "a git source brings no lock file"
        );
        let readme = read(&dir, "README.md");
        assert!(
            readme.starts_with("<!-- about:start -->\n# tap-shop\n"),
            "{readme}"
        );
        assert!(readme.contains(setting_row), "{template}: {readme}");
        assert!(
            readme.contains("## Capabilities\n\n* `catalog`"),
            "{readme}"
        );
        let meltano = read(&dir, "meltano.yml");
        assert!(
            meltano.contains("  - capabilities:\n") && meltano.contains("    name: tap-shop\n"),
            "{meltano}"
        );
        assert!(meltano.contains("    executable: tap-shop\n"), "{meltano}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("ci.sh"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o111, 0o111, "ci.sh is executable");
        }
    }
}

fn walk(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
    out
}

#[test]
fn a_path_source_points_at_the_checkout_and_copies_its_lock_file() {
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("tap-shop");
    let out = burler()
        .args(["new", "tap-shop", "--template", "sql", "--dir"])
        .arg(&dir)
        .arg("--burler-path")
        .arg(&checkout)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cargo = read(&dir, "Cargo.toml");
    let expected = format!(
        "path = \"{}\"",
        checkout.join("crates/burler-sql").display()
    );
    assert!(cargo.contains(&expected), "{cargo}");
    assert_eq!(read(&dir, "Cargo.lock"), read(&checkout, "Cargo.lock"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("created tap-shop (sql template") && stdout.contains("./ci.sh"),
        "{stdout}"
    );
}

#[test]
fn refusals_are_one_line_and_write_nothing() {
    let work = tempfile::tempdir().unwrap();
    let existing = work.path().join("tap-shop");
    std::fs::create_dir(&existing).unwrap();
    std::fs::write(existing.join("keep.txt"), "mine").unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["new", "tap-shop"], "already exists: nothing written"),
        (&["new", "shop"], "is not a tap name"),
        (
            &["new", "tap-other", "--description", "say \"hi\""],
            "--description: no quotes",
        ),
        (
            &["new", "tap-other", "--burler-path", "no/such/dir"],
            "--burler-path no/such/dir",
        ),
    ];
    for (args, expected) in cases {
        let out = burler()
            .current_dir(work.path())
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("burler new: ") && stderr.contains(expected),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(read(&existing, "keep.txt"), "mine");
    assert!(!work.path().join("tap-other").exists());
}

#[test]
fn the_rest_template_is_the_book_tutorial_tap() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tap-tutorial");
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("tap-shop");
    let out = burler()
        .args(["new", "tap-shop", "--dir"])
        .arg(&dir)
        .args(["--burler-git", "https://github.com/burler-rs/burler"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in [
        "src/main.rs",
        "src/config.rs",
        "tests/suite.rs",
        "tests/fixture/mod.rs",
        "examples/fixture.rs",
        "README.md",
        "meltano.yml",
        "ci.sh",
        ".github/workflows/ci.yml",
        ".gitignore",
    ] {
        assert_eq!(
            read(&dir, file),
            read(&example, file),
            "examples/tap-tutorial/{file} is not what `burler new tap-shop --template rest` writes"
        );
    }
}
