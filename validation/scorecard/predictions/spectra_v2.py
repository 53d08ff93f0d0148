"""Version-2 checks read from the window spectra: P1, P2, P3, P6, P14.

Each is a :func:`~spectral_edge.validation.scorecard.predictions.checks.check`: the
measurement applies the version-2 rule; the surrogates (:func:`mimic`) are the reference
simulator run with each probed real run's measured h, Γ, N, η, W, stride and window count
(:func:`~spectral_edge.validation.scorecard.calibration.spec_from_run`), with the theory true
or with a named violation. P14's surrogates sketch the exact twin's own window Grams. P1's and
P3's are spiked-covariance window Grams drawn at the run's own P (P ~ 1e7–1e8) without
forming a P-dimensional vector (:mod:`.bbp_surrogates`).

>>> p1_v2([]).passed is None
True
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from spectral_edge.common.errors import InputError
from spectral_edge.numerics import spectra as sp
from spectral_edge.numerics.bootstrap import Estimate, bootstrap_ci
from spectral_edge.numerics.columns import KSTAR
from spectral_edge.validation.scorecard.analysis import alpha_proxy
from spectral_edge.validation.scorecard.calibration import (
    spec_from_run,
    surrogate_runs,
)
from spectral_edge.validation.scorecard.predictions.bbp_surrogates import p1_maker, p3_maker
from spectral_edge.validation.scorecard.predictions.checks import Outcome, check
from spectral_edge.validation.scorecard.predictions.rules import RULE_BY_ID
from spectral_edge.validation.scorecard.predictions.stats import alpha_groups, mode_of
from spectral_edge.validation.scorecard.predictions.terms import sketch_twins
from spectral_edge.validation.scorecard.rundata import RunData


def _param(pid: str, key: str) -> float:
    return RULE_BY_ID[pid].params[key]


def _names(runs: list[RunData]) -> tuple[str, ...]:
    return tuple(r.name for r in runs)


_MEMO: dict[tuple, list[RunData]] = {}
_MEMO_MAX = 20_000


def _surrogate_of(run: RunData, seed: int, violation: str | None) -> list[RunData]:
    """One surrogate of ``run`` (memoised: P2, P6, P7 and P16 calibrate on the same ones)."""
    key = (run.name, str(run.path), len(run.spectra), len(run.probes), seed, violation)
    if key not in _MEMO:
        if len(_MEMO) >= _MEMO_MAX:
            _MEMO.clear()
        stream = int.from_bytes(run.name.encode()[-6:].rjust(6, b"\0"), "big") % 100_003
        try:  # no usable spec, or a control that needs more modes than W allows
            _MEMO[key] = surrogate_runs(spec_from_run(run), run, 1, seed * 100_003 + stream,
                                        violation)
        except InputError:
            _MEMO[key] = []
    return _MEMO[key]


def mimic(violation: str | None = None):
    """A surrogate maker: one surrogate of every real run that has probes.

    Args:
        violation: The negative control applied (None: the theory true).

    Returns:
        ``(runs, seed) -> surrogate runs``; runs without probes (or with too few usable
        modes, or too short a window for the control: many_active_modes needs W ≥ 7) have
        no surrogate. A run's surrogate depends on the run and the seed only
        (not on the other runs), and is computed once per process.
    """
    def make(runs: list[RunData], seed: int) -> list[RunData]:
        out: list[RunData] = []
        for r in runs:
            if r.probes is not None and len(r.probes) and not r.external:
                out += _surrogate_of(r, seed, violation)
        return out
    return make


# --------------------------------------------------------------------------- P1


def _ceiling(run: RunData) -> float:
    """(P/(W−1))^¼: σ_W/d_crit when the window's tail is flat, its largest value."""
    P = float(run.spectra["P"].iloc[-1])
    return (P / (run.W - 1)) ** 0.25


@check("P1", theory_true=p1_maker(False), theory_false=p1_maker(True),
       violation="low_rank_updates")
