"""``spectral-edge reproduce --out DIR``: train every run the scorecard needs, then report.

The plan (``validation/experiments/reproduce.py``): modular tasks with weight decay on and off, Muon
against AdamW, a sketched twin of one run, the Dyck protocol — with probes where the run
configuration supports them. Finished runs are skipped and interrupted ones resumed, so a
kill at any moment followed by the same command ends with the same scorecard
(DIR/scorecard.md, scorecard.json, scorecard_figures/). ``--quick``: one seed and short caps.

    spectral-edge reproduce --out runs/scorecard --quick --workers 2
"""

from __future__ import annotations

import argparse
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    """The ``reproduce`` subcommand's arguments."""
    parser.add_argument("--out", required=True, help="directory of the runs and the scorecard")
    parser.add_argument("--quick", action="store_true",
                        help="the quick grid: one seed, short caps (about 10 minutes)")
    parser.add_argument("--workers", type=int, default=1, help="parallel runs (default 1)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--list", action="store_true", help="print the plan and exit")
    parser.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Train and report; 0 when every run finished, 1 when a run failed."""
    from spectral_edge.common.errors import InputError
    from spectral_edge.validation.experiments.reproduce import plan, reproduce

    if args.workers < 1:
        raise InputError(f"--workers must be >= 1, got {args.workers}")
    if args.list:
        for item in plan(args.quick):
            print(item.name)
        return 0
    path, failed, seconds = reproduce(args.out, args.quick, args.workers, not args.quiet)
    for line in failed:
        print(f"reproduce: run failed: {line}", file=sys.stderr)
    print(f"wrote {path}; reproduce took {seconds:.0f} s")
    return 1 if failed else 0
