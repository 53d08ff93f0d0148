"""Version-2 checks read from the probes: P4 (Krylov bound), P10 (loss decomposition) and
P11 (Gap Maximality).

* **P4** counts the stiff directions of A2's curvature operator M^½HM^½ at each probed
  window, K = #{λ ≥ 1/(η_eff W)}, from ``precond_top_<j>``/``K_eta_precond`` in
  ``probe_windows.csv``; where that was not probed, from the Rayleigh quotients
  ``h_precond`` = v_jᵀMHv_j along the window's probed modes (said so). Pass: k* ≤ K in
  ≥ 90% of the windows. Beside it: the author's k* ≤ 4 and k* ≤ 5 and the raw-Hessian count.
* **P10** (the author's definition): per probed window, Spearman over modes of
  |α_j G_j^tr G_j^val| against |Δloss of ablating v_j|, α_j = |⟨v_j⁽¹⁾, v_j⁽²⁾⟩| the
  overlap of mode j's direction in the window's two halves, from the run's stored Gram
  (:func:`~spectral_edge.numerics.spectra.half_window_overlap`; needs W ≥ 6 for three
  modes). Pass: the mean over windows > 0.5. Ours (signed, Davis–Kahan α) beside it.
* **P11**: S = Σ_j α_j G_j^tr G_j^val with the exact Davis–Kahan α of ``spectra.csv`` (every
  window has it, Grams or not, and it is the α of R6/R7 as the monitor defines it).
  Rotating the basis by φ in the plane of (j, j+1) leaves G_j a_j + G_j+1 a_j+1 unchanged
  for any two rotated vectors, so ΔS = (α_j − α_j+1)·Δ(G_j^tr G_j^val): mixing costs what
  the α profile drops across the pair. Pass: mean |ΔS| across k* ≥ 10 × mean |ΔS| within a
  block (pairs inside 1..k*, or both above k*).

Surrogates (:func:`surrogate_set`): each probed real run is replaced by the exact reference
simulator (:mod:`spectral_edge.numerics.reference`) run with its probed h, Γ, N, η, W and
stride (:func:`~spectral_edge.validation.scorecard.calibration.spec_from_run`), keeping the
window Grams; per probed window the modes' curvatures are the simulator's h (so the
Hessian and M^½HM^½ spectra are known exactly: M = I), and the gradient projections
are drawn around the run's per-mode medians. Theory-true P10 surrogates make the ablation
Δloss the product α_j G^tr G^val (R6) with a lognormal measurement error; the controls are
named in :data:`CONTROLS`.

>>> p4_v2([]).passed is None and p10_v2([]).passed is None and p11_v2([]).passed is None
True
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from spectral_edge.common.errors import InputError
from spectral_edge.numerics import spectra as sp
from spectral_edge.numerics.bootstrap import bootstrap_ci, ratio_ci
from spectral_edge.numerics.columns import KSTAR_WEIGHTED, names, numbered
from spectral_edge.numerics.reference import QuadraticProblem, simulate
from spectral_edge.validation.scorecard.calibration import (
    VIOLATIONS,
    SurrogateSpec,
    spec_from_run,
)
from spectral_edge.validation.scorecard.predictions.checks import Outcome, check
from spectral_edge.validation.scorecard.predictions.rules import RULE_BY_ID
from spectral_edge.validation.scorecard.predictions.stats import spearman
from spectral_edge.validation.scorecard.rundata import RunData

MEASUREMENT_NOISE = 0.3
"""sd of the lognormal error on every surrogate measurement (h, G, Δloss)."""

RAYLEIGH = ("Rayleigh quotients along the window's modes; the preconditioned spectrum was "
            "not probed")


def _param(pid: str, key: str) -> float:
    return RULE_BY_ID[pid].params[key]


def _probed(runs: list[RunData]) -> list[RunData]:
    return [r for r in runs if not r.external and r.probes is not None and len(r.probes)]


def _curvature(probes: pd.DataFrame) -> str:
    return "h_precond" if "h_precond" in probes and probes["h_precond"].notna().any() else "h"


# --------------------------------------------------------------------------- P4


def stiff_counts(run: RunData) -> pd.DataFrame:
    """P4's rows of one run: per probed window, k* and the stiff counts.

    Args:
        run: A run with ``probes.csv`` (and ``probe_windows.csv`` when probed).

    Returns:
        Columns step, kstar, K (the count the rule reads), source (``precond_top`` or
        ``rayleigh``) and K_hess (the raw-Hessian count, NaN where not computed).
    """
    pr, pw = run.probes, run.probe_windows
    W = run.W
    by_step = {} if pw is None else {int(s): row for s, row in pw.set_index("step").iterrows()}
    col = _curvature(pr)
    rows = []
    for step, grp in pr.groupby("step"):
        eta = float(grp["eta_eff"].iloc[0])
        if not eta > 0:
            continue
        thr = 1.0 / (eta * W)
        w = by_step.get(int(step))
        K, source, K_hess = math.nan, "rayleigh", math.nan
        if w is not None:
            tops = w[numbered(list(w.index), "precond_top")].to_numpy(float)
            if tops.size and np.isfinite(tops).any():
                K, source = float(np.sum(tops[np.isfinite(tops)] >= thr)), "precond_top"
            hess = w[numbered(list(w.index), "hess_top")].to_numpy(float)
            if hess.size and np.isfinite(hess).any():
                K_hess = float(np.sum(hess[np.isfinite(hess)] >= thr))
        if not math.isfinite(K):
            h = grp[col].to_numpy(float)
            if not np.isfinite(h).any():
                continue
            K = float(np.sum(h[np.isfinite(h)] >= thr))
        rows.append({"step": int(step), "kstar": int(grp[KSTAR_WEIGHTED].iloc[0]), "K": K,
                     "source": source, "K_hess": K_hess})
    return pd.DataFrame(rows, columns=["step", "kstar", "K", "source", "K_hess"])


def _p4_true(runs: list[RunData], seed: int) -> list[RunData]:
    return surrogate_set(runs, seed, "theory_true")


def _p4_false(runs: list[RunData], seed: int) -> list[RunData]:
    return surrogate_set(runs, seed, "soft_modes")


@check("P4", theory_true=_p4_true, theory_false=_p4_false, violation="soft_modes")
def p4_v2(runs: list[RunData]) -> Outcome:
    """k* ≤ #{eig(M^½HM^½) ≥ 1/(η_eff W)} in ≥ 90% of probed windows."""
    frames = {}
    for r in _probed(runs):
        t = stiff_counts(r)
        if len(t):
            frames[r.name] = t
    if not frames:
        return Outcome(None, reason="no probed window with a curvature (h_precond or "
                                    "precond_top) and η_eff")
    t = pd.concat(frames.values(), ignore_index=True)
    hits = (t["kstar"] <= t["K"]).to_numpy(float)
    est = bootstrap_ci(hits)
    n_top = int((t["source"] == "precond_top").sum())
    source = ("top of M^½HM^½" if n_top == len(t) else RAYLEIGH if n_top == 0 else
              f"top of M^½HM^½ on {n_top} windows, {RAYLEIGH} on {len(t) - n_top}")
    k4, k5 = float((t["kstar"] <= 4).mean()), float((t["kstar"] <= 5).mean())
    hess = t[np.isfinite(t["K_hess"])]
    raw = float((hess["kstar"] <= hess["K_hess"]).mean()) if len(hess) else math.nan
    details = {"source": source, "n_windows": len(t), "n_precond_top": n_top,
               "frac_kstar_le_4": k4, "frac_kstar_le_5": k5,
               "frac_raw_hessian": raw, "n_raw_hessian": len(hess),
               "median_K": float(t["K"].median()),
               "per_run": {n: float((f["kstar"] <= f["K"]).mean()) for n, f in frames.items()}}
    text = (f"k* ≤ K in {est.text()} of {len(t)} windows ({source}); author's k* ≤ 4: "
            f"{k4:.2f}, k* ≤ 5: {k5:.2f}; raw Hessian (v1): "
            + (f"{raw:.2f} of {len(hess)}" if len(hess) else "not probed"))
    return Outcome(est.value >= _param("P4", "min_fraction"), est, "probed windows (fraction)",
                   text, runs=tuple(frames), details=details)


