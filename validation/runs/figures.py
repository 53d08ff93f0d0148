"""Figures of one run directory: ``plots/run.png`` and ``plots/loss.png``.

``run.png`` is :func:`spectral_edge.numerics.figures.figure_runs` (σ_j, g₂₃ and accuracy against the
step, grok step dashed); ``loss.png`` the train/test loss. Both are read back from
``metrics.csv``, ``spectra.csv`` and ``summary.json``, so any run directory can be
re-plotted with ``plot_run(path)``; both are written by
:func:`spectral_edge.numerics.figures.save_figure`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from spectral_edge.numerics.columns import G23_LAMBDA
from spectral_edge.numerics.figures import RunTrace, figure_runs, save_figure
from spectral_edge.validation.runs import rundir


def figure_loss(metrics: pd.DataFrame, grok_step: int | None, title: str) -> Figure:
    """Train and test loss (log scale) against the optimizer step, grok step dashed.

    >>> met = pd.DataFrame({"step": [1, 2], "train_loss": [1.0, 0.5], "test_loss": [2.0, 1.0]})
    >>> len(figure_loss(met, None, "run").axes)
    1
    """
    fig = Figure(figsize=(5.5, 3.5), layout="tight")
    ax = fig.subplots()
    for split in ("train", "test"):
        ax.semilogy(metrics["step"], metrics[f"{split}_loss"], label=split)
    if grok_step is not None:
        ax.axvline(grok_step, color="k", ls="--", lw=1)
    ax.set(xlabel="optimizer step", ylabel="cross-entropy", title=title)
    ax.legend()
    return fig


def plot_run(run_dir: str | os.PathLike) -> list[Path]:
    """Write the figures of ``run_dir``; returns their paths."""
    d = Path(run_dir)
    summary = rundir.read_json(d / "summary.json")
    grok = summary.get("grok_step")
    title = f"{summary['task']} {summary['optimizer']} wd={summary['wd']} seed={summary['seed']}"
    metrics = pd.read_csv(d / "metrics.csv")
    try:
        spectra = pd.read_csv(d / "spectra.csv")
    except pd.errors.EmptyDataError:  # no full window yet
        spectra = pd.DataFrame({"step": [], G23_LAMBDA: []})
    run_fig = figure_runs([RunTrace(title, spectra, metrics, grok)])
    return [
        save_figure(run_fig, d / "plots" / "run.png"),
        save_figure(figure_loss(metrics, grok, title), d / "plots" / "loss.png"),
    ]
