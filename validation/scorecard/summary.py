"""One run or spectra file as ``spectral-edge analyze`` shows it: the window statistics
(:func:`summarize`), the measurable predictions (:func:`analyze`) and the figure
(:func:`figure_analyze`: σ_j, R and g₂₃ against the step).
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.columns import G23_LAMBDA, G_SIGMA, sigma_columns
from spectral_edge.validation.scorecard.analysis import RunData, grok_step, load
from spectral_edge.validation.scorecard.predictions import (
    SIGMA_ONLY,
    PredictionResult,
    evaluate,
)


def summarize(run: RunData) -> dict[str, Any]:
    """Window statistics of one run or spectra file (counts, k* modes, ranges).

    Args:
        run: a run or spectra file.

    Returns:
        A JSON-ready dict (``g_sigma``, ``g23_lambda`` ... ranges under their column names).
    """
    sp = run.spectra

    def rng(col: str) -> dict[str, float] | None:
        if col not in sp:
            return None
        v = pd.to_numeric(sp[col], errors="coerce").to_numpy(float)
        v = v[np.isfinite(v)]
        if not v.size:
            return None
        return {"min": float(v.min()), "median": float(np.median(v)), "max": float(v.max())}

    out: dict[str, Any] = {"name": run.name, "external": run.external, "windows": len(sp),
                           "W": run.W, "first_step": int(sp["step"].iloc[0]),
                           "last_step": int(sp["step"].iloc[-1])}
    for col in ("kstar", "kstar_ratio", "kstar_weighted", "kstar_signal"):
        if col in sp:
            out[f"mode_{col}"] = int(np.bincount(sp[col].to_numpy(np.int64)).argmax())
    for col in ("R", G_SIGMA, G23_LAMBDA, "vacuity", "A", "delta_c_fro"):
        out[col] = rng(col)
    if run.metrics is not None:
        out["grok_step"] = {"spec": grok_step(run.metrics),
                            "patience": grok_step(run.metrics, "patience")}
    return out


def analyze(run: RunData | str | os.PathLike) -> tuple[dict[str, Any], list[PredictionResult]]:
    """Window statistics and the predictions measurable from ``run`` (σ-only ones for an
    external spectra file).

    Args:
        run: a loaded run, or the path of a run directory or spectra file.

    Returns:
        (:func:`summarize` of the run, the prediction results).

    Raises:
        InputError: If ``run`` is neither, or what the path holds is invalid.
    """
    if isinstance(run, str | os.PathLike):
        run = load(run)
    if not isinstance(run, RunData):
        raise InputError(f"analyze needs a RunData or a path, got {type(run).__name__}")
    ids = SIGMA_ONLY if run.external else None
    with warnings.catch_warnings():  # a degenerate sample gives a NaN interval, shown as n/a
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        return summarize(run), evaluate([run], ids)


MAX_POINTS = 5000
"""The most windows :func:`figure_analyze` draws (evenly spaced beyond it)."""


def figure_analyze(run: RunData) -> Figure:
    """σ_j, R and g₂₃ of one run or spectra file against the step.

    >>> from pathlib import Path
    >>> sp = pd.DataFrame({"step": [1, 2], "W": [2, 2], "sigma_1": [2.0, 3.0],
    ...                    "sigma_2": [1.0, 1.0], "R": [2.0, 3.0],
    ...                    "g23_lambda": [np.nan] * 2})
    >>> len(figure_analyze(RunData("x", Path("x"), sp)).axes)
    3
    """
    sp, title = run.spectra, run.name
    if len(sp) > MAX_POINTS:  # a line of 400,000 points draws for minutes and shows no more
        every = -(-len(sp) // MAX_POINTS)
        sp, title = sp.iloc[::every], f"{run.name} (every {every}th of {len(sp)} windows)"
    fig = Figure(figsize=(6, 8), layout="tight")
    ax_s, ax_r, ax_g = fig.subplots(3, 1, sharex=True)
    for c in sigma_columns(sp):
        ax_s.plot(sp["step"], sp[c], lw=1)
    ax_s.set(yscale="log", ylabel="σ_j", title=title)
    ax_r.plot(sp["step"], sp["R"])
    ax_r.set(ylabel="gap ratio R")
    g23 = pd.to_numeric(sp[G23_LAMBDA], errors="coerce")
    ax_g.plot(sp["step"], g23.where(g23 > 0))
    if (g23 > 0).any():
        ax_g.set_yscale("log")
    ax_g.set(ylabel="g₂₃", xlabel="step")
    for ax in (ax_s, ax_r, ax_g):
        ax.grid(alpha=0.3)
    return fig