# --------------------------------------------------------------------------- P10


def _window_index(run: RunData) -> dict[int, int]:
    return {int(s): i for i, s in enumerate(run.spectra["step"].to_numpy())}


def decomposition_rhos(run: RunData) -> pd.DataFrame:
    """P10's rows of one run: per probed window, the author's ρ and ours.

    Args:
        run: A run with ``probes.csv`` (and ``grams.npz`` for the author's α).

    Returns:
        Columns step, rho (Spearman of |α_j G^tr G^val| with the half-window α against
        |abl_dloss|; NaN without Grams or with < 3 modes having α) and rho_ours (signed,
        Davis–Kahan α of spectra.csv).
    """
    index = _window_index(run)
    alpha_dk = run.alpha()
    rows = []
    for step, grp in run.probes.groupby("step"):
        i = index.get(int(step))
        if i is None:
            continue
        mode = grp["mode"].to_numpy(int)
        gg = grp["G_train"].to_numpy(float) * grp["G_val"].to_numpy(float)
        dl = grp["abl_dloss"].to_numpy(float)
        rho = math.nan
        if run.grams is not None:
            half = sp.half_window_overlap(run.grams[i][1:, 1:])
            a = np.full(mode.size, np.nan)
            ok = mode <= half.size
            a[ok] = half[mode[ok] - 1]
            rho = spearman(np.abs(a * gg), np.abs(dl))
        ok = mode <= alpha_dk.shape[1]
        a_dk = np.full(mode.size, np.nan)
        a_dk[ok] = alpha_dk[i, mode[ok] - 1]
        rows.append({"step": int(step), "rho": rho, "rho_ours": spearman(a_dk * gg, dl)})
    return pd.DataFrame(rows, columns=["step", "rho", "rho_ours"])


