"""The three axioms A1–A3 of docs/spec.md §3 as SymPy relations.

Every derivation in :mod:`theory` takes its starting relations from here (by name, with
:meth:`Axiom.rel`) and lists the ids of the axioms it used. The relations are written for
one mode j (bare symbols of :mod:`spectral_edge.theory.symbols`) and one window slot s.

* **A1** local quadratic structure: along mode j the loss is ``L0 + G·x + h·x²/2``.
* **A2** preconditioned update with decoupled weight decay and noise: the coordinate of an
  update along mode j is ``c = −η·u + ξ`` with ``u = G_eff + ω·x``; the noise has mean 0,
  power ``η²N`` and is independent across modes.
* **A3** adiabatic window: ``λ = d² = Σ_s c(s)²`` over the W slots; the driving ``f`` of a
  slot (gradient flow not explained by A1) injects power ``c·f = Γ`` into every slot.

>>> from spectral_edge.theory.axioms import AXIOMS, axiom
>>> [a.id for a in AXIOMS]
['A1', 'A2', 'A3']
>>> axiom("A3").rel("window_sum")
Eq(lambda, Sum(c(s, t)**2, (s, 1, W)))

Every derivation takes an :class:`AxiomSet` as its argument (default :data:`DEFAULT_AXIOMS`,
A1–A3 as stated). :data:`VARIANTS` holds the named variants a researcher would try, and a new
one is a relation swapped in with :meth:`AxiomSet.replace`:

>>> noiseless = DEFAULT_AXIOMS.replace("A2", "noise_power", sp.Eq(E(xi**2), 0), name="mine")
>>> noiseless.rel("A2", "noise_power")
Eq(E(xi**2), 0)
>>> sorted(VARIANTS)
['a1-cross-curvature', 'a2-momentum', 'a2-noiseless', 'a3-continuous', 'a3-sliding']
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from spectral_edge.theory.derivation import named_item
from spectral_edge.theory.symbols import G, Gamma, N, W, W_n, d, eta, h, lam, omega, s, t, x

L0 = sp.Symbol("L_0", real=True)
"""Loss at the window's reference point."""
Lmode = sp.Function("L")
"""Loss as a function of the coordinate along mode j."""
G_eff = sp.Symbol("G_eff", real=True)
"""Preconditioned slope ⟨v_j, M∇L⟩ (A2)."""
u = sp.Symbol("u", real=True)
"""Drive along mode j, u = G_eff + ω x (A2)."""
c_mode = sp.Symbol("c_j", real=True)
"""Coordinate ⟨δ, v_j⟩ of one update along mode j (A2)."""
xi, xi_i, xi_j = sp.symbols("xi xi_i xi_j", real=True)
"""Noise coordinates along mode j (and along a pair of modes i, j)."""
E = sp.Function("E")
"""Expectation over the noise ξ (an undefined function: only its stated values are used)."""
theta_fn = sp.Function("x")
"""Coordinate along mode j as a function of time (continuous-time form of A2)."""
slot = sp.Function("c")
"""c(s, t): coordinate of the update in window slot s at time t (A3)."""
drive = sp.Function("f")
"""f(s, t): driving of slot s not explained by the quadratic model (A3)."""


@dataclass(frozen=True)
class Axiom:
    """An axiom: id, name, its statement in words, and its SymPy relations by name."""

    id: str
    name: str
    statement: str
    relations: tuple[tuple[str, sp.Basic], ...]

    def rel(self, name: str) -> sp.Basic:
        """The relation called ``name``; ``ValueError`` if there is none."""
        return named_item(self.relations, name, f"axiom {self.id} has no relation")


A1 = Axiom(
    id="A1",
    name="Local quadratic structure over a window",
    statement=(
        "Restricted to the span of the window's modes the loss is quadratic: along mode j "
        "it has slope G_j = ⟨v_j, ∇L⟩ and curvature h_j = v_jᵀ∇²L v_j ≥ 0. "
        "Cross-curvatures v_iᵀ∇²L v_j (i ≠ j) are small and enter only at second order."
    ),
    relations=(
        ("loss", sp.Eq(Lmode(x), L0 + G * x + h * x**2 / 2)),
        ("curvature_nonnegative", sp.Ge(h, 0, evaluate=False)),
    ),
)

