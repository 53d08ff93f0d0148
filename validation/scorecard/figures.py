"""The scorecard's figures, read back from run directories.

Per-run panels (P1, P5, P8, P12 traces; the gap-ODE forecast) show one run per configuration
(:func:`figure_runs`); pooled panels (P6's α by mode, P7's gap flow, P13's gradient energy,
P14's sketch, P16's steady state) draw every run that has the inputs. Also here: the
forecast figure of ``spectral-edge fit`` and the one-run figure of ``spectral-edge analyze``.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter, NullLocator

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.columns import G23_LAMBDA
from spectral_edge.numerics.figures import save_figure
from spectral_edge.numerics.forecast import Forecast
from spectral_edge.validation.scorecard.analysis import RunData, alpha_proxy, grok_step
from spectral_edge.validation.scorecard.predictions import (
    gap_flow_terms,
    lifecycle_runs,
    sketch_twins,
    steady_state_terms,
)


def figure_forecast(items: list[tuple[str, Forecast]]) -> Figure:
    """Measured g(t), the fit, the held-out prediction and both baselines, one panel per run.

    >>> t = np.arange(12.0)
    >>> from spectral_edge.numerics.forecast import forecast_gap
    >>> fc = forecast_gap(t, 1 + 0.1 * t, eta=0.1)
    >>> len(figure_forecast([("run", fc)]).axes)
    1
    """
    if not items:
        raise InputError("figure_forecast needs at least one forecast")
    n = len(items)
    fig, axes = _grid(n, width=5.0, height=3.4, max_cols=3)
    for ax, (name, fc) in zip(axes, items, strict=False):
        t, g = fc.fit.t, fc.fit.data
        n_fit = fc.n_fit
        ax.plot(t, g, "k.", ms=4, label="measured g")
        ax.plot(t[:n_fit], fc.fit.prediction[:n_fit], color="tab:blue", label="ODE fit (70%)")
        ax.plot(t[n_fit:], fc.fit.prediction[n_fit:], color="tab:blue", ls="--",
                label="ODE forecast")
        ax.plot(t[n_fit:], fc.persistence, color="tab:gray", ls=":", label="persistence")
        ax.plot(t[n_fit:], fc.linear, color="tab:orange", ls="-.", label="linear")
        ax.axvline(fc.t_split, color="k", lw=0.8)
        ax.set_title(f"{name}: RMSE ratio {fc.ratio_persistence:.2g} / {fc.ratio_linear:.2g}",
                     fontsize=9)
        ax.set_xlabel("snapshot")
        ax.set_ylabel("g = σ_k* − σ_k*+1")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig


# --------------------------------------------------------------------------- figures


def _grid(n: int, width: float = 4.5, height: float = 3.0,
          max_cols: int = 4) -> tuple[Figure, np.ndarray]:
    """A grid of ``n`` panels with fixed margins in inches: a tight layout draws a figure
    twice, which made the many-panel figures most of ``report``'s time."""
    cols = min(max(n, 1), max_cols)
    rows = math.ceil(max(n, 1) / cols)
    w, h = width * cols, height * rows
    fig = Figure(figsize=(w, h))
    fig.subplots_adjust(left=0.85 / w, right=1 - 0.15 / w, bottom=0.5 / h, top=1 - 0.3 / h,
                        wspace=0.9 / (width - 0.9), hspace=0.75 / (height - 0.75))
    return fig, np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()


def _figure_trace(runs: list[RunData], column: str, ylabel: str, log: bool = True,
                  lines: tuple[float, ...] = (), title: str = "") -> Figure:
    """One panel per run: ``column`` against the step, the grok step as a labelled dashed
    line, ``lines`` as dotted thresholds; every panel has axis labels and a title."""
    fig, axes = _grid(len(runs))
    if title:
        fig.suptitle(title, fontsize=10, y=1 - 0.08 / fig.get_figheight())
        fig.subplots_adjust(top=1 - 0.6 / fig.get_figheight())
    for ax, r in zip(axes, runs, strict=False):
        y = r.spectra[column].to_numpy(float)
        ax.plot(r.spectra["step"], np.where(y > 0, y, np.nan) if log else y, lw=1.2)
        if log:
            ax.set_yscale("log")
        g = grok_step(r.metrics)
        if g is not None:
            ax.axvline(g, color="k", ls="--", lw=1, label=f"grok step {g}")
            ax.legend(fontsize=7, loc="best")
        with warnings.catch_warnings():  # a constant trace: Matplotlib widens the limits
            warnings.simplefilter("ignore", UserWarning)
            for v in lines:
                ax.axhline(v, color="tab:red", lw=0.8, ls=":")
        ax.set_title(r.name, fontsize=8)
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    for ax in axes[len(runs):]:
        ax.set_visible(False)
    return fig


