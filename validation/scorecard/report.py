"""The scorecard: every prediction scored on a directory of runs, as Markdown and figures.

:func:`write_scorecard` finds every run directory under a root
(:func:`spectral_edge.validation.scorecard.analysis.find_runs`), scores P1–P16
(:func:`spectral_edge.validation.scorecard.predictions.evaluate`),
runs the held-out gap-ODE forecast of each run against its two baselines
(:func:`gap_forecast`), and writes ``scorecard.md``, ``scorecard.json`` and
``scorecard_figures/*.png``. Everything it writes is a function of the run directories alone
(bootstraps use a fixed seed), so a rerun on the same runs writes the same verdicts and
values; only the timing line differs.

Also here: the per-run gap forecast (used by ``spectral-edge fit``); the summary of one run
or spectra file (``spectral-edge analyze``) is in :mod:`.summary`; the figures are drawn by
:mod:`spectral_edge.validation.scorecard.figures`.
"""

from __future__ import annotations

import math
import os
import platform
import time
import warnings
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from scipy import stats

from spectral_edge.common.atomic import write_text
from spectral_edge.common.errors import InputError
from spectral_edge.numerics.forecast import Forecast, forecast_gap
from spectral_edge.validation.runs import rundir
from spectral_edge.validation.runs.shortrun import no_window_message
from spectral_edge.validation.scorecard.analysis import RunData, find_runs, gap_series, grok_step
from spectral_edge.validation.scorecard.figures import figure_runs, write_figures
from spectral_edge.validation.scorecard.forecasting import (
    forecast_section,
    forecast_v2,
    measured_hw_beta,
)
from spectral_edge.validation.scorecard.predictions import (
    RULE_CHANGES,
    RULES_VERSION,
    PredictionResult,
    evaluate,
    rules_markdown,
)
from spectral_edge.validation.scorecard.predictions.checks import DEFAULT_K
from spectral_edge.validation.scorecard.predictions.scoring_v2 import (
    CalibrationCache,
    evaluate_v2,
)
from spectral_edge.validation.scorecard.rundata import read_plan_file
from spectral_edge.validation.scorecard.summary import (  # noqa: F401 (analyze's home before)
    analyze,
    summarize,
)