def _p10_true(runs: list[RunData], seed: int) -> list[RunData]:
    return surrogate_set(runs, seed, "theory_true")


def _p10_false(runs: list[RunData], seed: int) -> list[RunData]:
    return surrogate_set(runs, seed, "unrelated_val_gradient")


@check("P10", theory_true=_p10_true, theory_false=_p10_false,
       violation="unrelated_val_gradient")
def p10_v2(runs: list[RunData]) -> Outcome:
    """Mean over probed windows of Spearman(|α_j G^tr G^val|, |Δloss_j|), half-window α."""
    have = [r for r in _probed(runs) if {"G_train", "G_val", "abl_dloss"} <= set(r.probes)]
    if not have:
        return Outcome(None, reason="no run has probes.csv with G_train, G_val, abl_dloss")
    frames = {r.name: decomposition_rhos(r) for r in have}
    t = pd.concat(frames.values(), ignore_index=True)
    est, ours = bootstrap_ci(t["rho"].to_numpy(float)), bootstrap_ci(t["rho_ours"].to_numpy(float))
    details = {"rho_ours": ours.__dict__, "n_windows": len(t),
               "runs_with_grams": [r.name for r in have if r.grams is not None]}
    text_ours = f"ours (signed α_DK G G vs Δloss): ρ {ours.text()}"
    if est.n == 0:
        return Outcome(None, text=text_ours, runs=tuple(frames), details=details,
                       reason="no probed window with 3 modes having the half-window α "
                              f"(needs grams.npz and W ≥ 6; {text_ours})")
    return Outcome(est.value > _param("P10", "min_rho"), est, "probed windows",
                   f"ρ {est.text()} (author's half-window α, |·|); {text_ours}",
                   runs=tuple(frames), details=details)


# --------------------------------------------------------------------------- P11


def mixing_alpha(run: RunData) -> tuple[np.ndarray, str]:
    """P11's α per window and mode: the half-window α (the author's, as P10) where the
    run's Grams give two modes (W ≥ 4), else the exact Davis–Kahan α of ``spectra.csv``.

    The Davis–Kahan α is max(0, 1 − ‖ΔC‖²/δ_j²): on windows that change more than their
    eigenvalue gaps (every window of the stride-500 protocol runs) it is 0 on every mode,
    and S = Σ α_j G^tr G^val would be identically 0.

    Args:
        run: A run.

    Returns:
        (α, shape (windows, modes), and the name of the definition used).
    """
    if run.grams is not None and run.W >= 4:
        return sp.half_window_overlap(run.grams[:, 1:, 1:]), "half-window α (grams.npz)"
    return run.alpha(), "exact Davis–Kahan α (spectra.csv)"


