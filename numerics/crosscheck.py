"""Cross-checks of the theory against the exact reference simulator (docs/spec.md §5).

Each function runs one experiment and returns a frozen dataclass with the measured numbers;
an experiment that is judged lists its verdicts as :class:`CheckResult` objects (``judged``:
the rule in words, its threshold, the measured value and ``passed``), so the report and the
CLI loop over them. The quick (test) sizes of each experiment sit next to it (``R1_QUICK``,
...) and :data:`EXPERIMENTS` lists every experiment with them; the tests in ``tests/numerics``
run them at small sizes, :func:`spectral_edge.numerics.report.write_report` at full size for
``docs/numerics.md``.

Two notions of "simulated d_j" appear throughout, and they are reported side by side:

* the **mode energy** d_j² = Σ_window ⟨δ_s, v_j⟩², the projection of the window on the true
  Hessian eigenvector v_j — exactly the object of axiom A3;
* the **Gram singular value** σ_j² = λ_j(X Xᵀ), what a monitor measures. The two agree only
  when the modes' temporal profiles inside the window are orthogonal.

Means over replicas are taken in λ units (d², σ²): the R1 flow is linear in λ, so it governs
the replica mean of λ, not of d.

>>> chk = r1_steady_state(steps=300, replicas=4, burn=150)
>>> len(chk.theory) == 3 and chk.tolerance.shape == (3,)
True
>>> [c.name for c in chk.judged]
['R1 steady state, mode 1', 'R1 steady state, mode 2', 'R1 steady state, mode 3']
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from spectral_edge.common.errors import InputError
from spectral_edge.numerics import spectra
from spectral_edge.numerics.bbp import BBPResult, bbp_experiment
from spectral_edge.numerics.dyson import (
    DriftRow,
    MeanPathComparison,
    compare_mean_path,
    drift_test,
    simulate_dyson,
)
from spectral_edge.numerics.fit import FitResult, fit_signal, r_squared
from spectral_edge.numerics.krylov import KrylovResult, krylov_experiment
from spectral_edge.numerics.ode import PairSystem, integrate
from spectral_edge.numerics.reference import QuadraticProblem, simulate
from spectral_edge.theory import lambdified as tx

Comparison = Literal["<=", ">="]
_COMPARE = {"<=": operator.le, ">=": operator.ge}

RULE_VERSION = 2
"""Version of the judged rules of this module; :data:`RULE_CHANGES` says what changed, why."""

RULE_CHANGES: tuple[tuple[int, str, str], ...] = (
    (2, "R2 gap trajectory",
     "judged relative to the noise ceiling: R²/R²_ceiling ≥ 0.9, with R²_ceiling = 1 − Σse²/SS_tot "
     "the R² a perfect theory reaches on the same data, and a new judged check that the data "
     "resolve the gap at all (R²_ceiling ≥ 0.5). Was: R² ≥ 0.9. Reason: the simulated gap "
     "carries Monte-Carlo noise (one window holds about one independent sample of a slow "
     "mode), so an absolute R² ≥ 0.9 failed a theory that is within the noise (χ²/point 1.1; "
     "R²_ceiling 0.779 < 0.9): the rule judged the ensemble size, not R2."),
    (2, "R3 mean path",
     "reported, no longer judged (was: max over levels and t of |mean SDE − ODE|/max ODE ≤ "
     "0.05). Reason: R3 states the conditional drift E[dλ | λ]; the ODE of the means is not "
     "the mean of the SDE — the ODE evaluates κ/(λ_j − λ_i) at the mean levels while the "
     "SDE averages it over fluctuating gaps, and 1/gap is convex (Jensen), so the two differ "
     "systematically by an amount R3 does not predict. R3 (and R2's D) are judged where they "
     "are stated, by the drift test E[Δg | state]/τ (R2 drift, derived D / D = 0)."),
)
"""Every change of a judged rule: ``(version, check, what changed and why)``."""

R2_CEILING_MIN = 0.5
"""Least noise ceiling R²_ceiling at which R2's relative R² is judged meaningful."""