def p1_v2(runs: list[RunData]) -> Outcome:
    """BBP vacuity, scored only at P ≥ 1e7; below it the value and its ceiling."""
    have = [r for r in runs if "vacuity" in r.spectra and "P" in r.spectra
            and np.isfinite(r.spectra["vacuity"].to_numpy(float)).any()]
    if not have:
        return Outcome(None, reason="no window with a finite vacuity ratio (P unknown?)")
    mins = {r.name: float(np.nanmin(r.spectra["vacuity"].to_numpy(float))) for r in have}
    ceil = {r.name: _ceiling(r) for r in have}
    Pmax = max(float(r.spectra["P"].iloc[-1]) for r in have)
    est = bootstrap_ci(list(mins.values()), np.min)
    text = (f"min σ_W/d_crit {min(mins.values()):.3g} (ceiling (P/(W−1))^¼ ≤ "
            f"{max(ceil.values()):.3g}) at P ≤ {Pmax:.3g}")
    details = {"per_run_min": mins, "ceiling": ceil, "max_P": Pmax}
    if Pmax < _param("P1", "min_P"):
        return Outcome(None, est, "runs (min)", text, runs=_names(have), details=details,
                       reason=f"not measurable at P = {Pmax:.3g} < 1e7, where the claim is "
                              f"not made ({text})")
    big = [r for r in have if float(r.spectra["P"].iloc[-1]) >= _param("P1", "min_P")]
    value = min(mins[r.name] for r in big)
    return Outcome(value > _param("P1", "min_vacuity"), est, "runs (min)", text,
                   runs=_names(big), details=details)


# --------------------------------------------------------------------------- P2


@check("P2", theory_true=mimic(), theory_false=mimic("many_active_modes"),
       violation="many_active_modes")
def p2_v2(runs: list[RunData]) -> Outcome:
    """The largest per-run mode of k* (≤ 3 passes)."""
    modes = {r.name: mode_of(r.spectra[KSTAR].to_numpy()) for r in runs if len(r.spectra)}
    if not modes:
        return Outcome(None, reason="no windows")
    est = bootstrap_ci(list(modes.values()), np.max)
    return Outcome(max(modes.values()) <= _param("P2", "max_mode"), est,
                   "runs (max of per-run modes)", f"max mode k* = {max(modes.values())}",
                   runs=_names(runs), details={"per_run_mode": modes})


# --------------------------------------------------------------------------- P3


@check("P3", theory_true=p3_maker(False), theory_false=p3_maker(True),
       violation="same_edge_position")
def p3_v2(runs: list[RunData]) -> Outcome:
    """Muon against AdamW on language-model runs only."""
    lm = [r for r in runs if r.get("task") == "lm" and not r.external]
    by = {opt: [r for r in lm if r.get("optimizer") == opt] for opt in ("muon", "adamw")}
    if not by["muon"] or not by["adamw"]:
        return Outcome(None, reason="not measurable on CPU tasks: the claim is about a "
                       "language model (TinyStories 51M); no Muon/AdamW pair of "
                       "`reproduce --plan lm` runs here")
    k = {opt: mode_of(np.concatenate([r.spectra[KSTAR].to_numpy() for r in rs]))
         for opt, rs in by.items()}
    return Outcome(k["muon"] < k["adamw"], None, "LM runs",
                   f"Muon {k['muon']} vs AdamW {k['adamw']}",
                   runs=_names(by["muon"] + by["adamw"]), details={"mode_kstar": k})


# --------------------------------------------------------------------------- P6


def _window_mean(values: np.ndarray) -> Estimate:
    x = values[np.isfinite(values)]
    return bootstrap_ci(x[np.linspace(0, x.size - 1, min(x.size, 5000)).astype(int)]
                        if x.size else x)


@check("P6", theory_true=mimic(), theory_false=mimic("isotropic_updates"),
       violation="isotropic_updates")
