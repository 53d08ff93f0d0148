"""Predictions scored from the probes: P4, P10, P11, P13, P15.

They read ``probes.csv`` (one row per probed window and mode) or ``probe_windows.csv``
(one row per probed window); without them they are not measurable.

>>> p4([]).reason
'no run has probe_windows.csv (train with probes on)'
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spectral_edge.numerics.bootstrap import bootstrap_ci, ratio_ci
from spectral_edge.numerics.columns import KSTAR_WEIGHTED
from spectral_edge.validation.scorecard.analysis import RunData
from spectral_edge.validation.scorecard.predictions.base import (
    FAIL,
    PASS,
    PredictionResult,
    missing,
    param,
    probe_runs,
    register,
    result,
)
from spectral_edge.validation.scorecard.predictions.stats import spearman
from spectral_edge.validation.scorecard.predictions.terms import lifecycle_runs


@register("P4")
def p4(runs: list[RunData]) -> PredictionResult:
    """Krylov bound with the measured Hessian top eigenvalues."""
    have, miss = probe_runs(runs, "P4", "probe_windows")
    if miss:
        return miss
    hits = []
    for r in have:
        pw = r.probe_windows
        if "K_eta" in pw:
            K = pw["K_eta"].to_numpy(float)
        else:
            cols = [c for c in pw if c.startswith("hess_top_")]
            thr = 1.0 / (pw["eta_eff"].to_numpy(float) * r.W)
            K = (pw[cols].to_numpy(float) >= thr[:, None]).sum(axis=1)
        have_h = np.isfinite(K)
        if "hess_k" in pw:
            have_h &= pw["hess_k"].to_numpy(float) > 0
        hits += list((pw[KSTAR_WEIGHTED].to_numpy(float)[have_h] <= K[have_h]).astype(float))
    est = bootstrap_ci(hits)
    if est.n == 0:
        return missing("P4", "no probed window has Hessian eigenvalues (probe_hess_every)",
                        have)
    ok = est.value >= param("P4", "min_fraction")
    return result("P4", PASS if ok else FAIL, est, over="probed windows (fraction)",
                   runs=have)



@register("P10")
def p10(runs: list[RunData]) -> PredictionResult:
    """Spearman over modes of α_j G_tr G_val against the ablation Δloss, per window."""
    have, miss = probe_runs(runs, "P10")
    if miss:
        return miss
    rhos = []
    for r in have:
        alpha = pd.DataFrame(r.alpha(), index=r.spectra["step"].to_numpy())
        for step, grp in r.probes.groupby("step"):
            if step not in alpha.index:
                continue
            a = alpha.loc[step].to_numpy(float)[grp["mode"].to_numpy(int) - 1]
            pred = a * grp["G_train"].to_numpy(float) * grp["G_val"].to_numpy(float)
            rhos.append(spearman(pred, grp["abl_dloss"].to_numpy(float)))
    est = bootstrap_ci(rhos)
    if est.n == 0:
        return missing("P10", "no probed window with ≥ 3 modes and a matching α", have)
    return result("P10", PASS if est.value > param("P10", "min_rho") else FAIL, est,
                   over="probed windows", runs=have)


@register("P11")
def p11(runs: list[RunData]) -> PredictionResult:
    """Mixing across k* against mixing within a block."""
    have, miss = probe_runs(runs, "P11")
    if miss:
        return miss
    pr = pd.concat([r.probes for r in have], ignore_index=True)
    if "mix_pair" not in pr:
        return missing("P11", "probes.csv has no mix_pair column", have)
    across = pr.loc[pr["mix_pair"] == "across", "mix_dloss"].abs().to_numpy(float)
    within = pr.loc[pr["mix_pair"].isin(["dominant", "bulk"]), "mix_dloss"].abs().to_numpy(float)
    across, within = across[np.isfinite(across)], within[np.isfinite(within)]
    if not across.size or not within.size:
        return missing("P11", "needs both across-k* and within-block mixing rows", have)
    est = ratio_ci(across, within, paired=False)
    ratio = est.value
    return result("P11", PASS if ratio >= param("P11", "min_ratio") else FAIL, est,
                   over="mixing rows", runs=have, n_across=int(across.size),
                   n_within=int(within.size))



@register("P13")
def p13(runs: list[RunData]) -> PredictionResult:
    """Gradient energy fraction on v_1 before and after the grok step (weight-decay runs)."""
    have, miss = probe_runs(runs, "P13")
    if miss:
        return miss
    before, after, used = [], [], []
    for r, g in lifecycle_runs(have):
        m1 = r.probes[r.probes["mode"] == 1]
        before += list(m1.loc[m1["step"] < g, "grad_energy_frac"].to_numpy(float))
        after += list(m1.loc[m1["step"] > g, "grad_energy_frac"].to_numpy(float))
        used.append(r)
    b, a = bootstrap_ci(before), bootstrap_ci(after)
    if b.n == 0 or a.n == 0:
        return missing("P13", "needs probed windows before and after grokking in a wd run",
                        have)
    ok = b.value > param("P13", "before") and a.value < param("P13", "after")
    return result("P13", PASS if ok else FAIL, b, over="probed windows (before)",
                   text=f"before {b.text()}, after {a.text()}", runs=used,
                   after=a.__dict__)


@register("P15")
def p15(runs: list[RunData]) -> PredictionResult:
    """Edge-block ablation against random directions of the same norm."""
    have, miss = probe_runs(runs, "P15", "probe_windows")
    if miss:
        return miss
    pw = pd.concat([r.probe_windows for r in have], ignore_index=True)
    edge = pw["abl_edge_dacc"].abs().to_numpy(float)
    rand = pw["abl_rand_dacc_mean"].abs().to_numpy(float)
    ok_rows = np.isfinite(edge) & np.isfinite(rand)
    edge, rand = edge[ok_rows], rand[ok_rows]
    if not edge.size:
        return missing("P15", "no finite ablation rows", have)
    est = ratio_ci(edge, rand, paired=True)
    ratio = est.value
    mean_edge = float(pw["abl_edge_dacc"].mean())
    text = f"ratio {est.text()}; mean Δacc(edge) {mean_edge:.3g}"
    return result("P15", PASS if ratio >= param("P15", "min_ratio") else FAIL, est,
                   over="probed windows", text=text, runs=have, mean_edge_dacc=mean_edge)


