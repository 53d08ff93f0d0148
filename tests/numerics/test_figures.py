"""numerics/figures.py: the project's figures and its one figure writer."""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from spectral_edge.common.errors import InputError
from spectral_edge.numerics import figures
from spectral_edge.numerics.scenarios import run_scenario

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [p for layer in ("theory", "numerics", "validation", "benchmarks")
           for p in (ROOT / layer).rglob("*.py")]


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_importing_the_figure_modules_leaves_the_backend_alone() -> None:
    """The old plotting modules called matplotlib.use("Agg") at import time."""
    code = (
        "import matplotlib\n"
        "matplotlib.use('pdf')\n"
        "import spectral_edge.numerics.figures, spectral_edge.validation.runs.figures\n"
        "print(matplotlib.get_backend())\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("MPLBACKEND", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env=env, timeout=120, check=True)
    assert out.stdout.strip() == "pdf"


def test_no_module_selects_a_backend_or_saves_a_figure_by_itself() -> None:
    use = [p.name for p in SOURCES if re.search(r"matplotlib\.use\(", p.read_text())]
    assert use == []
    savers = sorted(p.relative_to(ROOT).as_posix() for p in SOURCES
                    if ".savefig(" in p.read_text())
    assert savers == ["numerics/figures.py"]  # save_figure is the one writer


def test_save_figure_writes_atomically_at_the_project_dpi(tmp_path: Path) -> None:
    fig = figures.figure_scenario(run_scenario("viable-gap"))
    path = figures.save_figure(fig, tmp_path / "sub" / "v.png")
    width, height = _png_size(path)
    fw, fh = fig.get_size_inches()
    assert (width, height) == (round(fw * figures.DPI), round(fh * figures.DPI))
    assert sorted(p.name for p in path.parent.iterdir()) == ["v.png"]


def test_save_figure_refuses_an_unknown_format(tmp_path: Path) -> None:
    fig = figures.figure_scenario(run_scenario("viable-gap"))
    with pytest.raises(InputError, match=r"\.nope"):
        figures.save_figure(fig, tmp_path / "v.nope")
    assert list(tmp_path.iterdir()) == []


def test_figure_runs_needs_a_run() -> None:
    with pytest.raises(InputError):
        figures.figure_runs([])


def test_run_directory_figures(tmp_path: Path) -> None:
    from spectral_edge.validation.runs import rundir
    from spectral_edge.validation.runs.figures import plot_run

    rundir.write_json(tmp_path / "summary.json", {"task": "modadd", "optimizer": "adamw",
                                                  "wd": 1.0, "seed": 0, "grok_step": 20})
    pd.DataFrame({"step": [10, 20], "train_acc": [0.5, 1.0], "test_acc": [0.1, 0.9],
                  "train_loss": [1.0, 0.1], "test_loss": [2.0, 0.5]}).to_csv(
        tmp_path / "metrics.csv", index=False)
    pd.DataFrame({"step": [10, 20], "sigma_1": [2.0, 3.0], "sigma_2": [1.0, 0.5],
                  "g23_lambda": [0.1, 0.2]}).to_csv(tmp_path / "spectra.csv", index=False)
    paths = plot_run(tmp_path)
    assert [p.name for p in paths] == ["run.png", "loss.png"]
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["loss.png", "run.png"]
    assert _png_size(paths[1]) == (round(5.5 * figures.DPI), round(3.5 * figures.DPI))
