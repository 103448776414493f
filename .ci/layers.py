#!/usr/bin/env python3
"""Layering checks for sharesync: no import cycle between source files, the simulated plex.tv
(src/sandbox/) uses nothing of the client, no source file over --max-lines lines. Exit 0 = pass,
1 = a check failed, 2 = usage error; --graph prints the dependency graph, --self-test checks the
checker on fake crates. Standard library only.

An edge A -> B: code in file A uses an item *defined* in file B, found through the module tree,
`use` aliases and re-exports. `mod x;` lines and `pub use` re-exports the file does not use itself
are structure, not edges; #[cfg(test)] code is ignored.
"""

import argparse
import os
import pathlib
import re
import subprocess
import sys
import tempfile
from collections import deque, namedtuple

KEYWORDS = set("as async await break const continue crate dyn else enum extern false fn for if "
               "impl in let loop match mod move mut pub ref return self Self static struct super "
               "trait true type unsafe use where while union macro_rules".split())
ITEM_KEYWORDS = {"fn", "struct", "enum", "trait", "type", "const", "static", "union"}
# Crate roots, each with {extern crate name: root of another crate scanned here}. The binary
# (main.rs, cli/) reaches the library (lib.rs, discord/) by its crate name.
CRATES = [("src/lib.rs", {}), ("commands/src/lib.rs", {}),
          ("commands/src/main.rs", {"sharesync_commands": "commands/src/lib.rs"})]
SANDBOX_ALLOWED = {"model", "sandbox"}  # top-level engine modules the sandbox may use
LINE_ROOTS = ("src/", "commands/src/", "tests/", "commands/tests/", "benches/")

Tok = namedtuple("Tok", "kind text line")  # kind: id, p (punctuation), str, lt (lifetime), num
Use = namedtuple("Use", "segs name line pub glob")  # one leaf of a `use` tree
Analysis = namedtuple("Analysis", "edges sandbox notes parent_file files")

LEXEMES = [(kind, re.compile(pattern, re.S)) for kind, pattern in [
    ("space", r"\s+"), ("space", r"//[^\n]*"), ("block", r"/\*"), ("raw", r'[bc]?r(#*)"'),
    ("str", r'[bc]?"(?:[^"\\]|\\.)*"'), ("str", r"b?'(?:\\.[^'\n]*|[^\\'\n])'"),
    ("lt", r"'(\w*)"), ("id", r"(?:r#)?([^\W\d]\w*)"), ("num", r"\d\w*"), ("p", r"::|[^\w\s]")]]


def lex(text):
    """Tokens of Rust source with line numbers. Comments vanish and each string or char literal
    becomes one `str` token (its text kept for #[path]), so nothing inside them reads as code."""
    toks, i, line, n = [], 0, 1, len(text)
    while i < n:
        kind, m = next((kind, m) for kind, pattern in LEXEMES if (m := pattern.match(text, i)))
        end, value = m.end(), m.group(m.lastindex or 0)
        if kind == "block":  # block comments nest in Rust
            depth = 0
            for mark in re.compile(r"/\*|\*/").finditer(text, i):
                depth += 1 if mark.group() == "/*" else -1
                if depth == 0:
                    break
            end = mark.end() if depth == 0 else n
        elif kind == "raw":
            close = text.find('"' + m.group(1), end)
            close = n if close < 0 else close
            kind, value, end = "str", text[end:close], close + 1 + len(m.group(1))
        elif kind == "str":
            value = value[value.index('"') + 1:-1] if '"' in value else ""
        if kind not in ("space", "block"):
            toks.append(Tok(kind, value, line))
        line, i = line + text.count("\n", i, end), end
    return toks


class Module:
    """A module: a file, or an inline `mod x { }` block, which belongs to its file."""

    def __init__(self, name, file, parent, crate):
        self.name, self.file, self.parent, self.crate = name, file, parent, crate
        self.path = parent.path + (name,) if parent else ()
        self.children, self.items, self.named = {}, {}, {}  # named: `use` leaves by name
        self.uses, self.refs, self.idents = [], [], []  # refs: inline paths; idents: bare names


