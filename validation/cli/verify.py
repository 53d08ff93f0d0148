"""``spectral-edge verify``: the theorems' consequences as property-based tests.

Each consequence of :mod:`spectral_edge.numerics.consequences` (Davis–Kahan, R1's stable steady
state, R3's ordered levels, R4's equilibrium, R6's loss interval, R7's block invariance, R8's
threshold, the α hierarchy, R11's bound under scale separation, R10's scaling) is searched for a
counterexample with Hypothesis, and so is each one's **negative control** (a deliberately false
variant that must be falsified). Per consequence it prints the expected and the found outcome
(``held`` with the number of examples tried, or ``falsified`` with the shrunk minimal
counterexample, reproducible from ``--seed``).

``--only R11`` (repeatable, or comma-separated) restricts the run to the consequences of
those results; ``--examples N`` (default 100, at most 100,000) examples per consequence;
``--seed S`` (default 0); ``--json`` prints one JSON document instead (per consequence
``name``, ``result``, ``expected``, ``outcome``, ``examples``, ``counterexample``). Exit status
0 exactly when every outcome equals its expectation, 1 otherwise, 2 for bad input. Never
imports torch.

>>> from spectral_edge.validation.cli import main
>>> main(["verify", "--only", "R10", "--examples", "20"])  # doctest: +ELLIPSIS
R10 scaling  [R10]  expected held: held (20 examples, ...)
...
0
"""

from __future__ import annotations

import argparse
import json
import time


def configure(parser: argparse.ArgumentParser) -> None:
    """The ``verify`` subcommand's arguments.

    Args:
        parser: The subcommand's parser, filled in place.
    """
    parser.add_argument("--only", action="append", metavar="ID",
                        help="only the consequences of these results (e.g. R11; repeatable)")
    parser.add_argument("--examples", type=int, default=100,
                        help="examples per consequence (default 100, at most 100,000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the search (default 0)")
    parser.add_argument("--json", action="store_true",
                        help="print the outcomes as one JSON document")
    parser.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Run the consequences and their controls.

    Args:
        args: The parsed ``verify`` arguments.

    Returns:
        0 when every outcome equals its expectation, 1 otherwise.
    """
    from spectral_edge.numerics.consequences import verify

    start = time.perf_counter()
    outcomes = verify(args.only, args.examples, args.seed)
    good = sum(o.ok for o in outcomes)
    if args.json:
        doc = {"seed": args.seed, "examples": args.examples, "ok": good == len(outcomes),
               "consequences": [o.as_json() for o in outcomes]}
        print(json.dumps(doc, ensure_ascii=False, allow_nan=False, indent=1))
        return 0 if good == len(outcomes) else 1
    for o in outcomes:
        mark = "" if o.ok else "  <-- UNEXPECTED"
        if o.held:
            print(f"{o.id}  [{o.result}]  expected {o.expected}: held ({o.examples} examples, "
                  f"{o.seconds:.1f} s){mark}")
        else:
            print(f"{o.id}  [{o.result}]  expected {o.expected}: falsified after {o.examples} "
                  f"examples{mark}")
            print(f"    minimal counterexample: {o.counterexample}")
        print(f"    {o.statement}")
    print(f"{good}/{len(outcomes)} outcomes as expected (seed {args.seed}, "
          f"{args.examples} examples each) in {time.perf_counter() - start:.1f} s")
    return 0 if good == len(outcomes) else 1
