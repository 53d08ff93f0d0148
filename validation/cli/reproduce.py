"""``spectral-edge reproduce --out DIR``: train every run the scorecard needs, then report.

The plan (``validation/experiments/reproduce.py``): modular tasks with weight decay on and off, Muon
against AdamW, a sketched twin of one run, the Dyck protocol — with probes where the run
configuration supports them. Finished runs are skipped and interrupted ones resumed, so a
kill at any moment followed by the same command ends with the same scorecard
(DIR/scorecard.md, scorecard.json, scorecard_figures/). ``--quick``: one seed and short caps.

    spectral-edge reproduce --out runs/scorecard --quick --workers 2
    spectral-edge reproduce --out runs/scorecard --quick --workers 2 --executor ray
    spectral-edge reproduce --plan lm --corpus TinyStories.txt --device cuda --out runs/lm
    spectral-edge reproduce --plan scan --device cuda --out runs/scan

``--executor ray`` trains the runs as Ray tasks (``--address``: an existing cluster);
``--plan lm`` is the language-model plan (validation/experiments/lm_plan.py, docs/scaling.md);
``--plan scan`` SCAN at the published size (a GPU's: about 25 h on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import sys

from spectral_edge.validation.cli.sweep import add_executor_arguments


def configure(parser: argparse.ArgumentParser) -> None:
    """The ``reproduce`` subcommand's arguments."""
    parser.add_argument("--out", help="directory of the runs and the scorecard (not needed "
                        "with --list)")
    parser.add_argument("--quick", action="store_true",
                        help="the quick grid: one seed, short caps (about 10 minutes)")
    parser.add_argument("--workers", type=int, default=1,
                        help="parallel runs, 1..256 (default 1)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--list", action="store_true",
                        help="print every run with its steps and estimated time, and exit")
    parser.add_argument("--long-controls", action="store_true",
                        help="modular no-decay controls run the paper's 50,000 steps "
                        "(default 10,000)")
    parser.add_argument("--plan", default="scorecard", help="the plan to run (default scorecard)")
    parser.add_argument("--corpus", default=None,
                        help="--plan lm: the corpus (a local text file or a saved dataset)")
    parser.add_argument("--device", default=None,
                        help="--plan lm and --plan scan: cpu (default) or cuda[:N] (lm: bf16 "
                             "autocast)")
    add_executor_arguments(parser)
    parser.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Train and report; 0 when every run finished, 1 when a run failed."""
    from spectral_edge.common.errors import InputError
    from spectral_edge.common.outfile import check_output_dir
    from spectral_edge.common.validate import check_int
    from spectral_edge.validation.cli.sweep import MAX_WORKERS
    from spectral_edge.validation.experiments.reproduce import plan, reproduce

    check_int("--workers", args.workers, 1, MAX_WORKERS)
    options = {k: v for k, v in (("corpus", args.corpus), ("device", args.device)) if v}
    if args.corpus and args.plan != "lm":
        raise InputError("--corpus applies to --plan lm")
    if args.device and args.plan not in ("lm", "scan"):
        raise InputError("--device applies to --plan lm and --plan scan")
    items = plan(args.quick, long_controls=args.long_controls, name=args.plan, **options)
    if args.list and args.out is not None:
        raise InputError("--list prints the plan and trains nothing; drop --out")
    if args.list and args.plan == "lm":
        from spectral_edge.validation.experiments.lm_plan import describe

        print(describe(items))
        return 0
    if args.list:
        print_plan(items, args.workers, dense=not args.quick)
        return 0
    if args.out is None:
        raise InputError("reproduce needs --out DIR (or --list)")
    if args.plan in ("lm", "scan"):  # checked here, not once per run
        from pathlib import Path

        from spectral_edge.validation.runs.config import check_device

        if args.plan == "lm" and (args.corpus is None or not Path(args.corpus).exists()):
            raise InputError(f"--plan lm needs --corpus FILE (a local text file or a saved "
                             f"dataset), got {args.corpus!r}")
        check_device(args.device or "cpu")
    check_output_dir(args.out, "--out")  # before hours of training, not after
    path, failed, seconds = reproduce(args.out, args.quick, args.workers, not args.quiet,
                                      long_controls=args.long_controls, name=args.plan,
                                      executor=args.executor, address=args.address, **options)
    for line in failed:
        print(f"reproduce: run failed: {line}", file=sys.stderr)
    print(f"wrote {path}; reproduce took {seconds:.0f} s")
    return 1 if failed else 0


def print_plan(items: list, workers: int, dense: bool = True) -> None:
    """One line per run (name, step cap, expected steps, estimated minutes), then the total
    and, with ``dense``, the expected dense re-runs.

    Args:
        items: the plan's runs.
        workers: the parallel processes the total assumes.
        dense: the plan trains dense re-runs after it (the full scorecard plan).
    """
    from spectral_edge.validation.experiments.reproduce import (
        estimate,
        expected_dense,
        total_hours,
    )

    print(f"{'run':48s} {'cap':>7s} {'expected':>8s} {'min':>6s}")
    total = 0.0
    for item in items:
        e = estimate(item)
        total += e.seconds
        print(f"{item.name:48s} {e.cap:7d} {e.steps:8d} {e.seconds / 60:6.1f}")
    print(f"{len(items)} runs, {total / 3600:.2f} h of training; estimated "
          f"{total_hours(items, workers):.2f} h at --workers {workers} (per-step costs "
          "measured on the 2-core development machine, docs/runs.md)")
    extra_runs = expected_dense(items) if dense else []
    if extra_runs:
        extra = sum(estimate(i).seconds for i in extra_runs)
        print(f"then dense re-runs of the weight-decay runs that grok before their second "
              f"window (expected: {', '.join(i.name for i in extra_runs)}; "
              f"{extra / 60:.1f} min); {total_hours(items + extra_runs, workers):.2f} h in all")
