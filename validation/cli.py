"""The ``spectral-edge`` command line: one parser, one module per subcommand.

Each module in :mod:`validation.commands` exposes ``register(subparsers)``, which adds its
parser and sets ``func`` (a callable ``args -> int``). Errors a user can cause (a
``ValueError`` such as :class:`numerics.errors.InputError`, a missing or unreadable file)
end in one line on stderr and exit status 2, never a traceback.

>>> build_parser().prog
'spectral-edge'
>>> sorted(build_parser()._subparsers._group_actions[0].choices)[:2]
['demo', 'derive']
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from validation.commands import demo, derive, simulate, sweep, train

COMMANDS = (demo, train, sweep, derive, simulate)


def _version() -> str:
    try:
        return version("spectral-edge")
    except PackageNotFoundError:  # running from a source tree without installing
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="spectral-edge",
        description="Spectral edge toolkit: derive, simulate, train, analyze.",
    )
    parser.add_argument("--version", action="version", version=f"spectral-edge {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 a check failed, 2 bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, OSError) as err:
        print(f"spectral-edge: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("spectral-edge: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