def matching(toks, i):
    """Index of the bracket closing the one at toks[i]."""
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].kind == "p" and toks[j].text in ("(", "[", "{", ")", "]", "}"):
            depth += 1 if toks[j].text in "([{" else -1
            if depth == 0:
                return j
    return len(toks) - 1


def skip_item(toks, i):
    """Index after the #[cfg(test)] item at toks[i]: its first `;` or `{ … }` outside brackets."""
    while not (toks[i].kind == "p" and toks[i].text in (";", "{")):
        i = matching(toks, i) + 1 if toks[i].kind == "p" and toks[i].text in "([" else i + 1
    return matching(toks, i) + 1 if toks[i].text == "{" else i + 1


def parse_use_tree(toks, i, prefix, pub, out):
    """Parse the `use` tree at toks[i] into Use leaves in `out`; returns the index after it."""
    if toks[i].text == "::":  # `use ::x` names an external crate
        prefix, i = prefix + ["::"], i + 1
    if toks[i].text == "*":
        out.append(Use(prefix, None, toks[i].line, pub, True))
        return i + 1
    if toks[i].text == "{":
        while toks[i].text != "}":  # at the `{` or a `,`: a tree follows, or the closing `}`
            i = i + 1 if toks[i + 1].text == "}" else parse_use_tree(toks, i + 1, prefix, pub, out)
        return i + 1
    segs, line, i = prefix + [toks[i].text], toks[i].line, i + 1
    while toks[i].text == "::":
        if toks[i + 1].text in ("*", "{"):
            return parse_use_tree(toks, i + 1, segs, pub, out)
        segs, line, i = segs + [toks[i + 1].text], toks[i + 1].line, i + 2
    segs = segs[:-1] if segs[-1] == "self" else segs  # `use a::{self}` imports the module a
    name = segs[-1] if segs else "self"
    if toks[i].text == "as":
        name, i = toks[i + 1].text, i + 2
    out.append(Use(segs, name, line, pub, False))
    return i


def child_file(repo, rel, inline, name, path_attr):
    """The file of `mod name;` declared in file `rel` inside inline modules `inline`, or None."""
    if path_attr:  # #[path] is relative to the declaring file's directory
        candidates = [os.path.join(os.path.dirname(rel), *inline, path_attr)]
    else:  # lib.rs, main.rs and mod.rs own their directory; foo.rs owns foo/
        mod_rs = os.path.basename(rel) in ("lib.rs", "main.rs", "mod.rs")
        stem = os.path.join(os.path.dirname(rel) if mod_rs else rel[:-3], *inline, name)
        candidates = [stem + ".rs", os.path.join(stem, "mod.rs")]
    found = [os.path.normpath(p) for p in candidates if os.path.isfile(os.path.join(repo, p))]
    return found[0] if found else None


