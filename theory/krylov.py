"""R11 — the Krylov bound on the number of active modes, docs/spec.md §4.

Route: A1 + A2 with M = I, ω = 0 and no noise: along an eigenvector of H with curvature h
the gradient obeys ``G_{s+1} = G_s + h·δ_s = (1 − ηh)G_s`` (solved as a product of the
ratios), so ``δ_s = −η(1 − ηh)^s G_0``, i.e. ``δ_s = −η(I − ηH)^s g``. Binomial expansion writes the
window's rows in the basis ``g, Hg, …, H^{W−1}g`` with a triangular coefficient matrix of
determinant ``η^{W(W−1)/2} ≠ 0`` (shown for W = 4): the window spans the Krylov space
``K_W(H, g)``. The series in ``ηh`` gives each mode's temporal profile
``(1 − ηh)^s = 1 − sηh + O((ηhW)²)`` (the ε² coefficient is ``s(s−1)/2 < W²/2``). So every
mode with ``ηhW ≪ 1`` has, to that order, a profile in ``span{1, s}``: the truncated profiles
of three flat modes are linearly dependent (determinant 0) while the exact ones are not
(a Vandermonde determinant of third order in ηh), and at leading order they all equal the
constant profile. Flat modes therefore merge into **one** shared direction; only modes with
``h ≳ 1/(ηW)`` bring their own.

Result (ours, honest form): the number of distinct directions, hence k*, is at most
``K + 1`` with ``K = #{j : h_j ≳ 1/(ηW)}``, the +1 being the merged flat block when it
carries gradient. The paper's ``k* ≤ K`` is recovered when the flat block carries no
gradient of its own (or is counted among the K) — this is why numerics can find k* = K + 1.

>>> r11().check().passed
True
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from spectral_edge.theory.axioms import DEFAULT_AXIOMS, AxiomSet, G_eff, u, xi
from spectral_edge.theory.derivation import Claim, Derivation, StepLog
from spectral_edge.theory.symbols import eta, h, omega, s, x

__all__ = ["r11"]

_W_EXAMPLE = 4


@lru_cache(maxsize=64)
def r11(axioms: AxiomSet = DEFAULT_AXIOMS) -> Derivation:
    """Derive R11: Krylov span of the window, profile series, merging of flat modes."""
    log = StepLog()
    slope = sp.diff(axioms.rel("A1", "loss").rhs, x)
    update = axioms.rel("A2", "update").rhs.subs(u, axioms.rel("A2", "drive").rhs)
    update = update.subs({G_eff: slope, omega: 0})
    update = update.subs(xi, axioms.rel("A2", "noise_mean").rhs)
    log.add("A1 + A2 (M = I, ω = 0, no noise): update along an eigenvector of H", update)
    G_next = sp.expand(slope.subs(x, x + update) - slope)
    log.add("change of the slope over one update, G(x + δ) − G(x)", G_next)
    ratio = sp.cancel((slope + G_next) / slope)
    log.add("so G_{s+1} = r·G_s with r =", ratio)
    G0 = sp.Symbol("G_0", real=True)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    solution = G0 * sp.product(ratio, (k, 0, s - 1))
    log.add("solve the recurrence: G_s = G_0 Π_{k<s} r", solution)
    delta_s = -eta * solution
    log.add("δ_s = −η G_s", delta_s)
    # Krylov span for W = 4: coefficients of H^k g in (I − ηH)^s g.
    coeffs = sp.Matrix(_W_EXAMPLE, _W_EXAMPLE, lambda i, k: sp.binomial(i, k) * (-eta) ** k)
    log.add(f"W = {_W_EXAMPLE}: (I − ηH)^s g = Σ_k C_sk H^k g, coefficient matrix C", coeffs)
    expanded = [sp.expand(sum(coeffs[i, k] * h**k for k in range(_W_EXAMPLE))) for i in
                range(_W_EXAMPLE)]
    det = sp.factor(coeffs.det())
    log.add("det C (triangular): the window spans K_W(H, g)", det)
    eps_ = sp.Symbol("epsilon", positive=True)  # ηh
    profile = solution.subs({G0: 1, h: eps_ / eta})
    series = sp.series(profile, eps_, 0, 3).removeO()
    log.add("temporal profile (1 − ηh)^s as a series in ε = ηh", series)
    linear = series.coeff(eps_, 0) + series.coeff(eps_, 1) * eps_
    second = sp.factor(series.coeff(eps_, 2))
    log.add("first-order profile", linear)
    log.add("ε² coefficient (bounded by W²/2 for s < W)", second)
    xs = sp.symbols("x_1:4", positive=True)  # ηh of three flat modes
    trunc = sp.Matrix(3, 3, lambda i, j: linear.subs({eps_: xs[j], s: i}))
    exact = sp.Matrix(3, 3, lambda i, j: (1 - xs[j]) ** i)
    det_trunc = sp.expand(trunc.det())
    det_exact = sp.factor(exact.det())
    log.add("three flat modes, slots s = 0, 1, 2: det of first-order profiles", det_trunc)
    log.add("… and of exact profiles (third order in ηh)", det_exact)
    leading = sp.limit(profile, eps_, 0)
    log.add("leading order ηhW → 0: the shared constant profile", leading)
    K = sp.Symbol("K", integer=True, nonnegative=True)
    kstar = sp.Symbol("k^*", integer=True, positive=True)
    bound = sp.Le(kstar, K + 1)
    log.add("directions: K stiff modes (h ≳ 1/(ηW)) + 1 merged flat block", bound)

    claims = (
        Claim("G_{s+1}/G_s = 1 − ηh", ratio, 1 - eta * h),
        Claim("G_s solves the recurrence G_{s+1} = r·G_s", solution.subs(s, s + 1)
              - ratio * solution, 0),
        Claim("… with G(0) = G_0", solution.subs(s, 0), G0),
        Claim("δ_s = −η(1 − ηh)^s G_0", delta_s, -eta * (1 - eta * h) ** s * G0),
        Claim("C reproduces (1 − ηh)^s for every slot",
              sp.Matrix(expanded), sp.Matrix([sp.expand((1 - eta * h) ** i)
                                              for i in range(_W_EXAMPLE)])),
        Claim("det C = η^{W(W−1)/2} ≠ 0", det, eta ** (_W_EXAMPLE * (_W_EXAMPLE - 1) // 2)),
        Claim("profile = 1 − sηh + O((ηh)²)", linear, 1 - s * eps_),
        Claim("ε² coefficient s(s−1)/2", second, s * (s - 1) / 2),
        Claim("truncated flat profiles are dependent (det 0)", det_trunc, 0),
        Claim("exact flat profiles: Vandermonde determinant", det_exact,
              (xs[0] - xs[1]) * (xs[0] - xs[2]) * (xs[1] - xs[2])),
        Claim("leading order: all flat profiles are the constant 1", leading, 1),
    )
    return log.derivation(
        "R11", "Krylov bound", ("A1", "A2"),
        result=bound,
        typed=("the bound k* ≤ K + 1 itself: a count of directions read off the derived "
               "profiles (derived: the profiles, their merging at leading order)",),
        claims=claims,
        outputs=(("profile", profile.subs(eps_, eta * h)), ("profile_linear",
                                                             linear.subs(eps_, eta * h))),
        notes=(
            "Paper: k* ≤ #{j : h_j ≳ 1/(ηW)}. Our derivation gives k* ≤ K + 1: the flat "
            "modes merge into one shared direction, which counts once when it carries "
            "gradient."
        ),
    )

