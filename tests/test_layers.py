"""The import graph, built from the code: imports go down only, room by room, no circles.

Every module of the package belongs to one room (the longest matching prefix of
``ROOMS``); a room may import itself and the rooms it lists, nothing else. Imports inside
functions count as much as those at the top of a module. On top of the rooms: torch (and
the frameworks built on it) only under ``validation``, never in the scorecard.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {
    "spectral_edge": ROOT / "spectral_edge",
    "spectral_edge.theory": ROOT / "theory",
    "spectral_edge.numerics": ROOT / "numerics",
    "spectral_edge.validation": ROOT / "validation",
}
P = "spectral_edge"
V = f"{P}.validation"
BASE = {f"{P}.common"}
ROOMS: dict[str, set[str]] = {
    P: set(),  # the package's own __init__ names its exports as strings, imports nothing
    f"{P}.common": set(),
    f"{P}.theory": BASE,
    f"{P}.numerics": BASE | {f"{P}.theory"},
    V: set(),  # the layer's __init__: a docstring
    f"{V}.monitor": BASE | {f"{P}.theory", f"{P}.numerics"},
    f"{V}.probes": BASE | {f"{P}.theory", f"{P}.numerics"},
    f"{V}.runs": BASE | {f"{P}.theory", f"{P}.numerics", f"{V}.monitor", f"{V}.probes"},
    f"{V}.integrations": BASE | {f"{P}.numerics", f"{V}.monitor", f"{V}.runs"},
    f"{V}.scorecard": BASE | {f"{P}.theory", f"{P}.numerics", f"{V}.runs"},
    f"{V}.experiments": BASE
    | {f"{P}.theory", f"{P}.numerics", f"{V}.monitor", f"{V}.probes", f"{V}.runs",
       f"{V}.scorecard"},
    f"{V}.cli": BASE
    | {f"{P}.theory", f"{P}.numerics", f"{V}.monitor", f"{V}.probes", f"{V}.runs",
       f"{V}.scorecard", f"{V}.experiments", f"{V}.integrations"},
}
TORCH = {"torch", "transformers", "lightning", "accelerate"}
NO_TORCH = [f"{P}.common", f"{P}.theory", f"{P}.numerics", f"{V}.scorecard"]


def modules() -> dict[str, Path]:
    """Every module of the package: dotted name -> file."""
    found = {}
    for package, folder in FOLDERS.items():
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([package, *parts])] = path
    return found


MODULES = modules()


def imports(path: Path, name: str) -> set[str]:
    """Every name ``path`` imports (absolute, dotted), at any depth of the module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            out.add(base)
            out |= {f"{base}.{alias.name}" for alias in node.names}
    return out


def own_module(dotted: str) -> str | None:
    """The package module ``dotted`` names (a module, or a name inside one), if any."""
    while dotted:
        if dotted in MODULES:
            return dotted
        dotted = dotted.rpartition(".")[0]
    return None


def room(module: str) -> str:
    return max((r for r in ROOMS if module == r or module.startswith(r + ".")), key=len)


def graph() -> dict[str, set[str]]:
    edges = {}
    for name, path in MODULES.items():
        targets = {own_module(d) for d in imports(path, name)}
        edges[name] = {t for t in targets if t and t != name and t not in _parents(name)}
    return edges


def _parents(name: str) -> set[str]:
    """Importing a module imports its packages; that is not an arrow of its own."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_every_module_has_a_room() -> None:
    assert len(MODULES) > 80
    assert {room(m) for m in MODULES} == set(ROOMS)


@pytest.mark.parametrize("name", sorted(ROOMS))
def test_room_imports_only_what_it_may(name: str) -> None:
    edges = graph()
    bad = {
        module: sorted(t for t in targets if room(t) != name and room(t) not in ROOMS[name])
        for module, targets in edges.items()
        if room(module) == name
    }
    assert not {k: v for k, v in bad.items() if v}


def test_the_rooms_form_no_circle() -> None:
    assert not cycles({r: set(deps) for r, deps in ROOMS.items()})


def test_no_module_circle() -> None:
    assert not cycles(graph())


@pytest.mark.parametrize("name", NO_TORCH)
def test_no_torch_in(name: str) -> None:
    bad = {
        module: sorted(d for d in imports(path, module) if d.split(".")[0] in TORCH)
        for module, path in MODULES.items()
        if room(module) == name
    }
    assert not {k: v for k, v in bad.items() if v}


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import torch\nfrom spectral_edge.validation.monitor import GramMonitor\n"
        "def f():\n    from .gram import x\n"
    )
    found = imports(module, "spectral_edge.validation.monitor.m")
    assert {"torch", "spectral_edge.validation.monitor.GramMonitor",
            "spectral_edge.validation.monitor.gram.x"} <= found
    assert own_module("spectral_edge.validation.monitor.GramMonitor") == (
        "spectral_edge.validation.monitor"
    )


def test_the_circle_finder_sees_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert not cycles({"a": {"b"}, "b": set()})
