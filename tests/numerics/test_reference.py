"""The reference simulator against direct computations (numerics/reference.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spectral_edge.common.errors import InputError
from spectral_edge.numerics import spectra
from spectral_edge.numerics.reference import QuadraticProblem, simulate


def test_gd_matches_the_closed_form_krylov_sequence() -> None:
    h = np.array([1.5, 0.7, 0.1])
    grad0 = np.array([1.0, -2.0, 0.5])
    prob = QuadraticProblem(h=h, Gamma=np.zeros(3), P=3, theta0=grad0 / h, basis="identity")
    eta, steps = 0.4, 8
    res = simulate(prob, "gd", eta=eta, W=3, steps=steps)
    s = np.arange(steps)[:, None]
    expected = -eta * (1 - eta * h) ** s * grad0  # δ_s = −η(I − ηH)^s g_0
    np.testing.assert_allclose(res.proj[0], expected, rtol=1e-12, atol=1e-15)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 1000),
    optimizer=st.sampled_from(["gd", "sgd", "adamw", "muon"]),
    W=st.integers(2, 6),
)
def test_recorded_window_matches_direct_svd(seed: int, optimizer: str, W: int) -> None:
    """σ and ‖ΔC‖ from the streaming (W+1)-Gram equal a direct SVD of the stored updates."""
    prob = QuadraticProblem(
        h=np.array([2.0, 0.5, 0.1]),
        Gamma=np.array([1.0, 0.3, 0.1]),
        P=12,
        noise=0.05,
        h_bulk=0.2,
        theta0=np.array([1.0, 1.0, 1.0]),
        seed=seed,
    )
    eta = 0.01 if optimizer in ("adamw", "muon") else 0.1
    steps = W + 6
    res = simulate(
        prob, optimizer, eta=eta, W=W, steps=steps, omega=0.1, seed=seed, keep_updates=True
    )
    deltas = res.updates[0]
    for i, t in enumerate(res.t):
        X_now = deltas[t - W : t]
        X_prev = deltas[t - W - 1 : t - 1]
        sv = np.linalg.svd(X_now, compute_uv=False)
        np.testing.assert_allclose(
            res.sigma[0, i], spectra.sigma_from_gram(X_now @ X_now.T), rtol=1e-9, atol=1e-12 * sv[0]
        )
        np.testing.assert_allclose(
            res.sigma[0, i][sv > 1e-6 * sv[0]], sv[sv > 1e-6 * sv[0]], rtol=1e-8
        )
        dC = np.linalg.norm(X_now.T @ X_now - X_prev.T @ X_prev)
        assert res.delta_c_fro[0, i] == pytest.approx(dC, rel=1e-7, abs=1e-12 * sv[0] ** 2)
        assert res.delta_c_op[0, i] == pytest.approx(
            np.linalg.norm(X_now.T @ X_now - X_prev.T @ X_prev, 2),
            rel=1e-7,
            abs=1e-12 * sv[0] ** 2,
        )
    np.testing.assert_allclose(res.proj[0], deltas @ prob.modes(), rtol=1e-12, atol=1e-15)


def test_mode_energy_is_the_window_sum_of_squared_projections() -> None:
    prob = QuadraticProblem(h=np.array([0.5, 0.1]), Gamma=np.array([1.0, 0.2]), P=10)
    res = simulate(prob, "gd", eta=0.1, W=4, steps=30, replicas=2, seed=3)
    for i, t in enumerate(res.t):
        np.testing.assert_allclose(
            res.mode_energy[:, i], (res.proj[:, t - 4 : t] ** 2).sum(axis=1), rtol=1e-12
        )


def test_noise_free_updates_stay_in_the_mode_span() -> None:
    """Without noise Σσ² (all window energy) equals the energy on the signal modes."""
    prob = QuadraticProblem(h=np.array([0.3, 0.1, 0.05]), Gamma=np.ones(3), P=40)
    res = simulate(prob, "gd", eta=0.1, W=5, steps=60, replicas=2, seed=1)
    np.testing.assert_allclose((res.sigma**2).sum(-1), res.mode_energy.sum(-1), rtol=1e-10)


def test_muon_update_is_orthogonal_and_adamw_is_sign_like_at_start() -> None:
    prob = QuadraticProblem(
        h=np.array([1.0, 0.2]),
        Gamma=np.zeros(2),
        P=12,
        theta0=np.array([3.0, -1.0]),
        matrix_shape=(4, 3),
    )
    eta = 1e-3
    muon = simulate(prob, "muon", eta=eta, W=2, steps=4, keep_updates=True)
    for delta in muon.updates[0]:
        # ω = 0: δ = −η·√(4/3)·UVᵀ, every singular value of the 4×3 update equal
        sv = np.linalg.svd(delta.reshape(4, 3), compute_uv=False)
        np.testing.assert_allclose(sv, eta * np.sqrt(4 / 3), rtol=1e-9)
    adam = simulate(prob, "adamw", eta=eta, W=2, steps=4, keep_updates=True)
    # first Adam step: m̂/√v̂ = sign(g) up to ε, so |δ_i| = η on every coordinate
    np.testing.assert_allclose(np.abs(adam.updates[0, 0]), eta, rtol=1e-6)


def test_weight_decay_shrinks_parameters_without_gradient() -> None:
    prob = QuadraticProblem(
        h=np.array([0.0]), Gamma=np.zeros(1), P=1, theta0=np.array([1.0]), basis="identity"
    )
    res = simulate(prob, "gd", eta=0.1, W=2, steps=4, omega=0.5)
    np.testing.assert_allclose(res.proj[0, :, 0], -0.05 * 0.95 ** np.arange(4), rtol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"eta": -0.1}, "learning rate"),
        ({"W": 1}, "W must be"),
        ({"optimizer": "lbfgs"}, "optimizer must be one of"),
        ({"omega": -1.0}, "weight decay"),
        ({"steps": 3}, "too short"),
    ],
)
def test_bad_simulation_input_raises(kwargs: dict, message: str) -> None:
    prob = QuadraticProblem(h=np.array([1.0]), Gamma=np.array([0.1]), P=4)
    args = {"optimizer": "gd", "eta": 0.1, "W": 3, "steps": 10} | kwargs
    optimizer = args.pop("optimizer")
    with pytest.raises(InputError, match=message):
        simulate(prob, optimizer, **args)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"h": np.array([-1.0]), "Gamma": np.array([0.1])},
        {"h": np.array([1.0]), "Gamma": np.array([0.1, 0.2])},
        {"h": np.array([1.0]), "Gamma": np.array([0.1]), "P": 0},
        {"h": np.array([1.0]), "Gamma": np.array([0.1]), "matrix_shape": (3, 3)},
    ],
)
def test_bad_problem_raises(kwargs: dict) -> None:
    with pytest.raises(InputError):
        QuadraticProblem(**({"P": 4} | kwargs))
