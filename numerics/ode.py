"""Integrate the gap ODEs of the theory with SciPy (docs/spec.md §4–5).

Every right-hand side is a lambdified result of :mod:`spectral_edge.theory.lambdified`; nothing
here types a
formula of the theory a second time. Time is measured in snapshots (optimizer steps at
stride 1) and η is the learning rate per snapshot.

Systems (frozen dataclasses with ``rhs(t, y)``, ``gap(y)`` and, where useful, ``jac``):

* :class:`SignalSystem` — the n-mode eigenvalue system with Dyson repulsion (R1 + R3),
  state λ_1 … λ_n (mode j keeps its own h_j, Γ_j, N_j; with N = 0 it is R1 in λ = d² units);
* :class:`PairSystem` — the complete gap flow R2 (derived Dyson term) for the pair around
  k*, state (g, d̄);
* :class:`GapSystem` — the reduced gap equation R4, ġ = c − η(h̄+ω)g + β/g, state g;
* :class:`FeedbackSystem` — the α-feedback loop R8, state g.

:func:`integrate` wraps :func:`scipy.integrate.solve_ivp` (any of its methods; the stiff
``LSODA``/``BDF``/``Radau`` included, rtol/atol exposed) and returns a frozen
:class:`OdeSolution` in the style of SciPy's ``OdeResult``. Events: :class:`GapCollapse`
(the gap falls to ``g_min``) and :class:`CloseApproach` (two levels come within a relative
distance). :func:`sweep_reduced_gap` integrates many parameter sets of R4 in one call.

>>> sys_ = GapSystem(c=1.0, beta=0.0, eta=0.1, hw=2.0)
>>> sol = integrate(sys_, [0.5], (0.0, 200.0))
>>> sol.success, round(float(sol.y[0, -1]), 6), round(sys_.equilibrium(), 6)
(True, 5.0, 5.0)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sps
from scipy.integrate import solve_ivp

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_choice, check_finite_number, check_window
from spectral_edge.theory import lambdified as tx

METHODS: tuple[str, ...] = ("RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA")
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


# --------------------------------------------------------------------------- systems


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
        object.__setattr__(self, "eta", _positive(self.eta, "eta"))
        object.__setattr__(self, "omega", _nonneg(self.omega, "omega"))
        object.__setattr__(self, "W", check_window(self.W))

    @property
    def n(self) -> int:
        """Number of modes."""
        return int(self.h.size)

    def gamma(self, t: float) -> np.ndarray:
        """Injection rates at time t."""
        if callable(self.Gamma):
            return np.asarray(self.Gamma(t), dtype=np.float64)
        return self.Gamma

    def rhs(self, t: float, y: np.ndarray) -> np.ndarray:
        """λ̇ at time t."""
        return np.asarray(
            tx.dyson_rhs(y, self.h, self.gamma(t), self.N, self.eta, self.omega, self.W),
            dtype=np.float64,
        )

    def lam_dot(self, t: float, y: np.ndarray) -> np.ndarray:
        """λ̇ of the levels (the state itself is λ)."""
        return self.rhs(t, y)

    def sigma(self, y: np.ndarray) -> np.ndarray:
        """Sorted singular values √λ (descending along axis 0)."""
        return np.sqrt(np.clip(-np.sort(-np.asarray(y), axis=0), 0.0, None))

    def gap(self, y: np.ndarray) -> float:
        """g = σ_k − σ_{k+1} of the sorted spectrum."""
        s = self.sigma(y)
        return float(s[self.k - 1] - s[self.k])

    def min_separation(self, y: np.ndarray) -> float:
        """min_j (λ_(j) − λ_(j+1)) / λ_(1) over the sorted spectrum."""
        lam = -np.sort(-np.asarray(y, dtype=np.float64))
        return float(np.min(lam[:-1] - lam[1:]) / max(lam[0], 1e-300))

    def steady_sigma(self, t: float = 0.0) -> np.ndarray:
        """R1 steady state d_j* per mode (``tx.signal_steady_state``), in mode order."""
        return np.asarray(
            tx.signal_steady_state(self.h, self.gamma(t), self.omega, self.W), dtype=np.float64
        )


@dataclass(frozen=True)
class PairSystem:
    """R2 for the pair around the gap, state (g, d̄), d_k = d̄ + g/2, d_{k+1} = d̄ − g/2:
    ġ = ``tx.gap_flow_rhs`` — the complete equation, with the Dyson term D derived in R2
    (repulsion β/g plus the Itô correction, from the noise powers ``N_k``, ``N_k1``; both 0
    by default, which is D = 0) — and d̄' = the mean of ``tx.pair_sigma_rhs``.

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
        for name in ("h_k", "h_k1", "Gamma_k", "Gamma_k1", "N_k", "N_k1"):
            object.__setattr__(self, name, _nonneg(getattr(self, name), name))
        object.__setattr__(self, "eta", _positive(self.eta, "eta"))
        object.__setattr__(self, "omega", _nonneg(self.omega, "omega"))
        object.__setattr__(self, "W", check_window(self.W))

    def _args(self) -> tuple[float, ...]:
        return (self.h_k, self.h_k1, self.Gamma_k, self.Gamma_k1, self.N_k, self.N_k1,
                self.eta, self.omega, self.W)

    def rhs(self, t: float, y: np.ndarray) -> np.ndarray:
        """(ġ, d̄') at time t."""
        g, dbar = y
        d_k, d_k1 = dbar + g / 2, dbar - g / 2
        g_dot = tx.gap_flow_rhs(d_k, d_k1, *self._args())
        dbar_dot = 0.5 * tx.pair_sigma_rhs(d_k, d_k1, *self._args()).sum(axis=0)
        return np.array([g_dot, dbar_dot], dtype=np.float64)

    def repulsion(self, y: np.ndarray) -> float:
        """β of R2 at state y (the coefficient of 1/g in ġ)."""
        d_k, d_k1 = self.sigma(y)
        return float(tx.gap_repulsion(d_k, d_k1, self.N_k, self.N_k1, self.eta))

    def lam_dot(self, t: float, y: np.ndarray) -> np.ndarray:
        """λ̇ = 2dḋ of the two levels (chain rule from the state (g, d̄))."""
        g_dot, dbar_dot = self.rhs(t, y)
        d = self.sigma(y)
        return 2.0 * d * np.array([dbar_dot + g_dot / 2, dbar_dot - g_dot / 2])

    def sigma(self, y: np.ndarray) -> np.ndarray:
        """(d_k, d_{k+1}) along axis 0."""
        y = np.asarray(y)
        return np.stack([y[1] + y[0] / 2, y[1] - y[0] / 2])

    def gap(self, y: np.ndarray) -> float:
        """g."""
        return float(y[0])


