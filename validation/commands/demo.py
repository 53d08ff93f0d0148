"""``spectral-edge demo``: the main job (what ``make demo`` runs).

Modular addition (p = 97) with weight decay 1.0 and 0.0, monitored; prints a table over
training with the grok step marked and writes ``demo.csv``, ``demo.png`` and one run
directory per weight decay under ``--out``. Re-running reuses finished runs.

    spectral-edge demo --out runs/demo
"""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    """The ``demo`` subcommand's arguments."""
    parser.add_argument("--out", default="runs/demo", help="output directory (runs/demo)")
    parser.add_argument("--steps", type=int, default=4000, help="step cap per run (4000)")
    parser.add_argument("--seed", type=int, default=42, help="seed (42)")
    parser.add_argument("--every", type=int, default=500, help="table row every N steps")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run the demo and print its tables."""
    from validation.demo import format_table, run_demo  # torch: import only when run

    if args.steps < 1 or args.every < 1:
        raise ValueError("--steps and --every must be >= 1")
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
    return 0