@dataclass(frozen=True)
class CheckResult:
    """One judged check: ``measured`` compared with ``threshold`` by ``op``; ``rule`` says in
    words what is measured and why the threshold is what it is.

    >>> c = CheckResult("R2 gap trajectory", "R² of the mode-energy gap", 0.75, ">=", 0.9)
    >>> c.passed, c.describe()
    (False, 'R² of the mode-energy gap: measured 0.75, required ≥ 0.9')
    """

    name: str
    rule: str
    measured: float
    op: Comparison
    threshold: float

    def __post_init__(self) -> None:
        if self.op not in _COMPARE:
            raise InputError(f"op must be one of {sorted(_COMPARE)}, got {self.op!r}")

    @property
    def passed(self) -> bool:
        """``measured op threshold`` (a NaN measurement fails)."""
        return bool(_COMPARE[self.op](float(self.measured), float(self.threshold)))

    def describe(self) -> str:
        """The rule with its numbers, one line."""
        sign = {"<=": "≤", ">=": "≥"}[self.op]
        return f"{self.rule}: measured {self.measured:.3g}, required {sign} {self.threshold:.3g}"


# The common setting of the simulator checks: GD with gradient injection on three modes.
ETA, W, OMEGA = 0.1, 10, 0.05
H = np.array([0.05, 0.15, 0.4])
GAMMA = np.array([1.0, 0.5, 0.3])
GAMMA_AFTER = np.array([1.0, 1.2, 0.3])


