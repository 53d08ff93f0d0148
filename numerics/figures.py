"""The project's figures, drawn from plain data, and the one way to save a figure.

* :func:`figure_scenario` — an ODE scenario (:mod:`spectral_edge.numerics.scenarios`): σ_j(t),
g(t) and
  A(t) with the adiabatic regimes shaded (``spectral-edge simulate NAME --plot``);
* :func:`figure_runs` — measured training spectra from DataFrames (:class:`RunTrace`): σ_j(t),
  g₂₃(t) and accuracy, one column per run (the demo, a run directory's ``plots/run.png``);
* :func:`save_figure` — writes any figure atomically
(:func:`spectral_edge.common.atomic.write_bytes_with`)
  at :data:`DPI`; every figure file of the project is written by it.

Figures are :class:`matplotlib.figure.Figure` objects, never pyplot's: no backend is selected
and no display is needed (saving renders with Agg), nothing has to be closed.

>>> import tempfile, os
>>> from spectral_edge.numerics.scenarios import run_scenario
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = save_figure(figure_scenario(run_scenario("viable-gap")),
...                        os.path.join(tmp, "v.png"))
...     os.path.getsize(path) > 10_000
True
>>> import pandas as pd
>>> spec = pd.DataFrame({"step": [10, 20], "sigma_1": [2.0, 3.0], "sigma_2": [1.0, 0.5],
...                      "g23_lambda": [0.1, 0.2]})
>>> met = pd.DataFrame({"step": [10, 20], "test_acc": [0.1, 0.9], "train_acc": [0.5, 1.0]})
>>> len(figure_runs([RunTrace("wd=1.0", spec, met, grok_step=20)]).axes)  # and a colour bar
4
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from spectral_edge.common.atomic import write_bytes_with
from spectral_edge.common.errors import InputError
from spectral_edge.numerics.columns import G23_LAMBDA, sigma_columns, upgrade

if TYPE_CHECKING:  # annotations only: importing scenarios pulls in SymPy and SciPy's ODEs
    from spectral_edge.numerics.scenarios import ScenarioResult, Trajectory

DPI = 110
"""Resolution of every figure file the project writes (dots per inch)."""


def figure_format(path: str | os.PathLike) -> str:
    """The image format named by ``path``'s suffix (``png`` when it has none);
    ``InputError`` for a suffix Matplotlib cannot write — check it before the work.

    >>> figure_format("a/b.PNG"), figure_format("plot")
    ('png', 'png')
    """
    suffix = Path(path).suffix.lower().lstrip(".") or "png"
    formats = Figure().canvas.get_supported_filetypes()
    if suffix not in formats:
        raise InputError(f"cannot write a figure as .{suffix} ({path}); use one of "
                         f"{', '.join(sorted(formats))}")
    return suffix


def save_figure(fig: Figure, path: str | os.PathLike) -> Path:
    """Write ``fig`` to ``path`` atomically at :data:`DPI`, in the format of its suffix
    (:func:`figure_format`); returns the path."""
    path = Path(path)
    fmt = figure_format(path)
    write_bytes_with(path, lambda handle: fig.savefig(handle, format=fmt, dpi=DPI))
    return path


REGIME_COLOURS = {"plateau": "#d8f0d8", "transition": "#fde6c4", "forgetting": "#f7cfcf"}
LINESTYLES = ("-", "--", ":", "-.")


def _shade(ax, tr: Trajectory) -> None:
    """Shade contiguous runs of one regime along the time axis."""
    regimes = np.array(tr.regime)
    if regimes.size == 0:
        return
    edges = np.concatenate([[tr.t[0]], (tr.t[1:] + tr.t[:-1]) / 2, [tr.t[-1]]])
    start = 0
    for i in range(1, regimes.size + 1):
        if i == regimes.size or regimes[i] != regimes[start]:
            colour = REGIME_COLOURS.get(str(regimes[start]))
            if colour:
                ax.axvspan(edges[start], edges[i], color=colour, lw=0, zorder=0)
            start = i


def figure_scenario(
    result: ScenarioResult,
    thresholds: tuple[float, float] = (0.1, 10.0),
) -> Figure:
    """Three panels (σ_j, g at k*, A on a log axis) of a scenario's trajectories.

    Regimes are shaded from the first trajectory; further trajectories are drawn with other
    line styles. ``thresholds`` are the A levels drawn as dashed lines.
    """
    fig = Figure(figsize=(8.5, 8.5), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    ax_s, ax_g, ax_a = axes
    for ax in axes:
        _shade(ax, result.trajectories[0])
    for n, tr in enumerate(result.trajectories):
        style = LINESTYLES[n % len(LINESTYLES)]
        for j in range(tr.sigma.shape[1]):
            ax_s.plot(
                tr.t,
                tr.sigma[:, j],
                style,
                color=f"C{j}",
                lw=1.6,
                label=f"σ_{j + 1}" if n == 0 else None,
            )
        ax_g.plot(tr.t, tr.g, style, color="k", lw=1.6, label=tr.label)
        A = np.where(tr.A > 0, tr.A, np.nan)
        ax_a.plot(tr.t, A, style, color="C3", lw=1.6, label=tr.label)
        changes = np.nonzero(np.diff(tr.kstar))[0]
        for i in changes:
            ax_g.annotate(
                f"k*: {tr.kstar[i]}→{tr.kstar[i + 1]}",
                (tr.t[i + 1], tr.g[i + 1]),
                textcoords="offset points",
                xytext=(6, 8),
                fontsize=8,
            )
    ax_s.set_ylabel("σ_j (singular values)")
    ax_s.legend(loc="best", fontsize=8, ncol=2)
    ax_g.set_ylabel("g = σ_k* − σ_k*+1")
    if len(result.trajectories) > 1:
        ax_g.legend(loc="best", fontsize=8)
    ax_a.set_yscale("log")
    low = min(np.nanmin(np.where(tr.A > 0, tr.A, np.nan)) for tr in result.trajectories)
    if low < 1e-4:  # below this, A is round-off of a spectrum at rest
        ax_a.set_ylim(bottom=1e-4)
    for level in thresholds:
        ax_a.axhline(level, color="grey", lw=0.8, ls="--")
    ax_a.set_ylabel("A = ‖ΔC‖ / (η g²)")
    ax_a.set_xlabel("t (snapshots)")
    handles = [Patch(color=c, label=r) for r, c in REGIME_COLOURS.items()]
    ax_a.legend(handles=handles, loc="best", fontsize=8, title="regime", title_fontsize=8)
    fig.suptitle(f"{result.name}: " + _headline(result), fontsize=10)
    return fig


def _headline(result: ScenarioResult) -> str:
    parts = []
    for key, value in list(result.summary.items())[:3]:
        text = f"{value:.3g}" if isinstance(value, float) else str(value)
        parts.append(f"{key} = {text}")
    return "; ".join(parts)


# --------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class RunTrace:
    """One run to draw: its label, spectra (``step``, ``sigma_j``, ``g23_lambda``), metrics
    (``step``, ``train_acc``, ``test_acc``) and grok step (``None`` if it never grokked)."""

    label: str
    spectra: pd.DataFrame
    metrics: pd.DataFrame
    grok_step: int | None


def figure_runs(runs: list[RunTrace], title: str | None = None) -> Figure:
    """A figure with three rows (σ_j log-scale, g₂₃ log-scale, accuracy) and one column per
    run; each row shares its y-limits across the runs, so the columns compare at a glance.
    σ_j is coloured by the mode j (a colour bar, one colour per mode); the grok step is a
    dashed vertical line labelled with its step. Save it with :func:`save_figure`."""
    if not runs:
        raise InputError("figure_runs needs at least one run")
    fig = Figure(figsize=(5.5 * len(runs) + 0.8, 9), layout="constrained")
    axes = fig.subplots(3, len(runs), sharex="col", sharey="row", squeeze=False)
    cmap = matplotlib.colormaps["viridis"]
    W = 1
    for col, run in enumerate(runs):
        ax_s, ax_g, ax_a = axes[:, col]
        spec = upgrade(run.spectra, "spectra.csv")
        cols = sigma_columns(spec)
        W = max(W, len(cols))
        for j, c in enumerate(cols):
            ax_s.plot(spec["step"], spec[c], color=cmap(j / max(len(cols) - 1, 1)), lw=1.2)
        ax_s.set_yscale("log")
        ax_s.set_title(run.label)
        positive = spec[G23_LAMBDA].where(spec[G23_LAMBDA] > 0)
        ax_g.plot(spec["step"], positive, color="tab:red", lw=1.2)
        ax_g.set_yscale("log")
        met = run.metrics
        ax_a.plot(met["step"], met["train_acc"], color="tab:blue", label="train")
        ax_a.plot(met["step"], met["test_acc"], color="tab:orange", label="test")
        ax_a.set_ylim(-0.02, 1.02)
        ax_a.set_xlabel("optimizer step")
        for ax in (ax_s, ax_g, ax_a):
            ax.grid(alpha=0.3)
            if run.grok_step is not None:
                ax.axvline(run.grok_step, color="k", ls="--", lw=1,
                           label=f"grok step {run.grok_step}" if ax is ax_a else None)
        ax_a.legend(loc="lower right", fontsize=8)
    axes[0, 0].set_ylabel("singular values σ_j")
    axes[1, 0].set_ylabel("g₂₃ = λ₂ − λ₃")
    axes[2, 0].set_ylabel("accuracy")
    colours = matplotlib.colors.ListedColormap([cmap(j / max(W - 1, 1)) for j in range(W)])
    norm = matplotlib.colors.BoundaryNorm(np.arange(0.5, W + 1.0), colours.N)
    bar = fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=colours),
                       ax=list(axes[0, :]), label="mode j", ticks=np.arange(1, W + 1))
    bar.ax.invert_yaxis()  # σ_1 on top, as the lines
    if title:
        fig.suptitle(title)
    return fig
