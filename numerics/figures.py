"""Figures of scenario trajectories: σ_j(t), g(t) and A(t) with the adiabatic regimes shaded.

Matplotlib with the non-interactive Agg backend (no display needed).

>>> import tempfile, os
>>> from numerics.scenarios import run_scenario
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = plot_scenario(run_scenario("viable-gap"), os.path.join(tmp, "v.png"))
...     os.path.getsize(path) > 10_000
True
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from numerics.scenarios import ScenarioResult, Trajectory  # noqa: E402

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


def plot_scenario(
    result: ScenarioResult,
    path: str | Path,
    thresholds: tuple[float, float] = (0.1, 10.0),
) -> Path:
    """Write a three-panel PNG (σ_j, g at k*, A on a log axis) and return its path.

    Regimes are shaded from the first trajectory; further trajectories are drawn with other
    line styles.
    """
    path = Path(path)
    fig, axes = plt.subplots(3, 1, figsize=(8.5, 8.5), sharex=True, layout="constrained")
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
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _headline(result: ScenarioResult) -> str:
    parts = []
    for key, value in list(result.summary.items())[:3]:
        text = f"{value:.3g}" if isinstance(value, float) else str(value)
        parts.append(f"{key} = {text}")
    return "; ".join(parts)
