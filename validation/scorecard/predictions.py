"""The sixteen predictions P1–P16 (docs/spec.md §6), each scored on run directories.

Every prediction is a function ``runs -> PredictionResult`` of a list of
:class:`spectral_edge.validation.scorecard.analysis.RunData`. The result carries the measured
value with a bootstrap
confidence interval (fixed seed, :func:`spectral_edge.numerics.bootstrap.bootstrap_ci`; over
windows or
seeds, said in ``ci_over``), the pass rule, the verdict — ``pass``, ``fail`` or
``not measurable`` with the reason — and the runs used. Where the published scripts define
a quantity differently (docs/spec.md §8), both values are in ``details``.

The pass rules are in one versioned table, :data:`RULES` (version :data:`RULES_VERSION`),
fixed before any run was analysed; ``docs/predictions.md`` prints it. A rule changed after
looking at data must get a new version and a line in :data:`RULE_CHANGES`.

>>> [r.id for r in RULES][:3], RULES_VERSION
(['P1', 'P2', 'P3'], '1')
>>> evaluate([])[0].verdict
'not measurable'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import signal, stats

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.bootstrap import Estimate, bootstrap_ci
from spectral_edge.numerics.fit import r_squared
from spectral_edge.validation.scorecard.analysis import (
    RunData,
    alpha_proxy,
    g23_decline,
    grok_step,
    val_loss_at,
)

PASS, FAIL, NOT_MEASURABLE = "pass", "fail", "not measurable"

RULES_VERSION = "1"
"""Version of :data:`RULES`. Version 1 was written on 2026-11-25 from docs/spec.md §6,
before any run directory was scored."""

RULE_CHANGES: tuple[str, ...] = ()
"""Every change of a rule after data was seen, with its reason (none so far)."""


@dataclass(frozen=True)
class Rule:
    """One prediction's statement, pass rule, thresholds and the published figure."""

    id: str
    statement: str
    rule: str
    params: dict[str, float]
    published: str
    needs: str


RULES: tuple[Rule, ...] = (
    Rule("P1", "BBP is vacuous", "min over windows of σ_W/d_crit > 5",
         {"min_vacuity": 5.0}, "vacuous at P ~ 1e5–1e8", "spectra.csv (P)"),
    Rule("P2", "few active modes", "mode of k* ≤ 3 in every run",
         {"max_mode": 3}, "k* ≤ 3", "spectra.csv"),
    Rule("P3", "the optimizer sets the gap position",
         "mode k*(Muon) < mode k*(AdamW), same task and model, for every task with both",
         {}, "Muon k* = 1, AdamW k* = 2", "spectra.csv of AdamW and Muon runs"),
    Rule("P4", "Krylov bound with the measured Hessian",
         "k* ≤ #{Lanczos h ≥ 1/(η_eff W)} in ≥ 90% of probed windows",
         {"min_fraction": 0.9}, "k* ≤ 4–5 checked (no Hessian)", "probe_windows.csv"),
    Rule("P5", "three-phase pattern, gap coupled to the loss",
         "rise/plateau/collapse segments (Welch p < 0.05 each side) in ≥ half the runs, "
         "and mean detrended |corr(R, val loss)| > 0.3",
         {"min_corr": 0.3, "p_value": 0.05, "min_fraction": 0.5},
         "|corr| = 0.67", "spectra.csv, metrics.csv"),
    Rule("P6", "stability hierarchy",
         "mean α_dom > mean α_gap > mean α_sub (dom = modes 1..k*, gap = k*+1, k*+2, "
         "sub = ≥ k*+3), exact α",
         {}, "α₁ 0.82 > α₂ 0.23 > α≥4 ≈ 0 (proxy α)", "spectra.csv"),
    Rule("P7", "gap flow with measured terms",
         "pooled R² ≥ 0.5 of the right-hand side of R2 (measured h, Γ, N, ω) against ġ",
         {"min_r2": 0.5}, "r ≈ 0 (g vs ġ, no curvature)", "probes.csv"),
    Rule("P8", "gap dynamics precede grokking",
         "g₂₃ declines > 1.5× by the grok step in N/N grokking weight-decay runs, and 0/N "
         "no-decay runs grok",
         {"min_decline": 1.5}, "24/24 vs 0/24 (1/24); 8–111×", "spectra.csv, metrics.csv"),
    Rule("P9", "k* = 1 at grokking",
         "weighted k* = 1 in the last window at or before the grok step, in every grokking run",
         {}, "k* = 1 in every Dyck/SCAN run", "spectra.csv, metrics.csv"),
    Rule("P10", "loss decomposition",
         "mean over probed windows of Spearman(α_j G_j^tr G_j^val, Δloss of ablating v_j) > 0.5",
         {"min_rho": 0.5}, "-", "probes.csv, spectra.csv"),
    Rule("P11", "Gap Maximality",
         "mean |Δloss| of mixing across k* ≥ 10× mean |Δloss| of mixing within a block",
         {"min_ratio": 10.0}, "-", "probes.csv"),
    Rule("P12", "adiabatic regimes",
         "median A < 0.1 away (> 2 windows) from the grok step; peak A within ±2 windows of "
         "the grok step in every grokking run; max A > 10 after induced forgetting",
         {"low": 0.1, "high": 10.0, "within": 2}, "A ≪ 1 / ~1 / ≫ 1",
         "spectra.csv, metrics.csv, a forgetting run"),
    Rule("P13", "lifecycle: gradient-driven to weight-decay-driven",
         "gradient energy fraction on v_1 > 0.8 before grokking and < 0.2 after (wd runs)",
         {"before": 0.8, "after": 0.2}, "88–98% → 0.2–5%", "probes.csv, metrics.csv"),
    Rule("P14", "sketching keeps the spectrum",
         "mean relative σ error ≤ 10% at sketch dimension 10W (σ₂/σ₃ ratio error reported too)",
         {"max_error": 0.10}, "≤ 7.4% (σ₂/σ₃ ratio error)",
         "a sketched run and its exact twin"),
    Rule("P15", "edge ablation",
         "mean |Δacc| of removing v_1..v_k* ≥ 100× mean |Δacc| of random directions",
         {"min_ratio": 100.0}, "Δacc ≈ −0.58 ± 0.09, > 4000×", "probe_windows.csv"),
    Rule("P16", "steady-state hierarchy",
         "mean over probed windows of Spearman(d_j, √(WΓ_j/(h_j+ω))) > 0.5",
         {"min_rho": 0.5}, "-", "probes.csv"),
)