def parse_file(repo, rel, top, modules):
    """Read file `rel` into its module `top`: items, `use` leaves, inline paths and bare names;
    follows `mod x;` into child files. Every module found goes into `modules`."""
    modules.append(top)
    toks = lex(pathlib.Path(repo, rel).read_text(encoding="utf-8"))
    toks += [Tok("p", ";", 0)] * 3  # sentinels, so look-ahead stays in range
    frames = [(top, True, ())]  # (module, is a module body, inline module names in this file)
    i, cfg_test, path_attr, pub, macros = 0, False, None, False, set()
    while i < len(toks) - 3:
        t, nxt, (mod, at_mod, inline) = toks[i], toks[i + 1], frames[-1]
        if t.text == "#" and toks[i + 1 + (nxt.text == "!")].text == "[":  # an attribute
            j = i + 1 + (nxt.text == "!")
            end, body = matching(toks, j), [x.text for x in toks[j + 1:j + 5]]
            test = j == i + 1 and end == j + 5 and body == ["cfg", "(", "test", ")"]
            cfg_test = cfg_test or test
            path_attr = toks[j + 3].text if body[:2] == ["path", "="] else path_attr
            i = end + 1
        elif cfg_test:
            i, cfg_test, path_attr, pub = skip_item(toks, i), False, None, False
        elif t.kind != "id":
            if t.text == "{":  # a block (fn, impl, struct …) in a module body is not one
                frames.append((mod, False, inline))
            elif t.text == "}" and len(frames) > 1:
                frames.pop()
            i += 1
        elif t.text == "pub":  # pub, pub(crate), pub(super), pub(in path)
            pub, i = True, (matching(toks, i + 1) + 1 if nxt.text == "(" else i + 1)
        elif t.text == "use":
            out = []
            i, pub = parse_use_tree(toks, i + 1, [], pub, out) + 1, False
            mod.uses += out
            for use in (u for u in out if not u.glob):
                mod.named.setdefault(use.name, []).append(use)
        elif t.text == "mod" and at_mod and nxt.kind == "id":
            child = mod.children[nxt.text] = Module(nxt.text, rel, mod, mod.crate)
            if toks[i + 2].text == "{":
                frames.append((child, True, inline + (nxt.text,)))
                modules.append(child)
            elif path := child_file(repo, rel, inline, nxt.text, path_attr):  # (else cargo fails)
                child.file = path
                parse_file(repo, path, child, modules)
            i, pub, path_attr = i + 3, False, None
        elif at_mod and t.text in ITEM_KEYWORDS and nxt.kind == "id" and nxt.text not in KEYWORDS:
            mod.items.setdefault(nxt.text, t.line)
            i, pub = i + 2, False
        elif at_mod and t.text == "macro_rules" and nxt.text == "!":
            mod.items.setdefault(toks[i + 2].text, t.line)
            macros.add(toks[i + 2].text)
            i += 3
        elif at_mod and t.text in macros and nxt.text == "!":
            # A local macro invoked where items go defines the first name it is given, after
            # attributes: `text_enum!(RunKind { … })` defines RunKind.
            j = i + 3
            while toks[j].text == "#":
                j = matching(toks, j + 1) + 1
            if toks[j].kind == "id":
                mod.items.setdefault(toks[j].text, toks[j].line)
            i += 2
        else:  # a path in code: `crate::a::f`, `super::X`, `alias::Y`, or a bare name
            pub, prev = False, toks[i - 1].text if i and toks[i - 1].kind == "p" else ""
            segs, j = [t.text], i + 1
            while toks[j].text == "::" and toks[j + 1].kind == "id":
                segs, j = segs + [toks[j + 1].text], j + 2
            if prev in (".", "::", "$") or t.text in KEYWORDS - {"crate", "self", "super"}:
                j = i + 1  # a field, method, macro variable or keyword: not a path
            elif len(segs) > 1:
                mod.refs.append((segs, t.line))
            elif t.text not in KEYWORDS:
                mod.idents.append((t.text, t.line))
            i = j


def lookup(mod, name, more, seen):
    """What `name` means inside module `mod`: ("mod", Module), ("item", defining Module), or None
    (external, a local variable, unknown). `more`: more segments follow, so a module wins."""
    if (id(mod), name) in seen:  # re-exports that loop
        return None
    seen = seen | {(id(mod), name)}
    child, item = mod.children.get(name), name in mod.items
    if child and (more or not item):
        return ("mod", child)
    if item:
        return ("item", mod)
    for use in mod.named.get(name, []):
        found = resolve(mod, use.segs, seen)
        if found and found[0] != "unresolved":
            return found
    for use in (u for u in mod.uses if u.glob):
        target = resolve(mod, use.segs, seen)
        found = target and target[0] == "mod" and lookup(target[1], name, more, seen)
        if found:
            return found
    return None


