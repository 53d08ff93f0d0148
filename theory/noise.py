"""R3 (Dyson-type level repulsion) and R10 (BBP threshold and its vacuity), docs/spec.md §4.

**R3.** Second-order perturbation theory is derived, not quoted: the eigenvalues of the
symmetric matrix ``diag(λ) + εE`` (E with zero diagonal) are expanded in ε, exactly for the
2×2 case (closed-form eigenvalues, then a series) and for n = 4 by implicit differentiation
of the characteristic polynomial ``det(diag(λ) + εE − μI) = 0``. Both give the shift
``ε² Σ_{i≠j} E_ij²/(λ_j − λ_i)``. The noise of A2 puts off-diagonal entries into the
mode-space Gram; their variance grows at the rate ``κ_ij = η²(N_j λ_i + N_i λ_j)`` (the
expectation is taken with the moments stated in A2, the window sum with A3). Adding R1's
drift gives the Dyson-type system ``λ̇_j = −2η(h_j+ω)λ_j + 2ηWΓ_j + Σ_{i≠j} κ_ij/(λ_j − λ_i)``.
In singular-value units the pair term is exactly ``D = β/g`` with ``β = κ/(2 d_k d_{k+1})``.

The general-n sum form is established here for n = 2 (exactly) and n = 4 (every j, every
pair); for other n it is the same Rayleigh–Schrödinger argument, not re-derived.
The variance rate keeps the part of the off-diagonal increment linear in the noise; the
term quadratic in the noise (``E[ξ_i²ξ_j²] = η⁴N_iN_j``) is of higher order in η and dropped.

**R10.** Input from random-matrix theory, not from A1–A3 (cited, Benaych-Georges &
Nadakuditi 2012, and Marchenko–Pastur): for a W×P matrix of i.i.d. noise of variance ν²
plus a rank-one spike of strength d, the outlier sits at
``σ_out² = (d² + ν²P)(d² + ν²W)/d²`` above the bulk edge ``ν(√P + √W)``. From these the
threshold ``d_c⁴ = ν⁴PW`` (a double root: the outlier curve touches the edge at its
minimum) and the vacuity ``d_c/(ν√P) = (W/P)^{1/4} → 0`` are derived. The paper's
replication scripts use ``ν(P(W−1))^{1/4}``; the textbook form is the one derived here.

>>> r3().check().passed and r10().check().passed
True
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from spectral_edge.theory.axioms import DEFAULT_AXIOMS, AxiomSet, E, slot, xi, xi_i, xi_j
from spectral_edge.theory.derivation import Claim, Derivation, StepLog, positive_zero
from spectral_edge.theory.signal_flow import r1
from spectral_edge.theory.symbols import (
    Gamma,
    N,
    N_i,
    N_j,
    N_k,
    N_k1,
    P,
    W,
    d,
    d_k,
    d_k1,
    eps,
    eta,
    g,
    h,
    lam,
    lam_i,
    lam_j,
    nu,
    omega,
    s,
    t,
)

__all__ = ["r3", "r10", "expectation", "second_order_shift"]

_N_MODES = 4


def expectation(expr: sp.Basic, moments: dict[sp.Basic, sp.Basic]) -> sp.Basic:
    """Expectation of a polynomial in noise coordinates, given its moments.

    Every monomial of the noise symbols (the free symbols of the keys of ``moments``, plus
    first powers, which have mean 0 by A2) is replaced by its stated moment.

    >>> from spectral_edge.theory.axioms import xi_i, xi_j
    >>> a = sp.Symbol("a")
    >>> expectation(a * xi_i**2 + xi_i * xi_j + xi_j, {xi_i**2: 3, xi_i * xi_j: 0})
    3*a
    """
    noise = sorted(set().union(*(key.free_symbols for key in moments)), key=str)
    poly = sp.Poly(sp.expand(expr), *noise)
    total = sp.Integer(0)
    for powers, coeff in poly.terms():
        monomial = sp.Mul(*(v**p for v, p in zip(noise, powers, strict=True)))
        if monomial == 1:
            total += coeff
        elif sum(powers) == 1:
            total += 0  # A2: zero-mean noise
        elif monomial in moments:
            total += coeff * moments[monomial]
        else:
            raise ValueError(f"no moment stated for {monomial}")
    return total


@lru_cache(maxsize=4)
def second_order_shift(n: int) -> tuple[tuple[sp.Symbol, ...], dict, list[sp.Basic]]:
    """Second-order eigenvalue shifts of ``diag(λ_1..λ_n) + εE`` by implicit differentiation.

    Returns the eigenvalue symbols, the off-diagonal symbols ``{(i, j): e_ij}`` and, for each
    j, the coefficient of ε² in the eigenvalue that starts at λ_j (the first-order term
    vanishes because E has zero diagonal; ``ValueError`` if it does not).

    >>> lams, offdiag, shifts = second_order_shift(2)
    >>> shifts[0]
    e_12**2/(lambda_1 - lambda_2)
    """
    lams = sp.symbols(f"lambda_1:{n + 1}", positive=True)
    offdiag = {}
    pert = sp.zeros(n)
    for i in range(n):
        for j in range(i + 1, n):
            offdiag[(i, j)] = sp.Symbol(f"e_{i + 1}{j + 1}", real=True)
            pert[i, j] = pert[j, i] = offdiag[(i, j)]
    mu = sp.Symbol("mu")
    charpoly = (sp.diag(*lams) + eps * pert - mu * sp.eye(n)).det(method="berkowitz")
    # F(ε, μ) = F_0(μ) + F_1(μ)ε + F_2(μ)ε² + …, so at ε = 0: F_ε = F_1, F_εε = 2F_2 and
    # F_μ = F_0' (the coefficients are exact; differentiating the determinant is slower).
    coeffs = sp.Poly(charpoly, eps)
    f_0, f_1, f_2 = (coeffs.coeff_monomial(eps**k) for k in range(3))
    f_mu = sp.diff(f_0, mu)
    shifts = []
    for j in range(n):
        at = {mu: lams[j]}
        # μ'(0) = −F_ε/F_μ, and F_μ = Π_(i≠j)(λ_i − λ_j) ≠ 0 at μ = λ_j: test the numerator
        if sp.expand(f_1.subs(at)) != 0:
            raise ValueError("first-order shift should vanish for a zero-diagonal perturbation")
        # μ'(0) = 0, so implicit differentiation gives μ''(0) = −F_εε/F_μ.
        shifts.append(sp.cancel(-2 * f_2.subs(at) / f_mu.subs(at) / 2))
    return lams, offdiag, shifts


_ITO_W = 3
"""Window length of the independent Itô check of R3 (a W×2 matrix in closed form)."""
_ITO_LEVELS = sp.symbols("lambda_1 lambda_2", positive=True) + sp.symbols(
    "N_1 N_2", nonnegative=True)


def _noise_model(n_fresh: sp.Basic, window: sp.Basic) -> str:
    """The noise model a derivation uses, in words, from A3's ``noised_slots``."""
    if n_fresh == window:
        return ("every slot re-noised: per unit time each of the W window slots receives "
                "fresh noise of power η²N_j (W_n = W)")
    if n_fresh == 1:
        return ("sliding window in mean field: per step only the newest slot receives fresh "
                "noise (W_n = 1), each slot holding λ/W on average")
    return f"W_n = {n_fresh} slots re-noised per unit time (mean field)"


