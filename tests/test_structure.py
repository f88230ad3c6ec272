"""The shape of the code: no module imports another module's underscore names,
and the modules of gcgeo import one another without cycles.

A leading underscore is a promise that the name may change without notice;
what two modules share is public API, with a name, a docstring and a test.
Importing from a private module is fine (``from .._errors import InputError``),
and so is importing a private module itself (``from . import _isochrones``):
what is caught is a private *name* taken from another module, by
``from x import _y`` or by ``x._y`` on a module bound by an import.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def package_modules(pkg: Path) -> dict[str, Path]:
    """The dotted names of the Python modules of package directory ``pkg``
    (a package by the name of its ``__init__``); vendored code left out."""
    mods = {}
    for p in sorted(pkg.rglob("*.py")):
        if "vendor" in p.relative_to(pkg).parts:
            continue
        parts = p.relative_to(pkg.parent).with_suffix("").parts
        mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    return mods


@dataclass
class Imports:
    """What one module imports: the modules (``edges``) and the private names
    taken, as (file, line, how)."""

    edges: set[str] = field(default_factory=set)
    private: list[tuple[str, int, str]] = field(default_factory=list)


def _target(package: str, node: ast.ImportFrom) -> str:
    """The module an ``ast.ImportFrom`` reads from, relative imports resolved
    against ``package`` (the package the importing module is in)."""
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    if node.level > len(parts):
        raise ValueError(f"relative import beyond the top package in {package}")
    base = parts[: len(parts) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for an attribute chain on a name, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def scan(name: str, path: Path, known: set[str], *, is_package: bool = False) -> Imports:
    """The imports of module ``name`` (source ``path``), at any level of the
    file (functions included).  ``known`` holds the modules a ``from x import
    y`` may name as ``y`` (then ``y`` is a module, not a name of ``x``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if is_package else name.rpartition(".")[0]
    out = Imports()
    bound: dict[str, str] = {}  # local name -> module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                out.edges.add(a.name)
                top = a.name.split(".")[0]  # `import a.b` binds a; `import a.b as c`, a.b
                bound[a.asname or top] = a.name if a.asname else top
        elif isinstance(node, ast.ImportFrom):
            target = _target(package, node)
            for a in node.names:
                sub = f"{target}.{a.name}"
                if sub in known:  # a module of the package, not a name in it
                    out.edges.add(sub)
                    bound[a.asname or a.name] = sub
                    continue
                out.edges.add(target)
                if _private(a.name) and target != name:
                    out.private.append((path.relative_to(ROOT).as_posix(), node.lineno,
                                        f"from {target} import {a.name}"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            base = _dotted(node.value)
            head, _, rest = (base or "").partition(".")
            if head in bound:
                module = bound[head] + (f".{rest}" if rest else "")
                if module in known and module != name:
                    out.private.append((path.relative_to(ROOT).as_posix(), node.lineno,
                                        f"{base}.{node.attr} (module {module})"))
    return out


def import_graph(mods: dict[str, Path]) -> tuple[nx.DiGraph, list[tuple[str, int, str]]]:
    """The import graph among ``mods`` (module name -> path) and the private
    names they import.  A module's import of a package it lies in is left
    out (that package is being imported already)."""
    known = set(mods)
    graph = nx.DiGraph()
    graph.add_nodes_from(mods)
    private = []
    for name, path in mods.items():
        found = scan(name, path, known, is_package=path.name == "__init__.py")
        private += found.private
        for t in found.edges:
            if t in known and t != name and not name.startswith(t + "."):
                graph.add_edge(name, t)
    return graph, private


def cycles(graph: nx.DiGraph) -> list[list[str]]:
    """One cycle through each group of modules that import one another."""
    found = []
    for group in nx.strongly_connected_components(graph):
        if len(group) > 1:
            edges = nx.find_cycle(graph.subgraph(group))
            found.append([u for u, _ in edges] + [edges[0][0]])
    return sorted(found)


GCGEO = package_modules(ROOT / "gcgeo")
BENCHMARKS = {p.stem: p for p in sorted((ROOT / "benchmarks").glob("*.py"))}


#: Private names knowingly taken across modules, as (file, how): none.  An entry
#: that no longer occurs fails the test too, so the set can only shrink.
KNOWN: set[tuple[str, str]] = set()


def test_no_module_imports_another_modules_private_names():
    _, private = import_graph(GCGEO)
    known = set(GCGEO) | set(BENCHMARKS)
    for name, path in BENCHMARKS.items():
        private += scan(name, path, known).private
    new = [f"{f}:{line}: {how}" for f, line, how in private if (f, how) not in KNOWN]
    assert not new, "private names imported across modules:\n" + "\n".join(new)
    stale = KNOWN - {(f, how) for f, _, how in private}
    assert not stale, f"fixed, so take them out of KNOWN: {sorted(stale)}"


def test_the_modules_of_gcgeo_import_one_another_without_cycles():
    graph, _ = import_graph(GCGEO)
    assert graph.number_of_edges() > len(GCGEO)  # the imports were read
    assert graph.has_edge("gcgeo.network.build", "gcgeo.values")
    assert graph.has_edge("gcgeo.network.build", "gcgeo.crs")  # imported inside a function
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


# --------------------------------------------------------------------------
# the checks themselves, on a small package written for them


def _write(root: Path, files: dict[str, str]) -> dict[str, Path]:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return package_modules(root / "pkg")


@pytest.fixture
def fake_root(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    return tmp_path


def test_the_checks_find_private_imports_and_cycles(fake_root):
    mods = _write(fake_root, {
        "pkg/__init__.py": "from .a import public\n__version__ = '1'\n",
        "pkg/_errors.py": "class InputError(ValueError):\n    pass\n",
        "pkg/a.py": ("from ._errors import InputError\nfrom . import _c as c\n"
                     "from .sub.b import _hidden\npublic = 1\n"),
        "pkg/sub/__init__.py": "from .. import __version__\n",
        "pkg/sub/b.py": ("def f():\n    from .. import a\n    return a._x\n"
                         "_hidden = 2\n"),
        "pkg/_c.py": "import pkg.sub.b\n\ny = pkg.sub.b._hidden\nfrom pkg.sub import b as bb\nz = bb.f\n",
    })
    assert set(mods) == {"pkg", "pkg._errors", "pkg.a", "pkg.sub", "pkg.sub.b", "pkg._c"}
    graph, private = import_graph(mods)
    assert sorted(private) == [
        ("pkg/_c.py", 3, "pkg.sub.b._hidden (module pkg.sub.b)"),
        ("pkg/a.py", 3, "from pkg.sub.b import _hidden"),
        ("pkg/sub/b.py", 3, "a._x (module pkg.a)"),
    ]
    # relative imports resolved; the package a module lies in left out
    assert set(graph.edges) == {("pkg", "pkg.a"), ("pkg.a", "pkg._errors"), ("pkg.a", "pkg._c"),
                                ("pkg.a", "pkg.sub.b"), ("pkg.sub.b", "pkg.a"),
                                ("pkg._c", "pkg.sub.b")}
    found = cycles(graph)  # one group, a -> sub.b -> a or a -> _c -> sub.b -> a
    assert len(found) == 1 and found[0][0] == found[0][-1]
    assert set(found[0]) <= {"pkg.a", "pkg.sub.b", "pkg._c"}
    assert all(graph.has_edge(u, v) for u, v in zip(found[0], found[0][1:]))
    graph.remove_edge("pkg.sub.b", "pkg.a")
    assert cycles(graph) == []


def test_tests_neither_time_gcgeo_nor_skip_when_it_fails_to_import():
    """Speed is measured by benchmarks/, never asserted in a test; a gcgeo module that
    fails to import fails its tests instead of skipping them."""
    bad = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        if path.name == Path(__file__).name:  # names the needles itself
            continue
        text = path.read_text(encoding="utf-8")
        for needle in ("perf_counter", "process_time", "time.time(", 'importorskip("gcgeo',
                       "importorskip('gcgeo"):
            if needle in text:
                bad.append(f"{path.name}: {needle}")
    assert not bad, "\n".join(bad)
