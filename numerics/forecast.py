"""Held-out forecast of a measured gap g(t): the gap ODE against two naive baselines.

Version 1, :func:`forecast_gap`, fits the reduced gap equation R4
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

Version 2, :func:`forecast_gap_v2`, plugs in the measured h̄+ω and β and fits the drive c
alone, on overlap-free windows, evaluated from rolling origins, with a profile-likelihood
interval for c; :func:`pool_seeds` fits one c to several seeds and
:func:`calibrate_forecast` measures how often the forecast wins on data the theory
generated and on a negative control (a random walk).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq, least_squares
from scipy.stats import f as f_dist

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_finite_number, check_int, check_window
from spectral_edge.numerics.fit import FitResult, fit_gap
from spectral_edge.numerics.ode import GapSystem, integrate
from spectral_edge.theory import lambdified as tx


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


# --------------------------------------------------------------------------- version 2


@dataclass(frozen=True)
class _GapStack:
    """R4 for many independent gaps at once, each over its own span ``dt``: time is rescaled
    to s = t/dt ∈ [0, 1], so dg_i/ds = dt_i·ġ(g_i), with ġ from ``tx.reduced_gap_rhs`` and
    its slope from ``tx.reduced_gap_slope`` (the system protocol of :func:`integrate`)."""

    c: float
    beta: np.ndarray
    eta: float
    hw: np.ndarray
    dt: np.ndarray
    name: str = "gap-stack"

    def rhs(self, s: float, y: np.ndarray) -> np.ndarray:
        return self.dt * tx.reduced_gap_rhs(y, self.c, self.beta, self.eta, self.hw)

    def jac(self, s: float, y: np.ndarray) -> np.ndarray:
        return np.diag(self.dt * tx.reduced_gap_slope(y, self.c, self.beta, self.eta, self.hw))

    def gap(self, y: np.ndarray) -> float:
        return float(y[0])


@dataclass(frozen=True)
class _Steps:
    """Observed transitions g0 → g1 over ``dt`` snapshots, each with its measured hw and β."""

    g0: np.ndarray
    dt: np.ndarray
    g1: np.ndarray
    hw: np.ndarray
    beta: np.ndarray

    @classmethod
    def of(cls, t: np.ndarray, g: np.ndarray, hw: float, beta: float) -> _Steps:
        """The successive transitions of one (overlap-free) series."""
        m = max(t.size - 1, 0)
        return cls(g[:-1], np.diff(t), g[1:], np.full(m, hw), np.full(m, beta))

    @classmethod
    def join(cls, parts: Sequence[_Steps]) -> _Steps:
        """All transitions of several series, stacked."""
        return cls(*(np.concatenate([getattr(p, k) for p in parts])
                     for k in ("g0", "dt", "g1", "hw", "beta")))

    @property
    def size(self) -> int:
        return int(self.g0.size)

    def head(self, n: int) -> _Steps:
        """The first ``n`` transitions."""
        return _Steps(self.g0[:n], self.dt[:n], self.g1[:n], self.hw[:n], self.beta[:n])

    def predict(self, c: float, eta: float) -> np.ndarray:
        """R4 integrated from every g0 over its dt with drive c (NaN where the solver fails)."""
        system = _GapStack(c=float(c), beta=self.beta, eta=eta, hw=self.hw, dt=self.dt)
        sol = integrate(system, self.g0, (0.0, 1.0), t_eval=np.array([1.0]), method="LSODA",
                        rtol=1e-8, atol=1e-12)
        return sol.y[:, -1] if sol.success and sol.y.shape[1] == 1 else np.full(self.size, np.nan)

    def rss(self, c: float, eta: float) -> float:
        """Residual sum of squares of :meth:`predict` against g1 (inf where it fails)."""
        r = self.predict(c, eta) - self.g1
        return float(r @ r) if np.all(np.isfinite(r)) else math.inf


@dataclass(frozen=True)
class DriveFit:
    """The drive c of R4 fitted to one-step transitions, with a profile-likelihood interval.

    ``c_low``/``c_high`` bound the 95% profile-likelihood interval (±inf with a single
    transition, NaN when not computed); ``rss`` is the residual sum of squares at ``c``.
    """

    c: float
    c_low: float
    c_high: float
    rss: float
    n_steps: int
    success: bool


def _profile_interval(steps: _Steps, eta: float, c: float, rss: float, se: float,
                      level: float) -> tuple[float, float]:
    """The c where n·log(RSS(c)/RSS_min) stays below its cut (see :func:`forecast_gap_v2`)."""
    n = steps.size
    if n < 2:
        return -math.inf, math.inf
    cut = n * math.log1p(float(f_dist.ppf(level, 1, n - 1)) / (n - 1))
    floor = max(rss, 1e-300)

    def excess(x: float) -> float:
        return min(n * math.log(max(steps.rss(x, eta), floor) / floor), 1e300) - cut

    ends = []
    for sign in (-1.0, 1.0):
        step = se if math.isfinite(se) and se > 0 else 1e-6 * (1.0 + abs(c))
        far = c + sign * 2.0 * step
        for _ in range(30):
            if excess(far) > 0:
                break
            step *= 4.0
            far = c + sign * 2.0 * step
        else:
            ends.append(sign * math.inf)
            continue
        ends.append(float(brentq(excess, c, far, xtol=1e-12 * (1.0 + abs(c)))))
    return ends[0], ends[1]


def _fit_drive(steps: _Steps, eta: float, interval: bool = True,
               level: float = 0.95) -> DriveFit:
    """Least-squares c of the transitions (start: the c that makes each g1 an equilibrium,
    ``−tx.reduced_gap_rhs(g1, 0, …)`` averaged), with its profile interval."""
    c0 = float(np.mean(-tx.reduced_gap_rhs(steps.g1, 0.0, steps.beta, eta, steps.hw)))
    penalty = 1e3 * float(np.max(steps.g1))

    def resid(p: np.ndarray) -> np.ndarray:
        return np.nan_to_num(steps.predict(p[0], eta) - steps.g1, nan=penalty)

    sol = least_squares(resid, [c0], x_scale="jac")
    c, rss = float(sol.x[0]), float(sol.fun @ sol.fun)
    lo = hi = math.nan
    if interval:
        jtj = float(sol.jac[:, 0] @ sol.jac[:, 0])
        se = math.sqrt(rss / max(steps.size - 1, 1) / jtj) if jtj > 0 else math.nan
        lo, hi = _profile_interval(steps, eta, c, rss, se, level)
    return DriveFit(c=c, c_low=lo, c_high=hi, rss=rss, n_steps=steps.size,
                    success=bool(sol.success))


def overlap_free(t: np.ndarray, W: int) -> np.ndarray:
    """Indices of windows that share no update: the first, then each next window at least W
    snapshots after the last one kept (a window at snapshot t holds the updates t−W+1..t).

    >>> overlap_free(np.arange(25.0), 10).tolist()
    [0, 10, 20]

    Args:
        t: Window times in snapshots, increasing.
        W: The window length.

    Returns:
        The kept indices, increasing.
    """
    W = check_window(W)
    keep, last = [], -math.inf
    for i, ti in enumerate(np.asarray(t, dtype=np.float64)):
        if ti >= last + W:
            keep.append(i)
            last = ti
    return np.array(keep, dtype=np.int64)


def lag_noise_sd(t: np.ndarray, g: np.ndarray, W: int) -> float:
    """The measurement-noise sd of g from windows exactly W snapshots apart (no shared
    update): sd(g(t+W) − g(t))/√2 over every such pair (a trend inflates it).

    >>> lag_noise_sd(np.arange(30.0), np.r_[np.ones(15), 3 * np.ones(15)], 10) > 0
    True

    Args:
        t: Window times in snapshots.
        g: The gap per window.
        W: The window length.

    Returns:
        The noise sd.

    Raises:
        InputError: When fewer than two pairs of windows lie W snapshots apart.
    """
    W = check_window(W)
    t, g = _series(t, g)
    at = dict(zip(t.tolist(), g.tolist(), strict=True))
    diffs = [at[x + W] - v for x, v in at.items() if x + W in at]
    if len(diffs) < 2:
        raise InputError(f"{len(diffs)} pair(s) of windows lie W = {W} snapshots apart; "
                         "the noise estimate needs 2")
    return float(np.std(diffs, ddof=1) / math.sqrt(2.0))


def _series(t: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """t and g as float64 arrays, checked: 1-D, same length, t increasing, g finite > 0."""
    t, g = np.asarray(t, dtype=np.float64), np.asarray(g, dtype=np.float64)
    if t.ndim != 1 or g.shape != t.shape:
        raise InputError(f"t and g must be 1-D of the same length, got {t.shape}, {g.shape}")
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise InputError("t must be finite and strictly increasing")
    if not np.all(np.isfinite(g)) or np.any(g <= 0):
        bad = int(np.flatnonzero(~(np.isfinite(g) & (g > 0)))[0])
        raise InputError(f"g must be finite and > 0; g[{bad}] = {g[bad]}")
    return t, g


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else (0.0 if a == 0 else math.inf)


@dataclass(frozen=True)
class ForecastV2:
    """The one-parameter gap forecast from rolling origins, against two baselines.

    ``drive`` is c fitted to all overlap-free windows, with its profile interval. The RMSEs
    pool every (origin, horizon) forecast; ``frac_beats_*`` count origins whose RMSE over
    their horizons is below the baseline's (both baselines for ``frac_beats_both``).
    """

    eta: float
    hw: float
    beta: float
    W: int
    horizon: int
    n_windows: int
    n_used: int
    drive: DriveFit
    n_origins: int
    n_forecasts: int
    rmse_theory: float
    rmse_persistence: float
    rmse_linear: float
    ratio_persistence: float
    ratio_linear: float
    frac_beats_persistence: float
    frac_beats_linear: float
    frac_beats_both: float
    t_used: np.ndarray = field(repr=False)
    g_used: np.ndarray = field(repr=False)
    origin_c: np.ndarray = field(repr=False)

    def as_dict(self) -> dict:
        """Plain JSON-ready numbers.

        Returns:
            The scalar fields, ``c``, ``c_low``, ``c_high`` and ``origin_c`` (a list).
        """
        keys = ("eta", "hw", "beta", "W", "horizon", "n_windows", "n_used", "n_origins",
                "n_forecasts", "rmse_theory", "rmse_persistence", "rmse_linear",
                "ratio_persistence", "ratio_linear", "frac_beats_persistence",
                "frac_beats_linear", "frac_beats_both")
        d = self.drive
        return {k: getattr(self, k) for k in keys} | {
            "c": d.c, "c_low": d.c_low, "c_high": d.c_high, "rss": d.rss,
            "fit_success": d.success, "origin_c": self.origin_c.tolist()}


def forecast_gap_v2(t: np.ndarray, g: np.ndarray, *, eta: float, hw: float, beta: float,
                    W: int, horizon: int = 3, n_min: int = 2, n_linear: int = 2,
                    interval: bool = True) -> ForecastV2:
    """Forecast g(t) with R4, ġ = c − η·hw·g + β/g, hw and β measured, c the one fit.

    Only overlap-free windows are used (:func:`overlap_free`: one per W snapshots), for the
    fit and for the evaluation alike: successive windows share W−1 of their W updates and
    their gaps are nearly copies of each other. c is fitted by ``least_squares`` to the
    one-step transitions: R4 integrated from each used g_i to the time of g_{i+1}
    (conditional least squares, no initial-condition parameter).

    Rolling origins: for each used window o from the ``n_min``-th to the last but one, c is
    refitted on the windows up to o and R4 integrated from g_o to the next ``horizon``
    windows (fewer near the end). Persistence (g_o held) and linear extrapolation (the line
    through the last ``n_linear`` windows up to o) predict the same windows.

    The interval of c is the profile likelihood with Gaussian residuals of unknown variance,
    {c : n·log(RSS(c)/RSS_min) ≤ n·log(1 + F₀.₉₅(1, n−1)/(n−1))} over n transitions: the
    likelihood-ratio set, its cut the small-sample (F) calibration, which tends to
    χ²₀.₉₅(1) = 3.84 as n grows.

    >>> from spectral_edge.numerics.ode import GapSystem, integrate
    >>> t = np.arange(60.0)
    >>> true = GapSystem(c=0.3, beta=0.02, eta=0.1, hw=0.2)
    >>> g = integrate(true, [0.5], (0, 59), t_eval=t).y[0]
    >>> g = g + np.random.default_rng(0).normal(0.0, 0.01, g.size)
    >>> fc = forecast_gap_v2(t, g, eta=0.1, hw=0.2, beta=0.02, W=10)
    >>> fc.n_used, fc.n_origins, fc.drive.c_low < 0.3 < fc.drive.c_high
    (6, 4, True)
    >>> fc.ratio_persistence < 1 and fc.ratio_linear < 1
    True

    Args:
        t: Window times in snapshots, strictly increasing (one window per snapshot).
        g: The measured gap per window, finite and > 0.
        eta: The learning rate per snapshot (lr·stride), > 0.
        hw: The measured h̄ + ω (1/η per snapshot units), > 0.
        beta: The measured repulsion β ≥ 0.
        W: The window length.
        horizon: How many used windows ahead each origin forecasts.
        n_min: Used windows in the first fit (≥ 2).
        n_linear: Windows the linear extrapolation goes through (2..n_min).
        interval: Whether to compute c's profile interval (``False``: NaN, faster).

    Returns:
        The :class:`ForecastV2`.

    Raises:
        InputError: On bad input, or fewer than ``n_min`` + 1 overlap-free windows.
    """
    eta = check_finite_number("eta", eta, 0.0, strict=True)
    hw = check_finite_number("hw", hw, 0.0, strict=True)
    beta = check_finite_number("beta", beta, 0.0)
    W = check_window(W)
    horizon = check_int("horizon", horizon, 1)
    n_min = check_int("n_min", n_min, 2)
    n_linear = check_int("n_linear", n_linear, 2, n_min)
    t, g = _series(t, g)
    keep = overlap_free(t, W)
    tk, gk, n = t[keep], g[keep], keep.size
    if n < n_min + 1:
        raise InputError(f"{t.size} windows hold {n} overlap-free ones (W = {W} snapshots "
                         f"apart); the rolling-origin forecast needs n_min + 1 = {n_min + 1}")
    steps = _Steps.of(tk, gk, hw, beta)
    errors: dict[str, list[np.ndarray]] = {"theory": [], "persistence": [], "linear": []}
    wins, origin_c = [], []
    for o in range(n_min - 1, n - 1):
        ahead = np.arange(o + 1, min(o + horizon, n - 1) + 1)
        c_o = _fit_drive(steps.head(o), eta, interval=False).c
        origin_c.append(c_o)
        m = ahead.size
        target = gk[ahead]
        start = _Steps(np.full(m, gk[o]), tk[ahead] - tk[o], target, np.full(m, hw),
                       np.full(m, beta))
        slope, icept = np.polyfit(tk[o - n_linear + 1 : o + 1], gk[o - n_linear + 1 : o + 1], 1)
        guesses = {"theory": start.predict(c_o, eta), "persistence": np.full(m, gk[o]),
                   "linear": slope * tk[ahead] + icept}
        err = {k: np.nan_to_num(v - target, nan=np.inf) for k, v in guesses.items()}
        for k, e in err.items():
            errors[k].append(e)
        r = {k: float(np.sqrt(np.mean(e**2))) for k, e in err.items()}
        wins.append((r["theory"] < r["persistence"], r["theory"] < r["linear"]))
    rmse = {k: float(np.sqrt(np.mean(np.concatenate(v) ** 2))) for k, v in errors.items()}
    won = np.array(wins, dtype=bool)
    return ForecastV2(
        eta=eta, hw=hw, beta=beta, W=W, horizon=horizon, n_windows=int(t.size), n_used=int(n),
        drive=_fit_drive(steps, eta, interval), n_origins=len(wins),
        n_forecasts=int(sum(e.size for e in errors["theory"])),
        rmse_theory=rmse["theory"], rmse_persistence=rmse["persistence"],
        rmse_linear=rmse["linear"],
        ratio_persistence=_ratio(rmse["theory"], rmse["persistence"]),
        ratio_linear=_ratio(rmse["theory"], rmse["linear"]),
        frac_beats_persistence=float(won[:, 0].mean()),
        frac_beats_linear=float(won[:, 1].mean()),
        frac_beats_both=float(won.all(axis=1).mean()),
        t_used=tk, g_used=gk, origin_c=np.array(origin_c),
    )


@dataclass(frozen=True)
class PooledDrive:
    """One c shared by several seeds (``drive``, with its profile interval over all their
    transitions) and each seed's own c (NaN for a seed with one overlap-free window)."""

    drive: DriveFit
    n_series: int
    c_per_series: tuple[float, ...]


