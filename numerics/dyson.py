"""The stochastic eigenvalue system of R3: Euler–Maruyama paths with drift and repulsion.

    dλ_j = [−2η(h_j+ω)λ_j + 2ηWΓ_j + Σ_{i≠j} κ_ij/(λ_j − λ_i)] dt + √κ_jj dB_j,

with κ_ij = η²(N_jλ_i + N_iλ_j) (``theory.export.repulsion_rate``) and the drift-plus-
repulsion from ``theory.export.dyson_rhs``. The diagonal noise rate κ_jj = 2η²N_jλ_j is the
same formula at i = j [ours]; it is the factor 2 between diagonal and off-diagonal noise of a
symmetric (GOE-like) matrix, which is what makes the drift term a level repulsion strong
enough that labelled levels do not cross. λ is kept non-negative inside the square root
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

from numerics.errors import InputError
from numerics.ode import SignalSystem, integrate
from theory import export as tx


@dataclass(frozen=True)
class DysonPaths:
    """Sampled paths: ``lam`` has shape (paths, len(t), n); ``order_preserved[p]`` says
    whether path p kept the initial order of the labelled levels at every step (not only
    the recorded ones); ``crossings`` counts the paths that did not; ``min_rel_sep`` is the
    smallest (λ_(j) − λ_(j+1))/λ_(1) met on any path at any step."""

    t: np.ndarray = field(repr=False)
    lam: np.ndarray = field(repr=False)
    dt: float
    seed: int
    repulsion: bool
    order_preserved: np.ndarray = field(repr=False)
    min_rel_sep: float

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
) -> DysonPaths:
    """Euler–Maruyama paths of the R3 system from ``lam0`` (distinct levels) to ``t_end``.

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
    if not (dt > 0 and t_end > 0 and record_every >= dt):
        raise InputError("need dt > 0, t_end > 0 and record_every >= dt")
    if int(paths) != paths or paths < 1:
        raise InputError(f"paths must be a positive integer, got {paths}")
    steps = int(round(t_end / dt))
    stride = max(1, int(round(record_every / dt)))
    rng = np.random.default_rng(seed)
    order0 = np.argsort(-lam0)
    lam = np.tile(lam0, (int(paths), 1))
    ok = np.ones(int(paths), dtype=bool)
    min_sep = np.inf
    records, times = [lam.copy()], [0.0]
    for step in range(1, steps + 1):
        if repulsion:
            drift = tx.dyson_rhs(lam, system.h, system.Gamma, system.N, eta, omega, W)
        else:
            drift = tx.eigen_drift(lam, system.h, system.Gamma, eta, omega, W)
        rate = tx.repulsion_rate(lam, lam, system.N, system.N, eta)
        noise = np.sqrt(np.clip(rate, 0.0, None) * dt) * rng.normal(size=lam.shape)
        lam = lam + np.asarray(drift) * dt + noise
        ordered = lam[:, order0]
        sep = ordered[:, :-1] - ordered[:, 1:]
        ok &= np.all(sep > 0, axis=1)
        top = np.max(lam, axis=1)
        min_sep = min(min_sep, float(np.min(np.abs(sep) / top[:, None])))
        if step % stride == 0:
            records.append(lam.copy())
            times.append(step * dt)
    return DysonPaths(
        t=np.array(times),
        lam=np.transpose(np.array(records), (1, 0, 2)),
        dt=float(dt),
        seed=int(seed),
        repulsion=bool(repulsion),
        order_preserved=ok,
        min_rel_sep=min_sep,
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
    return MeanPathComparison(
        t=paths.t,
        sde_mean=mean,
        ode=ode,
        max_rel_error=np.max(np.abs(mean - ode), axis=0) / scale,
        stderr_rel=np.max(stderr, axis=0) / scale,
    )
