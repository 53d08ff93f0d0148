"""The public Hypothesis strategies check their arguments when they are built (one
InputError naming the public argument), never at draw time, and keep their contracts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from spectral_edge.common.errors import InputError
from spectral_edge.numerics import strategies as S


@pytest.mark.parametrize(("build", "named"), [
    (lambda: S.spectra(min_size=1), "spectra(min_size)"),
    (lambda: S.spectra(min_size=5, max_size=3), "spectra(max_size)"),
    (lambda: S.spectra(min_ratio=0.9), "spectra(min_ratio)"),
    (lambda: S.spectra(min_ratio=1.0), "spectra(min_ratio)"),
    (lambda: S.spectra(min_ratio=100.0), "spectra(min_ratio)"),
    (lambda: S.spectra(min_ratio=float("nan")), "spectra(min_ratio)"),
    (lambda: S.update_windows(W=0), "update_windows(W)"),
    (lambda: S.update_windows(W=1), "update_windows(W)"),
    (lambda: S.update_windows(W=3, P=0), "update_windows(P)"),
    (lambda: S.update_windows(W=2.5), "update_windows(W)"),
    (lambda: S.update_windows(scale=-1.0), "update_windows(scale)"),
    (lambda: S.gram_matrices(0), "gram_matrices(n)"),
    (lambda: S.quadratic_problems(max_P=1), "quadratic_problems(max_P)"),
    (lambda: S.separated_quadratics(flat_max=0.0), "flat_max"),
    (lambda: S.separated_quadratics(flat_max=3.0, stiff_min=2.0), "flat_max"),
    (lambda: S.separated_quadratics(stiff_min=10.0), "stiff_min"),
    (lambda: S.loss_parameters(n_max=0), "loss_parameters(n_max)"),
])
def test_bad_arguments_fail_when_the_strategy_is_built(build, named) -> None:
    with pytest.raises(InputError, match=named.replace("(", r"\(").replace(")", r"\)")):
        build()


def test_separated_quadratic_refuses_an_impossible_separation() -> None:
    with pytest.raises(InputError, match="flat_max"):
        S.separated_quadratic(np.random.default_rng(0), flat_max=2.0, stiff_min=2.0)


@settings(max_examples=40, database=None, deadline=None)
@given(S.spectra(min_ratio=1.5))
def test_spectra_keep_their_ratio_contract(sigma: np.ndarray) -> None:
    assert np.all(sigma[:-1] / sigma[1:] >= 1.5 * (1 - 1e-12))


@settings(max_examples=20, database=None, deadline=None)
@given(S.update_windows(W=2, P=3))
def test_a_given_window_shape_is_kept(x: np.ndarray) -> None:
    assert x.shape == (2, 3)
