"""Generic statistics the scorers use: mode, Spearman, three-phase segmentation, α groups.

Nothing here knows about run directories; bootstrap intervals are in
:mod:`spectral_edge.numerics.bootstrap`.

>>> mode_of(np.array([1, 2, 2, 3])), round(spearman([1, 2, 3], [1, 4, 9]), 3)
(2, 1.0)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats


def mode_of(values: np.ndarray) -> int:
    """The most frequent value of non-negative integers (the smallest on a tie).

    Args:
        values: non-negative integers (k* per window).

    Returns:
        The mode.

    >>> mode_of(np.array([3, 1, 1, 3]))
    1
    """
    values = np.asarray(values, dtype=np.int64)
    counts = np.bincount(values)
    return int(np.argmax(counts))


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's ρ over the entries finite in both; NaN with < 3 or a constant side.

    Args:
        a: first values.
        b: second values, same length.

    Returns:
        ρ, or NaN.

    >>> spearman([1, 2, 3, 4], [4, 3, 2, 1]), spearman([1, 1, 1], [1, 2, 3])
    (-1.0, nan)
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
        return math.nan
    return float(stats.spearmanr(a[ok], b[ok]).statistic)


def three_phase(R: np.ndarray, p_value: float = 0.05, min_len: int = 2) -> dict[str, Any]:
    """Best three-segment piecewise-constant fit of log R (exhaustive over breakpoints);
    ``found`` when the middle segment is above both others (Welch t-test, p < ``p_value``).

    >>> R = np.r_[np.ones(5), 3 * np.ones(5), np.ones(5)] + 0.01 * np.arange(15) % 0.03
    >>> three_phase(R)["found"]
    True
    """
    y = np.log(np.asarray(R, dtype=np.float64))
    y = y[np.isfinite(y)]
    n = y.size
    if n < 3 * min_len:
        return {"found": False, "reason": f"{n} windows"}
    csum, csq = np.r_[0, np.cumsum(y)], np.r_[0, np.cumsum(y * y)]

    def sse(a: int, b: int) -> float:
        s, q, m = csum[b] - csum[a], csq[b] - csq[a], b - a
        return q - s * s / m

    best = min(
        ((sse(0, i) + sse(i, j) + sse(j, n), i, j)
         for i in range(min_len, n - 2 * min_len + 1)
         for j in range(i + min_len, n - min_len + 1)),
    )
    _, i, j = best
    a, b, c = y[:i], y[i:j], y[j:]

    def above(x: np.ndarray, z: np.ndarray) -> float:
        if np.ptp(np.r_[x, z]) == 0:
            return 1.0
        t = stats.ttest_ind(x, z, equal_var=False, alternative="greater")
        return float(t.pvalue) if np.isfinite(t.pvalue) else (0.0 if x.mean() > z.mean() else 1.0)

    p_rise, p_fall = above(b, a), above(b, c)
    return {"found": bool(p_rise < p_value and p_fall < p_value), "breaks": [int(i), int(j)],
            "p_rise": p_rise, "p_collapse": p_fall}




def alpha_groups(alpha: np.ndarray, kstar: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Per window (dom, gap, sub) means of α: modes 1..k*, k*+1..k*+2, k*+3..rank (NaN for
    an empty group, and for a window with a non-finite α below its rank).

    >>> alpha_groups(np.array([[1.0, .5, .4, .2, .1]]), np.array([1]), np.array([5]))
    array([[1.  , 0.45, 0.15]])
    """
    alpha = np.asarray(alpha, dtype=np.float64)
    n, W = alpha.shape
    j = np.arange(W)[None, :]
    k = np.asarray(kstar, dtype=np.int64)[:, None]
    r = np.minimum(np.asarray(rank, dtype=np.int64)[:, None], W)
    below = j < r
    usable = np.all(np.isfinite(alpha) | ~below, axis=1)
    out = np.full((n, 3), np.nan)
    for i, mask in enumerate((j < k, (j >= k) & (j < np.minimum(k + 2, r)),
                              (j >= k + 2) & below)):
        count = mask.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, i] = np.where(count > 0, np.where(mask, alpha, 0.0).sum(axis=1) / count, np.nan)
    out[~usable] = np.nan
    return out