@lru_cache(maxsize=4)
def _ito_top_eigenvalue(axioms: AxiomSet, width: int) -> sp.Basic:
    """E[dλ_1]/dt of the top eigenvalue of XᵀX, X a ``width``×2 matrix whose entries in
    column m receive independent noise of power η²N_m (A2), by Itô's formula
    ½ Σ η²N_m ∂²λ_1/∂x_{sm}² on the closed-form eigenvalue, at a state with orthogonal
    columns of squared norms λ_1 > λ_2 (any state, by rotation invariance in the slots).

    >>> from spectral_edge.theory.axioms import DEFAULT_AXIOMS
    >>> sp.factor(_ito_top_eigenvalue(DEFAULT_AXIOMS, 2))
    eta**2*(2*N_1*lambda_1 - N_1*lambda_2 + N_2*lambda_1)/(lambda_1 - lambda_2)
    """
    l_1, l_2, n_1, n_2 = _ITO_LEVELS
    power = axioms.rel("A2", "noise_power").rhs
    q, r = sp.symbols("q r", positive=True)
    X = sp.Matrix(width, 2, lambda i, j: sp.Symbol(f"x_{i}{j}", real=True))
    gram = X.T * X
    a, b, c_ = gram[0, 0], gram[0, 1], gram[1, 1]
    top = (a + c_ + sp.sqrt((a - c_) ** 2 + 4 * b**2)) / 2
    at = {X[i, j]: 0 for i in range(width) for j in range(2)}
    at[X[0, 0]], at[X[1, 1]] = q + r, q
    generator = sp.Integer(0)
    for row in range(width):
        for col, n_col in enumerate((n_1, n_2)):
            generator += power.subs(N, n_col) / 2 * sp.diff(top, X[row, col], 2).subs(at)
    generator = sp.cancel(generator)
    # λ_1 = (q + r)², λ_2 = q² with q, r > 0
    return sp.cancel(generator.subs({r: sp.sqrt(l_1) - sp.sqrt(l_2)}).subs(q, sp.sqrt(l_2)))


