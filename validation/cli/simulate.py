"""``spectral-edge simulate``: gap-ODE scenarios and the numerics cross-check report.

    spectral-edge simulate --list
    spectral-edge simulate transition --plot transition.png --csv transition.csv
    spectral-edge simulate --crosscheck docs/numerics.md [--quick]

A scenario prints its key numbers; ``--plot`` writes σ_j(t), g(t) and A(t) with the
adiabatic regimes shaded, ``--csv`` the trajectories (one row per time point). The
cross-check runs every comparison of the theory with the exact reference simulator and
writes the Markdown report; the exit status is 1 when a judged check fails. Output paths
are checked before the work (a directory, a missing or unwritable parent: exit status 2) and
every file is written atomically.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from spectral_edge.common.atomic import atomic_open
from spectral_edge.common.errors import InputError
from spectral_edge.common.outfile import check_output_file


def configure(parser: argparse.ArgumentParser) -> None:
    """The ``simulate`` subcommand's arguments."""
    parser.add_argument("name", nargs="?", help="scenario name (see --list)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--plot", type=Path, help="write the scenario figure (PNG)")
    parser.add_argument("--csv", type=Path, help="write the scenario trajectories (CSV)")
    parser.add_argument(
        "--crosscheck",
        type=Path,
        metavar="REPORT.md",
        help="run every cross-check against the reference simulator and write the report",
    )
    parser.add_argument(
        "--quick", action="store_true", help="with --crosscheck: test sizes (seconds, noisier)"
    )
    parser.set_defaults(func=execute)


def _list() -> int:
    from spectral_edge.numerics.scenarios import PRESETS, describe

    for name in PRESETS:
        print(f"{name:22s} {describe(name)}")
    return 0


def _scenario(args: argparse.Namespace) -> int:
    from spectral_edge.numerics.scenarios import PRESETS, run_scenario

    if args.name not in PRESETS:
        raise InputError(f"unknown scenario {args.name!r}; use one of {sorted(PRESETS)}")
    # every output path is checked before the work; each file is written atomically
    if args.plot is not None:
        from spectral_edge.numerics.figures import figure_format

        check_output_file(args.plot, "--plot")
        figure_format(args.plot)
    if args.csv is not None:
        check_output_file(args.csv, "--csv")
    result = run_scenario(args.name)
    print(f"{result.name}: " + " ".join(result.description.split()))
    for key, value in result.summary.items():
        text = f"{value:.6g}" if isinstance(value, float) else str(value)
        print(f"  {key} = {text}")
    if args.plot is not None:
        from spectral_edge.numerics.figures import figure_scenario, save_figure

        print(f"  plot: {save_figure(figure_scenario(result), args.plot)}")
    if args.csv is not None:
        with atomic_open(args.csv) as handle:
            result.frame().to_csv(handle, index=False)
        print(f"  csv: {args.csv}")
    return 0


def _crosscheck(args: argparse.Namespace) -> int:
    from spectral_edge.numerics.report import write_report

    check_output_file(args.crosscheck, "--crosscheck")  # before minutes of work
    checks = write_report(args.crosscheck, quick=args.quick)
    print(f"report: {args.crosscheck}")
    failed = [check.name for check in checks.judged if not check.passed]
    if failed:
        print("failed checks: " + ", ".join(failed))
        return 1
    print(f"all {len(checks.judged)} judged checks passed")
    return 0


def execute(args: argparse.Namespace) -> int:
    """Dispatch on --list / --crosscheck / a scenario name."""
    if args.list:
        extra = [flag for flag, value in (("NAME", args.name), ("--plot", args.plot),
                                          ("--csv", args.csv), ("--crosscheck", args.crosscheck),
                                          ("--quick", args.quick or None)) if value is not None]
        if extra:
            raise InputError(f"--list prints the scenarios only; drop {', '.join(extra)}")
        return _list()
    if args.crosscheck is not None:
        if args.name is not None:
            raise InputError("give either a scenario name or --crosscheck, not both")
        if args.plot is not None or args.csv is not None:
            raise InputError("--plot and --csv apply to a scenario, not to --crosscheck")
        return _crosscheck(args)
    if args.name is None:
        raise InputError("simulate needs a scenario name, --list or --crosscheck REPORT.md")
    if args.quick:
        raise InputError("--quick only applies to --crosscheck")
    return _scenario(args)
