"""SymPy symbols of the spectral edge theory, each with the assumptions docs/spec.md §1 gives it.

One definition per quantity: every derivation imports its symbols from here, so the
lambdified right-hand sides in :mod:`spectral_edge.theory.lambdified` take arguments that mean
one thing.

Naming: a bare name is "mode j" (``h``, ``Gamma``, ``d``, ``lam``, ``N``); ``_k`` and ``_k1``
are the two modes around the gap, k* and k*+1; ``_i`` and ``_j`` a generic pair of modes.

>>> from spectral_edge.theory.symbols import eta, h, omega
>>> bool((eta * (h + omega)).is_nonnegative)
True
"""

from __future__ import annotations

import sympy as sp

# --------------------------------------------------------------------- time and window
t = sp.Symbol("t", real=True)
"""Continuous training time (in snapshots)."""
s = sp.Symbol("s", integer=True, nonnegative=True)
"""Index of an update inside the window (slot)."""
W = sp.Symbol("W", integer=True, positive=True)
"""Window length: the number of updates in the rolling window."""
W_n = sp.Symbol("W_n", integer=True, positive=True)
"""Noise model: the number of window slots whose coordinate receives fresh noise per unit
time (A3's ``noised_slots``: W when every slot is re-noised, 1 for the sliding window)."""
P = sp.Symbol("P", integer=True, positive=True)
"""Number of monitored parameters."""

# ------------------------------------------------------------------- optimizer (A2)
eta = sp.Symbol("eta", positive=True)
"""Learning rate η (per snapshot)."""
omega = sp.Symbol("omega", nonnegative=True)
"""Decoupled weight decay ω."""
hw = sp.Symbol(r"(\bar{h}+\omega)", positive=True)
"""Restoring rate per unit η of the gap pair, h̄ + ω (R4 shorthand)."""

# ------------------------------------------------------------------ one mode j (A1-A3)
h = sp.Symbol("h", nonnegative=True)
"""Effective curvature h_j = v_jᵀ M ∇²L v_j ≥ 0 along mode j."""
Gamma = sp.Symbol("Gamma", nonnegative=True)
"""Injection rate Γ_j ≥ 0 of new gradient signal per window slot."""
d = sp.Symbol("d", positive=True)
"""Signal strength d_j = σ_j (a singular value of the window)."""
lam = sp.Symbol("lambda", positive=True)
"""Eigenvalue λ_j = d_j² of the window Gram."""
N = sp.Symbol("N", nonnegative=True)
"""Noise power N_j: the noise ξ has variance η² N_j along mode j."""
G = sp.Symbol("G", real=True)
"""Gradient slope G_j = ⟨v_j, ∇L⟩ along mode j at the window's reference point."""
x = sp.Symbol("x", real=True)
"""Coordinate θ_j of the parameters along mode j, from the reference point."""

# ------------------------------------------------------------ the pair around the gap
d_k, d_k1 = sp.symbols("d_k d_k1", positive=True)
h_k, h_k1 = sp.symbols("h_k h_k1", nonnegative=True)
Gamma_k, Gamma_k1 = sp.symbols("Gamma_k Gamma_k1", nonnegative=True)
N_k, N_k1 = sp.symbols("N_k N_k1", nonnegative=True)
g = sp.Symbol("g", positive=True)
"""Gap g = d_{k*} − d_{k*+1} in singular-value units."""
dbar = sp.Symbol(r"\bar{d}", positive=True)
"""Pair mean d̄ = (d_{k*} + d_{k*+1})/2."""
hbar = sp.Symbol(r"\bar{h}", nonnegative=True)
"""Pair mean h̄ = (h_{k*} + h_{k*+1})/2."""
dh = sp.Symbol(r"\Delta{h}", real=True)
"""Curvature asymmetry h_{k*} − h_{k*+1}."""
D = sp.Symbol("D", real=True)
"""Dyson (level-repulsion) term of R3 in the gap flow R2."""

# ----------------------------------------------------------- a generic pair i, j (R3)
lam_i, lam_j = sp.symbols("lambda_i lambda_j", positive=True)
N_i, N_j = sp.symbols("N_i N_j", nonnegative=True)
eps = sp.Symbol("epsilon", real=True)
"""Perturbation order parameter of the off-diagonal noise."""

# --------------------------------------------------------------- reduced gap flow (R4)
c = sp.Symbol("c", real=True)
"""g-independent part of the gap flow (R4)."""
beta = sp.Symbol("beta", nonnegative=True)
"""Repulsion strength β ≥ 0 of the reduced gap flow, ġ ∋ β/g (R4)."""

# ------------------------------------------------------------- stability (R5, R8, R9)
dC = sp.Symbol(r"\|\Delta{C}\|", nonnegative=True)
"""Window change ‖ΔC‖ between consecutive windows."""
delta = sp.Symbol("delta", positive=True)
"""Eigen-gap δ_j of mode j (eigenvalue units)."""
theta = sp.Symbol("theta", real=True)
"""A rotation angle."""
c_alpha = sp.Symbol("c_alpha", positive=True)
"""The constant c of the stability coefficient α = max(0, 1 − c‖ΔC‖²/δ²)."""
rho = sp.Symbol("rho", nonnegative=True)
"""Feedback strength ρ of the α-loop (R8)."""
Gamma_0 = sp.Symbol("Gamma_0", positive=True)
"""Open-loop injection rate of mode k* (R8)."""
h_b = sp.Symbol("h_b", nonnegative=True)
"""Curvature of the mode below the gap, k*+1 (R8)."""
Gamma_b = sp.Symbol("Gamma_b", positive=True)
"""Injection rate of the mode below the gap, k*+1 (R8)."""
d_b = sp.Symbol("d_b", positive=True)
"""Signal strength of the mode below the gap, held at its R1 steady state (R8)."""
q = sp.Symbol("q", positive=True)
"""Level ratio λ_b/λ_0 of R8: mode k*+1 over the open-loop level of mode k*."""

# ----------------------------------------------------------------- noise, BBP (R10)
nu = sp.Symbol("nu", positive=True)
"""Noise level ν: the standard deviation of one entry of an update."""
