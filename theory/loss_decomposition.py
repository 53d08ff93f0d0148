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

from theory.axioms import A1, A2, E, G_eff, u, xi
from theory.derivation import Claim, Derivation, StepLog
from theory.symbols import G, W, eta, s, theta, x

__all__ = ["cayley_rotation", "r6"]


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


@lru_cache(maxsize=1)
def r6() -> Derivation:
    """Derive R6: first-order loss change, completeness, mode projections, α-weighting."""
    log = StepLog()
    scale = sp.Symbol("tau", real=True)
    G_val, step = sp.Symbol("G'", real=True), sp.Symbol("Delta", real=True)
    loss = A1.rel("loss").rhs.subs({G: G_val, x: scale * step})
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
    c_of_s = A2.rel("update").rhs.subs(u, G_eff).subs(xi, sp.Function("xi")(s))
    summed = sp.Sum(c_of_s, (s, 1, W))
    log.add("A2 + A3: ⟨v_j, Σ_s δ_s⟩ = Σ_s c_j(s), u_j = G_j^train over the window", summed)
    mean_noise = A2.rel("noise_mean")
    if mean_noise.lhs != E(xi):
        raise ValueError("A2's noise mean relation changed")
    noise_fn = sp.Function("xi")
    projection = summed.expand().replace(
        lambda q: isinstance(q, sp.Sum) and q.function.has(noise_fn),
        lambda q: sp.Sum(q.function.subs(noise_fn(s), mean_noise.rhs), *q.limits),
    )
    projection = projection.doit().subs(G_eff, sp.Symbol("G^tr", real=True))
    log.add("noise has mean 0 (A2): the mode's summed update", projection)
    G_tr = sp.Symbol("G^tr", real=True)
    Gv, Gt, Gvw, Gtw = sp.symbols("G_j^val G_j^tr G_w^val G_w^tr", real=True)
    rotated = sp.expand(
        (sp.cos(theta) * Gv + sp.sin(theta) * Gvw) * (sp.cos(theta) * Gt + sp.sin(theta) * Gtw)
    )
    log.add("mode j rotated by θ toward w: ⟨∇L', v_j'⟩⟨v_j', ·⟩ in units of −ηW", rotated)
    averaged = sp.expand((rotated + rotated.subs(theta, -theta)) / 2)
    log.add("averaged over the sense of the rotation (±θ)", averaged)
    retained = averaged.coeff(Gv * Gt)
    log.add("fraction of mode j's own product retained (R5: ≥ α_j)", retained)
    n = 3
    Gtr = sp.symbols("G_1:4^tr", real=True)
    Gva = sp.symbols("G_1:4^val", real=True)
    alphas = sp.symbols("alpha_1:4", nonnegative=True)
    cos2 = tuple(sp.Symbol(rf"\cos^{{2}}\theta_{j}", nonnegative=True) for j in (1, 2, 3))
    decomposition = sum(
        Gva[j] * projection.subs(G_tr, Gtr[j]) * retained.subs(sp.cos(theta) ** 2, cos2[j])
        for j in range(n)
    )
    log.add("ΔL' = Σ_j G_j^val ⟨v_j, Σδ⟩ cos²θ_j (n = 3)", decomposition)
    weighted = decomposition.subs(dict(zip(cos2, alphas, strict=True)))
    log.add("the paper's step: cos²θ_j → α_j", weighted)
    claims = (
        Claim("first-order change = ⟨∇L', Δ⟩", first, G_val * step),
        Claim("Cayley basis is orthonormal", sp.Matrix(ortho).norm() ** 2, 0),
        Claim("completeness: Σ_j ⟨a, v_j⟩⟨v_j, b⟩ = ⟨a, b⟩", completeness,
              (grad_val.T * total)[0]),
        Claim("⟨v_j, Σ_s δ_s⟩ = −ηW G_j^train", projection, -eta * W * G_tr),
        Claim("averaged rotated product = cos²θ G^val G^tr + sin²θ G_w^val G_w^tr", averaged,
              sp.cos(theta) ** 2 * Gv * Gt + sp.sin(theta) ** 2 * Gvw * Gtw),
        Claim("ΔL' ≈ −ηW Σ_j α_j G_j^train G_j^val", weighted,
              -eta * W * sum(alphas[j] * Gtr[j] * Gva[j] for j in range(n))),
    )
    jj = sp.Symbol("j", integer=True)
    idx = sp.IndexedBase
    return Derivation(
        id="R6",
        title="Spectral loss decomposition",
        axioms=("A1", "A2", "A3"),
        steps=log.steps,
        result=sp.Eq(
            sp.Symbol(r"\Delta L'"),
            -eta * W * sp.Sum(idx(r"\alpha")[jj] * idx("G^{tr}")[jj] * idx("G^{val}")[jj],
                              (jj, 1, sp.Symbol("n"))),
        ),
        claims=claims,
        notes=(
            "cos²θ_j → α_j is an approximation (R5 gives only α_j ≤ cos²θ_j): the weight "
            "α_j under-states the fraction of its product a rotating mode retains."
        ),
    )
