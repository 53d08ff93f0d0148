"""``spectral-edge derive``: run every derivation of :mod:`theory` and check it.

Prints, for each result R1–R12, the axioms it used, the derived result and its check
(the number of claims that hold, and the residual of the first one that does not).
``--only R2`` (repeatable, or comma-separated) restricts the run; ``--steps`` prints every
step; ``--latex`` writes the derivations as Markdown with LaTeX maths to ``--out``
(default ``docs/theory.md``). Exit status 0 if every check passes, 1 otherwise, 2 for an
unknown id, an ``--only`` naming no id, or an unwritable output (checked before deriving).
Imports SymPy and NumPy only, never torch.

>>> from validation.cli import main
>>> main(["derive", "--only", "R10"])  # doctest: +ELLIPSIS
R10  BBP threshold and its vacuity  [axioms: A2, A3]
...
0
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import sympy as sp

from numerics.atomic import write_text
from numerics.errors import InputError
from numerics.outfile import check_output_file
from theory.registry import IDS, derivation
from theory.render import theory_markdown

DEFAULT_OUT = Path("docs") / "theory.md"


def configure(parser: argparse.ArgumentParser) -> None:
    """The ``derive`` subcommand's arguments."""
    parser.add_argument(
        "--only",
        action="append",
        metavar="ID",
        help="derive only these results (e.g. R2, or R2,R4; repeatable)",
    )
    parser.add_argument("--steps", action="store_true", help="print every step of each derivation")
    parser.add_argument(
        "--latex",
        action="store_true",
        help=f"write the derivations as Markdown + LaTeX to --out (default {DEFAULT_OUT})",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="file written by --latex")
    parser.set_defaults(func=run)


def _selected(only: list[str] | None) -> list[str]:
    """The ids ``--only`` names (every id without ``--only``); ``InputError`` for an unknown
    id or an ``--only`` that names none (``--only ,``, ``--only ''``)."""
    if only is None:
        return list(IDS)
    ids = [part.strip().upper() for item in only for part in item.split(",") if part.strip()]
    if not ids:
        given = " ".join(repr(item) for item in only)
        raise InputError(f"--only names no derivation (got {given}); known: {', '.join(IDS)}")
    for key in ids:
        if key not in IDS:
            raise InputError(f"unknown derivation {key!r}; known: {', '.join(IDS)}")
    return list(dict.fromkeys(ids))


def run(args: argparse.Namespace) -> int:
    """Derive and check the selected results; 0 if every check passes, 1 otherwise."""
    start = time.perf_counter()
    ids = _selected(args.only)
    if args.latex:
        check_output_file(args.out, "--out", make_parents=True)
    derivations, outcomes = [], {}
    for key in ids:
        der = derivation(key)
        outcome = der.check()
        derivations.append(der)
        outcomes[key] = outcome
        print(f"{der.id}  {der.title}  [axioms: {', '.join(der.axioms)}]")
        if args.steps:
            for number, step in enumerate(der.steps, start=1):
                print(f"    {number:2d}. {step.description}")
                print(f"        {sp.sstr(step.expr)}")
        print(f"    result: {sp.sstr(der.result)}")
        held = len(der.claims) - len(outcome.failures)
        if outcome.passed:
            print(f"    check: passed ({held}/{len(der.claims)} claims hold)")
        else:
            print(f"    check: FAILED ({held}/{len(der.claims)} claims hold)")
            for failure in outcome.failures:
                print(f"        fails: {failure}")
            print(f"        residual: {sp.sstr(outcome.residual)}")
        if der.notes:
            print(f"    note: {der.notes}")
    if args.latex:
        write_text(args.out, theory_markdown(derivations, outcomes))
        print(f"wrote {args.out}")
    passed = sum(outcome.passed for outcome in outcomes.values())
    elapsed = time.perf_counter() - start
    print(f"{passed}/{len(outcomes)} checks passed in {elapsed:.1f} s")
    return 0 if passed == len(outcomes) else 1
