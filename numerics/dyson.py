"""The stochastic eigenvalue system of R3: Euler–Maruyama paths with drift and repulsion.

    dλ_j = [−2η(h_j+ω)λ_j + 2ηWΓ_j + Σ_{i≠j} κ_ij/(λ_j − λ_i)] dt + √κ_jj dB_j,

with κ_ij = η²(N_jλ_i + N_iλ_j) (``spectral_edge.theory.lambdified.repulsion_rate``) and the
drift-plus-
repulsion from ``spectral_edge.theory.lambdified.dyson_rhs``. The diagonal noise rate κ_jj =
4η²N_jλ_j is
derived in R3 (``spectral_edge.theory.lambdified.diffusion_rate``: the variance of the diagonal
Gram entry
under A2's noise), twice κ_ij at i = j — the GOE ratio. The simulator scales it by
``diag_factor`` (default 0.5, i.e. 2η²N_jλ_j, the rate used before R3 derived κ_jj: with it
the gap of two levels is a dimension-3 Bessel process that never reaches 0; with the derived
rate, ``diag_factor=1``, it is of dimension 2 — marginal, and Euler steps cross).
:func:`gap_mean_path` compares the mean gap d_1 − d_2 of such paths with R2's gap ODE with
the derived Dyson term and with D = 0. λ is kept non-negative inside the square root
(full truncation). ``repulsion=False`` keeps the same noise but drops the repulsion (the
control in which levels do cross).

>>> paths = simulate_dyson(h=np.array([1.0, 1.1]), Gamma=np.array([1.0, 0.9]),
...     N=np.array([50.0, 50.0]), eta=0.1, W=10, lam0=np.array([12.0, 6.0]),
...     t_end=50.0, dt=0.01, paths=20, seed=0)
>>> paths.lam.shape, paths.crossings
((20, 51, 2), 0)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_int
from spectral_edge.numerics.ode import PairSystem, SignalSystem, integrate
from spectral_edge.theory import lambdified as tx


@dataclass(frozen=True)
class DysonPaths:
    """Sampled paths: ``lam`` has shape (paths, len(t), n); ``order_preserved[p]`` says
    whether path p kept the initial order of the labelled levels at every step (not only
    the recorded ones); ``crossings`` counts the paths that did not; ``min_rel_sep`` is the
    smallest (λ_(j) − λ_(j+1))/λ_(1) met on any path at any step; ``n_steps`` the number of
    Euler–Maruyama iterations (the longest path's step count)."""

    t: np.ndarray = field(repr=False)
    lam: np.ndarray = field(repr=False)
    dt: float
    seed: int
    repulsion: bool
    order_preserved: np.ndarray = field(repr=False)
    min_rel_sep: float
    n_steps: int

    @property
    def crossings(self) -> int:
        """Number of paths on which two levels crossed."""
        return int(np.count_nonzero(~self.order_preserved))

    def mean(self) -> np.ndarray:
        """Mean path over the samples, shape (len(t), n)."""
        return self.lam.mean(axis=0)


def simulate_dyson(
    *,
    h: np.ndarray,
    Gamma: np.ndarray,
    N: np.ndarray,
    eta: float,
    W: int,
    lam0: np.ndarray,
    t_end: float,
    dt: float,
    paths: int,
    omega: float = 0.0,
    seed: int = 0,
    record_every: float = 1.0,
    repulsion: bool = True,
    safety: float | None = None,
    diag_factor: float = 0.5,
) -> DysonPaths:
    """Euler–Maruyama paths of the R3 system from ``lam0`` (distinct levels) to ``t_end``.

    With ``safety`` set, the step shrinks near a close approach so that the noise increment
    of a gap stays a fraction of the gap: dt_k = min(dt, safety·gap²/(2 max κ_jj)),
    per path, each path on its own clock (a gap-adaptive Euler–Maruyama step, as used for
    Dyson Brownian motion). A fixed
    step lets discrete jumps cross levels at a rate that vanishes as dt → 0.

    >>> p = simulate_dyson(h=np.ones(2), Gamma=np.ones(2), N=np.zeros(2), eta=0.1, W=10,
    ...                    lam0=np.array([3.0, 1.0]), t_end=0.5, dt=0.5, paths=1,
    ...                    record_every=0.5)
    >>> np.round(p.lam[0, -1], 12).tolist()  # N = 0: one Euler step of the R1 drift
    [3.7, 1.9]
    """
    system = SignalSystem(h=h, Gamma=Gamma, eta=eta, W=W, omega=omega, N=N)
    lam0 = np.asarray(lam0, dtype=np.float64)
    if lam0.shape != system.h.shape or np.any(lam0 <= 0):
        raise InputError(f"lam0 must hold {system.n} positive levels")
    if np.unique(lam0).size != lam0.size:
        raise InputError("initial levels must be distinct")
    if not (dt > 0 and t_end > 0 and record_every > 0):
        raise InputError("need dt > 0, t_end > 0 and record_every > 0")
    paths = check_int("paths", paths, minimum=1)
    n_rec = int(round(t_end / record_every))
    if n_rec < 1 or abs(n_rec * record_every - t_end) > 1e-9 * t_end:
        raise InputError("t_end must be a whole multiple of record_every")
    rng = np.random.default_rng(seed)
    order0 = np.argsort(-lam0)
    R = int(paths)
    lam = np.tile(lam0, (R, 1))
    records = np.empty((R, n_rec + 1, lam0.size))
    records[:, 0] = lam0
    clock = np.zeros(R)  # every path runs on its own clock (its own adaptive steps)
    slot = np.ones(R, dtype=int)  # index of the next record of each path
    ok = np.ones(R, dtype=bool)
    min_sep, n_steps = np.inf, 0
    active = slot <= n_rec
    while active.any():
        if repulsion:
            drift = tx.dyson_rhs(lam, system.h, system.Gamma, system.N, eta, omega, W)
        else:
            drift = tx.eigen_drift(lam, system.h, system.Gamma, eta, omega, W)
        rate = np.clip(diag_factor * tx.diffusion_rate(lam, system.N, eta), 0.0, None)
        target = slot * record_every
        step = np.minimum(dt, target - clock)
        if safety is not None:
            ordered = lam[:, order0]
            gap = np.min(np.abs(ordered[:, :-1] - ordered[:, 1:]), axis=1)
            bound = safety * gap**2 / (2.0 * rate.max(axis=1) + 1e-300)
            step = np.maximum(np.minimum(step, bound), dt * 1e-6)
        step = np.where(active, step, 0.0)[:, None]
        lam = lam + np.asarray(drift) * step + np.sqrt(rate * step) * rng.normal(size=lam.shape)
        clock += step[:, 0]
        n_steps += 1
        ordered = lam[:, order0]
        sep = ordered[:, :-1] - ordered[:, 1:]
        ok &= np.all(sep > 0, axis=1) | ~active
        rel = np.abs(sep[active]) / np.max(lam[active], axis=1, keepdims=True)
        min_sep = min(min_sep, float(rel.min()))
        hit = active & (clock >= target * (1 - 1e-12))
        records[hit, slot[hit]] = lam[hit]
        slot[hit] += 1
        active = slot <= n_rec
    return DysonPaths(
        t=record_every * np.arange(n_rec + 1),
        lam=records,
        dt=float(dt),
        seed=int(seed),
        repulsion=bool(repulsion),
        order_preserved=ok,
        min_rel_sep=min_sep,
        n_steps=n_steps,
    )


@dataclass(frozen=True)
class MeanPathComparison:
    """Mean SDE path vs the deterministic ODE (drift + repulsion) on the recorded times:
    ``max_rel_error[j]`` = max_t |mean λ_j − λ_j^ODE| / max_t λ_j^ODE; ``stderr_rel[j]`` the
    largest Monte-Carlo standard error of the mean on the same scale."""

    t: np.ndarray = field(repr=False)
    sde_mean: np.ndarray = field(repr=False)
    ode: np.ndarray = field(repr=False)
    max_rel_error: np.ndarray
    stderr_rel: np.ndarray
    late_bias: np.ndarray
    late_bias_se: np.ndarray


def compare_mean_path(
    paths: DysonPaths,
    *,
    h: np.ndarray,
    Gamma: np.ndarray,
    N: np.ndarray,
    eta: float,
    W: int,
    omega: float = 0.0,
) -> MeanPathComparison:
    """Integrate the ODE from the same start and compare it with the mean of ``paths``.

    >>> p = simulate_dyson(h=np.ones(2), Gamma=np.ones(2), N=np.zeros(2), eta=0.1, W=10,
    ...                    lam0=np.array([3.0, 1.0]), t_end=20.0, dt=0.01, paths=1)
    >>> cmp = compare_mean_path(p, h=np.ones(2), Gamma=np.ones(2), N=np.zeros(2),
    ...                         eta=0.1, W=10)
    >>> bool(cmp.max_rel_error.max() < 1e-2)  # N = 0: Euler vs an accurate solver
    True
    """
    system = SignalSystem(h=h, Gamma=Gamma, eta=eta, W=W, omega=omega, N=N)
    sol = integrate(system, paths.lam[0, 0], (0.0, float(paths.t[-1])), t_eval=paths.t)
    if not sol.success:
        raise InputError(f"ODE integration failed: {sol.message}")
    ode = sol.y.T
    mean = paths.mean()
    scale = np.max(np.abs(ode), axis=0)
    stderr = paths.lam.std(axis=0) / np.sqrt(paths.lam.shape[0])
    late = paths.t >= paths.t[-1] / 2
    per_path = paths.lam[:, late].mean(axis=1)  # (paths, n)
    ode_late = ode[late].mean(axis=0)
    return MeanPathComparison(
        t=paths.t,
        sde_mean=mean,
        ode=ode,
        max_rel_error=np.max(np.abs(mean - ode), axis=0) / scale,
        stderr_rel=np.max(stderr, axis=0) / scale,
        late_bias=(per_path.mean(axis=0) - ode_late) / ode_late,
        late_bias_se=(
            per_path.std(axis=0, ddof=1) / np.sqrt(per_path.shape[0]) / ode_late
            if per_path.shape[0] > 1
            else np.full(ode_late.shape, np.nan)
        ),
    )


@dataclass(frozen=True)
class GapPathComparison:
    """Mean gap path g = d_1 − d_2 of SDE paths against R2's gap ODE integrated with the
    derived Dyson term (``ode_derived``) and with D = 0 (``ode_no_d``): ``error_*`` is
    max_t |mean g − g_ODE| / max_t mean g; ``stderr`` the largest Monte-Carlo standard error
    of the mean gap on the same scale."""

    t: np.ndarray = field(repr=False)
    sde_mean: np.ndarray = field(repr=False)
    ode_derived: np.ndarray = field(repr=False)
    ode_no_d: np.ndarray = field(repr=False)
    error_derived: float
    error_no_d: float
    stderr: float


def gap_mean_path(paths: DysonPaths, *, h: np.ndarray, Gamma: np.ndarray, N: np.ndarray,
                  eta: float, W: int, omega: float = 0.0) -> GapPathComparison:
    """Compare the mean gap of two-level ``paths`` with R2 (``PairSystem``) with and without
    the derived D.

    >>> kw = dict(h=np.array([1.0, 1.1]), Gamma=np.array([1.0, 0.9]), N=np.array([20.0, 20.0]),
    ...           eta=0.1, W=10)
    >>> p = simulate_dyson(**kw, lam0=np.array([12.0, 8.0]), t_end=10.0, dt=0.01, paths=50)
    >>> cmp = gap_mean_path(p, **kw)
    >>> cmp.ode_derived.shape == cmp.sde_mean.shape
    True
    """
    if paths.lam.shape[-1] != 2:
        raise InputError("gap_mean_path needs paths of two levels")
    d = np.sqrt(np.clip(paths.lam, 0.0, None))
    gaps = d[..., 0] - d[..., 1]
    mean = gaps.mean(axis=0)
    g0, dbar0 = gaps[0, 0], d[0, 0].mean()
    out = []
    for noise in (np.asarray(N, dtype=float), np.zeros(2)):
        pair = PairSystem(h_k=h[0], h_k1=h[1], Gamma_k=Gamma[0], Gamma_k1=Gamma[1], eta=eta,
                          W=W, omega=omega, N_k=noise[0], N_k1=noise[1])
        sol = integrate(pair, [g0, dbar0], (0.0, float(paths.t[-1])), t_eval=paths.t)
        if not sol.success:
            raise InputError(f"ODE integration failed: {sol.message}")
        out.append(sol.y[0])
    scale = float(np.max(np.abs(mean)))
    stderr = float(np.max(gaps.std(axis=0) / np.sqrt(gaps.shape[0]))) / scale
    return GapPathComparison(
        t=paths.t, sde_mean=mean, ode_derived=out[0], ode_no_d=out[1],
        error_derived=float(np.max(np.abs(mean - out[0]))) / scale,
        error_no_d=float(np.max(np.abs(mean - out[1]))) / scale,
        stderr=stderr,
    )
