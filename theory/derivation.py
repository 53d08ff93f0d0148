"""The :class:`Derivation` record: axioms used, ordered SymPy steps, the result, its check.

A derivation is built by a function in one of the family modules (``signal_flow``,
``gap_flow``, ...), which does the symbolic work and records each intermediate expression as
a :class:`Step`. Its :class:`Claim` objects pair a *derived* expression with the closed form
of docs/spec.md §4, typed independently in the family module; :meth:`Derivation.check` decides
each claim (``simplify(derived − stated) == 0``, or the sign of an expression for an
inequality) and returns a :class:`Check`.

>>> import sympy as sp
>>> a = sp.Symbol("a", positive=True)
>>> step = Step("square of a sum", sp.expand((a + 1) ** 2))
>>> claim = Claim("binomial formula", step.expr, a**2 + 2 * a + 1)
>>> der = Derivation("RX", "example", ("A1",), (step,), step.expr, (claim,))
>>> der.check()
Check(passed=True, residual=0, failures=())
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import sympy as sp

ClaimKind = Literal["equal", "nonzero", "positive", "negative", "nonpositive", "nonnegative",
                    "true"]


@dataclass(frozen=True)
class Step:
    """One step of a derivation: what was done, and the expression it produced."""

    description: str
    expr: sp.Basic


@dataclass(frozen=True)
class Claim:
    """A derived expression and what docs/spec.md §4 states about it.

    ``kind`` says how :meth:`decide` judges the claim:

    * ``"equal"``: ``simplify(derived − stated) == 0`` (``stated`` is the typed closed form);
    * ``"nonzero"``: ``derived − stated`` is *not* identically zero (it is evaluated exactly
      at the rational point ``witness`` and must not vanish there);
    * ``"positive"``, ``"negative"``, ``"nonpositive"``, ``"nonnegative"``: the sign of
      ``derived − stated`` follows from the symbols' assumptions (an inequality);
    * ``"true"``: ``derived`` is a SymPy boolean that must be ``True``.

    ``independent`` is False for a consistency check between two derivations (both sides
    derived, e.g. R4's β against R3's); otherwise ``stated`` is typed independently of the
    axioms, which the dependency audit verifies (a perturbed axiom must never reach it).

    >>> import sympy as sp
    >>> a = sp.Symbol("a", positive=True)
    >>> Claim("a² + 1 exceeds 0", a**2 + 1, sp.Integer(0), "positive").decide()
    (True, a**2 + 1)
    """

    description: str
    derived: sp.Basic
    stated: sp.Basic
    kind: ClaimKind = "equal"
    witness: tuple[tuple[sp.Symbol, sp.Rational], ...] = ()
    independent: bool = True

    def decide(self) -> tuple[bool, sp.Basic]:
        """Return ``(holds, residual)`` for this claim; see the class docstring."""
        if self.kind == "true":
            return bool(self.derived == sp.true), self.derived
        diff = sp.sympify(self.derived) - sp.sympify(self.stated)
        if self.kind == "nonzero":
            value = sp.nsimplify(diff.subs(dict(self.witness)))
            value = sp.simplify(value)
            return bool(value.is_zero is False), value
        if self.kind == "equal":
            if isinstance(diff, sp.MatrixBase):
                residual = diff.applyfunc(_simplify)
                return bool(residual.is_zero_matrix), residual
            residual = _simplify(diff)
            return bool(residual == 0), residual
        attribute = f"is_{self.kind}"
        for form in (diff, sp.factor(diff), sp.simplify(diff)):
            if getattr(form, attribute):
                return True, form
        return False, diff


def _expanded_numerator(expr: sp.Basic) -> sp.Basic:
    """The numerator of ``together(expr)``, expanded: 0 exactly when ``expr`` is 0 as a
    rational function of its atoms (far cheaper than ``cancel``, which computes a gcd)."""
    return sp.expand(sp.fraction(sp.together(expr))[0])


def _simplify(expr: sp.Basic) -> sp.Basic:
    """Cheap normal forms first (rational cancellation), full ``simplify`` only if needed."""
    expr = sp.expand(sp.sympify(expr))
    if expr == 0 or _expanded_numerator(expr) == 0:
        return sp.Integer(0)
    for attempt in (sp.cancel, sp.radsimp, sp.simplify):
        expr = attempt(expr)
        if expr == 0:
            return sp.Integer(0)
    return expr


@dataclass(frozen=True)
class Check:
    """The outcome of :meth:`Derivation.check`.

    ``residual`` is the first failing claim's residual (0 when every claim holds);
    ``failures`` lists the descriptions of the claims that do not hold.
    """

    passed: bool
    residual: sp.Basic
    failures: tuple[str, ...] = ()


@dataclass(frozen=True)
class Derivation:
    """One result of docs/spec.md §4, derived from the axioms.

    ``steps`` are in order; ``result`` is the derived closed form (usually an ``Eq``);
    ``claims`` compare derived expressions with the independently typed closed forms of
    docs/spec.md §4; ``outputs`` names derived expressions other code uses (the right-hand sides
    :mod:`spectral_edge.theory.lambdified` lambdifies); ``notes`` records where our route
    departs from the
    published statement; ``typed`` lists what stays typed rather than derived;
    ``noise_model`` states which noise model a result that involves the noise uses.
    """

    id: str
    title: str
    axioms: tuple[str, ...]
    steps: tuple[Step, ...]
    result: sp.Basic
    claims: tuple[Claim, ...]
    outputs: tuple[tuple[str, sp.Basic], ...] = ()
    notes: str = ""
    typed: tuple[str, ...] = ()
    noise_model: str = ""

    @property
    def status(self) -> str:
        """``"derived"``, or ``"partly stated"`` when ``typed`` lists statements that stay
        typed (a definition, a cited formula, a statement assembled by hand)."""
        return "partly stated" if self.typed else "derived"

    def output(self, name: str) -> sp.Basic:
        """The derived expression called ``name``; ``ValueError`` if there is none."""
        for key, expr in self.outputs:
            if key == name:
                return expr
        known = ", ".join(key for key, _ in self.outputs)
        raise ValueError(f"derivation {self.id} has no output {name!r} (known: {known})")

    def check(self) -> Check:
        """Decide every claim; ``passed`` only if all hold."""
        failures: list[str] = []
        residual: sp.Basic = sp.Integer(0)
        for claim in self.claims:
            holds, res = claim.decide()
            if not holds:
                if not failures:
                    residual = res
                failures.append(claim.description)
        return Check(passed=not failures, residual=residual, failures=tuple(failures))


def positive_root(roots: list[sp.Basic]) -> sp.Basic:
    """The one root that is positive when every free symbol is positive.

    Each symbol is replaced by a positive dummy and SymPy's assumption system decides the
    sign; exactly one root must come out positive, otherwise ``ValueError``.

    >>> import sympy as sp
    >>> a, z = sp.symbols("a z")
    >>> positive_root(sp.solve(z**2 - a, z))
    sqrt(a)
    """
    chosen = []
    for root in roots:
        positive = {sym: sp.Dummy(positive=True) for sym in root.free_symbols}
        if root.xreplace(positive).is_positive:
            chosen.append(root)
    if len(chosen) != 1:
        raise ValueError(f"expected exactly one positive root among {roots}")
    return chosen[0]


class StepLog:
    """Collects the steps of a derivation while it is being built.

    >>> import sympy as sp
    >>> log = StepLog()
    >>> log.add("one", sp.Integer(1))
    1
    >>> [st.description for st in log.steps]
    ['one']
    """

    def __init__(self) -> None:
        self._steps: list[Step] = []

    def add(self, description: str, expr: sp.Basic) -> sp.Basic:
        """Record ``expr`` under ``description`` and return it unchanged."""
        self._steps.append(Step(description, expr))
        return expr

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(self._steps)
