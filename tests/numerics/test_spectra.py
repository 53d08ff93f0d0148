"""Properties of the spectral statistics (numerics/spectra.py) against direct computations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spectral_edge.common.errors import InputError
from spectral_edge.numerics import spectra

SETTINGS = settings(max_examples=60, deadline=None)


def random_window(seed: int, W: int, P: int, decay: float = 0.7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scales = decay ** np.arange(W)
    return rng.normal(size=(W, P)) * scales[:, None]


@SETTINGS
@given(seed=st.integers(0, 10_000), W=st.integers(2, 12), P=st.integers(13, 60))
def test_eigenvalues_are_squared_singular_values(seed: int, W: int, P: int) -> None:
    X = random_window(seed, W, P)
    lam = spectra.eigenvalues_from_gram(X @ X.T, rtol=0.0)
    sv = np.linalg.svd(X, compute_uv=False)
    np.testing.assert_allclose(lam, sv**2, rtol=1e-9, atol=1e-12 * sv[0] ** 2)
    np.testing.assert_allclose(spectra.sigma_from_gram(X @ X.T, rtol=0.0), sv, rtol=1e-9)


@SETTINGS
@given(seed=st.integers(0, 10_000), W=st.integers(2, 12), scale=st.floats(1e-6, 1e6))
def test_kstar_and_ratio_invariant_under_global_scaling(seed: int, W: int, scale: float) -> None:
    X = random_window(seed, W, 40)
    sigma = spectra.sigma_from_gram(X @ X.T)
    for method in spectra.KSTAR_METHODS:
        k = spectra.kstar(sigma, method, P=40)
        assert spectra.kstar(scale * sigma, method, P=40) == k
        assert spectra.gap_ratio(scale * sigma, k) == pytest.approx(
            spectra.gap_ratio(sigma, k), rel=1e-12
        )


@SETTINGS
@given(seed=st.integers(0, 10_000), W=st.integers(2, 8), P=st.integers(3, 25))
def test_window_change_matches_direct_parameter_space_computation(seed: int, W: int, P: int):
    rng = np.random.default_rng(seed)
    D = rng.normal(size=(W + 1, P)) * rng.uniform(0.1, 3.0, size=(W + 1, 1))
    C_prev, C_now = D[:-1].T @ D[:-1], D[1:].T @ D[1:]
    K = D @ D.T
    direct = C_now - C_prev
    assert spectra.window_change_fro(K) == pytest.approx(np.linalg.norm(direct, "fro"), rel=1e-9)
    assert spectra.window_change_op(K) == pytest.approx(np.linalg.norm(direct, 2), rel=1e-9)
    # and the docs/spec.md §2 identity in terms of W×W blocks
    ident = (
        np.linalg.norm(K[1:, 1:]) ** 2
        + np.linalg.norm(K[:-1, :-1]) ** 2
        - 2 * np.linalg.norm(K[1:, :-1]) ** 2
    )
    assert spectra.window_change_fro(K) ** 2 == pytest.approx(ident, rel=1e-7, abs=1e-9)


@SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(2, 7), eps=st.floats(1e-4, 2.0))
def test_yu_wang_samworth_davis_kahan_holds(seed: int, n: int, eps: float) -> None:
    rng = np.random.default_rng(seed)
    B = rng.normal(size=(n, n))
    C = B @ B.T
    E = rng.normal(size=(n, n))
    E = eps * (E + E.T) / 2
    lam, V = np.linalg.eigh(C)
    lam, V = lam[::-1], V[:, ::-1]
    _, V2 = np.linalg.eigh(C + E)
    V2 = V2[:, ::-1]
    bound = spectra.davis_kahan_bound(lam, np.linalg.norm(E, 2), form="yws")
    sin_theta = np.sqrt(np.clip(1 - np.sum(V * V2, axis=0) ** 2, 0, 1))
    assert np.all(sin_theta <= bound + 1e-9)


@SETTINGS
@given(seed=st.integers(0, 10_000), W=st.integers(2, 10), dc=st.floats(0, 1e3))
def test_alpha_in_unit_interval(seed: int, W: int, dc: float) -> None:
    X = random_window(seed, W, 30)
    alpha = spectra.stability_alpha(spectra.eigenvalues_from_gram(X @ X.T), dc)
    assert np.all((alpha >= 0) & (alpha <= 1))


@SETTINGS
@given(seed=st.integers(0, 10_000), W=st.integers(3, 12), r=st.integers(1, 11))
def test_low_rank_window_has_kstar_at_most_rank(seed: int, W: int, r: int) -> None:
    r = min(r, W - 1)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(W, r)) @ rng.normal(size=(r, 50))
    sigma = spectra.sigma_from_gram(X @ X.T)
    assert spectra.numerical_rank(sigma) == r
    for method in spectra.KSTAR_METHODS:
        assert 1 <= spectra.kstar(sigma, method, P=50) <= r


def test_numerical_rank_guard_ignores_round_off_tail() -> None:
    # a noise-free rank-2 window: without the guard, argmax picks σ_2/σ_3 with σ_3 ≈ 1e-17
    sigma = np.array([10.0, 1.0, 1e-17, 1e-18])
    assert spectra.ratio_profile(sigma).tolist()[0] == 10.0
    assert np.isnan(spectra.ratio_profile(sigma)[1:]).all()
    assert spectra.kstar(sigma, "ratio") == 1


def gram_in(X: np.ndarray, dtype: type) -> np.ndarray:
    """X Xᵀ with X stored and the inner products accumulated in ``dtype`` (symmetrized)."""
    Xs = X.astype(dtype)
    G = (Xs @ Xs.T).astype(np.float64)
    return (G + G.T) / 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("W", [50, 1000])
def test_rank_never_exceeds_P_when_W_exceeds_P(dtype: type, W: int) -> None:
    # W > P = 10: X is W×10, so at most 10 singular values are non-zero; float32 round-off
    # in the Gram used to give rank 28 (W = 50) and 505 (W = 1000)
    X = np.random.default_rng(W).normal(size=(W, 10))
    G = gram_in(X, dtype)
    eps = np.finfo(dtype).eps
    st_ = spectra.window_stats(G, P=10, eps=eps)
    assert st_.rank <= 10 and np.count_nonzero(st_.sigma) <= 10
    sigma = spectra.sigma_from_gram(G, eps=eps, max_rank=10)
    assert np.count_nonzero(sigma) == 10
    assert spectra.numerical_rank(sigma, eps=eps, max_rank=10) == 10
    np.testing.assert_allclose(sigma[:10], np.linalg.svd(X, compute_uv=False), rtol=1e-4)
    for method in spectra.KSTAR_METHODS:
        assert 1 <= st_.kstar <= 10 and 1 <= getattr(st_, f"kstar_{method}") <= 10


def test_rank_guard_scales_with_the_storage_precision() -> None:
    # a rank-3 window (P = 2000 > W = 50) whose Gram was accumulated in float32: the round-off
    # eigenvalues sit near W·eps32·λ_1, far above the float64 threshold 1e-6·σ_1
    rng = np.random.default_rng(1)
    W = 50
    X = rng.normal(size=(W, 3)) @ rng.normal(size=(3, 2000))
    G32 = gram_in(X, np.float32)
    assert spectra.numerical_rank(spectra.sigma_from_gram(G32, rtol=0.0)) > 3  # unguarded
    assert spectra.numerical_rank(spectra.sigma_from_gram(G32, eps=np.float32)) == 3
    st_ = spectra.window_stats(G32, P=2000, eps=spectra.EPS_FLOAT32)
    assert st_.rank == 3 and st_.rtol == pytest.approx(np.sqrt(W * spectra.EPS_FLOAT32))
    # the same window in float64 storage keeps the default threshold and the rank
    st64 = spectra.window_stats(gram_in(X, np.float64), P=2000, eps=spectra.EPS_FLOAT64)
    assert st64.rank == 3 and st64.rtol == spectra.DEFAULT_RTOL
    assert spectra.guard_rtol(W, None) == spectra.DEFAULT_RTOL
    with pytest.raises(InputError, match="eps"):
        spectra.guard_rtol(W, "int32")
    with pytest.raises(InputError, match="max_rank"):
        spectra.sigma_from_gram(np.eye(2), max_rank=0)


def test_window_stats_fields_agree_with_the_single_functions() -> None:
    rng = np.random.default_rng(7)
    D = rng.normal(size=(11, 200)) * np.linspace(5, 1, 11)[:, None]
    K = D @ D.T
    st_ = spectra.window_stats(P=200, gram_plus=K, eta_eff=0.01)
    sigma = spectra.sigma_from_gram(K[1:, 1:])
    assert st_.W == 10 and st_.kstar == spectra.kstar(sigma, "weighted")
    assert st_.g == pytest.approx(spectra.gap(sigma, st_.kstar))
    assert st_.delta_c_fro == pytest.approx(spectra.window_change_fro(K))
    assert st_.A == pytest.approx(st_.delta_c_fro / (0.01 * st_.g**2))
    assert st_.regime == spectra.adiabatic_regime(st_.A)
    row = st_.as_row()
    assert row["sigma_10"] == pytest.approx(sigma[-1]) and "alpha_10" in row


def test_bbp_paper_and_textbook_forms() -> None:
    sigma = np.array([100.0, 50.0, 3.0, 3.0])
    nu = spectra.noise_level(sigma, 9)
    assert nu == pytest.approx(1.0)
    assert spectra.bbp_threshold(sigma, 9, "paper") == pytest.approx((9 * 3) ** 0.25)
    assert spectra.bbp_threshold(sigma, 9, "textbook") == pytest.approx((9 * 4) ** 0.25)
    assert spectra.vacuity_ratio(sigma, 9) == pytest.approx(3.0 / 27**0.25)
    lo, hi = spectra.marchenko_pastur_edges(nu, 9, 4)
    assert (lo, hi) == (pytest.approx(1.0), pytest.approx(5.0))


def test_signal_kstar_ignores_ratios_inside_the_noise_bulk() -> None:
    # ν² = (12² + 1²)/2/100, bulk edge ν(√100 + √4) ≈ 10.2: σ_4 is noise. The plain ratio
    # picks the signal/noise boundary σ_3/σ_4; the signal variant only compares σ_1..σ_3.
    sigma = np.array([30.0, 13.0, 12.0, 1.0])
    assert spectra.kstar(sigma, "ratio") == 3
    assert spectra.kstar(sigma, "signal", P=100) == 1


def test_adiabatic_regimes_and_bad_lr() -> None:
    assert [spectra.adiabatic_regime(a) for a in (0.05, 2.0, 20.0)] == [
        "plateau",
        "transition",
        "forgetting",
    ]
    with pytest.raises(InputError, match="learning rate"):
        spectra.adiabatic_parameter(1.0, -0.1, 1.0)


def test_gradient_energy_split() -> None:
    c_total = np.array([[1.0, 0.5], [1.0, 0.5]])
    c_mid = np.array([[10.0, 100.0], [10.0, 100.0]])
    grad, wd = spectra.split_update_projections(c_total, c_mid, eta_eff=0.01, omega=1.0)
    np.testing.assert_allclose(grad + wd, c_total)
    frac = spectra.gradient_energy_fraction(grad, wd)
    assert frac[0] == pytest.approx(1.1**2 / (1.1**2 + 0.1**2))
    assert frac[1] == pytest.approx(1.5**2 / (1.5**2 + 1.0))


@pytest.mark.parametrize(
    ("gram", "message"),
    [
        (np.ones((3, 2)), "square"),
        (np.ones((1, 1)), "W >= 2"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), "NaN or Inf"),
        (np.array([[1.0, np.inf], [np.inf, 1.0]]), "NaN or Inf"),
        (np.zeros((3, 3)), "all zeros"),
        (np.array([[1.0, 0.5], [0.0, 1.0]]), "symmetric"),
    ],
)
def test_bad_grams_raise_clear_errors(gram: np.ndarray, message: str) -> None:
    with pytest.raises(InputError, match=message):
        spectra.window_stats(gram, P=10)


def test_bad_arguments_raise() -> None:
    sigma = np.array([2.0, 1.0])
    with pytest.raises(InputError, match="unknown k"):
        spectra.kstar(sigma, "nope")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="needs the parameter count"):
        spectra.kstar(sigma, "signal")
    with pytest.raises(InputError, match="descending"):
        spectra.kstar(np.array([1.0, 2.0]))
    with pytest.raises(InputError, match="positive integer"):
        spectra.noise_level(sigma, 0)
    with pytest.raises(InputError, match=r"\(W\+1\)"):
        spectra.window_change_fro(np.eye(2))


@pytest.mark.parametrize("P", ["x", 2.5, float("inf"), float("nan"), None, 0, True])
def test_a_bad_parameter_count_is_an_input_error(P) -> None:
    with pytest.raises(InputError, match="P must be a positive integer"):
        spectra.window_stats(np.eye(3), P=P)


def test_window_stats_many_equals_window_stats_to_the_last_bit() -> None:
    from spectral_edge.numerics.spectra import window_stats, window_stats_many

    rng = np.random.default_rng(3)
    for W, P in ((2, 5), (4, 3), (10, 10**5)):  # W > P caps the rank
        X = rng.normal(size=(W + 6, 40)) * rng.uniform(0.1, 5, size=(W + 6, 1))
        X[2] = 0.0  # rank-deficient windows too
        Ks = np.stack([X[i:i + W + 1] @ X[i:i + W + 1].T for i in range(6)])
        etas = [0.1, None, 1e-3, 0.1, None, 2.0]
        for method in ("weighted", "ratio", "signal"):
            many = window_stats_many(Ks, P=P, eta_eff=etas, method=method, eps="float32")
            for K, e, got in zip(Ks, etas, many, strict=True):
                one = window_stats(P=P, gram_plus=K, eta_eff=e, method=method, eps="float32")
                a, b = one.as_row(), got.as_row()
                assert a.keys() == b.keys()
                assert all(a[c] == b[c] or (a[c] != a[c] and b[c] != b[c]) for c in a), method


def test_window_stats_many_refuses_bad_input() -> None:
    from spectral_edge.numerics.spectra import window_stats_many

    K = np.eye(4)[None]
    for bad, kw, msg in ((np.eye(4), {}, "stack"), (K, {"eta_eff": [0.1, 0.1]}, "2 values"),
                         (K, {"eta_eff": [-1.0]}, "must be > 0"),
                         (K * np.nan, {}, "NaN"), (np.zeros((1, 4, 4)), {}, "all zeros")):
        with pytest.raises(InputError, match=msg):
            window_stats_many(bad, P=10, **kw)
