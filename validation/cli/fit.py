"""``spectral-edge fit RUN_DIR``: the gap ODE fitted to a measured g(t), forecast held out.

Fits R4 (c, β, h̄+ω) to g = σ_k − σ_{k+1} (k = the run's modal k*) on the first 70% of the
windows, integrates it over the last 30%, and compares that forecast with persistence and
linear extrapolation; prints the parameters with standard errors (and whether they are
identifiable), the RMSE ratios, writes ``fit.json`` and ``plots/fit.png``.

    spectral-edge fit runs/modadd_wd1_s42 --frac 0.7
"""

from __future__ import annotations

import argparse
from pathlib import Path

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.figures import save_figure


def configure(parser: argparse.ArgumentParser) -> None:
    """The ``fit`` subcommand's arguments."""
    parser.add_argument("run_dir", metavar="RUN_DIR", help="run directory (or spectra file)")
    parser.add_argument("--frac", type=float, default=0.7,
                        help="fraction of windows to fit on, in [0.1, 0.95] (default 0.7)")
    parser.add_argument("--json", help="result (default RUN_DIR/fit.json; for a spectra file "
                        "FILE_STEM.fit.json in the current directory)")
    parser.add_argument("--plot", help="figure (default RUN_DIR/plots/fit.png; for a spectra "
                        "file FILE_STEM.fit.png in the current directory)")
    parser.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Fit and forecast; 0 when the fit ran."""
    from spectral_edge.validation.cli.analyze import outputs
    from spectral_edge.validation.runs import rundir
    from spectral_edge.validation.scorecard.analysis import load
    from spectral_edge.validation.scorecard.figures import figure_forecast
    from spectral_edge.validation.scorecard.report import gap_forecast

    if not 0.1 <= args.frac <= 0.95:
        raise InputError(f"--frac must be in [0.1, 0.95], got {args.frac}")
    if not args.run_dir.strip():
        raise InputError("RUN_DIR: an empty path")
    path = Path(args.run_dir)
    json_out, plot_out = outputs(path, args.json, args.plot, "fit")
    run = load(path)
    fc, k = gap_forecast(run, args.frac)
    p, s = fc.fit.params, fc.fit.stderr
    print(f"{run.name}: gap g = σ_{k} − σ_{k + 1}, fit on {fc.n_fit} windows, "
          f"{fc.n_heldout} held out")
    for name in ("c", "beta", "hw"):
        print(f"  {name:5s} {p[name]: .4g} ± {s[name]:.3g}")
    print(f"  identifiable: {'yes' if fc.identifiable else 'no'}; R² fit {fc.fit.r2_fit:.3g}, "
          f"R² held out {fc.fit.r2_heldout:.3g}")
    print(f"  held-out RMSE: theory {fc.rmse_theory:.4g}, persistence {fc.rmse_persistence:.4g}"
          f", linear {fc.rmse_linear:.4g}; ratios {fc.ratio_persistence:.3g} / "
          f"{fc.ratio_linear:.3g}; beats both: {'yes' if fc.beats_both else 'no'}")
    rundir.write_json(json_out, {"k": k} | fc.as_dict(), strict_json=True)
    save_figure(figure_forecast([(run.name, fc)]), plot_out)
    print(f"wrote {json_out} and {plot_out}")
    return 0
