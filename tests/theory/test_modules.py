"""The layout of theory/: lambdified right-hand sides and rendering are separate modules,
no compatibility module is left, and no file points outside the project."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import sympy as sp

from spectral_edge.theory import lambdified, render

ROOT = Path(__file__).resolve().parents[2]


def test_export_is_split_without_a_shim() -> None:
    assert importlib.util.find_spec("spectral_edge.theory.export") is None
    assert {"derivation_markdown", "theory_markdown"} <= set(render.__all__)
    assert not set(render.__all__) & set(lambdified.__all__)
    assert "np" not in vars(render) and "lambdify" not in Path(render.__file__).read_text()


def test_unbound_symbols_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = sp.symbols("a b")
    monkeypatch.setitem(lambdified._SPECS, "probe", ("R1", "d_dot", (a,)))
    monkeypatch.setattr(lambdified, "_output", lambda derivation_id, name: a + b)
    lambdified._compiled.cache_clear()
    try:
        message = r"probe: derived expression has unbound symbols \['b'\]"
        with pytest.raises(ValueError, match=message):
            lambdified._compiled("probe")
    finally:
        lambdified._compiled.cache_clear()


def test_every_table_entry_compiles_lazily() -> None:
    lambdified._compiled.cache_clear()
    assert lambdified._compiled.cache_info().currsize == 0  # nothing compiled at import
    for name in lambdified._SPECS:
        assert callable(lambdified._compiled(name))


OWN_FILES = sorted(
    [p for p in (ROOT / "theory").rglob("*.py")]
    + [p for p in (ROOT / "numerics").rglob("*.py") if p.name != "spectra.py"]
    + [p for p in (ROOT / "validation").rglob("*.py")]
    + [p for p in (ROOT / "spectral_edge").rglob("*.py")]
)


@pytest.mark.parametrize("path", OWN_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_references_stay_inside_the_project(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"THEORY\.md|\.\./shared", text)
