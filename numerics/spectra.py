"""Spectral statistics of the rolling-window update Gram (docs/spec.md §2), one definition each.

Every function is a pure function of float64 NumPy arrays. The torch monitor, the reference
simulator and the analysis code all call these; nothing else in the project computes a
spectral statistic.

Conventions (docs/spec.md §1): a window holds W updates δ as the rows of X (oldest first,
uncentered); G = X Xᵀ is W×W; λ_1 ≥ … ≥ λ_W are its eigenvalues and σ_j = √λ_j. Indices in
results (k*, mode numbers) are **1-based**, as in the paper.

The numerical-rank guard: singular values below ``rtol_eff·σ_1`` are set to exactly zero,
and so is every σ_j with j > ``max_rank`` (X is W×P, so its rank is at most min(W, P);
:func:`window_stats` always caps at its ``P``). Ratios σ_j/σ_{j+1} are only formed below
the numerical rank. The threshold knows the precision of the Gram (:func:`guard_rtol`):

    rtol_eff = max(rtol, √(W·eps))

where ``eps`` is the unit round-off of the storage of the updates (and of their inner
products): a Gram of W stored vectors carries an absolute error F with ‖F‖₂ ≤ ‖F‖_F ≲
eps·Σ_i‖δ_i‖² = eps·tr G ≤ W·eps·λ_1 (each inner product ⟨δ_i, δ_j⟩ is off by about
eps·‖δ_i‖‖δ_j‖ with blocked summation), so by Weyl's inequality eigenvalues below
W·eps·λ_1, i.e. σ_j below √(W·eps)·σ_1, are round-off. For float32 storage that is
1.1e-3 at W = 10 and 2.4e-3 at W = 50; for float64 it stays below the default 1e-6 up to
W ≈ 4500. ``eps=None`` (the default) treats the Gram as exact (rtol alone).

>>> import numpy as np
>>> X = np.diag([4.0, 2.0, 1.0]) @ np.ones((3, 5)) * np.eye(3, 5)
>>> s = sigma_from_gram(X @ X.T)
>>> s.tolist()
[4.0, 2.0, 1.0]
>>> kstar(s, method="ratio"), float(gap_ratio(s, 1)), float(gap(s, 1))
(1, 2.0, 2.0)
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.columns import G23_LAMBDA, G_SIGMA

KStarMethod = Literal["weighted", "ratio", "signal"]
BBPForm = Literal["paper", "textbook"]
KSTAR_METHODS: tuple[str, ...] = ("weighted", "ratio", "signal")
DEFAULT_RTOL = 1e-6
EPS_FLOAT32 = float(np.finfo(np.float32).eps)  # 1.19e-7
EPS_FLOAT64 = float(np.finfo(np.float64).eps)  # 2.22e-16


# --------------------------------------------------------------------------- validation


def _as_gram(gram: np.ndarray, name: str = "gram") -> np.ndarray:
    """A float64 Gram matrix, or a stack of them (shape (..., W, W)), checked.

    Args:
        gram: A W×W Gram matrix or a stack of them, shape (..., W, W).
        name: The argument's name in error messages.

    Returns:
        ``gram`` as float64.

    Raises:
        InputError: If ``gram`` is not square, has W < 2, holds NaN/Inf, is all zeros, is not
            symmetric or has a negative diagonal entry.
    """
    g = np.asarray(gram, dtype=np.float64)
    if g.ndim < 2 or g.shape[-1] != g.shape[-2]:
        raise InputError(f"{name} must be a square matrix, got shape {g.shape}")
    if g.shape[-1] < 2:
        raise InputError(f"window must hold W >= 2 updates, got W = {g.shape[-1]}")
    if not np.all(np.isfinite(g)):
        raise InputError(f"{name} contains NaN or Inf (a non-finite update entered the window)")
    scale = np.max(np.abs(g), axis=(-2, -1))
    if np.any(scale == 0.0):
        raise InputError(f"{name} is all zeros: every update in the window is zero")
    if np.any(np.max(np.abs(g - np.swapaxes(g, -1, -2)), axis=(-2, -1)) > 1e-8 * scale):
        raise InputError(f"{name} is not symmetric")
    if np.any(np.min(np.diagonal(g, axis1=-2, axis2=-1), axis=-1) < -1e-12 * scale):
        raise InputError(f"{name} has a negative diagonal entry, so it is not a Gram matrix")
    return g


def guard_rtol(W: int, eps: float | str | np.dtype | None = None,
               rtol: float = DEFAULT_RTOL) -> float:
    """The σ-relative threshold of the numerical-rank guard for a W×W Gram whose updates were
    stored (and whose inner products were accumulated) with unit round-off ``eps``:
    ``max(rtol, √(W·eps))`` (see the module docstring for why). ``eps`` is a number, a NumPy
    float dtype (``"float32"``, ``np.float64``) or ``None`` (exact Gram: ``rtol`` alone).

    >>> guard_rtol(10), round(guard_rtol(10, "float32"), 6), guard_rtol(10, "float64")
    (1e-06, 0.001092, 1e-06)
    >>> round(guard_rtol(50, EPS_FLOAT32), 6)
    0.002441

    Args:
        W: The window length (a positive integer).
        eps: Unit round-off: a number, a NumPy float dtype, or ``None`` for an exact Gram.
        rtol: The floor of the threshold, in [0, 1).

    Returns:
        The threshold ``max(rtol, √(W·eps))`` (``rtol`` when ``eps`` is ``None``).

    Raises:
        InputError: If ``W`` is not a positive integer, ``rtol`` is not in [0, 1), or ``eps`` is
            neither a round-off in [0, 1) nor a float dtype.
    """
    W = _check_positive_int(W, "W")
    if isinstance(rtol, bool) or not (isinstance(rtol, int | float | np.floating)
                                      and 0.0 <= rtol < 1.0):
        raise InputError(f"rtol must be a number in [0, 1), got {rtol!r}")
    if eps is None:
        return float(rtol)
    if not isinstance(eps, int | float | np.floating) or isinstance(eps, bool):
        try:
            eps = float(np.finfo(eps).eps)
        except (TypeError, ValueError) as err:
            raise InputError(f"eps must be a number or a float dtype, got {eps!r}") from err
    if not 0.0 <= eps < 1.0:
        raise InputError(f"eps must be a unit round-off in [0, 1), got {eps!r}")
    return float(max(rtol, np.sqrt(W * float(eps))))


def _check_max_rank(max_rank: int | None) -> int | None:
    return None if max_rank is None else _check_positive_int(max_rank, "max_rank")


def _guard(lam: np.ndarray, rtol: float, max_rank: int | None = None) -> np.ndarray:
    """Clamp round-off negatives and zero the eigenvalues below the numerical rank (and every
    one beyond ``max_rank``).

    Args:
        lam: Eigenvalues, descending along the last axis (modified in place).
        rtol: The σ-relative threshold below which eigenvalues are zeroed.
        max_rank: Cap on the rank; ``None`` for no cap.

    Returns:
        ``lam`` with round-off negatives clamped and the eigenvalues below the rank zeroed.
    """
    lam = np.clip(lam, 0.0, None)
    lam[np.sqrt(lam) < rtol * np.sqrt(lam[..., :1])] = 0.0
    if max_rank is not None:
        lam[..., max_rank:] = 0.0
    return lam


def _as_sigma(sigma: np.ndarray) -> np.ndarray:
    s = np.asarray(sigma, dtype=np.float64)
    if s.ndim != 1 or s.size < 2:
        raise InputError(f"sigma must be a 1-D array of W >= 2 values, got shape {s.shape}")
    if not np.all(np.isfinite(s)) or np.any(s < 0):
        raise InputError("sigma must be finite and non-negative")
    if np.any(np.diff(s) > 1e-12 * max(s[0], 1e-300)):
        raise InputError("sigma must be sorted in descending order")
    if s[0] == 0.0:
        raise InputError("all singular values are zero: every update in the window is zero")
    return s


def _check_positive_int(value: int, name: str) -> int:
    ok = (isinstance(value, numbers.Real) and not isinstance(value, bool)
          and math.isfinite(value) and int(value) == value and value >= 1)
    if not ok:
        raise InputError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------- spectrum


def eigenvalues_from_gram(
    gram: np.ndarray,
    rtol: float = DEFAULT_RTOL,
    *,
    eps: float | str | np.dtype | None = None,
    max_rank: int | None = None,
) -> np.ndarray:
    """Eigenvalues λ_1 ≥ … ≥ λ_W of a Gram matrix, round-off negatives clamped to 0.

    Eigenvalues whose square root is below ``guard_rtol(W, eps, rtol)·σ_1`` are set to
    exactly zero, and so is every λ_j with j > ``max_rank`` (pass P when W > P). A stack of
    Grams (shape (..., W, W)) gives a stack of spectra (..., W) in one LAPACK call.

    >>> eigenvalues_from_gram(np.array([[2.0, 0.0], [0.0, 1e-20]])).tolist()
    [2.0, 0.0]
    >>> eigenvalues_from_gram(np.stack([np.eye(2), 4 * np.eye(2)])).tolist()
    [[1.0, 1.0], [4.0, 4.0]]
    >>> eigenvalues_from_gram(np.diag([1.0, 1e-8]), eps="float32").tolist()  # σ_2 < √(2·eps32)
    [1.0, 0.0]
    >>> eigenvalues_from_gram(np.diag([4.0, 2.0, 1.0]), max_rank=2).tolist()
    [4.0, 2.0, 0.0]

    Args:
        gram: A W×W Gram matrix or a stack of them, shape (..., W, W).
        rtol: The σ-relative floor of the rank guard (see :func:`guard_rtol`).
        eps: Unit round-off of the stored updates (number, float dtype or ``None``).
        max_rank: Cap on the numerical rank (pass P when W > P); ``None`` for no cap.

    Returns:
        The guarded eigenvalues, descending, shape (..., W).

    Raises:
        InputError: If ``gram`` is not a finite, symmetric, non-zero Gram matrix (or stack)
            with W >= 2, or a guard argument is invalid.
    """
    g = _as_gram(gram)
    rt = guard_rtol(g.shape[-1], eps, rtol)
    return _guard(np.linalg.eigvalsh(g)[..., ::-1].copy(), rt, _check_max_rank(max_rank))


def sigma_from_gram(
    gram: np.ndarray,
    rtol: float = DEFAULT_RTOL,
    *,
    eps: float | str | np.dtype | None = None,
    max_rank: int | None = None,
) -> np.ndarray:
    """Singular values σ_j = √λ_j of the window matrix X, from G = X Xᵀ (descending); a stack
    of Grams (..., W, W) gives (..., W). ``eps``/``max_rank``: the rank guard, as in
    :func:`eigenvalues_from_gram`.

    >>> sigma_from_gram(np.array([[9.0, 0.0], [0.0, 4.0]])).tolist()
    [3.0, 2.0]

    Args:
        gram: A W×W Gram matrix G = X Xᵀ or a stack of them, shape (..., W, W).
        rtol: The σ-relative floor of the rank guard (see :func:`guard_rtol`).
        eps: Unit round-off of the stored updates (number, float dtype or ``None``).
        max_rank: Cap on the numerical rank (pass P when W > P); ``None`` for no cap.

    Returns:
        The singular values σ_j = √λ_j, descending, shape (..., W).

    Raises:
        InputError: If ``gram`` is not a finite, symmetric, non-zero Gram matrix (or stack)
            with W >= 2, or a guard argument is invalid.
    """
    return np.sqrt(eigenvalues_from_gram(gram, rtol, eps=eps, max_rank=max_rank))


def eigh_gram(
    gram: np.ndarray,
    rtol: float = DEFAULT_RTOL,
    *,
    eps: float | str | np.dtype | None = None,
    max_rank: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-decomposition of G, descending: ``(lam, U)`` with columns u_j (temporal profiles);
    ``lam`` guarded as in :func:`eigenvalues_from_gram`.

    >>> lam, U = eigh_gram(np.array([[1.0, 0.0], [0.0, 4.0]]))
    >>> lam.tolist(), np.abs(U[:, 0]).tolist()
    ([4.0, 1.0], [0.0, 1.0])

    Args:
        gram: A W×W Gram matrix or a stack of them, shape (..., W, W).
        rtol: The σ-relative floor of the rank guard (see :func:`guard_rtol`).
        eps: Unit round-off of the stored updates (number, float dtype or ``None``).
        max_rank: Cap on the numerical rank (pass P when W > P); ``None`` for no cap.

    Returns:
        ``(lam, U)``: the guarded eigenvalues, descending, and the matching eigenvectors as
        columns.

    Raises:
        InputError: If ``gram`` is not a finite, symmetric, non-zero Gram matrix (or stack)
            with W >= 2, or a guard argument is invalid.
    """
    g = _as_gram(gram)
    rt = guard_rtol(g.shape[-1], eps, rtol)
    lam, U = np.linalg.eigh(g)
    return _guard(lam[..., ::-1].copy(), rt, _check_max_rank(max_rank)), U[..., ::-1].copy()


