#!/usr/bin/env python3
"""Print the library's module graph (who imports whom, top-level modules of src/) and fail on a
cycle or an upward import. `make lint` runs it. The layers are those of src/lib.rs's doc: a
top-level module may import only modules of a lower layer.

A module's imports are the `crate::X` paths in its files (use lines and inline paths), outside
`#[cfg(test)]` blocks; `super::` inside a folder module stays inside it. Run from the repo root."""
import pathlib
import re
import sys

SRC = pathlib.Path("src")
MODS = sorted(
    p.stem if p.is_file() else p.name
    for p in SRC.iterdir()
    if (p.suffix == ".rs" and p.stem not in ("lib",)) or (p.is_dir() and p.name != "bin")
)


def top(path: pathlib.Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".rs")


def code_without_tests(text: str) -> str:
    # Drop `#[cfg(test)] mod … { … }` blocks by brace matching.
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text):
        if m.start() < i:
            continue
        out.append(text[i : m.start()])
        depth, j = 1, m.end()
        while depth and j < len(text):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    # Doc comments mention modules without importing them.
    return "\n".join(l for l in "".join(out).splitlines() if not l.lstrip().startswith("//"))


# Re-exports at the crate root (`pub use encoder::{…}`) count as imports of their module.
ROOT_ALIASES = {}
for mod, names in re.findall(r"pub use (\w+)::\{([^}]*)\}", (SRC / "lib.rs").read_text()):
    for n in re.findall(r"\w+", names):
        ROOT_ALIASES[n] = mod


def file_node(f: pathlib.Path) -> str:
    parts = list(f.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "mod":
        parts.pop()
    return "::".join(parts)


FILES = [f for f in SRC.rglob("*.rs") if f.parts[1] != "bin" and f.name != "lib.rs"]
NODES = {file_node(f) for f in FILES}


def resolve(path: list) -> str | None:
    """The longest file-level module that a path (list of segments) names."""
    for k in range(len(path), 0, -1):
        cand = "::".join(path[:k])
        if cand in NODES:
            return cand
    return None


# File-level graph: `crate::a::b::c` and `super::x` paths, test code excluded.
fgraph = {n: set() for n in NODES}
for f in FILES:
    me = file_node(f)
    code = code_without_tests(f.read_text())
    here = me.split("::")
    is_folder_mod = f.name == "mod.rs"
    for m in re.finditer(r"\b(crate|super)((?:::\w+)+)", code):
        segs = m.group(2).strip(":").split("::")
        if m.group(1) == "crate":
            if segs[0] in ROOT_ALIASES:
                segs = [ROOT_ALIASES[segs[0]]] + segs[1:]
            base = segs
        else:
            parent = here if is_folder_mod else here[:-1]
            base = parent + segs
        dep = resolve(base)
        if dep and dep != me and not me.startswith(dep + "::") and not dep.startswith(me + "::"):
            fgraph[me].add(dep)

graph = {m: set() for m in MODS}
for f in SRC.rglob("*.rs"):
    if f.parts[1] == "bin" or f.name == "lib.rs":
        continue
    me = top(f)
    code = code_without_tests(f.read_text())
    for dep in re.findall(r"\bcrate::(\w+)", code):
        dep = ROOT_ALIASES.get(dep, dep)
        if dep != me and dep in graph:
            graph[me].add(dep)
    # `use crate::{a, b}` groups
    for group in re.findall(r"\bcrate::\{([^}]*)\}", code):
        for dep in re.findall(r"(?:^|,)\s*(\w+)", group):
            dep = ROOT_ALIASES.get(dep, dep)
            if dep != me and dep in graph:
                graph[me].add(dep)

# Bottom to top, as src/lib.rs documents them.
LAYERS = [
    ["error", "rng", "parallel", "provenance"],
    ["data", "tokenize", "pooling", "archive", "device"],
    ["model"],
    ["encoder"],
    ["eval", "native", "web", "reference"],
    ["train", "classify"],
    ["bench"],
    ["protocol"],
    ["app", "worker"],
]
LAYER = {m: i for i, layer in enumerate(LAYERS) for m in layer}
unplaced = sorted(set(MODS) - set(LAYER))
upward = [
    (m, d) for m in MODS for d in sorted(graph[m]) if m in LAYER and d in LAYER and LAYER[d] >= LAYER[m]
]

for m in MODS:
    print(f"L{LAYER.get(m, '?')} {m:12} -> {', '.join(sorted(graph[m])) or '(nothing)'}")


def find_cycles(g):
    state, stack, cycles = {}, [], []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(g[m]):
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d) :] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m)
    return cycles


cycles = find_cycles(graph) + find_cycles(fgraph)
if "-v" in sys.argv:
    print()
    for n in sorted(fgraph):
        print(f"{n:24} -> {', '.join(sorted(fgraph[n])) or '(nothing)'}")
for m in unplaced:
    print(f"module {m} has no layer: add it to LAYERS here and to src/lib.rs's doc", file=sys.stderr)
for m, d in upward:
    print(f"upward import: {m} (layer {LAYER[m]}) imports {d} (layer {LAYER[d]})", file=sys.stderr)
for c in cycles:
    print("import cycle: " + " -> ".join(c), file=sys.stderr)
if cycles or upward or unplaced:
    sys.exit(1)
print("no import cycle (between top-level modules or files), no upward import")
