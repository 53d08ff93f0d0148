"""The scorecard's version-2 gap forecast: h̄+ω and β read from a run's probes, the per-run
dict, and the Markdown section with a pooled row per configuration."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.ode import GapSystem, integrate
from spectral_edge.theory import lambdified as tx
from spectral_edge.validation.scorecard.forecasting import (
    forecast_section,
    forecast_v2,
    measured_hw_beta,
)
from spectral_edge.validation.scorecard.rundata import RunData

LR, STRIDE, WD, W = 1e-3, 100, 1.0, 10
ETA = LR * STRIDE


def synthetic_run(seed: int, n: int = 61, hw: float = 5.0, beta: float = 0.05,
                  c: float = 0.6) -> RunData:
    """σ_2 fixed, σ_1 = σ_2 + g with g from R4 plus noise; probes every 10th window."""
    t = np.arange(float(n))
    g = integrate(GapSystem(c=c, beta=beta, eta=ETA, hw=hw), [1.0], (0, n - 1),
                  t_eval=t).y[0]
    g = g + np.random.default_rng(seed).normal(0.0, 0.05, n)
    steps = (t + 10) * STRIDE
    spectra = pd.DataFrame({"step": steps.astype(int), "W": W, "kstar": 1,
                            "sigma_1": 3.0 + g, "sigma_2": 3.0, "sigma_3": 1.0})
    rows = []
    for s, g_s in zip(steps[::10], g[::10], strict=True):
        for mode, sigma, h in ((1, 3.0 + g_s, hw - WD - 0.5), (2, 3.0, hw - WD + 0.5)):
            rows.append({"step": int(s), "mode": mode, "kstar_weighted": 1, "sigma": sigma,
                         "h_precond": h, "h": 0.01, "wd": WD, "N": 5.0, "eta_eff": ETA})
    config = {"lr": LR, "stride": STRIDE, "wd": WD, "seed": seed, "task": "modadd"}
    return RunData(f"run_s{seed}", Path("x"), spectra=spectra, config=config,
                   probes=pd.DataFrame(rows))


def test_measured_hw_beta_reads_the_modal_pair() -> None:
    run = synthetic_run(0)
    hw, beta = measured_hw_beta(run)
    assert hw == pytest.approx(5.0)  # mean of h_precond at k*, k*+1 plus ω
    pr = run.probes
    expect = [float(tx.gap_repulsion(a.at[1, "sigma"], a.at[2, "sigma"], 5.0, 5.0, ETA))
              for _, a in pr.groupby("step") for a in [a.set_index("mode")]]
    assert beta == pytest.approx(float(np.median(expect))) and beta > 0


def test_forecast_v2_on_a_synthetic_run_is_json_ready() -> None:
    run = synthetic_run(0)
    f = forecast_v2(run, *measured_hw_beta(run), K=6)
    assert "error" not in f
    assert f["n_windows"] == 61 and f["n_used"] == 7 and f["n_origins"] == 5
    assert f["c_low"] <= f["c"] <= f["c_high"]
    assert f["calibration"]["K"] == 6 and f["calibration"]["theory_beats_persistence_trials"]
    assert f["noise_sd"] == pytest.approx(0.05, rel=0.5)
    json.loads(json.dumps(f))


def test_short_run_keeps_its_series_for_the_pool() -> None:
    run = synthetic_run(1, n=15)
    f = forecast_v2(run, 5.0, 0.05, K=2)
    assert "overlap-free" in f["error"] and len(f["t"]) == 15


def test_bad_input_is_an_input_error() -> None:
    run = synthetic_run(0)
    with pytest.raises(InputError, match="hw must be a finite number > 0"):
        forecast_v2(run, 0.0, 0.05)
    with pytest.raises(InputError, match="beta must be"):
        forecast_v2(run, 5.0, math.nan)
    no_lr = RunData("nolr", Path("x"), spectra=run.spectra, config={"stride": 100},
                    probes=run.probes)
    with pytest.raises(InputError, match="no learning rate"):
        forecast_v2(no_lr, 5.0, 0.05)
    with pytest.raises(InputError, match="no probes"):
        measured_hw_beta(RunData("np", Path("x"), spectra=run.spectra, config=run.config))


def test_section_has_a_row_per_run_and_a_pooled_row() -> None:
    runs = [synthetic_run(s) for s in (0, 1)]
    fcs = {r.name: forecast_v2(r, *measured_hw_beta(r), K=4) for r in runs}
    fcs["short"] = forecast_v2(synthetic_run(2, n=15), 5.0, 0.05, K=2)
    fcs["broken"] = {"error": "no spectra"}
    lines = forecast_section(fcs)
    assert lines[0] == "## Gap forecast, version 2"
    table = [ln for ln in lines if ln.startswith("| ")]
    assert len(table) == 1 + 4 + 1  # header, four runs, one pooled row
    assert table[-1].startswith("| pooled: run_s0, run_s1, run_s2 |")
    assert all(ln.count("|") == table[0].count("|") for ln in table)