def numerical_rank(
    sigma: np.ndarray,
    rtol: float = DEFAULT_RTOL,
    *,
    eps: float | str | np.dtype | None = None,
    max_rank: int | None = None,
) -> int:
    """Number of singular values at or above ``guard_rtol(W, eps, rtol)·σ_1``, at most
    ``max_rank``.

    >>> numerical_rank(np.array([1.0, 0.5, 1e-9]))
    2
    >>> numerical_rank(np.array([1.0, 0.5, 1e-4]), eps="float32"), numerical_rank(
    ...     np.array([1.0, 0.5, 0.1]), max_rank=2)
    (2, 2)

    Args:
        sigma: Singular values of one window, descending, shape (W,).
        rtol: The σ-relative floor of the rank guard (see :func:`guard_rtol`).
        eps: Unit round-off of the stored updates (number, float dtype or ``None``).
        max_rank: Cap on the numerical rank (pass P when W > P); ``None`` for no cap.

    Returns:
        The numerical rank.

    Raises:
        InputError: If ``sigma`` is not a finite, non-negative, descending 1-D array of
            W >= 2 values with σ_1 > 0.
    """
    s = _as_sigma(sigma)
    return _rank(s, guard_rtol(s.size, eps, rtol), _check_max_rank(max_rank))


def _one(value: Any, s: np.ndarray, kind: type = float) -> Any:
    """A statistic computed along the last axis, as its caller expects it.

    Returns:
        A plain number (``kind``) for one window (1-D ``s``), the array for a stack.
    """
    return kind(value) if s.ndim == 1 else value


# The private statistics below take σ along the last axis: one window (W,) or a stack of
# windows (n, W) (:func:`window_table`); each definition is written once, for both.


