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
learning rate, a window length and an initial gradient), :func:`separated_quadratics`
(quadratics whose stiff and flat modes are separated by an explicit parameter, R11),
:func:`signal_parameters` (R1), :func:`gap_parameters` (R4's reduced gap ODE in its stated
domain c real, β ≥ 0, η > 0, h̄+ω > 0), :func:`feedback_parameters` (R8),
:func:`loss_parameters` (R6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_finite_number, check_int

__all__ = [
    "QuadraticCase",
    "feedback_parameters",
    "gap_parameters",
    "gram_matrices",
    "loss_parameters",
    "quadratic_problems",
    "separated_quadratic",
    "separated_quadratics",
    "signal_parameters",
    "spectra",
    "update_windows",
]


def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


MAX_RATIO = float(np.exp(3.0))
"""The largest consecutive ratio σ_j/σ_j+1 :func:`spectra` draws."""


def spectra(min_size: int = 2, max_size: int = 12,
            min_ratio: float = 1.0 + 1e-6) -> st.SearchStrategy[np.ndarray]:
    """A singular-value spectrum σ_1 > … > σ_n > 0 (consecutive ratios ≥ ``min_ratio``).

    Arguments are checked when the strategy is built, not when it draws.

    >>> spectra().example().ndim
    1

    Args:
        min_size: The fewest values, >= 2.
        max_size: The most values, >= ``min_size``.
        min_ratio: The smallest consecutive ratio, in (1, e³): the spectrum is strictly
            decreasing.

    Returns:
        The strategy.

    Raises:
        InputError: For a size below 2, ``max_size < min_size`` or ``min_ratio`` outside
            (1, e³).
    """
    min_size = check_int("spectra(min_size)", min_size, 2)
    max_size = check_int("spectra(max_size)", max_size, min_size)
    min_ratio = check_finite_number("spectra(min_ratio)", min_ratio)
    if not 1.0 < min_ratio < MAX_RATIO:
        raise InputError(f"spectra(min_ratio) must lie in (1, {MAX_RATIO:.4g}) so the spectrum "
                         f"is strictly decreasing, got {min_ratio}")
    return _spectra(min_size, max_size, min_ratio)


@st.composite
def _spectra(draw: st.DrawFn, min_size: int, max_size: int, min_ratio: float) -> np.ndarray:
    n = draw(st.integers(min_size, max_size))
    top = draw(_floats(1e-3, 1e3))
    logs = draw(st.lists(_floats(np.log(min_ratio), 3.0), min_size=n - 1, max_size=n - 1))
    return top * np.exp(-np.concatenate([[0.0], np.cumsum(logs)]))


def update_windows(W: int | None = None, P: int | None = None,
                   scale: float = 10.0) -> st.SearchStrategy[np.ndarray]:
    """A W×P window of updates (rows oldest first), finite entries of size ≤ ``scale``.

    >>> update_windows(3, 5).example().shape
    (3, 5)

    Args:
        W: The window length (>= 2), or ``None`` for 2–8.
        P: The parameter count (>= 1), or ``None`` for 2–12.
        scale: The largest entry size, > 0.

    Returns:
        The strategy.

    Raises:
        InputError: For ``W < 2``, ``P < 1`` or a non-positive ``scale``.
    """
    if W is not None:
        W = check_int("update_windows(W)", W, 2)
    if P is not None:
        P = check_int("update_windows(P)", P, 1)
    scale = check_finite_number("update_windows(scale)", scale)
    if not scale > 0:
        raise InputError(f"update_windows(scale) must be > 0, got {scale}")
    shape = st.tuples(st.integers(2, 8) if W is None else st.just(W),
                      st.integers(2, 12) if P is None else st.just(P))
    return shape.flatmap(lambda s: hnp.arrays(np.float64, s, elements=_floats(-scale, scale)))


def gram_matrices(n: int | None = None) -> st.SearchStrategy[np.ndarray]:
    """A symmetric positive semi-definite Gram matrix G = X Xᵀ of a window X.

    >>> g = gram_matrices(3).example()
    >>> g.shape, bool(np.allclose(g, g.T))
    ((3, 3), True)

    Args:
        n: The size W (>= 2), or ``None`` for 2–8.

    Returns:
        The strategy.

    Raises:
        InputError: For ``n < 2``.
    """
    if n is not None:
        n = check_int("gram_matrices(n)", n, 2)
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


def quadratic_problems(max_P: int = 12) -> st.SearchStrategy[QuadraticCase]:
    """A :class:`QuadraticCase` with a power-law Hessian spectrum, as measured Hessians
    have (a few outliers over a bulk near zero): ηh_j = ηh_max·j^(−a), a ∈ [0.5, 3],
    ηh_max ∈ [0.1, 1.9] (stable gradient descent), W ∈ [3, 10], P ∈ [2, ``max_P``], and an
    initial gradient with entries of size 0.1–10 and either sign.

    >>> case = quadratic_problems().example()
    >>> case.window().shape == (case.W, case.h.size)
    True

    Args:
        max_P: The largest P, >= 2.

    Returns:
        The strategy.

    Raises:
        InputError: For ``max_P < 2``.
    """
    return _quadratic_problems(check_int("quadratic_problems(max_P)", max_P, 2))


@st.composite
def _quadratic_problems(draw: st.DrawFn, max_P: int) -> QuadraticCase:
    W = draw(st.integers(3, 10))
    P = draw(st.integers(2, max_P))
    eta = draw(_floats(1e-3, 1.0))
    steep = draw(_floats(0.5, 3.0))
    top = draw(_floats(0.1, 1.9))
    h = top * np.arange(1, P + 1, dtype=np.float64) ** (-steep) / eta
    g0 = np.array(draw(st.lists(_floats(0.1, 10.0), min_size=P, max_size=P)))
    signs = np.array(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=P, max_size=P)))
    return QuadraticCase(h=h, eta=eta, W=W, g0=g0 * signs)