def p6_v2(runs: list[RunData]) -> Outcome:
    """α_dom > α_gap ≥ α_sub on exact α; the scripts' proxy α beside it."""
    exact, proxy = [], []
    for r in runs:
        s = r.spectra
        rank = s["rank"].to_numpy() if "rank" in s else np.full(len(s), r.W)
        a = r.alpha()
        if a.size and np.isfinite(a).any():
            exact.append(alpha_groups(a, s[KSTAR].to_numpy(), rank))
        if r.grams is not None:
            proxy.append(alpha_groups(alpha_proxy(r), s[KSTAR].to_numpy(), rank))
    if not exact:
        return Outcome(None, reason="no exact α (needs the (W+1)-Grams)")
    groups = ("dom", "gap", "sub")
    g = np.concatenate(exact)
    ests = {k: _window_mean(g[:, i]) for i, k in enumerate(groups)}
    means = [ests[k].value for k in groups]
    if not all(np.isfinite(means)):
        return Outcome(None, reason="a mode group is empty in every window (W < k*+3?)")
    text = "exact " + ", ".join(f"{k} {ests[k].value:.3g}" for k in groups)
    details = {"exact": {k: e.__dict__ for k, e in ests.items()}}
    if proxy:
        gp = np.concatenate(proxy)
        details["proxy"] = {k: float(np.nanmean(gp[:, i])) for i, k in enumerate(groups)}
        text += "; proxy " + ", ".join(f"{k} {details['proxy'][k]:.3g}" for k in groups)
    return Outcome(bool(means[0] > means[1] >= means[2]), ests["dom"], "windows (α_dom)", text,
                   runs=_names(runs), details=details)


# --------------------------------------------------------------------------- P14


def _sketch_sigma(gram_plus: np.ndarray, d: int, rng: np.random.Generator) -> np.ndarray:
    """σ of the window after a Gaussian sketch to d dimensions, from its Gram alone:
    X = UΣVᵀ and VᵀS is Gaussian, so the sketched Gram is UΣ(ZZᵀ)ΣUᵀ, Z ~ N(0, 1/d)."""
    lam, U = sp.eigh_gram(gram_plus[1:, 1:])
    Z = rng.normal(size=(lam.size, d)) / math.sqrt(d)
    half = U * np.sqrt(np.clip(lam, 0, None))
    return sp.sigma_from_gram(half @ (Z @ Z.T) @ half.T)


def _sketched(d_of_W) -> callable:
    def make(runs: list[RunData], seed: int) -> list[RunData]:
        out, rng = [], np.random.default_rng([seed, 14])
        for r, twin in sketch_twins(runs):
            if twin.grams is None:
                continue
            W = twin.W
            sig = np.array([_sketch_sigma(g, d_of_W(W), rng) for g in twin.grams])
            frame = pd.DataFrame(sig, columns=[f"sigma_{j}" for j in range(1, sig.shape[1] + 1)])
            frame.insert(0, "W", W)
            frame.insert(0, "step", twin.spectra["step"].to_numpy())
            out += [RunData(f"{r.name}~{seed}", r.path, frame, dict(r.config)), twin]
        return out
    return make


@check("P14", theory_true=_sketched(lambda W: 10 * W), theory_false=_sketched(lambda W: W // 2),
       violation="sketch_dim_W/2", all_runs=True)
def p14_v2(runs: list[RunData]) -> Outcome:
    """Mean relative σ error of a sketched run against its exact twin."""
    errs, ratio_errs, used = [], [], []
    for r, twin in sketch_twins(runs):
        m = r.spectra.merge(twin.spectra, on="step", suffixes=("_s", "_e"))
        ks = [j for j in range(1, twin.W + 1) if f"sigma_{j}_s" in m and f"sigma_{j}_e" in m]
        s_sk = m[[f"sigma_{j}_s" for j in ks]].to_numpy(float)
        s_ex = m[[f"sigma_{j}_e" for j in ks]].to_numpy(float)
        ok = s_ex > 1e-12 * s_ex[:, :1]
        errs += list((np.abs(s_sk - s_ex) / np.where(ok, s_ex, 1))[ok])
        if len(ks) >= 3:
            ratio_errs += list(np.abs(s_sk[:, 1] / s_sk[:, 2] - s_ex[:, 1] / s_ex[:, 2])
                               / (s_ex[:, 1] / s_ex[:, 2]))
        used += [r.name, twin.name]
    if not errs:
        return Outcome(None, reason="needs a sketched run and the same run without sketching")
    est, ratio = bootstrap_ci(errs), bootstrap_ci(ratio_errs)
    return Outcome(est.value <= _param("P14", "max_error"), est, "windows × modes",
                   f"per-σ {est.text()}; σ₂/σ₃ ratio {ratio.text()}", runs=tuple(used),
                   details={"ratio_error": ratio.__dict__})
