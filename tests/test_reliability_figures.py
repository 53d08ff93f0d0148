"""Figures a new user reads (issue 20): every scorecard panel has axis labels and a title,
the grok line is labelled; the demo figure's columns share y-limits and its σ lines have a
colour bar with one colour per mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from spectral_edge.numerics.figures import RunTrace, figure_runs
from spectral_edge.validation.scorecard.analysis import RunData
from spectral_edge.validation.scorecard.figures import _figure_trace


def _spectra(scale: float, W: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(int(scale))
    steps = np.arange(0, 2000, 100)
    sig = -np.sort(-rng.random((len(steps), W)) * scale, axis=1) + 0.01
    return pd.DataFrame({"step": steps, **{f"sigma_{j + 1}": sig[:, j] for j in range(W)},
                         "g23_lambda": sig[:, 1] ** 2 - sig[:, 2] ** 2, "R": sig[:, 0] / sig[:, 1],
                         "W": W})


def _metrics() -> pd.DataFrame:
    steps = np.arange(0, 2000, 100)
    return pd.DataFrame({"step": steps, "train_acc": np.linspace(0, 1, len(steps)),
                         "test_acc": np.where(steps >= 1000, 0.99, 0.1)})


def test_demo_figure_shares_rows_and_has_a_colour_bar() -> None:
    runs = [RunTrace("wd 1", _spectra(1.0), _metrics(), 1000),
            RunTrace("wd 0", _spectra(50.0), _metrics(), None)]
    fig = figure_runs(runs, title="t")
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 6
    for row in range(3):
        a, b = panels[row * 2], panels[row * 2 + 1]
        assert a.get_ylim() == b.get_ylim()
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == 1 and bars[0].get_ylabel() == "mode j"
    assert [int(t) for t in bars[0].get_yticks()] == list(range(1, 11))
    labels = [line.get_label() for line in panels[4].get_lines()]
    assert "grok step 1000" in labels


def test_scorecard_panels_have_labels_titles_and_a_labelled_grok_line() -> None:
    run = RunData("r", Path("r"), _spectra(2.0), metrics=_metrics())
    fig = _figure_trace([run], "R", "gap ratio R", title="P5: gap ratio")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "step" and ax.get_ylabel() == "gap ratio R" and ax.get_title()
    assert fig.get_suptitle() == "P5: gap ratio"
    assert any(line.get_label() == "grok step 1000" for line in ax.get_lines())
