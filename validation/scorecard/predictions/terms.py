"""Figure data: the measured terms and run groups that the scorers and the figures share.

:func:`gap_flow_terms` (P7's R2 terms), :func:`steady_state_terms` (P16's R1 steady
state), :func:`lifecycle_runs` (P13's runs) and :func:`sketch_twins` (P14's pairs) are
computed once here, so a figure draws exactly what was scored.

>>> lifecycle_runs([]), sketch_twins([])
([], [])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spectral_edge.numerics.columns import G_SIGMA, KSTAR_WEIGHTED, WD
from spectral_edge.validation.scorecard.analysis import RunData, g23_decline
from spectral_edge.validation.scorecard.predictions.base import (
    grok,
    trained,
    wd_of,
    window_at,
    with_file,
)

MONITOR_ONLY = ("sketch_dim", "threads", "device", "keep_checkpoints_every")
"""Config fields that change what is measured or where, never the training itself."""


def twin_key(run: RunData) -> tuple:
    """The run's config without the :data:`MONITOR_ONLY` and ``probe_*`` fields."""
    return tuple(sorted((k, str(v)) for k, v in run.config.items()
                        if k not in MONITOR_ONLY and not k.startswith("probe_")))


def sketch_twins(runs: list[RunData]) -> list[tuple[RunData, RunData]]:
    """(sketched run, its exact twin) pairs: the same configuration but ``sketch_dim`` and
    the other fields of :data:`MONITOR_ONLY`.

    Args:
        runs: candidate runs.

    Returns:
        The pairs, in the order of ``runs``.
    """
    exact = {twin_key(r): r for r in trained(runs) if r.get("sketch_dim") is None}
    return [(r, exact[twin_key(r)]) for r in trained(runs)
            if r.get("sketch_dim") is not None and twin_key(r) in exact]


def lifecycle_runs(runs: list[RunData]) -> list[tuple[RunData, int]]:
    """P13's runs: (run, grok step) for every run with probes and weight decay > 0 that
    grokked (the spec's rule).

    Args:
        runs: candidate runs.

    Returns:
        (run, grok step) pairs.
    """
    return [(r, g) for r in with_file(trained(runs), "probes")
            if wd_of(r) > 0 and (g := grok(r)) is not None]


def curvature_column(pr: pd.DataFrame) -> str:
    """The probes column read as h: ``h_precond`` when measured, else ``h``."""
    return "h_precond" if "h_precond" in pr and pr["h_precond"].notna().any() else "h"


def weight_decay(run: RunData, pr: pd.DataFrame) -> float:
    """ω: the probes' ``wd`` column when filled, else the config's ``wd`` (0 if absent)."""
    if WD in pr and pr[WD].notna().any():
        return float(pr[WD].dropna().iloc[0])
    return float(run.get("wd", 0.0))