A2 = Axiom(
    id="A2",
    name="Preconditioned update with decoupled weight decay and noise",
    statement=(
        "Each update is δ = −η(M∇L + ωθ) + ξ, with M a slowly varying positive-definite "
        "preconditioner, ω the decoupled weight decay and ξ zero-mean noise of power η²N_j "
        "along mode j (N_j ≥ 0), independent across modes. Along mode j: c_j = −ηu_j + ξ_j with "
        "u_j = G_j^eff + ωθ_j; the effective curvature h_j is v_jᵀM∇²L v_j. The optimizer "
        "enters only through (h_j, G_j^eff, N_j)."
    ),
    relations=(
        ("update", sp.Eq(c_mode, -eta * u + xi)),
        ("drive", sp.Eq(u, G_eff + omega * x)),
        ("flow", sp.Eq(theta_fn(t).diff(t), -eta * u)),
        ("noise_mean", sp.Eq(E(xi), 0)),
        ("noise_power", sp.Eq(E(xi**2), eta**2 * N)),
        ("noise_independent", sp.Eq(E(xi_i * xi_j), 0)),
        ("noise_nonnegative", sp.Ge(N, 0, evaluate=False)),
    ),
)

A3 = Axiom(
    id="A3",
    name="Adiabatic window",
    statement=(
        "The modes rotate little within one window, so λ_j = d_j² = Σ_s c_j(s)² over the W "
        "slots; advancing the window adds the newest term and drops the oldest. New gradient "
        "signal enters mode j at a rate Γ_j ≥ 0 per window slot: the driving f_j(s) of slot s "
        "(the gradient flow not explained by the quadratic model, dc_j(s)/dt ∋ ηf_j(s)) "
        "injects the power c_j(s)f_j(s) = Γ_j into every slot. Noise model: per unit time "
        "the coordinate of every one of the W slots receives fresh noise of power η²N_j "
        "(W_n = W noised slots; the sliding window, where only the newest slot is new, is "
        "the variant a3-sliding)."
    ),
    relations=(
        ("eigenvalue", sp.Eq(lam, d**2)),
        ("window_sum", sp.Eq(lam, sp.Sum(slot(s, t) ** 2, (s, 1, W)))),
        ("injection", sp.Eq(slot(s, t) * drive(s, t), Gamma)),
        ("injection_nonnegative", sp.Ge(Gamma, 0, evaluate=False)),
        ("noised_slots", sp.Eq(W_n, W)),
    ),
)

AXIOMS: tuple[Axiom, ...] = (A1, A2, A3)


@dataclass(frozen=True)
class AxiomSet:
    """A set of axioms a derivation starts from: A1–A3 as stated, or a variant of them.

    Hashable (derivations are cached per axiom set); :meth:`rel` is how a derivation reads a
    relation, :meth:`replace` builds a variant with one relation swapped.

    >>> DEFAULT_AXIOMS.rel("A3", "eigenvalue")
    Eq(lambda, d**2)
    """

    name: str
    axioms: tuple[Axiom, ...]
    description: str = ""

    def axiom(self, axiom_id: str) -> Axiom:
        """The axiom with this id in this set; ``ValueError`` otherwise."""
        for candidate in self.axioms:
            if candidate.id == axiom_id:
                return candidate
        known = ", ".join(a.id for a in self.axioms)
        raise ValueError(f"unknown axiom {axiom_id!r}; known: {known}")

    def rel(self, axiom_id: str, name: str) -> sp.Basic:
        """Relation ``name`` of axiom ``axiom_id``; ``ValueError`` if there is none."""
        return self.axiom(axiom_id).rel(name)

    def parts(self) -> tuple[tuple[str, str], ...]:
        """Every (axiom id, relation name), in order: the named parts the audit perturbs."""
        return tuple((a.id, key) for a in self.axioms for key, _ in a.relations)

    def replace(self, axiom_id: str, relation: str, new: sp.Basic, *, name: str,
                description: str = "") -> AxiomSet:
        """This set with relation ``relation`` of ``axiom_id`` replaced by ``new``.

        >>> v = DEFAULT_AXIOMS.replace("A3", "injection", sp.Eq(slot(s, t) * drive(s, t), 0),
        ...                            name="no injection")
        >>> v.rel("A3", "injection").rhs, v.name
        (0, 'no injection')
        """
        self.rel(axiom_id, relation)  # ValueError for an unknown part
        axioms = []
        for ax in self.axioms:
            if ax.id == axiom_id:
                rels = tuple((key, new if key == relation else old) for key, old in ax.relations)
                ax = Axiom(ax.id, ax.name, ax.statement, rels)
            axioms.append(ax)
        return AxiomSet(name, tuple(axioms), description)