@dataclass(frozen=True)
class GapSystem:
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
        """ġ."""
        return np.atleast_1d(
            np.asarray(tx.reduced_gap_rhs(y, self.c, self.beta, self.eta, self.hw), dtype=float)
        )

    def jac(self, t: float, y: np.ndarray) -> np.ndarray:
        """∂ġ/∂g (``tx.reduced_gap_slope``) as a 1×1 matrix."""
        slope = tx.reduced_gap_slope(y[0], self.c, self.beta, self.eta, self.hw)
        return np.array([[float(slope)]])

    def gap(self, y: np.ndarray) -> float:
        """g."""
        return float(y[0])

    def equilibrium(self) -> float:
        """g* (``tx.gap_equilibrium``), the positive root."""
        return float(tx.gap_equilibrium(self.c, self.beta, self.eta, self.hw))

    def lam_dot(self, t: float, y: np.ndarray) -> np.ndarray:
        """λ̇ = 2σσ̇ of the two levels d̄ ± g/2 with d̄ frozen (needs ``dbar``)."""
        g_dot = self.rhs(t, y)[0]
        return 2.0 * self.sigma(y) * np.array([g_dot / 2, -g_dot / 2])

    def sigma(self, y: np.ndarray) -> np.ndarray:
        """(d̄ + g/2, d̄ − g/2) along axis 0 (needs ``dbar``)."""
        if self.dbar is None:
            raise InputError("GapSystem.sigma needs the pair mean level dbar")
        g = np.asarray(y)[0]
        return np.stack([self.dbar + g / 2, self.dbar - g / 2])


