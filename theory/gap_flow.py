"""R2 (gap flow), R4 (near-collapse regimes) and R12 (three-phase pattern), docs/spec.md §4.

**R2.** The gap ``g = d_{k*} − d_{k*+1}`` moves with the difference of the two R1 flows plus
the Dyson term D of R3. Substituting the pair means (``d̄``, ``h̄``) and differences
(``g``, ``Δh``) turns the linear part into the curvature asymmetry and the damping, which is
the pair identity ``h_k d_k − h_{k+1} d_{k+1} = (h_k − h_{k+1}) d̄ + h̄ g`` (derived too):
``ġ = −η(h_k − h_{k+1}) d̄ − η(h̄+ω) g + ηW(Γ_k/d_k − Γ_{k+1}/d_{k+1}) + D``, with the
derived ``D = β/g + (W−1)η²(N_k/d_k − N_{k+1}/d_{k+1})/2``: R3's noise mean ``Wη²N_j`` of
λ̇_j, carried to d = √λ, and the Itô correction ``−η²N_j/(2d_j)`` of the square root.

**R4.** With the drive, the asymmetry and the noise part lumped into ``c`` (held
fixed, adiabatically) and
``D = β/g`` (R3), ``ġ = c − η(h̄+ω)g + β/g``. Its equilibria solve a quadratic; Vieta's
product ``−β/(η(h̄+ω)) ≤ 0`` leaves exactly one positive root
``g* = (c + √(c² + 4η(h̄+ω)β)) / (2η(h̄+ω))``, stable because ``∂ġ/∂g = −η(h̄+ω) − β/g² < 0``.
As β → 0 it tends to ``c/(η(h̄+ω))`` for c > 0 (viable gap) and to 0 like ``β/|c|`` for
c < 0 (collapse without crossing). The rationalised form ``2β/(√(c² + 4η(h̄+ω)β) − c)`` is
the same root, free of cancellation for c < 0 (used by :mod:`spectral_edge.theory.lambdified`).

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

from spectral_edge.theory.axioms import DEFAULT_AXIOMS, AxiomSet
from spectral_edge.theory.derivation import (
    Claim,
    Derivation,
    StepLog,
    linear_solve,
    numerator_roots,
    positive_root,
    positive_zero,
)
from spectral_edge.theory.noise import r3
from spectral_edge.theory.signal_flow import r1
from spectral_edge.theory.symbols import (
    D,
    Gamma,
    Gamma_k,
    Gamma_k1,
    N_i,
    N_j,
    N_k,
    N_k1,
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
    lam,
    lam_i,
    lam_j,
    omega,
)

__all__ = ["r2", "r4", "r12"]

_R4 = ("R4", "Near-collapse regimes", ("A1", "A2", "A3"))
"""R4's id, title and axioms (both of its routes: with and without repulsion)."""