def pool_seeds(series: Sequence[tuple[np.ndarray, np.ndarray, float, float]], *, eta: float,
               W: int) -> PooledDrive:
    """Fit one drive c to the overlap-free transitions of several runs (seeds) at once, each
    run with its own measured hw and β.

    >>> from spectral_edge.numerics.ode import GapSystem, integrate
    >>> t = np.arange(30.0)
    >>> g = [integrate(GapSystem(c=0.3, beta=0.0, eta=0.1, hw=h), [0.5], (0, 29),
    ...                t_eval=t).y[0] for h in (0.2, 0.3)]
    >>> pooled = pool_seeds([(t, g[0], 0.2, 0.0), (t, g[1], 0.3, 0.0)], eta=0.1, W=10)
    >>> round(pooled.drive.c, 6), pooled.drive.n_steps
    (0.3, 4)

    Args:
        series: One (t, g, hw, beta) per run, as :func:`forecast_gap_v2` takes them.
        eta: The learning rate per snapshot, shared by the runs.
        W: The window length, shared by the runs.

    Returns:
        The :class:`PooledDrive`.

    Raises:
        InputError: On bad input, or when no run has two overlap-free windows.
    """
    eta = check_finite_number("eta", eta, 0.0, strict=True)
    W = check_window(W)
    parts = []
    for t, g, hw, beta in series:
        t, g = _series(t, g)
        keep = overlap_free(t, W)
        parts.append(_Steps.of(t[keep], g[keep], check_finite_number("hw", hw, 0.0, strict=True),
                               check_finite_number("beta", beta, 0.0)))
    joined = _Steps.join(parts) if parts else None
    if joined is None or joined.size == 0:
        raise InputError("no run has two overlap-free windows to fit the drive c to")
    own = tuple(_fit_drive(p, eta, interval=False).c if p.size else math.nan for p in parts)
    return PooledDrive(drive=_fit_drive(joined, eta), n_series=len(parts), c_per_series=own)