@lru_cache(maxsize=64)
def r3(axioms: AxiomSet = DEFAULT_AXIOMS) -> Derivation:
    """Derive R3: second-order perturbation, noise variance rate, Dyson-type system."""
    log = StepLog()
    # --- exact 2×2
    gap2, e = sp.Symbol("Delta", positive=True), sp.Symbol("e", real=True)
    two = sp.Matrix([[lam_j, eps * e], [eps * e, lam_j - gap2]])
    upper = [ev for ev in two.eigenvals() if sp.expand(ev.subs(eps, 0) - lam_j) == 0][0]
    log.add("exact eigenvalue of [[λ_j, εe], [εe, λ_i]] that starts at λ_j (λ_i = λ_j − Δ)",
            upper)
    upper_series = sp.series(upper, eps, 0, 4).removeO()
    log.add("series in ε to O(ε⁴)", upper_series)
    coef_2x2 = sp.cancel(upper_series.coeff(eps, 2) / e**2).subs(gap2, lam_j - lam_i)
    log.add("coefficient of ε²e²: 1/(λ_j − λ_i)", coef_2x2)
    # --- general form, n = 4
    lams, offdiag, shifts = second_order_shift(_N_MODES)
    log.add(f"n = {_N_MODES}: implicit differentiation of det(diag(λ) + εE − μI) = 0, "
            "ε² coefficient of the eigenvalue starting at λ_1", shifts[0])
    e12 = offdiag[(0, 1)]
    coef_general = sp.cancel(sp.diff(shifts[0], e12, 2) / 2)
    coef_general = coef_general.subs({lams[0]: lam_j, lams[1]: lam_i})
    log.add("its coefficient of E_12² (any pair, by symmetry)", coef_general)
    # --- variance rate of the off-diagonal entries from A2 + A3
    ci, cj, tau = sp.symbols("c_i c_j tau", real=True)
    entry = sp.expand((ci + tau * xi_i) * (cj + tau * xi_j))
    increment = entry.coeff(tau, 1)
    log.add("A2: noise part of the (i, j) Gram entry from one update, linear in ξ", increment)
    power = axioms.rel("A2", "noise_power")
    moments = {
        xi_i**2: power.rhs.subs(N, N_i),
        xi_j**2: power.rhs.subs(N, N_j),
        xi_i * xi_j: axioms.rel("A2", "noise_independent").rhs,
    }
    if E(xi) != axioms.rel("A2", "noise_mean").lhs:
        raise ValueError("A2's noise mean relation changed")
    per_slot = expectation(increment**2, moments)
    log.add("A2: its variance, E[(c_i ξ_j + ξ_i c_j)²]", per_slot)
    slot_i, slot_j = sp.Function("c_i"), sp.Function("c_j")
    window = axioms.rel("A3", "window_sum")
    summed = sp.Sum(per_slot.subs({ci: slot_i(s, t), cj: slot_j(s, t)}), *window.rhs.limits)
    summed = sp.expand(summed.expand())

    noised = axioms.rel("A3", "noised_slots")
    n_fresh = noised.rhs
    log.add("A3, noise model: W_n slots of the window receive fresh noise per unit time",
            noised)
    # The W_n noised slots hold the fraction W_n/W of λ (exact for W_n = W; exchangeable
    # slots in mean field otherwise).
    share = n_fresh / window.rhs.limits[0][2]

    def window_sum(term: sp.Sum) -> sp.Basic:
        body = sp.factor_terms(term.function)
        for fn, eig in ((slot_i, lam_i), (slot_j, lam_j)):
            coeff = sp.cancel(body / fn(s, t) ** 2)
            if not coeff.has(slot_i) and not coeff.has(slot_j):
                return coeff * share * window.lhs.subs(lam, eig)
        raise ValueError(f"unexpected window sum {term}")

    kappa = sp.factor(summed.replace(lambda q: isinstance(q, sp.Sum), window_sum))
    log.add("A3: summed over the noised slots, Σ_s c_i(s)² = λ_i: the variance rate κ_ij",
            kappa)
    if slot in kappa.atoms(sp.Function):
        raise ValueError("window sum not evaluated")
    pair_term = kappa * coef_general
    log.add("second order: E[Δλ_j] from mode i = κ_ij/(λ_j − λ_i)", pair_term)
    diag_entry = sp.expand((cj + tau * xi_j) ** 2).coeff(tau, 1)
    log.add("A2: noise part of the diagonal (j, j) entry, linear in ξ", diag_entry)
    diag_slot = expectation(diag_entry**2, moments)
    diag_coeff = sp.cancel(diag_slot / cj**2)
    if diag_coeff.has(cj):
        raise ValueError("diagonal variance not proportional to c_j²")
    kappa_diag = log.add("A3: summed over the noised slots, the diffusion rate κ_jj of λ_j",
                         sp.factor(diag_coeff * share * window.lhs.subs(lam, lam_j)))
    diag_square = sp.expand((cj + tau * xi_j) ** 2).coeff(tau, 2)
    log.add("A2: part of the diagonal (j, j) entry quadratic in ξ (Itô: dξ² ~ dt)", diag_square)
    mean_slot = expectation(diag_square, moments)
    log.add("A2: its mean, E[ξ_j²] — not zero: the noise has a mean effect on λ_j", mean_slot)
    noise_mean = log.add("A3: summed over the noised slots, the noise mean of λ̇_j",
                         sp.Sum(mean_slot, (s, 1, n_fresh)).doit())
    drift = r1(axioms).output("lam_dot")
    log.add("R1 drift of λ_j = d_j²", drift)
    # --- the n = 3 system assembled from the pieces
    n = 3
    l3 = sp.symbols("lambda_1:4", positive=True)
    n3 = sp.symbols("N_1:4", nonnegative=True)
    h3 = sp.symbols("h_1:4", nonnegative=True)
    g3 = sp.symbols("Gamma_1:4", nonnegative=True)
    system = []
    for j in range(n):
        rhs = drift.subs({lam: l3[j], h: h3[j], Gamma: g3[j]}) + noise_mean.subs(N_j, n3[j])
        for i in range(n):
            if i != j:
                rhs += pair_term.subs(
                    {lam_i: l3[i], lam_j: l3[j], N_i: n3[i], N_j: n3[j]}, simultaneous=True
                )
        system.append(rhs)
    log.add("n = 3 modes: λ̇_1 (drift + noise mean + repulsion from modes 2 and 3)",
            system[0])
    ito_check = _ito_top_eigenvalue(axioms, _ITO_W) if n_fresh == window.rhs.limits[0][2] \
        else None
    if ito_check is not None:
        log.add(f"check route: Itô's formula on the closed-form top eigenvalue of XᵀX, X of "
                f"size {_ITO_W}×2, every entry noised with power η²N_m, at λ = (λ_1, λ_2)",
                ito_check)
    # --- singular-value units, the pair (k*, k*+1)
    rep_k = pair_term.subs({lam_i: d_k1**2, lam_j: d_k**2, N_i: N_k1, N_j: N_k},
                           simultaneous=True) / (2 * d_k)
    rep_k1 = pair_term.subs({lam_i: d_k**2, lam_j: d_k1**2, N_i: N_k, N_j: N_k1},
                            simultaneous=True) / (2 * d_k1)
    dyson = sp.factor(sp.cancel(rep_k - rep_k1))
    log.add("σ units: ḋ = λ̇/(2d); the pair's part of ġ = ḋ_k − ḋ_{k+1}", dyson)
    beta_pair = sp.factor(sp.cancel(dyson * (d_k - d_k1)))
    log.add("D·g with g = d_k − d_{k+1}: the repulsion strength β", beta_pair)
    no_cross = sp.limit(dyson.subs({N_k: 1, N_k1: 1, d_k: d_k1 + g}), g, 0, "+")
    log.add("D as g → 0⁺ (N > 0): levels never cross", no_cross)

    # docs/spec.md §4 R3, typed independently.
    stated_kappa = eta**2 * (N_j * lam_i + N_i * lam_j)
    stated_system = []
    for j in range(n):
        others = sum(
            eta**2 * (n3[j] * l3[i] + n3[i] * l3[j]) / (l3[j] - l3[i]) for i in range(n) if i != j
        )
        stated_system.append(-2 * eta * (h3[j] + omega) * l3[j] + 2 * eta * W * g3[j]
                             + W * eta**2 * n3[j] + others)
    claims = [
        Claim("2×2 exact: ε² coefficient 1/(λ_j − λ_i)", coef_2x2, 1 / (lam_j - lam_i)),
        Claim("n = 4: coefficient of E_12² is 1/(λ_j − λ_i)", coef_general, 1 / (lam_j - lam_i)),
        Claim("κ_ij = η²(N_j λ_i + N_i λ_j)", kappa, stated_kappa),
        Claim("κ_jj = 4η²N_j λ_j (twice κ_ij at i = j: the GOE ratio)", kappa_diag,
              4 * eta**2 * N_j * lam_j),
        Claim("noise mean of λ̇_j = Wη²N_j (E[dXᵀdX]_jj)", noise_mean, W * eta**2 * N_j),
        Claim("D = β/g with β = κ/(2 d_k d_{k+1})", beta_pair,
              eta**2 * (N_k1 * d_k**2 + N_k * d_k1**2) / (2 * d_k * d_k1)),
        Claim("D → +∞ as g → 0⁺", sp.Eq(no_cross, sp.oo), sp.true, "true"),
    ]
    claims += [
        Claim(
            f"n = {_N_MODES}: shift of λ_{j + 1} = Σ_(i≠j) e_ij²/(λ_j − λ_i)",
            shifts[j],
            sum(
                offdiag[tuple(sorted((i, j)))] ** 2 / (lams[j] - lams[i])
                for i in range(_N_MODES)
                if i != j
            ),
        )
        for j in range(_N_MODES)
    ]
    claims += [
        Claim(f"n = 3 system: λ̇_{j + 1}", system[j], stated_system[j]) for j in range(n)
    ]
    if ito_check is not None:
        l_1, l_2, n_1, n_2 = _ITO_LEVELS
        route = (noise_mean.subs({N_j: n_1, W: _ITO_W})
                 + pair_term.subs({lam_j: l_1, lam_i: l_2, N_j: n_1, N_i: n_2},
                                  simultaneous=True))
        claims += [
            Claim(f"Itô on the eigenvalues (W = {_ITO_W}): E[dλ_1]/dt = {_ITO_W}η²N_1 + "
                  "η²(N_1λ_2 + N_2λ_1)/(λ_1 − λ_2)", ito_check,
                  _ITO_W * eta**2 * n_1 + eta**2 * (n_1 * l_2 + n_2 * l_1) / (l_1 - l_2)),
            Claim("Itô on the eigenvalues agrees with the perturbation route (consistency)",
                  ito_check, route, independent=False),
        ]
    i_sym, j_sym, n_sym = sp.symbols("i j n", integer=True, positive=True)
    lam_idx, n_idx = sp.IndexedBase(r"\lambda"), sp.IndexedBase("N")
    h_idx, gamma_idx = sp.IndexedBase("h"), sp.IndexedBase(r"\Gamma")
    display = drift.subs({lam: lam_idx[j_sym], h: h_idx[j_sym], Gamma: gamma_idx[j_sym]}) \
        + noise_mean.subs(N_j, n_idx[j_sym]) + sp.Sum(
        (1 - sp.KroneckerDelta(i_sym, j_sym))
        * pair_term.subs({lam_i: lam_idx[i_sym], lam_j: lam_idx[j_sym], N_i: n_idx[i_sym],
                          N_j: n_idx[j_sym]}, simultaneous=True),
        (i_sym, 1, n_sym),
    )
    return log.derivation(
        "R3", "Dyson-type level repulsion", ("A1", "A2", "A3"),
        result=sp.Eq(sp.Symbol(r"\dot{\lambda}_j"), display),
        claims=tuple(claims),
        outputs=(
            ("eigen_drift", drift),
            ("kappa", kappa),
            ("pair_term", pair_term),
            ("beta", beta_pair),
            ("kappa_diag", kappa_diag),
            ("noise_mean", noise_mean),
        ),
        noise_model=_noise_model(n_fresh, window.rhs.limits[0][2]),
        notes=(
            "The general-n sum form is verified exactly for n = 2 and n = 4 (not for symbolic "
            "n). The diagonal entry's increment 2c_jξ_j + ξ_j² has the mean E[ξ_j²] = η²N_j "
            "per noised slot, the Itô term Wη²N_j of λ̇_j (same order as the repulsion); the "
            "off-diagonal ξ_iξ_j has mean 0 and a variance of order η⁴ (dropped)."
        ),
    )