@lru_cache(maxsize=64)
def r2(axioms: AxiomSet = DEFAULT_AXIOMS) -> Derivation:
    """Derive R2: the gap flow in σ units from R3's two-mode system through Itô's lemma."""
    log = StepLog()
    noise = r3(axioms)
    drift = noise.output("eigen_drift")
    pair_term = noise.output("pair_term")
    kappa_diag = noise.output("kappa_diag")
    noise_mean = noise.output("noise_mean")
    l_k, l_k1 = sp.symbols("lambda_k lambda_k1", positive=True)
    modes = ((l_k, l_k1, h_k, Gamma_k, N_k, N_k1), (l_k1, l_k, h_k1, Gamma_k1, N_k1, N_k))
    lam_drift, lam_rep, diffusion, lam_mean = [], [], [], []
    for own, other, h_own, gamma_own, n_own, n_other in modes:
        lam_drift.append(drift.subs({lam: own, h: h_own, Gamma: gamma_own}))
        lam_mean.append(noise_mean.subs(N_j, n_own))
        lam_rep.append(pair_term.subs({lam_j: own, lam_i: other, N_j: n_own, N_i: n_other},
                                      simultaneous=True))
        diffusion.append(kappa_diag.subs({lam_j: own, N_j: n_own}, simultaneous=True))
    log.add("R3 for the pair: λ̇_k = drift + noise mean + κ_{k,k+1}/(λ_k − λ_{k+1}), "
            "noise rate κ_kk", lam_drift[0] + lam_mean[0] + lam_rep[0])
    level = sp.Symbol("Lambda", positive=True)
    eigen = axioms.rel("A3", "eigenvalue")
    root = positive_zero(eigen.rhs - eigen.lhs.subs(lam, level), d)
    first, second = sp.diff(root, level), sp.diff(root, level, 2)
    log.add("Itô's lemma for d = √λ: ḋ = f'(λ)·λ̇ + ½f''(λ)·κ_jj, f' and ½f''",
            sp.Tuple(first, second / 2))
    to_sigma = {l_k: eigen.rhs.subs(d, d_k), l_k1: eigen.rhs.subs(d, d_k1)}
    pieces = []
    for j in range(2):
        own = modes[j][0]
        at = {level: own}
        pieces.append((
            sp.expand((first.subs(at) * lam_drift[j]).subs(to_sigma)),
            sp.cancel((first.subs(at) * lam_rep[j]).subs(to_sigma)),
            sp.expand((second.subs(at) / 2 * diffusion[j]).subs(to_sigma)),
            sp.expand((first.subs(at) * lam_mean[j]).subs(to_sigma)),
        ))
    d_dot_k = sum(pieces[0])
    d_dot_k1 = sum(pieces[1])
    log.add("ḋ_k in σ units: drift + repulsion + Itô correction + noise mean", d_dot_k)
    ito = log.add("the Itô correction of d = √λ to ġ (same order as the repulsion: kept)",
                  pieces[0][2] - pieces[1][2])
    mean_part = log.add("R3's noise mean of λ carried to ġ", pieces[0][3] - pieces[1][3])
    noise_part = log.add("noise part of ġ besides β/g: noise mean + Itô correction",
                         sp.collect(sp.expand(mean_part + ito), [N_k, N_k1], sp.factor))
    repulsion = sp.factor(sp.cancel(pieces[0][1] - pieces[1][1]))
    log.add("the repulsion's part of ġ = ḋ_k − ḋ_{k+1}", repulsion)
    beta_expr = sp.factor(sp.cancel(repulsion * (d_k - d_k1)))
    log.add("its residue at g = d_k − d_{k+1} → 0: D_rep = β/g with β =", beta_expr)
    g_dot = sp.expand(d_dot_k - d_dot_k1)
    flow_drift = pieces[0][0] - pieces[1][0]
    pair = {d_k: dbar + g / 2, d_k1: dbar - g / 2, h_k: hbar + dh / 2, h_k1: hbar - dh / 2}
    identity = sp.expand((h_k * d_k - h_k1 * d_k1).subs(pair))
    log.add("pair identity: h_k d_k − h_{k+1} d_{k+1} in means and differences", identity)
    driving = sp.expand(flow_drift - flow_drift.subs({Gamma_k: 0, Gamma_k1: 0}))
    log.add("the driving: the terms of the noise-free flow that carry Γ", driving)
    linear = sp.expand(flow_drift - driving)
    if linear.has(Gamma_k) or linear.has(Gamma_k1):
        raise ValueError("the driving terms did not separate from the linear part")
    linear_pair = sp.collect(sp.expand(linear.subs(pair)), [dbar, g], sp.factor)
    log.add("linear part in pair variables: asymmetry and damping", linear_pair)
    beta_sym = sp.Symbol(r"\beta_{k}", positive=True)
    decomposed = linear_pair + driving + noise_part + beta_sym / g
    log.add("ġ = asymmetry + damping + driving + noise part + β/g (D = noise part + β/g)",
            decomposed)
    n_k_coefficient = log.add("coefficient of N_k in ġ with β held as a symbol",
                              sp.factor(sp.diff(decomposed, N_k)))
    back = {dbar: (d_k + d_k1) / 2, hbar: (h_k + h_k1) / 2, dh: h_k - h_k1, g: d_k - d_k1}
    g_dot_pair = decomposed.subs(back).subs(beta_sym, beta_expr)
    r1_flows = r1(axioms).output("d_dot")
    r1_difference = (r1_flows.subs({d: d_k, h: h_k, Gamma: Gamma_k})
                     - r1_flows.subs({d: d_k1, h: h_k1, Gamma: Gamma_k1}))

    # docs/spec.md §4 R2 with R3's repulsion and the Itô term, typed independently.
    d_mean, h_mean = (d_k + d_k1) / 2, (h_k + h_k1) / 2
    stated_beta = eta**2 * (N_k1 * d_k**2 + N_k * d_k1**2) / (2 * d_k * d_k1)
    stated = (
        -eta * (h_k - h_k1) * d_mean
        - eta * (h_mean + omega) * (d_k - d_k1)
        + eta * W * (Gamma_k / d_k - Gamma_k1 / d_k1)
        + stated_beta / (d_k - d_k1)
        + (W - 1) * eta**2 / 2 * (N_k / d_k - N_k1 / d_k1)
    )
    claims = (
        Claim("pair identity (h_k−h_{k+1}) d̄ + h̄ g", identity, dh * dbar + hbar * g),
        Claim("β = η²(N_{k+1}d_k² + N_k d_{k+1}²)/(2 d_k d_{k+1})", beta_expr, stated_beta),
        Claim("Itô term η²(N_{k+1}/d_{k+1} − N_k/d_k)/2", ito,
              eta**2 * (N_k1 / d_k1 - N_k / d_k) / 2),
        Claim("noise mean carried to ġ: Wη²(N_k/d_k − N_{k+1}/d_{k+1})/2", mean_part,
              W * eta**2 * (N_k / d_k - N_k1 / d_k1) / 2),
        Claim("noise part of ġ besides β/g: (W−1)η²(N_k/d_k − N_{k+1}/d_{k+1})/2", noise_part,
              (W - 1) * eta**2 * (N_k / d_k - N_k1 / d_k1) / 2),
        Claim("coefficient of N_k in ġ (β held as a symbol) = (W−1)η²/(2d_k)", n_k_coefficient,
              (W - 1) * eta**2 / (2 * d_k)),
        Claim("decomposed ġ equals docs/spec.md §4 R2 with D = β/g + noise part", g_dot_pair,
              stated),
        Claim("decomposition is exact (equals ḋ_k − ḋ_{k+1} from R3 and Itô)", g_dot, stated),
        Claim("no free D: ġ is a function of the pair's (d, h, Γ, N) and (η, ω, W)",
              sp.sympify(not g_dot.has(D) and g_dot.free_symbols <= {
                  d_k, d_k1, h_k, h_k1, Gamma_k, Gamma_k1, N_k, N_k1, eta, omega, W}),
              sp.true, "true"),
        Claim("noise-free part is the difference of two R1 flows (consistency with R1)",
              flow_drift, r1_difference, independent=False),
    )
    return log.derivation(
        "R2", "Gap flow", ("A1", "A2", "A3"),
        # the variant's own form: no β/g term where the axioms give no repulsion (β = 0)
        result=sp.Eq(sp.Symbol(r"\dot{g}"),
                     decomposed.subs(beta_sym, 0) if beta_expr == 0 else decomposed),
        claims=claims,
        outputs=(
            ("g_dot", g_dot),
            ("d_dot_k", d_dot_k),
            ("d_dot_k1", d_dot_k1),
            ("beta", beta_expr),
            ("ito", ito),
            ("noise_part", noise_part),
            ("n_k_coefficient", n_k_coefficient),
        ),
        noise_model=noise.noise_model,
        notes=(
            "D is derived, not free: D = β/g + (W−1)η²(N_k/d_k − N_{k+1}/d_{k+1})/2, with "
            "β = η²(N_{k+1}d_k² + N_k d_{k+1}²)/(2d_k d_{k+1}) from R3; the second term is R3's "
            "noise mean Wη²N_j/(2d_j) plus the Itô correction ½f''(λ)κ_jj = −η²N_j/(2d_j) of "
            "d = √λ, both of the same order in η²N as the repulsion. Together they raise "
            "each mode's injection by (W−1)ηN_j/(2W)."
        ),
    )