def mixing_costs(run: RunData) -> pd.DataFrame:
    """P11's rows of one run: per probed window and adjacent pair (j, j+1), ΔS.

    Args:
        run: A run with ``probes.csv`` (α: :func:`mixing_alpha`).

    Returns:
        Columns step, j, kind (``across``, ``within`` or ``other``: a pair never inside one
        block), dS.
    """
    index = _window_index(run)
    alpha = mixing_alpha(run)[0]
    rows = []
    for step, grp in run.probes.groupby("step"):
        i = index.get(int(step))
        if i is None:
            continue
        grp = grp[grp["mode"] <= alpha.shape[1]].sort_values("mode")
        mode = grp["mode"].to_numpy(int)
        if mode.size < 2:
            continue
        a = alpha[i, mode - 1]
        gt, gv = grp["G_train"].to_numpy(float), grp["G_val"].to_numpy(float)
        phis = (grp["mix_phi"].to_numpy(float) if "mix_phi" in grp
                else np.full(mode.size, np.nan))
        k = int(grp[KSTAR_WEIGHTED].iloc[0])
        for n in range(mode.size - 1):
            j = int(mode[n])
            if mode[n + 1] != j + 1:
                continue
            phi = phis[n] if np.isfinite(phis[n]) else math.pi / 4
            c, s = math.cos(phi), math.sin(phi)
            p_old = gt[n] * gv[n]
            p_new = (c * gt[n] + s * gt[n + 1]) * (c * gv[n] + s * gv[n + 1])
            # the pair's Σ G^tr G^val is rotation invariant: S changes by (α_j − α_j+1)Δp_j
            dS = (a[n] - a[n + 1]) * (p_new - p_old)
            kind = "across" if j == k else "within" if (j + 1 <= k or j > k) else "other"
            rows.append({"step": int(step), "j": j, "kind": kind, "dS": dS})
    return pd.DataFrame(rows, columns=["step", "j", "kind", "dS"])


def _p11_true(runs: list[RunData], seed: int) -> list[RunData]:
    return surrogate_set(runs, seed, "theory_true")


def _p11_false(runs: list[RunData], seed: int) -> list[RunData]:
    return surrogate_set(runs, seed, "flat_alpha")


@check("P11", theory_true=_p11_true, theory_false=_p11_false, violation="flat_alpha")
def p11_v2(runs: list[RunData]) -> Outcome:
    """mean |ΔS| across k* over mean |ΔS| within a block ≥ 10."""
    have = [r for r in _probed(runs) if {"G_train", "G_val"} <= set(r.probes)]
    if not have:
        return Outcome(None, reason="no run has probes.csv with G_train and G_val")
    t = pd.concat([mixing_costs(r) for r in have], ignore_index=True)
    t = t[np.isfinite(t["dS"].to_numpy(float))]
    across = t.loc[t["kind"] == "across", "dS"].abs().to_numpy(float)
    within = t.loc[t["kind"] == "within", "dS"].abs().to_numpy(float)
    if not across.size or not within.size or not within.mean() > 0:
        return Outcome(None, runs=tuple(r.name for r in have),
                       reason=f"needs across-k* and non-zero within-block pairs "
                              f"({across.size} across, {within.size} within)")
    est = ratio_ci(across, within, paired=False)
    details = {"n_across": int(across.size), "n_within": int(within.size),
               "mean_abs_dS_across": float(across.mean()),
               "mean_abs_dS_within": float(within.mean()),
               "alpha": {r.name: mixing_alpha(r)[1] for r in have}}
    return Outcome(est.value >= _param("P11", "min_ratio"), est, "basis rotations",
                   f"|ΔS| across/within {est.text()} ({across.size} across, "
                   f"{within.size} within pairs)", runs=tuple(r.name for r in have),
                   details=details)


# --------------------------------------------------------------------------- surrogates


CONTROLS: dict[str, str] = {
    "theory_true": "the reference simulator with the run's h, Γ, N (GD/SGD: M = I), Δloss of "
                   "ablating v_j = α_j G^tr G^val (R6)",
    "soft_modes": "every mode soft (η_eff h W = 0.01) and driven by independent injection: "
                  "k* ≥ 1 with no stiff direction",
    "unrelated_val_gradient": "the ablation Δloss follows a validation gradient unrelated to "
                              "the probed G^val",
    "flat_alpha": "every mode has the run's mean h and mean Γ (flat_injection), so no mode "
                  "is more stable than another and the half-window α is flat; the exact α "
                  "of spectra.csv is set to the window's mean too (with measurement error): "
                  "mixing within a block costs what mixing across k* does",
}
"""Surrogate kinds: the theory-true one and the negative controls of P4, P10, P11."""