RULE_BY_ID = {r.id: r for r in RULES}


@dataclass(frozen=True)
class PredictionResult:
    """One prediction scored: the value, its interval, the verdict and why."""

    id: str
    statement: str
    rule: str
    published: str
    verdict: str
    value: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    ci_over: str = ""
    value_text: str = ""
    reason: str = ""
    runs: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN kept as NaN)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def _result(pid: str, verdict: str, est: Estimate | None = None, *, over: str = "",
            text: str = "", reason: str = "", runs: list[RunData] | tuple = (),
            **details: Any) -> PredictionResult:
    rule = RULE_BY_ID[pid]
    est = est or Estimate(math.nan, math.nan, math.nan, 0)
    names = tuple(r.name if isinstance(r, RunData) else str(r) for r in runs)
    return PredictionResult(
        id=pid, statement=rule.statement, rule=rule.rule, published=rule.published,
        verdict=verdict, value=est.value, ci_low=est.low, ci_high=est.high, ci_over=over,
        value_text=text or est.text(), reason=reason, runs=names, details=_plain(details),
    )


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _missing(pid: str, reason: str, runs: list[RunData] | tuple = ()) -> PredictionResult:
    return _result(pid, NOT_MEASURABLE, reason=reason, runs=runs)


def _p(pid: str, key: str) -> float:
    return RULE_BY_ID[pid].params[key]


def standard(runs: list[RunData]) -> list[RunData]:
    """Runs that are neither sketched (``sketch_dim``) nor induced-forgetting
    (``forget_step``): the ones every prediction but P12 (c) and P14 reads."""
    return [r for r in runs if r.get("sketch_dim") is None and r.get("forget_step") is None]


def _trained(runs: list[RunData]) -> list[RunData]:
    return [r for r in runs if not r.external]


def _with(runs: list[RunData], attr: str) -> list[RunData]:
    return [r for r in runs if getattr(r, attr) is not None and len(getattr(r, attr))]


def _mode(values: np.ndarray) -> int:
    values = np.asarray(values, dtype=np.int64)
    counts = np.bincount(values)
    return int(np.argmax(counts))


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
        return math.nan
    return float(stats.spearmanr(a[ok], b[ok]).statistic)


def _quantiles(boots: list[float]) -> tuple[float, float]:
    """2.5% and 97.5% quantiles of bootstrap ratios (inf allowed: no interpolation)."""
    q = np.quantile(np.asarray(boots, float), [0.025, 0.975], method="inverted_cdf")
    return float(q[0]), float(q[1])


def _grok(run: RunData, rule: str = "spec") -> int | None:
    return grok_step(run.metrics, rule)


def _wd(run: RunData) -> float:
    return float(run.get("wd", math.nan))