#: Departures of the CPU-scale runs from the published protocols (docs/protocols.md)
DEPARTURES = (
    "Step caps: weight-decay runs stop by the paper's rule or at a CPU cap (modular 6,000, "
    "multi-task 10,000, Dyck 2,000 steps; the paper: 200k/300k/20k with the same stop "
    "rule); no-decay controls run 10,000 steps with 500-step snapshots (the paper's 50,000 "
    "with `reproduce --long-controls`).",
    "SCAN runs a CPU-scaled model (d 64, d_ff 128, 2+2 layers) for 3,000 steps on a split "
    "drawn from the generated grammar; the published model (d 256, 3+3 layers) is out of "
    "reach on 2 cores.",
    "Muon is torch.optim.Muon on hidden matrices with AdamW on the rest, its Newton–Schulz "
    "step in float32 instead of bfloat16 on CPU (docs/runs.md).",
    "Ablations (P10, P15) are measured on a fixed batch of test examples (the same at every "
    "window), not on the whole test split (docs/probes.md).",
    "The TinyStories / GPT-2 runs (Muon vs AdamW k*, the α hierarchy at 124M, vacuity at "
    "P ~ 1e8) cannot run on a CPU: P1 and P3 are not measurable here.",
)


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("spectral-edge", "torch", "numpy", "scipy", "pandas", "matplotlib"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


# --------------------------------------------------------------------------- forecast


def gap_forecast(run: RunData, frac: float = 0.7) -> tuple[Forecast, int]:
    """The 70/30 gap-ODE forecast of ``run`` (with its k*).

    Args:
        run: a run with a known learning rate.
        frac: the fraction of the windows fitted.

    Returns:
        (forecast, k*).

    Raises:
        InputError: when the run is unusable (no learning rate, too few windows).
    """
    t, g, k = gap_series(run)
    eta = run.eta_eff
    if not math.isfinite(eta) or eta <= 0:
        raise InputError(f"{run.name}: no learning rate (config lr) to fit the gap ODE with")
    return forecast_gap(t, g, eta=eta, frac=frac), k


def calibrated_forecasts(runs: list[RunData], cache: CalibrationCache
                         ) -> dict[str, dict[str, Any]]:
    """The version-2 forecast of every probed run (cached: each costs seconds).

    Args:
        runs: The runs.
        cache: Where forecasts are looked up and stored.

    Returns:
        Run name -> :func:`forecast_v2`'s record (``error`` when it cannot be made).
    """
    out: dict[str, dict[str, Any]] = {}
    for r in runs:
        if r.external or r.probes is None or not len(r.probes):
            continue
        key = f"forecast|v2|{r.name}|{len(r.spectra)}|{len(r.probes)}"
        record = cache.get_json(key)
        if record is None:
            try:
                record = forecast_v2(r, *measured_hw_beta(r))
            except InputError as err:
                record = {"error": str(err)}
            cache.put_json(key, record)
        out[r.name] = record
    return out


# --------------------------------------------------------------------------- scorecard


@dataclass(frozen=True)
class Scorecard:
    """What :func:`write_scorecard` produced."""

    results: tuple[PredictionResult, ...]
    forecasts: dict[str, dict[str, Any]]
    path: Path
    n_runs: int
    seconds: float


def _fmt(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _rate(p: float, se: float) -> str:
    return "-" if p is None or math.isnan(p) else f"{p:.2f} ± {se:.2f}"


def render(results: list[PredictionResult], forecasts: dict[str, dict[str, Any]],
           runs: list[RunData], figures: dict[str, str], *, title: str,
           commands: list[str], notes: list[str], seconds: float | None,
           shown: list[RunData], fig_dir: str = "scorecard_figures",
           predictions_link: str = "predictions.md",
           results_v1: list[PredictionResult] | None = None,
           forecasts_v2: dict[str, dict[str, Any]] | None = None,
           calibration_s: float | None = None, calibration_k: int = DEFAULT_K) -> str:
    """The scorecard as Markdown: the version-2 table with each test's calibration, the
    rule changes, version 1 one line each; ``shown``: the runs of the per-run figure panels.

    Returns:
        The Markdown page.
    """
    verdicts = ("pass", "fail", "inconclusive", "not measurable")
    counts = {v: sum(r.verdict == v for r in results) for v in verdicts}
    lines = [f"# {title}", ""]
    lines += [f"Generated by `spectral-edge report` from {len(runs)} run directories. "
              f"Rules version {RULES_VERSION} ([predictions.md]({predictions_link}); the "
              f"changes from version 1 and their reasons are listed below). "
              + ", ".join(f"{counts[v]} {v}" for v in verdicts) + ".", ""]
    for note in notes:  # one paragraph each
        lines += [note, ""]
    lines += ["A verdict is *pass* or *fail* only where the test can tell: its **power** (pass "
              "rate on surrogate runs generated with the theory true, matched to these runs' "
              "measured h, Γ, N, η, W, stride and window count) is ≥ 0.8 and its "
              "**false-pass** rate (on the negative control named in the rules) ≤ 0.2, each "
              "± its Monte-Carlo standard error; otherwise *inconclusive*.", ""]
    lines += ["| id | prediction | published | ours [95% CI] | rule | power | false-pass | "
              "verdict |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        verdict = r.verdict + (f": {r.reason}" if r.reason else "")
        lines.append(f"| {r.id} | {_cell(r.statement)} | {_cell(r.published)} | "
                     f"{_cell(r.value_text)} | {_cell(r.rule)} | {_rate(r.power, r.power_se)} "
                     f"| {_rate(r.false_pass, r.false_pass_se)} | **{_cell(verdict)}** |")
    lines += ["", "Rule changes after data was seen (version 1 → 2):", ""]
    lines += [f"* {pid}: {change} — {why}." for pid, change, why in RULE_CHANGES]
    if results_v1:
        lines += ["", "Version 1 on the same runs (kept for comparison, one line each):", ""]
        lines += [f"* {r.id} v1: **{r.verdict}** — {_cell(r.value_text)}" for r in results_v1]
    lines += [""]
    lines += ["## Held-out gap-ODE forecast", "",
              "R4 fitted on the first 70% of each run's windows (g at the run's modal k*), "
              "then integrated over the last 30%; RMSE ratio theory/baseline (< 1: the "
              "theory wins). Parameters with standard errors; *not identifiable* when a "
              "standard error is infinite or exceeds its value.", "",
              "| run | k | windows fit/held | c ± se | β ± se | h̄+ω ± se | R² fit | "
              "ratio vs persistence | ratio vs linear | beats both | identifiable |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, f in forecasts.items():
        if "error" in f:
            lines.append(f"| {name} | | | | | | | | | | {_cell(f['error'])} |")
            continue
        p, s = f["params"], f["stderr"]
        ps = [f"{_fmt(p[k])} ± {_fmt(s[k])}" for k in ("c", "beta", "hw")]
        lines.append(f"| {name} | {f['k']} | {f['n_fit']}/{f['n_heldout']} | "
                     + " | ".join(ps) + f" | {_fmt(f['r2_fit'])} | "
                     f"{_fmt(f['ratio_persistence'])} | {_fmt(f['ratio_linear'])} | "
                     f"{'yes' if f['beats_both'] else 'no'} | "
                     f"{'yes' if f['identifiable'] else 'no'} |")
    ok = [f for f in forecasts.values() if "error" not in f]
    if ok:
        lines += ["", f"The theory beats both baselines in {sum(f['beats_both'] for f in ok)}"
                  f"/{len(ok)} runs."]
    if forecasts_v2:
        lines += [""] + forecast_section(forecasts_v2)
    if figures:
        lines += ["", "## Figures", ""]
        lines += [f"Per-run panels (P1, P5, P8, P12, forecast) show one run per configuration, "
                  f"its lowest seed ({len(shown)} of {len(runs)} runs: "
                  f"{', '.join(r.name for r in shown)}); the other panels pool every run; "
                  "every run's numbers are in the tables.", ""]
        order = sorted(figures, key=lambda k: int(k[1:]) if k[1:].isdigit() else 99)
        lines += [f"* {pid}: ![{pid}]({fig_dir}/{figures[pid]})" for pid in order]
    lines += ["", "## Runs", "", "| run | task | optimizer | wd | seed | windows | grok step "
              "(spec / patience) | probes |", "|---|---|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r.name} | {r.get('task', '-')} | {r.get('optimizer', '-')} | "
                     f"{r.get('wd', '-')} | {r.get('seed', '-')} | {len(r.spectra)} | "
                     f"{grok_step(r.metrics)} / {grok_step(r.metrics, 'patience')} | "
                     f"{'yes' if r.probes is not None else 'no'} |")
    lines += ["", "## Where these runs depart from the published protocols", ""]
    lines += [f"* {d}" for d in DEPARTURES]
    lines += ["", "## Pass rules (version " + RULES_VERSION + ")", "", rules_markdown(), ""]
    lines += [f"Version 1's rules are in [predictions.md]({predictions_link}).", ""]
    lines += ["## Commands", "", "```"] + commands + ["```", ""]
    lines += ["## Software", ""]
    lines += [f"* {k} {v}" for k, v in _versions().items()]
    train_s = sum(float(r.summary.get("wall_time_s") or 0) for r in runs)
    lines += ["", f"Training wall time summed over runs: {train_s:.0f} s."]
    if seconds is not None:
        lines += [f"Report generation: {seconds:.1f} s" + (
            f", of which {calibration_s:.1f} s calibrating (K = {calibration_k} surrogate "
            f"replicates per side; cached in {fig_dir.replace('_figures', '')}_calibration.json "
            "for the next report on the same runs)." if calibration_s is not None else ".")]
    return "\n".join(lines) + "\n"


def _predictions_link(out: Path) -> str:
    """A link to docs/predictions.md that works from where the scorecard is written (the
    source tree's page, relative to ``out``; else the page in the repository).

    Returns:
        The link target.
    """
    page = Path(__file__).resolve().parents[2] / "docs" / "predictions.md"
    if not page.exists():
        return "https://github.com/spectral-edge/spectral-edge/blob/main/docs/predictions.md"
    return Path(os.path.relpath(page, out.resolve().parent)).as_posix()


def write_scorecard(root: str | Path, out: str | Path | None = None, *,
                    title: str = "Scorecard", commands: list[str] | None = None,
                    notes: list[str] | None = None, calibration_k: int = DEFAULT_K,
                    progress: bool = False) -> Scorecard:
    """Score every run under ``root``; write ``out`` (default ``root/scorecard.md``), and
    beside it ``<stem>.json``, the figures in ``<stem>_figures/`` (``scorecard.json``,
    ``scorecard_figures/``) and the calibrations in ``<stem>_calibration.json`` (reused by
    the next report on the same runs).

    Args:
        root: The directory of run directories.
        out: The Markdown file.
        title: The page title.
        commands: The commands shown (default: this report's).
        notes: Paragraphs put under the summary line.
        calibration_k: Surrogate replicates per side of each calibration.
        progress: Show a progress bar while calibrating.

    Returns:
        The :class:`Scorecard` written.

    Raises:
        InputError: when ``root`` holds no run or an output path is unusable.
    """
    t0 = time.perf_counter()
    root = Path(root)
    skipped: list[str] = []
    runs = find_runs(root, skipped)
    if not runs:
        short = no_window_message(root)
        raise InputError(f"{root}: {short}" if short else
                         f"no run directory (with spectra.csv) under {root}")
    out = Path(out) if out is not None else root / "scorecard.md"
    made = read_plan_file(root / "reproduce.json")  # read (and checked) before anything is written
    with warnings.catch_warnings():  # a degenerate sample gives a NaN interval, shown as n/a
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        results_v1 = evaluate(runs)
        cache = CalibrationCache(out.parent / f"{out.stem}_calibration.json")
        t_cal = time.perf_counter()
        results = evaluate_v2(runs, K=calibration_k, progress=progress, cache=cache,
                              workers=min(2, os.cpu_count() or 1))
        forecasts_v2 = calibrated_forecasts(runs, cache)
        t_cal = time.perf_counter() - t_cal
    forecasts: dict[str, dict[str, Any]] = {}
    items: list[tuple[str, Forecast]] = []
    for r in runs:
        try:
            fc, k = gap_forecast(r)
            forecasts[r.name] = {"k": k} | fc.as_dict()
            items.append((r.name, fc))
        except InputError as err:
            forecasts[r.name] = {"error": str(err)}
    shown = figure_runs(runs)
    fig_dir = out.parent / f"{out.stem}_figures"
    figures = write_figures(runs, shown, items, fig_dir)
    commands = commands or [f"spectral-edge report {root}"]
    seconds = time.perf_counter() - t0
    notes = list(notes or []) + [f"Left out: {line}." for line in skipped]
    if made:  # written by `reproduce`: its notes and commands belong here too
        notes = list(made.get("notes", [])) + (notes or [])
        commands = list(made.get("commands", [])) + [c for c in commands
                                                     if c not in made.get("commands", [])]
        if made.get("calls"):
            notes.append("`reproduce` wall time of each call that trained: " + "; ".join(
                f"{c['wall_s']:.0f} s ({c['runs']:.0f} run(s), {c['workers']:.0f} worker(s))"
                for c in made["calls"]) + ".")
        elif made.get("wall_s") is not None:
            notes.append(f"`reproduce` wall time (last call that trained): "
                         f"{made['wall_s']:.0f} s with {made.get('workers')} worker(s).")
    text = render(results, forecasts, runs, figures, shown=shown, title=title, commands=commands,
                  notes=notes or [], seconds=seconds, fig_dir=fig_dir.name,
                  predictions_link=_predictions_link(out), results_v1=results_v1,
                  forecasts_v2=forecasts_v2, calibration_s=t_cal, calibration_k=calibration_k)
    write_text(out, text)
    rundir.write_json(out.with_suffix(".json"), {
        "rules_version": RULES_VERSION,
        "results": [r.as_dict() for r in results],
        "rules_version_1_results": [r.as_dict() for r in results_v1],
        "rule_changes": [list(c) for c in RULE_CHANGES],
        "forecasts": forecasts,
        "forecasts_v2": forecasts_v2,
        "runs": [r.name for r in runs],
        "skipped": skipped,
    }, strict_json=True)
    return Scorecard(tuple(results), forecasts, out, len(runs), time.perf_counter() - t0)