def _figure_alpha(runs: list[RunData]) -> Figure | None:
    """P6: mean exact and proxy α_j by mode over every window of ``runs``."""
    if not runs:
        return None
    fig = Figure(figsize=(6, 3.5), layout="tight")
    ax = fig.subplots()
    W = max(r.W for r in runs)
    for label, get, style in (("exact", lambda r: r.alpha(), "o-"),
                              ("scripts' proxy", alpha_proxy, "s--")):
        mats = [np.pad(get(r), ((0, 0), (0, W - r.W)), constant_values=np.nan) for r in runs]
        with warnings.catch_warnings():  # a mode with no finite α (e.g. the first window)
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(np.concatenate(mats), axis=0)
        ax.plot(np.arange(1, W + 1), mean, style, label=label)
    ax.set(xlabel="mode j", ylabel="mean α_j", ylim=(-0.02, 1.02),
           title="P6: stability α by mode (all windows)")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def figure_runs(runs: list[RunData], limit: int = 12) -> list[RunData]:
    """The runs the scorecard's per-run figures show: one per configuration (the run name
    without its ``_s<seed>`` part), the lowest seed of each, at most ``limit``; external
    spectra files are left out. Every run's numbers stay in the tables.

    >>> import pandas as pd
    >>> rs = [RunData(n, Path(n), pd.DataFrame(), config={"seed": s})
    ...       for n, s in [("a_s2024", 2024), ("a_s137", 137), ("b_s42_x", 42)]]
    >>> [r.name for r in figure_runs(rs)]
    ['a_s137', 'b_s42_x']
    """
    groups: dict[str, list[RunData]] = {}
    for r in runs:
        if not r.external:
            groups.setdefault(re.sub(r"_s\d+(?=_|$)", "", r.name, count=1), []).append(r)
    lowest = [min(g, key=lambda r: r.get("seed") if r.get("seed") is not None else math.inf)
              for g in groups.values()]
    return lowest[:limit]


def _family(run: RunData) -> str:
    """Task and optimizer, the colour key of the pooled panels."""
    return f"{run.get('task', '?')} {run.get('optimizer', '?')}"


def _colours(keys: list[str]) -> dict[str, str]:
    return {k: f"C{i % 10}" for i, k in enumerate(sorted(set(keys)))}


def _diagonal(ax: Axes, lo: float, hi: float, **kw: object) -> None:
    ax.plot([lo, hi], [lo, hi], color="k", lw=0.8, **kw)


def _symlog_decades(ax: Axes, axis: Axis, small: float, big: float) -> None:
    """A symmetric-log ``axis`` (linear below ``small``) labelled at 0 and at ±10^k for
    about four k spread between ``small`` and ``big`` (every decade would overprint)."""
    (ax.set_xscale if axis is ax.xaxis else ax.set_yscale)("symlog", linthresh=small)
    lo, hi = math.ceil(math.log10(small)), math.ceil(math.log10(max(big, small * 10)))
    ks = list(range(lo, hi + 1, max(1, math.ceil((hi - lo) / 4))))
    axis.set_ticks([-(10.0**k) for k in reversed(ks)] + [0.0] + [10.0**k for k in ks])

    def label(v: float, _: object) -> str:
        return "0" if v == 0 else f"${'-' if v < 0 else ''}10^{{{round(math.log10(abs(v)))}}}$"

    axis.set_major_formatter(FuncFormatter(label))
    axis.set_minor_locator(NullLocator())