# --------------------------------------------------------------------------- σ-only


def p1(runs: list[RunData]) -> PredictionResult:
    """BBP vacuity: the minimum over windows (and runs) of σ_W/d_crit."""
    per_run = {}
    for r in runs:
        v = r.spectra["vacuity"].to_numpy(float) if "vacuity" in r.spectra else np.array([])
        v = v[np.isfinite(v)]
        if v.size:
            per_run[r.name] = float(v.min())
    if not per_run:
        return _missing("P1", "no window with a finite vacuity ratio (P unknown?)", runs)
    value = min(per_run.values())
    est = bootstrap_ci(list(per_run.values()), np.min)
    verdict = PASS if value > _p("P1", "min_vacuity") else FAIL
    used = [r for r in runs if r.name in per_run]
    return _result("P1", verdict, est, over="runs (min)", runs=used, per_run_min=per_run)


def p2(runs: list[RunData]) -> PredictionResult:
    """Few active modes: the largest per-run mode of k*."""
    modes = {r.name: _mode(r.spectra["kstar"].to_numpy()) for r in runs if len(r.spectra)}
    if not modes:
        return _missing("P2", "no windows", runs)
    est = bootstrap_ci(list(modes.values()), np.max)
    verdict = PASS if max(modes.values()) <= _p("P2", "max_mode") else FAIL
    return _result("P2", verdict, est, over="runs (max of per-run modes)", runs=runs,
                   text=f"max mode k* = {max(modes.values())}", per_run_mode=modes)


def p3(runs: list[RunData]) -> PredictionResult:
    """Muon against AdamW: the mode of k* pooled over the seeds of each task."""
    runs = _trained(runs)
    tasks = sorted({r.get("task") for r in runs if r.get("optimizer") == "muon"})
    pairs, used, diffs = {}, [], []
    for task in tasks:
        ks = {}
        for opt in ("muon", "adamw"):
            group = [r for r in runs if r.get("task") == task and r.get("optimizer") == opt
                     and _wd(r) > 0]
            if group:
                ks[opt] = np.concatenate([g.spectra["kstar"].to_numpy() for g in group])
                used += group
        if len(ks) == 2:
            pairs[task] = {"muon": _mode(ks["muon"]), "adamw": _mode(ks["adamw"]),
                           "mean_muon": float(ks["muon"].mean()),
                           "mean_adamw": float(ks["adamw"].mean())}
            diffs.append(ks["adamw"].mean() - ks["muon"].mean())
    if not pairs:
        return _missing("P3", "needs Muon and AdamW runs (weight decay on) of the same task",
                        runs)
    ok = all(v["muon"] < v["adamw"] for v in pairs.values())
    text = "; ".join(f"{t}: Muon {v['muon']} vs AdamW {v['adamw']}" for t, v in pairs.items())
    est = bootstrap_ci(diffs)
    return _result("P3", PASS if ok else FAIL, est, over="tasks (mean k* AdamW − Muon)",
                   text=text, runs=used, per_task=pairs)


def three_phase(R: np.ndarray, p_value: float = 0.05, min_len: int = 2) -> dict[str, Any]:
    """Best three-segment piecewise-constant fit of log R (exhaustive over breakpoints);
    ``found`` when the middle segment is above both others (Welch t-test, p < ``p_value``).

    >>> R = np.r_[np.ones(5), 3 * np.ones(5), np.ones(5)] + 0.01 * np.arange(15) % 0.03
    >>> three_phase(R)["found"]
    True
    """
    y = np.log(np.asarray(R, dtype=np.float64))
    y = y[np.isfinite(y)]
    n = y.size
    if n < 3 * min_len:
        return {"found": False, "reason": f"{n} windows"}
    csum, csq = np.r_[0, np.cumsum(y)], np.r_[0, np.cumsum(y * y)]

    def sse(a: int, b: int) -> float:
        s, q, m = csum[b] - csum[a], csq[b] - csq[a], b - a
        return q - s * s / m

    best = min(
        ((sse(0, i) + sse(i, j) + sse(j, n), i, j)
         for i in range(min_len, n - 2 * min_len + 1)
         for j in range(i + min_len, n - min_len + 1)),
    )
    _, i, j = best
    a, b, c = y[:i], y[i:j], y[j:]

    def above(x: np.ndarray, z: np.ndarray) -> float:
        if np.ptp(np.r_[x, z]) == 0:
            return 1.0
        t = stats.ttest_ind(x, z, equal_var=False, alternative="greater")
        return float(t.pvalue) if np.isfinite(t.pvalue) else (0.0 if x.mean() > z.mean() else 1.0)

    p_rise, p_fall = above(b, a), above(b, c)
    return {"found": bool(p_rise < p_value and p_fall < p_value), "breaks": [int(i), int(j)],
            "p_rise": p_rise, "p_collapse": p_fall}


