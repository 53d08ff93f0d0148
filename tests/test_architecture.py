"""docs/architecture.md's module map lists every module of the three layers, and only those."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAP = ROOT / "docs" / "architecture.md"
LAYERS = ("spectral_edge", "theory", "numerics", "validation")
# a module path written in backticks in the first cell of a table row: | `numerics/spectra.py` |
ROW = re.compile(
    r"^\|\s*`((?:spectral_edge|theory|numerics|validation)/[\w/]+\.py)`\s*\|", re.MULTILINE
)


def mapped_modules(text: str) -> list[str]:
    """Module paths listed in the module-map table of ``text`` (in order, repeats kept)."""
    return ROW.findall(text)


def existing_modules() -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for layer in LAYERS
        for path in (ROOT / layer).rglob("*.py")
        if "__pycache__" not in path.parts
    }


def test_every_module_is_in_the_map() -> None:
    missing = sorted(existing_modules() - set(mapped_modules(MAP.read_text())))
    assert not missing, f"docs/architecture.md's module map lacks: {missing}"


def test_the_map_lists_only_existing_modules() -> None:
    stale = sorted(set(mapped_modules(MAP.read_text())) - existing_modules())
    assert not stale, f"docs/architecture.md lists modules that do not exist: {stale}"


def test_the_map_lists_each_module_once() -> None:
    listed = mapped_modules(MAP.read_text())
    repeated = sorted({m for m in listed if listed.count(m) > 1})
    assert not repeated, f"listed more than once: {repeated}"


def test_the_parser_reads_table_rows_only() -> None:
    text = (
        "| module | what |\n|---|---|\n| `numerics/spectra.py` | stats |\n"
        "| `validation/runs/tasks/dyck.py` | Dyck |\n"
        "prose mentioning `theory/export.py` is not a row\n"
        "| a cell with `numerics/ode.py` later | no |\n"
    )
    assert mapped_modules(text) == ["numerics/spectra.py", "validation/runs/tasks/dyck.py"]
