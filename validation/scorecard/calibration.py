"""Calibration: the power and false-pass rate of a prediction's test on surrogate runs.

A verdict only says something when the test could have told: :func:`calibrate` runs a test
on K surrogate runs generated with the theory true by construction — the exact discrete
reference simulator (:mod:`spectral_edge.numerics.reference`: a quadratic with the run's
curvatures h_j, injections Γ_j, noise N, η, W, window count) — and on K surrogates with a
named :class:`Violation` (a negative control), and returns the pass fraction of each with
its binomial Monte-Carlo standard error. :meth:`Calibration.verdict` maps an observed
outcome to pass / fail / inconclusive (power < 0.8 or false-pass > 0.2) / not measurable.

Surrogates use the column schema of real runs (:mod:`spectral_edge.numerics.columns`):
``spectra`` as spectra.csv (every window statistic from the exact window Gram) and
``probes`` as probes.csv (one row per probed window and mode; modes are matched to the
window's σ_j by their window energy, h and Γ are the true ones times an optional lognormal
measurement error; ``Gamma`` is the squared drive u² as in probes.csv, R1's Γ being
η²(h+ω)u²; ``N`` per optimizer step, N·stride per snapshot; columns the simulator does not
measure are NaN). :func:`spec_from_run` reads a real run's parameters,
:func:`surrogate_runs` turns surrogates into run records the scorers read, and
:func:`calibrate_runs` calibrates any test on run records. One simulator step stands
for one snapshot at η = lr·stride, with the per-snapshot relaxation of ``stride`` real
steps (:meth:`SurrogateSpec.simulated`).

>>> spec = SurrogateSpec(h=(0.5, 4.0), Gamma=(1.0, 0.01), eta=0.05, W=4, windows=6, P=8)
>>> cal = calibrate(lambda s, p: bool((s["kstar"] == 1).mean() > 0.5), spec,
...                 "flat_injection", K=4, seed=0)
>>> cal.K, cal.power, cal.verdict(True)
(4, 1.0, 'inconclusive')
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_finite_number, check_int, check_window
from spectral_edge.numerics import spectra as spectra_mod
from spectral_edge.numerics.columns import names
from spectral_edge.numerics.reference import QuadraticProblem, simulate
from spectral_edge.numerics.snapshot import gamma_from_drive
from spectral_edge.validation.scorecard.rundata import RunData

PASS, FAIL, INCONCLUSIVE, NOT_MEASURABLE = "pass", "fail", "inconclusive", "not measurable"
MIN_POWER, MAX_FALSE_PASS = 0.8, 0.2

Test = Callable[[pd.DataFrame, pd.DataFrame], bool | None]
"""A prediction's test on one run: (spectra, probes) -> passed (None: not measurable)."""


MAX_BURN = 500
"""The most snapshots a surrogate drops before its first window (the real runs are not
at a steady state either; beyond 500 the cost grows and the windows change little)."""


