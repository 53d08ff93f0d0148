"""Hypothesis strategies for the toolkit's objects (docs/spec.md §1–§4), public.

Use them in your own property tests:

>>> from hypothesis import given, settings
>>> from spectral_edge.numerics.strategies import spectra
>>> @settings(max_examples=20, database=None)
... @given(spectra())
... def test_sorted(sigma):
...     assert (sigma[:-1] > sigma[1:]).all()
>>> test_sorted()

Strategies: :func:`spectra` (valid singular-value spectra: positive, strictly decreasing),
:func:`update_windows` (W×P windows of updates), :func:`gram_matrices` (symmetric PSD Gram
matrices X Xᵀ), :func:`quadratic_problems` (a chosen power-law Hessian spectrum, a
learning rate, a window length and an initial gradient), :func:`signal_parameters` (R1),
:func:`gap_parameters` (R4's reduced gap ODE in its stated domain c real, β ≥ 0, η > 0,
h̄+ω > 0), :func:`feedback_parameters` (R8).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = [
    "QuadraticCase",
    "feedback_parameters",
    "gap_parameters",
    "gram_matrices",
    "quadratic_problems",
    "signal_parameters",
    "spectra",
    "update_windows",
]


def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@st.composite
def spectra(draw: st.DrawFn, min_size: int = 2, max_size: int = 12,
            min_ratio: float = 1.0 + 1e-6) -> np.ndarray:
    """A singular-value spectrum σ_1 > … > σ_n > 0 (consecutive ratios ≥ ``min_ratio``).

    >>> spectra().example().ndim
    1
    """
    n = draw(st.integers(min_size, max_size))
    top = draw(_floats(1e-3, 1e3))
    logs = draw(st.lists(_floats(np.log(min_ratio), 3.0), min_size=n - 1, max_size=n - 1))
    return top * np.exp(-np.concatenate([[0.0], np.cumsum(logs)]))


def update_windows(W: int | None = None, P: int | None = None,
                   scale: float = 10.0) -> st.SearchStrategy[np.ndarray]:
    """A W×P window of updates (rows oldest first), finite entries of size ≤ ``scale``.

    >>> update_windows(3, 5).example().shape
    (3, 5)
    """
    shape = st.tuples(st.just(W) if W else st.integers(2, 8),
                      st.just(P) if P else st.integers(2, 12))
    return shape.flatmap(lambda s: hnp.arrays(np.float64, s, elements=_floats(-scale, scale)))


def gram_matrices(n: int | None = None) -> st.SearchStrategy[np.ndarray]:
    """A symmetric positive semi-definite Gram matrix G = X Xᵀ of a window X.

    >>> g = gram_matrices(3).example()
    >>> g.shape, bool(np.allclose(g, g.T))
    ((3, 3), True)
    """
    return update_windows(W=n).map(lambda x: x @ x.T)


@dataclass(frozen=True)
class QuadraticCase:
    """A quadratic problem: diagonal Hessian ``h`` (eigenvalues), learning rate ``eta``,
    window ``W``, initial gradient ``g0`` (in the eigenbasis) and the stiff-mode count
    ``K = #{h_j ≥ 1/(ηW)}``."""

    h: np.ndarray
    eta: float
    W: int
    g0: np.ndarray

    @property
    def K(self) -> int:
        return int(np.count_nonzero(self.eta * self.h * self.W >= 1.0))

    def window(self) -> np.ndarray:
        """The W×P window of gradient-descent updates δ_s = −η(I − ηH)^s g0, s = 0 … W−1."""
        s = np.arange(self.W)[:, None]
        return -self.eta * (1.0 - self.eta * self.h[None, :]) ** s * self.g0[None, :]


@st.composite
def quadratic_problems(draw: st.DrawFn, max_P: int = 12) -> QuadraticCase:
    """A :class:`QuadraticCase` with a power-law Hessian spectrum, as measured Hessians
    have (a few outliers over a bulk near zero): ηh_j = ηh_max·j^(−a), a ∈ [0.5, 3],
    ηh_max ∈ [0.1, 1.9] (stable gradient descent), W ∈ [3, 10], P ∈ [2, ``max_P``], and an
    initial gradient with entries of size 0.1–10 and either sign.

    >>> case = quadratic_problems().example()
    >>> case.window().shape == (case.W, case.h.size)
    True
    """
    W = draw(st.integers(3, 10))
    P = draw(st.integers(2, max_P))
    eta = draw(_floats(1e-3, 1.0))
    steep = draw(_floats(0.5, 3.0))
    top = draw(_floats(0.1, 1.9))
    h = top * np.arange(1, P + 1, dtype=np.float64) ** (-steep) / eta
    g0 = np.array(draw(st.lists(_floats(0.1, 10.0), min_size=P, max_size=P)))
    signs = np.array(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=P, max_size=P)))
    return QuadraticCase(h=h, eta=eta, W=W, g0=g0 * signs)


def signal_parameters() -> st.SearchStrategy[dict[str, float]]:
    """R1's parameters in their domain: h ≥ 0, Γ > 0, ω ≥ 0 with h + ω > 0, η > 0, W ≥ 2."""
    return st.fixed_dictionaries({
        "h": _floats(0.0, 10.0), "Gamma": _floats(1e-3, 10.0), "omega": _floats(1e-3, 2.0),
        "eta": _floats(1e-3, 1.0), "W": st.integers(2, 50),
    })


def gap_parameters() -> st.SearchStrategy[dict[str, float]]:
    """R4's parameters in their stated domain: c real, β ≥ 0, η > 0, h̄ + ω > 0."""
    return st.fixed_dictionaries({
        "c": _floats(-10.0, 10.0), "beta": _floats(0.0, 10.0), "eta": _floats(1e-3, 1.0),
        "hw": _floats(1e-3, 10.0),
    })


def feedback_parameters() -> st.SearchStrategy[dict[str, float]]:
    """R8's parameters: curvatures and injections of modes k* and k*+1, ω, ρ ≥ 0."""
    return st.fixed_dictionaries({
        "h": _floats(0.01, 5.0), "Gamma0": _floats(0.01, 5.0), "h_b": _floats(0.01, 5.0),
        "Gamma_b": _floats(0.01, 5.0), "omega": _floats(0.0, 1.0), "rho": _floats(0.0, 50.0),
    })