def p5(runs: list[RunData]) -> PredictionResult:
    """Three phases of R and the detrended correlation of R with the validation loss."""
    runs = [r for r in _trained(runs) if r.metrics is not None and len(r.spectra) >= 6]
    if not runs:
        return _missing("P5", "needs ≥ 6 windows and metrics.csv (validation loss)")
    corrs, phases = {}, {}
    for r in runs:
        R = r.spectra["R"].to_numpy(float)
        steps = r.spectra["step"].to_numpy(float)
        loss = val_loss_at(r, steps)
        ok = np.isfinite(R) & np.isfinite(loss)
        if ok.sum() >= 4 and np.ptp(R[ok]) > 0 and np.ptp(loss[ok]) > 0:
            corrs[r.name] = abs(float(stats.pearsonr(
                signal.detrend(R[ok]), signal.detrend(loss[ok])).statistic))
        phases[r.name] = three_phase(R, _p("P5", "p_value"))
    est = bootstrap_ci(list(corrs.values()))
    frac = float(np.mean([v["found"] for v in phases.values()]))
    ok = frac >= _p("P5", "min_fraction") and est.value > _p("P5", "min_corr")
    text = f"|corr| {est.text()}; three phases in {frac:.0%} of runs"
    return _result("P5", PASS if ok else FAIL, est, over="runs", text=text, runs=runs,
                   per_run_corr=corrs, phases=phases, phase_fraction=frac)


