"""R2 (gap flow), R4 (near-collapse regimes) and R12 (three-phase pattern), docs/spec.md §4.

**R2.** The gap ``g = d_{k*} − d_{k*+1}`` moves with the difference of the two R1 flows plus
the Dyson term D of R3. Substituting the pair means (``d̄``, ``h̄``) and differences
(``g``, ``Δh``) turns the linear part into the curvature asymmetry and the damping, which is
the pair identity ``h_k d_k − h_{k+1} d_{k+1} = (h_k − h_{k+1}) d̄ + h̄ g`` (derived too):
``ġ = −η(h_k − h_{k+1}) d̄ − η(h̄+ω) g + ηW(Γ_k/d_k − Γ_{k+1}/d_{k+1}) + D``.

**R4.** With the drive and the asymmetry lumped into ``c`` (held fixed, adiabatically) and
``D = β/g`` (R3), ``ġ = c − η(h̄+ω)g + β/g``. Its equilibria solve a quadratic; Vieta's
product ``−β/(η(h̄+ω)) ≤ 0`` leaves exactly one positive root
``g* = (c + √(c² + 4η(h̄+ω)β)) / (2η(h̄+ω))``, stable because ``∂ġ/∂g = −η(h̄+ω) − β/g² < 0``.
As β → 0 it tends to ``c/(η(h̄+ω))`` for c > 0 (viable gap) and to 0 like ``β/|c|`` for
c < 0 (collapse without crossing). The rationalised form ``2β/(√(c² + 4η(h̄+ω)β) − c)`` is
the same root, free of cancellation for c < 0 (used by :mod:`theory.lambdified`).

**R12.** Eliminating c by the equilibrium condition factorises the flow,
``g·ġ = −η(h̄+ω)(g − g*)(g + β/(η(h̄+ω)g*))``, so for g > 0 the gap rises below g*, rests
at g*, and falls above it; g* increases with c and equals ``√(β/(η(h̄+ω)))`` at c = 0, so
the phase is set by the sign of c: c > 0 rise then plateau at ``g* ≈ c/(η(h̄+ω))``,
c < 0 collapse to ``g* < √(β/(η(h̄+ω)))`` (→ 0 as β → 0). The ratio
``R = d_k/d_{k+1} = 1 + g/d_{k+1}`` follows g monotonically.

>>> r2().check().passed and r4().check().passed and r12().check().passed
True
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from theory.derivation import Claim, Derivation, StepLog, positive_root
from theory.noise import r3
from theory.signal_flow import r1
from theory.symbols import (
    D,
    Gamma,
    Gamma_k,
    Gamma_k1,
    W,
    beta,
    c,
    d,
    d_k,
    d_k1,
    dbar,
    dh,
    eta,
    g,
    h,
    h_k,
    h_k1,
    hbar,
    hw,
    omega,
)

__all__ = ["r2", "r4", "r12"]


@lru_cache(maxsize=1)
def r2() -> Derivation:
    """Derive R2: the gap flow from two R1 flows, the pair identity and the Dyson term."""
    log = StepLog()
    d_dot = r1().output("d_dot")
    flow_k = d_dot.subs({d: d_k, h: h_k, Gamma: Gamma_k})
    flow_k1 = d_dot.subs({d: d_k1, h: h_k1, Gamma: Gamma_k1})
    g_dot = log.add("R1 for k* and k*+1; ġ = ḋ_k − ḋ_{k+1} + D (D from R3)",
                    flow_k - flow_k1 + D)
    pair = {d_k: dbar + g / 2, d_k1: dbar - g / 2, h_k: hbar + dh / 2, h_k1: hbar - dh / 2}
    identity = sp.expand((h_k * d_k - h_k1 * d_k1).subs(pair))
    log.add("pair identity: h_k d_k − h_{k+1} d_{k+1} in means and differences", identity)
    driving = eta * W * (Gamma_k / d_k - Gamma_k1 / d_k1)
    linear = sp.expand(g_dot - driving - D)
    if linear.has(Gamma_k) or linear.has(Gamma_k1):
        raise ValueError("the driving terms did not separate from the linear part")
    linear_pair = sp.collect(sp.expand(linear.subs(pair)), [dbar, g], sp.factor)
    log.add("linear part in pair variables: asymmetry and damping", linear_pair)
    decomposed = linear_pair + driving + D
    log.add("ġ = asymmetry + damping + driving + Dyson", decomposed)
    back = {dbar: (d_k + d_k1) / 2, hbar: (h_k + h_k1) / 2, dh: h_k - h_k1, g: d_k - d_k1}
    g_dot_pair = decomposed.subs(back)

    # docs/spec.md §4 R2, typed independently (a written-out form, not built from R1).
    d_mean, h_mean = (d_k + d_k1) / 2, (h_k + h_k1) / 2
    stated = (
        -eta * (h_k - h_k1) * d_mean
        - eta * (h_mean + omega) * (d_k - d_k1)
        + eta * W * (Gamma_k / d_k - Gamma_k1 / d_k1)
        + D
    )
    claims = (
        Claim("pair identity (h_k−h_{k+1}) d̄ + h̄ g", identity, dh * dbar + hbar * g),
        Claim("decomposed ġ equals docs/spec.md §4 R2", g_dot_pair, stated),
        Claim("decomposition is exact (equals the difference of R1 flows + D)",
              g_dot, stated),
    )
    return Derivation(
        id="R2",
        title="Gap flow",
        axioms=("A1", "A2", "A3"),
        steps=log.steps,
        result=sp.Eq(sp.Symbol(r"\dot{g}"), decomposed),
        claims=claims,
        outputs=(("g_dot", sp.expand(g_dot_pair)),),
    )


@lru_cache(maxsize=1)
def r4() -> Derivation:
    """Derive R4: equilibria of ġ = c − η(h̄+ω)g + β/g, their limits and stability."""
    log = StepLog()
    decomposed = r2().result.rhs
    damping = sp.expand(decomposed).coeff(g)
    log.add("R2: coefficient of g (the damping), with h̄ + ω → hw",
            sp.expand(damping.subs(hbar, hw - omega)))
    beta_r3 = r3().output("beta")
    log.add("R3: D = β/g, β", beta_r3)
    reduced = c + sp.expand(damping.subs(hbar, hw - omega)) * g + beta / g
    log.add("reduced flow: c lumps the g-independent asymmetry and driving", reduced)
    quadratic = sp.expand(reduced * g)
    log.add("equilibria: g·ġ = 0, a quadratic in g", quadratic)
    z = sp.Symbol("z")  # g is declared positive; solve over all complex z
    roots = sp.solve(quadratic.subs(g, z), z)
    product = sp.simplify(roots[0] * roots[1])
    log.add("Vieta: product of the roots", product)
    g_star = positive_root(roots)
    log.add("the positive root g*", g_star)
    root = [p for p in g_star.atoms(sp.Pow) if p.exp == sp.S.Half][0]
    log.add("its discriminant Δ", root.base)
    numer, denom = g_star.as_numer_denom()
    conj = root - c
    product_num = sp.expand(numer * conj)
    log.add("rationalise: numerator × (√Δ − c)", product_num)
    rationalised = sp.cancel(product_num / denom) / conj
    log.add("g* = (numerator × (√Δ − c)) / (denominator × (√Δ − c))", rationalised)
    c_pos, c_abs = sp.Symbol("c_+", positive=True), sp.Symbol("|c|", positive=True)
    viable = sp.limit(g_star.subs(c, c_pos), beta, 0)
    log.add("β → 0 with c > 0: viable gap", viable)
    collapse = sp.limit(g_star.subs(c, -c_abs), beta, 0)
    collapse_rate = sp.limit(g_star.subs(c, -c_abs) / beta, beta, 0)
    log.add("β → 0 with c < 0: g* → 0", collapse)
    log.add("… like β/|c|: lim g*/β", collapse_rate)
    slope = log.add("stability: ∂ġ/∂g", sp.diff(reduced, g))

    # docs/spec.md §4 R4, typed independently.
    stated_g_star = (c + sp.sqrt(c**2 + 4 * eta * hw * beta)) / (2 * eta * hw)
    claims = (
        Claim("damping coefficient is −η(h̄+ω)", damping, -eta * (hbar + omega)),
        Claim("Vieta product −β/(η(h̄+ω)) ≤ 0: one positive root", product, 0, "nonpositive"),
        Claim("g* = (c + √(c² + 4η(h̄+ω)β)) / (2η(h̄+ω))", g_star, stated_g_star),
        Claim("rationalised form is the same root", rationalised, stated_g_star),
        Claim("g* > 0 also for c < 0 (rationalised form)",
              rationalised.subs({c: -c_abs, beta: sp.Symbol("b", positive=True)}), 0,
              "positive"),
        Claim("β → 0, c > 0: g* → c/(η(h̄+ω))", viable, c_pos / (eta * hw)),
        Claim("β → 0, c < 0: g* → 0", collapse, 0),
        Claim("β → 0, c < 0: g* ~ β/|c|", collapse_rate, 1 / c_abs),
        Claim("∂ġ/∂g < 0: g* is stable", slope, 0, "negative"),
    )
    return Derivation(
        id="R4",
        title="Near-collapse regimes",
        axioms=("A1", "A2", "A3"),
        steps=log.steps,
        result=sp.Eq(sp.Symbol("g^*"), g_star),
        claims=claims,
        notes=(
            "c is held fixed while g moves (adiabatic): the driving term ηW(Γ_k/d_k − "
            "Γ_{k+1}/d_{k+1}) and the asymmetry depend on d̄, which R4 treats as slow."
        ),
        outputs=(
            ("g_dot", reduced),
            ("g_star", g_star),
            ("g_star_rationalised", rationalised),
            ("slope", slope),
        ),
    )


@lru_cache(maxsize=1)
def r12() -> Derivation:
    """Derive R12: factorised gap flow, monotone g*(c), and the three phase conditions."""
    log = StepLog()
    reduced = r4().output("g_dot")
    gs = sp.Symbol("g^*", positive=True)
    c_eq = sp.solve(sp.Eq(reduced.subs(g, gs), 0), c)[0]
    log.add("equilibrium condition solved for c, in terms of g*", c_eq)
    flow = sp.factor(sp.expand(reduced.subs(c, c_eq) * g))
    log.add("g·ġ with c eliminated, factorised", flow)
    other_root = sp.solve(flow.subs(g, sp.Symbol("z")), sp.Symbol("z"))
    log.add("roots of g·ġ: g* and the non-positive root", sp.Tuple(*other_root))
    dc_dgs = sp.diff(c_eq, gs)
    log.add("∂c/∂g* (> 0, so g* increases with c)", dc_dgs)
    g_at_zero = positive_root(sp.solve(c_eq, gs))
    log.add("g* at c = 0: boundary between viable and collapsing", g_at_zero)
    d_low = sp.Symbol("d_k1", positive=True)
    ratio = (d_low + g) / d_low
    dr_dg = log.add("R = d_k/d_{k+1} = 1 + g/d_{k+1}: ∂R/∂g", sp.diff(ratio, g))
    phases = sp.Tuple(
        sp.Tuple(sp.Symbol("rise"), sp.And(c > 0, g < gs)),
        sp.Tuple(sp.Symbol("plateau"), sp.Eq(g, gs)),
        sp.Tuple(sp.Symbol("collapse"), sp.And(c < 0, gs < g_at_zero)),
    )
    log.add("phase conditions", phases)

    # docs/spec.md §4 R12 (with R4), typed independently.
    stated_flow = -eta * hw * (g - gs) * (g + beta / (eta * hw * gs))
    claims = (
        Claim("g·ġ = −η(h̄+ω)(g − g*)(g + β/(η(h̄+ω)g*))", flow, stated_flow),
        Claim("sign: for g > 0, ġ·(g − g*) < 0 (rise below g*, fall above)",
              stated_flow.subs(g, gs + sp.Symbol("u", positive=True)), 0, "negative"),
        Claim("g* increases with c (∂c/∂g* > 0)", dc_dgs, 0, "positive"),
        Claim("g*(c = 0) = √(β/(η(h̄+ω)))", g_at_zero, sp.sqrt(beta / (eta * hw))),
        Claim("R rises with g", dr_dg, 0, "positive"),
    )
    return Derivation(
        id="R12",
        title="Three-phase pattern",
        axioms=("A1", "A2", "A3"),
        steps=log.steps,
        result=phases,
        claims=claims,
        outputs=(("g_star_at_c0", g_at_zero),),
    )
