"""half_window_overlap: the author's α from the window Gram against a direct computation
from the updates (split X, SVD of each half, dot products of the right singular vectors)."""

from __future__ import annotations

import numpy as np
import pytest

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.spectra import half_window_overlap


def direct(X: np.ndarray) -> np.ndarray:
    """|⟨v_j⁽¹⁾, v_j⁽²⁾⟩| from the SVDs of the first and last ⌊W/2⌋ rows of X."""
    h = X.shape[0] // 2
    _, _, V1 = np.linalg.svd(X[:h], full_matrices=False)
    _, _, V2 = np.linalg.svd(X[X.shape[0] - h:], full_matrices=False)
    return np.abs(np.sum(V1 * V2, axis=1))


@pytest.mark.parametrize("W", [2, 3, 6, 7, 10])
def test_equals_the_direct_computation_from_the_updates(W: int) -> None:
    rng = np.random.default_rng(W)
    # a few persistent directions plus noise, so overlaps spread over (0, 1)
    P = 40
    basis = np.linalg.qr(rng.standard_normal((P, 3)))[0].T
    X = (rng.standard_normal((W, 3)) * [5.0, 2.0, 1.0]) @ basis + 0.5 * rng.standard_normal(
        (W, P))
    got = half_window_overlap(X @ X.T)
    want = direct(X)
    assert got.shape == (W // 2,)
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)
    if W >= 6:
        assert 0.05 < np.median(got) < 0.999  # a real test: not all 0 or all 1


def test_a_stack_gives_one_row_per_gram() -> None:
    rng = np.random.default_rng(1)
    Xs = rng.standard_normal((4, 6, 20))
    grams = np.einsum("bip,bjp->bij", Xs, Xs)
    got = half_window_overlap(grams)
    assert got.shape == (4, 3)
    for b in range(4):
        np.testing.assert_allclose(got[b], direct(Xs[b]), rtol=1e-8, atol=1e-10)


def test_a_fixed_direction_has_overlap_one_and_a_missing_mode_is_nan() -> None:
    v = np.zeros(5)
    v[2] = 1.0
    X = np.outer([1.0, -2.0, 0.5, 3.0], v)  # every update along ±v: rank 1 in each half
    got = half_window_overlap(X @ X.T)
    assert got[0] == pytest.approx(1.0) and np.isnan(got[1])


def test_bad_input_is_refused() -> None:
    with pytest.raises(InputError, match="square"):
        half_window_overlap(np.ones((2, 3)))
    with pytest.raises(InputError, match="rtol"):
        half_window_overlap(np.eye(4), rtol=1.5)