def resolve(mod, segs, seen=frozenset()):
    """Follow a path written in `mod` to its first item (`Type::method` stops at Type): ("item" |
    "mod", defining Module), ("unresolved", last Module reached), or None (outside the crates)."""
    cur = mod
    for k, seg in enumerate(segs):
        if seg in ("crate", "self", "super", "::"):
            cur = {"crate": cur.crate["root"], "self": cur, "super": cur.parent}.get(seg)
            if cur is None:  # `::x` names an external crate; or `super` above the crate root
                return None
            continue
        found = lookup(cur, seg, k < len(segs) - 1, seen)
        if not found and k == 0 and seg in mod.crate["externs"]:
            found = ("mod", mod.crate["externs"][seg])
        if not found or found[0] == "item":  # not found: a first segment is external
            return found or (("unresolved", cur) if k else None)
        cur = found[1]
    return ("mod", cur)


def analyse(repo):
    """Parse the crates in `repo` and resolve every reference into edges between files
    {(a, b): (line, path)}, sandbox findings, unresolved paths, and each file's parent file."""
    modules, roots = [], {}
    for root, externs in CRATES:
        if os.path.isfile(os.path.join(repo, root)):
            crate = {"externs": {k: roots[v] for k, v in externs.items() if v in roots}}
            crate["root"] = roots[root] = Module("", root, None, crate)
            parse_file(repo, root, crate["root"], modules)
    files = {m.file: m for m in modules if not (m.parent and m.parent.file == m.file)}
    used = {f: set() for f in files}  # names each file's code uses: a `pub use` of another
    for mod in modules:  # name is a re-export only, structure
        used[mod.file].update([n for n, _ in mod.idents] + [segs[0] for segs, _ in mod.refs])
    edges, sandbox, notes = {}, set(), set()
    for mod in modules:
        in_sandbox = mod.file.startswith("src/sandbox/") and mod.crate["root"].file == "src/lib.rs"
        refs = [(u.segs, u.line, not u.pub or u.name in used[mod.file]) for u in mod.uses]
        for segs, line, counts in refs + [(segs, line, True) for segs, line in mod.refs]:
            found, text = resolve(mod, segs), "::".join(segs) or "self"
            if found and in_sandbox and found[1].path[:1] not in [(m,) for m in SANDBOX_ALLOWED]:
                sandbox.add(f"{mod.file}:{line} {text}")
            if found and found[0] == "unresolved":
                notes.add(f"{mod.file}:{line} {text}")
            elif found and found[0] == "item" and counts and found[1].file != mod.file:
                edges.setdefault((mod.file, found[1].file), (line, text))
        # A glob (`use super::world::*`) makes an edge where the code uses a name it brings in.
        local = set(mod.items) | set(mod.children) | set(mod.named)
        for use in (u for u in mod.uses if u.glob):
            target = resolve(mod, use.segs)
            for name, line in mod.idents if target and target[0] == "mod" else []:
                found = name not in local and lookup(target[1], name, False, frozenset())
                if found and found[0] == "item" and found[1].file != mod.file:
                    edges.setdefault((mod.file, found[1].file), (line, name + " (glob)"))
    parent_file = {f: m.parent.file for f, m in files.items() if m.parent}
    return Analysis(edges, sorted(sandbox), sorted(notes), parent_file, sorted(files))


def reachable(v, succ):
    """Every node reachable from v in one step or more."""
    seen, todo = set(), [v]
    while todo:
        new = set(succ.get(todo.pop(), ())) - seen
        seen |= new
        todo += new
    return seen


def strongly_connected(nodes, succ):
    """Groups of nodes that all reach each other (strongly connected components, 2+ nodes)."""
    reach = {v: reachable(v, succ) for v in nodes}
    comps = {frozenset(w for w in reach[v] if v in reach[w]) for v in nodes if v in reach[v]}
    return sorted((set(c) for c in comps if len(c) > 1), key=sorted)


