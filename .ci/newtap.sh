#!/usr/bin/env bash
# `burler new` end to end: generates a tap from every template in a temporary directory, runs
# the generated CI script (cargo fmt --check, clippy -D warnings, its tests: the test kit's
# standard suite with the resume check against the template's fixture, and the README's about
# section against the built tap), then runs the tap under Meltano twice from the generated
# meltano.yml (the second run incremental), and checks that `burler meltano` prints the same
# extractor definition as that meltano.yml and that Meltano reads it (`meltano add --from-ref`).
#
# Usage: .ci/newtap.sh [TEMPLATE...]   (default: rest graphql sql files manifest)
# The generated taps build into the workspace's target dir (CARGO_TARGET_DIR, default
# ./target) so they reuse its compiled dependencies; burler comes from this checkout.
# Meltano and target-jsonl come from .ci/interop/setup.sh's venvs (run here, a no-op when they
# are up to date). Every check prints PASS or FAIL; the last line is `N passed, M failed`.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENVS=${BURLER_VENVS:-$HOME/.cache/burler-venvs}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
[[ $CARGO_TARGET_DIR == /* ]] || CARGO_TARGET_DIR="$REPO/$CARGO_TARGET_DIR"
export CARGO_TERM_COLOR=never
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false MELTANO_DISABLE_TRACKING=true
export MELTANO_SNOWPLOW_COLLECTOR_ENDPOINTS='[]' MELTANO_HUB_URL=http://127.0.0.1:9 NO_COLOR=1
MELTANO="$VENVS/meltano/bin/meltano"
MPY="$VENVS/meltano/bin/python"  # has ruamel.yaml, Meltano's own YAML library
BURLER="$CARGO_TARGET_DIR/debug/burler"
PASSED=0
FAILED=0
FIXTURE_PID=""

pass() { echo "PASS $1"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $1: $2"; FAILED=$((FAILED + 1)); }
last_line() { grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1 | cut -c1-300; }

stop_fixture() {
    if [[ -n $FIXTURE_PID ]]; then kill "$FIXTURE_PID" 2>/dev/null; wait "$FIXTURE_PID" 2>/dev/null; fi
    FIXTURE_PID=""
}
trap stop_fixture EXIT

# Starts the tap's fixture (API server, database or sample files) and writes the config the
# tap runs with under Meltano to $3/config.json ($1 template, $2 tap dir, $3 work dir).
fixture_config() {
    local template=$1 dir=$2 work=$3 url
    case $template in
        rest | graphql | manifest)
            (cd "$dir" && cargo build -q --example fixture) || return 1
            "$CARGO_TARGET_DIR/debug/examples/fixture" ci-token >"$work/fixture.out" 2>&1 &
            FIXTURE_PID=$!
            for _ in $(seq 50); do
                url=$(head -n 1 "$work/fixture.out" 2>/dev/null)
                [[ $url == http* ]] && break
                sleep 0.1
            done
            [[ $url == http* ]] || return 1
            echo "{\"base_url\": \"$url\", \"api_token\": \"ci-token\", \"start_date\": \"2024-01-01T00:00:00Z\"}" >"$work/config.json" ;;
        sql)
            (cd "$dir" && cargo run -q --example fixture -- "$work/shop.db") >/dev/null || return 1
            echo "{\"database\": \"$work/shop.db\", \"start_date\": \"2024-01-01T00:00:00Z\"}" >"$work/config.json" ;;
        files)
            echo "{\"data_dir\": \"$dir/data\", \"start_date\": \"2024-01-01T00:00:00Z\"}" >"$work/config.json" ;;
    esac
}

# Rewrites the generated meltano.yml for this machine: the tap binary's path, its config, and
# target-jsonl from its venv as the loader.
meltano_project() {
    local yml=$1 tap_bin=$2 config=$3 out=$4
    "$MPY" - "$yml" "$tap_bin" "$config" "$out" "$VENVS" <<'PY'
import json, sys
from ruamel.yaml import YAML
yml, tap_bin, config, out, venvs = sys.argv[1:6]
yaml = YAML()
project = yaml.load(open(yml))
extractor = project["plugins"]["extractors"][0]
extractor["executable"] = tap_bin
extractor["config"] = json.loads(config)
project["plugins"]["loaders"] = [{
    "name": "target-jsonl", "namespace": "target_jsonl",
    "executable": f"{venvs}/target-jsonl/bin/target-jsonl",
    "settings": [{"name": "destination_path"}, {"name": "do_timestamp_file", "kind": "boolean"}],
    "config": {"destination_path": out, "do_timestamp_file": False},
}]
yaml.dump(project, open(yml, "w"))
PY
}

# `burler meltano`'s definition equals meltano.yml's extractor (config aside).
same_definition() {
    "$MPY" - "$1" "$2" <<'PY'
import sys
from ruamel.yaml import YAML
yaml = YAML(typ="safe")
definition = yaml.load(open(sys.argv[1]))
extractor = dict(yaml.load(open(sys.argv[2]))["plugins"]["extractors"][0])
extractor.pop("config", None)
if definition != extractor:
    print(f"differ: burler meltano {definition} vs meltano.yml {extractor}")
    sys.exit(1)
PY
}

rows() { cat "$1"/*"$2"*.jsonl 2>/dev/null | grep -c . ; }

check_meltano() {
    local template=$1 dir=$2 name=$3 work=$4 tap_bin="$CARGO_TARGET_DIR/debug/$3" config project
    if ! "$BURLER" meltano -- "$tap_bin" >"$work/definition.yml" 2>"$work/definition.err"; then
        fail "$name: burler meltano" "$(last_line "$work/definition.err")"; return
    fi
    if why=$(same_definition "$work/definition.yml" "$dir/meltano.yml"); then
        pass "$name: burler meltano prints meltano.yml's extractor"
    else
        fail "$name: burler meltano prints meltano.yml's extractor" "$why"
    fi
    mkdir -p "$work/added"
    if (cd "$work/added" && "$MELTANO" init --no-usage-stats project && cd project \
        && "$MELTANO" add "$name" --from-ref "$work/definition.yml" \
        && "$MELTANO" config list "$name") >"$work/added.log" 2>&1; then
        pass "$name: meltano add --from-ref reads burler meltano's definition"
    else
        fail "$name: meltano add --from-ref" "$(grep -iE 'error|invalid' "$work/added.log" | head -n 1)"
    fi
    if ! fixture_config "$template" "$dir" "$work"; then
        fail "$name: fixture" "$(last_line "$work/fixture.out")"; return
    fi
    config=$(cat "$work/config.json")
    project="$work/meltano"
    mkdir -p "$project/out1" "$project/out2"
    cp "$dir/meltano.yml" "$project/meltano.yml"
    meltano_project "$project/meltano.yml" "$tap_bin" "$config" "$project/out1" || { fail "$name: meltano project" "cannot rewrite meltano.yml"; return; }
    for run in 1 2; do
        (cd "$project" && TARGET_JSONL_DESTINATION_PATH="$project/out$run" \
            timeout 300 "$MELTANO" run "$name" target-jsonl) >"$work/meltano.run$run.log" 2>&1 \
            || { fail "$name: meltano run $run" "$(grep -E 'CRITICAL|error' "$work/meltano.run$run.log" | head -n 1 | cut -c1-300)"; stop_fixture; return; }
    done
    stop_fixture
    local first second
    first=$(rows "$project/out1" orders)
    second=$(rows "$project/out2" orders)
    if [[ $first -gt 0 && $second -lt $first ]]; then
        pass "$name: meltano run twice, the second incremental (orders: $first rows, then $second)"
    else
        fail "$name: meltano run twice" "orders: $first rows in run 1, $second in run 2"
    fi
}

check_template() {
    local template=$1 name="tap-ci-$1" work dir
    work=$(mktemp -d "${TMPDIR:-/tmp}/burler-newtap.$template.XXXXXX")
    dir="$work/$name"
    if ! "$BURLER" new "$name" --template "$template" --dir "$dir" >"$work/new.log" 2>&1; then
        fail "$name: burler new --template $template" "$(last_line "$work/new.log")"; return
    fi
    if "$BURLER" new "$name" --template "$template" --dir "$dir" >"$work/again.log" 2>&1; then
        fail "$name: burler new refuses an existing directory" "it exited 0"
    else
        pass "$name: burler new --template $template, and refuses to overwrite it: $(last_line "$work/again.log")"
    fi
    local start=$SECONDS
    if (cd "$dir" && ./ci.sh) >"$work/ci.log" 2>&1; then
        pass "$name: its ci.sh (fmt, clippy, tests with the standard suite, README about section) in $((SECONDS - start)) s"
    else
        fail "$name: its ci.sh" "$(grep -E '^error|FAILED|panicked|differs' "$work/ci.log" | head -n 1 | cut -c1-300)"
        echo "   log: $work/ci.log"; return
    fi
    check_meltano "$template" "$dir" "$name" "$work"
    if [[ ${NEWTAP_KEEP:-0} == 1 ]]; then echo "   kept $work"; else rm -rf "$work"; fi
}

main() {
    local templates=("$@")
    [[ ${#templates[@]} -gt 0 ]] || templates=(rest graphql sql files manifest)
    cargo build -q -p burler-cli || { fail "build" "cargo build -p burler-cli"; return 1; }
    "$REPO/.ci/interop/setup.sh" meltano target-jsonl >/dev/null 2>&1 || fail "setup" "the meltano and target-jsonl venvs"
    local template
    for template in "${templates[@]}"; do check_template "$template"; done
    echo "$PASSED passed, $FAILED failed"
    [[ $FAILED -eq 0 ]]
}

main "$@"
