"""Property tests of the consequences of R1–R11 on the lambdified callables of
spectral_edge.theory.lambdified."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from spectral_edge.theory import lambdified as tx

pos = st.floats(min_value=0.05, max_value=20.0, allow_nan=False)
small_pos = st.floats(min_value=0.01, max_value=1.0, allow_nan=False)
nonneg = st.floats(min_value=0.0, max_value=5.0, allow_nan=False)
windows = st.integers(min_value=2, max_value=50)
FAST = settings(max_examples=40, deadline=None)


CONTRACT = {
    "signal_rhs": ["d", "h", "Gamma", "eta", "omega", "W"],
    "signal_steady_state": ["h", "Gamma", "omega", "W"],
    "eigen_drift": ["lam", "h", "Gamma", "eta", "omega", "W"],
    "repulsion_rate": ["lam_i", "lam_j", "N_i", "N_j", "eta"],
    "dyson_rhs": ["lam", "h", "Gamma", "N", "eta", "omega", "W"],
    "gap_flow_rhs": ["d_k", "d_k1", "h_k", "h_k1", "Gamma_k", "Gamma_k1", "N_k", "N_k1", "eta",
                     "omega", "W"],
    "reduced_gap_rhs": ["g", "c", "beta", "eta", "hw"],
    "gap_equilibrium": ["c", "beta", "eta", "hw"],
    "reduced_gap_slope": ["g", "c", "beta", "eta", "hw"],
    "adiabatic_parameter": ["dC", "eta", "g"],
    "bbp_threshold": ["nu", "P", "W"],
}


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_contract_signatures(name: str) -> None:
    fn = getattr(tx, name)
    assert list(inspect.signature(fn).parameters) == CONTRACT[name]
    assert ">>>" in (fn.__doc__ or "")


def test_feedback_callables_documented() -> None:
    for fn in (tx.feedback_rhs, tx.feedback_fixed_points, tx.feedback_threshold):
        assert ">>>" in (fn.__doc__ or "")
    assert inspect.signature(tx.feedback_rhs).parameters["g"].kind.name == "POSITIONAL_OR_KEYWORD"


# ----------------------------------------------------------------------------------- R1
@FAST
@given(h=nonneg, Gamma=pos, omega=small_pos, eta=small_pos, W=windows)
def test_r1_steady_state_is_a_stable_fixed_point(h, Gamma, omega, eta, W) -> None:
    d_star = float(tx.signal_steady_state(h, Gamma, omega, W))
    assert d_star > 0
    scale = eta * (h + omega) * d_star
    assert abs(float(tx.signal_rhs(d_star, h, Gamma, eta, omega, W))) <= 1e-9 * scale
    below, above = tx.signal_rhs(np.array([0.9, 1.1]) * d_star, h, Gamma, eta, omega, W)
    assert below > 0 > above
    eps = 1e-6 * d_star
    slope = (tx.signal_rhs(d_star + eps, h, Gamma, eta, omega, W)
             - tx.signal_rhs(d_star - eps, h, Gamma, eta, omega, W)) / (2 * eps)
    assert slope < 0
    assert slope == pytest.approx(-2 * eta * (h + omega), rel=1e-4)


def test_r1_broadcasts_over_parameter_arrays() -> None:
    h = np.linspace(0.1, 2.0, 7)[:, None]
    d = np.linspace(0.5, 3.0, 5)[None, :]
    out = tx.signal_rhs(d, h, 1.0, 0.1, 0.0, 10)
    assert out.shape == (7, 5) and out.dtype == np.float64
    assert np.allclose(out[3], tx.signal_rhs(d[0], h[3, 0], 1.0, 0.1, 0.0, 10))


# ----------------------------------------------------------------------------------- R2
@FAST
@given(dk=pos, dk1=pos, hk=nonneg, hk1=nonneg, Gk=pos, Gk1=pos, eta=small_pos,
       omega=small_pos, W=windows)
def test_r2_without_noise_is_the_difference_of_two_r1_flows(dk, dk1, hk, hk1, Gk, Gk1, eta,
                                                            omega, W) -> None:
    assume(abs(dk - dk1) > 1e-6 * dk)  # ġ has the pole β/g (0/0 at g = 0 when N = 0)
    got = float(tx.gap_flow_rhs(dk, dk1, hk, hk1, Gk, Gk1, 0.0, 0.0, eta, omega, W))
    want = (float(tx.signal_rhs(dk, hk, Gk, eta, omega, W))
            - float(tx.signal_rhs(dk1, hk1, Gk1, eta, omega, W)))
    assert got == pytest.approx(want, rel=1e-10, abs=1e-10 * (abs(want) + W * Gk / dk + 1))


@FAST
@given(dk1=pos, gap=st.floats(1e-3, 5), Nk=small_pos, Nk1=small_pos, eta=small_pos)
def test_r2_dyson_term_is_beta_over_g_plus_noise_part(dk1, gap, Nk, Nk1, eta) -> None:
    """D = ġ(N) − ġ(N = 0) equals β/g + (W−1)η²(N_k/d_k − N_{k+1}/d_{k+1})/2, β from R2."""
    dk = dk1 + gap
    args = (dk, dk1, 1.0, 0.5, 1.0, 0.5)
    D = (float(tx.gap_flow_rhs(*args, Nk, Nk1, eta, 0.1, 10))
         - float(tx.gap_flow_rhs(*args, 0.0, 0.0, eta, 0.1, 10)))
    beta = float(tx.gap_repulsion(dk, dk1, Nk, Nk1, eta))
    want = beta / gap + (10 - 1) * eta**2 * (Nk / dk - Nk1 / dk1) / 2
    assert D == pytest.approx(want, rel=1e-6, abs=1e-9)


# ----------------------------------------------------------------------------------- R3
@FAST
@given(lam=st.lists(pos, min_size=2, max_size=5), N=small_pos, eta=small_pos)
def test_r3_dyson_rhs_is_drift_plus_noise_mean_plus_pairwise_repulsion(lam, N, eta) -> None:
    lam = np.array(sorted(set(lam), reverse=True))
    assume(lam.size >= 2 and np.min(-np.diff(lam)) > 1e-3)
    n = lam.size
    h, Gamma, Nv = np.full(n, 0.5), np.full(n, 1.0), np.full(n, N)
    out = tx.dyson_rhs(lam, h, Gamma, Nv, eta, 0.1, 10)
    drift = tx.eigen_drift(lam, h, Gamma, eta, 0.1, 10)
    rep = [sum(tx.repulsion_rate(lam[i], lam[j], Nv[i], Nv[j], eta) / (lam[j] - lam[i])
               for i in range(n) if i != j) for j in range(n)]
    noise_mean = 10 * eta**2 * Nv  # Wη²N_j: every slot re-noised
    assert np.allclose(out, drift + noise_mean + np.array(rep), rtol=1e-10, atol=1e-12)
    # repulsion pushes the top level up and the bottom level down
    assert rep[0] > 0 > rep[-1]


def test_r3_dyson_rhs_batches() -> None:
    lam = np.array([[4.0, 2.0, 1.0], [9.0, 3.0, 0.5]])
    eta = np.array([0.1, 0.2])
    out = tx.dyson_rhs(lam, 1.0, 1.0, 0.5, eta, 0.0, 10)
    for b in range(2):
        assert np.allclose(out[b], tx.dyson_rhs(lam[b], 1.0, 1.0, 0.5, eta[b], 0.0, 10))


@settings(max_examples=15, deadline=None)
@given(lam2=st.floats(1.0, 5.0), gap0=st.floats(0.05, 0.5), push=st.floats(1.5, 5.0),
       N=st.floats(0.2, 2.0), eta=st.floats(0.2, 1.0))
def test_r3_repulsion_keeps_ordered_levels_ordered(lam2, gap0, push, N, eta) -> None:
    """Mode 2 is driven harder than mode 1, so without noise the drifts make the levels
    cross; with the R3 repulsion they stay strictly ordered along the integration."""
    lam0 = np.array([lam2 + gap0, lam2, 0.5 * lam2])
    h = np.array([1.0, 1.0, 1.0])
    W, omega = 4, 0.0
    Gamma = np.array([lam0[0] / W, (lam0[1] + push * gap0) / W, lam0[2] / W])
    drift = tx.eigen_drift(lam0, h, Gamma, eta, omega, W)
    assert drift[1] - drift[0] > 0  # the levels approach
    # λ2 relaxes toward λ2 + push·gap0 > λ1 (mode 1 sits at its steady state): without noise
    # it crosses λ1 at t = −ln(1 − 1/push)/(2η); integrate to twice that.
    t_end = -np.log(1.0 - 1.0 / push) / eta

    def run(noise: float) -> np.ndarray:
        sol = solve_ivp(
            lambda _t, y: tx.dyson_rhs(y, h, Gamma, np.full(3, noise), eta, omega, W),
            (0.0, t_end), lam0, rtol=1e-9, atol=1e-12, dense_output=False,
            t_eval=np.linspace(0.0, t_end, 200), method="LSODA",
        )
        assert sol.status == 0, sol.message
        return sol.y

    free = run(0.0)
    assert np.any(free[1] > free[0])  # without repulsion the levels cross
    held = run(N)
    assert np.all(np.diff(held, axis=0) < 0)  # with repulsion: λ1 > λ2 > λ3 throughout


# ----------------------------------------------------------------------------------- R4
@FAST
@given(c=st.floats(-10, 10), beta=st.floats(1e-6, 10.0), eta=small_pos, hw=pos)
def test_r4_equilibrium_solves_its_quadratic_and_is_positive(c, beta, eta, hw) -> None:
    g = float(tx.gap_equilibrium(c, beta, eta, hw))
    assert g > 0
    # the quadratic η·hw·g² − c·g − β = 0, relative to its largest term
    residual = eta * hw * g**2 - c * g - beta
    assert abs(residual) <= 1e-9 * max(eta * hw * g**2, abs(c * g), beta)
    assert float(tx.reduced_gap_slope(g, c, beta, eta, hw)) < 0
    flow = float(tx.reduced_gap_rhs(g, c, beta, eta, hw))
    assert abs(flow) <= 1e-9 * max(abs(c), eta * hw * g, beta / g)


@FAST
@given(c=st.floats(0.1, 10), eta=small_pos, hw=pos)
def test_r4_small_beta_limits(c, eta, hw) -> None:
    beta = 1e-9
    # the leading terms plus their first corrections in β: the bare leading terms are off by
    # a relative βη·hw/c², up to 2e-6 on this range (hypothesis found c ≈ 0.1, η = 1, hw = 11)
    big = c / (eta * hw) + beta / c
    small = beta / c - beta**2 * eta * hw / c**3
    assert float(tx.gap_equilibrium(c, beta, eta, hw)) == pytest.approx(big, rel=1e-6)
    assert float(tx.gap_equilibrium(-c, beta, eta, hw)) == pytest.approx(small, rel=1e-6)


# ----------------------------------------------------------------------------------- R7
@FAST
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 8), data=st.data())
def test_r7_block_sum_invariance(seed, n, data) -> None:
    k = data.draw(st.integers(1, n - 1), label="block size")
    rng = np.random.default_rng(seed)
    V, _ = np.linalg.qr(rng.standard_normal((n, n)))  # random orthonormal basis
    g_tr, g_val = rng.standard_normal(n), rng.standard_normal(n)

    def block(basis: np.ndarray) -> float:
        return float(np.sum((g_tr @ basis[:, :k]) * (g_val @ basis[:, :k])))

    before = block(V)
    assert before == pytest.approx(g_tr @ V[:, :k] @ V[:, :k].T @ g_val, abs=1e-10)
    Q, _ = np.linalg.qr(rng.standard_normal((k, k)))  # random rotation inside the block
    inside = V.copy()
    inside[:, :k] = V[:, :k] @ Q
    assert block(inside) == pytest.approx(before, abs=1e-10)
    psi = rng.uniform(0.1, np.pi / 2 - 0.1)
    across = V.copy()
    a, b = V[:, k - 1].copy(), V[:, k].copy()  # last mode inside, first outside
    across[:, k - 1] = np.cos(psi) * a + np.sin(psi) * b
    across[:, k] = -np.sin(psi) * a + np.cos(psi) * b
    change = block(across) - before
    want = float(tx.boundary_mixing_change(psi, g_tr @ a, g_tr @ b, g_val @ a, g_val @ b))
    assert change == pytest.approx(want, abs=1e-10)
    assert abs(change) > 1e-8  # generic gradients: mixing across the boundary changes it


# ----------------------------------------------------------------------------------- R8
@FAST
@given(q=st.floats(1.05, 5.0), h=small_pos, Gamma0=pos, omega=small_pos, W=windows)
def test_r8_threshold_separates_open_and_closed_gap(q, h, Gamma0, omega, W) -> None:
    h_b, Gamma_b = h, q * Gamma0  # mode k*+1 at the same curvature, q = Γ_b/Γ0
    rho_c = float(tx.feedback_threshold(h, Gamma0, h_b, Gamma_b, omega))
    assert rho_c == pytest.approx((np.sqrt(q) + np.sqrt(q - 1)) ** 2, rel=1e-9)
    d_b = float(tx.signal_steady_state(h_b, Gamma_b, omega, W))
    above = tx.feedback_fixed_points(d_b, 1.05 * rho_c, h, Gamma0, omega, W)
    g_open = float(above.g_stable)
    assert g_open > 0
    scale = 1.0 + abs(float(tx.feedback_rhs(2 * g_open, d_b, 1.05 * rho_c, h, Gamma0, 1.0,
                                            omega, W)))
    assert abs(float(tx.feedback_rhs(g_open, d_b, 1.05 * rho_c, h, Gamma0, 1.0, omega, W))) \
        <= 1e-8 * scale
    eps = 1e-6 * (d_b + g_open)
    slope = (tx.feedback_rhs(g_open + eps, d_b, 1.05 * rho_c, h, Gamma0, 1.0, omega, W)
             - tx.feedback_rhs(g_open - eps, d_b, 1.05 * rho_c, h, Gamma0, 1.0, omega, W))
    assert slope < 0  # stable
    below = tx.feedback_fixed_points(d_b, 0.95 * rho_c, h, Gamma0, omega, W)
    assert not (float(below.g_stable) > 0)  # no open-gap fixed point (NaN or g ≤ 0)


def test_r8_threshold_needs_only_h_omega_gamma() -> None:
    assert list(inspect.signature(tx.feedback_threshold).parameters) == [
        "h", "Gamma0", "h_b", "Gamma_b", "omega"]
    assert float(tx.feedback_threshold(1.0, 1.0, 1.0, 0.5, 0.1)) == 0.0


# ---------------------------------------------------------------------------------- R10
@FAST
@given(nu=pos, P=st.integers(10, 10**9), W=windows, k=st.floats(1.5, 1e4))
def test_r10_threshold_scaling(nu, P, W, k) -> None:
    base = float(tx.bbp_threshold(nu, P, W))
    assert base == pytest.approx(nu * (P * W) ** 0.25, rel=1e-12)
    assert float(tx.bbp_threshold(nu, k * P, W)) == pytest.approx(k**0.25 * base, rel=1e-12)
    assert float(tx.bbp_threshold(nu, P, k * W)) == pytest.approx(k**0.25 * base, rel=1e-12)
    assert float(tx.bbp_threshold(k * nu, P, W)) == pytest.approx(k * base, rel=1e-12)
    # relative to the bulk scale ν√P the threshold shrinks as P/W grows
    assert float(tx.bbp_threshold(nu, k * P, W)) / (nu * np.sqrt(k * P)) < base / (
        nu * np.sqrt(P))


# ---------------------------------------------------------------------------------- R11
@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), K=st.integers(0, 3), n_flat=st.integers(2, 6),
       W=st.integers(4, 12))
def test_r11_flat_modes_merge_into_one_direction(seed, K, n_flat, W) -> None:
    rng = np.random.default_rng(seed)
    eta = 0.1
    stiff = rng.uniform(1.0, 5.0, K) / (eta * W)  # ηhW between 1 and 5
    flat = rng.uniform(1e-6, 1e-3, n_flat) / (eta * W)  # ηhW ≤ 1e-3
    h = np.concatenate([stiff, flat])
    grad = rng.standard_normal(h.size)
    s = np.arange(W)[:, None]
    X = -eta * tx.krylov_profile(s, eta, h) * grad  # rows δ_s = −η(I − ηH)^s g, H diagonal
    direct = -eta * np.stack([np.linalg.matrix_power(np.diag(1 - eta * h), k) @ grad
                              for k in range(W)])
    assert np.allclose(X, direct, rtol=1e-12, atol=1e-15)
    sigma = np.linalg.svd(X, compute_uv=False)
    assume(sigma.size > K + 1)
    flat_part = X[:, K:]
    const = -eta * np.ones((W, 1)) * grad[K:]  # the shared constant profile (rank 1)
    linear = -eta * tx.krylov_profile_linear(s, eta, flat) * grad[K:]  # rank ≤ 2
    # Weyl: σ_{K+2}(X) ≤ ‖X_flat − rank-1‖ and σ_{K+3}(X) ≤ ‖X_flat − rank-2‖
    assert sigma[K + 1] <= np.linalg.norm(flat_part - const, 2) * (1 + 1e-9) + 1e-300
    if K + 2 < sigma.size:
        assert sigma[K + 2] <= np.linalg.norm(flat_part - linear, 2) * (1 + 1e-9) + 1e-300
    # the series bound of R11: |profile − (1 − sηh)| ≤ (sηh)²/2
    dev = np.abs(tx.krylov_profile(s, eta, flat) - tx.krylov_profile_linear(s, eta, flat))
    assert np.all(dev <= (s * eta * flat) ** 2 / 2 + 1e-15)
    # so the flat block adds at most one direction beyond the K stiff ones, to O(ηhW)
    # (entrywise |profile − 1| ≤ sηh ≤ ηhW ≤ 1e-3 on the flat block)
    bound = 1e-3 * eta * np.sqrt(W) * np.linalg.norm(grad[K:])
    assert sigma[K + 1] <= bound * (1 + 1e-9)


# ----------------------------------------------------------------------------------- R9
@FAST
@given(dC=pos, eta=small_pos, g=pos, k=st.floats(1.5, 10))
def test_r9_adiabatic_parameter_scaling(dC, eta, g, k) -> None:
    A = float(tx.adiabatic_parameter(dC, eta, g))
    assert A == pytest.approx(dC / (eta * g * g), rel=1e-12)
    assert float(tx.adiabatic_parameter(dC, eta, k * g)) == pytest.approx(A / k**2, rel=1e-12)