def cycle_cover(edges):
    """For every edge inside a strongly connected component, the shortest cycle through it (so
    every edge on a cycle is shown at least once). Returns (components, cycles)."""
    succ = {a: {y for x, y in edges if x == a} for a, _ in edges}
    comps, rings = strongly_connected({x for e in edges for x in e}, succ), set()
    for comp in comps:
        for a, b in sorted(e for e in edges if e[0] in comp and e[1] in comp):
            paths, todo = {b: [b]}, deque([b])
            while todo and a not in paths:  # breadth first from b back to a, inside comp
                v = todo.popleft()
                for w in sorted(succ[v] & comp - set(paths)):
                    paths[w] = paths[v] + [w]
                    todo.append(w)
            ring = [a] + paths[a][:-1]  # a -> b -> ... (the closing a left off)
            k = ring.index(min(ring))  # one rotation per cycle, so each is listed once
            rings.add(tuple(ring[k:] + ring[:k]))
    return comps, sorted(rings, key=lambda r: (len(r), r))


def find_cycles(edges, parent_file):
    """(components, cycles that remain without the edges between a module file and its parent
    module's file, cycles through such an edge)."""
    def family(a, b):
        return parent_file.get(a) == b or parent_file.get(b) == a
    comps, rings = cycle_cover(edges)
    _, across = cycle_cover({e for e in edges if not family(*e)})
    through = [r for r in rings if any(family(a, b) for a, b in zip(r, r[1:] + r[:1]))]
    return comps, across, through


def report_cycles(edges, parent_file, allow_parent):
    """Print the cycle check; returns True when it passes."""
    comps, across, through = find_cycles(edges, parent_file)
    ok = not across and (allow_parent or not comps)
    print(f"cycles: {'ok' if ok else 'FAIL'} ({len(edges)} edges between files; {len(comps)} groups"
          f" of files that use each other; {len(across)} cycles not through a parent module, "
          f"{len(through)} through one, {sum(len(r) == 2 for r in through)} of them just a pair)")
    for comp in comps:
        print(f"  group of {len(comp)}: {', '.join(sorted(comp))}")
    for title, rings in (("Cycles that remain without parent/child edges", across),
                         ("Cycles through an edge between a module file and its parent's "
                          "(--allow-parent-child ignores these)", through)):
        if rings:
            print(f"{title} ({len(rings)}):")
        for ring in rings:
            print("  " + " → ".join(ring + ring[:1]))
            for a, b in zip(ring, ring[1:] + ring[:1]):
                print(f"      {a} → {b}: {a}:{edges[(a, b)][0]} {edges[(a, b)][1]}")
    return ok


def section(name, findings, summary):
    """Print one check's verdict and findings; True when there are none."""
    print(f"{name}: {'FAIL' if findings else 'ok'} ({summary})")
    print("".join(f"  {finding}\n" for finding in findings), end="")
    return not findings


def long_files(repo, max_lines):
    """(lines, file) for tracked .rs files under the source roots over max_lines, longest first."""
    try:
        listed = subprocess.run(["git", "-C", repo, "ls-files", "--", "*.rs"], text=True,
                                capture_output=True, check=True).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: walk the tree
        listed = [os.path.relpath(os.path.join(d, f), repo)
                  for d, _, names in os.walk(repo) for f in names if f.endswith(".rs")]
    counts = []
    for rel in (r for r in listed if r.startswith(LINE_ROOTS)):
        if os.path.isfile(os.path.join(repo, rel)):  # listed but deleted in the work tree: gone
            text = pathlib.Path(repo, rel).read_text(encoding="utf-8", errors="replace")
            counts.append((len(text.splitlines()), rel))
    return sorted((c for c in counts if c[0] > max_lines), key=lambda c: (-c[0], c[1]))