@dataclass(frozen=True)
class FeedbackSystem:
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
        for name in ("rho", "h", "Gamma0", "h_b", "Gamma_b"):
            object.__setattr__(self, name, _nonneg(getattr(self, name), name))
        object.__setattr__(self, "eta", _positive(self.eta, "eta"))
        object.__setattr__(self, "omega", _nonneg(self.omega, "omega"))
        object.__setattr__(self, "W", check_window(self.W))
        if not self.Gamma_b > 0 or not self.h_b + self.omega > 0:
            raise InputError("the partner mode needs Gamma_b > 0 and h_b + omega > 0")

    @property
    def d_b(self) -> float:
        """The partner's level, its R1 steady state (``tx.signal_steady_state``)."""
        return float(tx.signal_steady_state(self.h_b, self.Gamma_b, self.omega, self.W))

    def rhs(self, t: float, y: np.ndarray) -> np.ndarray:
        """ġ."""
        args = (self.d_b, self.rho, self.h, self.Gamma0, self.eta, self.omega, self.W)
        return np.atleast_1d(np.asarray(tx.feedback_rhs(y, *args), dtype=np.float64))

    def gap(self, y: np.ndarray) -> float:
        """g."""
        return float(y[0])

    def sigma(self, y: np.ndarray) -> np.ndarray:
        """(d_b + g, d_b) along axis 0."""
        g = np.asarray(y)[0]
        return np.stack([self.d_b + g, np.full_like(g, self.d_b)])

    def lam_dot(self, t: float, y: np.ndarray) -> np.ndarray:
        """λ̇ = (2 d_k* ġ, 0): the partner is held fixed."""
        return np.array([2.0 * (self.d_b + y[0]) * self.rhs(t, y)[0], 0.0])

    def fixed_points(self) -> tuple[float, float]:
        """(unstable, stable) fixed gaps; NaN where the root does not exist."""
        fp = tx.feedback_fixed_points(self.d_b, self.rho, self.h, self.Gamma0, self.omega, self.W)
        return float(fp.g_unstable), float(fp.g_stable)

    def threshold(self) -> float:
        """ρ_c above which the open-gap fixed point exists and is stable."""
        return float(tx.feedback_threshold(self.h, self.Gamma0, self.h_b, self.Gamma_b, self.omega))


# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class GapCollapse:
    """Event: the system's gap falls to ``g_min`` (terminal by default), SciPy-style.

    >>> GapCollapse(GapSystem(c=1.0, beta=0.0, eta=0.1, hw=1.0), 0.5)(0.0, np.array([2.0]))
    1.5
    """

    system: Any
    g_min: float
    terminal: bool = True
    direction: float = -1.0

    def __call__(self, t: float, y: np.ndarray) -> float:
        return self.system.gap(y) - self.g_min


@dataclass(frozen=True)
class CloseApproach:
    """Event: two levels of a :class:`SignalSystem` come within ``rel_sep``·λ_1 (not
    terminal by default). The sorted separation touches zero and rises again when levels
    cross (no repulsion), so pass ``max_step`` small enough not to step over a crossing.

    >>> s = SignalSystem(h=np.ones(2), Gamma=np.ones(2), eta=0.1, W=10)
    >>> CloseApproach(s, 0.1)(0.0, np.array([10.0, 5.0]))
    0.4
    """

    system: SignalSystem
    rel_sep: float
    terminal: bool = False
    direction: float = -1.0

    def __call__(self, t: float, y: np.ndarray) -> float:
        return self.system.min_separation(y) - self.rel_sep


# --------------------------------------------------------------------------- integrate


@dataclass(frozen=True)
class OdeSolution:
    """The outcome of :func:`integrate`, field for field like SciPy's ``OdeResult``.

    ``status``: 0 the end of ``t_span`` was reached, 1 a terminal event fired, −1 the solver
    failed. ``t_events[i]``/``y_events[i]`` belong to ``event_names[i]``.
    """

    system: str
    method: str
    rtol: float
    atol: float
    t: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    status: int
    message: str
    success: bool
    nfev: int
    njev: int
    nlu: int
    t_events: tuple[np.ndarray, ...] = field(repr=False)
    y_events: tuple[np.ndarray, ...] = field(repr=False)
    event_names: tuple[str, ...]

    def events(self, name: str) -> np.ndarray:
        """Times at which the event named ``name`` fired."""
        if name not in self.event_names:
            raise InputError(f"no event {name!r}; have {self.event_names}")
        return self.t_events[self.event_names.index(name)]


