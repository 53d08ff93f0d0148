"""Generate ``docs/numerics.md``: every cross-check of :mod:`spectral_edge.numerics.crosscheck`,
with numbers.

``spectral-edge simulate --crosscheck docs/numerics.md`` calls :func:`write_report`;
``--quick`` runs the same experiments at test sizes (minutes become seconds, numbers get
noisier). Disagreements are listed, never hidden: each judged check says its rule, and every
conclusion in the prose is chosen by the numbers it states (a sentence that says "the count
falls as dt decreases" is only written when it does).

>>> text = render(CrossChecks.run(quick=True, only=("r11",)))
>>> "R11" in text and "k* ≤ K+1" in text
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from spectral_edge.common.atomic import write_text
from spectral_edge.common.errors import InputError
from spectral_edge.common.outfile import check_output_file
from spectral_edge.numerics import crosscheck as cc
from spectral_edge.numerics.bbp import BBPResult
from spectral_edge.numerics.krylov import KrylovResult

SECTIONS: tuple[str, ...] = tuple(cc.EXPERIMENTS)


@dataclass(frozen=True)
class CrossChecks:
    """The results of one run of the cross-checks (``None`` for a section not run)."""

    quick: bool
    r1: cc.R1Check | None = None
    r2: cc.R2Check | None = None
    r3: cc.R3Check | None = None
    drift: cc.DriftCheck | None = None
    r10: tuple[BBPResult, ...] | None = None
    r11: KrylovResult | None = None
    fit: cc.FitRecovery | None = None

    @classmethod
    def run(cls, quick: bool = False, only: tuple[str, ...] = SECTIONS) -> CrossChecks:
        """Run the selected sections at full (default) or quick size (the sizes next to each
        experiment in :mod:`spectral_edge.numerics.crosscheck`)."""
        unknown = set(only) - set(SECTIONS)
        if unknown:
            raise InputError(f"unknown cross-check sections {sorted(unknown)}; use {SECTIONS}")
        out: dict = {"quick": quick}
        for name in SECTIONS:
            if name in only:
                experiment, quick_sizes = cc.EXPERIMENTS[name]
                out[name] = experiment(**(quick_sizes if quick else {}))
        return cls(**out)

    @property
    def judged(self) -> tuple[cc.CheckResult, ...]:
        """Every judged check of the sections that ran, in report order."""
        return tuple(
            check
            for result in (self.r1, self.r2, self.r3, self.drift)
            if result is not None
            for check in result.judged
        )

    @property
    def failures(self) -> list[str]:
        """Names of the judged checks that failed."""
        return [check.name for check in self.judged if not check.passed]


def _f(x: float, digits: int = 3) -> str:
    return "nan" if not np.isfinite(x) else f"{x:.{digits}g}"


def _verdict(ok: bool) -> str:
    return "**pass**" if ok else "**FAIL**"


def _judged_lines(checks: tuple[cc.CheckResult, ...]) -> list[str]:
    """One bullet per judged check: its rule with the numbers and the verdict."""
    return [f"* {c.name} — {c.describe()}: {_verdict(c.passed)}" for c in checks]


def _r1(r: cc.R1Check) -> list[str]:
    lines = [
        "## R1 — steady state d_j*² = WΓ_j/(h_j+ω)",
        "",
        f"GD with gradient injection, η = {r.eta}, ω = {r.omega}, W = {r.W}, "
        f"{r.replicas} replicas, time average after burn-in. Theory from "
        "`theory.lambdified.signal_steady_state`. Rule: |mode/theory − 1| ≤ η(h+ω)/2 + 4·SE/d*² "
        "(first-order discretisation bias of the discrete process + Monte-Carlo error).",
        "",
        "| mode | h | Γ | theory d*² | mode energy (± SE) | ratio | tolerance | verdict "
        "| Gram σ² | Gram/theory |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for j, check in enumerate(r.judged):
        lines.append(
            f"| {j + 1} | {r.h[j]} | {r.Gamma[j]} | {_f(r.theory[j], 4)} | "
            f"{_f(r.mode_mean[j], 4)} ± {_f(r.mode_se[j], 2)} | {_f(r.mode_ratio[j])} | "
            f"{_f(r.tolerance[j], 2)} | {_verdict(check.passed)} | {_f(r.gram_mean[j], 4)} | "
            f"{_f(r.gram_ratio[j])} |"
        )
    held = sum(check.passed for check in r.judged)
    lines += [
        "",
        f"{held} of {len(r.judged)} mode energies within their tolerance. Exact identity "
        f"Σσ² = Σ mode energies (no noise): max relative error {_f(r.trace_error, 2)}. "
        f"k* (weighted) of the mean spectra: theory {r.kstar_theory}, mode energies "
        f"{r.kstar_mode}, Gram {r.kstar_gram}.",
        "",
    ]
    gram_off = np.abs(r.gram_ratio - 1) > r.tolerance
    ratios = ", ".join(_f(x) for x in r.gram_ratio)
    if not gram_off.any():
        lines += [
            f"The Gram σ_j² agree with the theory within the same tolerances (Gram/theory = "
            f"{ratios}): at these settings the monitor's levels are the mode energies.",
            "",
        ]
        return lines
    off = [str(j + 1) for j in np.flatnonzero(gram_off)]
    text = (
        f"**Disagreement.** The Gram singular values are *not* the per-mode energies: "
        f"Gram/theory = {ratios} (outside the tolerance for mode{'s' if len(off) > 1 else ''} "
        f"{', '.join(off)}). "
    )
    slow = 1 / (r.eta * (r.h + r.omega))
    if r.gram_ratio[0] > 1 and np.all(r.gram_ratio[1:] < 1):
        text += (
            "The top Gram level holds more than the top mode's energy and every lower level "
            "less: "
            + ("with correlation times 1/(η(h+ω)) longer than W (here "
               f"{_f(float(slow.min()))}–{_f(float(slow.max()))} snapshots against "
               f"W = {r.W}), the modes' temporal profiles inside one window overlap and the "
               "top level absorbs their shared slow component. "
               if slow.min() > r.W else "")
        )
    text += (
        "R1 holds for the object of axiom A3 (projections on the true modes), not for what a "
        "monitor measures unless the profiles are near-orthogonal."
    )
    return lines + [text, ""]


def _r2(r: cc.R2Check) -> list[str]:
    lines = [
        "## R2 — gap trajectory after a step in Γ",
        "",
        f"Γ switches from {r.gamma_before.tolist()} to {r.gamma_after.tolist()}; "
        f"{r.replicas} replicas; simulated g = √mean λ_1 − √mean λ_2 against R2 "
        "(`theory.lambdified.gap_flow_rhs` + `signal_rhs`, D = 0) integrated from the measured "
        f"state at the step. Rule (version {cc.RULE_VERSION}): R²/R²_ceiling ≥ {r.r2_min} for "
        "the mode energies, R²_ceiling = 1 − Σse²/SS_tot being the R² a perfect theory reaches "
        f"on the same noisy data, and R²_ceiling ≥ {cc.R2_CEILING_MIN} (the data resolve the "
        "gap).",
        "",
        "| measured levels | R² | R²/R²_ceiling | g at step | g end (sim) | g end (R2) | verdict |",
        "|---|---|---|---|---|---|---|",
        f"| mode energies (A3) | {_f(r.r2_mode)} | {_f(r.r2_relative)} | {_f(r.g_mode[0])} | "
        f"{_f(r.g_mode[-1])} | {_f(r.g_ode_mode[-1])} | {_verdict(r.passed)} |",
        f"| Gram σ (monitor) | {_f(r.r2_gram)} | — | {_f(r.g_gram[0])} | {_f(r.g_gram[-1])} | "
        f"{_f(r.g_ode_gram[-1])} | reported |",
        "",
        f"Noise diagnostics (mode energies, standard errors from 16 replica batches): "
        f"χ²/point of R2 against the simulation = {_f(r.chi2_mode)} (≈ 1 if R2 is right "
        f"within the noise); the R² a perfect theory could reach on this data = "
        f"{_f(r.r2_ceiling)}; median SE of g = {_f(float(np.median(r.se_mode)), 2)}.",
    ]
    if r.passed and r.chi2_mode < 2:
        lines[-1] += (
            f" R2 reaches {_f(r.r2_relative)} of the R² a perfect theory would reach on this "
            "data, and χ²/point is of order 1: R2 follows the mode-energy gap within the noise."
        )
    elif r.r2_ceiling < cc.R2_CEILING_MIN:
        lines[-1] += (
            f" The data do not resolve the gap: even a perfect theory would reach only R² = "
            f"{_f(r.r2_ceiling)} (< {cc.R2_CEILING_MIN}) — too few replicas for this check."
        )
    elif not r.passed:
        lines[-1] += (
            f" χ²/point = {_f(r.chi2_mode)} says the difference is larger than the noise: "
            "R2 does not follow the mode energies here."
        )
    lines.append("")
    if r.r2_gram >= r.r2_min:
        lines += [f"The Gram gap follows R2 as well (R² = {_f(r.r2_gram)}).", ""]
        return lines
    sim_change = r.g_gram[-1] - r.g_gram[0]
    ode_change = r.g_ode_gram[-1] - r.g_ode_gram[0]
    text = (
        f"**Disagreement (Gram).** The measured Gram gap does not follow R2 (R² = "
        f"{_f(r.r2_gram)}): it goes from {_f(r.g_gram[0])} to {_f(r.g_gram[-1])} while R2 "
        f"without a Dyson term takes it to {_f(r.g_ode_gram[-1])}."
    )
    if ode_change < 0 and sim_change > ode_change / 2:
        text += (
            " The Gram levels stay apart where R2 closes the gap — finite-window mixing of the "
            "modes' temporal profiles acts like a strong level repulsion."
        )
    return lines + [text, ""]


def _r3(r: cc.R3Check) -> list[str]:
    lines = [
        "## R3 — no level crossing in the Dyson SDE",
        "",
        f"Levels λ0 = {cc.R3_LAM0.tolist()} (modes 1–2 nearly degenerate), N = 20, "
        f"{r.paths} paths, at the derived diagonal rate κ_jj = 4η²N_jλ_j. Level-space "
        "Euler–Maruyama (drift + noise mean + repulsion from `theory.lambdified`) with fixed "
        "steps, and the matrix scheme (the window X integrated, levels = eig(XᵀX)). Paths on "
        "which two labelled levels crossed:",
        "",
        "| step dt | with repulsion | without repulsion (control) |",
        "|---|---|---|",
    ]
    for dt, a, b in zip(r.dts, r.crossings, r.crossings_control, strict=True):
        lines.append(f"| {dt} (fixed) | {a} | {b} |")
    lines += [
        f"| matrix scheme (dt {min(r.dts)}, {r.steps_adaptive} iterations) | "
        f"{r.crossings_adaptive} | — |",
        "",
    ]
    text = (
        f"Ordering preserved: {_verdict(r.order_preserved)} (closest approach "
        f"{_f(r.min_rel_sep_adaptive, 2)}·λ_1)."
    )
    by_dt = [n for _, n in sorted(zip(r.dts, r.crossings, strict=True), reverse=True)]
    falling = len(by_dt) > 1 and all(b < a for a, b in zip(by_dt, by_dt[1:], strict=False))
    if r.order_preserved and any(r.crossings) and falling:
        text += (
            " With fixed steps the crossings are jumps of the discretisation: their count "
            "falls as dt decreases, and the matrix scheme has none."
        )
    elif r.order_preserved and any(r.crossings):
        text += (
            " Fixed steps cross on some paths, and their count does not fall steadily with dt "
            f"({', '.join(map(str, by_dt))} for dt = "
            f"{', '.join(map(str, sorted(r.dts, reverse=True)))}); the matrix scheme "
            "has none."
        )
    elif not r.order_preserved and r.crossings_adaptive:
        text += f" The matrix scheme crossed on {r.crossings_adaptive} paths."
    elif not r.order_preserved:
        text += " The control did not cross, so this run does not test the ordering."
    lines += [text, ""]
    z = np.abs(r.mean.late_bias) / np.maximum(r.mean.late_bias_se, 1e-300)
    text = (
        "Mean path vs the ODE (drift + repulsion), max over t of |mean − ODE|/max ODE: "
        + ", ".join(
            f"λ_{j + 1}: {_f(e, 2)} (± {_f(s, 1)})"
            for j, (e, s) in enumerate(zip(r.mean.max_rel_error, r.mean.stderr_rel, strict=True))
        )
        + f". Reported, not judged (rule version {cc.RULE_VERSION}; R3 is judged through its "
        f"drift, below): within {r.mean_tol}: {'yes' if r.mean_close else 'no'}. "
        "Time-averaged over the second "
        "half (stationary part), mean − ODE relative to the ODE: "
        + ", ".join(
            f"λ_{j + 1}: {b:+.3f} ± {e:.3f}"
            for j, (b, e) in enumerate(zip(r.mean.late_bias, r.mean.late_bias_se, strict=True))
        )
        + "."
    )
    if z.max() > 3:
        big = ", ".join(f"λ_{j + 1}" for j in np.flatnonzero(z > 3))
        text += (
            f" The deviations of {big} exceed three standard errors: a systematic difference, "
            "not noise — the ODE evaluates the repulsion κ/(λ_j − λ_i) at the mean levels, "
            "while the SDE averages it over fluctuating gaps."
        )
        if r.mean.late_bias[0] > 0 and r.mean.late_bias[1] < 0:
            text += (
                " The sign pattern (λ_1 up, λ_2 down: the pair pushed apart) is what the "
                "convexity of 1/gap gives."
            )
    else:
        text += " Every deviation is within three standard errors (consistent with noise)."
    return lines + [text, ""]


def _drift(r: cc.DriftCheck) -> list[str]:
    """The drift table: computed numbers, the pass rule and the computed verdicts only."""
    p = cc.DRIFT_PARAMS
    lines = [
        "## R2 through its drift — E[Δg | state]/τ of the matrix process",
        "",
        f"h = {p['h'].tolist()}, Γ = {p['Gamma'].tolist()}, N = {p['N'].tolist()}, "
        f"η = {p['eta']}, W = {p['W']}; from each fixed state, {r.paths} paths of the matrix "
        f"scheme over a burst τ = {r.tau} ({r.steps} steps). Measured E[Δg]/τ ± standard "
        "error, against R2's ġ with the derived D and with D = 0 (N = 0); z = (measured − "
        "predicted)/SE.",
        "",
        "| λ_1 | λ_2 | g | measured E[Δg]/τ | SE | ġ, derived D | z | ġ, D = 0 | z |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in r.rows:
        lines.append(
            f"| {row.lam[0]:g} | {row.lam[1]:g} | {row.gap:.4f} | {row.measured:+.4f} | "
            f"{row.stderr:.4f} | {row.predicted_derived:+.4f} | {row.z_derived:+.2f} | "
            f"{row.predicted_no_d:+.4f} | {row.z_no_d:+.2f} |")
    lines += [
        "",
        f"Convergence in dt (λ0 = [12, 8], mean gap at the end): dt = {r.dts[0]:g}: "
        f"{r.mean_gaps[0]:.4f} ± {r.mean_gap_se[0]:.4f}; dt = {r.dts[1]:g}: "
        f"{r.mean_gaps[1]:.4f} ± {r.mean_gap_se[1]:.4f}; crossed paths: "
        f"{r.crossings[0]}, {r.crossings[1]}.",
        "",
    ]
    lines += _judged_lines(r.judged)
    return lines + [""]


def _r10(results: tuple[BBPResult, ...]) -> list[str]:
    lines = [
        "## R10 — BBP detection threshold",
        "",
        "Rank-one spike of strength d in W×P Gaussian noise (ν = 1), exact Gram sampling. "
        "Detection: σ_1 above the 95% quantile of σ_1 under pure noise; d_50 = strength "
        "detected in half the trials. Formula d_c = ν(PW)^{1/4} "
        "(`theory.lambdified.bbp_threshold` form); d_c(est) = `spectra.bbp_threshold` (paper "
        "form, ν estimated from the spectrum).",
        "",
        "| P | W | trials | d_c (textbook) | d_c (paper) | d_c (est.) | d_50 | d_50/d_c "
        "| d_c/(ν√P) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for b in results:
        lines.append(
            f"| {b.P:.0e} | {b.W} | {b.trials} | {_f(b.d_c_textbook, 4)} | "
            f"{_f(b.d_c_paper, 4)} | {_f(b.d_c_estimated, 4)} | {_f(b.d50, 4)} | "
            f"{_f(b.ratio_to_formula)} | {_f(b.d_c_textbook / np.sqrt(b.P), 3)} |"
        )
    ratios = np.array([b.ratio_to_formula for b in results])
    text = f"d_50/d_c ranges over {_f(np.nanmin(ratios))}–{_f(np.nanmax(ratios))}."
    above = ratios > 1.05
    if above.any():
        text += (
            f" **Disagreement (finite W).** In {int(above.sum())} of {len(results)} settings "
            "the empirical threshold sits more than 5% above the asymptotic formula (the "
            "spiked-model transition is sharp only as W → ∞)."
        )
        by_w: dict[int, list[float]] = {}
        for b in results:
            by_w.setdefault(b.W, []).append(b.ratio_to_formula)
        widths = sorted(by_w)
        means = [float(np.mean(by_w[w])) for w in widths]
        if len(widths) > 1 and all(b < a for a, b in zip(means, means[1:], strict=False)):
            text += (
                " The excess shrinks as W grows (mean d_50/d_c "
                + ", ".join(f"{_f(m)} at W = {w}" for w, m in zip(widths, means, strict=True))
                + ")."
            )
    else:
        text += " The empirical threshold agrees with the formula within 5% in every setting."
    text += (
        " d_c/(ν√P) = (W/P)^{1/4} shows how far below the noise bulk a mode is still "
        "detectable (the vacuity statement)."
    )
    return lines + ["", text, ""]


def _r11(k: KrylovResult) -> list[str]:
    n_zero = int(np.count_nonzero(k.K == 0))
    lines = [
        "## R11 — Krylov bound k* ≤ #{h ≥ 1/(ηW)}",
        "",
        f"{k.K.size} random power-law Hessian spectra (P = {k.P}, W = {k.W}, η = {k.eta}), "
        "one exact noise-free GD window each.",
        "",
        "| k* variant | k* ≤ K | k* ≤ K+1 | k* ≤ K (spectra with K ≥ 1) |",
        "|---|---|---|---|",
    ]
    for m in sorted(k.kstar):
        lines.append(
            f"| {m} | {_f(k.fraction(m))} | {_f(k.fraction(m, 1))} | "
            f"{_f(k.fraction(m, 0, min_K=1))} |"
        )
    text = f"{n_zero} spectra have K = 0 (no stiff mode); there k* ≥ 1 = K+1 necessarily."
    holds = {m: k.fraction(m, 1) >= 0.95 for m in sorted(k.kstar)}
    good = [f"`{m}`" for m, ok in holds.items() if ok]
    bad = [f"`{m}` ({_f(k.fraction(m, 1))})" for m, ok in holds.items() if not ok]
    if good:
        text += f" k* ≤ K+1 holds in at least 95% of the spectra for {', '.join(good)}."
    if bad:
        text += (
            f" It fails more often for {', '.join(bad)}: without noise the window spectrum "
            "decays fast and a large ratio σ_j/σ_{j+1} can sit deep in the tail (median "
            f"numerical rank {int(np.median(k.rank))} of W = {k.W})."
        )
    return lines + ["", text, ""]


def _fit(f: cc.FitRecovery) -> list[str]:
    lines = [
        "## Fit — parameter recovery on simulator data",
        "",
        "`numerics.fit.fit_signal` on the replica mean of a run started at rest (known h, Γ; "
        f"ω = {f.omega} given, since only h+ω is identifiable), fitted on t ≤ "
        f"{f.fit_mode.t_split:g}, predicted beyond. Relative errors of h_j+ω and Γ_j.",
        "",
        "| parameter | truth | fitted (mode energies) | Jacobian SE | rel. error | "
        "fitted (Gram σ) | rel. error |",
        "|---|---|---|---|---|---|---|",
    ]
    z_scores = []
    for name, truth in f.truth.items():
        key = f"{name}+omega" if name.startswith("h_") else name
        se = f.fit_mode.stderr[name]
        z_scores.append(abs(f.fit_mode.params[name] - truth) / se if se > 0 else np.inf)
        lines.append(
            f"| {name} | {truth} | {_f(f.fit_mode.params[name])} | "
            f"{_f(se, 2)} | {_f(f.errors_mode[key], 2)} | "
            f"{_f(f.fit_gram.params[name])} | {_f(f.errors_gram[key], 2)} |"
        )
    worst_mode, worst_gram = max(f.errors_mode.values()), max(f.errors_gram.values())
    lines += [
        "",
        f"R² fit / held-out: mode energies {_f(f.fit_mode.r2_fit, 4)} / "
        f"{_f(f.fit_mode.r2_heldout, 4)}; Gram {_f(f.fit_gram.r2_fit, 4)} / "
        f"{_f(f.fit_gram.r2_heldout, 4)} (Gram fit with a free repulsion N = "
        f"{_f(f.fit_gram.params['N'])}). Max relative error: mode energies "
        f"{_f(worst_mode, 2)}, Gram {_f(worst_gram, 2)}.",
        "",
    ]
    notes = []
    beyond = int(np.sum(np.array(z_scores) > 3))
    if beyond:
        notes.append(
            f"{beyond} of {len(z_scores)} mode-energy estimates lie more than three Jacobian "
            "standard errors from the truth: those errors assume independent residuals, and the "
            "replica-mean trajectory carries slowly decorrelating noise, so they understate the "
            "actual error."
        )
    else:
        notes.append("Every mode-energy estimate lies within three Jacobian standard errors of "
                     "the truth.")
    poor = [
        f"the {label} (held-out R² {_f(fit.r2_heldout, 4)}, parameter errors up to "
        f"{_f(worst, 2)})"
        for label, fit, worst in (("mode energies", f.fit_mode, worst_mode),
                                  ("Gram", f.fit_gram, worst_gram))
        if fit.r2_heldout >= 0.99 and worst > 0.1
    ]
    if poor:
        notes.append(
            f"A good prediction does not imply recovered parameters — see {' and '.join(poor)}: "
            "a fast mode constrains only its ratio Γ/(h+ω)."
        )
    return lines + [" ".join(notes), ""]


def render(checks: CrossChecks) -> str:
    """The Markdown report of ``checks``."""
    size = "quick (test sizes)" if checks.quick else "full"
    cmd = "spectral-edge simulate --crosscheck docs/numerics.md" + (
        " --quick" if checks.quick else ""
    )
    lines = [
        "# Numerics: the theory against an exact simulator",
        "",
        f"Generated by `{cmd}` ({size} run) from `numerics/crosscheck.py` — do not edit by "
        "hand. All spectral statistics come from `numerics/spectra.py`; all right-hand sides "
        "from `theory/lambdified.py`. Time is in snapshots (one optimizer step).",
        "",
    ]
    parts = (
        (checks.r1, _r1),
        (checks.r2, _r2),
        (checks.r3, _r3),
        (checks.drift, _drift),
        (checks.r10, _r10),
        (checks.r11, _r11),
        (checks.fit, _fit),
    )
    for result, section in parts:
        if result is not None:
            lines += section(result)
    lines += ["## Rule changes", "",
              f"The judged rules are at version {cc.RULE_VERSION} (`RULE_VERSION` in "
              "`numerics/crosscheck.py`). Every change, with its reason:", ""]
    lines += [f"* version {version}, {name}: {text}" for version, name, text in cc.RULE_CHANGES]
    lines.append("")
    judged = checks.judged
    failed = [c.name for c in judged if not c.passed]
    lines += ["## Summary of judged checks", ""]
    lines += _judged_lines(judged) or ["No judged check ran."]
    lines += ["", (f"All {len(judged)} judged checks passed." if not failed
                   else f"Failed {len(failed)} of {len(judged)}: " + ", ".join(failed) + "."), ""]
    return "\n".join(lines)


def write_report(path: str | os.PathLike, quick: bool = False) -> CrossChecks:
    """Run every cross-check and write the Markdown report to ``path`` atomically (a unique
    temporary file beside it, :mod:`spectral_edge.common.atomic`); ``spectral-edge simulate
    --crosscheck
    PATH [--quick]`` is the way to call it. The path is checked before the work
    (:func:`spectral_edge.common.outfile.check_output_file`)."""
    path = check_output_file(path, "report path")
    checks = CrossChecks.run(quick=quick)
    write_text(path, render(checks))
    return checks
