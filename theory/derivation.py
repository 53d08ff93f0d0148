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


def named_item(pairs: tuple[tuple[str, sp.Basic], ...], name: str, owner: str) -> sp.Basic:
    """The value stored under ``name`` in ``(name, value)`` pairs (an axiom's relations, a
    derivation's outputs).

    Args:
        pairs: The named values.
        name: The name to look up.
        owner: What holds them and what they are, for the error (``"axiom A2 has no
            relation"``).

    Returns:
        The value.

    Raises:
        ValueError: If no pair has this name; the message lists the known names.

    >>> import sympy as sp
    >>> named_item((("one", sp.Integer(1)),), "one", "table has no entry")
    1
    >>> named_item((("one", sp.Integer(1)),), "two", "table has no entry")
    Traceback (most recent call last):
    ...
    ValueError: table has no entry 'two' (known: one)
    """
    for key, value in pairs:
        if key == name:
            return value
    known = ", ".join(key for key, _ in pairs)
    raise ValueError(f"{owner} {name!r} (known: {known})")


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
            for attempt in (sp.expand, sp.radsimp, sp.simplify):  # cheap forms first
                value = attempt(value)
                if value.is_zero is not None:
                    break
            return bool(value.is_zero is False), value
        if self.kind == "equal":
            if isinstance(diff, sp.MatrixBase):
                residual = diff.applyfunc(_simplify)
                return bool(residual.is_zero_matrix), residual
            residual = _simplify(diff)
            return bool(residual == 0), residual
        attribute = f"is_{self.kind}"
        for form in (lambda: diff, lambda: sp.factor(diff), lambda: sp.simplify(diff)):
            value = form()  # each form only if the cheaper ones did not decide the sign
            if getattr(value, attribute):
                return True, value
        return False, diff


def _expanded_numerator(expr: sp.Basic) -> sp.Basic:
    """The numerator of ``together(expr)``, expanded: 0 exactly when ``expr`` is 0 as a
    rational function of its atoms (far cheaper than ``cancel``, which computes a gcd)."""
    return sp.expand(sp.fraction(sp.together(expr))[0])


def _simplify(expr: sp.Basic) -> sp.Basic:
    """Cheap normal forms first (rational cancellation), full ``simplify`` only if needed.

    The numerator of ``together`` is tried before and after ``expand`` (expanding a sum of
    fractions first is often the dearest step; some radicals and powers need it)."""
    expr = sp.sympify(expr)
    if expr == 0 or _expanded_numerator(expr) == 0:
        return sp.Integer(0)
    expr = sp.expand(expr)
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
        return named_item(self.outputs, name, f"derivation {self.id} has no output")

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
    >>> positive_root([-sp.sqrt(a), sp.sqrt(a)])
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


def linear_solve(equation: sp.Basic, unknown: sp.Basic) -> sp.Basic:
    """Solve an equation that is linear in ``unknown`` (a symbol, or a derivative such as
    ``d'(t)``) by direct algebra: ``a·unknown + b = 0`` gives ``−b/a``.

    Args:
        equation: An ``Eq`` or an expression meaning ``expression = 0``.
        unknown: What to solve for.

    Returns:
        The solution, cancelled and expanded into a sum of terms.

    Raises:
        ValueError: If the equation is not linear in ``unknown`` (or does not contain it).

    >>> import sympy as sp
    >>> a, b, z = sp.symbols("a b z", positive=True)
    >>> linear_solve(sp.Eq(a * z + b, 2 * b), z)
    b/a
    >>> linear_solve(z**2 - a, z)
    Traceback (most recent call last):
    ...
    ValueError: not linear in z: -a + z**2
    """
    expr = equation.lhs - equation.rhs if isinstance(equation, sp.Equality) else equation
    marker = sp.Dummy("unknown")
    expr = sp.expand(sp.sympify(expr).subs(unknown, marker))
    slope = sp.diff(expr, marker)
    if slope.has(marker) or slope == 0 or expr.subs(marker, 0).has(marker):
        raise ValueError(f"not linear in {unknown}: {expr.subs(marker, unknown)}")
    return sp.expand(sp.cancel(-expr.subs(marker, 0) / slope))


