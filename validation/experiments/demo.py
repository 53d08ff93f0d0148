"""The main job: modular-addition grokking with and without weight decay, monitored.

Two runs of the docs/spec.md §7 protocol (p = 97, 50% split, 2-layer pre-LN transformer
d = 128, AdamW lr 1e-3, batch 512, clip 1.0; attention Q/K/V/O monitored, W = 10 on
snapshots every 100 steps), one with weight decay 1.0 and one with 0.0, at the published
model size. The step cap is the CPU-scaled one (see ``docs/demo.md``). The result is a table
over training, ``demo.csv`` and ``demo.png`` (σ_j(t), g₂₃(t), accuracy, grok step marked).

>>> demo_config(weight_decay=0.0, steps=3000).wd
0.0
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import pandas as pd

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.columns import G23_LAMBDA, KSTAR, KSTAR_WEIGHTED, sigma_columns, upgrade
from spectral_edge.numerics.figures import RunTrace, figure_runs, save_figure
from spectral_edge.validation.runs import rundir
from spectral_edge.validation.runs.config import RunConfig
from spectral_edge.validation.runs.training import run
from spectral_edge.validation.scorecard.analysis import RunData, g23_decline

WEIGHT_DECAYS = (1.0, 0.0)


def demo_config(
    weight_decay: float, steps: int = 4000, seed: int = 42, **overrides: Any
) -> RunConfig:
    """The demo's run: the modular-addition ``paper`` protocol with the given weight decay
    (``overrides``: any other ``RunConfig`` field, e.g. a smaller model for tests). Both
    runs keep 100-step snapshots (the paper's no-decay runs use 500) so their windows span
    the same steps, and stop 500 steps after grokking instead of by the paper's rule."""
    settings: dict[str, Any] = {
        "wd": weight_decay,
        "seed": seed,
        "steps": steps,
        "stride": 100,
        "stop_acc": None,
        "stop_after_grok": 500,
        "threads": 1,  # two threads thrash when another process shares the two cores
    }
    config = RunConfig.protocol("modadd", **(settings | overrides))
    if config.steps < config.stride * config.window:
        raise InputError(
            f"the demo needs at least {config.stride * config.window} steps for one window "
            f"(W = {config.window} snapshots every {config.stride} steps), got {config.steps}"
        )
    return config


@dataclass(frozen=True)
class DemoRun:
    """One finished demo run: its weight decay, spectra, metrics, joined table, grok step."""

    wd: float
    spectra: pd.DataFrame
    metrics: pd.DataFrame
    table: pd.DataFrame
    grok_step: int | None
    steps_done: int
    wall_time_s: float


def join_table(spectra: pd.DataFrame, metrics: pd.DataFrame) -> pd.DataFrame:
    """Spectra windows joined with the evaluation at the same optimizer step.

    >>> s = pd.DataFrame({"step": [100], "sigma_1": [1.0], "kstar": [1], "R": [2.0],
    ...                   "g23_lambda": [0.5]})
    >>> m = pd.DataFrame({"step": [100, 200], "train_acc": [0.5, 0.6], "test_acc": [0.1, 0.2]})
    >>> join_table(s, m).columns.tolist()
    ['step', 'sigma_1', 'kstar', 'R', 'g23_lambda', 'train_acc', 'test_acc']
    """
    cols = ["step", *sigma_columns(spectra), KSTAR, "R", G23_LAMBDA]
    return pd.merge(
        spectra[cols], metrics[["step", "train_acc", "test_acc"]], on="step", how="inner"
    )


def run_demo(
    out: str | os.PathLike, steps: int = 4000, seed: int = 42, **overrides: Any
) -> list[DemoRun]:
    """Train (or resume / reuse) both runs under ``out`` and write ``demo.csv``, ``demo.png``."""
    out = Path(out)
    configs = [demo_config(wd, steps, seed, **overrides) for wd in WEIGHT_DECAYS]
    runs = []
    for wd, config in zip(WEIGHT_DECAYS, configs, strict=True):
        run_dir = out / f"wd{wd:g}"
        result = run(config, run_dir, resume=(run_dir / "config.json").exists())
        spectra = upgrade(result.spectra, "spectra.csv")  # a run reused from before renames
        runs.append(
            DemoRun(
                wd=wd,
                spectra=spectra,
                metrics=result.metrics,
                table=join_table(spectra, result.metrics),
                grok_step=result.grok_step,
                steps_done=result.steps_done,
                wall_time_s=result.wall_time_s,
            )
        )
    combined = pd.concat(
        [r.table.assign(wd=r.wd, grok_step=r.grok_step) for r in runs], ignore_index=True
    )
    rundir.write_csv(out / "demo.csv", combined)
    fig = figure_runs(
        [
            RunTrace(f"weight decay {r.wd:g}", r.spectra, r.metrics, r.grok_step)
            for r in runs
        ],
        title="Modular addition (p = 97): window spectrum of the attention updates, W = 10",
    )
    save_figure(fig, out / "demo.png")
    return runs


def _fmt(value: float) -> str:
    return f"{value:8.2e}" if math.isfinite(value) else f"{value:>8}"


def format_table(demo: DemoRun, every: int = 500) -> str:
    """The terminal table: every ``every`` steps and at the grok step (marked ``<- grok``).

    >>> t = pd.DataFrame({"step": [500], "sigma_1": [1.0], "sigma_2": [0.5], "kstar": [1],
    ...                   "R": [2.0], "g23_lambda": [0.1], "train_acc": [1.0],
    ...                   "test_acc": [0.2]})
    >>> demo = DemoRun(1.0, t, t, t, None, 500, 1.0)
    >>> print(format_table(demo).splitlines()[1].split()[:3])
    ['500', '1.00e+00', '5.00e-01']
    """
    table = demo.table
    keep = (table["step"] % every == 0) | (table["step"] == demo.grok_step)
    sig = sigma_columns(table)
    header = (
        f"{'step':>6} "
        + " ".join(f"{'σ' + c[6:]:>8}" for c in sig)
        + f" {'k*':>3} {'R':>8} {'g23':>8} {'train':>6} {'test':>6}"
    )
    lines = [header]
    for _, row in table[keep].iterrows():
        line = (
            f"{int(row['step']):>6} "
            + " ".join(_fmt(row[c]) for c in sig)
            + f" {int(row[KSTAR]):>3} {_fmt(row['R'])} {_fmt(row[G23_LAMBDA])}"
            + f" {row['train_acc']:6.3f} {row['test_acc']:6.3f}"
        )
        if demo.grok_step is not None and int(row["step"]) == demo.grok_step:
            line += "  <- grok"
        lines.append(line)
    return "\n".join(lines)


def results_markdown(runs: list[DemoRun], command: str) -> str:
    """The generated results page (``--results``): the figures of these runs, with the
    command, date, machine and library versions that produced them."""
    import platform
    from datetime import datetime

    import torch

    lines = [
        "# Results of the last demo run (generated)",
        "",
        f"Generated by `{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.machine()} {platform.system()}, Python {platform.python_version()}, "
        f"torch {torch.__version__}, one torch thread. Do not edit by hand; run the command "
        "again instead.",
        "",
        "| weight decay | grok step | test acc at grok | final train / test acc | "
        "g₂₃ peak → at grok (decline) | weighted k* at grok | steps | wall time |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for demo in runs:
        m = demo.metrics.set_index("step")
        final = m.iloc[-1]
        decline = g23_decline(RunData(f"wd{demo.wd:g}", Path(), demo.spectra), demo.grok_step)
        peak, last, ratio = decline.peak, decline.end, decline.ratio
        at_grok = demo.spectra[demo.spectra["step"] <= (demo.grok_step or -1)]
        kstar = int(at_grok[KSTAR_WEIGHTED].iloc[-1]) if len(at_grok) else None
        grok = "none" if demo.grok_step is None else str(demo.grok_step)
        acc = "–" if demo.grok_step is None else f"{m.loc[demo.grok_step, 'test_acc']:.3f}"
        lines.append(
            f"| {demo.wd:g} | {grok} | {acc} | {final['train_acc']:.3f} / "
            f"{final['test_acc']:.3f} | {peak:.3g} → {last:.3g} ({ratio:.2f}×) | "
            f"{'–' if kstar is None else kstar} | {demo.steps_done} | "
            f"{demo.wall_time_s:.0f} s |"
        )
    lines += [
        "",
        "Grok step: first evaluation with test accuracy ≥ 0.95 (docs/spec.md §7). g₂₃ decline:"
        " the pre-grok peak over the value at the last window ending at or before the grok "
        "step (for a run that never groks: peak over final).",
        "",
    ]
    return "\n".join(lines)
