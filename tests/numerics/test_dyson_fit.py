"""The Dyson SDE (numerics/dyson.py) and the least-squares fits (numerics/fit.py)."""

from __future__ import annotations

import numpy as np
import pytest

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.dyson import compare_mean_path, simulate_dyson
from spectral_edge.numerics.fit import fit_gap, fit_signal, r_squared
from spectral_edge.numerics.ode import GapSystem, SignalSystem, integrate

CLOSE = dict(
    h=np.array([0.5, 0.55]), Gamma=np.array([1.0, 1.0]), N=np.array([20.0, 20.0]), eta=0.1, W=10
)


def test_matrix_scheme_keeps_the_order_and_the_level_controls_cross() -> None:
    kw = dict(CLOSE, lam0=np.array([22.0, 20.0]), t_end=20.0, paths=60, seed=1)
    with_rep = simulate_dyson(**kw, dt=0.1)  # matrix scheme, the derived rate
    control = simulate_dyson(**kw, dt=0.1, scheme="levels", repulsion=False)
    levels = simulate_dyson(**kw, dt=0.1, scheme="levels")  # derived rate: Euler crosses
    assert with_rep.crossings == 0
    assert with_rep.min_rel_sep > 0
    assert control.crossings > 10  # same noise without repulsion: levels do cross
    assert levels.crossings > 0


def test_matrix_scheme_converges_in_dt() -> None:
    """Mean gap at t = 5 for dt and dt/4 agree within four combined standard errors, and a
    deliberately coarse step (dt = 2.5) is detected as different (the test can fail)."""
    kw = dict(h=np.array([1.0, 1.1]), Gamma=np.array([1.0, 0.9]), N=np.array([20.0, 20.0]),
              eta=0.1, W=10, lam0=np.array([12.0, 8.0]), t_end=5.0, record_every=5.0,
              paths=1500, seed=3)
    stats = []
    for dt in (0.1, 0.025, 2.5):
        d = np.sqrt(simulate_dyson(**kw, dt=dt).lam[:, -1])
        g = d[:, 0] - d[:, 1]
        stats.append((g.mean(), g.std(ddof=1) / np.sqrt(g.size)))
    (m1, s1), (m2, s2), (m3, s3) = stats
    assert abs(m1 - m2) <= 4 * np.hypot(s1, s2)
    assert abs(m3 - m2) > 4 * np.hypot(s3, s2)


def test_drift_test_prefers_the_derived_dyson_term() -> None:
    from spectral_edge.numerics.dyson import drift_test

    kw = dict(h=np.array([1.0, 1.1]), Gamma=np.array([1.0, 0.9]), N=np.array([20.0, 20.0]),
              eta=0.1, W=10)
    rows = drift_test([(12.0, 9.0), (30.0, 5.0)], **kw, paths=4000, tau=0.05, steps=10)
    assert all(abs(r.z_derived) <= 4 for r in rows)
    assert max(abs(r.z_no_d) for r in rows) > 4
    with pytest.raises(InputError):
        drift_test([(1.0, 2.0)], **kw)


def test_sde_is_reproducible_and_deterministic_without_noise() -> None:
    kw = dict(CLOSE, lam0=np.array([22.0, 20.0]), t_end=5.0, dt=0.05, paths=4)
    a, b = simulate_dyson(**kw, seed=7), simulate_dyson(**kw, seed=7)
    np.testing.assert_array_equal(a.lam, b.lam)
    quiet = dict(kw, N=np.zeros(2), dt=0.001, paths=1)
    path = simulate_dyson(**quiet, seed=0)
    cmp = compare_mean_path(path, **{k: quiet[k] for k in ("h", "Gamma", "N", "eta", "W")})
    assert cmp.max_rel_error.max() < 1e-3  # Euler with a small step vs an accurate solver


def test_sde_mean_path_is_near_the_ode() -> None:
    kw = dict(CLOSE, lam0=np.array([25.0, 10.0]), t_end=30.0, dt=0.05, paths=200, seed=2)
    paths = simulate_dyson(**kw)
    cmp = compare_mean_path(paths, **{k: kw[k] for k in ("h", "Gamma", "N", "eta", "W")})
    assert cmp.max_rel_error.max() < 0.1
    assert cmp.stderr_rel.max() < 0.05


@pytest.mark.parametrize(
    "change",
    [
        {"lam0": np.array([1.0, 1.0])},
        {"lam0": np.array([-1.0, 1.0])},
        {"dt": 0.0},
        {"paths": 0},
        {"t_end": 1.05},
    ],
)
def test_bad_sde_input_raises(change: dict) -> None:
    kw = dict(CLOSE, lam0=np.array([2.0, 1.0]), t_end=1.0, dt=0.1, paths=2) | change
    with pytest.raises(InputError):
        simulate_dyson(**kw)


