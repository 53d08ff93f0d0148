"""R1 — the signal-strength flow of one mode, derived from A1–A3 (docs/spec.md §4).

Route: A1 gives the slope along mode j, ``G + h·x``; with A2 the drive ``u = G + (h+ω)x``
obeys ``du/dt = −η(h+ω)u`` under the flow ``dx/dt = −ηu``, so every window slot relaxes
exponentially. Differentiating the A3 window sum ``λ = Σ_s c(s)²`` of such relaxing slots,
each driven by the injection of A3, gives ``dλ/dt = −2η(h+ω)λ + 2ηWΓ``; with ``λ = d²``
this is ``ḋ = −η(h+ω)d + ηWΓ/d``. Its positive root is the steady state
``d* = √(WΓ/(h+ω))``, stable, and decreasing in h (the inverted hierarchy).

The published form ``√(W/h)|G|`` is recovered with ``Γ = G²`` and ``ω = 0`` (a claim).

>>> r = r1()
>>> r.output("d_dot")
Gamma*W*eta/d - d*eta*(h + omega)
>>> r.check().passed
True
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from spectral_edge.theory.axioms import (
    DEFAULT_AXIOMS,
    AxiomSet,
    G_eff,
    drive,
    slot,
    theta_fn,
    u,
    xi,
)
from spectral_edge.theory.derivation import Claim, Derivation, StepLog, linear_solve, positive_zero
from spectral_edge.theory.symbols import G, Gamma, W, d, eta, h, hw, lam, omega, s, t, x

__all__ = ["r1", "window_sum_rate"]


def window_sum_rate(slot_rate: sp.Basic, log: StepLog | None = None,
                    axioms: AxiomSet = DEFAULT_AXIOMS) -> sp.Basic:
    """Differentiate the A3 window sum ``λ = Σ_s c(s,t)²`` given ``dc(s,t)/dt = slot_rate``.

    ``slot_rate`` is an expression in ``c(s, t)`` and ``f(s, t)``; sums of ``c(s,t)²`` are
    replaced by ``λ`` and the injection ``c·f`` by ``Γ`` (A3). Returns ``dλ/dt``.

    >>> from spectral_edge.theory.axioms import drive, slot
    >>> from spectral_edge.theory.symbols import s, t
    >>> window_sum_rate(-slot(s, t) + drive(s, t))
    2*Gamma*W - 2*lambda
    """
    log = log if log is not None else StepLog()
    window = axioms.rel("A3", "window_sum").rhs
    rate = window.diff(t)
    log.add("A3: differentiate the window sum term by term", rate)
    summand = sp.expand(rate.function.subs(sp.Derivative(slot(s, t), t), slot_rate))
    split = sp.Sum(summand, *rate.limits).expand()
    log.add("substitute each slot's dynamics and split the sum", split)
    injection = axioms.rel("A3", "injection")

    def evaluate(term: sp.Sum) -> sp.Basic:
        body = sp.factor_terms(term.function).subs(injection.lhs, injection.rhs)
        if body.has(slot):
            coefficient = sp.cancel(body / slot(s, t) ** 2)
            if coefficient.has(slot) or coefficient.has(drive):
                raise ValueError(f"slot dynamics not linear in c(s, t): {term}")
            return coefficient * lam
        return sp.Sum(body, *term.limits).doit()

    total = sp.expand(split.replace(lambda e: isinstance(e, sp.Sum), evaluate))
    return log.add("A3: Σ_s c(s)² = λ, and every slot injects c·f = Γ", total)


@lru_cache(maxsize=64)
def r1(axioms: AxiomSet = DEFAULT_AXIOMS) -> Derivation:
    """Derive R1 (signal-strength flow, steady state, stability, inverted hierarchy)."""
    log = StepLog()
    loss = axioms.rel("A1", "loss")
    slope = log.add("A1: slope along mode j, dL/dx", sp.diff(loss.rhs, x))
    drive_u = axioms.rel("A2", "drive").rhs.subs(G_eff, slope)
    log.add("A2: the drive with the effective slope, u = G_eff + ωx", sp.collect(drive_u, x))
    u_of_t = drive_u.subs(x, theta_fn(t))
    flow = axioms.rel("A2", "flow")
    du_dt = sp.diff(u_of_t, t).subs(flow.lhs, flow.rhs)
    u_rate = sp.factor(sp.cancel(du_dt.subs(u, u_of_t) / u_of_t))
    if u_rate.has(theta_fn):
        raise ValueError("the drive does not relax linearly; A1/A2 inconsistent")
    log.add("A2 flow dx/dt = −ηu: du/dt / u (the relaxation rate)", u_rate)
    U = sp.Function("U")
    u0 = sp.Symbol("u_0", real=True)
    # a linear ODE with a constant coefficient (u_rate is free of t, checked above)
    relax = sp.dsolve(sp.Eq(U(t).diff(t), u_rate * U(t)), U(t), ics={U(0): u0},
                      hint="nth_linear_constant_coeff_homogeneous")
    log.add("solve du/dt = rate·u: the mode relaxes exponentially", relax)
    mean = axioms.rel("A2", "noise_mean")
    coordinate = axioms.rel("A2", "update").rhs.subs(xi, mean.rhs).subs(u, relax.rhs)
    log.add("A2: mean slot coordinate E[c] = −ηu + E[ξ] along the relaxing drive", coordinate)
    c_rate = sp.factor(sp.cancel(sp.diff(coordinate, t) / coordinate))
    if c_rate.has(t):
        raise ValueError("the slot coordinate does not relax exponentially")
    slot_rate = c_rate * slot(s, t) + eta * drive(s, t)
    log.add("A2 + A3: slot coordinate c relaxes at the same rate, driven by ηf", slot_rate)
    lam_rate = window_sum_rate(slot_rate, log, axioms)
    dfun = sp.Function("d")(t)
    level = axioms.rel("A3", "eigenvalue").rhs.subs(d, dfun)
    chain = sp.Eq(sp.diff(level, t), lam_rate.subs(lam, level))
    log.add("A3: λ = d², chain rule", chain)
    d_dot = linear_solve(chain, sp.diff(dfun, t)).subs(dfun, d)
    d_dot = sp.expand(d_dot)
    d_dot = sp.collect(d_dot, d, sp.factor)
    log.add("solve for ḋ", d_dot)
    d_star = positive_zero(d_dot, d)
    log.add("steady state: the positive root of ḋ = 0", d_star)
    slope_star = sp.factor(sp.diff(d_dot, d).subs(d, d_star))
    log.add("linear stability: ∂ḋ/∂d at d*", slope_star)
    paper_form = sp.powsimp(d_star.subs({Gamma: G**2, omega: 0}))
    log.add("paper form: Γ = G², ω = 0", paper_form)
    hierarchy = sp.factor(sp.diff(d_star, h))
    log.add("inverted hierarchy: ∂d*/∂h", hierarchy)

    # docs/spec.md §4 R1, typed independently.
    stated_d_dot = -eta * (h + omega) * d + eta * W * Gamma / d
    stated_lam_rate = -2 * eta * (h + omega) * lam + 2 * eta * W * Gamma
    stated_d_star = sp.sqrt(W * Gamma / (h + omega))
    stated_paper = sp.sqrt(W / h) * sp.Abs(G)
    claims = (
        Claim("d(λ)/dt = −2η(h+ω)λ + 2ηWΓ", lam_rate, stated_lam_rate),
        Claim("ḋ = −η(h+ω)d + ηWΓ/d", d_dot, stated_d_dot),
        Claim("d* = √(WΓ/(h+ω))", d_star, stated_d_star),
        Claim("paper form d* = √(W/h)|G| (Γ = G², ω = 0)", paper_form, stated_paper),
        Claim("stability slope = −2η(h+ω)", slope_star, -2 * eta * (h + omega)),
        Claim(
            "steady state stable when h+ω > 0",
            slope_star.subs(h, hw - omega),
            sp.Integer(0),
            "negative",
        ),
        Claim(
            "lower curvature ⇒ larger signal (∂d*/∂h ≤ 0 when h+ω > 0)",
            hierarchy.subs(h, hw - omega),
            sp.Integer(0),
            "nonpositive",
        ),
    )
    return log.derivation(
        "R1", "Signal-strength flow", ("A1", "A2", "A3"),
        result=sp.Eq(sp.Symbol(r"\dot{d}_j"), d_dot),
        claims=claims,
        outputs=(("d_dot", d_dot), ("lam_dot", lam_rate), ("d_star", d_star)),
        notes=(
            "Γ_j is the power the unexplained driving injects into each window slot (A3); "
            "the paper's Γ_j = |G_j|² with ω = 0 is the special case checked above."
        ),
    )