SURROGATE_P = 256
"""Dimension of the surrogate quadratic: the noise bulk's directions overlap by ~1/√P
between the window's halves."""

G_VAL_SPREAD, G_TRAIN_SPREAD = 2.5, 0.5
"""sd of log|G^val_j| and log|G^tr_j| across a surrogate window's modes where the real run
does not give it (:func:`_spread`; the full plan's runs measure 0.72 and 0.64)."""

SOFT = 0.01
"""η_eff·h·W of the soft modes of the P4 control."""


def _soft(spec: SurrogateSpec) -> SurrogateSpec:
    h = SOFT / (spec.eta_eff * spec.W)
    n = len(spec.h)
    gamma = float(np.median(spec.Gamma)) * h / max(float(np.median(spec.h)), h)
    return SurrogateSpec(h=(h,) * n, Gamma=(gamma,) * n, eta=spec.eta, W=spec.W,
                         stride=spec.stride, windows=spec.windows, P=spec.P,
                         omega=spec.omega, noise=spec.noise, probe_every=spec.probe_every,
                         burn_in=4 * spec.W)


def _scales(run: RunData, col: str, n: int) -> np.ndarray:
    """Per-mode median |col| of the real run (1 where unknown)."""
    if col not in run.probes:
        return np.ones(n)
    med = run.probes.assign(_a=run.probes[col].abs()).groupby("mode")["_a"].median()
    out = np.array([float(med.get(j, np.nan)) for j in range(1, n + 1)])
    return np.where(np.isfinite(out) & (out > 0), out, 1.0)


def _spread(run: RunData, col: str, default: float) -> float:
    """Median over the run's probed windows of the sd of log|col| across the window's modes
    (``default`` where no window has three finite non-zero values)."""
    if col not in run.probes:
        return default
    sds = []
    for _, grp in run.probes.groupby("step"):
        v = np.abs(grp[col].to_numpy(float))
        v = np.log(v[np.isfinite(v) & (v > 0)])
        if v.size >= 3:
            sds.append(float(np.std(v)))
    return float(np.median(sds)) if sds else default


