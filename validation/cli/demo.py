"""``spectral-edge demo``: the main job (what ``make demo`` runs).

Modular addition (p = 97) with weight decay 1.0 and 0.0, monitored; prints a table over
training with the grok step marked and writes ``demo.csv``, ``demo.png`` and one run
directory per weight decay under ``--out``. Re-running reuses finished runs.

    spectral-edge demo --out runs/demo
"""

from __future__ import annotations

import argparse
from pathlib import Path

from spectral_edge.common.atomic import write_text
from spectral_edge.common.outfile import check_output_file


def configure(parser: argparse.ArgumentParser) -> None:
    """The ``demo`` subcommand's arguments."""
    parser.add_argument("--out", default="runs/demo", help="output directory (runs/demo)")
    parser.add_argument("--steps", type=int, default=4000, help="step cap per run (4000)")
    parser.add_argument("--seed", type=int, default=42, help="seed (42)")
    parser.add_argument("--every", type=int, default=500, help="table row every N steps")
    parser.add_argument(
        "--results",
        type=Path,
        metavar="FILE.md",
        help="also write the run's figures (grok step, accuracies, g23 decline, wall time, "
        "date, machine) as Markdown, e.g. docs/demo-results.md",
    )
    parser.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Run the demo and print its tables.

    Args:
        args: the parsed ``demo`` arguments.

    Returns:
        The exit status (0).

    Raises:
        InputError: for a step cap shorter than one window (checked before ``--every``),
            ``--every`` outside 1..``--steps``, a bad seed or an unusable output path.
    """
    from spectral_edge.common.outfile import check_output_dir
    from spectral_edge.common.validate import check_int
    from spectral_edge.validation.experiments.demo import (  # imports torch
        demo_config,
        format_table,
        results_markdown,
        run_demo,
    )

    check_int("--steps", args.steps, 1, 10**7)
    # --steps first: a cap too short for one window is the user's real problem, and the
    # message names it ("the demo needs at least N steps ...") rather than the --every
    # default it would otherwise exceed.
    demo_config(weight_decay=1.0, steps=args.steps, seed=0)
    check_int("--every", args.every, 1, args.steps)
    check_int("--seed", args.seed, 0, 2**63 - 1)
    check_output_dir(args.out, "--out")
    if args.results is not None:
        check_output_file(args.results, "--results")
    runs = run_demo(args.out, steps=args.steps, seed=args.seed)
    for demo in runs:
        grok = (
            f"grokked at step {demo.grok_step}"
            if demo.grok_step is not None
            else f"did not grok within {demo.steps_done} steps"
        )
        print(f"\nweight decay {demo.wd:g}: {grok} ({demo.wall_time_s:.0f} s)")
        print(format_table(demo, every=args.every))
    print(f"\nwrote {args.out}/demo.csv and {args.out}/demo.png")
    if args.results is not None:
        command = f"spectral-edge demo --out {args.out} --results {args.results}"
        write_text(args.results, results_markdown(runs, command))
        print(f"wrote {args.results}")
    return 0
