"""``spectral-edge analyze PATH``: window statistics and every prediction measurable there.

PATH is a run directory, or an external spectra file — CSV or JSON with ``step`` and
``sigma_1..sigma_W`` per window, optionally ``P``, ``eta`` (or ``lr``) and ``W`` — for which
only the σ-only predictions (P1, P2, P5, P6) are scored. Prints the statistics and the
verdicts, writes a JSON result and a figure (σ_j, R, g₂₃ against the step).

    spectral-edge analyze runs/modadd_wd1_s42
    spectral-edge analyze my_spectra.csv --json out.json --plot out.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

from spectral_edge.common.outfile import check_output_file
from spectral_edge.numerics.columns import G23_LAMBDA, G_SIGMA
from spectral_edge.numerics.figures import figure_format, save_figure


def configure(parser: argparse.ArgumentParser) -> None:
    """The ``analyze`` subcommand's arguments."""
    parser.add_argument("path", metavar="PATH", help="run directory or spectra file (.csv/.json)")
    parser.add_argument("--json", help="JSON result (default: DIR/analysis.json, or "
                        "FILE.analysis.json beside a spectra file)")
    parser.add_argument("--plot", help="figure (default: DIR/plots/analysis.png, or "
                        "FILE.analysis.png)")
    parser.set_defaults(func=execute)


def _defaults(path: Path) -> tuple[Path, Path]:
    if path.is_dir():
        return path / "analysis.json", path / "plots" / "analysis.png"
    return path.with_suffix(".analysis.json"), path.with_suffix(".analysis.png")


def execute(args: argparse.Namespace) -> int:
    """Analyze PATH; 0 when it was read (verdicts do not change the exit status)."""
    from spectral_edge.validation.runs import rundir
    from spectral_edge.validation.scorecard.analysis import load
    from spectral_edge.validation.scorecard.figures import figure_analyze
    from spectral_edge.validation.scorecard.report import analyze

    path = Path(args.path)
    json_default, plot_default = _defaults(path)
    json_out = check_output_file(args.json or json_default, "--json", make_parents=True)
    plot_out = check_output_file(args.plot or plot_default, "--plot", make_parents=True)
    figure_format(plot_out)
    run = load(path)
    summary, results = analyze(run)
    print(f"{run.name}: {summary['windows']} windows, W = {summary['W']}, steps "
          f"{summary['first_step']}..{summary['last_step']}"
          + (" (external spectra: σ-only predictions)" if run.external else ""))
    for key in ("mode_kstar", "mode_kstar_ratio", "mode_kstar_weighted", "mode_kstar_signal"):
        if key in summary:
            print(f"  {key:22s} {summary[key]}")
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
    rundir.write_json(json_out, {"summary": summary, "predictions": [r.as_dict()
                                                                     for r in results]})
    save_figure(figure_analyze(run), plot_out)
    print(f"wrote {json_out} and {plot_out}")
    return 0
