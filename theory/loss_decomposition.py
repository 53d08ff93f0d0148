"""R6 — the spectral loss decomposition, docs/spec.md §4.

Route: A1 applied to a second loss L' (validation) gives its first-order change over one
window, ``ΔL' = ⟨∇L', Σ_s δ_s⟩`` (the ε¹ term of L'(θ + εΔ)). Completeness of an orthonormal
basis splits it over the modes; it is derived for a *generic* rotation of R³ (the Cayley
transform of a symbolic skew-symmetric matrix, so every orthonormal basis near the identity
is covered). A2 and A3 give each mode's summed update, ``⟨v_j, Σ_s δ_s⟩ = −ηW·G_j^train``
(the noise has mean 0). A mode that rotates by θ_j during the window keeps, averaged over the
sense of the rotation, the fraction ``cos²θ_j`` of its product (the sin² part is carried by
the partner direction); R5 bounds ``cos²θ_j ≥ α_j``. Replacing ``cos²θ_j`` by α_j — the
paper's step, an approximation, marked as such — gives
``ΔL' ≈ −ηW Σ_j α_j G_j^train G_j^val``.

>>> r6().check().passed
True
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from spectral_edge.theory.axioms import DEFAULT_AXIOMS, AxiomSet, E, G_eff, u, xi
from spectral_edge.theory.derivation import Claim, Derivation, StepLog
from spectral_edge.theory.symbols import G, W, eta, omega, s, theta, x

__all__ = ["cayley_rotation", "resolve_extrema", "r6"]


def resolve_extrema(expr: sp.Basic) -> sp.Basic:
    """Evaluate two-argument ``Min``/``Max`` whose order follows from the symbols'
    assumptions (the sign of the factored difference); others are left as they are.

    >>> P, k = sp.Symbol("P", positive=True), sp.Symbol("k", nonnegative=True)
    >>> resolve_extrema(sp.Min(P / (1 + k), P, evaluate=False))
    P/(k + 1)
    """

    def pick(ext: sp.Basic) -> sp.Basic:
        if len(ext.args) != 2:
            return ext
        a, b = ext.args
        diff = sp.factor(a - b)
        if diff.is_nonpositive:
            return a if isinstance(ext, sp.Min) else b
        if diff.is_nonnegative:
            return b if isinstance(ext, sp.Min) else a
        return ext

    return expr.replace(lambda e: isinstance(e, (sp.Min, sp.Max)), pick)


def cayley_rotation(params: tuple[sp.Symbol, sp.Symbol, sp.Symbol]) -> sp.Matrix:
    """The generic rotation of R³: Cayley transform (I − K)⁻¹(I + K) of a skew matrix K.

    Built once per parameter triple (R6 and R7 use the same one); each call returns a copy.

    >>> a = sp.symbols("a1:4", real=True)
    >>> R = cayley_rotation(a)
    >>> sp.simplify(R.T * R) == sp.eye(3)
    True
    """
    return sp.Matrix(_cayley_rotation(tuple(params)))


@lru_cache(maxsize=8)
def _cayley_rotation(params: tuple[sp.Symbol, sp.Symbol, sp.Symbol]) -> sp.ImmutableMatrix:
    a1, a2, a3 = params
    skew = sp.Matrix([[0, -a3, a2], [a3, 0, -a1], [-a2, a1, 0]])
    det = 1 + a1**2 + a2**2 + a3**2
    inverse = (sp.eye(3) - skew).adjugate() / det
    return sp.ImmutableMatrix((inverse * (sp.eye(3) + skew)).applyfunc(sp.factor))


@lru_cache(maxsize=64)
def r6(axioms: AxiomSet = DEFAULT_AXIOMS) -> Derivation:
    """Derive R6: first-order loss change, completeness, mode projections with weight decay,
    the rotation weight, the published ω → 0 form and the interval R5 allows."""
    log = StepLog()
    scale = sp.Symbol("tau", real=True)
    G_val, step = sp.Symbol("G'", real=True), sp.Symbol("Delta", real=True)
    loss = axioms.rel("A1", "loss").rhs.subs({G: G_val, x: scale * step})
    first = sp.series(loss, scale, 0, 2).removeO().coeff(scale, 1)
    log.add("A1 for L' along the summed update Δ: coefficient of ε¹ in L'(θ + εΔ)", first)
    params = sp.symbols("a1:4", real=True)
    V = cayley_rotation(params)
    log.add("a generic orthonormal basis v_1, v_2, v_3 (columns; Cayley transform)", V)
    ortho = (V.T * V - sp.eye(3)).applyfunc(sp.cancel)
    grad_val = sp.Matrix(sp.symbols("p1:4", real=True))  # ∇L'
    total = sp.Matrix(sp.symbols("q1:4", real=True))  # Σ_s δ_s
    per_mode = [(grad_val.T * V[:, j])[0] * (V[:, j].T * total)[0] for j in range(3)]
    completeness = sp.cancel(sp.together(sum(per_mode)))
    log.add("Σ_j ⟨∇L', v_j⟩⟨v_j, Σδ⟩ (completeness)", completeness)
    drive_u = axioms.rel("A2", "drive").rhs
    c_of_s = axioms.rel("A2", "update").rhs.subs(u, drive_u).subs(xi, sp.Function("xi")(s))
    summed = sp.Sum(c_of_s, (s, 1, W))
    log.add("A2 + A3: ⟨v_j, Σ_s δ_s⟩ = Σ_s c_j(s), u_j = G_j^eff + ωθ_j (θ_j: the window's "
            "coordinate along v_j)", summed)
    mean_noise = axioms.rel("A2", "noise_mean")
    if mean_noise.lhs != E(xi):
        raise ValueError("A2's noise mean relation changed")
    noise_fn = sp.Function("xi")
    projection = summed.expand().replace(
        lambda q: isinstance(q, sp.Sum) and q.function.has(noise_fn),
        lambda q: sp.Sum(q.function.subs(noise_fn(s), mean_noise.rhs), *q.limits),
    )
    projection = sp.expand(projection.doit())
    log.add("noise has mean 0 (A2): the mode's summed update, weight decay kept", projection)
    Gv, Gd, Gvw, Gdw = sp.symbols("G_j^val u_j G_w^val u_w", real=True)
    rotated = sp.expand(
        (sp.cos(theta) * Gv + sp.sin(theta) * Gvw) * (sp.cos(theta) * Gd + sp.sin(theta) * Gdw)
    )
    log.add("mode j rotated by θ toward w: ⟨∇L', v_j'⟩⟨v_j', ·⟩ in units of −ηW", rotated)
    averaged = sp.expand((rotated + rotated.subs(theta, -theta)) / 2)
    log.add("averaged over the sense of the rotation (±θ)", averaged)
    retained = averaged.coeff(Gv * Gd)
    log.add("fraction of mode j's own product retained (R5: ≥ α_j)", retained)
    n = 3
    Geff = sp.symbols("G_1:4^eff", real=True)
    Gtr = sp.symbols("G_1:4^tr", real=True)
    Gva = sp.symbols("G_1:4^val", real=True)
    coords = sp.symbols("theta_1:4", real=True)
    alphas = sp.symbols("alpha_1:4", nonnegative=True)
    cos2 = tuple(sp.Symbol(rf"\cos^{{2}}\theta_{j}", nonnegative=True) for j in (1, 2, 3))
    mode_sum = [projection.subs({G_eff: Geff[j], x: coords[j]}) for j in range(n)]
    decomposition = sum(
        Gva[j] * mode_sum[j] * retained.subs(sp.cos(theta) ** 2, cos2[j]) for j in range(n)
    )
    log.add("ΔL' = Σ_j G_j^val ⟨v_j, Σδ⟩ cos²θ_j, both parts of the drive (n = 3)",
            decomposition)
    gradient_part = sp.expand(decomposition).subs(omega, 0)
    decay_part = sp.expand(decomposition - gradient_part)
    log.add("… its weight-decay part (the ωθ_j of the drive)", decay_part)
    no_decay = sp.limit(decomposition, omega, 0)
    log.add("ω → 0: the gradient part alone", no_decay)
    plain = no_decay.subs(dict(zip(Geff, Gtr, strict=True)))
    log.add("M = I: G_j^eff = ⟨v_j, M∇L⟩ becomes G_j^train = ⟨v_j, ∇L⟩", plain)
    published = plain.subs(dict(zip(cos2, alphas, strict=True)))
    log.add("the paper's step cos²θ_j → α_j: the published form", published)
    # The interval R5 allows: α_j ≤ cos²θ_j ≤ 1, and ΔL' is linear in each cos²θ_j.
    a_j, c2, p_j = sp.Symbol("alpha_j", nonnegative=True), sp.Symbol("c2"), sp.Symbol("p_j")
    term = p_j * c2
    slope = log.add("per mode ΔL'_j = p_j·cos²θ_j, p_j = −ηW u_j G_j^val: ∂/∂cos²θ_j",
                    sp.diff(term, c2))
    if slope.has(c2):
        raise ValueError("ΔL' is not linear in cos²θ_j")
    ends = (term.subs(c2, a_j), term.subs(c2, 1))
    lower, upper = sp.Min(*ends), sp.Max(*ends)
    log.add("linear in cos²θ_j ∈ [α_j, 1] (R5): the ends of mode j's interval", sp.Tuple(lower,
                                                                                       upper))
    p_of = (-eta * W * (G_eff + omega * x) * G_val)
    lower_mode = lower.subs(p_j, p_of)
    upper_mode = upper.subs(p_j, p_of)
    pos, k_ = sp.Symbol("P", positive=True), sp.Symbol("k", nonnegative=True)
    frac = 1 / (1 + k_)  # a value of α in (0, 1]
    claims = (
        Claim("first-order change = ⟨∇L', Δ⟩", first, G_val * step),
        Claim("Cayley basis is orthonormal", sp.Matrix(ortho).norm() ** 2, 0),
        Claim("completeness: Σ_j ⟨a, v_j⟩⟨v_j, b⟩ = ⟨a, b⟩", completeness,
              (grad_val.T * total)[0]),
        Claim("⟨v_j, Σ_s δ_s⟩ = −ηW (G_j^eff + ωθ_j)", projection,
              -eta * W * (G_eff + omega * x)),
        Claim("averaged rotated product = cos²θ G^val u + sin²θ G_w^val u_w", averaged,
              sp.cos(theta) ** 2 * Gv * Gd + sp.sin(theta) ** 2 * Gvw * Gdw),
        Claim("ΔL' = −ηW Σ_j cos²θ_j (G_j^eff + ωθ_j) G_j^val", decomposition,
              -eta * W * sum(cos2[j] * (Geff[j] + omega * coords[j]) * Gva[j]
                             for j in range(n))),
        Claim("weight-decay part −ηWω Σ_j cos²θ_j θ_j G_j^val", decay_part,
              -eta * W * omega * sum(cos2[j] * coords[j] * Gva[j] for j in range(n))),
        Claim("ω → 0, M = I, cos²θ_j → α_j: the published −ηW Σ_j α_j G_j^train G_j^val",
              published, -eta * W * sum(alphas[j] * Gtr[j] * Gva[j] for j in range(n))),
        Claim("interval, p_j > 0: lower end α_j p_j",
              resolve_extrema(lower.subs({p_j: pos, a_j: frac})), pos / (1 + k_)),
        Claim("interval, p_j > 0: upper end p_j",
              resolve_extrema(upper.subs({p_j: pos, a_j: frac})), pos),
        Claim("interval, p_j < 0: lower end p_j",
              resolve_extrema(lower.subs({p_j: -pos, a_j: frac})), -pos),
        Claim("interval, p_j < 0: upper end α_j p_j",
              resolve_extrema(upper.subs({p_j: -pos, a_j: frac})), -pos / (1 + k_)),
    )
    jj = sp.Symbol("j", integer=True)
    idx = sp.IndexedBase
    n_sym = sp.Symbol("n")
    return log.derivation(
        "R6", "Spectral loss decomposition", ("A1", "A2"),
        result=sp.Eq(
            sp.Symbol(r"\Delta L'"),
            -eta * W * sp.Sum(idx(r"\cos^{2}\theta")[jj] * (idx("G^{eff}")[jj] + omega
                                                             * idx(r"\theta")[jj])
                              * idx("G^{val}")[jj], (jj, 1, n_sym)),
        ),
        claims=claims,
        outputs=(
            ("mode_change", p_of * c2),
            ("lower_mode", lower_mode),
            ("upper_mode", upper_mode),
            ("published", published),
        ),
        notes=(
            "Weight decay kept: the drive is G_j^eff + ωθ_j (A2), so ΔL' has a weight-decay "
            "part −ηWω Σ_j cos²θ_j θ_j G_j^val that dominates after grokking; the published "
            "−ηW Σ_j α_j G_j^train G_j^val is the limit ω → 0 with M = I (G^eff = G^train) and "
            "cos²θ_j → α_j. That last step is an approximation: R5 gives α_j ≤ cos²θ_j ≤ 1, "
            "so ΔL' lies in Σ_j [min(α_j p_j, p_j), max(α_j p_j, p_j)], "
            "p_j = −ηW(G_j^eff + ωθ_j)G_j^val (both ends exported)."
        ),
    )
