"""The gap-ODE systems of the theory, each a frozen dataclass with ``rhs(t, y)``,
``gap(y)`` and, where useful, ``jac``; every right-hand side is lambdified from
:mod:`spectral_edge.theory.lambdified`, never typed here.

>>> GapSystem(c=1.0, beta=0.0, eta=0.1, hw=2.0).equilibrium()
5.0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_finite_number, check_window
from spectral_edge.theory import lambdified as tx

GammaLike = np.ndarray | Callable[[float], np.ndarray]


class System(Protocol):
    """What :func:`integrate` needs from a system."""

    name: str

    def rhs(self, t: float, y: np.ndarray) -> np.ndarray: ...

    def gap(self, y: np.ndarray) -> float: ...


def _positive(value: float, name: str) -> float:
    return check_finite_number(name, value, minimum=0.0, strict=True)


def _nonneg(value: float, name: str) -> float:
    return check_finite_number(name, value, minimum=0.0)


class _GapFirst:
    """Mixin of the systems whose state starts with the gap g: (g,) or (g, d̄)."""

    def gap(self, y: np.ndarray) -> float:
        """g.

        Args:
            y: The state, g first.

        Returns:
            g.
        """
        return float(y[0])


def _check_fields(system: object, nonneg: tuple[str, ...] = ()) -> None:
    """Check and normalise a frozen system in place: the ``nonneg`` fields >= 0, then the
    fields every R1-type system has, η > 0, ω >= 0 and the window W.

    Args:
        system: The frozen dataclass instance (from its ``__post_init__``).
        nonneg: Names of further fields that must be finite and >= 0, checked first.

    Raises:
        InputError: If a field is out of range (raised by the validators).
    """
    for name in nonneg:
        object.__setattr__(system, name, _nonneg(getattr(system, name), name))
    object.__setattr__(system, "eta", _positive(system.eta, "eta"))
    object.__setattr__(system, "omega", _nonneg(system.omega, "omega"))
    object.__setattr__(system, "W", check_window(system.W))


@dataclass(frozen=True)
class SignalSystem:
    """R1 + R3: λ̇_j = −2η(h_j+ω)λ_j + 2ηWΓ_j + Σ_{i≠j} κ_ij/(λ_j − λ_i) (``tx.dyson_rhs``).

    ``Gamma`` is an array (n,) or a callable t ↦ (n,) (a schedule). ``k`` is the gap position
    (1-based, in the sorted spectrum) that :meth:`gap` reports.

    >>> s = SignalSystem(h=np.array([0.1, 1.0]), Gamma=np.array([1.0, 1.0]), eta=0.1, W=10)
    >>> np.round(s.steady_sigma(), 4).tolist()
    [10.0, 3.1623]
    """

    h: np.ndarray
    Gamma: GammaLike
    eta: float
    W: int
    omega: float = 0.0
    N: np.ndarray | None = None
    k: int = 1
    name: str = "signal"

    def __post_init__(self) -> None:
        h = np.asarray(self.h, dtype=np.float64)
        if h.ndim != 1 or h.size < 2:
            raise InputError(f"h must hold n >= 2 mode curvatures, got shape {h.shape}")
        if np.any(h < 0):
            raise InputError("mode curvatures h must be >= 0")
        N = np.zeros_like(h) if self.N is None else np.asarray(self.N, dtype=np.float64)
        if N.shape != h.shape or np.any(N < 0):
            raise InputError(f"N must be {h.shape} non-negative noise powers")
        if not callable(self.Gamma):
            gamma = np.asarray(self.Gamma, dtype=np.float64)
            if gamma.shape != h.shape or np.any(gamma < 0):
                raise InputError(f"Gamma must be {h.shape} non-negative injection rates")
            object.__setattr__(self, "Gamma", gamma)
        if not 1 <= self.k < h.size:
            raise InputError(f"gap position k must be in 1..{h.size - 1}, got {self.k}")
        object.__setattr__(self, "h", h)
        object.__setattr__(self, "N", N)
        _check_fields(self)

    @property
    def n(self) -> int:
        """Number of modes."""
        return int(self.h.size)

    def gamma(self, t: float) -> np.ndarray:
        """Injection rates at time t.

        Args:
            t: Time in snapshots.

        Returns:
            Γ(t), shape (n,).
        """
        if callable(self.Gamma):
            return np.asarray(self.Gamma(t), dtype=np.float64)
        return self.Gamma

    def rhs(self, t: float, y: np.ndarray) -> np.ndarray:
        """λ̇ at time t.

        Args:
            t: Time in snapshots.
            y: The levels λ, shape (n,) (or (n, m) for m states at once).

        Returns:
            λ̇, the shape of ``y``.
        """
        return np.asarray(
            tx.dyson_rhs(y, self.h, self.gamma(t), self.N, self.eta, self.omega, self.W),
            dtype=np.float64,
        )

    def lam_dot(self, t: float, y: np.ndarray) -> np.ndarray:
        """λ̇ of the levels (the state itself is λ).

        Args:
            t: Time in snapshots.
            y: The levels λ.

        Returns:
            λ̇, as :meth:`rhs`.
        """
        return self.rhs(t, y)

    def sigma(self, y: np.ndarray) -> np.ndarray:
        """Sorted singular values √λ (descending along axis 0).

        Args:
            y: The levels λ, shape (n,) or (n, m).

        Returns:
            The singular values, sorted descending along axis 0.
        """
        return np.sqrt(np.clip(-np.sort(-np.asarray(y), axis=0), 0.0, None))

    def gap(self, y: np.ndarray) -> float:
        """g = σ_k − σ_{k+1} of the sorted spectrum.

        Args:
            y: The levels λ, shape (n,).

        Returns:
            The gap σ_k − σ_{k+1}.
        """
        s = self.sigma(y)
        return float(s[self.k - 1] - s[self.k])

    def min_separation(self, y: np.ndarray) -> float:
        """min_j (λ_(j) − λ_(j+1)) / λ_(1) over the sorted spectrum.

        Args:
            y: The levels λ, shape (n,).

        Returns:
            The smallest relative separation of neighbouring sorted levels.
        """
        lam = -np.sort(-np.asarray(y, dtype=np.float64))
        return float(np.min(lam[:-1] - lam[1:]) / max(lam[0], 1e-300))

    def steady_sigma(self, t: float = 0.0) -> np.ndarray:
        """R1 steady state d_j* per mode (``tx.signal_steady_state``), in mode order.

        Args:
            t: Time at which Γ is taken (for a schedule).

        Returns:
            d_j*, shape (n,).
        """
        return np.asarray(
            tx.signal_steady_state(self.h, self.gamma(t), self.omega, self.W), dtype=np.float64
        )


@dataclass(frozen=True)
class PairSystem(_GapFirst):
    """R2 for the pair around the gap, state (g, d̄), d_k = d̄ + g/2, d_{k+1} = d̄ − g/2:
    ġ = ``tx.gap_flow_rhs`` — the complete equation, with the Dyson term D derived in R2
    (repulsion β/g plus the Itô correction, from the noise powers ``N_k``, ``N_k1``; both 0
    by default, which is D = 0) — and d̄' = the mean of ``tx.pair_sigma_rhs``.

    >>> from spectral_edge.numerics.ode import integrate

    >>> p = PairSystem(h_k=0.1, h_k1=1.0, Gamma_k=1.0, Gamma_k1=1.0, eta=0.1, W=10)
    >>> sol = integrate(p, [1.0, 5.0], (0.0, 2000.0))
    >>> round(float(sol.y[0, -1]), 4)  # d*_k − d*_{k+1} = 10 − √10
    6.8377
    >>> noisy = PairSystem(h_k=0.1, h_k1=1.0, Gamma_k=1.0, Gamma_k1=1.0, eta=0.1, W=10,
    ...                    N_k=50.0, N_k1=50.0)
    >>> noisy.repulsion([6.8, 6.6]) > 0
    True
    """

    h_k: float
    h_k1: float
    Gamma_k: float
    Gamma_k1: float
    eta: float
    W: int
    omega: float = 0.0
    name: str = "pair"
    N_k: float = 0.0
    N_k1: float = 0.0

    def __post_init__(self) -> None:
        _check_fields(self, ("h_k", "h_k1", "Gamma_k", "Gamma_k1", "N_k", "N_k1"))

    def _args(self) -> tuple[float, ...]:
        return (self.h_k, self.h_k1, self.Gamma_k, self.Gamma_k1, self.N_k, self.N_k1,
                self.eta, self.omega, self.W)

    def rhs(self, t: float, y: np.ndarray) -> np.ndarray:
        """(ġ, d̄') at time t.

        Args:
            t: Time in snapshots.
            y: The state (g, d̄).

        Returns:
            (ġ, d̄').
        """
        g, dbar = y
        d_k, d_k1 = dbar + g / 2, dbar - g / 2
        g_dot = tx.gap_flow_rhs(d_k, d_k1, *self._args())
        dbar_dot = 0.5 * tx.pair_sigma_rhs(d_k, d_k1, *self._args()).sum(axis=0)
        return np.array([g_dot, dbar_dot], dtype=np.float64)

    def repulsion(self, y: np.ndarray) -> float:
        """β of R2 at state y (the coefficient of 1/g in ġ).

        Args:
            y: The state (g, d̄).

        Returns:
            β, the coefficient of 1/g.
        """
        d_k, d_k1 = self.sigma(y)
        return float(tx.gap_repulsion(d_k, d_k1, self.N_k, self.N_k1, self.eta))

    def lam_dot(self, t: float, y: np.ndarray) -> np.ndarray:
        """λ̇ = 2dḋ of the two levels (chain rule from the state (g, d̄)).

        Args:
            t: Time in snapshots.
            y: The state (g, d̄).

        Returns:
            (λ̇_k, λ̇_{k+1}).
        """
        g_dot, dbar_dot = self.rhs(t, y)
        d = self.sigma(y)
        return 2.0 * d * np.array([dbar_dot + g_dot / 2, dbar_dot - g_dot / 2])

    def sigma(self, y: np.ndarray) -> np.ndarray:
        """(d_k, d_{k+1}) along axis 0.

        Args:
            y: The state (g, d̄), shape (2,) or (2, m).

        Returns:
            (d_k, d_{k+1}) stacked along axis 0.
        """
        y = np.asarray(y)
        return np.stack([y[1] + y[0] / 2, y[1] - y[0] / 2])



@dataclass(frozen=True)
class GapSystem(_GapFirst):
    """R4, ġ = c − η·hw·g + β/g (``tx.reduced_gap_rhs``), hw = h̄ + ω.

    ``dbar`` (optional) is the pair's mean level, frozen as R4 assumes; it is only used to
    draw the two levels d̄ ± g/2 and to estimate ‖ΔC‖ for the adiabatic parameter.

    >>> GapSystem(c=-1.0, beta=0.01, eta=0.1, hw=1.0).equilibrium() < 0.011
    True
    """

    c: float
    beta: float
    eta: float
    hw: float
    dbar: float | None = None
    name: str = "gap"

    def __post_init__(self) -> None:
        object.__setattr__(self, "c", float(self.c))
        object.__setattr__(self, "beta", _nonneg(self.beta, "beta"))
        object.__setattr__(self, "eta", _positive(self.eta, "eta"))
        object.__setattr__(self, "hw", _positive(self.hw, "hw"))
        if self.dbar is not None:
            object.__setattr__(self, "dbar", _positive(self.dbar, "dbar"))

    def rhs(self, t: float, y: np.ndarray) -> np.ndarray:
        """ġ.

        Args:
            t: Time in snapshots.
            y: The state (g,).

        Returns:
            ġ, shape (1,) (or the shape of ``y``).
        """
        return np.atleast_1d(
            np.asarray(tx.reduced_gap_rhs(y, self.c, self.beta, self.eta, self.hw), dtype=float)
        )

    def jac(self, t: float, y: np.ndarray) -> np.ndarray:
        """∂ġ/∂g (``tx.reduced_gap_slope``) as a 1×1 matrix.

        Args:
            t: Time in snapshots.
            y: The state (g,).

        Returns:
            ∂ġ/∂g, shape (1, 1).
        """
        slope = tx.reduced_gap_slope(y[0], self.c, self.beta, self.eta, self.hw)
        return np.array([[float(slope)]])


    def equilibrium(self) -> float:
        """g* (``tx.gap_equilibrium``), the positive root.

        Returns:
            g*.
        """
        return float(tx.gap_equilibrium(self.c, self.beta, self.eta, self.hw))

    def lam_dot(self, t: float, y: np.ndarray) -> np.ndarray:
        """λ̇ = 2σσ̇ of the two levels d̄ ± g/2 with d̄ frozen (needs ``dbar``).

        Args:
            t: Time in snapshots.
            y: The state (g,).

        Returns:
            (λ̇_k, λ̇_{k+1}).

        Raises:
            InputError: If ``dbar`` is not set.
        """
        g_dot = self.rhs(t, y)[0]
        return 2.0 * self.sigma(y) * np.array([g_dot / 2, -g_dot / 2])

    def sigma(self, y: np.ndarray) -> np.ndarray:
        """(d̄ + g/2, d̄ − g/2) along axis 0 (needs ``dbar``).

        Args:
            y: The state (g,), shape (1,) or (1, m).

        Returns:
            The two levels stacked along axis 0.

        Raises:
            InputError: If ``dbar`` is not set.
        """
        if self.dbar is None:
            raise InputError("GapSystem.sigma needs the pair mean level dbar")
        g = np.asarray(y)[0]
        return np.stack([self.dbar + g / 2, self.dbar - g / 2])


@dataclass(frozen=True)
class FeedbackSystem(_GapFirst):
    """R8, the α-feedback loop: mode k* follows R1 with Γ = Γ₀(1 + ρα(g)), its partner k*+1
    is held at its R1 steady state d_b (from ``h_b``, ``Gamma_b``); state g = d_k* − d_b,
    ġ = ``tx.feedback_rhs``. Fixed points: ``tx.feedback_fixed_points``; the open gap exists
    and is stable for ρ above ``tx.feedback_threshold`` (which depends on h, ω, Γ only).

    >>> fb = FeedbackSystem(rho=8.0, h=1.0, Gamma0=1.0, h_b=1.0, Gamma_b=2.0, eta=0.1, W=10)
    >>> round(fb.threshold(), 4), [round(g, 4) for g in fb.fixed_points()]
    (5.8284, [0.4659, 3.6282])
    """

    rho: float
    h: float
    Gamma0: float
    h_b: float
    Gamma_b: float
    eta: float
    W: int
    omega: float = 0.0
    name: str = "feedback"

    def __post_init__(self) -> None:
        _check_fields(self, ("rho", "h", "Gamma0", "h_b", "Gamma_b"))
        if not self.Gamma_b > 0 or not self.h_b + self.omega > 0:
            raise InputError("the partner mode needs Gamma_b > 0 and h_b + omega > 0")

    @property
    def d_b(self) -> float:
        """The partner's level, its R1 steady state (``tx.signal_steady_state``)."""
        return float(tx.signal_steady_state(self.h_b, self.Gamma_b, self.omega, self.W))

    def rhs(self, t: float, y: np.ndarray) -> np.ndarray:
        """ġ.

        Args:
            t: Time in snapshots.
            y: The state (g,).

        Returns:
            ġ, shape (1,) (or the shape of ``y``).
        """
        args = (self.d_b, self.rho, self.h, self.Gamma0, self.eta, self.omega, self.W)
        return np.atleast_1d(np.asarray(tx.feedback_rhs(y, *args), dtype=np.float64))


    def sigma(self, y: np.ndarray) -> np.ndarray:
        """(d_b + g, d_b) along axis 0.

        Args:
            y: The state (g,), shape (1,) or (1, m).

        Returns:
            (d_b + g, d_b) stacked along axis 0.
        """
        g = np.asarray(y)[0]
        return np.stack([self.d_b + g, np.full_like(g, self.d_b)])

    def lam_dot(self, t: float, y: np.ndarray) -> np.ndarray:
        """λ̇ = (2 d_k* ġ, 0): the partner is held fixed.

        Args:
            t: Time in snapshots.
            y: The state (g,).

        Returns:
            (λ̇_k*, 0).
        """
        return np.array([2.0 * (self.d_b + y[0]) * self.rhs(t, y)[0], 0.0])

    def fixed_points(self) -> tuple[float, float]:
        """(unstable, stable) fixed gaps; NaN where the root does not exist.

        Returns:
            ``(g_unstable, g_stable)``.
        """
        fp = tx.feedback_fixed_points(self.d_b, self.rho, self.h, self.Gamma0, self.omega, self.W)
        return float(fp.g_unstable), float(fp.g_stable)

    def threshold(self) -> float:
        """ρ_c above which the open-gap fixed point exists and is stable.

        Returns:
            ρ_c.
        """
        return float(tx.feedback_threshold(self.h, self.Gamma0, self.h_b, self.Gamma_b, self.omega))
