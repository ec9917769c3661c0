#!/usr/bin/env python3
"""The book's link check: every link of every page of docs/book/src must lead somewhere.

- a relative link must name a file inside the book's source folder (the built book holds
  nothing else), and its `#anchor` a heading of that page (mdBook's ids: lower case, spaces to
  `-`, punctuation dropped, `-1`, `-2`… for repeated headings, or an explicit `{#id}`);
- a link to this repository on GitHub (`…/burler-rs/burler/tree|blob/main/PATH`) must name a
  PATH that exists in the checkout;
- every page listed in SUMMARY.md exists, and every page of the folder is listed (mdBook builds
  only listed pages, so an unlisted one is unreachable);
- links to other sites are counted, not fetched (CI is offline).

Code blocks and inline code are not read. Prints one line per broken link and a summary line
`N local links, M to this repository, K to other sites`; exits 1 when a link is broken.

Usage: book_links.py BOOK_SRC [REPO_ROOT]
"""

import os
import re
import sys

REPO_URL = re.compile(r"^https://github\.com/burler-rs/burler/(?:tree|blob)/main/([^#?]*)")
INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.M)
FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.M | re.S)
INLINE_CODE = re.compile(r"(`+).+?\1", re.S)
HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$", re.M)
EXPLICIT_ID = re.compile(r"\s*\{#([\w-]+)[^}]*\}\s*$")


def slug(heading):
    """mdBook's id of a heading's text (its `normalize_id`)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = re.sub(r"<[^>]+>", "", text).replace("`", "")
    text = "".join(c for c in text.strip().lower() if c.isalnum() or c in "-_ ")
    return text.replace(" ", "-")


def anchors(path):
    """Every id of a page's headings, repeated ones numbered as mdBook numbers them."""
    with open(path, encoding="utf-8") as f:
        text = FENCE.sub("", f.read())
    seen = {}
    ids = set()
    for m in HEADING.finditer(text):
        heading = m.group(1)
        explicit = EXPLICIT_ID.search(heading)
        if explicit:
            ids.add(explicit.group(1))
            continue
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        ids.add(base if n == 0 else f"{base}-{n}")
    return ids


def links(text):
    """Every link target of a page's prose."""
    no_blocks = FENCE.sub("", text)
    return [m.group(1) for m in INLINE.finditer(INLINE_CODE.sub("", no_blocks))] + [
        m.group(1) for m in REFERENCE.finditer(no_blocks)
    ]


def check_page(page, src, repo, counts, problems):
    with open(page, encoding="utf-8") as f:
        text = f.read()
    shown = os.path.relpath(page, src)
    for target in links(text):
        in_repo = REPO_URL.match(target)
        if in_repo:
            counts["repo"] += 1
            path = os.path.join(repo, in_repo.group(1))
            if not os.path.exists(path):
                problems.append(f"{shown}: {target}: no {in_repo.group(1)} in the repository")
            continue
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
            counts["external"] += 1
            continue
        counts["local"] += 1
        path, _, anchor = target.partition("#")
        full = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
        if full.endswith(".html"):
            full = full[: -len(".html")] + ".md"
        if os.path.commonpath([full, src]) != src:
            problems.append(f"{shown}: {target}: outside the book (link it by its GitHub URL)")
        elif not os.path.exists(full):
            problems.append(f"{shown}: {target}: no such file")
        elif anchor and full.endswith(".md") and anchor not in anchors(full):
            problems.append(f"{shown}: {target}: no heading #{anchor} in {os.path.relpath(full, src)}")


def check_summary(src, problems):
    """Listed pages exist; every page is listed."""
    summary = os.path.join(src, "SUMMARY.md")
    if not os.path.exists(summary):
        problems.append("SUMMARY.md: missing")
        return
    with open(summary, encoding="utf-8") as f:
        listed = {
            os.path.normpath(os.path.join(src, t.partition("#")[0]))
            for t in links(f.read())
            if not re.match(r"^[a-z]+:", t)
        }
    for root, _, files in os.walk(src):
        for name in files:
            page = os.path.normpath(os.path.join(root, name))
            if name.endswith(".md") and name != "SUMMARY.md" and page not in listed:
                problems.append(f"{os.path.relpath(page, src)}: not listed in SUMMARY.md")


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    src = os.path.realpath(argv[1])
    repo = os.path.realpath(argv[2]) if len(argv) == 3 else os.path.dirname(os.path.dirname(os.path.dirname(src)))
    counts = {"local": 0, "repo": 0, "external": 0}
    problems = []
    check_summary(src, problems)
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if name.endswith(".md"):
                check_page(os.path.join(root, name), src, repo, counts, problems)
    for p in problems:
        print(p)
    print(
        f"{counts['local']} local links, {counts['repo']} to this repository, "
        f"{counts['external']} to other sites"
        + (f"; {len(problems)} broken" if problems else "")
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