def separated_quadratic(rng: np.random.Generator, flat_max: float,
                        stiff_min: float = 2.0) -> QuadraticCase:
    """One random :class:`QuadraticCase` with scale separation ``flat_max``: K ∈ [1, 3]
    stiff modes with ηhW ∈ [``stiff_min``, 1.9W] (stable steps, ηh < 2) and 1–8 flat modes
    with ηhW ∈ [``flat_max``/100, ``flat_max``] (log-uniform); W ∈ [3, 10]; gradient entries
    of size 0.1–10 and either sign. The same ``rng`` state gives the same case up to the
    flat modes' scale, so levels of ``flat_max`` can be compared on common draws.

    Args:
        rng: The NumPy generator the case is drawn from.
        flat_max: The separation parameter: the largest ηhW of a flat mode.
        stiff_min: The smallest ηhW of a stiff mode.

    Returns:
        The drawn case (its ``K`` counts the stiff modes).

    Raises:
        InputError: If not 0 < ``flat_max`` < ``stiff_min`` ≤ 5.7 (1.9·W at the smallest W).

    >>> case = separated_quadratic(np.random.default_rng(0), 0.01)
    >>> bool(np.all((case.eta * case.h * case.W <= 0.01) | (case.eta * case.h * case.W >= 2)))
    True
    """
    _check_separation(flat_max, stiff_min)
    W = int(rng.integers(3, 11))
    K = int(rng.integers(1, 4))
    n_flat = int(rng.integers(1, 9))
    eta = float(10 ** rng.uniform(-3, 0))
    stiff = rng.uniform(stiff_min, 1.9 * W, size=K)
    flat = flat_max * 10 ** rng.uniform(-2, 0, size=n_flat)
    h = np.sort(np.concatenate([stiff, flat]))[::-1] / (eta * W)
    g0 = 10 ** rng.uniform(-1, 1, size=h.size) * rng.choice([-1.0, 1.0], size=h.size)
    return QuadraticCase(h=h, eta=eta, W=W, g0=g0)


def _check_separation(flat_max: float, stiff_min: float) -> None:
    """Refuse a separation that :func:`separated_quadratic` cannot draw.

    Raises:
        InputError: If not 0 < ``flat_max`` < ``stiff_min`` ≤ 5.7.
    """
    flat_max = check_finite_number("flat_max", flat_max)
    stiff_min = check_finite_number("stiff_min", stiff_min)
    if not 0 < flat_max < stiff_min <= 5.7:
        raise InputError(f"need 0 < flat_max < stiff_min <= 5.7 (stable steps at W = 3), got "
                         f"flat_max={flat_max}, stiff_min={stiff_min}")


def separated_quadratics(flat_max: float = 0.01,
                         stiff_min: float = 2.0) -> st.SearchStrategy[QuadraticCase]:
    """A :class:`QuadraticCase` drawn by :func:`separated_quadratic` from a Hypothesis-drawn
    seed: stiff modes ηhW ≥ ``stiff_min``, flat modes ηhW ≤ ``flat_max`` (the explicit
    separation parameter of R11's asymptotic bound).

    >>> case = separated_quadratics(0.1).example()
    >>> case.K >= 1
    True

    Args:
        flat_max: The largest ηhW of a flat mode, > 0.
        stiff_min: The smallest ηhW of a stiff mode, above ``flat_max`` and ≤ 5.7.

    Returns:
        The strategy.

    Raises:
        InputError: If not 0 < ``flat_max`` < ``stiff_min`` ≤ 5.7.
    """
    _check_separation(flat_max, stiff_min)
    return st.integers(0, 2**32 - 1).map(
        lambda seed: separated_quadratic(np.random.default_rng(seed), flat_max, stiff_min))