@dataclass(frozen=True)
class SurrogateSpec:
    """A run's measured parameters, as the surrogates reproduce them.

    ``h``/``Gamma``: per-mode curvature and injection (Γ in R1's units, [δ]²/[η]);
    ``eta``: the learning rate (lr), ``stride``: optimizer steps per snapshot (the
    simulator runs at η = lr·stride per snapshot); ``W``; ``windows``: windows kept after
    ``burn_in`` snapshots (default: 3 relaxation times of the slowest mode, at most
    :data:`MAX_BURN`);
    ``P``; ``omega``; ``noise``: gradient-noise power N per coordinate; ``measurement_noise``:
    sd of the lognormal error on the probed h and Γ; ``probe_every``: windows per probe.
    """

    h: tuple[float, ...]
    Gamma: tuple[float, ...]
    eta: float
    W: int
    stride: int = 1
    windows: int = 20
    P: int = 32
    omega: float = 0.0
    noise: float = 0.0
    measurement_noise: float = 0.0
    probe_every: int = 1
    burn_in: int | None = None

    def __post_init__(self) -> None:
        h, gamma = tuple(map(float, self.h)), tuple(map(float, self.Gamma))
        if len(h) < 2 or len(h) != len(gamma):
            raise InputError("h and Gamma need the same number (>= 2) of modes")
        object.__setattr__(self, "h", h)
        object.__setattr__(self, "Gamma", gamma)
        check_finite_number("eta", self.eta, minimum=0.0, strict=True)
        check_window(self.W)
        for name in ("stride", "windows", "probe_every"):
            check_int(name, getattr(self, name), minimum=1)
        check_int("P", self.P, minimum=len(h))
        for name in ("omega", "noise", "measurement_noise"):
            check_finite_number(name, getattr(self, name), minimum=0.0)
        if self.burn_in is not None:
            check_int("burn_in", self.burn_in, minimum=0)

    @property
    def eta_eff(self) -> float:
        """η per snapshot, lr·stride."""
        return float(self.eta) * int(self.stride)

    def simulated(self) -> tuple[np.ndarray, np.ndarray]:
        """(h, Γ) the simulator runs at one step per snapshot of η_eff = lr·stride.

        A snapshot is ``stride`` optimizer steps, over which a mode relaxes by the factor
        (1 − lr(h+ω))^stride; one simulator step at η_eff relaxes it by 1 − η_eff(h_s+ω), so
        h_s = (1 − (1 − lr(h+ω))^stride)/η_eff − ω (= h at stride 1; stable however stiff
        the mode, as the real run is while lr(h+ω) < 1). Γ_s = Γ(h_s+ω)/(h+ω) keeps R1's
        steady state √(WΓ/(h+ω)) of every mode.
        """
        h, gamma = np.array(self.h), np.array(self.Gamma)
        a = np.clip(float(self.eta) * (h + self.omega), 0.0, 1.0 - 1e-12)
        h_s = np.clip((1.0 - (1.0 - a) ** int(self.stride)) / self.eta_eff - self.omega, 0, None)
        with np.errstate(divide="ignore", invalid="ignore"):
            g_s = np.where(h + self.omega > 0, gamma * (h_s + self.omega) / (h + self.omega),
                           gamma)
        return h_s, g_s

    def burn(self) -> int:
        """Snapshots dropped before the first kept window."""
        if self.burn_in is not None:
            return int(self.burn_in)
        slowest = self.eta_eff * (float(self.simulated()[0].min()) + self.omega)
        return int(min(MAX_BURN, math.ceil(3.0 / slowest))) if slowest > 0 else MAX_BURN


@dataclass(frozen=True)
class Surrogate:
    """One surrogate run: ``spectra`` (spectra.csv columns), ``probes`` (probes.csv),
    ``grams`` (grams.npz: the (W+1)×(W+1) Gram of every window)."""

    spectra: pd.DataFrame
    probes: pd.DataFrame
    grams: np.ndarray | None = None


@dataclass(frozen=True)
class Violation:
    """A named negative control: how the theory is made false in the surrogate.

    ``spec`` changes what is simulated; ``probes`` changes what is measured (both optional).
    """

    name: str
    description: str
    spec: Callable[[SurrogateSpec], SurrogateSpec] | None = None
    probes: Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame] | None = None


