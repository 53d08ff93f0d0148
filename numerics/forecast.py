"""Held-out forecast of a measured gap g(t): the gap ODE against two naive baselines.

:func:`forecast_gap` fits the reduced gap equation R4
(:func:`spectral_edge.numerics.fit.fit_gap`) on the
first ``frac`` (default 70%) of the windows and integrates it forward over the rest. Two
baselines predict the same held-out windows from the same fitted part:

* persistence — the last fitted value, held constant;
* linear extrapolation — the straight line through the last ``n_linear`` fitted points.

The theory earns credit only where its held-out RMSE is below both (``beats_both``); the
ratios RMSE(theory)/RMSE(baseline) are reported. A fit whose parameters have an infinite
or larger-than-the-value standard error is flagged not identifiable: a good forward
prediction then says nothing about the parameters.

>>> from spectral_edge.numerics.ode import GapSystem, integrate
>>> t = np.arange(40.0)
>>> g = integrate(GapSystem(c=0.5, beta=0.05, eta=0.1, hw=1.0), [0.3], (0, 39), t_eval=t).y[0]
>>> fc = forecast_gap(t, g, eta=0.1)
>>> fc.n_fit, fc.n_heldout, fc.beats_both
(28, 12, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_finite_number, check_int
from spectral_edge.numerics.fit import FitResult, fit_gap


@dataclass(frozen=True)
class Forecast:
    """The gap-ODE forecast and the baselines on the held-out windows."""

    fit: FitResult = field(repr=False)
    t_split: float
    n_fit: int
    n_heldout: int
    rmse_theory: float
    rmse_persistence: float
    rmse_linear: float
    ratio_persistence: float
    ratio_linear: float
    beats_both: bool
    identifiable: bool
    persistence: np.ndarray = field(repr=False)
    linear: np.ndarray = field(repr=False)

    def as_dict(self) -> dict:
        """Plain JSON-ready numbers (parameters with standard errors included)."""
        return {
            "t_split": self.t_split,
            "n_fit": self.n_fit,
            "n_heldout": self.n_heldout,
            "params": self.fit.params,
            "stderr": self.fit.stderr,
            "r2_fit": self.fit.r2_fit,
            "r2_heldout": self.fit.r2_heldout,
            "rmse_theory": self.rmse_theory,
            "rmse_persistence": self.rmse_persistence,
            "rmse_linear": self.rmse_linear,
            "ratio_persistence": self.ratio_persistence,
            "ratio_linear": self.ratio_linear,
            "beats_both": self.beats_both,
            "identifiable": self.identifiable,
            "fit_success": self.fit.success,
        }


def _rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def identifiable(fit: FitResult) -> bool:
    """Every parameter has a finite standard error smaller than its own size."""
    return all(
        math.isfinite(fit.stderr[k]) and fit.stderr[k] < abs(v) for k, v in fit.params.items()
    )


def forecast_gap(
    t: np.ndarray, g: np.ndarray, *, eta: float, frac: float = 0.7, n_linear: int = 3
) -> Forecast:
    """Fit R4 on the first ``frac`` of the points of g(t), forecast the rest, compare.

    >>> t = np.arange(10.0)
    >>> forecast_gap(t, np.ones(10), eta=0.1, frac=1.0)
    Traceback (most recent call last):
    ...
    spectral_edge.common.errors.InputError: frac = 1.0 leaves no held-out window of 10
    """
    frac = check_finite_number("frac", frac, 0.0, strict=True, maximum=1.0)
    n_linear = check_int("n_linear", n_linear, 2)
    t = np.asarray(t, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    if t.ndim != 1 or g.shape != t.shape:
        raise InputError(f"t and g must be 1-D of the same length, got {t.shape}, {g.shape}")
    n_fit = int(math.floor(frac * t.size))
    if n_fit >= t.size:
        raise InputError(f"frac = {frac} leaves no held-out window of {t.size}")
    if n_fit < 4:
        raise InputError(f"frac = {frac} leaves {n_fit} < 4 windows to fit (of {t.size})")
    t_split = float(t[n_fit - 1])
    fit = fit_gap(t, g, eta=eta, t_split=t_split)
    held = slice(n_fit, None)
    persistence = np.full(t.size - n_fit, g[n_fit - 1])
    k = min(n_linear, n_fit)
    slope, icept = np.polyfit(t[n_fit - k : n_fit], g[n_fit - k : n_fit], 1)
    linear = slope * t[held] + icept
    r_th = _rmse(fit.prediction[held], g[held]) if np.all(np.isfinite(fit.prediction)) else math.inf
    r_pe, r_li = _rmse(persistence, g[held]), _rmse(linear, g[held])

    def ratio(a: float, b: float) -> float:
        return a / b if b > 0 else (0.0 if a == 0 else math.inf)

    return Forecast(
        fit=fit,
        t_split=t_split,
        n_fit=n_fit,
        n_heldout=t.size - n_fit,
        rmse_theory=r_th,
        rmse_persistence=r_pe,
        rmse_linear=r_li,
        ratio_persistence=ratio(r_th, r_pe),
        ratio_linear=ratio(r_th, r_li),
        beats_both=bool(r_th < r_pe and r_th < r_li),
        identifiable=identifiable(fit),
        persistence=persistence,
        linear=linear,
    )
