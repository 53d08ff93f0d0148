"""Derivations as Markdown with LaTeX maths (``docs/theory.md``), as plain-named SymPy for
the terminal and JSON, docs/spec.md §4–5.

``spectral-edge derive --latex`` writes :func:`theory_markdown` of every derivation to
``docs/theory.md``; :func:`derivation_markdown` renders one derivation (axioms used,
numbered steps, result, claims and the outcome of its check). :func:`plain` renames the
symbols whose names are LaTeX (``\\dot{g}``, ``\\bar{d}``) to the plain ASCII names of
:data:`ASCII_NAMES` (listed in docs/spec.md's notation table), :func:`pretty` prints an
expression with SymPy's unicode pretty printer, and :func:`result_record` is the JSON record
``derive --json`` prints (``sympy.srepr`` strings that ``sympy.sympify`` reads back).

>>> from spectral_edge.theory.registry import derivation
>>> derivation_markdown(derivation("R10")).splitlines()[0]
'## R10 — BBP threshold and its vacuity'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import sympy as sp

from spectral_edge.theory.axioms import AXIOMS, Axiom
from spectral_edge.theory.derivation import Check, Derivation

__all__ = ["ASCII_NAMES", "derivation_markdown", "plain", "pretty", "result_record",
           "theory_markdown"]

ASCII_NAMES: dict[str, str] = {
    r"\dot{d}_j": "ddot_j", r"\dot{g}": "gdot", r"\dot{\lambda}_j": "lambdadot_j",
    "g^*": "g_star", "k^*": "k_star", r"\rho_c": "rho_c", r"\|\Delta{C}\|": "dC",
    r"\Delta L'": "Delta_L_val", r"(\bar{h}+\omega)": "hw", r"\Delta{h}": "Delta_h",
    r"\bar{d}": "dbar", r"\bar{h}": "hbar", r"\beta_{k}": "beta_k", r"\Gamma": "Gamma",
    r"\lambda": "lambda", r"\sigma": "sigma", r"\theta": "theta",
    r"\cos^{2}\theta": "cos2_theta", "G^{eff}": "G_eff", "G^{val}": "G_val",
    r"\operatorname{argmax}_j": "argmax_j",
}
"""LaTeX symbol names used inside ``theory`` → the plain ASCII names a user sees."""

_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def _ascii(name: str) -> str:
    new = ASCII_NAMES.get(name, name)
    if not _PLAIN.match(new):
        raise ValueError(f"symbol {name!r} has no plain ASCII name (add it to ASCII_NAMES)")
    return new


def plain(expr: sp.Basic) -> sp.Basic:
    r"""``expr`` with every symbol, indexed base and undefined function renamed to its plain
    ASCII name (assumptions kept).

    Args:
        expr: Any SymPy expression of a derivation.

    Returns:
        The same expression under plain names.

    Raises:
        ValueError: If a name has no plain form, or two names would merge into one.

    >>> plain(sp.Symbol(r"\dot{g}") - sp.Symbol(r"\bar{d}", positive=True))
    -dbar + gdot
    """
    expr = sp.sympify(expr)
    swap: dict[sp.Basic, sp.Basic] = {}
    for base in expr.atoms(sp.IndexedBase):
        swap[base] = sp.IndexedBase(_ascii(str(base.label)))
    for sym in expr.atoms(sp.Symbol):
        if not any(sym == b.label for b in expr.atoms(sp.IndexedBase)):
            given = getattr(sym, "_assumptions_orig", sym.assumptions0)
            swap[sym] = sp.Symbol(_ascii(sym.name), **given)
    names = [str(v.label if isinstance(v, sp.IndexedBase) else v) for v in swap.values()]
    if len(set(names)) != len(names):
        raise ValueError(f"plain names collide in {expr}")
    out = expr.xreplace(swap)
    for fn in out.atoms(sp.Function):
        if isinstance(fn.func, sp.core.function.UndefinedFunction):
            new = _ascii(fn.func.__name__)
            if new != fn.func.__name__:
                out = out.replace(fn.func, sp.Function(new))
    return out


def pretty(expr: sp.Basic, width: int = 92) -> str:
    """``expr`` under plain names, drawn by SymPy's unicode pretty printer.

    >>> print(pretty(sp.Symbol("eta") * sp.Symbol("N_k")))
    Nₖ⋅η
    """
    return sp.pretty(plain(expr), use_unicode=True, num_columns=width)


def result_record(der: Derivation, passed: bool) -> dict[str, str]:
    """The JSON record of one derivation: ``id``, ``status``, ``check`` and its result's
    ``relation``, ``lhs``, ``rhs`` as ``sympy.srepr`` strings of plain-named expressions (a
    result that is not a relation has ``lhs`` the symbol ``result``).

    Args:
        der: The derivation.
        passed: Whether its check passed.

    Returns:
        The record, every value a string.

    >>> from spectral_edge.theory.registry import derivation
    >>> rec = result_record(derivation("R9"), True)
    >>> sp.sympify(rec["rhs"])
    dC/(eta*g**2)
    """
    result = plain(der.result)
    if isinstance(result, sp.Rel):
        relation, lhs, rhs = type(result).__name__, result.lhs, result.rhs
    else:
        relation, lhs, rhs = type(result).__name__, sp.Symbol("result"), result
    return {"id": der.id, "status": der.status, "check": "passed" if passed else "failed",
            "relation": relation, "lhs": sp.srepr(lhs), "rhs": sp.srepr(rhs)}


def _axiom_markdown(ax: Axiom) -> str:
    lines = [f"### {ax.id} — {ax.name}", "", ax.statement, ""]
    for name, relation in ax.relations:
        lines.append(f"* `{name}`: ${sp.latex(relation)}$")
    return "\n".join(lines) + "\n"


_MAX_LATEX = 400


def _math(expr: sp.Basic) -> str:
    """``$...$`` of ``expr``, or a short placeholder when its LaTeX is too long to read."""
    text = sp.latex(expr)
    if len(text) > _MAX_LATEX:
        return f"*(a {len(text)}-character expression; `spectral-edge derive --steps` prints it)*"
    return f"${text}$"


def derivation_markdown(der: Derivation, outcome: Check | None = None) -> str:
    """One derivation as Markdown: axioms used, numbered steps, result, claims, check.

    ``outcome`` is the result of ``der.check()`` when the caller already has it (the
    check is run here otherwise).

    >>> from spectral_edge.theory.registry import derivation
    >>> text = derivation_markdown(derivation("R1"))
    >>> text.splitlines()[0]
    '## R1 — Signal-strength flow'
    """
    outcome = outcome if outcome is not None else der.check()
    used = ", ".join(der.axioms) or "none (pure mathematics or cited input)"
    lines = [f"## {der.id} — {der.title}", "", f"Axioms used: {used}.", "",
             f"Status: {der.status}."]
    lines += [f"* typed, not derived: {item}" for item in der.typed]
    lines.append("")
    if der.noise_model:
        lines += [f"Noise model: {der.noise_model}.", ""]
    if der.notes:
        lines += [f"*Note.* {der.notes}", ""]
    lines += ["Steps:", ""]
    for number, step in enumerate(der.steps, start=1):
        math = _math(step.expr)
        shown = f"   $$ {math[1:-1]} $$" if math.startswith("$") else f"   {math}"
        lines += [f"{number}. {step.description}", "", shown, ""]
    lines += ["**Result.**", "", f"$$ {sp.latex(der.result)} $$", ""]
    lines += ["Claims, each a derived expression against docs/spec.md §4 typed independently:", ""]
    failed = set(outcome.failures)
    for claim in der.claims:
        mark = "**fails**" if claim.description in failed else "holds"
        lines.append(f"* {claim.description} ({claim.kind}) — {mark}")
        if claim.kind != "true":
            side = "stated (typed)" if claim.independent else "other derivation"
            lines.append(f"  * derived: {_math(claim.derived)}")
            lines.append(f"  * {side}: {_math(claim.stated)}")
    status = "passed" if outcome.passed else f"FAILED (residual ${sp.latex(outcome.residual)}$)"
    lines += ["", f"Check: {status}."]
    return "\n".join(lines) + "\n"


def theory_markdown(derivations: Iterable[Derivation],
                    outcomes: Mapping[str, Check] | None = None) -> str:
    """The whole theory document: the axioms, then every derivation.

    ``outcomes`` maps derivation ids to checks already computed (others are run here).

    >>> from spectral_edge.theory.registry import derivation
    >>> theory_markdown([derivation("R10")]).startswith("# Spectral edge theory")
    True
    """
    outcomes = outcomes or {}
    parts = [
        "# Spectral edge theory: axioms and derived results",
        "",
        "Generated by `spectral-edge derive --latex` from `theory/`; do not edit by hand. "
        "Every result below is derived by SymPy from the axioms; each claim compares a "
        "derived expression with the closed form of docs/spec.md §4 typed independently "
        "(equal: the simplified difference is 0; positive/negative/nonpositive: the sign "
        "follows from the symbols' assumptions; nonzero: the difference is evaluated exactly "
        "at a rational point; true: a derived statement evaluates to True).",
        "",
        "# Axioms",
        "",
    ]
    parts += [_axiom_markdown(ax) for ax in AXIOMS]
    derivations = list(derivations)
    parts += [
        "# Where our route departs from the published statements",
        "",
        "The closed forms of docs/spec.md §4 are reproduced exactly by the claims below, with "
        "these qualifications: where the route needs a modelling choice of ours (R1, R4, "
        "R8), an approximation (R6) or a cited input (R10), where a general statement is "
        "verified for small sizes only (R3, R7), and where we reach a weaker statement than "
        "the published one (R11: k* ≤ K + 1 instead of k* ≤ K).",
        "",
    ]
    parts += [f"* **{der.id}** — {der.notes}" for der in derivations if der.notes]
    parts += ["", "# Noise models", "",
              "A3 fixes how noise enters the window (its relation `noised_slots`). The default "
              "model re-noises every one of the W slots per unit time; the variant "
              "`a3-sliding` (`spectral-edge derive --axioms a3-sliding`) is the sliding window "
              "in mean field, where only the newest slot is new. The results that involve the "
              "noise use:", ""]
    parts += [f"* **{der.id}** — {der.noise_model}" for der in derivations if der.noise_model]
    parts += ["", "# Results", ""]
    parts += [derivation_markdown(der, outcomes.get(der.id)) for der in derivations]
    return "\n".join(parts)
