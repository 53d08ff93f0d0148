"""Plots of measured training spectra: σ_j(t), g₂₃(t) and accuracy, one column per run.

Input is plain pandas data (the monitor's history and a run's metrics), so the same figure
serves live runs, run directories and external spectra files.

>>> import pandas as pd
>>> spec = pd.DataFrame({"step": [10, 20], "sigma_1": [2.0, 3.0], "sigma_2": [1.0, 0.5],
...                      "g23": [0.1, 0.2]})
>>> met = pd.DataFrame({"step": [10, 20], "test_acc": [0.1, 0.9], "train_acc": [0.5, 1.0]})
>>> fig = figure_runs([RunTrace("wd=1.0", spec, met, grok_step=20)])
>>> len(fig.axes)
3
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


@dataclass(frozen=True)
class RunTrace:
    """One run to draw: its label, spectra (``step``, ``sigma_j``, ``g23``), metrics
    (``step``, ``train_acc``, ``test_acc``) and grok step (``None`` if it never grokked)."""

    label: str
    spectra: pd.DataFrame
    metrics: pd.DataFrame
    grok_step: int | None


def sigma_columns(frame: pd.DataFrame) -> list[str]:
    """The ``sigma_j`` columns in mode order.

    >>> sigma_columns(pd.DataFrame(columns=["sigma_10", "sigma_2", "sigma_1", "g"]))
    ['sigma_1', 'sigma_2', 'sigma_10']
    """
    cols = [c for c in frame.columns if c.startswith("sigma_") and c[6:].isdigit()]
    return sorted(cols, key=lambda c: int(c[6:]))


def figure_runs(runs: list[RunTrace], title: str | None = None) -> plt.Figure:
    """A figure with three rows (σ_j log-scale, g₂₃ log-scale, accuracy) and one column per
    run; the grok step is a dashed vertical line. The caller saves (and closes) it."""
    if not runs:
        raise ValueError("plot_runs needs at least one run")
    fig, axes = plt.subplots(3, len(runs), figsize=(5.5 * len(runs), 9), sharex="col",
                             squeeze=False)
    for col, run in enumerate(runs):
        ax_s, ax_g, ax_a = axes[:, col]
        spec = run.spectra
        cmap = plt.get_cmap("viridis")
        cols = sigma_columns(spec)
        for j, c in enumerate(cols):
            ax_s.plot(spec["step"], spec[c], color=cmap(j / max(len(cols) - 1, 1)), lw=1.2,
                      label=f"σ{j + 1}" if j in (0, len(cols) - 1) else None)
        ax_s.set_yscale("log")
        ax_s.set_title(run.label)
        ax_s.set_ylabel("singular values σ_j")
        ax_s.legend(loc="upper right", fontsize=8)
        positive = spec["g23"].where(spec["g23"] > 0)
        ax_g.plot(spec["step"], positive, color="tab:red", lw=1.2)
        ax_g.set_yscale("log")
        ax_g.set_ylabel("g₂₃ = λ₂ − λ₃")
        met = run.metrics
        ax_a.plot(met["step"], met["train_acc"], color="tab:blue", label="train")
        ax_a.plot(met["step"], met["test_acc"], color="tab:orange", label="test")
        ax_a.set_ylim(-0.02, 1.02)
        ax_a.set_ylabel("accuracy")
        ax_a.set_xlabel("optimizer step")
        ax_a.legend(loc="lower right", fontsize=8)
        for ax in (ax_s, ax_g, ax_a):
            ax.grid(alpha=0.3)
            if run.grok_step is not None:
                ax.axvline(run.grok_step, color="k", ls="--", lw=1)
        if run.grok_step is not None:
            ax_a.text(run.grok_step, 0.5, f" grok @ {run.grok_step}", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
