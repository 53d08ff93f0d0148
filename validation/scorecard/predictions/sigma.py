"""Predictions scored from the window spectra alone: P1, P2, P3, P5, P6.

Each reads ``spectra.csv`` (P5 also ``metrics.csv``); P1, P2, P5 and P6 are measurable
from an external spectra file too.

>>> p1([]).verdict, p6([]).reason
('not measurable', 'no windows')
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import signal, stats

from spectral_edge.numerics.bootstrap import Estimate, bootstrap_ci
from spectral_edge.numerics.columns import KSTAR
from spectral_edge.validation.scorecard.analysis import RunData, alpha_proxy, val_loss_at
from spectral_edge.validation.scorecard.predictions.base import (
    FAIL,
    NOT_MEASURABLE,
    PASS,
    PredictionResult,
    missing,
    param,
    register,
    result,
    trained,
    wd_of,
)
from spectral_edge.validation.scorecard.predictions.stats import (
    alpha_groups,
    mode_of,
    three_phase,
)


@register("P1")
def p1(runs: list[RunData]) -> PredictionResult:
    """BBP vacuity: the minimum over windows (and runs) of σ_W/d_crit."""
    per_run = {}
    for r in runs:
        v = r.spectra["vacuity"].to_numpy(float) if "vacuity" in r.spectra else np.array([])
        v = v[np.isfinite(v)]
        if v.size:
            per_run[r.name] = float(v.min())
    if not per_run:
        return missing("P1", "no window with a finite vacuity ratio (P unknown?)", runs)
    value = min(per_run.values())
    est = bootstrap_ci(list(per_run.values()), np.min)
    verdict = PASS if value > param("P1", "min_vacuity") else FAIL
    used = [r for r in runs if r.name in per_run]
    return result("P1", verdict, est, over="runs (min)", runs=used, per_run_min=per_run)


@register("P2")
def p2(runs: list[RunData]) -> PredictionResult:
    """Few active modes: the largest per-run mode of k*."""
    modes = {r.name: mode_of(r.spectra[KSTAR].to_numpy()) for r in runs if len(r.spectra)}
    if not modes:
        return missing("P2", "no windows", runs)
    est = bootstrap_ci(list(modes.values()), np.max)
    verdict = PASS if max(modes.values()) <= param("P2", "max_mode") else FAIL
    return result("P2", verdict, est, over="runs (max of per-run modes)", runs=runs,
                   text=f"max mode k* = {max(modes.values())}", per_run_mode=modes)


@register("P3")
def p3(runs: list[RunData]) -> PredictionResult:
    """Muon against AdamW: the mode of k* pooled over the seeds of each task."""
    runs = trained(runs)
    tasks = sorted({r.get("task") for r in runs if r.get("optimizer") == "muon"})
    pairs, used, diffs = {}, [], []
    for task in tasks:
        ks = {}
        for opt in ("muon", "adamw"):
            group = [r for r in runs if r.get("task") == task and r.get("optimizer") == opt
                     and wd_of(r) > 0]
            if group:
                ks[opt] = np.concatenate([g.spectra[KSTAR].to_numpy() for g in group])
                used += group
        if len(ks) == 2:
            pairs[task] = {"muon": mode_of(ks["muon"]), "adamw": mode_of(ks["adamw"]),
                           "mean_muon": float(ks["muon"].mean()),
                           "mean_adamw": float(ks["adamw"].mean())}
            diffs.append(ks["adamw"].mean() - ks["muon"].mean())
    if not pairs:
        return missing("P3", "needs Muon and AdamW runs (weight decay on) of the same task",
                        runs)
    ok = all(v["muon"] < v["adamw"] for v in pairs.values())
    text = "; ".join(f"{t}: Muon {v['muon']} vs AdamW {v['adamw']}" for t, v in pairs.items())
    est = bootstrap_ci(diffs)
    return result("P3", PASS if ok else FAIL, est, over="tasks (mean k* AdamW − Muon)",
                   text=text, runs=used, per_task=pairs)



@register("P5")
def p5(runs: list[RunData]) -> PredictionResult:
    """Three phases of R and the detrended correlation of R with the validation loss."""
    runs = [r for r in trained(runs) if r.metrics is not None and len(r.spectra) >= 6]
    if not runs:
        return missing("P5", "needs ≥ 6 windows and metrics.csv (validation loss)")
    corrs, phases = {}, {}
    for r in runs:
        R = r.spectra["R"].to_numpy(float)
        steps = r.spectra["step"].to_numpy(float)
        loss = val_loss_at(r, steps)
        ok = np.isfinite(R) & np.isfinite(loss)
        if ok.sum() >= 4 and np.ptp(R[ok]) > 0 and np.ptp(loss[ok]) > 0:
            corrs[r.name] = abs(float(stats.pearsonr(
                signal.detrend(R[ok]), signal.detrend(loss[ok])).statistic))
        phases[r.name] = three_phase(R, param("P5", "p_value"))
    est = bootstrap_ci(list(corrs.values()))
    frac = float(np.mean([v["found"] for v in phases.values()]))
    ok = frac >= param("P5", "min_fraction") and est.value > param("P5", "min_corr")
    text = f"|corr| {est.text()}; three phases in {frac:.0%} of runs"
    return result("P5", PASS if ok else FAIL, est, over="runs", text=text, runs=runs,
                   per_run_corr=corrs, phases=phases, phase_fraction=frac)



MAX_BOOTSTRAP = 5_000
"""The most windows one α bootstrap resamples; beyond it the interval comes from an evenly
spaced sample of this many windows (the value from all of them), so a file of 400,000
windows is scored in seconds."""


def _window_ci(values: np.ndarray) -> Estimate:
    """:func:`bootstrap_ci` of the mean over windows, the resampling bounded by
    :data:`MAX_BOOTSTRAP`."""
    x = values[np.isfinite(values)]
    if x.size <= MAX_BOOTSTRAP:
        return bootstrap_ci(x)
    est = bootstrap_ci(x[np.linspace(0, x.size - 1, MAX_BOOTSTRAP).astype(np.int64)])
    return Estimate(float(np.mean(x)), est.low, est.high, int(x.size), est.level)


@register("P6")
def p6(runs: list[RunData]) -> PredictionResult:
    """α hierarchy, exact α (‖ΔC‖_F) and the scripts' proxy (eigenvalue-change norm)."""
    exact, proxy, used = [], [], []
    for r in runs:
        sp = r.spectra
        rank = sp["rank"].to_numpy() if "rank" in sp else np.full(len(sp), r.W)
        a = r.alpha()
        if a.size and np.isfinite(a).any():
            exact.append(alpha_groups(a, sp[KSTAR].to_numpy(), rank))
            used.append(r)
        proxy.append(alpha_groups(alpha_proxy(r), sp[KSTAR].to_numpy(), rank))
    if not exact and not proxy:
        return missing("P6", "no windows", runs)
    det: dict[str, Any] = {}
    for name, arrays in (("exact", exact), ("proxy", proxy)):
        if not arrays:
            continue
        g = np.concatenate(arrays)
        det[name] = {k: _window_ci(g[:, i]).__dict__ for i, k in enumerate(
            ("dom", "gap", "sub"))}
    if "exact" not in det:
        return result("P6", NOT_MEASURABLE, reason="no exact α (needs the (W+1)-Grams); "
                       "the proxy is in the details", runs=runs, **det)
    e = det["exact"]
    means = [e[k]["value"] for k in ("dom", "gap", "sub")]
    if not all(np.isfinite(means)):
        return result("P6", NOT_MEASURABLE, reason="a mode group is empty in every window "
                       "(W too small for modes ≥ k*+3?)", runs=used, **det)
    ok = means[0] > means[1] > means[2]
    text = "exact " + " > ".join(f"{k} {e[k]['value']:.3g}" for k in ("dom", "gap", "sub"))
    if "proxy" in det:
        text += "; proxy " + ", ".join(f"{k} {det['proxy'][k]['value']:.3g}"
                                       for k in ("dom", "gap", "sub"))
    est = Estimate(**e["dom"])
    return result("P6", PASS if ok else FAIL, est, over="windows (α_dom)", text=text,
                   runs=used, **det)

