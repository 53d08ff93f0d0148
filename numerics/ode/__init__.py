"""Integrate the gap ODEs of the theory with SciPy (docs/spec.md §4–5).

Modules: :mod:`~spectral_edge.numerics.ode.systems` (the systems),
:mod:`~spectral_edge.numerics.ode.solve` (``integrate``, events, ``OdeSolution``),
:mod:`~spectral_edge.numerics.ode.sweep` (many parameter sets of R4 at once).

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

from spectral_edge.numerics.ode.solve import (
    METHODS,
    CloseApproach,
    GapCollapse,
    OdeSolution,
    integrate,
)
from spectral_edge.numerics.ode.sweep import GapSweep, sweep_reduced_gap
from spectral_edge.numerics.ode.systems import (
    FeedbackSystem,
    GammaLike,
    GapSystem,
    PairSystem,
    SignalSystem,
    System,
)

__all__ = [
    "METHODS", "CloseApproach", "FeedbackSystem", "GammaLike", "GapCollapse", "GapSweep",
    "GapSystem", "OdeSolution", "PairSystem", "SignalSystem", "System", "integrate",
    "sweep_reduced_gap",
]
