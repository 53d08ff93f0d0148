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

from spectral_edge.common.errors import InputError
from spectral_edge.common.outfile import check_output_file


def configure(parser: argparse.ArgumentParser) -> None:
    """The ``report`` subcommand's arguments."""
    parser.add_argument("dir", metavar="DIR", help="directory holding run directories")
    parser.add_argument("--out", help="scorecard file, .md (default DIR/scorecard.md); "
                        "NAME.json and NAME_figures/ are written beside it")
    parser.add_argument("--title", default="Scorecard", help="heading of the scorecard")
    parser.add_argument("--note", action="append", default=[],
                        help="a paragraph printed under the heading (repeatable)")
    parser.set_defaults(func=execute)


def outputs(root: Path, out_arg: str | None) -> Path:
    """The scorecard path, checked before any work: ``DIR`` a directory, ``--out`` a
    writable ``.md`` path whose ``.json`` twin and figure folder overwrite no run's files.

    Args:
        root: DIR.
        out_arg: ``--out`` (None: DIR/scorecard.md).

    Returns:
        The scorecard path.

    Raises:
        InputError: If DIR is not a directory or an output would replace a run's file.
    """
    from spectral_edge.validation.runs.rundir import is_run_file

    if not str(root).strip() or not root.is_dir():
        raise InputError(f"DIR {str(root)!r} is not a directory of runs")
    if out_arg is not None and not out_arg.strip():
        raise InputError("--out: an empty path")
    out = check_output_file(out_arg or root / "scorecard.md", "--out", make_parents=True)
    if out.suffix.lower() != ".md":
        raise InputError(f"--out: {out} must end in .md (scorecard.json and the figures "
                         "are written beside it)")
    runs = {p.parent for p in root.rglob("spectra.csv")}
    figures = out.parent / f"{out.stem}_figures"
    if figures.is_symlink() and out.parent.resolve() in {d.resolve() for d in runs}:
        raise InputError(f"--out: {figures} is a link inside a run directory; refusing to "
                         "write through it")
    inputs = [root / "reproduce.json"]
    for path in (out, out.with_suffix(".json")):
        if any(is_run_file(path, d) for d in runs) or path.resolve() in {
                i.resolve() for i in inputs}:
            raise InputError(f"--out: {path} is a file the runs under {root} hold; "
                             "refusing to write over it")
    return out


def execute(args: argparse.Namespace) -> int:
    """Write the scorecard; 0 when written (failed predictions are results, not errors)."""
    from spectral_edge.validation.scorecard.report import write_scorecard

    root = Path(args.dir)
    out = outputs(root, args.out)
    card = write_scorecard(root, out, title=args.title, notes=args.note,
                           commands=[f"spectral-edge report {root}"], progress=True)
    for r in card.results:
        print(f"{r.id:4s} {r.verdict:15s} {r.value_text}")
    print(f"wrote {card.path} from {card.n_runs} runs in {card.seconds:.1f} s")
    return 0
