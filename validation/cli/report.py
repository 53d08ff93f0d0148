"""``spectral-edge report DIR``: regenerate ``scorecard.md`` and its figures from runs.

Scores P1–P16 on every run directory under DIR, runs the held-out gap-ODE forecast of each
run, and writes DIR/scorecard.md (or ``--out``), and scorecard.json and scorecard_figures/
beside it. No training: it reads the run directories only, and the same runs give the same
report.

    spectral-edge report runs/scorecard
"""

from __future__ import annotations

import argparse
from pathlib import Path

from spectral_edge.common.outfile import check_output_file


def configure(parser: argparse.ArgumentParser) -> None:
    """The ``report`` subcommand's arguments."""
    parser.add_argument("dir", metavar="DIR", help="directory holding run directories")
    parser.add_argument("--out", help="scorecard file (default DIR/scorecard.md)")
    parser.add_argument("--title", default="Scorecard", help="heading of the scorecard")
    parser.add_argument("--note", action="append", default=[],
                        help="a paragraph printed under the heading (repeatable)")
    parser.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Write the scorecard; 0 when written (failed predictions are results, not errors)."""
    from spectral_edge.validation.scorecard.report import write_scorecard

    root = Path(args.dir)
    out = check_output_file(args.out or root / "scorecard.md", "--out", make_parents=True)
    card = write_scorecard(root, out, title=args.title, notes=args.note,
                           commands=[f"spectral-edge report {root}"])
    for r in card.results:
        print(f"{r.id:4s} {r.verdict:15s} {r.value_text}")
    print(f"wrote {card.path} from {card.n_runs} runs in {card.seconds:.1f} s")
    return 0
