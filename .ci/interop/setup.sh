#!/usr/bin/env bash
# Creates the Python clients used by .ci/interop.sh, one venv per client
# (their pins conflict: a shared venv makes pip backtrack or break one of them).
#
#   venv                  provides                         pinned by
#   target-jsonl          target-jsonl 0.1.4 (singer-python)  requirements/target-jsonl.txt
#   target-csv            meltanolabs-target-csv 0.5.0 (SDK)  requirements/target-csv.txt
#   target-csv-parquet    the same + pyarrow 23.0.1 (singer-sdk reads Parquet BATCH files with it)
#                                                             requirements/target-csv-parquet.txt
#   target-duckdb         target-duckdb 0.8.0 + duckdb 1.1.3  requirements/target-duckdb.txt
#   meltano               meltano 4.4.1                       requirements/meltano.txt
#   tap-spreadsheets      tap-spreadsheets 1.1.2 (3rd-party)  requirements/tap-spreadsheets.txt
#   tap-s3-csv            tap-s3-csv 2.3.1 (singer-io)       requirements/tap-s3-csv.txt
#   pipelinewise-tap-s3-csv  pipelinewise-tap-s3-csv 3.0.1     requirements/pipelinewise-tap-s3-csv.txt
#   moto                  moto 5.2.5 (S3 server for the two above, loopback only)  requirements/moto.txt
#   singer-python         singer-python 5.13.0 (runs singer-python-tap/)  requirements/singer-python.txt
#   pipelinewise-tap-postgres  pipelinewise-tap-postgres 1.8.4 (2.x needs Python < 3.10)
#                                                             requirements/pipelinewise-tap-postgres.txt
#
# Tried and rejected (CPython 3.11): target-sqlite 0.2.0 (its SQLAlchemy 1.2.12 uses
# collections.MutableMapping: ImportError at start); target-duckdb with duckdb 2.0.1 (lost the first
# row of a batch, orders id=1, in its CSV COPY: hence duckdb==1.1.3); not on PyPI: meltanolabs-target-sqlite,
# meltanolabs-tap-csv, tap-csv. tap-csv-folder 0.0.1a1 installs but is an alpha.
# tap-test-data-generator 1.4.0 (singer-python) pins exrex 0.10.5, which does not import on 3.11.
#
# Each requirements file is the full `pip freeze` of a venv verified on CPython 3.11,
# so installs are reproducible and need no dependency backtracking.
# Venvs live under ${BURLER_VENVS:-$HOME/.cache/burler-venvs}. A venv is rebuilt only when
# its marker (a copy of the requirements file it was built from) differs: re-running is a no-op.
# Usage: .ci/interop/setup.sh [VENV...]   (default: all). Python: ${PYTHON:-python3}.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VENVS=${BURLER_VENVS:-$HOME/.cache/burler-venvs}
PYTHON=${PYTHON:-python3}
ALL_VENVS=(target-jsonl target-csv target-csv-parquet target-duckdb meltano tap-spreadsheets tap-s3-csv
    pipelinewise-tap-s3-csv moto singer-python pipelinewise-tap-postgres)
MARKER=.burler-requirements.txt

build_venv() {
    local name=$1 reqs="$HERE/requirements/$1.txt" dir="$VENVS/$1"
    # The marker must match and the venv's interpreter still run (a Python upgrade breaks venvs).
    if [[ -f "$dir/$MARKER" ]] && cmp -s "$reqs" "$dir/$MARKER" && "$dir/bin/python" -c '' 2>/dev/null; then
        echo "setup: $name up to date"
        return 0
    fi
    rm -rf "$dir"
    "$PYTHON" -m venv "$dir"
    "$dir/bin/pip" install --disable-pip-version-check -q --no-input -r "$reqs"
    cp "$reqs" "$dir/$MARKER"
    echo "setup: $name installed"
}

main() {
    local names=("$@") pids=() failed=0 i
    [[ ${#names[@]} -gt 0 ]] || names=("${ALL_VENVS[@]}")
    mkdir -p "$VENVS"
    local logs
    logs=$(mktemp -d)
    # Installs are network/unpack bound: run them side by side.
    for name in "${names[@]}"; do
        [[ -f "$HERE/requirements/$name.txt" ]] || { echo "setup: unknown venv $name" >&2; exit 2; }
        build_venv "$name" >"$logs/$name.log" 2>&1 &
        pids+=($!)
    done
    for i in "${!names[@]}"; do
        if wait "${pids[$i]}"; then
            cat "$logs/${names[$i]}.log"
        else
            failed=1
            echo "setup: FAILED to build ${names[$i]}:" >&2
            cat "$logs/${names[$i]}.log" >&2
        fi
    done
    rm -rf "$logs"
    return $failed
}

main "$@"
