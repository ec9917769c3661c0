//! `burler meltano` end to end: it runs the tap command with `--about --format json` appended and
//! prints the plugin definition as YAML; a tap that fails or prints no JSON gives one line.

use assert_cmd::Command;

/// A stand-in tap: a shell script that prints an about document when asked for it exactly so.
fn fake_tap(dir: &std::path::Path, about: &str) -> std::path::PathBuf {
    let path = dir.join("tap.sh");
    let script = format!(
        "if [ \"$1 $2 $3\" = '--about --format json' ]; then printf '%s' '{about}'; \
         else echo \"CRITICAL unexpected arguments: $*\" >&2; exit 2; fi\n"
    );
    std::fs::write(&path, script).unwrap();
    path
}

fn burler() -> Command {
    Command::cargo_bin("burler").unwrap()
}

#[test]
fn prints_the_definition_of_the_tap() {
    let dir = tempfile::tempdir().unwrap();
    let about = r#"{"name": "tap-shop", "capabilities": ["state", "about"],
        "settings": {"required": ["token"], "properties": {"token": {"type": "string", "secret": true}}}}"#;
    let tap = fake_tap(dir.path(), about);
    let out = burler()
        .args(["meltano", "--executable", "/opt/tap-shop", "--"])
        .arg("sh")
        .arg(&tap)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = "capabilities:\n- about\n- state\nexecutable: /opt/tap-shop\nlabel: Shop\n\
name: tap-shop\nnamespace: tap_shop\nsettings:\n- description: \"\"\n  kind: password\n  \
label: Token\n  name: token\n  sensitive: true\nsettings_group_validation:\n- - token\n";
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
}

#[test]
fn a_failing_tap_is_one_line_naming_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let tap = fake_tap(dir.path(), "not json");
    let out = burler()
        .args(["meltano", "--", "sh"])
        .arg(&tap)
        .arg("extra")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("--about --format json: exit status: 2: CRITICAL unexpected arguments"),
        "{stderr}"
    );

    let out = burler()
        .args(["meltano", "--", "sh"])
        .arg(&tap)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.starts_with("burler meltano: sh ") && stderr.contains("not JSON"),
        "{stderr}"
    );
}
