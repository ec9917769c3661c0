#!/usr/bin/env bash
# The book (docs/book): builds it with mdBook and checks its links. Its Rust code blocks are
# compiled by `cargo test` (doc tests of examples/tap-tutorial), not here.
#
# mdBook comes from crates.io (`cargo install mdbook --locked`, no default features but
# `search`: no file watcher or web server), built once into ${BURLER_TOOLS:-$HOME/.cache/burler-tools}
# and reused while its version matches MDBOOK_VERSION.
#
# Links (.ci/book_links.py): every relative link must name a page or file of the book and every
# `#anchor` a heading of its page, every GitHub link into this repository a path that exists,
# every page be in SUMMARY.md; links to other sites are counted, not fetched (CI is offline).
# Prints PASS/FAIL lines and `N passed, M failed`.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BOOK="$REPO/docs/book"
TOOLS=${BURLER_TOOLS:-$HOME/.cache/burler-tools}
MDBOOK_VERSION=0.4.52
MDBOOK="$TOOLS/bin/mdbook"
PASSED=0
FAILED=0

pass() { echo "PASS $1"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $1: $2"; FAILED=$((FAILED + 1)); }

install_mdbook() {
    if [[ -x $MDBOOK ]] && [[ $("$MDBOOK" --version) == "mdbook v$MDBOOK_VERSION" ]]; then
        return 0
    fi
    local start=$SECONDS
    cargo install --quiet --locked --root "$TOOLS" --version "$MDBOOK_VERSION" \
        --no-default-features --features search mdbook || return 1
    echo "   mdbook $MDBOOK_VERSION built in $((SECONDS - start)) s"
}

check_links() {
    python3 "$REPO/.ci/book_links.py" "$BOOK/src" "$REPO"
}

# The link check itself must catch a broken link: a copy of the book with one is refused.
check_links_refuses() {
    local copy
    copy=$(mktemp -d)
    cp -r "$BOOK/src" "$copy/src"
    echo '[gone](guide/no-such-page.md) [no heading](protocol.md#no-such-heading)' >>"$copy/src/introduction.md"
    local report
    report=$(python3 "$REPO/.ci/book_links.py" "$copy/src" "$REPO")
    local status=$?
    rm -rf "$copy"
    [[ $status -eq 1 ]] && grep -q 'no-such-page.md: no such file' <<<"$report" \
        && grep -q 'no heading #no-such-heading' <<<"$report"
}

main() {
    if install_mdbook; then pass "mdbook $MDBOOK_VERSION"; else fail "mdbook" "cargo install mdbook failed"; fi
    OUT=$(mktemp -d)
    trap 'rm -rf "$OUT"' EXIT
    local out=$OUT
    if [[ -x $MDBOOK ]] && "$MDBOOK" build "$BOOK" --dest-dir "$out" >"$out.log" 2>&1 \
        && ! grep -qiE '\[(WARN|ERROR)\]' "$out.log"; then
        pass "the book builds ($(find "$out" -name '*.html' | wc -l) pages, no warning)"
    else
        fail "the book builds" "$(grep -iE 'warn|error' "$out.log" | head -n 3 | tr '\n' ' ')"
    fi
    rm -f "$out.log"
    local report
    if report=$(check_links 2>&1); then
        pass "the book's links: $(tail -n 1 <<<"$report")"
    else
        fail "the book's links" "$(head -n 5 <<<"$report" | tr '\n' ';')"
    fi
    if check_links_refuses; then
        pass "the link check refuses a broken link and a missing anchor"
    else
        fail "the link check" "a book with a broken link passed"
    fi
    echo "$PASSED passed, $FAILED failed"
    [[ $FAILED -eq 0 ]]
}

main "$@"
