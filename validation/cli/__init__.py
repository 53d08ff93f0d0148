"""The ``spectral-edge`` command line: one parser, one module per subcommand.

Every module in :mod:`spectral_edge.validation.cli` has the same entry point,
``configure(parser)``, which adds the subcommand's arguments and sets ``func`` (a
callable ``args -> int``). Only the module of the subcommand being run is imported, so
``derive`` and ``simulate`` never import torch and start quickly. Errors a user can cause
(a ``ValueError`` such as :class:`spectral_edge.common.errors.InputError`, a missing or
unreadable file)
end in one line on stderr and exit status 2, never a traceback.

>>> build_parser().prog
'spectral-edge'
>>> "derive" in build_parser()._subparsers._group_actions[0].choices
True
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

COMMANDS: dict[str, str] = {
    "demo": "monitored modular-addition grokking run, weight decay 1.0 vs 0.0",
    "train": "one instrumented training run (monitor attached) into a run directory",
    "sweep": "training runs over a grid of configs (sequential or N workers)",
    "derive": "derive and check the results R1-R12 from the axioms (SymPy)",
    "simulate": "run a gap-ODE scenario, or the numerics cross-check report",
    "verify": "search the theorems' consequences for counterexamples (Hypothesis)",
    "probe": "re-run the edge-direction probes (curvature, projections, ablation) of a run",
    "analyze": "window statistics and the measurable predictions of a run or spectra file",
    "fit": "fit the gap ODE to a run's g(t) on 70% of windows, forecast the rest vs baselines",
    "reproduce": "train every run the scorecard needs (skip finished, resume), then report",
    "report": "score P1-P16 on existing runs: scorecard.md, scorecard.json, figures",
}
"""Subcommand -> one-line help; the code is in ``validation/cli/<name>.py``."""


def _version() -> str:
    try:
        return version("spectral-edge")
    except PackageNotFoundError:  # running from a source tree without installing
        return "unknown"


def _chosen(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (the first word that is not an option)."""
    words = [a for a in argv if not a.startswith("-")]
    return words[0] if words and words[0] in COMMANDS else None


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The top-level parser; only the subcommand named in ``argv`` is fully configured
    (the others are listed with their help line)."""
    parser = argparse.ArgumentParser(
        prog="spectral-edge",
        description="Spectral edge toolkit: derive, simulate, train, analyze.",
    )
    parser.add_argument("--version", action="version", version=f"spectral-edge {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = _chosen(argv)
    for name, help_line in COMMANDS.items():
        help_line = help_line.replace("%", "%%")  # argparse %-formats help strings
        if name != chosen:
            sub.add_parser(name, help=help_line)
            continue
        module = importlib.import_module(f"spectral_edge.validation.cli.{name}")
        command = sub.add_parser(
            name,
            help=help_line,
            description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.configure(command)
    return parser


def _one_line(err: BaseException) -> str:
    """The error's message on one line (multi-line messages are joined)."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 500 else text[:497] + "..."


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 a check failed, 2 bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, OSError) as err:
        print(f"spectral-edge: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("spectral-edge: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