@dataclass(frozen=True)
class BeatRate:
    """How often the forecast won, of the trials that ran; ``se`` is the binomial
    Monte-Carlo standard error √(p(1−p)/n)."""

    wins: int
    trials: int

    @property
    def rate(self) -> float:
        """wins/trials (NaN with no trial)."""
        return self.wins / self.trials if self.trials else math.nan

    @property
    def se(self) -> float:
        """√(p(1−p)/trials) (NaN with no trial)."""
        p = self.rate
        return math.sqrt(p * (1 - p) / self.trials) if self.trials else math.nan


@dataclass(frozen=True)
class Calibration:
    """How often :func:`forecast_gap_v2` beats each baseline (its pooled RMSE ratio < 1) on
    K series the theory generated and on K negative-control random walks."""

    K: int
    n_windows: int
    noise_sd: float
    theory_persistence: BeatRate
    theory_linear: BeatRate
    theory_both: BeatRate
    control_persistence: BeatRate
    control_linear: BeatRate
    control_both: BeatRate

    def as_dict(self) -> dict:
        """Plain JSON-ready numbers.

        Returns:
            ``K``, ``n_windows``, ``noise_sd`` and, per rate, its value, SE and trials.
        """
        out: dict = {"K": self.K, "n_windows": self.n_windows, "noise_sd": self.noise_sd}
        for side in ("theory", "control"):
            for base in ("persistence", "linear", "both"):
                r: BeatRate = getattr(self, f"{side}_{base}")
                key = f"{side}_beats_{base}"
                out |= {key: r.rate, f"{key}_se": r.se, f"{key}_trials": r.trials}
        return out


