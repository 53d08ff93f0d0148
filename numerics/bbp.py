"""The R10 random-matrix experiment: the empirical BBP detection threshold of a spiked window.

A window X = d·u vᵀ + Z (W×P, u and v unit vectors, Z i.i.d. N(0, ν²)) holds one signal
mode of strength d in noise. Theory (R10) puts the detection threshold at d_c = ν(PW)^{1/4}
(the paper's estimator uses ν(P(W−1))^{1/4}). Here the threshold is measured: a mode is
*detected* when σ_1 exceeds the (1 − ``false_alarm``) quantile of σ_1 under pure noise
(from 4 × ``trials`` noise-only windows), and the empirical threshold d_50 is the spike
strength detected in half of the trials.

Sampling is exact and costs O(W³) per trial whatever P is: Z is rotation invariant, so with
v = e_1 the Gram is X Xᵀ = (d u + z)(d u + z)ᵀ + S with z ~ N(0, ν² I_W) and S a Wishart
matrix with P − 1 degrees of freedom (Bartlett decomposition). This makes P ~ 1e8 reachable.
All spectra come from :func:`spectral_edge.numerics.spectra.sigma_from_gram`.

>>> res = bbp_experiment(P=2000, W=10, ratios=np.linspace(0.5, 3.0, 11), trials=200, seed=0)
>>> 0.5 < res.d50 / res.d_c_textbook < 3.0
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_finite_number, check_int, check_window
from spectral_edge.numerics import spectra


def _check(P: int, W: int, nu: float, trials: int) -> None:
    W = check_window(W)
    check_int("P", P, minimum=W)
    check_finite_number("the noise level nu", nu, minimum=0.0, strict=True)
    check_int("trials", trials, minimum=1)


def wishart_identity(df: int, W: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` samples of a W×W Wishart(df, I) matrix by the Bartlett decomposition.

    >>> S = wishart_identity(500, 3, 2000, np.random.default_rng(0))
    >>> np.allclose(S.mean(axis=0) / 500, np.eye(3), atol=0.02)
    True
    """
    if df < W:
        raise InputError(f"Wishart needs df >= W, got df = {df}, W = {W}")
    L = np.zeros((size, W, W))
    rows, cols = np.tril_indices(W, -1)
    L[:, rows, cols] = rng.normal(size=(size, rows.size))
    diag = np.arange(W)
    L[:, diag, diag] = np.sqrt(rng.chisquare(df - diag, size=(size, W)))
    return L @ np.transpose(L, (0, 2, 1))


def spiked_grams(
    d: float, *, P: int, W: int, nu: float = 1.0, trials: int, rng: np.random.Generator
) -> np.ndarray:
    """Exact samples (trials, W, W) of the Gram X Xᵀ of a rank-one spike in noise.

    The temporal profile u is drawn uniformly on the sphere per trial.

    >>> G = spiked_grams(0.0, P=1000, W=4, trials=500, rng=np.random.default_rng(1))
    >>> bool(abs(np.trace(G, axis1=1, axis2=2).mean() / (1000 * 4) - 1) < 0.01)
    True
    """
    _check(P, W, nu, trials)
    if d < 0:
        raise InputError(f"the spike strength must be >= 0, got {d}")
    u = rng.normal(size=(trials, W))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    a = d * u + nu * rng.normal(size=(trials, W))
    return a[:, :, None] * a[:, None, :] + nu**2 * wishart_identity(int(P) - 1, W, trials, rng)


@dataclass(frozen=True)
class BBPResult:
    """Detection curve and thresholds of one (P, W) setting.

    ``ratios`` are the spike strengths in units of the textbook threshold
    d_c = ν(PW)^{1/4}; ``detection[i]`` is the fraction of trials with σ_1 above the
    pure-noise quantile ``sigma1_null_q``. ``d50`` is the empirical threshold (NaN when the
    curve never crosses 1/2). ``d_c_estimated`` is :func:`spectra.bbp_threshold` (paper form)
    with ν estimated from the measured spectra at d = 0, as the monitor would do it.
    """

    P: int
    W: int
    nu: float
    trials: int
    false_alarm: float
    ratios: np.ndarray = field(repr=False)
    detection: np.ndarray = field(repr=False)
    sigma1_mean: np.ndarray = field(repr=False)
    sigma1_null_q: float
    bulk_edge: float
    d_c_textbook: float
    d_c_paper: float
    d_c_estimated: float
    d50: float

    @property
    def ratio_to_formula(self) -> float:
        """d_50 / d_c (textbook form): 1 means the formula is the detection threshold."""
        return self.d50 / self.d_c_textbook


def bbp_experiment(
    *,
    P: int,
    W: int,
    ratios: np.ndarray,
    nu: float = 1.0,
    trials: int = 400,
    false_alarm: float = 0.05,
    seed: int = 0,
) -> BBPResult:
    """Measure the detection curve of a rank-one spike at strengths ``ratios``·d_c.

    >>> r = bbp_experiment(P=500, W=5, ratios=np.array([0.0, 5.0]), trials=100)
    >>> bool(r.detection[0] <= 0.15), float(r.detection[1])
    (True, 1.0)
    """
    _check(P, W, nu, trials)
    ratios = np.asarray(ratios, dtype=np.float64)
    if ratios.ndim != 1 or ratios.size < 2 or np.any(ratios < 0):
        raise InputError("ratios must be a 1-D array of >= 2 non-negative spike strengths")
    if not 0 < false_alarm < 1:
        raise InputError(f"false_alarm must be in (0, 1), got {false_alarm}")
    rng = np.random.default_rng(seed)
    d_c = nu * (P * W) ** 0.25

    def top_sigma(d: float) -> np.ndarray:
        grams = spiked_grams(d, P=P, W=W, nu=nu, trials=trials, rng=rng)
        return spectra.sigma_from_gram(np.asarray(grams))[:, 0]

    # the null quantile sets every detection, so it gets four times the trials
    null_grams = spiked_grams(0.0, P=P, W=W, nu=nu, trials=4 * trials, rng=rng)
    null_sigma = spectra.sigma_from_gram(np.asarray(null_grams))
    q = float(np.quantile([s[0] for s in null_sigma], 1 - false_alarm))
    estimated = float(np.median([spectra.bbp_threshold(s, P, "paper") for s in null_sigma]))
    sig = [top_sigma(r * d_c) for r in ratios]
    detection = np.array([np.mean(s > q) for s in sig])
    return BBPResult(
        P=int(P),
        W=int(W),
        nu=float(nu),
        trials=int(trials),
        false_alarm=float(false_alarm),
        ratios=ratios,
        detection=detection,
        sigma1_mean=np.array([s.mean() for s in sig]),
        sigma1_null_q=q,
        bulk_edge=spectra.marchenko_pastur_edges(nu, int(P), int(W))[1],
        d_c_textbook=float(d_c),
        d_c_paper=float(nu * (P * (W - 1)) ** 0.25),
        d_c_estimated=estimated,
        d50=_crossing(ratios * d_c, detection, 0.5),
    )


def _crossing(x: np.ndarray, y: np.ndarray, level: float) -> float:
    """First x where the (non-decreasing in expectation) curve y reaches ``level``, linearly
    interpolated; NaN when it never does or starts above it."""
    above = np.nonzero(y >= level)[0]
    if above.size == 0 or above[0] == 0:
        return float("nan")
    i = above[0]
    return float(x[i - 1] + (level - y[i - 1]) * (x[i] - x[i - 1]) / (y[i] - y[i - 1]))
