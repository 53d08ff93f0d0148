"""Version-2 checks P5, P8, P9, P12, P13, P15: measures, surrogates and calibration."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spectral_edge.validation.scorecard.predictions import events_v2
from spectral_edge.validation.scorecard.predictions.base import standard
from spectral_edge.validation.scorecard.predictions.checks import CHECKS, calibrate_check
from spectral_edge.validation.scorecard.predictions.event_surrogates import accuracy_metrics
from spectral_edge.validation.scorecard.rundata import RunData

PIDS = ("P5", "P8", "P9", "P12", "P13", "P15")


def template(name: str, *, task: str = "dyck", wd: float = 1.0, W: int = 3,
             stride: int = 200, windows: int = 40, grok_at: int | None = None,
             forget: int | None = None, probe: bool = True, kstar: int = 1,
             top2: bool = True) -> RunData:
    """A run record with the shape of a real one (windows, evaluations every 100 steps,
    probes every 4 windows); its values are placeholders the makers replace."""
    snaps = np.arange(W, W + windows)
    steps = snaps * stride
    spectra = pd.DataFrame({"step": steps, "snapshot": snaps, "W": W, "kstar": 1,
                            "sigma_1": 1.0, "sigma_2": 0.5})
    msteps = np.arange(0, steps[-1] + 1, 100)
    g = None if grok_at is None else int(msteps[np.argmin(np.abs(msteps - grok_at))])
    cfg = {"task": task, "wd": wd, "lr": 1e-3, "stride": stride, "window": W,
           "probe_batch": 512, "forget_step": forget}
    pr = pw = None
    if probe:
        ps = steps[::4]
        pr = pd.DataFrame({"step": np.repeat(ps, 2), "mode": np.tile([1, 2], ps.size),
                           "kstar_weighted": kstar})
        pw = pd.DataFrame({"step": ps, "kstar_weighted": kstar})
        if top2:
            pw["abl_top2_dacc"] = 0.0
    return RunData(name, Path(name), spectra, cfg, metrics=accuracy_metrics(msteps, g),
                   probes=pr, probe_windows=pw)


@pytest.fixture(scope="module")
def runs() -> list[RunData]:
    """A representative plan: Dyck (W = 3) and modular (W = 10) weight-decay runs that
    grok, modular no-decay runs that do not, and an induced-forgetting run."""
    out = []
    for s in range(3):
        out.append(template(f"dyck_wd1_s{s}", windows=60, grok_at=7000 + 500 * s))
        out.append(template(f"modadd_wd1_s{s}", task="modadd", W=10, stride=100,
                            windows=22, grok_at=2900))
        out.append(template(f"modadd_wd0_s{s}", task="modadd", wd=0.0, W=10, stride=500,
                            windows=30, probe=False))
    out.append(template("modadd_forget", task="modadd", W=10, stride=100, windows=50,
                        grok_at=2900, forget=3500))
    return out


def _used(pid: str, runs: list[RunData]) -> list[RunData]:
    return runs if CHECKS[pid].all_runs else standard(runs)


def test_import_registers_the_six_checks_with_surrogates() -> None:
    for pid in PIDS:
        chk = CHECKS[pid]
        assert chk.theory_true is not None and chk.theory_false is not None
        assert chk.violation
    assert CHECKS["P12"].all_runs and not CHECKS["P5"].all_runs


@pytest.mark.parametrize("pid", PIDS)
def test_theory_true_passes_and_control_fails_at_calibrated_rates(
        pid: str, runs: list[RunData]) -> None:
    cal = calibrate_check(CHECKS[pid], _used(pid, runs), K=10)
    assert cal.power >= 0.8, cal
    assert cal.false_pass <= 0.2, cal
    assert cal.conclusive


@pytest.mark.parametrize("pid", PIDS)
def test_makers_are_deterministic_in_the_seed(pid: str, runs: list[RunData]) -> None:
    chk, used = CHECKS[pid], _used(pid, runs)
    a, b = chk.measure(chk.theory_true(used, 7)), chk.measure(chk.theory_true(used, 7))
    assert a.text == b.text and a.passed == b.passed
    assert chk.measure(chk.theory_true(used, 8)).runs != a.runs  # names carry the seed


@pytest.mark.parametrize("pid", PIDS)
def test_not_measurable_without_runs(pid: str) -> None:
    out = CHECKS[pid].measure([])
    assert out.passed is None and out.reason


def test_p13_scores_dyck_scan_only(runs: list[RunData]) -> None:
    modular = [r for r in runs if r.get("task") == "modadd"]
    made = CHECKS["P13"].theory_true(modular, 0)
    out = events_v2.p13_v2(made)
    assert out.passed is None and "Dyck/SCAN" in out.reason
    assert out.details["per_run"] and not out.details["scored"]
    dyck = events_v2.p13_v2(CHECKS["P13"].theory_true(runs, 0))
    assert dyck.passed is True and all(n.startswith("dyck") for n in dyck.runs)
    assert "at or before" in dyck.details["window_at_grok"]


def test_p12_without_forgetting_is_not_measurable_when_a_and_b_pass(
        runs: list[RunData]) -> None:
    no_forget = [r for r in runs if r.get("forget_step") is None]
    out = events_v2.p12_v2(CHECKS["P12"].theory_true(no_forget, 0))
    assert out.passed is None and "part c" in out.reason
    bad = events_v2.p12_v2(CHECKS["P12"].theory_false(no_forget, 0))
    assert bad.passed is False
    assert "b_offset_from_rise_midpoint_windows" in out.details


def test_p15_falls_back_to_v1_and_counts_zero_at_resolution() -> None:
    r = template("dyck_old_probes", windows=60, grok_at=7000, top2=False)
    out = events_v2.p15_v2(CHECKS["P15"].theory_true([r], 0))
    assert "v₁ only — the v₁+v₂ block was not probed" in out.text
    assert "0 at resolution 1/n_test" in out.text and "n_test = 512" in out.text
    assert out.passed is True


def test_p15_not_measurable_before_grokking() -> None:
    r = template("dyck_early", windows=60, grok_at=None)
    assert events_v2.p15_v2([r]).passed is None


def test_rise_midpoint_and_p9_reads_the_window_at_grok(runs: list[RunData]) -> None:
    m = pd.DataFrame({"step": [0, 100, 200, 300], "test_acc": [0.1, 0.2, 0.6, 0.99]})
    assert events_v2.rise_midpoint(m) == 200
    out = events_v2.p9_v2(CHECKS["P9"].theory_false(standard(runs), 0))
    assert out.passed is False and set(out.details["kstar_at_grok"].values()) == {2}


def test_p15_uses_the_joint_ablation_where_a_later_probe_measured_it() -> None:
    r = CHECKS["P15"].theory_true([template("dyck_mixed", windows=60, grok_at=7000,
                                            top2=False)], 0)[0]
    pw = r.probe_windows.copy()
    pw["abl_top2_dacc"] = np.nan
    last = pw.index[-1]
    pw.loc[last, "abl_top2_dacc"] = -0.61  # e.g. `spectral-edge probe --at` after the run
    rows, how = events_v2._edge_rows(RunData(r.name, r.path, r.spectra, r.config,
                                             metrics=r.metrics, probes=r.probes,
                                             probe_windows=pw))
    assert rows.loc[last, "edge"] == -0.61 and np.isfinite(rows["edge"]).all()
    assert how.startswith("v₁+v₂ (abl_top2_dacc) in 1 rows")


def _early_plan(dense: bool) -> list[RunData]:
    """Three modular weight-decay runs, a Dyck run that groks in its first window (step
    600, W = 3, stride 200), its dense re-run (stride 50) if ``dense``, and controls."""
    out = [template(f"modadd_wd1_s{s}", task="modadd", W=10, stride=100, windows=22,
                    grok_at=2900) for s in range(3)]
    out += [template(f"modadd_wd0_s{s}", task="modadd", wd=0.0, W=10, stride=500,
                     windows=30, probe=False) for s in range(2)]
    out.append(template("dyck_wd1_s42", windows=8, grok_at=600))
    if dense:
        out.append(template("dyck_wd1_s42_dense50", stride=50, windows=37, grok_at=600))
    return out


def test_p8_scores_a_dense_rerun_in_place_of_a_run_that_groks_in_its_first_window() -> None:
    sparse = events_v2.p8_v2(CHECKS["P8"].theory_true(_early_plan(False), 0))
    assert "dyck_wd1_s42~0" in sparse.details["too_early"]
    assert "dyck_wd1_s42~0" not in sparse.details["declines"]["spec_full"]
    assert "1 too early to score" in sparse.text
    dense = events_v2.p8_v2(CHECKS["P8"].theory_true(_early_plan(True), 0))
    assert dense.details["too_early"] == {}
    assert "dyck_wd1_s42_dense50~0" in dense.details["declines"]["spec_full"]
    assert dense.passed is True and "1 scored on a dense re-run" in dense.text
    # the dense re-run is read by P8 only: every other check sees the original once
    assert "dyck_wd1_s42_dense50" not in [r.name for r in standard(_early_plan(True))]


def test_p8_is_calibrated_with_a_dense_rerun() -> None:
    cal = calibrate_check(CHECKS["P8"], _early_plan(True), K=10)
    assert cal.power >= 0.8 and cal.false_pass <= 0.2, cal