def print_graph(result):
    """Print the dependency graph: engine by top-level module, front ends by file."""
    def node(f):
        front = f.startswith("commands/src/")
        return f[13:] if front else f[4:].split("/")[0].removesuffix(".rs")
    for title, prefix in (("Engine (src/, by top-level module)", "src/"),
                          ("Front ends (commands/src/, by file)", "commands/src/")):
        graph = {node(f): set() for f in result.files if f.startswith(prefix)}
        for a, b in result.edges:
            if a.startswith(prefix) and b.startswith(prefix) and node(a) != node(b):
                graph[node(a)].add(node(b))
        print(f"{title}:")
        for a in sorted(graph):
            print(f"  {a} → {', '.join(sorted(graph[a])) or '(nothing)'}")
        for comp in strongly_connected(graph, graph):
            print(f"  cycle at this level: {', '.join(sorted(comp))}")


# Self-test cases: name, files, the sets of files expected on cycles (through a parent module when
# the name starts "parent:"), sandbox findings, files too long, an edge that must exist (or None).
AB = {"src/lib.rs": "mod a; mod b;"}
SELF_TESTS = [
    ("two-file cycle through use (nested group, alias)", {**AB,
      "src/a.rs": "use crate::b::B; pub struct A(B);",
      "src/b.rs": "use crate::{a::{A as Alpha},\n a}; pub struct B(Alpha);"},
     [{"src/a.rs", "src/b.rs"}], 0, 0, ("src/b.rs", "src/a.rs")),
    ("cycle through an inline path", {**AB, "src/a.rs": "pub fn f() { crate::b::g() }",
                                      "src/b.rs": "pub fn g() { super::a::f() }"},
     [{"src/a.rs", "src/b.rs"}], 0, 0, ("src/a.rs", "src/b.rs")),
    ("cycle through a re-export, followed to the defining file", {
        "src/lib.rs": "mod p; mod q;", "src/p/mod.rs": "mod inner; pub use inner::Thing;",
        "src/p/inner.rs": "pub struct Thing; pub fn make() -> Thing { crate::q::helper() }",
        "src/q.rs": "use crate::p::Thing; pub fn helper() -> Thing { Thing }"},
     [{"src/p/inner.rs", "src/q.rs"}], 0, 0, ("src/q.rs", "src/p/inner.rs")),
    ("a parent that only declares and re-exports: no cycle", {
        "src/lib.rs": "mod p;", "src/p/mod.rs": "mod c; pub use c::C; pub struct Shared;",
        "src/p/c.rs": "use super::Shared; pub struct C(Shared);"}, [], 0, 0, None),
    ("parent: a parent that calls its child, and the child uses its type", {
        "src/lib.rs": "mod p;", "src/p/mod.rs": "mod c; pub struct S; fn run() { c::go(S) }",
        "src/p/c.rs": "pub fn go(_: super::S) {}"}, [{"src/p/mod.rs", "src/p/c.rs"}], 0, 0, None),
    ("a glob import makes an edge where a name it brings is used", {**AB,
      "src/a.rs": "use crate::b::*; pub struct A; fn f() -> Bee { Bee }",
      "src/b.rs": "pub struct Bee; fn g(_: crate::a::A) {}"},
     [{"src/a.rs", "src/b.rs"}], 0, 0, ("src/a.rs", "src/b.rs")),
    ("#[cfg(test)] code, comments and strings are not edges", {
        "src/lib.rs": "mod a; mod b; #[cfg(test)] mod only_tests;", "src/b.rs": "use crate::a::f;",
        "src/a.rs": "pub fn f() {} #[cfg(test)] mod tests { use super::*; use crate::b::g; }\n"
                    "// crate::b::g\n/* crate::b::g /* nested */ crate::b::g */ pub fn h() {\n"
                    "let _ = (\"crate::b::g()\", r#\"a \" crate::b::g \" b\"#, '\"', b'\\'', 1); }",
        "src/only_tests.rs": "use crate::a::f;"}, [], 0, 0, ("src/b.rs", "src/a.rs")),
    ("the binary reaches the front ends' library by crate name", {
        "commands/src/lib.rs": "pub mod discord;", "commands/src/discord/mod.rs": "pub fn go() {}",
        "commands/src/main.rs": "mod cli; fn main() { cli::run() }",
        "commands/src/cli/mod.rs":
            "use sharesync_commands::discord; pub fn run() { discord::go() }"},
     [], 0, 0, ("commands/src/cli/mod.rs", "commands/src/discord/mod.rs")),
    ("sandbox: crate::model is fine, crate::plex is not (twice)", {
        "src/lib.rs": "pub mod model; pub mod plex; pub mod sandbox;",
        "src/model.rs": "pub struct Owner;", "src/plex/mod.rs": "pub struct Client;",
        "src/sandbox/mod.rs": "use crate::model::Owner; use crate::plex::Client;\n"
                              "fn f() -> crate::plex::Client { todo!() }"}, [], 2, 0, None),
    ("a 501-line file fails, a 500-line one passes",
     {"src/lib.rs": "\n" * 500, "tests/t.rs": "//\n" * 501}, [], 0, 1, None),
]


