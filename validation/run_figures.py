"""Plots of one run directory: ``plots/run.png`` and ``plots/loss.png``.

``run.png`` is :func:`numerics.run_plots.figure_runs` (σ_j, g₂₃ and accuracy against the
step, grok step dashed); ``loss.png`` the train/test loss. Both are read back from
``metrics.csv``, ``spectra.csv`` and ``summary.json``, so any run directory can be
re-plotted with ``plot_run(path)``.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from numerics.run_plots import RunTrace, figure_runs
from validation import rundir


def _save(fig: plt.Figure, path: Path) -> None:
    rundir.write_bytes_with(path, lambda handle: fig.savefig(handle, format="png", dpi=110))
    plt.close(fig)


def plot_run(run_dir: str | os.PathLike) -> list[Path]:
    """Write the plots of ``run_dir``; returns their paths."""
    d = Path(run_dir)
    summary = rundir.read_json(d / "summary.json")
    grok = summary.get("grok_step")
    title = f"{summary['task']} {summary['optimizer']} wd={summary['wd']} seed={summary['seed']}"
    metrics = pd.read_csv(d / "metrics.csv")
    try:
        spectra = pd.read_csv(d / "spectra.csv")
    except pd.errors.EmptyDataError:  # no full window yet
        spectra = pd.DataFrame({"step": [], "g23": []})
    out = [d / "plots" / "run.png", d / "plots" / "loss.png"]
    _save(figure_runs([RunTrace(title, spectra, metrics, grok)]), out[0])
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    for split in ("train", "test"):
        ax.semilogy(metrics["step"], metrics[f"{split}_loss"], label=split)
    if grok is not None:
        ax.axvline(grok, color="k", ls="--", lw=1)
    ax.set(xlabel="optimizer step", ylabel="cross-entropy", title=title)
    ax.legend()
    fig.tight_layout()
    _save(fig, out[1])
    return out
