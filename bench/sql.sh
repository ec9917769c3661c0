#!/usr/bin/env bash
# burler's tap-postgres against MeltanoLabs tap-postgres (singer-sdk, from PyPI, in its own venv):
# rows/s of a FULL_TABLE sync of one PostgreSQL table into /dev/null, and peak RSS, at two table
# sizes (RSS flat in table size = the rows are streamed). Same machine, same server, same run.
#
#   bench/sql.sh                 sizes 100000 and 1000000, burler 3 runs each, the SDK 1 run each
#   SIZES="200000 1000000" RUNS=5 SDK_RUNS=2 bench/sql.sh
#
# The table has 10 columns: bigint key, integer, text, numeric(12,2), double, boolean,
# varchar(80), timestamptz, timestamp, date. The server is .ci/postgres.sh's (started if needed).
# Prints a Markdown table (medians) and the raw runs; both taps get the same catalog selection.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"100000 1000000"}
RUNS=${RUNS:-3}
SDK_RUNS=${SDK_RUNS:-1}
SDK_PIN="meltanolabs-tap-postgres==0.10.0"
VENV=${BURLER_VENVS:-$HOME/.cache/burler-venvs}/tap-postgres-meltanolabs
WORK=$(mktemp -d "${TMPDIR:-/tmp}/burler-bench-sql.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

source .ci/postgres.sh
URL=$BURLER_TEST_POSTGRES_URL
PORT=${URL##*:}; PORT=${PORT%%/*}
DB=${URL##*/}

if [[ ! -x $VENV/bin/tap-postgres ]] || ! "$VENV/bin/pip" show -q meltanolabs-tap-postgres 2>/dev/null; then
    echo "installing $SDK_PIN into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --disable-pip-version-check -q --no-input "$SDK_PIN" >&2
fi
SDK_VERSION=$("$VENV/bin/pip" show meltanolabs-tap-postgres | awk '/^Version/ {print $2}')
SINGER_SDK=$("$VENV/bin/pip" show singer-sdk | awk '/^Version/ {print $2}')
cargo build -q --release -p tap-postgres
BURLER=${CARGO_TARGET_DIR:-target}/release/tap-postgres

psql=(psql -X -q -v ON_ERROR_STOP=1 "$URL")
"${psql[@]}" -c "CREATE SCHEMA IF NOT EXISTS burler_bench"
for n in $SIZES; do
    if [[ $("${psql[@]}" -tAc "SELECT count(*) FROM pg_tables WHERE schemaname = 'burler_bench' AND tablename = 'rows_$n'") == 0 ]]; then
        echo "filling burler_bench.rows_$n" >&2
        "${psql[@]}" <<SQL
CREATE TABLE burler_bench.rows_$n (id bigint PRIMARY KEY, customer_id integer NOT NULL, status text NOT NULL,
  amount numeric(12, 2), score double precision, active boolean, note varchar(80),
  created_at timestamptz NOT NULL, updated_at timestamp, day date);
INSERT INTO burler_bench.rows_$n SELECT g, g % 5000, (ARRAY['new', 'paid', 'shipped'])[g % 3 + 1],
  (g % 100000) / 100.0, g * 0.37, g % 2 = 0, 'note number ' || g,
  timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second', timestamp '2024-01-01' + g * interval '1 minute',
  date '2020-01-01' + (g % 2000)
FROM generate_series(1, $n) g;
ANALYZE burler_bench.rows_$n;
SQL
    fi
done

echo "{\"url\": \"$URL\", \"filter_schemas\": [\"burler_bench\"]}" >"$WORK/burler.json"
echo "{\"host\": \"127.0.0.1\", \"port\": $PORT, \"user\": \"postgres\", \"password\": \"unused\", \"database\": \"$DB\", \"filter_schemas\": [\"burler_bench\"]}" >"$WORK/sdk.json"
"$BURLER" --config "$WORK/burler.json" --discover >"$WORK/burler.catalog.json" 2>/dev/null
"$VENV/bin/tap-postgres" --config "$WORK/sdk.json" --discover >"$WORK/sdk.catalog.json" 2>/dev/null

# Writes CATALOG with only stream STREAM selected (every field, FULL_TABLE).
select_stream() {
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
catalog, stream, out = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
for entry in catalog["streams"]:
    for m in entry["metadata"]:
        if m["breadcrumb"] == []:
            m["metadata"]["selected"] = entry["tap_stream_id"] == stream
            m["metadata"]["replication-method"] = "FULL_TABLE"
        else:
            m["metadata"]["selected"] = True
json.dump(catalog, open(out, "w"))
PY
}

# Records of one run, from its metric lines on stderr: burler logs the running total of
# `record_count`, singer-sdk the count since its last line (so: the largest, else the sum).
records_of() {
    python3 - "$1" "$2" <<'PY'
import json, re, sys
values = [json.loads(m.group(1)) for m in re.finditer(r"METRIC: (\{.*\})", open(sys.argv[1]).read())]
counts = [v["value"] for v in values if v.get("metric") == "record_count"]
print(max(counts, default=0) if sys.argv[2] == "burler" else sum(counts))
PY
}

# One timed run into /dev/null: prints "seconds max_rss_kb".
run_once() {
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/run.err"
    cat "$WORK/time"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

declare -A SECS RSS
for n in $SIZES; do
    stream="burler_bench-rows_$n"
    select_stream "$WORK/burler.catalog.json" "$stream" "$WORK/burler.cat.$n.json"
    select_stream "$WORK/sdk.catalog.json" "$stream" "$WORK/sdk.cat.$n.json"
    for tap in burler sdk; do
        if [[ $tap == burler ]]; then runs=$RUNS; cmd=("$BURLER" --config "$WORK/burler.json" --catalog "$WORK/burler.cat.$n.json")
        else runs=$SDK_RUNS; cmd=("$VENV/bin/tap-postgres" --config "$WORK/sdk.json" --catalog "$WORK/sdk.cat.$n.json"); fi
        : >"$WORK/$tap.$n.runs"
        for ((i = 1; i <= runs; i++)); do
            read -r secs rss < <(run_once "${cmd[@]}")
            records=$(records_of "$WORK/run.err" "$tap")
            if [[ $records != "$n" ]]; then
                echo "$tap rows_$n: $records records, expected $n: $(tail -n 2 "$WORK/run.err")" >&2
                exit 1
            fi
            echo "run: $tap rows_$n run $i: ${secs}s, peak RSS ${rss} KB, $records records"
            echo "$secs $rss" >>"$WORK/$tap.$n.runs"
        done
        SECS[$tap.$n]=$(cut -d' ' -f1 "$WORK/$tap.$n.runs" | median)
        RSS[$tap.$n]=$(cut -d' ' -f2 "$WORK/$tap.$n.runs" | median)
    done
done

echo
echo "PostgreSQL $("${psql[@]}" -tAc 'SHOW server_version'), $(nproc) cores; burler tap-postgres (release) vs MeltanoLabs tap-postgres $SDK_VERSION (singer-sdk $SINGER_SDK), FULL_TABLE into /dev/null, medians of $RUNS / $SDK_RUNS run(s)"
echo
echo "| rows | burler rows/s | tap-postgres rows/s | speed-up | burler peak RSS | tap-postgres peak RSS |"
echo "|---:|---:|---:|---:|---:|---:|"
for n in $SIZES; do
    awk -v n="$n" -v b="${SECS[burler.$n]}" -v s="${SECS[sdk.$n]}" -v br="${RSS[burler.$n]}" -v sr="${RSS[sdk.$n]}" \
        'BEGIN { printf "| %d | %.0f | %.0f | %.1fx | %.1f MB | %.1f MB |\n", n, n / b, n / s, s / b, br / 1024, sr / 1024 }'
done
