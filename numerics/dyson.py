"""The stochastic eigenvalue system of R3, simulated as the matrix process it comes from.

    dλ_j = [−2η(h_j+ω)λ_j + 2ηWΓ_j + Wη²N_j + Σ_{i≠j} κ_ij/(λ_j − λ_i)] dt + √κ_jj dB_j,

with κ_ij = η²(N_jλ_i + N_iλ_j) and the derived diagonal rate κ_jj = 4η²N_jλ_j (R3, the real
Gram / Wishart rate; ``spectral_edge.theory.lambdified``). Two schemes:

* ``scheme="matrix"`` (default): integrate the W×n window X itself, λ = eig(XᵀX). Per step,
  in the current eigenbasis V of XᵀX, X is scaled along each mode so that λ_j moves by
  exactly the Euler step of R1's drift, then noise η·dZ·V·diag(√N)·Vᵀ is added (dZ: W×n
  i.i.d. N(0, dt)). Itô's formula on the eigenvalues of such an X gives R3's system exactly
  (noise mean, repulsion and κ_jj included), and the levels, read off sorted, stay ordered
  by construction: h, Γ and N belong to the j-th largest level.
* ``scheme="levels"``: Euler–Maruyama on the labelled levels, with drift + noise mean +
  repulsion from ``spectral_edge.theory.lambdified.dyson_rhs`` and rate
  ``diag_factor``·κ_jj (default the derived 1). At the derived rate two levels form a Bessel
  process of dimension 2 and Euler steps cross; a crossing is counted, not repaired.

:func:`drift_test` measures E[Δg | state]/τ over short bursts from fixed states and compares
it with R2's ġ with the derived D and with D = 0.

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
from spectral_edge.numerics.ode import SignalSystem, integrate
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
    diag_factor: float = 1.0,
    scheme: str = "matrix",
) -> DysonPaths:
    """Paths of the R3 system from ``lam0`` (distinct levels) to ``t_end``.

    ``scheme="matrix"`` (default) integrates the window matrix (see the module docstring;
    needs W >= n, ``repulsion`` must be True: the repulsion is not a term there but a
    property of eigenvalues). ``scheme="levels"`` is Euler–Maruyama on the labelled levels.

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
    if scheme not in ("matrix", "levels"):
        raise InputError(f"scheme must be 'matrix' or 'levels', got {scheme!r}")
    n_rec = int(round(t_end / record_every))
    if n_rec < 1 or abs(n_rec * record_every - t_end) > 1e-9 * t_end:
        raise InputError("t_end must be a whole multiple of record_every")
    if scheme == "matrix":
        return _simulate_matrix(system, lam0, t_end=t_end, dt=dt, paths=int(paths), seed=seed,
                                record_every=record_every, n_rec=n_rec,
                                repulsion=repulsion)
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
            drift = tx.dyson_rhs(lam, system.h, system.Gamma, system.N, eta, omega, W) \
                - _pair_sum(lam, system.N, eta)
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


def _pair_sum(lam: np.ndarray, N: np.ndarray, eta: float) -> np.ndarray:
    """Σ_{i≠j} κ_ij/(λ_j − λ_i): the repulsion part of R3's drift (``repulsion=False``
    removes it and keeps the rest, noise mean included)."""
    rate = tx.repulsion_rate(lam[..., None, :], lam[..., :, None], N[None, :],
                             N[:, None], eta)
    with np.errstate(divide="ignore", invalid="ignore"):
        pair = rate / (lam[..., :, None] - lam[..., None, :])
    off = ~np.eye(lam.shape[-1], dtype=bool)
    return np.where(off, pair, 0.0).sum(axis=-1)


