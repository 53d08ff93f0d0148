"""The gap forecast, version 2, per run and pooled over seeds, for the scorecard.

:func:`measured_hw_beta` reads a run's h̄+ω and β from its probes, :func:`forecast_v2` runs
:func:`~spectral_edge.numerics.forecast.forecast_gap_v2` (only the drive c fitted) and its
calibration on one run, and :func:`forecast_section` writes the Markdown section: one row
per run, one pooled row per configuration run with several seeds.

>>> forecast_section({})[0]
'## Gap forecast, version 2'
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_finite_number
from spectral_edge.numerics.forecast import (
    calibrate_forecast,
    forecast_gap_v2,
    lag_noise_sd,
    pool_seeds,
)
from spectral_edge.theory import lambdified as tx
from spectral_edge.validation.scorecard.analysis import gap_series
from spectral_edge.validation.scorecard.predictions.terms import (
    curvature_column,
    twin_key,
    weight_decay,
)
from spectral_edge.validation.scorecard.rundata import RunData


def measured_hw_beta(run: RunData) -> tuple[float, float]:
    """h̄+ω and β of the run's modal k* pair, medians over its probed windows.

    h̄+ω is the mean curvature of modes k*, k*+1 (``h_precond`` when measured, else ``h``:
    :func:`curvature_column`) plus ω (:func:`weight_decay`). β is R2/R4's repulsion
    ``tx.gap_repulsion(σ_k, σ_k+1, N_k, N_k+1, η)`` from the measured σ and noise power N,
    η = lr·stride. k* is the modal k* of ``spectra.csv``, the pair whose gap is forecast.

    Args:
        run: A run with ``probes.csv`` (columns ``step``, ``mode``, ``sigma``, ``N`` and a
            curvature) and a learning rate.

    Returns:
        (hw, beta).

    Raises:
        InputError: When the run has no probes, no learning rate, or no probed window
            holds both modes with finite values.
    """
    pr = run.probes
    if pr is None or pr.empty or "N" not in pr:
        raise InputError(f"{run.name}: no probes with a noise power N: h̄+ω and β are "
                         "measured there")
    eta = run.eta_eff
    if not (math.isfinite(eta) and eta > 0):
        raise InputError(f"{run.name}: no learning rate (config lr) to measure β with")
    _, _, k = gap_series(run)
    h, omega = curvature_column(pr), weight_decay(run, pr)
    hws, betas = [], []
    for _, window in pr.groupby("step"):
        a = window.set_index("mode")
        if k in a.index and k + 1 in a.index:
            hws.append((float(a.at[k, h]) + float(a.at[k + 1, h])) / 2 + omega)
            betas.append(float(tx.gap_repulsion(a.at[k, "sigma"], a.at[k + 1, "sigma"],
                                                a.at[k, "N"], a.at[k + 1, "N"], eta)))
    hws_ok, betas_ok = np.array(hws), np.array(betas)
    hws_ok, betas_ok = hws_ok[np.isfinite(hws_ok)], betas_ok[np.isfinite(betas_ok)]
    if not (hws_ok.size and betas_ok.size):
        raise InputError(f"{run.name}: no probed window measures modes {k} and {k + 1}")
    return float(np.median(hws_ok)), float(np.median(betas_ok))


def forecast_v2(run: RunData, hw: float, beta: float, *, K: int = 20,
                seed: int = 0) -> dict[str, Any]:
    """The version-2 gap forecast of one run, with its calibration, as JSON-ready numbers.

    The forecast is :func:`~spectral_edge.numerics.forecast.forecast_gap_v2` on the run's
    gap at its modal k* (``analysis.gap_series``). The calibration
    (:func:`~spectral_edge.numerics.forecast.calibrate_forecast`, K replicates) generates
    series from R4 with the measured hw and β, the fitted c, the run's first gap and its
    snapshot span, and noise of the run's own size (:func:`lag_noise_sd`, windows W apart).

    A run too short for one rolling origin gets an ``error`` entry instead of the numbers,
    and keeps its series (``t``, ``g``) for the pooled fit of :func:`forecast_section`.

    Args:
        run: A run with a learning rate.
        hw: The measured h̄+ω (:func:`measured_hw_beta`), > 0.
        beta: The measured β, ≥ 0.
        K: Calibration replicates of each kind.
        seed: The calibration's random seed.

    Returns:
        ``run``, ``k``, ``hw``, ``beta``, ``eta``, ``W``, ``group`` (the configuration without
        the seed), ``t``, ``g`` and either ``error`` or the forecast's
        :meth:`~spectral_edge.numerics.forecast.ForecastV2.as_dict` fields plus
        ``noise_sd`` and ``calibration``.

    Raises:
        InputError: When the run has no learning rate, hw ≤ 0 or β < 0.
    """
    hw = check_finite_number("hw", hw, 0.0, strict=True)
    beta = check_finite_number("beta", beta, 0.0)
    eta = run.eta_eff
    if not (math.isfinite(eta) and eta > 0):
        raise InputError(f"{run.name}: no learning rate (config lr) to forecast the gap with")
    t, g, k = gap_series(run)
    group = "; ".join(f"{key}={v}" for key, v in twin_key(run) if key != "seed")
    out: dict[str, Any] = {"run": run.name, "k": k, "hw": hw, "beta": beta, "eta": eta,
                           "W": run.W, "group": group, "t": t.tolist(), "g": g.tolist()}
    try:
        fc = forecast_gap_v2(t, g, eta=eta, hw=hw, beta=beta, W=run.W)
        noise = lag_noise_sd(t, g, run.W)
    except InputError as err:
        return out | {"error": str(err)}
    cal = calibrate_forecast(hw, beta, fc.drive.c, eta, run.W, int(t[-1] - t[0]) + 1, noise,
                             g0=float(g[0]), K=K, seed=seed)
    return out | fc.as_dict() | {"noise_sd": noise, "calibration": cal.as_dict()}


def _num(x: float, digits: int = 3) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}g}"


def _interval(c: float, lo: float, hi: float) -> str:
    return f"{_num(c)} [{_num(lo)}, {_num(hi)}]"


def _rate(wins: float, trials: float) -> str:
    if not trials:
        return "—"
    p = wins / trials
    return f"{p:.2f} ± {math.sqrt(p * (1 - p) / trials):.2f}"


def _calibration(cal: dict[str, Any] | None, side: str) -> str:
    if not cal:
        return "—"
    return " / ".join(_rate(cal[f"{side}_beats_{b}"] * cal[f"{side}_beats_{b}_trials"],
                            cal[f"{side}_beats_{b}_trials"]) for b in ("persistence", "both"))


def _pooled_row(name: str, runs: list[dict[str, Any]]) -> str:
    """One Markdown row: a shared c over the runs' seeds, their forecasts pooled."""
    try:
        pooled = pool_seeds([(np.array(f["t"]), np.array(f["g"]), f["hw"], f["beta"])
                             for f in runs], eta=runs[0]["eta"], W=runs[0]["W"])
    except InputError as err:
        return f"| {name} | — | {err} | | | | | |"
    d = pooled.drive
    done = [f for f in runs if "error" not in f]
    n_fc = sum(f["n_forecasts"] for f in done)
    n_or = sum(f["n_origins"] for f in done)

    def pooled_rmse(key: str) -> float:
        return math.sqrt(sum(f[key] ** 2 * f["n_forecasts"] for f in done) / n_fc)

    ratios = ["—", "—", "—"]
    if n_fc:
        th = pooled_rmse("rmse_theory")
        ratios = [_num(th / pooled_rmse("rmse_persistence")), _num(th / pooled_rmse("rmse_linear")),
                  f"{sum(f['frac_beats_both'] * f['n_origins'] for f in done) / n_or:.2f}"]
    cals = [f["calibration"] for f in done]
    sides = []
    for side in ("theory", "control"):
        parts = []
        for b in ("persistence", "both"):
            key = f"{side}_beats_{b}"
            trials = sum(c[f"{key}_trials"] for c in cals)
            parts.append(_rate(sum(c[key] * c[f"{key}_trials"] for c in cals if c[f"{key}_trials"]),
                               trials))
        sides.append(" / ".join(parts) if cals else "—")
    used = d.n_steps + sum(1 for f in runs if len(f["t"]))
    return (f"| {name} | {used} | {_interval(d.c, d.c_low, d.c_high)} | "
            + " | ".join(ratios) + " | " + " | ".join(sides) + " |")