def _alpha_groups(alpha: np.ndarray, kstar: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Per window (dom, gap, sub) means of α: modes 1..k*, k*+1..k*+2, k*+3..rank."""
    out = np.full((alpha.shape[0], 3), np.nan)
    for i, (a, k, n) in enumerate(zip(alpha, kstar, rank, strict=True)):
        if not np.all(np.isfinite(a[:n])):
            continue
        k, n = int(k), int(n)
        groups = (a[:k], a[k:min(k + 2, n)], a[k + 2:n])
        out[i] = [g.mean() if g.size else np.nan for g in groups]
    return out


def p6(runs: list[RunData]) -> PredictionResult:
    """α hierarchy, exact α (‖ΔC‖_F) and the scripts' proxy (eigenvalue-change norm)."""
    exact, proxy, used = [], [], []
    for r in runs:
        sp = r.spectra
        rank = sp["rank"].to_numpy() if "rank" in sp else np.full(len(sp), r.W)
        a = r.alpha()
        if a.size and np.isfinite(a).any():
            exact.append(_alpha_groups(a, sp["kstar"].to_numpy(), rank))
            used.append(r)
        proxy.append(_alpha_groups(alpha_proxy(r), sp["kstar"].to_numpy(), rank))
    if not exact and not proxy:
        return _missing("P6", "no windows", runs)
    det: dict[str, Any] = {}
    for name, arrays in (("exact", exact), ("proxy", proxy)):
        if not arrays:
            continue
        g = np.concatenate(arrays)
        det[name] = {k: bootstrap_ci(g[:, i]).__dict__ for i, k in enumerate(
            ("dom", "gap", "sub"))}
    if "exact" not in det:
        return _result("P6", NOT_MEASURABLE, reason="no exact α (needs the (W+1)-Grams); "
                       "the proxy is in the details", runs=runs, **det)
    e = det["exact"]
    means = [e[k]["value"] for k in ("dom", "gap", "sub")]
    if not all(np.isfinite(means)):
        return _result("P6", NOT_MEASURABLE, reason="a mode group is empty in every window "
                       "(W too small for modes ≥ k*+3?)", runs=used, **det)
    ok = means[0] > means[1] > means[2]
    text = "exact " + " > ".join(f"{k} {e[k]['value']:.3g}" for k in ("dom", "gap", "sub"))
    if "proxy" in det:
        text += "; proxy " + ", ".join(f"{k} {det['proxy'][k]['value']:.3g}"
                                       for k in ("dom", "gap", "sub"))
    est = Estimate(**e["dom"])
    return _result("P6", PASS if ok else FAIL, est, over="windows (α_dom)", text=text,
                   runs=used, **det)


def p8(runs: list[RunData]) -> PredictionResult:
    """g₂₃ declines before grokking in weight-decay runs; no-decay runs do not grok."""
    runs = [r for r in _trained(runs) if r.metrics is not None]
    wd_on = [r for r in runs if _wd(r) > 0]
    wd_off = [r for r in runs if _wd(r) == 0]
    if not wd_on or not wd_off:
        return _missing("P8", "needs runs with and without weight decay (metrics.csv)", runs)
    grokked = [r for r in wd_on if _grok(r) is not None]
    if not grokked:
        return _result("P8", FAIL, reason="no weight-decay run grokked", runs=runs,
                       text="0 weight-decay runs grokked")
    det: dict[str, Any] = {}
    for rule in ("spec", "patience"):
        for adaptive in (False, True):
            key = f"{rule}_{'adaptive' if adaptive else 'full'}"
            det[key] = {r.name: g23_decline(r, _grok(r, rule), adaptive).ratio
                        for r in grokked if _grok(r, rule) is not None}
    main = det["spec_full"]
    thr = _p("P8", "min_decline")
    n_decl = sum(v > thr for v in main.values())
    n_off_grok = sum(_grok(r) is not None for r in wd_off)
    ok = n_decl == len(main) and n_off_grok == 0 and len(grokked) == len(wd_on)
    est = bootstrap_ci(np.log(list(main.values())), np.median)
    est = Estimate(*(math.exp(x) if np.isfinite(x) else x for x in
                     (est.value, est.low, est.high)), est.n)
    text = (f"decline > {thr:g}× in {n_decl}/{len(main)} grokking wd runs "
            f"({len(grokked)}/{len(wd_on)} grokked); {n_off_grok}/{len(wd_off)} no-wd runs "
            f"grok; median decline {est.text()}")
    return _result("P8", PASS if ok else FAIL, est, over="grokking wd runs (median decline)",
                   text=text, runs=runs, declines=det,
                   grok_steps={r.name: {"spec": _grok(r), "patience": _grok(r, "patience")}
                               for r in runs})


def _window_at(run: RunData, step: int) -> int | None:
    steps = run.spectra["step"].to_numpy()
    idx = np.flatnonzero(steps <= step)
    return int(idx[-1]) if idx.size else None


def p9(runs: list[RunData]) -> PredictionResult:
    """Weighted k* in the last window at or before the grok step."""
    at = {}
    for r in _trained(runs):
        g = _grok(r)
        if g is None or "kstar_weighted" not in r.spectra:
            continue
        i = _window_at(r, g)
        if i is not None:
            at[r.name] = int(r.spectra["kstar_weighted"].iloc[i])
    if not at:
        return _missing("P9", "no grokking run with a window at or before its grok step", runs)
    ones = [float(v == 1) for v in at.values()]
    est = bootstrap_ci(ones)
    return _result("P9", PASS if all(ones) else FAIL, est, over="grokking runs (fraction)",
                   text=f"k* = 1 in {int(sum(ones))}/{len(ones)} grokking runs", runs=runs,
                   kstar_at_grok=at)


def p12(runs: list[RunData]) -> PredictionResult:
    """Adiabatic regimes: A low away from the grok step, peak near it, high when forgetting."""
    low, high, within = _p("P12", "low"), _p("P12", "high"), int(_p("P12", "within"))
    grokked = [r for r in standard(_trained(runs)) if _grok(r) is not None and "A" in r.spectra]
    if not grokked:
        return _missing("P12", "no grokking run", runs)
    away, near = [], {}
    for r in grokked:
        A = r.spectra["A"].to_numpy(float)
        gi = _window_at(r, _grok(r))
        if gi is None or not np.isfinite(A).any():
            continue
        idx = np.arange(A.size)
        far = np.abs(idx - gi) > within
        away += list(A[far & np.isfinite(A)])
        peak = int(np.nanargmax(A))
        near[r.name] = abs(peak - gi)
    if not near:
        return _missing("P12", "no finite A in a grokking run", runs)
    maxA = {}
    for r in _trained(runs):
        if _forget_step(r) is None:
            continue
        after = r.spectra.loc[r.spectra["step"] > _forget_step(r), "A"].to_numpy(float)
        if np.isfinite(after).any():  # a run not yet past its forgetting step says nothing
            maxA[r.name] = float(np.nanmax(after))
    forgetting = [r for r in _trained(runs) if r.name in maxA]
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
        return _result("P12", verdict, est, over="windows (median A)", text=text,
                       reason=reason, runs=grokked, **parts)
    part_c = all(v > high for v in maxA.values())
    text += f"; max A after forgetting {maxA}"
    ok = part_a and part_b and part_c
    return _result("P12", PASS if ok else FAIL, est, over="windows (median A)", text=text,
                   runs=grokked + forgetting, c_max_A_after_forgetting=maxA, **parts)


def _forget_step(run: RunData) -> int | None:
    """The step of an induced forgetting event (config ``forget_step``), if any."""
    v = run.get("forget_step")
    return int(v) if v is not None else None


def sketch_twins(runs: list[RunData]) -> list[tuple[RunData, RunData]]:
    """(sketched run, its exact twin) pairs: the same configuration but ``sketch_dim`` and
    the other fields of :data:`MONITOR_ONLY`."""
    exact = {_twin_key(r): r for r in _trained(runs) if r.get("sketch_dim") is None}
    return [(r, exact[_twin_key(r)]) for r in _trained(runs)
            if r.get("sketch_dim") is not None and _twin_key(r) in exact]


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
        return _missing("P14", "needs a sketched run and the same run without sketching",
                        runs)
    est = bootstrap_ci(errs)
    ratio = bootstrap_ci(ratio_errs)
    ok = est.value <= _p("P14", "max_error")
    text = f"per-σ {est.text()}; σ₂/σ₃ ratio {ratio.text()}"
    return _result("P14", PASS if ok else FAIL, est, over="windows × modes", text=text,
                   runs=used, ratio_error=ratio.__dict__, dims=dims)


#: config fields that change what is measured or where, never the training itself
MONITOR_ONLY = ("sketch_dim", "threads", "device", "keep_checkpoints_every")


def _twin_key(run: RunData) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in run.config.items()
                        if k not in MONITOR_ONLY and not k.startswith("probe_")))