def _replica_mean_se(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over (replica, time) and its standard error from the R replica means."""
    per_replica = x.mean(axis=1)
    R = per_replica.shape[0]
    return per_replica.mean(axis=0), per_replica.std(axis=0, ddof=1) / np.sqrt(R)


# --------------------------------------------------------------------------- R1


@dataclass(frozen=True)
class R1Check:
    """R1 steady state d_j*² = WΓ_j/(h_j+ω) against the time-and-replica mean of the mode
    energies and of the Gram σ_j² (j = 1 … n, in mode order = sorted order here).

    Pass rule (mode energies): |ratio − 1| ≤ η(h_j+ω)/2 + 4·SE/d*² — the first term is the
    first-order discretisation bias of the exact discrete process (its stationary variance
    is larger by 1/(1 − η(h+ω)/2)), the second the Monte-Carlo error. The Gram σ_j² are
    reported, not judged, as is k* (weighted) of the theory's, the mode energies' and the
    Gram's mean spectra.
    """

    h: np.ndarray
    Gamma: np.ndarray
    eta: float
    omega: float
    W: int
    replicas: int
    theory: np.ndarray
    mode_mean: np.ndarray
    mode_se: np.ndarray
    gram_mean: np.ndarray
    gram_se: np.ndarray
    tolerance: np.ndarray
    trace_error: float
    kstar_theory: int
    kstar_mode: int
    kstar_gram: int

    @property
    def mode_ratio(self) -> np.ndarray:
        """Simulated mode energy / theory."""
        return self.mode_mean / self.theory

    @property
    def gram_ratio(self) -> np.ndarray:
        """Simulated Gram σ² / theory."""
        return self.gram_mean / self.theory

    @property
    def judged(self) -> tuple[CheckResult, ...]:
        """Per mode: |mode energy/theory − 1| against its tolerance."""
        return tuple(
            CheckResult(
                f"R1 steady state, mode {j + 1}",
                "|mode energy/theory − 1|, tolerance η(h_j+ω)/2 + 4·SE/d*²",
                float(abs(self.mode_ratio[j] - 1)),
                "<=",
                float(self.tolerance[j]),
            )
            for j in range(len(self.theory))
        )

    @property
    def passed(self) -> bool:
        """Every mode energy within its tolerance."""
        return all(check.passed for check in self.judged)


def r1_steady_state(
    *,
    h: np.ndarray = H,
    Gamma: np.ndarray = GAMMA,
    eta: float = ETA,
    omega: float = OMEGA,
    W: int = W,
    P: int = 60,
    steps: int = 3000,
    burn: int = 500,
    replicas: int = 16,
    seed: int = 1,
) -> R1Check:
    """Run GD with injection to stationarity and compare with R1's steady state."""
    if burn >= steps - W:
        raise InputError("burn must leave recorded windows")
    prob = QuadraticProblem(h=h, Gamma=Gamma, P=P, seed=seed)
    res = simulate(
        prob,
        "gd",
        eta=eta,
        W=W,
        steps=steps,
        omega=omega,
        replicas=replicas,
        seed=seed,
        record_every=4,
    )
    keep = res.t > burn
    n = len(h)
    theory = np.asarray(tx.signal_steady_state(h, Gamma, omega, W)) ** 2
    mode_mean, mode_se = _replica_mean_se(res.mode_energy[:, keep])
    gram_mean, gram_se = _replica_mean_se(res.sigma[:, keep, :n] ** 2)
    # no noise: every update lies in span(V), so Σσ² = Σ mode energies exactly
    trace = (res.sigma[:, keep] ** 2).sum(-1)
    energy = res.mode_energy[:, keep].sum(-1)
    order = np.argsort(-theory)
    return R1Check(
        h=np.asarray(h),
        Gamma=np.asarray(Gamma),
        eta=eta,
        omega=omega,
        W=W,
        replicas=replicas,
        theory=theory,
        mode_mean=mode_mean,
        mode_se=mode_se,
        gram_mean=gram_mean[np.argsort(order)],
        gram_se=gram_se[np.argsort(order)],
        tolerance=eta * (np.asarray(h) + omega) / 2 + 4 * mode_se / theory,
        trace_error=float(np.max(np.abs(trace - energy) / energy)),
        kstar_theory=spectra.kstar(np.sqrt(theory[order])),
        kstar_mode=spectra.kstar(np.sqrt(np.sort(mode_mean)[::-1])),
        kstar_gram=spectra.kstar(np.sqrt(gram_mean)),
    )


R1_QUICK: dict[str, Any] = {"steps": 1200, "replicas": 8}
"""Test sizes of :func:`r1_steady_state` (``--quick``)."""


# --------------------------------------------------------------------------- R2


@dataclass(frozen=True)
class R2Check:
    """The gap g = d_1 − d_2 after a step in Γ_2, simulated (√ of replica-mean λ) against
    R2 integrated from the measured state at the step (``PairSystem``, D = 0).

    Pass rules (rule version 2, :data:`RULE_CHANGES`): R²/R²_ceiling ≥ ``r2_min`` for the
    mode energies, and R²_ceiling ≥ :data:`R2_CEILING_MIN` (the data resolve the gap). The
    Gram gap is reported, not judged. Diagnostics: ``se_mode`` is the Monte-Carlo standard
    error of the simulated gap (from 16 batches of replicas), ``chi2_mode`` =
    mean((g_sim − g_R2)²/se²) (≈ 1 when the theory is within the noise) and ``r2_ceiling`` =
    1 − Σse²/SS_tot, the R² that a perfect theory would reach against this noisy data.
    """

    t: np.ndarray = field(repr=False)
    g_mode: np.ndarray = field(repr=False)
    g_gram: np.ndarray = field(repr=False)
    g_ode_mode: np.ndarray = field(repr=False)
    g_ode_gram: np.ndarray = field(repr=False)
    r2_mode: float
    r2_gram: float
    r2_min: float
    se_mode: np.ndarray = field(repr=False)
    chi2_mode: float
    r2_ceiling: float
    replicas: int
    gamma_before: np.ndarray
    gamma_after: np.ndarray

    @property
    def r2_relative(self) -> float:
        """R² of the mode-energy gap over the noise ceiling (1 for a theory as good as the
        data allow; NaN when the ceiling is not positive)."""
        return self.r2_mode / self.r2_ceiling if self.r2_ceiling > 0 else float("nan")

    @property
    def judged(self) -> tuple[CheckResult, ...]:
        """R²/R²_ceiling of the mode-energy gap against ``r2_min``, and the ceiling itself."""
        return (
            CheckResult("R2 gap trajectory", "R² of the mode-energy gap against R2, over the "
                        "R² a perfect theory reaches on this data", self.r2_relative, ">=",
                        self.r2_min),
            CheckResult("R2 noise ceiling", "R² a perfect theory reaches on this data (the "
                        "data resolve the gap)", self.r2_ceiling, ">=", R2_CEILING_MIN),
        )

    @property
    def passed(self) -> bool:
        """R² of the mode-energy gap at least ``r2_min``."""
        return all(check.passed for check in self.judged)


def r2_gap_trajectory(
    *,
    h: np.ndarray = H,
    gamma_before: np.ndarray = GAMMA,
    gamma_after: np.ndarray = GAMMA_AFTER,
    eta: float = ETA,
    omega: float = OMEGA,
    W: int = W,
    P: int = 60,
    t_step: int = 300,
    steps: int = 600,
    replicas: int = 1024,
    seed: int = 2,
    r2_min: float = 0.9,
) -> R2Check:
    """Switch Γ at ``t_step`` and compare the gap trajectory with R2."""
    sched = np.tile(np.asarray(gamma_before, dtype=float), (steps, 1))
    sched[t_step:] = gamma_after
    prob = QuadraticProblem(h=h, Gamma=sched, P=P, seed=seed)
    res = simulate(
        prob,
        "gd",
        eta=eta,
        W=W,
        steps=steps,
        omega=omega,
        replicas=replicas,
        seed=seed,
        record_every=2,
        record_change=False,
    )
    after = res.t >= t_step
    t = res.t[after].astype(float)
    pair = PairSystem(
        h_k=h[0],
        h_k1=h[1],
        Gamma_k=gamma_after[0],
        Gamma_k1=gamma_after[1],
        eta=eta,
        W=W,
        omega=omega,
    )
    out = {}
    for name, lam in (("mode", res.mode_energy), ("gram", res.sigma[:, :, :2] ** 2)):
        d = np.sqrt(lam[:, after, :2].mean(axis=0))
        g = d[:, 0] - d[:, 1]
        sol = integrate(pair, [g[0], d[0].mean()], (t[0], t[-1]), t_eval=t)
        if not sol.success:
            raise RuntimeError(f"R2 integration failed: {sol.message}")
        out[name] = (g, sol.y[0], r_squared(g, sol.y[0]))
    batches = np.array_split(res.mode_energy[:, after, :2], 16, axis=0)
    g_batch = np.array([np.sqrt(b.mean(axis=0)) @ np.array([1.0, -1.0]) for b in batches])
    se = g_batch.std(axis=0, ddof=1) / np.sqrt(len(batches))
    g_mode, g_ode = out["mode"][0], out["mode"][1]
    ss_tot = float(np.sum((g_mode - g_mode.mean()) ** 2))
    return R2Check(
        t=t,
        g_mode=out["mode"][0],
        g_gram=out["gram"][0],
        g_ode_mode=out["mode"][1],
        g_ode_gram=out["gram"][1],
        r2_mode=out["mode"][2],
        r2_gram=out["gram"][2],
        r2_min=r2_min,
        se_mode=se,
        chi2_mode=float(np.mean((g_mode - g_ode) ** 2 / se**2)),
        r2_ceiling=1.0 - float(np.sum(se**2)) / ss_tot,
        replicas=replicas,
        gamma_before=np.asarray(gamma_before),
        gamma_after=np.asarray(gamma_after),
    )


R2_QUICK: dict[str, Any] = {"replicas": 128}
"""Test sizes of :func:`r2_gap_trajectory` (``--quick``)."""


# --------------------------------------------------------------------------- R3


@dataclass(frozen=True)
class R3Check:
    """No crossing in the Dyson SDE at the derived rate κ_jj = 4η²N_jλ_j. For each fixed
    step dt: the number of paths (of ``paths``) on which two labelled levels of the
    level-space Euler scheme crossed, with repulsion and without it (the control). Then the
    matrix scheme (the ``*_adaptive`` fields; ``safety`` is unused and kept for the record),
    which integrates the window matrix and whose levels are ordered by construction, and
    its mean path against the ODE.

    Pass rule: ``order_preserved`` — no crossing with the matrix scheme while the control
    crosses. Reported, not judged (rule version 2, :data:`RULE_CHANGES`): ``mean_close`` —
    the mean path within ``mean_tol`` (relative) of the ODE of the means.
    """

    dts: tuple[float, ...]
    paths: int
    crossings: tuple[int, ...]
    crossings_control: tuple[int, ...]
    safety: float
    crossings_adaptive: int
    min_rel_sep_adaptive: float
    steps_adaptive: int
    mean: MeanPathComparison
    mean_tol: float

    @property
    def judged(self) -> tuple[CheckResult, ...]:
        """Ordering (adaptive scheme) and the control (it must cross, or the ordering check
        says nothing)."""
        return (
            CheckResult("R3 ordering", "paths on which two levels crossed, with repulsion "
                        "(matrix scheme)", self.crossings_adaptive, "<=", 0),
            CheckResult("R3 control crosses", "paths on which two levels crossed without "
                        "repulsion (fewest over the step sizes)", min(self.crossings_control),
                        ">=", 1),
        )

    @property
    def reported(self) -> tuple[CheckResult, ...]:
        """The mean path against the ODE of the means: computed and shown, not judged."""
        return (
            CheckResult("R3 mean path", "max over levels and t of |mean SDE − ODE|/max ODE",
                        float(self.mean.max_rel_error.max()), "<=", self.mean_tol),
        )

    @property
    def order_preserved(self) -> bool:
        """No crossing with repulsion (adaptive steps); crossings without it."""
        return all(check.passed for check in self.judged)

    @property
    def mean_close(self) -> bool:
        """Mean SDE path within ``mean_tol`` of the ODE for every level (reported only)."""
        return self.reported[0].passed


R3_PARAMS = {
    "h": np.array([0.5, 0.55, 2.0]),
    "Gamma": np.array([1.0, 1.0, 0.5]),
    "N": np.array([20.0, 20.0, 20.0]),
    "eta": 0.1,
    "W": 10,
}
R3_LAM0 = np.array([25.0, 20.0, 3.0])


def r3_no_crossing(
    *,
    dts: tuple[float, ...] = (0.1, 0.03, 0.01),
    paths: int = 400,
    t_end: float = 100.0,
    safety: float = 0.01,
    seed: int = 3,
    mean_tol: float = 0.05,
) -> R3Check:
    """Simulate the R3 SDE with a nearly degenerate pair (modes 1 and 2)."""
    kw = dict(R3_PARAMS, lam0=R3_LAM0, t_end=t_end, paths=paths, seed=seed)
    cross, control = [], []
    for dt in dts:
        cross.append(simulate_dyson(**kw, dt=dt, scheme="levels").crossings)
        control.append(simulate_dyson(**kw, dt=dt, scheme="levels", repulsion=False).crossings)
    adaptive = simulate_dyson(**kw, dt=min(dts))  # the matrix scheme (ordered levels)
    return R3Check(
        dts=tuple(dts),
        paths=paths,
        crossings=tuple(cross),
        crossings_control=tuple(control),
        safety=safety,
        crossings_adaptive=adaptive.crossings,
        min_rel_sep_adaptive=adaptive.min_rel_sep,
        steps_adaptive=adaptive.n_steps,
        mean=compare_mean_path(adaptive, **R3_PARAMS),
        mean_tol=mean_tol,
    )


R3_QUICK: dict[str, Any] = {"dts": (0.1, 0.03), "paths": 100, "t_end": 40.0}
"""Test sizes of :func:`r3_no_crossing` (``--quick``)."""


@dataclass(frozen=True)
class DriftCheck:
    """R2's ġ through its drift: E[Δg | state]/τ of the matrix process from fixed states
    (:func:`spectral_edge.numerics.dyson.drift_test`) against ġ with the derived D and with
    D = 0; and a convergence check in dt (mean gap at ``t_end`` for dt and dt/4).

    Pass rules: every |z| (derived D) ≤ ``z_max``; some |z| (D = 0) ≥ ``z_max``; the two step
    sizes' mean gaps differ by at most ``z_max`` combined standard errors; 0 crossings."""

    rows: tuple[DriftRow, ...]
    paths: int
    tau: float
    steps: int
    z_max: float
    dts: tuple[float, float]
    mean_gaps: tuple[float, float]
    mean_gap_se: tuple[float, float]
    crossings: tuple[int, int]

    @property
    def judged(self) -> tuple[CheckResult, ...]:
        """Derived D consistent, D = 0 rejected, converged in dt, ordered."""
        diff = abs(self.mean_gaps[0] - self.mean_gaps[1])
        se = float(np.hypot(*self.mean_gap_se))
        return (
            CheckResult("R2 drift, derived D", "max |z| of E[Δg]/τ against ġ with the derived "
                        "D", max(abs(r.z_derived) for r in self.rows), "<=", self.z_max),
            CheckResult("R2 drift, D = 0", "max |z| of E[Δg]/τ against ġ with D = 0",
                        max(abs(r.z_no_d) for r in self.rows), ">=", self.z_max),
            CheckResult("R3 matrix scheme converged in dt", "|mean gap(dt) − mean gap(dt/4)| "
                        "in combined standard errors", diff / se, "<=", self.z_max),
            CheckResult("R3 matrix scheme ordered", "paths with crossed levels (both dt)",
                        sum(self.crossings), "<=", 0),
        )


DRIFT_PARAMS = {
    "h": np.array([1.0, 1.1]),
    "Gamma": np.array([1.0, 0.9]),
    "N": np.array([20.0, 20.0]),
    "eta": 0.1,
    "W": 10,
}
DRIFT_STATES: tuple[tuple[float, float], ...] = ((12.0, 6.0), (12.0, 9.0), (16.0, 8.0),
                                                 (30.0, 5.0))


def r2_drift(*, paths: int = 8000, tau: float = 0.05, steps: int = 20, z_max: float = 4.0,
             dt: float = 0.1, t_end: float = 20.0, conv_paths: int = 2000,
             seed: int = 11) -> DriftCheck:
    """The drift test of R2's ġ and the dt-convergence of the matrix scheme."""
    rows = drift_test(list(DRIFT_STATES), **DRIFT_PARAMS, tau=tau, steps=steps, paths=paths,
                      seed=seed)
    gaps, ses, crossings = [], [], []
    for step in (dt, dt / 4):
        out = simulate_dyson(**DRIFT_PARAMS, lam0=np.array([12.0, 8.0]), t_end=t_end,
                             dt=step, paths=conv_paths, seed=seed, record_every=t_end)
        d = np.sqrt(np.clip(out.lam[:, -1], 0.0, None))
        g = d[:, 0] - d[:, 1]
        gaps.append(float(g.mean()))
        ses.append(float(g.std(ddof=1) / np.sqrt(g.size)))
        crossings.append(out.crossings)
    return DriftCheck(rows=tuple(rows), paths=paths, tau=tau, steps=steps, z_max=z_max,
                      dts=(dt, dt / 4), mean_gaps=(gaps[0], gaps[1]),
                      mean_gap_se=(ses[0], ses[1]), crossings=(crossings[0], crossings[1]))


DRIFT_QUICK: dict[str, Any] = {"paths": 4000, "conv_paths": 400, "t_end": 5.0}
"""Test sizes of :func:`r2_drift` (``--quick``; still >= 4,000 paths per state)."""


# --------------------------------------------------------------------------- R10, R11


def r10_bbp(
    sizes: tuple[tuple[int, int], ...] = ((10**4, 10), (10**8, 10), (10**5, 40), (10**6, 80)),
    trials: int = 400,
    seed: int = 4,
) -> tuple[BBPResult, ...]:
    """The empirical detection threshold for each (P, W)."""
    ratios = np.linspace(0.5, 2.5, 41)
    return tuple(
        bbp_experiment(P=P, W=Wi, ratios=ratios, trials=trials, seed=seed) for P, Wi in sizes
    )


R10_QUICK: dict[str, Any] = {"sizes": ((10**4, 10), (10**8, 10)), "trials": 200}
"""Test sizes of :func:`r10_bbp` (``--quick``)."""


def r11_krylov(trials: int = 1000, seed: int = 5) -> KrylovResult:
    """k* against the stiff-mode count on random spectra (P = 50, W = 10, η = 1)."""
    return krylov_experiment(trials=trials, P=50, W=10, eta=1.0, seed=seed)


R11_QUICK: dict[str, Any] = {"trials": 200}
"""Test sizes of :func:`r11_krylov` (``--quick``)."""


# --------------------------------------------------------------------------- fit


@dataclass(frozen=True)
class FitRecovery:
    """:func:`spectral_edge.numerics.fit.fit_signal` on simulator data with known (h, Γ, ω):
    fitted on the
    first ``t_split`` snapshots, predicted on the rest. ``errors_*`` are relative errors of
    h_j + ω (the identifiable combination) and Γ_j."""

    truth: dict[str, float]
    fit_mode: FitResult
    fit_gram: FitResult
    errors_mode: dict[str, float]
    errors_gram: dict[str, float]
    omega: float


def _sum_errors(fit: FitResult, h: np.ndarray, gamma: np.ndarray, omega: float):
    out = {}
    for j in range(len(h)):
        fitted = fit.params[f"h_{j + 1}"] + omega
        out[f"h_{j + 1}+omega"] = abs(fitted - (h[j] + omega)) / (h[j] + omega)
        out[f"Gamma_{j + 1}"] = abs(fit.params[f"Gamma_{j + 1}"] - gamma[j]) / gamma[j]
    return out


def fit_recovery(
    *,
    h: np.ndarray = H,
    Gamma: np.ndarray = GAMMA,
    eta: float = ETA,
    omega: float = OMEGA,
    W: int = W,
    steps: int = 400,
    t_split: float = 200.0,
    replicas: int = 1024,
    seed: int = 6,
) -> FitRecovery:
    """Start the simulator at rest, fit the transient of the replica-mean spectrum."""
    prob = QuadraticProblem(h=h, Gamma=Gamma, P=60, seed=seed)
    res = simulate(
        prob,
        "gd",
        eta=eta,
        W=W,
        steps=steps,
        omega=omega,
        replicas=replicas,
        seed=seed,
        record_every=4,
        record_change=False,
    )
    t = res.t.astype(float)
    n = len(h)
    sig_mode = np.sqrt(res.mode_energy.mean(axis=0))
    sig_gram = np.sqrt((res.sigma[:, :, :n] ** 2).mean(axis=0))
    kw = dict(eta=eta, W=W, omega=omega, t_split=t_split)
    # mode energies are independent processes (no repulsion); the Gram levels do repel
    fit_mode = fit_signal(t, sig_mode, fit_noise=False, **kw)
    fit_gram = fit_signal(t, sig_gram, fit_noise=True, **kw)
    truth = {f"h_{j + 1}": float(h[j]) for j in range(n)}
    truth.update({f"Gamma_{j + 1}": float(Gamma[j]) for j in range(n)})
    return FitRecovery(
        truth=truth,
        fit_mode=fit_mode,
        fit_gram=fit_gram,
        errors_mode=_sum_errors(fit_mode, np.asarray(h), np.asarray(Gamma), omega),
        errors_gram=_sum_errors(fit_gram, np.asarray(h), np.asarray(Gamma), omega),
        omega=omega,
    )


FIT_QUICK: dict[str, Any] = {"replicas": 128}
"""Test sizes of :func:`fit_recovery` (``--quick``)."""


EXPERIMENTS: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "r1": (r1_steady_state, R1_QUICK),
    "r2": (r2_gap_trajectory, R2_QUICK),
    "r3": (r3_no_crossing, R3_QUICK),
    "drift": (r2_drift, DRIFT_QUICK),
    "r10": (r10_bbp, R10_QUICK),
    "r11": (r11_krylov, R11_QUICK),
    "fit": (fit_recovery, FIT_QUICK),
}
"""Every experiment by section name, in report order, with its quick (test) sizes."""