def calibrate_forecast(hw: float, beta: float, c: float, eta: float, W: int, n_windows: int,
                       noise_sd: float, *, g0: float | None = None, K: int = 50,
                       seed: int = 0, horizon: int = 3, n_min: int = 2) -> Calibration:
    """Beat rates of :func:`forecast_gap_v2` when the theory made the data, and when not.

    Theory-true data: R4 (``GapSystem``) integrated from ``g0`` (default its equilibrium),
    one value per snapshot for ``n_windows`` snapshots, plus Gaussian noise of sd
    ``noise_sd``; windows with g ≤ 0 are dropped as the scorecard drops them. Negative
    control: a random walk from the same start whose increments over W snapshots have the
    sd of that replicate's overlap-free increments, reflected at zero. Both are forecast
    with the given hw, β and η; a replicate left with too few windows is not counted.

    >>> cal = calibrate_forecast(0.2, 0.02, 0.3, 0.1, 10, 60, 0.05, g0=0.5, K=4)
    >>> cal.theory_persistence.trials, cal.control_persistence.trials
    (4, 4)

    Args:
        hw: h̄ + ω, > 0.
        beta: The repulsion β ≥ 0.
        c: The drive.
        eta: The learning rate per snapshot, > 0.
        W: The window length.
        n_windows: Windows (snapshots) per series.
        noise_sd: The measurement noise of g, ≥ 0.
        g0: The gap at the first window, > 0 (default: the equilibrium).
        K: Replicates of each kind.
        seed: The random seed.
        horizon: As in :func:`forecast_gap_v2`.
        n_min: As in :func:`forecast_gap_v2`.

    Returns:
        The :class:`Calibration`.

    Raises:
        InputError: On bad input, or too few overlap-free windows for one forecast.
    """
    system = GapSystem(c=check_finite_number("c", c), beta=beta, eta=eta, hw=hw)
    W = check_window(W)
    n_windows = check_int("n_windows", n_windows, 2)
    noise_sd = check_finite_number("noise_sd", noise_sd, 0.0)
    K = check_int("K", K, 1)
    g0 = system.equilibrium() if g0 is None else check_finite_number("g0", g0, 0.0, strict=True)
    t = np.arange(float(n_windows))
    keep = overlap_free(t, W)
    if keep.size < n_min + 1:
        raise InputError(f"{n_windows} windows hold {keep.size} overlap-free ones (W = {W}); "
                         f"the forecast needs n_min + 1 = {n_min + 1}")
    clean = integrate(system, [g0], (0.0, t[-1]), t_eval=t).y[0]
    rng = np.random.default_rng(seed)
    won: dict[str, list[tuple[bool, bool]]] = {"theory": [], "control": []}

    def run(side: str, tt: np.ndarray, gg: np.ndarray) -> None:
        try:
            fc = forecast_gap_v2(tt, gg, eta=system.eta, hw=system.hw, beta=system.beta, W=W,
                                 horizon=horizon, n_min=n_min, interval=False)
        except InputError:
            return
        won[side].append((fc.ratio_persistence < 1, fc.ratio_linear < 1))

    for _ in range(K):
        noisy = clean + rng.normal(0.0, noise_sd, t.size)
        ok = noisy > 0
        run("theory", t[ok], noisy[ok])
        step_sd = float(np.std(np.diff(noisy[keep]), ddof=1))
        walk = np.abs(noisy[0] + np.cumsum(rng.normal(0.0, step_sd / math.sqrt(W), t.size)))
        run("control", t, walk)

    def rate(side: str, which: int | None) -> BeatRate:
        w = np.array(won[side], dtype=bool).reshape(-1, 2)
        hits = w.all(axis=1) if which is None else w[:, which]
        return BeatRate(int(hits.sum()), int(hits.size))

    return Calibration(
        K=K, n_windows=n_windows, noise_sd=noise_sd,
        theory_persistence=rate("theory", 0), theory_linear=rate("theory", 1),
        theory_both=rate("theory", None), control_persistence=rate("control", 0),
        control_linear=rate("control", 1), control_both=rate("control", None),
    )