def figure_gap_flow(runs: list[RunData]) -> Figure | None:
    """P7: observed ġ against R2's right-hand side from the measured terms (Dyson term
    included), one point per probed window pair, every run with probes; symmetric-log axes
    (the two differ by orders of magnitude). None when no run has a window pair."""
    frames = []
    for r in runs:
        if r.probes is None or not len(r.probes):
            continue
        f = gap_flow_terms(r)
        if len(f):
            frames.append(f.assign(family=_family(r)))
    if not frames:
        return None
    allf = pd.concat(frames, ignore_index=True)
    allf = allf[np.isfinite(allf["rhs_dyson"]) & np.isfinite(allf["gdot"])]
    if allf.empty:
        return None
    fig = Figure(figsize=(6.5, 5), layout="tight")
    ax = fig.subplots()
    colours = _colours(list(allf["family"]))
    for fam, grp in allf.groupby("family"):
        ax.scatter(grp["rhs_dyson"], grp["gdot"], s=8, alpha=0.6, color=colours[str(fam)],
                   label=str(fam))
    big = float(np.abs(allf[["rhs_dyson", "gdot"]].to_numpy(float)).max())
    _diagonal(ax, -big, big, ls="--", label="ġ = right-hand side")
    small = float(np.median(np.abs(allf["gdot"])))
    small = small if small > 0 else 1e-6
    for axis in (ax.xaxis, ax.yaxis):
        _symlog_decades(ax, axis, small, big)
    ax.set(xlabel="R2 right-hand side from measured h, Γ, N, ω (per snapshot)",
           ylabel="observed ġ (next window − this window)",
           title="P7: gap flow with measured terms")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return fig


def figure_steady_state(runs: list[RunData]) -> Figure | None:
    """P16: measured σ_j against R1's steady state √(WΓ_j/(h_j+ω)), every probe row of
    every run with probes, coloured by mode; log axes. None without probes."""
    frames = [steady_state_terms(r) for r in runs if r.probes is not None and len(r.probes)]
    if not frames:
        return None
    allf = pd.concat(frames, ignore_index=True)
    allf = allf[(allf["steady"] > 0) & (allf["sigma"] > 0) & np.isfinite(allf["steady"])
                & np.isfinite(allf["sigma"])]
    if allf.empty:
        return None
    fig = Figure(figsize=(6.5, 5), layout="tight")
    ax = fig.subplots()
    for mode, grp in allf.groupby("mode"):
        ax.scatter(grp["steady"], grp["sigma"], s=6, alpha=0.5, label=f"j = {mode}")
    lo = float(allf[["steady", "sigma"]].min().min())
    hi = float(allf[["steady", "sigma"]].max().max())
    _diagonal(ax, lo, hi, ls="--")
    ax.set(xscale="log", yscale="log", xlabel="√(WΓ_j/(h_j+ω)) from the probes",
           ylabel="measured σ_j", title="P16: steady-state hierarchy (rank order is scored)")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    return fig


def figure_lifecycle(runs: list[RunData]) -> Figure | None:
    """P13: the gradient-energy fraction on v_1 against steps from the grok step, every
    weight-decay run that grokked and has probes; the rule's 0.8 and 0.2 as lines. None when
    no run qualifies."""
    rows = []
    for r, g in lifecycle_runs(runs):
        m1 = r.probes[r.probes["mode"] == 1].sort_values("step")
        if len(m1):
            rows.append((r, m1["step"].to_numpy(float) - g,
                         m1["grad_energy_frac"].to_numpy(float)))
    if not rows:
        return None
    fig = Figure(figsize=(6.5, 4), layout="tight")
    ax = fig.subplots()
    colours = _colours([_family(r) for r, _, _ in rows])
    seen: set[str] = set()
    for r, x, y in rows:
        fam = _family(r)
        ax.plot(x, y, "o-", ms=3, lw=1, color=colours[fam], alpha=0.7,
                label=None if fam in seen else fam)
        seen.add(fam)
    ax.axvline(0, color="k", lw=0.8)
    for v in (0.8, 0.2):
        ax.axhline(v, color="tab:red", lw=0.8, ls=":")
    ax.set(xlabel="steps from the grok step", ylabel="gradient energy fraction on v_1",
           ylim=(-0.02, 1.02), title="P13: gradient-driven → weight-decay-driven")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return fig


