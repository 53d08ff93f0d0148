"""Version-2 checks of the flow equations with measured terms: P7 and P16.

Both read ``probes.csv``; Γ is in R1's units, Γ_j = η_eff²(h_j+ω)u_j² from the probed squared
drive u_j² (``Gamma`` column; :func:`~spectral_edge.numerics.snapshot.gamma_from_drive`),
and the noise N per snapshot is the probed N (per optimizer step) divided by the stride.

* P7 integrates R1+R3 exactly over one snapshot from each probed window
  (:func:`~spectral_edge.numerics.snapshot.predict_gap_change`) and compares the predicted
  change of g = σ_k* − σ_k*+1 with the observed one (the next window's g at the same k),
  on the windows where R1's slow-relaxation hypothesis η_eff(h̄+ω)W ≤ 0.1 holds; R² is
  judged against its noise ceiling (:func:`~spectral_edge.numerics.snapshot.noise_ceiling`
  of the run's observed changes); every window is reported.
* P16 ranks σ_j against R1's steady state √(WΓ_j/(h_j+ω)) (with Γ in R1's units this is
  √W·η_eff|u_j|); the author's curvature-only ranking Spearman(d_j, 1/√h_j) is beside it.

>>> p7_v2([]).passed is None and p16_v2([]).passed is None
True
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.bootstrap import Estimate, bootstrap_ci
from spectral_edge.numerics.fit import r_squared
from spectral_edge.numerics.snapshot import gamma_from_drive, noise_ceiling, predict_gap_change
from spectral_edge.theory import lambdified as tx
from spectral_edge.validation.scorecard.predictions.checks import Outcome, check
from spectral_edge.validation.scorecard.predictions.rules import RULE_BY_ID
from spectral_edge.validation.scorecard.predictions.spectra_v2 import mimic
from spectral_edge.validation.scorecard.predictions.stats import spearman
from spectral_edge.validation.scorecard.rundata import RunData


def _curvature(probes: pd.DataFrame) -> str:
    return "h_precond" if "h_precond" in probes and probes["h_precond"].notna().any() else "h"


def _probed(runs: list[RunData]) -> list[RunData]:
    return [r for r in runs if not r.external and r.probes is not None and len(r.probes)]


def gamma_r1(run: RunData, grp: pd.DataFrame, h: np.ndarray) -> np.ndarray:
    """R1's Γ_j of one probed window from its squared drives u_j² (``Gamma`` column).

    Args:
        run: The run (η_eff, W).
        grp: The window's probe rows.
        h: The curvature used, one per row.

    Returns:
        Γ_j = η_eff²(h_j+ω)u_j².
    """
    omega = float(grp["wd"].iloc[0])
    u = np.sqrt(np.clip(grp["Gamma"].to_numpy(float), 0, None))
    return np.asarray(gamma_from_drive(u, np.clip(h, 0, None), run.eta_eff, run.W, omega), float)


# --------------------------------------------------------------------------- P7


def snapshot_table(run: RunData) -> pd.DataFrame:
    """P7's rows of one run: per probed window, the observed and predicted change of g.

    Args:
        run: A run with probes.

    Returns:
        Columns step, k, g, observed, predicted, euler, relaxation, slow.
    """
    s = run.spectra.reset_index(drop=True)
    index = {int(st): i for i, st in enumerate(s["step"].to_numpy())}
    stride = float(run.get("stride", 1) or 1)
    col, rows = _curvature(run.probes), []
    for step, grp in run.probes.groupby("step"):
        i = index.get(int(step))
        grp = grp.sort_values("mode")
        k = int(grp["kstar_weighted"].iloc[0])
        if i is None or i + 1 >= len(s) or k + 1 > len(grp) or f"sigma_{k + 1}" not in s:
            continue
        h = grp[col].to_numpy(float)
        sig = grp["sigma"].to_numpy(float)
        if not (np.isfinite(h).all() and np.isfinite(sig).all()) or np.unique(sig).size < sig.size:
            continue
        gam = gamma_r1(run, grp, h)
        N = np.clip(grp["N"].to_numpy(float), 0, None) / stride if "N" in grp else None
        try:
            pred = predict_gap_change(sig, np.clip(h, 0, None), gam, run.eta_eff, run.W,
                                      omega=float(grp["wd"].iloc[0]),
                                      N=None if N is None or not np.isfinite(N).all() else N,
                                      k=k, threshold=RULE_BY_ID["P7"].params["slow"])
        except InputError:
            continue
        g0 = float(s[f"sigma_{k}"].iloc[i] - s[f"sigma_{k + 1}"].iloc[i])
        g1 = float(s[f"sigma_{k}"].iloc[i + 1] - s[f"sigma_{k + 1}"].iloc[i + 1])
        rows.append({"step": int(step), "k": k, "g": g0, "observed": g1 - g0,
                     "predicted": pred.change, "euler": pred.euler_change,
                     "relaxation": pred.relaxation, "slow": pred.slow})
    return pd.DataFrame(rows, columns=["step", "k", "g", "observed", "predicted", "euler",
                                       "relaxation", "slow"])


def _ceiling(run: RunData, k: int) -> float:
    s = run.spectra
    if f"sigma_{k + 1}" not in s:
        return math.nan
    g = (s[f"sigma_{k}"] - s[f"sigma_{k + 1}"]).to_numpy(float)
    try:
        return noise_ceiling(np.diff(g)).r2_max
    except InputError:
        return math.nan


@check("P7", theory_true=mimic(), theory_false=mimic("permuted_hierarchy"),
       violation="permuted_hierarchy")
def p7_v2(runs: list[RunData]) -> Outcome:
    """R² of the exactly integrated snapshot change against the observed one, slow windows."""
    frames, ceilings = [], {}
    for r in _probed(runs):
        t = snapshot_table(r)
        if len(t):
            t["run"] = r.name
            frames.append(t)
            ceilings[r.name] = _ceiling(r, int(t["k"].mode().iloc[0]))
    if not frames:
        return Outcome(None, reason="no probed window whose next window was measured")
    allf = pd.concat(frames, ignore_index=True)
    r2_all = r_squared(allf["observed"], allf["predicted"])
    r2_euler = r_squared(allf["observed"], allf["euler"])
    slow = allf[allf["slow"]]
    details = {"n_windows": len(allf), "n_slow": len(slow), "r2_all_windows": r2_all,
               "r2_all_windows_euler": r2_euler, "ceilings": ceilings,
               "median_relaxation": float(allf["relaxation"].median()),
               "median_observed": float(allf["observed"].abs().median()),
               "median_predicted": float(allf["predicted"].abs().median())}
    text_all = (f"all {len(allf)} windows: R² {r2_all:.3g} (exact), {r2_euler:.3g} (Euler); "
                f"median η_eff(h̄+ω)W {details['median_relaxation']:.3g}")
    if len(slow) < 3:
        return Outcome(None, text=text_all, runs=tuple(ceilings), details=details,
                       reason=f"{len(slow)} window(s) satisfy η_eff(h̄+ω)W ≤ "
                              f"{RULE_BY_ID['P7'].params['slow']:g}, the hypothesis of R1/R2 "
                              f"({text_all})")
    r2 = r_squared(slow["observed"], slow["predicted"])
    weights = slow.groupby("run").size()
    ceiling = float(np.nansum([ceilings[n] * w for n, w in weights.items()]) / weights.sum())
    idx = np.arange(len(slow))
    obs, prd = slow["observed"].to_numpy(), slow["predicted"].to_numpy()
    est = bootstrap_ci(idx, lambda i: r_squared(obs[i.astype(int)], prd[i.astype(int)]))
    est = Estimate(r2, est.low, est.high, est.n)
    passed = bool(math.isfinite(ceiling) and ceiling > 0
                  and r2 >= RULE_BY_ID["P7"].params["min_r2_fraction"] * ceiling)
    return Outcome(passed, est, "slow windows", f"R² {est.text()} on {len(slow)} slow windows "
                   f"vs ceiling {ceiling:.3g}; {text_all}", runs=tuple(ceilings),
                   details=details | {"r2_ceiling": ceiling})


# --------------------------------------------------------------------------- P16


@check("P16", theory_true=mimic(), theory_false=mimic("permuted_hierarchy"),
       violation="permuted_hierarchy")
def p16_v2(runs: list[RunData]) -> Outcome:
    """Spearman(d_j, √(WΓ_j/(h_j+ω))) per probed window, Γ in R1's units."""
    rhos, rhos_h = [], []
    have = _probed(runs)
    for r in have:
        col = _curvature(r.probes)
        for _, grp in r.probes.groupby("step"):
            h = np.clip(grp[col].to_numpy(float), 0, None)
            omega = float(grp["wd"].iloc[0])
            steady = tx.signal_steady_state(h, gamma_r1(r, grp, h), omega, r.W)
            d = grp["sigma"].to_numpy(float)
            rhos.append(spearman(d, steady))
            with np.errstate(divide="ignore"):
                rhos_h.append(spearman(d, 1.0 / np.sqrt(h)))
    est, est_h = bootstrap_ci(rhos), bootstrap_ci(rhos_h)
    if est.n == 0:
        return Outcome(None, reason="no probed window with ≥ 3 modes")
    return Outcome(est.value > RULE_BY_ID["P16"].params["min_rho"], est, "probed windows",
                   f"ρ {est.text()}; the author's Spearman(d_j, 1/√h_j) {est_h.text()}",
                   runs=tuple(r.name for r in have),
                   details={"rho_curvature_only": est_h.__dict__})
