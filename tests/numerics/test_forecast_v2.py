"""The gap forecast, version 2: one fitted parameter, overlap-free windows, rolling origins,
profile intervals, pooled seeds and the calibration against a negative control."""

from __future__ import annotations

import numpy as np
import pytest

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.forecast import (
    calibrate_forecast,
    forecast_gap_v2,
    lag_noise_sd,
    overlap_free,
    pool_seeds,
)
from spectral_edge.numerics.ode import GapSystem, integrate

ETA, HW, BETA, C, W = 0.1, 0.2, 0.02, 0.3, 10


def series(n: int = 60, noise: float = 0.0, seed: int = 0, hw: float = HW,
           c: float = C) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(float(n))
    g = integrate(GapSystem(c=c, beta=BETA, eta=ETA, hw=hw), [0.5], (0, n - 1), t_eval=t).y[0]
    return t, g + np.random.default_rng(seed).normal(0.0, noise, n)


def test_overlap_free_keeps_one_window_per_W_snapshots() -> None:
    t = np.r_[0.0, 3.0, 9.0, 10.0, 12.0, 25.0, 34.0, 35.0]
    keep = overlap_free(t, 10)
    assert keep.tolist() == [0, 3, 5, 7]
    assert np.all(np.diff(t[keep]) >= 10)


def test_exact_data_recover_c_inside_a_tight_interval() -> None:
    t, g = series(noise=1e-7)
    fc = forecast_gap_v2(t, g, eta=ETA, hw=HW, beta=BETA, W=W)
    d = fc.drive
    assert fc.n_used == 6 and d.n_steps == 5
    assert abs(d.c - C) < 1e-5
    assert d.c_low <= C <= d.c_high
    assert d.c_high - d.c_low < 1e-4
    assert fc.ratio_persistence < 0.01 and fc.ratio_linear < 0.01
    assert fc.frac_beats_both == 1.0
    np.testing.assert_allclose(fc.origin_c, C, atol=1e-4)


def test_profile_interval_covers_the_truth_in_most_noisy_replicates() -> None:
    covered = 0
    for seed in range(30):
        t, g = series(noise=0.03, seed=seed)
        d = pool_seeds([(t, g, HW, BETA)], eta=ETA, W=W).drive
        assert d.c_low < d.c < d.c_high
        covered += d.c_low <= C <= d.c_high
    assert covered >= 26  # nominal 95%; 26/30 allows sampling error


def test_pooled_seeds_share_one_c() -> None:
    runs = [(*series(seed=s, hw=h, noise=0.01), h, BETA) for s, h in ((0, 0.2), (1, 0.3))]
    pooled = pool_seeds(runs, eta=ETA, W=W)
    assert pooled.n_series == 2 and pooled.drive.n_steps == 10
    assert pooled.drive.c_low <= C <= pooled.drive.c_high
    assert len(pooled.c_per_series) == 2
    one = pool_seeds(runs[:1], eta=ETA, W=W).drive
    assert pooled.drive.c_high - pooled.drive.c_low < one.c_high - one.c_low


def test_theory_data_beat_persistence_more_often_than_the_negative_control() -> None:
    cal = calibrate_forecast(45.0, 0.15, 1.4, ETA, W, 61, 0.1, K=20, seed=1)
    assert cal.theory_persistence.trials == 20 and cal.control_persistence.trials == 20
    assert cal.theory_persistence.rate > cal.control_persistence.rate + 2 * max(
        cal.theory_persistence.se, cal.control_persistence.se, 0.05)
    d = cal.as_dict()
    assert d["theory_beats_both_trials"] == 20 and 0.0 <= d["control_beats_both"] <= 1.0


def test_lag_noise_sd_measures_white_noise() -> None:
    t = np.arange(400.0)
    g = 5.0 + np.random.default_rng(0).normal(0.0, 0.2, t.size)
    assert lag_noise_sd(t, g, W) == pytest.approx(0.2, rel=0.15)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"g": np.r_[np.nan, np.ones(59)]}, r"g must be finite and > 0; g\[0\] = nan"),
        ({"g": np.r_[1.0, -1.0, np.ones(58)]}, r"g\[1\] = -1.0"),
        ({"hw": 0.0}, "hw must be a finite number > 0"),
        ({"hw": -1.0}, "hw must be a finite number > 0"),
        ({"beta": -0.1}, "beta must be a finite number >= 0"),
        ({"t": np.arange(15.0), "g": np.ones(15)}, "hold 2 overlap-free ones"),
        ({"t": np.r_[0.0, 0.0, np.arange(2.0, 60.0)]}, "strictly increasing"),
        ({"g": np.ones(59)}, "same length"),
    ],
)
def test_bad_input_is_an_input_error(change: dict, match: str) -> None:
    t, g = series()
    args = {"t": t, "g": g, "hw": HW, "beta": BETA} | change
    with pytest.raises(InputError, match=match):
        forecast_gap_v2(args["t"], args["g"], eta=ETA, hw=args["hw"], beta=args["beta"], W=W)


def test_calibration_refuses_too_short_series() -> None:
    with pytest.raises(InputError, match="hold 2 overlap-free ones"):
        calibrate_forecast(HW, BETA, C, ETA, W, 20, 0.01, n_min=2)
