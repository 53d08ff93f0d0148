"""``spectral-edge sweep``: many training runs over a grid, skipping finished ones.

Every config flag takes comma-separated values; the grid is their product. Each run goes
to ``OUT/<task>_<optimizer>_wd<wd>_s<seed>[_<field><value>...]`` (the bracket names every
other field given with several values). Finished runs are skipped, interrupted ones
resumed. ``--workers N`` runs N at a time in separate processes (``--executor local``, the
default) or as Ray tasks (``--executor ray``: a local Ray instance for the command, or the
cluster at ``--address``; docs/scaling.md). The outcome of every run is collected in
``OUT/sweep.csv``.

    spectral-edge sweep --task modadd,modsub --wd 1.0,0.0 --seed 42,137 --out runs/grid
    spectral-edge sweep ... --executor ray --address auto --workers 32
"""

from __future__ import annotations

import argparse
import sys

from spectral_edge.validation.cli.train import add_config_arguments, given_fields
from spectral_edge.validation.runs import rundir
from spectral_edge.validation.runs.config import base_config
from spectral_edge.validation.runs.grid import EXECUTORS, collect, grid, train_items


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    """``--executor`` and ``--address`` (shared by ``sweep`` and ``reproduce``).

    Args:
        parser: the subcommand's parser.
    """
    parser.add_argument("--executor", choices=EXECUTORS, default="local",
                        help="local: a process pool on this machine (default); ray: Ray tasks")
    parser.add_argument("--address", default=None,
                        help="Ray cluster to join (e.g. auto, ray://head:10001); default: a "
                             "local Ray instance started for this command")


def configure(parser: argparse.ArgumentParser) -> None:
    """The ``sweep`` subcommand's arguments."""
    parser.add_argument("--out", required=True, help="sweep directory (one run dir per run)")
    parser.add_argument("--config", help="JSON file with base config fields")
    parser.add_argument("--workers", type=int, default=1,
                        help="parallel processes, 1..256 (default 1)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--no-plots", action="store_true", help="do not write plots/")
    add_executor_arguments(parser)
    add_config_arguments(parser, multi=True)
    parser.set_defaults(func=execute)


MAX_WORKERS = 256
"""The most parallel runs (``--workers``) sweep and reproduce accept."""


def execute(args: argparse.Namespace) -> int:
    """Run the grid; 0 if every run finished, 1 if any failed."""
    from spectral_edge.common.outfile import check_output_dir
    from spectral_edge.common.validate import check_int

    check_int("--workers", args.workers, 1, MAX_WORKERS)
    root = check_output_dir(args.out, "--out")
    items = grid(base_config(args.config), given_fields(args, multi=True))
    failed = train_items(items, root, args.workers, "sweep", not args.quiet, not args.no_plots,
                         executor=args.executor, address=args.address)
    table = collect(root, items)
    rundir.write_csv(root / "sweep.csv", table)
    cols = ["name", "status", "grok_step", "steps_done", "final_test_acc", "wall_time_s"]
    print(table[cols].to_string(index=False))
    for line in failed:
        print(f"sweep: run failed: {line}", file=sys.stderr)
    return 1 if failed else 0
