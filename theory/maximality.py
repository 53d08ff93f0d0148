"""R7 — the Gap Maximality Principle, docs/spec.md §4 (paper statement, our proof route).

(a) For a generic orthonormal basis of R³ (Cayley transform, :func:`cayley_rotation`) and
generic gradients, the block sum ``Σ_{j∈B} G_j^train G_j^val`` equals
``g_trainᵀ P_B g_val`` with ``P_B = V_B V_Bᵀ``, and is unchanged by any rotation inside
the block (a symbolic Givens rotation, rationally parametrised so the algebra stays exact).

(b) In mode coordinates with n = 4 and the gap at k* = 2 (blocks {1, 2} | {3, 4}): a gap
collapse at m mixes modes m and m+1. For m = 1 or m = 3 both modes lie in one block and the
dominant block's contribution is exactly unchanged; for m = k* = 2 it changes by
``sinψcosψ(G_2^tr G_3^val + G_3^tr G_2^val) + sin²ψ(G_3^tr G_3^val − G_2^tr G_2^val)``,
first order in the mixing angle ψ and not identically zero — k* is the unique position
whose collapse disrupts learning.

(c) ``σ_j/σ_{j+1} = r`` and the relative eigen-gap ``(λ_j − λ_{j+1})/λ_j = 1 − 1/r²`` rise
together, so k* maximises the relative gap; at a perturbation of relative size ε,
R5's α = 1 − cε²/(1 − 1/r²)² also rises with r: k* is the best-protected boundary.

>>> r7().check().passed
True
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from spectral_edge.theory.axioms import DEFAULT_AXIOMS, AxiomSet
from spectral_edge.theory.derivation import Claim, Derivation, StepLog
from spectral_edge.theory.loss_decomposition import cayley_rotation
from spectral_edge.theory.symbols import c_alpha

__all__ = ["MIX_ANGLE", "MODE_TRAIN", "MODE_VAL", "givens", "r7"]

MODE_TRAIN = sp.symbols("G_1:5^tr", real=True)
"""Training-gradient coordinates G_j^train of modes 1–4 (part b, k* = 2)."""
MODE_VAL = sp.symbols("G_1:5^val", real=True)
"""Validation-gradient coordinates G_j^val of modes 1–4 (part b, k* = 2)."""
MIX_ANGLE = sp.Symbol("psi", real=True)
"""Angle ψ by which a gap collapse mixes two neighbouring modes (part b)."""


def givens(n: int, i: int, j: int, t: sp.Symbol) -> sp.Matrix:
    """Rotation in the (i, j) plane of Rⁿ, angle 2·atan(t) (rational in t).

    >>> t = sp.Symbol("t", real=True)
    >>> R = givens(3, 0, 1, t)
    >>> sp.simplify(R.T * R) == sp.eye(3)
    True
    """
    cos = (1 - t**2) / (1 + t**2)
    sin = 2 * t / (1 + t**2)
    rot = sp.eye(n)
    rot[i, i] = rot[j, j] = cos
    rot[i, j], rot[j, i] = -sin, sin
    return rot


def _block_sum(basis: sp.Matrix, g_tr: sp.Matrix, g_val: sp.Matrix, block: range) -> sp.Basic:
    return sum((g_tr.T * basis[:, j])[0] * (g_val.T * basis[:, j])[0] for j in block)


@lru_cache(maxsize=64)
def r7(axioms: AxiomSet = DEFAULT_AXIOMS) -> Derivation:
    """Derive R7 (a) block invariance, (b) disruption only at k*, (c) k* maximises the gap."""
    log = StepLog()
    V = cayley_rotation(sp.symbols("a1:4", real=True))
    g_tr = sp.Matrix(sp.symbols("p1:4", real=True))
    g_val = sp.Matrix(sp.symbols("q1:4", real=True))
    block = range(2)
    before = _block_sum(V, g_tr, g_val, block)
    projector = V[:, :2] * V[:, :2].T
    log.add("(a) block B = {v_1, v_2} of a generic basis: projector P_B = V_B V_Bᵀ",
            projector.applyfunc(sp.factor))
    t = sp.Symbol("t", real=True)
    inside = _block_sum(V * givens(3, 0, 1, t), g_tr, g_val, block)
    numerator, denominator = sp.fraction(sp.together(inside - before))
    change_inside = sp.expand(numerator) / denominator  # 0 when the numerator expands to 0
    log.add("rotate v_1, v_2 inside B by 2·atan(t): change of the block sum", change_inside)
    across = _block_sum(V * givens(3, 1, 2, t), g_tr, g_val, block)
    point = {sym: sp.Rational(k + 1, 5) for k, sym in
             enumerate(sorted((across - before).free_symbols, key=str))}
    change_across = sp.nsimplify((across - before).subs(point))
    log.add("rotate v_2 with v_3 (across the boundary): change of the block sum at the "
            "rational point (a, p, q, t) = (1/5, 2/5, …)", change_across)
    # (b) mode coordinates, n = 4, k* = 2
    Gt, Gv, psi = sp.Matrix(MODE_TRAIN), sp.Matrix(MODE_VAL), MIX_ANGLE

    def mix(m: int) -> sp.Basic:
        rot = sp.eye(4)
        rot[m, m] = rot[m + 1, m + 1] = sp.cos(psi)
        rot[m, m + 1], rot[m + 1, m] = -sp.sin(psi), sp.sin(psi)
        return sp.expand(_block_sum(rot, Gt, Gv, range(2)) - _block_sum(sp.eye(4), Gt, Gv,
                                                                         range(2)))

    # cos²ψ = 1 − sin²ψ, then expand: an exact normal form of these quadratic trig polynomials
    # (zero when the change vanishes identically; far cheaper than trigsimp)
    changes = {m + 1: sp.expand(mix(m).subs(sp.cos(psi) ** 2, 1 - sp.sin(psi) ** 2))
               for m in range(3)}
    for m, change in changes.items():
        log.add(f"(b) collapse at m = {m} mixes modes {m}, {m + 1} by ψ: change of the "
                "dominant block {1, 2}", change)
    first_order = sp.series(changes[2], psi, 0, 2).removeO()
    log.add("at m = k* = 2, to first order in ψ", first_order)
    # (c) the ratio and the relative gap
    r, eps_rel, p = sp.Symbol("r", positive=True), sp.Symbol("varepsilon", positive=True), \
        sp.Symbol("p", positive=True)
    rel_gap = 1 - 1 / r**2
    log.add("(c) relative eigen-gap (λ_j − λ_{j+1})/λ_j with r = σ_j/σ_{j+1}", rel_gap)
    d_rel = sp.diff(rel_gap, r)
    log.add("∂/∂r of the relative gap", d_rel)
    alpha_r = 1 - c_alpha * eps_rel**2 / rel_gap**2
    d_alpha = sp.factor(sp.diff(alpha_r, r).subs(r, 1 + p))
    log.add("R5 α at ‖ΔC‖ = ελ_j: ∂α/∂r with r = 1 + p > 1", d_alpha)

    witness = tuple(
        (sym, sp.Rational(k + 2, 3)) for k, sym in enumerate(list(Gt) + list(Gv))
    ) + ((psi, sp.pi / 6),)
    claims = (
        Claim("block sum = g_trᵀ P_B g_val", before, (g_tr.T * projector * g_val)[0]),
        Claim("(a) invariant under rotations inside the block", change_inside, 0),
        Claim("(a) changed by a rotation across the boundary", change_across, 0, "nonzero"),
        Claim("(b) collapse at m = 1 leaves the dominant block unchanged", changes[1], 0),
        Claim("(b) collapse at m = 3 leaves the dominant block unchanged", changes[3], 0),
        Claim(
            "(b) collapse at k* changes it by sinψcosψ(G2tG3v + G3tG2v) + sin²ψ(G3tG3v − G2tG2v)",
            changes[2],
            sp.sin(psi) * sp.cos(psi) * (Gt[1] * Gv[2] + Gt[2] * Gv[1])
            + sp.sin(psi) ** 2 * (Gt[2] * Gv[2] - Gt[1] * Gv[1]),
        ),
        Claim("(b) … which is not identically zero", changes[2], 0, "nonzero", witness),
        Claim("(b) first order in ψ: ψ(G2tG3v + G3tG2v)", first_order,
              psi * (Gt[1] * Gv[2] + Gt[2] * Gv[1])),
        Claim("(c) relative gap rises with the ratio", d_rel, 0, "positive"),
        Claim("(c) α rises with the ratio", d_alpha, 0, "positive"),
    )
    kstar = sp.Symbol("k^*")
    j = sp.Symbol("j", integer=True)
    sig = sp.IndexedBase(r"\sigma")
    return log.derivation(
        "R7", "Gap Maximality Principle", (),
        result=sp.Eq(kstar, sp.Function(r"\operatorname{argmax}_j")(sig[j] / sig[j + 1])),
        claims=claims,
        outputs=(("boundary_change", changes[2]),),
        notes=(
            "Invariance is proved for generic bases of R³ and collapse positions in R⁴ "
            "(mode coordinates); the statement for general n follows from P_B = V_B V_Bᵀ."
        ),
    )
