"""``spectral-edge verify``: the theorems' consequences as property-based tests.

Each consequence of :mod:`spectral_edge.numerics.consequences` (Davis–Kahan, R1's stable steady
state,
R3's ordered levels, R4's equilibrium, R7's block invariance, R8's threshold, the α
hierarchy, R11's bound in both forms, R10's scaling) is searched for a counterexample with
Hypothesis; prints, per consequence, ``held`` with the number of examples tried, or
``falsified`` with the shrunk minimal counterexample, reproducible from ``--seed``.

``--only R11`` (repeatable, or comma-separated) restricts the run to the consequences of
those results; ``--examples N`` (default 100) examples per consequence; ``--seed S``
(default 0). Exit status 0 when every consequence expected to hold held (R11's published
k* ≤ K is not derived and may be falsified), 1 otherwise, 2 for bad input. Never imports
torch.

>>> from spectral_edge.validation.cli import main
>>> main(["verify", "--only", "R10", "--examples", "10"])  # doctest: +ELLIPSIS
R10 scaling  [R10]  held (10 examples, ...)
...
0
"""

from __future__ import annotations

import argparse
import time


def configure(parser: argparse.ArgumentParser) -> None:
    """The ``verify`` subcommand's arguments."""
    parser.add_argument("--only", action="append", metavar="ID",
                        help="only the consequences of these results (e.g. R11; repeatable)")
    parser.add_argument("--examples", type=int, default=100,
                        help="examples per consequence (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the search (default 0)")
    parser.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Run the consequences; 0 if every one expected to hold held, 1 otherwise."""
    from spectral_edge.numerics.consequences import verify

    start = time.perf_counter()
    outcomes = verify(args.only, args.examples, args.seed)
    bad = 0
    for o in outcomes:
        if o.held:
            print(f"{o.id}  [{o.result}]  held ({o.examples} examples, {o.seconds:.1f} s)")
        else:
            note = "" if o.expected_to_hold else " (expected: a published form the theory " \
                "does not derive)"
            bad += o.expected_to_hold
            print(f"{o.id}  [{o.result}]  FALSIFIED after {o.examples} examples{note}")
            print(f"    minimal counterexample: {o.counterexample}")
        print(f"    {o.statement}")
    held = sum(o.held for o in outcomes)
    print(f"{held}/{len(outcomes)} consequences held (seed {args.seed}, "
          f"{args.examples} examples each) in {time.perf_counter() - start:.1f} s")
    return 0 if bad == 0 else 1