def test_signal_fit_recovers_parameters_and_predicts_the_held_out_part() -> None:
    truth = SignalSystem(
        h=np.array([0.1, 0.6]),
        Gamma=np.array([1.0, 0.6]),
        eta=0.1,
        W=10,
        omega=0.05,
        # small noise: fit_signal models no noise, and R3's noise mean Wη²N_j would pass
        # for an injection of ηN_j/2 (0.15 at N = 3)
        N=np.array([0.3, 0.3]),
    )
    t = np.linspace(0.0, 100.0, 51)
    lam = integrate(truth, [2.0, 1.0], (0, 100), t_eval=t, rtol=1e-10).y
    rng = np.random.default_rng(0)
    sigma = np.sqrt(lam.T) * (1 + 0.002 * rng.normal(size=(51, 2)))
    fit = fit_signal(t, sigma, eta=0.1, W=10, omega=0.05, t_split=60.0)
    assert fit.success
    for name, value in {"h_1": 0.1, "h_2": 0.6, "Gamma_1": 1.0, "Gamma_2": 0.6}.items():
        assert fit.params[name] == pytest.approx(value, rel=0.05), name
        assert np.isfinite(fit.stderr[name]) and fit.stderr[name] < 0.1
    assert fit.r2_fit > 0.999 and fit.r2_heldout > 0.99
    assert fit.prediction.shape == sigma.shape


def test_gap_fit_recovers_repulsion() -> None:
    t = np.linspace(0.0, 60.0, 61)
    g = integrate(
        GapSystem(c=-0.4, beta=0.3, eta=0.1, hw=1.5), [4.0], (0, 60), t_eval=t, rtol=1e-11
    ).y[0]
    fit = fit_gap(t, g, eta=0.1, t_split=15.0)
    truth = {"c": -0.4, "beta": 0.3, "hw": 1.5}
    assert max(abs(fit.params[k] - v) / abs(v) for k, v in truth.items()) < 1e-3
    assert fit.r2_heldout > 0.999


def test_r_squared_and_bad_fit_input() -> None:
    assert r_squared(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 1.0
    with pytest.raises(InputError):
        fit_gap(np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, -1.0, 1.0, 1.0]), eta=0.1)
    with pytest.raises(InputError):
        fit_signal(np.arange(5.0), np.ones((5, 2)), eta=0.1, W=10)  # equal initial levels
    with pytest.raises(InputError):
        fit_gap(np.arange(5.0), np.ones(5), eta=0.1, t_split=1.0)  # too few points to fit


def test_mean_gap_path_is_predicted_better_with_the_derived_dyson_term() -> None:
    """R2's gap ODE (PairSystem) with the derived D (repulsion + noise part) follows the mean
    SDE gap d_1 − d_2 closer than the same ODE with D = 0; errors are max_t |mean g − g_ODE|
    over max_t mean g, against the Monte-Carlo standard error on the same scale."""
    from spectral_edge.numerics.dyson import simulate_dyson
    from spectral_edge.numerics.ode import PairSystem

    kw = dict(h=np.array([1.0, 1.1]), Gamma=np.array([1.0, 0.9]), N=np.array([20.0, 20.0]),
              eta=0.1, W=10)
    paths = simulate_dyson(**kw, lam0=np.array([12.0, 6.0]), t_end=20.0, dt=0.05, paths=150,
                           seed=1)
    d = np.sqrt(np.clip(paths.lam, 0.0, None))
    gaps = d[..., 0] - d[..., 1]
    mean, scale = gaps.mean(axis=0), float(np.max(np.abs(gaps.mean(axis=0))))
    errors = []
    for N in (kw["N"], np.zeros(2)):
        pair = PairSystem(h_k=1.0, h_k1=1.1, Gamma_k=1.0, Gamma_k1=0.9, eta=0.1, W=10,
                          N_k=N[0], N_k1=N[1])
        sol = integrate(pair, [gaps[0, 0], d[0, 0].mean()], (0.0, float(paths.t[-1])),
                        t_eval=paths.t)
        assert sol.success
        errors.append(float(np.max(np.abs(mean - sol.y[0]))) / scale)
    stderr = float(np.max(gaps.std(axis=0) / np.sqrt(gaps.shape[0]))) / scale
    error_derived, error_no_d = errors
    assert error_derived < 0.5 * error_no_d
    assert error_no_d > 5 * stderr