def signal_parameters() -> st.SearchStrategy[dict[str, float]]:
    """R1's parameters in their domain: h ≥ 0, Γ > 0, ω ≥ 0 with h + ω > 0, η > 0, W ≥ 2."""
    return st.fixed_dictionaries({
        "h": _floats(0.0, 10.0), "Gamma": _floats(1e-3, 10.0), "omega": _floats(1e-3, 2.0),
        "eta": _floats(1e-3, 1.0), "W": st.integers(2, 50),
    })


def gap_parameters() -> st.SearchStrategy[dict[str, float]]:
    """R4's parameters in their stated domain: c real, β ≥ 0, η > 0, h̄ + ω > 0; c and β
    are 0 or at least 10⁻¹² in size (g*² of a smaller one underflows a float64)."""
    return st.fixed_dictionaries({
        "c": st.one_of(st.just(0.0), _floats(1e-12, 10.0), _floats(-10.0, -1e-12)),
        "beta": st.one_of(st.just(0.0), _floats(1e-12, 10.0)),
        "eta": _floats(1e-3, 1.0),
        "hw": _floats(1e-3, 10.0),
    })


@st.composite
def feedback_parameters(draw: st.DrawFn) -> dict[str, float]:
    """R8's parameters: curvatures and injections of modes k* (``h``, ``Gamma0``) and k*+1
    (``h_b``, ``Gamma_b``), ω, and ``delta`` ∈ [10⁻³, 0.5], the relative distance from the
    threshold at which a property probes ρ. One draw in three has ``h_b = h`` and
    ``Gamma_b = Gamma0``, so the level ratio q is exactly 1 (R8's boundary case); a draw
    with q within 10⁻⁶ of 1 but not 1 is moved onto q = 1 (there the open gap is below
    floating-point resolution, so no float test could judge it).

    >>> sorted(feedback_parameters().example())
    ['Gamma0', 'Gamma_b', 'delta', 'h', 'h_b', 'omega']
    """
    h, gamma0 = draw(_floats(0.01, 5.0)), draw(_floats(0.01, 5.0))
    if draw(st.integers(0, 2)) == 0:
        h_b, gamma_b = h, gamma0
    else:
        h_b, gamma_b = draw(_floats(0.01, 5.0)), draw(_floats(0.01, 5.0))
    omega = draw(_floats(0.0, 1.0))
    if abs((gamma_b / (h_b + omega)) / (gamma0 / (h + omega)) - 1.0) < 1e-6:
        h_b, gamma_b = h, gamma0
    return {"h": h, "Gamma0": gamma0, "h_b": h_b, "Gamma_b": gamma_b,
            "omega": omega, "delta": draw(_floats(1e-3, 0.5))}


def loss_parameters(n_max: int = 6) -> st.SearchStrategy[dict[str, np.ndarray | float]]:
    """R6's per-mode inputs: α_j ∈ [0, 1], cos²θ_j ∈ [α_j, 1] (as a fraction ``t`` of the
    way), G_j^eff, θ_j, G_j^val of either sign, ω ∈ [0.01, 2], η, W.

    >>> sorted(loss_parameters().example())
    ['G_eff', 'G_val', 'W', 'alpha', 'eta', 'omega', 't', 'theta']

    Args:
        n_max: The most modes, >= 1.

    Returns:
        The strategy.

    Raises:
        InputError: For ``n_max < 1``.
    """
    n_max = check_int("loss_parameters(n_max)", n_max, 1)
    def arrays(n: int) -> st.SearchStrategy[dict]:
        vec = lambda lo, hi: hnp.arrays(np.float64, n, elements=_floats(lo, hi))  # noqa: E731
        return st.fixed_dictionaries({
            "alpha": vec(0.0, 1.0), "t": vec(0.0, 1.0), "G_eff": vec(-5.0, 5.0),
            "theta": vec(-5.0, 5.0), "G_val": vec(-5.0, 5.0), "omega": _floats(0.01, 2.0),
            "eta": _floats(1e-3, 1.0), "W": st.integers(2, 20),
        })
    return st.integers(1, n_max).flatmap(arrays)
