"""Calibration: tests pass on theory-true surrogates, fail on violations, and say
"inconclusive" when the data cannot tell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.columns import names
from spectral_edge.numerics.snapshot import gamma_from_drive
from spectral_edge.theory import lambdified as tx
from spectral_edge.validation.scorecard.calibration import (
    INCONCLUSIVE,
    NOT_MEASURABLE,
    VIOLATIONS,
    Calibration,
    SurrogateSpec,
    calibrate,
    surrogates,
)

SPEC = SurrogateSpec(h=(0.5, 1.0, 2.0, 4.0, 8.0, 16.0), Gamma=(1.0, 0.5, 0.3, 0.2, 0.1, 0.05),
                     eta=0.02, W=10, windows=15, P=32, noise=0.5, omega=0.1,
                     measurement_noise=0.3)


def p2_mode_kstar_at_most_3(spectra: pd.DataFrame, probes: pd.DataFrame) -> bool | None:
    k = spectra["kstar"].to_numpy(int)
    return None if k.size == 0 else int(np.argmax(np.bincount(k))) <= 3


def p16_steady_state_hierarchy(spectra: pd.DataFrame, probes: pd.DataFrame) -> bool | None:
    """Mean over probed windows of Spearman(d_j, √(WΓ_j/(h_j+ω))) > 0.5 (Γ in R1's units,
    from the probed squared drive u²)."""
    W, rhos = int(spectra["W"].iloc[0]), []
    for _, g in probes.groupby("step"):
        if len(g) >= 3:
            h, wd = g["h"].to_numpy(float), float(g["wd"].iloc[0])
            gamma = gamma_from_drive(np.sqrt(g["Gamma"].to_numpy(float)), h,
                                     float(g["eta_eff"].iloc[0]), W, wd)
            steady = tx.signal_steady_state(h, gamma, wd, W)
            rhos.append(stats.spearmanr(g["sigma"], steady).statistic)
    return None if not rhos else bool(np.nanmean(rhos) > 0.5)


def expanded(file: str, W: int) -> list[str]:
    out: list[str] = []
    for c in names(file):
        out += [c.replace("<j>", str(j)) for j in range(1, W + 1)] if "<j>" in c else [c]
    return out


def test_surrogates_use_the_run_directory_schema_and_are_deterministic() -> None:
    spec = SurrogateSpec(h=(1.0, 3.0, 9.0), Gamma=(1.0, 0.3, 0.1), eta=0.05, stride=10, W=5,
                         windows=4, P=16, noise=0.1, measurement_noise=0.2)
    a, b = surrogates(spec, K=2, seed=3), surrogates(spec, K=2, seed=3)
    assert list(a[0].spectra.columns) == expanded("spectra.csv", 5)
    assert list(a[0].probes.columns) == list(names("probes.csv"))
    assert len(a[0].spectra) == 4 and a[0].probes["mode"].max() == 3
    assert (a[0].spectra["step"] == 10 * a[0].spectra["snapshot"]).all()
    assert a[0].probes["eta_eff"].iloc[0] == pytest.approx(0.5)
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x.spectra, y.spectra)
        pd.testing.assert_frame_equal(x.probes, y.probes)
    assert not a[0].spectra["sigma_1"].equals(a[1].spectra["sigma_1"])  # independent streams
    c = surrogates(spec, K=1, seed=4)[0]
    assert not c.spectra["sigma_1"].equals(a[0].spectra["sigma_1"])


def test_p2_passes_when_true_and_fails_with_many_active_modes() -> None:
    cal = calibrate(p2_mode_kstar_at_most_3, SPEC, "many_active_modes", K=20, seed=0)
    assert cal.power >= 0.8 and cal.false_pass <= 0.2, cal
    assert cal.conclusive and cal.verdict(True) == "pass" and cal.verdict(False) == "fail"
    assert cal == calibrate(p2_mode_kstar_at_most_3, SPEC, "many_active_modes", K=20, seed=0)


def test_p2_cannot_tell_a_flat_spectrum_in_the_slow_regime() -> None:
    # with η(h+ω)W ≪ 1 every mode shares one temporal profile (R11): k* = 1 either way
    cal = calibrate(p2_mode_kstar_at_most_3, SPEC, "flat_injection", K=10, seed=0)
    assert cal.false_pass > 0.2 and cal.verdict(True) == INCONCLUSIVE


def test_p16_passes_when_true_and_fails_with_a_permuted_hierarchy() -> None:
    cal = calibrate(p16_steady_state_hierarchy, SPEC, "permuted_hierarchy", K=20, seed=0)
    assert cal.power >= 0.8 and cal.false_pass <= 0.2, cal
    assert cal.verdict(True) == "pass" and cal.verdict(False) == "fail"


def test_p16_with_too_little_data_is_inconclusive() -> None:
    small = SurrogateSpec(h=(0.5, 2.0, 8.0), Gamma=(1.0, 0.4, 0.1), eta=0.02, W=10, windows=1,
                          P=32, noise=0.5, measurement_noise=1.5)
    cal = calibrate(p16_steady_state_hierarchy, small, "permuted_hierarchy", K=20, seed=0)
    assert not cal.conclusive, cal
    assert cal.verdict(True) == INCONCLUSIVE and cal.verdict(False) == INCONCLUSIVE


def test_rates_standard_errors_and_unmeasurable() -> None:
    cal = calibrate(lambda s, p: None, SPEC, "flat_injection", K=4, seed=1)
    assert (cal.power, cal.false_pass, cal.unmeasurable_true, cal.unmeasurable_false) == (
        0.0, 0.0, 4, 4)
    half = Calibration("x", 16, 0.5, 0.125, 0.0, 0.0, 0, 0)
    assert half.power_se == pytest.approx(np.sqrt(0.25 / 16))
    ok = Calibration("x", 16, 0.9, 0.075, 0.1, 0.075, 0, 0)
    assert ok.verdict(None) == NOT_MEASURABLE and ok.verdict(True) == "pass"
    cal = calibrate(lambda s, p: bool(len(s) % 2), SPEC, "flat_injection", K=5, seed=1)
    assert cal.power_se == pytest.approx(np.sqrt(cal.power * (1 - cal.power) / 5))


def test_bad_input() -> None:
    with pytest.raises(InputError, match="unknown violation"):
        calibrate(p2_mode_kstar_at_most_3, SPEC, "nope", K=2)
    with pytest.raises(InputError):
        SurrogateSpec(h=(1.0,), Gamma=(1.0,), eta=0.1, W=5)
    with pytest.raises(InputError):
        SurrogateSpec(h=(1.0, 2.0), Gamma=(1.0, 0.1), eta=0.0, W=5)
    with pytest.raises(InputError):
        surrogates(SPEC, K=0)
    with pytest.raises(InputError, match="W >= 7"):
        VIOLATIONS["many_active_modes"].spec(SurrogateSpec(h=(1.0, 2.0), Gamma=(1.0, 0.1),
                                                           eta=0.1, W=5))
