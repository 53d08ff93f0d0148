"""``spectral-edge analyze PATH``: window statistics and every prediction measurable there.

PATH is a run directory, or an external spectra file — CSV or JSON with ``step`` and
``sigma_1..sigma_W`` per window, optionally ``P``, ``eta`` (or ``lr``) and ``W``; the format
is in docs/analyze.md — for which only the σ-only predictions (P1, P2, P5, P6) are scored.
Prints the statistics, k* per window (as runs of equal k*) and the verdicts, and writes a
strict JSON result (NaN as null; format in docs/analyze.md) and a figure (σ_j, R, g₂₃
against the step): for a run directory DIR/analysis.json and DIR/plots/analysis.png, for a
spectra file FILE_STEM.analysis.json and .png in the current directory.

    spectral-edge analyze runs/modadd_wd1_s42
    spectral-edge analyze my_spectra.csv --json out.json --plot out.png
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from spectral_edge.common.errors import InputError
from spectral_edge.common.outfile import check_not_input, check_output_file
from spectral_edge.numerics.columns import G23_LAMBDA, G_SIGMA, KSTAR
from spectral_edge.numerics.figures import figure_format, save_figure

SHOWN_SEGMENTS = 12
"""The most runs of equal k* printed (all of them go to the JSON)."""


def configure(parser: argparse.ArgumentParser) -> None:
    """The ``analyze`` subcommand's arguments."""
    parser.add_argument("path", metavar="PATH", help="run directory or spectra file (.csv/.json)")
    parser.add_argument("--json", help="JSON result (default: DIR/analysis.json, or "
                        "FILE_STEM.analysis.json in the current directory)")
    parser.add_argument("--plot", help="figure (default: DIR/plots/analysis.png, or "
                        "FILE_STEM.analysis.png in the current directory)")
    parser.set_defaults(func=execute)


def outputs(path: Path, json_arg: str | None, plot_arg: str | None,
            stem: str = "analysis") -> tuple[Path, Path]:
    """The JSON and figure paths for PATH, checked before any work: writable, distinct,
    neither an input file nor one of a run's own files (``fit`` uses this too).

    Args:
        path: The run directory or spectra file analysed.
        json_arg: ``--json`` (None: the default).
        plot_arg: ``--plot`` (None: the default).
        stem: ``analysis`` or ``fit``: the default names.

    Returns:
        ``(json_path, plot_path)``.

    Raises:
        InputError: If an output is unusable or would replace an input.
    """
    from spectral_edge.validation.runs.rundir import is_run_file

    if path.is_dir():
        defaults = path / f"{stem}.json", path / "plots" / f"{stem}.png"
        plots = path / "plots"
        if plots.is_symlink() or (plots.exists() and not plots.is_dir()):
            raise InputError(f"{plots} is not a plain directory (a link or a file): refusing "
                             "to write through it")
    else:
        defaults = Path(f"{path.stem}.{stem}.json"), Path(f"{path.stem}.{stem}.png")
    chosen = []
    for arg, default, option in ((json_arg, defaults[0], "--json"),
                                 (plot_arg, defaults[1], "--plot")):
        if arg is not None and not arg.strip():
            raise InputError(f"{option}: an empty path")
        out = check_output_file(arg or default, option, make_parents=True)
        if path.is_dir():
            if out.resolve() != default.resolve() and is_run_file(out, path):
                raise InputError(f"{option}: {out} is one of the run's own files; "
                                 "refusing to write over it")
        else:
            check_not_input(out, [path], option)
        chosen.append(out)
    if chosen[0].resolve() == chosen[1].resolve():
        raise InputError("--json and --plot name the same file")
    figure_format(chosen[1])
    return chosen[0], chosen[1]


def kstar_segments(steps: np.ndarray, kstar: np.ndarray) -> list[dict[str, Any]]:
    """k* per window as runs of equal k*: ``kstar``, ``first_step``, ``last_step``,
    ``windows``.

    >>> kstar_segments(np.array([10, 20, 30]), np.array([1, 1, 2]))[1]
    {'kstar': 2, 'first_step': 30, 'last_step': 30, 'windows': 1}

    Args:
        steps: The windows' steps.
        kstar: k* per window.

    Returns:
        One dict per run of equal k*, in step order.
    """
    if len(kstar) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, kstar[1:] != kstar[:-1]])
    ends = np.r_[starts[1:], len(kstar)]
    return [{"kstar": int(kstar[a]), "first_step": int(steps[a]),
             "last_step": int(steps[b - 1]), "windows": int(b - a)}
            for a, b in zip(starts, ends, strict=True)]


def execute(args: argparse.Namespace) -> int:
    """Analyze PATH; 0 when it was read (verdicts do not change the exit status)."""
    from spectral_edge.validation.runs import rundir
    from spectral_edge.validation.scorecard.analysis import load
    from spectral_edge.validation.scorecard.summary import analyze, figure_analyze

    if not args.path.strip():
        raise InputError("PATH: an empty path")
    path = Path(args.path)
    json_out, plot_out = outputs(path, args.json, args.plot)
    run = load(path)
    summary, results = analyze(run)
    sp = run.spectra
    segments = kstar_segments(sp["step"].to_numpy(np.int64), sp[KSTAR].to_numpy(np.int64))
    print(f"{run.name}: {summary['windows']} windows, W = {summary['W']}, steps "
          f"{summary['first_step']}..{summary['last_step']}"
          + (" (external spectra: σ-only predictions)" if run.external else ""))
    for key in ("mode_kstar", "mode_kstar_ratio", "mode_kstar_weighted", "mode_kstar_signal"):
        if key in summary:
            print(f"  {key:22s} {summary[key]}")
    shown = ", ".join(f"{s['kstar']} (steps {s['first_step']}..{s['last_step']})"
                      for s in segments[:SHOWN_SEGMENTS])
    more = f", ... ({len(segments)} runs in all, see the JSON)" if len(segments) > \
        SHOWN_SEGMENTS else ""
    print(f"  {'k* per window':22s} {shown}{more}")
    for key in ("R", G_SIGMA, G23_LAMBDA, "vacuity", "A"):
        if summary.get(key):
            v = summary[key]
            print(f"  {key:22s} min {v['min']:.4g}  median {v['median']:.4g}  max {v['max']:.4g}")
    if "grok_step" in summary:
        print(f"  {'grok step':22s} spec {summary['grok_step']['spec']}, "
              f"patience {summary['grok_step']['patience']}")
    for r in results:
        tail = f" ({r.reason})" if r.reason else ""
        print(f"  {r.id:4s} {r.verdict:15s} {r.value_text}{tail}")
    rundir.write_json(json_out, {"summary": summary, "kstar_per_window": segments,
                                 "predictions": [r.as_dict() for r in results]},
                      strict_json=True, indent=None)  # one line: 400k windows in ~1 s
    save_figure(figure_analyze(run), plot_out)
    print(f"wrote {json_out} and {plot_out}")
    return 0