# --------------------------------------------------------------------------- probes


def _probe_runs(runs: list[RunData], pid: str, what: str = "probes"
                ) -> tuple[list[RunData], PredictionResult | None]:
    have = _with(_trained(runs), what)
    if not have:
        return [], _missing(pid, f"no run has {what}.csv (train with probes on)", runs)
    return have, None


def p4(runs: list[RunData]) -> PredictionResult:
    """Krylov bound with the measured Hessian top eigenvalues."""
    have, miss = _probe_runs(runs, "P4", "probe_windows")
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
        hits += list((pw["kstar"].to_numpy(float)[have_h] <= K[have_h]).astype(float))
    est = bootstrap_ci(hits)
    if est.n == 0:
        return _missing("P4", "no probed window has Hessian eigenvalues (probe_hess_every)",
                        have)
    ok = est.value >= _p("P4", "min_fraction")
    return _result("P4", PASS if ok else FAIL, est, over="probed windows (fraction)",
                   runs=have)


def _pivot(pr: pd.DataFrame, col: str) -> pd.DataFrame:
    return pr.pivot_table(index="step", columns="mode", values=col, aggfunc="first")


def _curv(pr: pd.DataFrame) -> str:
    return "h_precond" if "h_precond" in pr and pr["h_precond"].notna().any() else "h"