def gap_flow_terms(run: RunData, dyson: bool = True, curvature: str | None = None,
                   window_units: bool = False) -> pd.DataFrame:
    """Per probed window s0 whose next window s0 + stride was measured: observed ġ (per
    snapshot, g = σ_k* − σ_k*+1 at s0 + stride minus at s0) and the R2 right-hand side
    from the measured h, Γ, N, ω at s0. σ at s0 + stride comes from ``probes.csv`` when
    that window was probed too, else from ``spectra.csv`` (the same monitor's σ), so ġ is
    always a one-snapshot difference whatever ``probe_every`` is. Pairs where σ_k* or
    σ_k*+1 is zero in either window (below the monitor's numerical-rank guard) are left
    out: such a σ is not a measurement, and the driving term Γ_j/d_j is undefined at 0.
    ``curvature``: the probes column read as h (default ``h_precond`` when measured — the
    effective curvature of A2 — else ``h``). ``window_units``: read the injection as
    Γ_j·η²(h_j+ω) instead of Γ_j (a diagnostic, see P7).

    Args:
        run: a run with ``probes.csv``.
        dyson: add the Dyson repulsion term (needs the ``N`` column).
        curvature: the probes column read as h (default: :func:`curvature_column`).
        window_units: read the injection in window units (diagnostic).

    Returns:
        One row per window pair: ``step``, ``g_sigma`` (g at s0), ``gdot``, ``rhs``,
        ``dyson``, ``rhs_dyson``, ``asymmetry``, ``damping``, ``driving``.
    """
    pr = run.probes
    assert pr is not None
    h = curvature or curvature_column(pr)
    omega = weight_decay(run, pr)
    stride = int(run.get("stride", 1))
    sigma_at = dict(zip(run.spectra["step"].astype(int), run.sigma(), strict=True))
    rows = []
    for s0 in sorted(pr["step"].unique()):
        a = pr[pr["step"] == s0].set_index("mode")
        k = int(a[KSTAR_WEIGHTED].iloc[0])
        if k not in a.index or k + 1 not in a.index:
            continue
        b = pr[pr["step"] == s0 + stride].set_index("mode")
        if k in b.index and k + 1 in b.index:
            n1, n2 = float(b.at[k, "sigma"]), float(b.at[k + 1, "sigma"])
        elif int(s0) + stride in sigma_at and k < run.W:
            n1, n2 = (float(x) for x in sigma_at[int(s0) + stride][k - 1:k + 1])
        else:
            continue
        eta = float(a["eta_eff"].iloc[0])
        d1, d2 = float(a.at[k, "sigma"]), float(a.at[k + 1, "sigma"])
        if not min(d1, d2, n1, n2) > 0:  # σ zeroed by the rank guard: not a measurement
            continue
        g1 = n1 - n2
        h1, h2 = float(a.at[k, h]), float(a.at[k + 1, h])
        G1, G2 = float(a.at[k, "Gamma"]), float(a.at[k + 1, "Gamma"])
        if window_units:
            G1, G2 = G1 * eta**2 * (h1 + omega), G2 * eta**2 * (h2 + omega)
        g0 = d1 - d2
        dbar, hbar = (d1 + d2) / 2, (h1 + h2) / 2
        asym, damp = -eta * (h1 - h2) * dbar, -eta * (hbar + omega) * g0
        drive = eta * run.W * (G1 / d1 - G2 / d2)
        rhs = asym + damp + drive
        D = 0.0
        if dyson and "N" in a and d1 > d2:
            N1, N2 = float(a.at[k, "N"]), float(a.at[k + 1, "N"])
            kappa = eta**2 * (N2 * d1**2 + N1 * d2**2)
            D = kappa / (d1**2 - d2**2) * (1 / (2 * d1) + 1 / (2 * d2))
        rows.append({"step": s0, G_SIGMA: g0, "gdot": g1 - g0, "rhs": rhs, "dyson": D,
                     "rhs_dyson": rhs + D, "asymmetry": asym, "damping": damp,
                     "driving": drive})
    return pd.DataFrame(rows)



def steady_state_terms(run: RunData, curvature: str | None = None) -> pd.DataFrame:
    """Per probe row (step, mode): the measured σ_j and R1's steady state
    √(WΓ_j/(h_j+ω)) from the measured Γ_j, h_j (``curvature``: the probes column read as h,
    default as in :func:`gap_flow_terms`) and ω; NaN where h_j+ω ≤ 0.

    Args:
        run: a run with ``probes.csv``.
        curvature: the probes column read as h (default: :func:`curvature_column`).

    Returns:
        Columns ``step``, ``mode``, ``sigma``, ``steady``.
    """
    pr = run.probes
    assert pr is not None
    den = pr[curvature or curvature_column(pr)].to_numpy(float) + weight_decay(run, pr)
    with np.errstate(divide="ignore", invalid="ignore"):
        steady = np.sqrt(run.W * pr["Gamma"].to_numpy(float) / den)
    steady[den <= 0] = np.nan
    return pd.DataFrame({"step": pr["step"].to_numpy(), "mode": pr["mode"].to_numpy(),
                         "sigma": pr["sigma"].to_numpy(float), "steady": steady})


def decline_table(grokked: list[RunData]) -> dict[str, dict[str, float]]:
    """P8's g₂₃ declines of grokking runs for every grok rule × window rule.

    Args:
        grokked: runs that grokked.

    Returns:
        ``{"spec_full" | "spec_adaptive" | "patience_full" | "patience_adaptive": {run name:
        g₂₃ at its pre-grok peak over g₂₃ at the grok step}}`` (spec: first evaluation ≥
        0.95; patience: the scripts' 3 × ≥ 0.98; adaptive: early windows w < W too).
    """
    det: dict[str, dict[str, float]] = {}
    for rule in ("spec", "patience"):
        for adaptive in (False, True):
            key = f"{rule}_{'adaptive' if adaptive else 'full'}"
            det[key] = {r.name: g23_decline(r, grok(r, rule), adaptive).ratio
                        for r in grokked if grok(r, rule) is not None}
    return det


def kstar_at_grok(runs: list[RunData]) -> dict[str, int]:
    """P9's weighted k* in the last window at or before each grokking run's grok step.

    Args:
        runs: candidate runs (trained ones are read).

    Returns:
        Run name -> k*, for the runs that grokked with such a window.
    """
    at = {}
    for r in trained(runs):
        g = grok(r)
        if g is None or KSTAR_WEIGHTED not in r.spectra:
            continue
        i = window_at(r, g)
        if i is not None:
            at[r.name] = int(r.spectra[KSTAR_WEIGHTED].iloc[i])
    return at
