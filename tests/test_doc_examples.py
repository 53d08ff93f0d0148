"""Every Python example in README.md and docs/*.md runs as written.

A block preceded by an HTML comment ``<!-- fragment: ... -->`` is the core of a longer
script that is run elsewhere (the comment says where), and is checked only to parse. The
others run in a fresh directory with a small context a reader would have around them: a
model, an optimizer, a data loader and a loss (the monitor examples), and a finished run
under ``runs/NAME`` (the run-directory example).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(<!-- fragment:[^>]*-->\n)?```python\n(.*?)```", re.DOTALL)


def _blocks() -> list[tuple[str, int, bool, str]]:
    found = []
    for page in PAGES:
        for i, m in enumerate(BLOCK.finditer(page.read_text())):
            found.append((page.relative_to(ROOT).as_posix(), i, m.group(1) is not None,
                          m.group(2)))
    return found


BLOCKS = _blocks()


def _context(tmp_path: Path) -> dict:
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = [(torch.randn(16, 6), torch.randn(16, 2)) for _ in range(14)]
    return {"model": model, "optimizer": optimizer, "loader": loader,
            "loss_fn": torch.nn.functional.mse_loss}


def _finished_run(tmp_path: Path) -> None:
    from spectral_edge import RunConfig, train

    config = RunConfig.protocol("modadd", steps=140, stride=10, window=3, d_model=8,
                                n_heads=2, d_ff=8, n_layers=1, probe_every=None)
    train(config, tmp_path / "runs" / "NAME", progress=False, plots=False)


def test_examples_are_found() -> None:
    assert sum(not fragment for _, _, fragment, _ in BLOCKS) >= 4


@pytest.mark.parametrize(("page", "index", "fragment", "code"), BLOCKS,
                         ids=[f"{p}[{i}]" for p, i, _, _ in BLOCKS])
def test_example_runs(page: str, index: int, fragment: bool, code: str, tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    ast.parse(code)
    if fragment:
        return
    monkeypatch.chdir(tmp_path)
    namespace = _context(tmp_path) if "monitor" in code.lower() else {}
    if "runs/NAME" in code:
        _finished_run(tmp_path)
    if "@given" in code:
        exec(compile(code, f"{page}[{index}]", "exec"), namespace)
        for name, value in list(namespace.items()):
            if name.startswith("test_") and callable(value):
                value()
        return
    exec(compile(code, f"{page}[{index}]", "exec"), namespace)