def _omega(run: RunData, pr: pd.DataFrame) -> float:
    if "omega" in pr and pr["omega"].notna().any():
        return float(pr["omega"].dropna().iloc[0])
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
    Γ_j·η²(h_j+ω) instead of Γ_j (a diagnostic, see :func:`p7`)."""
    pr = run.probes
    assert pr is not None
    h = curvature or _curv(pr)
    omega = _omega(run, pr)
    stride = int(run.get("stride", 1))
    sigma_at = dict(zip(run.spectra["step"].astype(int), run.sigma(), strict=True))
    rows = []
    for s0 in sorted(pr["step"].unique()):
        a = pr[pr["step"] == s0].set_index("mode")
        k = int(a["kstar"].iloc[0])
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
        rows.append({"step": s0, "g": g0, "gdot": g1 - g0, "rhs": rhs, "dyson": D,
                     "rhs_dyson": rhs + D, "asymmetry": asym, "damping": damp,
                     "driving": drive})
    return pd.DataFrame(rows)


def p7(runs: list[RunData]) -> PredictionResult:
    """R2's right-hand side from measured terms against the observed ġ."""
    have, miss = _probe_runs(runs, "P7")
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
        return _missing("P7", "no run has 2 probed windows with modes k*, k*+1 whose next "
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
    corr_g = (float(stats.pearsonr(allf["g"], allf["gdot"]).statistic)
              if len(allf) > 2 and np.ptp(allf["g"]) > 0 and np.ptp(allf["gdot"]) > 0
              else math.nan)
    # bootstrap R² over probed window pairs
    idx = np.arange(len(allf))
    est = bootstrap_ci(idx, lambda i: r_squared(allf["gdot"].to_numpy()[i.astype(int)],
                                                allf["rhs_dyson"].to_numpy()[i.astype(int)]))
    ok = r2 >= _p("P7", "min_r2")
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
    return _result("P7", PASS if ok else FAIL, Estimate(r2, est.low, est.high, est.n),
                   over="probed window pairs", text=text, runs=have, per_run_r2=per_run,
                   r2_without_dyson=r2_nod, r2_plain_h=r2_plain_h, gdot_noise_sd=noise,
                   r2_window_units_diagnostic=r2_window,
                   corr_g_gdot=corr_g, curvature=_curv(have[0].probes),
                   median_abs_terms={c: float(allf[c].abs().median()) for c in
                                     ("gdot", "asymmetry", "damping", "driving", "dyson")},
                   n_pairs=len(allf))


def p10(runs: list[RunData]) -> PredictionResult:
    """Spearman over modes of α_j G_tr G_val against the ablation Δloss, per window."""
    have, miss = _probe_runs(runs, "P10")
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
            rhos.append(_spearman(pred, grp["abl_dloss"].to_numpy(float)))
    est = bootstrap_ci(rhos)
    if est.n == 0:
        return _missing("P10", "no probed window with ≥ 3 modes and a matching α", have)
    return _result("P10", PASS if est.value > _p("P10", "min_rho") else FAIL, est,
                   over="probed windows", runs=have)


def p11(runs: list[RunData]) -> PredictionResult:
    """Mixing across k* against mixing within a block."""
    have, miss = _probe_runs(runs, "P11")
    if miss:
        return miss
    pr = pd.concat([r.probes for r in have], ignore_index=True)
    if "mix_pair" not in pr:
        return _missing("P11", "probes.csv has no mix_pair column", have)
    across = pr.loc[pr["mix_pair"] == "across", "mix_dloss"].abs().to_numpy(float)
    within = pr.loc[pr["mix_pair"].isin(["dominant", "bulk"]), "mix_dloss"].abs().to_numpy(float)
    across, within = across[np.isfinite(across)], within[np.isfinite(within)]
    if not across.size or not within.size:
        return _missing("P11", "needs both across-k* and within-block mixing rows", have)
    ratio = float(across.mean() / within.mean()) if within.mean() > 0 else math.inf
    rng = np.random.default_rng(0)
    boots = [rng.choice(across, across.size).mean() / max(rng.choice(within, within.size).mean(),
                                                           1e-300) for _ in range(2000)]
    est = Estimate(ratio, *_quantiles(boots), int(across.size + within.size))
    return _result("P11", PASS if ratio >= _p("P11", "min_ratio") else FAIL, est,
                   over="mixing rows", runs=have, n_across=int(across.size),
                   n_within=int(within.size))


def lifecycle_runs(runs: list[RunData]) -> list[tuple[RunData, int]]:
    """P13's runs: (run, grok step) for every run with probes and weight decay > 0 that
    grokked (the spec's rule)."""
    return [(r, g) for r in _with(_trained(runs), "probes")
            if _wd(r) > 0 and (g := _grok(r)) is not None]


def p13(runs: list[RunData]) -> PredictionResult:
    """Gradient energy fraction on v_1 before and after the grok step (weight-decay runs)."""
    have, miss = _probe_runs(runs, "P13")
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
        return _missing("P13", "needs probed windows before and after grokking in a wd run",
                        have)
    ok = b.value > _p("P13", "before") and a.value < _p("P13", "after")
    return _result("P13", PASS if ok else FAIL, b, over="probed windows (before)",
                   text=f"before {b.text()}, after {a.text()}", runs=used,
                   after=a.__dict__)


def p15(runs: list[RunData]) -> PredictionResult:
    """Edge-block ablation against random directions of the same norm."""
    have, miss = _probe_runs(runs, "P15", "probe_windows")
    if miss:
        return miss
    pw = pd.concat([r.probe_windows for r in have], ignore_index=True)
    edge = pw["abl_edge_dacc"].abs().to_numpy(float)
    rand = pw["abl_rand_dacc_mean"].abs().to_numpy(float)
    ok_rows = np.isfinite(edge) & np.isfinite(rand)
    edge, rand = edge[ok_rows], rand[ok_rows]
    if not edge.size:
        return _missing("P15", "no finite ablation rows", have)
    ratio = float(edge.mean() / rand.mean()) if rand.mean() > 0 else math.inf
    rng = np.random.default_rng(0)
    boots = []
    for _ in range(2000):
        i = rng.integers(0, edge.size, edge.size)
        den = rand[i].mean()
        boots.append(edge[i].mean() / den if den > 0 else math.inf)
    est = Estimate(ratio, *_quantiles(boots), int(edge.size))
    mean_edge = float(pw["abl_edge_dacc"].mean())
    text = f"ratio {est.text()}; mean Δacc(edge) {mean_edge:.3g}"
    return _result("P15", PASS if ratio >= _p("P15", "min_ratio") else FAIL, est,
                   over="probed windows", text=text, runs=have, mean_edge_dacc=mean_edge)


def steady_state_terms(run: RunData, curvature: str | None = None) -> pd.DataFrame:
    """Per probe row (step, mode): the measured σ_j and R1's steady state
    √(WΓ_j/(h_j+ω)) from the measured Γ_j, h_j (``curvature``: the probes column read as h,
    default as in :func:`gap_flow_terms`) and ω; NaN where h_j+ω ≤ 0."""
    pr = run.probes
    assert pr is not None
    den = pr[curvature or _curv(pr)].to_numpy(float) + _omega(run, pr)
    with np.errstate(divide="ignore", invalid="ignore"):
        steady = np.sqrt(run.W * pr["Gamma"].to_numpy(float) / den)
    steady[den <= 0] = np.nan
    return pd.DataFrame({"step": pr["step"].to_numpy(), "mode": pr["mode"].to_numpy(),
                         "sigma": pr["sigma"].to_numpy(float), "steady": steady})


def p16(runs: list[RunData]) -> PredictionResult:
    """Spearman over modes of d_j against the R1 steady state √(WΓ_j/(h_j+ω))."""
    have, miss = _probe_runs(runs, "P16")
    if miss:
        return miss
    rhos, rhos_h, rhos_u = [], [], []
    for r in have:
        for _, grp in r.probes.groupby("step"):
            # diagnostic (not scored): with Γ in window units the steady state is √W·η|u_j|
            rhos_u.append(_spearman(grp["sigma"].to_numpy(float),
                                    np.sqrt(grp["Gamma"].to_numpy(float))))
        for col, out in ((None, rhos), ("h", rhos_h)):
            for _, grp in steady_state_terms(r, col).groupby("step"):
                out.append(_spearman(grp["sigma"].to_numpy(float),
                                     grp["steady"].to_numpy(float)))
    est = bootstrap_ci(rhos)
    if est.n == 0:
        return _missing("P16", "no probed window with ≥ 3 modes", have)
    alt, by_u = bootstrap_ci(rhos_h), bootstrap_ci(rhos_u)
    return _result("P16", PASS if est.value > _p("P16", "min_rho") else FAIL, est,
                   over="probed windows", runs=have, rho_plain_h=alt.value,
                   rho_window_units_diagnostic=by_u.value,
                   text=f"ρ {est.text()} (h = {_curv(have[0].probes)}; with plain h "
                        f"{alt.text()}; diagnostic (not scored), Γ in window units, i.e. "
                        f"Spearman(d_j, |u_j|): {by_u.text()})")


PREDICTIONS: dict[str, Callable[[list[RunData]], PredictionResult]] = {
    "P1": p1, "P2": p2, "P3": p3, "P4": p4, "P5": p5, "P6": p6, "P7": p7, "P8": p8,
    "P9": p9, "P10": p10, "P11": p11, "P12": p12, "P13": p13, "P14": p14, "P15": p15,
    "P16": p16,
}
"""Prediction id -> its scoring function."""

SIGMA_ONLY = ("P1", "P2", "P5", "P6")
"""Predictions measurable from σ per window alone (an external spectra file)."""


def evaluate(runs: list[RunData], ids: tuple[str, ...] | None = None
             ) -> list[PredictionResult]:
    """Score every prediction (or ``ids``) on ``runs``; a prediction whose inputs are
    malformed is ``not measurable`` with the error as the reason. Sketched and
    induced-forgetting runs are read by P14 and P12 only (:func:`standard`)."""
    out = []
    for pid in ids or tuple(PREDICTIONS):
        if pid not in PREDICTIONS:
            raise InputError(f"unknown prediction id {pid!r}; use P1..P16")
        if not runs:
            out.append(_missing(pid, "no runs"))
            continue
        chosen = runs if pid in ("P12", "P14") else standard(runs)
        if not chosen:
            out.append(_missing(pid, "only sketched or induced-forgetting runs", runs))
            continue
        try:
            out.append(PREDICTIONS[pid](chosen))
        except (KeyError, ValueError, IndexError) as err:
            out.append(_missing(pid, f"inputs unusable: {type(err).__name__}: {err}", runs))
    return out


def rules_markdown() -> str:
    """The rule table as Markdown (docs/predictions.md and the scorecard print it).

    >>> rules_markdown().splitlines()[0]
    '| id | prediction | pass rule | published | measured from |'
    """
    lines = ["| id | prediction | pass rule | published | measured from |",
             "|---|---|---|---|---|"]
    lines += [f"| {r.id} | {r.statement} | {r.rule} | {r.published} | {r.needs} |"
              for r in RULES]
    return "\n".join(lines)