def _rank(s: np.ndarray, rtol: float, max_rank: int | None = None) -> Any:
    rank = np.count_nonzero((s >= rtol * s[..., :1]) & (s > 0), axis=-1)
    if max_rank is not None:
        rank = np.minimum(rank, max_rank)
    return _one(rank, s, int)


def ratio_profile(
    sigma: np.ndarray,
    rtol: float = DEFAULT_RTOL,
    *,
    eps: float | str | np.dtype | None = None,
    max_rank: int | None = None,
) -> np.ndarray:
    """r_j = σ_j/σ_{j+1}, j = 1 … W−1 (index 0 holds r_1); NaN at and beyond the numerical rank.

    >>> ratio_profile(np.array([4.0, 2.0, 0.0])).tolist()
    [2.0, nan]

    Args:
        sigma: Singular values of one window, descending, shape (W,).
        rtol: The σ-relative floor of the rank guard (see :func:`guard_rtol`).
        eps: Unit round-off of the stored updates (number, float dtype or ``None``).
        max_rank: Cap on the numerical rank (pass P when W > P); ``None`` for no cap.

    Returns:
        The ratios r_j, shape (W−1,), NaN at and beyond the numerical rank.

    Raises:
        InputError: If ``sigma`` is not a finite, non-negative, descending 1-D array of
            W >= 2 values with σ_1 > 0.
    """
    s = _as_sigma(sigma)
    return _ratios(s, guard_rtol(s.size, eps, rtol), _check_max_rank(max_rank))


def _ratios(s: np.ndarray, rtol: float, max_rank: int | None = None) -> np.ndarray:
    rank = np.asarray(_rank(s, rtol, max_rank))
    valid = np.arange(1, s.shape[-1]) < rank[..., None]  # j (1-based) < rank ⇔ σ_{j+1} > 0
    return np.where(valid, s[..., :-1] / np.where(valid, s[..., 1:], 1.0), np.nan)


def noise_level(sigma: np.ndarray, P: int) -> float:
    """ν with ν² = mean(λ_j for j > ⌊W/2⌋) / P: the noise power per coordinate.

    >>> noise_level(np.array([10.0, 5.0, 2.0, 2.0]), P=4)
    1.0

    Args:
        sigma: Singular values of one window, descending, shape (W,).
        P: The parameter count.

    Returns:
        The noise level ν.

    Raises:
        InputError: If ``sigma`` is not a finite, non-negative, descending 1-D array of
            W >= 2 values with σ_1 > 0.
    """
    return _nu(_as_sigma(sigma), _check_positive_int(P, "P"))


