"""R4 over a grid of parameter sets in one ``solve_ivp`` call (a stacked state, a sparse
diagonal Jacobian).

>>> sw = sweep_reduced_gap([1.0, -1.0], [0.0, 0.01], 1.0, eta=0.1, g0=1.0, t_span=(0, 100))
>>> sw.collapsed.tolist()
[False, False]
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import scipy.sparse as sps
from scipy.integrate import solve_ivp

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.ode.solve import _check_solver
from spectral_edge.numerics.ode.systems import _positive
from spectral_edge.theory import lambdified as tx


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


@dataclass(frozen=True)
class _Setup:
    """The checked arguments both sweeps share (everything :class:`GapSweep` records but the
    solution)."""

    c: np.ndarray
    beta: np.ndarray
    hw: np.ndarray
    eta: float
    g0: float
    g_collapse: float
    method: str
    rtol: float
    atol: float
    t: np.ndarray

    def result(self, g: np.ndarray, success: bool, nfev: int) -> GapSweep:
        """The :class:`GapSweep` of the solution ``g`` (shape S + (len(t),)).

        Args:
            g: The trajectories, NaN where a solve failed.
            success: Whether every solve succeeded.
            nfev: Right-hand-side evaluations, all solves together.

        Returns:
            The sweep, with ``g_star`` and ``collapsed`` filled in.
        """
        return GapSweep(
            **{f.name: getattr(self, f.name) for f in fields(self)},
            g=g,
            g_star=np.asarray(
                tx.gap_equilibrium(self.c, self.beta, self.eta, self.hw), dtype=np.float64
            ),
            collapsed=g.min(axis=-1) < self.g_collapse,
            success=bool(success),
            nfev=int(nfev),
        )


def _setup(c, beta, hw, eta, g0, t_span, n_t, method, rtol, atol, g_collapse) -> _Setup:
    _check_solver(method, rtol, atol)
    c, beta, hw = _grid(c, beta, hw)
    eta, g0 = _positive(eta, "eta"), _positive(g0, "g0")
    return _Setup(c, beta, hw, eta, g0, g_collapse, method, rtol, atol, np.linspace(*t_span, n_t))


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
    (the tests and ``benchmarks/bench_sweep.py`` compare it with a loop of
    :func:`~spectral_edge.numerics.ode.integrate` calls).

    >>> sw = sweep_reduced_gap([1.0, -1.0], [0.0, 0.01], 1.0, eta=0.1, g0=1.0, t_span=(0, 100))
    >>> sw.collapsed.tolist(), np.round(sw.g_final, 3).tolist()
    ([False, False], [10.0, 0.01])

    Args:
        c: The drive c (broadcast with ``beta`` and ``hw``).
        beta: The repulsion β >= 0.
        hw: h̄ + ω > 0.
        eta: The learning rate per snapshot, > 0.
        g0: The initial gap, > 0 (the same for every parameter set).
        t_span: ``(t0, t1)``.
        n_t: Number of stored time points.
        method: A ``solve_ivp`` method (not ``LSODA``).
        rtol: Relative tolerance, > 0.
        atol: Absolute tolerance, > 0.
        g_collapse: Gap below which a trajectory counts as collapsed.

    Returns:
        The :class:`GapSweep`.

    Raises:
        InputError: If a parameter is out of range, the method is unknown or it is ``LSODA``.
    """
    setup = _setup(c, beta, hw, eta, g0, t_span, n_t, method, rtol, atol, g_collapse)
    eta, shape = setup.eta, setup.c.shape
    cf, bf, hf = setup.c.ravel(), setup.beta.ravel(), setup.hw.ravel()

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
        np.full(cf.size, setup.g0),
        method=method,
        t_eval=setup.t,
        rtol=rtol,
        atol=atol,
        **kwargs,
    )
    g = sol.y.reshape(*shape, -1) if sol.success else np.full((*shape, n_t), np.nan)
    return setup.result(g, sol.success, sol.nfev)
