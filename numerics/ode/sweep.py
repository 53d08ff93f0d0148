"""R4 over a grid of parameter sets in one ``solve_ivp`` call (a stacked state, a sparse
diagonal Jacobian).

>>> sw = sweep_reduced_gap([1.0, -1.0], [0.0, 0.01], 1.0, eta=0.1, g0=1.0, t_span=(0, 100))
>>> sw.collapsed.tolist()
[False, False]
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    _check_solver(method, rtol, atol)
    if method == "LSODA":
        raise InputError("LSODA needs a dense Jacobian; use BDF or Radau for stiff sweeps")
    c, beta, hw = _grid(c, beta, hw)
    eta, g0 = _positive(eta, "eta"), _positive(g0, "g0")
    t = np.linspace(*t_span, n_t)
    cf, bf, hf = c.ravel(), beta.ravel(), hw.ravel()

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        return tx.reduced_gap_rhs(y, cf, bf, eta, hf)

    def jac(t: float, y: np.ndarray) -> sps.csc_matrix:
        return sps.diags(np.broadcast_to(tx.reduced_gap_slope(y, cf, bf, eta, hf), y.shape))

    kwargs: dict[str, Any] = {"jac": jac} if method in ("Radau", "BDF") else {}
    sol = solve_ivp(rhs, t_span, np.full(cf.size, g0), method=method, t_eval=t, rtol=rtol,
                    atol=atol, **kwargs)
    g = sol.y.reshape(*c.shape, -1) if sol.success else np.full((*c.shape, n_t), np.nan)
    return GapSweep(
        c=c, beta=beta, hw=hw, eta=eta, g0=g0, g_collapse=g_collapse, method=method,
        rtol=rtol, atol=atol, t=t, g=g,
        g_star=np.asarray(tx.gap_equilibrium(c, beta, eta, hw), dtype=np.float64),
        collapsed=g.min(axis=-1) < g_collapse, success=bool(sol.success), nfev=int(sol.nfev),
    )
