"""Predictions that put the flow equations' measured terms against the spectrum: P7, P16.

P7 compares R2's right-hand side (measured h, Γ, N, ω) with the observed gap change ġ;
P16 compares σ_j with R1's steady state. Their terms are
:func:`~spectral_edge.validation.scorecard.predictions.terms.gap_flow_terms` and
:func:`~spectral_edge.validation.scorecard.predictions.terms.steady_state_terms`.

>>> p7([]).verdict, p16([]).verdict
('not measurable', 'not measurable')
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from spectral_edge.numerics.bootstrap import Estimate, bootstrap_ci
from spectral_edge.numerics.columns import G_SIGMA
from spectral_edge.numerics.fit import r_squared
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
from spectral_edge.validation.scorecard.predictions.terms import (
    curvature_column,
    gap_flow_terms,
    steady_state_terms,
)


@register("P7")
def p7(runs: list[RunData]) -> PredictionResult:
    """R2's right-hand side from measured terms against the observed ġ."""
    have, miss = probe_runs(runs, "P7")
    if miss:
        return miss
    frames, per_run = [], {}
    for r in have:
        f = gap_flow_terms(r)
        if len(f) >= 2:
            f["run"] = r.name
            frames.append(f)
            per_run[r.name] = r_squared(f["gdot"], f["rhs_dyson"])
    if not frames:
        return missing("P7", "no run has 2 probed windows with modes k*, k*+1 whose next "
                        "window was measured", have)
    allf = pd.concat(frames, ignore_index=True)
    plain = [gap_flow_terms(r, curvature="h") for r in have if "h" in r.probes]
    plain = [f for f in plain if len(f)]
    r2_plain_h = (r_squared(pd.concat(plain)["gdot"], pd.concat(plain)["rhs_dyson"])
                  if plain else math.nan)
    r2 = r_squared(allf["gdot"], allf["rhs_dyson"])
    r2_nod = r_squared(allf["gdot"], allf["rhs"])
    # diagnostic, not scored (added after the v1 runs were seen): with Γ_j = u_j² R1's
    # steady state is d_j² = W u_j²/(h_j+ω), while A3's window sum of a steady drive is
    # W η² u_j²; Γ_j η²(h_j+ω) is the injection that makes the two agree
    win = pd.concat([gap_flow_terms(r, window_units=True) for r in have], ignore_index=True)
    r2_window = r_squared(win["gdot"], win["rhs_dyson"]) if len(win) > 2 else math.nan
    # noise of ġ: successive differences of ġ are mostly noise when ġ varies slowly
    noise = float(np.nanstd(np.diff(allf["gdot"])) / math.sqrt(2)) if len(allf) > 2 else math.nan
    corr_g = (float(stats.pearsonr(allf[G_SIGMA], allf["gdot"]).statistic)
              if len(allf) > 2 and np.ptp(allf[G_SIGMA]) > 0 and np.ptp(allf["gdot"]) > 0
              else math.nan)
    # bootstrap R² over probed window pairs
    idx = np.arange(len(allf))
    est = bootstrap_ci(idx, lambda i: r_squared(allf["gdot"].to_numpy()[i.astype(int)],
                                                allf["rhs_dyson"].to_numpy()[i.astype(int)]))
    ok = r2 >= param("P7", "min_r2")
    per_run_vals = np.array(list(per_run.values()), float)
    text = (f"pooled R² {est.text()}; per run median {np.median(per_run_vals):.3g}, best "
            f"{per_run_vals.max():.3g} of {len(per_run_vals)} (without Dyson term {r2_nod:.3g}, "
            f"with unpreconditioned "
            f"h {r2_plain_h:.3g}); ġ noise sd "
            f"{noise:.3g} vs ġ sd {float(allf['gdot'].std()):.3g}; published-style "
            f"corr(g, ġ) {corr_g:.3g}; median |term|: ġ {allf['gdot'].abs().median():.2g}, "
            f"asymmetry {allf['asymmetry'].abs().median():.2g}, damping "
            f"{allf['damping'].abs().median():.2g}, driving {allf['driving'].abs().median():.2g}"
            f", Dyson {allf['dyson'].abs().median():.2g}; diagnostic (not scored): R² with "
            f"Γ in window units Γη²(h+ω) {r2_window:.3g}")
    return result("P7", PASS if ok else FAIL, Estimate(r2, est.low, est.high, est.n),
                   over="probed window pairs", text=text, runs=have, per_run_r2=per_run,
                   r2_without_dyson=r2_nod, r2_plain_h=r2_plain_h, gdot_noise_sd=noise,
                   r2_window_units_diagnostic=r2_window,
                   corr_g_gdot=corr_g, curvature=curvature_column(have[0].probes),
                   median_abs_terms={c: float(allf[c].abs().median()) for c in
                                     ("gdot", "asymmetry", "damping", "driving", "dyson")},
                   n_pairs=len(allf))



@register("P16")
def p16(runs: list[RunData]) -> PredictionResult:
    """Spearman over modes of d_j against the R1 steady state √(WΓ_j/(h_j+ω))."""
    have, miss = probe_runs(runs, "P16")
    if miss:
        return miss
    rhos, rhos_h, rhos_u = [], [], []
    for r in have:
        for _, grp in r.probes.groupby("step"):
            # diagnostic (not scored): with Γ in window units the steady state is √W·η|u_j|
            rhos_u.append(spearman(grp["sigma"].to_numpy(float),
                                    np.sqrt(grp["Gamma"].to_numpy(float))))
        for col, out in ((None, rhos), ("h", rhos_h)):
            for _, grp in steady_state_terms(r, col).groupby("step"):
                out.append(spearman(grp["sigma"].to_numpy(float),
                                     grp["steady"].to_numpy(float)))
    est = bootstrap_ci(rhos)
    if est.n == 0:
        return missing("P16", "no probed window with ≥ 3 modes", have)
    alt, by_u = bootstrap_ci(rhos_h), bootstrap_ci(rhos_u)
    return result("P16", PASS if est.value > param("P16", "min_rho") else FAIL, est,
                   over="probed windows", runs=have, rho_plain_h=alt.value,
                   rho_window_units_diagnostic=by_u.value,
                   text=f"ρ {est.text()} (h = {curvature_column(have[0].probes)}; with plain h "
                        f"{alt.text()}; diagnostic (not scored), Γ in window units, i.e. "
                        f"Spearman(d_j, |u_j|): {by_u.text()})")

