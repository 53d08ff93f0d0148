"""Derived results as NumPy callables (``lambdify``), docs/spec.md §5.

Every callable here is built by :func:`sympy.lambdify` from the expression a derivation
*produced* (its ``outputs``), never from a formula typed a second time: if a derivation
changes, the functions change with it. They take float64 NumPy arrays (or scalars) that
broadcast against each other elementwise, and return float64 arrays of the broadcast shape.
Compilation is lazy: the first call of a function runs its derivation (about a second) and
compiles it; later calls reuse the compiled function.

Callables (contract with ``numerics/ode.py``):

* :func:`signal_rhs` ``(d, h, Gamma, eta, omega, W)`` — ḋ of R1;
* :func:`signal_steady_state` ``(h, Gamma, omega, W)`` — d* of R1;
* :func:`eigen_drift` ``(lam, h, Gamma, eta, omega, W)`` — drift part of λ̇ (R3);
* :func:`repulsion_rate` ``(lam_i, lam_j, N_i, N_j, eta)`` — κ_ij (R3);
* :func:`dyson_rhs` ``(lam, h, Gamma, N, eta, omega, W)`` — the n-mode system of R3 (drift,
  noise mean Wη²N_j, repulsion);
* :func:`gap_flow_rhs` ``(d_k, d_k1, h_k, h_k1, Gamma_k, Gamma_k1, N_k, N_k1, eta, omega, W)``
  — the whole ġ of R2, the Dyson term derived (repulsion β/g and Itô correction; both
  vanish with N_k = N_k1 = 0); :func:`pair_sigma_rhs` — (ḋ_k, ḋ_{k+1}) of the same system;
  :func:`gap_repulsion` ``(d_k, d_k1, N_k, N_k1, eta)`` — β of R2/R4;
* :func:`diffusion_rate` ``(lam, N, eta)`` — κ_jj of R3, the noise rate of λ_j;
* :func:`loss_change_interval` — the two ends of R6's ΔL' interval, per mode;
* :func:`reduced_gap_rhs` ``(g, c, beta, eta, hw)``, :func:`gap_equilibrium`
  ``(c, beta, eta, hw)``, :func:`reduced_gap_slope` ``(g, c, beta, eta, hw)`` — R4;
* :func:`feedback_rhs`, :func:`feedback_fixed_points`, :func:`feedback_threshold` — R8,
  see their docstrings (signature chosen here, as the contract allows);
* :func:`adiabatic_parameter` ``(dC, eta, g)`` — A of R9;
* :func:`bbp_threshold` ``(nu, P, W)`` — d_c of R10 (the textbook form ν(PW)^{1/4}).

Beyond the contract: :func:`boundary_mixing_change` (R7) and :func:`krylov_profile`,
:func:`krylov_profile_linear` (R11), used by the property tests of those results.

The table :data:`_SPECS` names, for each callable, the derivation output it compiles and its
argument symbols in call order; compiling refuses an expression with a symbol that is not an
argument (an unbound symbol would otherwise surface as a ``NameError`` deep inside NumPy).
Rendering derivations as Markdown/LaTeX lives in :mod:`spectral_edge.theory.render`.

>>> round(float(signal_steady_state(h=1.0, Gamma=4.0, omega=1.0, W=8)), 12)
4.0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import sympy as sp

from spectral_edge.theory import symbols as S
from spectral_edge.theory.axioms import G_eff
from spectral_edge.theory.maximality import MIX_ANGLE, MODE_TRAIN, MODE_VAL

__all__ = [
    "adiabatic_parameter",
    "bbp_threshold",
    "boundary_mixing_change",
    "diffusion_rate",
    "dyson_rhs",
    "eigen_drift",
    "gap_repulsion",
    "loss_change_interval",
    "pair_sigma_rhs",
    "FeedbackFixedPoints",
    "feedback_fixed_points",
    "feedback_ratio",
    "feedback_rhs",
    "feedback_threshold",
    "gap_equilibrium",
    "gap_flow_rhs",
    "krylov_profile",
    "krylov_profile_linear",
    "reduced_gap_rhs",
    "reduced_gap_slope",
    "repulsion_rate",
    "signal_rhs",
    "signal_steady_state",
]

ArrayLike = float | np.ndarray


def _output(derivation_id: str, name: str) -> sp.Basic:
    from spectral_edge.theory.registry import derivation

    return derivation(derivation_id).output(name)


_R6_ARGS = (sp.Symbol("alpha_j", nonnegative=True), G_eff, S.omega, S.x,
            sp.Symbol("G'", real=True), S.eta, S.W)

# name -> (derivation id, output name, argument symbols in call order)
_SPECS: dict[str, tuple[str, str, tuple[sp.Symbol, ...]]] = {
    "signal_rhs": ("R1", "d_dot", (S.d, S.h, S.Gamma, S.eta, S.omega, S.W)),
    "signal_steady_state": ("R1", "d_star", (S.h, S.Gamma, S.omega, S.W)),
    "eigen_drift": ("R3", "eigen_drift", (S.lam, S.h, S.Gamma, S.eta, S.omega, S.W)),
    "repulsion_rate": ("R3", "kappa", (S.lam_i, S.lam_j, S.N_i, S.N_j, S.eta)),
    "pair_term": ("R3", "pair_term", (S.lam_i, S.lam_j, S.N_i, S.N_j, S.eta)),
    "noise_mean": ("R3", "noise_mean", (S.N_j, S.eta, S.W)),
    "gap_flow_rhs": (
        "R2",
        "g_dot",
        (S.d_k, S.d_k1, S.h_k, S.h_k1, S.Gamma_k, S.Gamma_k1, S.N_k, S.N_k1, S.eta, S.omega,
         S.W),
    ),
    "pair_rhs_k": ("R2", "d_dot_k",
                   (S.d_k, S.d_k1, S.h_k, S.Gamma_k, S.N_k, S.N_k1, S.eta, S.omega, S.W)),
    "pair_rhs_k1": ("R2", "d_dot_k1",
                    (S.d_k, S.d_k1, S.h_k1, S.Gamma_k1, S.N_k, S.N_k1, S.eta, S.omega, S.W)),
    "gap_repulsion": ("R2", "beta", (S.d_k, S.d_k1, S.N_k, S.N_k1, S.eta)),
    "diffusion_rate": ("R3", "kappa_diag", (S.lam_j, S.N_j, S.eta)),
    "loss_lower": ("R6", "lower_mode", _R6_ARGS),
    "loss_upper": ("R6", "upper_mode", _R6_ARGS),
    "reduced_gap_rhs": ("R4", "g_dot", (S.g, S.c, S.beta, S.eta, S.hw)),
    "gap_equilibrium": ("R4", "g_star", (S.c, S.beta, S.eta, S.hw)),
    "gap_equilibrium_rationalised": (
        "R4",
        "g_star_rationalised",
        (S.c, S.beta, S.eta, S.hw),
    ),
    "reduced_gap_slope": ("R4", "slope", (S.g, S.c, S.beta, S.eta, S.hw)),
    "bbp_threshold": ("R10", "d_c", (S.nu, S.P, S.W)),
    "feedback_rhs": (
        "R8",
        "g_dot",
        (S.g, S.d_b, S.rho, S.h, S.Gamma_0, S.eta, S.omega, S.W),
    ),
    "feedback_y_plus": ("R8", "y_plus", (S.rho, S.q)),
    "feedback_y_minus": ("R8", "y_minus", (S.rho, S.q)),
    "feedback_level": ("R8", "lam_0", (S.Gamma_0, S.h, S.omega, S.W)),
    "feedback_rho_c": ("R8", "rho_c", (S.q,)),
    "feedback_q": ("R8", "q", (S.h, S.Gamma_0, S.h_b, S.Gamma_b, S.omega)),
    "adiabatic_parameter": ("R9", "A", (S.dC, S.eta, S.g)),
    "boundary_mixing_change": (
        "R7",
        "boundary_change",
        (MIX_ANGLE, MODE_TRAIN[1], MODE_TRAIN[2], MODE_VAL[1], MODE_VAL[2]),
    ),
    "krylov_profile": ("R11", "profile", (S.s, S.eta, S.h)),
    "krylov_profile_linear": ("R11", "profile_linear", (S.s, S.eta, S.h)),
}


@cache
def _compiled(name: str) -> Callable[..., np.ndarray]:
    derivation_id, output, args = _SPECS[name]
    expr = _output(derivation_id, output)
    extra = expr.free_symbols - set(args)
    if extra:
        names = sorted(map(str, extra))
        raise ValueError(f"{name}: derived expression has unbound symbols {names}")
    return sp.lambdify(args, expr, modules="numpy")


def _call(name: str, *args: ArrayLike) -> np.ndarray:
    """The compiled ``name`` on ``args``: a new float64 array of the arguments' broadcast
    shape (ODE solvers call this per step, so the common case avoids extra copies)."""
    arrays = [np.asarray(a, dtype=np.float64) for a in args]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(_compiled(name)(*arrays), dtype=np.float64)
    shape = np.broadcast(*arrays).shape
    if out.shape != shape:  # an expression free of some arguments (e.g. a constant)
        return np.broadcast_to(out, shape).copy()
    return out.copy() if any(out is a for a in arrays) else out


# ------------------------------------------------------------------------------- R1
def signal_rhs(d: ArrayLike, h: ArrayLike, Gamma: ArrayLike, eta: ArrayLike,
               omega: ArrayLike, W: ArrayLike) -> np.ndarray:
    """R1: ḋ = −η(h+ω)d + ηWΓ/d for signal strength ``d`` of one mode.

    >>> float(signal_rhs(d=2.0, h=1.0, Gamma=1.0, eta=0.1, omega=0.0, W=4))
    0.0
    >>> signal_rhs([1.0, 2.0], 1.0, 1.0, 0.1, 0.0, 4).round(3).tolist()
    [0.3, 0.0]
    """
    return _call("signal_rhs", d, h, Gamma, eta, omega, W)


def signal_steady_state(h: ArrayLike, Gamma: ArrayLike, omega: ArrayLike,
                        W: ArrayLike) -> np.ndarray:
    """R1: d* = √(WΓ/(h+ω)), the stable zero of :func:`signal_rhs`.

    >>> round(float(signal_steady_state(h=0.5, Gamma=2.0, omega=0.5, W=2)), 12)
    2.0
    """
    return _call("signal_steady_state", h, Gamma, omega, W)


# ------------------------------------------------------------------------------- R3
def eigen_drift(lam: ArrayLike, h: ArrayLike, Gamma: ArrayLike, eta: ArrayLike,
                omega: ArrayLike, W: ArrayLike) -> np.ndarray:
    """R3 drift of an eigenvalue λ = d²: −2η(h+ω)λ + 2ηWΓ.

    >>> float(eigen_drift(lam=4.0, h=1.0, Gamma=1.0, eta=0.1, omega=0.0, W=4))
    0.0
    """
    return _call("eigen_drift", lam, h, Gamma, eta, omega, W)


def repulsion_rate(lam_i: ArrayLike, lam_j: ArrayLike, N_i: ArrayLike, N_j: ArrayLike,
                   eta: ArrayLike) -> np.ndarray:
    """R3: κ_ij = η²(N_j λ_i + N_i λ_j), variance rate of the (i, j) off-diagonal entry.

    >>> float(repulsion_rate(lam_i=1.0, lam_j=2.0, N_i=1.0, N_j=3.0, eta=0.5))
    1.25
    """
    return _call("repulsion_rate", lam_i, lam_j, N_i, N_j, eta)


def dyson_rhs(lam: ArrayLike, h: ArrayLike, Gamma: ArrayLike, N: ArrayLike,
              eta: ArrayLike, omega: ArrayLike, W: ArrayLike) -> np.ndarray:
    """R3: λ̇_j = drift_j + Wη²N_j + Σ_{i≠j} κ_ij/(λ_j − λ_i) for an n-mode system (the
    noise mean Wη²N_j is derived in R3: every slot re-noised).

    ``lam``, ``h``, ``Gamma`` and ``N`` have shape ``(..., n)`` (a leading batch of
    parameter sets is allowed); ``eta``, ``omega`` and ``W`` are scalars or arrays of the
    batch shape ``(...)``. Equal eigenvalues give infinite repulsion (inf/nan entries).

    >>> lam = np.array([4.0, 1.0])
    >>> out = dyson_rhs(lam, [1.0, 1.0], [1.0, 0.25], [0.0, 0.0], 0.1, 0.0, 4)
    >>> out.round(6).tolist()
    [0.0, 0.0]
    >>> dyson_rhs(lam, [1.0, 1.0], [1.0, 0.25], [1.0, 1.0], 0.1, 0.0, 4).round(6).tolist()
    [0.056667, 0.023333]
    """
    lam = np.asarray(lam, dtype=np.float64)
    if lam.ndim < 1:
        raise ValueError("dyson_rhs: lam must have shape (..., n)")
    n_arr = np.broadcast_to(np.asarray(N, dtype=np.float64), lam.shape)
    batch = lambda a: np.asarray(a, dtype=np.float64)[..., None]  # noqa: E731
    drift = eigen_drift(lam, h, Gamma, batch(eta), batch(omega), batch(W))
    drift = drift + _call("noise_mean", n_arr, batch(eta), batch(W))
    pair = _call(
        "pair_term",
        lam[..., None, :],
        lam[..., :, None],
        n_arr[..., None, :],
        n_arr[..., :, None],
        np.asarray(eta, dtype=np.float64)[..., None, None],
    )
    off = ~np.eye(lam.shape[-1], dtype=bool)
    repulsion = np.where(off, pair, 0.0).sum(axis=-1)
    return drift + repulsion


# ------------------------------------------------------------------------------- R2
def gap_flow_rhs(d_k: ArrayLike, d_k1: ArrayLike, h_k: ArrayLike, h_k1: ArrayLike,
                 Gamma_k: ArrayLike, Gamma_k1: ArrayLike, N_k: ArrayLike, N_k1: ArrayLike,
                 eta: ArrayLike, omega: ArrayLike, W: ArrayLike) -> np.ndarray:
    """R2: ġ = −η(h_k−h_{k+1})d̄ − η(h̄+ω)g + ηW(Γ_k/d_k − Γ_{k+1}/d_{k+1}) + D, with the
    derived D = β/g + (W−1)η²(N_k/d_k − N_{k+1}/d_{k+1})/2 (no free D; N = 0 gives D = 0).

    >>> float(gap_flow_rhs(2.0, 1.0, 1.0, 1.0, 1.0, 0.25, 0.0, 0.0, 0.1, 0.0, 4))
    0.0
    >>> round(float(gap_flow_rhs(2.0, 1.0, 1.0, 1.0, 1.0, 0.25, 1.0, 1.0, 0.1, 0.0, 4)), 6)
    0.005
    """
    return _call("gap_flow_rhs", d_k, d_k1, h_k, h_k1, Gamma_k, Gamma_k1, N_k, N_k1, eta,
                 omega, W)


def pair_sigma_rhs(d_k: ArrayLike, d_k1: ArrayLike, h_k: ArrayLike, h_k1: ArrayLike,
                   Gamma_k: ArrayLike, Gamma_k1: ArrayLike, N_k: ArrayLike, N_k1: ArrayLike,
                   eta: ArrayLike, omega: ArrayLike, W: ArrayLike) -> np.ndarray:
    """R2: (ḋ_k, ḋ_{k+1}) of the pair, drift + repulsion + noise mean + Itô, stacked along
    axis 0.

    >>> pair_sigma_rhs(2.0, 1.0, 1.0, 1.0, 1.0, 0.25, 0.0, 0.0, 0.1, 0.0, 4).tolist()
    [0.0, 0.0]
    """
    return np.stack([
        _call("pair_rhs_k", d_k, d_k1, h_k, Gamma_k, N_k, N_k1, eta, omega, W),
        _call("pair_rhs_k1", d_k, d_k1, h_k1, Gamma_k1, N_k, N_k1, eta, omega, W),
    ])


def gap_repulsion(d_k: ArrayLike, d_k1: ArrayLike, N_k: ArrayLike, N_k1: ArrayLike,
                  eta: ArrayLike) -> np.ndarray:
    """R2/R4: β = η²(N_{k+1}d_k² + N_k d_{k+1}²)/(2d_k d_{k+1}), the repulsion D ∋ β/g.

    >>> float(gap_repulsion(1.0, 1.0, 1.0, 1.0, 1.0))
    1.0
    """
    return _call("gap_repulsion", d_k, d_k1, N_k, N_k1, eta)


def diffusion_rate(lam: ArrayLike, N: ArrayLike, eta: ArrayLike) -> np.ndarray:
    """R3: κ_jj = 4η²N_jλ_j, the variance rate of λ_j's own noise (twice κ_ij at i = j).

    >>> float(diffusion_rate(2.0, 1.0, 0.5))
    2.0
    """
    return _call("diffusion_rate", lam, N, eta)


def loss_change_interval(alpha: ArrayLike, G_eff: ArrayLike, omega: ArrayLike,
                         theta: ArrayLike, G_val: ArrayLike, eta: ArrayLike,
                         W: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """R6: the two ends of ΔL' allowed by α_j ≤ cos²θ_j ≤ 1, summed over the last axis
    (modes). Per mode p_j = −ηW(G_j^eff + ωθ_j)G_j^val lies in [min(α_j p_j, p_j),
    max(α_j p_j, p_j)]; ω ≠ 0 keeps the weight-decay part.

    >>> lo, hi = loss_change_interval([0.5, 1.0], [1.0, -1.0], 0.0, 0.0, [1.0, 1.0], 0.1, 10)
    >>> float(lo), float(hi)
    (0.0, 0.5)
    """
    args = (alpha, G_eff, omega, theta, G_val, eta, W)
    lower = _call("loss_lower", *args)
    upper = _call("loss_upper", *args)
    return lower.sum(axis=-1), upper.sum(axis=-1)


# ------------------------------------------------------------------------------- R4
def reduced_gap_rhs(g: ArrayLike, c: ArrayLike, beta: ArrayLike, eta: ArrayLike,
                    hw: ArrayLike) -> np.ndarray:
    """R4: ġ = c − η·hw·g + β/g, with hw = h̄ + ω.

    >>> float(reduced_gap_rhs(g=1.0, c=1.0, beta=1.0, eta=1.0, hw=2.0))
    0.0
    """
    return _call("reduced_gap_rhs", g, c, beta, eta, hw)


def gap_equilibrium(c: ArrayLike, beta: ArrayLike, eta: ArrayLike,
                    hw: ArrayLike) -> np.ndarray:
    """R4: the positive equilibrium g* = (c + √(c² + 4η·hw·β)) / (2η·hw).

    For c < 0 the algebraically identical rationalised root 2β/(√(c² + 4η·hw·β) − c), also
    derived in R4, is used: it has no cancellation, so g* → β/|c| stays accurate.

    >>> float(gap_equilibrium(c=1.0, beta=1.0, eta=1.0, hw=2.0))
    1.0
    >>> print(f"{float(gap_equilibrium(c=-1.0, beta=1e-12, eta=1.0, hw=1.0)):.6e}")
    1.000000e-12
    """
    c = np.asarray(c, dtype=np.float64)
    direct = _call("gap_equilibrium", c, beta, eta, hw)
    stable = _call("gap_equilibrium_rationalised", c, beta, eta, hw)
    return np.where(c >= 0, direct, stable)


def reduced_gap_slope(g: ArrayLike, c: ArrayLike, beta: ArrayLike, eta: ArrayLike,
                      hw: ArrayLike) -> np.ndarray:
    """R4: ∂ġ/∂g = −η·hw − β/g² (negative: every equilibrium g* > 0 is stable).

    >>> float(reduced_gap_slope(g=1.0, c=1.0, beta=1.0, eta=1.0, hw=2.0))
    -3.0
    """
    return _call("reduced_gap_slope", g, c, beta, eta, hw)


# ------------------------------------------------------------------------------- R8
def feedback_rhs(g: ArrayLike, d_b: ArrayLike, rho: ArrayLike, h: ArrayLike,
                 Gamma0: ArrayLike, eta: ArrayLike, omega: ArrayLike,
                 W: ArrayLike) -> np.ndarray:
    """R8: ġ of the closed α-loop, ġ = ḋ_{k*} with d_{k*} = d_b + g.

    Mode k* follows R1 with Γ = Γ₀(1 + ρα), α = 1 − d_b²/d_{k*}² (the relative eigen-gap);
    mode k*+1 is held at ``d_b`` (its R1 steady state). ``h`` is the curvature of mode k*.
    Valid for g > −d_b (the model assumes g ≥ 0, the modes in order).

    >>> float(feedback_rhs(g=1.0, d_b=1.0, rho=0.0, h=1.0, Gamma0=1.0, eta=1.0, omega=0.0,
    ...                    W=4))
    0.0
    """
    return _call("feedback_rhs", g, d_b, rho, h, Gamma0, eta, omega, W)


@dataclass(frozen=True)
class FeedbackFixedPoints:
    """Fixed points of the R8 loop, as gaps g = d_{k*} − d_b (NaN where none exists).

    ``g_stable`` is the larger root (stable), ``g_unstable`` the smaller (unstable). A root
    with g ≤ 0 is not an open gap (the model's α is only meaningful for g ≥ 0).
    """

    g_unstable: np.ndarray
    g_stable: np.ndarray


def feedback_fixed_points(d_b: ArrayLike, rho: ArrayLike, h: ArrayLike, Gamma0: ArrayLike,
                          omega: ArrayLike, W: ArrayLike) -> FeedbackFixedPoints:
    """R8: the two fixed points of :func:`feedback_rhs` (roots of y² − (1+ρ)y + ρq = 0).

    >>> fp = feedback_fixed_points(d_b=1.0, rho=0.0, h=1.0, Gamma0=1.0, omega=0.0, W=4)
    >>> round(float(fp.g_stable), 12)
    1.0
    """
    lam_0 = _call("feedback_level", Gamma0, h, omega, W)
    q_ratio = np.asarray(d_b, dtype=np.float64) ** 2 / lam_0
    y_plus = _call("feedback_y_plus", rho, q_ratio)
    y_minus = _call("feedback_y_minus", rho, q_ratio)
    d_b = np.asarray(d_b, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return FeedbackFixedPoints(
            g_unstable=np.sqrt(lam_0 * y_minus) - d_b,
            g_stable=np.sqrt(lam_0 * y_plus) - d_b,
        )


def feedback_ratio(h: ArrayLike, Gamma0: ArrayLike, h_b: ArrayLike, Gamma_b: ArrayLike,
                   omega: ArrayLike) -> np.ndarray:
    """R8: q = [Γ_b/(h_b+ω)]/[Γ₀/(h+ω)], the level of mode k*+1 over mode k*'s open loop.

    >>> float(feedback_ratio(h=1.0, Gamma0=1.0, h_b=1.0, Gamma_b=2.0, omega=0.0))
    2.0
    """
    return _call("feedback_q", h, Gamma0, h_b, Gamma_b, omega)


def feedback_threshold(h: ArrayLike, Gamma0: ArrayLike, h_b: ArrayLike, Gamma_b: ArrayLike,
                       omega: ArrayLike) -> np.ndarray:
    """R8: ρ_c = (√q + √(q−1))² with q = [Γ_b/(h_b+ω)]/[Γ₀/(h+ω)] for q ≥ 1; 0 when q < 1.

    At q = 1, ρ_c = 1: the fixed points are y = 1 (collapse) and y = ρ.

    Above ρ_c the open-gap fixed point exists and is stable. ``h``, ``Gamma0``: mode k*;
    ``h_b``, ``Gamma_b``: mode k*+1. Only (h, ω, Γ) enter.

    >>> float(feedback_threshold(h=1.0, Gamma0=1.0, h_b=1.0, Gamma_b=0.5, omega=0.0))
    0.0
    >>> round(float(feedback_threshold(h=1.0, Gamma0=1.0, h_b=1.0, Gamma_b=2.0, omega=0.0)), 6)
    5.828427
    >>> float(feedback_threshold(h=1.0, Gamma0=1.0, h_b=1.0, Gamma_b=1.0, omega=0.0))
    1.0
    """
    q_ratio = _call("feedback_q", h, Gamma0, h_b, Gamma_b, omega)
    rho_c = _call("feedback_rho_c", np.maximum(q_ratio, 1.0))
    return np.where(q_ratio >= 1.0, rho_c, 0.0)


# ------------------------------------------------------------------------------- R9
def adiabatic_parameter(dC: ArrayLike, eta: ArrayLike, g: ArrayLike) -> np.ndarray:
    """R9: A = ‖ΔC‖_F/(η g²), g in singular-value units.

    >>> float(adiabatic_parameter(dC=0.5, eta=0.1, g=2.0))
    1.25
    """
    return _call("adiabatic_parameter", dC, eta, g)


# ------------------------------------------------------------------------------- R7
def boundary_mixing_change(psi: ArrayLike, G_in_tr: ArrayLike, G_out_tr: ArrayLike,
                           G_in_val: ArrayLike, G_out_val: ArrayLike) -> np.ndarray:
    """R7(b): change of the dominant block's Σ G^tr G^val when a collapse at k* mixes the
    last mode inside the block (``in``) with the first outside (``out``) by angle ψ.

    Mixing two modes inside one block changes nothing (R7(a)); this is the only change.

    >>> round(float(boundary_mixing_change(np.pi / 2, 1.0, 0.0, 1.0, 0.0)), 12)
    -1.0
    """
    return _call("boundary_mixing_change", psi, G_in_tr, G_out_tr, G_in_val, G_out_val)


# ------------------------------------------------------------------------------ R11
def krylov_profile(s: ArrayLike, eta: ArrayLike, h: ArrayLike) -> np.ndarray:
    """R11: temporal profile (1 − ηh)^s of a mode of curvature h (gradient descent, M = I).

    >>> krylov_profile(np.arange(3), 0.5, 1.0).tolist()
    [1.0, 0.5, 0.25]
    """
    return _call("krylov_profile", s, eta, h)


def krylov_profile_linear(s: ArrayLike, eta: ArrayLike, h: ArrayLike) -> np.ndarray:
    """R11: first-order profile 1 − sηh, shared by all flat modes up to O((ηhW)²).

    >>> krylov_profile_linear(np.arange(3), 0.5, 0.1).tolist()
    [1.0, 0.95, 0.9]
    """
    return _call("krylov_profile_linear", s, eta, h)


# ------------------------------------------------------------------------------ R10
def bbp_threshold(nu: ArrayLike, P: ArrayLike, W: ArrayLike) -> np.ndarray:
    """R10: d_c = ν(PW)^{1/4}, the textbook rectangular spiked-model threshold.

    >>> round(float(bbp_threshold(nu=1.0, P=10**8, W=10)) ** 4)
    1000000000
    """
    return _call("bbp_threshold", nu, P, W)
