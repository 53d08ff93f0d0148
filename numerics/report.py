"""Generate ``docs/numerics.md``: every cross-check of :mod:`numerics.crosscheck`, with numbers.

``spectral-edge simulate --crosscheck docs/numerics.md`` calls :func:`write_report`;
``--quick`` runs the same experiments at test sizes (minutes become seconds, numbers get
noisier). Disagreements are listed, never hidden: each judged check says its rule.

>>> text = render(CrossChecks.run(quick=True, only=("r11",)))
>>> "R11" in text and "k* ≤ K+1" in text
True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from numerics import crosscheck as cc
from numerics.bbp import BBPResult
from numerics.errors import InputError
from numerics.krylov import KrylovResult

SECTIONS = ("r1", "r2", "r3", "r10", "r11", "fit", "sweep")


@dataclass(frozen=True)
class CrossChecks:
    """The results of one run of the cross-checks (``None`` for a section not run)."""

    quick: bool
    r1: cc.R1Check | None = None
    r2: cc.R2Check | None = None
    r3: cc.R3Check | None = None
    r10: tuple[BBPResult, ...] | None = None
    r11: KrylovResult | None = None
    fit: cc.FitRecovery | None = None
    sweep: cc.SweepTiming | None = None

    @classmethod
    def run(cls, quick: bool = False, only: tuple[str, ...] = SECTIONS) -> CrossChecks:
        """Run the selected sections at full (default) or quick size."""
        unknown = set(only) - set(SECTIONS)
        if unknown:
            raise InputError(f"unknown cross-check sections {sorted(unknown)}; use {SECTIONS}")
        q = quick
        out: dict = {"quick": quick}
        if "r1" in only:
            out["r1"] = cc.r1_steady_state(**({"steps": 1200, "replicas": 8} if q else {}))
        if "r2" in only:
            out["r2"] = cc.r2_gap_trajectory(**({"replicas": 128} if q else {}))
        if "r3" in only:
            out["r3"] = cc.r3_no_crossing(
                **({"dts": (0.1, 0.03), "paths": 100, "t_end": 40.0} if q else {})
            )
        if "r10" in only:
            out["r10"] = cc.r10_bbp(
                **({"sizes": ((10**4, 10), (10**8, 10)), "trials": 200} if q else {})
            )
        if "r11" in only:
            out["r11"] = cc.r11_krylov(**({"trials": 200} if q else {}))
        if "fit" in only:
            out["fit"] = cc.fit_recovery(**({"replicas": 128} if q else {}))
        if "sweep" in only:
            out["sweep"] = cc.sweep_timing(**({"shape": (4, 3, 4)} if q else {}))
        return cls(**out)

    @property
    def failures(self) -> list[str]:
        """Names of the judged checks that failed."""
        bad = []
        if self.r1 is not None and not self.r1.passed:
            bad.append("R1 steady state")
        if self.r2 is not None and not self.r2.passed:
            bad.append("R2 gap trajectory")
        if self.r3 is not None and not self.r3.order_preserved:
            bad.append("R3 ordering")
        if self.r3 is not None and not self.r3.mean_close:
            bad.append("R3 mean path")
        return bad


def _f(x: float, digits: int = 3) -> str:
    return "nan" if not np.isfinite(x) else f"{x:.{digits}g}"


def _verdict(ok: bool) -> str:
    return "**pass**" if ok else "**FAIL**"


def _r1(r: cc.R1Check) -> list[str]:
    lines = [
        "## R1 — steady state d_j*² = WΓ_j/(h_j+ω)",
        "",
        f"GD with gradient injection, η = {r.eta}, ω = {r.omega}, W = {r.W}, "
        f"{r.replicas} replicas, time average after burn-in. Theory from "
        "`theory.export.signal_steady_state`. Rule: |mode/theory − 1| ≤ η(h+ω)/2 + 4·SE/d*² "
        "(first-order discretisation bias of the discrete process + Monte-Carlo error).",
        "",
        "| mode | h | Γ | theory d*² | mode energy (± SE) | ratio | tolerance | verdict "
        "| Gram σ² | Gram/theory |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for j in range(len(r.theory)):
        ok = abs(r.mode_ratio[j] - 1) <= r.tolerance[j]
        lines.append(
            f"| {j + 1} | {r.h[j]} | {r.Gamma[j]} | {_f(r.theory[j], 4)} | "
            f"{_f(r.mode_mean[j], 4)} ± {_f(r.mode_se[j], 2)} | {_f(r.mode_ratio[j])} | "
            f"{_f(r.tolerance[j], 2)} | {_verdict(ok)} | {_f(r.gram_mean[j], 4)} | "
            f"{_f(r.gram_ratio[j])} |"
        )
    lines += [
        "",
        f"Exact identity Σσ² = Σ mode energies (no noise): max relative error "
        f"{_f(r.trace_error, 2)}. k* (weighted) of the mean spectra: theory {r.kstar_theory}, "
        f"mode energies {r.kstar_mode}, Gram {r.kstar_gram}.",
        "",
        "**Disagreement.** The Gram singular values are *not* the per-mode energies: "
        f"Gram/theory = {', '.join(_f(x) for x in r.gram_ratio)}. With correlation times "
        "1/(η(h+ω)) longer than W, the modes' temporal profiles inside one window overlap, the "
        "top Gram level absorbs the shared slow component of every mode and the lower levels "
        "lose it. R1 holds for the object of axiom A3 (projections on the true modes), not for "
        "what a monitor measures unless the profiles are near-orthogonal.",
        "",
    ]
    return lines


def _r2(r: cc.R2Check) -> list[str]:
    return [
        "## R2 — gap trajectory after a step in Γ",
        "",
        f"Γ switches from {r.gamma_before.tolist()} to {r.gamma_after.tolist()}; "
        f"{r.replicas} replicas; simulated g = √mean λ_1 − √mean λ_2 against R2 "
        "(`theory.export.gap_flow_rhs` + `signal_rhs`, D = 0) integrated from the measured "
        f"state at the step. Rule: R² ≥ {r.r2_min} for the mode energies.",
        "",
        "| measured levels | R² | g at step | g end (sim) | g end (R2) | verdict |",
        "|---|---|---|---|---|---|",
        f"| mode energies (A3) | {_f(r.r2_mode)} | {_f(r.g_mode[0])} | {_f(r.g_mode[-1])} | "
        f"{_f(r.g_ode_mode[-1])} | {_verdict(r.passed)} |",
        f"| Gram σ (monitor) | {_f(r.r2_gram)} | {_f(r.g_gram[0])} | {_f(r.g_gram[-1])} | "
        f"{_f(r.g_ode_gram[-1])} | reported |",
        "",
        f"Noise diagnostics (mode energies, standard errors from 16 replica batches): "
        f"χ²/point of R2 against the simulation = {_f(r.chi2_mode)} (≈ 1 if R2 is right "
        f"within the noise); the R² a perfect theory could reach on this data = "
        f"{_f(r.r2_ceiling)}; median SE of g = {_f(float(np.median(r.se_mode)), 2)}. With "
        "W ≪ 1/(η(h+ω)) one window holds about one independent sample of a slow mode, so "
        "even a mean over many replicas stays noisy.",
        "",
        "**Disagreement (Gram).** The measured Gram gap does not follow R2: the two Gram "
        f"levels stay apart (g from {_f(r.g_gram[0])} to {_f(r.g_gram[-1])}) while R2 without a "
        f"Dyson term closes the gap to {_f(r.g_ode_gram[-1])} — finite-window mixing of the "
        "modes' temporal profiles, which acts like a strong level repulsion.",
        "",
    ]


def _r3(r: cc.R3Check) -> list[str]:
    lines = [
        "## R3 — no level crossing in the Dyson SDE",
        "",
        f"Levels λ0 = {cc.R3_LAM0.tolist()} (modes 1–2 nearly degenerate), N = 20, "
        f"{r.paths} paths, Euler–Maruyama with drift + repulsion from `theory.export` and "
        "diagonal noise rate κ_jj. Paths on which two labelled levels crossed:",
        "",
        "| step dt | with repulsion | without repulsion (control) |",
        "|---|---|---|",
    ]
    for dt, a, b in zip(r.dts, r.crossings, r.crossings_control, strict=True):
        lines.append(f"| {dt} (fixed) | {a} | {b} |")
    lines += [
        f"| gap-adaptive (safety {r.safety}, {r.steps_adaptive} iterations) | "
        f"{r.crossings_adaptive} | — |",
        "",
        f"Ordering preserved: {_verdict(r.order_preserved)} (closest approach "
        f"{_f(r.min_rel_sep_adaptive, 2)}·λ_1). With fixed steps the crossings are jumps of "
        "the discretisation, and their count falls as dt decreases; the SDE itself keeps the "
        "order.",
        "",
        "Mean path vs the ODE (drift + repulsion), max over t of |mean − ODE|/max ODE: "
        + ", ".join(
            f"λ_{j + 1}: {_f(e, 2)} (± {_f(s, 1)})"
            for j, (e, s) in enumerate(zip(r.mean.max_rel_error, r.mean.stderr_rel, strict=True))
        )
        + f". Rule ≤ {r.mean_tol}: {_verdict(r.mean_close)}. Time-averaged over the second "
        "half (stationary part), mean − ODE relative to the ODE: "
        + ", ".join(
            f"λ_{j + 1}: {b:+.3f} ± {e:.3f}"
            for j, (b, e) in enumerate(zip(r.mean.late_bias, r.mean.late_bias_se, strict=True))
        )
        + ". Deviations of several standard errors are a systematic difference, not noise: the "
        "ODE evaluates the repulsion κ/(λ_j − λ_i) at the mean levels, while the SDE averages it "
        "over fluctuating gaps, and the sign pattern (λ_1 up, λ_2 down: levels pushed apart) "
        "is what the convexity of 1/gap gives.",
        "",
    ]
    return lines


def _r10(results: tuple[BBPResult, ...]) -> list[str]:
    lines = [
        "## R10 — BBP detection threshold",
        "",
        "Rank-one spike of strength d in W×P Gaussian noise (ν = 1), exact Gram sampling. "
        "Detection: σ_1 above the 95% quantile of σ_1 under pure noise; d_50 = strength "
        "detected in half the trials. Formula d_c = ν(PW)^{1/4} (`theory.export.bbp_threshold` "
        "form); d_c(est) = `spectra.bbp_threshold` (paper form, ν estimated from the spectrum).",
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
    ratios = [b.ratio_to_formula for b in results]
    lines += [
        "",
        f"d_50/d_c ranges over {_f(min(ratios))}–{_f(max(ratios))}. **Disagreement (finite "
        "W).** Where it exceeds 1, the empirical threshold sits above the asymptotic formula; "
        "compare rows with equal W and different P to see whether the factor depends on W "
        "only (the spiked-model transition is sharp only as W → ∞). d_c/(ν√P) = (W/P)^{1/4} "
        "shows how far below the noise bulk a mode is still detectable (the vacuity "
        "statement).",
        "",
    ]
    return lines


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
    lines += [
        "",
        f"{n_zero} spectra have K = 0 (no stiff mode); there k* ≥ 1 = K+1 necessarily. "
        "The `ratio` variant often violates the bound: without noise the window spectrum "
        "decays super-exponentially and the largest ratio σ_j/σ_{j+1} sits deep in the tail "
        f"(median numerical rank {int(np.median(k.rank))}); the `weighted` variant does not.",
        "",
    ]
    return lines


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
    for name, truth in f.truth.items():
        key = f"{name}+omega" if name.startswith("h_") else name
        lines.append(
            f"| {name} | {truth} | {_f(f.fit_mode.params[name])} | "
            f"{_f(f.fit_mode.stderr[name], 2)} | {_f(f.errors_mode[key], 2)} | "
            f"{_f(f.fit_gram.params[name])} | {_f(f.errors_gram[key], 2)} |"
        )
    lines += [
        "",
        f"R² fit / held-out: mode energies {_f(f.fit_mode.r2_fit, 4)} / "
        f"{_f(f.fit_mode.r2_heldout, 4)}; Gram {_f(f.fit_gram.r2_fit, 4)} / "
        f"{_f(f.fit_gram.r2_heldout, 4)} (Gram fit with a free repulsion N = "
        f"{_f(f.fit_gram.params['N'])}). Max relative error: mode energies "
        f"{_f(max(f.errors_mode.values()), 2)}, Gram {_f(max(f.errors_gram.values()), 2)}.",
        "",
        "The Jacobian standard errors assume independent residuals; the replica-mean "
        "trajectory carries slowly decorrelating noise, so they understate the actual error. "
        "A high held-out R² does not imply recovered parameters: a fast mode constrains only "
        "its ratio Γ/(h+ω).",
        "",
    ]
    return lines


def _sweep(s: cc.SweepTiming) -> list[str]:
    return [
        "## Vectorised sweep",
        "",
        f"R4 phase diagram over (c, β, h̄+ω), {s.n_sets} parameter sets: one stacked "
        f"`solve_ivp` (BDF, sparse diagonal Jacobian) {s.t_sweep:.2f} s vs a loop of "
        f"`solve_ivp` calls {s.t_loop:.2f} s — **{s.ratio:.1f}×**. Largest difference "
        f"between the two: {_f(s.max_abs_diff, 2)} absolute, {_f(s.max_rel_diff, 2)} "
        "relative. (Wall times on a shared machine; `benchmarks/bench_sweep.py` repeats it.)",
        "",
    ]


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
        "from `theory/export.py`. Time is in snapshots (one optimizer step).",
        "",
    ]
    parts = (
        (checks.r1, _r1),
        (checks.r2, _r2),
        (checks.r3, _r3),
        (checks.r10, _r10),
        (checks.r11, _r11),
        (checks.fit, _fit),
        (checks.sweep, _sweep),
    )
    for result, section in parts:
        if result is not None:
            lines += section(result)
    failures = checks.failures
    lines += [
        "## Summary of judged checks",
        "",
        "All judged checks passed." if not failures else "Failed: " + ", ".join(failures) + ".",
        "",
    ]
    return "\n".join(lines)


def write_report(path: str | Path, quick: bool = False) -> CrossChecks:
    """Run every cross-check and write the Markdown report to ``path`` (atomically);
    ``spectral-edge simulate --crosscheck PATH [--quick]`` is the way to call it."""
    path = Path(path)
    checks = CrossChecks.run(quick=quick)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(render(checks), encoding="utf-8")
    tmp.replace(path)
    return checks
