"""Dependency audit and axiom variants: which results use which axiom (docs/spec.md §3–4).

**Audit.** Every named part of every axiom (a relation such as ``A2.noise_power``) is
perturbed by its own fresh symbol ζ (:func:`spectral_edge.theory.axioms.perturb_relation`);
every result
is re-derived from the perturbed set, and a result *uses* a part when that part's ζ shows
up in what it derives (its steps, result, outputs or the derived side of a claim). All
parts are perturbed at once, each with its own ζ, so one pass over the results suffices; a
result whose route breaks under the joint perturbation is re-derived with each part
perturbed in ever smaller groups (bisection), and a part whose perturbation alone breaks
it counts as used (the route cannot do without it). The audit also finds claims whose
*stated* side is reached by a perturbation: such a side was computed from the axioms,
not typed independently.

**Positivity.** The sign relations (``A1.curvature_nonnegative`` h ≥ 0,
``A2.noise_nonnegative`` N ≥ 0, ``A3.injection_nonnegative`` Γ ≥ 0) reach the derivations
through the symbols' assumptions (:mod:`spectral_edge.theory.symbols`), not through a
relation a route reads, so a ζ cannot show them. They are audited by relaxing them: every
symbol the relation constrains (:data:`SIGN_FAMILIES`: h, h_k, h̄, …) is replaced in each
claim by an assumption-free real symbol of the same name, and a result uses the relation
when one of its claims that holds stops holding (β ≥ 0 without N ≥ 0, R1's stability
without h ≥ 0, …).

**Variants.** :func:`compare_variant` re-derives every result under a named axiom set
(:data:`spectral_edge.theory.axioms.VARIANTS`) and sorts the results into survives (derived, check
passes, same result), changes (derived, but the result or a check differs: the new form is
kept) and underivable (the route raises).

>>> from spectral_edge.theory.audit import audit
>>> report = audit(["R10", "R11"])
>>> report.axioms_used("R10"), report.axioms_used("R11")
((), ('A1', 'A2'))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from spectral_edge.theory.axioms import DEFAULT_AXIOMS, Axiom, AxiomSet, perturb_relation, variant
from spectral_edge.theory.derivation import Derivation
from spectral_edge.theory.registry import IDS, derivation

__all__ = [
    "DependencyAudit",
    "VariantOutcome",
    "VariantComparison",
    "audit",
    "compare_variant",
    "perturbed_set",
]

Part = tuple[str, str]

SIGN_FAMILIES: dict[Part, tuple[str, ...]] = {
    ("A1", "curvature_nonnegative"): ("h", "h_k", "h_k1", "h_b", r"\bar{h}", "h_1", "h_2",
                                      "h_3"),
    ("A2", "noise_nonnegative"): ("N", "N_k", "N_k1", "N_i", "N_j", "N_1", "N_2", "N_3"),
    ("A3", "injection_nonnegative"): ("Gamma", "Gamma_k", "Gamma_k1", "Gamma_b", "Gamma_0",
                                      "Gamma_1", "Gamma_2", "Gamma_3"),
}
"""Each sign relation of the axioms → the names of the symbols whose assumption it supplies."""


def _relaxed(expr: sp.Basic, names: tuple[str, ...]) -> sp.Basic:
    swap = {sym: sp.Symbol(sym.name, real=True) for sym in sp.sympify(expr).free_symbols
            if isinstance(sym, sp.Symbol) and sym.name in names}
    return sp.sympify(expr).xreplace(swap) if swap else expr


def sign_parts_used(der: Derivation, base: AxiomSet = DEFAULT_AXIOMS) -> tuple[Part, ...]:
    """The sign relations of ``base`` that a claim of ``der`` needs: relaxing the relation
    (its symbols made merely real) turns a claim that holds into one that does not.

    Args:
        der: A derivation.
        base: The axiom set whose sign relations are audited.

    Returns:
        The (axiom, relation) parts needed, in the order of ``base``.

    >>> from spectral_edge.theory.registry import derivation
    >>> sign_parts_used(derivation("R4"))
    (('A2', 'noise_nonnegative'),)
    """
    used = []
    for part in base.parts():
        names = SIGN_FAMILIES.get(part)
        if names is None:
            continue
        for claim in der.claims:
            if claim.kind == "true" or not claim.decide()[0]:
                continue
            relaxed = dataclasses.replace(claim, derived=_relaxed(claim.derived, names),
                                          stated=_relaxed(claim.stated, names))
            if relaxed.derived == claim.derived and relaxed.stated == claim.stated:
                continue
            if not relaxed.decide()[0]:
                used.append(part)
                break
    return tuple(used)


def _zeta(part: Part) -> sp.Symbol:
    return sp.Symbol(f"zeta_{part[0]}_{part[1]}", positive=True)


def perturbed_set(parts: Iterable[Part], base: AxiomSet = DEFAULT_AXIOMS) -> AxiomSet:
    """``base`` with each part in ``parts`` perturbed by its own ζ (named after the part).

    >>> s = perturbed_set([("A3", "eigenvalue")])
    >>> s.rel("A3", "eigenvalue")
    Eq(lambda, d**2*(zeta_A3_eigenvalue + 1))
    """
    chosen = set(parts)
    label = ",".join(f"{a}.{r}" for a, r in sorted(chosen))
    axioms = []
    for ax in base.axioms:
        rels = tuple(
            (key, perturb_relation(rel, _zeta((ax.id, key))) if (ax.id, key) in chosen else rel)
            for key, rel in ax.relations
        )
        axioms.append(Axiom(ax.id, ax.name, ax.statement, rels))
    return AxiomSet(f"{base.name} perturbed at {label}", tuple(axioms))


def _symbols_of(der: Derivation) -> tuple[set[sp.Symbol], set[sp.Symbol], set[sp.Symbol]]:
    """Free symbols anywhere in the derivation, in its result/outputs, in stated sides of
    independent claims."""
    def free(expr: sp.Basic) -> set[sp.Symbol]:
        return set(sp.sympify(expr).free_symbols)

    everywhere: set[sp.Symbol] = set()
    for st in der.steps:
        everywhere |= free(st.expr)
    final = free(der.result)
    for _, expr in der.outputs:
        final |= free(expr)
    stated: set[sp.Symbol] = set()
    for claim in der.claims:
        everywhere |= free(claim.derived)
        if claim.independent:
            stated |= free(claim.stated)
    return everywhere | final, final, stated


@dataclass(frozen=True)
class DependencyAudit:
    """What the audit found, per result id: the parts it uses, those that change its final
    result or outputs, those without which it cannot be derived, and claims whose stated
    side a perturbation reached (not typed independently)."""

    ids: tuple[str, ...]
    parts: tuple[Part, ...]
    uses: tuple[tuple[str, tuple[Part, ...]], ...]
    changes: tuple[tuple[str, tuple[Part, ...]], ...]
    breaks: tuple[tuple[str, tuple[Part, ...]], ...]
    tainted_claims: tuple[tuple[str, str], ...]

    def _get(self, table: tuple[tuple[str, tuple[Part, ...]], ...], rid: str) -> tuple[Part,
                                                                                         ...]:
        return dict(table)[rid]

    def parts_used(self, rid: str) -> tuple[Part, ...]:
        """The named parts result ``rid`` uses (its route reads them)."""
        return self._get(self.uses, rid)

    def axioms_used(self, rid: str) -> tuple[str, ...]:
        """The ids of the axioms result ``rid`` uses, in order."""
        used = {a for a, _ in self.parts_used(rid)}
        return tuple(a for a in dict.fromkeys(a for a, _ in self.parts) if a in used)

    def matrix(self) -> str:
        """The results × axiom-parts matrix as text: ``●`` the part reaches the result,
        ``○`` used in the route only, ``✗`` the route breaks without it, ``·`` unused.

        >>> audit(["R10"]).matrix().splitlines()[-2].endswith("(none)")
        True
        """
        heads = [f"{a}.{r}" for a, r in self.parts]
        lines = ["columns:"] + [f"  {k + 1:2d} = {h}" for k, h in enumerate(heads)]
        lines.append("     " + "".join(f"{k + 1:>3d}" for k in range(len(heads))) + "   axioms")
        for rid in self.ids:
            used, changed, broke = (set(self._get(t, rid)) for t in (self.uses, self.changes,
                                                                      self.breaks))
            marks = []
            for part in self.parts:
                mark = ("✗" if part in broke else "●" if part in changed
                        else "○" if part in used else "·")
                marks.append(f"{mark:>3s}")
            axes = ", ".join(self.axioms_used(rid)) or "(none)"
            lines.append(f"{rid:<5s}" + "".join(marks) + f"   {axes}")
        lines.append("● reaches the result  ○ used in the route  ✗ route breaks without it  "
                     "· unused")
        return "\n".join(lines)


def _derive_groups(rid: str, parts: tuple[Part, ...], base: AxiomSet,
                   ) -> tuple[list[Derivation], list[Part]]:
    """Derive ``rid`` with ``parts`` perturbed jointly; where that breaks the route, split
    the parts in halves (bisection) until each group derives or is a single part that
    breaks it. Returns the derivations obtained and the parts that break the route alone."""
    try:
        return [derivation(rid, perturbed_set(parts, base))], []
    except Exception:  # noqa: BLE001 - a route that breaks is what the audit looks for
        if len(parts) == 1:
            return [], list(parts)
    half = len(parts) // 2
    ders, broken = [], []
    for group in (parts[:half], parts[half:]):
        got, bad = _derive_groups(rid, group, base)
        ders += got
        broken += bad
    return ders, broken


@lru_cache(maxsize=4)
def _audit(ids: tuple[str, ...], base: AxiomSet,
           progress: Callable[[str], None] | None = None) -> DependencyAudit:
    parts = base.parts()
    zetas = {_zeta(p): p for p in parts}
    uses, changes, breaks, tainted = [], [], [], []
    for rid in ids:
        if progress is not None:
            progress(rid)
        ders, broken = _derive_groups(rid, parts, base)
        used, changed = set(broken) | set(sign_parts_used(derivation(rid, base), base)), set()
        for der in ders:
            everywhere, final, stated = _symbols_of(der)
            used |= {zetas[z] for z in everywhere if z in zetas}
            changed |= {zetas[z] for z in final if z in zetas}
            for claim in der.claims:
                if claim.independent and any(z in zetas for z in
                                             sp.sympify(claim.stated).free_symbols):
                    tainted.append((rid, claim.description))
        order = [p for p in parts if p in used]
        uses.append((rid, tuple(order)))
        changes.append((rid, tuple(p for p in order if p in changed)))
        breaks.append((rid, tuple(p for p in parts if p in broken)))
    return DependencyAudit(tuple(ids), parts, tuple(uses), tuple(changes), tuple(breaks),
                           tuple(dict.fromkeys(tainted)))


def audit(ids: Iterable[str] = IDS, base: AxiomSet = DEFAULT_AXIOMS,
          progress: Callable[[str], None] | None = None) -> DependencyAudit:
    """Audit which named axiom parts each result in ``ids`` uses (see the module docstring).

    Slow-ish (every result derived once more, and again per part where the joint
    perturbation breaks a route); ``spectral-edge derive --dependencies`` runs it.

    Args:
        ids: The results to audit.
        base: The axiom set whose parts are perturbed.
        progress: Called with each result id as its audit starts (a progress bar).

    Returns:
        The audit (cached per ids, base and progress callback).
    """
    return _audit(tuple(i.strip().upper() for i in ids), base, progress)


@dataclass(frozen=True)
class VariantOutcome:
    """One result under a variant: ``status`` is ``"survives"``, ``"changes"`` or
    ``"underivable"``; ``result`` the variant's own derived form (None when underivable),
    ``reason`` the A1–A3 claims that no longer hold or the error, ``outputs`` the derived
    outputs whose form differs from A1–A3's."""

    id: str
    status: str
    result: sp.Basic | None
    reason: str
    outputs: tuple[tuple[str, sp.Basic], ...] = ()


