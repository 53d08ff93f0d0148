"""spectral_edge.validation.scorecard.analysis (run directories, external spectra files, the §8
definitions in both
forms) and the held-out gap forecast (spectral_edge.numerics.forecast) with its baselines."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_predictions_data import make_run

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.bootstrap import bootstrap_ci
from spectral_edge.numerics.forecast import forecast_gap
from spectral_edge.numerics.ode import GapSystem, integrate
from spectral_edge.validation.scorecard import analysis as an
from spectral_edge.validation.scorecard.report import analyze, gap_forecast

SIGMA = [[9.0, 3.0, 2.0, 1.0], [8.0, 3.5, 2.0, 1.0], [7.0, 4.0, 2.5, 1.0]]


def test_external_csv_written_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("step,sigma_1,sigma_2,sigma_3,sigma_4\n"
                    + "\n".join(f"{100 * (i + 1)},{','.join(map(str, s))}"
                                for i, s in enumerate(SIGMA)) + "\n")
    run = an.load(path)
    assert run.external and run.W == 4 and len(run.spectra) == 3
    assert run.spectra["kstar_ratio"].tolist() == [1, 1, 3]  # 7/4, 4/2.5, 2.5/1
    assert run.spectra["g23_lambda"].iloc[0] == pytest.approx(9.0 - 4.0)
    assert run.spectra["vacuity"].isna().all()  # no P given: P-dependent stats are NaN
    summary, results = analyze(run)
    assert [r.id for r in results] == ["P1", "P2", "P5", "P6"]
    assert summary["mode_kstar"] == 1


def test_external_json_with_P_and_eta(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    windows = [{"step": 10 * (i + 1), "sigma": s} for i, s in enumerate(SIGMA)]
    path.write_text(json.dumps({"P": 1000, "eta": 0.01, "windows": windows}))
    run = an.load(path)
    assert run.spectra["P"].iloc[0] == 1000 and np.isfinite(run.spectra["vacuity"]).all()
    assert run.eta_eff == pytest.approx(0.01)


@pytest.mark.parametrize("text,suffix,match", [
    ("step,sigma_1\n1,2\n", ".csv", "sigma_1..sigma_W"),
    ("step,sigma_1,sigma_2\n2,1,1\n1,1,1\n", ".csv", "strictly increasing"),
    ("step,sigma_1,sigma_2\n1,nan,1\n", ".csv", "finite"),
    ("{not json", ".json", "not valid JSON"),
    ("[1, 2]", ".json", "list of windows"),
    ("a,b", ".txt", ".csv or .json"),
])
def test_bad_external_files(tmp_path: Path, text: str, suffix: str, match: str) -> None:
    path = tmp_path / f"bad{suffix}"
    path.write_text(text)
    with pytest.raises(InputError, match=match):
        an.load(path)


def test_missing_path_and_empty_dir(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="neither"):
        an.load(tmp_path / "nope")
    with pytest.raises(InputError, match="spectra.csv"):
        an.load(tmp_path)


def test_grok_rules_differ_as_in_the_scripts() -> None:
    m = pd.DataFrame({"step": [0, 100, 200, 300, 400, 500],
                      "test_acc": [0.0, 0.96, 0.97, 0.99, 0.99, 0.99]})
    assert an.grok_step(m, "spec") == 100
    assert an.grok_step(m, "patience") == 500
    assert an.grok_step(m.assign(test_acc=0.5), "spec") is None
    with pytest.raises(InputError):
        an.grok_step(m, "other")


def test_g23_decline_full_and_adaptive(tmp_path: Path) -> None:
    n = 6
    sigma = np.tile([5.0, 3.0, 2.0, 1.0], (n, 1))
    sigma[:, 1] = np.linspace(3.0, 2.1, n)
    run = an.load(make_run(tmp_path, "r", n=n, W=4, sigma=sigma, grams=True))
    full = an.g23_decline(run, None)
    lam = sigma**2
    assert full.ratio == pytest.approx((lam[0, 1] - lam[0, 2]) / (lam[-1, 1] - lam[-1, 2]))
    early = an.early_g23(run)
    assert early["g23_lambda"].iloc[0] == pytest.approx(3.0**2)  # w = 2 window: g23 = σ₂²... of K
    adaptive = an.g23_decline(run, None, adaptive=True)
    assert adaptive.adaptive and adaptive.ratio > full.ratio


def test_alpha_proxy_is_at_least_the_exact_alpha(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(14, 200)) * np.r_[np.full(4, 5.0), np.ones(10)][:, None]
    from spectral_edge.numerics.spectra import window_stats

    rows, grams = [], []
    for t in range(4, 14):
        K = X[t - 4:t + 1] @ X[t - 4:t + 1].T
        grams.append(K)
        rows.append({"step": t} | window_stats(P=200, gram_plus=K, eta_eff=0.1).as_row())
    path = tmp_path / "r"
    path.mkdir()
    pd.DataFrame(rows).to_csv(path / "spectra.csv", index=False)
    run = an.load(path)
    exact, proxy = run.alpha()[1:], an.alpha_proxy(run)[1:]
    assert np.all(proxy >= exact - 1e-12) and np.any(proxy > exact + 1e-6)


def test_find_runs_skips_non_runs(tmp_path: Path) -> None:
    make_run(tmp_path, "a")
    make_run(tmp_path / "sub", "b")
    (tmp_path / "junk").mkdir()
    assert [r.name for r in an.find_runs(tmp_path)] == ["a", "b"]


def test_bootstrap_is_deterministic_and_covers() -> None:
    x = np.random.default_rng(5).normal(2.0, 1.0, 200)
    a, b = bootstrap_ci(x), bootstrap_ci(x)
    assert a == b and a.low < 2.0 < a.high and a.high - a.low < 0.5


def test_forecast_beats_baselines_on_ode_data() -> None:
    t = np.arange(40.0)
    g = integrate(GapSystem(c=0.5, beta=0.05, eta=0.1, hw=1.0), [0.3], (0, 39),
                  t_eval=t).y[0]
    fc = forecast_gap(t, g, eta=0.1)
    assert fc.beats_both and fc.ratio_persistence < 0.1 and fc.ratio_linear < 1
    assert fc.identifiable
    assert fc.fit.params["c"] == pytest.approx(0.5, rel=0.05)


def test_forecast_loses_on_a_random_walk() -> None:
    rng = np.random.default_rng(7)
    t = np.arange(30.0)
    g = 5 + np.cumsum(rng.normal(0, 0.3, 30))
    fc = forecast_gap(t, g, eta=0.1)
    assert not fc.beats_both or fc.ratio_persistence > 0.5
    with pytest.raises(InputError, match="fewer|< 4"):
        forecast_gap(t[:5], g[:5], eta=0.1)


def test_gap_forecast_of_a_run(tmp_path: Path) -> None:
    t = np.arange(20.0)
    g = integrate(GapSystem(c=0.5, beta=0.05, eta=0.1, hw=1.0), [0.3], (0, 19),
                  t_eval=t).y[0]
    sigma = np.tile(np.r_[10.0, np.linspace(3.0, 1.0, 9)], (20, 1))
    sigma[:, 0] = sigma[:, 1] + g
    run = an.load(make_run(tmp_path, "r", sigma=sigma, config={"lr": 0.001, "stride": 100}))
    fc, k = gap_forecast(run)
    assert k == 1 and fc.n_fit == 14 and fc.n_heldout == 6
    assert fc.beats_both