def perturb_relation(relation: sp.Basic, zeta: sp.Symbol) -> sp.Basic:
    """A relation perturbed by the fresh symbol ``zeta``: ``lhs = (1+ζ)·rhs`` (inside a sum,
    for a window sum), ``lhs = ζ`` where rhs is 0, ``lhs ≥ rhs − ζ`` for an inequality.

    Used by the dependency audit (:mod:`spectral_edge.theory.audit`): a derivation uses the
    relation when
    ζ shows up in what it derives.

    >>> z = sp.Symbol("zeta")
    >>> perturb_relation(A3.rel("eigenvalue"), z)
    Eq(lambda, d**2*(zeta + 1))
    """
    if isinstance(relation, sp.Eq):
        rhs = relation.rhs
        if rhs == 0:
            return sp.Eq(relation.lhs, zeta)
        if isinstance(rhs, sp.Sum):
            return sp.Eq(relation.lhs, sp.Sum((1 + zeta) * rhs.function, *rhs.limits))
        return sp.Eq(relation.lhs, (1 + zeta) * rhs)
    if isinstance(relation, sp.Ge):
        return sp.Ge(relation.lhs, relation.rhs - zeta, evaluate=False)
    raise ValueError(f"cannot perturb {relation}")


def axiom(axiom_id: str) -> Axiom:
    """The axiom with this id ("A1", "A2" or "A3"); ``ValueError`` otherwise.

    >>> axiom("A1").name
    'Local quadratic structure over a window'
    """
    for candidate in AXIOMS:
        if candidate.id == axiom_id:
            return candidate
    raise ValueError(f"unknown axiom {axiom_id!r}; known: A1, A2, A3")


DEFAULT_AXIOMS = AxiomSet("A1-A3", AXIOMS, "the axioms of docs/spec.md §3")
"""A1–A3 as stated in docs/spec.md §3: every derivation's default."""

cross_curvature = sp.Symbol("h_c", real=True)
"""First-order cross-curvature v_jᵀ∇²L v_i between mode j and a neighbour i (variant)."""
neighbour = sp.Function("y")
"""y(t): coordinate of the neighbouring mode i, moving in time (variant A1 cross-curvature)."""
momentum_gain = sp.Symbol("m_mu", positive=True)
"""1/(1 − μ) for heavy-ball momentum μ: the slow-mode gain of the step (variant)."""

VARIANTS: dict[str, AxiomSet] = {
    "a1-cross-curvature": DEFAULT_AXIOMS.replace(
        "A1", "loss",
        sp.Eq(Lmode(x), L0 + G * x + h * x**2 / 2 + cross_curvature * x * neighbour(t)),
        name="a1-cross-curvature",
        description="A1 with a first-order cross-curvature h_c·x_j·x_i to a moving neighbour",
    ),
    "a2-noiseless": DEFAULT_AXIOMS.replace(
        "A2", "noise_power", sp.Eq(E(xi**2), 0),
        name="a2-noiseless", description="A2 without noise (E[ξ²] = 0: full-batch steps)",
    ),
    "a2-momentum": DEFAULT_AXIOMS.replace(
        "A2", "update", sp.Eq(c_mode, -eta * momentum_gain * u + xi), name="a2-momentum",
    ).replace(
        "A2", "flow", sp.Eq(theta_fn(t).diff(t), -eta * momentum_gain * u),
        name="a2-momentum",
        description="A2 with heavy-ball momentum μ in its slow-mode limit: the step is "
        "multiplied by m_μ = 1/(1 − μ)",
    ),
    "a3-continuous": DEFAULT_AXIOMS.replace(
        "A3", "injection", sp.Eq(slot(s, t) * drive(s, t), Gamma / W),
        name="a3-continuous",
        description="A3 with continuous injection: the power Γ enters the window as a whole "
        "(Γ/W per slot), not Γ into every slot",
    ),
    "a3-sliding": DEFAULT_AXIOMS.replace(
        "A3", "noised_slots", sp.Eq(W_n, 1),
        name="a3-sliding",
        description="A3's sliding window as the noise model: per step only the newest of the "
        "W slots is new (W_n = 1), treated in mean field: the noised slot holds λ/W on "
        "average, so κ is that of every-slot noise divided by W and the noise mean is η²N_j; "
        "the removal of the oldest slot's noise is not modelled (λ is not Markov there)",
    ),
}
"""Named variants of the axioms (``spectral-edge derive --axioms NAME``)."""


def variant(name: str) -> AxiomSet:
    """The axiom set called ``name``: ``"default"`` (A1–A3) or one of :data:`VARIANTS`.

    >>> variant("a2-noiseless").rel("A2", "noise_power")
    Eq(E(xi**2), 0)
    """
    key = name.strip().lower()
    if key in ("default", "a1-a3"):
        return DEFAULT_AXIOMS
    if key not in VARIANTS:
        raise ValueError(f"unknown axiom variant {name!r}; known: default, "
                         f"{', '.join(sorted(VARIANTS))}")
    return VARIANTS[key]
