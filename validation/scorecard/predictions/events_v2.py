"""Version-2 checks of the events of training: P5, P8, P9, P12, P13, P15.

Each is a :func:`~spectral_edge.validation.scorecard.predictions.checks.check` with the
version-2 rule of :data:`~spectral_edge.validation.scorecard.predictions.rules.RULES`; the
surrogates are :mod:`.event_surrogates`. The grok step is the spec's (first evaluation with
test accuracy ≥ 0.95) and "the window at the grok step" the last window ending at or
before it (:func:`~spectral_edge.validation.scorecard.predictions.base.window_at`).

* P5 — three-phase segments of R and the detrended |corr(R, test loss)| (version 1's).
* P8 — g₂₃ peak before the grok step over g₂₃ at it, in every grokking weight-decay run;
  no run without weight decay groks.
* P9 — weighted k* in the window at the grok step.
* P12 — on A_dk: the median away (> 2 windows) from the grok step, the peak's offset
  from the grok window (and from the midpoint of the accuracy rise), max after an induced
  forgetting step; A and A* = A_dk/(η_eff(h̄+ω)) reported.
* P13 — Dyck/SCAN weight-decay runs: mode 1's gradient energy fraction in the probed
  windows before the grok step and in the last probed window at or before it.
* P15 — at and after the grok step: Δacc of removing the edge block against the published
  −0.58 ± 0.09 and against random planes (a random effect of 0 counted at 1/n_test).

>>> [f([]).passed for f in (p5_v2, p8_v2, p9_v2, p12_v2, p13_v2, p15_v2)]
[None, None, None, None, None, None]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import signal, stats

from spectral_edge.numerics.bootstrap import Estimate, bootstrap_ci, ratio_ci
from spectral_edge.numerics.columns import KSTAR_WEIGHTED
from spectral_edge.validation.runs.rundir import dense_base
from spectral_edge.validation.scorecard.analysis import val_loss_at
from spectral_edge.validation.scorecard.predictions.base import (
    dense_by_original,
    forget_step,
    grok,
    standard,
    trained,
    wd_of,
    window_at,
)
from spectral_edge.validation.scorecard.predictions.checks import Outcome, check
from spectral_edge.validation.scorecard.predictions.event_surrogates import (
    LIFECYCLE_TASKS,
    p5_maker,
    p8_maker,
    p9_maker,
    p12_maker,
    p13_maker,
    p15_maker,
    probe_test_size,
)
from spectral_edge.validation.scorecard.predictions.rules import RULE_BY_ID
from spectral_edge.validation.scorecard.predictions.stats import three_phase
from spectral_edge.validation.scorecard.predictions.terms import (
    curvature_column,
    decline_table,
    kstar_at_grok,
)
from spectral_edge.validation.scorecard.rundata import RunData


def _param(pid: str, key: str) -> float:
    return RULE_BY_ID[pid].params[key]


def _names(runs: list[RunData]) -> tuple[str, ...]:
    return tuple(r.name for r in runs)


# --------------------------------------------------------------------------- P5


@check("P5", theory_true=p5_maker(False), theory_false=p5_maker(True),
       violation="constant_injection")
def p5_v2(runs: list[RunData]) -> Outcome:
    """Three phases of R in ≥ half the runs and mean detrended |corr(R, test loss)| > 0.3.

    Args:
        runs: The runs (those with metrics.csv and ≥ 6 windows are read).

    Returns:
        The outcome; the estimate is the mean |corr| over runs.
    """
    runs = [r for r in trained(runs) if r.metrics is not None and len(r.spectra) >= 6]
    if not runs:
        return Outcome(None, reason="needs ≥ 6 windows and metrics.csv (validation loss)")
    corrs, phases = {}, {}
    for r in runs:
        R = r.spectra["R"].to_numpy(float)
        loss = val_loss_at(r, r.spectra["step"].to_numpy(float))
        ok = np.isfinite(R) & np.isfinite(loss)
        if ok.sum() >= 4 and np.ptp(R[ok]) > 0 and np.ptp(loss[ok]) > 0:
            corrs[r.name] = abs(float(stats.pearsonr(
                signal.detrend(R[ok]), signal.detrend(loss[ok])).statistic))
        phases[r.name] = three_phase(R, _param("P5", "p_value"))
    if not corrs:
        return Outcome(None, reason="no run with a varying R and test loss", runs=_names(runs))
    est = bootstrap_ci(list(corrs.values()))
    frac = float(np.mean([v["found"] for v in phases.values()]))
    ok = frac >= _param("P5", "min_fraction") and est.value > _param("P5", "min_corr")
    return Outcome(bool(ok), est, "runs (mean |corr|)",
                   f"|corr| {est.text()}; three phases in {frac:.0%} of runs",
                   runs=_names(runs), details={"per_run_corr": corrs, "phases": phases,
                                               "phase_fraction": frac})


# --------------------------------------------------------------------------- P8


@check("P8", theory_true=p8_maker(False), theory_false=p8_maker(True),
       violation="decline_after_grok_or_no_decay_groks", all_runs=True)
def p8_v2(runs: list[RunData]) -> Outcome:
    """g₂₃ declines > 1.5× by the grok step in every weight-decay run that groks (at least
    ``min_grokked`` of them; the others are reported) and no run without weight decay
    groks. A run needs ``min_windows`` full windows ending at or before its grok step;
    one that groks earlier is scored on its dense re-run, or reported.

    Args:
        runs: The runs (trained, with metrics.csv); dense re-runs are read in their
            original's place, sketched and forgetting runs are not read.

    Returns:
        The outcome; the estimate is the median decline (spec grok rule, full windows).
    """
    dense = dense_by_original(runs)
    runs = [r for r in trained(standard(runs)) if r.metrics is not None]
    wd_on = [r for r in runs if wd_of(r) > 0]
    wd_off = [r for r in runs if wd_of(r) == 0]
    if not wd_on or not wd_off:
        return Outcome(None, reason="needs runs with and without weight decay (metrics.csv)",
                       runs=_names(runs))
    grokked = [r for r in wd_on if grok(r) is not None]
    n_off = sum(grok(r) is not None for r in wd_off)
    grok_steps = {r.name: {"spec": grok(r), "patience": grok(r, "patience")} for r in runs}
    scored, too_early = _resolved(grokked, dense, int(_param("P8", "min_windows")))
    details: dict[str, Any] = {"grok_steps": grok_steps, "too_early": too_early}
    if len(scored) < _param("P8", "min_grokked"):
        return Outcome(None, reason=f"{len(scored)} of {len(wd_on)} weight-decay runs grokked "
                       f"with two windows before it (the rule needs "
                       f"{_param('P8', 'min_grokked'):g})", runs=_names(runs), details=details)
    det = decline_table(scored)
    main = det["spec_full"]
    thr = _param("P8", "min_decline")
    n_decl = sum(v > thr for v in main.values())
    ok = n_decl == len(main) and n_off == 0
    logs = np.log(np.clip(list(main.values()), 1e-300, None))
    est = bootstrap_ci(logs, np.median)
    est = Estimate(*(math.exp(x) if np.isfinite(x) else x
                     for x in (est.value, est.low, est.high)), est.n)
    n_dense = sum(dense_base(r.name) is not None for r in scored)
    text = (f"decline > {thr:g}× in {n_decl}/{len(main)} grokking wd runs "
            f"({len(grokked)}/{len(wd_on)} grokked"
            + (f"; {n_dense} scored on a dense re-run" if n_dense else "")
            + (f"; {len(too_early)} too early to score" if too_early else "")
            + f"); {n_off}/{len(wd_off)} no-wd runs grok; median decline {est.text()}")
    return Outcome(bool(ok), est, "grokking wd runs (median decline)", text,
                   runs=_names(runs), details=details | {"declines": det})


def _resolved(grokked: list[RunData], dense: dict[str, RunData], need: int
              ) -> tuple[list[RunData], dict[str, str]]:
    """P8's scored runs: each grokking run with ``need`` full windows ending at or before
    its grok step, else its dense re-run when that has them; the rest, with why."""
    def windows(r: RunData) -> int:
        g = grok(r)
        return 0 if g is None else int((r.spectra["step"].to_numpy() <= g).sum())

    scored, too_early = [], {}
    for r in grokked:
        d = dense.get(r.name)
        if windows(r) >= need:
            scored.append(r)
        elif d is not None and d.metrics is not None and windows(d) >= need:
            scored.append(d)
        else:
            too_early[r.name] = (f"{windows(r)} window(s) end at or before the grok step "
                                 f"{grok(r)}" + ("" if d is None else
                                                 f"; its dense re-run has {windows(d)}"))
    return scored, too_early


# --------------------------------------------------------------------------- P9


@check("P9", theory_true=p9_maker(False), theory_false=p9_maker(True),
       violation="two_dominant_modes_at_grok")
def p9_v2(runs: list[RunData]) -> Outcome:
    """Weighted k* = 1 in the window at the grok step, in every grokking run.

    Args:
        runs: The runs.

    Returns:
        The outcome; the estimate is the fraction of grokking runs with k* = 1.
    """
    at = kstar_at_grok(runs)
    if not at:
        return Outcome(None, reason="no grokking run with a window at or before its grok step")
    ones = [float(v == 1) for v in at.values()]
    est = bootstrap_ci(ones)
    return Outcome(all(ones), est, "grokking runs (fraction)",
                   f"k* = 1 in {int(sum(ones))}/{len(ones)} grokking runs",
                   runs=tuple(at), details={"kstar_at_grok": at})


# --------------------------------------------------------------------------- P12


def rise_midpoint(metrics: pd.DataFrame) -> int | None:
    """The first evaluation whose test accuracy reaches halfway between its first value
    and its maximum (None without a rise).

    Args:
        metrics: metrics.csv rows (``step``, ``test_acc``).

    Returns:
        The step, or None.

    >>> rise_midpoint(pd.DataFrame({"step": [0, 100, 200], "test_acc": [0.0, 0.4, 1.0]}))
    200
    """
    if metrics is None or "test_acc" not in metrics or not len(metrics):
        return None
    acc = metrics["test_acc"].to_numpy(float)
    half = acc[0] + (np.nanmax(acc) - acc[0]) / 2
    hits = np.flatnonzero(acc >= half)
    return int(metrics["step"].iloc[hits[0]]) if hits.size and np.nanmax(acc) > acc[0] else None


def a_star(run: RunData) -> float:
    """Median over probed windows of A* = A_dk/(η_eff(h̄+ω)), h̄ the mean probed curvature
    of modes k* and k*+1 (NaN without probes or A_dk).

    Args:
        run: A run.

    Returns:
        The median A*.
    """
    pr = run.probes
    if pr is None or not len(pr) or "A_dk" not in run.spectra or not math.isfinite(run.eta_eff):
        return math.nan
    col, omega = curvature_column(pr), wd_of(run) if math.isfinite(wd_of(run)) else 0.0
    adk = dict(zip(run.spectra["step"].to_numpy(int), run.spectra["A_dk"].to_numpy(float),
                   strict=True))
    vals = []
    for step, grp in pr.groupby("step"):
        k = int(grp[KSTAR_WEIGHTED].iloc[0])
        h = grp.loc[grp["mode"].isin([k, k + 1]), col].to_numpy(float)
        if h.size and int(step) in adk:
            vals.append(adk[int(step)] / (run.eta_eff * (float(np.mean(h)) + omega)))
    return float(np.nanmedian(vals)) if np.isfinite(vals).any() else math.nan


@check("P12", theory_true=p12_maker(False), theory_false=p12_maker(True),
       violation="rotation_away_from_grok", all_runs=True)
def p12_v2(runs: list[RunData]) -> Outcome:
    """A_dk: low away from the grok step, peaking at it, high after induced forgetting.

    Without an induced-forgetting run past its forgetting step the outcome is None (not
    measurable) when parts (a) and (b) pass and False when either fails.

    Args:
        runs: All runs (sketched ones are left out; forgetting runs give part c).

    Returns:
        The outcome; the estimate is the median A_dk away from the grok step.
    """
    low, high = _param("P12", "low"), _param("P12", "high")
    within = int(_param("P12", "within"))
    away: list[float] = []
    near, mid, extra = {}, {}, {}
    for r in standard(trained(runs)):
        g = grok(r)
        if g is None or "A_dk" not in r.spectra:
            continue
        adk = r.spectra["A_dk"].to_numpy(float)
        gi = window_at(r, g)
        if gi is None or not np.isfinite(adk).any():
            continue
        idx = np.arange(adk.size)
        away += list(adk[(np.abs(idx - gi) > within) & np.isfinite(adk)])
        peak = int(np.nanargmax(adk))
        near[r.name] = peak - gi
        m = rise_midpoint(r.metrics)
        mi = window_at(r, m) if m is not None else None
        mid[r.name] = peak - mi if mi is not None else None
        extra[r.name] = {"median_A": float(np.nanmedian(r.spectra["A"])) if "A" in r.spectra
                         else math.nan, "median_A_star": a_star(r)}
    if not near:
        return Outcome(None, reason="no grokking run with a finite A_dk")
    max_after = {}
    for r in trained(runs):
        fs = forget_step(r)
        if fs is None or "A_dk" not in r.spectra:
            continue
        after = r.spectra.loc[r.spectra["step"] > fs, "A_dk"].to_numpy(float)
        if np.isfinite(after).any():
            max_after[r.name] = float(np.nanmax(after))
    est = bootstrap_ci(away, np.median)
    part_a = bool(est.value < low)
    part_b = all(abs(d) <= within for d in near.values())
    text = (f"median A_dk away from grok {est.text()}; peak within ±{within} windows in "
            f"{sum(abs(d) <= within for d in near.values())}/{len(near)} runs")
    details = {"a_median_A_dk_away": est.value, "b_peak_offset_windows": near,
               "b_offset_from_rise_midpoint_windows": mid, "A_and_A_star": extra,
               "c_max_A_dk_after_forgetting": max_after}
    names = tuple(near) + tuple(max_after)
    if not max_after:
        ab = part_a and part_b
        return Outcome(None if ab else False, est, "windows (median A_dk)", text,
                       reason="no induced-forgetting run past its forgetting step (part c); "
                              f"parts a and b {'pass' if ab else 'fail'}",
                       runs=names, details=details)
    part_c = all(v > high for v in max_after.values())
    text += "; max A_dk after forgetting " + ", ".join(f"{v:.3g}" for v in max_after.values())
    return Outcome(part_a and part_b and part_c, est, "windows (median A_dk)", text,
                   runs=names, details=details)


# --------------------------------------------------------------------------- P13


def _lifecycle(run: RunData, g: int) -> dict[str, Any] | None:
    m1 = run.probes[run.probes["mode"] == 1]
    steps = m1["step"].to_numpy(int)
    frac = m1["grad_energy_frac"].to_numpy(float)
    if not (steps <= g).any():
        return None
    at = int(steps[steps <= g].max())
    before = frac[steps < at]
    return {"at_step": at, "grok_step": g, "before": float(np.nanmean(before))
            if np.isfinite(before).any() else math.nan,
            "at": float(np.nanmean(frac[steps == at])), "n_before": int(before.size)}


@check("P13", theory_true=p13_maker(False), theory_false=p13_maker(True),
       violation="gradient_driven_through_grokking")
def p13_v2(runs: list[RunData]) -> Outcome:
    """Mode 1's gradient energy fraction > 0.8 before and < 0.2 at the grok step
    (Dyck/SCAN weight-decay runs; modular runs reported only).

    "At the grok step" is the last probed window ending at or before it; "before" every
    probed window before that one (their mean, pooled over runs).

    Args:
        runs: The runs.

    Returns:
        The outcome; the estimate is the fraction at the grok step (mean over runs).
    """
    per_run: dict[str, dict[str, Any]] = {}
    scored: list[str] = []
    for r in trained(runs):
        g = grok(r)
        if r.probes is None or not len(r.probes) or wd_of(r) <= 0 or g is None:
            continue
        if "grad_energy_frac" not in r.probes:
            continue
        life = _lifecycle(r, g)
        if life is None:
            continue
        life["task"] = str(r.get("task"))
        per_run[r.name] = life
        if life["task"] in LIFECYCLE_TASKS and life["n_before"] > 0:
            scored.append(r.name)
    details = {"per_run": per_run, "window_at_grok": "the last probed window ending at or "
               "before the grok step", "scored": scored}
    if not scored:
        return Outcome(None, reason="no Dyck/SCAN weight-decay run with probed windows before "
                       "and at its grok step (modular runs are reported, not scored)",
                       runs=tuple(per_run), details=details)
    before = bootstrap_ci([per_run[n]["before"] for n in scored])
    at = bootstrap_ci([per_run[n]["at"] for n in scored])
    ok = before.value > _param("P13", "before") and at.value < _param("P13", "after")
    return Outcome(bool(ok), at, "Dyck/SCAN wd runs (fraction at grok)",
                   f"before {before.text()} → at grok {at.text()} ({len(scored)} runs)",
                   runs=tuple(scored), details=details | {"before": before.__dict__})


# --------------------------------------------------------------------------- P15


def _edge_rows(run: RunData) -> tuple[pd.DataFrame, str] | None:
    """The run's probe_windows rows at and after the window at the grok step, with the
    edge-block Δacc in ``edge`` and which column it came from."""
    g, pw = grok(run), run.probe_windows
    gi = window_at(run, g) if g is not None else None
    if gi is None or pw is None or not len(pw):
        return None
    rows = pw[pw["step"] >= int(run.spectra["step"].iloc[gi])].copy()
    if not len(rows):
        return None
    top2 = (rows["abl_top2_dacc"].to_numpy(float) if "abl_top2_dacc" in rows
            else np.full(len(rows), math.nan))
    if np.isfinite(top2).all():
        rows["edge"] = top2
        return rows, "v₁+v₂ (abl_top2_dacc)"
    mode1 = {}
    if run.probes is not None and "abl_dacc" in run.probes:
        p1 = run.probes[run.probes["mode"] == 1]
        mode1 = dict(zip(p1["step"].to_numpy(int), p1["abl_dacc"].to_numpy(float),
                         strict=True))
    k = rows[KSTAR_WEIGHTED].to_numpy(int)
    v1 = np.array([mode1.get(int(s), math.nan) for s in rows["step"]])
    old = np.where(k >= 2, rows["abl_edge_dacc"].to_numpy(float), v1)
    rows["edge"] = np.where(np.isfinite(top2), top2, old)
    rest = ~np.isfinite(top2)
    how = ("the edge v₁..v_k* (abl_edge_dacc, k* ≥ 2)" if (k[rest] >= 2).all() else
           "v₁ only — the v₁+v₂ block was not probed" if (k[rest] < 2).all() else
           "abl_edge_dacc where k* ≥ 2, else v₁ only — the v₁+v₂ block was not probed")
    if np.isfinite(top2).any():
        how = f"v₁+v₂ (abl_top2_dacc) in {int(np.isfinite(top2).sum())} rows; the others: {how}"
    return rows, how


@check("P15", theory_true=p15_maker(False), theory_false=p15_maker(True),
       violation="drop_spread_evenly")
def p15_v2(runs: list[RunData]) -> Outcome:
    """At and after grokking: the mean Δacc of removing v₁+v₂ against −0.58 ± 0.09, and
    its mean |Δacc| ≥ 100× that of random planes (0 counted at 1/n_test).

    Args:
        runs: The runs.

    Returns:
        The outcome; the estimate is the mean Δacc of the edge block.
    """
    edge, rand, used, how, zeros, res = [], [], [], {}, 0, {}
    for r in trained(runs):
        got = _edge_rows(r)
        n = probe_test_size(r)
        if got is None or n is None:
            continue
        rows, how[r.name] = got
        e = rows["edge"].to_numpy(float)
        x = rows["abl_rand_dacc_mean"].to_numpy(float)
        ok = np.isfinite(e) & np.isfinite(x)
        zeros += int((x[ok] == 0).sum())
        edge += list(e[ok])
        rand += list(np.where(x[ok] == 0, 1.0 / n, np.abs(x[ok])))
        res[r.name] = n
        used.append(r.name)
    if not edge:
        return Outcome(None, reason="no probed window at or after the grok step with edge and "
                       "random ablations (and a known probe_batch)")
    est = bootstrap_ci(edge)
    pub, sd = _param("P15", "published"), _param("P15", "published_sd")
    overlap = est.low <= pub + sd and est.high >= pub - sd if est.n > 1 else \
        abs(est.value - pub) <= sd
    ratio = ratio_ci(np.abs(edge), np.asarray(rand), paired=True)
    ok = bool(overlap and ratio.value >= _param("P15", "min_ratio"))
    text = (f"mean Δacc(edge) {est.text()} vs published {pub:g} ± {sd:g}; "
            f"|edge|/|random| {ratio.text()}; edge block: {'; '.join(sorted(set(how.values())))}")
    if zeros:
        text += f" ({zeros} random effects 0 at resolution 1/n_test, n_test = " \
                f"{', '.join(str(v) for v in sorted(set(res.values())))})"
    return Outcome(ok, est, "probed windows at/after grok (mean Δacc)", text,
                   runs=tuple(used), details={"edge_block": how, "ratio": ratio.__dict__,
                                              "n_test": res, "random_zero_rows": zeros,
                                              "overlaps_published": bool(overlap)})