def _matrix_step(x: np.ndarray, system: SignalSystem, step: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    """One step of the window matrix ``x`` (paths, W, n): R1's drift as an exact Euler step
    of each level (scaling along its eigenvector), then the noise of A2 along the modes."""
    lam, vec = np.linalg.eigh(np.einsum("pwi,pwj->pij", x, x))
    lam, vec = lam[:, ::-1], vec[:, :, ::-1]  # descending: column j is the j-th level
    lam = np.clip(lam, 1e-300, None)
    drift = tx.eigen_drift(lam, system.h, system.Gamma, system.eta, system.omega, system.W)
    scale = np.sqrt(np.clip(1.0 + drift * step / lam, 0.0, None))
    mode = np.einsum("pij,pj,pkj->pik", vec, scale, vec)
    noise_root = np.einsum("pij,j,pkj->pik", vec, np.sqrt(system.N), vec)
    dz = rng.normal(size=x.shape) * np.sqrt(step)[:, :, None]
    return x @ mode + system.eta * dz @ noise_root


def _simulate_matrix(system: SignalSystem, lam0: np.ndarray, *, t_end: float, dt: float,
                     paths: int, seed: int, record_every: float, n_rec: int,
                     repulsion: bool) -> DysonPaths:
    """The ``scheme="matrix"`` branch of :func:`simulate_dyson` (fixed step)."""
    if not repulsion:
        raise InputError("the matrix scheme has no repulsion=False control (the repulsion "
                         "is a property of eigenvalues there); use scheme='levels'")
    n, width = lam0.size, int(system.W)
    if width < n:
        raise InputError(f"the matrix scheme needs W >= n levels (W = {width}, n = {n})")
    rng = np.random.default_rng(seed)
    x = np.zeros((paths, width, n))
    x[:, np.arange(n), np.arange(n)] = np.sqrt(np.sort(lam0)[::-1])
    records = np.empty((paths, n_rec + 1, n))
    records[:, 0] = np.sort(lam0)[::-1]
    min_sep, n_steps, clock = np.inf, 0, 0.0
    for slot_index in range(1, n_rec + 1):
        target = slot_index * record_every
        while clock < target * (1 - 1e-12):
            h_step = min(dt, target - clock)
            x = _matrix_step(x, system, np.full((paths, 1), h_step), rng)
            clock += h_step
            n_steps += 1
            lam = np.linalg.eigvalsh(np.einsum("pwi,pwj->pij", x, x))[:, ::-1]
            sep = (lam[:, :-1] - lam[:, 1:]) / np.max(np.abs(lam), axis=1, keepdims=True)
            min_sep = min(min_sep, float(sep.min()))
        records[:, slot_index] = np.linalg.eigvalsh(np.einsum("pwi,pwj->pij", x, x))[:, ::-1]
    ok = np.all(records[:, 1:, :-1] > records[:, 1:, 1:], axis=(1, 2)) & (min_sep > 0)
    return DysonPaths(
        t=record_every * np.arange(n_rec + 1), lam=records, dt=float(dt), seed=int(seed),
        repulsion=True, order_preserved=ok, min_rel_sep=min_sep, n_steps=n_steps,
    )


@dataclass(frozen=True)
class DriftRow:
    """One fixed state of :func:`drift_test`: the measured E[Δg]/τ with its standard error,
    R2's ġ with the derived D and with D = 0, and their distances in standard errors."""

    lam: tuple[float, float]
    gap: float
    measured: float
    stderr: float
    predicted_derived: float
    predicted_no_d: float

    @property
    def z_derived(self) -> float:
        """(measured − ġ with derived D) / standard error."""
        return (self.measured - self.predicted_derived) / self.stderr

    @property
    def z_no_d(self) -> float:
        """(measured − ġ with D = 0) / standard error."""
        return (self.measured - self.predicted_no_d) / self.stderr


def drift_test(states: list[tuple[float, float]], *, h: np.ndarray, Gamma: np.ndarray,
               N: np.ndarray, eta: float, W: int, omega: float = 0.0, tau: float = 0.1,
               steps: int = 20, paths: int = 4000, seed: int = 0) -> list[DriftRow]:
    """E[Δg | state]/τ of the matrix process over bursts of length ``tau`` from each fixed
    state λ = (λ_1, λ_2), against R2's ġ (``tx.gap_flow_rhs``) with the derived D and with
    N = 0 (D = 0). Standard error: std(Δg)/(τ√paths).

    >>> rows = drift_test([(12.0, 6.0)], h=np.array([1.0, 1.1]), Gamma=np.array([1.0, 0.9]),
    ...                   N=np.array([20.0, 20.0]), eta=0.1, W=10, paths=500, steps=5)
    >>> rows[0].stderr > 0 and rows[0].predicted_derived != rows[0].predicted_no_d
    True
    """
    paths = check_int("paths", paths, minimum=2)
    steps = check_int("steps", steps, minimum=1)
    if not tau > 0:
        raise InputError(f"tau must be > 0, got {tau}")
    h, Gamma, N = (np.asarray(a, dtype=np.float64) for a in (h, Gamma, N))
    rows = []
    for index, (l1, l2) in enumerate(states):
        if not l1 > l2 > 0:
            raise InputError(f"states need λ_1 > λ_2 > 0, got {(l1, l2)}")
        out = simulate_dyson(h=h, Gamma=Gamma, N=N, eta=eta, W=W, omega=omega,
                             lam0=np.array([l1, l2]), t_end=tau, dt=tau / steps, paths=paths,
                             seed=seed + index, record_every=tau)
        d = np.sqrt(np.clip(out.lam[:, -1], 0.0, None))
        g0 = np.sqrt(l1) - np.sqrt(l2)
        dg = (d[:, 0] - d[:, 1] - g0) / tau
        args = (np.sqrt(l1), np.sqrt(l2), h[0], h[1], Gamma[0], Gamma[1])
        rows.append(DriftRow(
            lam=(float(l1), float(l2)), gap=float(g0), measured=float(dg.mean()),
            stderr=float(dg.std(ddof=1) / np.sqrt(paths)),
            predicted_derived=float(tx.gap_flow_rhs(*args, N[0], N[1], eta, omega, W)),
            predicted_no_d=float(tx.gap_flow_rhs(*args, 0.0, 0.0, eta, omega, W)),
        ))
    return rows


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
