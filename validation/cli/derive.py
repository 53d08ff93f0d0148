"""``spectral-edge derive``: run every derivation of :mod:`theory` and check it.

Prints, for each result R1–R12, the axioms it used, whether it is derived or partly stated
(what stays typed), the derived result and its check (the number of claims that hold, and
the residual of the first one that does not); results are drawn by SymPy's unicode pretty
printer under plain symbol names (docs/spec.md's notation table). ``--only R2`` (repeatable,
or comma-separated) restricts the run; ``--steps`` prints every step; ``--latex`` writes the
derivations as Markdown with LaTeX maths to ``--out`` (default ``docs/theory.md``);
``--json`` prints one JSON document instead: per result ``id``, ``status``, ``check``,
``relation`` and ``lhs``/``rhs`` as ``sympy.srepr`` strings with plain ASCII symbol names,
which ``sympy.sympify`` reads back.

``--dependencies`` runs the dependency audit (:mod:`spectral_edge.theory.audit`, about a
minute): every
named part of every axiom is perturbed and the results × axiom-parts matrix is printed; a
result whose ``axioms`` label differs from what the audit finds is reported and fails.
``--axioms NAME`` re-derives every result under a named variant of the axioms
(``a1-cross-curvature``, ``a2-noiseless``, ``a2-momentum``, ``a3-continuous``,
``a3-sliding``) and prints which results survive, which change (with the variant's own
result and the derived outputs that differ) and which can no longer be derived.
Contradictory or unused flags are refused (exit 2): ``--out`` without ``--latex``;
``--dependencies``, ``--latex``, ``--json`` or ``--steps`` with ``--axioms``; ``--steps`` or
``--latex`` or ``--dependencies`` with ``--json``.

A derivation that raises is reported as an error and the others still run. Exit status 0 if
every check passes, 1 otherwise, 2 for an unknown id or variant, an ``--only`` naming no id,
or an unwritable output (checked before deriving). Imports SymPy and NumPy only, never torch.

>>> from spectral_edge.validation.cli import main
>>> main(["derive", "--only", "R9"])  # doctest: +ELLIPSIS
R9  Adiabatic parameter  [axioms: A1, A2, A3]  partly stated
...
0
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import time
from pathlib import Path

import sympy as sp

from spectral_edge.common.atomic import write_text
from spectral_edge.common.errors import InputError
from spectral_edge.common.outfile import check_output_file
from spectral_edge.theory.derivation import Check, Derivation
from spectral_edge.theory.registry import IDS, derivation
from spectral_edge.theory.render import plain, pretty, result_record, theory_markdown

DEFAULT_OUT = Path("docs") / "theory.md"
_MAX_PRINT = 600


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
    parser.add_argument("--out", type=Path, default=None,
                        help=f"file written by --latex (default {DEFAULT_OUT})")
    parser.add_argument("--json", action="store_true",
                        help="print the results as JSON (srepr strings, plain symbol names)")
    parser.add_argument("--dependencies", action="store_true",
                        help="audit which axiom parts each result uses (perturbation; ~1 min)")
    parser.add_argument("--axioms", metavar="NAME",
                        help="re-derive under a named axiom variant and compare with A1-A3")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="processes deriving at once (default: 2 where there are 2 cores)")
    parser.set_defaults(func=execute)


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


def _short(expr: sp.Basic) -> str:
    try:
        text = sp.sstr(plain(expr))
    except ValueError:
        text = sp.sstr(expr)
    return text if len(text) <= _MAX_PRINT else text[:_MAX_PRINT] + f" … ({len(text)} chars)"


def _one_line(err: BaseException) -> str:
    return " ".join(f"{type(err).__name__}: {err}".split())[:300]


def _variant(name: str, ids: list[str]) -> int:
    from spectral_edge.theory.audit import compare_variant

    cmp = compare_variant(name, ids)
    print(f"axioms: {cmp.name} — {cmp.description}")
    for status in ("survives", "changes", "underivable"):
        print(f"{status}: {', '.join(cmp.by_status(status)) or '(none)'}")
    for outcome in cmp.outcomes:
        if outcome.status == "changes":
            print(f"  {outcome.id} under {cmp.name}:")
            print(_indent(pretty(outcome.result), 6))
            for key, expr in outcome.outputs:
                print(f"      output {key} = {_short(expr)}")
            print(f"      A1-A3 claims that no longer hold: {outcome.reason[:300]}")
        elif outcome.status == "underivable":
            print(f"  {outcome.id} cannot be derived: {outcome.reason}")
    return 0


def _indent(text: str, width: int) -> str:
    return "\n".join(" " * width + line for line in text.splitlines())


def _dependencies(ids: list[str]) -> int:
    from tqdm import tqdm

    from spectral_edge.theory.audit import audit

    with tqdm(total=len(ids), desc="audit", unit="result", leave=False) as bar:
        def step(rid: str) -> None:
            bar.set_postfix_str(rid)
            bar.update(1)

        report = audit(ids, progress=step)
    print(report.matrix())
    wrong = 0
    for key in ids:
        try:
            label = derivation(key).axioms
        except Exception as err:  # noqa: BLE001 - reported, the others still run
            print(f"{key}: error: {_one_line(err)}")
            wrong += 1
            continue
        found = report.axioms_used(key)
        if tuple(label) != found:
            wrong += 1
            print(f"{key}: label [{', '.join(label)}] differs from the audit [{', '.join(found)}]")
    for rid, claim in report.tainted_claims:
        wrong += 1
        print(f"{rid}: stated side of '{claim}' is reached by an axiom (not typed independently)")
    print("labels: every label agrees with the audit" if not wrong
          else f"labels: {wrong} disagreement(s) with the audit")
    return 0 if not wrong else 1


#: Results that reuse R1/R2/R3 (cached once per process): derived in the same process, so
#: none of them is derived twice (R9 reads R2's damping, R8 reads R1).
_CHAINED = ("R1", "R3", "R2", "R4", "R8", "R9", "R12")

Derived = tuple[str, Derivation | None, Check | None, str | None]


def _derive_group(keys: list[str]) -> list[Derived]:
    """``(id, derivation, check, None)``, or ``(id, None, None, error)`` when it raised."""
    out: list[Derived] = []
    for key in keys:
        try:
            der = derivation(key)
            out.append((key, der, der.check(), None))
        except Exception as err:  # noqa: BLE001 - one broken derivation must not stop the rest
            out.append((key, None, None, _one_line(err)))
    return out


def _derive_all(ids: list[str], jobs: int) -> list[Derived]:
    """Every selected result, in ``ids`` order. With ``jobs`` ≥ 2 (and ``fork``, so the
    worker starts with SymPy and theory imported) the results that do not build on R1/R3
    are derived in a second process while this one derives the chained ones."""
    chained = [k for k in ids if k in _CHAINED]
    rest = [k for k in ids if k not in _CHAINED]
    if jobs < 2 or not chained or not rest or "fork" not in mp.get_all_start_methods():
        done = _derive_group(ids)
    else:
        with mp.get_context("fork").Pool(1) as pool:
            other = pool.apply_async(_derive_group, (rest,))
            done = _derive_group(chained) + other.get()
    by_id = {item[0]: item for item in done}
    return [by_id[k] for k in ids]


def _refuse_conflicts(args: argparse.Namespace) -> None:
    """``InputError`` for flags that contradict each other or would be ignored."""
    if args.out is not None and not args.latex:
        raise InputError("--out names the file --latex writes; give --latex too")
    pairs = (("axioms", ("dependencies", "latex", "json", "steps", "jobs")),
             ("json", ("steps", "latex", "dependencies")))
    for main_flag, others in pairs:
        if getattr(args, main_flag) in (None, False):
            continue
        for other in others:
            if getattr(args, other) not in (None, False):
                raise InputError(f"--{main_flag} cannot be combined with --{other}")


def _print_one(der: Derivation, outcome: Check, steps: bool) -> None:
    used = ", ".join(der.axioms) or "none"
    print(f"{der.id}  {der.title}  [axioms: {used}]  {der.status}")
    for item in der.typed:
        print(f"    typed, not derived: {item}")
    if steps:
        for number, step in enumerate(der.steps, start=1):
            print(f"    {number:2d}. {step.description}")
            print(f"        {_short(step.expr)}")
    print("    result:")
    print(_indent(pretty(der.result), 6))
    held = len(der.claims) - len(outcome.failures)
    if outcome.passed:
        print(f"    check: passed ({held}/{len(der.claims)} claims hold)")
    else:
        print(f"    check: FAILED ({held}/{len(der.claims)} claims hold)")
        for failure in outcome.failures:
            print(f"        fails: {failure}")
        print(f"        residual: {_short(outcome.residual)}")
    if der.noise_model:
        print(f"    noise model: {der.noise_model}")
    if der.notes:
        print(f"    note: {der.notes}")


def execute(args: argparse.Namespace) -> int:
    """Derive and check the selected results.

    Args:
        args: The parsed ``derive`` arguments.

    Returns:
        0 if every check passes (and the audit agrees), 1 otherwise.

    Raises:
        InputError: For an unknown id or variant, contradictory flags, ``--jobs`` < 1 or
            an unwritable ``--out``.
    """
    start = time.perf_counter()
    _refuse_conflicts(args)
    ids = _selected(args.only)
    if args.axioms is not None:
        from spectral_edge.theory.axioms import variant

        variant(args.axioms)  # ValueError (exit 2) for an unknown name, before any work
        status = _variant(args.axioms, ids)
        print(f"done in {time.perf_counter() - start:.1f} s")
        return status
    out_file = args.out if args.out is not None else DEFAULT_OUT
    if args.latex:
        check_output_file(out_file, "--out", make_parents=True)
    jobs = args.jobs if args.jobs is not None else min(2, os.cpu_count() or 1)
    if jobs < 1:
        raise InputError(f"--jobs must be >= 1, got {jobs}")
    derivations, outcomes, errors, records = [], {}, [], []
    for key, der, outcome, error in _derive_all(ids, jobs):
        if error is not None:
            errors.append(key)
            records.append({"id": key, "status": "error", "check": "error", "error": error})
            if not args.json:
                print(f"{key}  error: {error}")
            continue
        derivations.append(der)
        outcomes[key] = outcome
        if args.json:
            records.append(result_record(der, outcome.passed))
        else:
            _print_one(der, outcome, args.steps)
    passed = sum(outcome.passed for outcome in outcomes.values())
    if args.json:
        print(json.dumps({"results": records}, ensure_ascii=True, indent=1))
        return 0 if passed == len(ids) and not errors else 1
    if args.latex and not errors:
        write_text(out_file, theory_markdown(derivations, outcomes))
        print(f"wrote {out_file}")
    elif args.latex:
        print(f"not writing {out_file}: {len(errors)} derivation(s) raised")
    status = _dependencies(ids) if args.dependencies else 0
    elapsed = time.perf_counter() - start
    tail = f", {len(errors)} raised" if errors else ""
    print(f"{passed}/{len(ids)} checks passed{tail} in {elapsed:.1f} s")
    ok = passed == len(ids) and not errors and status == 0
    return 0 if ok else 1