@lru_cache(maxsize=64)
def r4(axioms: AxiomSet = DEFAULT_AXIOMS) -> Derivation:
    """Derive R4: equilibria of ġ = c − η(h̄+ω)g + β/g, their limits and stability."""
    log = StepLog()
    gap = r2(axioms)
    decomposed = gap.result.rhs
    damping = sp.expand(decomposed).coeff(g)
    log.add("R2: coefficient of g (the damping), with h̄ + ω → hw",
            sp.expand(damping.subs(hbar, hw - omega)))
    full = gap.output("g_dot")
    beta_derived = sp.factor(sp.limit(sp.cancel(full * (d_k - d_k1)).subs(d_k, d_k1 + g), g, 0))
    log.add("R2: residue of ġ at g → 0 (the coefficient of 1/g at contact)", beta_derived)
    beta_r2 = gap.output("beta")
    log.add("R2: β, the coefficient of 1/g in ġ (D = β/g + Itô)", beta_r2)
    c_expr = sp.expand(sp.cancel(full - damping.subs({hbar: (h_k + h_k1) / 2}) * (d_k - d_k1)
                                 - beta_r2 / (d_k - d_k1)))
    log.add("c: everything in R2's ġ but the damping and β/g (asymmetry, driving, noise part)",
            c_expr)
    if beta_r2 == 0:
        return _r4_without_repulsion(log, gap, damping, c_expr)
    reduced = c + sp.expand(damping.subs(hbar, hw - omega)) * g + beta / g
    log.add("reduced flow: c lumps the g-independent asymmetry and driving", reduced)
    quadratic = sp.expand(reduced * g)
    log.add("equilibria: g·ġ = 0, a quadratic in g", quadratic)
    z = sp.Symbol("z")  # g is declared positive; solve over all complex z
    poly = sp.Poly(quadratic.subs(g, z), z)
    if poly.degree() != 2 or any(co.has(z) for co in poly.all_coeffs()):
        raise ValueError("the equilibrium condition is not a quadratic in g")
    roots = list(sp.roots(poly, multiple=True))
    product = sp.cancel(sp.expand(roots[0] * roots[1]))
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
    beta_r3 = r3(axioms).output("beta")
    claims = (
        Claim("β is R3's coefficient κ_{k,k+1}/(2 d_k d_{k+1}) (consistency)", beta_r2,
              beta_r3, independent=False),
        Claim("β = η²(N_{k+1}d_k² + N_k d_{k+1}²)/(2 d_k d_{k+1}) ≥ 0", beta_r2,
              eta**2 * (N_k1 * d_k**2 + N_k * d_k1**2) / (2 * d_k * d_k1)),
        Claim("β ≥ 0", beta_r2, 0, "nonnegative"),
        Claim("c = −η(h_k−h_{k+1})d̄ + ηW(Γ_k/d_k − Γ_{k+1}/d_{k+1}) + (W−1)η²(N_k/d_k − "
              "N_{k+1}/d_{k+1})/2", c_expr,
              -eta * (h_k - h_k1) * (d_k + d_k1) / 2 + eta * W * (Gamma_k / d_k - Gamma_k1 / d_k1)
              + (W - 1) * eta**2 * (N_k / d_k - N_k1 / d_k1) / 2),
        Claim("coefficient of N_k in c = (W−1)η²/(2d_k)", sp.diff(c_expr, N_k),
              (W - 1) * eta**2 / (2 * d_k)),
        Claim("residue at contact η²(N_k + N_{k+1})/2: levels repel when they meet",
              beta_derived, eta**2 * (N_k + N_k1) / 2),
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
    return log.derivation(
        *_R4,
        result=sp.Eq(sp.Symbol("g^*"), g_star),
        claims=claims,
        notes=(
            "c is held fixed while g moves (adiabatic): the driving term ηW(Γ_k/d_k − "
            "Γ_{k+1}/d_{k+1}), the asymmetry and the noise part (W−1)η²(N_k/d_k − "
            "N_{k+1}/d_{k+1})/2 depend on d̄, which R4 treats as slow."
        ),
        noise_model=gap.noise_model,
        outputs=(
            ("g_dot", reduced),
            ("beta", beta_r2),
            ("c", c_expr),
            ("g_star", g_star),
            ("g_star_rationalised", rationalised),
            ("slope", slope),
        ),
    )


def _r4_without_repulsion(log: StepLog, gap: Derivation, damping: sp.Basic,
                          c_expr: sp.Basic) -> Derivation:
    """R4 under axioms that give no repulsion (β = 0, e.g. ``a2-noiseless``): the reduced
    flow is linear, ġ = c − η(h̄+ω)g, with the one equilibrium g* = c/(η(h̄+ω)), an open gap
    only for c > 0 (for c ≤ 0 the gap reaches 0: levels can cross)."""
    reduced = c + sp.expand(damping.subs(hbar, hw - omega)) * g
    log.add("β = 0 under these axioms: the reduced flow is linear in g", reduced)
    g_star = sp.roots(sp.Poly(reduced, g), multiple=True)[0]
    log.add("its one equilibrium g*", g_star)
    slope = log.add("stability: ∂ġ/∂g", sp.diff(reduced, g))
    claims = (
        Claim("g* = c/(η(h̄+ω)) (no repulsion)", g_star, c / (eta * hw)),
        Claim("∂ġ/∂g = −η(h̄+ω) < 0: g* is stable", slope, 0, "negative"),
        Claim("c ≤ 0: g* ≤ 0, no open gap (collapse with crossing)",
              g_star.subs(c, -sp.Symbol("|c|", nonnegative=True)), 0, "nonpositive"),
    )
    return log.derivation(
        *_R4, result=sp.Eq(sp.Symbol("g^*"), g_star), claims=claims, noise_model=gap.noise_model,
        notes="No repulsion under these axioms (β = 0): the collapse regime has no positive "
              "equilibrium, the gap closes and the levels may cross.",
        outputs=(("g_dot", reduced), ("beta", sp.Integer(0)), ("c", c_expr),
                 ("g_star", g_star), ("g_star_rationalised", g_star), ("slope", slope)),
    )


@lru_cache(maxsize=64)
def r12(axioms: AxiomSet = DEFAULT_AXIOMS) -> Derivation:
    """Derive R12: factorised gap flow, monotone g*(c), and the three phase conditions."""
    log = StepLog()
    reduced = r4(axioms).output("g_dot")
    gs = sp.Symbol("g^*", positive=True)
    c_eq = linear_solve(reduced.subs(g, gs), c)
    log.add("equilibrium condition solved for c, in terms of g*", c_eq)
    flow = sp.factor(sp.expand(reduced.subs(c, c_eq) * g))
    log.add("g·ġ with c eliminated, factorised", flow)
    other_root = numerator_roots(flow.subs(g, sp.Symbol("z")), sp.Symbol("z"))
    log.add("roots of g·ġ: g* and the non-positive root", sp.Tuple(*other_root))
    dc_dgs = sp.diff(c_eq, gs)
    log.add("∂c/∂g* (> 0, so g* increases with c)", dc_dgs)
    g_at_zero = positive_zero(c_eq, gs)
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
    return log.derivation(
        "R12", "Three-phase pattern", ("A1", "A2", "A3"),
        result=phases,
        typed=("the phase conditions (rise, plateau, collapse) are assembled from the "
               "derived signs and g*(c) (the conditions themselves are typed)",),
        claims=claims,
        outputs=(("g_star_at_c0", g_at_zero),),
    )