def _check_solver(method: str, rtol: float, atol: float) -> None:
    check_choice("method", method, METHODS)
    if not (rtol > 0 and atol > 0):
        raise InputError(f"rtol and atol must be > 0, got {rtol}, {atol}")


def integrate(
    system: System,
    y0: Sequence[float] | np.ndarray,
    t_span: tuple[float, float],
    *,
    t_eval: np.ndarray | None = None,
    method: str = "LSODA",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    events: Sequence[Any] = (),
    max_step: float = np.inf,
) -> OdeSolution:
    """Integrate ``system`` from ``y0`` over ``t_span`` with ``solve_ivp``.

    ``LSODA`` (the default) switches between a non-stiff and a stiff method by itself;
    ``BDF``/``Radau`` use the system's analytic ``jac`` when it has one.

    >>> s = GapSystem(c=-1.0, beta=0.0, eta=0.1, hw=1.0)
    >>> sol = integrate(s, [1.0], (0.0, 10.0), events=[GapCollapse(s, 0.1)])
    >>> sol.status, round(float(sol.events("GapCollapse")[0]), 4)  # g = 11e^{−0.1t} − 10
    (1, 0.8536)
    """
    _check_solver(method, rtol, atol)
    y0 = np.atleast_1d(np.asarray(y0, dtype=np.float64))
    if not np.all(np.isfinite(y0)):
        raise InputError("initial state must be finite")
    if not t_span[1] > t_span[0]:
        raise InputError(f"t_span must be increasing, got {t_span}")
    jac = getattr(system, "jac", None) if method in ("Radau", "BDF", "LSODA") else None
    kwargs: dict[str, Any] = {"jac": jac} if jac is not None else {}
    sol = solve_ivp(
        system.rhs,
        t_span,
        y0,
        method=method,
        t_eval=t_eval,
        rtol=rtol,
        atol=atol,
        events=list(events) or None,
        max_step=max_step,
        **kwargs,
    )
    n_ev = len(events)
    return OdeSolution(
        system=system.name,
        method=method,
        rtol=rtol,
        atol=atol,
        t=sol.t,
        y=sol.y,
        status=int(sol.status),
        message=str(sol.message),
        success=bool(sol.success),
        nfev=int(sol.nfev),
        njev=int(sol.njev),
        nlu=int(sol.nlu),
        t_events=tuple(sol.t_events) if n_ev else (),
        y_events=tuple(sol.y_events) if n_ev else (),
        event_names=tuple(type(e).__name__ for e in events),
    )


# --------------------------------------------------------------------------- sweeps


@dataclass(frozen=True)
class GapSweep:
    """R4 over a grid of (c, β, hw): every array has the broadcast shape S of the inputs,
    ``g`` has shape S + (len(t),). ``collapsed`` marks g_min < ``g_collapse``; ``g_star`` is
    the theory's equilibrium (``tx.gap_equilibrium``).
    """

    c: np.ndarray = field(repr=False)
    beta: np.ndarray = field(repr=False)
    hw: np.ndarray = field(repr=False)
    eta: float
    g0: float
    g_collapse: float
    method: str
    rtol: float
    atol: float
    t: np.ndarray = field(repr=False)
    g: np.ndarray = field(repr=False)
    g_star: np.ndarray = field(repr=False)
    collapsed: np.ndarray = field(repr=False)
    success: bool
    nfev: int

    @property
    def g_final(self) -> np.ndarray:
        """g at the end of the time span."""
        return self.g[..., -1]

    @property
    def g_min(self) -> np.ndarray:
        """Smallest g along each trajectory."""
        return self.g.min(axis=-1)


def _grid(c, beta, hw) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c, beta, hw = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (c, beta, hw)))
    if np.any(beta < 0) or np.any(hw <= 0) or not np.all(np.isfinite(c)):
        raise InputError("sweep needs finite c, beta >= 0 and hw > 0")
    return c, beta, hw