def _permute(probes: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    out = probes.copy()
    for _, idx in out.groupby("step").groups.items():
        perm = rng.permutation(len(idx))
        while len(idx) > 1 and np.all(perm == np.arange(len(idx))):
            perm = rng.permutation(len(idx))
        for col in ("h", "h_precond", "Gamma"):
            out.loc[idx, col] = out.loc[idx, col].to_numpy()[perm]
    return out


def _flat(spec: SurrogateSpec) -> SurrogateSpec:
    n = len(spec.h)
    return replace(spec, h=(float(np.mean(spec.h)),) * n, Gamma=(float(np.mean(spec.Gamma)),) * n)


def _many(spec: SurrogateSpec) -> SurrogateSpec:
    if spec.W < 7:
        raise InputError("many_active_modes needs W >= 7 (five equal modes and a gap)")
    # stiff (η(h+ω) = 1 per snapshot): slow modes share one temporal profile in a window
    # (R11) and add no direction; five white ones fill five. Driven 100× the strongest
    # measured mode, so they stand far above the noise bulk.
    stiff = max(1.0 / spec.eta_eff - spec.omega, 0.0)
    return replace(spec, h=(stiff,) * 5 + (max(spec.h),),
                   Gamma=(100.0 * max(spec.Gamma),) * 5 + (min(spec.Gamma),))


def _isotropic(spec: SurrogateSpec) -> SurrogateSpec:
    n = len(spec.h)
    # no injection: every update is the isotropic gradient noise (at least the mean drive)
    return replace(spec, Gamma=(0.0,) * n,
                   noise=max(float(spec.noise), float(np.mean(spec.Gamma)) * spec.eta_eff))


VIOLATIONS: dict[str, Violation] = {v.name: v for v in (
    Violation("permuted_hierarchy", "the probed h_j and Γ_j belong to other modes "
              "(permuted within each window): σ_j is unrelated to R1's steady state",
              probes=_permute),
    Violation("flat_injection", "every mode has the mean h and the mean Γ: the gap-driving "
              "and curvature terms are switched off, no hierarchy", spec=_flat),
    Violation("isotropic_updates", "no injection: the updates are the isotropic gradient "
              "noise, so no direction persists from one snapshot to the next", spec=_isotropic),
    Violation("many_active_modes", "five equally driven stiff modes (η(h+ω) = 1, 100× the "
              "strongest Γ) above one weak one: five active directions, the gap at k = 5",
              spec=_many),
)}
"""The named negative controls."""


def surrogates(spec: SurrogateSpec, K: int, seed: int = 0) -> list[Surrogate]:
    """K theory-true surrogate runs of ``spec`` (deterministic in ``seed``).

    Args:
        spec: The run's measured parameters.
        K: Number of surrogates (independent noise and injection streams), >= 1.
        seed: Seed of the streams and of the measurement error.

    Returns:
        K :class:`Surrogate` runs.

    Raises:
        InputError: For K < 1 (bad specs are refused by :class:`SurrogateSpec`).

    >>> s = surrogates(SurrogateSpec(h=(1.0, 2.0), Gamma=(1.0, 0.1), eta=0.1, W=3,
    ...                              windows=4, P=6), K=2)
    >>> len(s), len(s[0].spectra), sorted(s[0].probes["mode"].unique().tolist())
    (2, 4, [1, 2])
    """
    K = check_int("K", K, minimum=1)
    burn, W = spec.burn(), int(spec.W)
    h_sim, gamma_sim = spec.simulated()
    prob = QuadraticProblem(h=h_sim, Gamma=gamma_sim, P=int(spec.P),
                            noise=float(spec.noise), seed=seed)
    res = simulate(prob, "sgd" if spec.noise > 0 else "gd", eta=spec.eta_eff, W=W,
                   steps=W + burn + int(spec.windows), omega=float(spec.omega), replicas=K,
                   seed=seed, keep_grams=True)
    rng = np.random.default_rng([seed, 2])
    keep = res.t > W + burn
    spectra_cols = _expand(names("spectra.csv"), W)
    out = []
    for r in range(K):
        frame = pd.DataFrame([
            {"step": int(step), **spectra_mod.window_stats(P=res.P, gram_plus=gram,
                                                          eta_eff=res.eta).as_row()}
            for step, gram in zip(res.t[keep], res.grams[r][keep], strict=True)])
        snap = frame["step"].to_numpy()
        frame["snapshot"], frame["step"] = snap, snap * int(spec.stride)
        frame["lr"], frame["skipped"] = float(spec.eta), 0
        spectra = frame.reindex(columns=spectra_cols)
        energy = res.mode_energy[r][keep]
        probes = _probes(spec, spectra, energy, rng)
        out.append(Surrogate(spectra=spectra, probes=probes, grams=res.grams[r][keep]))
    return out


def _expand(cols: tuple[str, ...], W: int) -> list[str]:
    out: list[str] = []
    for c in cols:
        out += [c.replace("<j>", str(j)) for j in range(1, W + 1)] if "<j>" in c else [c]
    return out


def _probes(spec: SurrogateSpec, spectra: pd.DataFrame, energy: np.ndarray,
            rng: np.random.Generator) -> pd.DataFrame:
    n = min(len(spec.h), int(spec.W))
    h, gamma = np.array(spec.h), np.array(spec.Gamma)
    # probes.csv's Gamma is the squared drive u²; R1's Γ is η²(h+ω)u² (gamma_from_drive)
    drive_scale = gamma_from_drive(1.0, h, spec.eta_eff, int(spec.W), float(spec.omega))
    rows = []
    for i in range(0, len(spectra), int(spec.probe_every)):
        order = np.argsort(-energy[i])[:n]  # v_j of the window ~ the j-th most energetic mode
        err = np.exp(spec.measurement_noise * rng.normal(size=(2, n)))
        for j in range(n):
            m = order[j]
            rows.append({"step": int(spectra["step"].iloc[i]), "mode": j + 1,
                         "kstar_weighted": int(spectra["kstar_weighted"].iloc[i]),
                         "sigma": float(spectra[f"sigma_{j + 1}"].iloc[i]),
                         "eta_eff": spec.eta_eff, "wd": float(spec.omega),
                         "h": h[m] * err[0, j], "h_precond": h[m] * err[0, j],
                         "Gamma": gamma[m] * err[1, j] / drive_scale[m],
                         "N": float(spec.noise) * int(spec.stride)})
    return pd.DataFrame(rows).reindex(columns=list(names("probes.csv")))


@dataclass(frozen=True)
class Calibration:
    """Power and false-pass rate of a test, each over K surrogates with its binomial MC
    standard error; ``unmeasurable_*`` count surrogates where the test returned None
    (counted as not passing)."""

    violation: str
    K: int
    power: float
    power_se: float
    false_pass: float
    false_pass_se: float
    unmeasurable_true: int
    unmeasurable_false: int
    min_power: float = MIN_POWER
    max_false_pass: float = MAX_FALSE_PASS

    @property
    def conclusive(self) -> bool:
        """Power ≥ ``min_power`` and false-pass ≤ ``max_false_pass``."""
        return self.power >= self.min_power and self.false_pass <= self.max_false_pass

    def verdict(self, observed: bool | None) -> str:
        """The calibrated verdict of an observed outcome.

        Args:
            observed: The test's outcome on the real run (None: not measurable there).

        Returns:
            ``not measurable``, ``inconclusive``, ``pass`` or ``fail``.
        """
        if observed is None:
            return NOT_MEASURABLE
        if not self.conclusive:
            return INCONCLUSIVE
        return PASS if observed else FAIL


def _rate(outcomes: list[bool | None]) -> tuple[float, float, int]:
    k = len(outcomes)
    p = sum(1 for o in outcomes if o) / k
    return p, math.sqrt(p * (1 - p) / k), sum(1 for o in outcomes if o is None)


def calibrate(test: Test, spec: SurrogateSpec, violation: str | Violation, *, K: int = 20,
              seed: int = 0, min_power: float = MIN_POWER,
              max_false_pass: float = MAX_FALSE_PASS) -> Calibration:
    """Run ``test`` on K theory-true and K violating surrogates of ``spec``.

    Args:
        test: (spectra, probes) -> True / False / None (not measurable).
        spec: The run's measured parameters.
        violation: A key of :data:`VIOLATIONS` or a :class:`Violation`.
        K: Surrogates per side.
        seed: Seed (the violating side uses an independent stream).
        min_power: Power below which a verdict is inconclusive.
        max_false_pass: False-pass rate above which a verdict is inconclusive.

    Returns:
        The frozen :class:`Calibration`.

    Raises:
        InputError: For an unknown violation name or bad arguments.
    """
    if isinstance(violation, str):
        if violation not in VIOLATIONS:
            raise InputError(f"unknown violation {violation!r}; known: {sorted(VIOLATIONS)}")
        violation = VIOLATIONS[violation]
    check_finite_number("min_power", min_power, minimum=0.0)
    check_finite_number("max_false_pass", max_false_pass, minimum=0.0)
    true_runs = surrogates(spec, K, seed)
    false_spec = violation.spec(spec) if violation.spec else spec
    false_runs = surrogates(false_spec, K, seed + 1_000_003)
    if violation.probes is not None:
        rng = np.random.default_rng([seed, 3])
        false_runs = [Surrogate(s.spectra, violation.probes(s.probes, rng), s.grams)
                      for s in false_runs]
    power, power_se, un_t = _rate([test(s.spectra, s.probes) for s in true_runs])
    fp, fp_se, un_f = _rate([test(s.spectra, s.probes) for s in false_runs])
    return Calibration(violation=violation.name, K=int(K), power=power, power_se=power_se,
                       false_pass=fp, false_pass_se=fp_se, unmeasurable_true=un_t,
                       unmeasurable_false=un_f, min_power=float(min_power),
                       max_false_pass=float(max_false_pass))


# --------------------------------------------------------------------------- run records

RunTest = Callable[[list[RunData]], "bool | None"]
"""A prediction's test on run records: passed (None: not measurable)."""

RunMaker = Callable[[int], list[RunData]]
"""Surrogate run records for one seed."""

SURROGATE_P = 32
"""Dimension of the surrogate quadratic (enough for W ≤ 16 modes and a noise bulk)."""


def _median_by_mode(probes: pd.DataFrame, col: str, modes: int) -> np.ndarray:
    med = probes.groupby("mode")[col].median()
    return np.array([float(med.get(j, np.nan)) for j in range(1, modes + 1)])


def spec_from_run(run: RunData, *, measurement_noise: float = 0.3,
                  P: int = SURROGATE_P) -> SurrogateSpec:
    """The :class:`SurrogateSpec` of a real run: its probed per-mode curvature and drive.

    Per mode j (1..modes probed) the median over probed windows of the curvature
    (``h_precond``, else ``h``) and of the squared drive u² (``Gamma``), turned into R1's
    Γ_j = η²(h_j+ω)u_j² (:func:`~spectral_edge.numerics.snapshot.gamma_from_drive`); the
    noise N per snapshot is the median probed N divided by the stride (N is per optimizer
    step, the simulator runs one step per snapshot at η = lr·stride); W, the stride, ω, and
    the window count are the run's.

    Args:
        run: A run with probes (``probes.csv``) and a learning rate.
        measurement_noise: sd of the lognormal error put on the surrogates' probed h and Γ.
        P: Dimension of the surrogate quadratic.

    Returns:
        The spec.

    Raises:
        InputError: When the run has no probes, no learning rate, or fewer than two usable
            modes.
    """
    pr = run.probes
    if pr is None or not len(pr):
        raise InputError(f"{run.name}: no probes.csv to read h, Γ, N from")
    eta, stride = float(run.get("lr", math.nan)), int(run.get("stride", 1) or 1)
    if not math.isfinite(eta) or eta <= 0:
        raise InputError(f"{run.name}: no learning rate (config lr)")
    omega = float(run.get("wd", 0.0) or 0.0)
    modes = int(min(pr["mode"].max(), run.W))
    col = "h_precond" if "h_precond" in pr and pr["h_precond"].notna().any() else "h"
    h = np.clip(_median_by_mode(pr, col, modes), 0.0, None)
    u2 = _median_by_mode(pr, "Gamma", modes)
    ok = np.isfinite(h) & np.isfinite(u2) & (h + omega > 0)
    if ok.sum() < 2:
        raise InputError(f"{run.name}: fewer than two probed modes with finite h and Γ")
    h, u2 = h[ok], u2[ok]
    gamma = gamma_from_drive(np.sqrt(u2), h, eta * stride, run.W, omega)
    noise = float(np.nanmedian(pr["N"])) / stride if "N" in pr else 0.0
    probed = max(int(pr["step"].nunique()), 1)
    return SurrogateSpec(h=tuple(h), Gamma=tuple(np.asarray(gamma, float)), eta=eta, W=run.W,
                         stride=stride, windows=max(len(run.spectra), 2), P=max(P, len(h) + 2),
                         omega=omega, noise=noise if math.isfinite(noise) else 0.0,
                         measurement_noise=measurement_noise,
                         probe_every=max(1, round(len(run.spectra) / probed)))


def surrogate_runs(spec: SurrogateSpec, like: RunData, K: int, seed: int = 0,
                   violation: str | Violation | None = None) -> list[RunData]:
    """K surrogate run records of ``spec``, named and configured like ``like``.

    Args:
        spec: The parameters to simulate (e.g. :func:`spec_from_run` of ``like``).
        like: The real run whose config (task, lr, stride, wd, optimizer…) they carry.
        K: How many.
        seed: Seed.
        violation: A negative control (name or :class:`Violation`) applied, or None.

    Returns:
        K :class:`RunData` with ``spectra`` and ``probes`` (no metrics).

    Raises:
        InputError: For an unknown violation.
    """
    if isinstance(violation, str):
        if violation not in VIOLATIONS:
            raise InputError(f"unknown violation {violation!r}; known: {sorted(VIOLATIONS)}")
        violation = VIOLATIONS[violation]
    if violation is not None and violation.spec is not None:
        spec = violation.spec(spec)
    out = surrogates(spec, K, seed)
    if violation is not None and violation.probes is not None:
        rng = np.random.default_rng([seed, 3])
        out = [Surrogate(s.spectra, violation.probes(s.probes, rng), s.grams) for s in out]
    return [RunData(name=f"{like.name}~{seed}.{i}", path=like.path, spectra=s.spectra,
                    config=dict(like.config), probes=s.probes, grams=s.grams)
            for i, s in enumerate(out)]


def calibrate_runs(test: RunTest, make_true: RunMaker, make_false: RunMaker, *,
                   violation: str, K: int = 20, seed: int = 0,
                   min_power: float = MIN_POWER,
                   max_false_pass: float = MAX_FALSE_PASS) -> Calibration:
    """Power and false-pass rate of a test on run records (any prediction, any data).

    ``make_true(s)`` returns the run records of surrogate replicate s generated with the
    theory true, ``make_false(s)`` those of the negative control; the test is applied to
    each replicate's records as it is applied to the real runs.

    Args:
        test: Run records -> passed (None: not measurable).
        make_true: Replicate seed -> theory-true surrogate runs.
        make_false: Replicate seed -> negative-control surrogate runs.
        violation: The negative control's name (reported).
        K: Replicates per side.
        seed: Base seed (replicate s uses seed + s; the control side seed + 10⁶ + s).
        min_power: Power below which a verdict is inconclusive.
        max_false_pass: False-pass rate above which a verdict is inconclusive.

    Returns:
        The frozen :class:`Calibration`.

    Raises:
        InputError: For K < 1.

    >>> cal = calibrate_runs(lambda runs: len(runs) > 0, lambda s: [1], lambda s: [],
    ...                      violation="empty", K=3)
    >>> cal.power, cal.false_pass, cal.conclusive
    (1.0, 0.0, True)
    """
    K = check_int("K", K, minimum=1)
    power, power_se, un_t = _rate([test(make_true(seed + s)) for s in range(K)])
    fp, fp_se, un_f = _rate([test(make_false(seed + 1_000_000 + s)) for s in range(K)])
    return Calibration(violation=violation, K=K, power=power, power_se=power_se,
                       false_pass=fp, false_pass_se=fp_se, unmeasurable_true=un_t,
                       unmeasurable_false=un_f, min_power=float(min_power),
                       max_false_pass=float(max_false_pass))
