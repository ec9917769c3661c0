#!/usr/bin/env bash
# Conformance checks: runs `burler check` (the debug binary) against
#   - every example tap with an interop.env (examples/*/interop.env) and its own --verify;
#   - real third-party taps from PyPI, each from its own venv, all offline (must pass):
#       tap-spreadsheets (singer-sdk) on .ci/interop/data/products.csv,
#       tap-s3-csv (singer-io, singer-python) and pipelinewise-tap-s3-csv (PipelineWise) on the
#         CSV files of .ci/interop/data/s3, served by a moto S3 server on a loopback port;
#       pipelinewise-tap-postgres (PipelineWise) on data/postgres/shop.sql, in the PostgreSQL of
#         .ci/postgres.sh (BURLER_TEST_POSTGRES_URL; started here when unset), orders INCREMENTAL
#         on updated_at, customers FULL_TABLE;
#   - singer-python-tap/, a small tap written with singer-python's own helpers (write_bookmark,
#     currently_syncing): the state shape most third-party taps keep (must pass);
#   - examples/tap-rest again in pages of 10 (page_size), so its FULL_TABLE streams checkpoint
#     between pages: burler check, and lib/full_table_resume.py (a cut after a checkpoint resumes
#     with exactly the rows after it, under the same table version);
#   - .ci/interop/broken-tap, which must fail with a report naming its faults.
# Third-party taps run with every proxy variable pointing at a closed loopback port (and
# AWS_MAX_ATTEMPTS=1), so anything they try to reach beyond 127.0.0.1 fails at once, offline.
#
# Usage: .ci/interop/check.sh [EXAMPLE_DIR...]      (default: all of the above)
# Settings come from each EXAMPLE_DIR/interop.env (TAP_NAME, TAP_BIN, CONFIG; see .ci/interop.sh):
# "@EXAMPLE_DIR@" in the config is replaced by the absolute example path, and the tap runs with
# EXAMPLE_DIR as working directory. Binaries: ${CARGO_TARGET_DIR:-target}/debug/{burler,TAP_NAME}
# (build them first: cargo build --workspace --bins). Venvs: ${BURLER_VENVS:-~/.cache/burler-venvs},
# made by .ci/interop/setup.sh (run first, a no-op when up to date; INTEROP_SKIP_SETUP=1 skips it).
# Each tap run is limited to ${INTEROP_TIMEOUT:-300} s.
#
# Every check prints `PASS <what>` or `FAIL <what>: <why>` followed by burler check's report,
# indented; the last line is `N passed, M failed` and the exit code is non-zero when M > 0.
#
# burler check runs its resume-anywhere check on every tap (cut the output at 20+ lines, resume
# from the last STATE before each cut, lose no record).
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENVS=${BURLER_VENVS:-$HOME/.cache/burler-venvs}
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
[[ $TARGET_DIR == /* ]] || TARGET_DIR="$REPO/$TARGET_DIR"
BURLER=${BURLER_BIN:-$TARGET_DIR/debug/burler}
TIMEOUT=${INTEROP_TIMEOUT:-300}
BROKEN="$REPO/.ci/interop/broken-tap"
HERE="$REPO/.ci/interop"
THIRD_PARTY_VENVS=(tap-spreadsheets tap-s3-csv pipelinewise-tap-s3-csv moto singer-python
    pipelinewise-tap-postgres)
PASSED=0
FAILED=0

pass() { echo "PASS $1"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $1: $2"; FAILED=$((FAILED + 1)); }
indent() { sed 's/^/    /' "$1"; }

# judge LABEL DIR CONFIG [OPTION...] -- TAP COMMAND...: runs burler check on the tap in DIR and
# expects it to pass; prints the verdict and the report, indented. THIRD_PARTY=1: run offline.
judge() {
    local label=$1 dir=$2 config=$3 out
    shift 3
    out=$(mktemp -d "${TMPDIR:-/tmp}/burler-check.XXXXXX")
    local wrap=()
    [[ ${THIRD_PARTY:-0} == 1 ]] && wrap=(offline)
    (cd "$dir" && "${wrap[@]}" "$BURLER" check --timeout "$TIMEOUT" --config "$config" "$@") >"$out/report" 2>"$out/stderr"
    local status=$?
    if [[ $status == 0 ]]; then
        pass "$label: $(tail -n 1 "$out/report")"
    else
        fail "$label" "exit $status: $(grep -E '^FAIL' "$out/report" | head -n 3 | tr '\n' ';' | cut -c1-300)$(tail -n 1 "$out/stderr")"
    fi
    indent "$out/report"
    rm -rf "$out"
}

# Runs a third-party tap's command with its network cut to loopback (see the header).
offline() {
    HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9 \
        https_proxy=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost \
        no_proxy=127.0.0.1,localhost AWS_MAX_ATTEMPTS=1 "$@"
}

# Runs burler check on the tap of EXAMPLE_DIR ($1); expects it to pass.
check_example() {
    local dir=$1 work
    dir=$(cd "$dir" 2>/dev/null && pwd) || { fail "$1" "no such directory"; return; }
    unset TAP_NAME TAP_BIN CONFIG
    # shellcheck disable=SC1091
    EXAMPLE_DIR=$dir source "$dir/interop.env" || { fail "$dir" "interop.env does not load"; return; }
    TAP_NAME=${TAP_NAME:-$(basename "$dir")}
    TAP_BIN=${TAP_BIN:-$TARGET_DIR/debug/$TAP_NAME}
    [[ $TAP_BIN == /* ]] || TAP_BIN="$REPO/$TAP_BIN"
    local label="burler check $TAP_NAME"
    if [[ ! -x $TAP_BIN ]]; then fail "$label" "tap binary $TAP_BIN missing (build it first)"; return; fi
    if [[ -z ${CONFIG:-} || ! -f $dir/$CONFIG ]]; then fail "$label" "CONFIG '${CONFIG:-}' not found in $dir"; return; fi
    work=$(mktemp -d "${TMPDIR:-/tmp}/burler-check.$TAP_NAME.XXXXXX")
    sed "s|@EXAMPLE_DIR@|$dir|g" "$dir/$CONFIG" >"$work/config.json"
    local third_party=1
    [[ $TAP_BIN == "$TARGET_DIR"/* ]] && third_party=0
    THIRD_PARTY=$third_party judge "$label" "$dir" "$work/config.json" -- "$TAP_BIN"
    # A burler tap (built in this workspace) must also pass its own --verify.
    if [[ $TAP_BIN == "$TARGET_DIR"/* ]]; then
        if (cd "$dir" && "$TAP_BIN" --config "$work/config.json" --verify) >"$work/verify" 2>&1; then
            pass "$TAP_NAME --verify: $(tail -n 1 "$work/verify")"
        else
            fail "$TAP_NAME --verify" "$(tr '\n' ';' <"$work/verify" | cut -c1-300)"
        fi
    fi
    rm -rf "$work"
}

# The singer-python way of keeping state, written with singer-python itself.
check_singer_python_tap() {
    local work
    work=$(mktemp -d "${TMPDIR:-/tmp}/burler-check.singer-python.XXXXXX")
    echo '{}' >"$work/config.json"
    THIRD_PARTY=1 judge "burler check tap-singer-python (singer-python $(pinned singer-python singer-python))" "$work" \
        "$work/config.json" -- "$VENVS/singer-python/bin/python" "$HERE/singer-python-tap/tap_singer_python.py"
    rm -rf "$work"
}

# The version of package $1 pinned in requirements/$2.txt.
pinned() { grep -i "^$1==" "$HERE/requirements/$2.txt" | cut -d= -f3; }

# A free TCP port on the loopback interface.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Starts moto's S3 server on 127.0.0.1:$1 (pid in MOTO_PID) and uploads .ci/interop/data/s3/*.csv
# to the bucket "interop" under exports/.
start_s3() {
    local port=$1 log=$2
    "$VENVS/moto/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
    MOTO_PID=$!
    AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 \
        offline "$VENVS/moto/bin/python" - "$port" "$HERE/data/s3" <<'PY'
import pathlib, sys, time
import boto3
url = f"http://127.0.0.1:{sys.argv[1]}"
s3 = boto3.client("s3", endpoint_url=url)
for _ in range(100):  # the server takes a moment to listen
    try:
        s3.list_buckets()
        break
    except Exception:
        time.sleep(0.2)
s3.create_bucket(Bucket="interop")
for path in sorted(pathlib.Path(sys.argv[2]).glob("*.csv")):
    s3.upload_file(str(path), "interop", f"exports/{path.name}")
PY
}

# singer-io's tap-s3-csv (singer-python) and pipelinewise-tap-s3-csv (PipelineWise) on the same
# files, served by moto on a loopback port.
check_s3_taps() {
    local work port
    work=$(mktemp -d "${TMPDIR:-/tmp}/burler-check.s3.XXXXXX")
    port=$(free_port)
    if ! start_s3 "$port" "$work/moto.log" 2>"$work/upload.err"; then
        fail "S3 server (moto) on 127.0.0.1:$port" "$(tail -n 1 "$work/upload.err") $(tail -n 1 "$work/moto.log")"
        kill "$MOTO_PID" 2>/dev/null
        rm -rf "$work"
        return
    fi
    local tables='[{"table_name": "orders", "search_prefix": "exports", "search_pattern": "orders\\.csv", "key_properties": ["id"]},
        {"table_name": "customers", "search_prefix": "exports", "search_pattern": "customers\\.csv", "key_properties": ["id"]}]'
    # singer-io's reads `tables` as a JSON string and needs role settings it does not use here
    # (the environment's keys give it direct access); boto3 takes the endpoint from the environment.
    python3 - "$work" "$tables" "$port" <<'PY'
import json, sys
work, tables, port = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
common = {"start_date": "2020-01-01T00:00:00Z", "bucket": "interop"}
singer_io = dict(common, account_id="123456789012", external_id="burler", role_name="burler",
                 tables=json.dumps([dict(t, key_properties=",".join(t["key_properties"])) for t in tables]))
pipelinewise = dict(common, aws_endpoint_url=f"http://127.0.0.1:{port}", tables=tables)
json.dump(singer_io, open(f"{work}/singer-io.json", "w"))
json.dump(pipelinewise, open(f"{work}/pipelinewise.json", "w"))
PY
    AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 \
        AWS_ENDPOINT_URL="http://127.0.0.1:$port" THIRD_PARTY=1 \
        judge "burler check tap-s3-csv $(pinned tap-s3-csv tap-s3-csv) (singer-io, singer-python)" "$work" \
        "$work/singer-io.json" -- "$VENVS/tap-s3-csv/bin/tap-s3-csv"
    # PipelineWise's reads the catalog only from --properties.
    AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 THIRD_PARTY=1 \
        judge "burler check pipelinewise-tap-s3-csv $(pinned pipelinewise-tap-s3-csv pipelinewise-tap-s3-csv) (PipelineWise)" \
        "$work" "$work/pipelinewise.json" --use-properties -- "$VENVS/pipelinewise-tap-s3-csv/bin/tap-s3-csv"
    kill "$MOTO_PID" 2>/dev/null
    wait "$MOTO_PID" 2>/dev/null
    rm -rf "$work"
}

# pipelinewise-tap-postgres on its own database of the CI PostgreSQL: orders INCREMENTAL on
# updated_at, customers FULL_TABLE (its catalog says so; discovery selects nothing).
check_postgres_tap() {
    local label="burler check pipelinewise-tap-postgres $(pinned pipelinewise-tap-postgres pipelinewise-tap-postgres) (PipelineWise)"
    if [[ -z ${BURLER_TEST_POSTGRES_URL:-} ]]; then
        # shellcheck disable=SC1091
        source "$REPO/.ci/postgres.sh" 2>/dev/null || { fail "$label" "no PostgreSQL (.ci/postgres.sh failed)"; return; }
    fi
    local url=$BURLER_TEST_POSTGRES_URL re='^postgres(ql)?://([^@/]+)@([^:/]+):([0-9]+)/'
    [[ $url =~ $re ]] || { fail "$label" "cannot read host and port from $url"; return; }
    local user=${BASH_REMATCH[2]} host=${BASH_REMATCH[3]} port=${BASH_REMATCH[4]} work
    work=$(mktemp -d "${TMPDIR:-/tmp}/burler-check.postgres.XXXXXX")
    local psql=(psql -X -q -v ON_ERROR_STOP=1 -h "$host" -p "$port" -U "$user")
    if ! "${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'burler_check'" | grep -q 1; then
        "${psql[@]}" -d postgres -c "CREATE DATABASE burler_check" >"$work/psql.log" 2>&1
    fi
    if ! "${psql[@]}" -d burler_check -f "$HERE/data/postgres/shop.sql" >>"$work/psql.log" 2>&1; then
        fail "$label" "loading data/postgres/shop.sql: $(tail -n 1 "$work/psql.log")"; rm -rf "$work"; return
    fi
    echo "{\"host\": \"$host\", \"port\": $port, \"user\": \"$user\", \"password\": \"\", \"dbname\": \"burler_check\", \"filter_schemas\": \"shop\"}" >"$work/config.json"
    local tap="$VENVS/pipelinewise-tap-postgres/bin/tap-postgres"
    if ! offline timeout "$TIMEOUT" "$tap" --config "$work/config.json" --discover >"$work/discovered.json" 2>"$work/discover.err"; then
        fail "$label" "--discover: $(tail -n 1 "$work/discover.err")"; rm -rf "$work"; return
    fi
    python3 - "$work/discovered.json" "$work/catalog.json" <<'PY'
import json, sys
catalog = json.load(open(sys.argv[1]))
for stream in catalog["streams"]:
    root = next(m for m in stream["metadata"] if m["breadcrumb"] == [])["metadata"]
    root["selected"] = True
    if stream["stream"] == "orders":
        root.update({"replication-method": "INCREMENTAL", "replication-key": "updated_at"})
    else:
        root["replication-method"] = "FULL_TABLE"
json.dump(catalog, open(sys.argv[2], "w"))
PY
    THIRD_PARTY=1 judge "$label" "$work" "$work/config.json" --catalog "$work/catalog.json" -- "$tap"
    rm -rf "$work"
}

# tap-rest in pages of 10, so its FULL_TABLE streams (customers 40 rows, products 25) checkpoint
# between pages: burler check's resume-anywhere cuts land between checkpoints, and a cut after
# the 2nd checkpoint of customers must resume with exactly the rows after it, same table version.
check_full_table_resume() {
    local dir="$REPO/examples/tap-rest" tap="$TARGET_DIR/debug/tap-rest" work
    if [[ ! -x $tap ]]; then fail "burler check tap-rest (page_size 10)" "$tap missing (build it first)"; return; fi
    work=$(mktemp -d "${TMPDIR:-/tmp}/burler-check.tap-rest-pages.XXXXXX")
    python3 -c 'import json, sys; c = json.load(open(sys.argv[1])); c["page_size"] = 10; json.dump(c, open(sys.argv[2], "w"))' \
        "$dir/config.json" "$work/config.json"
    judge "burler check tap-rest (page_size 10: FULL_TABLE checkpoints between pages)" "$dir" "$work/config.json" -- "$tap"
    local line
    while IFS= read -r line; do
        case $line in
            PASS\ *) pass "${line#PASS }" ;;
            FAIL\ *) line=${line#FAIL }; fail "${line%%: *}" "${line#*: }" ;;
            *) fail "tap-rest FULL_TABLE resume" "unexpected output: $line" ;;
        esac
    done < <(cd "$dir" && python3 "$HERE/lib/full_table_resume.py" "$tap" "$work/config.json" customers 2)
    rm -rf "$work"
}

# Runs burler check on the broken tap; expects exit 1 and a FAIL line for each of its faults.
check_broken() {
    local work label="burler check tap-broken (must fail)"
    work=$(mktemp -d "${TMPDIR:-/tmp}/burler-check.broken.XXXXXX")
    "$BURLER" check --timeout "$TIMEOUT" --config "$BROKEN/config.json" -- python3 "$BROKEN/tap-broken" >"$work/report" 2>"$work/stderr"
    local status=$? missing=() name
    for name in "catalog metadata" "message order" "records match their schema" \
        "key properties present and unique" "bookmarks advance" \
        "second run: no record older than the bookmark" "second run: no more records than the first"; do
        grep -q "^FAIL $name: " "$work/report" || missing+=("$name")
    done
    if [[ $status != 1 ]]; then
        fail "$label" "expected exit 1, got $status: $(tail -n 1 "$work/stderr")"
    elif [[ ${#missing[@]} -gt 0 ]]; then
        fail "$label" "exit 1, but no FAIL for: $(printf '%s; ' "${missing[@]}")"
    else
        pass "$label: exit 1, every fault reported ($(tail -n 1 "$work/report"))"
    fi
    indent "$work/report"
    rm -rf "$work"
}

main() {
    if [[ ! -x $BURLER ]]; then
        fail "burler check" "$BURLER missing (cargo build -p burler-cli)"
        echo "$PASSED passed, $FAILED failed"
        return 1
    fi
    local args=("$@") dir env all=0
    if [[ ${#args[@]} -eq 0 ]]; then
        all=1
        for env in "$REPO"/examples/*/interop.env; do [[ -f $env ]] && args+=("$(dirname "$env")"); done
        args+=("$REPO/.ci/interop/data")
    fi
    if [[ ${INTEROP_SKIP_SETUP:-0} != 1 ]]; then
        local setup_log="${TMPDIR:-/tmp}/burler-check-setup.log"
        if ! "$HERE/setup.sh" "${THIRD_PARTY_VENVS[@]}" >"$setup_log" 2>&1; then
            fail "setup" "$(tail -n 1 "$setup_log") (full log: $setup_log)"
        fi
    fi
    for dir in "${args[@]}"; do check_example "$dir"; done
    if [[ $all == 1 ]]; then
        check_full_table_resume
        check_singer_python_tap
        check_s3_taps
        check_postgres_tap
    fi
    check_broken
    echo "$PASSED passed, $FAILED failed"
    [[ $FAILED -eq 0 ]]
}

main "$@"