@lru_cache(maxsize=64)
def r10(axioms: AxiomSet = DEFAULT_AXIOMS) -> Derivation:
    """Derive R10: BBP threshold from the outlier formula, and its vacuity as P/W → ∞."""
    log = StepLog()
    # Cited random-matrix inputs (not axioms): spiked outlier and Marchenko-Pastur edge.
    outlier_sq = (d**2 + nu**2 * P) * (d**2 + nu**2 * W) / d**2
    edge = nu * (sp.sqrt(P) + sp.sqrt(W))
    log.add("cited (BGN 2012): outlier σ_out² of a rank-one spike d in W×P noise", outlier_sq)
    log.add("cited (Marchenko–Pastur): bulk edge σ_+", edge)
    inverse = sp.Symbol("u", positive=True)  # u = 1/d: the series at d → ∞ is one at u → 0
    large_d = sp.series(outlier_sq.subs(d, 1 / inverse), inverse, 0, 3).removeO().subs(
        inverse, 1 / d)
    log.add("series for large d: spike plus the noise energy of one row and one column",
            sp.expand(large_d))
    d2 = sp.Symbol("d2", positive=True)
    touching = sp.expand((outlier_sq - edge**2).subs(d, sp.sqrt(d2)) * d2)
    log.add("outlier meets the edge: d²·(σ_out² − σ_+²) = 0, as a polynomial in d²",
            sp.factor(touching))
    d2_c = positive_zero(touching, d2)
    log.add("its (double) root d_c²", d2_c)
    d_c = sp.sqrt(d2_c)
    minimum = sp.cancel(sp.diff(outlier_sq, d).subs(d, d_c))
    log.add("∂σ_out²/∂d at d_c: the outlier curve touches the edge at its minimum", minimum)
    scaled = sp.powsimp(d_c / (nu * sp.sqrt(P)), force=True)
    log.add("d_c/(ν√P)", scaled)
    r = sp.Symbol("r", positive=True)
    vacuity = sp.limit(scaled.subs(P, r * W), r, sp.oo)
    log.add("limit as P/W = r → ∞", vacuity)
    at_scale = (edge / d_c).subs({P: sp.Integer(10) ** 8, W: 10})
    log.add("bulk edge / d_c at P = 10⁸, W = 10", sp.N(at_scale, 4))
    claims = (
        Claim("large-d series σ_out² = d² + ν²(P + W) + ν⁴PW/d²", large_d,
              d**2 + nu**2 * (P + W) + nu**4 * P * W / d**2),
        Claim("d_c⁴ = ν⁴PW", d_c**4, nu**4 * P * W),
        Claim("d_c is the minimum of the outlier curve", minimum, 0),
        Claim("d_c/(ν√P) = (W/P)^(1/4)", scaled, (W / P) ** sp.Rational(1, 4)),
        Claim("d_c/(ν√P) → 0 as P/W → ∞", vacuity, 0),
        Claim("at P = 1e8, W = 10 the threshold lies ~56× below the bulk edge",
              sp.And(at_scale > 50, at_scale < 60), sp.true, "true"),
    )
    return log.derivation(
        "R10", "BBP threshold and its vacuity", (),
        typed=("the outlier position σ_out² (cited, Benaych-Georges & Nadakuditi 2012)",
               "the bulk edge ν(√P + √W) (cited, Marchenko–Pastur)"),
        result=sp.Eq(sp.Symbol("d_c") ** 4, d_c**4),
        claims=claims,
        outputs=(("d_c", d_c),),
        notes=(
            "Uses two cited random-matrix results (spiked outlier position, Marchenko–Pastur "
            "edge) beyond A1–A3. The paper's d_crit = ν(P(W−1))^(1/4) differs from the "
            "textbook ν(PW)^(1/4) derived here by the factor ((W−1)/W)^(1/4)."
        ),
    )