def figure_sketch(runs: list[RunData]) -> Figure | None:
    """P14: each sketched run's σ_j against its exact twin's, windows matched by step, with
    the ±10% band of the rule. None without a sketched run and its twin."""
    pairs = sketch_twins(runs)
    if not pairs:
        return None
    fig = Figure(figsize=(5.5, 5), layout="tight")
    ax = fig.subplots()
    lo, hi = math.inf, 0.0
    for sk, ex in pairs:
        m = sk.spectra.merge(ex.spectra, on="step", suffixes=("_s", "_e"))
        for j in range(1, sk.W + 1):
            if f"sigma_{j}_s" not in m or f"sigma_{j}_e" not in m:
                continue
            e, s = m[f"sigma_{j}_e"].to_numpy(float), m[f"sigma_{j}_s"].to_numpy(float)
            ok = (e > 0) & (s > 0)
            if ok.any():
                ax.scatter(e[ok], s[ok], s=10, alpha=0.7, label=f"j = {j}")
                lo, hi = min(lo, e[ok].min(), s[ok].min()), max(hi, e[ok].max(), s[ok].max())
    if not hi > 0:
        return None
    x = np.geomspace(lo, hi, 50)
    ax.plot(x, x, color="k", lw=0.8)
    ax.fill_between(x, 0.9 * x, 1.1 * x, color="k", alpha=0.1, label="±10%")
    ax.set(xscale="log", yscale="log", xlabel="σ_j, exact", ylabel="σ_j, sketched",
           title=f"P14: sketch dimension {pairs[0][0].get('sketch_dim')}")
    for axis in (ax.xaxis, ax.yaxis):  # under two decades Matplotlib labels minor ticks
        axis.set_minor_formatter(NullFormatter())
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    return fig


def write_figures(runs: list[RunData], shown: list[RunData],
                  forecasts: list[tuple[str, Forecast]], out: Path) -> dict[str, str]:
    """The scorecard figures under ``out`` (prediction id -> file name): per-run panels of
    the ``shown`` runs (:func:`figure_runs`) and of their ``forecasts``, pooled panels of
    every trained run in ``runs``."""
    made: dict[str, str] = {}
    specs = {  # file names kept from before the column renames (docs link to them)
        "P1": ("p1_vacuity.png", "vacuity", "σ_W / d_crit", True, (5.0,),
               "P1: BBP vacuity σ_W/d_crit (dotted: 5)"),
        "P5": ("p5_R.png", "R", "gap ratio R", True, (), "P5: gap ratio R = σ_k*/σ_k*+1"),
        "P8": ("p8_g23.png", G23_LAMBDA, "g₂₃ = λ₂ − λ₃", True, (),
               "P8: g₂₃ before the grok step"),
        "P12": ("p12_A.png", "A", "adiabatic A", True, (0.1, 10.0),
                "P12: adiabatic parameter A (dotted: 0.1, 10)"),
    }
    for pid, (name, col, label, log, lines, title) in specs.items():
        if shown and all(col in r.spectra for r in shown):
            save_figure(_figure_trace(shown, col, label, log, lines, title), out / name)
            made[pid] = name
    names = {r.name for r in shown}
    if chosen := [f for f in forecasts if f[0] in names]:
        save_figure(figure_forecast(chosen), out / "forecast.png")
        made["forecast"] = "forecast.png"
    pooled = [r for r in runs if not r.external]
    for pid, name, make in (("P6", "p6_alpha.png", _figure_alpha),
                            ("P7", "p7_gap_flow.png", figure_gap_flow),
                            ("P13", "p13_lifecycle.png", figure_lifecycle),
                            ("P14", "p14_sketch.png", figure_sketch),
                            ("P16", "p16_steady_state.png", figure_steady_state)):
        fig = make(pooled)
        if fig is not None:
            save_figure(fig, out / name)
            made[pid] = name
    return made