def forecast_section(forecasts_v2: dict[str, dict[str, Any]]) -> list[str]:
    """The Markdown section of the version-2 forecast: a paragraph and one table.

    Args:
        forecasts_v2: Run name → :func:`forecast_v2`'s dict (or ``{"error": …}``).

    Returns:
        The lines, without trailing newlines.
    """
    lines = [
        "## Gap forecast, version 2", "",
        "The reduced gap equation R4, ġ = c − η(h̄+ω)g + β/g, with h̄+ω and β measured "
        "(probes: curvature and weight decay of the modal k* pair; β from the measured noise "
        "power N) and only the drive c fitted. Only windows that share no update (one per W "
        "snapshots) are used. From each rolling origin c is refitted on the windows so far "
        "and R4 forecasts the next 1–3 of them, against persistence and linear extrapolation "
        "from the same origin. c carries its 95% profile-likelihood interval. Ratios are "
        "RMSE(theory)/RMSE(baseline) over all origins and horizons (below 1: the theory "
        "wins). The calibration reruns the same forecast on 20 series generated by R4 with "
        "the run's numbers and noise (theory-true) and on 20 random walks with the same "
        "step size (negative control): how often it beats persistence / both baselines "
        "(± binomial SE). Pooled rows fit one c to all seeds of a configuration.", "",
        "| run | windows used | c [profile 95%] | ratio vs persistence | ratio vs linear "
        "| origins beating both | theory-true: beats persistence / both "
        "| negative control: beats persistence / both |",
        "|---|---|---|---|---|---|---|---|",
    ]
    groups: dict[str, list[dict[str, Any]]] = {}
    for name, f in forecasts_v2.items():
        if "group" in f:
            groups.setdefault(f["group"], []).append(f)
        if "error" in f:
            used = f"{len(f['t'])} windows" if "t" in f else "—"
            lines.append(f"| {name} | {used} | {f['error']} | | | | | |")
            continue
        lines.append(
            f"| {name} | {f['n_used']} of {f['n_windows']} "
            f"| {_interval(f['c'], f['c_low'], f['c_high'])} | {_num(f['ratio_persistence'])} "
            f"| {_num(f['ratio_linear'])} | {f['frac_beats_both']:.2f} of {f['n_origins']} "
            f"| {_calibration(f.get('calibration'), 'theory')} "
            f"| {_calibration(f.get('calibration'), 'control')} |")
    for runs in groups.values():
        if len(runs) > 1:
            lines.append(_pooled_row("pooled: " + ", ".join(f["run"] for f in runs), runs))
    return lines
