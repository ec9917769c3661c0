#!/usr/bin/env python3
"""Structure checks of a crate: no import loop between its modules, no long function.

Usage: .ci/architecture.py CRATE_DIR [--max-fn-lines N]

- Modules are the files under CRATE_DIR/src (`foo.rs` and `foo/mod.rs` are module `foo`, `a/b.rs`
  is `a::b`). A module depends on another when its non-test code names `crate::other` (in a `use`
  or a path) or, from `a/b.rs`, `super::c` (the sibling `a::c`). A submodule's dependencies on its
  own parent (`super::x` resolving to the parent module) do not count: a parent and its children
  are one unit. Any cycle left is printed and fails the check.
- Functions of non-test code (everything before the first `#[cfg(test)]` line) longer than N
  lines (default 60), signature to closing brace, are printed and fail the check.

Exit code 0 when both checks pass, 1 otherwise.
"""
import os
import re
import sys


def module_name(src, path):
    rel = os.path.relpath(path, src)[:-3].replace(os.sep, "::")
    if rel.endswith("::mod"):
        rel = rel[: -len("::mod")]
    return "crate" if rel in ("lib", "main") else rel


def non_test(text):
    cut = text.find("#[cfg(test)]")
    return text if cut < 0 else text[:cut]


def strip_comments_and_strings(text):
    """The text with comments, strings and char literals blanked (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            j = text.find('"' + hashes, i + len(hashes) + 2)
            j = n if j < 0 else j + len(hashes) + 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
        elif c == "'" and re.match(r"'(\\.|[^'\\])'", text[i:]):
            j = i + len(re.match(r"'(\\.|[^'\\])'", text[i:]).group(0))
            out.append("' '")
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def top_segment(path, modules):
    """The longest known module that `path` (a::b::c) starts with."""
    parts = path.split("::")
    for n in range(len(parts), 0, -1):
        candidate = "::".join(parts[:n])
        if candidate in modules:
            return candidate
    return None


def dependencies(src):
    files = {}
    for root, _, names in os.walk(src):
        for name in names:
            if name.endswith(".rs"):
                path = os.path.join(root, name)
                files[module_name(src, path)] = path
    modules = set(files)
    graph = {m: set() for m in modules}
    for module, path in files.items():
        code = strip_comments_and_strings(non_test(open(path, encoding="utf-8").read()))
        parent = module.rsplit("::", 1)[0] if "::" in module else "crate"
        for group in re.findall(r"\bcrate::((?:\{[^}]*\}|[A-Za-z_][\w:]*))", code):
            for item in re.split(r"[,{}\s]+", group):
                target = top_segment(item.strip(":"), modules) if item else None
                if target and target != module and not module.startswith(target + "::"):
                    graph[module].add(target)
        for item in re.findall(r"\bsuper::([A-Za-z_]\w*)", code):
            sibling = f"{parent}::{item}" if parent != "crate" else item
            if sibling in modules and sibling != module:
                graph[module].add(sibling)
    return graph


def cycles(graph):
    found, state, stack = [], {}, []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                found.append(stack[stack.index(dep):] + [dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def long_functions(src, limit):
    out = []
    for root, _, names in os.walk(src):
        for name in sorted(names):
            if not name.endswith(".rs"):
                continue
            path = os.path.join(root, name)
            lines = strip_comments_and_strings(non_test(open(path, encoding="utf-8").read()))
            lines = lines.split("\n")
            for i, line in enumerate(lines):
                m = re.match(r"\s*(pub(\([^)]*\))?\s+)?(async\s+)?(const\s+)?(unsafe\s+)?fn\s+(\w+)", line)
                if not m:
                    continue
                end = body_end(lines, i)
                if end is not None and end - i + 1 > limit:
                    out.append(f"{os.path.relpath(path)}:{i + 1}: fn {m.group(6)} is {end - i + 1} lines")
    return out


def body_end(lines, start):
    """The line where the body opened after `start` closes; None for a declaration without body."""
    depth, opened = 0, False
    for j in range(start, len(lines)):
        for ch in lines[j]:
            if ch == "{":
                depth, opened = depth + 1, True
            elif ch == "}":
                depth -= 1
                if opened and depth == 0:
                    return j
            elif ch == ";" and not opened and depth == 0:
                return None
    return None


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    crate, limit = args[0], 60
    if "--max-fn-lines" in args:
        limit = int(args[args.index("--max-fn-lines") + 1])
    src = os.path.join(crate, "src")
    failed = False
    loops = cycles(dependencies(src))
    for loop in loops:
        print("import loop: " + " -> ".join(loop))
    failed |= bool(loops)
    longs = long_functions(src, limit)
    for line in longs:
        print(f"function over {limit} lines: {line}")
    failed |= bool(longs)
    if not failed:
        print(f"{crate}: no import loop, no function over {limit} lines")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
