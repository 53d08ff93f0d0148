"""Every docstring example in the package runs and gives what it shows.

The examples are found by reading the source (so collecting them imports nothing) and run
through :mod:`doctest` on the imported module, one test per docstring, under the names a
user imports (``spectral_edge.…``).
"""

from __future__ import annotations

import ast
import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {
    "spectral_edge": ROOT / "spectral_edge",
    "spectral_edge.theory": ROOT / "theory",
    "spectral_edge.numerics": ROOT / "numerics",
    "spectral_edge.validation": ROOT / "validation",
}


def _module_name(package: str, folder: Path, path: Path) -> str:
    parts = list(path.relative_to(folder).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


def _examples(path: Path, module: str) -> list[str]:
    """Dotted names (as doctest names them) of the docstrings in ``path`` with examples."""
    tree = ast.parse(path.read_text())
    found = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}.{child.name}"
                if ">>>" in (ast.get_docstring(child, clean=False) or ""):
                    found.append(name)
                if isinstance(child, ast.ClassDef):
                    visit(child, name)

    if ">>>" in (ast.get_docstring(tree, clean=False) or ""):
        found.append(module)
    visit(tree, module)
    return found


def _all_examples() -> list[tuple[str, str]]:
    cases = []
    for package, folder in FOLDERS.items():
        for path in sorted(folder.rglob("*.py")):
            module = _module_name(package, folder, path)
            cases += [(module, name) for name in _examples(path, module)]
    return cases


CASES = _all_examples()


def test_examples_are_found() -> None:
    assert len(CASES) > 100
    assert ("spectral_edge", "spectral_edge") in CASES


@pytest.mark.parametrize(("module", "name"), CASES, ids=[name for _, name in CASES])
def test_docstring_example(module: str, name: str) -> None:
    mod = importlib.import_module(module)
    tests = {t.name: t for t in doctest.DocTestFinder().find(mod, module) if t.examples}
    assert name in tests, f"doctest found no examples for {name}"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(tests[name])
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