def _nu(s: np.ndarray, P: int) -> Any:
    return _one(np.sqrt(np.mean(s[..., s.shape[-1] // 2:] ** 2, axis=-1) / P), s)


def marchenko_pastur_edges(nu: float, P: int, W: int) -> tuple[float, float]:
    """Bulk edges (σ_−, σ_+) = ν(|√P − √W|, √P + √W) for a W×P pure-noise window.

    >>> marchenko_pastur_edges(1.0, 100, 4)
    (8.0, 12.0)

    Args:
        nu: The noise level per coordinate.
        P: The parameter count.
        W: The window length.

    Returns:
        The lower and upper bulk edges (σ_−, σ_+).

    Raises:
        InputError: If ``P`` or ``W`` is not a positive integer.
    """
    P, W = _check_positive_int(P, "P"), _check_positive_int(W, "W")
    return float(nu * abs(np.sqrt(P) - np.sqrt(W))), float(_bulk_edge(nu, P, W))


def _bulk_edge(nu: Any, P: int, W: int) -> Any:
    """The upper Marchenko–Pastur edge.

    Returns:
        ν(√P + √W) (ν a number or an array).
    """
    return nu * (np.sqrt(P) + np.sqrt(W))


def bbp_threshold(sigma: np.ndarray, P: int, form: BBPForm = "paper") -> float:
    """Detection threshold d_crit: ν(P(W−1))^{1/4} (``paper``) or ν(PW)^{1/4} (``textbook``).

    >>> round(bbp_threshold(np.array([10.0, 5.0, 2.0, 2.0]), P=4, form="textbook"), 6)
    2.0

    Args:
        sigma: Singular values of one window, descending, shape (W,).
        P: The parameter count.
        form: ``"paper"`` or ``"textbook"``.

    Returns:
        The detection threshold d_crit.

    Raises:
        InputError: If ``sigma`` is not a finite, non-negative, descending 1-D array of
            W >= 2 values with σ_1 > 0.
    """
    return _d_crit(_as_sigma(sigma), _check_positive_int(P, "P"), form)


def _d_crit(s: np.ndarray, P: int, form: BBPForm) -> Any:
    W, nu = s.shape[-1], _nu(s, P)
    if form == "paper":
        return _one(nu * (P * (W - 1)) ** 0.25, s)
    if form == "textbook":
        return _one(nu * (P * W) ** 0.25, s)
    raise InputError(f"unknown BBP form {form!r}; use 'paper' or 'textbook'")


def vacuity_ratio(sigma: np.ndarray, P: int, form: BBPForm = "paper") -> float:
    """σ_W / d_crit: ≫ 1 means every mode is above the detection threshold (BBP is vacuous).

    NaN when the noise level is zero (a rank-deficient window has no noise bulk).

    >>> round(vacuity_ratio(np.array([10.0, 5.0, 2.0, 2.0]), P=4, form="textbook"), 6)
    1.0

    Args:
        sigma: Singular values of one window, descending, shape (W,).
        P: The parameter count.
        form: The d_crit form, ``"paper"`` or ``"textbook"``.

    Returns:
        σ_W / d_crit, or NaN when d_crit is zero.

    Raises:
        InputError: If ``sigma`` is not a finite, non-negative, descending 1-D array of
            W >= 2 values with σ_1 > 0.
    """
    s = _as_sigma(sigma)
    return _vacuity(s, _d_crit(s, _check_positive_int(P, "P"), form))


def _vacuity(s: np.ndarray, d_crit: Any) -> Any:
    d = np.asarray(d_crit, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _one(np.where(d > 0, s[..., -1] / np.where(d > 0, d, 1.0), np.nan), s)


def kstar(
    sigma: np.ndarray,
    method: KStarMethod = "weighted",
    *,
    P: int | None = None,
    rtol: float = DEFAULT_RTOL,
    eps: float | str | np.dtype | None = None,
    max_rank: int | None = None,
) -> int:
    """Gap position k* (1-based) by one of three variants.

    * ``ratio``: argmax_j σ_j/σ_{j+1} (the paper's definition);
    * ``weighted``: argmax_j (σ_j/Σσ)·σ_j/σ_{j+1} (the paper's scripts; the default);
    * ``signal``: argmax of σ_j/σ_{j+1} over j with σ_{j+1} above the Marchenko–Pastur bulk
      edge ν(√P + √W) (needs ``P``); 1 when no such j exists.

    Only ratios below the numerical rank count (rank guard: ``rtol``, ``eps``, and at most
    ``max_rank`` and ``P``); a window of numerical rank 1 has k* = 1.

    >>> s = np.array([10.0, 9.0, 1.0, 0.9])
    >>> kstar(s, "ratio"), kstar(s, "weighted"), kstar(s, "ratio", P=2)
    (2, 2, 1)

    Args:
        sigma: Singular values of one window, descending, shape (W,).
        method: ``"weighted"``, ``"ratio"`` or ``"signal"``.
        P: The parameter count (needed by ``"signal"``; also caps the rank).
        rtol: The σ-relative floor of the rank guard (see :func:`guard_rtol`).
        eps: Unit round-off of the stored updates (number, float dtype or ``None``).
        max_rank: Cap on the numerical rank (pass P when W > P); ``None`` for no cap.

    Returns:
        The gap position k*, 1-based.

    Raises:
        InputError: If ``sigma`` is invalid, ``P`` is not a positive integer, ``method`` is
            unknown, or ``method="signal"`` lacks ``P``.
    """
    if P is not None:
        P = _check_positive_int(P, "P")
    s = _as_sigma(sigma)
    cap = _cap(P, _check_max_rank(max_rank))
    return _kstar(s, method, P, guard_rtol(s.size, eps, rtol), cap)


def _cap(P: int | None, max_rank: int | None) -> int | None:
    """The rank cap: min(P, max_rank), either may be unknown.

    Args:
        P: The parameter count, or ``None``.
        max_rank: A rank cap, or ``None``.

    Returns:
        The smaller of the known caps, ``None`` when neither is known.
    """
    caps = [c for c in (P, max_rank) if c is not None]
    return min(caps) if caps else None


def _kstar(s: np.ndarray, method: str, P: int | None, rtol: float,
           max_rank: int | None = None) -> Any:
    r = _ratios(s, rtol, max_rank)
    valid = np.isfinite(r)
    if method == "ratio":
        score = r
    elif method == "weighted":
        score = s[..., :-1] / s.sum(axis=-1, keepdims=True) * r
    elif method == "signal":
        if P is None:
            raise InputError("kstar(method='signal') needs the parameter count P")
        edge = np.asarray(_bulk_edge(_nu(s, P), P, s.shape[-1]))
        valid &= s[..., 1:] > edge[..., None]
        score = r
    else:
        raise InputError(f"unknown k* method {method!r}; use one of {KSTAR_METHODS}")
    best = np.argmax(np.where(valid, score, -np.inf), axis=-1) + 1
    return _one(np.where(valid.any(axis=-1), best, 1), s, int)


def _at_gap(s: np.ndarray, k: Any) -> tuple[Any, Any]:
    """(R, g) at gap position ``k``: σ_k/σ_k+1 (inf when σ_k+1 = 0) and σ_k − σ_k+1.

    Returns:
        R and g (numbers for one window, arrays for a stack).
    """
    k = np.asarray(k)[..., None]
    hi = np.take_along_axis(s, k - 1, axis=-1)[..., 0]
    lo = np.take_along_axis(s, k, axis=-1)[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        R = np.where(lo > 0, hi / np.where(lo > 0, lo, 1.0), np.inf)
    return _one(R, s), _one(hi - lo, s)


def gap_ratio(sigma: np.ndarray, k: int) -> float:
    """R = σ_k/σ_{k+1} (inf when σ_{k+1} = 0).

    >>> gap_ratio(np.array([3.0, 1.0]), 1)
    3.0

    Args:
        sigma: Singular values of one window, descending, shape (W,).
        k: The gap position, 1 ≤ k ≤ W−1.

    Returns:
        σ_k/σ_{k+1}, inf when σ_{k+1} = 0.

    Raises:
        InputError: If ``sigma`` is invalid or ``k`` is out of range.
    """
    s = _as_sigma(sigma)
    _check_k(s, k)
    return _at_gap(s, k)[0]


def _check_k(s: np.ndarray, k: int) -> None:
    if not 1 <= k < s.size:
        raise InputError(f"k must be in 1..W-1 = 1..{s.size - 1}, got {k}")


def gap(sigma: np.ndarray, k: int) -> float:
    """g = σ_k − σ_{k+1}, in singular-value units.

    >>> gap(np.array([3.0, 1.0]), 1)
    2.0

    Args:
        sigma: Singular values of one window, descending, shape (W,).
        k: The gap position, 1 ≤ k ≤ W−1.

    Returns:
        σ_k − σ_{k+1}.

    Raises:
        InputError: If ``sigma`` is invalid or ``k`` is out of range.
    """
    s = _as_sigma(sigma)
    _check_k(s, k)
    return _at_gap(s, k)[1]


def eigen_gaps(lam: np.ndarray) -> np.ndarray:
    """Λ_j = λ_j − λ_{j+1}, j = 1 … W−1.

    >>> eigen_gaps(np.array([5.0, 3.0, 2.0])).tolist()
    [2.0, 1.0]

    Args:
        lam: Eigenvalues λ_1 ≥ … ≥ λ_W of one window's Gram, shape (W,), or of a stack of
            windows, shape (n, W).

    Returns:
        The W−1 eigen-gaps Λ_j (per window for a stack).
    """
    lam = np.asarray(lam, dtype=np.float64)
    return lam[..., :-1] - lam[..., 1:]


def g23(lam: np.ndarray) -> float:
    """Sub-leading eigen-gap g₂₃ = λ_2 − λ_3 (NaN when W < 3).

    >>> g23(np.array([5.0, 3.0, 2.0]))
    1.0

    Args:
        lam: Eigenvalues λ_1 ≥ … ≥ λ_W of one window's Gram, shape (W,).

    Returns:
        λ_2 − λ_3, NaN when W < 3.
    """
    lam = np.asarray(lam, dtype=np.float64)
    return float(lam[1] - lam[2]) if lam.size >= 3 else float("nan")


# --------------------------------------------------------------------------- two windows


def _as_gram_plus(gram_plus: np.ndarray) -> np.ndarray:
    K = np.asarray(gram_plus, dtype=np.float64)
    if K.ndim != 2 or K.shape[0] != K.shape[1] or K.shape[0] < 3:
        raise InputError(
            f"gram_plus must be the (W+1)×(W+1) Gram of the last W+1 updates with W >= 2, "
            f"got shape {K.shape}"
        )
    if not np.all(np.isfinite(K)):
        raise InputError("gram_plus contains NaN or Inf")
    return K


def window_change_fro(gram_plus: np.ndarray) -> float:
    """‖ΔC_t‖_F = ‖C_t − C_{t−1}‖_F from the (W+1)×(W+1) Gram K of the last W+1 updates.

    The windows share W−1 rows, so ΔC = δ_newest δ_newestᵀ − δ_oldest δ_oldestᵀ and
    ‖ΔC‖_F² = K_nn² + K_oo² − 2K_on², which equals ‖G_t‖² + ‖G_{t−1}‖² − 2‖X_t X_{t−1}ᵀ‖²
    (docs/spec.md §2) without its cancellation. K is ordered oldest first.

    >>> window_change_fro(np.diag([1.0, 5.0, 2.0]))  # ‖diag(...,+4) - diag(1,...)‖ = √(4+1)
    2.23606797749979

    Args:
        gram_plus: The (W+1)×(W+1) Gram of the last W+1 updates, oldest first.

    Returns:
        ‖ΔC_t‖_F.

    Raises:
        InputError: If ``gram_plus`` is not a finite square matrix of size >= 3.
    """
    return float(_changes(_as_gram_plus(gram_plus)[None])[0][0])


def window_change_op(gram_plus: np.ndarray) -> float:
    """‖ΔC_t‖_op (spectral norm) of the rank-two change δ_n δ_nᵀ − δ_o δ_oᵀ.

    Its non-zero eigenvalues are those of [[K_nn, K_on], [−K_on, −K_oo]].

    >>> window_change_op(np.diag([1.0, 5.0, 2.0]))
    2.0

    Args:
        gram_plus: The (W+1)×(W+1) Gram of the last W+1 updates, oldest first.

    Returns:
        ‖ΔC_t‖_op.

    Raises:
        InputError: If ``gram_plus`` is not a finite square matrix of size >= 3.
    """
    return float(_changes(_as_gram_plus(gram_plus)[None])[1][0])


def _changes(K: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(‖ΔC‖_F, ‖ΔC‖_op) of a stack of (W+1)-Grams, shape (n, W+1, W+1): one definition for
    :func:`window_change_fro`, :func:`window_change_op` and :func:`window_stats_many`.

    Returns:
        Two arrays of shape (n,).
    """
    a, b, ab = K[:, -1, -1], K[:, 0, 0], K[:, 0, -1]
    fro = np.sqrt(np.maximum(a * a + b * b - 2.0 * ab * ab, 0.0))
    disc = np.sqrt(np.maximum((a + b) * (a + b) - 4.0 * ab * ab, 0.0))
    return fro, np.maximum(np.abs((a - b + disc) / 2.0), np.abs((a - b - disc) / 2.0))


def eigen_separation(lam: np.ndarray) -> np.ndarray:
    """δ_j = min(λ_{j−1} − λ_j, λ_j − λ_{j+1}), one-sided at the ends.

    >>> eigen_separation(np.array([5.0, 3.0, 2.0])).tolist()
    [2.0, 1.0, 1.0]

    Args:
        lam: Eigenvalues λ_1 ≥ … ≥ λ_W of one window's Gram, shape (W,), or of a stack of
            windows, shape (n, W).

    Returns:
        The separations δ_j, the shape of ``lam``.
    """
    gaps = eigen_gaps(lam)
    edge = np.full((*gaps.shape[:-1], 1), np.inf)
    return np.minimum(np.concatenate([edge, gaps], axis=-1),
                      np.concatenate([gaps, edge], axis=-1))


def davis_kahan_bound(
    lam: np.ndarray, delta_c: float, form: Literal["paper", "yws"] = "paper"
) -> np.ndarray:
    """Bound on sin θ_j, the rotation of mode j between windows, clipped to [0, 1].

    ``paper``: ‖ΔC‖/δ_j (pass ‖ΔC‖_F); ``yws`` (Yu–Wang–Samworth, assumption-free):
    2‖ΔC‖_op/δ_j (pass ‖ΔC‖_op).

    >>> davis_kahan_bound(np.array([5.0, 3.0, 2.0]), 0.5).tolist()
    [0.25, 0.5, 0.5]

    Args:
        lam: Eigenvalues λ_1 ≥ … ≥ λ_W of one window's Gram, shape (W,).
        delta_c: The window change: ‖ΔC‖_F for ``paper``, ‖ΔC‖_op for ``yws``.
        form: ``"paper"`` or ``"yws"``.

    Returns:
        The bounds on sin θ_j, shape (W,), in [0, 1].

    Raises:
        InputError: If ``form`` is unknown.
    """
    sep = eigen_separation(lam)
    factor = {"paper": 1.0, "yws": 2.0}.get(form)
    if factor is None:
        raise InputError(f"unknown Davis–Kahan form {form!r}; use 'paper' or 'yws'")
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = np.where(sep > 0, factor * delta_c / sep, 1.0)
    return np.clip(bound, 0.0, 1.0)


def stability_alpha(lam: np.ndarray, delta_c_fro: float | np.ndarray,
                    c: float = 1.0) -> np.ndarray:
    """α_j = max(0, 1 − c‖ΔC‖_F²/δ_j²) ∈ [0, 1]; 0 where δ_j = 0.

    >>> stability_alpha(np.array([5.0, 3.0, 2.0]), 0.5).tolist()
    [0.9375, 0.75, 0.75]

    Args:
        lam: Eigenvalues λ_1 ≥ … ≥ λ_W of one window's Gram, shape (W,), or of a stack of
            windows, shape (n, W).
        delta_c_fro: ‖ΔC‖_F between the two windows (one per window for a stack).
        c: The stability constant, >= 0.

    Returns:
        α_j in [0, 1], the shape of ``lam``.

    Raises:
        InputError: If ``c`` is negative.
    """
    if c < 0:
        raise InputError(f"the stability constant c must be >= 0, got {c}")
    sep = eigen_separation(lam)
    dc = np.asarray(delta_c_fro, dtype=np.float64)[..., None]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        alpha = np.where(sep > 0, 1.0 - c * dc**2 / sep**2, 0.0)
    return np.clip(alpha, 0.0, 1.0)


def rotation_bound(delta_c_fro: float, lam: np.ndarray, k: int) -> float:
    """A_dk = ‖ΔC‖_F/(λ_k − λ_k+1): the Davis–Kahan bound on the sine of the angle by which
    the top-k block of the window turns in one snapshot. Dimensionless (both terms are in
    eigenvalue units), unlike A = ‖ΔC‖_F/(η g²), which equals
    A_dk·(σ_k + σ_k+1)/(η g) and so carries 1/η.

    >>> rotation_bound(0.5, np.array([5.0, 3.0, 2.0]), 1)
    0.25

    Args:
        delta_c_fro: ‖ΔC‖_F between the two windows.
        lam: Eigenvalues λ_1 ≥ … ≥ λ_W of the window's Gram, shape (W,).
        k: The block boundary, 1 ≤ k ≤ W−1 (k*).

    Returns:
        A_dk, inf when λ_k = λ_k+1 (NaN when ``delta_c_fro`` is NaN).

    Raises:
        InputError: If ``k`` is out of range.
    """
    lam = np.asarray(lam, dtype=float)
    _check_k(lam, k)
    return float(_rotation(np.float64(delta_c_fro), lam, k))


def _rotation(dc: np.ndarray, lam: np.ndarray, k: Any) -> np.ndarray:
    """A_dk along the last axis (one window or a stack).

    Returns:
        ‖ΔC‖_F/(λ_k − λ_k+1), inf where the split is 0.
    """
    k = np.asarray(k)[..., None]
    split = (np.take_along_axis(lam, k - 1, axis=-1) - np.take_along_axis(lam, k, axis=-1))[
        ..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(split > 0, dc / np.where(split > 0, split, 1.0), np.inf)


def adiabatic_parameter(delta_c_fro: float, eta_eff: float, g: float) -> float:
    """A = ‖ΔC‖_F / (η_eff g²), g in singular-value units.

    >>> adiabatic_parameter(0.5, 0.1, 1.0)
    5.0

    Args:
        delta_c_fro: ‖ΔC‖_F between the two windows.
        eta_eff: The effective learning rate, > 0.
        g: The gap in singular-value units.

    Returns:
        A, inf when g = 0.

    Raises:
        InputError: If ``eta_eff`` is not > 0.
    """
    if not eta_eff > 0:
        raise InputError(f"the effective learning rate must be > 0, got {eta_eff}")
    return float(_adiabatic(np.float64(delta_c_fro), np.float64(eta_eff), np.float64(g)))


def _adiabatic(dc: np.ndarray, eta: np.ndarray, g: np.ndarray) -> np.ndarray:
    """The adiabatic parameter elementwise.

    Returns:
        A = ‖ΔC‖_F/(η_eff g²), inf where g = 0.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(g > 0, dc / (eta * g * g), np.inf)


def adiabatic_regime(A: float, low: float = 0.1, high: float = 10.0) -> str:
    """``plateau`` (A < low), ``transition`` (low ≤ A ≤ high) or ``forgetting`` (A > high).

    >>> adiabatic_regime(0.01), adiabatic_regime(1.0), adiabatic_regime(50.0)
    ('plateau', 'transition', 'forgetting')

    Args:
        A: The adiabatic parameter (NaN gives ``"unknown"``).
        low: The plateau threshold.
        high: The forgetting threshold.

    Returns:
        ``"plateau"``, ``"transition"``, ``"forgetting"`` or ``"unknown"``.

    Raises:
        InputError: If not 0 < ``low`` < ``high``.
    """
    if not 0 < low < high:
        raise InputError(f"regime thresholds must satisfy 0 < low < high, got {low}, {high}")
    if np.isnan(A):
        return "unknown"
    return "plateau" if A < low else ("forgetting" if A > high else "transition")


# --------------------------------------------------------------------------- half windows


def half_window_overlap(gram: np.ndarray, rtol: float = DEFAULT_RTOL) -> np.ndarray:
    """α_j = |⟨v_j⁽¹⁾, v_j⁽²⁾⟩|: the overlap of mode j's parameter-space direction in the
    window's first and second half (the author's stability α, dyck_scan), from the Gram.

    With h = ⌊W/2⌋, X₁ the first h updates of the window and X₂ the last h (the middle one
    is left out when W is odd), v_j⁽ᵃ⁾ = X_aᵀu_j⁽ᵃ⁾/σ_j⁽ᵃ⁾ is the j-th right singular vector
    of X_a, where (σ⁽ᵃ⁾)², u⁽ᵃ⁾ are the eigenpairs of the half's Gram X_aX_aᵀ (a diagonal
    block of G = XXᵀ). So ⟨v_j⁽¹⁾, v_j⁽²⁾⟩ = u_j⁽¹⁾ᵀ(X₁X₂ᵀ)u_j⁽²⁾/(σ_j⁽¹⁾σ_j⁽²⁾), with X₁X₂ᵀ
    an off-diagonal block of G: no parameter vector is needed. The sign of a singular
    vector is arbitrary, hence the absolute value.

    Args:
        gram: The W×W window Gram (oldest update first), or a stack (..., W, W).
        rtol: A mode whose σ_j⁽ᵃ⁾ is below rtol·σ_1⁽ᵃ⁾ in either half has no direction
            there: NaN.

    Returns:
        α_1..α_h, shape (..., ⌊W/2⌋), each in [0, 1] or NaN.

    Raises:
        InputError: If ``gram`` is not a finite, symmetric, non-zero Gram matrix (or stack)
            with W >= 2, or ``rtol`` is not in [0, 1).

    >>> X = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 3.0], [1.0, 0.0, 0.0]])
    >>> half_window_overlap(X @ X.T).round(6).tolist()  # v_1: e_1 then e_3; v_2: e_2 then e_1
    [0.0, 0.0]
    >>> Y = np.array([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0], [0.0, 1.0]])
    >>> half_window_overlap(Y @ Y.T).round(6).tolist()
    [1.0, 1.0]
    """
    g = _as_gram(gram)
    rtol = float(rtol)
    if not 0.0 <= rtol < 1.0:
        raise InputError(f"rtol must be in [0, 1), got {rtol}")
    W = g.shape[-1]
    h = W // 2
    lam1, U1 = np.linalg.eigh(g[..., :h, :h])
    lam2, U2 = np.linalg.eigh(g[..., W - h:, W - h:])
    s1 = np.sqrt(np.clip(lam1[..., ::-1], 0.0, None))
    s2 = np.sqrt(np.clip(lam2[..., ::-1], 0.0, None))
    U1, U2 = U1[..., ::-1], U2[..., ::-1]
    cross = np.swapaxes(U1, -1, -2) @ g[..., :h, W - h:] @ U2
    dot = np.diagonal(cross, axis1=-2, axis2=-1)
    ok = (s1 > rtol * s1[..., :1]) & (s2 > rtol * s2[..., :1]) & (s1 > 0) & (s2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.abs(dot) / (s1 * s2)
    return np.where(ok, np.clip(alpha, 0.0, 1.0), np.nan)


# --------------------------------------------------------------------------- grad / wd split


def split_update_projections(
    c_total: np.ndarray, c_theta_mid: np.ndarray, eta_eff: float, omega: float
) -> tuple[np.ndarray, np.ndarray]:
    """Split projections of updates on the edge directions into gradient and weight decay parts.

    With δ_wd ≈ −η_eff·ω·(θ_{t−1}+θ_t)/2: ``c_wd = −η_eff·ω·c_theta_mid`` and
    ``c_grad = c_total − c_wd``, where ``c_total[s, j] = ⟨δ_s, v_j⟩`` and
    ``c_theta_mid[s, j] = ⟨(θ_{s−1}+θ_s)/2, v_j⟩``.

    >>> grad, wd = split_update_projections(np.array([[1.0]]), np.array([[2.0]]), 0.1, 1.0)
    >>> grad.tolist(), wd.tolist()
    ([[1.2]], [[-0.2]])

    Args:
        c_total: Projections ⟨δ_s, v_j⟩ of the updates, shape (steps, k).
        c_theta_mid: Projections ⟨(θ_{s−1}+θ_s)/2, v_j⟩, the same shape.
        eta_eff: The effective learning rate, >= 0.
        omega: The weight decay, >= 0.

    Returns:
        ``(c_grad, c_wd)``, the gradient and weight-decay parts.

    Raises:
        InputError: If ``eta_eff`` or ``omega`` is negative or the shapes differ.
    """
    if eta_eff < 0 or omega < 0:
        raise InputError("learning rate and weight decay must be non-negative")
    c_total = np.asarray(c_total, dtype=np.float64)
    c_wd = -eta_eff * omega * np.asarray(c_theta_mid, dtype=np.float64)
    if c_wd.shape != c_total.shape:
        raise InputError(f"shape mismatch: {c_total.shape} vs {c_wd.shape}")
    return c_total - c_wd, c_wd


def gradient_energy_fraction(c_grad: np.ndarray, c_wd: np.ndarray) -> np.ndarray:
    """Per mode j: E_grad/(E_grad + E_wd) with E = mean over the window of the squared part.

    >>> gradient_energy_fraction(np.array([[3.0], [3.0]]), np.array([[1.0], [1.0]])).tolist()
    [0.9]

    Args:
        c_grad: The gradient part of the projections, shape (steps, k).
        c_wd: The weight-decay part, the same shape.

    Returns:
        The gradient energy fraction per mode, shape (k,), NaN where both energies are zero.
    """
    e_grad = np.mean(np.asarray(c_grad, dtype=np.float64) ** 2, axis=0)
    e_wd = np.mean(np.asarray(c_wd, dtype=np.float64) ** 2, axis=0)
    total = e_grad + e_wd
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, e_grad / total, np.nan)


# --------------------------------------------------------------------------- one window


@dataclass(frozen=True)
class WindowStats:
    """Every statistic of one window (and, given the (W+1)-Gram, of its change).

    ``kstar`` is the variant named by ``kstar_method``; all three variants are kept.
    Quantities that need the previous window (``delta_c_fro``, ``alpha``, ``A``, ``A_dk``) are NaN
    when it is not available; ``A`` also needs η_eff. ``rtol`` is the σ-relative threshold
    the rank guard used (:func:`guard_rtol`); ``rank`` never exceeds min(W, P).
    """

    W: int
    P: int
    sigma: np.ndarray = field(repr=False)
    lam: np.ndarray = field(repr=False)
    rank: int
    kstar: int
    kstar_method: str
    kstar_ratio: int
    kstar_weighted: int
    kstar_signal: int
    R: float
    g: float
    g23: float
    nu: float
    d_crit: float
    d_crit_textbook: float
    vacuity: float
    delta_c_fro: float
    delta_c_op: float
    alpha: np.ndarray = field(repr=False)
    A: float
    regime: str
    rtol: float = DEFAULT_RTOL
    A_dk: float = float("nan")

    def as_row(self) -> dict[str, float | int | str]:
        """A flat dict (σ_j and α_j as numbered columns) for one ``spectra.csv`` row.

        Column names come from :mod:`spectral_edge.numerics.columns`: the attribute ``g``
        is written as ``g_sigma`` (singular-value units) and ``g23`` as ``g23_lambda``
        (eigenvalue units).

        Returns:
            Column name -> value, σ_j as ``sigma_j`` and α_j as ``alpha_j``.

        >>> st = window_stats(np.diag([4.0, 1.0]), P=10)
        >>> st.as_row()["sigma_1"], st.as_row()["kstar"], st.as_row()["g_sigma"]
        (2.0, 1, 1.0)
        """
        row: dict[str, float | int | str] = {
            "W": self.W,
            "P": self.P,
            "rank": self.rank,
            "kstar": self.kstar,
            "kstar_method": self.kstar_method,
            "kstar_ratio": self.kstar_ratio,
            "kstar_weighted": self.kstar_weighted,
            "kstar_signal": self.kstar_signal,
            "R": self.R,
            G_SIGMA: self.g,
            G23_LAMBDA: self.g23,
            "nu": self.nu,
            "d_crit": self.d_crit,
            "d_crit_textbook": self.d_crit_textbook,
            "vacuity": self.vacuity,
            "delta_c_fro": self.delta_c_fro,
            "delta_c_op": self.delta_c_op,
            "A": self.A,
            "A_dk": self.A_dk,
            "regime": self.regime,
            "rtol": self.rtol,
        }
        row.update({f"sigma_{j + 1}": float(v) for j, v in enumerate(self.sigma)})
        row.update({f"alpha_{j + 1}": float(v) for j, v in enumerate(self.alpha)})
        return row


def window_stats(
    gram: np.ndarray | None = None,
    *,
    P: int,
    gram_plus: np.ndarray | None = None,
    eta_eff: float | None = None,
    method: KStarMethod = "weighted",
    rtol: float = DEFAULT_RTOL,
    alpha_c: float = 1.0,
    regime_thresholds: tuple[float, float] = (0.1, 10.0),
    eps: float | str | np.dtype | None = None,
    max_rank: int | None = None,
) -> WindowStats:
    """All statistics of one window from its W×W Gram (or the (W+1)-Gram, whose last W rows
    and columns are the window; then ‖ΔC‖, α and, given ``eta_eff``, A are filled in too).

    The rank guard uses ``guard_rtol(W, eps, rtol)`` and caps the rank at min(P, max_rank):
    a window of W > P updates has at most P non-zero singular values.

    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(6, 50)) * np.array([[9.0, 3.0, 1.0, 1.0, 1.0, 1.0]]).T
    >>> K = X @ X.T  # 6 updates: a window of W = 5 plus the one before it
    >>> st = window_stats(P=50, gram_plus=K, eta_eff=0.1)
    >>> st.W, st.kstar, st.kstar_method, st.regime in ("plateau", "transition", "forgetting")
    (5, 1, 'weighted', True)

    Args:
        gram: The W×W Gram of the window (optional when ``gram_plus`` is given).
        P: The parameter count.
        gram_plus: The (W+1)×(W+1) Gram of the last W+1 updates, oldest first (optional).
        eta_eff: The effective learning rate, for A; ``None`` leaves A NaN.
        method: The k* variant reported as ``kstar``.
        rtol: The σ-relative floor of the rank guard.
        alpha_c: The stability constant c of α.
        regime_thresholds: ``(low, high)`` of :func:`adiabatic_regime`.
        eps: Unit round-off of the stored updates (number, float dtype or ``None``).
        max_rank: Cap on the numerical rank, or ``None``.

    Returns:
        The window's :class:`WindowStats`.

    Raises:
        InputError: If neither Gram is given, the two disagree, either is invalid, or ``P``,
            ``method`` or a guard argument is invalid.
    """
    if gram is None and gram_plus is None:
        raise InputError("window_stats needs gram or gram_plus")
    options = {"method": method, "rtol": rtol, "alpha_c": alpha_c,
               "regime_thresholds": regime_thresholds, "eps": eps, "max_rank": max_rank}
    if gram_plus is not None:
        K = _as_gram_plus(gram_plus)
        if gram is not None and not np.allclose(np.asarray(gram), K[1:, 1:]):
            raise InputError("gram does not match the last W rows/columns of gram_plus")
        return window_stats_many(K[None], P=P, eta_eff=[eta_eff], **options)[0]
    if np.ndim(gram) != 2:
        raise InputError(f"gram must be a square matrix, got shape {np.shape(gram)}")
    return _stack_stats(np.asarray(gram)[None], None, [None], P, **options)[0]


def window_stats_many(
    grams_plus: np.ndarray,
    *,
    P: int,
    eta_eff: list[float | None] | None = None,
    method: KStarMethod = "weighted",
    eps: float | str | np.dtype | None = None,
    rtol: float = DEFAULT_RTOL,
    max_rank: int | None = None,
    alpha_c: float = 1.0,
    regime_thresholds: tuple[float, float] = (0.1, 10.0),
) -> list[WindowStats]:
    """:func:`window_stats` of many windows at once, from their (W+1)-Grams: one LAPACK call
    and one array operation per statistic for the whole stack (the monitor computes the
    windows waiting since its statistics were last read this way). Window i's result equals
    ``window_stats(gram_plus=grams_plus[i], eta_eff=eta_eff[i], ...)`` to the last bit:
    that is this function on a stack of one.

    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(8, 40))
    >>> Ks = np.stack([X[i:i + 6] @ X[i:i + 6].T for i in range(3)])  # windows of W = 5
    >>> many = window_stats_many(Ks, P=40, eta_eff=[0.1, None, 0.1])
    >>> one = window_stats(P=40, gram_plus=Ks[1])
    >>> np.array_equal(one.alpha, many[1].alpha), one.g == many[1].g, bool(np.isnan(many[1].A))
    (True, True, True)

    Args:
        grams_plus: The (W+1)×(W+1) Grams of the windows, oldest update first, shape
            (n, W+1, W+1).
        P: The parameter count.
        eta_eff: One effective learning rate per window (``None`` leaves its A NaN), or
            ``None`` for none.
        method: The k* variant (every window).
        eps: The stored updates' unit round-off.
        rtol: The rank guard's floor, as for one window.
        max_rank: The rank cap (``None``: none).
        alpha_c: c of α.
        regime_thresholds: The regime thresholds (low, high).

    Returns:
        One :class:`WindowStats` per window, in order.

    Raises:
        InputError: If ``grams_plus`` is not a finite (n, W+1, W+1) stack with W >= 2 whose
            windows are Gram matrices, ``eta_eff`` has the wrong length or a value that is
            not > 0, or ``P``, ``method`` or a guard argument is invalid (the message does
            not say which window; :func:`window_stats` on each does).
    """
    K = np.asarray(grams_plus, dtype=np.float64)
    if K.ndim != 3 or K.shape[1] != K.shape[2] or K.shape[1] < 3:
        raise InputError(f"grams_plus must be a stack of (W+1)×(W+1) Grams with W >= 2, got "
                         f"shape {K.shape}")
    if not np.all(np.isfinite(K)):
        raise InputError("gram_plus contains NaN or Inf")
    etas = [None] * len(K) if eta_eff is None else list(eta_eff)
    if len(etas) != len(K):
        raise InputError(f"eta_eff has {len(etas)} values for {len(K)} windows")
    return _stack_stats(K[:, 1:, 1:], K, etas, P, method=method, rtol=rtol, alpha_c=alpha_c,
                        regime_thresholds=regime_thresholds, eps=eps, max_rank=max_rank)


def _stack_stats(G: np.ndarray, K: np.ndarray | None, etas: list[float | None], P: int, *,
                 method: str, rtol: float, alpha_c: float,
                 regime_thresholds: tuple[float, float], eps: float | str | np.dtype | None,
                 max_rank: int | None) -> list[WindowStats]:
    """The statistics of a stack of windows, the one assembly behind :func:`window_stats` and
    :func:`window_stats_many`: Grams ``G`` (n, W, W), their (W+1)-Grams ``K`` (``None``: no
    previous window, so ΔC, α, A and A_dk are NaN) and one η_eff or ``None`` per window.
    Every statistic is a private definition evaluated along the last axis.

    Returns:
        One :class:`WindowStats` per window.

    Raises:
        InputError: for a Gram that is not one, ``P``, ``method``, a guard argument, the
            thresholds or an η_eff that is not > 0.
    """
    P = _check_positive_int(P, "P")
    cap = _cap(P, _check_max_rank(max_rank))
    rtol = guard_rtol(np.shape(G)[-1], eps, rtol)
    lam = eigenvalues_from_gram(G, rtol, max_rank=cap)
    n, W = lam.shape
    if method not in KSTAR_METHODS:
        raise InputError(f"unknown k* method {method!r}; use one of {KSTAR_METHODS}")
    adiabatic_regime(float("nan"), *regime_thresholds)  # checks the thresholds
    sigma = np.sqrt(lam)
    ks = {m: _kstar(sigma, m, P, rtol, cap) for m in KSTAR_METHODS}
    k = ks[method]
    R, g_value = _at_gap(sigma, k)
    nan = np.full(n, np.nan)
    if K is None:
        dc_fro = dc_op = A = A_dk = nan
        alpha = np.full((n, W), np.nan)
    else:
        dc_fro, dc_op = _changes(K)
        alpha = stability_alpha(lam, dc_fro, alpha_c)
        given = np.array([e is not None for e in etas])
        eta = np.array([np.nan if e is None else e for e in etas], dtype=np.float64)
        bad = given & ~(eta > 0)
        if bad.any():
            raise InputError(f"the effective learning rate must be > 0, got {eta[bad][0]}")
        A = np.where(given, _adiabatic(dc_fro, eta, g_value), np.nan)
        A_dk = _rotation(dc_fro, lam, k)
    nu, d_crit = _nu(sigma, P), _d_crit(sigma, P, "paper")
    d_text, vac, rank = _d_crit(sigma, P, "textbook"), _vacuity(sigma, d_crit), _rank(
        sigma, rtol, cap)
    g23s = lam[:, 1] - lam[:, 2] if W >= 3 else nan
    for arr in (sigma, lam, alpha):
        arr.setflags(write=False)
    return [WindowStats(
        W=W, P=P, sigma=sigma[i], lam=lam[i], rank=int(rank[i]), kstar=int(k[i]),
        kstar_method=method, kstar_ratio=int(ks["ratio"][i]),
        kstar_weighted=int(ks["weighted"][i]), kstar_signal=int(ks["signal"][i]),
        R=float(R[i]), g=float(g_value[i]), g23=float(g23s[i]), nu=float(nu[i]),
        d_crit=float(d_crit[i]), d_crit_textbook=float(d_text[i]), vacuity=float(vac[i]),
        delta_c_fro=float(dc_fro[i]), delta_c_op=float(dc_op[i]), alpha=alpha[i],
        A=float(A[i]), regime=adiabatic_regime(float(A[i]), *regime_thresholds), rtol=rtol,
        A_dk=float(A_dk[i]),
    ) for i in range(n)]


def window_table(sigma: np.ndarray, P: int, *, rtol: float = DEFAULT_RTOL,
                 method: KStarMethod = "weighted") -> dict[str, np.ndarray]:
    """The σ-only statistics of many windows at once: the same private definitions
    :func:`window_stats` uses for one window, evaluated along the last axis of a
    (windows × W) array (an external spectra file of 400,000 windows in about a second).

    >>> t = window_table(np.array([[4.0, 2.0, 1.0], [3.0, 3.0, 1.0]]), P=100)
    >>> t["kstar"].tolist(), t["R"].tolist(), t["g23"].tolist()
    ([1, 2], [2.0, 3.0], [3.0, 8.0])

    Args:
        sigma: σ per window, each row descending with σ_1 > 0, shape (n, W), W >= 2.
        P: The parameter count (ν, the BBP thresholds, the ``signal`` k*; caps the rank).
        rtol: The σ-relative floor of the rank guard (see :func:`guard_rtol`).
        method: The k* variant reported as ``kstar``.

    Returns:
        Arrays of length n: ``sigma`` (guarded, (n, W)), ``rank``, ``kstar`` and
        ``kstar_<method>`` for every method, ``R``, ``g`` (σ units), ``g23`` (λ units), ``nu``,
        ``d_crit``, ``d_crit_textbook``, ``vacuity``.

    Raises:
        InputError: If ``sigma`` is not a finite (n, W) array with W >= 2 and positive σ_1,
            ``P`` is not a positive integer, or ``method`` is unknown.
    """
    arr = np.asarray(sigma, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 2 or not np.all(np.isfinite(arr)):
        raise InputError(f"sigma must be a finite (windows, W) array with W >= 2, got {arr.shape}")
    if not np.all(arr[:, 0] > 0) or np.any(arr < 0):
        raise InputError("every window needs σ_1 > 0 and σ_j >= 0")
    if method not in KSTAR_METHODS:
        raise InputError(f"unknown k* method {method!r}; use one of {KSTAR_METHODS}")
    P = _check_positive_int(P, "P")
    rtol = guard_rtol(arr.shape[1], None, rtol)
    lam = _guard(arr**2, rtol, P)
    s = np.sqrt(lam)
    ks = {m: _kstar(s, m, P, rtol, P) for m in KSTAR_METHODS}
    R, g = _at_gap(s, ks[method])
    d_crit = _d_crit(s, P, "paper")
    nan = np.full(len(s), np.nan)
    return {
        "sigma": s, "rank": _rank(s, rtol, P), "kstar": ks[method], "R": R, "g": g,
        "g23": lam[:, 1] - lam[:, 2] if s.shape[1] >= 3 else nan, "nu": _nu(s, P),
        "d_crit": d_crit, "d_crit_textbook": _d_crit(s, P, "textbook"),
        "vacuity": _vacuity(s, d_crit),
    } | {f"kstar_{m}": k for m, k in ks.items()}
