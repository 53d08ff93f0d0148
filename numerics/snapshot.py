"""P7's pieces: R1+R3 over one snapshot, the slow-relaxation flag, the noise ceiling of R².

The gap flow R2 is a statement about a rate; a run measures the change of the gap between
two snapshots. :func:`predict_gap_change` integrates the level system of R1 + R3
(:class:`~spectral_edge.numerics.ode.SignalSystem`, right-hand sides lambdified from theory)
exactly over the interval from a window's measured levels, instead of one forward-Euler
step, which is wrong whenever η(h+ω) is not small. :func:`relaxation_number` is the product
η(h+ω)W whose smallness (the slow-relaxation hypothesis under which R1/R2 are derived) is
flagged per window. :func:`noise_ceiling` is the best R² any prediction can reach against an
observed ġ that is signal plus white noise.

Units (docs/predictions.md, "Units"): time in snapshots, η = lr·stride per snapshot, Γ_j in
[δ]²/[η] — :func:`gamma_from_drive` turns a measured drive u_j into that Γ_j.

>>> p = predict_gap_change([3.0, 1.0], h=[1.0, 1.0], Gamma=[0.9, 0.1], eta=0.1, W=10)
>>> round(p.change, 6), p.slow  # at R1's steady state nothing moves; η(h+ω)W = 1 is not ≪ 1
(0.0, False)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_finite_number, check_window
from spectral_edge.numerics.ode import SignalSystem, integrate
from spectral_edge.theory import lambdified as tx

SLOW_THRESHOLD = 0.1
"""Default bound on η(h+ω)W for "≪ 1": one decade below 1 (ours, not the paper's)."""


@dataclass(frozen=True)
class SnapshotPrediction:
    """The gap over one snapshot by R1 + R3.

    ``g_start``/``g_end``: σ_k − σ_k+1 at the start and after ``dt`` snapshots (exact
    integration); ``change`` their difference; ``euler_change`` the one-step forward-Euler
    value dt·ġ(start) for comparison; ``sigma_end`` the levels (sorted) after ``dt``;
    ``relaxation`` η(h̄+ω)W of the pair at k and ``slow`` whether it is below the threshold.
    """

    g_start: float
    g_end: float
    change: float
    euler_change: float
    sigma_end: np.ndarray
    relaxation: float
    slow: bool


def _array(name: str, value: object, n: int | None = None) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 1 or (n is not None and arr.size != n) or not np.all(np.isfinite(arr)):
        want = f"({n},)" if n is not None else "1-D"
        raise InputError(f"{name} must be a finite {want} array, got {arr.shape}")
    if np.any(arr < 0):
        raise InputError(f"{name} must be >= 0")
    return arr


def relaxation_number(eta: float, h: np.ndarray | float, W: int,
                      omega: float = 0.0) -> np.ndarray:
    """η(h+ω)W: how far a window relaxes within its own length (η = lr·stride).

    R1 and R2 are derived for windows whose modes relax slowly, η(h+ω)W ≪ 1.

    Args:
        eta: Learning rate per snapshot (lr·stride), > 0.
        h: Curvature(s) along the mode(s), >= 0.
        W: Window length.
        omega: Decoupled weight decay, >= 0.

    Returns:
        η(h+ω)W, the shape of ``h``.

    Raises:
        InputError: For η <= 0, ω < 0, a bad W or a negative curvature.

    >>> relaxation_number(1e-3 * 100, np.array([0.5, 60.0]), W=10, omega=1.0).round(2).tolist()
    [1.5, 61.0]
    """
    eta = check_finite_number("eta", eta, minimum=0.0, strict=True)
    omega = check_finite_number("omega", omega, minimum=0.0)
    W = check_window(W)
    h = np.asarray(h, dtype=np.float64)
    if np.any(h < 0) or not np.all(np.isfinite(h)):
        raise InputError("curvatures h must be finite and >= 0")
    return eta * (h + omega) * W


def slow_relaxation(eta: float, h: np.ndarray | float, W: int, omega: float = 0.0,
                    threshold: float = SLOW_THRESHOLD) -> np.ndarray:
    """Whether the slow-relaxation hypothesis η(h+ω)W ≪ 1 holds (below ``threshold``).

    Args:
        eta: Learning rate per snapshot (lr·stride), > 0.
        h: Curvature(s), >= 0 (e.g. h̄ of the pair at k*, one per window).
        W: Window length.
        omega: Decoupled weight decay, >= 0.
        threshold: The bound standing for "≪ 1" (default :data:`SLOW_THRESHOLD`).

    Returns:
        Booleans, the shape of ``h``.

    Raises:
        InputError: For bad arguments (see :func:`relaxation_number`), threshold <= 0.

    >>> slow_relaxation(1e-3, np.array([1.0, 50.0]), W=10).tolist()
    [True, False]
    """
    threshold = check_finite_number("threshold", threshold, minimum=0.0, strict=True)
    return relaxation_number(eta, h, W, omega) < threshold


def gamma_from_drive(u: np.ndarray | float, h: np.ndarray | float, eta: float, W: int,
                     omega: float = 0.0) -> np.ndarray:
    """Γ_j consistent with R1 from a measured drive u_j: the Γ whose steady state d* equals
    the steady window √W·η|u| (A3 with c_j = −ηu_j), i.e. η²(h+ω)u² (docs: "Units").

    Uses only R1's steady state from theory (d* ∝ √Γ), no retyped formula.

    Args:
        u: Drive(s) u_j = G_j^eff + ωθ_j.
        h: Curvature(s), >= 0, with h + ω > 0.
        eta: Learning rate per snapshot (lr·stride), > 0.
        W: Window length.
        omega: Decoupled weight decay, >= 0.

    Returns:
        Γ_j in [δ]²/[η], the broadcast shape of ``u`` and ``h``.

    Raises:
        InputError: For bad arguments or h + ω = 0.

    >>> round(float(gamma_from_drive(2.0, h=1.5, eta=0.1, W=10, omega=0.5)), 12)  # 0.1²·2·2²
    0.08
    """
    relaxation_number(eta, h, W, omega)  # validates
    h = np.asarray(h, dtype=np.float64)
    if np.any(h + omega <= 0):
        raise InputError("gamma_from_drive needs h + omega > 0")
    unit_level = tx.signal_steady_state(h, 1.0, omega, W)  # d* at Γ = 1
    steady = np.sqrt(W) * eta * np.abs(np.asarray(u, dtype=np.float64))
    return np.asarray((steady / unit_level) ** 2, dtype=np.float64)


def predict_gap_change(
    sigma: np.ndarray | list[float],
    h: np.ndarray | list[float],
    Gamma: np.ndarray | list[float],
    eta: float,
    W: int,
    *,
    omega: float = 0.0,
    N: np.ndarray | list[float] | None = None,
    k: int = 1,
    dt: float = 1.0,
    threshold: float = SLOW_THRESHOLD,
) -> SnapshotPrediction:
    """The change of g = σ_k − σ_k+1 over ``dt`` snapshots, R1 + R3 integrated exactly.

    Args:
        sigma: The window's measured levels σ_1..σ_n (n >= 2, any order; distinct when
            ``N`` > 0, or the repulsion is infinite).
        h: Curvature along each mode (h or h_precond), shape (n,).
        Gamma: Injection Γ_j in R1's units ([δ]²/[η]; see :func:`gamma_from_drive`).
        eta: Learning rate per snapshot (lr·stride).
        W: Window length.
        omega: Decoupled weight decay.
        N: Noise powers N_j (default 0: R1 alone).
        k: Gap position in the sorted spectrum, 1 <= k < n.
        dt: Interval in snapshots (> 0; 1 between consecutive windows).
        threshold: Bound on η(h̄+ω)W for the slow-relaxation flag.

    Returns:
        The frozen :class:`SnapshotPrediction`.

    Raises:
        InputError: For bad shapes or values, equal levels with noise, or a failed solve.

    >>> p = predict_gap_change([3.0, 1.0], [5.0, 5.0], [1.0, 0.1], eta=0.1, W=10)
    >>> round(p.change, 4), round(p.euler_change, 4), p.relaxation  # Euler overshoots
    (-0.5641, -1.033, 5.0)
    """
    sig = _array("sigma", sigma)
    n = sig.size
    if n < 2:
        raise InputError("predict_gap_change needs at least two levels")
    h_arr, gam = _array("h", h, n), _array("Gamma", Gamma, n)
    noise = np.zeros(n) if N is None else _array("N", N, n)
    dt = check_finite_number("dt", dt, minimum=0.0, strict=True)
    lam0 = sig**2
    if np.any(noise > 0) and np.unique(lam0).size < n:
        raise InputError("equal levels with noise: the Dyson repulsion is infinite")
    system = SignalSystem(h=h_arr, Gamma=gam, eta=eta, W=W, omega=omega, N=noise, k=k)
    # LSODA (stiff/non-stiff switching) is ~14× faster than Radau at the same tolerance on
    # stiff snapshots (η(h+ω) ~ 40)
    sol = integrate(system, lam0, (0.0, dt), method="LSODA")
    if not sol.success:
        raise InputError(f"R1+R3 over the snapshot did not integrate: {sol.message}")
    lam1 = sol.y[:, -1]
    g0, g1 = system.gap(lam0), system.gap(lam1)
    # forward Euler on the levels, for comparison: λ + dt·λ̇, then the gap of the result
    euler = system.gap(np.clip(lam0 + dt * system.rhs(0.0, lam0), 0.0, None)) - g0
    order = np.argsort(-lam0)
    pair_h = float(np.mean(h_arr[order[k - 1:k + 1]]))
    relax = float(relaxation_number(eta, pair_h, W, omega))
    return SnapshotPrediction(g_start=g0, g_end=g1, change=g1 - g0, euler_change=float(euler),
                              sigma_end=system.sigma(lam1), relaxation=relax,
                              slow=relax < threshold)


@dataclass(frozen=True)
class NoiseCeiling:
    """The best reachable R² against an observed ġ = signal + white noise.

    ``noise_sd`` = sd(Δġ)/√2 (successive differences: a slowly varying signal cancels, white
    noise doubles its variance), ``total_sd`` = sd(ġ), ``r2_max`` = 1 − noise_sd²/total_sd²
    (≤ 1; it can fall below 0 when ġ is anti-correlated from one snapshot to the next),
    ``n`` the finite values used.
    """

    r2_max: float
    noise_sd: float
    total_sd: float
    n: int


def noise_ceiling(gdot: np.ndarray | list[float]) -> NoiseCeiling:
    """The noise ceiling of R² for an observed series ġ (NaNs dropped).

    The estimate assumes the signal changes little from one snapshot to the next; a signal
    that is itself rough counts partly as noise, which lowers the ceiling.

    Args:
        gdot: The observed changes of the gap, in time order.

    Returns:
        The frozen :class:`NoiseCeiling`.

    Raises:
        InputError: With fewer than 3 finite values or a constant series.

    >>> t = np.arange(400)
    >>> c = noise_ceiling(np.sin(2 * np.pi * t / 100) + 0.5 * np.cos(2.1 * t))
    >>> round(c.r2_max, 1)
    0.7
    """
    x = np.asarray(gdot, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    if x.size < 3:
        raise InputError(f"noise_ceiling needs >= 3 finite values, got {x.size}")
    total = float(np.std(x, ddof=1))
    if total == 0:
        raise InputError("noise_ceiling of a constant series is undefined")
    noise = float(np.std(np.diff(x), ddof=1) / np.sqrt(2.0))
    return NoiseCeiling(r2_max=1.0 - noise**2 / total**2, noise_sd=noise, total_sd=total,
                        n=int(x.size))
