"""``integrate``: :func:`scipy.integrate.solve_ivp` on a system, returning a frozen
:class:`OdeSolution`, with named events (:class:`GapCollapse`, :class:`CloseApproach`).

>>> from spectral_edge.numerics.ode import GapSystem

>>> sol = integrate(GapSystem(c=1.0, beta=0.0, eta=0.1, hw=2.0), [0.5], (0.0, 200.0))
>>> sol.success, round(float(sol.y[0, -1]), 6)
(True, 5.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.integrate import solve_ivp

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_choice
from spectral_edge.numerics.ode.systems import SignalSystem, System

METHODS: tuple[str, ...] = ("RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA")
"""The ``solve_ivp`` methods :func:`integrate` accepts."""


class _Event:
    """SciPy's event protocol (``terminal``, ``direction``, a call) over ``distance(y)``."""

    def __call__(self, t: float, y: np.ndarray) -> float:
        """The event function, zero when the event fires.

        Args:
            t: Time in snapshots.
            y: The state.

        Returns:
            ``self.distance(y)``.
        """
        return self.distance(y)


@dataclass(frozen=True)
class GapCollapse(_Event):
    """Event: the system's gap falls to ``g_min`` (terminal by default), SciPy-style.

    >>> from spectral_edge.numerics.ode import GapSystem

    >>> GapCollapse(GapSystem(c=1.0, beta=0.0, eta=0.1, hw=1.0), 0.5)(0.0, np.array([2.0]))
    1.5
    """

    system: Any
    g_min: float
    terminal: bool = True
    direction: float = -1.0

    def distance(self, y: np.ndarray) -> float:
        """How far the state is from the event (zero when it fires).

        Args:
            y: The state.

        Returns:
            g − g_min.
        """
        return self.system.gap(y) - self.g_min


@dataclass(frozen=True)
class CloseApproach(_Event):
    """Event: two levels of a :class:`SignalSystem` come within ``rel_sep``·λ_1 (not
    terminal by default). The sorted separation touches zero and rises again when levels
    cross (no repulsion), so pass ``max_step`` small enough not to step over a crossing.

    >>> from spectral_edge.numerics.ode import SignalSystem

    >>> s = SignalSystem(h=np.ones(2), Gamma=np.ones(2), eta=0.1, W=10)
    >>> CloseApproach(s, 0.1)(0.0, np.array([10.0, 5.0]))
    0.4
    """

    system: SignalSystem
    rel_sep: float
    terminal: bool = False
    direction: float = -1.0

    def distance(self, y: np.ndarray) -> float:
        """How far the state is from the event (zero when it fires).

        Args:
            y: The state.

        Returns:
            The relative separation minus ``rel_sep``.
        """
        return self.system.min_separation(y) - self.rel_sep


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
        """Times at which the event named ``name`` fired.

        Args:
            name: The event's class name (``"GapCollapse"``, ``"CloseApproach"``).

        Returns:
            The times, possibly empty.

        Raises:
            InputError: If no event of that name was passed to :func:`integrate`.
        """
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

    >>> from spectral_edge.numerics.ode import GapSystem

    >>> s = GapSystem(c=-1.0, beta=0.0, eta=0.1, hw=1.0)
    >>> sol = integrate(s, [1.0], (0.0, 10.0), events=[GapCollapse(s, 0.1)])
    >>> sol.status, round(float(sol.events("GapCollapse")[0]), 4)  # g = 11e^{−0.1t} − 10
    (1, 0.8536)

    Args:
        system: The system (``rhs``, ``gap``, ``name``; ``jac`` optional).
        y0: The initial state.
        t_span: ``(t0, t1)`` with t1 > t0.
        t_eval: Times at which to store the solution; ``None`` for the solver's own steps.
        method: One of :data:`METHODS`.
        rtol: Relative tolerance, > 0.
        atol: Absolute tolerance, > 0.
        events: Event functions (:class:`GapCollapse`, :class:`CloseApproach`, ...).
        max_step: The largest step the solver may take.

    Returns:
        The frozen :class:`OdeSolution`.

    Raises:
        InputError: If ``method`` is unknown, a tolerance is not > 0, ``y0`` is not finite or
            ``t_span`` is not increasing.
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