def self_test():
    """Run the checks on the SELF_TESTS fake crates; True when every verdict is as expected."""
    failures = 0
    for name, files, want_cycles, want_sandbox, want_long, want_edge in SELF_TESTS:
        with tempfile.TemporaryDirectory() as repo:
            for rel, text in files.items():
                pathlib.Path(repo, rel).parent.mkdir(parents=True, exist_ok=True)
                pathlib.Path(repo, rel).write_text(text, encoding="utf-8")
            result, long = analyse(repo), long_files(repo, 500)
        _, across, through = find_cycles(result.edges, result.parent_file)
        rings = through if name.startswith("parent:") else across  # and none of the other kind
        got = sorted(sorted(ring) for ring in rings)
        ok = (got == sorted(map(sorted, want_cycles)) and len(rings) == len(across + through)
              and len(result.sandbox) == want_sandbox and len(long) == want_long
              and (want_edge is None or want_edge in result.edges) and not result.notes
              and not any("test" in f for edge in result.edges for f in edge))
        failures += not ok
        print(f"self-test {'ok  ' if ok else 'FAIL'} {name}" + ("" if ok else
              f": cycles {got}, sandbox {result.sandbox}, long {long}, edges {result.edges}"))
    return failures == 0


def main():
    """Parse the arguments, run the checks; exit 0 (pass), 1 (fail) or 2 (usage error)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", help="repository to check (default: the one holding this script)",
                    default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--only", choices=("cycles", "sandbox", "lines"), help="run one check")
    ap.add_argument("--max-lines", type=int, default=500, help="longest source file allowed")
    ap.add_argument("--graph", action="store_true", help="print the dependency graph (no check)")
    ap.add_argument("--allow-parent-child", action="store_true", help="pass cycles through an "
                    "edge between a module file and its parent's (they are still listed)")
    ap.add_argument("--self-test", action="store_true", help="check the checker on fake crates")
    args = ap.parse_args()
    if args.self_test:
        return 0 if self_test() else 1
    if not os.path.isfile(os.path.join(args.repo, "src", "lib.rs")):
        ap.error(f"{args.repo} has no src/lib.rs")
    result = analyse(args.repo)
    if args.graph:
        print_graph(result)
        return 0
    ok = True
    if args.only in (None, "cycles"):
        ok &= report_cycles(result.edges, result.parent_file, args.allow_parent_child)
    if args.only in (None, "sandbox"):
        ok &= section("sandbox", result.sandbox,
                      "src/sandbox/ may use only crate::model, crate::sandbox and external crates")
    if args.only in (None, "lines"):
        long = [f"{count:5} {rel}" for count, rel in long_files(args.repo, args.max_lines)]
        ok &= section("lines", long, f"{len(long)} source files over {args.max_lines} lines")
    if result.notes and args.only != "lines":  # not failures: gaps of this checker, to fix
        print(f"note: {len(result.notes)} paths into the crates that the checker cannot follow:")
        print("".join(f"  {note}\n" for note in result.notes), end="")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
