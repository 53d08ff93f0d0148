"""P7's pieces: exact R1+R3 over a snapshot, the slow-relaxation flag, the R² noise ceiling."""

from __future__ import annotations

import numpy as np
import pytest

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.snapshot import (
    SLOW_THRESHOLD,
    gamma_from_drive,
    noise_ceiling,
    predict_gap_change,
    relaxation_number,
    slow_relaxation,
)


def closed_form_lambda(lam0, h, gamma, eta, W, omega, t):
    """R1 in λ with N = 0, solved by hand: λ* + (λ0 − λ*)e^{−2η(h+ω)t}, λ* = WΓ/(h+ω)."""
    lam_star = W * gamma / (h + omega)
    return lam_star + (lam0 - lam_star) * np.exp(-2 * eta * (h + omega) * t)


@pytest.mark.parametrize("eta", [0.001, 0.1, 1.0])
def test_exact_change_matches_the_closed_form(eta: float) -> None:
    sigma, h, gamma = np.array([3.0, 1.5, 0.5]), np.array([2.0, 4.0, 9.0]), np.array([1.0, .3, .1])
    p = predict_gap_change(sigma, h, gamma, eta=eta, W=10, omega=0.5, k=1)
    lam = closed_form_lambda(sigma**2, h, gamma, eta, 10, 0.5, 1.0)
    s = np.sqrt(np.sort(lam)[::-1])
    assert p.change == pytest.approx((s[0] - s[1]) - (sigma[0] - sigma[1]), rel=1e-5, abs=1e-9)
    assert p.sigma_end == pytest.approx(s, rel=1e-6)


def test_euler_is_right_only_when_relaxation_is_slow() -> None:
    args = dict(sigma=[3.0, 1.0], h=[5.0, 5.0], Gamma=[1.0, 0.1], W=10)
    slow = predict_gap_change(**args, eta=1e-4)
    fast = predict_gap_change(**args, eta=0.2)
    assert slow.slow and not fast.slow
    assert slow.euler_change == pytest.approx(slow.change, rel=1e-3)
    assert abs(fast.euler_change - fast.change) > 0.5 * abs(fast.change)


def test_steady_state_does_not_move_and_noise_pushes_levels_apart() -> None:
    h, gamma = np.array([1.0, 2.0]), np.array([1.0, 0.5])
    steady = np.sqrt(10 * gamma / h)
    assert predict_gap_change(steady, h, gamma, eta=0.1, W=10).change == pytest.approx(0, abs=1e-9)
    noisy = predict_gap_change(steady, h, gamma, eta=0.1, W=10, N=[5.0, 5.0])
    assert noisy.change != 0.0 and np.all(np.isfinite(noisy.sigma_end))


def test_relaxation_number_and_flag() -> None:
    assert relaxation_number(0.1, 1.0, 10, omega=1.0) == pytest.approx(2.0)
    # the modadd numbers: lr 1e-3 · stride 100, W = 10, h+ω ≈ 18–28 ⇒ 18–28
    assert relaxation_number(0.1, np.array([17.0, 27.0]), 10, 1.0).tolist() == pytest.approx(
        [18.0, 28.0])
    assert slow_relaxation(1e-3, np.array([1.0, 9.0, 11.0]), 10).tolist() == [True, True, False]
    assert SLOW_THRESHOLD == 0.1
    with pytest.raises(InputError):
        relaxation_number(0.0, 1.0, 10)
    with pytest.raises(InputError):
        slow_relaxation(0.1, -1.0, 10)


def test_gamma_from_drive_makes_the_steady_state_the_steady_window() -> None:
    u, h, eta, W, omega = np.array([2.0, 0.3]), np.array([1.0, 4.0]), 0.05, 10, 1.0
    gamma = gamma_from_drive(u, h, eta, W, omega)
    assert gamma == pytest.approx(eta**2 * (h + omega) * u**2)
    assert np.sqrt(W * gamma / (h + omega)) == pytest.approx(np.sqrt(W) * eta * np.abs(u))
    with pytest.raises(InputError):
        gamma_from_drive(1.0, 0.0, 0.1, 10, 0.0)


def test_bad_input() -> None:
    with pytest.raises(InputError):
        predict_gap_change([1.0], [1.0], [1.0], eta=0.1, W=10)
    with pytest.raises(InputError):
        predict_gap_change([2.0, 1.0], [1.0], [1.0, 1.0], eta=0.1, W=10)
    with pytest.raises(InputError, match="equal levels"):
        predict_gap_change([1.0, 1.0], [1.0, 1.0], [1.0, 1.0], eta=0.1, W=10, N=[1.0, 1.0])
    with pytest.raises(InputError):
        predict_gap_change([2.0, np.nan], [1.0, 1.0], [1.0, 1.0], eta=0.1, W=10)


@pytest.mark.parametrize(("amp", "noise_sd"), [(2.0, 1.0), (1.0, 1.0), (0.5, 2.0)])
def test_noise_ceiling_recovers_the_known_ceiling(amp: float, noise_sd: float) -> None:
    rng = np.random.default_rng(7)
    t = np.arange(4000)
    signal = amp * np.sin(2 * np.pi * t / 400)  # slow: changes little per snapshot
    obs = signal + noise_sd * rng.normal(size=t.size)
    true = 1 - noise_sd**2 / np.var(obs, ddof=1)
    c = noise_ceiling(obs)
    assert c.r2_max == pytest.approx(true, abs=0.03)
    assert c.noise_sd == pytest.approx(noise_sd, rel=0.05)
    # a perfect predictor of the signal reaches (about) the ceiling, never much above it
    r2 = 1 - np.var(obs - signal) / np.var(obs)
    assert r2 == pytest.approx(c.r2_max, abs=0.03)


def test_noise_ceiling_of_pure_noise_is_near_zero_and_bad_input() -> None:
    rng = np.random.default_rng(1)
    assert abs(noise_ceiling(rng.normal(size=5000)).r2_max) < 0.05
    with pytest.raises(InputError):
        noise_ceiling([1.0, np.nan, 2.0])
    with pytest.raises(InputError):
        noise_ceiling([1.0, 1.0, 1.0])
