"""The R11 Krylov experiment: how often does k* stay below the count of stiff modes?

R11 (docs/spec.md §4): under plain gradient descent on a quadratic the window spans the Krylov
space K_W(H, g), and modes with ηhW ≪ 1 share one temporal profile, so
k* ≤ K = #{j : h_j ≥ c/(ηW)} (c = 1 by default). Here random Hessian spectra are drawn, the
reference simulator runs W+1 exact noise-free GD steps from a random gradient, and k* of the
window is compared with K, for each k* variant of :mod:`spectral_edge.numerics.spectra`.

Spectra are power laws with random steepness and scale, ηh_j = ηh_max·j^(−a) with
a ~ U[``a_range``] and ηh_max log-uniform on ``top_range`` (so K ranges from 0 to P), which
imitates measured Hessians (a few outliers over a bulk near zero). The initial gradient has
i.i.d. N(0, 1) coordinates in the eigenbasis.

>>> res = krylov_experiment(trials=20, P=20, W=6, seed=0)
>>> 0.0 <= res.fraction("weighted", 0) <= res.fraction("weighted", 1) <= 1.0
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_finite_number, check_int, check_window
from spectral_edge.numerics import spectra
from spectral_edge.numerics.reference import QuadraticProblem, simulate


@dataclass(frozen=True)
class KrylovResult:
    """Per trial: the stiff-mode count K and k* of the window for every variant."""

    P: int
    W: int
    eta: float
    c: float
    K: np.ndarray = field(repr=False)
    kstar: dict[str, np.ndarray] = field(repr=False)
    rank: np.ndarray = field(repr=False)

    def fraction(self, method: str, slack: int = 0, min_K: int = 0) -> float:
        """Fraction of trials (with K ≥ ``min_K``) where k* ≤ K + ``slack``.

        >>> r = KrylovResult(5, 3, 1.0, 1.0, np.array([0, 1, 2]),
        ...                  {"ratio": np.array([1, 1, 3])}, np.array([3, 3, 3]))
        >>> r.fraction("ratio"), r.fraction("ratio", 1), r.fraction("ratio", min_K=1)
        (0.3333333333333333, 1.0, 0.5)
        """
        if method not in self.kstar:
            raise InputError(f"unknown k* method {method!r}; have {sorted(self.kstar)}")
        keep = self.K >= min_K
        if not keep.any():
            return float("nan")
        return float(np.mean(self.kstar[method][keep] <= self.K[keep] + slack))


def krylov_experiment(
    *,
    trials: int = 500,
    P: int = 50,
    W: int = 10,
    eta: float = 1.0,
    c: float = 1.0,
    a_range: tuple[float, float] = (0.5, 3.0),
    top_range: tuple[float, float] = (0.05, 1.5),
    seed: int = 0,
) -> KrylovResult:
    """Draw ``trials`` random spectra, simulate one window each, record K and k*.

    ``top_range`` bounds ηh_max; keep it below 2 (GD is unstable beyond).

    >>> r = krylov_experiment(trials=5, P=10, W=4)
    >>> r.K.shape, sorted(r.kstar)
    ((5,), ['ratio', 'weighted'])
    """
    trials = check_int("trials", trials, minimum=1)
    W = check_window(W)
    if not (0 < top_range[0] <= top_range[1] < 2):
        raise InputError(f"top_range must satisfy 0 < low <= high < 2, got {top_range}")
    if not (0 < a_range[0] <= a_range[1]):
        raise InputError(f"a_range must satisfy 0 < low <= high, got {a_range}")
    eta = check_finite_number("eta", eta, minimum=0.0, strict=True)
    c = check_finite_number("c", c, minimum=0.0, strict=True)
    rng = np.random.default_rng(seed)
    j = np.arange(1, P + 1)
    K, rank = np.empty(trials, dtype=int), np.empty(trials, dtype=int)
    ks: dict[str, list[int]] = {"weighted": [], "ratio": []}
    for i in range(trials):
        a = rng.uniform(*a_range)
        top = np.exp(rng.uniform(np.log(top_range[0]), np.log(top_range[1])))
        h = top / eta * j ** (-a)
        grad0 = rng.normal(size=P)
        problem = QuadraticProblem(h=h, Gamma=np.zeros(P), P=P, theta0=grad0 / h, basis="identity")
        sigma = simulate(problem, "gd", eta=eta, W=W, steps=W + 1).sigma[0, 0]
        K[i] = int(np.count_nonzero(h >= c / (eta * W)))
        rank[i] = spectra.numerical_rank(sigma)
        for method, values in ks.items():
            values.append(spectra.kstar(sigma, method))
    return KrylovResult(
        P=int(P),
        W=int(W),
        eta=float(eta),
        c=float(c),
        K=K,
        kstar={m: np.array(v) for m, v in ks.items()},
        rank=rank,
    )
