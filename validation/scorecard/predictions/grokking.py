"""Predictions about grokking, adiabaticity and sketching: P8, P9, P12, P14.

They read ``spectra.csv`` and ``metrics.csv`` (the grok step); P12 (c) reads
induced-forgetting runs and P14 sketched runs with their exact twins.

>>> p8([]).verdict, p14([]).verdict
('not measurable', 'not measurable')
"""

from __future__ import annotations

import math

import numpy as np

from spectral_edge.numerics.bootstrap import Estimate, bootstrap_ci
from spectral_edge.validation.scorecard.analysis import RunData
from spectral_edge.validation.scorecard.predictions.base import (
    FAIL,
    NOT_MEASURABLE,
    PASS,
    PredictionResult,
    forget_step,
    grok,
    missing,
    param,
    register,
    result,
    standard,
    trained,
    wd_of,
    window_at,
)
from spectral_edge.validation.scorecard.predictions.terms import (
    decline_table,
    kstar_at_grok,
    sketch_twins,
)


@register("P8")
def p8(runs: list[RunData]) -> PredictionResult:
    """g₂₃ declines before grokking in weight-decay runs; no-decay runs do not grok."""
    runs = [r for r in trained(runs) if r.metrics is not None]
    wd_on = [r for r in runs if wd_of(r) > 0]
    wd_off = [r for r in runs if wd_of(r) == 0]
    if not wd_on or not wd_off:
        return missing("P8", "needs runs with and without weight decay (metrics.csv)", runs)
    grokked = [r for r in wd_on if grok(r) is not None]
    if not grokked:
        return result("P8", FAIL, reason="no weight-decay run grokked", runs=runs,
                       text="0 weight-decay runs grokked")
    det = decline_table(grokked)
    main = det["spec_full"]
    thr = param("P8", "min_decline")
    n_decl = sum(v > thr for v in main.values())
    n_off_grok = sum(grok(r) is not None for r in wd_off)
    ok = n_decl == len(main) and n_off_grok == 0 and len(grokked) == len(wd_on)
    est = bootstrap_ci(np.log(list(main.values())), np.median)
    est = Estimate(*(math.exp(x) if np.isfinite(x) else x for x in
                     (est.value, est.low, est.high)), est.n)
    text = (f"decline > {thr:g}× in {n_decl}/{len(main)} grokking wd runs "
            f"({len(grokked)}/{len(wd_on)} grokked); {n_off_grok}/{len(wd_off)} no-wd runs "
            f"grok; median decline {est.text()}")
    return result("P8", PASS if ok else FAIL, est, over="grokking wd runs (median decline)",
                   text=text, runs=runs, declines=det,
                   grok_steps={r.name: {"spec": grok(r), "patience": grok(r, "patience")}
                               for r in runs})



@register("P9")
def p9(runs: list[RunData]) -> PredictionResult:
    """Weighted k* in the last window at or before the grok step."""
    at = kstar_at_grok(runs)
    if not at:
        return missing("P9", "no grokking run with a window at or before its grok step", runs)
    ones = [float(v == 1) for v in at.values()]
    est = bootstrap_ci(ones)
    return result("P9", PASS if all(ones) else FAIL, est, over="grokking runs (fraction)",
                   text=f"k* = 1 in {int(sum(ones))}/{len(ones)} grokking runs", runs=runs,
                   kstar_at_grok=at)


@register("P12", all_runs=True)
def p12(runs: list[RunData]) -> PredictionResult:
    """Adiabatic regimes: A low away from the grok step, peak near it, high when forgetting."""
    low, high, within = param("P12", "low"), param("P12", "high"), int(param("P12", "within"))
    grokked = [r for r in standard(trained(runs)) if grok(r) is not None and "A" in r.spectra]
    if not grokked:
        return missing("P12", "no grokking run", runs)
    away, near = [], {}
    for r in grokked:
        A = r.spectra["A"].to_numpy(float)
        gi = window_at(r, grok(r))
        if gi is None or not np.isfinite(A).any():
            continue
        idx = np.arange(A.size)
        far = np.abs(idx - gi) > within
        away += list(A[far & np.isfinite(A)])
        peak = int(np.nanargmax(A))
        near[r.name] = abs(peak - gi)
    if not near:
        return missing("P12", "no finite A in a grokking run", runs)
    maxA = {}
    for r in trained(runs):
        if forget_step(r) is None:
            continue
        after = r.spectra.loc[r.spectra["step"] > forget_step(r), "A"].to_numpy(float)
        if np.isfinite(after).any():  # a run not yet past its forgetting step says nothing
            maxA[r.name] = float(np.nanmax(after))
    forgetting = [r for r in trained(runs) if r.name in maxA]
    est = bootstrap_ci(away, np.median)
    part_a = est.value < low
    part_b = all(d <= within for d in near.values())
    parts = {"a_median_A_away": est.value, "b_peak_offset_windows": near}
    text = (f"median A away from grok {est.text()}; peak within ±{within} windows in "
            f"{sum(d <= within for d in near.values())}/{len(near)} runs")
    if not forgetting:
        verdict = FAIL if not (part_a and part_b) else NOT_MEASURABLE
        reason = ("no induced-forgetting run past its forgetting step (part c); parts a and b "
                  + ("pass" if part_a and part_b else "fail"))
        return result("P12", verdict, est, over="windows (median A)", text=text,
                       reason=reason, runs=grokked, **parts)
    part_c = all(v > high for v in maxA.values())
    text += f"; max A after forgetting {maxA}"
    ok = part_a and part_b and part_c
    return result("P12", PASS if ok else FAIL, est, over="windows (median A)", text=text,
                   runs=grokked + forgetting, c_max_A_after_forgetting=maxA, **parts)



@register("P14", all_runs=True)
def p14(runs: list[RunData]) -> PredictionResult:
    """Sketch accuracy: a sketched run against its exact twin (same config otherwise)."""
    errs, ratio_errs, used, dims = [], [], [], {}
    for r, twin in sketch_twins(runs):
        d = r.get("sketch_dim")
        m = r.spectra.merge(twin.spectra, on="step", suffixes=("_s", "_e"))
        W = r.W
        ks = [j for j in range(1, W + 1) if f"sigma_{j}_s" in m]
        s_sk = m[[f"sigma_{j}_s" for j in ks]].to_numpy(float)
        s_ex = m[[f"sigma_{j}_e" for j in ks]].to_numpy(float)
        ok = s_ex > 1e-12 * s_ex[:, :1]
        errs += list((np.abs(s_sk - s_ex) / np.where(ok, s_ex, 1))[ok])
        if W >= 3:
            r_sk, r_ex = s_sk[:, 1] / s_sk[:, 2], s_ex[:, 1] / s_ex[:, 2]
            ratio_errs += list(np.abs(r_sk - r_ex) / r_ex)
        used += [r, twin]
        dims[r.name] = {"sketch_dim": d, "10W": 10 * W}
    if not used:
        return missing("P14", "needs a sketched run and the same run without sketching",
                        runs)
    est = bootstrap_ci(errs)
    ratio = bootstrap_ci(ratio_errs)
    ok = est.value <= param("P14", "max_error")
    text = f"per-σ {est.text()}; σ₂/σ₃ ratio {ratio.text()}"
    return result("P14", PASS if ok else FAIL, est, over="windows × modes", text=text,
                   runs=used, ratio_error=ratio.__dict__, dims=dims)