def numerator_roots(expr: sp.Basic, var: sp.Symbol) -> list[sp.Basic]:
    """The distinct roots of the numerator of ``together(expr)`` as a polynomial in ``var``
    (solved over the complex numbers by :func:`sympy.roots`; ``var``'s own assumptions do
    not filter them). These are the zeros of ``expr`` where its denominator does not vanish.

    Args:
        expr: A rational function of ``var`` (its coefficients may hold other symbols).
        var: The variable.

    Returns:
        The distinct roots, in SymPy's order.

    Raises:
        ValueError: If the numerator is not a polynomial in ``var`` of degree ≥ 1, or SymPy
            cannot give all of its roots in closed form.

    >>> import sympy as sp
    >>> a, z = sp.symbols("a z", positive=True)
    >>> numerator_roots(z - a / z, z)
    [-sqrt(a), sqrt(a)]
    >>> numerator_roots((z - a) ** 2, z)
    [a]
    >>> numerator_roots(z**2 - 2 * sp.sqrt(a) * z + a, z)
    [sqrt(a)]
    """
    free = sp.Dummy("z")
    numerator = sp.fraction(sp.together(sp.sympify(expr)))[0].subs(var, free)
    # Radicals in the coefficients (√P) become symbols while the roots are found, so the
    # coefficients form a polynomial domain (SymPy's root formulas then factor instead of
    # calling simplify); the root formulas hold for any coefficients, so they are put back.
    radicals = {p: sp.Dummy(positive=True) if p.is_positive else sp.Dummy()
                for p in numerator.atoms(sp.Pow) if not p.exp.is_Integer and not p.has(free)}
    poly = sp.Poly(numerator.xreplace(radicals), free)
    if poly.degree() < 1 or any(co.has(free) for co in poly.all_coeffs()):
        raise ValueError(f"not a polynomial equation in {var}: {expr}")
    found = sp.roots(poly)
    if sum(found.values()) != poly.degree():
        raise ValueError(f"SymPy found only some roots in {var} of {expr}")
    back = {dummy: radical for radical, dummy in radicals.items()}
    # roots that differ as formulas may coincide once the radicals are back (a double root)
    return list(dict.fromkeys(root.xreplace(back).subs(free, var) for root in found))


def positive_zero(expr: sp.Basic, var: sp.Symbol) -> sp.Basic:
    """The one positive zero of ``expr`` in ``var``: :func:`positive_root` of
    :func:`numerator_roots`.

    Args:
        expr: A rational function of ``var``.
        var: The variable.

    Returns:
        The root that is positive when every free symbol is positive.

    Raises:
        ValueError: If the numerator is not a polynomial in ``var`` or not exactly one root
            is positive.

    >>> import sympy as sp
    >>> a, z = sp.symbols("a z", positive=True)
    >>> positive_zero(z - a / z, z)
    sqrt(a)
    """
    return positive_root(numerator_roots(expr, var))


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

    def derivation(self, result_id: str, title: str, axioms: tuple[str, ...],
                   **fields: object) -> Derivation:
        """The :class:`Derivation` with these steps.

        Args:
            result_id: The result's id (``"R1"`` …).
            title: Its title.
            axioms: The ids of the axioms it uses.
            **fields: The other fields of :class:`Derivation` (``result``, ``claims`` and
                optionally ``outputs``, ``notes``, ``typed``, ``noise_model``).

        Returns:
            The record, with ``steps`` taken from this log.

        Raises:
            TypeError: For a missing or unknown field.

        >>> import sympy as sp
        >>> log = StepLog()
        >>> one = log.add("one", sp.Integer(1))
        >>> der = log.derivation("RX", "example", (), result=one, claims=())
        >>> (der.id, len(der.steps))
        ('RX', 1)
        """
        return Derivation(id=result_id, title=title, axioms=axioms, steps=self.steps,
                          **fields)  # type: ignore[arg-type]
