#!/usr/bin/env python3
"""Import circles between the files of each crate: every `use` / inline path of `crate::`,
`super::` and `self::` is resolved to the file that defines the module, and a cycle in that
graph is printed. Exit 1 when there is one. Test modules (`#[cfg(test)]`) are skipped: they
belong to the file they sit in.

    python3 scripts/circles.py            # the whole workspace
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def crates():
    yield os.path.join(ROOT, "src")
    base = os.path.join(ROOT, "crates")
    for c in sorted(os.listdir(base)):
        if os.path.isdir(os.path.join(base, c, "src")):
            yield os.path.join(base, c, "src")


def module_of(src, path):
    """Module path (list) of a file: src/a/b.rs and src/a/b/mod.rs -> [a, b]."""
    rel = os.path.relpath(path, src)[:-3].split(os.sep)
    if rel[-1] == "mod" or rel == ["lib"] or rel == ["main"]:
        rel = rel[:-1]
    return rel


def file_of(src, mod):
    """The file defining the longest prefix of `mod` that is a file."""
    for n in range(len(mod), -1, -1):
        m = mod[:n]
        cands = [os.path.join(src, *m) + ".rs", os.path.join(src, *m, "mod.rs")] if m else [
            os.path.join(src, "lib.rs")]
        for c in cands:
            if os.path.exists(c):
                return c
    return None


def expand(path):
    """`a::{b, c::{d, e}}` -> [a::b, a::c::d, a::c::e]."""
    i = path.find("{")
    if i < 0:
        return [path]
    depth, j = 0, i
    for j in range(i, len(path)):
        depth += {"{": 1, "}": -1}.get(path[j], 0)
        if depth == 0:
            break
    inner, parts, d, cur = path[i + 1:j], [], 0, ""
    for ch in inner:
        if ch == "," and d == 0:
            parts.append(cur)
            cur = ""
            continue
        d += {"{": 1, "}": -1}.get(ch, 0)
        cur += ch
    parts.append(cur)
    return [x for p in parts if p.strip() for x in expand(path[:i] + p.strip())]


def imports(src, path):
    text = open(path, encoding="utf-8").read()
    cut = re.search(r"#\[cfg\(test\)\]\s*mod \w+\s*\{", text)
    if cut:
        text = text[:cut.start()]
    text = re.sub(r"//.*", "", text)
    here = module_of(src, path)
    is_mod = os.path.basename(path) in ("mod.rs", "lib.rs", "main.rs")
    paths = []
    for m in re.finditer(r"\buse\s+([^;]+);", text):
        paths += expand(re.sub(r"\s+", "", m.group(1)))
    paths += re.findall(r"(?<![\w:])((?:crate|super|self)(?:::\w+)+)", text)
    # Paths through an imported name: `use crate::blueprint::{self}` then `blueprint::x::f`.
    aliases = {}
    for p in list(paths):
        segs = p.split(" as ")[0].split("::")
        if segs[-1] == "self":
            segs = segs[:-1]
        if len(segs) > 1 and segs[-1] != "*":
            name = p.split(" as ")[1] if " as " in p else segs[-1]
            aliases[name] = "::".join(segs)
    for name, full in aliases.items():
        for m in re.finditer(r"(?<![\w:])" + re.escape(name) + r"((?:::\w+)+)", text):
            paths.append(full + m.group(1))
    out = set()
    for p in paths:
        segs = p.split(" as ")[0].split("::")
        if segs[0] == "crate":
            mod = segs[1:]
        elif segs[0] in ("super", "self"):
            base = list(here) if is_mod else list(here[:-1])
            if segs[0] == "self":
                base = list(here)
            k = 0
            while k < len(segs) and segs[k] == "super":
                base = base[:-1] if k else base
                k += 1
            if segs[0] == "super" and not is_mod:
                base = list(here[:-1])
                for _ in range(1, sum(1 for s in segs if s == "super")):
                    base = base[:-1]
            elif segs[0] == "super":
                base = list(here[:-1])
                for _ in range(1, sum(1 for s in segs if s == "super")):
                    base = base[:-1]
            mod = base + [s for s in segs if s not in ("super", "self")]
        else:
            continue
        f = file_of(src, [s for s in mod if s != "*"])
        if f and f != path:
            out.add(f)
    return out


def cycles(graph):
    found, color, stack = [], {}, []

    def visit(n):
        color[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if color.get(m) == 1:
                found.append(stack[stack.index(m):] + [m])
            elif not color.get(m):
                visit(m)
        stack.pop()
        color[n] = 2

    for n in sorted(graph):
        if not color.get(n):
            visit(n)
    return found


def main():
    bad = 0
    for src in crates():
        graph = {}
        for d, _, files in os.walk(src):
            for f in files:
                if f.endswith(".rs"):
                    p = os.path.join(d, f)
                    graph[p] = imports(src, p)
        for c in cycles(graph):
            bad += 1
            print("circle: " + " -> ".join(os.path.relpath(x, ROOT) for x in c))
    if not bad:
        print("no import circles")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
