"""Bootstrap confidence intervals with a fixed seed (deterministic reports).

:func:`bootstrap_ci` wraps ``scipy.stats.bootstrap`` (percentile method) with a fixed
generator, so the same values always give the same interval, and handles the cases SciPy
refuses: fewer than two values (no interval) and constant data (a zero-width interval).

>>> est = bootstrap_ci([1.0, 2.0, 3.0, 4.0])
>>> est.value, est.n, est.low < est.value < est.high
(2.5, 4, True)
>>> bootstrap_ci([7.0]).low
nan
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from spectral_edge.common.errors import InputError

SEED = 20261125
"""Seed of every bootstrap in the project's reports (fixed: a rerun gives the same CI)."""


@dataclass(frozen=True)
class Estimate:
    """A statistic with its bootstrap interval: ``value`` on all data, ``[low, high]`` the
    ``level`` percentile interval over ``n_boot`` resamples (NaN when ``n`` < 2)."""

    value: float
    low: float
    high: float
    n: int
    level: float = 0.95

    def text(self, digits: int = 3) -> str:
        """``value [low, high]`` with ``digits`` significant digits.

        >>> Estimate(0.51234, 0.4, 0.6, 10).text()
        '0.512 [0.4, 0.6]'
        """
        if math.isnan(self.value):
            return "n/a"
        if math.isnan(self.low):
            return f"{self.value:.{digits}g}"
        return f"{self.value:.{digits}g} [{self.low:.{digits}g}, {self.high:.{digits}g}]"


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    statistic: Callable[[np.ndarray], float] = np.mean,
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = SEED,
) -> Estimate:
    """``statistic`` of the finite entries of ``values`` with a percentile bootstrap
    interval (resampling the entries; NaN entries are dropped first).

    >>> bootstrap_ci([2.0, 2.0, 2.0]).text()
    '2 [2, 2]'
    >>> bootstrap_ci([np.nan]).value
    nan
    """
    if not 0 < level < 1:
        raise InputError(f"level must be in (0, 1), got {level}")
    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    if x.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0, level)
    value = float(statistic(x))
    if x.size < 2:
        return Estimate(value, float("nan"), float("nan"), int(x.size), level)
    if np.all(x == x[0]):
        return Estimate(value, value, value, int(x.size), level)
    def stat(s: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.apply_along_axis(statistic, axis, s)

    low, high = _percentile_interval((x,), stat, False, n_boot, level, seed)
    return Estimate(value, low, high, int(x.size), level)


def ratio_ci(
    numerator: Sequence[float] | np.ndarray,
    denominator: Sequence[float] | np.ndarray,
    *,
    paired: bool,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = SEED,
) -> Estimate:
    """mean(``numerator``) / mean(``denominator``) with a percentile bootstrap interval.

    ``scipy.stats.bootstrap`` resamples the two samples together (``paired=True``: rows
    of equal-length samples, the same indices for both) or independently. A resample whose
    denominator mean is 0 counts as a ratio of 1/tiny (no interval is lost to 0/0);
    the value itself is ``inf`` when the denominator's mean is 0.

    Args:
        numerator: values whose mean is the numerator (non-finite entries must be removed
            first).
        denominator: values whose mean is the denominator (same length when ``paired``).
        paired: resample rows of both samples together.
        n_boot: bootstrap resamples.
        level: confidence level of the interval.
        seed: generator seed (fixed: the same values give the same interval).

    Returns:
        The ratio, its interval (NaN when a sample has fewer than two values) and the
        number of values in both samples (rows when ``paired``).

    Raises:
        InputError: for a level outside (0, 1), an empty sample, or paired samples of
            different lengths.

    >>> est = ratio_ci([2.0, 4.0, 6.0], [1.0, 1.0, 1.0], paired=True)
    >>> est.value, est.n, est.low <= 4.0 <= est.high
    (4.0, 3, True)
    """
    if not 0 < level < 1:
        raise InputError(f"level must be in (0, 1), got {level}")
    num = np.asarray(numerator, dtype=np.float64).ravel()
    den = np.asarray(denominator, dtype=np.float64).ravel()
    if not num.size or not den.size:
        raise InputError("ratio_ci needs values in both samples")
    if paired and num.size != den.size:
        raise InputError(f"paired samples differ in length ({num.size} vs {den.size})")
    value = float(num.mean() / den.mean()) if den.mean() > 0 else math.inf
    n = int(num.size) if paired else int(num.size + den.size)
    if min(num.size, den.size) < 2:
        return Estimate(value, math.nan, math.nan, n, level)

    def ratio(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
        return a.mean(axis=axis) / np.maximum(b.mean(axis=axis), 1e-300)

    with np.errstate(over="ignore", invalid="ignore"):  # SciPy's spread of 1/tiny ratios
        low, high = _percentile_interval((num, den), ratio, paired, n_boot, level, seed)
    return Estimate(value, low, high, n, level)


def _percentile_interval(samples: tuple[np.ndarray, ...], statistic: Callable, paired: bool,
                         n_boot: int, level: float, seed: int) -> tuple[float, float]:
    """``scipy.stats.bootstrap``'s percentile interval with a fixed-seed generator."""
    res = stats.bootstrap(
        samples,
        statistic,
        paired=paired,
        n_resamples=n_boot,
        confidence_level=level,
        method="percentile",
        rng=np.random.default_rng(seed),
        vectorized=True,
    )
    ci = res.confidence_interval
    return float(ci.low), float(ci.high)
