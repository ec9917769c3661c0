# Shared by the bench scripts (sourced): one venv per Python peer, rebuilt only when its pinned
# requirements (bench/requirements/NAME.txt) changed. Needs ROOT, VENVS and PYTHON set, and a
# `log` function.

MARKER=.burler-requirements.txt

build_venv() {
    local name=$1 reqs="$ROOT/bench/requirements/$1.txt" dir="$VENVS/$1"
    if [[ -f "$dir/$MARKER" ]] && cmp -s "$reqs" "$dir/$MARKER" && "$dir/bin/python" -c '' 2>/dev/null; then
        log "$name up to date"
        return 0
    fi
    rm -rf "$dir"
    "$PYTHON" -m venv "$dir"
    "$dir/bin/pip" install --disable-pip-version-check -q --no-input -r "$reqs"
    cp "$reqs" "$dir/$MARKER"
    log "$name installed"
}
