"""Plots of one run directory: ``plots/metrics.png`` and ``plots/spectra.png``.

Read back from ``metrics.csv``, ``spectra.csv`` and ``summary.json``, so any run directory
can be re-plotted (``plot_run(path)``).
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from validation import rundir  # noqa: E402


def _grok_line(ax, grok_step: int | None) -> None:
    if grok_step is not None:
        ax.axvline(grok_step, color="k", ls="--", lw=0.8, label=f"grok @ {grok_step}")


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    rundir.write_bytes_with(path, lambda handle: fig.savefig(handle, format="png", dpi=110))
    plt.close(fig)


def plot_run(run_dir: str | os.PathLike) -> list[Path]:
    """Write the plots of ``run_dir``; returns their paths."""
    d = Path(run_dir)
    summary = rundir.read_json(d / "summary.json")
    grok = summary.get("grok_step")
    title = f"{summary['task']} {summary['optimizer']} wd={summary['wd']} seed={summary['seed']}"
    metrics = pd.read_csv(d / "metrics.csv")
    written = []
    fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(10, 3.6))
    for split in ("train", "test"):
        ax_acc.plot(metrics["step"], metrics[f"{split}_acc"], label=split)
        ax_loss.semilogy(metrics["step"], metrics[f"{split}_loss"], label=split)
    ax_acc.set(xlabel="step", ylabel="accuracy", title=title)
    ax_loss.set(xlabel="step", ylabel="loss")
    for ax in (ax_acc, ax_loss):
        _grok_line(ax, grok)
        ax.legend(fontsize=8)
    _save(fig, d / "plots" / "metrics.png")
    written.append(d / "plots" / "metrics.png")
    spectra_path = d / "spectra.csv"
    spectra = pd.read_csv(spectra_path) if spectra_path.stat().st_size > 1 else pd.DataFrame()
    if len(spectra):
        fig, (ax_s, ax_g, ax_k) = plt.subplots(1, 3, figsize=(13, 3.6))
        sigma_cols = [c for c in spectra.columns if c.startswith("sigma_")]
        for c in sigma_cols:
            ax_s.semilogy(spectra["step"], spectra[c], lw=0.9, label=c.replace("sigma_", "σ"))
        ax_s.set(xlabel="step", ylabel="singular value", title="window spectrum")
        ax_g.semilogy(spectra["step"], spectra["g23"].clip(lower=1e-300), label="g23")
        ax_g.set(xlabel="step", ylabel="λ2 − λ3", title="sub-leading gap g23")
        ax_k.step(spectra["step"], spectra["kstar"], where="post")
        ax_k.set(xlabel="step", ylabel="k*", title=f"k* ({spectra['kstar_method'].iloc[0]})")
        for ax in (ax_s, ax_g, ax_k):
            _grok_line(ax, grok)
        ax_s.legend(fontsize=6, ncol=2)
        _save(fig, d / "plots" / "spectra.png")
        written.append(d / "plots" / "spectra.png")
    return written