@dataclass(frozen=True)
class VariantComparison:
    """Every result re-derived under the axiom set ``name``."""

    name: str
    description: str
    outcomes: tuple[VariantOutcome, ...]

    def by_status(self, status: str) -> tuple[str, ...]:
        """Ids of the results with this status."""
        return tuple(o.id for o in self.outcomes if o.status == status)


def compare_variant(name: str, ids: Iterable[str] = IDS) -> VariantComparison:
    """Re-derive ``ids`` under the named variant and compare with A1–A3.

    ``ValueError`` for an unknown variant name.

    >>> cmp = compare_variant("a3-continuous", ["R1", "R5"])
    >>> cmp.by_status("changes"), cmp.by_status("survives")
    (('R1',), ('R5',))
    """
    axioms = variant(name)
    outcomes = []
    for rid in ids:
        base = derivation(rid)
        try:
            der = derivation(rid, axioms)
            check = der.check()
        except Exception as err:  # noqa: BLE001 - reported as underivable
            outcomes.append(VariantOutcome(rid, "underivable", None,
                                           " ".join(str(err).split())[:200]))
            continue
        same = der.result == base.result
        before = dict(base.outputs)
        differ = tuple((k, e) for k, e in der.outputs if k not in before or before[k] != e)
        if check.passed and same and not differ:
            outcomes.append(VariantOutcome(rid, "survives", der.result, ""))
        else:
            reason = "; ".join(check.failures) or "(none; the derived forms differ)"
            outcomes.append(VariantOutcome(rid, "changes", der.result, reason, differ))
    return VariantComparison(axioms.name, axioms.description, tuple(outcomes))