def _simulate(spec: SurrogateSpec, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """(spectra frame, the (W+1)-Grams, the per-window mode energies) of one simulation."""
    W, burn = int(spec.W), min(spec.burn(), 50 * int(spec.W))
    h_sim, gamma_sim = spec.simulated()
    prob = QuadraticProblem(h=h_sim, Gamma=gamma_sim, P=int(spec.P), noise=float(spec.noise),
                            seed=seed)
    res = simulate(prob, "sgd" if spec.noise > 0 else "gd", eta=spec.eta_eff, W=W,
                   steps=W + burn + int(spec.windows), omega=float(spec.omega), seed=seed,
                   keep_grams=True)
    keep = res.t > W + burn
    grams = res.grams[0][keep]
    frame = pd.DataFrame([{"step": int(t) * int(spec.stride),
                           **sp.window_stats(P=res.P, gram_plus=g, eta_eff=res.eta).as_row()}
                          for t, g in zip(res.t[keep], grams, strict=True)])
    frame["snapshot"], frame["lr"], frame["skipped"] = res.t[keep], float(spec.eta), 0
    cols = [c.replace("<j>", str(j)) for c in names("spectra.csv")
            for j in (range(1, W + 1) if "<j>" in c else [0])]
    return frame.reindex(columns=cols), grams, res.mode_energy[0][keep]


def _surrogate(run: RunData, kind: str, seed: int) -> RunData | None:
    """One surrogate of ``run`` (None when its probes give no usable spec)."""
    try:
        spec = spec_from_run(run, measurement_noise=MEASUREMENT_NOISE, P=SURROGATE_P)
    except InputError:
        return None
    h_sim = spec.simulated()[0]
    if kind == "soft_modes":
        spec = _soft(spec)
        h_sim = spec.simulated()[0]
    if kind == "flat_alpha":  # P11 reads the half-window α of the Grams: flatten what makes it
        spec = VIOLATIONS["flat_injection"].spec(spec)
        h_sim = spec.simulated()[0]
    spectra, grams, energy = _simulate(spec, seed)
    rng = np.random.default_rng([seed, 0x9B0B])
    n = min(len(h_sim), spec.W, int(run.probes["mode"].max()))
    g_tr, g_val = _scales(run, "G_train", n), _scales(run, "G_val", n)
    sd_tr, sd_val = _spread(run, "G_train", G_TRAIN_SPREAD), _spread(run, "G_val", G_VAL_SPREAD)
    has_top = run.probe_windows is not None and bool(numbered(run.probe_windows,
                                                              "precond_top"))
    rows, wins = [], []
    for i in range(0, len(spectra), int(spec.probe_every)):
        order = np.argsort(-energy[i])[:n]
        h = h_sim[order] * np.exp(MEASUREMENT_NOISE * rng.normal(size=n))
        k = int(spectra[KSTAR_WEIGHTED].iloc[i])
        step = int(spectra["step"].iloc[i])
        gt = g_tr * np.exp(sd_tr * rng.normal(size=n)) * rng.choice([-1.0, 1.0], n)
        gv = g_val * np.exp(sd_val * rng.normal(size=n)) * rng.choice([-1.0, 1.0], n)
        half = sp.half_window_overlap(grams[i][1:, 1:])
        a = np.ones(n)
        a[: min(n, half.size)] = np.nan_to_num(half[: min(n, half.size)], nan=0.0)
        drive = gv if kind != "unrelated_val_gradient" else (
            g_val * np.exp(sd_val * rng.normal(size=n)) * rng.choice([-1.0, 1.0], n))
        dloss = -a * gt * drive * np.exp(MEASUREMENT_NOISE * rng.normal(size=n))
        for j in range(n):
            rows.append({"step": step, "mode": j + 1, KSTAR_WEIGHTED: k,
                         "sigma": float(spectra[f"sigma_{j + 1}"].iloc[i]),
                         "eta_eff": spec.eta_eff, "wd": spec.omega, "h": h[j],
                         "h_precond": h[j], "G_train": gt[j], "G_val": gv[j],
                         "abl_dloss": dloss[j], "mix_phi": math.pi / 4 if j < n - 1 else math.nan})
        top = np.sort(h_sim)[::-1] * np.exp(MEASUREMENT_NOISE * rng.normal(size=len(h_sim)))
        thr = 1.0 / (spec.eta_eff * spec.W)
        win = {"step": step, KSTAR_WEIGHTED: k, "eta_eff": spec.eta_eff,
               "K_eta": int(np.sum(top >= thr)), "hess_k": len(top),
               **{f"hess_top_{j + 1}": v for j, v in enumerate(top)}}
        if has_top:
            win |= {"K_eta_precond": int(np.sum(top >= thr)),
                    **{f"precond_top_{j + 1}": v for j, v in enumerate(top)}}
        wins.append(win)
    if kind == "flat_alpha":
        cols = numbered(spectra, "alpha")
        mean = spectra[cols].mean(axis=1).to_numpy()[:, None]
        spectra[cols] = mean * np.exp(MEASUREMENT_NOISE * rng.normal(size=(len(spectra),
                                                                            len(cols))))
    return RunData(name=f"{run.name}~{kind}.{seed}", path=run.path, spectra=spectra,
                   config=dict(run.config), grams=grams if run.grams is not None else None,
                   probes=pd.DataFrame(rows), probe_windows=pd.DataFrame(wins))


def surrogate_set(runs: list[RunData], seed: int, kind: str) -> list[RunData]:
    """One surrogate of every probed real run, of the given kind.

    Args:
        runs: The real runs (runs without probes, or whose probes give fewer than two
            usable modes, have no surrogate).
        seed: Replicate seed (deterministic).
        kind: A key of :data:`CONTROLS`.

    Returns:
        The surrogate run records (spectra, Grams when the real run has them, probes,
        probe_windows).

    Raises:
        InputError: For an unknown kind.
    """
    if kind not in CONTROLS:
        raise InputError(f"unknown surrogate kind {kind!r}; known: {sorted(CONTROLS)}")
    out = []
    for i, r in enumerate(_probed(runs)):
        s = _surrogate(r, kind, seed * 1009 + i)
        if s is not None:
            out.append(s)
    return out