def sweep_reduced_gap(
    c: np.ndarray | float,
    beta: np.ndarray | float,
    hw: np.ndarray | float,
    *,
    eta: float,
    g0: float,
    t_span: tuple[float, float],
    n_t: int = 200,
    method: str = "BDF",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    g_collapse: float = 1e-3,
) -> GapSweep:
    """Integrate R4 for every (c, β, hw) of the broadcast grid in ONE ``solve_ivp`` call: the
    stacked state has one g per parameter set, the right-hand side is evaluated on all of
    them at once, and the Jacobian is the sparse diagonal of ``tx.reduced_gap_slope``.

    The solver's error norm is the RMS over the stack, so a single component may carry up to
    √(size) times the per-component error of separate solves; tighten ``rtol`` accordingly
    (the tests compare against :func:`loop_reduced_gap`).

    >>> sw = sweep_reduced_gap([1.0, -1.0], [0.0, 0.01], 1.0, eta=0.1, g0=1.0, t_span=(0, 100))
    >>> sw.collapsed.tolist(), np.round(sw.g_final, 3).tolist()
    ([False, False], [10.0, 0.01])
    """
    _check_solver(method, rtol, atol)
    c, beta, hw = _grid(c, beta, hw)
    eta = _positive(eta, "eta")
    g0 = _positive(g0, "g0")
    shape = c.shape
    cf, bf, hf = c.ravel(), beta.ravel(), hw.ravel()
    t_eval = np.linspace(*t_span, n_t)

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        return tx.reduced_gap_rhs(y, cf, bf, eta, hf)

    def jac(t: float, y: np.ndarray) -> sps.csc_matrix:
        return sps.diags(np.broadcast_to(tx.reduced_gap_slope(y, cf, bf, eta, hf), y.shape))

    kwargs: dict[str, Any] = {"jac": jac} if method in ("Radau", "BDF") else {}
    if method == "LSODA":
        raise InputError("LSODA needs a dense Jacobian; use BDF or Radau for stiff sweeps")
    sol = solve_ivp(
        rhs,
        t_span,
        np.full(cf.size, g0),
        method=method,
        t_eval=t_eval,
        rtol=rtol,
        atol=atol,
        **kwargs,
    )
    g = sol.y.reshape(*shape, -1) if sol.success else np.full((*shape, n_t), np.nan)
    return GapSweep(
        c=c,
        beta=beta,
        hw=hw,
        eta=eta,
        g0=g0,
        g_collapse=g_collapse,
        method=method,
        rtol=rtol,
        atol=atol,
        t=t_eval,
        g=g,
        g_star=np.asarray(tx.gap_equilibrium(c, beta, eta, hw), dtype=np.float64),
        collapsed=g.min(axis=-1) < g_collapse,
        success=bool(sol.success),
        nfev=int(sol.nfev),
    )


def loop_reduced_gap(
    c: np.ndarray | float,
    beta: np.ndarray | float,
    hw: np.ndarray | float,
    *,
    eta: float,
    g0: float,
    t_span: tuple[float, float],
    n_t: int = 200,
    method: str = "BDF",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    g_collapse: float = 1e-3,
) -> GapSweep:
    """The same grid as :func:`sweep_reduced_gap`, one :func:`integrate` call per parameter
    set (the baseline the sweep is timed against).

    >>> lp = loop_reduced_gap([1.0, -1.0], [0.0, 0.01], 1.0, eta=0.1, g0=1.0, t_span=(0, 100))
    >>> np.round(lp.g_final, 3).tolist()
    [10.0, 0.01]
    """
    _check_solver(method, rtol, atol)
    c, beta, hw = _grid(c, beta, hw)
    eta, g0 = _positive(eta, "eta"), _positive(g0, "g0")
    t_eval = np.linspace(*t_span, n_t)
    rows, nfev, ok = [], 0, True
    for ci, bi, hi in zip(c.ravel(), beta.ravel(), hw.ravel(), strict=True):
        sol = integrate(
            GapSystem(ci, bi, eta, hi),
            [g0],
            t_span,
            t_eval=t_eval,
            method=method,
            rtol=rtol,
            atol=atol,
        )
        ok &= sol.success
        nfev += sol.nfev
        rows.append(sol.y[0] if sol.success else np.full(n_t, np.nan))
    g = np.array(rows).reshape(*c.shape, n_t)
    return GapSweep(
        c=c,
        beta=beta,
        hw=hw,
        eta=eta,
        g0=g0,
        g_collapse=g_collapse,
        method=method,
        rtol=rtol,
        atol=atol,
        t=t_eval,
        g=g,
        g_star=np.asarray(tx.gap_equilibrium(c, beta, eta, hw), dtype=np.float64),
        collapsed=g.min(axis=-1) < g_collapse,
        success=bool(ok),
        nfev=nfev,
    )
